//! Web (non-API) routes: the Vue SPA at `/index/` and its `/static/` files, `/media/`, the favicon,
//! the root `/` (the storefront unless a Vue bundle is installed), the API root at `/api/`, the API document and its docs UI, liveness
//! (`/health/`), readiness (`/ready/`) and metrics (`/metrics`).

mod docs;
mod favicon;
mod media;
mod pages;

use std::path::Path;

use axum::middleware::from_fn;
use axum::routing::get;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::http::conventions::page_security_headers;
use crate::http::routes::Routes;

pub fn routes(routes: Routes, config: &Config) -> Routes {
    let static_dir = config.frontend_dir.join("static");
    routes
        .page("/", get(pages::root).layer(from_fn(page_security_headers)))
        .page("/index/", get(pages::spa_index).layer(from_fn(page_security_headers)))
        .page("/api/", get(pages::api_root))
        .page(docs::DOCUMENT_PATH, get(docs::openapi_json))
        .page("/docs/", get(docs::docs_index).layer(from_fn(page_security_headers)))
        .page("/docs/{file}", get(docs::docs_file).layer(from_fn(page_security_headers)))
        .operation(utoipa_axum::routes!(pages::health))
        .operation(utoipa_axum::routes!(pages::ready))
        .operation(utoipa_axum::routes!(crate::telemetry::render_metrics))
        .page("/favicon.ico", get(favicon::favicon))
        .files("/static", file_server(&static_dir))
        // The bundle's CSS asks for `static/fonts/…` relative to `/index/`.
        .files("/index/static", file_server(&static_dir))
        .files("/media", media::service(&config.media_dir()))
}

/// Files only: no directory listings or `index.html` lookups; MIME types from the extension.
fn file_server(dir: &Path) -> ServeDir {
    ServeDir::new(dir).append_index_html_on_directories(false)
}
