//! The goods list's read model: every goods with its gallery, held in memory and read again in
//! the background once it is older than the catalogue cache period, or ten times as long as
//! reading it took (so that a large catalogue costs at most a tenth of a core to keep fresh).
//!
//! Filtering, searching, ordering, counting and rendering a list then cost no database round
//! trip. Those were the list's cost when the response cache cannot help (every URL new): a
//! `COUNT(*)` over thousands of rows, a sort of every match, three `LIKE`s per row per term, and
//! a hand-off to the driver's thread for every row read. A list shows goods at most that old, as
//! the cached pages do; favourites render their goods from it too (the cart and order lines read
//! theirs from the database: the cart's total is sent back with the order). The cost is
//! memory: about a kilobyte per goods (README, Performance). With a period of zero, requests
//! share one read that started after they arrived.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::categories::CategoryIndex;
use super::filters::{GoodsFilter, OrderField, OrderKey, TopCategory};
use super::fragment::GoodsFragment;
use super::render::GoodsJson;
use super::search::SearchText;
use crate::db::entities::{goods, goods_image};
use crate::http::pagination::{PageRequest, PageWindow};
use crate::http::{ApiResult, RequestUrl};

/// Rows per statement while reading: the driver holds a statement's rows all at once.
const ROWS_PER_READ: u64 = 2000;

/// A catalogue this much slower to read than the period is read this many times as rarely.
const READ_COST_FACTOR: u32 = 10;

/// A copy this many refresh intervals old (the background reads kept failing) is not served:
/// requests wait for a fresh read instead.
const STALE_LIMIT: u32 = 30;

pub struct Catalogue {
    period: Duration,
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Held while the catalogue is being read: one read at a time, however many requests.
    reading: Arc<tokio::sync::Mutex<()>>,
    /// Reads started so far; each snapshot carries the number of its own.
    started: AtomicU64,
}

impl Catalogue {
    /// `period` zero: every list is served from a read that started after it arrived (requests
    /// arriving during a read share the next one, so the database sees one read at a time).
    pub fn new(period: Duration) -> Self {
        Self { period, current: Mutex::default(), reading: Arc::default(), started: AtomicU64::new(0) }
    }

