//! Durability: kill the sandbox between a payment and its delivery; the restarted sandbox
//! (same SQLite file) delivers the same notification.

use std::time::Duration;

use alipay::{Money, PagePay, SignType, TradeRef, TradeStatus};
use alipay_sandbox::StateLocation;

use crate::support::*;

#[tokio::test]
async fn killed_during_the_first_delivery_then_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.sqlite");
    let merchant = Merchant::hanging_on_first().await;

    // First life, with its delivery worker: pay; the first delivery reaches the merchant, who
    // never answers; kill the sandbox while that delivery is in flight.
    let first = Running::start(builder(0.001).state(StateLocation::File(file.clone())), true).await;
    let client = first.client(&merchant);
    page_pay_and_pay(&first, &client, &PagePay::new("DURABLE-1", Money::from_fen(4200).unwrap(), "持久").unwrap())
        .await;
    let in_flight = merchant.wait_for(1, Duration::from_secs(10)).await;
    let queued = first.sandbox.snapshot().await.notifications[0].notice.notify_id.clone();
    assert_eq!(field(&in_flight[0].body, "notify_id").unwrap(), queued);
    first.kill().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(merchant.deliveries().len(), 1, "a dead sandbox delivers nothing");

    // Second life on the same file: the unanswered notification goes out again, the trade is
    // still paid.
    let second = Running::start(builder(0.001).state(StateLocation::File(file.clone())), true).await;
    let d = merchant.wait_for(2, Duration::from_secs(10)).await;
    let n = alipay::notify::verify_notification_body(&d[1].body, second.sandbox.alipay_public_key(), SignType::Rsa2)
        .unwrap();
    assert_eq!(n.notify_id, queued);
    assert_eq!(n.out_trade_no, "DURABLE-1");
    let client = second.client(&merchant);
    assert_eq!(
        client.trade_query(&TradeRef::OutTradeNo("DURABLE-1".into())).await.unwrap().trade_status,
        TradeStatus::TradeSuccess
    );
}

#[tokio::test]
async fn killed_between_retries_then_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.sqlite");
    let merchant = Merchant::always_success().await;
    let scale = 0.002; // the retry comes 4m·scale = 480 ms after the first attempt

    let first = Running::start(builder(scale).state(StateLocation::File(file.clone())), true).await;
    first.sandbox.drop_next_deliveries(1).await.unwrap();
    let client = first.client(&merchant);
    page_pay_and_pay(&first, &client, &PagePay::new("DURABLE-2", Money::from_fen(100).unwrap(), "x").unwrap()).await;
    // Wait for the (dropped) first attempt to be recorded, then kill before the retry.
    let mut notify_id = None;
    for _ in 0..200 {
        let snap = first.sandbox.snapshot().await;
        if let Some(n) = snap.notifications.first().filter(|n| n.attempts.len() == 1) {
            notify_id = Some(n.notice.notify_id.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let notify_id = notify_id.expect("the first attempt was recorded");
    first.kill().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(merchant.deliveries().is_empty(), "a dead sandbox delivers nothing");

    let second = Running::start(builder(scale).state(StateLocation::File(file)), true).await;
    let d = merchant.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(field(&d[0].body, "notify_id").unwrap(), notify_id);
    alipay::notify::verify_notification_body(&d[0].body, second.sandbox.alipay_public_key(), SignType::Rsa2).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let snap = second.sandbox.snapshot().await;
    let attempts = &snap.notifications[0].attempts;
    assert_eq!(attempts.len(), 2, "the attempt history survived: {attempts:?}");
    assert!(attempts[0].dropped && attempts[1].success);
}
