//! Home-page data: banners, hot search words and the `indexgoods` sections.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::categories::CategoryCache;
use super::goods::render_goods;
use super::render::{AdGoods, BannerJson, BrandJson, GoodsJson, HotSearchJson, IndexCategoryJson};
use crate::db::entities::{banner, brand, goods, hot_search_word, index_ad};
use crate::http::{ApiResult, RequestUrl};

/// Banners by ascending `index`, then id.
pub async fn banners(db: &DatabaseConnection, url: &RequestUrl) -> ApiResult<Vec<BannerJson>> {
    let rows =
        banner::Entity::find().order_by_asc(banner::Column::SortIndex).order_by_asc(banner::Column::Id).all(db).await?;
    Ok(rows.iter().map(|row| BannerJson::new(row, url)).collect())
}

/// Hot words by descending `index`, then id.
pub async fn hot_searches(db: &DatabaseConnection) -> ApiResult<Vec<HotSearchJson>> {
    let rows = hot_search_word::Entity::find()
        .order_by_desc(hot_search_word::Column::SortIndex)
        .order_by_asc(hot_search_word::Column::Id)
        .all(db)
        .await?;
    Ok(rows.iter().map(HotSearchJson::from).collect())
}

/// Every top-level `is_tab` category with its brands, the first goods of its whole subtree (by
/// id), its level-2 tree and its first ad: a query per section, and four more.
pub async fn index_sections(
    db: &DatabaseConnection,
    category_cache: &CategoryCache,
    url: &RequestUrl,
    goods_per_section: u64,
) -> ApiResult<Vec<IndexCategoryJson>> {
    let categories = category_cache.get(db).await?;
    let tabs: Vec<i32> = categories.top_level().filter(|c| c.is_tab).map(|c| c.id).collect();
    if tabs.is_empty() {
        return Ok(Vec::new());
    }
    let section_of: HashMap<i32, i32> =
        tabs.iter().flat_map(|&tab| categories.subtree_ids(tab).into_iter().map(move |id| (id, tab))).collect();

    let mut brands: HashMap<i32, Vec<BrandJson>> = HashMap::new();
    for row in brand::Entity::find()
        .filter(brand::Column::CategoryId.is_in(tabs.clone()))
        .order_by_asc(brand::Column::Id)
        .all(db)
        .await?
    {
        if let Some(category) = row.category_id {
            brands.entry(category).or_default().push(BrandJson::new(&row, url));
        }
    }

    let ads = index_ad::Entity::find()
        .filter(index_ad::Column::CategoryId.is_in(tabs.clone()))
        .order_by_asc(index_ad::Column::Id)
        .all(db)
        .await?;
    let mut first_ad: HashMap<i32, i32> = HashMap::new();
    for ad in &ads {
        first_ad.entry(ad.category_id).or_insert(ad.goods_id);
    }

    // The first goods of each section (by id, as the original lists them; at most
    // `goods_per_section`, so the page does not grow with the catalogue) and the advertised
    // goods, rendered together in one pass.
    let mut rows = Vec::new();
    for &tab in &tabs {
        rows.extend(
            goods::Entity::find()
                .filter(goods::Column::CategoryId.is_in(categories.subtree_ids(tab)))
                .order_by_asc(goods::Column::Id)
                .limit(goods_per_section)
                .all(db)
                .await?,
        );
    }
    let mut wanted: Vec<i32> =
        first_ad.values().copied().filter(|id| !rows.iter().any(|row: &goods::Model| row.id == *id)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() {
        rows.extend(goods::Entity::find().filter(goods::Column::Id.is_in(wanted)).all(db).await?);
    }
    let rendered = render_goods(db, url, &rows, category_cache).await?;

    let mut section_goods: HashMap<i32, Vec<GoodsJson>> = HashMap::new();
    let mut by_id: HashMap<i32, GoodsJson> = HashMap::new();
    for (row, json) in rows.iter().zip(rendered) {
        if let Some(&tab) = section_of.get(&row.category_id) {
            let section = section_goods.entry(tab).or_default();
            if (section.len() as u64) < goods_per_section {
                section.push(json.clone());
            }
        }
        by_id.insert(row.id, json);
    }

    Ok(tabs
        .iter()
        .filter_map(|&tab| {
            let category = categories.get(tab)?;
            let ad_goods = match first_ad.get(&tab).and_then(|goods_id| by_id.get(goods_id)) {
                Some(json) => AdGoods::Goods(Box::new(json.clone())),
                None => AdGoods::None {},
            };
            Some(IndexCategoryJson {
                id: tab,
                brands: brands.remove(&tab).unwrap_or_default(),
                goods: section_goods.remove(&tab).unwrap_or_default(),
                sub_cat: categories.sub_trees(tab),
                ad_goods,
                fields: category.into(),
            })
        })
        .collect())
}
