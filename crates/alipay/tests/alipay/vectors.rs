//! The real Alipay-signed vectors in shared/vectors/alipay and the stored byte-identical RSA2 vector.

use alipay::sign::{canonical_notification_string, canonical_request_string};
use alipay::{Certificate, PublicKeyRsa, SignType, TradeStatus};

use crate::support::*;

fn notify_vector() -> (PublicKeyRsa, Vec<(String, String)>, String) {
    let v = vector_json("notify-trade-success-2019.json");
    let key = PublicKeyRsa::from_text(v["alipay_public_key_base64_spki"].as_str().unwrap()).unwrap();
    let params: Vec<(String, String)> =
        v["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    (key, params, v["sign"].as_str().unwrap().to_owned())
}

#[test]
fn notification_verifies_only_with_sign_type_excluded() {
    let v = vector_json("notify-trade-success-2019.json");
    assert_eq!(v["expect"]["verify_excluding_sign_and_sign_type"], true);
    let (key, params, sign) = notify_vector();
    let without = canonical_notification_string(params.iter().map(|(k, v)| (k, v)));
    key.verify(SignType::Rsa2, without.as_bytes(), &sign).expect("must verify without sign_type");
    let with = canonical_request_string(params.iter().map(|(k, v)| (k, v)));
    assert!(with.contains("sign_type=RSA2"));
    assert!(key.verify(SignType::Rsa2, with.as_bytes(), &sign).is_err(), "must NOT verify with sign_type");
}

#[test]
fn notification_vector_types_through_the_public_api() {
    let (key, mut params, sign) = notify_vector();
    params.push(("sign".into(), sign.clone()));
    // As a form body, as Alipay POSTs it.
    let body = alipay::sign::encode_form(params.iter().map(|(k, v)| (k, v)));
    let n = alipay::notify::verify_notification_body(&body, &key, SignType::Rsa2).unwrap();
    assert_eq!(n.trade_status, TradeStatus::TradeSuccess);
    assert_eq!(n.total_amount.fen(), 10);
    assert_eq!(n.point_amount.unwrap().fen(), 0);
    assert_eq!(n.out_trade_no, "20190815155618536-564-57");
    assert_eq!(n.subject.as_deref(), Some("语雀空间 500人规模"));
    assert_eq!(n.gmt_payment.unwrap().to_rfc3339(), "2019-08-15T15:56:24+08:00");
    assert!(!n.is_refund());
    // Through a client configured with that Alipay key.
    let config = alipay::Config::new("2019073166072302", app_key(), alipay::KeyMode::PublicKey(key.clone()));
    let client = alipay::Client::new(config).unwrap();
    assert_eq!(client.verify_notification(&body).unwrap().notify_id, n.notify_id);
    // Verifying with the wrong key (our own) fails — the classic mistake.
    assert!(matches!(
        alipay::notify::verify_notification_body(&body, &app_public(), SignType::Rsa2),
        Err(alipay::Error::BadSignature(_))
    ));
    // A one-character change of any value fails.
    let tampered = body.replace("total_amount=0.10", "total_amount=0.11");
    assert_ne!(tampered, body);
    assert!(matches!(
        alipay::notify::verify_notification_body(&tampered, &key, SignType::Rsa2),
        Err(alipay::Error::BadSignature(_))
    ));
}

#[test]
fn response_verifies_over_raw_span_not_reserialised_json() {
    let v = vector_json("response-open-file-upload.json");
    let key = PublicKeyRsa::from_text(v["alipay_public_key_pem"].as_str().unwrap()).unwrap();
    let body = v["raw_body"].as_str().unwrap();
    let scanned = alipay::response::scan(body, v["response_key"].as_str().unwrap()).unwrap();
    assert_eq!(scanned.span, v["expect"]["signed_substring"].as_str().unwrap());
    let sign = scanned.sign.clone().unwrap();
    key.verify(SignType::Rsa2, scanned.span.as_bytes(), &sign).expect("raw span verifies");
    // Re-serialised (with spaces, as serde_json's pretty/other serialisers would) does not.
    let value: serde_json::Value = serde_json::from_str(scanned.span).unwrap();
    let reserialised = serde_json::to_string_pretty(&value).unwrap();
    assert_ne!(reserialised, scanned.span);
    assert!(key.verify(SignType::Rsa2, reserialised.as_bytes(), &sign).is_err());
    let spaced = scanned.span.replace("\":\"", "\": \"").replace("\",\"", "\", \"");
    assert!(key.verify(SignType::Rsa2, spaced.as_bytes(), &sign).is_err());
    // The generic typed path: a success response parsed from the verified span.
    #[derive(serde::Deserialize)]
    struct Upload {
        file_id: String,
    }
    let up: Upload = alipay::api::parse_response("alipay.open.file.upload", body, &key).unwrap();
    assert_eq!(up.file_id, "CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr");
    // Tampering with the span breaks it.
    let forged = body.replace("CAxAToWB1Js", "CAxAToWB1Jt");
    assert!(matches!(
        alipay::api::parse_response::<Upload>("alipay.open.file.upload", &forged, &key),
        Err(alipay::Error::BadSignature(_))
    ));
}

#[test]
fn certificate_serial_numbers_match() {
    let v = vector_json("cert-sn.json");
    let dir = vectors_dir();
    let f = &v["files"];
    let app = Certificate::from_file(dir.join("appCertPublicKey_2021001161683774.crt")).unwrap();
    assert_eq!(app.sn(), f["appCertPublicKey_2021001161683774.crt"]["app_cert_sn"].as_str().unwrap());
    let ali = Certificate::from_file(dir.join("alipayCertPublicKey_RSA2.crt")).unwrap();
    assert_eq!(ali.sn(), f["alipayCertPublicKey_RSA2.crt"]["alipay_cert_sn"].as_str().unwrap());
    let root = alipay::cert::root_cert_sn_from_file(dir.join("alipayRootCert.crt")).unwrap();
    assert_eq!(root, f["alipayRootCert.crt"]["alipay_root_cert_sn"].as_str().unwrap());

    // Bundles without blank lines between certificates give the same answer.
    let text = std::fs::read_to_string(dir.join("alipayRootCert.crt")).unwrap();
    let squeezed: String = text.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n");
    assert_eq!(alipay::cert::root_cert_sn(&squeezed).unwrap(), root);

    // Certificate mode end to end: the SNs are sent with requests.
    let mode = alipay::CertMode::from_files(
        dir.join("appCertPublicKey_2021001161683774.crt"),
        dir.join("alipayCertPublicKey_RSA2.crt"),
        dir.join("alipayRootCert.crt"),
    )
    .unwrap();
    assert_eq!(mode.alipay_cert_sn, ali.sn());
    let client =
        alipay::Client::new(alipay::Config::new(APP_ID, app_key(), alipay::KeyMode::Certificate(mode))).unwrap();
    let fields = client.signed_fields("alipay.trade.query", "{}", chrono::Utc::now()).unwrap();
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("app_cert_sn").as_deref(), Some("866efef280dec9137a87d047ac446315"));
    assert_eq!(get("alipay_root_cert_sn").unwrap(), root);
}

