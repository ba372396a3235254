//! The order's payment state machine. Stored as the contract's strings.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStatus {
    /// Created, not paid (`paying`).
    Paying,
    TradeSuccess,
    TradeFinished,
    TradeClosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct InvalidTransition {
    pub from: PayStatus,
    pub to: PayStatus,
}

impl PayStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayStatus::Paying => "paying",
            PayStatus::TradeSuccess => "TRADE_SUCCESS",
            PayStatus::TradeFinished => "TRADE_FINISHED",
            PayStatus::TradeClosed => "TRADE_CLOSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [PayStatus::Paying, PayStatus::TradeSuccess, PayStatus::TradeFinished, PayStatus::TradeClosed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// `paying → TRADE_SUCCESS → TRADE_FINISHED`, `paying → TRADE_CLOSED` (expired or cancelled),
    /// `TRADE_SUCCESS → TRADE_CLOSED` (refunded in full). Nothing else.
    pub fn transition(self, to: PayStatus) -> Result<PayStatus, InvalidTransition> {
        use PayStatus::*;
        match (self, to) {
            (Paying, TradeSuccess)
            | (TradeSuccess, TradeFinished)
            | (Paying, TradeClosed)
            | (TradeSuccess, TradeClosed) => Ok(to),
            _ => Err(InvalidTransition { from: self, to }),
        }
    }
}

impl fmt::Display for PayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PayStatus::{self, *};

    #[test]
    fn only_the_documented_transitions_exist() {
        let all = [Paying, TradeSuccess, TradeFinished, TradeClosed];
        let allowed =
            [(Paying, TradeSuccess), (TradeSuccess, TradeFinished), (Paying, TradeClosed), (TradeSuccess, TradeClosed)];
        for from in all {
            for to in all {
                assert_eq!(from.transition(to).is_ok(), allowed.contains(&(from, to)), "{from} → {to}");
            }
        }
    }

    #[test]
    fn strings_round_trip() {
        for status in [Paying, TradeSuccess, TradeFinished, TradeClosed] {
            assert_eq!(PayStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PayStatus::parse("WAIT_BUYER_PAY"), None);
    }
}
