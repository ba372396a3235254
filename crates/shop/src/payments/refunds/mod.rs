//! Refunds: staff-requested (partial or full, never more than was paid, idempotent per
//! `out_request_no`) and automatic (a payment that arrived after its order was closed). The
//! refund is recorded `pending` before Alipay is asked, and Alipay is never asked inside a
//! transaction. Only a signed, definite refusal makes a refund `failed`; any other error leaves
//! it `pending` — its amount still counts against what may be refunded — and the refund job
//! settles it with `alipay.trade.fastpay.refund.query`, re-sending the same `out_request_no` when
//! Alipay has no such refund.

use chrono::NaiveDateTime;
use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub use self::settle::{confirm_by_notification, refund_late_payment, settle_pending};
use crate::db::{self, entities::order_info, entities::refund};
use crate::money::Money;
use crate::state::AppState;
use crate::trade::lifecycle::{self, Changes};
use crate::trade::status::PayEvent;

mod settle;
pub mod staff;

/// A refund's state: `pending → succeeded | failed`, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    /// Recorded; Alipay has not confirmed it yet (or its answer was not definite).
    Pending,
    /// Alipay confirmed the money went back.
    Succeeded,
    /// Alipay refused it in a signed answer; its amount is refundable again.
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }
}

/// Refunds settled per job run.
const BATCH: u64 = 100;
/// How long a refund being sent (by a request or a job) is left alone by the jobs.
const IN_FLIGHT: TimeDelta = TimeDelta::minutes(2);
/// `out_request_no` of the refund of a payment that arrived after its order was closed.
const LATE_PREFIX: &str = "late-";

/// The wait after `attempts` consecutive attempts that could not finish: none after the first
/// (the next job run tries), then 30 s doubling up to an hour.
pub fn backoff(attempts: i32) -> TimeDelta {
    if attempts <= 0 {
        return TimeDelta::zero();
    }
    std::cmp::min(TimeDelta::seconds(30_i64 << std::cmp::min(attempts - 1, 7)), TimeDelta::hours(1))
}

struct NewRefund<'a> {
    amount: Money,
    reason: &'a str,
    out_request_no: &'a str,
    requested_by: &'a str,
}

async fn find_by_out_request_no(
    db: &impl ConnectionTrait,
    out_request_no: &str,
) -> Result<Option<refund::Model>, sea_orm::DbErr> {
    refund::Entity::find().filter(refund::Column::OutRequestNo.eq(out_request_no)).one(db).await
}

