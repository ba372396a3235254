//! Money as integer fen (1/100 yuan): stored as `i64`, rendered as a JSON number with at most two
//! decimals, never computed through a float.

use std::fmt;

use serde::{Serialize, Serializer};

/// An amount in fen. Arithmetic on it is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// `self + price × quantity`, or `None` on overflow.
    pub fn checked_add_times(self, price: Money, quantity: i32) -> Option<Money> {
        price.0.checked_mul(i64::from(quantity)).and_then(|line| self.0.checked_add(line)).map(Money)
    }
}

/// `"%.2f"` yuan, the form Alipay and people read.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A JSON number of yuan: 1500 fen → `15.0`, 29970 fen → `299.7`, 990 → `9.9`.
///
/// Dividing by 100 is correctly rounded, so the double is the one nearest the exact decimal, and
/// serde_json's shortest round-trip printing gives back that decimal (exact below 2^53 fen).
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0 as f64 / 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_drf_floats_without_float_drift() {
        let render = |fen| serde_json::to_string(&Money::from_fen(fen)).unwrap();
        assert_eq!(render(1500), "15.0");
        assert_eq!(render(990), "9.9");
        assert_eq!(render(29970), "299.7");
        assert_eq!(render(1), "0.01");
        assert_eq!(render(123_456_789), "1234567.89");
        for fen in 0..100_000 {
            let text = render(fen);
            let expected = format!("{}", Money::from_fen(fen));
            let parsed: f64 = text.parse().unwrap();
            assert_eq!(format!("{parsed:.2}"), expected, "fen {fen} rendered {text}");
            assert!(text.split('.').nth(1).is_none_or(|d| d.len() <= 2), "fen {fen} rendered {text}");
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_fen(29970).to_string(), "299.70");
        assert_eq!(Money::from_fen(5).to_string(), "0.05");
        assert_eq!(Money::from_fen(-250).to_string(), "-2.50");
    }
}
