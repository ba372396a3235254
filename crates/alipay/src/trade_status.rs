//! A trade's status, as notifications and `alipay.trade.query` name it (`alipay::TradeStatus`).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A trade's status.
///
/// ```
/// use alipay::TradeStatus;
/// let s: TradeStatus = "TRADE_SUCCESS".parse()?;
/// assert!(s.is_paid());
/// assert_eq!(s.to_string(), "TRADE_SUCCESS");
/// assert!(!TradeStatus::TradeClosed.is_paid());
/// assert_eq!(serde_json::to_string(&TradeStatus::WaitBuyerPay).unwrap(), r#""WAIT_BUYER_PAY""#);
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TradeStatus {
    /// `WAIT_BUYER_PAY`: the cashier was opened, not paid yet.
    WaitBuyerPay,
    /// `TRADE_CLOSED`: closed unpaid (timeout) or fully refunded.
    TradeClosed,
    /// `TRADE_SUCCESS`: paid and refundable.
    TradeSuccess,
    /// `TRADE_FINISHED`: paid, refund window over.
    TradeFinished,
}

impl TradeStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TradeStatus::WaitBuyerPay => "WAIT_BUYER_PAY",
            TradeStatus::TradeClosed => "TRADE_CLOSED",
            TradeStatus::TradeSuccess => "TRADE_SUCCESS",
            TradeStatus::TradeFinished => "TRADE_FINISHED",
        }
    }

    /// Only `TRADE_SUCCESS` and `TRADE_FINISHED` mean the buyer paid.
    pub fn is_paid(self) -> bool {
        matches!(self, TradeStatus::TradeSuccess | TradeStatus::TradeFinished)
    }
}

impl fmt::Display for TradeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TradeStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "WAIT_BUYER_PAY" => TradeStatus::WaitBuyerPay,
            "TRADE_CLOSED" => TradeStatus::TradeClosed,
            "TRADE_SUCCESS" => TradeStatus::TradeSuccess,
            "TRADE_FINISHED" => TradeStatus::TradeFinished,
            other => {
                return Err(Error::MalformedField {
                    field: "trade_status".into(),
                    value: other.into(),
                    reason: "unknown trade status".into(),
                });
            }
        })
    }
}

impl serde::Serialize for TradeStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TradeStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
