//! Refunds: staff-requested (partial or full, never more than was paid, idempotent per
//! `out_request_no`) and automatic (a payment that arrived after its order was closed). The
//! refund is recorded before Alipay is asked, and Alipay is never asked inside a transaction.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};
use serde::Serialize;

use crate::app::AppState;
use crate::clock::{format_datetime, now_utc};
use crate::db::{self, entities::order_info, entities::refund};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup};
use crate::money::Money;
use crate::trade::status::PayStatus;

#[derive(Debug, Serialize)]
pub struct RefundJson {
    pub id: i32,
    pub out_request_no: String,
    pub amount: Money,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub add_time: String,
    pub refunded_at: Option<String>,
}

impl From<&refund::Model> for RefundJson {
    fn from(row: &refund::Model) -> Self {
        Self {
            id: row.id,
            out_request_no: row.out_request_no.clone(),
            amount: Money::from_fen(row.amount_fen),
            reason: row.reason.clone(),
            status: row.status.clone(),
            requested_by: row.requested_by.clone(),
            add_time: format_datetime(row.add_time),
            refunded_at: row.refunded_at.map(format_datetime),
        }
    }
}

fn staff_only(user: &CurrentUser) -> ApiResult<()> {
    if user.0.is_superuser { Ok(()) } else { Err(ApiError::PermissionDenied) }
}

/// `GET /admin/orders/{id}/refund/`
pub async fn list_refunds(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<Json<Vec<RefundJson>>> {
    staff_only(&user)?;
    order_info::Entity::find_by_id(id).one(&state.db).await?.ok_or(ApiError::NotFound)?;
    let rows = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(id))
        .order_by_asc(refund::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(rows.iter().map(RefundJson::from).collect()))
}

/// `POST /admin/orders/{id}/refund/` `{"amount", "reason", "out_request_no"?}`
pub async fn create_refund(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<RefundJson>)> {
    staff_only(&user)?;
    let mut fields = Fields::new(&payload, false);
    let amount = fields.text("amount", Text::required(20)).flatten();
    let reason = fields.text("reason", Text::optional(256).blank_ok()).flatten().unwrap_or_default();
    let out_request_no = fields.text("out_request_no", Text::optional(64)).flatten();
    let amount = amount.and_then(|text| match Money::parse_yuan(&text) {
        Some(money) if money.fen() > 0 => Some(money),
        _ => {
            fields.error("amount", "请输入大于 0、最多两位小数的金额。");
            None
        }
    });
    let amount = fields.finish_with(amount)?;
    let order = order_info::Entity::find_by_id(id).one(&state.db).await?.ok_or(ApiError::NotFound)?;
    // Without a client-chosen number each request is a new refund: a random one, never a clock
    // reading (two requests in one millisecond would look like a replay).
    let out_request_no = out_request_no.unwrap_or_else(|| format!("rf{}-{:016x}", order.id, rand::random::<u64>()));

    if let Some(existing) =
        refund::Entity::find().filter(refund::Column::OutRequestNo.eq(&out_request_no)).one(&state.db).await?
    {
        // A replayed request: the same refund, not a second one.
        if existing.order_id != order.id {
            return Err(ApiError::Validation(FieldErrors::single("out_request_no", "该退款单号已用于其他订单。")));
        }
        return Ok((StatusCode::OK, Json(RefundJson::from(&existing))));
    }
    let row = reserve_refund(&state.db, &order, amount, &reason, &out_request_no, &user.0.username).await?;
    let row = execute(&state, &order, row).await?;
    Ok((StatusCode::CREATED, Json(RefundJson::from(&row))))
}

/// Records a pending refund if the order is paid and the refunds stay within what was paid.
async fn reserve_refund(
    db: &DatabaseConnection,
    order: &order_info::Model,
    amount: Money,
    reason: &str,
    out_request_no: &str,
    requested_by: &str,
) -> ApiResult<refund::Model> {
    let txn = db.begin().await?;
    let result = async {
        // Lock the order row, so that concurrent refunds are summed one after the other.
        order_info::Entity::update_many()
            .col_expr(order_info::Column::PayStatus, Expr::col(order_info::Column::PayStatus))
            .filter(order_info::Column::Id.eq(order.id))
            .exec(&txn)
            .await?;
        let current = order_info::Entity::find_by_id(order.id).one(&txn).await?.ok_or(ApiError::NotFound)?;
        if PayStatus::parse(&current.pay_status) != Some(PayStatus::TradeSuccess) {
            return Err(ApiError::Validation(FieldErrors::single(
                "non_field_errors",
                format!("只能对已支付的订单退款（此订单状态为 {}）。", current.pay_status),
            )));
        }
        let refunded: i64 = refund::Entity::find()
            .filter(refund::Column::OrderId.eq(order.id))
            .filter(refund::Column::Status.ne("failed"))
            .all(&txn)
            .await?
            .iter()
            .map(|r| r.amount_fen)
            .sum();
        if refunded + amount.fen() > current.order_mount_fen {
            return Err(ApiError::Validation(FieldErrors::single(
                "amount",
                format!(
                    "退款总额不能超过实付金额：已退 {}，可退 {}。",
                    Money::from_fen(refunded),
                    Money::from_fen(current.order_mount_fen - refunded)
                ),
            )));
        }
        insert_refund(&txn, order.id, amount, reason, out_request_no, requested_by).await
    }
    .await;
    db::finish(txn, result).await
}

