//! Operations: the generated API document against the router, metrics after a real shopping flow,
//! readiness, request ids in the logs, graceful shutdown, `check-config` and every setting from
//! the environment. Whatever depends on how the server runs is tested on the spawned binary.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};
use shop::http::routes::RouteKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{Shop, Start};
use crate::support::{Relay, RelayedDatabase, TestApp};

/// Registered routes that are not API and so not in the document, each for a reason.
const NOT_API: &[&str] = &[
    "/",                 // the landing page or the installed front end
    "/index/",           // the Vue single-page app
    "/api/",             // DRF's browsable root: a list of links
    "/docs/",            // the docs UI
    "/docs/{file}",      // its scripts and styles
    "/favicon.ico",      // an icon
    "/api/openapi.json", // the document itself
];
/// File prefixes: static files, media, the built-in sandbox (a gateway of its own).
const FILES: &[&str] = &["/static", "/index/static", "/media", "/sandbox/alipay"];
const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

#[tokio::test]
async fn the_api_document_covers_every_route_and_nothing_else() {
    let app = TestApp::with_config(|config| config.alipay.gateway = "builtin".into()).await;
    let response = app.get("/api/openapi.json").await;
    response.assert_status(200);
    let document = response.json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");

    let mut documented_routes = BTreeSet::new();
    for (path, kind) in &app.inventory {
        match kind {
            RouteKind::Api | RouteKind::Operation => {
                assert!(paths.contains_key(path), "{path} is registered but not documented");
                documented_routes.insert(path.clone());
            }
            // The built-in storefront's pages are HTML for people, not API.
            RouteKind::Page if path.starts_with("/shop/") => {}
            RouteKind::Page => {
                assert!(NOT_API.contains(&path.as_str()), "new page route {path}: document it or list it")
            }
            RouteKind::Files => assert!(FILES.contains(&path.as_str()), "new file prefix {path}: list it"),
        }
    }
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    assert_eq!(documented, documented_routes, "the document names paths the router does not have");
    assert!(documented.len() >= 26, "{documented:?}");

    // Each documented method is routed, each other method is 405; operations that require a
    // token refuse an anonymous request, the others do not.
    for (path, item) in paths {
        let uri = path.replace("{id}", "1");
        for method in METHODS {
            let operation = &item[method.as_str().to_ascii_lowercase()];
            let status = app.send(method.clone(), &uri, &[]).await.status.as_u16();
            if operation.is_null() {
                assert_eq!(status, 405, "{method} {path} is answered but not documented");
                continue;
            }
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            let schemes = operation["security"].as_array().cloned().unwrap_or_default();
            let token_required =
                !schemes.is_empty() && !schemes.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            if token_required {
                assert_eq!(status, 401, "{method} {path} says it needs a token");
            } else {
                assert_ne!(status, 401, "{method} {path} needs a token it does not document");
            }
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| r.keys().any(|code| code.starts_with('2') || code.starts_with('3'))),
                "{method} {path} documents no success"
            );
        }
    }
    // The error shapes and the token scheme are named once and used by reference.
    assert_eq!(document["components"]["securitySchemes"]["jwt"]["scheme"], "bearer");
    assert!(document["components"]["schemas"]["FieldErrors"].is_object());
    assert!(document["paths"]["/orders/"]["post"]["parameters"].to_string().contains("Idempotency-Key"));

    insta::assert_json_snapshot!("openapi", document);
}

#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary() {
    let app = TestApp::new().await;
    let page = app.get("/docs/").await;
    page.assert_status(200);
    let csp = page.header("content-security-policy").expect("a policy").to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("http"), "{csp}");
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js"] {
        assert!(page.text().contains(asset) || asset == "swagger-initializer.js" || asset == "swagger-ui.css");
        let file = app.get(&format!("/docs/{asset}")).await;
        file.assert_status(200);
    }
    let initializer = app.get("/docs/swagger-initializer.js").await.text();
    assert!(initializer.contains("/api/openapi.json"), "{initializer}");
    assert!(initializer.contains("\"validatorUrl\": \"none\""), "no online validator: {initializer}");
    // `/docs` without the slash reaches it too.
    assert_eq!(app.get("/docs").await.status.as_u16(), 301);
}

