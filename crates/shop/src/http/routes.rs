//! `Routes`: the router plus the set of its paths, so that the not-found fallback can tell whether
//! adding a trailing slash would reach a route (Django's `APPEND_SLASH`).

use std::sync::Arc;

use axum::Router;
use axum::routing::MethodRouter;

use super::conventions::{describe_options, not_found};
use crate::app::AppState;

pub struct Routes {
    router: Router<AppState>,
    paths: matchit::Router<()>,
}

impl Default for Routes {
    fn default() -> Self {
        Self { router: Router::new(), paths: matchit::Router::new() }
    }
}

impl Routes {
    /// An API route: also answers a plain OPTIONS request like DRF does.
    pub fn api(self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.page(path, methods.options(describe_options))
    }

    /// A non-API route (pages, files).
    pub fn page(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.remember(path);
        self
    }

    /// A nested service (a file server) under `prefix`.
    pub fn files<S>(mut self, prefix: &'static str, service: S) -> Self
    where
        S: tower::Service<axum::extract::Request, Error = std::convert::Infallible> + Clone + Send + Sync + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.router = self.router.nest_service(prefix, service);
        self
    }

    fn remember(&mut self, path: &'static str) {
        // axum has already accepted this path, and it panics on conflicting routes before we get
        // here, so matchit (the same matcher) cannot refuse it.
        if let Err(error) = self.paths.insert(path, ()) {
            tracing::warn!(path, %error, "route not registered for slash redirects");
        }
    }

    /// The router with the not-found fallback installed.
    pub fn into_router(self) -> Router<AppState> {
        let paths = Arc::new(self.paths);
        self.router.fallback(move |request| not_found(paths.clone(), request))
    }
}
