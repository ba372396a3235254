//! Shared helpers: test keys, the shared vectors directory, a client.

use std::path::PathBuf;

use alipay::{Client, Config, KeyMode, PrivateKey, PublicKeyRsa};

/// `tests/data/<name>`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn data_text(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap_or_else(|e| panic!("reading {}: {e}", data(name).display()))
}

/// The shared Alipay vectors directory. Missing → the test FAILS (never skips).
pub fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/alipay/");
    assert!(
        dir.is_dir(),
        "the real Alipay vectors are missing: expected the directory {} (the repo must be checked out as <dir>/main with shared/ beside it as <dir>/shared)",
        dir.display()
    );
    dir
}

pub fn vector_json(name: &str) -> serde_json::Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub fn app_key() -> PrivateKey {
    PrivateKey::from_file(data("app_private_pkcs8.pem")).unwrap()
}

pub fn app_public() -> PublicKeyRsa {
    PublicKeyRsa::from_file(data("app_public_spki.pem")).unwrap()
}

/// The key the test "Alipay" signs with.
pub fn alipay_key() -> PrivateKey {
    PrivateKey::from_file(data("alipay_private_pkcs8.pem")).unwrap()
}

pub fn alipay_public() -> PublicKeyRsa {
    PublicKeyRsa::from_file(data("alipay_public_spki.pem")).unwrap()
}

pub const APP_ID: &str = "2021000117600000";

pub fn config() -> Config {
    Config::new(APP_ID, app_key(), KeyMode::PublicKey(alipay_public()))
}

pub fn client() -> Client {
    Client::new(config()).unwrap()
}

pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}