    fn held(&self) -> Option<Arc<Snapshot>> {
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn hold(&self, snapshot: Arc<Snapshot>) {
        *self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(snapshot);
    }

    /// The catalogue as last read, if one is held and periods are on; never waits for a read.
    pub fn held_now(&self) -> Option<Arc<Snapshot>> {
        self.held().filter(|_| !self.period.is_zero())
    }

    /// The catalogue as last read. When that is stale, a read starts in the background and this
    /// request is served the stale one; the first request, and any when the copy is far too old
    /// (reads failing), wait for a read.
    pub async fn get(self: &Arc<Self>, db: &DatabaseConnection) -> Result<Arc<Snapshot>, DbErr> {
        let arrived = self.started.load(AtomicOrdering::SeqCst);
        let Some(snapshot) = self.held().filter(|_| !self.period.is_zero()) else {
            return self.read_after(db, arrived).await;
        };
        let due = self.period.max(snapshot.took * READ_COST_FACTOR);
        let age = snapshot.read_at.elapsed();
        if age >= due * STALE_LIMIT {
            return self.read_after(db, arrived).await;
        }
        if age >= due
            && let Ok(reading) = self.reading.clone().try_lock_owned()
        {
            let (catalogue, db) = (self.clone(), db.clone());
            tokio::spawn(async move {
                let sequence = catalogue.started.fetch_add(1, AtomicOrdering::SeqCst) + 1;
                match Snapshot::read(&db, sequence).await {
                    Ok(fresh) => catalogue.hold(Arc::new(fresh)),
                    Err(error) => tracing::warn!(%error, "reading the catalogue; the previous copy is served"),
                }
                drop(reading);
            });
        }
        Ok(snapshot)
    }

    /// A snapshot whose read started after `arrived` reads had: the one another request just
    /// made, or one read now.
    async fn read_after(&self, db: &DatabaseConnection, arrived: u64) -> Result<Arc<Snapshot>, DbErr> {
        let _reading = self.reading.lock().await;
        if let Some(snapshot) = self.held().filter(|snapshot| snapshot.sequence > arrived) {
            return Ok(snapshot);
        }
        let sequence = self.started.fetch_add(1, AtomicOrdering::SeqCst) + 1;
        let snapshot = Arc::new(Snapshot::read(db, sequence).await?);
        self.hold(snapshot.clone());
        Ok(snapshot)
    }
}

/// What the list filters and orders by, packed (a list scans every goods).
#[derive(Clone, Copy)]
struct Keys {
    shop_price_fen: i64,
    add_time: i64,
    id: i32,
    category_id: i32,
    sold_num: i32,
    is_new: bool,
    is_hot: bool,
}

impl Keys {
    fn get(&self, field: OrderField) -> i64 {
        match field {
            OrderField::ShopPrice => self.shop_price_fen,
            OrderField::SoldNum => i64::from(self.sold_num),
            OrderField::AddTime => self.add_time,
        }
    }
}

const FIELDS: [OrderField; 3] = [OrderField::ShopPrice, OrderField::SoldNum, OrderField::AddTime];

/// One goods as the list renders it.
pub struct Entry {
    pub model: goods::Model,
    /// Gallery image names, by image id.
    pub images: Vec<Option<String>>,
    /// The goods' JSON for API lists.
    pub json: GoodsFragment,
}

/// Every goods by ascending id: its keys packed apart from the rest, because a list scans the
/// keys of every goods and only the page's entries.
pub struct Snapshot {
    keys: Vec<Keys>,
    /// The shop prices again, alone: the price range is tested on every goods of every list.
    prices: Vec<i64>,
    entries: Vec<Entry>,
    search: SearchText,
    /// Positions of each category's own goods, ascending: a `top_category` marks its subtree's
    /// goods from these instead of testing every goods' category.
    by_category: HashMap<i32, Vec<u32>>,
    /// Positions ordered by each field, ascending then descending, ties by id: a single-key
    /// ordering walks one of these instead of sorting.
    orders: Vec<Vec<u32>>,
    /// When its read started, how long it took, and which read it was.
    read_at: Instant,
    took: Duration,
    sequence: u64,
}

fn slot(key: OrderKey) -> usize {
    let field = FIELDS.iter().position(|field| *field == key.field).unwrap_or_default();
    field * 2 + usize::from(key.descending)
}

/// One page of goods from the snapshot and the number matching.
pub struct Found {
    pub count: u64,
    pub window: PageWindow,
    /// The page's goods, by position (`Snapshot::at`).
    pub goods: Vec<u32>,
}

impl Snapshot {
    async fn read(db: &DatabaseConnection, sequence: u64) -> Result<Self, DbErr> {
        let started = Instant::now();
        let mut gallery: HashMap<i32, Vec<Option<String>>> = HashMap::new();
        let mut after = i32::MIN;
        loop {
            let images = goods_image::Entity::find()
                .filter(goods_image::Column::Id.gt(after))
                .order_by_asc(goods_image::Column::Id)
                .limit(ROWS_PER_READ)
                .all(db)
                .await?;
            let Some(last) = images.last() else { break };
            after = last.id;
            let complete = images.len() < ROWS_PER_READ as usize;
            for image in images {
                gallery.entry(image.goods_id).or_default().push(image.image);
            }
            if complete {
                break;
            }
        }
        let (mut keys, mut entries, mut search) = (Vec::new(), Vec::new(), SearchText::default());
        let mut after = i32::MIN;
        loop {
            let rows = goods::Entity::find()
                .filter(goods::Column::Id.gt(after))
                .order_by_asc(goods::Column::Id)
                .limit(ROWS_PER_READ)
                .all(db)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let complete = rows.len() < ROWS_PER_READ as usize;
            for model in rows {
                keys.push(Keys {
                    shop_price_fen: model.shop_price_fen,
                    add_time: model.add_time.and_utc().timestamp(),
                    id: model.id,
                    category_id: model.category_id,
                    sold_num: model.sold_num,
                    is_new: model.is_new,
                    is_hot: model.is_hot,
                });
                search.push(&model);
                let images = gallery.remove(&model.id).unwrap_or_default();
                entries.push(Entry { json: GoodsFragment::new(&model, &images), images, model });
            }
            if complete {
                break;
            }
        }
        keys.shrink_to_fit();
        entries.shrink_to_fit();
        search.shrink_to_fit();
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
        let took = started.elapsed();
        tracing::debug!(goods = keys.len(), ?took, "catalogue read");
        let prices = keys.iter().map(|keys| keys.shop_price_fen).collect();
        let mut by_category: HashMap<i32, Vec<u32>> = HashMap::new();
        for (at, keys) in keys.iter().enumerate() {
            by_category.entry(keys.category_id).or_default().push(at as u32);
        }
        Ok(Self { keys, prices, entries, search, by_category, orders, read_at: started, took, sequence })
    }

