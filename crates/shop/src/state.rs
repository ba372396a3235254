//! The application state: the services every handler can reach (database, configuration, keys,
//! SMS, payments, caches, the catalogue in memory), built once from the configuration.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::accounts::sms::{self, SmsSender};
use crate::accounts::user_cache::UserCache;
use crate::catalog::catalogue::Catalogue;
use crate::catalog::categories::CategoryCache;
use crate::catalog::detail::GoodsDetails;
use crate::catalog::goods::GoodsSource;
use crate::catalog::views::GoodsViews;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::failpoints::FailPoints;
use crate::http::cache::ResponseCache;
use crate::outbound;
use crate::payments::{self, Payments};
use crate::secrets::Keys;

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
    /// The time the shop's rules go by (see `clock::Clock`).
    pub clock: Arc<dyn Clock>,
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

    /// This state on another clock (tests move theirs forward instead of back-dating rows).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        let payments = Arc::new(self.payments.with_clock(clock.clone()));
        Services { clock, payments, ..self.into_services() }.into()
    }

    /// The services, copied only if another handle to this state is alive.
    pub(crate) fn into_services(self) -> Services {
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
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let gateway = Arc::new(payments::gateway::client(&config, http)?);
        let payments = Payments::new(&config, gateway, clock.clone())?;
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
            clock,
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
