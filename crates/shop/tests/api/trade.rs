//! The cart and orders (contract §3.14–§3.15): validation, server-side totals, stock reservation,
//! idempotency, rollback on failure, and no oversell under concurrency.

use axum::http::Method;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use shop::db::entities::{goods, order_goods, order_info, shopping_cart};

use crate::support::{TestApp, TestResponse, call};

async fn stock(app: &TestApp, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().goods_num
}

async fn set_stock(app: &TestApp, id: i32, goods_num: i32) {
    goods::Entity::update(goods::ActiveModel { id: Set(id), goods_num: Set(goods_num), ..Default::default() })
        .exec(&app.db)
        .await
        .unwrap();
}

async fn put_in_cart(app: &TestApp, user_id: i32, goods_id: i32, nums: i32) {
    shopping_cart::Entity::insert(shopping_cart::ActiveModel {
        user_id: Set(user_id),
        goods_id: Set(goods_id),
        nums: Set(nums),
        add_time: Set(chrono::Utc::now().naive_utc()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
}

/// The front end's checkout body.
fn checkout(order_mount: Value) -> Value {
    json!({"post_script": "请尽快发货", "address": "浙江省杭州市西湖区文三路1号", "signer_name": "张三",
           "singer_mobile": "13800138000", "order_mount": order_mount})
}

struct Shop {
    app: TestApp,
    token: String,
    book: i32,
    pen: i32,
}

async fn shop() -> Shop {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let book = fx.goods_with("解忧杂货店", top, 9990, |g| g.goods_num = Set(29)).await;
    let pen = fx.goods_with("钢笔", top, 1500, |g| g.goods_num = Set(5)).await;
    let token = app.register("13800138000", "pw123456").await;
    Shop { app, token, book, pen }
}

#[tokio::test]
async fn cart_validation_merge_and_stock() {
    let Shop { app, token, book, pen } = shop().await;
    let t = Some(token.as_str());
    for (body, field, message) in [
        (json!({"goods": book}), "nums", "请选择购买数量"),
        (json!({"goods": book, "nums": 0}), "nums", "商品数量不能小于一"),
        (json!({"goods": book, "nums": 1.5}), "nums", "请填写合法的整数值。"),
        (json!({"nums": 1}), "goods", "该字段是必填项。"),
        (json!({"goods": 9999, "nums": 1}), "goods", "无效主键 “9999” － 对象不存在。"),
        (json!({"goods": "x", "nums": 1}), "goods", "类型错误。期望为主键，获得的类型为 str。"),
    ] {
        let response = app.json(Method::POST, "/shopcarts/", &body, t).await;
        response.assert_status(400);
        assert_eq!(response.json(), json!({field: [message]}), "{body}");
    }
    let first = app.json(Method::POST, "/shopcarts/", &json!({"goods": book.to_string(), "nums": "2"}), t).await;
    first.assert_status(201);
    assert_eq!(first.text(), format!(r#"{{"nums":2,"goods":{book}}}"#));
    let merged = app.json(Method::POST, "/shopcarts/", &json!({"goods": book, "nums": 1}), t).await;
    assert_eq!(merged.json(), json!({"nums": 3, "goods": book}));
    assert_eq!(stock(&app, book).await, 29, "carts never move stock");

    let too_many = app.json(Method::POST, "/shopcarts/", &json!({"goods": pen, "nums": 6}), t).await;
    too_many.assert_status(400);
    assert_eq!(too_many.json(), json!({"nums": ["“钢笔” 库存不足：最多可购买 5 件。"]}));
    app.json(Method::POST, "/shopcarts/", &json!({"goods": pen, "nums": 5}), t).await.assert_status(201);
    app.json(Method::POST, "/shopcarts/", &json!({"goods": pen, "nums": 1}), t).await.assert_status(400);

    let list = app.authed(Method::GET, "/shopcarts/", &token).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["goods"]["id"], book);
    assert_eq!(list[0]["goods"]["shop_price"], 99.9);
    assert_eq!(list[0]["nums"], 3);
    assert!(list[0].get("id").is_none(), "cart lines have no id");

    let uri = format!("/shopcarts/{book}/");
    assert_eq!(app.json(Method::PATCH, &uri, &json!({}), t).await.json(), json!({"nums": ["请选择购买数量"]}));
    assert_eq!(app.json(Method::PATCH, &uri, &json!({"nums": 7}), t).await.json(), json!({"nums": 7, "goods": book}));
    assert_eq!(app.authed(Method::GET, &uri, &token).await.json(), json!({"nums": 7, "goods": book}));
    app.json(Method::PATCH, &uri, &json!({"nums": 30}), t).await.assert_status(400);
    app.authed(Method::DELETE, &uri, &token).await.assert_status(204);
    app.authed(Method::DELETE, &uri, &token).await.assert_status(404);
    app.json(Method::PATCH, &uri, &json!({"nums": 1}), t).await.assert_status(404);

    let other = app.register("15912345678", "pw123456").await;
    app.authed(Method::GET, &format!("/shopcarts/{pen}/"), &other).await.assert_status(404);
    app.authed(Method::DELETE, &format!("/shopcarts/{pen}/"), &other).await.assert_status(404);
    app.json(Method::PATCH, &format!("/shopcarts/{pen}/"), &json!({"nums": 1}), Some(&other)).await.assert_status(404);
    assert_eq!(app.authed(Method::GET, &format!("/shopcarts/{pen}/"), &token).await.json()["nums"], 5);
}

#[tokio::test]
async fn order_from_cart_with_server_total() {
    let Shop { app, token, book, pen } = shop().await;
    let t = Some(token.as_str());
    let blank = app
        .json(
            Method::POST,
            "/orders/",
            &json!({"post_script": "", "address": "", "signer_name": "", "singer_mobile": ""}),
            t,
        )
        .await;
    blank.assert_status(400);
    assert_eq!(
        blank.text(),
        r#"{"post_script":["该字段不能为空。"],"address":["该字段不能为空。"],"signer_name":["该字段不能为空。"],"singer_mobile":["该字段不能为空。"]}"#
    );
    assert_eq!(
        app.json(Method::POST, "/orders/", &json!({}), t).await.json(),
        json!({"post_script": ["该字段是必填项。"], "singer_mobile": ["该字段是必填项。"]})
    );
    assert_eq!(
        app.json(
            Method::POST,
            "/orders/",
            &json!({"post_script": "x", "singer_mobile": "1", "order_mount": "abc", "signer_name": "名".repeat(21)}),
            t
        )
        .await
        .json(),
        json!({"order_mount": ["请填写合法的数字。"], "signer_name": ["请确保这个字段不能超过 20 个字符。"]})
    );
    let empty = app.json(Method::POST, "/orders/", &checkout(json!(0)), t).await;
    empty.assert_status(400);
    assert_eq!(empty.json(), json!({"non_field_errors": ["购物车为空"]}));
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 0);

    // 99.9 × 3 is 299.70000000000005 in the browser's floats.
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 3).await;
    let stale = app.json(Method::POST, "/orders/", &checkout(json!(199.8)), t).await;
    stale.assert_status(400);
    assert!(stale.json()["order_mount"][0].as_str().unwrap().contains("299.70"), "{}", stale.text());
    let negative = app.json(Method::POST, "/orders/", &checkout(json!(-5)), t).await;
    negative.assert_status(400);
    assert_eq!(stock(&app, book).await, 29);

    let created = app.json(Method::POST, "/orders/", &checkout(json!(99.9 * 3.0)), t).await;
    created.assert_status(201);
    let order = created.json();
    assert!(created.text().contains(r#""order_mount":299.7,"#), "{}", created.text());
    assert_eq!(order["pay_status"], "paying");
    assert_eq!(order["pay_type"], "alipay");
    assert_eq!(order["trade_no"], Value::Null);
    let order_sn = order["order_sn"].as_str().unwrap();
    assert!(order_sn.len() <= 32 && order_sn.bytes().all(|b| b.is_ascii_digit()), "{order_sn}");
    let stored = order_info::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.order_mount_fen, 29970);
    assert_eq!(stock(&app, book).await, 26, "reserved at order time");
    assert_eq!(shopping_cart::Entity::find().count(&app.db).await.unwrap(), 0, "cart emptied");
    let line = order_goods::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((line.goods_id, line.goods_num, line.price_fen), (book, 3, 9990));

    // The price snapshot survives a price change; the detail nests lines with their goods.
    goods::Entity::update(goods::ActiveModel { id: Set(book), shop_price_fen: Set(1), ..Default::default() })
        .exec(&app.db)
        .await
        .unwrap();
    let id = order["id"].as_i64().unwrap();
    let detail = app.authed(Method::GET, &format!("/orders/{id}/"), &token).await.json();
    assert_eq!(detail["order_mount"], 299.7);
    assert_eq!(detail["user"], user_id);
    assert_eq!(detail["goods"][0]["goods"]["id"], book);
    assert_eq!(detail["goods"][0]["goods_num"], 3);
    assert_eq!(detail["goods"][0]["order"], id);
    let list = app.authed(Method::GET, "/orders/", &token).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["order_sn"], order_sn);

    // Client-written server fields are ignored.
    put_in_cart(&app, user_id, pen, 1).await;
    let mut body = checkout(json!(15));
    body["add_time"] = json!("2000-01-01 00:00:00");
    body["nonce_str"] = json!("mine");
    body["pay_status"] = json!("TRADE_SUCCESS");
    body["order_sn"] = json!("1");
    let second = app.json(Method::POST, "/orders/", &body, t).await.json();
    assert_eq!(second["pay_status"], "paying");
    assert_eq!(second["nonce_str"], Value::Null);
    assert_ne!(second["order_sn"], "1");
    assert!(!second["add_time"].as_str().unwrap().starts_with("2000"));
}

#[tokio::test]
async fn delete_only_unpaid_orders_and_restore_stock() {
    let Shop { app, token, book, pen } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 2).await;
    put_in_cart(&app, user_id, pen, 5).await;
    let order = app.json(Method::POST, "/orders/", &checkout(json!(274.8)), Some(&token)).await;
    order.assert_status(201);
    let id = order.json()["id"].as_i64().unwrap();
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (27, 0));

    let other = app.register("15912345678", "pw123456").await;
    app.authed(Method::GET, &format!("/orders/{id}/"), &other).await.assert_status(404);
    app.authed(Method::DELETE, &format!("/orders/{id}/"), &other).await.assert_status(404);
    app.json(Method::PATCH, &format!("/orders/{id}/"), &json!({}), Some(&token)).await.assert_status(405);

    app.authed(Method::DELETE, &format!("/orders/{id}/"), &token).await.assert_status(204);
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (29, 5));
    // Gone for the buyer, kept (closed) so that a payment that still arrives is matched.
    app.authed(Method::GET, &format!("/orders/{id}/"), &token).await.assert_status(404);
    assert_eq!(app.authed(Method::GET, "/orders/", &token).await.json(), json!([]));
    app.authed(Method::DELETE, &format!("/orders/{id}/"), &token).await.assert_status(404);
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (29, 5), "released once");
    let kept = order_info::Entity::find_by_id(id as i32).one(&app.db).await.unwrap().unwrap();
    assert_eq!(kept.pay_status, "TRADE_CLOSED");
    assert_eq!(order_goods::Entity::find().count(&app.db).await.unwrap(), 2);

    put_in_cart(&app, user_id, book, 1).await;
    let paid = app.json(Method::POST, "/orders/", &checkout(json!(99.9)), Some(&token)).await.json();
    let paid_id = paid["id"].as_i64().unwrap() as i32;
    order_info::Entity::update(order_info::ActiveModel {
        id: Set(paid_id),
        pay_status: Set("TRADE_SUCCESS".into()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    let refused = app.authed(Method::DELETE, &format!("/orders/{paid_id}/"), &token).await;
    refused.assert_status(400);
    assert_eq!(refused.json(), json!({"non_field_errors": ["只能删除待支付的订单（此订单状态为 TRADE_SUCCESS）。"]}));
    assert_eq!(stock(&app, book).await, 28);
}

#[tokio::test]
async fn insufficient_stock_changes_nothing_and_names_the_goods() {
    let Shop { app, token, book, pen } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 2).await;
    put_in_cart(&app, user_id, pen, 5).await;
    set_stock(&app, pen, 4).await;
    let refused = app.json(Method::POST, "/orders/", &checkout(json!(274.8)), Some(&token)).await;
    refused.assert_status(400);
    assert_eq!(refused.json(), json!({"non_field_errors": ["“钢笔” 库存不足"]}));
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (29, 4));
    assert_eq!(shopping_cart::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failure_after_reserving_leaves_everything_as_it_was() {
    let Shop { app, token, book, pen } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 2).await;
    put_in_cart(&app, user_id, pen, 1).await;
    app.failpoints.arm(shop::trade::checkout::FAIL_AFTER_RESERVATION);
    let failed = app.json(Method::POST, "/orders/", &checkout(json!(214.8)), Some(&token)).await;
    failed.assert_status(500);
    assert_eq!(failed.json(), json!({"detail": "服务器内部错误。"}), "no internals leak");
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (29, 5));
    assert_eq!(shopping_cart::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(order_goods::Entity::find().count(&app.db).await.unwrap(), 0);
    // The same checkout then succeeds.
    app.json(Method::POST, "/orders/", &checkout(json!(214.8)), Some(&token)).await.assert_status(201);
    assert_eq!((stock(&app, book).await, stock(&app, pen).await), (27, 4));
}

/// The order number is drawn at random; should it be taken, the unique index refuses the order
/// and it is placed again, whole, under another number.
#[tokio::test]
async fn an_order_whose_number_is_taken_is_placed_again_under_another() {
    let Shop { app, token, book, .. } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 1).await;
    let before = app.statement_count();
    let first = app.json(Method::POST, "/orders/", &checkout(json!(99.9)), Some(&token)).await;
    first.assert_status(201);
    let one_try = app.statement_count() - before;
    put_in_cart(&app, user_id, book, 1).await;
    app.failpoints.arm(shop::trade::checkout::FAIL_ORDER_SN_TAKEN);
    let before = app.statement_count();
    let second = app.json(Method::POST, "/orders/", &checkout(json!(99.9)), Some(&token)).await;
    second.assert_status(201);
    let both_tries = app.statement_count() - before;
    // The refused try ran at least the lock, the reads and the reservation before its insert.
    assert!(both_tries >= one_try + 5, "{both_tries} statements: the refused try, then the order ({one_try})");
    assert_ne!(second.json()["order_sn"], first.json()["order_sn"]);
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(order_goods::Entity::find().count(&app.db).await.unwrap(), 2, "nothing of the refused try");
    assert_eq!(stock(&app, book).await, 27, "reserved once per order");
    assert_eq!(shopping_cart::Entity::find().count(&app.db).await.unwrap(), 0);
}

