//! Placing an order from the cart in one transaction: the total computed by the server, stock
//! reserved by conditional updates in goods-id order, idempotent per `Idempotency-Key` and the
//! request it came with.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder, QuerySelect,
};

use super::order_form::OrderForm;
use super::order_list::OrderRow;
use super::order_sn::OrderSn;
use super::render::OrderJson;
use super::status::PayStatus;
use super::stock;
use crate::config::Config;
use crate::db;
use crate::db::entities::{goods, order_goods, order_info, shopping_cart};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::{ApiError, ApiResult, FieldErrors};
use crate::money::Money;
use crate::state::AppState;

/// Fires after stock is reserved and before the order is written (tests prove the rollback).
pub const FAIL_AFTER_RESERVATION: &str = "order.after_reservation";
/// Makes the next order number drawn one already taken, the user's last order's (tests prove
/// the order is placed again under another).
pub const FAIL_ORDER_SN_TAKEN: &str = "order.sn_taken";
/// How many times an order is placed when its number keeps being taken.
const ORDER_SN_TRIES: usize = 3;

const EMPTY_CART: &str = "购物车为空";
const MAX_IDEMPOTENCY_KEY: usize = 100;
/// The most Alipay takes for one trade (100 000 000.00 yuan).
const ALIPAY_MAX_FEN: i64 = 10_000_000_000;

/// The order `user_id` placed with `key` (an `Idempotency-Key`), if any.
pub async fn order_for_key(db: &DatabaseConnection, user_id: i32, key: &str) -> Result<Option<i32>, DbErr> {
    let order = order_info::Entity::find()
        .filter(order_info::Column::UserId.eq(user_id))
        .filter(order_info::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?;
    Ok(order.map(|order| order.id))
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
#[utoipa::path(
    summary = "Order the whole cart",
    post, path = "/orders/", tag = "trade", security(("jwt" = [])), request_body(content((crate::openapi::bodies::NewOrder = "application/json"), (crate::openapi::bodies::NewOrder = "application/x-www-form-urlencoded"), (crate::openapi::bodies::NewOrder = "multipart/form-data"))),
    params(("Idempotency-Key" = Option<String>, Header, description = "at most 64 characters; the same key with the same request answers the order created first instead of a second one (a 422 with another request)")),
    responses((status = 201, description = "The order, with its Alipay page-pay URL (`alipay_url`); the cart is emptied and the stock reserved", body = crate::trade::render::OrderJson), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::Conflict)
)]
pub async fn create_order(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<OrderJson>)> {
    let form = OrderForm::read(&payload)?;
    let key = idempotency_key(&headers)?;
    let order = place(&state, user.id(), &form, key.as_deref()).await?;
    let alipay_url = state.payments.pay_url(&order);
    Ok((StatusCode::CREATED, Json(OrderJson::new(OrderRow::from(&order), alipay_url))))
}

/// Orders the user's whole cart (with `key`, the order placed with it before, for the same
/// request), in one transaction.
///
/// The order number is drawn at random, 53 bits within its second. Should it be taken anyway,
/// the unique index refuses the order and the whole transaction runs again under another number:
/// nothing on the path every order takes pays for that (a savepoint around the insert cost two
/// exchanges with the database per order). The only other unique index it writes, the user's
/// `Idempotency-Key`, is kept by the user lock; a request with the same key that got past it
/// anyway finds the first one's order when it runs again, and replays it.
pub async fn place(
    state: &AppState,
    user_id: i32,
    form: &OrderForm,
    key: Option<&str>,
) -> ApiResult<order_info::Model> {
    let mut tries = 1;
    let (order, placed) = loop {
        match db::transaction!(&state.db, ApiError, |txn| place_order(state, &txn, user_id, form, key).await) {
            Err(ApiError::Database(error)) if db::is_unique_violation(&error) && tries < ORDER_SN_TRIES => {
                tracing::warn!(%error, "a unique index refused the order (its number taken?); placing it again");
                tries += 1;
            }
            result => break result?,
        }
    };
    if placed {
        crate::telemetry::order_event("created");
    }
    Ok(order)
}