#[test]
fn certificate_errors_name_the_file() {
    let err = Certificate::from_file(data("app_public_spki.pem")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("app_public_spki.pem") && msg.contains("BEGIN CERTIFICATE"), "{msg}");
}

/// Byte-identical signatures: the stored vector was computed with `openssl dgst -sha256 -sign`
/// (and python-alipay-sdk 3.4.0 gives the same, checked live by interop/run.sh).
#[test]
fn signature_is_byte_identical_to_openssl_and_python_sdk() {
    let v: serde_json::Value = serde_json::from_str(&data_text("rsa2-vector.json")).unwrap();
    let text = v["string_to_sign"].as_str().unwrap();
    let expected = v["expected_sign"].as_str().unwrap();
    // The canonical string our code builds from the parameters is that exact string.
    let params = [
        ("version", "1.0"),
        ("timestamp", "2024-01-01 08:00:00"),
        ("sign_type", "RSA2"),
        ("notify_url", "https://shop.example/notify?a=1&b=2"),
        ("method", "alipay.trade.page.pay"),
        ("charset", "utf-8"),
        (
            "biz_content",
            r#"{"out_trade_no":"20240101-0001","product_code":"FAST_INSTANT_TRADE_PAY","subject":"语雀 & = + % } \" 空格","total_amount":"88.88"}"#,
        ),
        ("app_id", "2021000117600000"),
        ("return_url", ""),
    ];
    assert_eq!(canonical_request_string(params), text);
    for key_file in ["app_private_pkcs8.pem", "app_private_pkcs1.pem", "app_private_pkcs8.b64", "app_private_pkcs1.b64"]
    {
        let key = alipay::PrivateKey::from_file(data(key_file)).unwrap();
        assert_eq!(key.sign_rsa2(text.as_bytes()).unwrap(), expected, "{key_file}");
    }
    assert_eq!(alipay::sign::sign_request(&params, &app_key()).unwrap(), expected);
    assert_eq!(expected.len(), 344);
}
