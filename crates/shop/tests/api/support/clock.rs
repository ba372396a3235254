//! The keys tests sign with, and the clock tests move.

use std::sync::atomic::Ordering;

use chrono::NaiveDateTime;

pub const TEST_APP_ID: &str = "2021000000000042";

/// A key pair of the `alipay` crate's test data: `app_*` is the shop's, `alipay_*` plays Alipay.
pub fn test_key(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../alipay/tests/data").join(name)
}

/// The key tests sign tokens with (the app is configured with it).
pub const TEST_SECRET: &str = "test-secret-key-0123456789abcdef0123456789";

/// The shop's clock in tests: the machine's time plus what `advance` added. Tests move it forward
/// to make orders, codes and refunds old, instead of back-dating their rows.
#[derive(Default)]
pub struct TestClock {
    ahead_secs: std::sync::atomic::AtomicI64,
}

impl TestClock {
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.ahead_secs.fetch_add(by.num_seconds(), Ordering::SeqCst);
    }
}

impl shop::clock::Clock for TestClock {
    fn now(&self) -> NaiveDateTime {
        shop::clock::now_utc() + chrono::TimeDelta::seconds(self.ahead_secs.load(Ordering::SeqCst))
    }
}
