//! The `mxshop` binary itself: `serve` end to end over TCP, and `migrate` being idempotent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::Value;

use crate::support::{Backend, TestDatabase};

use crate::binary::{BINARY, run as mxshop};

/// Kills the server when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to mxshop");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
    (head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn serve_creates_the_data_dir_seeds_and_prints_its_urls() {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let data_dir = data_dir.path().join("fresh/data");
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &database.url])
        .arg("--data-dir")
        .arg(&data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mxshop");
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").unwrap();
    let base = first.strip_prefix("mxshop is serving on ").expect(&first).trim_end_matches('/').to_owned();
    let printed: Vec<String> = lines.by_ref().take(7).map(|line| line.unwrap()).collect();
    // Keep draining whatever else the server prints.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(printed.iter().any(|line| line.contains(&format!("{base}/index/"))), "{printed:?}");
    assert!(printed.iter().any(|line| line.contains(&format!("{base}/api/"))), "{printed:?}");
    let addr = base.strip_prefix("http://").unwrap().to_owned();

    let (head, body) = http_get(&addr, "/goods/?page=2&page_size=5&ordering=-shop_price");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["count"], 84);
    assert_eq!(body["next"], format!("{base}/goods/?ordering=-shop_price&page=3&page_size=5"));
    assert_eq!(body["previous"], format!("{base}/goods/?ordering=-shop_price&page_size=5"));
    assert_eq!(body["results"].as_array().unwrap().len(), 5);
    let image = body["results"][0]["goods_front_image"].as_str().unwrap().to_owned();
    let (head, _) = http_get(&addr, image.strip_prefix(&base).unwrap());
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(data_dir.join("media/goods/images").is_dir());
}

/// The schema as the database describes it, for before/after comparisons.
async fn schema(db: &sea_orm::DatabaseConnection, backend: Backend) -> Vec<String> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name || ':' || COALESCE(sql, '') AS d FROM sqlite_master ORDER BY name",
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable AS d \
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name"
        }
        Backend::MySql => {
            "SELECT CONCAT(table_name, '.', column_name, ':', column_type, ':', is_nullable) AS d \
             FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY table_name, column_name"
        }
    };
    let backend = db.get_database_backend();
    let mut rows: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "d").unwrap())
        .collect();
    let migrations = db
        .query_all_raw(Statement::from_string(backend, "SELECT version FROM seaql_migrations ORDER BY version"))
        .await
        .unwrap();
    rows.push(format!("migrations applied: {}", migrations.len()));
    rows
}

#[tokio::test]
async fn migrate_twice_changes_nothing_the_second_time() {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let run = || {
        let (ok, out, err) = mxshop(&["migrate"], &database.url, data_dir.path(), "");
        assert!(ok, "{err}");
        out
    };
    let first = run();
    let expected = format!(
        "applied {} migration(s)",
        <shop::db::Migrator as sea_orm_migration::MigratorTrait>::migrations().len()
    );
    assert!(first.starts_with(&expected), "{first}");
    let db = shop::db::connect(&database.url, 1).await.unwrap();
    let before = schema(&db, database.backend).await;
    assert!(before.iter().any(|row| row.contains("goods")), "{before:?}");
    let second = run();
    assert!(second.contains("is up to date; nothing applied"), "{second}");
    assert_eq!(schema(&db, database.backend).await, before);
}

#[tokio::test]
async fn user_commands_create_and_reset_passwords() {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| mxshop(args, &database.url, data_dir.path(), stdin);
    let (ok, out, err) = run(&["user", "create", "admin", "--mobile", "13800138000", "--superuser"], "admin-pw-1\n");
    assert!(ok, "{err}");
    assert!(out.starts_with("created user admin (id "), "{out}");
    let (ok, _, err) = run(&["user", "create", "admin"], "another-pw\n");
    assert!(!ok && err.contains("a user named admin exists"), "{err}");
    let (ok, _, err) = run(&["user", "create", "weak"], "12345\n");
    assert!(!ok && err.contains("密码长度应为6到20个字符。"), "{err}");
    let (ok, out, err) = run(&["user", "set-password", "13800138000"], "new-pw-2026\n");
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "password of 13800138000 changed");

    let db = shop::db::connect(&database.url, 1).await.unwrap();
    let admin = shop::accounts::users::find_by_username_or_mobile(&db, "admin").await.unwrap().unwrap();
    assert!(admin.is_superuser);
    assert_eq!(
        shop::accounts::passwords::verify("new-pw-2026", &admin.password),
        shop::accounts::passwords::Verdict::Valid
    );
    assert_eq!(
        shop::accounts::passwords::verify("admin-pw-1", &admin.password),
        shop::accounts::passwords::Verdict::Invalid
    );
}

/// Starts `mxshop serve` on a free port; returns the process and its base URL.
fn start_server(
    database_url: &str,
    data_dir: &std::path::Path,
    listen: &str,
    public_url: Option<&str>,
) -> (Running, String) {
    let mut command = Command::new(BINARY);
    if let Some(public_url) = public_url {
        command.env("MXSHOP_ALIPAY__PUBLIC_URL", public_url);
    }
    let mut child = command
        .args(["serve", "--listen", listen, "--database-url", database_url])
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env("MXSHOP_SECRET_KEY", crate::support::TEST_SECRET)
        .env("MXSHOP_ALIPAY__SANDBOX_TIME_SCALE", "0.001")
        // One buyer places a hundred orders before paying them.
        .env("MXSHOP_MAX_UNPAID_ORDERS_PER_USER", "1000")
        .env("MXSHOP_MAX_UNPAID_UNITS_PER_USER", "1000")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start mxshop");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").unwrap();
    let base = first.strip_prefix("mxshop is serving on ").expect(&first).trim_end_matches('/').to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (Running(child), base)
}

