//! The goods list's read model: every goods with its gallery, held in memory (`Catalogue` keeps
//! it fresh).
//!
//! Filtering, searching, ordering, counting and rendering a list then cost no database round
//! trip. Those were the list's cost when the response cache cannot help (every URL new): a
//! `COUNT(*)` over thousands of rows, a sort of every match, three `LIKE`s per row per term, and
//! a hand-off to the driver's thread for every row read. A list shows goods at most a period old,
//! as the cached pages do; favourites write their goods from it too, and the cart those whose row,
//! read from the database, is the one held (its total is sent back with the order). The cost is
//! memory: about 550 bytes per goods (README, Performance), shared between reads for the goods
//! that did not change.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::categories::CategoryIndex;
use super::entry::Entry;
use super::filters::{GoodsFilter, TopCategory};
use super::index::{Index, Keys, Reread, slot};
use super::render::GoodsJson;
use super::search::SearchText;
use crate::db::entities::{goods, goods_image};
use crate::http::pagination::{PageRequest, PageWindow};
use crate::http::{ApiResult, RequestUrl};

/// Rows per statement while reading. The driver holds a statement's rows all at once (SQLite a
/// copy of each value besides): 250 keep a read's passing memory near a megabyte, where 2,000
/// left each pooled SQLite connection's thread holding about 4 MB after a read of 100k goods. A
/// first read of 100k goods took as long either way (README, Performance: sixth round).
const ROWS_PER_READ: u64 = 250;

/// The gallery image names of the goods with ids from `first` to `last`, by goods, in image-id
/// order (as the index `idx_goods_image_goods` reads them).
async fn galleries(
    db: &DatabaseTransaction,
    first: i32,
    last: i32,
) -> Result<HashMap<i32, Vec<Option<String>>>, DbErr> {
    let mut gallery: HashMap<i32, Vec<Option<String>>> = HashMap::new();
    for image in goods_image::Entity::find()
        .filter(goods_image::Column::GoodsId.between(first, last))
        .order_by_asc(goods_image::Column::GoodsId)
        .order_by_asc(goods_image::Column::Id)
        .all(db)
        .await?
    {
        gallery.entry(image.goods_id).or_default().push(image.image);
    }
    Ok(gallery)
}

/// Every goods by ascending id. Each part is shared with the previous read while it reads the
/// same: the keys while no goods' key moved, the list of entries while no goods changed, the
/// search text while no goods' text changed.
pub struct Snapshot {
    index: Arc<Index>,
    entries: Arc<[Arc<Entry>]>,
    search: Arc<SearchText>,
    /// When its read started, how long it took, and which read it was.
    pub(super) read_at: Instant,
    pub(super) took: Duration,
    pub(super) sequence: u64,
}

/// One page of goods from the snapshot and the number matching.
pub struct Found {
    pub count: u64,
    pub window: PageWindow,
    /// The page's goods, by position (`Snapshot::at`).
    pub goods: Vec<u32>,
}

