//! Catalogue pages: home, category listing, search, goods detail. Their main part is the same for
//! every visitor, so it is built once per cache period in the catalogue cache (keyed by host,
//! path and the parameters the page reads); only the layout and the per-visitor forms around it
//! are rendered per request.

use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::session::Visitor;
use super::view::{self, Chrome, Page};
use crate::catalog::categories::CategoryIndex;
use crate::catalog::filters::{GoodsFilter, OrderField, OrderKey, TopCategory};
use crate::catalog::goods::{self, render_goods};
use crate::catalog::home;
use crate::catalog::render::{BannerJson, GoodsJson, HotSearchJson, IndexCategoryJson};
use crate::db::entities::{category, user_fav};
use crate::http::pagination::PageRequest;
use crate::http::{ApiError, ApiResult, QueryParams, RequestUrl};
use crate::state::AppState;

/// Goods per home section and in "new goods".
const HOME_GOODS: usize = 8;
/// The listing parameters (everything else is dropped from the cache key and the links).
const LIST_PARAMS: &[&str] = &["pricemin", "pricemax", "ordering", "page", "search"];
/// The orderings offered, with their labels: sales, price both ways, newest.
const ORDERINGS: &[(&str, &str)] = &[
    ("", "默认"),
    ("-sold_num", "销量"),
    ("shop_price", "价格从低到高"),
    ("-shop_price", "价格从高到低"),
    ("-add_time", "新品"),
];

/// A page whose main part came from the cache.
#[derive(Template)]
#[template(path = "storefront/shell.html")]
struct Shell<'a> {
    chrome: Chrome,
    title: &'a str,
    body: &'a str,
}

/// Builds (or takes from the cache) the shared part of a page.
async fn cached_part<F>(state: &AppState, url: &RequestUrl, key: &str, build: F) -> ApiResult<String>
where
    F: Future<Output = ApiResult<String>>,
{
    // Absolute image URLs name the host, so the host is part of the key.
    let key = format!("storefront {} {key}", url.without_query().to_ascii_lowercase());
    let bytes = state.catalog_cache.fragment(url.host(), &key, build).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn render(template: &impl Template) -> ApiResult<String> {
    template.render().map_err(|error| anyhow::anyhow!("rendering a storefront page: {error}").into())
}

#[derive(Template)]
#[template(path = "storefront/home.html")]
struct HomePart {
    banners: Vec<BannerJson>,
    hot: Vec<HotSearchJson>,
    new_goods: Vec<GoodsJson>,
    sections: Vec<IndexCategoryJson>,
}

async fn build_home(state: &AppState, url: &RequestUrl) -> ApiResult<String> {
    let banners = home::banners(&state.db, url).await?;
    let hot = home::hot_searches(&state.db).await?;
    let filter = GoodsFilter { is_new: Some(true), ..GoodsFilter::default() };
    let page = PageRequest::from_query(&QueryParams::parse(Some(&format!("page_size={HOME_GOODS}"))))?;
    let new_goods = goods::list_goods(state.goods(), url, &filter, page).await?.goods;
    let sections = home::index_sections(&state.db, &state.categories, url, HOME_GOODS as u64).await?;
    render(&HomePart { banners, hot, new_goods, sections })
}

/// `GET /shop/` (and `/` when no Vue front end is installed).
pub async fn home_page(Page { state, visitor, url }: Page) -> Response {
    match cached_part(&state, &url, "home", build_home(&state, &url)).await {
        Ok(body) => view::page(
            &state,
            &visitor,
            StatusCode::OK,
            &Shell { chrome: Chrome::new(&visitor, &state), title: "首页", body: &body },
        ),
        Err(error) => view::failure(&state, &visitor, error),
    }
}

/// One level of the category tree beside a listing.
struct TreeNode {
    id: i32,
    name: String,
    current: bool,
    children: Vec<TreeNode>,
}

fn tree_node(index: &CategoryIndex, model: &category::Model, current: i32, depth: u8) -> TreeNode {
    let children = if depth < 2 {
        index.children(model.id).map(|child| tree_node(index, child, current, depth + 1)).collect()
    } else {
        Vec::new()
    };
    TreeNode { id: model.id, name: model.name.clone(), current: model.id == current, children }
}

/// A link to this listing with one parameter changed (`page` reset unless it is the one).
struct Links {
    base: String,
    query: QueryParams,
}

impl Links {
    fn with(&self, name: &str, value: &str) -> String {
        let mut kept: Vec<(&str, &str)> = LIST_PARAMS
            .iter()
            .filter(|param| **param != name && **param != "page")
            .filter_map(|param| self.query.non_blank(param).map(|value| (*param, value)))
            .collect();
        if !value.is_empty() {
            kept.push((name, value));
        }
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
        if query.is_empty() { self.base.clone() } else { format!("{}?{query}", self.base) }
    }

    fn value(&self, name: &str) -> &str {
        self.query.get(name).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "storefront/listing.html")]
struct ListingPart<'a> {
    heading: String,
    trail: Vec<(i32, String)>,
    tree: Option<TreeNode>,
    goods: Vec<GoodsJson>,
    count: u64,
    page: u64,
    pages: u64,
    links: Links,
    orderings: &'a [(&'a str, &'a str)],
    errors: view::FormErrors,
}

