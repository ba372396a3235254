//! `OrderSn`: Beijing-time `YYYYMMDDHHMMSS` followed by 16 random digits — ordered by time, not
//! guessable (53 bits of randomness), 30 characters, digits only (a valid Alipay `out_trade_no`).

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use rand::Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSn(String);

const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

impl OrderSn {
    pub fn generate(now: DateTime<Utc>) -> Self {
        let random: u64 = rand::rng().random_range(0..10_u64.pow(16));
        Self(format!("{}{random:016}", now.with_timezone(&BEIJING).format("%Y%m%d%H%M%S")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderSn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shaped_for_alipay_and_sorted_by_time() {
        let earlier = OrderSn::generate(DateTime::from_timestamp(1_790_000_000, 0).unwrap());
        let later = OrderSn::generate(DateTime::from_timestamp(1_790_000_001, 0).unwrap());
        assert_eq!(earlier.as_str().len(), 30);
        assert!(earlier.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert!(earlier.as_str().starts_with("20260921"), "{earlier}");
        assert!(earlier.as_str() < later.as_str());
        let same_second = OrderSn::generate(DateTime::from_timestamp(1_790_000_000, 0).unwrap());
        assert_ne!(earlier, same_second);
    }
}
