//! `TestApp`: the real router over a private database, built one way for every test: in-process
//! (requests go through the router, no socket) or served on a free port of 127.0.0.1 (for what
//! depends on a real connection: the sandbox's callbacks, several instances, timeouts); with
//! fixed test keys and an unreachable gateway, or with the built-in Alipay sandbox; always with a
//! clock the test moves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use shop::accounts::sms::LogSms;
use shop::config::Secret;
use shop::secrets::Keys;
use shop::{AppState, Config};

use super::{TEST_APP_ID, TEST_SECRET, TestClock, TestDatabase, TestResponse, call, test_key};

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub db: DatabaseConnection,
    pub config: Config,
    /// Where the log SMS provider puts codes.
    pub sms: Arc<LogSms>,
    /// The shop's clock (shared by every instance of the shop).
    pub clock: Arc<TestClock>,
    pub failpoints: Arc<shop::failpoints::FailPoints>,
    /// The routes the router was built with, and their kind.
    pub inventory: Vec<(String, shop::http::routes::RouteKind)>,
    /// Served: the server's address (`http://127.0.0.1:port`). In-process: the origin requests
    /// name in their `Host` header.
    pub base: String,
    /// A client that follows no redirects, for the served app and the sandbox's pages.
    pub http: reqwest::Client,
    /// The data directory (generated keys, media).
    pub data: tempfile::TempDir,
    statements: Arc<AtomicUsize>,
    database_url: String,
    /// The first instance owns the database; its `Drop` removes it.
    _database: Option<TestDatabase>,
}

/// Connections in a test shop's pool.
const POOL_SIZE: u32 = 5;

/// How a `TestApp` is built: `TestApp::builder()`, then what differs from the defaults.
pub struct TestAppBuilder<F> {
    adjust: F,
    configured_services: bool,
    sandbox: bool,
}

impl TestApp {
    /// A migrated, empty database behind the real router.
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::builder().config(adjust).build().await
    }

    /// The services `mxshop serve` builds from the configuration (e.g. the Yunpian SMS client),
    /// instead of the log provider tests read codes from.
    pub async fn with_configured_services(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::builder().config(adjust).configured_services().build().await
    }

    /// The real server on a free port, with the built-in sandbox mounted.
    pub async fn served() -> Self {
        Self::builder().sandbox().serve().await
    }

    pub fn builder() -> TestAppBuilder<fn(&mut Config)> {
        TestAppBuilder { adjust: |_| {}, configured_services: false, sandbox: false }
    }
}

impl<F: FnOnce(&mut Config)> TestAppBuilder<F> {
    /// Changes to the test configuration, applied last.
    pub fn config<G: FnOnce(&mut Config)>(self, adjust: G) -> TestAppBuilder<G> {
        TestAppBuilder { adjust, configured_services: self.configured_services, sandbox: self.sandbox }
    }

    pub fn configured_services(self) -> Self {
        Self { configured_services: true, ..self }
    }

    /// The built-in Alipay sandbox, with keys generated in the data directory as `mxshop serve`
    /// does (instead of the fixed test keys and a gateway nobody answers at).
    pub fn sandbox(self) -> Self {
        Self { sandbox: true, ..self }
    }

    /// In-process: requests go through the router.
    pub async fn build(self) -> TestApp {
        let database = TestDatabase::create().await;
        let url = database.url.clone();
        let data = tempfile::tempdir().expect("data dir");
        self.launch(None, Some(database), url, POOL_SIZE, Arc::new(TestClock::default()), data).await
    }

    /// In-process, on the database at `url`, which the caller made and drops, over one pooled
    /// connection: its statements are prepared once, as on a shop that has been running.
    pub async fn build_at(self, url: String) -> TestApp {
        let data = tempfile::tempdir().expect("data dir");
        self.launch(None, None, url, 1, Arc::new(TestClock::default()), data).await
    }

    /// On a free port of 127.0.0.1, served as `mxshop serve` serves.
    pub async fn serve(self) -> TestApp {
        let database = TestDatabase::create().await;
        let url = database.url.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let data = tempfile::tempdir().expect("data dir");
        self.launch(Some(listener), Some(database), url, POOL_SIZE, Arc::new(TestClock::default()), data).await
    }

    async fn launch(
        self,
        listener: Option<tokio::net::TcpListener>,
        database: Option<TestDatabase>,
        database_url: String,
        connections: u32,
        clock: Arc<TestClock>,
        data: tempfile::TempDir,
    ) -> TestApp {
        // Server logs go to the test's captured output: shown when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,shop=info"))
            .with_test_writer()
            .try_init();
        let mut db = shop::db::connect(&database_url, connections).await.expect("connect to the test database");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        shop::db::migrate(&db).await.expect("migrate");
        let mut config = Config {
            data_dir: data.path().to_path_buf(),
            frontend_dir: data.path().join("frontend"),
            secret_key: Some(Secret::new(TEST_SECRET)),
            // Tests see every change at once; `catalogue_reads_are_cached_briefly` turns it on.
            catalog_cache_ms: 0,
            ..Config::default()
        };
        if let Some(listener) = &listener {
            config.listen = listener.local_addr().expect("bound");
        }
        if !self.sandbox {
            config.alipay = shop::config::AlipayConfig {
                // Fixed test keys (no key generation per test); tests that pay point `gateway` at
                // a sandbox of their own.
                gateway: "http://127.0.0.1:9/gateway.do".into(),
                app_id: TEST_APP_ID.into(),
                app_private_key_file: Some(test_key("app_private_pkcs8.pem")),
                alipay_public_key_file: Some(test_key("alipay_public_spki.pem")),
                ..Default::default()
            };
        }
        (self.adjust)(&mut config);
        let sms = Arc::new(LogSms::default());
        let state = if self.configured_services {
            AppState::new(db.clone(), config.clone()).await.expect("state from configuration")
        } else if self.sandbox {
            assert_eq!(config.alipay.gateway, "builtin");
            AppState::new(db.clone(), config.clone()).await.expect("state").with_sms(sms.clone())
        } else {
            let http = shop::outbound::http_client().expect("HTTP client");
            AppState::with_services(db.clone(), config.clone(), Keys::load(&config).expect("keys"), sms.clone(), http)
                .expect("state")
        };
        let state = state.with_clock(clock.clone());
        let failpoints = state.failpoints.clone();
        let inventory = shop::app::route_inventory(&state);
        let router = shop::build_app(state.clone());
        let base = match listener {
            Some(listener) => {
                let base = format!("http://{}", listener.local_addr().expect("bound"));
                tokio::spawn(shop::Server::with_listener(listener, state.clone()).run(std::future::pending()));
                base
            }
            None => "http://127.0.0.1:8000".to_owned(),
        };
        let http = shop::outbound::http_client_builder()
            .expect("HTTP client")
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        TestApp {
            router,
            state,
            db,
            config,
            sms,
            clock,
            failpoints,
            inventory,
            base,
            http,
            data,
            statements,
            database_url,
            _database: database,
        }
    }
}

