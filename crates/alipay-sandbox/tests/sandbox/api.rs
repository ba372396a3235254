//! Happy paths and business refusals through our `alipay` client pointed at the sandbox.

use std::time::Duration;

use alipay::{Error, Money, PagePay, PayTimeout, Refund, SubCode, TimeoutExpress, TradeRef, TradeStatus};

use crate::support::*;

fn sub_code(e: Error) -> SubCode {
    match e {
        Error::Api(api) => {
            assert!(api.signed, "refusals are signed");
            api.sub_code.unwrap()
        }
        other => panic!("expected an API refusal, got {other:?}"),
    }
}

fn out(no: &str) -> TradeRef {
    TradeRef::OutTradeNo(no.into())
}

#[tokio::test]
async fn page_pay_cashier_return_notification_query() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    let client = run.client(&merchant);
    let order = PagePay::new("ORDER-1", "88.80".parse::<Money>().unwrap(), "语雀 & <会员> / \"年费\"")
        .unwrap()
        .with_body("a body")
        .with_passback_params("x%3D1%26y%3D2");

    // Nobody opened the cashier yet: the trade does not exist at "Alipay".
    assert_eq!(sub_code(client.trade_query(&out("ORDER-1")).await.unwrap_err()), SubCode::TradeNotExist);
    assert_eq!(sub_code(client.trade_close(&out("ORDER-1")).await.unwrap_err()), SubCode::TradeNotExist);

    let url = client.page_pay_url(&order).unwrap();
    let (status, page) = open_cashier(&url).await;
    assert_eq!(status, 200);
    assert!(page.contains("ORDER-1") && page.contains("88.80"), "{page}");
    assert!(page.contains("语雀 &#38; &#60;会员&#62; / &#34;年费&#34;"), "subject escaped: {page}");
    assert!(!page.contains("<会员>"), "{page}");
    assert!(page.contains(super::support::APP_ID));
    let q = client.trade_query(&out("ORDER-1")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::WaitBuyerPay);

    // Reopening is fine; another amount for the same order is refused.
    assert_eq!(open_cashier(&url).await.0, 200);
    let other = client.page_pay_url(&PagePay::new("ORDER-1", Money::from_fen(1).unwrap(), "x").unwrap()).unwrap();
    let (status, page) = open_cashier(&other).await;
    assert_eq!(status, 400);
    assert!(page.contains("ACQ.CONTEXT_INCONSISTENT"), "{page}");

    let (status, location) = press_pay(&run.base, &trade_no_on(&page_of(&url).await)).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    let prefix = format!("{}/return?", merchant.base);
    assert!(location.starts_with(&prefix), "{location}");
    let ret = client.verify_return(&location[location.find('?').unwrap() + 1..]).unwrap();
    assert_eq!(ret.out_trade_no, "ORDER-1");
    assert_eq!(ret.total_amount.to_string(), "88.80");
    assert_eq!(ret.method.as_deref(), Some("alipay.trade.page.pay.return"));
    assert!(!ret.raw.contains_key("trade_status"));
    // The browser lands on return_url.
    assert_eq!(http().get(&location).send().await.unwrap().text().await.unwrap(), "thanks");
    assert_eq!(merchant.returns().len(), 1);

    let d = merchant.wait_for(1, Duration::from_secs(10)).await;
    let n = client.verify_notification(&d[0].body).unwrap();
    assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(n.out_trade_no, "ORDER-1");
    assert_eq!(n.trade_no, ret.trade_no);
    assert_eq!(n.total_amount.to_string(), "88.80");
    assert_eq!(n.app_id, APP_ID);
    assert_eq!(n.seller_id.as_deref(), Some(alipay_sandbox::DEFAULT_SELLER_ID));
    assert_eq!(n.passback_params.as_deref(), Some("x%3D1%26y%3D2"));
    assert_eq!(n.subject.as_deref(), Some("语雀 & <会员> / \"年费\""));
    assert!(!n.is_refund());
    assert!(n.gmt_payment.is_some() && n.fund_bill_list.is_some());
    assert!(alipay::sign::parse_form(&d[0].body).unwrap().iter().all(|(_, v)| !v.is_empty()), "no empty field");

    let q = client.trade_query(&out("ORDER-1")).await.unwrap();
    assert_eq!(q.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(q.trade_no, n.trade_no);
    assert!(q.send_pay_date.is_some());
    let q2 = client.trade_query(&TradeRef::TradeNo(n.trade_no.clone())).await.unwrap();
    assert_eq!(q2.out_trade_no, "ORDER-1");

    // Second page pay for a paid order: "already paid", no second trade.
    let (status, page) = open_cashier(&client.page_pay_url(&order).unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("already paid"), "{page}");
    // Pay again on the old trade number: refused.
    assert_eq!(press_pay(&run.base, &n.trade_no).await.0, 409);
    // Closing a paid trade: status error.
    assert_eq!(sub_code(client.trade_close(&out("ORDER-1")).await.unwrap_err()), SubCode::TradeStatusError);
}

