//! Notifications and returns: verified, typed, with distinct errors.

use alipay::sign::{encode_form, sign_notification};
use alipay::{Error, SignType, TradeStatus};

use crate::support::*;

fn base() -> Vec<(String, String)> {
    pairs(&[
        ("notify_time", "2024-05-01 10:00:05"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2024050100222100005012345678"),
        ("app_id", APP_ID),
        ("auth_app_id", APP_ID),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("trade_no", "2024050122001400000000000001"),
        ("out_trade_no", "ORDER_1"),
        ("buyer_id", "2088102000000001"),
        ("seller_id", "2088102000000002"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.80"),
        ("receipt_amount", "88.80"),
        ("buyer_pay_amount", "88.80"),
        ("subject", "语雀 & = + % } \" 空格"),
        ("gmt_create", "2024-05-01 09:59:00"),
        ("gmt_payment", "2024-05-01 10:00:00"),
        ("passback_params", "a%3D1"),
        ("fund_bill_list", r#"[{"amount":"88.80","fundChannel":"ALIPAYACCOUNT"}]"#),
    ])
}

/// Signs like Alipay (with the test Alipay key) and form-encodes like Alipay's POST.
fn body_of(mut fields: Vec<(String, String)>) -> String {
    let sign = sign_notification(&fields, &alipay_key()).unwrap();
    fields.push(("sign".into(), sign));
    encode_form(fields.iter().map(|(k, v)| (k, v)))
}

#[test]
fn a_signed_notification_is_verified_and_typed() {
    let n = client().verify_notification(&body_of(base())).unwrap();
    assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(n.total_amount.fen(), 8880);
    assert_eq!(n.receipt_amount.unwrap().fen(), 8880);
    assert_eq!(n.subject.as_deref(), Some("语雀 & = + % } \" 空格"));
    assert_eq!(n.passback_params.as_deref(), Some("a%3D1"), "echoed verbatim, decoded once");
    assert_eq!(n.seller_id.as_deref(), Some("2088102000000002"));
    assert_eq!(n.notify_time.to_rfc3339(), "2024-05-01T10:00:05+08:00");
    assert!(!n.is_refund());
    assert_eq!(n.raw.get("charset").map(String::as_str), Some("utf-8"));
    assert_eq!(alipay::notify::SUCCESS_BODY, "success");
}

#[test]
fn refund_notifications_carry_refund_fields() {
    let mut f = base();
    f.extend(pairs(&[
        ("refund_fee", "10.00"),
        ("gmt_refund", "2024-05-02 10:00:00.123"),
        ("out_biz_no", "ORDER_1-R1"),
    ]));
    let n = client().verify_notification(&body_of(f)).unwrap();
    assert!(n.is_refund());
    assert_eq!(n.refund_fee.unwrap().fen(), 1000);
    assert_eq!(n.out_biz_no.as_deref(), Some("ORDER_1-R1"));
    assert_eq!(n.gmt_refund.as_deref(), Some("2024-05-02 10:00:00.123"));
    assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
}

#[test]
fn distinct_errors_for_signature_missing_field_and_amount() {
    let c = client();
    // Bad signature: value changed after signing.
    let body = body_of(base()).replace("total_amount=88.80", "total_amount=0.01");
    assert!(matches!(c.verify_notification(&body), Err(Error::BadSignature(_))));
    // Bad signature: signed with the merchant key instead of Alipay's.
    let mut f = base();
    let s = sign_notification(&f, &app_key()).unwrap();
    f.push(("sign".into(), s));
    assert!(matches!(c.verify_notification_fields(&f), Err(Error::BadSignature(_))));
    // No sign at all.
    let f = base();
    assert!(matches!(c.verify_notification(&encode_form(f.iter().map(|(k, v)| (k, v)))), Err(Error::BadSignature(_))));
    // Missing field (correctly signed).
    let f: Vec<_> = base().into_iter().filter(|(k, _)| k != "out_trade_no").collect();
    match c.verify_notification(&body_of(f)) {
        Err(Error::MissingField(name)) => assert_eq!(name, "out_trade_no"),
        other => panic!("{other:?}"),
    }
    // Malformed amount (correctly signed).
    let f: Vec<_> =
        base().into_iter().map(|(k, v)| if k == "total_amount" { (k, "88.888".to_string()) } else { (k, v) }).collect();
    match c.verify_notification(&body_of(f)) {
        Err(Error::MalformedAmount { field, value, .. }) => {
            assert_eq!(field, "total_amount");
            assert_eq!(value, "88.888");
        }
        other => panic!("{other:?}"),
    }
    // Unknown trade status (correctly signed).
    let f: Vec<_> =
        base().into_iter().map(|(k, v)| if k == "trade_status" { (k, "PAID".to_string()) } else { (k, v) }).collect();
    assert!(matches!(c.verify_notification(&body_of(f)), Err(Error::MalformedField { .. })));
    // A duplicated field is refused.
    let body = format!("{}&out_trade_no=OTHER", body_of(base()));
    assert!(matches!(c.verify_notification(&body), Err(Error::MalformedField { .. })));
    // sign_type downgrade is refused.
    let body = body_of(base()).replace("sign_type=RSA2", "sign_type=RSA");
    assert!(matches!(c.verify_notification(&body), Err(Error::BadSignature(_))));
}

#[test]
fn browser_return_is_verified_from_a_query_string() {
    let mut f = pairs(&[
        ("charset", "utf-8"),
        ("out_trade_no", "ORDER_1"),
        ("method", "alipay.trade.page.pay.return"),
        ("total_amount", "88.80"),
        ("trade_no", "2024050122001400000000000001"),
        ("auth_app_id", APP_ID),
        ("version", "1.0"),
        ("app_id", APP_ID),
        ("sign_type", "RSA2"),
        ("seller_id", "2088102000000002"),
        ("timestamp", "2024-05-01 10:00:07"),
    ]);
    let sign = sign_notification(&f, &alipay_key()).unwrap();
    f.push(("sign".into(), sign));
    let query = format!("?{}", encode_form(f.iter().map(|(k, v)| (k, v))));
    let r = client().verify_return(&query).unwrap();
    assert_eq!(r.total_amount.fen(), 8880);
    assert_eq!(r.out_trade_no, "ORDER_1");
    assert_eq!(r.method.as_deref(), Some("alipay.trade.page.pay.return"));
    let forged = query.replace("ORDER_1", "ORDER_2");
    assert!(matches!(client().verify_return(&forged), Err(Error::BadSignature(_))));
    assert!(matches!(
        alipay::notify::verify_return_query(&query, &alipay_public(), SignType::Rsa),
        Err(Error::BadSignature(_))
    ));
}
