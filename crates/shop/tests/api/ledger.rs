//! Money at every edge, against the real server and the built-in sandbox over HTTP: buyer cancel
//! as a transition (a payment that still arrives is refunded), refunds that stay pending until
//! Alipay says what happened, reconciliation with `seller_id` set, late payments told apart from
//! re-deliveries, jobs that back off and never close on an answer that proves nothing, and the
//! races between cancel, payment and expiry.

use shop::clock::Clock as _;
use std::time::Duration;

use chrono::Timelike;

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shop::db::entities::{order_info, refund};

use crate::checkout::{shelf, sold, stock};
use crate::faults::{Fault, FaultyNetwork};
use crate::support::TestApp;

/// The shop behind a faulty network: every gateway call goes through the proxy.
async fn shop_behind_faults(adjust: impl FnOnce(&mut shop::Config)) -> (TestApp, FaultyNetwork) {
    let (listener, proxy) = FaultyNetwork::bind().await;
    let public = proxy.clone();
    let shop = TestApp::builder()
        .sandbox()
        .config(move |config| {
            config.alipay.public_url = Some(public);
            config.alipay.request_timeout_ms = 2000;
            adjust(config);
        })
        .serve()
        .await;
    let key = shop.data.path().join("alipay").join("sandbox_alipay_private_key.pem");
    let network = FaultyNetwork::serve(listener, shop.base.clone(), key);
    (shop, network)
}

/// Pays the order at the cashier and follows the browser back (which asks the gateway).
async fn pay_and_return(shop: &TestApp, order: &Value) {
    let return_url = shop.pay(order).await;
    assert_eq!(shop.http.get(&return_url).send().await.unwrap().status().as_u16(), 302);
    assert_eq!(shop.order_row(order).await.pay_status, "TRADE_SUCCESS");
}

/// Beyond any order's payment deadline (the default payment window is 30 minutes).
const PAST_THE_DEADLINE: chrono::TimeDelta = chrono::TimeDelta::minutes(40);
/// Old enough for an unpaid order to be asked about (after 2 minutes), well before its deadline.
const ASKED_ABOUT: chrono::TimeDelta = chrono::TimeDelta::minutes(3);

async fn refunds_of(shop: &TestApp, order: &Value) -> Vec<refund::Model> {
    refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order["id"].as_i64().unwrap() as i32))
        .all(&shop.db)
        .await
        .unwrap()
}

/// Money the sandbox moved back for the order.
async fn refunded_at_gateway(shop: &TestApp, order: &Value) -> (usize, i64) {
    let snapshot = shop.sandbox().snapshot().await;
    let sn = order["order_sn"].as_str().unwrap();
    let refunds: Vec<_> = snapshot.refunds.iter().filter(|r| r.out_trade_no == sn).collect();
    (refunds.len(), refunds.iter().map(|r| r.refund_amount.fen()).sum())
}

