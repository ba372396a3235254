//! Property tests: sign → verify round-trips for arbitrary UTF-8 values; any change fails.

use std::collections::BTreeMap;

use alipay::SignType;
use alipay::sign::{encode_form, parse_form, sign_notification, sign_request, verify_notification, verify_request};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use crate::support::*;

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[&=+%}\" a-z语雀]{0,24}",
        Just(String::new()),
        Just("& = + % } \" ".to_string()),
        "\\PC{0,40}",
    ]
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("k_[a-z_]{0,8}", value(), 1..8)
}

fn to_vec(m: &BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn flip_bit(sig: &str, bit: usize) -> String {
    let mut raw = STANDARD.decode(sig).unwrap();
    let i = bit % (raw.len() * 8);
    raw[i / 8] ^= 1 << (i % 8);
    STANDARD.encode(raw)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn notification_round_trips_through_a_form_body(m in params()) {
        let key = alipay_key();
        let mut fields = to_vec(&m);
        fields.push(("sign_type".into(), "RSA2".into()));
        let sign = sign_notification(&fields, &key).unwrap();
        fields.push(("sign".into(), sign.clone()));
        let body = encode_form(fields.iter().map(|(k, v)| (k, v)));
        let decoded = parse_form(&body).unwrap();
        prop_assert_eq!(&decoded, &fields);
        prop_assert!(verify_notification(&decoded, &sign, &alipay_public(), SignType::Rsa2).is_ok());
    }

    #[test]
    fn request_round_trips_through_a_query_string(m in params()) {
        let key = app_key();
        let mut fields = to_vec(&m);
        fields.push(("sign_type".into(), "RSA2".into()));
        let sign = sign_request(&fields, &key).unwrap();
        fields.push(("sign".into(), sign));
        let query = format!("?{}", encode_form(fields.iter().map(|(k, v)| (k, v))));
        let decoded = parse_form(&query).unwrap();
        prop_assert!(verify_request(&decoded, &app_public()).is_ok());
    }

    #[test]
    fn any_value_change_fails(m in params(), pick in any::<prop::sample::Index>(), new in value()) {
        let fields = to_vec(&m);
        let sign = sign_notification(&fields, &alipay_key()).unwrap();
        let i = pick.index(fields.len());
        prop_assume!(fields[i].1 != new);
        let mut changed = fields.clone();
        changed[i].1 = new;
        prop_assert!(verify_notification(&changed, &sign, &alipay_public(), SignType::Rsa2).is_err());
        // Unchanged still verifies.
        prop_assert!(verify_notification(&fields, &sign, &alipay_public(), SignType::Rsa2).is_ok());
    }

    #[test]
    fn any_signature_change_fails(m in params(), bit in any::<usize>()) {
        let fields = to_vec(&m);
        let sign = sign_notification(&fields, &alipay_key()).unwrap();
        let bad = flip_bit(&sign, bit);
        prop_assert!(verify_notification(&fields, &bad, &alipay_public(), SignType::Rsa2).is_err());
    }

    #[test]
    fn money_round_trips(fen in 0i64..=10_000_000_000_000) {
        let m = alipay::Money::from_fen(fen).unwrap();
        prop_assert_eq!(m.to_string().parse::<alipay::Money>().unwrap(), m);
    }

    #[test]
    fn scanner_never_panics(s in "\\PC{0,64}", key in "[a-z_]{1,8}") {
        let _ = alipay::response::scan(&s, &key);
    }

    #[test]
    fn scanner_finds_the_exact_span(v in value(), w in value()) {
        // Arbitrary strings (with `}`, quotes, escapes, unicode) inside the response object.
        let inner = serde_json::json!({ "code": "10000", "msg": v, "x": [w, { "y": "}" }] }).to_string();
        let body = format!(r#"{{ "a_response" : {inner} , "sign":"c2ln" }}"#);
        let s = alipay::response::scan(&body, "a_response").unwrap();
        prop_assert_eq!(s.span, inner.as_str());
    }
}
