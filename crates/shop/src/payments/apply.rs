//! Payment events applied to orders: every change in one transaction with a record of the event
//! that caused it, each transition at most once (through `trade::lifecycle`).

use chrono::NaiveDateTime;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};

use crate::clock::now_utc;
use crate::db;
use crate::db::entities::{order_info, payment_event};
use crate::trade::lifecycle::{self, Changes};
use crate::trade::status::{PayEvent, PayStatus};

/// What was done with a payment event; stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The order moved (paid, finished or closed).
    Applied,
    /// Already applied: nothing changed.
    Duplicate,
    /// Paid after the order was closed: refunded automatically.
    LatePayment,
    /// A refund notification: refund records updated.
    Refund,
    /// Nothing to do (e.g. `WAIT_BUYER_PAY`, or `TRADE_CLOSED` for a paid order).
    Ignored,
    BadSignature,
    AppMismatch,
    SellerMismatch,
    AmountMismatch,
    UnknownOrder,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Duplicate => "duplicate",
            Verdict::LatePayment => "late_payment",
            Verdict::Refund => "refund",
            Verdict::Ignored => "ignored",
            Verdict::BadSignature => "bad_signature",
            Verdict::AppMismatch => "app_mismatch",
            Verdict::SellerMismatch => "seller_mismatch",
            Verdict::AmountMismatch => "amount_mismatch",
            Verdict::UnknownOrder => "unknown_order",
        }
    }

    /// Whether Alipay should be told `success` (stop retrying).
    pub fn accepted(self) -> bool {
        matches!(
            self,
            Verdict::Applied | Verdict::Duplicate | Verdict::LatePayment | Verdict::Refund | Verdict::Ignored
        )
    }
}

/// The identifying fields of an event, for the audit record.
pub struct EventRecord<'a> {
    pub order_sn: &'a str,
    pub notify_id: &'a str,
    pub trade_status: &'a str,
    /// The fields as received, as a JSON object.
    pub fields: String,
}

pub async fn record(db: &impl ConnectionTrait, event: &EventRecord<'_>, verdict: Verdict) -> Result<(), DbErr> {
    payment_event::Entity::insert(payment_event::ActiveModel {
        order_sn: Set(event.order_sn.chars().take(64).collect()),
        notify_id: Set(event.notify_id.chars().take(128).collect()),
        trade_status: Set(event.trade_status.chars().take(32).collect()),
        verdict: Set(verdict.as_str().to_owned()),
        fields: Set(event.fields.clone()),
        received_at: Set(now_utc()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Marks the order paid (`TRADE_SUCCESS`, or `TRADE_FINISHED`), once: only the transition out of
/// `paying` counts the sales. A payment for an order that was closed without ever being paid
/// (cancelled or expired) is a late payment; for an order closed by a full refund it is the
/// original payment delivered again, a duplicate.
pub async fn apply_paid(
    db: &DatabaseConnection,
    order: &order_info::Model,
    trade_no: &str,
    paid_at: NaiveDateTime,
    finished: bool,
    event: &EventRecord<'_>,
) -> Result<Verdict, DbErr> {
    let changes = Changes { trade_no: Some(trade_no), pay_time: Some(paid_at), ..Changes::default() };
    let pay_event = if finished { PayEvent::Finished } else { PayEvent::Paid };
    // An order already past the payment (a notification delivered again, the usual retry) is
    // decided from the row as read: no writer can bring it back, so neither can a transaction.
    if let Some(status) = PayStatus::parse(&order.pay_status)
        && !pay_event.can_still_apply(status)
    {
        let verdict = late_or_duplicate(order);
        // On SQLite in turn with the other writers, not in its busy handler's sleeps.
        let _turn = db::writer_turn(db).await;
        record(db, event, verdict).await?;
        return Ok(verdict);
    }
    db::transaction!(db, DbErr, |txn| {
        let verdict = if lifecycle::apply(&txn, order.id, pay_event, &changes).await?.is_some() {
            Verdict::Applied
        } else {
            let current = order_info::Entity::find_by_id(order.id).one(&txn).await?;
            current.as_ref().map_or(Verdict::Duplicate, late_or_duplicate)
        };
        record(&txn, event, verdict).await?;
        Ok(verdict)
    })
}

/// A payment the order can no longer take: late if the order was closed without ever being paid,
/// else the payment it has (or had, before a full refund) delivered again.
fn late_or_duplicate(order: &order_info::Model) -> Verdict {
    if PayStatus::parse(&order.pay_status) == Some(PayStatus::TradeClosed) && order.pay_time.is_none() {
        Verdict::LatePayment
    } else {
        Verdict::Duplicate
    }
}

/// Closes an unpaid order and releases its stock, once (`paying → TRADE_CLOSED` by `event`).
/// `false` when the order was no longer unpaid (paid meanwhile, or closed by another writer).
/// `watch_gateway`: whether the Alipay trade may still take a payment and must be asked again.
pub async fn close_unpaid(
    db: &DatabaseConnection,
    order_id: i32,
    close: PayEvent,
    watch_gateway: bool,
    event: Option<&EventRecord<'_>>,
) -> Result<bool, DbErr> {
    let changes = Changes { watch_gateway: Some(watch_gateway), ..Changes::default() };
    db::transaction!(db, DbErr, |txn| {
        let applied = lifecycle::apply(&txn, order_id, close, &changes).await?.is_some();
        if let Some(event) = event {
            record(&txn, event, if applied { Verdict::Applied } else { Verdict::Ignored }).await?;
        }
        Ok(applied)
    })
}
