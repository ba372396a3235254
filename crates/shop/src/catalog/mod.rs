//! The catalogue (Django app `goods`): goods, categories, banners, hot words, home-page sections.

mod categories;
pub mod filters;
pub mod goods;
mod handlers;
mod home;
pub mod render;

use axum::routing::get;

use crate::http::routes::Routes;

pub fn routes(routes: Routes) -> Routes {
    routes
        .api("/goods/", get(handlers::list_goods))
        .api("/goods/{id}/", get(handlers::get_goods))
        .api("/categories/", get(handlers::list_categories))
        .api("/categories/{id}/", get(handlers::get_category))
        .api("/banners/", get(handlers::list_banners))
        .api("/hotsearchs/", get(handlers::list_hot_searches))
        .api("/indexgoods/", get(handlers::list_index_goods))
}