    /// The goods with this id.
    pub fn get(&self, id: i32) -> Option<&Entry> {
        self.keys.binary_search_by_key(&id, |keys| keys.id).ok().map(|at| &self.entries[at])
    }

    /// Filters → search → ordering → pagination, as DRF runs them.
    pub fn list(&self, filter: &GoodsFilter, categories: &CategoryIndex, page: PageRequest) -> ApiResult<Found> {
        // The price range marks goods 64 to a word, in a loop without branches that the compiler
        // turns into vector compares; the category subtree's and each search term's marks are
        // and-ed in; the rarer filters then test only the goods still marked. The ordering is
        // walked only as far as the page, testing the marks (a few kilobytes: cache-resident).
        let (min, max) = (filter.price_min_fen.unwrap_or(i64::MIN), filter.price_max_fen.unwrap_or(i64::MAX));
        let mut marked: Vec<u64> = self
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
        let rest = |at: usize, goods: &Keys| {
            filter.is_new.is_none_or(|is_new| goods.is_new == is_new)
                && filter.is_hot.is_none_or(|is_hot| goods.is_hot == is_hot)
                && filter.name.as_ref().is_none_or(|name| self.entries[at].model.name == *name)
        };
        if filter.is_new.is_some() || filter.is_hot.is_some() || filter.name.is_some() {
            for (word_at, word) in marked.iter_mut().enumerate() {
                let mut left = *word;
                while left != 0 {
                    let bit = left.trailing_zeros();
                    left &= left - 1;
                    let at = word_at * 64 + bit as usize;
                    if !rest(at, &self.keys[at]) {
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
            [] => (0..self.keys.len() as u32).filter(is_marked).skip(skip).take(take).collect(),
            [key] => self.orders[slot(*key)].iter().copied().filter(is_marked).skip(skip).take(take).collect(),
            keys => {
                let mut found: Vec<u32> = (0..self.keys.len() as u32).filter(is_marked).collect();
                found.sort_by(|&a, &b| {
                    let (a, b) = (&self.keys[a as usize], &self.keys[b as usize]);
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
        let mut marks = vec![0u64; self.keys.len().div_ceil(64)];
        if let TopCategory::Id(id) = top {
            for id in categories.subtree_ids(id) {
                for &at in self.by_category.get(&id).map_or(&[][..], Vec::as_slice) {
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

    /// Renders goods of this snapshot; a category the tree lacks means a broken database.
    pub fn render(&self, goods: &[&Entry], categories: &CategoryIndex, url: &RequestUrl) -> ApiResult<Vec<GoodsJson>> {
        goods
            .iter()
            .map(|entry| {
                let goods = &entry.model;
                let category = categories.flat(goods.category_id).ok_or_else(|| {
                    DbErr::RecordNotFound(format!("category {} of goods {}", goods.category_id, goods.id))
                })?;
                Ok(GoodsJson::new(goods, category, &entry.images, url))
            })
            .collect()
    }
}
