//! Money as integer fen, rendered the way Alipay wants it (yuan with exactly two decimals).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// An amount of money in fen (1 yuan = 100 fen), never negative, never a float.
///
/// Displays as yuan with exactly two decimals (`"%.2f"`), which is what Alipay sends and expects.
///
/// ```
/// use alipay::Money;
/// let m: Money = "12.5".parse()?;
/// assert_eq!(m.fen(), 1250);
/// assert_eq!(m.to_string(), "12.50");
/// assert_eq!(Money::from_fen(7)?.to_string(), "0.07");
/// assert!("1.234".parse::<Money>().is_err());
/// assert!("-1".parse::<Money>().is_err());
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Builds an amount from fen; negative amounts are refused.
    pub fn from_fen(fen: i64) -> Result<Self, Error> {
        if fen < 0 {
            return Err(Error::InvalidAmount { value: fen.to_string(), reason: "negative" });
        }
        Ok(Money(fen))
    }

    /// The amount in fen.
    pub fn fen(self) -> i64 {
        self.0
    }

    /// Adds two amounts, `None` on overflow.
    ///
    /// ```
    /// # use alipay::Money;
    /// assert_eq!(Money::from_fen(1)?.checked_add(Money::from_fen(2)?), Some(Money::from_fen(3)?));
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Subtracts, `None` if the result would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).filter(|v| *v >= 0).map(Money)
    }

    /// Checks the range Alipay accepts for a payment or refund amount: 0.01 to 100 000 000.00 yuan.
    ///
    /// ```
    /// # use alipay::Money;
    /// assert!(Money::from_fen(0)?.check_payable().is_err());
    /// assert!(Money::from_fen(1)?.check_payable().is_ok());
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn check_payable(self) -> Result<Self, Error> {
        if self.0 < 1 || self.0 > 10_000_000_000 {
            return Err(Error::InvalidAmount {
                value: self.to_string(),
                reason: "must be between 0.01 and 100000000.00",
            });
        }
        Ok(self)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Money {
    type Err = Error;

    /// Parses yuan: digits, optionally `.` and one or two decimal digits. No sign, no spaces,
    /// no exponent, no thousands separators.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: &'static str| Error::InvalidAmount { value: s.to_owned(), reason };
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        if int.is_empty() {
            return Err(bad("no digits before the decimal point"));
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("not a plain decimal number"));
        }
        let frac_fen = match frac {
            None => 0,
            Some(f) if f.is_empty() || f.len() > 2 => {
                return Err(bad("needs one or two decimals after the point"));
            }
            Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad("not a plain decimal number"));
            }
            Some(f) => {
                let v: i64 = f.parse().map_err(|_| bad("not a plain decimal number"))?;
                if f.len() == 1 { v * 10 } else { v }
            }
        };
        let yuan: i64 = int.parse().map_err(|_| bad("too large"))?;
        yuan.checked_mul(100).and_then(|v| v.checked_add(frac_fen)).map(Money).ok_or_else(|| bad("too large"))
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
