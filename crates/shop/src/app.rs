//! The application: `build_app` (the one router over every feature's routes) and `Server` (bind,
//! report, serve). The state it serves is `state::AppState`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::http::cache::cache_catalogue;
use crate::http::conventions::{cors, drf_error_bodies, observe_requests, page_security_headers, run_to_completion};
use crate::http::routes::{RouteKind, Routes};
use crate::http::serve::{ConnectionLimits, serve};
use crate::state::{AppState, Services};
use crate::{accounts, catalog, member, payments, storefront, trade, web};

/// Time allowed for one request before it is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole HTTP surface, with the conventions of `http::conventions` applied to every route.
pub fn build_app(state: AppState) -> Router {
    // Installed before the first request records anything.
    crate::telemetry::handle();
    let body_limit = state.config.body_limit_bytes;
    let cache_state = state.clone();
    let limit_state = state.clone();
    let body_deadline = Duration::from_secs(state.config.body_read_timeout_secs.max(1));
    let (router, route_table, document) = assemble(&state).into_parts();
    let state =
        AppState::from(Services { api_document: crate::openapi::render(document).into(), ..state.into_services() });
    // Each `layer` wraps the ones before it: the request log is outermost, the body limit innermost.
    router
        .with_state(state)
        // The whole-body limit below replaces axum's per-extractor default (2 MB).
        .layer(from_fn_with_state(body_deadline, run_to_completion))
        .layer(from_fn_with_state(cache_state, cache_catalogue))
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(from_fn(drf_error_bodies))
        .layer(from_fn_with_state(limit_state, crate::storefront::body_limit_page))
        .layer(from_fn(cors))
        .layer(from_fn_with_state(route_table, observe_requests))
}

/// Every route: the features' API routes, the web pages and files, the built-in sandbox.
fn assemble(state: &AppState) -> Routes {
    let routes = Routes::default();
    let routes = payments::routes(trade::routes(member::routes(accounts::routes(catalog::routes(routes)))));
    let routes = storefront::routes(web::routes(routes, &state.config));
    match state.sandbox.clone() {
        Some(builtin) if state.config.alipay.builtin_on_public_address => {
            routes.files(payments::gateway::BUILTIN_SANDBOX_PATH, builtin.router.layer(from_fn(page_security_headers)))
        }
        Some(builtin) => routes.files(
            payments::gateway::BUILTIN_SANDBOX_PATH,
            builtin.router.layer(from_fn(page_security_headers)).layer(from_fn(payments::gateway::local_only)),
        ),
        None => routes,
    }
}

/// The routes `build_app` registers, with their kind: what the API document must cover.
pub fn route_inventory(state: &AppState) -> Vec<(String, RouteKind)> {
    assemble(state).inventory()
}

/// A bound listener and the app it will serve; binding first lets callers (tests, the load
/// harness) ask for port 0 and learn the real address before serving.
pub struct Server {
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
}

impl Server {
    pub async fn bind(addr: SocketAddr, state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        Ok(Self::with_listener(listener, state))
    }

    /// Serves on a listener bound earlier (so the configuration can name its real address).
    pub fn with_listener(listener: TcpListener, state: AppState) -> Self {
        let config = &state.config;
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
            max_connections_per_client: config.max_connections_per_client.max(1),
            proxies: config.trusted_proxies.iter().map(std::net::IpAddr::to_canonical).collect(),
            shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
        };
        Self { listener, app: build_app(state), limits }
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr().context("reading the bound address")
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        serve(self.listener, self.app, self.limits, shutdown).await;
        Ok(())
    }
}
