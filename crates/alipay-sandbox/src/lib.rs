//! An offline Alipay gateway that speaks the real protocol (OpenAPI v2, RSA2): page pay and wap pay
//! with a cashier page, signed browser returns, signed asynchronous notifications retried on
//! Alipay's schedule, `alipay.trade.query`, `.refund`, `.fastpay.refund.query`, `.close`, `.cancel`
//! with responses signed over their exact bytes, an inspection page and a test API.
//!
//! Mount the router anywhere (the shop uses `/sandbox/alipay/`); the gateway URL is
//! `<mount>/gateway.do`. Run [`Sandbox::spawn_delivery`] to deliver notifications and close
//! expired trades.
//!
//! ```no_run
//! # async fn f(app_public: alipay::PublicKeyRsa, alipay_private: alipay::PrivateKey) -> anyhow::Result<()> {
//! use alipay_sandbox::{Sandbox, StateLocation};
//! let (sandbox, router) = Sandbox::builder()
//!     .app("2021000000000000", app_public)
//!     .alipay_key(alipay_private)
//!     .time_scale(1.0)
//!     .state(StateLocation::File("data/alipay-sandbox.sqlite".into()))
//!     .build()
//!     .await?;
//! let _worker = sandbox.spawn_delivery();
//! let app = axum::Router::new().nest("/sandbox/alipay", router);
//! # let _ = app; Ok(()) }
//! ```

mod core;
mod deliver;
pub mod error;
mod gateway;
pub mod json;
pub mod keys;
pub mod model;
mod pages;
mod store;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alipay::{PrivateKey, PublicKeyRsa};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, Notify};

pub use crate::core::{NoticeView, PayOutcome, Snapshot};
pub use crate::error::{Error, Result};

/// Alipay's re-delivery intervals: immediately, then after 4m, 10m, 10m, 1h, 2h, 6h, 15h.
pub const DELIVERY_SCHEDULE: [Duration; 8] = [
    Duration::from_secs(0),
    Duration::from_secs(4 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(15 * 3600),
];

/// Default seller id put in notifications and returns.
pub const DEFAULT_SELLER_ID: &str = "2088102177000000";

/// Where the sandbox keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// Nothing survives a restart.
    InMemory,
    /// A SQLite file (created if missing); trades and pending deliveries continue after a restart.
    File(PathBuf),
}

/// Which events send a notification (page pay notifies payments by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifyOn {
    /// `TRADE_SUCCESS` when the buyer pays.
    pub payment: bool,
    /// Refunds: partial → `TRADE_SUCCESS` with `refund_fee`/`gmt_refund`/`out_biz_no`; full → `TRADE_CLOSED`.
    pub refund: bool,
    /// `TRADE_CLOSED` when an unpaid trade is closed (timeout, `alipay.trade.close`, cancel, the cashier's Close).
    pub close: bool,
}

impl Default for NotifyOn {
    fn default() -> Self {
        NotifyOn { payment: true, refund: true, close: false }
    }
}

impl std::str::FromStr for NotifyOn {
    type Err = Error;

    /// A comma-separated list of `payment`, `refund`, `close` (or `none`).
    ///
    /// ```
    /// let n: alipay_sandbox::NotifyOn = "payment,close".parse()?;
    /// assert!(n.payment && n.close && !n.refund);
    /// # Ok::<(), alipay_sandbox::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let mut n = NotifyOn { payment: false, refund: false, close: false };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "payment" => n.payment = true,
                "refund" => n.refund = true,
                "close" => n.close = true,
                "none" => {}
                other => return Err(Error::Config(format!("unknown notification trigger {other:?}"))),
            }
        }
        Ok(n)
    }
}

/// A registered merchant app.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub app_id: String,
    pub public_key: PublicKeyRsa,
}

/// Builds a [`Sandbox`]; see [`Sandbox::builder`].
#[derive(Debug)]
pub struct SandboxBuilder {
    apps: BTreeMap<String, PublicKeyRsa>,
    alipay_key: Option<PrivateKey>,
    time_scale: f64,
    state: StateLocation,
    notify_on: NotifyOn,
    timestamp_tolerance: Duration,
    seller_id: String,
    test_api: bool,
}

impl SandboxBuilder {
    /// Registers a merchant app and the public key its requests are verified with.
    pub fn app(mut self, app_id: impl Into<String>, public_key: PublicKeyRsa) -> Self {
        self.apps.insert(app_id.into(), public_key);
        self
    }

    /// The sandbox's own "Alipay" private key: it signs responses, notifications and returns.
    /// Merchants verify with its public key ([`Sandbox::alipay_public_key`]).
    pub fn alipay_key(mut self, key: PrivateKey) -> Self {
        self.alipay_key = Some(key);
        self
    }

    /// Multiplies the notification re-delivery intervals (e.g. `0.001`: 4 minutes become 240 ms).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// Where state lives (default: in memory).
    pub fn state(mut self, state: StateLocation) -> Self {
        self.state = state;
        self
    }

    /// Which events notify (default: payments and refunds).
    pub fn notify_on(mut self, notify_on: NotifyOn) -> Self {
        self.notify_on = notify_on;
        self
    }

    /// How far a request's `timestamp` (Beijing time) may be from the real clock (default 30 minutes).
    pub fn timestamp_tolerance(mut self, tolerance: Duration) -> Self {
        self.timestamp_tolerance = tolerance;
        self
    }

    /// The `seller_id` in notifications and returns (default [`DEFAULT_SELLER_ID`]).
    pub fn seller_id(mut self, seller_id: impl Into<String>) -> Self {
        self.seller_id = seller_id.into();
        self
    }

