//! The payment state machine applied to orders: every change in one transaction with a record of
//! the event that caused it, each transition at most once (conditional updates on `pay_status`).

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::clock::now_utc;
use crate::db;
use crate::db::entities::{goods, order_goods, order_info, payment_event};
use crate::trade::status::PayStatus;

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

/// Marks the order paid (`TRADE_SUCCESS`, or `TRADE_FINISHED`), once: the update only matches an
/// order still `paying`, and only the request that made it counts the sales.
pub async fn apply_paid(
    db: &DatabaseConnection,
    order: &order_info::Model,
    trade_no: &str,
    paid_at: NaiveDateTime,
    finished: bool,
    event: &EventRecord<'_>,
) -> Result<Verdict, DbErr> {
    let txn = db.begin().await?;
    let result = async {
        let target = if finished { PayStatus::TradeFinished } else { PayStatus::TradeSuccess };
        let paid = order_info::Entity::update_many()
            .col_expr(order_info::Column::PayStatus, Expr::value(target.as_str()))
            .col_expr(order_info::Column::TradeNo, Expr::value(trade_no))
            .col_expr(order_info::Column::PayTime, Expr::value(paid_at))
            .filter(order_info::Column::Id.eq(order.id))
            .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
            .exec(&txn)
            .await?;
        let verdict = if paid.rows_affected == 1 {
            count_sales(&txn, order.id).await?;
            Verdict::Applied
        } else {
            let current = order_info::Entity::find_by_id(order.id).one(&txn).await?;
            let status = current.as_ref().and_then(|o| PayStatus::parse(&o.pay_status));
            match status {
                Some(PayStatus::TradeSuccess) if finished => {
                    // TRADE_SUCCESS → TRADE_FINISHED: the refund window ended; no new sales.
                    order_info::Entity::update_many()
                        .col_expr(order_info::Column::PayStatus, Expr::value(PayStatus::TradeFinished.as_str()))
                        .filter(order_info::Column::Id.eq(order.id))
                        .filter(order_info::Column::PayStatus.eq(PayStatus::TradeSuccess.as_str()))
                        .exec(&txn)
                        .await?;
                    Verdict::Applied
                }
                Some(PayStatus::TradeClosed) => Verdict::LatePayment,
                _ => Verdict::Duplicate,
            }
        };
        record(&txn, event, verdict).await?;
        Ok(verdict)
    }
    .await;
    db::finish(txn, result).await
}

/// `sold_num += quantity` for every line of the order.
async fn count_sales(txn: &impl ConnectionTrait, order_id: i32) -> Result<(), DbErr> {
    let lines = order_goods::Entity::find()
        .filter(order_goods::Column::OrderId.eq(order_id))
        .order_by_asc(order_goods::Column::GoodsId)
        .all(txn)
        .await?;
    for line in lines {
        goods::Entity::update_many()
            .col_expr(goods::Column::SoldNum, Expr::col(goods::Column::SoldNum).add(line.goods_num))
            .filter(goods::Column::Id.eq(line.goods_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Closes an unpaid order and releases its stock, once (`paying → TRADE_CLOSED`). `false` when
/// the order was no longer unpaid (paid meanwhile, or closed by another instance).
pub async fn close_unpaid(
    db: &DatabaseConnection,
    order_id: i32,
    event: Option<&EventRecord<'_>>,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let result = async {
        let closed = order_info::Entity::update_many()
            .col_expr(order_info::Column::PayStatus, Expr::value(PayStatus::TradeClosed.as_str()))
            .filter(order_info::Column::Id.eq(order_id))
            .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
            .exec(&txn)
            .await?;
        let applied = closed.rows_affected == 1;
        if applied {
            let lines = order_goods::Entity::find()
                .filter(order_goods::Column::OrderId.eq(order_id))
                .order_by_asc(order_goods::Column::GoodsId)
                .all(&txn)
                .await?;
            for line in lines {
                goods::Entity::update_many()
                    .col_expr(goods::Column::GoodsNum, Expr::col(goods::Column::GoodsNum).add(line.goods_num))
                    .filter(goods::Column::Id.eq(line.goods_id))
                    .exec(&txn)
                    .await?;
            }
        }
        if let Some(event) = event {
            record(&txn, event, if applied { Verdict::Applied } else { Verdict::Ignored }).await?;
        }
        Ok(applied)
    }
    .await;
    db::finish(txn, result).await
}
