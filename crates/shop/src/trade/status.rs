//! The order's payment state machine: the states (stored as the contract's strings), the events
//! that move them, and for each allowed transition its side effect on stock and `sold_num`. Every
//! writer goes through [`PayStatus::on`] (via `trade::lifecycle::apply`); the table is documented
//! in the README ("Order states").

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayStatus {
    /// Created, not paid (`paying`); its stock is reserved.
    Paying,
    TradeSuccess,
    TradeFinished,
    TradeClosed,
}

/// What happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayEvent {
    /// Alipay reports the payment (`TRADE_SUCCESS`).
    Paid,
    /// Alipay reports the trade finished (`TRADE_FINISHED`): paid, refund window over.
    Finished,
    /// The payment window passed without a payment.
    Expired,
    /// The buyer cancelled the unpaid order.
    Cancelled,
    /// Alipay closed the unpaid trade itself.
    ClosedByAlipay,
    /// Succeeded refunds cover the whole amount.
    RefundedInFull,
}

/// What a transition does besides changing the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideEffect {
    None,
    /// The reserved stock goes back on the shelf.
    ReleaseStock,
    /// The goods are sold: `sold_num += quantity`.
    CountSales,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order in {from} cannot take the event {event:?}")]
pub struct InvalidTransition {
    pub from: PayStatus,
    pub event: PayEvent,
}

impl PayStatus {
    pub const ALL: [PayStatus; 4] =
        [PayStatus::Paying, PayStatus::TradeSuccess, PayStatus::TradeFinished, PayStatus::TradeClosed];

    pub fn as_str(self) -> &'static str {
        match self {
            PayStatus::Paying => "paying",
            PayStatus::TradeSuccess => "TRADE_SUCCESS",
            PayStatus::TradeFinished => "TRADE_FINISHED",
            PayStatus::TradeClosed => "TRADE_CLOSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// The one table of allowed transitions:
    ///
    /// | from            | event                                | to              | side effect   |
    /// |-----------------|--------------------------------------|-----------------|---------------|
    /// | `paying`        | Paid                                 | `TRADE_SUCCESS` | count sales   |
    /// | `paying`        | Finished                             | `TRADE_FINISHED`| count sales   |
    /// | `TRADE_SUCCESS` | Finished                             | `TRADE_FINISHED`| —             |
    /// | `paying`        | Expired, Cancelled, ClosedByAlipay   | `TRADE_CLOSED`  | release stock |
    /// | `TRADE_SUCCESS` | RefundedInFull                       | `TRADE_CLOSED`  | —             |
    pub fn on(self, event: PayEvent) -> Result<(PayStatus, SideEffect), InvalidTransition> {
        use PayEvent::*;
        use PayStatus::*;
        match (self, event) {
            (Paying, Paid) => Ok((TradeSuccess, SideEffect::CountSales)),
            (Paying, Finished) => Ok((TradeFinished, SideEffect::CountSales)),
            (TradeSuccess, Finished) => Ok((TradeFinished, SideEffect::None)),
            (Paying, Expired | Cancelled | ClosedByAlipay) => Ok((TradeClosed, SideEffect::ReleaseStock)),
            (TradeSuccess, RefundedInFull) => Ok((TradeClosed, SideEffect::None)),
            _ => Err(InvalidTransition { from: self, event }),
        }
    }
}

impl PayEvent {
    pub const ALL: [PayEvent; 6] = [
        PayEvent::Paid,
        PayEvent::Finished,
        PayEvent::Expired,
        PayEvent::Cancelled,
        PayEvent::ClosedByAlipay,
        PayEvent::RefundedInFull,
    ];

    /// The states this event can move an order out of, in the order they are tried.
    pub fn sources(self) -> impl Iterator<Item = PayStatus> {
        PayStatus::ALL.into_iter().filter(move |from| from.on(self).is_ok())
    }

    /// Whether an order seen in `status` may still take this event, now or after other events:
    /// states only move forward, so an order past every source state never takes it again.
    pub fn can_still_apply(self, status: PayStatus) -> bool {
        self.sources().any(|source| status.may_become(source))
    }
}

impl PayStatus {
    /// `self` or a state some sequence of events leads to from it. A search over the table, not an
    /// assumption about it: were a transition ever to lead back (reopening an order), this would
    /// say so, and payments would take the transaction path again.
    fn may_become(self, target: PayStatus) -> bool {
        let mut reached = vec![self];
        let mut next = 0;
        while let Some(&status) = reached.get(next) {
            if status == target {
                return true;
            }
            for (to, _) in PayEvent::ALL.into_iter().filter_map(|event| status.on(event).ok()) {
                if !reached.contains(&to) {
                    reached.push(to);
                }
            }
            next += 1;
        }
        false
    }
}

impl fmt::Display for PayStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PayEvent::*;
    use super::PayStatus::{self, *};
    use super::{PayEvent, SideEffect};

    #[test]
    fn only_the_documented_transitions_exist() {
        let allowed = [
            (Paying, Paid, TradeSuccess, SideEffect::CountSales),
            (Paying, Finished, TradeFinished, SideEffect::CountSales),
            (TradeSuccess, Finished, TradeFinished, SideEffect::None),
            (Paying, Expired, TradeClosed, SideEffect::ReleaseStock),
            (Paying, Cancelled, TradeClosed, SideEffect::ReleaseStock),
            (Paying, ClosedByAlipay, TradeClosed, SideEffect::ReleaseStock),
            (TradeSuccess, RefundedInFull, TradeClosed, SideEffect::None),
        ];
        for from in PayStatus::ALL {
            for event in PayEvent::ALL {
                let expected =
                    allowed.iter().find(|(f, e, _, _)| *f == from && *e == event).map(|(_, _, to, fx)| (*to, *fx));
                assert_eq!(from.on(event).ok(), expected, "{from} on {event:?}");
            }
        }
    }

    #[test]
    fn a_paid_or_closed_order_never_takes_a_payment_again() {
        assert!(Paid.can_still_apply(Paying));
        for past in [TradeSuccess, TradeFinished, TradeClosed] {
            assert!(!Paid.can_still_apply(past), "{past}");
        }
        assert!(Finished.can_still_apply(Paying));
        assert!(Finished.can_still_apply(TradeSuccess));
        assert!(!Finished.can_still_apply(TradeFinished));
        assert!(!Finished.can_still_apply(TradeClosed));
        assert!(RefundedInFull.can_still_apply(Paying), "paid first, then refunded");
        assert!(!Cancelled.can_still_apply(TradeSuccess));
    }

    #[test]
    fn stock_is_released_or_sales_counted_at_most_once_per_order() {
        // No path through the table both releases stock and counts sales, or does either twice.
        for event in PayEvent::ALL {
            for from in event.sources() {
                let (to, _) = from.on(event).unwrap();
                for next in PayEvent::ALL {
                    if let Ok((_, effect)) = to.on(next) {
                        assert_eq!(effect, SideEffect::None, "{from} → {to} → {next:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn strings_round_trip() {
        for status in PayStatus::ALL {
            assert_eq!(PayStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PayStatus::parse("WAIT_BUYER_PAY"), None);
    }
}
