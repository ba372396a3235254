//! A short-lived, per-instance cache for anonymous catalogue reads (`/goods/` lists, categories,
//! banners, hot words, home sections). Responses are at most `ttl` old; while one request
//! refreshes an expired entry, the others are served the previous response, so an expensive page
//! is built once per `ttl` however many ask for it. Nothing with side effects is cached (a goods
//! detail counts its view).
//!
//! Memory is bounded whatever the URLs: the query is reduced to the parameters the endpoint reads
//! (before the handler sees it, so the body and the key agree), only the shop's own host names
//! are cached, and the entries' total size is capped in bytes. A URL is kept from its second
//! request on: one asked for once (a crawler's, a filter nobody repeats) is built and not kept,
//! so it never pushes out the pages people do repeat.

mod store;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

pub use self::store::ResponseCache;
use self::store::{Cached, Plan};
use super::query::QueryParams;
use crate::state::AppState;

/// Responses larger than this are served but not kept.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// The parameters `/goods/` reads; every other one changes nothing and is dropped.
const GOODS_PARAMS: &[&str] =
    &["page", "page_size", "pricemin", "pricemax", "top_category", "is_new", "is_hot", "name", "search", "ordering"];

/// The catalogue's anonymous, side-effect-free reads, with the query parameters each reads.
fn cacheable(method: &Method, path: &str) -> Option<&'static [&'static str]> {
    if *method != Method::GET {
        return None;
    }
    match path {
        "/goods/" => Some(GOODS_PARAMS),
        "/categories/" | "/banners/" | "/hotsearchs/" | "/indexgoods/" => Some(&[]),
        _ if path.strip_prefix("/categories/").is_some_and(|rest| !rest.is_empty()) => Some(&[]),
        _ => None,
    }
}

/// `uri` with only the `known` parameters, each once (its last value, which is the one read),
/// sorted by name; `None` when it already is that.
fn canonical_uri(uri: &Uri, known: &[&str]) -> Option<Uri> {
    let query = uri.query()?;
    let params = QueryParams::parse(Some(query));
    let mut kept: Vec<(&str, &str)> =
        known.iter().filter_map(|name| params.get(name).map(|value| (*name, value))).collect();
    kept.sort_unstable();
    let canonical = form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
    if canonical == query {
        return None;
    }
    let text = if canonical.is_empty() { uri.path().to_owned() } else { format!("{}?{canonical}", uri.path()) };
    text.parse().ok()
}

fn response(cached: Cached) -> Response {
    let mut response = Response::new(Body::from(cached.body));
    *response.status_mut() = cached.status;
    *response.headers_mut() = cached.headers;
    response
}

pub async fn cache_catalogue(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(known) = cacheable(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    if let Some(uri) = canonical_uri(request.uri(), known) {
        *request.uri_mut() = uri;
    }
    let cache = &state.catalog_cache;
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !cache.serves(host) {
        return next.run(request).await;
    }
    // Absolute URLs in the body name the host, so the host is part of the key.
    let key = format!("{} {}", host.to_ascii_lowercase(), request.uri());
    let plan = cache.plan(&key);
    crate::telemetry::cache_lookup(!matches!(plan, Plan::Refresh(_) | Plan::Pass));
    let refresh = match plan {
        Plan::Serve(cached) => return response(cached),
        Plan::Pass => return next.run(request).await,
        Plan::Refresh(refresh) => refresh,
        Plan::Wait(fill) => {
            let guard = fill.lock_owned().await;
            match cache.peek(&key) {
                Some(cached) => return response(cached),
                // The builder gave up (an error response, a cancelled request): build it here.
                None => match cache.plan(&key) {
                    Plan::Serve(cached) => return response(cached),
                    Plan::Refresh(refresh) => refresh,
                    Plan::Pass | Plan::Wait(_) => {
                        drop(guard);
                        return next.run(request).await;
                    }
                },
            }
        }
    };
    let (parts, body) = next.run(request).await.into_parts();
    if parts.status != StatusCode::OK {
        return Response::from_parts(parts, body);
    }
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            let cached = Cached { status: parts.status, headers: parts.headers, body: bytes };
            refresh.store(cached.clone());
            response(cached)
        }
        Err(error) => {
            tracing::error!(%error, "reading a catalogue response for the cache");
            crate::http::error::detail(StatusCode::INTERNAL_SERVER_ERROR, crate::http::error::messages::SERVER_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_side_effect_free_catalogue_reads() {
        assert!(cacheable(&Method::GET, "/goods/").is_some());
        assert!(cacheable(&Method::GET, "/categories/12/").is_some());
        assert!(cacheable(&Method::GET, "/indexgoods/").is_some());
        assert!(cacheable(&Method::GET, "/goods/12/").is_none(), "a detail counts its view");
        assert!(cacheable(&Method::POST, "/goods/").is_none());
        assert!(cacheable(&Method::GET, "/orders/").is_none());
        assert!(cacheable(&Method::GET, "/shopcarts/").is_none());
    }

    #[test]
    fn unknown_parameters_are_dropped_and_known_ones_sorted() {
        let canonical = |uri: &str, known| canonical_uri(&uri.parse().unwrap(), known).map(|uri| uri.to_string());
        assert_eq!(
            canonical("/goods/?zz=1&page=2&junk=x&page=3&ordering=-shop_price&search=a+b", GOODS_PARAMS).as_deref(),
            Some("/goods/?ordering=-shop_price&page=3&search=a+b")
        );
        assert_eq!(canonical("/indexgoods/?junk=1", &[]).as_deref(), Some("/indexgoods/"));
        assert_eq!(canonical("/goods/?ordering=-shop_price&page=3", GOODS_PARAMS), None, "already canonical");
        assert_eq!(canonical("/goods/", GOODS_PARAMS), None);
    }
}