    /// Serves the test API under `test/` (default: on).
    pub fn test_api(mut self, enabled: bool) -> Self {
        self.test_api = enabled;
        self
    }

    /// Opens the state and returns the sandbox handle and its router.
    pub async fn build(self) -> Result<(Sandbox, Router)> {
        let alipay_key = self.alipay_key.ok_or_else(|| Error::Config("no Alipay private key (alipay_key)".into()))?;
        if !(self.time_scale.is_finite() && self.time_scale >= 0.0) {
            return Err(Error::Config(format!("time scale {} must be a finite number ≥ 0", self.time_scale)));
        }
        let alipay_public = alipay_key.public_key()?;
        let store = match &self.state {
            StateLocation::InMemory => None,
            StateLocation::File(path) => Some(store::Store::open(path).await?),
        };
        let loaded = match &store {
            Some(s) => s.load().await?,
            None => store::Loaded::default(),
        };
        let state = core::State::from_loaded(loaded);
        let http = deliver::http_client()?;
        let inner = Inner {
            apps: self
                .apps
                .into_iter()
                .map(|(app_id, public_key)| (app_id.clone(), App { app_id, public_key }))
                .collect(),
            alipay_key: Arc::new(alipay_key),
            alipay_public,
            time_scale: self.time_scale,
            notify_on: self.notify_on,
            timestamp_tolerance: self.timestamp_tolerance,
            seller_id: self.seller_id,
            state: Mutex::new(state),
            store,
            wake: Notify::new(),
            http,
        };
        let sandbox = Sandbox { inner: Arc::new(inner) };
        let router = gateway::router(sandbox.clone(), self.test_api);
        Ok((sandbox, router))
    }
}

pub(crate) struct Inner {
    pub apps: BTreeMap<String, App>,
    pub alipay_key: Arc<PrivateKey>,
    pub alipay_public: PublicKeyRsa,
    pub time_scale: f64,
    pub notify_on: NotifyOn,
    pub timestamp_tolerance: Duration,
    pub seller_id: String,
    pub state: Mutex<core::State>,
    pub store: Option<store::Store>,
    pub wake: Notify,
    pub http: reqwest::Client,
}

/// A running sandbox: cheap to clone; all clones share state.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("apps", &self.inner.apps.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            apps: BTreeMap::new(),
            alipay_key: None,
            time_scale: 1.0,
            state: StateLocation::InMemory,
            notify_on: NotifyOn::default(),
            timestamp_tolerance: Duration::from_secs(30 * 60),
            seller_id: DEFAULT_SELLER_ID.to_owned(),
            test_api: true,
        }
    }

    /// The public key merchants use to verify what the sandbox signs.
    pub fn alipay_public_key(&self) -> &PublicKeyRsa {
        &self.inner.alipay_public
    }

    /// The sandbox clock: the real time plus whatever [`Sandbox::advance`] added.
    pub async fn now(&self) -> DateTime<Utc> {
        self.inner.state.lock().await.now()
    }

    /// Moves the sandbox clock forward (due deliveries and timeouts then happen).
    pub async fn advance(&self, by: Duration) -> Result<()> {
        let ms = i64::try_from(by.as_millis()).map_err(|_| Error::Config("advance is too large".into()))?;
        let mut st = self.inner.state.lock().await;
        st.clock_offset_ms = st.clock_offset_ms.saturating_add(ms);
        if let Some(store) = &self.inner.store {
            store.set_meta("clock_offset_ms", &st.clock_offset_ms.to_string()).await?;
        }
        drop(st);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Makes the next `n` delivery attempts fail without sending anything (recorded as dropped).
    pub async fn drop_next_deliveries(&self, n: u32) -> Result<()> {
        let mut st = self.inner.state.lock().await;
        st.drop_next = n;
        if let Some(store) = &self.inner.store {
            store.set_meta("drop_next", &n.to_string()).await?;
        }
        Ok(())
    }

    /// Pays a `WAIT_BUYER_PAY` trade as the buyer would from the cashier.
    pub async fn pay(&self, app_id: &str, out_trade_no: &str) -> Result<PayOutcome> {
        let trade_no = self.trade_no_of(app_id, out_trade_no).await?;
        self.pay_trade_no(&trade_no).await.map_err(Error::Refused)
    }

    /// Closes a `WAIT_BUYER_PAY` trade (as a timeout would).
    pub async fn close(&self, app_id: &str, out_trade_no: &str) -> Result<()> {
        let trade_no = self.trade_no_of(app_id, out_trade_no).await?;
        self.close_trade_no(&trade_no).await.map_err(Error::Refused)
    }

    async fn trade_no_of(&self, app_id: &str, out_trade_no: &str) -> Result<String> {
        let st = self.inner.state.lock().await;
        st.trades.get(&model::trade_key(app_id, out_trade_no)).map(|t| t.trade_no.clone()).ok_or_else(|| {
            Error::Refused(format!("no trade {out_trade_no} for app {app_id} (was the cashier opened?)"))
        })
    }

    /// Everything the sandbox knows: trades, refunds, notifications with every attempt.
    pub async fn snapshot(&self) -> Snapshot {
        self.inner.state.lock().await.snapshot()
    }

    /// Spawns the background task that delivers notifications and closes expired trades.
    /// Abort the handle (or drop the runtime) to stop it; pending work resumes on the next start.
    pub fn spawn_delivery(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.clone().run_delivery())
    }
}

/// Serves `router` on `listener` until the task is dropped (a convenience for the binary and tests).
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}
