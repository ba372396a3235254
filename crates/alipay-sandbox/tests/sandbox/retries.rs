//! Re-delivery on Alipay's schedule (scaled): same notify_id, stop at exactly `success`.

use std::time::{Duration, Instant};

use alipay::{Money, PagePay, SignType};
use alipay_sandbox::DELIVERY_SCHEDULE;

use crate::support::*;

/// Checks that consecutive deliveries are spaced by the scaled schedule (never early, at most `slack` late).
fn assert_gaps(deliveries: &[Delivery], scale: f64, slack: Duration) {
    for (i, pair) in deliveries.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let expected = DELIVERY_SCHEDULE[i + 1].mul_f64(scale);
        assert!(
            gap + Duration::from_millis(5) >= expected && gap <= expected + slack,
            "gap before delivery {} was {gap:?}, expected {expected:?} (+ at most {slack:?})",
            i + 2
        );
    }
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

#[tokio::test]
async fn fail_three_times_then_success_gives_exactly_four_deliveries() {
    let scale = 0.001; // 4m → 240 ms, 10m → 600 ms, 1h → 3.6 s
    let merchant = Merchant::start(|n| if n < 3 { "fail".to_owned() } else { "success".to_owned() }).await;
    let run = Running::start(builder(scale), true).await;
    let client = run.client(&merchant);
    let paid_at = Instant::now();
    page_pay_and_pay(&run, &client, &PagePay::new("RETRY-1", Money::from_fen(8880).unwrap(), "重试").unwrap()).await;
    let d = merchant.wait_for(4, Duration::from_secs(20)).await;
    assert!(d[0].at - paid_at < Duration::from_secs(1), "the first delivery is immediate");
    assert_gaps(&d, scale, Duration::from_millis(800));
    // The fifth slot would come 1h·scale = 3.6 s after the fourth: wait past it.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let d = merchant.deliveries();
    assert_eq!(d.len(), 4, "no delivery after `success`");
    let id = assert_one_verified_notify_id(&d, &run.sandbox);
    let snap = run.sandbox.snapshot().await;
    let n = snap.notifications.iter().find(|n| n.notice.notify_id == id).unwrap();
    assert_eq!(n.attempts.len(), 4);
    assert_eq!(n.attempts.iter().map(|a| a.reply.as_str()).collect::<Vec<_>>(), ["fail", "fail", "fail", "success"]);
    assert!(n.attempts[3].success && !n.attempts[2].success);
    assert_eq!(format!("{:?}", n.notice.state), "Delivered");
}

#[tokio::test]
async fn quoted_success_is_retried_to_the_end_of_the_schedule() {
    let scale = 0.0001; // the whole 25-hour schedule in ≈ 8.8 s
    let merchant = Merchant::start(|_| "\"success\"".to_owned()).await;
    let run = Running::start(builder(scale), true).await;
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("RETRY-2", Money::from_fen(100).unwrap(), "引号").unwrap()).await;
    let d = merchant.wait_for(8, Duration::from_secs(40)).await;
    assert_gaps(&d, scale, Duration::from_millis(800));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let d = merchant.deliveries();
    assert_eq!(d.len(), 8, "eight deliveries in all, then the sandbox gives up");
    let id = assert_one_verified_notify_id(&d, &run.sandbox);
    let snap = run.sandbox.snapshot().await;
    let n = snap.notifications.iter().find(|n| n.notice.notify_id == id).unwrap();
    assert_eq!(n.attempts.len(), 8);
    assert!(n.attempts.iter().all(|a| !a.success && a.reply == "\"success\""));
    assert_eq!(format!("{:?}", n.notice.state), "GaveUp");
}

#[tokio::test]
async fn other_near_misses_are_failures_too() {
    // "success\n", "SUCCESS", HTML and a redirect all count as failures; plain success ends it.
    let merchant = Merchant::start(|n| {
        ["success\n", "SUCCESS", "<html>success</html>", " success", "success"][n.min(4)].to_owned()
    })
    .await;
    let run = Running::start(builder(0.0001), true).await;
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("RETRY-3", Money::from_fen(1).unwrap(), "x").unwrap()).await;
    let d = merchant.wait_for(5, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(merchant.deliveries().len(), 5);
    assert_one_verified_notify_id(&d, &run.sandbox);
}

#[tokio::test]
async fn dropped_deliveries_are_retried_with_the_same_notify_id() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    run.sandbox.drop_next_deliveries(2).await.unwrap();
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("DROP-1", Money::from_fen(500).unwrap(), "x").unwrap()).await;
    let d = merchant.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let snap = run.sandbox.snapshot().await;
    let n = &snap.notifications[0];
    assert_eq!(n.attempts.len(), 3);
    assert!(n.attempts[0].dropped && n.attempts[1].dropped && n.attempts[2].success);
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
