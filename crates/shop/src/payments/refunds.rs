//! Refunds: staff-requested (partial or full, never more than was paid, idempotent per
//! `out_request_no`) and automatic (a payment that arrived after its order was closed). The
//! refund is recorded `pending` before Alipay is asked, and Alipay is never asked inside a
//! transaction. Only a signed, definite refusal makes a refund `failed`; any other error leaves
//! it `pending` — its amount still counts against what may be refunded — and the refund job
//! settles it with `alipay.trade.fastpay.refund.query`, re-sending the same `out_request_no` when
//! Alipay has no such refund.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::TimeDelta;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
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
use crate::trade::lifecycle::{self, Changes};
use crate::trade::status::{PayEvent, PayStatus};

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
    let reserved = reserve_refund(&state.db, &order, &request).await;
    let row = match reserved {
        Ok(Reserved::New(row)) => {
            crate::telemetry::refund("requested");
            row
        }
        Ok(Reserved::Replay(row)) => return Ok((StatusCode::OK, Json(RefundJson::from(&row)))),
        // Two identical requests at once: the other one recorded it; this is its replay.
        Err(ApiError::Database(error)) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            let existing =
                find_by_out_request_no(&state.db, &out_request_no).await?.ok_or(ApiError::Database(error))?;
            return replay_of(&order, existing, amount).map(|row| (StatusCode::OK, Json(RefundJson::from(&row))));
        }
        Err(error) => return Err(error),
    };
    let row = execute(&state, &order, row).await?;
    Ok((StatusCode::CREATED, Json(RefundJson::from(&row))))
}

struct NewRefund<'a> {
    amount: Money,
    reason: &'a str,
    out_request_no: &'a str,
    requested_by: &'a str,
}

enum Reserved {
    New(refund::Model),
    /// The same `out_request_no` again: the refund it made.
    Replay(refund::Model),
}

async fn find_by_out_request_no(
    db: &impl ConnectionTrait,
    out_request_no: &str,
) -> Result<Option<refund::Model>, sea_orm::DbErr> {
    refund::Entity::find().filter(refund::Column::OutRequestNo.eq(out_request_no)).one(db).await
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
        Ok(Reserved::New(insert_refund(&txn, order.id, request).await?))
    })
}

async fn insert_refund(
    db: &impl ConnectionTrait,
    order_id: i32,
    request: &NewRefund<'_>,
) -> Result<refund::Model, sea_orm::DbErr> {
    let now = now_utc();
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
    let outcome = match state.payments.client.trade_refund(&request).await {
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
    let now = now_utc();
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
    let row = match insert_refund(&state.db, order.id, &request).await {
        Ok(row) => row,
        // Recorded by an earlier delivery: the jobs settle it if it is still pending.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
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
    let now = now_utc();
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
    if !claim(&state.db, &row).await? {
        return Ok(false);
    }
    let row = refund::Model { check_attempts: row.check_attempts + 1, ..row };
    let Some(order) = order_info::Entity::find_by_id(row.order_id).one(&state.db).await? else {
        anyhow::bail!("refund {} has no order", row.id);
    };
    let trade = alipay::TradeRef::OutTradeNo(order.order_sn.clone());
    let row = match state.payments.client.refund_query(&trade, &row.out_request_no).await {
        Ok(answer) if answer.refunded() => settle(state, &order, row, Outcome::Succeeded).await?,
        // Alipay has no such refund: the request never arrived. The same number again is safe.
        Ok(_) => execute(state, &order, row).await?,
        Err(error) => settle(state, &order, row, Outcome::Unknown(error.to_string())).await?,
    };
    Ok(row.status != RefundStatus::Pending.as_str())
}

/// Claims a due refund: `next_check_at` moves on (and `check_attempts` up) only if neither changed
/// since it was read, so a run holding an old read cannot claim it again.
async fn claim(db: &DatabaseConnection, row: &refund::Model) -> anyhow::Result<bool> {
    let now = now_utc();
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