/// A notification for the order signed with the sandbox's key, as the sandbox would send it.
fn signed_notification(shop: &TestApp, row: &order_info::Model, trade_no: &str, status: &str) -> String {
    let amount = format!("{}.{:02}", row.order_mount_fen / 100, row.order_mount_fen % 100);
    let app_id = shop.state.config.alipay.app_id.clone();
    let fields: Vec<(String, String)> = [
        ("app_id", app_id.as_str()),
        ("auth_app_id", app_id.as_str()),
        ("charset", "utf-8"),
        ("gmt_payment", "2026-11-30 10:00:05"),
        ("notify_id", "redelivered-original"),
        ("notify_time", "2026-11-30 10:00:06"),
        ("notify_type", "trade_status_sync"),
        ("out_trade_no", row.order_sn.as_str()),
        ("seller_id", alipay_sandbox::DEFAULT_SELLER_ID),
        ("sign_type", "RSA2"),
        ("total_amount", amount.as_str()),
        ("trade_no", trade_no),
        ("trade_status", status),
        ("version", "1.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let key =
        alipay::PrivateKey::from_file(shop.data.path().join("alipay").join("sandbox_alipay_private_key.pem")).unwrap();
    let sign = alipay::sign::sign_notification(&fields, &key).unwrap();
    let mut body = fields;
    body.push(("sign".into(), sign));
    form_urlencoded::Serializer::new(String::new()).extend_pairs(body).finish()
}

async fn deliver(shop: &TestApp, body: &str) -> String {
    let response = shop
        .http
        .post(format!("{}/alipay/return/", shop.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

/// A full refund whose call to Alipay meets `fault`: it ends `expected` at once, a second refund
/// is refused while it is pending (allowed once it failed), and the job settles a pending one
/// against the sandbox — refunded exactly once at the gateway.
async fn refund_meets(fault: Fault, expected: &str) {
    let (shop, network) = shop_behind_faults(|_| {}).await;
    let goods_id = shelf(&shop).await;
    let buyer = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let s = Some(staff.as_str());
    // Refund notifications would settle some of these on their own; here only the job may.
    shop.sandbox().drop_next_deliveries(10_000).await.unwrap();
    let order = shop.order(&buyer, goods_id, 1).await;
    pay_and_return(&shop, &order).await;
    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    network.inject("alipay.trade.refund", fault);
    let (status, body) =
        shop.fetch(reqwest::Method::POST, &uri, json!({"amount": "99.90", "out_request_no": "fault-1"}), s).await;
    assert_eq!((status, body["status"].as_str()), (201, Some(expected)), "{body}");
    assert!(body["last_error"].is_string(), "the operator sees why: {body}");
    let (status, second) = shop.fetch(reqwest::Method::POST, &uri, json!({"amount": "99.90"}), s).await;
    if expected == "pending" {
        assert_eq!(status, 400, "a second refund while one is pending: {second}");
        assert_eq!(second, json!({"amount": ["退款总额不能超过实付金额：已退 99.90，可退 0.00。"]}));
    } else {
        assert_eq!((status, second["status"].as_str()), (201, Some("succeeded")), "{second}");
    }

    shop::payments::jobs::run_once(&shop.state).await.unwrap();
    let statuses: Vec<String> = refunds_of(&shop, &order).await.into_iter().map(|r| r.status).collect();
    if expected == "pending" {
        assert_eq!(statuses, ["succeeded"], "settled by the job");
    } else {
        assert_eq!(statuses, ["failed", "succeeded"]);
    }
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 9990), "refunded once");
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED", "refunded in full");
}

#[tokio::test]
async fn a_refund_that_times_out_stays_pending() {
    refund_meets(Fault::Timeout, "pending").await;
}

#[tokio::test]
async fn a_refund_answered_502_stays_pending() {
    refund_meets(Fault::BadGateway, "pending").await;
}

#[tokio::test]
async fn a_refund_answered_system_error_stays_pending() {
    refund_meets(Fault::SystemError, "pending").await;
}

#[tokio::test]
async fn a_refund_answered_unsigned_stays_pending() {
    refund_meets(Fault::Unsigned("ACQ.SELLER_BALANCE_NOT_ENOUGH"), "pending").await;
}

#[tokio::test]
async fn a_refund_answered_with_a_bad_signature_stays_pending() {
    refund_meets(Fault::BadSignature, "pending").await;
}

#[tokio::test]
async fn a_refund_refused_in_a_signed_answer_fails() {
    refund_meets(Fault::Refusal("ACQ.TRADE_NOT_ALLOW_REFUND"), "failed").await;
}

/// A signed refusal for a cause that passes (the merchant's balance) is not final: the refund
/// stays pending and the job makes it once the cause is gone.
#[tokio::test]
async fn a_refund_refused_for_a_passing_reason_stays_pending() {
    refund_meets(Fault::Refusal("ACQ.SELLER_BALANCE_NOT_ENOUGH"), "pending").await;
}

#[tokio::test]
async fn a_refund_number_reused_for_another_amount_is_refused() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let buyer = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let s = Some(staff.as_str());
    let order = shop.order(&buyer, goods_id, 1).await;
    pay_and_return(&shop, &order).await;
    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let post = |body: Value| shop.fetch(reqwest::Method::POST, &uri, body, s);
    let (status, first) = post(json!({"amount": "10.00", "out_request_no": "r-1"})).await;
    assert_eq!((status, first["status"].as_str()), (201, Some("succeeded")), "{first}");
    let (status, again) = post(json!({"amount": "10.00", "out_request_no": "r-1"})).await;
    assert_eq!((status, again["id"].clone()), (200, first["id"].clone()), "the same request replays");
    let (status, other) = post(json!({"amount": "20.00", "out_request_no": "r-1"})).await;
    assert_eq!(status, 422, "{other}");
    assert_eq!(other, json!({"detail": "该退款单号已用于金额 10.00 的退款；新的退款请使用新的退款单号。"}));
    let (status, reserved) = post(json!({"amount": "1.00", "out_request_no": "late-123"})).await;
    assert_eq!(status, 400, "{reserved}");
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 1000), "refunded once");
}

