//! End to end over HTTP only, with the built-in Alipay sandbox: register → cart → order → follow
//! `alipay_url` → Pay → notification → paid once → the return lands on the orders page.

use std::time::Duration;

use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use shop::db::entities::{goods, payment_event, refund};

use crate::support::TestApp;

pub(crate) async fn sold(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().sold_num
}

#[tokio::test]
async fn pay_with_the_builtin_sandbox() {
    let shop = TestApp::served().await;
    let fx = crate::support::Fixture { db: &shop.db };
    let top = fx.category("文学类", 1, None, true).await;
    let goods_id = fx.goods_with("解忧杂货店", top, 9990, |g| g.sold_num = Set(24)).await;
    let post = reqwest::Method::POST;

    let mobile = "13800138000";
    assert_eq!(shop.fetch(post.clone(), "/code/", json!({"mobile": mobile}), None).await.0, 201);
    let code = shop.sms.last_code(mobile).unwrap();
    let (status, registered) = shop
        .fetch(post.clone(), "/users/", json!({"username": mobile, "password": "pw123456", "code": code}), None)
        .await;
    assert_eq!(status, 201);
    let token = registered["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    assert_eq!(shop.fetch(post.clone(), "/shopcarts/", json!({"goods": goods_id, "nums": 3}), t).await.0, 201);
    let (status, order) = shop
        .fetch(post.clone(), "/orders/", json!({"post_script": "快", "singer_mobile": mobile, "order_mount": 299.7}), t)
        .await;
    assert_eq!(status, 201, "{order}");
    let alipay_url = order["alipay_url"].as_str().unwrap();
    assert!(alipay_url.starts_with(&format!("{}/sandbox/alipay/gateway.do?", shop.base)), "{alipay_url}");

    // The cashier: opening it creates the trade; it shows the amount and the order number.
    let cashier = shop.http.get(alipay_url).send().await.unwrap();
    assert_eq!(cashier.status().as_u16(), 200);
    let page = cashier.text().await.unwrap();
    assert!(page.contains("299.70") && page.contains(order["order_sn"].as_str().unwrap()), "{page}");
    let trade_no = page.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // Pay: the browser is sent to return_url with the signed return fields.
    let paid = shop
        .http
        .post(format!("{}/sandbox/alipay/cashier/pay", shop.base))
        .form(&[("trade_no", trade_no.as_str())])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_redirection(), "{}", paid.status());
    let return_url = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(return_url.starts_with(&format!("{}/alipay/return/?", shop.base)), "{return_url}");
    let returned = shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(returned.status().as_u16(), 302);
    assert_eq!(returned.headers()["location"], "/index/#/app/home/member/order");

    // The notification arrives (and the return asked the gateway too): paid exactly once.
    let id = order["id"].as_i64().unwrap();
    let mut status = String::new();
    let mut notified = false;
    for _ in 0..100 {
        let (_, detail) = shop.fetch(reqwest::Method::GET, &format!("/orders/{id}/"), Value::Null, t).await;
        status = detail["pay_status"].as_str().unwrap_or_default().to_owned();
        notified = payment_event::Entity::find()
            .all(&shop.db)
            .await
            .unwrap()
            .iter()
            .any(|e| e.notify_id != "return" && e.notify_id != "reconcile");
        if status == "TRADE_SUCCESS" && notified {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "TRADE_SUCCESS");
    assert!(notified, "the sandbox's notification reached /alipay/return/");
    assert_eq!(sold(&shop.db, goods_id).await, 27, "sold_num up once");
    let events = payment_event::Entity::find().all(&shop.db).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.verdict == "applied").count(), 1, "{events:?}");
    let (_, listed) = shop.fetch(reqwest::Method::GET, "/orders/", Value::Null, t).await;
    assert_eq!(listed[0]["pay_status"], "TRADE_SUCCESS");
    assert_eq!(listed[0]["alipay_url"], Value::Null);
}

pub(crate) async fn stock(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().goods_num
}

pub(crate) async fn shelf(shop: &TestApp) -> i32 {
    let fx = crate::support::Fixture { db: &shop.db };
    let top = fx.category("文学类", 1, None, true).await;
    fx.goods_with("解忧杂货店", top, 9990, |g| {
        g.sold_num = Set(24);
        g.goods_num = Set(29);
    })
    .await
}

