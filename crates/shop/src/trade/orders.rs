//! Orders after they are placed: listed, shown, and cancelled while unpaid: a transition to
//! closed that releases the stock once and asks Alipay to close the trade, keeping the row so a
//! payment that still arrives is matched and refunded. Placing one is `checkout`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::lifecycle::{self, Changes};
use super::order_list::read_orders;
use super::render::{OrderDetailJson, OrderGoodsJson, OrderJson, write_order};
use super::status::PayEvent;
use crate::catalog::goods::read_goods_by_id;
use crate::db::entities::{order_goods, order_info};
use crate::db::{self};
use crate::http::auth::CurrentUser;
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup, RequestUrl};
use crate::state::AppState;

/// The user's order, unless they cancelled it (a cancelled order is gone for the buyer).
pub(crate) async fn owned_order(state: &AppState, user: &CurrentUser, id: i32) -> ApiResult<order_info::Model> {
    order_info::Entity::find_by_id(id)
        .filter(order_info::Column::UserId.eq(user.id()))
        .filter(order_info::Column::CancelledAt.is_null())
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /orders/`
#[utoipa::path(
    summary = "The caller's orders",
    get, path = "/orders/", tag = "trade", security(("jwt" = [])),
    responses((status = 200, description = "The caller's orders, with a pay URL while unpaid", body = Vec<crate::trade::render::OrderJson>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_orders(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    let orders = read_orders(&state.db, user.id()).await?;
    let mut body = Vec::with_capacity(2 + orders.len() * 1500);
    body.push(b'[');
    for (n, order) in orders.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        let alipay_url = state.payments.pay_url_json(order);
        write_order(order, alipay_url.as_deref(), &mut body).map_err(anyhow::Error::from)?;
    }
    body.push(b']');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The user's orders, rendered (for the storefront's page).
pub async fn orders(state: &AppState, user: &CurrentUser) -> ApiResult<Vec<OrderJson>> {
    let orders = read_orders(&state.db, user.id()).await?;
    Ok(orders
        .into_iter()
        .map(|order| {
            let alipay_url = state.payments.pay_url(&order);
            OrderJson::new(order, alipay_url)
        })
        .collect())
}

/// `GET /orders/{id}/`: the order with its lines and their goods.
#[utoipa::path(
    summary = "One order with its lines",
    get, path = "/orders/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "order id")),
    responses((status = 200, description = "The order with its lines", body = crate::trade::render::OrderDetailJson), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn get_order(
    State(state): State<AppState>,
    url: RequestUrl,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<Json<OrderDetailJson>> {
    Ok(Json(order_detail(&state, &url, &user, id).await?))
}

/// The user's order `id` with its lines and their goods, and its pay URL while unpaid.
pub async fn order_detail(
    state: &AppState,
    url: &RequestUrl,
    user: &CurrentUser,
    id: i32,
) -> ApiResult<OrderDetailJson> {
    let order = owned_order(state, user, id).await?;
    let lines = order_goods::Entity::find()
        .filter(order_goods::Column::OrderId.eq(order.id))
        .order_by_asc(order_goods::Column::Id)
        .all(&state.db)
        .await?;
    let by_id = read_goods_by_id(&state.db, &state.categories, url, lines.iter().map(|l| l.goods_id)).await?;
    let goods =
        lines.iter().filter_map(|line| Some(OrderGoodsJson::new(line, by_id.get(&line.goods_id)?.clone()))).collect();
    Ok(OrderDetailJson::new(&order, goods, state.payments.pay_url(&order)))
}

/// `DELETE /orders/{id}/`: the buyer cancels an unpaid order. The first statement is the
/// transition `paying → TRADE_CLOSED` for this user's order; only the request that made it
/// releases the stock. The row stays (hidden from the buyer), so a payment that still arrives is
/// matched to it and refunded; Alipay is asked to close the trade after the commit, and the jobs
/// keep asking until no payment can arrive.
#[utoipa::path(
    summary = "Cancel an unpaid order (or hide one)",
    delete, path = "/orders/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "order id")),
    responses((status = 204, description = "An unpaid order is cancelled (its stock released, its Alipay trade closed); a paid or closed one is hidden from the list"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_order(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<StatusCode> {
    cancel(&state, user.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The buyer cancels their unpaid order `id` (see `delete_order`).
pub async fn cancel(state: &AppState, user_id: i32, id: i32) -> ApiResult<()> {
    let changes = Changes {
        owner: Some(user_id),
        cancelled_at: Some(state.clock.now()),
        watch_gateway: Some(true),
        ..Changes::default()
    };
    let moved =
        db::transaction!(&state.db, ApiError, |txn| Ok(
            lifecycle::apply(&txn, id, PayEvent::Cancelled, &changes).await?
        ))?;
    let order = order_info::Entity::find_by_id(id)
        .filter(order_info::Column::UserId.eq(user_id))
        .one(&state.db)
        .await?
        .filter(|order| moved.is_some() || order.cancelled_at.is_none())
        .ok_or(ApiError::NotFound)?;
    if moved.is_none() {
        return Err(ApiError::Validation(FieldErrors::single(
            "non_field_errors",
            format!("只能删除待支付的订单（此订单状态为 {}）。", order.pay_status),
        )));
    }
    tracing::info!(order_id = order.id, "unpaid order cancelled; stock released");
    crate::telemetry::order_event("cancelled");
    crate::payments::jobs::close_at_gateway(state, &order).await;
    Ok(())
}