#[tokio::test]
async fn paid_orders_survive_a_crash_exactly_once() {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().unwrap();
    // In its first life the shop tells Alipay a notify_url where nothing listens yet, so every
    // notification is still pending at the kill; the second life listens there.
    let later = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let (mut server, base) =
        start_server(&database.url, data_dir.path(), "127.0.0.1:0", Some(&format!("http://{later}")));
    let http =
        shop::outbound::http_client_builder().unwrap().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    let (created, _, err) = mxshop(&["user", "create", "crash-buyer"], &database.url, data_dir.path(), "pw123456\n");
    assert!(created, "{err}");
    let login: Value = http
        .post(format!("{base}/login/"))
        .json(&serde_json::json!({"username": "crash-buyer", "password": "pw123456"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // Ten well-stocked goods; a hundred one-item orders over them.
    let goods: Value = http.get(format!("{base}/goods/?page_size=100")).send().await.unwrap().json().await.unwrap();
    let mut shelf: Vec<(i64, i64, i64)> = goods["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_i64().unwrap(), g["goods_num"].as_i64().unwrap(), g["sold_num"].as_i64().unwrap()))
        .collect();
    shelf.sort_by_key(|(_, stock, _)| -stock);
    shelf.truncate(10);
    let mut orders = Vec::new();
    for i in 0..100 {
        let goods_id = shelf[i % shelf.len()].0;
        let cart = http
            .post(format!("{base}/shopcarts/"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"goods": goods_id, "nums": 1}));
        assert_eq!(cart.send().await.unwrap().status().as_u16(), 201);
        let order: Value = http
            .post(format!("{base}/orders/"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"post_script": "x", "singer_mobile": "13800138000"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        orders.push(order);
    }
    // Pay all hundred at the cashier, without following the returns: only notifications tell.
    for order in &orders {
        let cashier = order["alipay_url"].as_str().unwrap().replacen(&format!("http://{later}"), &base, 1);
        let page = http.get(cashier).send().await.unwrap().text().await.unwrap();
        let trade_no = page.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let paid = http
            .post(format!("{base}/sandbox/alipay/cashier/pay"))
            .form(&[("trade_no", trade_no)])
            .send()
            .await
            .unwrap();
        assert!(paid.status().is_redirection());
    }
    // kill -9 while notifications are in flight, then start again on the same data.
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    drop(server);
    let db = shop::db::connect(&database.url, 1).await.unwrap();
    let paid_at_kill = shop::db::entities::order_info::Entity::find()
        .filter(shop::db::entities::order_info::Column::PayStatus.ne("paying"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(paid_at_kill, 0, "every notification was still pending at the kill");
    // The notify_url in Alipay's pending notifications names this address.
    let (_server, base) = start_server(&database.url, data_dir.path(), &later, None);
    // A fresh client: the old one's pooled connections died with the first server.
    let http = shop::outbound::http_client_builder().unwrap().build().unwrap();

    let mut paid = 0;
    for _ in 0..300 {
        let listed: Value =
            http.get(format!("{base}/orders/")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        paid = listed.as_array().unwrap().iter().filter(|o| o["pay_status"] == "TRADE_SUCCESS").count();
        if paid == 100 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(paid, 100, "every paid order is paid after the restart");
    for (i, (goods_id, _, sold_before)) in shelf.iter().enumerate() {
        let ordered = (0..100).filter(|n| n % shelf.len() == i).count() as i64;
        let now: Value = http.get(format!("{base}/goods/{goods_id}/")).send().await.unwrap().json().await.unwrap();
        assert_eq!(now["sold_num"].as_i64().unwrap(), sold_before + ordered, "goods {goods_id}: counted exactly once");
    }
}

#[test]
fn startup_refuses_missing_or_broken_alipay_keys() {
    let data_dir = tempfile::tempdir().unwrap();
    let broken = data_dir.path().join("app_key.pem");
    std::fs::write(&broken, "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n").unwrap();
    // A server that does start would serve forever: give it a deadline instead of waiting.
    let run = |envs: &[(&str, &str)]| {
        let mut child = Command::new(BINARY)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .envs(envs.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mxshop started with {envs:?} instead of refusing");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(!status.success(), "must not start");
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        stderr
    };
    let window = run(&[("MXSHOP_ALIPAY__PAYMENT_WINDOW_SECS", "0")]);
    assert!(window.contains("alipay.payment_window_secs"), "the message names the key: {window}");
    let missing = run(&[("MXSHOP_ALIPAY__GATEWAY", "production")]);
    assert!(missing.contains("alipay.app_private_key_file must be set"), "{missing}");
    let broken_key = run(&[
        ("MXSHOP_ALIPAY__GATEWAY", "production"),
        ("MXSHOP_ALIPAY__APP_PRIVATE_KEY_FILE", broken.to_str().unwrap()),
        ("MXSHOP_ALIPAY__ALIPAY_PUBLIC_KEY_FILE", broken.to_str().unwrap()),
    ]);
    assert!(broken_key.contains("app_key.pem"), "the message names the file: {broken_key}");
}
