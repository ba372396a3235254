//! What the speed work relies on: views counted in memory and written in batches (and at
//! shutdown), the authenticated user read once per period, the catalogue held in memory and
//! read again within a period, and the bounded home sections. Figures are measured by
//! `bench/load.py`, never asserted here; statement counts are.

use std::time::{Duration, Instant};

use axum::http::Method;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::Value;
use shop::catalog::views::GoodsViews;
use shop::db::entities::goods;

use crate::binary::Start;
use crate::support::{Relay, RelayedDatabase, TestApp};

async fn clicks(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().click_num
}

#[tokio::test]
async fn repeated_views_within_a_period_run_no_statement_and_answer_the_live_count() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 60_000).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let id = fx.goods("a", top, 100).await;
    assert_eq!(app.get(&format!("/goods/{id}/")).await.json()["click_num"], 1);
    let before = app.statement_count();
    for expected in 2..=6 {
        let view = app.get(&format!("/goods/{id}/")).await;
        view.assert_status(200);
        assert_eq!(view.header("content-type"), Some("application/json"));
        assert_eq!(view.json()["click_num"], expected, "each view answers the count with itself");
    }
    assert_eq!(app.statement_count(), before, "views within a period are counted in memory");
    assert_eq!(clicks(&app.db, id).await, 0, "not written before the period's batch");
    app.get("/goods/999999/").await.assert_status(404);
}

#[tokio::test]
async fn an_order_is_placed_in_one_statement_per_step() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let goods = [fx.goods("解忧杂货店", top, 9990).await, fx.goods("白夜行", top, 4500).await];
    let token = app.register("13800138000", "pw123456").await;
    for id in goods {
        let line = serde_json::json!({"goods": id, "nums": 2});
        app.json(Method::POST, "/shopcarts/", &line, Some(&token)).await.assert_status(201);
    }
    let before = app.statement_count();
    let order = serde_json::json!({"post_script": "x", "singer_mobile": "13800138000"});
    app.json(Method::POST, "/orders/", &order, Some(&token)).await.assert_status(201);
    // Lock the user, read the cart with its goods, read the unpaid orders with their lines,
    // reserve each goods, write the order and its lines, empty the cart. MySQL has no
    // `RETURNING`: the new order is read back.
    let read_back = usize::from(app.db.get_database_backend() == sea_orm::DbBackend::MySql);
    let expected = 3 + goods.len() + 3 + read_back;
    assert_eq!(app.statement_count() - before, expected);
}

/// Waits until the pool holds every connection idle: sqlx pings a connection it takes back in a
/// task of its own.
async fn pool_settled(db: &sea_orm::DatabaseConnection) {
    for _ in 0..1000 {
        let (size, idle, _) = shop::db::pool_stats(db);
        if idle == size as usize {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the pool did not take its connections back within 1 s");
}

/// A statement outside a transaction is one exchange with the database server, plus sqlx's ping
/// when the pool takes the connection back: the pool does not ping it again when it hands it out
/// a moment later (sqlx's default, an exchange more per statement and per transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_is_not_preceded_by_a_ping() {
    let (database, listener) = RelayedDatabase::create().await;
    let relay = Relay::spawn(listener, database.upstream.clone());
    let db = shop::db::connect(&database.url(), 1).await.unwrap();
    let select = Statement::from_string(db.get_database_backend(), "SELECT 1");
    db.query_one_raw(select.clone()).await.unwrap().unwrap(); // prepared on the connection
    let statements = 20;
    pool_settled(&db).await;
    let before = relay.client_sends();
    for _ in 0..statements {
        db.query_one_raw(select.clone()).await.unwrap().unwrap();
    }
    pool_settled(&db).await;
    let sends = relay.client_sends() - before;
    db.close().await.unwrap();
    relay.cut().await;
    database.drop_database().await;
    assert!(sends >= statements, "each statement reached the server: {sends} sends");
    assert!(sends <= 2 * statements, "{sends} sends for {statements} statements: a ping before each");
}

/// The price of not pinging: a connection the server dropped (a restart) less than half a second
/// after its last use is handed out unchecked. A transaction that meets one fails at `BEGIN`,
/// before anything reached the server, and begins again on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_begins_again_when_its_pooled_connection_was_dropped() {
    let (database, listener) = RelayedDatabase::create().await;
    let upstream = database.upstream.clone();
    let relay = Relay::spawn(listener, upstream.clone());
    let db = shop::db::connect(&database.url(), 1).await.unwrap();
    shop::db::migrate(&db).await.unwrap();
    let views = GoodsViews::new(Duration::ZERO);
    views.count(1);
    assert_eq!(views.write(&db).await.unwrap(), 1, "a batch of views is one transaction");
    pool_settled(&db).await;
    // The server end of the idle connection goes away, and the server is back at once.
    relay.cut().await;
    let relay = Relay::spawn(tokio::net::TcpListener::bind(database.relay_addr).await.unwrap(), upstream);
    views.count(1);
    let written = views.write(&db).await;
    db.close().await.unwrap();
    relay.cut().await;
    database.drop_database().await;
    assert_eq!(written.expect("begun again on a new connection"), 1);
}

