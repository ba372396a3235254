//! The catalogue (Django app `goods`): goods, categories, banners, hot words, home-page sections.

pub mod catalogue;
pub(crate) mod categories;
pub mod detail;
pub mod entry;
pub mod filters;
mod fragment;
pub mod goods;
mod handlers;
pub(crate) mod home;
mod index;
pub mod render;
mod search;
pub mod snapshot;
pub mod views;

use utoipa_axum::routes;

use crate::http::routes::Routes;

/// A goods' id as a request names it (whether such goods exist is the service's question): kept
/// apart from the other ids a request carries (lines, orders, users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoodsId(i32);

impl GoodsId {
    pub fn new(id: i32) -> Self {
        Self(id)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

pub fn routes(api: Routes) -> Routes {
    api.api(routes!(handlers::list_goods))
        .api(routes!(handlers::get_goods))
        .api(routes!(handlers::list_categories))
        .api(routes!(handlers::get_category))
        .api(routes!(handlers::list_banners))
        .api(routes!(handlers::list_hot_searches))
        .api(routes!(handlers::list_index_goods))
}
