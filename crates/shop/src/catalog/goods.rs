//! Goods for lists and pages: a filtered, ordered page from the catalogue held in memory
//! (`catalog::snapshot`), goods by id, and rendering goods read from the database with their
//! categories and gallery in a constant number of queries.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::catalogue::Catalogue;
use super::categories::{CategoryCache, CategoryIndex};
use super::entry::Entry;
use super::filters::GoodsFilter;
use super::render::GoodsJson;
use super::snapshot::{Found, Snapshot};
use crate::db::entities::{goods, goods_image};
use crate::http::ApiResult;
use crate::http::QueryParams;
use crate::http::RequestUrl;
use crate::http::pagination::{PageRequest, PageWindow, Paginated};

/// Where goods come from: the catalogue in memory, the category tree, the database.
#[derive(Clone, Copy)]
pub struct GoodsSource<'a> {
    pub db: &'a DatabaseConnection,
    pub catalogue: &'a Arc<Catalogue>,
    pub categories: &'a CategoryCache,
}

/// One page of goods, rendered, and the number of goods matching the filter.
pub struct GoodsPage {
    pub count: u64,
    pub window: PageWindow,
    pub goods: Vec<GoodsJson>,
}

/// Filters → search → ordering → pagination, as DRF runs them, over the catalogue in memory.
pub async fn list_goods(
    source: GoodsSource<'_>,
    url: &RequestUrl,
    filter: &GoodsFilter,
    page: PageRequest,
) -> ApiResult<GoodsPage> {
    let (snapshot, tree, found) = find_goods(source, filter, page).await?;
    let entries: Vec<&Entry> = found.goods.iter().map(|&at| snapshot.at(at)).collect();
    let goods = snapshot.render(&entries, &tree, url)?;
    Ok(GoodsPage { count: found.count, window: found.window, goods })
}

/// `list_goods` as the API's paginated JSON, written from each goods' pre-rendered text.
pub async fn list_goods_json(
    source: GoodsSource<'_>,
    url: &RequestUrl,
    filter: &GoodsFilter,
    query: &QueryParams,
    page: PageRequest,
) -> ApiResult<Vec<u8>> {
    let (snapshot, tree, found) = find_goods(source, filter, page).await?;
    let envelope = serde_json::to_vec(&Paginated::<()>::new(found.window, found.count, url, query, Vec::new()))
        .map_err(anyhow::Error::from)?;
    // The envelope ends with its empty `"results":[]}`: the goods go between the brackets.
    let head = envelope.strip_suffix(b"[]}").ok_or_else(|| anyhow::anyhow!("a page without its results"))?;
    let origin = url.origin_json();
    let mut body = Vec::with_capacity(head.len() + 2 + found.goods.len() * 1024);
    body.extend_from_slice(head);
    body.push(b'[');
    for (n, &at) in found.goods.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        snapshot.at(at).write(&tree, &origin, &mut body)?;
    }
    body.extend_from_slice(b"]}");
    Ok(body)
}

/// Filters → search → ordering → pagination over the catalogue in memory, with a category tree
/// that holds every category of the page.
async fn find_goods(
    source: GoodsSource<'_>,
    filter: &GoodsFilter,
    page: PageRequest,
) -> ApiResult<(Arc<Snapshot>, Arc<CategoryIndex>, Found)> {
    let snapshot = source.catalogue.get(source.db).await?;
    let tree = source.categories.get(source.db).await?;
    let found = snapshot.list(filter, &tree, page)?;
    let category_ids = found.goods.iter().map(|&at| snapshot.at(at).category_id);
    let tree = match category_ids.clone().all(|id| tree.get(id).is_some()) {
        true => tree,
        false => source.categories.covering(source.db, category_ids).await?,
    };
    Ok((snapshot, tree, found))
}

/// Goods' JSON by id, ready to write into a response: the pre-rendered JSON of the catalogue in
/// memory where it holds the goods as wanted, and rendered now for the others.
pub struct GoodsTexts {
    snapshot: Option<Arc<Snapshot>>,
    tree: Arc<CategoryIndex>,
    origin: String,
    /// Goods rendered now, which `write` takes before the catalogue's.
    rendered: HashMap<i32, Vec<u8>>,
}

impl GoodsTexts {
    /// The goods with these ids as the catalogue in memory has them (at most a period old; for
    /// favourites), and as read now those it does not hold yet.
    pub async fn held(
        source: GoodsSource<'_>,
        url: &RequestUrl,
        ids: impl IntoIterator<Item = i32>,
    ) -> ApiResult<Self> {
        let snapshot = source.catalogue.get(source.db).await?;
        let (held, missing): (Vec<i32>, Vec<i32>) = ids.into_iter().partition(|&id| snapshot.get(id).is_some());
        let category_ids = held.iter().filter_map(|&id| snapshot.get(id)).map(|entry| entry.category_id);
        let tree = source.categories.covering(source.db, category_ids).await?;
        let mut rendered = HashMap::new();
        if !missing.is_empty() {
            for (id, goods) in read_goods_by_id(source.db, source.categories, url, missing).await? {
                rendered.insert(id, serde_json::to_vec(&goods).map_err(anyhow::Error::from)?);
            }
        }
        Ok(Self { snapshot: Some(snapshot), tree, origin: url.origin_json(), rendered })
    }

