//! Background work, safe with several instances: closing unpaid orders past their deadline (after
//! asking Alipay, since a lost notification may mean it was paid), reconciling unpaid orders whose
//! notification may be lost, watching the Alipay trades of closed orders until no payment can
//! arrive (a payment that does is refunded), and settling pending refunds.
//!
//! Each order is claimed by moving its `next_check_at` forward from the value this instance read
//! (a compare-and-set lease: one instance wins, the others skip it until the lease or back-off
//! ends). An order that cannot be finished backs off (30 s doubling to an hour) and no longer
//! counts as due, so it cannot starve the others; one order's error never stops the run.

use std::time::Duration;

use tokio::task::JoinHandle;

use chrono::{NaiveDateTime, TimeDelta};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::apply::{self, EventRecord, Verdict};
use super::notify::{Queried, reconcile_by_query};
use super::refunds::{self, backoff};
use crate::db::entities::order_info;
use crate::state::AppState;
use crate::trade::status::{PayEvent, PayStatus};

/// Fires when a job starts on an order (tests prove one order's failure stops no other).
pub const FAIL_ORDER_JOB: &str = "jobs.order";

/// Orders handled per run.
const BATCH: u64 = 100;
/// An unpaid order younger than this is left to its notification.
const RECONCILE_AFTER: TimeDelta = TimeDelta::minutes(2);
/// How often an unpaid order is asked about.
const RECHECK_EVERY: TimeDelta = TimeDelta::minutes(5);
/// How long a claimed order is left to the instance that claimed it.
const LEASE: TimeDelta = TimeDelta::minutes(2);
/// After its deadline, how long an Alipay trade nobody opened is still watched (clock skew
/// between the shop and Alipay, which enforces the deadline as `time_expire`).
const DEADLINE_MARGIN: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Unpaid orders closed at their deadline.
    pub expired: usize,
    /// Unpaid orders found paid by the expiry's query.
    pub paid_late: usize,
    /// Unpaid orders found paid by reconciliation.
    pub reconciled: usize,
    /// Unpaid orders whose trade Alipay had closed.
    pub closed_by_alipay: usize,
    /// Closed orders whose trade can take no payment any more.
    pub settled: usize,
    /// Payments found for closed orders (each refunded).
    pub late_payments: usize,
    /// Pending refunds that became succeeded or failed.
    pub refunds_settled: usize,
    /// Orders that could not be finished this time (backing off).
    pub deferred: usize,
}

/// Runs the jobs once.
pub async fn run_once(state: &AppState) -> anyhow::Result<Report> {
    run_batch(state, None).await
}

/// Runs the jobs once, ending early (between orders) when `stop` turns true.
async fn run_batch(state: &AppState, stop: Option<&tokio::sync::watch::Receiver<bool>>) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let now = state.clock.now();
    let due = order_info::Entity::find()
        .filter(
            Condition::any()
                .add(order_info::Column::NextCheckAt.is_null())
                .add(order_info::Column::NextCheckAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(
                    Condition::all().add(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str())).add(
                        Condition::any()
                            .add(order_info::Column::ExpireAt.lte(now))
                            .add(order_info::Column::AddTime.lte(now - RECONCILE_AFTER)),
                    ),
                )
                .add(
                    Condition::all()
                        .add(order_info::Column::PayStatus.eq(PayStatus::TradeClosed.as_str()))
                        .add(order_info::Column::WatchGateway.eq(true)),
                ),
        )
        .order_by_asc(order_info::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let lag = due.iter().map(due_since).min().map(|since| (now - since).to_std().unwrap_or_default());
    crate::telemetry::job_lag("payments", lag.unwrap_or_default());
    for order in due {
        if stop.is_some_and(|stop| *stop.borrow()) {
            tracing::info!("payment jobs: stopping between orders for the shutdown; the rest wait for the next start");
            return Ok(report);
        }
        let token = format!("{:032x}", rand::random::<u128>());
        match claim(state, &order, &token).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), order_sn = %order.order_sn, "cannot claim an order");
                continue;
            }
        }
        let attempts = order.check_attempts + 1;
        let next = match handle(state, &order, &mut report).await {
            Ok(next) => next,
            Err(error) => {
                crate::telemetry::job_error("payments");
                tracing::warn!(error = format!("{error:#}"), order_sn = %order.order_sn, attempts, "order job deferred");
                report.deferred += 1;
                Next::Retry
            }
        };
        if let Err(error) = release(state, &order, &token, next, attempts).await {
            tracing::warn!(error = format!("{error:#}"), order_sn = %order.order_sn, "cannot schedule an order");
        }
    }
    report.refunds_settled = refunds::settle_pending(state).await?;
    Ok(report)
}

