//! Catalogue handlers: parse the request, call the feature's functions, render JSON.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::filters::GoodsFilter;
use super::goods::list_goods_json;
use super::home;
use super::render::{BannerJson, CategoryTree, HotSearchJson, IndexCategoryJson};
use crate::http::pagination::PageRequest;
use crate::http::{ApiError, ApiResult, Lookup, QueryParams, RequestUrl};
use crate::state::AppState;

/// `GET /goods/`
#[utoipa::path(
    summary = "List goods (filter, search, order, paginate)",
    get, path = "/goods/", tag = "catalog",
    params(
        ("page" = Option<u64>, Query, description = "page number from 1, or `last`"),
        ("page_size" = Option<u64>, Query, description = "goods per page, 1 to 100 (default 12)"),
        ("ordering" = Option<String>, Query, description = "`shop_price`, `-shop_price`, `sold_num`, `-sold_num`, `add_time`, `-add_time`"),
        ("pricemin" = Option<f64>, Query, description = "lowest shop price, yuan"),
        ("pricemax" = Option<f64>, Query, description = "highest shop price, yuan"),
        ("top_category" = Option<i32>, Query, description = "a category id of any level: its goods and its descendants' goods"),
        ("is_hot" = Option<bool>, Query, description = "only hot goods"),
        ("is_new" = Option<bool>, Query, description = "only new goods"),
        ("search" = Option<String>, Query, description = "words matched in name, brief and description; at most 10 terms of 100 characters"),
    ),
    responses((status = 200, description = "One page of goods", body = crate::http::pagination::Paginated<crate::catalog::render::GoodsJson>), crate::openapi::answers::Invalid, crate::openapi::answers::NotFound)
)]
pub async fn list_goods(
    State(state): State<AppState>,
    url: RequestUrl,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let query = QueryParams::parse(raw.as_deref());
    let filter = GoodsFilter::from_query(&query)?;
    let page = PageRequest::from_query(&query)?;
    let body = list_goods_json(state.goods(), &url, &filter, &query, page).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /goods/{id}/` — counts the view.
#[utoipa::path(
    summary = "One goods",
    get, path = "/goods/{id}/", tag = "catalog", params(("id" = i32, Path, description = "goods id")),
    responses((status = 200, description = "The goods (the view is counted in `click_num`)", body = crate::catalog::render::GoodsJson), crate::openapi::answers::NotFound)
)]
pub async fn get_goods(
    State(state): State<AppState>,
    url: RequestUrl,
    Lookup(id): Lookup,
) -> ApiResult<axum::response::Response> {
    super::detail::view(&state, &url, id).await
}

/// `GET /categories/`
#[utoipa::path(
    summary = "The category tree",
    get, path = "/categories/", tag = "catalog",
    responses((status = 200, description = "The level-1 categories with their sub-categories", body = Vec<crate::catalog::render::CategoryTree>))
)]
pub async fn list_categories(State(state): State<AppState>) -> ApiResult<Json<Vec<CategoryTree>>> {
    let index = state.categories.get(&state.db).await?;
    let trees = index.top_level().filter_map(|category| index.tree(category.id)).collect();
    Ok(Json(trees))
}

/// `GET /categories/{id}/` — any level may be the root (the menu links sub-categories).
#[utoipa::path(
    summary = "One category with its sub-categories",
    get, path = "/categories/{id}/", tag = "catalog", params(("id" = i32, Path, description = "category id (any level)")),
    responses((status = 200, description = "The category with its sub-categories", body = crate::catalog::render::CategoryTree), crate::openapi::answers::NotFound)
)]
pub async fn get_category(State(state): State<AppState>, Lookup(id): Lookup) -> ApiResult<Json<CategoryTree>> {
    let index = state.categories.get(&state.db).await?;
    index.tree(id).map(Json).ok_or(ApiError::NotFound)
}

/// `GET /banners/`
#[utoipa::path(
    summary = "Home page banners",
    get, path = "/banners/", tag = "catalog",
    responses((status = 200, description = "Home page carousel, by index", body = Vec<crate::catalog::render::BannerJson>))
)]
pub async fn list_banners(State(state): State<AppState>, url: RequestUrl) -> ApiResult<Json<Vec<BannerJson>>> {
    Ok(Json(home::banners(&state.db, &url).await?))
}

/// `GET /hotsearchs/`
#[utoipa::path(
    summary = "Hot search words",
    get, path = "/hotsearchs/", tag = "catalog",
    responses((status = 200, description = "Hot search words, by index", body = Vec<crate::catalog::render::HotSearchJson>))
)]
pub async fn list_hot_searches(State(state): State<AppState>) -> ApiResult<Json<Vec<HotSearchJson>>> {
    Ok(Json(home::hot_searches(&state.db).await?))
}

/// `GET /indexgoods/`
#[utoipa::path(
    summary = "Home page sections",
    get, path = "/indexgoods/", tag = "catalog",
    responses((status = 200, description = "Home page sections: one per tab category, with brands, goods, sub-categories and an ad", body = Vec<crate::catalog::render::IndexCategoryJson>))
)]
pub async fn list_index_goods(
    State(state): State<AppState>,
    url: RequestUrl,
) -> ApiResult<Json<Vec<IndexCategoryJson>>> {
    Ok(Json(home::index_sections(&state.db, &state.categories, &url, state.config.index_goods_per_section).await?))
}