/// The filter a listing asks for: the API's own parser (prices, search, sales and price
/// ordering) plus "newest"; `None` with the messages to show when a parameter is wrong.
fn listing_filter(query: &QueryParams) -> Result<GoodsFilter, view::FormErrors> {
    let mut filter = GoodsFilter::from_query(query)
        .map_err(|error| view::form_errors(error, &["pricemin", "pricemax", "search"]).unwrap_or_default())?;
    if query.get("ordering") == Some("-add_time") {
        filter.ordering = vec![OrderKey { field: OrderField::AddTime, descending: true }];
    }
    Ok(filter)
}

async fn build_listing(
    state: &AppState,
    url: &RequestUrl,
    query: QueryParams,
    category: Option<i32>,
) -> ApiResult<String> {
    let index = state.categories.get(&state.db).await?;
    let (heading, trail, tree, base) = match category {
        Some(id) => {
            let current = index.get(id).ok_or(ApiError::NotFound)?;
            let mut trail = vec![(current.id, current.name.clone())];
            let mut top = current;
            while let Some(parent) = top.parent_id.and_then(|parent| index.get(parent)) {
                trail.insert(0, (parent.id, parent.name.clone()));
                top = parent;
            }
            (current.name.clone(), trail, Some(tree_node(&index, top, id, 0)), format!("/shop/category/{id}/"))
        }
        None => {
            let words = query.get("search").unwrap_or_default();
            (format!("搜索“{words}”"), Vec::new(), None, "/shop/search/".to_owned())
        }
    };
    let links = Links { base, query };
    let mut part = ListingPart {
        heading,
        trail,
        tree,
        goods: Vec::new(),
        count: 0,
        page: 1,
        pages: 1,
        links,
        orderings: ORDERINGS,
        errors: view::FormErrors::default(),
    };
    match listing_filter(&part.links.query) {
        Ok(mut filter) => {
            if let Some(id) = category {
                filter.top_category = Some(TopCategory::Id(id));
            }
            let found =
                goods::list_goods(state.goods(), url, &filter, PageRequest::from_query(&part.links.query)?).await?;
            part.goods = found.goods;
            part.count = found.count;
            part.page = found.window.number;
            part.pages = found.window.pages;
        }
        Err(errors) => part.errors = errors,
    }
    render(&part)
}

