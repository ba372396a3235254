//! Test harness: key files, a sandbox served on a random port, a merchant that records deliveries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipay::{Client, Config, KeyMode, PrivateKey, PublicKeyRsa};
use alipay_sandbox::{Sandbox, SandboxBuilder, Snapshot};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use tokio::task::JoinHandle;

pub const APP_ID: &str = "2021000117600000";

pub fn data(name: &str) -> String {
    format!("{}/../alipay/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn app_private() -> PrivateKey {
    PrivateKey::from_file(data("app_private_pkcs8.pem")).unwrap()
}

pub fn app_public() -> PublicKeyRsa {
    PublicKeyRsa::from_file(data("app_public_spki.pem")).unwrap()
}

pub fn alipay_private() -> PrivateKey {
    PrivateKey::from_file(data("alipay_private_pkcs8.pem")).unwrap()
}

pub fn alipay_public() -> PublicKeyRsa {
    PublicKeyRsa::from_file(data("alipay_public_spki.pem")).unwrap()
}

/// The usual builder: one app, the test Alipay key, in memory.
pub fn builder(time_scale: f64) -> SandboxBuilder {
    Sandbox::builder().app(APP_ID, app_public()).alipay_key(alipay_private()).time_scale(time_scale)
}

/// A sandbox served on 127.0.0.1:random, with or without its delivery worker.
pub struct Running {
    pub sandbox: Sandbox,
    pub base: String,
    server: JoinHandle<()>,
    worker: Option<JoinHandle<()>>,
}

impl Running {
    pub async fn start(builder: SandboxBuilder, with_worker: bool) -> Running {
        Running::start_at(builder, with_worker, "").await
    }

    /// Serves the router nested under `prefix` (e.g. `/sandbox/alipay`, as the shop does).
    pub async fn start_at(builder: SandboxBuilder, with_worker: bool, prefix: &str) -> Running {
        let (sandbox, router) = builder.build().await.unwrap();
        let router = if prefix.is_empty() { router } else { Router::new().nest(prefix, router) };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}{prefix}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            alipay_sandbox::serve(listener, router).await.unwrap();
        });
        let worker = with_worker.then(|| sandbox.spawn_delivery());
        Running { sandbox, base, server, worker }
    }

    pub fn gateway(&self) -> String {
        format!("{}/gateway.do", self.base)
    }

    /// Our `alipay` client pointed at this sandbox.
    pub fn client(&self, merchant: &Merchant) -> Client {
        Client::new(
            Config::new(APP_ID, app_private(), KeyMode::PublicKey(alipay_public()))
                .with_gateway(self.gateway())
                .with_notify_url(format!("{}/notify", merchant.base))
                .with_return_url(format!("{}/return", merchant.base)),
        )
        .unwrap()
    }

    /// Polls the sandbox's state until `done` holds (at most 10 s), and returns that state.
    pub async fn until(&self, what: &str, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let snapshot = self.sandbox.snapshot().await;
            if done(&snapshot) {
                return snapshot;
            }
            assert!(Instant::now() < end, "{what}: not within 10 s; the sandbox holds {snapshot:#?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Kills the sandbox: the server and the worker stop, in-flight work is lost.
    pub async fn kill(self) {
        self.server.abort();
        if let Some(w) = self.worker {
            w.abort();
            let _ = w.await;
        }
        let _ = self.server.await;
    }
}

/// A delivery the merchant received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub body: String,
}

type Replies = Arc<dyn Fn(usize) -> String + Send + Sync>;

#[derive(Clone)]
struct MerchantState {
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    returns: Arc<Mutex<Vec<String>>>,
    replies: Replies,
    /// Never answer the first delivery (it stays in flight until the sandbox dies).
    hang_on_first: bool,
}

/// A merchant on 127.0.0.1:random: `POST /notify` records the body and answers `replies(n)`
/// (n = 0-based delivery count); `GET /return` records the query.
pub struct Merchant {
    pub base: String,
    state: MerchantState,
    _server: JoinHandle<()>,
}

impl Merchant {
    pub async fn start(replies: impl Fn(usize) -> String + Send + Sync + 'static) -> Merchant {
        Merchant::serve(Arc::new(replies), false).await
    }

    /// Receives the first delivery and never answers it; answers `success` afterwards.
    pub async fn hanging_on_first() -> Merchant {
        Merchant::serve(Arc::new(|_| "success".to_owned()), true).await
    }

    async fn serve(replies: Replies, hang_on_first: bool) -> Merchant {
        let state = MerchantState { deliveries: Arc::default(), returns: Arc::default(), replies, hang_on_first };
        let app =
            Router::new().route("/notify", post(notify)).route("/return", get(returned)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Merchant { base, state, _server: server }
    }

    pub async fn always_success() -> Merchant {
        Merchant::start(|_| "success".to_owned()).await
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.deliveries.lock().unwrap().clone()
    }

    pub fn returns(&self) -> Vec<String> {
        self.state.returns.lock().unwrap().clone()
    }

    /// Waits until at least `n` deliveries arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let end = Instant::now() + timeout;
        loop {
            let d = self.deliveries();
            if d.len() >= n {
                return d;
            }
            assert!(Instant::now() < end, "only {} of {n} deliveries after {timeout:?}", d.len());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn notify(State(s): State<MerchantState>, body: String) -> String {
    let n = {
        let mut d = s.deliveries.lock().unwrap();
        d.push(Delivery { body });
        d.len() - 1
    };
    if n == 0 && s.hang_on_first {
        std::future::pending::<()>().await;
    }
    (s.replies)(n)
}

async fn returned(State(s): State<MerchantState>, RawQuery(q): RawQuery) -> &'static str {
    s.returns.lock().unwrap().push(q.unwrap_or_default());
    "thanks"
}

/// A plain HTTP client that does not follow redirects.
pub fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider in this workspace: take the alipay crate's.
    alipay::https_client_builder().unwrap().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Opens the cashier (GET the page-pay URL) and returns the page.
pub async fn open_cashier(url: &str) -> (u16, String) {
    let r = http().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The trade number shown on a cashier page.
pub fn trade_no_on(page: &str) -> String {
    let start = page.find("name=\"trade_no\" value=\"").expect("a Pay form") + "name=\"trade_no\" value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Presses Pay: returns the status and the Location header.
pub async fn press_pay(base: &str, trade_no: &str) -> (u16, Option<String>) {
    let r = http().post(format!("{base}/cashier/pay")).form(&[("trade_no", trade_no)]).send().await.unwrap();
    let loc = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), loc)
}

/// Page pay end to end without the merchant: URL → cashier → Pay. Returns the return URL.
pub async fn page_pay_and_pay(run: &Running, client: &Client, order: &alipay::PagePay) -> String {
    let url = client.page_pay_url(order).unwrap();
    let (status, page) = open_cashier(&url).await;
    assert_eq!(status, 200, "{page}");
    let (status, loc) = press_pay(&run.base, &trade_no_on(&page)).await;
    assert_eq!(status, 303);
    loc.unwrap()
}

/// Field value of a form body.
pub fn field(body: &str, name: &str) -> Option<String> {
    alipay::sign::parse_form(body).unwrap().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}