/// `POST /orders/` with `body` as the shopper with `token`, optionally with an Idempotency-Key.
fn order_request(token: &str, key: Option<&str>, body: &Value) -> axum::http::Request<axum::body::Body> {
    let mut builder = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/orders/")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder.body(axum::body::Body::from(body.to_string())).unwrap()
}

async fn post_order(app: &TestApp, token: &str, key: Option<&str>) -> TestResponse {
    call(app.router.clone(), order_request(token, key, &checkout(json!(99.9)))).await
}

#[tokio::test]
async fn idempotency_keys_replay_the_same_order() {
    let Shop { app, token, book, .. } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 1).await;
    let first = post_order(&app, &token, Some("checkout-42")).await;
    first.assert_status(201);
    // The cart is empty now, yet the replay returns the same order, byte for byte.
    let replay = post_order(&app, &token, Some("checkout-42")).await;
    replay.assert_status(201);
    assert_eq!(replay.body, first.body);
    assert_eq!(stock(&app, book).await, 28, "nothing reserved twice");
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 1);

    // Another user's identical key is independent.
    let other = app.register("15912345678", "pw123456").await;
    put_in_cart(&app, TestApp::user_id(&other), book, 1).await;
    let theirs = post_order(&app, &other, Some("checkout-42")).await;
    theirs.assert_status(201);
    assert_ne!(theirs.json()["id"], first.json()["id"]);
    assert_eq!(stock(&app, book).await, 27);

    // Without a key, a double click makes one order and one "empty cart".
    put_in_cart(&app, user_id, book, 1).await;
    let (a, b) = tokio::join!(post_order(&app, &token, None), post_order(&app, &token, None));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 400], "{} / {}", a.text(), b.text());
    assert_eq!(
        order_info::Entity::find().filter(order_info::Column::UserId.eq(user_id)).count(&app.db).await.unwrap(),
        2
    );
    // Concurrent replays of one key: one order.
    put_in_cart(&app, user_id, book, 1).await;
    let (a, b) = tokio::join!(post_order(&app, &token, Some("k2")), post_order(&app, &token, Some("k2")));
    a.assert_status(201);
    b.assert_status(201);
    assert_eq!(a.body, b.body);
    let too_long = post_order(&app, &token, Some(&"k".repeat(101))).await;
    too_long.assert_status(400);
}

