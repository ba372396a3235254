//! The sandbox's records: trades, refunds, notifications and their delivery attempts.

use alipay::{Money, TradeStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A trade, created when the buyer opens the cashier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trade {
    /// The merchant app.
    pub app_id: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// The sandbox's trade number.
    pub trade_no: String,
    /// Current status.
    pub status: TradeStatus,
    /// `total_amount`.
    pub total_amount: Money,
    /// `subject`.
    pub subject: String,
    /// `body`.
    pub body: Option<String>,
    /// `passback_params`, verbatim.
    pub passback_params: Option<String>,
    /// `notify_url` of the page-pay request.
    pub notify_url: Option<String>,
    /// `return_url` of the page-pay request.
    pub return_url: Option<String>,
    /// `alipay.trade.page.pay` or `alipay.trade.wap.pay`.
    pub pay_method: String,
    /// When the cashier was first opened (sandbox clock).
    #[serde(with = "ts")]
    pub gmt_create: DateTime<Utc>,
    /// When it was paid.
    #[serde(with = "opt_ts")]
    pub gmt_payment: Option<DateTime<Utc>>,
    /// When it was closed.
    #[serde(with = "opt_ts")]
    pub gmt_close: Option<DateTime<Utc>>,
    /// When an unpaid trade closes (`timeout_express`, `time_expire`, or 15 days).
    #[serde(with = "ts")]
    pub expire_at: DateTime<Utc>,
    /// Total refunded so far.
    pub refund_fee: Money,
}

impl Trade {
    /// The key of a trade: one `out_trade_no` per app.
    pub fn key(&self) -> String {
        trade_key(&self.app_id, &self.out_trade_no)
    }
}

/// The storage key of a trade.
pub fn trade_key(app_id: &str, out_trade_no: &str) -> String {
    format!("{app_id}\u{1f}{out_trade_no}")
}

/// A refund that moved money.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundRecord {
    /// The merchant app.
    pub app_id: String,
    /// The trade's `out_trade_no`.
    pub out_trade_no: String,
    /// The trade's `trade_no`.
    pub trade_no: String,
    /// `out_request_no` (the idempotency key).
    pub out_request_no: String,
    /// `refund_amount`.
    pub refund_amount: Money,
    /// `refund_reason`.
    pub refund_reason: Option<String>,
    /// Total refunded on the trade after this refund.
    pub refund_fee_after: Money,
    /// When (sandbox clock).
    #[serde(with = "ts")]
    pub gmt_refund: DateTime<Utc>,
}

impl RefundRecord {
    /// The storage key of a refund.
    pub fn key(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}", self.app_id, self.out_trade_no, self.out_request_no)
    }
}

/// Where a notification is in its delivery schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// More attempts are due.
    Pending,
    /// The merchant answered `success`.
    Delivered,
    /// Every scheduled attempt failed.
    GaveUp,
}

/// A signed notification and its delivery state. The signed fields never change across retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// `notify_id`, the same on every attempt.
    pub notify_id: String,
    /// The merchant app.
    pub app_id: String,
    /// The trade's `out_trade_no`.
    pub out_trade_no: String,
    /// What happened: `payment`, `refund`, `close`.
    pub event: String,
    /// Where it is POSTed.
    pub notify_url: String,
    /// The signed fields, `sign` included, in sending order.
    pub fields: Vec<(String, String)>,
    /// When it was created (sandbox clock).
    #[serde(with = "ts")]
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (sandbox clock), if any.
    #[serde(with = "opt_ts")]
    pub next_due: Option<DateTime<Utc>>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Delivery state.
    pub state: DeliveryState,
}

/// One delivery attempt and what the merchant answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// The notification.
    pub notify_id: String,
    /// 1-based attempt number.
    pub number: u32,
    /// When (sandbox clock).
    #[serde(with = "ts")]
    pub at: DateTime<Utc>,
    /// The HTTP status, if the merchant answered.
    pub http_status: Option<u16>,
    /// The merchant's answer (truncated), or the transport error.
    pub reply: String,
    /// True iff the answer was exactly `success`.
    pub success: bool,
    /// True if the test API dropped this attempt (nothing was sent).
    pub dropped: bool,
}

/// Milliseconds since the epoch, for the state file.
mod ts {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let ms = i64::deserialize(d)?;
        DateTime::from_timestamp_millis(ms).ok_or_else(|| serde::de::Error::custom("time out of range"))
    }
}

mod opt_ts {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.timestamp_millis()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<i64>::deserialize(d)? {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("time out of range")),
        }
    }
}