async fn page_of(url: &str) -> String {
    open_cashier(url).await.1
}

#[tokio::test]
async fn refunds_partial_full_idempotent_and_over_refund() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    let client = run.client(&merchant);
    page_pay_and_pay(&run, &client, &PagePay::new("REF-1", "88.80".parse().unwrap(), "t").unwrap()).await;
    merchant.wait_for(1, Duration::from_secs(10)).await;

    let r1 = Refund::new(out("REF-1"), "10.00".parse().unwrap(), "REF-1-R1").unwrap();
    let a = client.trade_refund(&r1).await.unwrap();
    assert!(a.fund_change);
    assert_eq!(a.refund_fee.to_string(), "10.00");
    let replay = client.trade_refund(&r1).await.unwrap();
    assert!(!replay.fund_change, "a replay of out_request_no moves no money");
    assert_eq!(replay.refund_fee.to_string(), "10.00");
    let changed = Refund::new(out("REF-1"), "11.00".parse().unwrap(), "REF-1-R1").unwrap();
    assert_eq!(sub_code(client.trade_refund(&changed).await.unwrap_err()), SubCode::RefundAmountNotEqualTotal);
    let over = Refund::new(out("REF-1"), "78.81".parse().unwrap(), "REF-1-R2").unwrap();
    assert_eq!(sub_code(client.trade_refund(&over).await.unwrap_err()), SubCode::RefundFeeError);

    let rq = client.refund_query(&out("REF-1"), "REF-1-R1").await.unwrap();
    assert!(rq.refunded());
    assert_eq!(rq.refund_amount.unwrap().to_string(), "10.00");
    assert!(!client.refund_query(&out("REF-1"), "REF-1-R9").await.unwrap().refunded());
    assert_eq!(client.trade_query(&out("REF-1")).await.unwrap().trade_status, TradeStatus::TradeSuccess);

    let rest = Refund::new(out("REF-1"), "78.80".parse().unwrap(), "REF-1-R2").unwrap();
    let b = client.trade_refund(&rest).await.unwrap();
    assert!(b.fund_change);
    assert_eq!(b.refund_fee.to_string(), "88.80");
    assert_eq!(client.trade_query(&out("REF-1")).await.unwrap().trade_status, TradeStatus::TradeClosed);
    // Replays still answer after the trade closed; new refunds do not.
    assert!(!client.trade_refund(&r1).await.unwrap().fund_change);
    let more = Refund::new(out("REF-1"), "0.01".parse().unwrap(), "REF-1-R3").unwrap();
    assert_eq!(sub_code(client.trade_refund(&more).await.unwrap_err()), SubCode::TradeStatusError);

    let d = merchant.wait_for(3, Duration::from_secs(10)).await;
    let partial = client.verify_notification(&d[1].body).unwrap();
    assert_eq!(partial.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(partial.refund_fee.unwrap().to_string(), "10.00");
    assert_eq!(partial.out_biz_no.as_deref(), Some("REF-1-R1"));
    assert!(partial.gmt_refund.is_some() && partial.is_refund());
    let full = client.verify_notification(&d[2].body).unwrap();
    assert_eq!(full.trade_status, TradeStatus::TradeClosed);
    assert_eq!(full.refund_fee.unwrap().to_string(), "88.80");
    assert_eq!(full.out_biz_no.as_deref(), Some("REF-1-R2"));
    assert_ne!(partial.notify_id, full.notify_id);
    // A refund queues its notification before it answers: a replay would have queued a fourth.
    let snap = run
        .until("the refund notifications are delivered", |s| {
            s.notifications.iter().all(|n| format!("{:?}", n.notice.state) == "Delivered")
        })
        .await;
    assert_eq!(snap.notifications.len(), 3, "replays notify nothing");
    assert_eq!(merchant.deliveries().len(), 3);

    // Refunds on unknown or unpaid trades.
    let ghost = Refund::new(out("NOPE"), "1.00".parse().unwrap(), "X").unwrap();
    assert_eq!(sub_code(client.trade_refund(&ghost).await.unwrap_err()), SubCode::TradeNotExist);
}

