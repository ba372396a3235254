//! The shopping cart (`/shopcarts/`, keyed by goods id). Cart changes never move stock, but a line
//! may not ask for more than is in stock.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};

use crate::catalog::goods::{GoodsTexts, render_goods};
use crate::catalog::render::GoodsJson;
use crate::clock::now_utc;
use crate::db::json_rows::{datetime, flexible_bool, read_json_rows};
use crate::db::{self, entities::goods, entities::shopping_cart};
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::fields::{Fields, messages};
use crate::http::{ApiError, ApiResult, FieldErrors, Lookup, RequestUrl};
use crate::state::AppState;

const NUMS_REQUIRED: &str = "请选择购买数量";
const NUMS_AT_LEAST_ONE: &str = "商品数量不能小于一";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CartLineJson {
    pub goods: GoodsJson,
    pub nums: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CartLineWrite {
    pub nums: i32,
    pub goods: i32,
}

/// `nums` with the cart's messages: required, an integer, at least one.
fn read_nums(fields: &mut Fields<'_>) -> Option<i32> {
    if !fields.contains("nums") {
        fields.error("nums", NUMS_REQUIRED);
        return None;
    }
    let nums = fields.integer("nums", true)?;
    if nums < 1 {
        fields.error("nums", NUMS_AT_LEAST_ONE);
        return None;
    }
    match i32::try_from(nums) {
        Ok(nums) => Some(nums),
        Err(_) => {
            fields.error("nums", messages::NOT_AN_INTEGER);
            None
        }
    }
}

/// Refuses a line asking for more than the goods' stock.
fn check_stock(goods: &goods::Model, nums: i32) -> ApiResult<()> {
    if nums > goods.goods_num {
        return Err(ApiError::Validation(FieldErrors::single(
            "nums",
            format!("“{}” 库存不足：最多可购买 {} 件。", goods.name, goods.goods_num.max(0)),
        )));
    }
    Ok(())
}

async fn line(txn: &DatabaseTransaction, user_id: i32, goods_id: i32) -> ApiResult<Option<shopping_cart::Model>> {
    Ok(shopping_cart::Entity::find()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .one(txn)
        .await?)
}

/// `GET /shopcarts/`
#[utoipa::path(
    summary = "The cart",
    get, path = "/shopcarts/", tag = "trade", security(("jwt" = [])),
    responses((status = 200, description = "The cart's lines", body = Vec<CartLineJson>), crate::openapi::answers::NotAuthenticated)
)]
pub async fn list_cart(State(state): State<AppState>, url: RequestUrl, user: CurrentUser) -> ApiResult<Response> {
    let (nums, goods) = lines_with_goods(&state.db, user.id()).await?;
    // The catalogue's JSON for goods it holds exactly as read now, and galleries from it, only if
    // it is held already: a cart never waits for a read.
    let texts = GoodsTexts::current(&state.db, &state.categories, &url, &goods, state.catalogue.held_now()).await?;
    let lines: Vec<(i32, i32)> = goods.iter().map(|goods| goods.id).zip(nums).collect();
    let body = texts.write_wrapped(&lines, "nums")?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The cart's lines, rendered (for the storefront's cart page).
pub async fn cart_lines(state: &AppState, url: &RequestUrl, user: &CurrentUser) -> ApiResult<Vec<CartLineJson>> {
    let (nums, goods) = lines_with_goods(&state.db, user.id()).await?;
    let rendered = render_goods(&state.db, url, &goods, &state.categories).await?;
    Ok(nums.into_iter().zip(rendered).map(|(nums, goods)| CartLineJson { goods, nums }).collect())
}

/// A cart line with its goods' columns, as `read_json_rows` reads it.
#[derive(Deserialize)]
struct CartRow {
    line_id: i32,
    nums: i32,
    id: i32,
    category_id: i32,
    goods_sn: String,
    name: String,
    click_num: i32,
    sold_num: i32,
    fav_num: i32,
    goods_num: i32,
    market_price_fen: i64,
    shop_price_fen: i64,
    goods_brief: String,
    goods_desc: String,
    #[serde(deserialize_with = "flexible_bool")]
    ship_free: bool,
    goods_front_image: Option<String>,
    #[serde(deserialize_with = "flexible_bool")]
    is_new: bool,
    #[serde(deserialize_with = "flexible_bool")]
    is_hot: bool,
    #[serde(deserialize_with = "datetime")]
    add_time: chrono::NaiveDateTime,
}

/// The columns of `CartRow`, in its order.
const CART_COLUMNS: &str = "shopping_cart.id, shopping_cart.nums, goods.id, goods.category_id, goods.goods_sn, \
    goods.name, goods.click_num, goods.sold_num, goods.fav_num, goods.goods_num, goods.market_price_fen, \
    goods.shop_price_fen, goods.goods_brief, goods.goods_desc, goods.ship_free, goods.goods_front_image, \
    goods.is_new, goods.is_hot, goods.add_time";