#[tokio::test]
async fn no_oversell_under_concurrency() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let goods_id = fx.goods_with("限量版", top, 9990, |g| g.goods_num = Set(10)).await;
    let mut buyers = Vec::new();
    for i in 0..100 {
        let token = app.user(&format!("buyer{i}"), false).await;
        buyers.push((TestApp::user_id(&token), token));
    }
    for round in 0..20 {
        set_stock(&app, goods_id, 10).await;
        shopping_cart::Entity::delete_many().exec(&app.db).await.unwrap();
        for (user_id, _) in &buyers {
            put_in_cart(&app, *user_id, goods_id, 1).await;
        }
        let before = order_info::Entity::find().count(&app.db).await.unwrap();
        let tasks: Vec<_> = buyers
            .iter()
            .map(|(_, token)| {
                let router = app.router.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    let request = order_request(&token, None, &checkout(json!(99.9)));
                    call(router, request).await
                })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            let response = task.await.unwrap();
            match response.status.as_u16() {
                201 => created += 1,
                400 => assert_eq!(response.json(), json!({"non_field_errors": ["“限量版” 库存不足"]})),
                other => panic!("round {round}: {other} {}", response.text()),
            }
        }
        assert_eq!(created, 10, "round {round}");
        assert_eq!(stock(&app, goods_id).await, 0, "round {round}");
        assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap() - before, 10, "round {round}");
    }
}

