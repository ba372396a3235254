//! Money as integer fen (1/100 yuan): stored as `i64`, rendered as a JSON number with at most two
//! decimals, never computed through a float.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in fen. Arithmetic on it is exact. In JSON: yuan, a number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, utoipa::ToSchema)]
#[schema(value_type = f64, example = 128.5)]
pub struct Money(i64);

impl Money {
    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parses a decimal yuan amount with at most two decimals, e.g. `"15"`, `"9.90"`, `"0.5"`.
    pub fn parse_yuan(text: &str) -> Option<Self> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || fraction.is_empty() || fraction.len() > 2 || !all_digits(whole) || !all_digits(fraction)
        {
            return None;
        }
        let yuan: i64 = whole.parse().ok()?;
        let fen: i64 = format!("{fraction:0<2}").parse().ok()?;
        yuan.checked_mul(100)?.checked_add(fen).map(Self)
    }

    /// The amount nearest a float of yuan (how Django stores prices), rounding half to even on
    /// the float's shortest decimal form (the digits Python and MySQL show, e.g. `656.6999999999999`),
    /// and whether that form was an exact number of fen. `None` for negative, infinite or NaN
    /// values, and for amounts beyond `i64` fen.
    pub fn from_yuan_float(yuan: f64) -> Option<(Self, bool)> {
        if !yuan.is_finite() || yuan < 0.0 {
            return None;
        }
        // Rust prints floats in their shortest round-trip decimal form and never with an exponent.
        let text = yuan.to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let fraction = fraction.as_bytes();
        let digit = |i: usize| i64::from(fraction.get(i).map_or(0, |d| d - b'0'));
        let fen = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(digit(0) * 10 + digit(1))?;
        let rest = fraction.get(2..).unwrap_or_default();
        let Some((&first, tail)) = rest.split_first() else {
            return Some((Self(fen), true));
        };
        let beyond_half = tail.iter().any(|&d| d != b'0');
        let up = match first {
            b'6'..=b'9' => true,
            b'5' => beyond_half || fen % 2 == 1,
            _ => false,
        };
        let exact = first == b'0' && !beyond_half;
        Some((Self(fen + i64::from(up)), exact))
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

/// Reads what `Serialize` writes: the nearest fen to a JSON number of yuan. Below 2^50 fen (about
/// 11 trillion yuan) yuan × 100 is within a quarter fen of the amount, so the rounding is exact;
/// beyond, it is refused.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let yuan = f64::deserialize(deserializer)?;
        let fen = (yuan * 100.0).round();
        if !fen.is_finite() || fen.abs() >= 2f64.powi(50) {
            return Err(serde::de::Error::custom(format!("not an amount of yuan: {yuan}")));
        }
        Ok(Self(fen as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        for fen in (0..100_000).chain([-1, -990, 123_456_789, 10_000_000_000, (1 << 50) - 1, (1 << 50) - 3]) {
            let text = serde_json::to_string(&Money::from_fen(fen)).unwrap();
            assert_eq!(serde_json::from_str::<Money>(&text).unwrap(), Money::from_fen(fen), "{text}");
        }
        assert!(serde_json::from_str::<Money>("1e300").is_err());
        assert!(serde_json::from_str::<Money>(&serde_json::to_string(&Money::from_fen(1 << 50)).unwrap()).is_err());
        assert!(serde_json::from_str::<Money>("\"1.00\"").is_err());
    }

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
    fn converts_django_floats_half_to_even() {
        let convert = |yuan: f64| Money::from_yuan_float(yuan).map(|(money, exact)| (money.fen(), exact));
        assert_eq!(convert(15.0), Some((1500, true)));
        assert_eq!(convert(9.9), Some((990, true)));
        assert_eq!(convert(0.07), Some((7, true)));
        assert_eq!(convert(656.6999999999999), Some((65670, false)));
        assert_eq!(convert(1.005), Some((100, false)), "a half rounds to the even fen");
        assert_eq!(convert(1.015), Some((102, false)), "a half rounds to the even fen");
        assert_eq!(convert(1.0051), Some((101, false)));
        assert_eq!(convert(2.994), Some((299, false)));
        assert_eq!(convert(0.1 + 0.2), Some((30, false)));
        for bad in [-0.01, f64::NAN, f64::INFINITY, 1e30] {
            assert_eq!(convert(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_yuan() {
        assert_eq!(Money::parse_yuan("15"), Some(Money::from_fen(1500)));
        assert_eq!(Money::parse_yuan("9.9"), Some(Money::from_fen(990)));
        assert_eq!(Money::parse_yuan("0.05"), Some(Money::from_fen(5)));
        for bad in ["", "1.234", "abc", "1.", "-1", "1e3", "99999999999999999999"] {
            assert_eq!(Money::parse_yuan(bad), None, "{bad}");
        }
    }

    #[test]
    fn displays_two_decimals() {
        assert_eq!(Money::from_fen(29970).to_string(), "299.70");
        assert_eq!(Money::from_fen(5).to_string(), "0.05");
        assert_eq!(Money::from_fen(-250).to_string(), "-2.50");
    }
}
