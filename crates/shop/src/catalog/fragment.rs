//! A goods' list JSON written once per catalogue read, with two kinds of holes filled per
//! request: its category's JSON (which lives in the category tree) and the request's origin
//! (`http://host`) before each `/media/` URL. An uncached list then copies bytes instead of
//! building a `GoodsJson` (six string copies, three URL and one date formatting per goods) and
//! escaping every string again. The bytes are those `GoodsJson` serializes to; a test holds them
//! to it.

use std::fmt::Write as _;

use crate::clock::format_datetime;
use crate::db::entities::goods;
use crate::http::origin::{MediaUrl, media_url};
use crate::money::Money;

pub struct GoodsFragment {
    text: Box<str>,
    /// Where the category's JSON goes.
    category_at: u32,
    /// Where the origin goes, ascending, all after `category_at`.
    origins: Box<[u32]>,
}

impl GoodsFragment {
    /// The goods as `GoodsJson::new` renders it (`gallery` empty: the cover stands in).
    pub fn new(model: &goods::Model, gallery: &[Option<String>]) -> Self {
        let mut out = Writer { text: String::with_capacity(1024), origins: Vec::new() };
        let _ = write!(out.text, "{{\"id\":{},\"category\":", model.id);
        let category_at = out.text.len();
        out.text.push_str(",\"images\":[");
        let cover = model.goods_front_image.as_deref();
        let images: Vec<Option<&str>> = match gallery {
            [] => vec![cover],
            gallery => gallery.iter().map(Option::as_deref).collect(),
        };
        for (at, image) in images.into_iter().enumerate() {
            out.text.push_str(if at == 0 { "{\"image\":" } else { ",{\"image\":" });
            out.media(image);
            out.text.push('}');
        }
        out.text.push(']');
        out.string("goods_sn", &model.goods_sn);
        out.string("name", &model.name);
        let money = |fen| serde_json::to_string(&Money::from_fen(fen)).unwrap_or_default();
        for (key, value) in [
            ("click_num", model.click_num.to_string()),
            ("sold_num", model.sold_num.to_string()),
            ("fav_num", model.fav_num.to_string()),
            ("goods_num", model.goods_num.to_string()),
            ("market_price", money(model.market_price_fen)),
            ("shop_price", money(model.shop_price_fen)),
        ] {
            let _ = write!(out.text, ",\"{key}\":{value}");
        }
        out.string("goods_brief", &model.goods_brief);
        out.string("goods_desc", &model.goods_desc);
        let _ = write!(out.text, ",\"ship_free\":{},\"goods_front_image\":", model.ship_free);
        out.media(cover);
        let _ = write!(out.text, ",\"is_new\":{},\"is_hot\":{}", model.is_new, model.is_hot);
        out.string("add_time", &format_datetime(model.add_time));
        out.text.push('}');
        let offset = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        Self {
            text: out.text.into_boxed_str(),
            category_at: offset(category_at),
            origins: out.origins.into_iter().map(offset).collect(),
        }
    }

    /// Appends the goods' JSON with `category` (its category's JSON) and `origin` (JSON-escaped,
    /// without quotes) in their places.
    pub fn write(&self, category: &str, origin: &str, out: &mut Vec<u8>) {
        let text = self.text.as_bytes();
        let mut from = self.category_at as usize;
        out.extend_from_slice(&text[..from]);
        out.extend_from_slice(category.as_bytes());
        for &at in &self.origins {
            out.extend_from_slice(&text[from..at as usize]);
            out.extend_from_slice(origin.as_bytes());
            from = at as usize;
        }
        out.extend_from_slice(&text[from..]);
    }
}

struct Writer {
    text: String,
    origins: Vec<usize>,
}

impl Writer {
    fn string(&mut self, key: &str, value: &str) {
        let _ = write!(self.text, ",\"{key}\":");
        self.quoted(value);
    }

    fn quoted(&mut self, value: &str) {
        // A `String` always serializes.
        self.text.push_str(&serde_json::to_string(value).unwrap_or_default());
    }

    fn media(&mut self, name: Option<&str>) {
        match media_url(name) {
            None => self.text.push_str("null"),
            Some(MediaUrl::Absolute(url)) => self.quoted(url),
            Some(MediaUrl::Path(path)) => {
                self.text.push('"');
                self.origins.push(self.text.len());
                // Percent-encoded: nothing in it needs escaping.
                self.text.push_str(&path);
                self.text.push('"');
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
        ];
        for host in ["127.0.0.1:8000", "shop.example.com"] {
            let url = RequestUrl::new(host, "/goods/");
            let origin = format!("http://{host}");
            for (goods, gallery) in &cases {
                let expected =
                    serde_json::to_string(&GoodsJson::new(goods, CategoryJson::from(&category), gallery, &url))
                        .unwrap();
                let mut written = Vec::new();
                GoodsFragment::new(goods, gallery).write(&category_json, &origin, &mut written);
                assert_eq!(String::from_utf8(written).unwrap(), expected, "goods {}", goods.id);
            }
        }
    }
}