#[tracing::instrument(name = "place_order", skip_all, fields(user_id = user_id))]
async fn place_order(
    state: &AppState,
    txn: &DatabaseTransaction,
    user_id: i32,
    input: &OrderForm,
    key: Option<&str>,
) -> ApiResult<(order_info::Model, bool)> {
    // One order at a time per user: a double click waits for the first order, then finds the
    // cart empty (or, with the same key, the same order).
    db::lock_user(txn, user_id).await?;
    let lines = cart_lines(txn, user_id).await?;
    if let Some(key) = key {
        let existing = order_info::Entity::find()
            .filter(order_info::Column::UserId.eq(user_id))
            .filter(order_info::Column::IdempotencyKey.eq(key))
            .one(txn)
            .await?;
        if let Some(order) = existing {
            return Ok((replay(txn, order, input).await?, false));
        }
    }
    if lines.is_empty() {
        return Err(ApiError::Validation(FieldErrors::single("non_field_errors", EMPTY_CART)));
    }
    let units: i64 = lines.iter().map(|line| i64::from(line.nums)).sum();
    check_unpaid_orders(txn, user_id, units, &state.config).await?;

    let mut total = Money::from_fen(0);
    for line in &lines {
        let price_fen = line.shop_price_fen.ok_or(ApiError::NotFound)?;
        total = total
            .checked_add_times(Money::from_fen(price_fen), line.nums)
            .ok_or_else(|| ApiError::Validation(FieldErrors::single("non_field_errors", "订单金额过大")))?;
    }
    if let Some(shown) = input.shown_total
        && !shown.matches(total)
    {
        return Err(ApiError::Validation(FieldErrors::single(
            "order_mount",
            format!("订单金额 {} 与购物车合计 {total} 不一致，请刷新购物车后重试。", shown.0),
        )));
    }

    // Alipay takes 0.01 to 100 000 000.00: an order outside that could never be paid, and would
    // only hold stock until it expired.
    if total.fen() < 1 || total.fen() > ALIPAY_MAX_FEN {
        return Err(ApiError::Validation(FieldErrors::single(
            "non_field_errors",
            format!("订单金额 {total} 无法支付：支付宝单笔金额须在 0.01 到 100000000.00 元之间。"),
        )));
    }

    let wanted: Vec<stock::Line> =
        lines.iter().map(|line| stock::Line { goods_id: line.goods_id, nums: line.nums }).collect();
    let short: Vec<String> = stock::reserve(txn, &wanted)
        .await?
        .into_iter()
        .map(|id| {
            let name = lines.iter().find(|line| line.goods_id == id).and_then(|line| line.name.clone());
            name.unwrap_or_else(|| id.to_string())
        })
        .collect();
    if !short.is_empty() {
        let names = short.iter().map(|name| format!("“{name}”")).collect::<Vec<_>>().join("、");
        return Err(ApiError::Validation(FieldErrors::single("non_field_errors", format!("{names} 库存不足"))));
    }
    state.failpoints.check(FAIL_AFTER_RESERVATION)?;

    let now = state.clock.now();
    let cart: Vec<(i32, i32)> = lines.iter().map(|l| (l.goods_id, l.nums)).collect();
    let placed = Placed { key, fingerprint: fingerprint(&cart, input), total, now };
    let order_sn = match state.failpoints.check(FAIL_ORDER_SN_TAKEN) {
        Ok(()) => OrderSn::generate(Utc::now()).to_string(),
        Err(_) => last_order_sn(txn, user_id).await?,
    };
    let order = insert_order(txn, user_id, order_sn, input, &placed, state.payments.payment_window).await?;
    order_goods::Entity::insert_many(lines.iter().map(|line| order_goods::ActiveModel {
        order_id: Set(order.id),
        goods_id: Set(line.goods_id),
        goods_num: Set(line.nums),
        price_fen: Set(line.shop_price_fen.unwrap_or(0)),
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
    Ok((order, true))
}

/// A cart line with what the order takes from its goods (both `None` if the goods is gone).
#[derive(FromQueryResult)]
struct CartLine {
    id: i32,
    goods_id: i32,
    nums: i32,
    shop_price_fen: Option<i64>,
    name: Option<String>,
}

/// The user's cart in goods-id order, each line with its goods' price and name: one statement,
/// since every statement in the transaction is a round trip made while holding the user's lock
/// (on SQLite, the database's only writer).
async fn cart_lines(txn: &DatabaseTransaction, user_id: i32) -> Result<Vec<CartLine>, DbErr> {
    let goods_of_line =
        shopping_cart::Entity::belongs_to(goods::Entity).from(shopping_cart::Column::GoodsId).to(goods::Column::Id);
    shopping_cart::Entity::find()
        .select_only()
        .columns([shopping_cart::Column::Id, shopping_cart::Column::GoodsId, shopping_cart::Column::Nums])
        .columns([goods::Column::ShopPriceFen, goods::Column::Name])
        .join(JoinType::LeftJoin, goods_of_line.into())
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .order_by_asc(shopping_cart::Column::GoodsId)
        .into_model::<CartLine>()
        .all(txn)
        .await
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
    // Each unpaid order with its lines, in one statement (an order without lines counts too).
    let lines_of_order = order_goods::Entity::belongs_to(order_info::Entity)
        .from(order_goods::Column::OrderId)
        .to(order_info::Column::Id);
    let unpaid_lines: Vec<(i32, Option<i32>)> = order_info::Entity::find()
        .select_only()
        .column(order_info::Column::Id)
        .column(order_goods::Column::GoodsNum)
        .join_rev(JoinType::LeftJoin, lines_of_order.into())
        .filter(order_info::Column::UserId.eq(user_id))
        .filter(order_info::Column::PayStatus.eq(PayStatus::Paying.as_str()))
        .into_tuple()
        .all(txn)
        .await?;
    let unpaid = unpaid_lines.iter().map(|(order_id, _)| order_id).collect::<HashSet<_>>().len();
    let refuse = |message: String| Err(ApiError::Validation(FieldErrors::single("non_field_errors", message)));
    if unpaid as u64 >= config.max_unpaid_orders_per_user {
        return refuse(format!("您有{unpaid}个未支付的订单，已达上限。请先支付或取消其中的订单。"));
    }
    let held: i64 = unpaid_lines.iter().filter_map(|(_, nums)| *nums).map(i64::from).sum();
    if held + new_units > i64::try_from(config.max_unpaid_units_per_user).unwrap_or(i64::MAX) {
        return refuse(format!(
            "未支付的订单最多保留{}件商品（已有{held}件，本单{new_units}件）。请先支付或取消其中的订单。",
            config.max_unpaid_units_per_user
        ));
    }
    Ok(())
}

/// What a new order is made of besides the client's input.
struct Placed<'a> {
    key: Option<&'a str>,
    fingerprint: String,
    total: Money,
    now: chrono::NaiveDateTime,
}

/// SHA-256 of what an order is created from (cart lines, address, message, amount): the same
/// `Idempotency-Key` with another request is a client bug, not a replay.
fn fingerprint(lines: &[(i32, i32)], input: &OrderForm) -> String {
    let canonical = serde_json::json!({
        "lines": lines,
        "address": input.address, "signer_name": input.signer_name, "singer_mobile": input.singer_mobile,
        "post_script": input.post_script, "pay_type": input.pay_type,
        "order_mount": input.shown_total.map(|shown| format!("{:.2}", shown.0)),
    });
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.to_string().as_bytes()))
}

