//! Orders: created from the cart in one transaction (server-side total, stock reserved by
//! conditional updates in goods-id order, idempotent per `Idempotency-Key`), listed, shown, and
//! deleted while unpaid with their stock restored.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait,
};

use super::order_sn::OrderSn;
use super::render::{OrderDetailJson, OrderGoodsJson, OrderJson};
use super::status::PayStatus;
use crate::app::AppState;
use crate::catalog::goods::render_goods_by_id;
use crate::clock::now_utc;
use crate::config::Config;
use crate::db::entities::{goods, order_goods, order_info, shopping_cart};
use crate::db::{self};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, Text};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup, RequestUrl};
use crate::money::Money;

/// Fires after stock is reserved and before the order is written (tests prove the rollback).
pub const FAIL_AFTER_RESERVATION: &str = "order.after_reservation";

const EMPTY_CART: &str = "购物车为空";
const MAX_IDEMPOTENCY_KEY: usize = 100;
/// A transaction that lost a lock race is run again this many times before the client hears.
const ATTEMPTS: usize = 4;

/// What the client may set on an order; everything else is the server's.
struct OrderInput {
    post_script: String,
    order_mount: Option<f64>,
    pay_type: String,
    address: String,
    signer_name: String,
    singer_mobile: String,
}

fn read_order(payload: &Payload) -> ApiResult<OrderInput> {
    let mut fields = Fields::new(payload, false);
    let post_script = fields.text("post_script", Text::required(200)).flatten();
    let order_mount = fields.number("order_mount", false);
    let pay_type = fields.choice("pay_type", false, &["alipay", "wechat"]).unwrap_or("alipay");
    let address = fields.text("address", Text::optional(100)).flatten().unwrap_or_default();
    let signer_name = fields.text("signer_name", Text::optional(20)).flatten().unwrap_or_default();
    let singer_mobile = fields.text("singer_mobile", Text::required(11)).flatten();
    let (post_script, singer_mobile) = fields.finish_with(post_script.zip(singer_mobile))?;
    Ok(OrderInput { post_script, order_mount, pay_type: pay_type.to_owned(), address, signer_name, singer_mobile })
}

/// The `Idempotency-Key` header, if any.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
    if key.chars().count() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::Validation(FieldErrors::single(
            "non_field_errors",
            format!("Idempotency-Key 不能超过 {MAX_IDEMPOTENCY_KEY} 个字符。"),
        )));
    }
    Ok((!key.is_empty()).then_some(key))
}

/// `POST /orders/`
pub async fn create_order(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<OrderJson>)> {
    let input = read_order(&payload)?;
    let key = idempotency_key(&headers)?;
    let mut attempt = 1;
    let order = loop {
        let txn = state.db.begin().await?;
        let result = place_order(&state, &txn, user.id(), &input, key.as_deref()).await;
        match db::finish(txn, result).await {
            Err(ApiError::Database(error)) if db::is_transient(&error) && attempt < ATTEMPTS => {
                tracing::warn!(attempt, %error, "order transaction lost a lock race; retrying");
                attempt += 1;
            }
            other => break other?,
        }
    };
    let alipay_url = state.payments.pay_url(&order);
    Ok((StatusCode::CREATED, Json(OrderJson::new(&order, alipay_url))))
}

