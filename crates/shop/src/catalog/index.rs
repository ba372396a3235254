//! What a list filters and orders by, for every goods of a catalogue read, and how a read shares
//! what reads the same as the previous one's.

use std::cmp::Reverse;
use std::collections::HashMap;

use super::filters::{OrderField, OrderKey};
use crate::db::entities::goods;

/// What the list filters and orders by, packed (a list scans every goods).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Keys {
    pub shop_price_fen: i64,
    pub add_time: i64,
    pub id: i32,
    pub category_id: i32,
    pub sold_num: i32,
    pub is_new: bool,
    pub is_hot: bool,
}

impl Keys {
    pub(super) fn new(model: &goods::Model) -> Self {
        Self {
            shop_price_fen: model.shop_price_fen,
            add_time: model.add_time.and_utc().timestamp(),
            id: model.id,
            category_id: model.category_id,
            sold_num: model.sold_num,
            is_new: model.is_new,
            is_hot: model.is_hot,
        }
    }

    pub(super) fn get(&self, field: OrderField) -> i64 {
        match field {
            OrderField::ShopPrice => self.shop_price_fen,
            OrderField::SoldNum => i64::from(self.sold_num),
            OrderField::AddTime => self.add_time,
        }
    }
}

const FIELDS: [OrderField; 3] = [OrderField::ShopPrice, OrderField::SoldNum, OrderField::AddTime];

/// Every goods' keys by ascending id, packed apart from the rest because a list scans the keys of
/// every goods and only the page's entries; and what is derived from them alone.
pub(super) struct Index {
    pub keys: Vec<Keys>,
    /// The shop prices again, alone: the price range is tested on every goods of every list.
    pub prices: Vec<i64>,
    /// Positions of each category's own goods, ascending: a `top_category` marks its subtree's
    /// goods from these instead of testing every goods' category.
    pub by_category: HashMap<i32, Vec<u32>>,
    /// Positions ordered by each field, ascending then descending, ties by id: a single-key
    /// ordering walks one of these instead of sorting.
    pub orders: Vec<Vec<u32>>,
}

impl Index {
    pub(super) fn new(mut keys: Vec<Keys>) -> Self {
        keys.shrink_to_fit();
        let mut orders = Vec::with_capacity(FIELDS.len() * 2);
        for field in FIELDS {
            // Stable sorts over positions in id order: ties stay by id.
            let mut ascending: Vec<u32> = (0..keys.len() as u32).collect();
            ascending.sort_by_key(|&at| keys[at as usize].get(field));
            let mut descending: Vec<u32> = (0..keys.len() as u32).collect();
            descending.sort_by_key(|&at| Reverse(keys[at as usize].get(field)));
            orders.push(ascending);
            orders.push(descending);
        }
        let prices = keys.iter().map(|keys| keys.shop_price_fen).collect();
        let mut by_category: HashMap<i32, Vec<u32>> = HashMap::new();
        for (at, keys) in keys.iter().enumerate() {
            by_category.entry(keys.category_id).or_default().push(at as u32);
        }
        Self { keys, prices, by_category, orders }
    }
}

/// Where `Index::orders` holds the positions in `key`'s order.
pub(super) fn slot(key: OrderKey) -> usize {
    let field = FIELDS.iter().position(|field| *field == key.field).unwrap_or_default();
    field * 2 + usize::from(key.descending)
}

/// A list read again item by item that stays the previous read's until an item differs: only
/// then is it copied up to there and written on.
pub(super) struct Reread<'a, T> {
    previous: &'a [T],
    fresh: Option<Vec<T>>,
    /// Items pushed so far.
    pub len: usize,
}

impl<'a, T: Clone> Reread<'a, T> {
    pub(super) fn new(previous: &'a [T]) -> Self {
        Self { previous, fresh: None, len: 0 }
    }

    pub(super) fn push(&mut self, item: T, same: impl FnOnce(&T, &T) -> bool) {
        match &mut self.fresh {
            Some(fresh) => fresh.push(item),
            None if self.previous.get(self.len).is_some_and(|old| same(old, &item)) => {}
            None => {
                let mut fresh = Vec::with_capacity(self.previous.len().max(self.len + 1));
                fresh.extend_from_slice(&self.previous[..self.len]);
                fresh.push(item);
                self.fresh = Some(fresh);
            }
        }
        self.len += 1;
    }

    /// The list read (its capacity may exceed its length), or `None` when it is the previous one
    /// whole.
    pub(super) fn finish(self) -> Option<Vec<T>> {
        match self.fresh {
            Some(fresh) => Some(fresh),
            None if self.len == self.previous.len() => None,
            // Items were removed from the end.
            None => Some(self.previous[..self.len].to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reread(previous: &[u8], read: &[u8]) -> Option<Vec<u8>> {
        let mut list = Reread::new(previous);
        for &item in read {
            list.push(item, |old, new| old == new);
        }
        list.finish()
    }

    #[test]
    fn a_list_read_the_same_is_the_previous_one() {
        assert_eq!(reread(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(reread(&[], &[]), None);
        assert_eq!(reread(&[1, 2, 3], &[1, 9, 3]), Some(vec![1, 9, 3]));
        assert_eq!(reread(&[1, 2, 3], &[1, 2]), Some(vec![1, 2]), "deleted from the end");
        assert_eq!(reread(&[1, 2, 3], &[1, 3]), Some(vec![1, 3]), "deleted in the middle");
        assert_eq!(reread(&[1, 3], &[1, 2, 3]), Some(vec![1, 2, 3]), "added in the middle");
        assert_eq!(reread(&[1, 2, 3], &[1, 2, 3, 4]), Some(vec![1, 2, 3, 4]), "added at the end");
        assert_eq!(reread(&[], &[5]), Some(vec![5]));
    }
}