#[tokio::test]
async fn with_seller_id_set_return_reconcile_and_expiry_mark_paid_orders_paid() {
    let shop = TestApp::builder()
        .sandbox()
        .config(|config| config.alipay.seller_id = Some(alipay_sandbox::DEFAULT_SELLER_ID.into()))
        .serve()
        .await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();

    let returned = shop.order(&token, goods_id, 1).await;
    pay_and_return(&shop, &returned).await;

    // One order is past its deadline, one only old enough to be asked about.
    let expiring = shop.order(&token, goods_id, 1).await;
    let _ignored = shop.pay(&expiring).await;
    shop.clock.advance(chrono::TimeDelta::minutes(37));
    let reconciled = shop.order(&token, goods_id, 1).await;
    let _ignored = shop.pay(&reconciled).await;
    shop.clock.advance(chrono::TimeDelta::minutes(3));

    shop::payments::jobs::run_once(&shop.state).await.unwrap();
    for order in [&returned, &reconciled, &expiring] {
        assert_eq!(shop.order_row(order).await.pay_status, "TRADE_SUCCESS", "{}", order["order_sn"]);
    }
    assert_eq!(sold(&shop.db, goods_id).await, 27);
    assert_eq!(stock(&shop.db, goods_id).await, 26);
    // pay_time is Alipay's (send_pay_date, to the second), not the moment the job ran.
    let snapshot = shop.sandbox().snapshot().await;
    for order in [&reconciled, &expiring] {
        let row = shop.order_row(order).await;
        let trade = snapshot.trades.iter().find(|t| t.out_trade_no == row.order_sn).unwrap();
        let paid = trade.gmt_payment.unwrap().naive_utc();
        assert_eq!(row.pay_time, paid.with_nanosecond(0), "{}", row.order_sn);
    }
}

