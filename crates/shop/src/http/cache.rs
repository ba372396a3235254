//! A short-lived, per-instance cache for anonymous catalogue reads (`/goods/` lists, categories,
//! banners, hot words, home sections). Responses are at most `ttl` old; while one request
//! refreshes an expired entry, the others are served the previous response, so an expensive page
//! is built once per `ttl` however many ask for it. Nothing with side effects is cached (a goods
//! detail counts its view).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// Responses larger than this are served but not kept.
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Beyond this many keys, expired entries are dropped (and, if that is not enough, all).
const MAX_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct Cached {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

struct Slot {
    value: Option<Cached>,
    fetched_at: Instant,
    refreshing: bool,
    /// Held by the request building the first copy; the others wait on it instead of building
    /// the same page side by side.
    fill: Arc<tokio::sync::Mutex<()>>,
}

pub struct ResponseCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

/// What to do with a request, decided under the lock.
enum Plan {
    Serve(Cached),
    /// Build the response (the first copy: while holding the fill guard).
    Refresh(Option<tokio::sync::OwnedMutexGuard<()>>),
    /// Another request is building the first copy: wait for it, then look again.
    Wait(Arc<tokio::sync::Mutex<()>>),
}

impl ResponseCache {
    /// `ttl` zero disables caching.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, slots: Mutex::default() }
    }

    fn plan(&self, key: &str) -> Plan {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if let Some(slot) = slots.get_mut(key) {
            return match &slot.value {
                Some(value) if now.duration_since(slot.fetched_at) < self.ttl => Plan::Serve(value.clone()),
                Some(value) if slot.refreshing => Plan::Serve(value.clone()),
                Some(_) => {
                    slot.refreshing = true;
                    Plan::Refresh(None)
                }
                None => Plan::Wait(slot.fill.clone()),
            };
        }
        if slots.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            slots.retain(|_, slot| slot.value.is_none() || now.duration_since(slot.fetched_at) < ttl);
            if slots.len() >= MAX_ENTRIES {
                slots.clear();
            }
        }
        let fill = Arc::new(tokio::sync::Mutex::new(()));
        // A new mutex: nobody else can hold it yet.
        let guard = fill.clone().try_lock_owned().ok();
        slots.insert(key.to_owned(), Slot { value: None, fetched_at: now, refreshing: true, fill });
        Plan::Refresh(guard)
    }

    /// Whatever copy there is, fresh or not.
    fn peek(&self, key: &str) -> Option<Cached> {
        let slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slots.get(key).and_then(|slot| slot.value.clone())
    }

    fn store(&self, key: &str, value: Option<Cached>) {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match value {
            Some(value) => {
                let fill = slots.get(key).map_or_else(Arc::default, |slot| slot.fill.clone());
                slots.insert(
                    key.to_owned(),
                    Slot { value: Some(value), fetched_at: Instant::now(), refreshing: false, fill },
                );
            }
            // Not cacheable (an error, too large): forget the key so the next request builds it.
            None => {
                slots.remove(key);
            }
        }
    }
}

/// The catalogue's anonymous, side-effect-free reads.
fn cacheable(method: &Method, path: &str) -> bool {
    if *method != Method::GET {
        return false;
    }
    matches!(path, "/goods/" | "/categories/" | "/banners/" | "/hotsearchs/" | "/indexgoods/")
        || path.strip_prefix("/categories/").is_some_and(|rest| !rest.is_empty())
}

fn response(cached: Cached) -> Response {
    let mut response = Response::new(Body::from(cached.body));
    *response.status_mut() = cached.status;
    *response.headers_mut() = cached.headers;
    response
}

pub async fn cache_catalogue(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.catalog_cache;
    if cache.ttl.is_zero() || !cacheable(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    // Absolute URLs in the body name the host, so the host is part of the key.
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = format!("{host} {}", request.uri());
    let _fill_guard = match cache.plan(&key) {
        Plan::Serve(cached) => return response(cached),
        Plan::Refresh(guard) => guard,
        Plan::Wait(fill) => {
            let guard = fill.lock_owned().await;
            match cache.peek(&key) {
                Some(cached) => return response(cached),
                // The builder gave up (an error response): build it ourselves.
                None => Some(guard),
            }
        }
    };
    let (parts, body) = next.run(request).await.into_parts();
    if parts.status != StatusCode::OK {
        cache.store(&key, None);
        return Response::from_parts(parts, body);
    }
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            let cached = Cached { status: parts.status, headers: parts.headers, body: bytes };
            cache.store(&key, Some(cached.clone()));
            response(cached)
        }
        Err(error) => {
            cache.store(&key, None);
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
        assert!(cacheable(&Method::GET, "/goods/"));
        assert!(cacheable(&Method::GET, "/categories/12/"));
        assert!(cacheable(&Method::GET, "/indexgoods/"));
        assert!(!cacheable(&Method::GET, "/goods/12/"), "a detail counts its view");
        assert!(!cacheable(&Method::POST, "/goods/"));
        assert!(!cacheable(&Method::GET, "/orders/"));
        assert!(!cacheable(&Method::GET, "/shopcarts/"));
    }

    #[test]
    fn the_first_copy_is_built_once_and_stale_ones_served_while_refreshing() {
        let cache = ResponseCache::new(Duration::from_nanos(1));
        let Plan::Refresh(Some(guard)) = cache.plan("k") else { panic!("the first request builds") };
        assert!(matches!(cache.plan("k"), Plan::Wait(_)), "others wait for the first copy");
        drop(guard);
        let value = Cached { status: StatusCode::OK, headers: HeaderMap::new(), body: Bytes::from_static(b"v1") };
        cache.store("k", Some(value));
        std::thread::sleep(Duration::from_millis(2));
        assert!(matches!(cache.plan("k"), Plan::Refresh(None)), "expired: this request refreshes");
        match cache.plan("k") {
            Plan::Serve(cached) => assert_eq!(cached.body, Bytes::from_static(b"v1")),
            _ => panic!("a second request must get the stale copy"),
        }
    }
}
