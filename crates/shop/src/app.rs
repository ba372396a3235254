//! The application: shared state, `build_app` (the one router) and `Server` (bind, report, serve).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::accounts::sms::{self, SmsSender};
use crate::accounts::user_cache::UserCache;
use crate::catalog::catalogue::Catalogue;
use crate::catalog::categories::CategoryCache;
use crate::catalog::detail::GoodsDetails;
use crate::catalog::goods::GoodsSource;
use crate::catalog::views::GoodsViews;
use crate::config::Config;
use crate::failpoints::FailPoints;
use crate::http::cache::{ResponseCache, cache_catalogue};
use crate::http::conventions::{cors, drf_error_bodies, observe_requests, page_security_headers, run_to_completion};
use crate::http::routes::{RouteKind, Routes};
use crate::http::serve::{ConnectionLimits, serve};
use crate::payments::{self, Payments};
use crate::secrets::Keys;
use crate::{accounts, catalog, member, outbound, storefront, trade, web};

/// What every handler can reach: one `Arc` around the services, because axum clones the state for
/// every extractor and a clone of twenty `Arc`s was a third of a cached request's CPU.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl From<Services> for AppState {
    fn from(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

/// The services behind `AppState`.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Host (and port) used in absolute URLs when a request has no usable `Host` header.
    pub public_host: String,
    pub keys: Arc<Keys>,
    pub sms: Arc<dyn SmsSender>,
    pub payments: Arc<Payments>,
    /// Short-lived copies of catalogue reads (see `http::cache`).
    pub catalog_cache: Arc<ResponseCache>,
    /// Users recently authenticated (see `accounts::user_cache`).
    pub users: Arc<UserCache>,
    /// The goods held in memory for lists (see `catalog::snapshot`).
    pub catalogue: Arc<Catalogue>,
    /// The category tree, read once per catalogue cache period (see `catalog::categories`).
    pub categories: Arc<CategoryCache>,
    /// Goods views not yet written (see `catalog::views`).
    pub goods_views: Arc<GoodsViews>,
    /// The API's goods details, read once per batch of views (see `catalog::detail`).
    pub goods_details: Arc<GoodsDetails>,
    /// The built-in Alipay sandbox, mounted at `/sandbox/alipay/` when configured.
    pub sandbox: Option<payments::gateway::BuiltinSandbox>,
    /// Armed only by tests.
    pub failpoints: Arc<FailPoints>,
    /// The OpenAPI document of this router, as served at `/api/openapi.json`.
    pub api_document: axum::body::Bytes,
    /// What `/ready/` answers.
    pub readiness: Arc<crate::readiness::Readiness>,
}

impl AppState {
    /// The state for `config`: its secret key (generated in the data directory if unset), its SMS
    /// provider, its Alipay client and, with `gateway = "builtin"`, the running sandbox.
    pub async fn new(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
        let keys = Keys::load(&config)?;
        let http = outbound::http_client()?;
        let sms = sms::from_config(&config.sms, http.clone())?;
        let sandbox = payments::gateway::builtin_sandbox(&config).await?;
        let services = Self::with_services(db, config, keys, sms, http)?.into_services();
        Ok(Services { sandbox, ..services }.into())
    }

    /// This state with its SMS provider replaced (tests pass a `LogSms` they can read).
    pub fn with_sms(self, sms: Arc<dyn SmsSender>) -> Self {
        Services { sms, ..self.into_services() }.into()
    }

    /// The services, copied only if another handle to this state is alive.
    fn into_services(self) -> Services {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| Services::clone(&shared))
    }

    /// The state with the given SMS provider (tests pass a `LogSms` they can read).
    pub fn with_services(
        db: DatabaseConnection,
        config: Config,
        keys: Keys,
        sms: Arc<dyn SmsSender>,
        http: reqwest::Client,
    ) -> anyhow::Result<Self> {
        let payments = Payments::new(&config, payments::gateway::client(&config, http)?)?;
        let catalog_cache = ResponseCache::new(
            Duration::from_millis(config.catalog_cache_ms),
            config.catalog_cache_bytes,
            config.own_hosts(),
        );
        let goods_views = GoodsViews::new(Duration::from_millis(config.catalog_cache_ms));
        // A copy lives one period at most: a quarter of the catalogue cache's budget is plenty.
        let goods_details = GoodsDetails::new(
            config.own_hosts(),
            config.catalog_cache_bytes / 4,
            Duration::from_millis(config.catalog_cache_ms),
        );
        let users = UserCache::new(Duration::from_millis(config.auth_cache_ms));
        let categories = CategoryCache::new(Duration::from_millis(config.catalog_cache_ms));
        let catalogue = Catalogue::new(Duration::from_millis(config.catalog_cache_ms));
        let public_host = config.listen.to_string();
        Ok(Self::from(Services {
            db,
            config: Arc::new(config),
            public_host,
            keys: Arc::new(keys),
            sms,
            payments: Arc::new(payments),
            catalog_cache: Arc::new(catalog_cache),
            users: Arc::new(users),
            catalogue: Arc::new(catalogue),
            categories: Arc::new(categories),
            goods_views: Arc::new(goods_views),
            goods_details: Arc::new(goods_details),
            sandbox: None,
            failpoints: Arc::default(),
            api_document: axum::body::Bytes::new(),
            readiness: Arc::default(),
        }))
    }
}

impl AppState {
    /// Where goods are read from (the catalogue in memory, the category tree, the database).
    pub fn goods(&self) -> GoodsSource<'_> {
        GoodsSource { db: &self.db, catalogue: &self.catalogue, categories: &self.categories }
    }
}

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
