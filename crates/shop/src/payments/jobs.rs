//! Background work, safe with several instances: closing unpaid orders past their deadline (after
//! asking Alipay, since a lost notification may mean it was paid), and reconciling orders whose
//! payment state is uncertain. Each order is claimed with a conditional update first.

use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::apply::{self, EventRecord, Verdict};
use super::notify::reconcile_by_query;
use crate::app::AppState;
use crate::clock::now_utc;
use crate::db::entities::order_info;
use crate::trade::status::PayStatus;

/// Orders handled per run and kind.
const BATCH: u64 = 100;
/// An unpaid order younger than this is left to its notification.
const RECONCILE_AFTER: TimeDelta = TimeDelta::minutes(2);
/// How often one order is asked about.
const RECHECK_EVERY: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub expired: usize,
    pub paid_late: usize,
    pub reconciled: usize,
}

/// Runs both jobs once.
pub async fn run_once(state: &AppState) -> anyhow::Result<Report> {
    let mut report = Report::default();
    expire(state, &mut report).await?;
    reconcile(state, &mut report).await?;
    Ok(report)
}

/// Claims the order for this run (`checked_at` moves only if nobody else moved it since `seen`).
async fn claim(state: &AppState, order: &order_info::Model) -> anyhow::Result<bool> {
    let now = now_utc();
    let mut condition = Condition::all().add(order_info::Column::Id.eq(order.id));
    condition = match order.checked_at {
        Some(seen) => condition.add(order_info::Column::CheckedAt.eq(seen)),
        None => condition.add(order_info::Column::CheckedAt.is_null()),
    };
    let claimed = order_info::Entity::update_many()
        .col_expr(order_info::Column::CheckedAt, Expr::value(now))
        .filter(condition)
        .exec(&state.db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

async fn expire(state: &AppState, report: &mut Report) -> anyhow::Result<()> {
    let due = order_info::Entity::find()
        .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
        .filter(order_info::Column::ExpireAt.lte(now_utc()))
        .order_by_asc(order_info::Column::ExpireAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for order in due {
        if !claim(state, &order).await? {
            continue;
        }
        match reconcile_by_query(state, &order.order_sn, "expire").await {
            Ok(Some(Verdict::Applied)) => {
                report.paid_late += 1;
                continue;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, order_sn = %order.order_sn, "cannot ask Alipay before expiring; trying later");
                continue;
            }
        }
        if let Err(error) =
            state.payments.client.trade_close(&alipay::TradeRef::OutTradeNo(order.order_sn.clone())).await
            && error.api_error().and_then(|e| e.sub_code.clone()) != Some(alipay::SubCode::TradeNotExist)
        {
            tracing::warn!(%error, order_sn = %order.order_sn, "cannot close the Alipay trade; trying later");
            continue;
        }
        let event = EventRecord {
            order_sn: &order.order_sn,
            notify_id: "expire",
            trade_status: PayStatus::TradeClosed.as_str(),
            fields: serde_json::json!({"source": "expire", "expire_at": order.expire_at.to_string()}).to_string(),
        };
        if apply::close_unpaid(&state.db, order.id, Some(&event)).await? {
            tracing::info!(order_sn = %order.order_sn, "closed an unpaid order past its deadline; stock released");
            report.expired += 1;
        }
    }
    Ok(())
}

async fn reconcile(state: &AppState, report: &mut Report) -> anyhow::Result<()> {
    let now = now_utc();
    let uncertain = order_info::Entity::find()
        .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
        .filter(order_info::Column::ExpireAt.gt(now))
        .filter(order_info::Column::AddTime.lte(now - RECONCILE_AFTER))
        .filter(
            Condition::any()
                .add(order_info::Column::CheckedAt.is_null())
                .add(order_info::Column::CheckedAt.lte(now - RECHECK_EVERY)),
        )
        .order_by_asc(order_info::Column::Id)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    for order in uncertain {
        if !claim(state, &order).await? {
            continue;
        }
        match reconcile_by_query(state, &order.order_sn, "reconcile").await {
            Ok(Some(Verdict::Applied)) => report.reconciled += 1,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, order_sn = %order.order_sn, "reconciliation query failed"),
        }
    }
    Ok(())
}

/// Runs the jobs every `interval` until the process ends.
pub fn spawn(state: AppState, interval: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match run_once(&state).await {
                Ok(report) if report != Report::default() => tracing::info!(?report, "payment jobs"),
                Ok(_) => {}
                Err(error) => tracing::error!(error = format!("{error:#}"), "payment jobs failed"),
            }
        }
    });
}