impl TestApp {
    /// Another served instance of the same shop: the same database, clock and Alipay (this
    /// instance's sandbox, reached through `public_url`, with the same keys); its own port, data
    /// directory and job runner.
    pub async fn second_instance(&self) -> Self {
        let data = tempfile::tempdir().expect("data dir");
        std::fs::create_dir_all(data.path().join("alipay")).expect("key dir");
        for key in ["app_private_key.pem", "sandbox_alipay_private_key.pem"] {
            std::fs::copy(self.data.path().join("alipay").join(key), data.path().join("alipay").join(key))
                .expect("copy a key");
        }
        let public = self.base.clone();
        let first = self.config.clone();
        let builder = TestApp::builder().sandbox().config(move |config: &mut Config| {
            // The same shop: the same settings, but its own address and data directory.
            *config = Config {
                listen: config.listen,
                data_dir: config.data_dir.clone(),
                frontend_dir: config.frontend_dir.clone(),
                ..first
            };
            config.alipay.public_url = Some(public);
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        builder.launch(Some(listener), None, self.database_url.clone(), POOL_SIZE, self.clock.clone(), data).await
    }

    /// A JSON request over HTTP to the served app: its status and body (`null` when not JSON).
    pub async fn fetch(&self, method: Method, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the served app answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The demo catalogue, seeded the way `mxshop serve` does.
    pub async fn with_demo() -> Self {
        let app = Self::new().await;
        let seeded = shop::demo::seed_if_empty(&app.db, &app.config.media_dir()).await.expect("seed");
        assert!(seeded);
        app
    }

    /// SQL statements run so far on this app's pool.
    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        call(self.router.clone(), request).await
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, &[]).await
    }

    pub async fn send(&self, method: Method, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
            builder = builder.header("host", "127.0.0.1:8000");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Body::empty()).expect("request")).await
    }

    /// A JSON request, with a Bearer token when given.
    pub async fn json(&self, method: Method, uri: &str, body: &Value, token: Option<&str>) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8000")
            .header("content-type", "application/json");
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        self.request(builder.body(Body::from(body.to_string())).expect("request")).await
    }

    /// A body-less request with a Bearer token.
    pub async fn authed(&self, method: Method, uri: &str, token: &str) -> TestResponse {
        self.send(method, uri, &[("authorization", &format!("Bearer {token}"))]).await
    }

    /// A multipart request: `(name, Some(file name), bytes)` for files, `(name, None, text)` for text.
    pub async fn multipart(&self, uri: &str, parts: &[(&str, Option<&str>, &[u8])], token: &str) -> TestResponse {
        let boundary = "----mxshopTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, file_name, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file_name {
                Some(file_name) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("host", "127.0.0.1:8000")
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .header("content-length", body.len())
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request");
        self.request(request).await
    }

    /// A user created directly (as `mxshop user create` does; staff when `superuser`) and a token
    /// for it, for tests that need many users without going through the rate-limited registration.
    pub async fn user(&self, username: &str, superuser: bool) -> String {
        let user = shop::accounts::users::create_user(&self.db, username, None, "pw123456".into(), superuser)
            .await
            .expect("create user");
        shop::accounts::tokens::issue(&Keys::from_secret(TEST_SECRET), &user, 3600).expect("token")
    }

    /// The id of the user a token was issued for.
    pub fn user_id(token: &str) -> i32 {
        let keys = Keys::from_secret(TEST_SECRET);
        shop::accounts::tokens::verify(&keys, token).expect("a valid token").user_id
    }

    /// Sends a code to `mobile` and registers with it; returns the token.
    pub async fn register(&self, mobile: &str, password: &str) -> String {
        self.json(Method::POST, "/code/", &serde_json::json!({"mobile": mobile}), None).await.assert_status(201);
        let code = self.sms.last_code(mobile).expect("a code was sent");
        let response = self
            .json(
                Method::POST,
                "/users/",
                &serde_json::json!({"username": mobile, "password": password, "code": code}),
                None,
            )
            .await;
        response.assert_status(201);
        response.json()["token"].as_str().expect("token").to_owned()
    }

    pub async fn post(&self, uri: &str, content_type: &str, body: &str) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("host", "127.0.0.1:8000")
            .header("content-type", content_type)
            .header("content-length", body.len())
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.request(request).await
    }
}
