//! A goods' list JSON written once per catalogue read, with two kinds of holes filled per
//! request: its category's JSON (which lives in the category tree) and the request's origin
//! (`http://host`) with `/media/` before each stored media name. An uncached list then copies bytes instead of
//! building a `GoodsJson` (six string copies, three URL and one date formatting per goods) and
//! escaping every string again. The bytes are those `GoodsJson` serializes to; a test holds them
//! to it.
//!
//! Only the values are held, each already JSON text; the keys and punctuation, the same for every
//! goods, come from `KEYS` when the JSON is written. They were half of a goods' JSON, and the
//! catalogue holds one per goods (README, Performance: memory).

use crate::clock::format_datetime;
use crate::db::entities::goods;
use crate::http::origin::{MEDIA_PATH, MediaUrl, media_url};
use crate::money::Money;

/// Ends each value. JSON text holds no raw control character (a string escapes them), so none of
/// these marks can stand in a value.
const END: u8 = 0x01;
/// Where the request's origin and `MEDIA_PATH` go.
const ORIGIN: u8 = 0x02;
/// Before the images' value when the gallery is empty, and the cover stands in: the value held is
/// the cover's, written as `[{"image":cover}]`; `goods_front_image`'s value is then this mark
/// alone, and the cover is written again. Most goods have no gallery: the cover is held once.
const COVER: u8 = 0x03;

/// What comes before each value, in DRF's field order; the category's value is not held.
const KEYS: [&str; 18] = [
    "{\"id\":",
    ",\"category\":",
    ",\"images\":",
    ",\"goods_sn\":",
    ",\"name\":",
    ",\"click_num\":",
    ",\"sold_num\":",
    ",\"fav_num\":",
    ",\"goods_num\":",
    ",\"market_price\":",
    ",\"shop_price\":",
    ",\"goods_brief\":",
    ",\"goods_desc\":",
    ",\"ship_free\":",
    ",\"goods_front_image\":",
    ",\"is_new\":",
    ",\"is_hot\":",
    ",\"add_time\":",
];
const CATEGORY: usize = 1;
const IMAGES: usize = 2;
const NAME: usize = 4;
const FRONT_IMAGE: usize = 14;

pub struct GoodsFragment {
    /// The values but the category's, each followed by `END`.
    values: Box<str>,
}

impl GoodsFragment {
    /// The goods as `GoodsJson::new` renders it (`gallery` empty: the cover stands in).
    pub fn new(model: &goods::Model, gallery: &[Option<String>]) -> Self {
        let mut out = Values(String::with_capacity(512));
        out.raw(&model.id.to_string());
        let cover = model.goods_front_image.as_deref();
        if gallery.is_empty() {
            out.0.push(COVER as char);
            out.media(cover);
        } else {
            for (at, image) in gallery.iter().enumerate() {
                out.0.push_str(if at == 0 { "[{\"image\":" } else { ",{\"image\":" });
                out.media(image.as_deref());
                out.0.push('}');
            }
            out.0.push(']');
        }
        out.end();
        out.string(&model.goods_sn);
        out.string(&model.name);
        let money = |fen| serde_json::to_string(&Money::from_fen(fen)).unwrap_or_default();
        for value in [
            model.click_num.to_string(),
            model.sold_num.to_string(),
            model.fav_num.to_string(),
            model.goods_num.to_string(),
            money(model.market_price_fen),
            money(model.shop_price_fen),
        ] {
            out.raw(&value);
        }
        out.string(&model.goods_brief);
        out.string(&model.goods_desc);
        out.raw(if model.ship_free { "true" } else { "false" });
        if gallery.is_empty() {
            out.0.push(COVER as char);
        } else {
            out.media(cover);
        }
        out.end();
        out.raw(if model.is_new { "true" } else { "false" });
        out.raw(if model.is_hot { "true" } else { "false" });
        out.string(&format_datetime(model.add_time));
        // Copied to an allocation of its own size: shrinking in place would not (mimalloc keeps a
        // block that shrinks by less than half), and the catalogue holds one per goods.
        Self { values: out.0.as_str().into() }
    }

    /// Appends the goods' JSON with `category` (its category's JSON) and `origin` (JSON-escaped,
    /// without quotes) in their places.
    pub fn write(&self, category: &str, origin: &str, out: &mut Vec<u8>) {
        let media = |value: &[u8], out: &mut Vec<u8>| {
            let mut from = 0;
            for at in memchr::memchr_iter(ORIGIN, value) {
                out.extend_from_slice(&value[from..at]);
                out.extend_from_slice(origin.as_bytes());
                out.extend_from_slice(MEDIA_PATH.as_bytes());
                from = at + 1;
            }
            out.extend_from_slice(&value[from..]);
        };
        let values = self.values.as_bytes();
        let (mut from, mut cover) = (0, &values[..0]);
        for (at, end) in memchr::memchr_iter(END, values).enumerate() {
            let value = &values[from..end];
            from = end + 1;
            let slot = if at < CATEGORY { at } else { at + 1 };
            if slot == CATEGORY + 1 {
                out.extend_from_slice(KEYS[CATEGORY].as_bytes());
                out.extend_from_slice(category.as_bytes());
            }
            let Some(key) = KEYS.get(slot) else { break };
            out.extend_from_slice(key.as_bytes());
            match value.split_first() {
                Some((&COVER, image)) if slot == IMAGES => {
                    cover = image;
                    out.extend_from_slice(b"[{\"image\":");
                    media(image, out);
                    out.extend_from_slice(b"}]");
                }
                Some((&COVER, _)) => media(cover, out),
                // Only media URLs hold the origin's mark.
                _ if slot == IMAGES || slot == FRONT_IMAGE => media(value, out),
                _ => out.extend_from_slice(value),
            }
        }
        out.push(b'}');
    }

