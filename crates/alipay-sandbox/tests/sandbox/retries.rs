//! Re-delivery on Alipay's schedule: same notify_id, stop at exactly `success`. The schedule is
//! checked on the sandbox's own clock (advanced by the test, deliveries run with `deliver_due`),
//! so no test waits for real minutes or measures real time.

use std::time::Duration;

use alipay::{Money, PagePay, SignType};
use alipay_sandbox::DELIVERY_SCHEDULE;

use crate::support::*;

/// Drives retries after the first attempt: for each interval of the schedule up to `attempts`,
/// nothing is due a second before it ends and exactly one attempt is due when it does.
async fn retry_on_schedule(run: &Running, attempts: usize) {
    let second = Duration::from_secs(1);
    for (i, interval) in DELIVERY_SCHEDULE.iter().enumerate().take(attempts).skip(1) {
        run.sandbox.advance(*interval - second).await.unwrap();
        assert_eq!(run.sandbox.deliver_due().await.unwrap(), 0, "attempt {} came early", i + 1);
        run.sandbox.advance(second).await.unwrap();
        assert_eq!(run.sandbox.deliver_due().await.unwrap(), 1, "attempt {} was not made on time", i + 1);
    }
}

/// After a day on the sandbox clock, nothing more is sent.
async fn assert_finished(run: &Running, merchant: &Merchant, deliveries: usize) {
    run.sandbox.advance(Duration::from_secs(24 * 3600)).await.unwrap();
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 0, "nothing is due after the last attempt");
    assert_eq!(merchant.deliveries().len(), deliveries);
}

fn assert_one_verified_notify_id(deliveries: &[Delivery], sandbox: &alipay_sandbox::Sandbox) -> String {
    let ids: Vec<String> = deliveries
        .iter()
        .map(|d| {
            let n = alipay::notify::verify_notification_body(&d.body, sandbox.alipay_public_key(), SignType::Rsa2)
                .expect("every delivery verifies with the sandbox's Alipay key");
            n.notify_id
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "notify_id changed across retries: {ids:?}");
    ids[0].clone()
}

/// Pays `out_trade_no` through the cashier with no worker running and makes the first attempt.
async fn paid_and_first_attempt(merchant: &Merchant, out_trade_no: &str) -> Running {
    let run = Running::start(builder(1.0), false).await;
    let client = run.client(merchant);
    page_pay_and_pay(&run, &client, &PagePay::new(out_trade_no, Money::from_fen(8880).unwrap(), "重试").unwrap()).await;
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 1, "the first attempt is due at once");
    run
}

#[tokio::test]
async fn fail_three_times_then_success_gives_exactly_four_deliveries() {
    let merchant = Merchant::start(|n| if n < 3 { "fail".to_owned() } else { "success".to_owned() }).await;
    let run = paid_and_first_attempt(&merchant, "RETRY-1").await;
    retry_on_schedule(&run, 4).await;
    assert_finished(&run, &merchant, 4).await;
    let id = assert_one_verified_notify_id(&merchant.deliveries(), &run.sandbox);
    let snap = run.sandbox.snapshot().await;
    let n = snap.notifications.iter().find(|n| n.notice.notify_id == id).unwrap();
    assert_eq!(n.attempts.iter().map(|a| a.reply.as_str()).collect::<Vec<_>>(), ["fail", "fail", "fail", "success"]);
    assert!(n.attempts[3].success && !n.attempts[2].success);
    assert_eq!(format!("{:?}", n.notice.state), "Delivered");
}

#[tokio::test]
async fn quoted_success_is_retried_to_the_end_of_the_schedule() {
    let merchant = Merchant::start(|_| "\"success\"".to_owned()).await;
    let run = paid_and_first_attempt(&merchant, "RETRY-2").await;
    retry_on_schedule(&run, DELIVERY_SCHEDULE.len()).await;
    assert_finished(&run, &merchant, DELIVERY_SCHEDULE.len()).await;
    let id = assert_one_verified_notify_id(&merchant.deliveries(), &run.sandbox);
    let snap = run.sandbox.snapshot().await;
    let n = snap.notifications.iter().find(|n| n.notice.notify_id == id).unwrap();
    assert_eq!(n.attempts.len(), 8);
    assert!(n.attempts.iter().all(|a| !a.success && a.reply == "\"success\""));
    assert_eq!(format!("{:?}", n.notice.state), "GaveUp");
}

#[tokio::test]
async fn other_near_misses_are_failures_too() {
    // "success\n", "SUCCESS", HTML and a leading space all count as failures; plain success ends it.
    let merchant = Merchant::start(|n| {
        ["success\n", "SUCCESS", "<html>success</html>", " success", "success"][n.min(4)].to_owned()
    })
    .await;
    let run = paid_and_first_attempt(&merchant, "RETRY-3").await;
    retry_on_schedule(&run, 5).await;
    assert_finished(&run, &merchant, 5).await;
    assert_one_verified_notify_id(&merchant.deliveries(), &run.sandbox);
}

/// The background worker, not the test, runs this schedule (scaled: retries after 240 and 600 ms).
#[tokio::test]
async fn the_worker_retries_dropped_deliveries_with_the_same_notify_id() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    run.sandbox.drop_next_deliveries(2).await.unwrap();
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("DROP-1", Money::from_fen(500).unwrap(), "x").unwrap()).await;
    let d = merchant.wait_for(1, Duration::from_secs(10)).await;
    let snap = run.until("the delivery is recorded", |s| s.notifications[0].attempts.len() == 3).await;
    let n = &snap.notifications[0];
    assert!(n.attempts[0].dropped && n.attempts[1].dropped && n.attempts[2].success);
    assert_eq!(format!("{:?}", n.notice.state), "Delivered");
    // Never early: each retry waits at least its scaled interval (no upper bound: a busy machine
    // may run it late).
    for (i, pair) in n.attempts.windows(2).enumerate() {
        let gap = (pair[1].at - pair[0].at).to_std().unwrap();
        assert!(gap >= DELIVERY_SCHEDULE[i + 1].mul_f64(0.001), "retry {} after {gap:?}", i + 1);
    }
    assert_eq!(field(&d[0].body, "notify_id").unwrap(), n.notice.notify_id);
}

#[tokio::test]
async fn without_a_worker_tests_can_drive_deliveries_and_the_clock() {
    let merchant = Merchant::start(|n| if n == 0 { "fail".to_owned() } else { "success".to_owned() }).await;
    let run = Running::start(builder(1.0), false).await; // real intervals: 4 minutes before the retry
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("SYNC-1", Money::from_fen(100).unwrap(), "x").unwrap()).await;
    assert!(merchant.deliveries().is_empty(), "nothing runs without the worker");
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 1);
    assert_eq!(merchant.deliveries().len(), 1);
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 0, "the retry is 4 minutes away");
    run.sandbox.advance(Duration::from_secs(3 * 60)).await.unwrap();
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 0);
    run.sandbox.advance(Duration::from_secs(61)).await.unwrap();
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 1);
    let d = merchant.deliveries();
    assert_eq!(d.len(), 2);
    assert_one_verified_notify_id(&d, &run.sandbox);
    run.sandbox.advance(Duration::from_secs(24 * 3600)).await.unwrap();
    assert_eq!(run.sandbox.deliver_due().await.unwrap(), 0, "delivered: nothing more");
}