#[tokio::test]
async fn overlapping_orders_all_complete() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let mut goods_ids = Vec::new();
    for i in 0..4 {
        goods_ids.push(fx.goods_with(&format!("g{i}"), top, 100, |g| g.goods_num = Set(1000)).await);
    }
    let mut tasks = Vec::new();
    for i in 0..40 {
        let token = app.user(&format!("shopper{i}"), false).await;
        let user_id = TestApp::user_id(&token);
        // Each cart holds three of the four goods (a different one left out), added in an order
        // that changes from cart to cart.
        let mut chosen: Vec<i32> = goods_ids.iter().copied().filter(|&id| id != goods_ids[i % 4]).collect();
        chosen.rotate_left(i % 3);
        if i % 2 == 1 {
            chosen.reverse();
        }
        for id in chosen {
            put_in_cart(&app, user_id, id, 1).await;
        }
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let request = order_request(&token, None, &json!({"post_script": "x", "singer_mobile": "13800138000"}));
            call(router, request).await
        }));
    }
    for task in tasks {
        task.await.unwrap().assert_status(201);
    }
    let lines = order_goods::Entity::find().all(&app.db).await.unwrap();
    for id in goods_ids {
        let ordered: i32 = lines.iter().filter(|l| l.goods_id == id).map(|l| l.goods_num).sum();
        assert_eq!(stock(&app, id).await, 1000 - ordered);
    }
}

