//! `TestApp`: the real router over a real, private database — SQLite by default, PostgreSQL when
//! `MXSHOP_TEST_POSTGRES_URL` is set, MySQL/MariaDB when `MXSHOP_TEST_MYSQL_URL` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::NaiveDateTime;
use http_body_util::BodyExt;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::Value;
use shop::accounts::sms::LogSms;
use shop::config::Secret;
use shop::db::entities::{banner, brand, category, goods, goods_image, hot_search_word, index_ad};
use shop::secrets::Keys;
use shop::{AppState, Config};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// The backend this run tests, from the environment. Setting both server URLs is refused so a run
/// never silently tests less than it claims.
pub fn backend() -> (Backend, Option<String>) {
    let postgres = std::env::var("MXSHOP_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty());
    let mysql = std::env::var("MXSHOP_TEST_MYSQL_URL").ok().filter(|v| !v.is_empty());
    match (postgres, mysql) {
        (Some(_), Some(_)) => {
            panic!("set MXSHOP_TEST_POSTGRES_URL or MXSHOP_TEST_MYSQL_URL, not both, per run")
        }
        (Some(url), None) => (Backend::Postgres, Some(url)),
        (None, Some(url)) => (Backend::MySql, Some(url)),
        (None, None) => (Backend::Sqlite, None),
    }
}

static DATABASE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database made for one test and dropped after it.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: String,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let (backend, admin_url) = backend();
        Self::create_on(backend, admin_url).await
    }

    /// A database of its own on `backend` (at the server `admin_url` unless SQLite), whatever the
    /// run's backend.
    pub async fn create_on(backend: Backend, admin_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = format!(
            "mxshop_t_{}_{}_{}",
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let url = match (&backend, &admin_url) {
            (Backend::Sqlite, _) => {
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display())
            }
            (_, Some(admin)) => {
                let admin_db = sea_orm::Database::connect(admin.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach the test database server at {admin}: {e}"));
                let create = match backend {
                    Backend::MySql => {
                        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                    }
                    _ => format!("CREATE DATABASE {name}"),
                };
                admin_db.execute_unprepared(&create).await.expect("create test database");
                admin_db.close().await.expect("close admin connection");
                replace_database(admin, &name)
            }
            (_, None) => unreachable!("server backends always have a URL"),
        };
        Self { url, backend, admin_url, name, _dir: dir }
    }
}

/// `scheme://user@host:port/old?params` → the same with database `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin) = self.admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        let backend = self.backend;
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread of our own.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let Ok(db) = sea_orm::Database::connect(admin.as_str()).await else { return };
                if backend == Backend::MySql {
                    // The test's pool is still open; its idle connections would hold DROP up.
                    let ids = db
                        .query_all_raw(sea_orm::Statement::from_string(
                            sea_orm::DbBackend::MySql,
                            format!("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '{name}'"),
                        ))
                        .await
                        .unwrap_or_default();
                    for row in ids {
                        if let Ok(id) = row.try_get::<u64>("", "id") {
                            let _ = db.execute_unprepared(&format!("KILL {id}")).await;
                        }
                    }
                }
                let drop_sql = match backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = db.execute_unprepared(&drop_sql).await;
                let _ = db.close().await;
            });
        });
        let _ = handle.join();
    }
}

pub const TEST_APP_ID: &str = "2021000000000042";

/// A key pair of the `alipay` crate's test data: `app_*` is the shop's, `alipay_*` plays Alipay.
pub fn test_key(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../alipay/tests/data").join(name)
}

/// The key tests sign tokens with (the app is configured with it).
pub const TEST_SECRET: &str = "test-secret-key-0123456789abcdef0123456789";

/// The shop's clock in tests: the machine's time plus what `advance` added. Tests move it forward
/// to make orders, codes and refunds old, instead of back-dating their rows.
#[derive(Default)]
pub struct TestClock {
    ahead_secs: std::sync::atomic::AtomicI64,
}

impl TestClock {
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.ahead_secs.fetch_add(by.num_seconds(), Ordering::SeqCst);
    }
}

impl shop::clock::Clock for TestClock {
    fn now(&self) -> NaiveDateTime {
        shop::clock::now_utc() + chrono::TimeDelta::seconds(self.ahead_secs.load(Ordering::SeqCst))
    }
}

pub struct TestApp {
    pub router: Router,
    pub db: DatabaseConnection,
    pub config: Config,
    /// Where the log SMS provider puts codes.
    pub sms: Arc<LogSms>,
    /// The shop's clock.
    pub clock: Arc<TestClock>,
    pub failpoints: Arc<shop::failpoints::FailPoints>,
    /// The routes the router was built with, and their kind.
    pub inventory: Vec<(String, shop::http::routes::RouteKind)>,
    statements: Arc<AtomicUsize>,
    /// Kept for its `Drop`, which removes the database.
    _database: TestDatabase,
}