#[tokio::test]
async fn a_cancelled_order_that_gets_paid_is_refunded_once() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 2).await;
    let trade_no = shop.open_cashier(&order).await;
    // The buyer pays in one tab (the notification is lost) and cancels in another.
    let _ignored = shop.pay(&order).await;
    let id = order["id"].as_i64().unwrap();
    let (status, _) = shop.fetch(reqwest::Method::DELETE, &format!("/orders/{id}/"), Value::Null, Some(&token)).await;
    assert_eq!(status, 204);
    let (_, listed) = shop.fetch(reqwest::Method::GET, "/orders/", Value::Null, Some(&token)).await;
    assert_eq!(listed, json!([]), "a cancelled order is gone for the buyer");
    let (status, _) = shop.fetch(reqwest::Method::GET, &format!("/orders/{id}/"), Value::Null, Some(&token)).await;
    assert_eq!(status, 404);
    assert_eq!(stock(&shop.db, goods_id).await, 29, "stock released by the cancel");

    shop::payments::jobs::run_once(&shop.state).await.unwrap();
    let row = order_info::Entity::find_by_id(id as i32).one(&shop.db).await.unwrap().expect("the row is kept");
    assert_eq!(row.pay_status, "TRADE_CLOSED");
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 19980), "the payment went back");
    // However often it is delivered or asked about, it is refunded once.
    let body = signed_notification(&shop, &row, &trade_no, "TRADE_SUCCESS");
    for _ in 0..3 {
        assert_eq!(deliver(&shop, &body).await, "success");
    }
    shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 19980));
    let refunds = refunds_of(&shop, &order).await;
    assert_eq!(refunds.len(), 1);
    assert_eq!((refunds[0].amount_fen, refunds[0].status.as_str()), (19980, "succeeded"));
    assert_eq!(stock(&shop.db, goods_id).await, 29);
    assert_eq!(sold(&shop.db, goods_id).await, 24);
}

#[tokio::test]
async fn the_original_notification_after_a_full_refund_is_a_duplicate() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&token, goods_id, 1).await;
    pay_and_return(&shop, &order).await;
    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let (status, body) = shop.fetch(reqwest::Method::POST, &uri, json!({"amount": "99.90"}), Some(&staff)).await;
    assert_eq!((status, body["status"].as_str()), (201, Some("succeeded")), "{body}");
    let row = shop.order_row(&order).await;
    assert_eq!(row.pay_status, "TRADE_CLOSED");

    let original = signed_notification(&shop, &row, row.trade_no.as_deref().unwrap(), "TRADE_SUCCESS");
    assert_eq!(deliver(&shop, &original).await, "success");
    assert_eq!(refunds_of(&shop, &order).await.len(), 1, "no bogus late-payment refund");
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 9990));
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED");
}

#[tokio::test]
async fn an_answer_that_proves_nothing_never_closes_an_order() {
    let (shop, network) = shop_behind_faults(|_| {}).await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let order = shop.order(&token, goods_id, 3).await;
    shop.clock.advance(PAST_THE_DEADLINE);
    network.inject("alipay.trade.query", Fault::Unsigned("ACQ.TRADE_NOT_EXIST"));
    network.inject("alipay.trade.close", Fault::Unsigned("ACQ.TRADE_NOT_EXIST"));
    shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(shop.order_row(&order).await.pay_status, "paying", "an unsigned answer proves nothing");
    assert_eq!(stock(&shop.db, goods_id).await, 26);
}

#[tokio::test]
async fn a_trade_closed_by_alipay_counts_as_closed_not_paid() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 2).await;
    shop.open_cashier(&order).await;
    let app_id = shop.state.config.alipay.app_id.clone();
    shop.sandbox().close(&app_id, order["order_sn"].as_str().unwrap()).await.unwrap();
    shop.clock.advance(chrono::TimeDelta::minutes(3));
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(report.reconciled, 0, "{report:?}");
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED");
    assert_eq!(stock(&shop.db, goods_id).await, 29);
    assert_eq!(sold(&shop.db, goods_id).await, 24);
}

/// The shelf for the races: plenty of stock, so every order can be placed.
async fn big_shelf(shop: &TestApp) -> i32 {
    let fx = crate::support::Fixture { db: &shop.db };
    let top = fx.category("文学类", 1, None, true).await;
    fx.goods_with("解忧杂货店", top, 9990, |g| {
        g.sold_num = Set(0);
        g.goods_num = Set(1000);
    })
    .await
}

