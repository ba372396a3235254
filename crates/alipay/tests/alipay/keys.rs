//! Key parsing in every form, with clear errors.

use alipay::{Error, PrivateKey, PublicKeyRsa, SignType};

use crate::support::*;

#[test]
fn private_keys_in_every_form_sign_identically() {
    let reference = app_key().sign_rsa2(b"hello").unwrap();
    for f in ["app_private_pkcs8.pem", "app_private_pkcs1.pem", "app_private_pkcs8.b64", "app_private_pkcs1.b64"] {
        let k = PrivateKey::from_file(data(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(k.sign_rsa2(b"hello").unwrap(), reference, "{f}");
    }
    // Wrapped base64 with CRLF and spaces, as pasted from a console.
    let b64 = data_text("app_private_pkcs8.b64");
    let wrapped: String =
        b64.as_bytes().chunks(64).map(|c| format!("  {}\r\n", std::str::from_utf8(c).unwrap())).collect();
    assert_eq!(PrivateKey::from_text(&wrapped).unwrap().sign_rsa2(b"hello").unwrap(), reference);
    // A PEM without its line breaks' final newline and with a BOM.
    let pem = format!("\u{feff}{}", data_text("app_private_pkcs1.pem").trim_end());
    assert_eq!(PrivateKey::from_text(&pem).unwrap().sign_rsa2(b"hello").unwrap(), reference);
}

#[test]
fn public_keys_in_every_form_verify() {
    let sig = app_key().sign_rsa2(b"hello").unwrap();
    for f in ["app_public_spki.pem", "app_public_pkcs1.pem", "app_public_spki.b64"] {
        let k = PublicKeyRsa::from_file(data(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        k.verify(SignType::Rsa2, b"hello", &sig).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(k.verify(SignType::Rsa2, b"hellO", &sig).is_err());
    }
    // The public key derived from the private key verifies too.
    app_key().public_key().unwrap().verify(SignType::Rsa2, b"hello", &sig).unwrap();
    // RSA2 signatures do not pass as RSA (SHA1).
    assert!(app_public().verify(SignType::Rsa, b"hello", &sig).is_err());
}

#[test]
fn legacy_rsa_sha1_signatures_verify() {
    // Made with: openssl dgst -sha1 -sign app_private_pkcs8.pem over "legacy"
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha1", "-sign"])
        .arg(data("app_private_pkcs8.pem"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"legacy")?;
            c.wait_with_output()
        })
        .expect("openssl is needed for this test");
    assert!(out.status.success());
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::STANDARD.encode(out.stdout);
    app_public().verify(SignType::Rsa, b"legacy", &sig).unwrap();
    assert!(app_public().verify(SignType::Rsa2, b"legacy", &sig).is_err());
    assert!(app_public().verify(SignType::Rsa, b"legacY", &sig).is_err());
}

fn key_reason(e: Error) -> String {
    match e {
        Error::Key { reason, source_name, .. } => format!("{source_name}: {reason}"),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn errors_say_what_was_wrong() {
    let r = key_reason(PrivateKey::from_text("").unwrap_err());
    assert!(r.contains("empty"), "{r}");
    let r = key_reason(PrivateKey::from_text("not base64 !!!").unwrap_err());
    assert!(r.contains("base64"), "{r}");
    let r = key_reason(PrivateKey::from_text("aGVsbG8gd29ybGQ=").unwrap_err());
    assert!(r.contains("neither a PKCS#8 nor a PKCS#1"), "{r}");
    let r = key_reason(PrivateKey::from_text(&data_text("app_public_spki.pem")).unwrap_err());
    assert!(r.contains("public key"), "{r}");
    let r = key_reason(PrivateKey::from_text(&data_text("app_public_spki.b64")).unwrap_err());
    assert!(r.contains("public key"), "{r}");
    let r = key_reason(PublicKeyRsa::from_text(&data_text("app_private_pkcs8.pem")).unwrap_err());
    assert!(r.contains("private key"), "{r}");
    let r = key_reason(PublicKeyRsa::from_text(&data_text("app_private_pkcs1.b64")).unwrap_err());
    assert!(r.contains("private key"), "{r}");
    let r = key_reason(PrivateKey::from_text("-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap_err());
    assert!(r.contains("footer"), "{r}");
    let r =
        key_reason(PrivateKey::from_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----").unwrap_err());
    assert!(r.contains("PKCS#8"), "{r}");
    let r = key_reason(
        PublicKeyRsa::from_text("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----")
            .unwrap_err(),
    );
    assert!(r.contains("unsupported PEM label"), "{r}");
    let r = key_reason(
        PrivateKey::from_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----")
            .unwrap_err(),
    );
    assert!(r.contains("encrypted"), "{r}");
    // File errors name the file.
    let r = key_reason(PrivateKey::from_file("/nonexistent/app_key.pem").unwrap_err());
    assert!(r.contains("/nonexistent/app_key.pem"), "{r}");
    let r = key_reason(PublicKeyRsa::from_file(data("app_private_pkcs1.pem")).unwrap_err());
    assert!(r.contains("app_private_pkcs1.pem"), "{r}");
}

#[test]
fn bad_signatures_are_errors_not_panics() {
    let k = app_public();
    for sig in ["", "!!!", "AAAA", "QUJD\nREVG", &"A".repeat(344)] {
        assert!(matches!(k.verify(SignType::Rsa2, b"x", sig), Err(Error::BadSignature(_))), "{sig:?}");
    }
    // Line-wrapped signatures are accepted.
    let sig = app_key().sign_rsa2(b"x").unwrap();
    let wrapped = format!("{}\n{}", &sig[..64], &sig[64..]);
    k.verify(SignType::Rsa2, b"x", &wrapped).unwrap();
}