#[tokio::test]
async fn close_cancel_and_timeouts() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001).notify_on("payment,refund,close".parse().unwrap()), true).await;
    let client = run.client(&merchant);

    // close: only WAIT_BUYER_PAY.
    let url = client.page_pay_url(&PagePay::new("CLOSE-1", "5.00".parse().unwrap(), "t").unwrap()).unwrap();
    let page = page_of(&url).await;
    let c = client.trade_close(&out("CLOSE-1")).await.unwrap();
    assert_eq!(c.out_trade_no.as_deref(), Some("CLOSE-1"));
    assert_eq!(client.trade_query(&out("CLOSE-1")).await.unwrap().trade_status, TradeStatus::TradeClosed);
    assert_eq!(sub_code(client.trade_close(&out("CLOSE-1")).await.unwrap_err()), SubCode::TradeStatusError);
    assert_eq!(press_pay(&run.base, &trade_no_on(&page)).await.0, 409, "a closed trade cannot be paid");
    let d = merchant.wait_for(1, Duration::from_secs(10)).await;
    let n = client.verify_notification(&d[0].body).unwrap();
    assert_eq!((n.trade_status, n.out_trade_no.as_str()), (TradeStatus::TradeClosed, "CLOSE-1"));
    assert!(n.gmt_close.is_some() && n.gmt_payment.is_none());

    // cancel: unpaid → close; paid → refund.
    page_of(&client.page_pay_url(&PagePay::new("CANCEL-1", "5.00".parse().unwrap(), "t").unwrap()).unwrap()).await;
    assert_eq!(client.trade_cancel(&out("CANCEL-1")).await.unwrap().action.as_deref(), Some("close"));
    page_pay_and_pay(&run, &client, &PagePay::new("CANCEL-2", "6.00".parse().unwrap(), "t").unwrap()).await;
    let c = client.trade_cancel(&out("CANCEL-2")).await.unwrap();
    assert_eq!(c.action.as_deref(), Some("refund"));
    assert_eq!(c.retry_flag.as_deref(), Some("N"));
    assert_eq!(client.trade_query(&out("CANCEL-2")).await.unwrap().trade_status, TradeStatus::TradeClosed);
    // A cancel after a partial refund refunds the rest.
    page_pay_and_pay(&run, &client, &PagePay::new("CANCEL-3", "8.00".parse().unwrap(), "t").unwrap()).await;
    let part = Refund::new(out("CANCEL-3"), "3.00".parse().unwrap(), "CANCEL-3-R1").unwrap();
    assert_eq!(client.trade_refund(&part).await.unwrap().refund_fee.to_string(), "3.00");
    assert_eq!(client.trade_cancel(&out("CANCEL-3")).await.unwrap().action.as_deref(), Some("refund"));
    let snap = run.sandbox.snapshot().await;
    let rest = snap.refunds.iter().find(|r| r.out_trade_no == "CANCEL-3" && r.out_request_no != "CANCEL-3-R1").unwrap();
    assert_eq!((rest.refund_amount.to_string(), rest.refund_fee_after.to_string()), ("5.00".into(), "8.00".into()));
    let trade = snap.trades.iter().find(|t| t.out_trade_no == "CANCEL-3").unwrap();
    assert_eq!((trade.refund_fee.to_string(), trade.status), ("8.00".into(), TradeStatus::TradeClosed));
    let notified =
        snap.notifications.iter().filter(|n| n.notice.out_trade_no == "CANCEL-3" && n.notice.event == "refund");
    let refund_fees: Vec<String> =
        notified.map(|n| n.notice.fields.iter().find(|(k, _)| k == "refund_fee").unwrap().1.clone()).collect();
    assert_eq!(refund_fees, ["3.00", "8.00"], "each refund notifies the refunded total");
    assert_eq!(sub_code(client.trade_cancel(&out("CANCEL-9")).await.unwrap_err()), SubCode::TradeNotExist);

    // timeout_express: closes on time (the sandbox clock is advanced through the test API).
    let order = PagePay::new("TIMEOUT-1", "1.00".parse().unwrap(), "t")
        .unwrap()
        .with_timeout(PayTimeout::Relative(TimeoutExpress::new("5m").unwrap()));
    let page = page_of(&client.page_pay_url(&order).unwrap()).await;
    let http = http();
    let adv = http
        .post(format!("{}/test/advance", run.base))
        .json(&serde_json::json!({"seconds": 240}))
        .send()
        .await
        .unwrap();
    assert_eq!(adv.status(), 200);
    assert_eq!(client.trade_query(&out("TIMEOUT-1")).await.unwrap().trade_status, TradeStatus::WaitBuyerPay);
    run.sandbox.advance(Duration::from_secs(61)).await.unwrap();
    assert_eq!(client.trade_query(&out("TIMEOUT-1")).await.unwrap().trade_status, TradeStatus::TradeClosed);
    assert_eq!(press_pay(&run.base, &trade_no_on(&page)).await.0, 409);

    // time_expire (absolute, Beijing time) in the sandbox clock's past: refused at the cashier.
    let now = run.sandbox.now().await;
    let late = PagePay::new("TIMEOUT-2", "1.00".parse().unwrap(), "t")
        .unwrap()
        .with_timeout(PayTimeout::Absolute(now - chrono::Duration::minutes(1)));
    assert_eq!(open_cashier(&client.page_pay_url(&late).unwrap()).await.0, 400);
}