async fn insert_refund(
    db: &impl ConnectionTrait,
    order_id: i32,
    request: &NewRefund<'_>,
    now: NaiveDateTime,
) -> Result<refund::Model, sea_orm::DbErr> {
    refund::Entity::insert(refund::ActiveModel {
        order_id: Set(order_id),
        out_request_no: Set(request.out_request_no.to_owned()),
        amount_fen: Set(request.amount.fen()),
        reason: Set(request.reason.to_owned()),
        status: Set(RefundStatus::Pending.as_str().into()),
        requested_by: Set(request.requested_by.to_owned()),
        add_time: Set(now),
        refunded_at: Set(None),
        // The request sending it now holds it; the jobs take over if it cannot finish.
        next_check_at: Set(Some(now + IN_FLIGHT)),
        check_attempts: Set(0),
        last_error: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await
}

/// Asks Alipay to refund (again, with the same `out_request_no`, which Alipay applies at most
/// once) and records what is known afterwards.
#[tracing::instrument(name = "send_refund", skip_all, fields(order_sn = %order.order_sn, out_request_no = %row.out_request_no))]
async fn execute(state: &AppState, order: &order_info::Model, row: refund::Model) -> anyhow::Result<refund::Model> {
    let request = alipay::Refund::new(
        alipay::TradeRef::OutTradeNo(order.order_sn.clone()),
        alipay::Money::from_fen(row.amount_fen)?,
        row.out_request_no.clone(),
    )?;
    let outcome = match state.payments.gateway.refund(&request).await {
        Ok(answer) if answer.fund_change => Outcome::Succeeded,
        // Accepted, but this call moved no money: Alipay says to confirm with a refund query.
        Ok(_) => Outcome::Unknown("fund_change=N: to be confirmed by a refund query".into()),
        Err(error) if error.is_definite_refusal() => {
            tracing::error!(%error, out_request_no = %row.out_request_no, "Alipay refused a refund");
            Outcome::Failed(error.to_string())
        }
        Err(error) => {
            tracing::warn!(%error, out_request_no = %row.out_request_no, "refund outcome unknown; left pending");
            Outcome::Unknown(error.to_string())
        }
    };
    settle(state, order, row, outcome).await
}

/// What one attempt learned about a refund.
enum Outcome {
    Succeeded,
    Failed(String),
    /// Not known: stays pending, asked again after a back-off.
    Unknown(String),
}

/// Records an outcome on a pending refund (a conditional update: a refund leaves `pending` once)
/// and, in the same transaction, closes the order when the succeeded refunds cover it. The order
/// row is locked first, as when a refund is reserved, so the two cannot deadlock.
async fn settle(
    state: &AppState,
    order: &order_info::Model,
    row: refund::Model,
    outcome: Outcome,
) -> anyhow::Result<refund::Model> {
    let now = state.clock.now();
    let (status, refunded_at, last_error, next_check_at) = match outcome {
        Outcome::Succeeded => (RefundStatus::Succeeded, Some(now), None, None),
        Outcome::Failed(error) => (RefundStatus::Failed, None, Some(error), None),
        Outcome::Unknown(error) => (RefundStatus::Pending, None, Some(error), Some(now + backoff(row.check_attempts))),
    };
    let last_error: Option<String> = last_error.map(|e| e.chars().take(256).collect());
    // A refund leaves `pending` once; signed proof that it happened also overrules a `failed`
    // (a refusal answered to a re-send while the first request was still being processed).
    let leaving: &[RefundStatus] = match status {
        RefundStatus::Succeeded => &[RefundStatus::Pending, RefundStatus::Failed],
        _ => &[RefundStatus::Pending],
    };
    let moved = db::transaction!(&state.db, sea_orm::DbErr, |txn| {
        lock_order(&txn, order.id).await?;
        let moved = refund::Entity::update_many()
            .col_expr(refund::Column::Status, Expr::value(status.as_str()))
            .col_expr(refund::Column::RefundedAt, Expr::value(refunded_at))
            .col_expr(refund::Column::LastError, Expr::value(last_error.clone()))
            .col_expr(refund::Column::NextCheckAt, Expr::value(next_check_at))
            .filter(refund::Column::Id.eq(row.id))
            .filter(refund::Column::Status.is_in(leaving.iter().map(|s| s.as_str())))
            .exec(&txn)
            .await?
            .rows_affected;
        if status == RefundStatus::Succeeded {
            close_if_fully_refunded(&txn, order).await?;
        }
        Ok(moved)
    })?;
    // Counted once when a refund leaves `pending` (not per retry, not again when a later answer
    // confirms what is known); `requested` counts each refund recorded.
    if moved == 1 && status != RefundStatus::Pending {
        crate::telemetry::refund(status.as_str());
    }
    let current = refund::Entity::find_by_id(row.id).one(&state.db).await?;
    Ok(current.unwrap_or(refund::Model {
        status: status.as_str().to_owned(),
        refunded_at,
        last_error,
        next_check_at,
        ..row
    }))
}

/// Locks the order row for the rest of the transaction (a no-op update), so that refunds of one
/// order are reserved and settled one after the other.
async fn lock_order(txn: &impl ConnectionTrait, order_id: i32) -> Result<(), sea_orm::DbErr> {
    order_info::Entity::update_many()
        .col_expr(order_info::Column::PayStatus, Expr::col(order_info::Column::PayStatus))
        .filter(order_info::Column::Id.eq(order_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// `TRADE_SUCCESS → TRADE_CLOSED` once the succeeded refunds cover the whole amount.
async fn close_if_fully_refunded(txn: &impl ConnectionTrait, order: &order_info::Model) -> Result<(), sea_orm::DbErr> {
    let refunded: i64 = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order.id))
        .filter(refund::Column::Status.eq(RefundStatus::Succeeded.as_str()))
        .all(txn)
        .await?
        .iter()
        .map(|r| r.amount_fen)
        .sum();
    if refunded >= order.order_mount_fen
        && lifecycle::apply(txn, order.id, PayEvent::RefundedInFull, &Changes::default()).await?.is_some()
    {
        tracing::info!(order_id = order.id, "order refunded in full; closed");
    }
    Ok(())
}
