//! Server calls against a local gateway on 127.0.0.1 that checks our signatures like the real one
//! (query and body merged, every field verified) and answers real-format signed responses.

use std::time::Duration;

use alipay::sign::{parse_form, verify_request};
use alipay::{Error, Money, Refund, ResultCode, SubCode, TradeRef, TradeStatus};
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::support::*;

/// Signs `span` with the test Alipay key and wraps it as the gateway does.
fn signed(member: &str, span: &str) -> String {
    let sig = alipay_key().sign_rsa2(span.as_bytes()).unwrap();
    format!(r#"{{"{member}":{span},"sign":"{sig}"}}"#)
}

async fn gateway(RawQuery(query): RawQuery, body: String) -> axum::response::Response {
    let mut fields = parse_form(query.as_deref().unwrap_or("")).unwrap();
    fields.extend(parse_form(&body).unwrap());
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    if verify_request(&fields, &app_public()).is_err() {
        return r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}}"#.into_response();
    }
    // Public fields must all be there, in Beijing time.
    for k in ["app_id", "method", "charset", "sign_type", "timestamp", "version", "biz_content"] {
        assert!(!get(k).is_empty(), "missing {k}");
    }
    let method = get("method");
    let member = format!("{}_response", method.replace('.', "_"));
    let biz: serde_json::Value = serde_json::from_str(&get("biz_content")).unwrap();
    let trade = biz["out_trade_no"].as_str().unwrap_or_default().to_owned();
    match (method.as_str(), trade.as_str()) {
        ("alipay.trade.query", "PAID") => signed(
            &member,
            // `\/` escapes and key order as Alipay writes them: the raw bytes are what is signed.
            r#"{"code":"10000","msg":"Success","buyer_logon_id":"xud***@126.com","buyer_pay_amount":"88.80","out_trade_no":"PAID","point_amount":"0.00","receipt_amount":"88.80","send_pay_date":"2024-05-01 10:00:00","total_amount":"88.80","trade_no":"2024050122001400000000000001","trade_status":"TRADE_SUCCESS","ext":"a}b\"c\/d"}"#,
        )
        .into_response(),
        ("alipay.trade.query", "NOPE") => signed(
            &member,
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在","buyer_pay_amount":"0.00","invoice_amount":"0.00","out_trade_no":"NOPE","point_amount":"0.00","receipt_amount":"0.00"}"#,
        )
        .into_response(),
        ("alipay.trade.query", "UNKNOWN") => signed(&member, r#"{"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"}"#).into_response(),
        ("alipay.trade.query", "FORGED") => {
            let span = r#"{"code":"10000","msg":"Success","out_trade_no":"FORGED","total_amount":"88.80","trade_no":"T","trade_status":"TRADE_SUCCESS"}"#;
            let sig = app_key().sign_rsa2(span.as_bytes()).unwrap();
            format!(r#"{{"{member}":{span},"sign":"{sig}"}}"#).into_response()
        }
        ("alipay.trade.query", "UNSIGNED_OK") => format!(
            r#"{{"{member}":{{"code":"10000","msg":"Success","out_trade_no":"X","total_amount":"1.00","trade_no":"T","trade_status":"TRADE_SUCCESS"}}}}"#
        )
        .into_response(),
        ("alipay.trade.query", "DUPLICATE") => {
            let span = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}"#;
            let sig = alipay_key().sign_rsa2(span.as_bytes()).unwrap();
            // A second copy of the member after the signed one: refused, never "last wins".
            format!(r#"{{"{member}":{span},"sign":"{sig}","{member}":{{"code":"10000"}}}}"#).into_response()
        }
        ("alipay.trade.query", "CERT") | ("alipay.trade.query", "CERT_ROTATED") => {
            assert_eq!(get("app_cert_sn"), "app-sn");
            assert_eq!(get("alipay_root_cert_sn"), "root-sn-1_root-sn-2");
            let span = r#"{"code":"10000","msg":"Success","out_trade_no":"CERT","total_amount":"1.00","trade_no":"T","trade_status":"WAIT_BUYER_PAY"}"#;
            let (key, sn) = if trade == "CERT" { (alipay_key(), "alipay-sn") } else { (app_key(), "alipay-sn-2") };
            let sig = key.sign_rsa2(span.as_bytes()).unwrap();
            format!(r#"{{"{member}":{span},"alipay_cert_sn":"{sn}","sign":"{sig}"}}"#).into_response()
        }
        ("alipay.trade.query", "SLOW") => std::future::pending().await,
        ("alipay.trade.query", "HTTP502") => (StatusCode::BAD_GATEWAY, "bad gateway").into_response(),
        ("alipay.trade.query", "GARBAGE") => "<html>oops</html>".into_response(),
        ("alipay.trade.refund", _) => {
            assert_eq!(biz["out_request_no"], "PAID-R1");
            assert_eq!(biz["refund_amount"], "10.00");
            let change = if biz["refund_reason"] == "replay" { "N" } else { "Y" };
            signed(
                &member,
                &format!(
                    r#"{{"code":"10000","msg":"Success","buyer_logon_id":"xud***@126.com","fund_change":"{change}","gmt_refund_pay":"2024-05-02 10:00:00","out_trade_no":"PAID","refund_fee":"10.00","trade_no":"2024050122001400000000000001"}}"#
                ),
            )
            .into_response()
        }
        ("alipay.trade.fastpay.refund.query", _) => signed(
            &member,
            r#"{"code":"10000","msg":"Success","out_request_no":"PAID-R1","out_trade_no":"PAID","refund_amount":"10.00","refund_status":"REFUND_SUCCESS","total_amount":"88.80","trade_no":"2024050122001400000000000001"}"#,
        )
        .into_response(),
        ("alipay.trade.close", _) => signed(
            &member,
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_STATUS_ERROR","sub_msg":"交易状态不合法"}"#,
        )
        .into_response(),
        ("alipay.trade.cancel", _) => signed(
            &member,
            r#"{"code":"10000","msg":"Success","action":"close","out_trade_no":"PAID","retry_flag":"N","trade_no":"2024050122001400000000000001"}"#,
        )
        .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such scenario").into_response(),
    }
}

async fn start() -> String {
    let app = axum::Router::new().route("/gateway.do", axum::routing::post(gateway));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/gateway.do")
}

async fn client_at(url: &str) -> alipay::Client {
    alipay::Client::new(config().with_gateway(url).with_timeout(Duration::from_millis(1500))).unwrap()
}

fn out(s: &str) -> TradeRef {
    TradeRef::OutTradeNo(s.into())
}

#[tokio::test]
async fn query_success_is_verified_over_the_raw_span_and_typed() {
    let c = client_at(&start().await).await;
    let r = c.trade_query(&out("PAID")).await.unwrap();
    assert_eq!(r.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(r.total_amount, "88.80".parse::<Money>().unwrap());
    assert_eq!(r.receipt_amount.unwrap().fen(), 8880);
    assert_eq!(r.buyer_logon_id.as_deref(), Some("xud***@126.com"));
}

#[tokio::test]
async fn business_errors_are_typed() {
    let c = client_at(&start().await).await;
    let e = c.trade_query(&out("NOPE")).await.unwrap_err();
    let api = e.api_error().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(api.code, ResultCode::BusinessFailed);
    assert_eq!(api.sub_code, Some(SubCode::TradeNotExist));
    assert!(api.signed);
    let e = c.trade_close(&out("PAID")).await.unwrap_err();
    assert_eq!(e.api_error().unwrap().sub_code, Some(SubCode::TradeStatusError));
}

#[tokio::test]
async fn code_20000_and_transport_failures_are_outcome_unknown() {
    let url = start().await;
    let c = client_at(&url).await;
    for trade in ["UNKNOWN", "HTTP502"] {
        let e = c.trade_query(&out(trade)).await.unwrap_err();
        assert!(e.is_outcome_unknown(), "{trade}: {e:?}");
    }
    // A gateway that never answers: the configured timeout ends the call.
    let impatient = alipay::Client::new(config().with_gateway(&url).with_timeout(Duration::from_millis(100))).unwrap();
    let e = impatient.trade_query(&out("SLOW")).await.unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
    // Nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/gateway.do", listener.local_addr().unwrap());
    drop(listener);
    let e = client_at(&dead)
        .await
        .trade_refund(&Refund::new(out("PAID"), Money::from_fen(1000).unwrap(), "PAID-R1").unwrap())
        .await
        .unwrap_err();
    assert!(e.is_outcome_unknown(), "{e:?}");
}

#[tokio::test]
async fn forged_unsigned_duplicate_and_garbage_responses_are_refused() {
    let c = client_at(&start().await).await;
    assert!(matches!(c.trade_query(&out("FORGED")).await, Err(Error::BadSignature(_))));
    assert!(matches!(c.trade_query(&out("UNSIGNED_OK")).await, Err(Error::BadSignature(_))));
    assert!(matches!(c.trade_query(&out("DUPLICATE")).await, Err(Error::MalformedResponse(_))));
    assert!(matches!(c.trade_query(&out("GARBAGE")).await, Err(Error::MalformedResponse(_))));
}

#[tokio::test]
async fn gateway_rejecting_our_signature_is_an_unsigned_api_error() {
    let url = start().await;
    // A client whose private key does not match what the gateway expects.
    let cfg = alipay::Config::new(APP_ID, alipay_key(), alipay::KeyMode::PublicKey(alipay_public())).with_gateway(&url);
    let e = alipay::Client::new(cfg).unwrap().trade_query(&out("PAID")).await.unwrap_err();
    let api = e.api_error().unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(api.code, ResultCode::InvalidParameter);
    assert_eq!(api.sub_code, Some(SubCode::InvalidSignature));
    assert!(!api.signed);
}

#[tokio::test]
async fn refund_refund_query_and_cancel() {
    let c = client_at(&start().await).await;
    let refund = Refund::new(out("PAID"), Money::from_fen(1000).unwrap(), "PAID-R1").unwrap();
    let r = c.trade_refund(&refund).await.unwrap();
    assert!(r.fund_change);
    assert_eq!(r.refund_fee.fen(), 1000);
    let mut replay = refund.clone();
    replay.refund_reason = Some("replay".into());
    assert!(!c.trade_refund(&replay).await.unwrap().fund_change, "a replay moves no money");
    let q = c.refund_query(&out("PAID"), "PAID-R1").await.unwrap();
    assert!(q.refunded());
    assert_eq!(q.refund_amount.unwrap().fen(), 1000);
    let x = c.trade_cancel(&out("PAID")).await.unwrap();
    assert_eq!(x.action.as_deref(), Some("close"));
}

#[tokio::test]
async fn certificate_mode_sends_the_sns_and_names_a_rotated_alipay_certificate() {
    let url = start().await;
    let mode = alipay::CertMode {
        app_cert_sn: "app-sn".into(),
        alipay_cert_sn: "alipay-sn".into(),
        alipay_root_cert_sn: "root-sn-1_root-sn-2".into(),
        alipay_public_key: alipay_public(),
    };
    let cfg = alipay::Config::new(APP_ID, app_key(), alipay::KeyMode::Certificate(mode)).with_gateway(&url);
    let c = alipay::Client::new(cfg).unwrap();
    let r = c.trade_query(&out("CERT")).await.unwrap();
    assert_eq!(r.trade_status, TradeStatus::WaitBuyerPay);
    match c.trade_query(&out("CERT_ROTATED")).await {
        Err(Error::BadSignature(reason)) => assert!(reason.contains("alipay-sn-2"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
