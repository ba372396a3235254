//! Page-pay and wap-pay URLs and forms.

use alipay::sign::{parse_form, verify_request};
use alipay::{Money, PagePay, PayTimeout, QrPayMode, TimeoutExpress};
use chrono::{TimeZone, Utc};

use crate::support::*;

fn query_of(url: &str) -> Vec<(String, String)> {
    let (_, q) = url.split_once('?').unwrap();
    parse_form(q).unwrap()
}

fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[test]
fn page_pay_url_is_signed_and_complete() {
    let client = alipay::Client::new(config().with_notify_url("https://shop.example/n?x=1&y=2")).unwrap();
    let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let order = PagePay::new("ORDER_1", "88.8".parse::<Money>().unwrap(), "语雀 & = + % } \" 空格")
        .unwrap()
        .with_body("")
        .with_timeout(PayTimeout::Relative(TimeoutExpress::new("30m").unwrap()))
        .with_passback_params("a%3D1%26b%3D2")
        .with_qr_pay_mode(QrPayMode::Custom4 { width: 200 });
    let url = client.page_pay_url_at(&order, at).unwrap();
    assert!(url.starts_with("https://openapi.alipay.com/gateway.do?"));
    assert!(!url.contains("return_url"), "empty optionals are never sent");
    let sign_raw = url.split("sign=").nth(1).unwrap().split('&').next().unwrap();
    assert!(!sign_raw.contains('+') && !sign_raw.contains('/') && !sign_raw.contains('='), "sign is percent-encoded");
    let p = query_of(&url);
    verify_request(&p, &app_public()).expect("the gateway's check passes");
    assert_eq!(get(&p, "timestamp"), Some("2024-01-01 08:00:00"), "Beijing time");
    assert_eq!(get(&p, "method"), Some("alipay.trade.page.pay"));
    assert_eq!(get(&p, "sign_type"), Some("RSA2"));
    assert_eq!(get(&p, "charset"), Some("utf-8"));
    assert_eq!(get(&p, "version"), Some("1.0"));
    assert_eq!(get(&p, "app_id"), Some(APP_ID));
    assert_eq!(get(&p, "notify_url"), Some("https://shop.example/n?x=1&y=2"));
    let biz: serde_json::Value = serde_json::from_str(get(&p, "biz_content").unwrap()).unwrap();
    assert_eq!(
        biz,
        serde_json::json!({
            "out_trade_no": "ORDER_1", "total_amount": "88.80", "subject": "语雀 & = + % } \" 空格",
            "product_code": "FAST_INSTANT_TRADE_PAY", "timeout_express": "30m",
            "passback_params": "a%3D1%26b%3D2", "qr_pay_mode": "4", "qrcode_width": "200"
        })
    );
    // Any change breaks it.
    let mut tampered = p.clone();
    for (k, v) in tampered.iter_mut() {
        if k == "biz_content" {
            *v = v.replace("88.80", "0.01");
        }
    }
    assert!(verify_request(&tampered, &app_public()).is_err());
    // Deterministic for a fixed timestamp.
    assert_eq!(client.page_pay_url_at(&order, at).unwrap(), url);
}

#[test]
fn wap_pay_and_absolute_expiry() {
    let client = alipay::Client::new(config().with_return_url("https://shop.example/r")).unwrap();
    let expire = Utc.with_ymd_and_hms(2024, 6, 1, 4, 0, 0).unwrap();
    let order = PagePay::new("W1", Money::from_fen(1).unwrap(), "t")
        .unwrap()
        .with_timeout(PayTimeout::Absolute(expire))
        .with_quit_url("https://shop.example/q")
        .with_qr_pay_mode(QrPayMode::Mini3);
    let p = query_of(&client.wap_pay_url(&order).unwrap());
    verify_request(&p, &app_public()).unwrap();
    assert_eq!(get(&p, "method"), Some("alipay.trade.wap.pay"));
    assert_eq!(get(&p, "return_url"), Some("https://shop.example/r"));
    assert_eq!(get(&p, "notify_url"), None);
    let biz: serde_json::Value = serde_json::from_str(get(&p, "biz_content").unwrap()).unwrap();
    assert_eq!(biz["product_code"], "QUICK_WAP_WAY");
    assert_eq!(biz["time_expire"], "2024-06-01 12:00:00");
    assert_eq!(biz["quit_url"], "https://shop.example/q");
    assert!(biz.get("qr_pay_mode").is_none());
    assert!(biz.get("total_amount").unwrap() == "0.01");
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[test]
fn page_pay_form_posts_biz_content_in_a_hidden_input() {
    let client = client();
    let order = PagePay::new("F1", Money::from_fen(12345).unwrap(), "<script>alert('x')</script> & \"q\"").unwrap();
    let html = client.page_pay_form(&order).unwrap();
    assert!(!html.contains("<script>alert"), "subject is HTML-escaped");
    let action = html.split("action=\"").nth(1).unwrap().split('"').next().unwrap();
    let value = html.split("name=\"biz_content\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut fields = query_of(&unescape_html(action));
    assert!(get(&fields, "biz_content").is_none(), "biz_content is in the body");
    fields.push(("biz_content".into(), unescape_html(value)));
    verify_request(&fields, &app_public()).unwrap();
    assert!(html.contains("document.forms['alipaysubmit'].submit()"));
    assert!(html.contains("method=\"POST\""));
}

#[test]
fn order_validation() {
    assert!(PagePay::new("", Money::from_fen(1).unwrap(), "s").is_err());
    assert!(PagePay::new("x".repeat(65), Money::from_fen(1).unwrap(), "s").is_err());
    assert!(PagePay::new("a b", Money::from_fen(1).unwrap(), "s").is_err());
    assert!(PagePay::new("ok", Money::ZERO, "s").is_err());
    assert!(PagePay::new("ok", Money::from_fen(10_000_000_001).unwrap(), "s").is_err());
    assert!(PagePay::new("ok", Money::from_fen(1).unwrap(), " ").is_err());
    for ok in ["1m", "90m", "2h", "15d", "1c"] {
        TimeoutExpress::new(ok).unwrap();
    }
    for bad in ["", "m", "0m", "16d", "1s", "1.5h", "-1m", "360h1", "2c"] {
        assert!(TimeoutExpress::new(bad).is_err(), "{bad}");
    }
}