    /// Whether the goods' name, as JSON text (quoted and escaped), is `json`.
    pub fn has_name(&self, json: &str) -> bool {
        // `KEYS[NAME]` introduces the name; the values before it skip the category's.
        self.values.split(END as char).nth(NAME - 1) == Some(json)
    }
}

/// The values being written.
struct Values(String);

impl Values {
    fn end(&mut self) {
        self.0.push(END as char);
    }

    fn raw(&mut self, value: &str) {
        self.0.push_str(value);
        self.end();
    }

    fn string(&mut self, value: &str) {
        self.quoted(value);
        self.end();
    }

    fn quoted(&mut self, value: &str) {
        // A `String` always serializes.
        self.0.push_str(&serde_json::to_string(value).unwrap_or_default());
    }

    /// An image's URL, not ended (the images' array holds several).
    fn media(&mut self, name: Option<&str>) {
        match media_url(name) {
            None => self.0.push_str("null"),
            Some(MediaUrl::Absolute(url)) => self.quoted(url),
            Some(MediaUrl::Name(name)) => {
                self.0.push('"');
                self.0.push(ORIGIN as char);
                // Percent-encoded: nothing in it needs escaping.
                self.0.push_str(&name);
                self.0.push('"');
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::catalog::render::{CategoryJson, GoodsJson};
    use crate::db::entities::category;
    use crate::http::RequestUrl;

    /// A goods whose strings hold `text`.
    pub(crate) fn model(id: i32, front: Option<&str>, text: &str) -> goods::Model {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
        goods::Model {
            id,
            category_id: 7,
            goods_sn: format!("sn-{text}"),
            name: format!("名 {text}"),
            click_num: 3,
            sold_num: -1,
            fav_num: 0,
            goods_num: 2_000_000_000,
            market_price_fen: 12345,
            shop_price_fen: 10,
            goods_brief: text.to_owned(),
            goods_desc: format!("<p class=\"x\">{text}</p>"),
            ship_free: true,
            goods_front_image: front.map(str::to_owned),
            is_new: true,
            is_hot: false,
            add_time: time,
        }
    }

    #[test]
    fn writes_what_goods_json_serializes_to() {
        let category = category::Model {
            id: 7,
            name: "生鲜 \"x\"".into(),
            code: "c".into(),
            description: "d\\e".into(),
            category_type: 2,
            parent_id: Some(1),
            is_tab: false,
            add_time: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap().and_hms_opt(23, 0, 0).unwrap(),
        };
        let category_json = serde_json::to_string(&CategoryJson::from(&category)).unwrap();
        let odd = "quote \" backslash \\ tab \t nul \u{0} bell \u{7} line\u{2028} emoji 🛒 </script>";
        let cases = [
            (model(1, Some("goods/images/a b.jpg"), "plain"), vec![]),
            (model(2, None, odd), vec![]),
            (model(3, Some(""), odd), vec![Some("goods/1.png".to_owned()), None, Some(String::new())]),
            (model(4, Some("https://cdn.example.com/\"q\".png"), "abs"), vec![Some("http://x/y.png".to_owned())]),
            (model(5, Some("图片/商品 1.png"), "unicode"), vec![Some("图片/商品 2.png".to_owned())]),
            (model(6, Some("https://cdn.example.com/media/c.png"), "absolute cover alone"), vec![]),
            (model(7, Some(""), "empty cover alone"), vec![]),
        ];
        for host in ["127.0.0.1:8000", "shop.example.com"] {
            let url = RequestUrl::new(host, "/goods/");
            let origin = format!("http://{host}");
            for (goods, gallery) in &cases {
                let expected =
                    serde_json::to_string(&GoodsJson::new(goods, CategoryJson::from(&category), gallery, &url))
                        .unwrap();
                let mut written = Vec::new();
                let fragment = GoodsFragment::new(goods, gallery);
                fragment.write(&category_json, &origin, &mut written);
                assert_eq!(String::from_utf8(written).unwrap(), expected, "goods {}", goods.id);
                // The keys are not held: only the values and one byte after each.
                let keys: usize = KEYS.iter().map(|key| key.len()).sum();
                assert!(fragment.values.len() <= expected.len() - keys + KEYS.len(), "goods {}", goods.id);
                // Nor the media path, nor the cover twice when it stands in for the gallery.
                assert!(!fragment.values.contains("/media/goods"), "goods {}", goods.id);
                let cover = goods.goods_front_image.as_deref().filter(|cover| !cover.is_empty());
                if let (Some(cover), []) = (cover, gallery.as_slice()) {
                    let cover = cover.replace(' ', "%20");
                    assert_eq!(fragment.values.matches(cover.as_str()).count(), 1, "goods {}", goods.id);
                }
                assert!(fragment.has_name(&serde_json::to_string(&goods.name).unwrap()));
                assert!(!fragment.has_name(&serde_json::to_string(&goods.goods_sn).unwrap()));
            }
        }
    }
}
