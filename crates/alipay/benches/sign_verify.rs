//! Signatures per second: RSA2 signing of a page-pay request, verification of a notification,
//! and the response-span scanner. Run with `cargo bench -p alipay`.

use std::hint::black_box;

use alipay::sign::{canonical_notification_string, sign_notification};
use alipay::{PrivateKey, PublicKeyRsa, SignType};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn key(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn notification() -> Vec<(String, String)> {
    [
        ("notify_time", "2024-05-01 10:00:05"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "2024050100222100005012345678"),
        ("app_id", "2021000117600000"),
        ("trade_no", "2024050122001400000000000001"),
        ("out_trade_no", "ORDER_1"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.80"),
        ("sign_type", "RSA2"),
        ("subject", "语雀空间 500人规模"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn benches(c: &mut Criterion) {
    let private = PrivateKey::from_text(&key("alipay_private_pkcs8.pem")).expect("test key");
    let public = PublicKeyRsa::from_text(&key("alipay_public_spki.pem")).expect("test key");
    let fields = notification();
    let text = canonical_notification_string(fields.iter().map(|(k, v)| (k, v)));
    let sign = sign_notification(&fields, &private).expect("sign");

    c.bench_function("canonical_notification_string", |b| {
        b.iter(|| canonical_notification_string(black_box(&fields).iter().map(|(k, v)| (k, v))))
    });

    let mut g = c.benchmark_group("rsa2");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| b.iter(|| private.sign_rsa2(black_box(text.as_bytes()))));
    g.bench_function("verify", |b| {
        b.iter(|| public.verify(SignType::Rsa2, black_box(text.as_bytes()), black_box(&sign)))
    });
    g.finish();

    let span = r#"{"code":"10000","msg":"Success","buyer_logon_id":"xud***@126.com","out_trade_no":"O","total_amount":"88.80","trade_no":"T","trade_status":"TRADE_SUCCESS","ext":"a}b\"c"}"#;
    let body = format!(r#"{{"alipay_trade_query_response":{span},"sign":"{sign}"}}"#);
    c.bench_function("scan_response", |b| {
        b.iter(|| alipay::response::scan(black_box(&body), "alipay_trade_query_response"))
    });
}

criterion_group!(group, benches);
criterion_main!(group);
