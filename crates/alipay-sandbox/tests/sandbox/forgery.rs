//! Forged and malformed requests are refused with Alipay's codes; the refusals are signed in
//! Alipay's byte format.

use alipay::{Client, Config, Error, KeyMode, SubCode};
use chrono::Utc;

use crate::support::*;

/// Posts fields the way the Node SDK does (public fields in the URL, biz_content in the body)
/// and returns (raw body, code, sub_code, sub_msg) after checking the answer's signature.
async fn raw_call(run: &Running, fields: &[(String, String)], response_key: &str) -> (String, String, String, String) {
    let (biz, public): (Vec<_>, Vec<_>) = fields.iter().partition(|(k, _)| k == "biz_content");
    let url = format!("{}?{}", run.gateway(), alipay::sign::encode_form(public.iter().map(|(k, v)| (k, v))));
    let body = alipay::sign::encode_form(biz.iter().map(|(k, v)| (k, v)));
    let r = http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let scanned = alipay::response::scan(&text, response_key).unwrap();
    assert!(!scanned.is_error_response || response_key == "error_response", "{text}");
    alipay_public().verify(alipay::SignType::Rsa2, scanned.span.as_bytes(), &scanned.sign.clone().unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_str(scanned.span).unwrap();
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (text.clone(), s("code"), s("sub_code"), s("sub_msg"))
}

fn client_for(run: &Running, app_id: &str, key: alipay::PrivateKey) -> Client {
    Client::new(Config::new(app_id, key, KeyMode::PublicKey(alipay_public())).with_gateway(run.gateway())).unwrap()
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_owned(), value.to_owned()));
}

const QUERY: &str = "alipay.trade.query";
const KEY: &str = "alipay_trade_query_response";