/// A listing's query reduced to the parameters it offers, each once (its last value, the one
/// read), sorted: the page is built from this and only this, so that it agrees with its cache
/// key (any other parameter, such as the API's `name` or `page_size`, would otherwise change a
/// page stored under the plain URL's key).
fn listing_query(query: &QueryParams) -> String {
    let mut kept: Vec<(&str, &str)> =
        LIST_PARAMS.iter().filter_map(|name| query.get(name).map(|value| (*name, value))).collect();
    kept.sort_unstable();
    form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

async fn listing_page(
    state: AppState,
    visitor: Visitor,
    url: RequestUrl,
    query: Option<String>,
    category: Option<i32>,
) -> Response {
    let reduced = listing_query(&QueryParams::parse(query.as_deref()));
    let query = QueryParams::parse(Some(&reduced));
    let kind = category.map_or_else(|| "search".to_owned(), |id| format!("category/{id}"));
    let key = format!("{kind}?{reduced}");
    let mut chrome = Chrome::new(&visitor, &state);
    chrome.search = query.get("search").unwrap_or_default().to_owned();
    let title = if category.is_some() { "商品分类" } else { "搜索" };
    match cached_part(&state, &url, &key, build_listing(&state, &url, query, category)).await {
        Ok(body) => view::page(&state, &visitor, StatusCode::OK, &Shell { chrome, title, body: &body }),
        Err(error) => view::failure(&state, &visitor, error),
    }
}

/// `GET /shop/category/{id}/`: the category's subtree, filtered, ordered and paginated.
pub async fn category_page(
    Page { state, visitor, url }: Page,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match id.parse::<i32>() {
        Ok(id) => listing_page(state, visitor, url, query, Some(id)).await,
        Err(_) => view::failure(&state, &visitor, ApiError::NotFound),
    }
}

/// `GET /shop/search/?search=…`
pub async fn search_page(Page { state, visitor, url }: Page, RawQuery(query): RawQuery) -> Response {
    listing_page(state, visitor, url, query, None).await
}

#[derive(Template)]
#[template(path = "storefront/detail.html")]
struct DetailPart {
    goods: GoodsJson,
    /// The description, sanitised: the admin's HTML, without scripts, handlers or styles.
    description: String,
}

async fn build_detail(state: &AppState, url: &RequestUrl, id: i32) -> ApiResult<String> {
    let row = crate::db::entities::goods::Entity::find_by_id(id).one(&state.db).await?.ok_or(ApiError::NotFound)?;
    let goods = render_goods(&state.db, url, std::slice::from_ref(&row), &state.categories)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let description = ammonia::clean(&goods.goods_desc);
    render(&DetailPart { goods, description })
}

#[derive(Template)]
#[template(path = "storefront/goods.html")]
struct GoodsPage<'a> {
    chrome: Chrome,
    id: i32,
    body: &'a str,
    signed_in: bool,
    favourite: bool,
    /// The add-to-cart form's errors (quantity beyond stock, …).
    errors: view::FormErrors,
}

/// `GET /shop/goods/{id}/`: the goods with add to cart and favourite; its view is counted in
/// the next batch (`catalog::views`).
pub async fn goods_page(Page { state, visitor, url }: Page, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i32>() else { return view::failure(&state, &visitor, ApiError::NotFound) };
    let page = goods_view(&state, &visitor, &url, id, view::FormErrors::default()).await;
    if page.status() == StatusCode::OK {
        state.goods_views.count(id);
        state.goods_views.write_if_immediate(&state.db).await;
    }
    page
}

/// The goods page, with `errors` next to the add-to-cart form.
pub async fn goods_view(
    state: &AppState,
    visitor: &Visitor,
    url: &RequestUrl,
    id: i32,
    errors: view::FormErrors,
) -> Response {
    let shown = async {
        let body = cached_part(state, url, &format!("goods/{id}"), build_detail(state, url, id)).await?;
        let favourite = match &visitor.user {
            Some(user) => user_fav::Entity::find()
                .filter(user_fav::Column::UserId.eq(user.id))
                .filter(user_fav::Column::GoodsId.eq(id))
                .one(&state.db)
                .await?
                .is_some(),
            None => false,
        };
        Ok::<_, ApiError>((body, favourite))
    }
    .await;
    match shown {
        Ok((body, favourite)) => {
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            let page = GoodsPage {
                chrome: Chrome::new(visitor, state),
                id,
                body: &body,
                signed_in: visitor.user.is_some(),
                favourite,
                errors,
            };
            view::page(state, visitor, status, &page)
        }
        Err(error) => view::failure(state, visitor, error),
    }
}

/// `GET /shop/assets/{name}`: the storefront's own stylesheet and script, compiled in.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static str, &'static str) = match name.as_str() {
        "shop.css" => (include_str!("assets/shop.css"), "text/css; charset=utf-8"),
        "shop.js" => (include_str!("assets/shop.js"), "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
