//! The trade state machine: cashier, payment, refunds, close, cancel, timeouts, and the
//! notifications they produce. Every change is written through to the state file.
//!
//! `request` reads what merchants send (and how refusals look), `cashier` is the buyer's side,
//! `methods` the server API, `notices` builds the signed notifications; `deliver` sends them.

mod cashier;
mod methods;
mod notices;
mod request;

use std::collections::{BTreeMap, HashMap, HashSet};

use alipay::TradeStatus;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;
use serde::Serialize;

pub(crate) use self::cashier::CashierView;
pub(crate) use self::request::{Biz, Outcome, Refusal};
use crate::Sandbox;
use crate::model::{Attempt, Notice, RefundRecord, Trade};
use crate::store::Loaded;

/// The sandbox buyer.
pub(crate) const BUYER_ID: &str = "2088102177846880";
pub(crate) const BUYER_LOGON_ID: &str = "sbx***@sandbox.com";

/// In-memory state (the source of truth while running; mirrored to the state file).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub trades: BTreeMap<String, Trade>,
    pub by_trade_no: HashMap<String, String>,
    pub refunds: Vec<RefundRecord>,
    pub notices: Vec<Notice>,
    pub attempts: Vec<Attempt>,
    pub clock_offset_ms: i64,
    pub drop_next: u32,
    /// Notifications being sent right now (not persisted: after a crash they are sent again).
    pub in_flight: HashSet<String>,
}

impl State {
    pub fn from_loaded(l: Loaded) -> Self {
        let mut s = State {
            refunds: l.refunds,
            notices: l.notices,
            attempts: l.attempts,
            clock_offset_ms: l.clock_offset_ms,
            drop_next: l.drop_next,
            ..State::default()
        };
        for t in l.trades {
            s.by_trade_no.insert(t.trade_no.clone(), t.key());
            s.trades.insert(t.key(), t);
        }
        s
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + ChronoDuration::milliseconds(self.clock_offset_ms)
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut trades: Vec<Trade> = self.trades.values().cloned().collect();
        trades.sort_by_key(|t| t.gmt_create);
        Snapshot {
            now: self.now().to_rfc3339(),
            drop_next: self.drop_next,
            trades,
            refunds: self.refunds.clone(),
            notifications: self
                .notices
                .iter()
                .map(|n| NoticeView {
                    notice: n.clone(),
                    attempts: self.attempts.iter().filter(|a| a.notify_id == n.notify_id).cloned().collect(),
                })
                .collect(),
        }
    }
}

/// Everything the sandbox knows (the inspection JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// The sandbox clock (RFC 3339).
    pub now: String,
    /// How many upcoming delivery attempts the test API will drop.
    pub drop_next: u32,
    /// Trades, oldest first.
    pub trades: Vec<Trade>,
    /// Refunds that moved money, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// Notifications with every delivery attempt.
    pub notifications: Vec<NoticeView>,
}

/// A notification and its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    /// The notification.
    #[serde(flatten)]
    pub notice: Notice,
    /// Its delivery attempts, in order.
    pub attempts: Vec<Attempt>,
}

/// The result of paying: the trade and, when the request had a `return_url`, the signed URL the
/// browser is sent to.
#[derive(Debug, Clone, Serialize)]
pub struct PayOutcome {
    /// The paid trade.
    pub trade: Trade,
    /// `return_url` with the signed return fields.
    pub return_url: Option<String>,
}

fn beijing_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&alipay::timestamp::beijing()).format("%Y%m%d").to_string()
}

pub(super) fn new_trade_no(now: DateTime<Utc>) -> String {
    format!("{}22001{:011}", beijing_date(now), rand::rng().random_range(0..100_000_000_000u64))
}

pub(super) fn new_notify_id(now: DateTime<Utc>) -> String {
    format!("{}0022{:016}", beijing_date(now), rand::rng().random_range(0..10_000_000_000_000_000u64))
}

pub(super) fn fmt_time(t: DateTime<Utc>) -> String {
    alipay::timestamp::format_beijing(t)
}

pub(super) fn fmt_time_ms(t: DateTime<Utc>) -> String {
    format!("{}.{:03}", fmt_time(t), t.timestamp_subsec_millis())
}

impl Sandbox {
    pub(super) async fn save_trade(&self, t: &Trade) -> Outcome<()> {
        match &self.inner.store {
            Some(s) => s.save_trade(t).await.map_err(Refusal::unavailable),
            None => Ok(()),
        }
    }

    pub(crate) async fn save_notice(&self, n: &Notice) -> crate::Result<()> {
        match &self.inner.store {
            Some(s) => s.save_notice(n).await,
            None => Ok(()),
        }
    }

    /// Closes unpaid trades whose time is up. Called before every operation and by the worker.
    pub(crate) async fn expire_due(&self, st: &mut State) -> Outcome<()> {
        let now = st.now();
        let due: Vec<String> = st
            .trades
            .values()
            .filter(|t| t.status == TradeStatus::WaitBuyerPay && t.expire_at <= now)
            .map(Trade::key)
            .collect();
        for key in due {
            let Some(t) = st.trades.get_mut(&key) else { continue };
            t.status = TradeStatus::TradeClosed;
            t.gmt_close = Some(t.expire_at);
            let t = t.clone();
            tracing::info!(out_trade_no = %t.out_trade_no, "trade timed out");
            self.save_trade(&t).await?;
            if self.inner.notify_on.close {
                self.queue_notice(st, &t, "close", None).await?;
            }
        }
        Ok(())
    }
}
