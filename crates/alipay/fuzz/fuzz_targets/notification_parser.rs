//! Fuzzes notification and return handling: form decoding, verification and typing never panic.
//! Inputs are also re-signed with the test "Alipay" key so that the typed extraction (missing
//! fields, malformed amounts and times) is reached, not only the signature check.
#![no_main]

use std::sync::LazyLock;

use alipay::{PrivateKey, PublicKeyRsa, SignType};
use libfuzzer_sys::fuzz_target;

static PRIVATE: LazyLock<PrivateKey> = LazyLock::new(|| {
    PrivateKey::from_text(include_str!("../../tests/data/alipay_private_pkcs8.pem")).expect("test key")
});
static PUBLIC: LazyLock<PublicKeyRsa> = LazyLock::new(|| {
    PublicKeyRsa::from_text(include_str!("../../tests/data/alipay_public_spki.pem")).expect("test key")
});

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let _ = alipay::notify::verify_notification_body(body, &PUBLIC, SignType::Rsa2);
    let _ = alipay::notify::verify_return_query(body, &PUBLIC, SignType::Rsa2);
    let Ok(mut fields) = alipay::sign::parse_form(body) else {
        return;
    };
    fields.retain(|(k, _)| k != "sign");
    let sign = alipay::sign::sign_notification(&fields, &PRIVATE).expect("signing never fails");
    fields.push(("sign".into(), sign));
    let encoded = alipay::sign::encode_form(fields.iter().map(|(k, v)| (k, v)));
    // Form encoding round-trips exactly.
    assert_eq!(alipay::sign::parse_form(&encoded).expect("our own encoding parses"), fields);
    match alipay::notify::verify_notification_body(&encoded, &PUBLIC, SignType::Rsa2) {
        Ok(n) => assert!(n.raw.contains_key("sign")),
        Err(alipay::Error::BadSignature(reason)) => {
            // Only a foreign sign_type may make a correctly signed body fail the signature check.
            assert!(reason.contains("sign_type"), "{reason}");
        }
        Err(_) => {}
    }
});