impl TestApp {
    /// A migrated, empty database behind the real router.
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(adjust, false).await
    }

    /// The services `mxshop serve` builds from the configuration (e.g. the Yunpian SMS client),
    /// instead of the log provider tests read codes from.
    pub async fn with_configured_services(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::build(adjust, true).await
    }

    async fn build(adjust: impl FnOnce(&mut Config), configured_services: bool) -> Self {
        // Server logs go to the test's captured output: shown when a test fails.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,shop=info"))
            .with_test_writer()
            .try_init();
        let database = TestDatabase::create().await;
        let mut db = shop::db::connect(&database.url, 5).await.expect("connect to the test database");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        shop::db::migrate(&db).await.expect("migrate");
        let mut config = Config {
            data_dir: database._dir.path().to_path_buf(),
            frontend_dir: database._dir.path().join("frontend"),
            secret_key: Some(Secret::new(TEST_SECRET)),
            // Tests see every change at once; `catalogue_reads_are_cached_briefly` turns it on.
            catalog_cache_ms: 0,
            alipay: shop::config::AlipayConfig {
                // Fixed test keys (no key generation per test); tests that pay point `gateway` at
                // a sandbox of their own.
                gateway: "http://127.0.0.1:9/gateway.do".into(),
                app_id: TEST_APP_ID.into(),
                app_private_key_file: Some(test_key("app_private_pkcs8.pem")),
                alipay_public_key_file: Some(test_key("alipay_public_spki.pem")),
                ..Default::default()
            },
            ..Config::default()
        };
        adjust(&mut config);
        let sms = Arc::new(LogSms::default());
        let state = if configured_services {
            AppState::new(db.clone(), config.clone()).await.expect("state from configuration")
        } else {
            let http = shop::outbound::http_client().expect("HTTP client");
            AppState::with_services(db.clone(), config.clone(), Keys::load(&config).expect("keys"), sms.clone(), http)
                .expect("state")
        };
        let clock = Arc::new(TestClock::default());
        let state = state.with_clock(clock.clone());
        let failpoints = state.failpoints.clone();
        let inventory = shop::app::route_inventory(&state);
        let router = shop::build_app(state);
        Self { router, db, config, sms, clock, failpoints, inventory, statements, _database: database }
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

    /// A user created directly (as `mxshop user create` does) and a token for it, for tests that
    /// need many users without going through the rate-limited registration.
    pub async fn user_token(&self, username: &str) -> String {
        let user = shop::accounts::users::create_user(&self.db, username, None, "pw123456".into(), false)
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

/// Sends one request through a router and reads the whole response.
pub async fn call(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("read body").to_bytes().to_vec();
    TestResponse { status, headers, body }
}

/// A GET for `uri` through `router`, for tests that spawn concurrent requests.
pub async fn send_to(router: Router, uri: String) -> TestResponse {
    let request = Request::builder().uri(uri).header("host", "127.0.0.1:8000").body(Body::empty()).expect("request");
    call(router, request).await
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status.as_u16(), expected, "body: {}", self.text());
        self
    }
}

/// Hand-made catalogue rows for tests that need exact values.
pub struct Fixture<'a> {
    pub db: &'a DatabaseConnection,
}

pub fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time")
}

impl Fixture<'_> {
    pub async fn category(&self, name: &str, level: i16, parent: Option<i32>, is_tab: bool) -> i32 {
        category::Entity::insert(category::ActiveModel {
            name: Set(name.into()),
            code: Set(format!("c-{name}")),
            description: Set(format!("{name} desc")),
            category_type: Set(level),
            parent_id: Set(parent),
            is_tab: Set(is_tab),
            add_time: Set(time("2018-05-03 14:59:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert category")
        .last_insert_id
    }

    /// A goods with the given name, category and price; everything else plain.
    pub async fn goods(&self, name: &str, category_id: i32, shop_price_fen: i64) -> i32 {
        self.goods_with(name, category_id, shop_price_fen, |_| {}).await
    }

    pub async fn goods_with(
        &self,
        name: &str,
        category_id: i32,
        shop_price_fen: i64,
        adjust: impl FnOnce(&mut goods::ActiveModel),
    ) -> i32 {
        let mut model = goods::ActiveModel {
            category_id: Set(category_id),
            goods_sn: Set(format!("sn-{name}-{}", rand::random::<u32>())),
            name: Set(name.into()),
            click_num: Set(0),
            sold_num: Set(0),
            fav_num: Set(0),
            goods_num: Set(10),
            market_price_fen: Set(shop_price_fen * 2),
            shop_price_fen: Set(shop_price_fen),
            goods_brief: Set(String::new()),
            goods_desc: Set(String::new()),
            ship_free: Set(false),
            goods_front_image: Set(Some(format!("goods/images/{name}.png"))),
            is_new: Set(false),
            is_hot: Set(false),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        };
        adjust(&mut model);
        goods::Entity::insert(model).exec(self.db).await.expect("insert goods").last_insert_id
    }

    pub async fn image(&self, goods_id: i32, name: &str) {
        goods_image::Entity::insert(goods_image::ActiveModel {
            goods_id: Set(goods_id),
            image: Set(Some(name.into())),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert image");
    }

    pub async fn banner(&self, goods_id: i32, image: &str, index: i32) -> i32 {
        banner::Entity::insert(banner::ActiveModel {
            goods_id: Set(goods_id),
            image: Set(image.into()),
            sort_index: Set(index),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert banner")
        .last_insert_id
    }

    pub async fn brand(&self, name: &str, category_id: i32) -> i32 {
        brand::Entity::insert(brand::ActiveModel {
            category_id: Set(Some(category_id)),
            name: Set(name.into()),
            description: Set("出版社".into()),
            image: Set(Some(format!("brands/{name}.png"))),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert brand")
        .last_insert_id
    }

    pub async fn hot_word(&self, keywords: &str, index: i32) -> i32 {
        hot_search_word::Entity::insert(hot_search_word::ActiveModel {
            keywords: Set(keywords.into()),
            sort_index: Set(index),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert hot word")
        .last_insert_id
    }

    pub async fn index_ad(&self, category_id: i32, goods_id: i32) {
        index_ad::Entity::insert(index_ad::ActiveModel {
            category_id: Set(category_id),
            goods_id: Set(goods_id),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert index ad");
    }
}

impl TestApp {
    pub fn fixture(&self) -> Fixture<'_> {
        Fixture { db: &self.db }
    }
}
