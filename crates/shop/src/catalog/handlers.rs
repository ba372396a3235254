//! Catalogue handlers: parse the request, call the feature's functions, render JSON.

use axum::Json;
use axum::extract::{RawQuery, State};

use super::categories::CategoryIndex;
use super::filters::GoodsFilter;
use super::goods::{list_goods as query_goods, render_goods, view_goods};
use super::home;
use super::render::{BannerJson, CategoryTree, GoodsJson, HotSearchJson, IndexCategoryJson};
use crate::app::AppState;
use crate::http::pagination::{PageRequest, Paginated};
use crate::http::{ApiError, ApiResult, Lookup, QueryParams, RequestUrl};

/// `GET /goods/`
pub async fn list_goods(
    State(state): State<AppState>,
    url: RequestUrl,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Paginated<GoodsJson>>> {
    let query = QueryParams::parse(raw.as_deref());
    let filter = GoodsFilter::from_query(&query)?;
    let page = PageRequest::from_query(&query)?;
    let found = query_goods(&state.db, &filter, page).await?;
    let results = render_goods(&state.db, &url, &found.rows, None).await?;
    Ok(Json(Paginated::new(found.window, found.count, &url, &query, results)))
}

/// `GET /goods/{id}/` — counts the view.
pub async fn get_goods(
    State(state): State<AppState>,
    url: RequestUrl,
    Lookup(id): Lookup,
) -> ApiResult<Json<GoodsJson>> {
    let row = view_goods(&state.db, id).await?;
    let mut rendered = render_goods(&state.db, &url, std::slice::from_ref(&row), None).await?;
    rendered.pop().map(Json).ok_or(ApiError::NotFound)
}

/// `GET /categories/`
pub async fn list_categories(State(state): State<AppState>) -> ApiResult<Json<Vec<CategoryTree>>> {
    let index = CategoryIndex::load(&state.db).await?;
    let trees = index.top_level().filter_map(|category| index.tree(category.id)).collect();
    Ok(Json(trees))
}

/// `GET /categories/{id}/` — any level may be the root (the menu links sub-categories).
pub async fn get_category(State(state): State<AppState>, Lookup(id): Lookup) -> ApiResult<Json<CategoryTree>> {
    let index = CategoryIndex::load(&state.db).await?;
    index.tree(id).map(Json).ok_or(ApiError::NotFound)
}

/// `GET /banners/`
pub async fn list_banners(State(state): State<AppState>, url: RequestUrl) -> ApiResult<Json<Vec<BannerJson>>> {
    Ok(Json(home::banners(&state.db, &url).await?))
}

/// `GET /hotsearchs/`
pub async fn list_hot_searches(State(state): State<AppState>) -> ApiResult<Json<Vec<HotSearchJson>>> {
    Ok(Json(home::hot_searches(&state.db).await?))
}

/// `GET /indexgoods/`
pub async fn list_index_goods(
    State(state): State<AppState>,
    url: RequestUrl,
) -> ApiResult<Json<Vec<IndexCategoryJson>>> {
    Ok(Json(home::index_sections(&state.db, &url).await?))
}