/// `name value` samples of a metric in the Prometheus text (label sets verbatim).
fn samples(text: &str, name: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let labels = series.strip_prefix(name)?;
            let value = value.parse().ok()?;
            (labels.is_empty() || labels.starts_with('{')).then(|| (labels.to_owned(), value))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_after_a_shopping_flow_count_by_route_and_event() {
    let shop = Start::new().env("MXSHOP_METRICS_TOKEN", "metrics-token-for-tests").run().await;
    let http = shop.client_from("127.0.0.1");
    // Browse.
    assert_eq!(http.get(shop.url("/goods/")).send().await.unwrap().status(), 200);
    for id in [1, 2, 3] {
        assert_eq!(http.get(shop.url(&format!("/goods/{id}/"))).send().await.unwrap().status(), 200);
    }
    assert_eq!(http.get(shop.url("/goods/99999/")).send().await.unwrap().status(), 404);
    assert_eq!(http.get(shop.url("/no/such/path/123")).send().await.unwrap().status(), 404);
    // Register with the code from the log.
    let mobile = "13700000001";
    let sent = http.post(shop.url("/code/")).json(&json!({"mobile": mobile})).send().await.unwrap();
    assert_eq!(sent.status(), 201);
    let code = shop.sms_code(mobile).expect("a code in the log");
    let registered = http
        .post(shop.url("/users/"))
        .json(&json!({"username": mobile, "code": code, "password": "buyer-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let token = registered.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    // Order and pay in the sandbox.
    let added = http.post(shop.url("/shopcarts/")).bearer_auth(&token).json(&json!({"goods": 1, "nums": 1})).send();
    assert_eq!(added.await.unwrap().status(), 201);
    let order: Value = http
        .post(shop.url("/orders/"))
        .bearer_auth(&token)
        .json(&json!({"post_script": "metrics", "singer_mobile": mobile}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cashier = http.get(order["alipay_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    let trade_no = cashier.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let paid = http.post(shop.url("/sandbox/alipay/cashier/pay")).form(&[("trade_no", trade_no.as_str())]).send();
    assert!(paid.await.unwrap().status().is_redirection());
    let order_url = shop.url(&format!("/orders/{}/", order["id"]));
    let mut status = String::new();
    for _ in 0..100 {
        let detail: Value = http.get(&order_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        status = detail["pay_status"].as_str().unwrap_or_default().to_owned();
        if status == "TRADE_SUCCESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "TRADE_SUCCESS", "the sandbox's notification paid the order");
    // A staff refund.
    let staff = shop.user("operator", "13700000002", "operator-password-1").await;
    shop.cli(&["user", "create", "boss", "--superuser"], "boss-password-123\n");
    let boss: Value = http
        .post(shop.url("/login/"))
        .json(&json!({"username": "boss", "password": "boss-password-123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refund_url = shop.url(&format!("/admin/orders/{}/refund/", order["id"]));
    let forbidden = http.post(&refund_url).bearer_auth(&staff).json(&json!({"amount": "1.00"})).send().await.unwrap();
    assert_eq!(forbidden.status(), 403);
    let refund = http
        .post(&refund_url)
        .bearer_auth(boss["token"].as_str().unwrap())
        .json(&json!({"amount": "1.00", "reason": "metrics", "out_request_no": "metrics-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refund.status(), 201);
    assert_eq!(refund.json::<Value>().await.unwrap()["status"], "succeeded");

    // The token guards the metrics.
    assert_eq!(http.get(shop.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = http.get(shop.url("/metrics")).bearer_auth("metrics-token-for-test").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // The first job run starts with the server; on a busy machine it may still be under way.
    // (The refund was answered `succeeded`, so its counter is there; polled all the same.)
    let mut text = String::new();
    for _ in 0..400 {
        let scrape = http.get(shop.url("/metrics")).bearer_auth("metrics-token-for-tests").send().await.unwrap();
        assert_eq!(scrape.status(), 200);
        text = scrape.text().await.unwrap();
        let refunds = samples(&text, "mxshop_refunds_total");
        if samples(&text, "mxshop_job_runs_total").contains_key(r#"{job="payments"}"#)
            && refunds.contains_key(r#"{state="succeeded"}"#)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let requests = samples(&text, "mxshop_http_requests_total");
    let count = |labels: &str| requests.get(labels).copied().unwrap_or_default();
    assert_eq!(count(r#"{method="GET",route="/goods/{id}/",status="2xx"}"#), 3.0, "{requests:?}");
    assert_eq!(count(r#"{method="GET",route="/goods/{id}/",status="4xx"}"#), 1.0, "{requests:?}");
    assert_eq!(count(r#"{method="GET",route="unmatched",status="4xx"}"#), 1.0, "{requests:?}");
    // The payment's notification, and the refund's when it has come.
    assert!(count(r#"{method="POST",route="/alipay/return/",status="2xx"}"#) >= 1.0, "{requests:?}");
    assert_eq!(count(r#"{method="POST",route="/admin/orders/{id}/refund/",status="4xx"}"#), 1.0, "{requests:?}");
    // Labels name routes, never ids or raw paths.
    for labels in requests.keys() {
        let route = labels.split("route=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(!route.split('/').any(|segment| segment.parse::<u64>().is_ok()), "a raw id in {labels}");
        assert!(route == "unmatched" || route.starts_with('/'), "{labels}");
    }
    assert!(samples(&text, "mxshop_http_request_duration_seconds_bucket").len() > 10);
    assert_eq!(samples(&text, "mxshop_orders_total").get(r#"{event="created"}"#), Some(&1.0), "{text}");
    let notifications = samples(&text, "mxshop_payment_notifications_total");
    assert_eq!(notifications.get(r#"{verdict="applied"}"#), Some(&1.0), "{notifications:?}");
    // Every notification handled is timed (the refund's may be arriving while we scrape).
    assert!(samples(&text, "mxshop_payment_notification_apply_seconds_count").get("").is_some_and(|n| *n >= 1.0));
    let refunds = samples(&text, "mxshop_refunds_total");
    assert_eq!(refunds.get(r#"{state="requested"}"#), Some(&1.0), "{refunds:?}");
    assert_eq!(refunds.get(r#"{state="succeeded"}"#), Some(&1.0), "{refunds:?}");
    assert!(samples(&text, "mxshop_job_runs_total").get(r#"{job="payments"}"#).is_some_and(|runs| *runs >= 1.0));
    assert!(samples(&text, "mxshop_db_pool_connections").get("").is_some_and(|open| *open >= 1.0));
    assert!(samples(&text, "mxshop_db_pool_max_connections").contains_key(""));
    assert!(samples(&text, "mxshop_http_requests_in_flight").get("").is_some_and(|now| *now >= 1.0));
    assert!(samples(&text, "mxshop_catalog_cache_lookups_total").contains_key(r#"{result="miss"}"#));
}

#[tokio::test]
async fn without_a_token_metrics_are_for_loopback_clients_only() {
    let shop = Start::new()
        .env("MXSHOP_TRUSTED_PROXIES", "[\"127.0.0.1\"]")
        .env("MXSHOP_ALIPAY__BUILTIN_ON_PUBLIC_ADDRESS", "true")
        .run()
        .await;
    let proxy = shop.client_from("127.0.0.1");
    let relayed = proxy.get(shop.url("/metrics")).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(relayed.status(), 403, "a client on the internet, through the proxy");
    let local = proxy.get(shop.url("/metrics")).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
    assert_eq!(local.status(), 200);
    // An empty token is no token (it would otherwise match a request without one).
    let shop = Start::new().env("MXSHOP_METRICS_TOKEN", "").run().await;
    assert_eq!(shop.client_from("127.0.0.1").get(shop.url("/metrics")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn rate_limit_refusals_are_counted_by_rule() {
    let shop = Start::new().run().await;
    let http = shop.client_from("127.0.0.3");
    let mut refused = 0;
    for attempt in 0..12 {
        let login =
            http.post(shop.url("/login/")).json(&json!({"username": "nobody", "password": format!("x{attempt}")}));
        if login.send().await.unwrap().status() == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 2, "the account budget is 10");
    let text = http.get(shop.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let limited = samples(&text, "mxshop_rate_limit_refusals_total");
    assert_eq!(limited.values().sum::<f64>(), 2.0, "{limited:?}");
    assert!(limited.keys().all(|labels| labels.starts_with("{rule=\"login")), "{limited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_is_answered_and_in_every_log_line_of_its_request() {
    let shop = Start::new().env("RUST_LOG", "info,sqlx=warn,sea_orm=warn").run().await;
    let http = shop.client_from("127.0.0.1");
    let mobile = "13700000011";
    let sent =
        http.post(shop.url("/code/")).header("x-request-id", "req-from-the-proxy-42").json(&json!({"mobile": mobile}));
    let sent = sent.send().await.unwrap();
    assert_eq!(sent.status(), 201);
    assert_eq!(sent.headers()["x-request-id"], "req-from-the-proxy-42");
    assert!(shop.sms_code(mobile).is_some());
    // The request's own line is written as it is answered; give the log pipe a moment.
    let mut lines = shop.log_lines();
    for _ in 0..50 {
        if lines.iter().any(|line| line.contains("req-from-the-proxy-42") && line.contains("\"served\"")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        lines = shop.log_lines();
    }
    let of_request: Vec<&String> = lines.iter().filter(|line| line.contains("req-from-the-proxy-42")).collect();
    // The handler's own line (the code, logged in a task of its own) and the request's line.
    assert!(of_request.iter().any(|line| line.contains(mobile) && line.contains("\"code\"")), "{lines:#?}");
    assert!(
        of_request.iter().any(|line| line.contains("\"served\"") && line.contains("\"route\":\"/code/\"")),
        "{lines:#?}"
    );
    for line in lines.iter().filter(|line| line.contains(mobile)) {
        assert!(line.contains("req-from-the-proxy-42"), "a line of the request without its id: {line}");
    }
    // Without one, or with one that could forge log lines, the server makes its own.
    for sent in [None, Some("two words"), Some("x".repeat(65).as_str())] {
        let mut request = http.get(shop.url("/goods/"));
        if let Some(id) = sent {
            request = request.header("x-request-id", id);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
}

/// Raw connections holding requests (`POST /code/` with an invalid mobile: answered 400 without
/// sending anything) whose bodies are half sent.
async fn half_sent_requests(shop: &Shop, count: usize) -> Vec<(tokio::net::TcpStream, Vec<u8>)> {
    let mut held = Vec::new();
    for i in 0..count {
        // Four clients, so no per-address budget is reached.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("127.0.0.{}:0", 2 + i % 4).parse().unwrap()).unwrap();
        let mut stream = socket.connect(shop.addr).await.unwrap();
        let body = format!(r#"{{"mobile":"not-a-mobile-{i}"}}"#);
        let head = format!(
            "POST /code/ HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            shop.addr,
            body.len()
        );
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(first).await.unwrap();
        held.push((stream, rest.to_vec()));
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_64_in_flight_requests_finish_then_exits_0() {
    let mut shop =
        Start::new().env("RUST_LOG", "warn,shop=info").env("MXSHOP_METRICS_TOKEN", METRICS_TOKEN).run().await;
    let held = half_sent_requests(&shop, 64).await;
    until_in_flight(&shop, 64).await;
    shop.signal("TERM");
    // No new connections once draining.
    until_refused(&shop).await;
    let mut answers = Vec::new();
    for (mut stream, rest) in held {
        answers.push(tokio::spawn(async move {
            stream.write_all(&rest).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            String::from_utf8_lossy(&response).into_owned()
        }));
    }
    for answer in answers {
        let response = answer.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 400"), "a request lost in the shutdown: {response:?}");
        assert!(response.contains("\"mobile\""), "{response}");
    }
    let status = shop.wait_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(shop.log_lines().iter().any(|line| line.contains("shutting down")), "{:#?}", shop.log_lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_shutdown_delay_the_server_answers_not_ready_but_still_serves() {
    let mut shop = Start::new().env("MXSHOP_SHUTDOWN_DELAY_SECS", "2").run().await;
    let http = shop.client_from("127.0.0.1");
    assert_eq!(http.get(shop.url("/ready/")).send().await.unwrap().status(), 200);
    shop.signal("TERM");
    // A load balancer sees it leave; a request that still comes is served, on a new connection too.
    let ready = until_ready_is(&http, &shop, 503).await;
    assert_eq!(ready["reason"], "shutting down");
    let fresh = shop.client_from("127.0.0.2");
    assert_eq!(fresh.get(shop.url("/goods/")).send().await.unwrap().status(), 200);
    assert_eq!(shop.wait_exit(Duration::from_secs(20)).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let mut shop = Start::new()
        .env("MXSHOP_SHUTDOWN_GRACE_SECS", "60")
        .env("RUST_LOG", "warn,shop=info")
        .env("MXSHOP_METRICS_TOKEN", METRICS_TOKEN)
        .run()
        .await;
    let _held = half_sent_requests(&shop, 1).await;
    until_in_flight(&shop, 1).await;
    shop.signal("TERM");
    // The second signal counts only once the first has been taken.
    until_logged(&shop, "shutting down: no new connections").await;
    shop.signal("INT");
    // The held request would keep a graceful shutdown waiting for a minute.
    let status = shop.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{status:?}");
}

async fn ready(http: &reqwest::Client, shop: &Shop) -> (u16, Value) {
    let response = http.get(shop.url("/ready/")).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Polls `/ready/` until it answers `status` (at most 20 s).
async fn until_ready_is(http: &reqwest::Client, shop: &Shop, status: u16) -> Value {
    let mut last = (0, Value::Null);
    for _ in 0..100 {
        last = ready(http, shop).await;
        if last.0 == status {
            return last.1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/ready/ did not turn {status}: last {last:?}");
}

const METRICS_TOKEN: &str = "metrics-token-for-tests";

/// Polls `/metrics` (the shop runs with `METRICS_TOKEN`) until `count` requests besides the
/// scrape itself are in flight (at most 10 s).
async fn until_in_flight(shop: &Shop, count: usize) {
    let http = shop.client_from("127.0.0.1");
    let mut last = String::new();
    for _ in 0..200 {
        let scrape = http.get(shop.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
        last = scrape.text().await.unwrap();
        let in_flight = samples(&last, "mxshop_http_requests_in_flight").values().sum::<f64>();
        if in_flight >= (count + 1) as f64 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} requests were not in flight within 10 s:\n{last}");
}

/// Polls until the shop refuses new connections (at most 10 s).
async fn until_refused(shop: &Shop) {
    for _ in 0..1000 {
        if tokio::net::TcpStream::connect(shop.addr).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still accepting connections 10 s after SIGTERM");
}

/// Polls the shop's log until a line contains `needle` (at most 10 s).
async fn until_logged(shop: &Shop, needle: &str) {
    for _ in 0..1000 {
        if shop.log_lines().iter().any(|line| line.contains(needle)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no log line with {needle:?} within 10 s: {:#?}", shop.log_lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_follows_the_database_and_its_migrations() {
    let (database, listener) = RelayedDatabase::create().await;
    let url = database.url();
    let upstream = database.upstream.clone();
    let relay = Relay::spawn(listener, upstream.clone());
    let shop = Start::new().database_url(&url).env("MXSHOP_DB_MAX_CONNECTIONS", "2").run().await;
    let http = shop.client_from("127.0.0.1");
    assert_eq!(ready(&http, &shop).await, (200, json!({"status": "ready"})));

    // The database goes away: not ready (liveness is another matter).
    relay.abort();
    let body = until_ready_is(&http, &shop, 503).await;
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["reason"], "database unreachable", "no database error text for anyone: {body}");
    assert_eq!(http.get(shop.url("/health/")).send().await.unwrap().status(), 200);

    // It comes back: ready again, without a restart.
    let relay = Relay::spawn(tokio::net::TcpListener::bind(database.relay_addr).await.unwrap(), upstream);
    until_ready_is(&http, &shop, 200).await;

    // A migration this build needs is missing (the database was rolled back): not ready. One the
    // database has beyond this build's (a newer instance of a rolling deploy applied it) is not
    // named, and does not keep the instance out once the missing one is back.
    let db = shop::db::connect(&url, 1).await.unwrap();
    let execute = |sql: &'static str| sea_orm::ConnectionTrait::execute_unprepared(&db, sql);
    execute("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_a_newer_build', 0)")
        .await
        .unwrap();
    execute("DELETE FROM seaql_migrations WHERE version = 'm20261130_000001_ledger'").await.unwrap();
    let body = until_ready_is(&http, &shop, 503).await;
    assert_eq!(body["reason"], "migrations pending: m20261130_000001_ledger", "{body}");
    execute("INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20261130_000001_ledger', 0)").await.unwrap();
    assert_eq!(until_ready_is(&http, &shop, 200).await, json!({"status": "ready"}));
    db.close().await.unwrap();
    drop(shop);
    relay.abort();
    database.drop_database().await;
}

/// `mxshop check-config` with `env`; (exit code, standard output, standard error).
fn check_config(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(crate::binary::BINARY)
        .arg("check-config")
        .args(args)
        .current_dir(dir.path())
        .env("MXSHOP_DATA_DIR", dir.path().join("data"))
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The effective configuration `check-config` printed.
fn printed_config(stdout: &str) -> Value {
    let start = stdout.find('{').expect("a configuration");
    let end = stdout.find("\n}\n").expect("its end") + 2;
    serde_json::from_str(&stdout[start..end]).unwrap()
}

#[tokio::test]
async fn check_config_passes_a_good_configuration_and_hides_secrets() {
    let database = crate::support::TestDatabase::create().await;
    let (code, stdout, stderr) = check_config(
        &[
            ("MXSHOP_SECRET_KEY", "a-secret-key-that-must-never-be-printed-0123"),
            ("MXSHOP_DATABASE_URL", &database.url),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("a-secret-key-that-must-never-be-printed"), "{stdout}");
    assert_eq!(printed_config(&stdout)["secret_key"], "***");
    for check in ["ok       secret key", "ok       database", "ok       SMS", "ok       alipay", "ok       public URL"]
    {
        assert!(stdout.contains(check), "{check} missing in:\n{stdout}");
    }
    assert!(stdout.contains("the configuration is usable"), "{stdout}");
}

#[test]
fn check_config_names_every_problem_on_its_own_line() {
    let (code, stdout, stderr) = check_config(
        &[
            ("MXSHOP_DATABASE_URL", "postgres://shop:hunter2-db-password@127.0.0.1:1/nowhere"),
            ("MXSHOP_SECRET_KEY", "too-short"),
            ("MXSHOP_ALIPAY__GATEWAY", "production"),
            ("MXSHOP_SMS__PROVIDER", "yunpian"),
            ("MXSHOP_ALIPAY__PUBLIC_URL", "http://203.0.113.9:8000"),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let problems: Vec<&str> = stdout.lines().filter(|line| line.starts_with("PROBLEM")).collect();
    assert_eq!(problems.len(), 5, "{stdout}");
    for (problem, says) in problems.iter().zip(["secret key", "database", "SMS", "alipay", "public URL"]) {
        assert!(problem.starts_with(&format!("PROBLEM  {says}:")), "{problem}");
    }
    assert!(problems[0].contains("at least 32 characters"), "{}", problems[0]);
    assert!(problems[3].contains("app_private_key_file"), "{}", problems[3]);
    assert!(problems[4].contains("does not reach the listen address"), "{}", problems[4]);
    assert!(!stdout.contains("hunter2-db-password") && !stderr.contains("hunter2-db-password"), "{stdout}\n{stderr}");
    assert!(stderr.contains("5 problem(s)"), "{stderr}");
}

/// Every key `mxshop.example.toml` documents, set by an environment variable: the value the
/// variable gives and the value the server then uses (as `check-config` prints it).
const EVERY_SETTING: &[(&str, &str, &str)] = &[
    ("listen", "MXSHOP_LISTEN", r#""127.0.0.1:18123""#),
    ("data_dir", "MXSHOP_DATA_DIR", r#""/srv/mxshop-data""#),
    ("database_url", "MXSHOP_DATABASE_URL", r#""postgres://shop:***@db.internal:5432/mxshop""#),
    ("frontend_dir", "MXSHOP_FRONTEND_DIR", r#""/srv/vue""#),
    ("body_limit_bytes", "MXSHOP_BODY_LIMIT_BYTES", "2048"),
    ("db_max_connections", "MXSHOP_DB_MAX_CONNECTIONS", "7"),
    ("log_format", "MXSHOP_LOG_FORMAT", r#""json""#),
    ("secret_key", "MXSHOP_SECRET_KEY", r#""***""#),
    ("jwt_lifetime_secs", "MXSHOP_JWT_LIFETIME_SECS", "600"),
    ("upload_limit_bytes", "MXSHOP_UPLOAD_LIMIT_BYTES", "1000"),
    ("upload_extensions", "MXSHOP_UPLOAD_EXTENSIONS", r#"["pdf","png"]"#),
    ("upload_daily_count", "MXSHOP_UPLOAD_DAILY_COUNT", "3"),
    ("upload_daily_bytes", "MXSHOP_UPLOAD_DAILY_BYTES", "3000"),
    ("max_unpaid_orders_per_user", "MXSHOP_MAX_UNPAID_ORDERS_PER_USER", "4"),
    ("max_unpaid_units_per_user", "MXSHOP_MAX_UNPAID_UNITS_PER_USER", "40"),
    ("trusted_proxies", "MXSHOP_TRUSTED_PROXIES", r#"["10.0.0.2"]"#),
    ("catalog_cache_ms", "MXSHOP_CATALOG_CACHE_MS", "250"),
    ("auth_cache_ms", "MXSHOP_AUTH_CACHE_MS", "750"),
    ("index_goods_per_section", "MXSHOP_INDEX_GOODS_PER_SECTION", "7"),
    ("catalog_cache_bytes", "MXSHOP_CATALOG_CACHE_BYTES", "1048576"),
    ("header_read_timeout_secs", "MXSHOP_HEADER_READ_TIMEOUT_SECS", "5"),
    ("body_read_timeout_secs", "MXSHOP_BODY_READ_TIMEOUT_SECS", "9"),
    ("max_connections", "MXSHOP_MAX_CONNECTIONS", "900"),
    ("max_connections_per_client", "MXSHOP_MAX_CONNECTIONS_PER_CLIENT", "90"),
    ("shutdown_grace_secs", "MXSHOP_SHUTDOWN_GRACE_SECS", "12"),
    ("shutdown_delay_secs", "MXSHOP_SHUTDOWN_DELAY_SECS", "4"),
    ("metrics_token", "MXSHOP_METRICS_TOKEN", r#""***""#),
    ("sms.provider", "MXSHOP_SMS__PROVIDER", r#""yunpian""#),
    ("sms.yunpian_api_key", "MXSHOP_SMS__YUNPIAN_API_KEY", r#""***""#),
    ("sms.yunpian_url", "MXSHOP_SMS__YUNPIAN_URL", r#""https://sms.example/send""#),
    ("sms.text_template", "MXSHOP_SMS__TEXT_TEMPLATE", r#""【店】验证码{code}""#),
    ("sms.daily_limit", "MXSHOP_SMS__DAILY_LIMIT", "77"),
    ("alipay.gateway", "MXSHOP_ALIPAY__GATEWAY", r#""production""#),
    ("alipay.builtin_on_public_address", "MXSHOP_ALIPAY__BUILTIN_ON_PUBLIC_ADDRESS", "true"),
    ("alipay.app_id", "MXSHOP_ALIPAY__APP_ID", r#""2021000117001234""#),
    ("alipay.app_private_key_file", "MXSHOP_ALIPAY__APP_PRIVATE_KEY_FILE", r#""/etc/mxshop/app.pem""#),
    ("alipay.alipay_public_key_file", "MXSHOP_ALIPAY__ALIPAY_PUBLIC_KEY_FILE", r#""/etc/mxshop/alipay.txt""#),
    ("alipay.app_cert_file", "MXSHOP_ALIPAY__APP_CERT_FILE", r#""/etc/mxshop/app.crt""#),
    ("alipay.alipay_cert_file", "MXSHOP_ALIPAY__ALIPAY_CERT_FILE", r#""/etc/mxshop/alipay.crt""#),
    ("alipay.alipay_root_cert_file", "MXSHOP_ALIPAY__ALIPAY_ROOT_CERT_FILE", r#""/etc/mxshop/root.crt""#),
    ("alipay.seller_id", "MXSHOP_ALIPAY__SELLER_ID", r#""2088000000000001""#),
    ("alipay.public_url", "MXSHOP_ALIPAY__PUBLIC_URL", r#""https://shop.example""#),
    ("alipay.payment_window_secs", "MXSHOP_ALIPAY__PAYMENT_WINDOW_SECS", "900"),
    ("alipay.request_timeout_ms", "MXSHOP_ALIPAY__REQUEST_TIMEOUT_MS", "5000"),
    ("alipay.job_interval_secs", "MXSHOP_ALIPAY__JOB_INTERVAL_SECS", "15"),
    ("alipay.refused_notification_retention_days", "MXSHOP_ALIPAY__REFUSED_NOTIFICATION_RETENTION_DAYS", "7"),
    ("alipay.sandbox_time_scale", "MXSHOP_ALIPAY__SANDBOX_TIME_SCALE", "0.5"),
];

/// The keys `mxshop.example.toml` documents (`key = …`, commented out or not), as `section.key`.
fn documented_keys() -> BTreeSet<String> {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../mxshop.example.toml")).unwrap();
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in example.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            section = format!("{name}.");
            continue;
        }
        let setting = line.strip_prefix("# ").unwrap_or(line);
        if let Some((key, _)) = setting.split_once(" = ")
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            keys.insert(format!("{section}{key}"));
        }
    }
    keys
}

#[test]
fn every_documented_setting_works_from_the_environment() {
    let listed: BTreeSet<String> = EVERY_SETTING.iter().map(|(key, _, _)| (*key).to_owned()).collect();
    assert_eq!(listed, documented_keys(), "a documented key has no variable test, or a tested key is not documented");
    let values: Vec<(&str, String)> = EVERY_SETTING
        .iter()
        .map(|(key, variable, shown)| {
            let value = match *key {
                "database_url" => "postgres://shop:db-password@db.internal:5432/mxshop".to_owned(),
                "secret_key" => "an-environment-secret-key-of-enough-length-0123".to_owned(),
                "metrics_token" => "metrics-token-from-the-environment".to_owned(),
                "sms.yunpian_api_key" => "yunpian-key-from-the-environment".to_owned(),
                // Text settings are given without quotes, as a container's environment has them.
                _ => serde_json::from_str::<Value>(shown)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| shown.replace('"', "")),
            };
            (*variable, value)
        })
        .collect();
    let env: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, stdout, stderr) = check_config(&env, &[]);
    assert!(stdout.contains("effective configuration"), "the configuration did not load: {stderr}");
    let config = printed_config(&stdout);
    for (key, variable, shown) in EVERY_SETTING {
        let value = key.split('.').fold(&config, |value, part| &value[part]);
        assert_eq!(value, &serde_json::from_str::<Value>(shown).unwrap(), "{variable} → {key}");
    }
    for secret in ["db-password", "an-environment-secret-key", "metrics-token-from", "yunpian-key-from"] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "{secret} printed");
    }
}