#[tokio::test]
async fn an_abandoned_request_still_finishes_its_transaction() {
    let Shop { app, token, book, .. } = shop().await;
    let user_id = TestApp::user_id(&token);
    let other = app.register("15912345678", "pw123456").await;
    put_in_cart(&app, user_id, book, 2).await;
    put_in_cart(&app, TestApp::user_id(&other), book, 1).await;
    // The client goes away while its order is being placed.
    let abandoned = tokio::spawn({
        let app_router = app.router.clone();
        let token = token.clone();
        async move {
            let request = order_request(&token, None, &checkout(json!(199.8)));
            call(app_router, request).await
        }
    });
    tokio::task::yield_now().await;
    abandoned.abort();
    // Another shopper's order on the same goods is not held up by locks left behind…
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), post_order(&app, &other, None)).await;
    next.expect("no lock left behind").assert_status(201);
    // …and the abandoned order either happened completely or not at all: the handler runs to
    // completion, so it is placed and the cart emptied, never one without the other.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let placed =
            order_info::Entity::find().filter(order_info::Column::UserId.eq(user_id)).count(&app.db).await.unwrap();
        let cart_left = shopping_cart::Entity::find()
            .filter(shopping_cart::Column::UserId.eq(user_id))
            .count(&app.db)
            .await
            .unwrap();
        if (placed, cart_left) == (1, 0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the handler did not run to completion: {placed} orders, {cart_left} cart lines"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(stock(&app, book).await, 29 - 2 - 1);
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let Shop { app, token, book, .. } = shop().await;
    let user_id = TestApp::user_id(&token);
    put_in_cart(&app, user_id, book, 1).await;
    let first = post_order(&app, &token, Some("checkout-7")).await;
    first.assert_status(201);
    let mut other_body = checkout(json!(99.9));
    other_body["address"] = json!("上海市浦东新区世纪大道100号");
    let reused = call(app.router.clone(), order_request(&token, Some("checkout-7"), &other_body)).await;
    reused.assert_status(422);
    assert!(reused.json()["detail"].as_str().unwrap().contains("Idempotency-Key"), "{}", reused.text());
    let replay = post_order(&app, &token, Some("checkout-7")).await;
    replay.assert_status(201);
    assert_eq!(replay.body, first.body, "the same key and body: the first order");

    // Keys compare byte for byte on every database (MySQL's default collation ignores case).
    put_in_cart(&app, user_id, book, 1).await;
    let upper = post_order(&app, &token, Some("CHECKOUT-7")).await;
    upper.assert_status(201);
    assert_ne!(upper.json()["id"], first.json()["id"], "another key, another order");
    assert_eq!(stock(&app, book).await, 27);
}