/// When an order became due to a job: its scheduled check, else its deadline or the moment it
/// became old enough to reconcile, whichever came first.
fn due_since(order: &order_info::Model) -> NaiveDateTime {
    order.next_check_at.unwrap_or_else(|| order.expire_at.min(order.add_time + RECONCILE_AFTER))
}

/// Claims an order for one run: a lease that ends at `next_check_at`, owned by `token`, taken only
/// if neither the lease nor its owner changed since the order was read (so two instances, or a run
/// holding an old read, cannot both have it).
async fn claim(state: &AppState, order: &order_info::Model, token: &str) -> anyhow::Result<bool> {
    let now = state.clock.now();
    let mut update = order_info::Entity::update_many()
        .col_expr(order_info::Column::NextCheckAt, Expr::value(Some(now + LEASE)))
        .col_expr(order_info::Column::CheckedAt, Expr::value(Some(now)))
        .col_expr(order_info::Column::ClaimedBy, Expr::value(token))
        .filter(order_info::Column::Id.eq(order.id))
        .filter(order_info::Column::PayStatus.eq(order.pay_status.as_str()));
    update = match order.next_check_at {
        Some(seen) => update.filter(order_info::Column::NextCheckAt.eq(seen)),
        None => update.filter(order_info::Column::NextCheckAt.is_null()),
    };
    update = match &order.claimed_by {
        Some(owner) => update.filter(order_info::Column::ClaimedBy.eq(owner.as_str())),
        None => update.filter(order_info::Column::ClaimedBy.is_null()),
    };
    Ok(update.exec(&state.db).await?.rows_affected == 1)
}

/// When to look at an order again.
enum Next {
    /// Nothing left to do for it (or whatever is left is due by its own rule).
    Done,
    /// Nothing went wrong; look again at this time.
    At(NaiveDateTime),
    /// It could not be finished: back off.
    Retry,
}

/// Ends this run's lease, if it still holds it (a run slower than the lease lost it to another).
async fn release(
    state: &AppState,
    order: &order_info::Model,
    token: &str,
    next: Next,
    attempts: i32,
) -> anyhow::Result<()> {
    let (next_check_at, attempts) = match next {
        Next::Done => (None, 0),
        Next::At(at) => (Some(at), 0),
        Next::Retry => (Some(state.clock.now() + backoff(attempts)), attempts),
    };
    order_info::Entity::update_many()
        .col_expr(order_info::Column::NextCheckAt, Expr::value(next_check_at))
        .col_expr(order_info::Column::CheckAttempts, Expr::value(attempts))
        .filter(order_info::Column::Id.eq(order.id))
        .filter(order_info::Column::ClaimedBy.eq(token))
        .exec(&state.db)
        .await?;
    Ok(())
}

#[tracing::instrument(name = "order_job", skip_all, fields(order_sn = %order.order_sn, pay_status = %order.pay_status))]
async fn handle(state: &AppState, order: &order_info::Model, report: &mut Report) -> anyhow::Result<Next> {
    state.failpoints.check(FAIL_ORDER_JOB)?;
    let now = state.clock.now();
    match PayStatus::parse(&order.pay_status) {
        Some(PayStatus::Paying) if order.expire_at <= now => expire(state, order, report).await,
        Some(PayStatus::Paying) => reconcile(state, order, report).await,
        Some(PayStatus::TradeClosed) if order.watch_gateway => watch_closed(state, order, report).await,
        _ => Ok(Next::Done),
    }
}

/// What a query found for an unpaid order: `Some(newly_paid)` once it is unpaid no more (paid, or
/// closed by Alipay — counted as closed, never as paid), `None` while it is still open.
fn settled_by_query(queried: Option<Queried>, report: &mut Report) -> Option<bool> {
    let Queried { status, verdict } = queried?;
    if status.is_paid() {
        return Some(verdict == Verdict::Applied);
    }
    if status == alipay::TradeStatus::TradeClosed {
        if verdict == Verdict::Applied {
            report.closed_by_alipay += 1;
        }
        return Some(false);
    }
    None
}

async fn reconcile(state: &AppState, order: &order_info::Model, report: &mut Report) -> anyhow::Result<Next> {
    let queried = reconcile_by_query(state, &order.order_sn, "reconcile").await?;
    match settled_by_query(queried, report) {
        Some(newly_paid) => {
            report.reconciled += usize::from(newly_paid);
            Ok(Next::Done)
        }
        None => Ok(Next::At(std::cmp::min(state.clock.now() + RECHECK_EVERY, order.expire_at))),
    }
}