#[tokio::test]
async fn a_request_signed_with_the_wrong_key_is_refused_with_the_gateways_string_to_sign() {
    let run = Running::start(builder(1.0), false).await;
    // The Alipay private key is not this app's key.
    let forger = client_for(&run, APP_ID, alipay_private());
    let biz = r#"{"out_trade_no":"http://x/y"}"#;
    let fields = forger.signed_fields(QUERY, biz, Utc::now()).unwrap();
    let (raw, code, sub_code, sub_msg) = raw_call(&run, &fields, KEY).await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40002", "isv.invalid-signature"));
    let expected = alipay::sign::canonical_request_string(fields.iter().map(|(k, v)| (k, v)));
    assert!(sub_msg.ends_with(&format!("网关生成的验签字符串为：{expected}")), "{sub_msg}");
    // Alipay's byte format: raw UTF-8, `/` escaped.
    assert!(raw.contains("验签出错") && raw.contains(r#"http:\/\/x\/y"#), "{raw}");
    // Our client sees the same refusal, signed.
    match forger.trade_query(&alipay::TradeRef::OutTradeNo("A".into())).await.unwrap_err() {
        Error::Api(e) => {
            assert_eq!(e.sub_code, Some(SubCode::InvalidSignature));
            assert!(e.signed);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tampered_biz_content_unknown_app_and_missing_fields() {
    let run = Running::start(builder(1.0), false).await;
    let client = client_for(&run, APP_ID, app_private());
    let good = client.signed_fields(QUERY, r#"{"out_trade_no":"A"}"#, Utc::now()).unwrap();
    // The genuine request is accepted (the trade simply does not exist).
    let (_, code, sub_code, _) = raw_call(&run, &good, KEY).await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40004", "ACQ.TRADE_NOT_EXIST"));

    let mut tampered = good.clone();
    set(&mut tampered, "biz_content", r#"{"out_trade_no":"B"}"#);
    let (_, code, sub_code, _) = raw_call(&run, &tampered, KEY).await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40002", "isv.invalid-signature"));

    // An extra field the signer did not sign also breaks the signature (all fields are verified).
    let mut extra = good.clone();
    extra.push(("return_url".into(), "http://evil.example/".into()));
    assert_eq!(raw_call(&run, &extra, KEY).await.2, "isv.invalid-signature");

    let stranger = client_for(&run, "2021999999999999", app_private());
    let fields = stranger.signed_fields(QUERY, r#"{"out_trade_no":"A"}"#, Utc::now()).unwrap();
    let (_, code, sub_code, _) = raw_call(&run, &fields, KEY).await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40002", "isv.invalid-app-id"));

    for (missing, sub) in [
        ("app_id", "isv.missing-app-id"),
        ("sign", "isv.missing-signature"),
        ("sign_type", "isv.missing-signature-type"),
        ("timestamp", "isv.missing-timestamp"),
        ("version", "isv.missing-version"),
    ] {
        let fields: Vec<_> = good.iter().filter(|(k, _)| k != missing).cloned().collect();
        let (_, code, sub_code, _) = raw_call(&run, &fields, KEY).await;
        assert_eq!((code.as_str(), sub_code.as_str()), ("40001", sub), "without {missing}");
    }
    let no_method: Vec<_> = good.iter().filter(|(k, _)| k != "method").cloned().collect();
    let (_, code, sub_code, _) = raw_call(&run, &no_method, "error_response").await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40001", "isv.missing-method"));

    let unknown = client.signed_fields("alipay.trade.fly", "{}", Utc::now()).unwrap();
    let (_, code, sub_code, _) = raw_call(&run, &unknown, "error_response").await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40002", "isv.invalid-method"));

    let mut dup = good.clone();
    dup.push(("app_id".into(), APP_ID.into()));
    assert_eq!(raw_call(&run, &dup, "error_response").await.2, "isv.invalid-parameter");
}

#[tokio::test]
async fn timestamps_must_be_beijing_time_and_recent() {
    let run = Running::start(builder(1.0), false).await;
    let client = client_for(&run, APP_ID, app_private());
    // A UTC wall-clock time written as if it were Beijing time (the usual SDK mistake) is 8 h off.
    let utc_as_beijing = Utc::now() - chrono::Duration::hours(8);
    let fields = client.signed_fields(QUERY, r#"{"out_trade_no":"A"}"#, utc_as_beijing).unwrap();
    let (_, code, sub_code, _) = raw_call(&run, &fields, KEY).await;
    assert_eq!((code.as_str(), sub_code.as_str()), ("40002", "isv.invalid-timestamp"));
    // A malformed one, correctly signed.
    let mut fields = client.signed_fields(QUERY, r#"{"out_trade_no":"A"}"#, Utc::now()).unwrap();
    fields.retain(|(k, _)| k != "sign");
    set(&mut fields, "timestamp", "2024/01/01 00:00");
    let sign = alipay::sign::sign_request(&fields, &app_private()).unwrap();
    fields.push(("sign".into(), sign));
    assert_eq!(raw_call(&run, &fields, KEY).await.2, "isv.invalid-timestamp");
    // Within tolerance is fine.
    let fields =
        client.signed_fields(QUERY, r#"{"out_trade_no":"A"}"#, Utc::now() - chrono::Duration::minutes(5)).unwrap();
    assert_eq!(raw_call(&run, &fields, KEY).await.2, "ACQ.TRADE_NOT_EXIST");
}

#[tokio::test]
async fn forged_page_pay_shows_an_error_page_and_creates_nothing() {
    let run = Running::start(builder(1.0), false).await;
    let forger = Client::new(
        Config::new(APP_ID, alipay_private(), KeyMode::PublicKey(alipay_public()))
            .with_gateway(run.gateway())
            .with_notify_url("http://127.0.0.1:9/notify"),
    )
    .unwrap();
    let order = alipay::PagePay::new("FORGED-1", alipay::Money::from_fen(100).unwrap(), "x").unwrap();
    let (status, page) = open_cashier(&forger.page_pay_url(&order).unwrap()).await;
    assert_eq!(status, 400);
    assert!(page.contains("isv.invalid-signature") && !page.contains("name=\"trade_no\""), "{page}");
    // Tampered amount in a genuine URL.
    let genuine = client_for(&run, APP_ID, app_private()).page_pay_url(&order).unwrap();
    let tampered = genuine.replace("1.00", "0.01");
    assert_ne!(genuine, tampered);
    let (status, page) = open_cashier(&tampered).await;
    assert_eq!(status, 400);
    assert!(page.contains("isv.invalid-signature"));
    assert!(run.sandbox.snapshot().await.trades.is_empty());
}
