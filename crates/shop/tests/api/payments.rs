//! Payments without a gateway (contract §3.15–§3.16): the signed page-pay URL, notifications
//! signed with a test "Alipay" key — applied once, forgeries refused and recorded — the browser
//! return, late payments and refund rules.

use axum::http::Method;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use shop::db::entities::{goods, order_info, payment_event, refund};

use crate::support::{TEST_APP_ID, TestApp, TestResponse, test_key};

struct Paying {
    app: TestApp,
    token: String,
    goods_id: i32,
    order: Value,
}

/// A shopper with one unpaid order: 3 × 99.90.
async fn paying_order(adjust: impl FnOnce(&mut shop::Config)) -> Paying {
    let app = TestApp::with_config(adjust).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let goods_id = fx
        .goods_with("解忧杂货店", top, 9990, |g| {
            g.goods_num = Set(29);
            g.sold_num = Set(24);
        })
        .await;
    let token = app.register("13800138000", "pw123456").await;
    let t = Some(token.as_str());
    app.json(Method::POST, "/shopcarts/", &json!({"goods": goods_id, "nums": 3}), t).await.assert_status(201);
    let order = app
        .json(
            Method::POST,
            "/orders/",
            &json!({"post_script": "x", "singer_mobile": "13800138000", "order_mount": 299.7}),
            t,
        )
        .await;
    order.assert_status(201);
    Paying { app, token, goods_id, order: order.json() }
}