/// The order first created with this key, if the request is the same one (its cart is gone by
/// now, so the lines are compared with the order's).
async fn replay(
    txn: &DatabaseTransaction,
    order: order_info::Model,
    input: &OrderForm,
) -> ApiResult<order_info::Model> {
    let lines: Vec<(i32, i32)> = order_goods::Entity::find()
        .filter(order_goods::Column::OrderId.eq(order.id))
        .order_by_asc(order_goods::Column::GoodsId)
        .all(txn)
        .await?
        .into_iter()
        .map(|line| (line.goods_id, line.goods_num))
        .collect();
    // Orders from before fingerprints were stored replay as before.
    if order.request_fingerprint.as_ref().is_some_and(|stored| *stored != fingerprint(&lines, input)) {
        return Err(ApiError::Unprocessable(
            "此 Idempotency-Key 已用于另一个不同的下单请求；请为新订单使用新的 Idempotency-Key。".into(),
        ));
    }
    Ok(order)
}

/// Inserts the order under `order_sn`.
async fn insert_order(
    txn: &DatabaseTransaction,
    user_id: i32,
    order_sn: String,
    input: &OrderForm,
    placed: &Placed<'_>,
    payment_window: chrono::TimeDelta,
) -> ApiResult<order_info::Model> {
    let Placed { key, fingerprint, total, now } = placed;
    let now = *now;
    let order = order_info::Entity::insert(order_info::ActiveModel {
        user_id: Set(user_id),
        order_sn: Set(order_sn),
        trade_no: Set(None),
        pay_status: Set(PayStatus::Paying.as_str().to_owned()),
        pay_type: Set(input.pay_type.to_owned()),
        post_script: Set(input.post_script.clone()),
        order_mount_fen: Set(total.fen()),
        pay_time: Set(None),
        address: Set(input.address.clone()),
        signer_name: Set(input.signer_name.clone()),
        singer_mobile: Set(input.singer_mobile.clone()),
        idempotency_key: Set(key.map(str::to_owned)),
        request_fingerprint: Set(key.map(|_| fingerprint.clone())),
        expire_at: Set(now + payment_window),
        checked_at: Set(None),
        add_time: Set(now),
        cancelled_at: Set(None),
        watch_gateway: Set(false),
        next_check_at: Set(None),
        check_attempts: Set(0),
        ..Default::default()
    })
    .exec_with_returning(txn)
    .await?;
    Ok(order)
}

/// The number of the user's last order, for `FAIL_ORDER_SN_TAKEN` (a test arms it only once the
/// user has an order).
async fn last_order_sn(txn: &DatabaseTransaction, user_id: i32) -> Result<String, DbErr> {
    order_info::Entity::find()
        .filter(order_info::Column::UserId.eq(user_id))
        .order_by_desc(order_info::Column::Id)
        .one(txn)
        .await?
        .map(|order| order.order_sn)
        .ok_or_else(|| DbErr::RecordNotFound(format!("{FAIL_ORDER_SN_TAKEN}: user {user_id} has no order")))
}