#[tokio::test]
async fn lost_notifications_are_recovered_by_reconciliation() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 2).await;
    let _ignored_return = shop.pay(&order).await;
    // The sandbox has tried to notify (and dropped it): the shop heard nothing.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.sandbox().snapshot().await.notifications.iter().all(|n| n.attempts.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "the sandbox made no delivery attempt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(shop.order_row(&order).await.pay_status, "paying", "no notification, no return: not paid yet");

    // A young order is left to its notification; one older than two minutes is asked about.
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap().reconciled, 0);
    shop.clock.advance(chrono::TimeDelta::minutes(3));
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(report.reconciled, 1);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");
    assert_eq!(sold(&shop.db, goods_id).await, 26);
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap(), Default::default(), "nothing left to do");
    assert_eq!(sold(&shop.db, goods_id).await, 26);
}

#[tokio::test]
async fn unpaid_orders_expire_and_release_stock() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let order = shop.order(&token, goods_id, 4).await;
    // The buyer opens the cashier but never pays.
    let trade_no = shop.open_cashier(&order).await;
    assert_eq!(stock(&shop.db, goods_id).await, 25);
    // Not before its deadline…
    let deadline = shop.order_row(&order).await.expire_at;
    shop.clock.advance(deadline - shop::clock::now_utc() - chrono::TimeDelta::seconds(60));
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap().expired, 0);
    // …and once it has passed.
    shop.clock.advance(chrono::TimeDelta::seconds(61));
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED");
    assert_eq!(stock(&shop.db, goods_id).await, 29, "stock released");
    // The trade is closed at the gateway too: the cashier can no longer take the payment.
    let paid = shop
        .http
        .post(format!("{}/sandbox/alipay/cashier/pay", shop.base))
        .form(&[("trade_no", trade_no.as_str())])
        .send()
        .await
        .unwrap();
    assert!(!paid.status().is_redirection(), "the closed trade took a payment: {}", paid.status());
    let trade = shop.sandbox().snapshot().await.trades.into_iter().find(|t| t.trade_no == trade_no).unwrap();
    assert_eq!(trade.status, alipay::TradeStatus::TradeClosed);
    let again = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(again.expired, 0, "closed once");
    assert_eq!(stock(&shop.db, goods_id).await, 29);
}

#[tokio::test]
async fn a_late_payment_is_refunded_through_the_gateway() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 1).await;
    let return_url = shop.pay(&order).await;
    // The expiry ran just before the payment landed.
    assert!(
        shop::payments::apply::close_unpaid(
            &shop.db,
            shop.order_row(&order).await.id,
            shop::trade::status::PayEvent::Expired,
            false,
            None
        )
        .await
        .unwrap()
    );
    let returned = shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(returned.status().as_u16(), 302);
    let row = shop.order_row(&order).await;
    assert_eq!(row.pay_status, "TRADE_CLOSED", "stays closed");
    assert_eq!(sold(&shop.db, goods_id).await, 24);
    let refunds = refund::Entity::find().all(&shop.db).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!((refunds[0].amount_fen, refunds[0].status.as_str()), (9990, "succeeded"));
}

#[tokio::test]
async fn staff_refunds_partial_partial_over_rest() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&token, goods_id, 3).await;
    let return_url = shop.pay(&order).await;
    shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");

    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let post = reqwest::Method::POST;
    let s = Some(staff.as_str());
    let (status, first) =
        shop.fetch(post.clone(), &uri, json!({"amount": "100.00", "reason": "破损", "out_request_no": "r-1"}), s).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["amount"], 100.0);
    let (status, second) = shop.fetch(post.clone(), &uri, json!({"amount": "50", "reason": "补偿"}), s).await;
    assert_eq!((status, second["status"].as_str()), (201, Some("succeeded")));
    let (status, over) = shop.fetch(post.clone(), &uri, json!({"amount": "149.71"}), s).await;
    assert_eq!(status, 400, "{over}");
    assert_eq!(over, json!({"amount": ["退款总额不能超过实付金额：已退 150.00，可退 149.70。"]}));
    let (status, replay) =
        shop.fetch(post.clone(), &uri, json!({"amount": "100.00", "out_request_no": "r-1"}), s).await;
    assert_eq!(status, 200, "a replay is the same refund");
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");
    let (status, rest) = shop.fetch(post, &uri, json!({"amount": "149.70"}), s).await;
    assert_eq!((status, rest["status"].as_str()), (201, Some("succeeded")));
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED", "a full refund closes the order");
    let (_, listed) = shop.fetch(reqwest::Method::GET, &uri, Value::Null, s).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let refunded: i64 = refund::Entity::find().all(&shop.db).await.unwrap().iter().map(|r| r.amount_fen).sum();
    assert_eq!(refunded, 29970);
}