async fn place_order(
    state: &AppState,
    txn: &DatabaseTransaction,
    user_id: i32,
    input: &OrderInput,
    key: Option<&str>,
) -> ApiResult<order_info::Model> {
    // One order at a time per user: a double click waits for the first order, then finds the
    // cart empty (or, with the same key, the same order).
    db::lock_user(txn, user_id).await?;
    if let Some(key) = key {
        let existing = order_info::Entity::find()
            .filter(order_info::Column::UserId.eq(user_id))
            .filter(order_info::Column::IdempotencyKey.eq(key))
            .one(txn)
            .await?;
        if let Some(order) = existing {
            return Ok(order);
        }
    }
    let lines = shopping_cart::Entity::find()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .order_by_asc(shopping_cart::Column::GoodsId)
        .all(txn)
        .await?;
    if lines.is_empty() {
        return Err(ApiError::Validation(FieldErrors::single("non_field_errors", EMPTY_CART)));
    }
    let units: i64 = lines.iter().map(|line| i64::from(line.nums)).sum();
    check_unpaid_orders(txn, user_id, units, &state.config).await?;
    let goods_by_id: HashMap<i32, goods::Model> = goods::Entity::find()
        .filter(goods::Column::Id.is_in(lines.iter().map(|l| l.goods_id).collect::<Vec<_>>()))
        .all(txn)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();

    let mut total = Money::from_fen(0);
    for line in &lines {
        let goods = goods_by_id.get(&line.goods_id).ok_or(ApiError::NotFound)?;
        total = total
            .checked_add_times(Money::from_fen(goods.shop_price_fen), line.nums)
            .ok_or_else(|| ApiError::Validation(FieldErrors::single("non_field_errors", "订单金额过大")))?;
    }
    if let Some(client_total) = input.order_mount {
        // The client's float total only detects a stale cart; it never sets the amount.
        if (client_total * 100.0 - total.fen() as f64).abs() > 1.0 + 1e-6 {
            return Err(ApiError::Validation(FieldErrors::single(
                "order_mount",
                format!("订单金额 {client_total} 与购物车合计 {total} 不一致，请刷新购物车后重试。"),
            )));
        }
    }

    // Reserve stock in goods-id order (the cart was read in that order), so that concurrent
    // orders over overlapping goods lock rows in the same order and cannot deadlock.
    let mut short = Vec::new();
    for line in &lines {
        let reserved = goods::Entity::update_many()
            .col_expr(goods::Column::GoodsNum, Expr::col(goods::Column::GoodsNum).sub(line.nums))
            .filter(goods::Column::Id.eq(line.goods_id))
            .filter(goods::Column::GoodsNum.gte(line.nums))
            .exec(txn)
            .await?;
        if reserved.rows_affected == 0 {
            short.push(goods_by_id.get(&line.goods_id).map_or_else(|| line.goods_id.to_string(), |g| g.name.clone()));
        }
    }
    if !short.is_empty() {
        let names = short.iter().map(|name| format!("“{name}”")).collect::<Vec<_>>().join("、");
        return Err(ApiError::Validation(FieldErrors::single("non_field_errors", format!("{names} 库存不足"))));
    }
    state.failpoints.check(FAIL_AFTER_RESERVATION)?;

    let now = now_utc();
    let order = insert_order(txn, user_id, input, key, total, now, state.payments.payment_window).await?;
    order_goods::Entity::insert_many(lines.iter().map(|line| order_goods::ActiveModel {
        order_id: Set(order.id),
        goods_id: Set(line.goods_id),
        goods_num: Set(line.nums),
        price_fen: Set(goods_by_id.get(&line.goods_id).map_or(0, |g| g.shop_price_fen)),
        add_time: Set(now),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    let emptied = shopping_cart::Entity::delete_many()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .filter(shopping_cart::Column::Id.is_in(lines.iter().map(|l| l.id).collect::<Vec<_>>()))
        .exec(txn)
        .await?;
    if emptied.rows_affected != lines.len() as u64 {
        return Err(anyhow::anyhow!("the cart changed under the user lock").into());
    }
    tracing::info!(order_id = order.id, order_sn = %order.order_sn, total = %total, "order placed");
    Ok(order)
}

/// Unpaid orders hold stock until they expire: one account may hold only so many orders and so
/// many units at once, so that nobody can reserve the whole shop. Counted under the user lock, so
/// parallel orders cannot pass together.
async fn check_unpaid_orders(
    txn: &DatabaseTransaction,
    user_id: i32,
    new_units: i64,
    config: &Config,
) -> ApiResult<()> {
    let unpaid: Vec<i32> = order_info::Entity::find()
        .select_only()
        .column(order_info::Column::Id)
        .filter(order_info::Column::UserId.eq(user_id))
        .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    let refuse = |message: String| Err(ApiError::Validation(FieldErrors::single("non_field_errors", message)));
    if unpaid.len() as u64 >= config.max_unpaid_orders_per_user {
        return refuse(format!("您有{}个未支付的订单，已达上限。请先支付或取消其中的订单。", unpaid.len()));
    }
    let held: Vec<i32> = order_goods::Entity::find()
        .select_only()
        .column(order_goods::Column::GoodsNum)
        .filter(order_goods::Column::OrderId.is_in(unpaid))
        .into_tuple()
        .all(txn)
        .await?;
    let held: i64 = held.into_iter().map(i64::from).sum();
    if held + new_units > i64::try_from(config.max_unpaid_units_per_user).unwrap_or(i64::MAX) {
        return refuse(format!(
            "未支付的订单最多保留{}件商品（已有{held}件，本单{new_units}件）。请先支付或取消其中的订单。",
            config.max_unpaid_units_per_user
        ));
    }
    Ok(())
}

/// Inserts the order under a fresh `order_sn`, trying again (inside a savepoint, so the
/// transaction survives) in the unlikely event that the number is taken.
async fn insert_order(
    txn: &DatabaseTransaction,
    user_id: i32,
    input: &OrderInput,
    key: Option<&str>,
    total: Money,
    now: chrono::NaiveDateTime,
    payment_window: chrono::TimeDelta,
) -> ApiResult<order_info::Model> {
    const TRIES: usize = 5;
    for _ in 0..TRIES {
        let order_sn = OrderSn::generate(Utc::now());
        let savepoint = txn.begin().await?;
        let inserted = order_info::Entity::insert(order_info::ActiveModel {
            user_id: Set(user_id),
            order_sn: Set(order_sn.to_string()),
            trade_no: Set(None),
            pay_status: Set(PayStatus::Paying.as_str().to_owned()),
            pay_type: Set(input.pay_type.clone()),
            post_script: Set(input.post_script.clone()),
            order_mount_fen: Set(total.fen()),
            pay_time: Set(None),
            address: Set(input.address.clone()),
            signer_name: Set(input.signer_name.clone()),
            singer_mobile: Set(input.singer_mobile.clone()),
            idempotency_key: Set(key.map(str::to_owned)),
            expire_at: Set(now + payment_window),
            checked_at: Set(None),
            add_time: Set(now),
            ..Default::default()
        })
        .exec_with_returning(&savepoint)
        .await;
        match inserted {
            Ok(order) => {
                savepoint.commit().await?;
                return Ok(order);
            }
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                tracing::warn!(%order_sn, "order number taken; drawing another");
                savepoint.rollback().await?;
            }
            Err(error) => {
                savepoint.rollback().await?;
                return Err(error.into());
            }
        }
    }
    Err(anyhow::anyhow!("no free order number after {TRIES} tries").into())
}

async fn owned_order(state: &AppState, user: &CurrentUser, id: i32) -> ApiResult<order_info::Model> {
    order_info::Entity::find_by_id(id)
        .filter(order_info::Column::UserId.eq(user.id()))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /orders/`
pub async fn list_orders(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Vec<OrderJson>>> {
    let orders = order_info::Entity::find()
        .filter(order_info::Column::UserId.eq(user.id()))
        .order_by_asc(order_info::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(orders.iter().map(|order| OrderJson::new(order, state.payments.pay_url(order))).collect()))
}

/// `GET /orders/{id}/`: the order with its lines and their goods.
pub async fn get_order(
    State(state): State<AppState>,
    url: RequestUrl,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<Json<OrderDetailJson>> {
    let order = owned_order(&state, &user, id).await?;
    let lines = order_goods::Entity::find()
        .filter(order_goods::Column::OrderId.eq(order.id))
        .order_by_asc(order_goods::Column::Id)
        .all(&state.db)
        .await?;
    let by_id = render_goods_by_id(&state.db, &url, lines.iter().map(|l| l.goods_id)).await?;
    let goods =
        lines.iter().filter_map(|line| Some(OrderGoodsJson::new(line, by_id.get(&line.goods_id)?.clone()))).collect();
    Ok(Json(OrderDetailJson::new(&order, goods, state.payments.pay_url(&order))))
}

/// `DELETE /orders/{id}/`: only while unpaid; the reserved stock goes back in the same
/// transaction.
pub async fn delete_order(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(id): Lookup,
) -> ApiResult<StatusCode> {
    let txn = state.db.begin().await?;
    let result = async {
        db::lock_user(&txn, user.id()).await?;
        let order = order_info::Entity::find_by_id(id)
            .filter(order_info::Column::UserId.eq(user.id()))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound)?;
        if PayStatus::parse(&order.pay_status) != Some(PayStatus::Paying) {
            return Err(ApiError::Validation(FieldErrors::single(
                "non_field_errors",
                format!("只能删除待支付的订单（此订单状态为 {}）。", order.pay_status),
            )));
        }
        let lines = order_goods::Entity::find()
            .filter(order_goods::Column::OrderId.eq(order.id))
            .order_by_asc(order_goods::Column::GoodsId)
            .all(&txn)
            .await?;
        for line in &lines {
            goods::Entity::update_many()
                .col_expr(goods::Column::GoodsNum, Expr::col(goods::Column::GoodsNum).add(line.goods_num))
                .filter(goods::Column::Id.eq(line.goods_id))
                .exec(&txn)
                .await?;
        }
        order_goods::Entity::delete_many().filter(order_goods::Column::OrderId.eq(order.id)).exec(&txn).await?;
        order_info::Entity::delete_by_id(order.id).exec(&txn).await?;
        tracing::info!(order_id = order.id, "unpaid order deleted; stock restored");
        Ok(())
    }
    .await;
    db::finish(txn, result).await?;
    Ok(StatusCode::NO_CONTENT)
}
