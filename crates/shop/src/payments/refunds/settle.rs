//! Refunds nobody asked for by hand: a payment that arrived after its order was closed, a refund
//! confirmed by Alipay's notification, and the job that settles the pending ones by query.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::{entities::order_info, entities::refund};
use crate::money::Money;
use crate::state::AppState;

use super::{
    BATCH, IN_FLIGHT, LATE_PREFIX, NewRefund, Outcome, RefundStatus, execute, find_by_out_request_no, insert_refund,
    settle,
};

/// Refunds, in full and once, a payment that arrived after its order was closed: one refund per
/// order (`late-<order_sn>`), whatever the number of deliveries and queries that report it.
pub async fn refund_late_payment(state: &AppState, order: &order_info::Model) -> anyhow::Result<()> {
    let out_request_no = format!("{LATE_PREFIX}{}", order.order_sn);
    let request = NewRefund {
        amount: Money::from_fen(order.order_mount_fen),
        reason: "late payment",
        out_request_no: &out_request_no,
        requested_by: "system",
    };
    let row = match insert_refund(&state.db, order.id, &request, state.clock.now()).await {
        Ok(row) => row,
        // Recorded by an earlier delivery: the jobs settle it if it is still pending.
        Err(error) if crate::db::is_unique_violation(&error) => {
            let existing = find_by_out_request_no(&state.db, &out_request_no).await?;
            anyhow::ensure!(
                existing.as_ref().is_some_and(|row| row.order_id == order.id),
                "the late-payment refund number {out_request_no} belongs to another order"
            );
            if existing.is_some_and(|row| row.status == RefundStatus::Failed.as_str()) {
                tracing::error!(
                    order_id = order.id,
                    out_request_no,
                    "a late payment's refund was refused by Alipay: refund the buyer by hand"
                );
            }
            return Ok(());
        }
        Err(error) => return Err(anyhow::anyhow!("recording a late-payment refund: {error}")),
    };
    crate::telemetry::refund("requested");
    execute(state, order, row).await?;
    Ok(())
}

/// A refund notification names the refund (`out_biz_no`): a pending (or wrongly failed) one has
/// succeeded.
pub async fn confirm_by_notification(
    state: &AppState,
    order: &order_info::Model,
    out_request_no: &str,
) -> anyhow::Result<()> {
    let Some(row) = find_by_out_request_no(&state.db, out_request_no).await?.filter(|r| r.order_id == order.id) else {
        return Ok(());
    };
    if row.status != RefundStatus::Succeeded.as_str() {
        settle(state, order, row, Outcome::Succeeded).await?;
    }
    Ok(())
}

/// Settles pending refunds whose time has come: asks Alipay about each, marks it succeeded if it
/// happened, sends it again (same `out_request_no`) if Alipay has no such refund, and backs off
/// otherwise. Each refund is claimed by moving `next_check_at` forward from the value seen, so
/// one instance handles it. Returns how many left `pending`.
pub async fn settle_pending(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let due = refund::Entity::find()
        .filter(refund::Column::Status.eq(RefundStatus::Pending.as_str()))
        .filter(Condition::any().add(refund::Column::NextCheckAt.is_null()).add(refund::Column::NextCheckAt.lte(now)))
        .order_by_asc(refund::Column::NextCheckAt)
        .order_by_asc(refund::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut settled = 0;
    for row in due {
        match settle_one(state, row).await {
            Ok(true) => settled += 1,
            Ok(false) => {}
            Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot settle a pending refund; trying later"),
        }
    }
    Ok(settled)
}

async fn settle_one(state: &AppState, row: refund::Model) -> anyhow::Result<bool> {
    if !claim(&state.db, &row, state.clock.now()).await? {
        return Ok(false);
    }
    let row = refund::Model { check_attempts: row.check_attempts + 1, ..row };
    let Some(order) = order_info::Entity::find_by_id(row.order_id).one(&state.db).await? else {
        anyhow::bail!("refund {} has no order", row.id);
    };
    let trade = alipay::TradeRef::OutTradeNo(order.order_sn.clone());
    let row = match state.payments.gateway.refund_query(&trade, &row.out_request_no).await {
        Ok(answer) if answer.refunded() => settle(state, &order, row, Outcome::Succeeded).await?,
        // Alipay has no such refund: the request never arrived. The same number again is safe.
        Ok(_) => execute(state, &order, row).await?,
        Err(error) => settle(state, &order, row, Outcome::Unknown(error.to_string())).await?,
    };
    Ok(row.status != RefundStatus::Pending.as_str())
}

/// Claims a due refund: `next_check_at` moves on (and `check_attempts` up) only if neither changed
/// since it was read, so a run holding an old read cannot claim it again.
async fn claim(db: &DatabaseConnection, row: &refund::Model, now: NaiveDateTime) -> anyhow::Result<bool> {
    let mut update = refund::Entity::update_many()
        .col_expr(refund::Column::NextCheckAt, Expr::value(Some(now + IN_FLIGHT)))
        .col_expr(refund::Column::CheckAttempts, Expr::col(refund::Column::CheckAttempts).add(1))
        .filter(refund::Column::Id.eq(row.id))
        .filter(refund::Column::Status.eq(RefundStatus::Pending.as_str()))
        .filter(refund::Column::CheckAttempts.eq(row.check_attempts));
    update = match row.next_check_at {
        Some(seen) => update.filter(refund::Column::NextCheckAt.eq(seen)),
        None => update.filter(refund::Column::NextCheckAt.is_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}