    /// Goods rows read now (for the cart, whose prices and stock must be current): the held JSON
    /// of those whose row `held` has exactly as read (their gallery as `held` has it, however old:
    /// no total or stock check depends on images), the others rendered from their rows.
    pub async fn current(
        db: &DatabaseConnection,
        categories: &CategoryCache,
        url: &RequestUrl,
        rows: &[goods::Model],
        held: Option<Arc<Snapshot>>,
    ) -> ApiResult<Self> {
        let tree = categories.covering(db, rows.iter().map(|row| row.category_id)).await?;
        let is_held = |row: &goods::Model| held.as_ref().and_then(|s| s.get(row.id)).is_some_and(|e| e.shows(row));
        let changed: Vec<goods::Model> = rows.iter().filter(|row| !is_held(row)).cloned().collect();
        let mut rendered = HashMap::new();
        for (row, goods) in changed.iter().zip(render_goods(db, url, &changed, categories).await?) {
            rendered.insert(row.id, serde_json::to_vec(&goods).map_err(anyhow::Error::from)?);
        }
        Ok(Self { snapshot: held, tree, origin: url.origin_json(), rendered })
    }

    /// Appends the goods' JSON; `false` (and nothing written) when the goods does not exist.
    fn write(&self, id: i32, out: &mut Vec<u8>) -> ApiResult<bool> {
        if let Some(text) = self.rendered.get(&id) {
            out.extend_from_slice(text);
            return Ok(true);
        }
        let Some(entry) = self.snapshot.as_ref().and_then(|snapshot| snapshot.get(id)) else { return Ok(false) };
        entry.write(&self.tree, &self.origin, out)?;
        Ok(true)
    }

    /// The goods rendered (for the storefront's pages), read back from its JSON; `None` when it
    /// does not exist.
    pub fn render(&self, id: i32) -> ApiResult<Option<GoodsJson>> {
        let mut json = Vec::new();
        if !self.write(id, &mut json)? {
            return Ok(None);
        }
        Ok(Some(serde_json::from_slice(&json).map_err(anyhow::Error::from)?))
    }

    /// A JSON array of `{"goods": …, key: value}` for each (goods id, value), in order; goods
    /// that do not exist are left out.
    pub fn write_wrapped(&self, items: &[(i32, i32)], key: &str) -> ApiResult<Vec<u8>> {
        let mut body = Vec::with_capacity(2 + items.len() * 1024);
        body.push(b'[');
        for &(goods_id, value) in items {
            let mark = body.len();
            body.extend_from_slice(if mark == 1 { b"{\"goods\":" } else { b",{\"goods\":" });
            if self.write(goods_id, &mut body)? {
                body.extend_from_slice(format!(",\"{key}\":{value}}}").as_bytes());
            } else {
                body.truncate(mark);
            }
        }
        body.push(b']');
        Ok(body)
    }
}

/// The goods with these ids read from the database now, rendered, by id: for the cart and order
/// lines, whose prices and stock must be current (the cart's total is sent back with the order).
pub async fn read_goods_by_id(
    db: &DatabaseConnection,
    categories: &CategoryCache,
    url: &RequestUrl,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, GoodsJson>, DbErr> {
    let rows =
        goods::Entity::find().filter(goods::Column::Id.is_in(ids.into_iter().collect::<Vec<_>>())).all(db).await?;
    let rendered = render_goods(db, url, &rows, categories).await?;
    Ok(rows.iter().map(|row| row.id).zip(rendered).collect())
}

/// Renders goods with their flat category (from the tree held in memory) and gallery: one
/// query for the images, whatever the number of goods.
pub async fn render_goods(
    db: &DatabaseConnection,
    url: &RequestUrl,
    rows: &[goods::Model],
    categories: &CategoryCache,
) -> Result<Vec<GoodsJson>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let categories = categories.covering(db, rows.iter().map(|row| row.category_id)).await?;
    let mut gallery: HashMap<i32, Vec<Option<String>>> = HashMap::new();
    for image in goods_image::Entity::find()
        .filter(goods_image::Column::GoodsId.is_in(rows.iter().map(|row| row.id).collect::<Vec<_>>()))
        .order_by_asc(goods_image::Column::Id)
        .all(db)
        .await?
    {
        gallery.entry(image.goods_id).or_default().push(image.image);
    }
    let mut rendered = Vec::with_capacity(rows.len());
    for row in rows {
        // The foreign key guarantees the category exists; a missing one means a broken database.
        let category = categories
            .flat(row.category_id)
            .ok_or_else(|| DbErr::RecordNotFound(format!("category {} of goods {}", row.category_id, row.id)))?;
        let images = gallery.get(&row.id).map(Vec::as_slice).unwrap_or_default();
        rendered.push(GoodsJson::new(row, category, images, url));
    }
    Ok(rendered)
}