/// A notification as Alipay sends it, signed with the test "Alipay" key.
fn notification(order_sn: &str, status: &str, amount: &str, extra: &[(&str, &str)]) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("gmt_create", "2026-11-26 10:00:00"),
        ("charset", "utf-8"),
        ("seller_email", "shop@example.com"),
        ("subject", "mxshop 订单"),
        ("buyer_id", "2088102000000001"),
        ("invoice_amount", amount),
        ("notify_id", "2026112600222100000000000001"),
        ("fund_bill_list", r#"[{"amount":"299.70","fundChannel":"ALIPAYACCOUNT"}]"#),
        ("notify_type", "trade_status_sync"),
        ("trade_status", status),
        ("receipt_amount", amount),
        ("app_id", TEST_APP_ID),
        ("buyer_pay_amount", amount),
        ("sign_type", "RSA2"),
        ("seller_id", "2088102000000002"),
        ("gmt_payment", "2026-11-26 10:00:05"),
        ("notify_time", "2026-11-26 10:00:06"),
        ("version", "1.0"),
        ("out_trade_no", order_sn),
        ("total_amount", amount),
        ("trade_no", "2026112622001400000000000001"),
        ("auth_app_id", TEST_APP_ID),
        ("buyer_logon_id", "abc***@example.com"),
        ("point_amount", "0.00"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (name, value) in extra {
        match fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = (*value).to_owned(),
            None => fields.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    let key = alipay::PrivateKey::from_file(test_key("alipay_private_pkcs8.pem")).unwrap();
    let signature = key
        .sign_rsa2(alipay::sign::canonical_notification_string(fields.iter().map(|(k, v)| (k, v))).as_bytes())
        .unwrap();
    fields.push(("sign".into(), signature));
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

async fn notify(app: &TestApp, body: &str) -> TestResponse {
    app.post("/alipay/return/", "application/x-www-form-urlencoded; charset=utf-8", body).await
}

/// The order list (JSON built by the database) shows each order as its detail (read as rows)
/// does, field for field, in id order.
async fn list_agrees_with_details(app: &TestApp, token: &str, expected: usize) {
    let listed = app.authed(Method::GET, "/orders/", token).await.json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), expected);
    let ids: Vec<i64> = listed.iter().map(|order| order["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    for order in listed {
        let detail = app.authed(Method::GET, &format!("/orders/{}/", order["id"]), token).await.json();
        let fields = order.as_object().unwrap();
        assert_eq!(fields.len(), 14);
        for (field, value) in fields {
            assert_eq!(*value, detail[field], "{field} of order {}", order["id"]);
        }
        assert!(order["add_time"].as_str().is_some_and(|time| time.len() == 19));
    }
}

async fn order_row(app: &TestApp, id: i64) -> order_info::Model {
    order_info::Entity::find_by_id(id as i32).one(&app.db).await.unwrap().unwrap()
}

async fn sold(app: &TestApp, goods_id: i32) -> i32 {
    goods::Entity::find_by_id(goods_id).one(&app.db).await.unwrap().unwrap().sold_num
}

async fn verdicts(app: &TestApp) -> Vec<String> {
    payment_event::Entity::find()
        .order_by_asc(payment_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.verdict)
        .collect()
}

#[tokio::test]
async fn unpaid_orders_carry_a_signed_page_pay_url() {
    let Paying { app, token, order, .. } = paying_order(|_| {}).await;
    let url = order["alipay_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:9/gateway.do?"), "{url}");
    let query = url.split_once('?').unwrap().1;
    let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let app_public = alipay::PublicKeyRsa::from_file(test_key("app_public_spki.pem")).unwrap();
    alipay::sign::verify_request(&fields, &app_public).expect("signed with the app key");
    assert_eq!(get("method"), "alipay.trade.page.pay");
    assert_eq!(get("app_id"), TEST_APP_ID);
    assert_eq!(get("notify_url"), "http://127.0.0.1:8000/alipay/return/");
    assert_eq!(get("return_url"), "http://127.0.0.1:8000/alipay/return/");
    let biz: Value = serde_json::from_str(&get("biz_content")).unwrap();
    assert_eq!(biz["out_trade_no"], order["order_sn"]);
    assert_eq!(biz["total_amount"], "299.70");
    assert_eq!(biz["product_code"], "FAST_INSTANT_TRADE_PAY");
    let stored = order_row(&app, order["id"].as_i64().unwrap()).await;
    let deadline = stored.expire_at - stored.add_time;
    assert_eq!(deadline.num_seconds(), 1800);
    assert!(biz["time_expire"].as_str().is_some());

    // Lists and details reuse the signed URL instead of signing again.
    let list = app.authed(Method::GET, "/orders/", &token).await.json();
    assert_eq!(list[0]["alipay_url"], url);
    let detail = app.authed(Method::GET, &format!("/orders/{}/", order["id"]), &token).await.json();
    assert_eq!(detail["alipay_url"], url);
    list_agrees_with_details(&app, &token, 1).await;
}

#[tokio::test]
async fn a_notification_pays_the_order_once() {
    let Paying { app, token, goods_id, order } = paying_order(|_| {}).await;
    let order_sn = order["order_sn"].as_str().unwrap();
    let body = notification(order_sn, "TRADE_SUCCESS", "299.70", &[]);
    let response = notify(&app, &body).await;
    response.assert_status(200);
    assert_eq!(response.text(), "success");
    assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
    let paid = order_row(&app, order["id"].as_i64().unwrap()).await;
    assert_eq!(paid.pay_status, "TRADE_SUCCESS");
    assert_eq!(paid.trade_no.as_deref(), Some("2026112622001400000000000001"));
    assert!(paid.pay_time.is_some());
    assert_eq!(sold(&app, goods_id).await, 27);

    // A delivery of a payment the order already has reads the order and records the event,
    // without a transaction (the order cannot become unpaid again).
    let before = app.statement_count();
    assert_eq!(notify(&app, &body).await.text(), "success");
    assert_eq!(app.statement_count() - before, 2, "statements for a duplicate");

    // Alipay retries: 7 more in a row, then 10 at once — nothing changes again.
    for _ in 0..7 {
        assert_eq!(notify(&app, &body).await.text(), "success");
    }
    let concurrent: Vec<_> = (0..10)
        .map(|_| {
            let router = app.router.clone();
            let body = body.clone();
            tokio::spawn(async move { crate::support::call(router, notification_request(body)).await })
        })
        .collect();
    for task in concurrent {
        assert_eq!(task.await.unwrap().text(), "success");
    }
    assert_eq!(sold(&app, goods_id).await, 27, "sold_num counted once");
    let recorded = verdicts(&app).await;
    assert_eq!(recorded.len(), 19);
    assert_eq!(recorded.iter().filter(|v| *v == "applied").count(), 1);
    assert_eq!(recorded.iter().filter(|v| *v == "duplicate").count(), 18);

    // The paid order shows as paid, without a pay URL, and cannot be deleted.
    let listed = app.authed(Method::GET, "/orders/", &token).await.json();
    assert_eq!(listed[0]["pay_status"], "TRADE_SUCCESS");
    assert_eq!(listed[0]["alipay_url"], Value::Null);
    list_agrees_with_details(&app, &token, 1).await;
    // With an unpaid order after it, and a cancelled one (hidden) after that.
    for _ in 0..2 {
        let t = Some(token.as_str());
        app.json(Method::POST, "/shopcarts/", &json!({"goods": goods_id, "nums": 1}), t).await.assert_status(201);
        let body = json!({"post_script": "y", "singer_mobile": "13800138000"});
        app.json(Method::POST, "/orders/", &body, t).await.assert_status(201);
    }
    let newest = app.authed(Method::GET, "/orders/", &token).await.json()[2]["id"].clone();
    app.authed(Method::DELETE, &format!("/orders/{newest}/"), &token).await.assert_status(204);
    list_agrees_with_details(&app, &token, 2).await;
    app.authed(Method::DELETE, &format!("/orders/{}/", order["id"]), &token).await.assert_status(400);

    // TRADE_FINISHED later moves it on, without counting sales again.
    let finished = notification(order_sn, "TRADE_FINISHED", "299.70", &[("notify_id", "n-finished")]);
    assert_eq!(notify(&app, &finished).await.text(), "success");
    assert_eq!(order_row(&app, order["id"].as_i64().unwrap()).await.pay_status, "TRADE_FINISHED");
    assert_eq!(sold(&app, goods_id).await, 27);
}

#[tokio::test]
async fn forgeries_and_mismatches_are_refused_and_recorded() {
    let Paying { app, goods_id, order, .. } =
        paying_order(|config| config.alipay.seller_id = Some("2088102000000002".into())).await;
    let order_sn = order["order_sn"].as_str().unwrap();
    let id = order["id"].as_i64().unwrap();
    let genuine = notification(order_sn, "TRADE_SUCCESS", "299.70", &[]);
    let tampered = genuine.replace("total_amount=299.70", "total_amount=0.01");
    let cases = [
        (tampered, "bad_signature"),
        (genuine.replace("&sign=", "&sign=AAAA"), "bad_signature"),
        (genuine.split("&sign=").next().unwrap().to_owned(), "bad_signature"),
        (notification(order_sn, "TRADE_SUCCESS", "299.70", &[("app_id", "2021000000009999")]), "app_mismatch"),
        (notification(order_sn, "TRADE_SUCCESS", "299.70", &[("seller_id", "2088000000000000")]), "seller_mismatch"),
        (notification(order_sn, "TRADE_SUCCESS", "0.01", &[]), "amount_mismatch"),
        (notification("20990101000000000000000000000", "TRADE_SUCCESS", "299.70", &[]), "unknown_order"),
        ("garbage=%%".to_owned(), "bad_signature"),
    ];
    for (body, verdict) in &cases {
        let response = notify(&app, body).await;
        response.assert_status(400);
        assert_eq!(response.text(), "fail");
        assert_eq!(verdicts(&app).await.last().map(String::as_str), Some(*verdict));
    }
    let unchanged = order_row(&app, id).await;
    assert_eq!(unchanged.pay_status, "paying");
    assert_eq!(unchanged.trade_no, None);
    assert_eq!(sold(&app, goods_id).await, 24);

    // Paid, then a TRADE_CLOSED for it: recorded, acknowledged, the order stays paid.
    assert_eq!(notify(&app, &genuine).await.text(), "success");
    let closed = notification(order_sn, "TRADE_CLOSED", "299.70", &[("notify_id", "n-closed")]);
    assert_eq!(notify(&app, &closed).await.text(), "success");
    assert_eq!(verdicts(&app).await.last().map(String::as_str), Some("ignored"));
    assert_eq!(order_row(&app, id).await.pay_status, "TRADE_SUCCESS");
    assert_eq!(sold(&app, goods_id).await, 27);
}

#[tokio::test]
async fn the_browser_return_never_pays_by_itself() {
    let Paying { app, order, .. } = paying_order(|_| {}).await;
    let order_sn = order["order_sn"].as_str().unwrap();
    let bad = app.get("/alipay/return/?out_trade_no=1&sign=x").await;
    bad.assert_status(302);
    assert_eq!(bad.header("location"), Some("/index/"));
    app.get("/alipay/return/").await.assert_status(302);

    // A correctly signed return: the shop asks the gateway (unreachable here), so nothing changes.
    let mut fields: Vec<(String, String)> = [
        ("charset", "utf-8"),
        ("out_trade_no", order_sn),
        ("method", "alipay.trade.page.pay.return"),
        ("total_amount", "299.70"),
        ("trade_no", "2026112622001400000000000001"),
        ("auth_app_id", TEST_APP_ID),
        ("version", "1.0"),
        ("app_id", TEST_APP_ID),
        ("sign_type", "RSA2"),
        ("seller_id", "2088102000000002"),
        ("timestamp", "2026-11-26 10:00:07"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let key = alipay::PrivateKey::from_file(test_key("alipay_private_pkcs8.pem")).unwrap();
    let signature = key
        .sign_rsa2(alipay::sign::canonical_notification_string(fields.iter().map(|(k, v)| (k, v))).as_bytes())
        .unwrap();
    fields.push(("sign".into(), signature));
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let returned = app.get(&format!("/alipay/return/?{query}")).await;
    returned.assert_status(302);
    assert_eq!(returned.header("location"), Some("/index/#/app/home/member/order"));
    assert_eq!(order_row(&app, order["id"].as_i64().unwrap()).await.pay_status, "paying");
}

#[tokio::test]
async fn a_payment_for_a_closed_order_is_refunded() {
    let Paying { app, goods_id, order, .. } = paying_order(|_| {}).await;
    let id = order["id"].as_i64().unwrap() as i32;
    assert!(
        shop::payments::apply::close_unpaid(&app.db, id, shop::trade::status::PayEvent::Expired, false, None)
            .await
            .unwrap()
    );
    assert_eq!(
        goods::Entity::find_by_id(goods_id).one(&app.db).await.unwrap().unwrap().goods_num,
        29,
        "stock released"
    );
    let late = notification(order["order_sn"].as_str().unwrap(), "TRADE_SUCCESS", "299.70", &[]);
    let response = notify(&app, &late).await;
    assert_eq!(response.text(), "success", "recorded and acknowledged");
    assert_eq!(order_row(&app, id as i64).await.pay_status, "TRADE_CLOSED");
    assert_eq!(sold(&app, goods_id).await, 24);
    let refunds = refund::Entity::find().filter(refund::Column::OrderId.eq(id)).all(&app.db).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].out_request_no, format!("late-{}", order["order_sn"].as_str().unwrap()));
    assert_eq!(refunds[0].amount_fen, 29970);
    // The gateway is unreachable here: the outcome is unknown, so the refund is pending (not
    // failed, which would release the amount) with the reason for the operator, and due for the
    // job; a repeated notification does not create a second refund.
    assert_eq!(refunds[0].status, "pending");
    assert!(refunds[0].last_error.as_deref().is_some_and(|e| e.contains("outcome unknown")), "{:?}", refunds[0]);
    assert!(refunds[0].next_check_at.is_some_and(|at| at <= chrono::Utc::now().naive_utc()));
    notify(&app, &late).await;
    assert_eq!(refund::Entity::find().all(&app.db).await.unwrap().len(), 1);
    assert_eq!(verdicts(&app).await, ["late_payment", "late_payment"]);
    // The job asks again; still no answer: it stays pending and backs off instead of retrying
    // at every run (the job settling it against the sandbox is in `ledger.rs`).
    let state = job_state(&app);
    assert_eq!(shop::payments::jobs::run_once(&state).await.unwrap().refunds_settled, 0);
    let retried = refund::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((retried.status.as_str(), retried.check_attempts), ("pending", 1));
    assert!(retried.next_check_at.is_some_and(|at| at > chrono::Utc::now().naive_utc()), "backing off");
}

#[tokio::test]
async fn refunds_are_for_staff_and_never_exceed_the_payment() {
    let Paying { app, token, order, .. } = paying_order(|_| {}).await;
    let id = order["id"].as_i64().unwrap();
    let uri = format!("/admin/orders/{id}/refund/");
    let refused = app.json(Method::POST, &uri, &json!({"amount": "1.00"}), Some(&token)).await;
    refused.assert_status(403);
    assert_eq!(refused.json(), json!({"detail": "您没有执行该操作的权限。"}));
    app.send(Method::POST, &uri, &[]).await.assert_status(401);

    let staff = app.user("staff", false).await;
    let staff_id = TestApp::user_id(&staff);
    shop::db::entities::user::Entity::update(shop::db::entities::user::ActiveModel {
        id: Set(staff_id),
        is_superuser: Set(true),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    let s = Some(staff.as_str());
    let unpaid = app.json(Method::POST, &uri, &json!({"amount": "1.00"}), s).await;
    unpaid.assert_status(400);
    assert_eq!(unpaid.json(), json!({"non_field_errors": ["只能对已支付的订单退款（此订单状态为 paying）。"]}));
    for bad in ["0", "-1", "1.234", "abc"] {
        let response = app.json(Method::POST, &uri, &json!({"amount": bad}), s).await;
        response.assert_status(400);
        assert!(response.json()["amount"].is_array(), "{bad}");
    }
    assert_eq!(
        notify(&app, &notification(order["order_sn"].as_str().unwrap(), "TRADE_SUCCESS", "299.70", &[])).await.text(),
        "success"
    );
    let over = app.json(Method::POST, &uri, &json!({"amount": "299.71"}), s).await;
    over.assert_status(400);
    assert_eq!(over.json(), json!({"amount": ["退款总额不能超过实付金额：已退 0.00，可退 299.70。"]}));
    app.authed(Method::GET, "/admin/orders/999999/refund/", &staff).await.assert_status(404);
    assert_eq!(app.authed(Method::GET, &uri, &staff).await.json(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_deliveries_pay_once() {
    let Paying { app, goods_id, order, .. } = paying_order(|_| {}).await;
    let body = notification(order["order_sn"].as_str().unwrap(), "TRADE_SUCCESS", "299.70", &[]);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10));
    let deliveries: Vec<_> = (0..10)
        .map(|_| {
            let router = app.router.clone();
            let body = body.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let request = notification_request(body);
                barrier.wait().await;
                crate::support::call(router, request).await
            })
        })
        .collect();
    for delivery in deliveries {
        let response = delivery.await.unwrap();
        assert_eq!(response.text(), "success", "{:?}", response.status);
    }
    assert_eq!(order_row(&app, order["id"].as_i64().unwrap()).await.pay_status, "TRADE_SUCCESS");
    assert_eq!(sold(&app, goods_id).await, 27, "sold_num counted once");
    let recorded = verdicts(&app).await;
    assert_eq!(recorded.iter().filter(|v| *v == "applied").count(), 1, "{recorded:?}");
    assert_eq!(recorded.iter().filter(|v| *v == "duplicate").count(), 9, "{recorded:?}");
}

#[tokio::test]
async fn a_payment_window_alipay_cannot_honour_is_refused_at_startup() {
    for secs in [0, 59, 15 * 24 * 3600 + 1] {
        let app = TestApp::new().await;
        let mut config = app.config.clone();
        config.alipay.payment_window_secs = secs;
        let http = shop::outbound::http_client().unwrap();
        let keys = shop::secrets::Keys::load(&config).unwrap();
        let sms = std::sync::Arc::new(shop::accounts::sms::LogSms::default());
        let refused = shop::AppState::with_services(app.db.clone(), config, keys, sms, http);
        let error = refused.err().unwrap_or_else(|| panic!("payment_window_secs = {secs} was accepted"));
        assert!(format!("{error:#}").contains("payment_window_secs"), "{error:#}");
    }
}

#[tokio::test]
async fn a_job_that_cannot_close_orders_backs_off_and_reaches_every_due_order() {
    // The gateway is unreachable here: no order can be closed, and none may be.
    let Paying { app, token, .. } = paying_order(|_| {}).await;
    let user_id = TestApp::user_id(&token);
    let long_ago = chrono::Utc::now().naive_utc() - chrono::TimeDelta::hours(2);
    for i in 0..101 {
        order_info::Entity::insert(order_info::ActiveModel {
            user_id: Set(user_id),
            order_sn: Set(format!("2026113000000000000{i:03}")),
            pay_status: Set("paying".into()),
            pay_type: Set("alipay".into()),
            post_script: Set(String::new()),
            order_mount_fen: Set(100),
            address: Set(String::new()),
            signer_name: Set(String::new()),
            singer_mobile: Set("13800138000".into()),
            expire_at: Set(long_ago + chrono::TimeDelta::seconds(i)),
            add_time: Set(long_ago),
            ..Default::default()
        })
        .exec(&app.db)
        .await
        .unwrap();
    }
    let state = job_state(&app);
    shop::payments::jobs::run_once(&state).await.unwrap();
    shop::payments::jobs::run_once(&state).await.unwrap();
    let orders: Vec<_> = order_info::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.order_sn.starts_with("2026113000000000000"))
        .collect();
    assert_eq!(orders.len(), 101);
    let never_tried: Vec<_> = orders.iter().filter(|o| o.checked_at.is_none()).map(|o| &o.order_sn).collect();
    assert!(never_tried.is_empty(), "orders starved behind ones that keep failing: {never_tried:?}");
    assert!(orders.iter().all(|o| o.pay_status == "paying"), "an unknown outcome closes nothing");
}

/// `POST /alipay/return/` with a notification's form body, as a request the router can take.
fn notification_request(body: String) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method(Method::POST)
        .uri("/alipay/return/")
        .header("host", "127.0.0.1:8000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap()
}

/// The state a background job runs with, on the app's database and configuration.
fn job_state(app: &TestApp) -> shop::AppState {
    shop::AppState::with_services(
        app.db.clone(),
        app.config.clone(),
        shop::secrets::Keys::load(&app.config).unwrap(),
        std::sync::Arc::new(shop::accounts::sms::LogSms::default()),
        shop::outbound::http_client().unwrap(),
    )
    .unwrap()
}