impl Snapshot {
    /// Reads the catalogue. Goods that read the same as in `previous` keep its entries, and the
    /// parts of it that read the same are shared (see `Snapshot`): a read then costs memory only
    /// for what changed, instead of a second copy of the whole catalogue while the first is still
    /// served.
    pub(super) async fn read(
        db: &DatabaseConnection,
        sequence: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Self, DbErr> {
        let started = Instant::now();
        // One connection for the whole read. Statement by statement from the pool, a read of 100k
        // goods went through every pooled SQLite connection and filled each one's page cache
        // (16 × 512 KiB) with pages no list asks for again. On SQLite, and on MariaDB at its default
        // isolation (REPEATABLE READ), the read is then also one consistent view of the catalogue.
        let txn = db.begin().await?;
        let mut keys = Reread::new(previous.map_or(&[][..], |previous| &previous.index.keys[..]));
        let mut entries = Reread::new(previous.map_or(&[][..], |previous| &previous.entries[..]));
        // Written only from the first position whose goods or text is not the previous read's
        // (the text before it is copied from that read's); while none is, that one is kept.
        let mut search: Option<SearchText> = previous.is_none().then(SearchText::default);
        let mut after = i32::MIN;
        loop {
            let rows = goods::Entity::find()
                .filter(goods::Column::Id.gt(after))
                .order_by_asc(goods::Column::Id)
                .limit(ROWS_PER_READ)
                .all(&txn)
                .await?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else { break };
            after = last.id;
            let complete = rows.len() < ROWS_PER_READ as usize;
            let mut gallery = galleries(&txn, first.id, last.id).await?;
            for model in rows {
                keys.push(Keys::new(&model), |old, new| old == new);
                let images = gallery.remove(&model.id).unwrap_or_default();
                let kept = previous
                    .and_then(|previous| previous.shared(model.id))
                    .filter(|entry| entry.shows_all(&model, &images))
                    .cloned();
                let entry = kept.unwrap_or_else(|| Arc::new(Entry::new(&model, &images)));
                let at = entries.len;
                if let (None, Some(previous)) = (&search, previous) {
                    let same = previous.entries.get(at).is_some_and(|old| old.id == entry.id && old.same_text(&entry));
                    if !same {
                        search = Some(previous.search.prefix(at));
                    }
                }
                if let Some(search) = &mut search {
                    search.push(&model);
                }
                entries.push(entry, Arc::ptr_eq);
            }
            if complete {
                break;
            }
        }
        if txn.get_database_backend() == DbBackend::Sqlite {
            // The pages just read would otherwise stay in this connection's cache until it
            // closes; the pool hands its connections out in turn, so read after read they would
            // fill every connection's cache again.
            txn.execute_unprepared("PRAGMA shrink_memory").await?;
        }
        txn.commit().await?;
        let count = entries.len;
        let search = match (search, previous) {
            (Some(mut search), _) => {
                search.shrink_to_fit();
                Arc::new(search)
            }
            (None, Some(previous)) if previous.entries.len() == count => previous.search.clone(),
            // Goods were deleted from the end.
            (None, Some(previous)) => Arc::new(previous.search.prefix(count)),
            (None, None) => Arc::default(),
        };
        let index = match (keys.finish(), previous) {
            (None, Some(previous)) => previous.index.clone(),
            (keys, _) => Arc::new(Index::new(keys.unwrap_or_default())),
        };
        let entries = match (entries.finish(), previous) {
            (None, Some(previous)) => previous.entries.clone(),
            (entries, _) => entries.unwrap_or_default().into(),
        };
        let took = started.elapsed();
        tracing::debug!(goods = count, ?took, "catalogue read");
        Ok(Self { index, entries, search, read_at: started, took, sequence })
    }

    /// The goods with this id.
    pub fn get(&self, id: i32) -> Option<&Entry> {
        self.shared(id).map(|entry| &**entry)
    }

    fn shared(&self, id: i32) -> Option<&Arc<Entry>> {
        self.index.keys.binary_search_by_key(&id, |keys| keys.id).ok().map(|at| &self.entries[at])
    }

    /// Filters → search → ordering → pagination, as DRF runs them.
    pub fn list(&self, filter: &GoodsFilter, categories: &CategoryIndex, page: PageRequest) -> ApiResult<Found> {
        // The price range marks goods 64 to a word, in a loop without branches that the compiler
        // turns into vector compares; the category subtree's and each search term's marks are
        // and-ed in; the rarer filters then test only the goods still marked. The ordering is
        // walked only as far as the page, testing the marks (a few kilobytes: cache-resident).
        let index = &*self.index;
        let (min, max) = (filter.price_min_fen.unwrap_or(i64::MIN), filter.price_max_fen.unwrap_or(i64::MAX));
        let mut marked: Vec<u64> = index
            .prices
            .chunks(64)
            .map(|prices| {
                prices
                    .iter()
                    .enumerate()
                    .fold(0, |bits, (i, &price)| bits | (u64::from((price >= min) & (price <= max)) << i))
            })
            .collect();
        if let Some(top) = filter.top_category {
            let subtree = self.subtree_marks(top, categories);
            for (word, found) in marked.iter_mut().zip(subtree) {
                *word &= found;
            }
        }
        for term in &filter.search_terms {
            for (word, found) in marked.iter_mut().zip(self.search.mentioning(term).iter()) {
                *word &= found;
            }
        }
        let name_json = filter.name.as_ref().map(|name| serde_json::to_string(name).unwrap_or_default());
        let rest = |at: usize, goods: &Keys| {
            filter.is_new.is_none_or(|is_new| goods.is_new == is_new)
                && filter.is_hot.is_none_or(|is_hot| goods.is_hot == is_hot)
                && name_json.as_ref().is_none_or(|name| self.entries[at].has_name(name))
        };
        if filter.is_new.is_some() || filter.is_hot.is_some() || filter.name.is_some() {
            for (word_at, word) in marked.iter_mut().enumerate() {
                let mut left = *word;
                while left != 0 {
                    let bit = left.trailing_zeros();
                    left &= left - 1;
                    let at = word_at * 64 + bit as usize;
                    if !rest(at, &index.keys[at]) {
                        *word &= !(1 << bit);
                    }
                }
            }
        }
        let count: u64 = marked.iter().map(|word| u64::from(word.count_ones())).sum();
        let is_marked = |at: &u32| marked[*at as usize / 64] & (1 << (*at % 64)) != 0;
        let window = page.resolve(count)?;
        let skip = usize::try_from(window.offset()).unwrap_or(usize::MAX);
        let take = usize::try_from(window.size).unwrap_or(usize::MAX);
        let page: Vec<u32> = match filter.ordering.as_slice() {
            [] => (0..index.keys.len() as u32).filter(is_marked).skip(skip).take(take).collect(),
            [key] => index.orders[slot(*key)].iter().copied().filter(is_marked).skip(skip).take(take).collect(),
            keys => {
                let mut found: Vec<u32> = (0..index.keys.len() as u32).filter(is_marked).collect();
                found.sort_by(|&a, &b| {
                    let (a, b) = (&index.keys[a as usize], &index.keys[b as usize]);
                    keys.iter()
                        .map(|key| {
                            let order = a.get(key.field).cmp(&b.get(key.field));
                            if key.descending { order.reverse() } else { order }
                        })
                        .find(|order| order.is_ne())
                        .unwrap_or(Ordering::Equal)
                });
                found.into_iter().skip(skip).take(take).collect()
            }
        };
        Ok(Found { count, window, goods: page })
    }

    /// The goods in the category `top` and below it, as bits by position.
    fn subtree_marks(&self, top: TopCategory, categories: &CategoryIndex) -> Vec<u64> {
        let index = &*self.index;
        let mut marks = vec![0u64; index.keys.len().div_ceil(64)];
        if let TopCategory::Id(id) = top {
            for id in categories.subtree_ids(id) {
                for &at in index.by_category.get(&id).map_or(&[][..], Vec::as_slice) {
                    marks[at as usize / 64] |= 1 << (at % 64);
                }
            }
        }
        marks
    }

    /// The goods at a position `list` returned.
    pub fn at(&self, position: u32) -> &Entry {
        &self.entries[position as usize]
    }

    /// Renders goods of this snapshot (for the storefront's pages), read back from their JSON.
    pub fn render(&self, goods: &[&Entry], categories: &CategoryIndex, url: &RequestUrl) -> ApiResult<Vec<GoodsJson>> {
        let origin = url.origin_json();
        let mut json = Vec::new();
        goods
            .iter()
            .map(|entry| {
                json.clear();
                entry.write(categories, &origin, &mut json)?;
                Ok(serde_json::from_slice(&json).map_err(anyhow::Error::from)?)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ActiveValue::Set, EntityTrait, QueryFilter};

    use super::*;
    use crate::http::QueryParams;

    fn json(snapshot: &Snapshot, tree: &CategoryIndex, id: i32) -> String {
        let mut out = Vec::new();
        snapshot.get(id).unwrap().write(tree, "http://x", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A read shares the previous read's entries for the goods that did not change, and its
    /// search text while no goods' text changed; what changed is read anew.
    #[tokio::test]
    async fn a_read_shares_what_did_not_change() {
        let db = crate::db::connect("sqlite::memory:", 1).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        let media = tempfile::tempdir().unwrap();
        crate::demo::seed_if_empty(&db, media.path()).await.unwrap();
        crate::demo::grow_catalogue(&db, 2100).await.unwrap(); // more than one batch of rows
        let tree = CategoryIndex::load(&db).await.unwrap();
        let first = Snapshot::read(&db, 1, None).await.unwrap();
        let (priced, renamed, pictured) = (first.index.keys[3].id, first.index.keys[2050].id, first.index.keys[7].id);

        // Nothing changed: the read holds no second copy of anything.
        let again = Snapshot::read(&db, 2, Some(&first)).await.unwrap();
        assert!(Arc::ptr_eq(&first.index, &again.index), "the keys and orderings are shared");
        assert!(std::ptr::eq(first.entries.as_ptr(), again.entries.as_ptr()), "the entries' list is shared");
        assert!(Arc::ptr_eq(&first.search, &again.search));

        goods::Entity::update_many()
            .col_expr(goods::Column::ShopPriceFen, Expr::value(12_345))
            .filter(goods::Column::Id.eq(priced))
            .exec(&db)
            .await
            .unwrap();
        let second = Snapshot::read(&db, 2, Some(&first)).await.unwrap();
        let shared = |a: &Snapshot, b: &Snapshot| {
            (0..a.entries.len()).filter(|&at| Arc::ptr_eq(&a.entries[at], &b.entries[at])).count()
        };
        assert_eq!(shared(&first, &second), first.entries.len() - 1);
        assert!(json(&second, &tree, priced).contains("\"shop_price\":123.45"));
        assert!(!Arc::ptr_eq(&first.index, &second.index), "a price is a key");
        let query = QueryParams::parse(Some("pricemin=123.45&pricemax=123.45"));
        let (filter, page) = (GoodsFilter::from_query(&query).unwrap(), PageRequest::from_query(&query).unwrap());
        let found = second.list(&filter, &tree, page).unwrap();
        assert_eq!(found.goods.iter().map(|&at| second.at(at).id).collect::<Vec<_>>(), [priced]);
        assert!(Arc::ptr_eq(&first.search, &second.search), "no text changed");

        goods::Entity::update_many()
            .col_expr(goods::Column::Name, Expr::value("Zebra 斑马"))
            .filter(goods::Column::Id.eq(renamed))
            .exec(&db)
            .await
            .unwrap();
        goods_image::Entity::insert(goods_image::ActiveModel {
            goods_id: Set(pictured),
            image: Set(Some("goods/images/new.png".into())),
            add_time: Set(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()),
            ..Default::default()
        })
        .exec(&db)
        .await
        .unwrap();
        let third = Snapshot::read(&db, 3, Some(&second)).await.unwrap();
        assert_eq!(shared(&second, &third), second.entries.len() - 2);
        assert!(!Arc::ptr_eq(&second.search, &third.search), "a name changed");
        let marks = third.search.mentioning("zebra");
        let marked: Vec<usize> =
            (0..third.index.keys.len()).filter(|&at| marks[at / 64] & (1 << (at % 64)) != 0).collect();
        assert_eq!(marked, [2050]);
        // The text before the renamed goods was copied, the rest written: as a fresh read's.
        let same_search = |a: &Snapshot, b: &Snapshot| {
            ["精选", "zebra", "商品 20", "<p>", "斑马"]
                .iter()
                .all(|term| a.search.mentioning(term) == b.search.mentioning(term))
        };
        assert!(same_search(&third, &Snapshot::read(&db, 4, None).await.unwrap()));
        // The last goods deleted: the text of the others is kept.
        let last = third.index.keys.last().unwrap().id;
        goods_image::Entity::delete_many().filter(goods_image::Column::GoodsId.eq(last)).exec(&db).await.unwrap();
        goods::Entity::delete_by_id(last).exec(&db).await.unwrap();
        let fourth = Snapshot::read(&db, 5, Some(&third)).await.unwrap();
        assert_eq!(fourth.index.keys.len(), third.index.keys.len() - 1);
        assert!(same_search(&fourth, &Snapshot::read(&db, 6, None).await.unwrap()));
        assert!(json(&third, &tree, pictured).contains("\"image\":\"http://x/media/goods/images/new.png\"}]"));
    }
}