/// An order is one exchange with the database server per statement, plus `BEGIN`, `COMMIT` and
/// the ping when the pool takes the connection back: nothing around the insert (a savepoint that
/// guarded against a taken order number cost two more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_one_exchange_per_statement() {
    let (database, listener) = RelayedDatabase::create().await;
    let relay = Relay::spawn(listener, database.upstream.clone());
    // The user stays cached: no statement but the order's.
    let app = TestApp::builder().config(|config| config.auth_cache_ms = 60_000).build_at(database.url()).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let goods = [fx.goods("解忧杂货店", top, 4500).await, fx.goods("白夜行", top, 3900).await];
    let token = app.register("13800138000", "pw123456").await;
    let order = serde_json::json!({"post_script": "x", "singer_mobile": "13800138000"});
    let mut exchanges = Vec::new();
    // The first order prepares the statements on the connection; the second is measured.
    for _ in 0..2 {
        for id in goods {
            let line = serde_json::json!({"goods": id, "nums": 1});
            app.json(Method::POST, "/shopcarts/", &line, Some(&token)).await.assert_status(201);
        }
        pool_settled(&app.db).await;
        let (sends, statements) = (relay.client_sends(), app.statement_count());
        app.json(Method::POST, "/orders/", &order, Some(&token)).await.assert_status(201);
        pool_settled(&app.db).await;
        exchanges.push((relay.client_sends() - sends, app.statement_count() - statements));
    }
    drop(app);
    relay.cut().await;
    database.drop_database().await;
    let (sends, statements) = exchanges[1];
    assert_eq!(sends, statements + 3, "{statements} statements, BEGIN, COMMIT and the release ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_written_every_period_and_at_shutdown() {
    let mut shop = Start::new().env("MXSHOP_CATALOG_CACHE_MS", "300").run().await;
    let db = shop.db().await;
    let http = shop.client_from("127.0.0.1");
    let start = clicks(&db, 1).await;
    let mut answered = Vec::new();
    for _ in 0..10 {
        let view: Value = http.get(shop.url("/goods/1/")).send().await.unwrap().json().await.unwrap();
        answered.push(view["click_num"].as_i64().unwrap());
    }
    let expected: Vec<i64> = (1..=10).map(|n| i64::from(start) + n).collect();
    assert_eq!(answered, expected);
    let deadline = Instant::now() + Duration::from_secs(5);
    while clicks(&db, 1).await != start + 10 {
        assert!(Instant::now() < deadline, "the views were not written within a few periods");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shop.stop();

    // A period longer than the test: only the shutdown writes them. The storefront's goods
    // page counts in the same batches.
    let mut shop = Start::new().env("MXSHOP_CATALOG_CACHE_MS", "600000").env("RUST_LOG", "warn,shop=info").run().await;
    let db = shop.db().await;
    let http = shop.client_from("127.0.0.1");
    let start = clicks(&db, 2).await;
    for page in ["/goods/2/", "/shop/goods/2/"].iter().cycle().take(7) {
        assert_eq!(http.get(shop.url(page)).send().await.unwrap().status(), 200);
    }
    assert_eq!(http.get(shop.url("/shop/goods/999999/")).send().await.unwrap().status(), 404);
    // Written per view, they would be in the database as each view is answered (the first
    // period's flush is ten minutes away).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(clicks(&db, 2).await, start, "held in memory within the period");
    shop.signal("TERM");
    assert_eq!(shop.wait_exit(Duration::from_secs(20)).code(), Some(0));
    assert_eq!(clicks(&db, 2).await, start + 7, "the shutdown writes the views held");
    assert!(shop.log_lines().iter().any(|line| line.contains("goods views written")), "{:#?}", shop.log_lines());
}

#[tokio::test]
async fn an_authenticated_request_reads_the_user_once_per_period() {
    let app = TestApp::new().await;
    let token = app.register("13800138000", "pw123456").await;
    let statements = || async {
        let before = app.statement_count();
        app.json(Method::GET, "/users/", &Value::Null, Some(&token)).await.assert_status(200);
        app.statement_count() - before
    };
    // The registration kept nothing: the first request reads the user.
    assert_eq!(statements().await, 1);
    assert_eq!(statements().await, 0, "the user read a moment ago is trusted");
    // A profile change on this instance is seen at once.
    let patched = app.json(Method::PATCH, "/users/1/", &serde_json::json!({"email": "a@b.cn"}), Some(&token)).await;
    patched.assert_status(200);
    let profile = app.json(Method::GET, "/users/", &Value::Null, Some(&token)).await;
    assert_eq!(profile.json()["email"], "a@b.cn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_changed_elsewhere_revokes_tokens_here_within_auth_cache_ms() {
    let shop = Start::new().env("MXSHOP_AUTH_CACHE_MS", "400").run().await;
    let token = shop.user("alice", "13800138000", "pw-alice-1").await;
    let http = shop.client_from("127.0.0.1");
    let profile =
        || async { http.get(shop.url("/users/")).bearer_auth(&token).send().await.unwrap().status().as_u16() };
    assert_eq!(profile().await, 200);
    // Another process (as another instance would) changes the password.
    shop.cli(&["user", "set-password", "alice"], "pw-alice-2\n");
    let changed = Instant::now();
    while profile().await == 200 {
        assert!(changed.elapsed() < Duration::from_millis(1500), "the old token still works after auth_cache_ms");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(profile().await, 401, "and stays refused");
}

#[tokio::test]
async fn catalogue_changes_reach_the_lists_within_a_period() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 200).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    fx.goods("a", top, 100).await;
    // A new query each time: the response cache keeps nothing a first request asks for.
    let app = &app;
    let count = |n: u32| async move { app.get(&format!("/goods/?pricemin=0.0{n}")).await.json()["count"].clone() };
    assert_eq!(count(1).await, 1);
    let added = fx.goods("b", top, 200).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut n = 2;
    while count(n).await != 2 {
        assert!(Instant::now() < deadline, "goods {added} not listed within a few periods");
        tokio::time::sleep(Duration::from_millis(50)).await;
        n += 1;
    }
}

#[tokio::test]
async fn home_sections_embed_at_most_the_configured_goods() {
    let app = TestApp::with_config(|config| config.index_goods_per_section = 2).await;
    let seeded = shop::demo::seed_if_empty(&app.db, &app.config.media_dir()).await.unwrap();
    assert!(seeded);
    let sections = app.get("/indexgoods/").await.json();
    let sections = sections.as_array().unwrap();
    assert!(!sections.is_empty());
    for section in sections {
        let goods = section["goods"].as_array().unwrap();
        assert!(goods.len() <= 2, "{}: {} goods", section["name"], goods.len());
        let ids: Vec<i64> = goods.iter().map(|g| g["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "the first goods by id: {ids:?}");
    }
    assert!(sections.iter().any(|section| section["goods"].as_array().unwrap().len() == 2));
}

/// The catalogue in memory may be a period old, but the cart shows each goods' price and stock
/// as the database has them now (the cart's total comes back with the order); the gallery may
/// come from memory.
#[tokio::test]
async fn the_cart_shows_current_prices_while_lists_may_lag() {
    use sea_orm::ActiveValue::Set;
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 600_000).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let id = fx
        .goods_with("解忧杂货店", top, 1000, |goods| {
            goods.ship_free = Set(true);
            goods.is_hot = Set(true);
            goods.goods_brief = Set("“引号” \"q\" \\ 🛒".into());
            goods.goods_desc = Set("<p>\n\t</p>".into());
            goods.add_time = Set(crate::support::time("2026-11-30 23:59:58"));
        })
        .await;
    fx.image(id, "goods/images/a.png").await;
    let other = fx.goods("白夜行", top, 3000).await;
    let token = app.register("13800138000", "pw123456").await;
    for (goods, nums) in [(id, 2), (other, 1)] {
        let body = serde_json::json!({"goods": goods, "nums": nums});
        app.json(Method::POST, "/shopcarts/", &body, Some(&token)).await.assert_status(201);
    }
    let listed = |query: &'static str| {
        let app = &app;
        async move { app.get(query).await.json()["results"][0].clone() }
    };
    let other_listed = listed("/goods/?pricemin=20").await;
    let cart = app.authed(Method::GET, "/shopcarts/", &token).await;
    assert_eq!(cart.header("content-type"), Some("application/json"));
    let cart = cart.json();
    assert_eq!(cart[0]["goods"]["shop_price"], 10.0);
    assert_eq!(cart[0]["goods"], listed("/goods/?pricemin=1").await);
    assert_eq!(cart[1], serde_json::json!({"goods": other_listed, "nums": 1}));
    assert_eq!(cart.as_array().unwrap().len(), 2);

    goods::Entity::update(goods::ActiveModel {
        id: Set(id),
        shop_price_fen: Set(1250),
        goods_num: Set(7),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    let before = listed("/goods/?pricemin=2").await;
    let cart = app.authed(Method::GET, "/shopcarts/", &token).await.json();
    assert_eq!((cart[0]["nums"].clone(), cart[0]["goods"]["shop_price"].clone()), (2.into(), 12.5.into()));
    assert_eq!(cart[0]["goods"]["goods_num"], 7);
    // Every other field as the list shows it (read from the database's JSON on each backend).
    let mut expected = before.clone();
    expected["shop_price"] = 12.5.into();
    expected["goods_num"] = 7.into();
    assert_eq!(cart[0]["goods"], expected);
    assert_eq!(
        (&before["ship_free"], &before["is_hot"], &before["is_new"]),
        (&true.into(), &true.into(), &false.into())
    );
    assert_eq!(cart[0]["goods"]["images"][0]["image"], "http://127.0.0.1:8000/media/goods/images/a.png");
    assert_eq!(cart[1], serde_json::json!({"goods": other_listed, "nums": 1}), "an unchanged goods as listed");
    // The list, from the catalogue read before the change, still shows the old price.
    assert_eq!(listed("/goods/?pricemin=2").await["shop_price"], 10.0);
}
