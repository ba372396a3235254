//! Applies a [`PayEvent`] to an order in the database: a conditional update from each state the
//! event is allowed in (so concurrent writers race on the row and exactly one wins), then the
//! transition's side effect, in the caller's transaction. Lock order is always the order row
//! first, then its goods in id order — the same for payment, cancel, expiry and refunds.

use chrono::NaiveDateTime;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::status::{PayEvent, PayStatus, SideEffect};
use super::stock;
use crate::db::entities::order_info;

/// Columns written together with the status.
#[derive(Debug, Default, Clone)]
pub struct Changes<'a> {
    /// Only this user's order (buyer cancel).
    pub owner: Option<i32>,
    pub trade_no: Option<&'a str>,
    pub pay_time: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    /// Keep asking Alipay about the trade after the order is closed.
    pub watch_gateway: Option<bool>,
}

/// The transition made, or `None` when the order was in no state that takes `event` (it moved
/// meanwhile, or the event is a duplicate).
pub async fn apply(
    txn: &impl ConnectionTrait,
    order_id: i32,
    event: PayEvent,
    changes: &Changes<'_>,
) -> Result<Option<(PayStatus, PayStatus)>, DbErr> {
    for from in event.sources() {
        let Ok((to, effect)) = from.on(event) else { continue };
        let mut update = order_info::Entity::update_many()
            .col_expr(order_info::Column::PayStatus, Expr::value(to.as_str()))
            .filter(order_info::Column::Id.eq(order_id))
            .filter(order_info::Column::PayStatus.eq(from.as_str()));
        if let Some(owner) = changes.owner {
            update = update.filter(order_info::Column::UserId.eq(owner));
        }
        if let Some(trade_no) = changes.trade_no {
            update = update.col_expr(order_info::Column::TradeNo, Expr::value(trade_no));
        }
        // The payment time is set when the order is paid; a later TRADE_FINISHED (whose answer
        // may carry no date, leaving "now" in its place) must not move it.
        if let Some(pay_time) = changes.pay_time
            && from == PayStatus::Paying
        {
            update = update.col_expr(order_info::Column::PayTime, Expr::value(pay_time));
        }
        if let Some(cancelled_at) = changes.cancelled_at {
            update = update.col_expr(order_info::Column::CancelledAt, Expr::value(cancelled_at));
        }
        if let Some(watch) = changes.watch_gateway {
            update = update.col_expr(order_info::Column::WatchGateway, Expr::value(watch));
        }
        if update.exec(txn).await?.rows_affected == 1 {
            match effect {
                SideEffect::None => {}
                SideEffect::ReleaseStock => stock::release(txn, order_id).await?,
                SideEffect::CountSales => stock::count_sales(txn, order_id).await?,
            }
            tracing::info!(order_id, %from, %to, ?event, "order moved");
            return Ok(Some((from, to)));
        }
    }
    Ok(None)
}
