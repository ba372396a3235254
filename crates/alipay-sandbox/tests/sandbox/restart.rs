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

    // Second life on the same file, its worker running: the unanswered notification goes out
    // again at once, and the trade is still paid.
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

    // First life, driven by the test: the first attempt is dropped, the retry is 4 minutes away.
    let first = Running::start(builder(1.0).state(StateLocation::File(file.clone())), false).await;
    first.sandbox.drop_next_deliveries(1).await.unwrap();
    let client = first.client(&merchant);
    page_pay_and_pay(&first, &client, &PagePay::new("DURABLE-2", Money::from_fen(100).unwrap(), "x").unwrap()).await;
    assert_eq!(first.sandbox.deliver_due().await.unwrap(), 1);
    let notify_id = first.sandbox.snapshot().await.notifications[0].notice.notify_id.clone();
    first.sandbox.advance(Duration::from_secs(60)).await.unwrap();
    first.kill().await;
    assert!(merchant.deliveries().is_empty(), "the dropped attempt sent nothing");

    // Second life on the same file: the retry keeps its due time (on the sandbox clock, whose
    // offset is kept too), then goes out with the same notify_id.
    let second = Running::start(builder(1.0).state(StateLocation::File(file)), false).await;
    assert_eq!(second.sandbox.deliver_due().await.unwrap(), 0, "the retry is not due yet");
    // A minute passed in the first life: three more make the four of the schedule.
    second.sandbox.advance(Duration::from_secs(3 * 60 - 1)).await.unwrap();
    assert_eq!(second.sandbox.deliver_due().await.unwrap(), 0, "not a second early");
    second.sandbox.advance(Duration::from_secs(1)).await.unwrap();
    assert_eq!(second.sandbox.deliver_due().await.unwrap(), 1);
    let d = merchant.deliveries();
    assert_eq!(d.len(), 1);
    assert_eq!(field(&d[0].body, "notify_id").unwrap(), notify_id);
    alipay::notify::verify_notification_body(&d[0].body, second.sandbox.alipay_public_key(), SignType::Rsa2).unwrap();
    let snap = second.sandbox.snapshot().await;
    let attempts = &snap.notifications[0].attempts;
    assert_eq!(attempts.len(), 2, "the attempt history survived: {attempts:?}");
    assert!(attempts[0].dropped && attempts[1].success);
}