/// How long a racing cancel waits before it starts, varied by round: over the rounds it lands
/// before, during and after the other side's round trips and its conditional update.
fn stagger(round: usize) -> Duration {
    Duration::from_millis((round % 10) as u64 * 4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_racing_payment_ends_paid_or_refunded() {
    const ROUNDS: usize = 50;
    let shop = TestApp::served().await;
    let goods_id = big_shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let app_id = shop.state.config.alipay.app_id.clone();
    let mut orders = Vec::new();
    let mut cancelled = 0;
    for round in 0..ROUNDS {
        let order = shop.order(&token, goods_id, 1).await;
        shop.open_cashier(&order).await;
        let uri = format!("/orders/{}/", order["id"]);
        let sn = order["order_sn"].as_str().unwrap().to_owned();
        let cancel = async {
            tokio::time::sleep(stagger(round)).await;
            shop.fetch(reqwest::Method::DELETE, &uri, Value::Null, Some(&token)).await
        };
        let pay = shop.sandbox().pay(&app_id, &sn);
        let ((status, body), _) = tokio::join!(cancel, pay);
        assert!(status == 204 || status == 400, "{status} {body}");
        cancelled += usize::from(status == 204);
        orders.push(order);
    }
    println!("cancel ∥ pay: {cancelled} of {ROUNDS} cancels won");
    // Let the jobs find every payment whose notification has not been applied yet.
    for _ in 0..3 {
        shop::payments::jobs::run_once(&shop.state).await.unwrap();
    }
    let snapshot = shop.sandbox().snapshot().await;
    let mut paid_orders = 0;
    for order in &orders {
        let row = shop.order_row(order).await;
        let trade = snapshot.trades.iter().find(|t| t.out_trade_no == row.order_sn).unwrap();
        let refunded = trade.refund_fee.fen();
        match row.pay_status.as_str() {
            "TRADE_SUCCESS" => {
                assert!(row.cancelled_at.is_none() && trade.gmt_payment.is_some() && refunded == 0, "{row:?}");
                paid_orders += 1;
            }
            "TRADE_CLOSED" => {
                assert!(row.cancelled_at.is_some(), "{row:?}");
                // Never both a cancelled order and an unrefunded payment.
                if trade.gmt_payment.is_some() {
                    assert_eq!(refunded, row.order_mount_fen, "{row:?} {trade:?}");
                }
            }
            other => panic!("order left {other}: {row:?}"),
        }
    }
    assert_eq!(stock(&shop.db, goods_id).await, 1000 - paid_orders, "stock restored once per cancelled order");
    assert_eq!(sold(&shop.db, goods_id).await, paid_orders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_racing_expiry_restores_stock_once() {
    const ROUNDS: usize = 50;
    let shop = TestApp::served().await;
    let goods_id = big_shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let mut cancelled = 0;
    for round in 0..ROUNDS {
        let order = shop.order(&token, goods_id, 1).await;
        if round % 2 == 0 {
            shop.open_cashier(&order).await;
        }
        shop.clock.advance(PAST_THE_DEADLINE);
        let uri = format!("/orders/{}/", order["id"]);
        let cancel = async {
            tokio::time::sleep(stagger(round)).await;
            shop.fetch(reqwest::Method::DELETE, &uri, Value::Null, Some(&token)).await
        };
        let expire = shop::payments::jobs::run_once(&shop.state);
        let ((status, body), report) = tokio::join!(cancel, expire);
        report.unwrap();
        assert!(status == 204 || status == 400, "{status} {body}");
        cancelled += usize::from(status == 204);
        assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED", "round {round}");
        assert_eq!(stock(&shop.db, goods_id).await, 1000, "round {round}: stock restored exactly once");
    }
    assert_eq!(sold(&shop.db, goods_id).await, 0);
    println!("cancel ∥ expiry: {cancelled} of {ROUNDS} cancels won");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_settle_every_order_exactly_once() {
    const PAID: usize = 200;
    const EXPIRING: usize = 100;
    const CANCELLED_THEN_PAID: usize = 20;
    // One buyer holds hundreds of unpaid orders at once here, far beyond a real shop's caps.
    let a = TestApp::builder()
        .sandbox()
        .config(|config| {
            config.max_unpaid_orders_per_user = 10_000;
            config.max_unpaid_units_per_user = 10_000;
        })
        .serve()
        .await;
    let b = a.second_instance().await;
    let goods_id = big_shelf(&a).await;
    let token = a.user("buyer", false).await;
    let app_id = a.state.config.alipay.app_id.clone();
    // Every notification is lost: only the jobs can tell what happened.
    a.sandbox().drop_next_deliveries(1_000_000).await.unwrap();
    // Made in this order so that when the jobs run (the instances share one clock) the expiring
    // orders are past their deadline, the paid ones only old enough to be asked about, and the
    // cancelled ones new.
    let total = PAID + EXPIRING + CANCELLED_THEN_PAID;
    let mut made: Vec<Option<Value>> = vec![None; total];
    for i in (PAID..PAID + EXPIRING).chain(0..PAID).chain(PAID + EXPIRING..total) {
        let via = if i % 2 == 0 { &a } else { &b };
        if i == 0 {
            a.clock.advance(PAST_THE_DEADLINE - ASKED_ABOUT);
        } else if i == PAID + EXPIRING {
            a.clock.advance(ASKED_ABOUT);
        }
        let order = via.order(&token, goods_id, 1).await;
        let sn = order["order_sn"].as_str().unwrap().to_owned();
        if i < PAID {
            via.open_cashier(&order).await;
            a.sandbox().pay(&app_id, &sn).await.unwrap();
        } else if i < PAID + EXPIRING {
            if i % 3 == 0 {
                via.open_cashier(&order).await;
            }
        } else {
            via.open_cashier(&order).await;
            a.sandbox().pay(&app_id, &sn).await.unwrap();
            let uri = format!("/orders/{}/", order["id"]);
            assert_eq!(via.fetch(reqwest::Method::DELETE, &uri, Value::Null, Some(&token)).await.0, 204);
        }
        made[i] = Some(order);
    }
    let orders: Vec<Value> = made.into_iter().map(Option::unwrap).collect();
    let mut seen = shop::payments::jobs::Report::default();
    for _ in 0..6 {
        let (ra, rb) = tokio::join!(shop::payments::jobs::run_once(&a.state), shop::payments::jobs::run_once(&b.state));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        if ra == Default::default() && rb == Default::default() {
            break;
        }
        for report in [ra, rb] {
            seen.reconciled += report.reconciled;
            seen.expired += report.expired;
            seen.paid_late += report.paid_late;
            seen.late_payments += report.late_payments;
        }
    }
    // Each order went down its own path once, whichever instance took it.
    assert_eq!(
        (seen.reconciled, seen.expired, seen.paid_late, seen.late_payments),
        (PAID, EXPIRING, 0, CANCELLED_THEN_PAID),
        "{seen:?}"
    );

    let events = shop::db::entities::payment_event::Entity::find().all(&a.db).await.unwrap();
    let snapshot = a.sandbox().snapshot().await;
    for (i, order) in orders.iter().enumerate() {
        let row = a.order_row(order).await;
        let applied = events.iter().filter(|e| e.order_sn == row.order_sn && e.verdict == "applied").count();
        let refunds = refunds_of(&a, order).await;
        let refunded: Vec<_> = snapshot.refunds.iter().filter(|r| r.out_trade_no == row.order_sn).collect();
        if i < PAID {
            assert_eq!((row.pay_status.as_str(), applied), ("TRADE_SUCCESS", 1), "paid once: {row:?}");
            assert!(refunds.is_empty() && refunded.is_empty());
        } else if i < PAID + EXPIRING {
            assert_eq!((row.pay_status.as_str(), applied), ("TRADE_CLOSED", 1), "closed once: {row:?}");
            assert!(refunds.is_empty() && refunded.is_empty());
        } else {
            assert_eq!(row.pay_status, "TRADE_CLOSED", "{row:?}");
            assert_eq!(refunds.len(), 1, "one refund: {refunds:?}");
            assert_eq!(refunds[0].status, "succeeded");
            assert_eq!(refunded.len(), 1, "refunded once at the gateway");
            assert_eq!(refunded[0].refund_amount.fen(), row.order_mount_fen);
        }
    }
    assert_eq!(sold(&a.db, goods_id).await, PAID as i32, "sold_num exact");
    assert_eq!(stock(&a.db, goods_id).await, 1000 - PAID as i32, "stock exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_refund_requests_make_one_refund() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let buyer = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&buyer, goods_id, 3).await;
    pay_and_return(&shop, &order).await;
    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let body = json!({"amount": "10.00", "reason": "破损", "out_request_no": "same-request_1"});
    let post = || shop.fetch(reqwest::Method::POST, &uri, body.clone(), Some(staff.as_str()));
    let (a, b, c, d, e) = tokio::join!(post(), post(), post(), post(), post());
    let answers = [a, b, c, d, e];
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 201], "{answers:?}");
    assert!(answers.iter().all(|(_, refund)| refund["id"] == answers[0].1["id"]), "{answers:?}");
    assert_eq!(refunds_of(&shop, &order).await.len(), 1);
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 1000));

    // Alipay's rule for out_request_no is checked before anything is written.
    for bad in ["有中文", "has space", "semi;colon", &"x".repeat(65)] {
        let (status, refused) = shop
            .fetch(reqwest::Method::POST, &uri, json!({"amount": "1.00", "out_request_no": bad}), Some(staff.as_str()))
            .await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(refused["out_request_no"].is_array(), "{refused}");
    }
    assert_eq!(refunds_of(&shop, &order).await.len(), 1);
}

#[tokio::test]
async fn a_refund_notification_settles_a_pending_refund() {
    let (shop, network) = shop_behind_faults(|_| {}).await;
    let goods_id = shelf(&shop).await;
    let buyer = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&buyer, goods_id, 1).await;
    pay_and_return(&shop, &order).await;
    // The refund happens at Alipay but its answer cannot be trusted; its notification can.
    network.inject("alipay.trade.refund", Fault::BadSignature);
    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let (status, body) = shop.fetch(reqwest::Method::POST, &uri, json!({"amount": "99.90"}), Some(&staff)).await;
    assert_eq!(status, 201, "{body}");
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses = refunds_of(&shop, &order).await.into_iter().map(|r| r.status).collect();
        if statuses == ["succeeded"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(statuses, ["succeeded"], "settled by the refund notification, without the job");
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED");
    assert_eq!(refunded_at_gateway(&shop, &order).await, (1, 9990));
}

#[tokio::test]
async fn one_order_failing_stops_no_other_and_backs_off() {
    let shop = TestApp::served().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let mut orders = Vec::new();
    for _ in 0..3 {
        let order = shop.order(&token, goods_id, 1).await;
        shop.open_cashier(&order).await;
        orders.push(order);
    }
    shop.clock.advance(PAST_THE_DEADLINE);
    shop.state.failpoints.arm(shop::payments::jobs::FAIL_ORDER_JOB);
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!((report.expired, report.deferred), (2, 1), "{report:?}");
    let failed = shop.order_row(&orders[0]).await;
    assert_eq!((failed.pay_status.as_str(), failed.check_attempts), ("paying", 1));
    let retry_at = failed.next_check_at.expect("a retry time");
    assert!(retry_at > shop.clock.now(), "backing off");
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap(), Default::default(), "not due yet");

    shop.clock.advance(retry_at - shop.clock.now() + chrono::TimeDelta::seconds(1));
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap().expired, 1);
    assert_eq!(stock(&shop.db, goods_id).await, 29);
}
