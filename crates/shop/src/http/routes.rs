//! `Routes`: the router, the OpenAPI document of its API routes (each route is registered from
//! its handler's `#[utoipa::path]`, so the document cannot leave one out), and the set of its
//! paths, so that the not-found fallback can tell whether adding a trailing slash would reach a
//! route (Django's `APPEND_SLASH`) and every request can be labelled with its route pattern.

use std::sync::Arc;

use axum::Router;
use axum::routing::MethodRouter;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::conventions::{describe_options, not_found};
use crate::state::AppState;

pub struct Routes {
    router: OpenApiRouter<AppState>,
    /// What was registered, in order.
    inventory: Vec<(String, RouteKind)>,
    /// Every route path, for `APPEND_SLASH`.
    paths: matchit::Router<()>,
    /// Route paths and file-server prefixes, each mapped to the label it is known by.
    patterns: matchit::Router<Arc<str>>,
}

impl Default for Routes {
    fn default() -> Self {
        Self {
            router: OpenApiRouter::new(),
            inventory: Vec::new(),
            paths: matchit::Router::new(),
            patterns: matchit::Router::new(),
        }
    }
}

/// How a route was registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A DRF API route, in the API document.
    Api,
    /// Health, readiness, metrics: in the API document.
    Operation,
    /// An HTML page or a document (the SPA, the docs UI, the API root): not API.
    Page,
    /// Files under a prefix (media, the SPA's static files, the built-in sandbox): not API.
    Files,
}

/// What a request is labelled with in logs and metrics: the pattern it matched (`/goods/{id}/`),
/// never the raw path, so the set of labels is the set of routes.
#[derive(Clone)]
pub struct RouteTable(Arc<matchit::Router<Arc<str>>>);

/// The label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

impl RouteTable {
    pub fn label(&self, path: &str) -> Option<Arc<str>> {
        self.0.at(path).ok().map(|found| found.value.clone())
    }
}

impl Routes {
    /// An API route, documented by its handlers' `#[utoipa::path]` (give them to
    /// `utoipa_axum::routes!`, all with the same path); it also answers a plain OPTIONS request
    /// like DRF does.
    pub fn api(mut self, (schemas, paths, methods): UtoipaMethodRouter<AppState>) -> Self {
        let mut path_names = paths.paths.keys().cloned();
        let (Some(path), None) = (path_names.next(), path_names.next()) else {
            panic!("one API route per `api` call: {:?}", paths.paths.keys().collect::<Vec<_>>());
        };
        self.router = self.router.routes((schemas, paths, methods.options(describe_options)));
        self.remember(&path, RouteKind::Api);
        self
    }

    /// An operations route (health, readiness, metrics): documented, but not part of the DRF API.
    pub fn operation(mut self, (schemas, paths, methods): UtoipaMethodRouter<AppState>) -> Self {
        let names: Vec<String> = paths.paths.keys().cloned().collect();
        self.router = self.router.routes((schemas, paths, methods));
        for name in names {
            self.remember(&name, RouteKind::Operation);
        }
        self
    }

    /// A non-API route (pages, files); not in the API document.
    pub fn page(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.remember(path, RouteKind::Page);
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
        self.inventory.push((prefix.to_owned(), RouteKind::Files));
        for pattern in [prefix.to_owned(), format!("{prefix}/{{*rest}}")] {
            if let Err(error) = self.patterns.insert(pattern, Arc::from(format!("{prefix}/*"))) {
                tracing::warn!(prefix, %error, "file prefix not labelled");
            }
        }
        self
    }

    fn remember(&mut self, path: &str, kind: RouteKind) {
        self.inventory.push((path.to_owned(), kind));
        // axum has already accepted this path, and it panics on conflicting routes before we get
        // here, so matchit (the same matcher) cannot refuse it.
        if let Err(error) = self.paths.insert(path, ()) {
            tracing::warn!(path, %error, "route not registered for slash redirects");
        }
        if let Err(error) = self.patterns.insert(path, Arc::from(path)) {
            tracing::warn!(path, %error, "route not labelled");
        }
    }

    /// Every path or prefix registered, with its kind.
    pub fn inventory(&self) -> Vec<(String, RouteKind)> {
        self.inventory.clone()
    }

    /// The router with the not-found fallback installed, the table of its routes, and the API
    /// document.
    pub fn into_parts(self) -> (Router<AppState>, RouteTable, utoipa::openapi::OpenApi) {
        let paths = Arc::new(self.paths);
        let (router, openapi) = self.router.split_for_parts();
        (
            router.fallback(move |request| not_found(paths.clone(), request)),
            RouteTable(Arc::new(self.patterns)),
            openapi,
        )
    }
}