async fn insert_refund(
    db: &impl sea_orm::ConnectionTrait,
    order_id: i32,
    amount: Money,
    reason: &str,
    out_request_no: &str,
    requested_by: &str,
) -> ApiResult<refund::Model> {
    Ok(refund::Entity::insert(refund::ActiveModel {
        order_id: Set(order_id),
        out_request_no: Set(out_request_no.to_owned()),
        amount_fen: Set(amount.fen()),
        reason: Set(reason.to_owned()),
        status: Set("pending".into()),
        requested_by: Set(requested_by.to_owned()),
        add_time: Set(now_utc()),
        refunded_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?)
}

/// Asks Alipay to refund and records the outcome. An unknown outcome leaves the refund pending:
/// repeating it later with the same `out_request_no` is safe.
async fn execute(state: &AppState, order: &order_info::Model, row: refund::Model) -> anyhow::Result<refund::Model> {
    let request = alipay::Refund::new(
        alipay::TradeRef::OutTradeNo(order.order_sn.clone()),
        alipay::Money::from_fen(row.amount_fen)?,
        row.out_request_no.clone(),
    )?;
    let status = match state.payments.client.trade_refund(&request).await {
        Ok(_) => "succeeded",
        Err(error) if error.is_outcome_unknown() => {
            tracing::warn!(%error, out_request_no = %row.out_request_no, "refund outcome unknown; left pending");
            return Ok(row);
        }
        Err(error) => {
            tracing::error!(%error, out_request_no = %row.out_request_no, "Alipay refused a refund");
            "failed"
        }
    };
    let refunded_at = (status == "succeeded").then(now_utc);
    refund::Entity::update(refund::ActiveModel {
        id: Set(row.id),
        status: Set(status.to_owned()),
        refunded_at: Set(refunded_at),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    if status == "succeeded" {
        close_if_fully_refunded(&state.db, order).await?;
    }
    Ok(refund::Model { status: status.to_owned(), refunded_at, ..row })
}

/// `TRADE_SUCCESS → TRADE_CLOSED` once the succeeded refunds cover the whole amount.
async fn close_if_fully_refunded(db: &DatabaseConnection, order: &order_info::Model) -> anyhow::Result<()> {
    let refunded: i64 = refund::Entity::find()
        .filter(refund::Column::OrderId.eq(order.id))
        .filter(refund::Column::Status.eq("succeeded"))
        .all(db)
        .await?
        .iter()
        .map(|r| r.amount_fen)
        .sum();
    if refunded >= order.order_mount_fen {
        order_info::Entity::update_many()
            .col_expr(order_info::Column::PayStatus, Expr::value(PayStatus::TradeClosed.as_str()))
            .filter(order_info::Column::Id.eq(order.id))
            .filter(order_info::Column::PayStatus.eq(PayStatus::TradeSuccess.as_str()))
            .exec(db)
            .await?;
        tracing::info!(order_id = order.id, "order refunded in full; closed");
    }
    Ok(())
}

/// Refunds, in full and once, a payment that arrived after its order was closed.
pub async fn refund_late_payment(state: &AppState, order: &order_info::Model) -> anyhow::Result<()> {
    let out_request_no = format!("late-{}", order.order_sn);
    let inserted = insert_refund(
        &state.db,
        order.id,
        Money::from_fen(order.order_mount_fen),
        "late payment",
        &out_request_no,
        "system",
    )
    .await;
    let row = match inserted {
        Ok(row) => row,
        Err(ApiError::Database(error)) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            let existing =
                refund::Entity::find().filter(refund::Column::OutRequestNo.eq(&out_request_no)).one(&state.db).await?;
            match existing {
                Some(row) if row.status == "pending" => row,
                _ => return Ok(()),
            }
        }
        Err(error) => return Err(anyhow::anyhow!("recording a late-payment refund: {error}")),
    };
    execute(state, order, row).await?;
    Ok(())
}