#[tokio::test]
async fn test_api_and_inspection() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    let client = run.client(&merchant);
    let http = http();
    page_of(&client.page_pay_url(&PagePay::new("API-1", "3.00".parse().unwrap(), "<b>x</b>").unwrap()).unwrap()).await;
    let paid: serde_json::Value = http
        .post(format!("{}/test/pay", run.base))
        .json(&serde_json::json!({"app_id": APP_ID, "out_trade_no": "API-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["trade"]["status"], "TRADE_SUCCESS");
    assert!(paid["return_url"].as_str().unwrap().starts_with(&merchant.base));
    let again = http
        .post(format!("{}/test/pay", run.base))
        .json(&serde_json::json!({"app_id": APP_ID, "out_trade_no": "API-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    merchant.wait_for(1, Duration::from_secs(10)).await;
    run.until("the merchant's answer is recorded", |s| s.notifications[0].attempts.len() == 1).await;
    let snap: serde_json::Value =
        http.get(format!("{}/inspect.json", run.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(snap["trades"][0]["out_trade_no"], "API-1");
    assert_eq!(snap["notifications"][0]["attempts"][0]["reply"], "success");
    assert_eq!(snap["notifications"][0]["state"], "delivered");
    let html = http.get(format!("{}/inspect", run.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("API-1") && html.contains("&#60;b&#62;x&#60;/b&#62;") && !html.contains("<b>x</b>"));
    let pem = http.get(format!("{}/alipay_public_key.pem", run.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(alipay::PublicKeyRsa::from_text(&pem).unwrap().der(), alipay_public().der());
    let closed = http
        .post(format!("{}/test/close", run.base))
        .json(&serde_json::json!({"app_id": APP_ID, "out_trade_no": "API-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 409, "a paid trade cannot be closed");
}

#[tokio::test]
async fn wap_pay_and_post_form() {
    let merchant = Merchant::always_success().await;
    let run = Running::start(builder(0.001), true).await;
    let client = run.client(&merchant);
    // wap pay by GET.
    let url = client.wap_pay_url(&PagePay::new("WAP-1", "2.00".parse().unwrap(), "t").unwrap()).unwrap();
    let page = page_of(&url).await;
    let (_, loc) = press_pay(&run.base, &trade_no_on(&page)).await;
    let ret = client.verify_return(&loc.unwrap().split_once('?').unwrap().1.replace("from=sandbox&", "")).unwrap();
    assert_eq!(ret.method.as_deref(), Some("alipay.trade.wap.pay.return"));
    // page pay by POST form: public fields in the action URL, biz_content in the body.
    let form = client.page_pay_form(&PagePay::new("FORM-1", "2.50".parse().unwrap(), "t").unwrap()).unwrap();
    let action = form.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let biz = form.split("name=\"biz_content\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let biz = biz.replace("&quot;", "\"").replace("&amp;", "&");
    let r = http().post(action).form(&[("biz_content", biz.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("FORM-1") && page.contains("2.50"), "{page}");
}

#[tokio::test]
async fn mounted_under_a_prefix_the_cashier_links_resolve() {
    let merchant = Merchant::always_success().await;
    let run = Running::start_at(builder(0.001), true, "/sandbox/alipay").await;
    let client = run.client(&merchant);
    let url = client.page_pay_url(&PagePay::new("NEST-1", "9.99".parse().unwrap(), "t").unwrap()).unwrap();
    assert!(url.contains("/sandbox/alipay/gateway.do?"));
    let page = page_of(&url).await;
    // Resolve the Pay form's action the way a browser does, relative to the cashier's URL.
    let action = page.split("<form method=\"post\" action=\"").nth(1).unwrap().split('"').next().unwrap();
    let target = reqwest::Url::parse(&url).unwrap().join(action).unwrap();
    assert_eq!(target.path(), "/sandbox/alipay/cashier/pay");
    let r = http().post(target).form(&[("trade_no", trade_no_on(&page))]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    merchant.wait_for(1, Duration::from_secs(10)).await;
    let r = http().get(&run.base).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/sandbox/alipay/inspect");
    let html = http().get(format!("{}/inspect", run.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("NEST-1") && html.contains("href=\"inspect.json\""));
    let json = http().get(format!("{}/inspect.json", run.base)).send().await.unwrap();
    assert_eq!(json.status(), 200);
}