/// Past its deadline: ask Alipay first (a lost notification may mean it was paid), close the trade
/// there so no payment can follow, then close the order and release its stock. Any answer that is
/// not definite leaves the order unpaid for the next attempt.
async fn expire(state: &AppState, order: &order_info::Model, report: &mut Report) -> anyhow::Result<Next> {
    let queried = reconcile_by_query(state, &order.order_sn, "expire").await?;
    if let Some(newly_paid) = settled_by_query(queried, report) {
        report.paid_late += usize::from(newly_paid);
        return Ok(Next::Done);
    }
    let trade = alipay::TradeRef::OutTradeNo(order.order_sn.clone());
    // Closed there: it can take no payment. Not there: nobody opened the cashier, but keep
    // watching past the deadline in case of clock skew.
    let watch = match state.payments.gateway.close(&trade).await {
        Ok(_) => false,
        Err(error) if error.is_trade_not_exist() => true,
        Err(error) => return Err(anyhow::Error::new(error).context("closing the Alipay trade")),
    };
    let event = EventRecord {
        order_sn: &order.order_sn,
        notify_id: "expire",
        trade_status: PayStatus::TradeClosed.as_str(),
        fields: serde_json::json!({"source": "expire", "expire_at": order.expire_at.to_string()}).to_string(),
    };
    if apply::close_unpaid(&state.db, order.id, PayEvent::Expired, watch, Some(&event)).await? {
        tracing::info!(order_sn = %order.order_sn, "closed an unpaid order past its deadline; stock released");
        report.expired += 1;
        crate::telemetry::order_event("expired");
    }
    Ok(if watch { Next::At(order.expire_at + DEADLINE_MARGIN) } else { Next::Done })
}

/// A closed order whose Alipay trade may still take a payment (cancelled by the buyer, or closed
/// before the trade was known to be shut): a payment found is refunded (through the late-payment
/// path), an open trade is closed, and the watch ends once nothing can be paid.
async fn watch_closed(state: &AppState, order: &order_info::Model, report: &mut Report) -> anyhow::Result<Next> {
    let settled = match reconcile_by_query(state, &order.order_sn, "settle").await? {
        Some(Queried { status, verdict }) if status.is_paid() => {
            if verdict == Verdict::LatePayment {
                report.late_payments += 1;
            }
            true
        }
        Some(Queried { status: alipay::TradeStatus::TradeClosed, .. }) => true,
        Some(_) => {
            state
                .payments
                .gateway
                .close(&alipay::TradeRef::OutTradeNo(order.order_sn.clone()))
                .await
                .map_err(|error| anyhow::Error::new(error).context("closing the Alipay trade"))?;
            true
        }
        None => state.clock.now() >= order.expire_at + DEADLINE_MARGIN,
    };
    if !settled {
        // No trade yet, but the buyer may still open the cashier and pay: ask again every few
        // minutes, so that a payment whose notification is lost is refunded soon, not at the end
        // of a payment window that may be days long.
        return Ok(Next::At(std::cmp::min(state.clock.now() + RECHECK_EVERY, order.expire_at + DEADLINE_MARGIN)));
    }
    order_info::Entity::update_many()
        .col_expr(order_info::Column::WatchGateway, Expr::value(false))
        .filter(order_info::Column::Id.eq(order.id))
        .exec(&state.db)
        .await?;
    report.settled += 1;
    Ok(Next::Done)
}

/// Right after a buyer cancels: asks Alipay to close the trade. Closed there, the watch ends;
/// any other answer (no such trade yet, already paid, unknown) leaves it to the jobs.
pub async fn close_at_gateway(state: &AppState, order: &order_info::Model) {
    let trade = alipay::TradeRef::OutTradeNo(order.order_sn.clone());
    let closed = match state.payments.gateway.close(&trade).await {
        Ok(_) => true,
        Err(error) => {
            tracing::info!(%error, order_sn = %order.order_sn, "Alipay trade not closed on cancel; the jobs will watch it");
            false
        }
    };
    let mut update = order_info::Entity::update_many().filter(order_info::Column::Id.eq(order.id));
    update = if closed {
        update.col_expr(order_info::Column::WatchGateway, Expr::value(false))
    } else {
        update.col_expr(order_info::Column::NextCheckAt, Expr::value(Some(state.clock.now())))
    };
    if let Err(error) = update.exec(&state.db).await {
        tracing::warn!(%error, order_sn = %order.order_sn, "cannot record the cancel's gateway outcome; the jobs will ask");
    }
}

/// Runs the jobs every `interval` until `stop` turns true; a run under way when it does ends
/// after the order it is working on.
pub fn spawn(state: AppState, interval: Duration, mut stop: tokio::sync::watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Stopping wins when both are ready (after a long run, the next tick is due too).
                biased;
                _ = stop.wait_for(|stopped| *stopped) => return,
                _ = ticker.tick() => {}
            }
            let started = std::time::Instant::now();
            let outcome = run_batch(&state, Some(&stop)).await;
            crate::telemetry::job_run("payments", started.elapsed(), outcome.is_ok());
            match outcome {
                Ok(report) if report != Report::default() => tracing::info!(?report, "payment jobs"),
                Ok(_) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "payment jobs failed"),
            }
        }
    })
}
