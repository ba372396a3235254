//! One goods as the catalogue in memory holds it: its list JSON's values and what lists filter it
//! by, not its row. The row and the gallery are kept only as digests, which tell whether a goods
//! read later is the same: a held goods costs its values and a few words, instead of its JSON,
//! its row and its gallery again (README, Performance).

use std::hash::{DefaultHasher, Hash, Hasher};

use sea_orm::DbErr;

use super::categories::CategoryIndex;
use super::fragment::GoodsFragment;
use crate::db::entities::goods;

pub struct Entry {
    /// The goods' JSON for lists.
    json: GoodsFragment,
    pub id: i32,
    pub category_id: i32,
    /// `row_digest` of the row the JSON was written from.
    row: u64,
    /// The same of the gallery, and of the text searched (name, brief, description).
    gallery: u64,
    text: u64,
}

impl Entry {
    pub fn new(row: &goods::Model, gallery: &[Option<String>]) -> Self {
        Self {
            json: GoodsFragment::new(row, gallery),
            id: row.id,
            category_id: row.category_id,
            row: row_digest(row),
            gallery: digest(&gallery),
            text: text_digest(row),
        }
    }

    /// Whether the goods' JSON was written from this row (prices, stock and text as they are).
    pub fn shows(&self, row: &goods::Model) -> bool {
        self.row == row_digest(row)
    }

    /// Whether the goods' JSON was written from this row and gallery.
    pub fn shows_all(&self, row: &goods::Model, gallery: &[Option<String>]) -> bool {
        self.shows(row) && self.gallery == digest(&gallery)
    }

    /// Whether the goods' name, as JSON text (quoted and escaped), is `json`: the `name` filter
    /// matches it exactly.
    pub fn has_name(&self, json: &str) -> bool {
        self.json.has_name(json)
    }

    /// Whether the goods' searched text is the same as `other`'s.
    pub fn same_text(&self, other: &Entry) -> bool {
        self.text == other.text
    }

    /// Appends the goods' JSON, with its category's from `tree` and `origin` (JSON-escaped,
    /// without quotes) before its media URLs; a category the tree lacks means a broken database.
    pub fn write(&self, tree: &CategoryIndex, origin: &str, out: &mut Vec<u8>) -> Result<(), DbErr> {
        let category = tree
            .flat_json(self.category_id)
            .ok_or_else(|| DbErr::RecordNotFound(format!("category {} of goods {}", self.category_id, self.id)))?;
        self.json.write(category, origin, out);
        Ok(())
    }
}

/// SipHash with fixed keys: the same value gives the same digest for the life of the process.
fn digest(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Every column of the row.
fn row_digest(row: &goods::Model) -> u64 {
    let goods::Model {
        id,
        category_id,
        goods_sn,
        name,
        click_num,
        sold_num,
        fav_num,
        goods_num,
        market_price_fen,
        shop_price_fen,
        goods_brief,
        goods_desc,
        ship_free,
        goods_front_image,
        is_new,
        is_hot,
        add_time,
    } = row;
    digest(&(
        (id, category_id, goods_sn, name, click_num, sold_num, fav_num, goods_num),
        (market_price_fen, shop_price_fen, goods_brief, goods_desc, ship_free, goods_front_image, is_new, is_hot),
        add_time,
    ))
}

fn text_digest(row: &goods::Model) -> u64 {
    digest(&(&row.name, &row.goods_brief, &row.goods_desc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::fragment::tests::model;

    #[test]
    fn tells_a_changed_row_or_gallery() {
        let row = model(1, Some("a.png"), "text");
        let gallery = vec![Some("b.png".to_owned())];
        let entry = Entry::new(&row, &gallery);
        assert!(entry.shows_all(&row, &gallery));
        let changes: [fn(&mut goods::Model); 5] = [
            |row| row.shop_price_fen += 1,
            |row| row.goods_num -= 1,
            |row| row.goods_desc.push('x'),
            |row| row.goods_front_image = None,
            |row| row.add_time += chrono::TimeDelta::seconds(1),
        ];
        for change in changes {
            let mut changed = row.clone();
            change(&mut changed);
            assert!(!entry.shows(&changed));
        }
        assert!(!entry.shows_all(&row, &[]));
        assert!(!entry.shows_all(&row, &[Some("b.png".to_owned()), None]));
        let renamed = Entry::new(&goods::Model { name: "other".into(), ..row.clone() }, &gallery);
        assert!(!entry.same_text(&renamed));
        assert!(entry.same_text(&Entry::new(&goods::Model { click_num: 99, ..row }, &[])));
    }
}