/// The user's cart lines (their quantities, and their goods as the database has them now: the
/// cart's total is sent back with the order), by line, in one statement and one row.
async fn lines_with_goods(db: &DatabaseConnection, user_id: i32) -> Result<(Vec<i32>, Vec<goods::Model>), DbErr> {
    let from = "shopping_cart JOIN goods ON goods.id = shopping_cart.goods_id WHERE shopping_cart.user_id = ?";
    let mut rows: Vec<CartRow> = read_json_rows(db, CART_COLUMNS, from, user_id.into()).await?;
    rows.sort_unstable_by_key(|row| row.line_id);
    Ok(rows
        .into_iter()
        .map(|row| {
            let goods = goods::Model {
                id: row.id,
                category_id: row.category_id,
                goods_sn: row.goods_sn,
                name: row.name,
                click_num: row.click_num,
                sold_num: row.sold_num,
                fav_num: row.fav_num,
                goods_num: row.goods_num,
                market_price_fen: row.market_price_fen,
                shop_price_fen: row.shop_price_fen,
                goods_brief: row.goods_brief,
                goods_desc: row.goods_desc,
                ship_free: row.ship_free,
                goods_front_image: row.goods_front_image,
                is_new: row.is_new,
                is_hot: row.is_hot,
                add_time: row.add_time,
            };
            (row.nums, goods)
        })
        .unzip())
}

/// `POST /shopcarts/` `{"goods", "nums"}`: adds `nums` to the line (creating it).
#[utoipa::path(
    summary = "Add goods to the cart",
    post, path = "/shopcarts/", tag = "trade", security(("jwt" = [])), request_body(content((crate::openapi::bodies::CartAdd = "application/json"), (crate::openapi::bodies::CartAdd = "application/x-www-form-urlencoded"), (crate::openapi::bodies::CartAdd = "multipart/form-data"))),
    responses((status = 201, description = "The line after adding", body = CartLineWrite), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn add_to_cart(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<CartLineWrite>)> {
    let mut fields = Fields::new(&payload, false);
    let nums = read_nums(&mut fields);
    let goods_id = fields.primary_key("goods", true);
    let (nums, goods_id) = fields.finish_with(nums.zip(goods_id))?;
    let Some(goods) = goods::Entity::find_by_id(goods_id).one(&state.db).await? else {
        return Err(ApiError::Validation(FieldErrors::single("goods", messages::does_not_exist(goods_id))));
    };
    let total = db::transaction!(&state.db, ApiError, |txn| {
        db::lock_user(&txn, user.id()).await?;
        match line(&txn, user.id(), goods_id).await? {
            Some(existing) => {
                let total = existing.nums.saturating_add(nums);
                check_stock(&goods, total)?;
                shopping_cart::Entity::update(shopping_cart::ActiveModel {
                    id: Set(existing.id),
                    nums: Set(total),
                    ..Default::default()
                })
                .exec(&txn)
                .await?;
                Ok(total)
            }
            None => {
                check_stock(&goods, nums)?;
                shopping_cart::Entity::insert(shopping_cart::ActiveModel {
                    user_id: Set(user.id()),
                    goods_id: Set(goods_id),
                    nums: Set(nums),
                    add_time: Set(now_utc()),
                    ..Default::default()
                })
                .exec(&txn)
                .await?;
                Ok(nums)
            }
        }
    })?;
    Ok((StatusCode::CREATED, Json(CartLineWrite { nums: total, goods: goods_id })))
}

/// `GET /shopcarts/{goods_id}/`
#[utoipa::path(
    summary = "One cart line",
    get, path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 200, description = "The line", body = CartLineWrite), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn get_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<Json<CartLineWrite>> {
    let line = shopping_cart::Entity::find()
        .filter(shopping_cart::Column::UserId.eq(user.id()))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(CartLineWrite { nums: line.nums, goods: line.goods_id }))
}

/// `PATCH`/`PUT /shopcarts/{goods_id}/` `{"nums"}`: sets the line's quantity.
#[utoipa::path(
    summary = "Set a cart line's quantity",
    method(put, patch), path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")), request_body(content((crate::openapi::bodies::CartSet = "application/json"), (crate::openapi::bodies::CartSet = "application/x-www-form-urlencoded"), (crate::openapi::bodies::CartSet = "multipart/form-data"))),
    responses((status = 200, description = "The line with its new quantity", body = CartLineWrite), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn set_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
    payload: Payload,
) -> ApiResult<Json<CartLineWrite>> {
    let mut fields = Fields::new(&payload, false);
    let nums = read_nums(&mut fields);
    let nums = fields.finish_with(nums)?;
    db::transaction!(&state.db, ApiError, |txn| {
        db::lock_user(&txn, user.id()).await?;
        let existing = line(&txn, user.id(), goods_id).await?.ok_or(ApiError::NotFound)?;
        let goods = goods::Entity::find_by_id(goods_id).one(&txn).await?.ok_or(ApiError::NotFound)?;
        check_stock(&goods, nums)?;
        shopping_cart::Entity::update(shopping_cart::ActiveModel {
            id: Set(existing.id),
            nums: Set(nums),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        Ok(())
    })?;
    Ok(Json(CartLineWrite { nums, goods: goods_id }))
}

/// `DELETE /shopcarts/{goods_id}/`
#[utoipa::path(
    summary = "Remove a cart line",
    delete, path = "/shopcarts/{id}/", tag = "trade", security(("jwt" = [])), params(("id" = i32, Path, description = "goods id")),
    responses((status = 204, description = "Removed"), crate::openapi::answers::NotAuthenticated, crate::openapi::answers::NotFound)
)]
pub async fn delete_cart_line(
    State(state): State<AppState>,
    user: CurrentUser,
    Lookup(goods_id): Lookup,
) -> ApiResult<StatusCode> {
    let deleted = shopping_cart::Entity::delete_many()
        .filter(shopping_cart::Column::UserId.eq(user.id()))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .exec(&state.db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}