#[tokio::test]
async fn an_order_alipay_cannot_take_is_refused_and_holds_no_stock() {
    let Shop { app, token, .. } = shop().await;
    let top = app.fixture().category("赠品", 1, None, false).await;
    let free = app.fixture().goods_with("书签", top, 0, |g| g.goods_num = Set(10)).await;
    put_in_cart(&app, TestApp::user_id(&token), free, 2).await;
    let body = json!({"post_script": "x", "singer_mobile": "13800138000"});
    let response = call(app.router.clone(), order_request(&token, None, &body)).await;
    response.assert_status(400);
    assert!(response.json()["non_field_errors"][0].as_str().unwrap().contains("0.01"), "{}", response.text());
    assert_eq!(stock(&app, free).await, 10);

    // Above Alipay's 100 000 000.00 per trade: refused the same way.
    let dear = app.fixture().goods_with("孤本", top, 10_000_000_001, |g| g.goods_num = Set(1)).await;
    shopping_cart::Entity::delete_many().exec(&app.db).await.unwrap();
    put_in_cart(&app, TestApp::user_id(&token), dear, 1).await;
    let response = call(app.router.clone(), order_request(&token, None, &body)).await;
    response.assert_status(400);
    assert!(response.json()["non_field_errors"][0].as_str().unwrap().contains("100000000.00"), "{}", response.text());
    assert_eq!(stock(&app, dear).await, 1);
    assert_eq!(order_info::Entity::find().count(&app.db).await.unwrap(), 0);
}
