//! What staff do: list an order's refunds and ask for one (partial or full, within what was
//! paid, idempotent per `out_request_no`), recorded `pending` before Alipay is asked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::clock::format_datetime;
use crate::db::{self, entities::order_info, entities::refund};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup};
use crate::money::Money;
use crate::state::AppState;
use crate::trade::status::PayStatus;

use super::{LATE_PREFIX, NewRefund, RefundStatus, execute, find_by_out_request_no, insert_refund, lock_order};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundJson {
    pub id: i32,
    pub out_request_no: String,
    pub amount: Money,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub add_time: String,
    pub refunded_at: Option<String>,
    /// Why it is still pending, or why Alipay refused it.
    pub last_error: Option<String>,
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
            last_error: row.last_error.clone(),
        }
    }
}

fn staff_only(user: &CurrentUser) -> ApiResult<()> {
    if user.0.is_superuser { Ok(()) } else { Err(ApiError::PermissionDenied) }
}

/// `GET /admin/orders/{id}/refund/`
#[utoipa::path(
    summary = "An order's refunds (staff)",
    get, path = "/admin/orders/{id}/refund/", tag = "payments", security(("jwt" = [])), params(("id" = i32, Path, description = "order id")),
    responses((status = 200, description = "The order's refunds (staff only)", body = Vec<RefundJson>), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::Forbidden, crate::openapi::answers::NotFound)
)]
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

/// Alipay's rule for `out_request_no`: 1–64 bytes of letters, digits, `_` and `-`.
fn valid_out_request_no(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `POST /admin/orders/{id}/refund/` `{"amount", "reason", "out_request_no"?}`
#[utoipa::path(
    summary = "Refund an order (staff)",
    post, path = "/admin/orders/{id}/refund/", tag = "payments", security(("jwt" = [])), params(("id" = i32, Path, description = "order id")), request_body(content((crate::openapi::bodies::NewRefund = "application/json"), (crate::openapi::bodies::NewRefund = "application/x-www-form-urlencoded"), (crate::openapi::bodies::NewRefund = "multipart/form-data"))),
    responses(
        (status = 201, description = "Refunded (`succeeded`), refused by Alipay (`failed`) or not known yet (`pending`: the jobs finish it)", body = RefundJson),
        (status = 200, description = "The refund already recorded with this `out_request_no`", body = RefundJson),
        crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::Forbidden, crate::openapi::answers::NotFound,
        crate::openapi::answers::Conflict,
    )
)]
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
    if out_request_no.as_deref().is_some_and(|no| !valid_out_request_no(no)) {
        fields.error("out_request_no", "退款单号只能包含字母、数字、下划线和连字符，且不超过 64 字节。");
    } else if out_request_no.as_deref().is_some_and(|no| no.starts_with(LATE_PREFIX)) {
        // Reserved: a staff number taking an order's late-payment number would stop that refund.
        fields.error("out_request_no", "以 late- 开头的退款单号留给系统的迟到付款退款。");
    }
    let amount = fields.finish_with(amount)?;
    let order = order_info::Entity::find_by_id(id).one(&state.db).await?.ok_or(ApiError::NotFound)?;
    // Without a client-chosen number each request is a new refund: a random one, never a clock
    // reading (two requests in one millisecond would look like a replay).
    let out_request_no = out_request_no.unwrap_or_else(|| format!("rf{}-{:016x}", order.id, rand::random::<u64>()));
    let request =
        NewRefund { amount, reason: &reason, out_request_no: &out_request_no, requested_by: &user.0.username };
    let reserved = reserve_refund(&state.db, &order, &request, state.clock.now()).await;
    let row = match reserved {
        Ok(Reserved::New(row)) => {
            crate::telemetry::refund("requested");
            row
        }
        Ok(Reserved::Replay(row)) => return Ok((StatusCode::OK, Json(RefundJson::from(&row)))),
        // Two identical requests at once: the other one recorded it; this is its replay.
        Err(ApiError::Database(error)) if crate::db::is_unique_violation(&error) => {
            let existing =
                find_by_out_request_no(&state.db, &out_request_no).await?.ok_or(ApiError::Database(error))?;
            return replay_of(&order, existing, amount).map(|row| (StatusCode::OK, Json(RefundJson::from(&row))));
        }
        Err(error) => return Err(error),
    };
    let row = execute(&state, &order, row).await?;
    Ok((StatusCode::CREATED, Json(RefundJson::from(&row))))
}

enum Reserved {
    New(refund::Model),
    /// The same `out_request_no` again: the refund it made.
    Replay(refund::Model),
}

fn replay_of(order: &order_info::Model, existing: refund::Model, amount: Money) -> ApiResult<refund::Model> {
    if existing.order_id != order.id {
        return Err(ApiError::Validation(FieldErrors::single("out_request_no", "该退款单号已用于其他订单。")));
    }
    if existing.amount_fen != amount.fen() {
        return Err(ApiError::Unprocessable(format!(
            "该退款单号已用于金额 {} 的退款；新的退款请使用新的退款单号。",
            Money::from_fen(existing.amount_fen)
        )));
    }
    Ok(existing)
}

/// Records a pending refund if the order is paid and the refunds (pending ones included) stay
/// within what was paid.
async fn reserve_refund(
    db: &DatabaseConnection,
    order: &order_info::Model,
    request: &NewRefund<'_>,
    now: NaiveDateTime,
) -> ApiResult<Reserved> {
    db::transaction!(db, ApiError, |txn| {
        // Concurrent refunds of one order are summed one after the other.
        lock_order(&txn, order.id).await?;
        if let Some(existing) = find_by_out_request_no(&txn, request.out_request_no).await? {
            return replay_of(order, existing, request.amount).map(Reserved::Replay);
        }
        let current = order_info::Entity::find_by_id(order.id).one(&txn).await?.ok_or(ApiError::NotFound)?;
        if PayStatus::parse(&current.pay_status) != Some(PayStatus::TradeSuccess) {
            return Err(ApiError::Validation(FieldErrors::single(
                "non_field_errors",
                format!("只能对已支付的订单退款（此订单状态为 {}）。", current.pay_status),
            )));
        }
        let committed: i64 = refund::Entity::find()
            .filter(refund::Column::OrderId.eq(order.id))
            .filter(refund::Column::Status.ne(RefundStatus::Failed.as_str()))
            .all(&txn)
            .await?
            .iter()
            .map(|r| r.amount_fen)
            .sum();
        if committed + request.amount.fen() > current.order_mount_fen {
            return Err(ApiError::Validation(FieldErrors::single(
                "amount",
                format!(
                    "退款总额不能超过实付金额：已退 {}，可退 {}。",
                    Money::from_fen(committed),
                    Money::from_fen(current.order_mount_fen - committed)
                ),
            )));
        }
        Ok(Reserved::New(insert_refund(&txn, order.id, request, now).await?))
    })
}
