//! The shopping cart's rules: a line holds at least one of its goods and never more than the
//! goods' stock; one user's cart changes run one at a time (the user's row is locked). Cart
//! changes never move stock. The handlers are in `cart_handlers`.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use serde::Deserialize;

use crate::catalog::GoodsId;
use crate::catalog::goods::render_goods;
use crate::catalog::render::GoodsJson;
use crate::clock::now_utc;
use crate::db::json_rows::{datetime, flexible_bool, read_json_rows};
use crate::db::{self, MaybeTransient, entities::goods, entities::shopping_cart};
use crate::http::body::Payload;
use crate::http::fields::{Fields, messages};
use crate::http::{ApiError, FieldErrors, RequestUrl};
use crate::state::AppState;

const NUMS_REQUIRED: &str = "请选择购买数量";
const NUMS_AT_LEAST_ONE: &str = "商品数量不能小于一";

/// How many of a goods a cart line holds: at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i32);

impl Quantity {
    pub fn parse(nums: i64) -> Result<Self, &'static str> {
        if nums < 1 {
            return Err(NUMS_AT_LEAST_ONE);
        }
        i32::try_from(nums).map(Self).map_err(|_| messages::NOT_AN_INTEGER)
    }

    pub fn get(self) -> i32 {
        self.0
    }

    /// `nums` with the cart's messages: required, an integer, at least one.
    fn read(fields: &mut Fields<'_>) -> Option<Self> {
        if !fields.contains("nums") {
            fields.error("nums", NUMS_REQUIRED);
            return None;
        }
        let nums = fields.integer("nums", true)?;
        fields.parsed("nums", Self::parse(nums))
    }
}

/// `POST /shopcarts/`: how many of which goods to add.
pub struct AddToCartForm {
    pub nums: Quantity,
    pub goods: GoodsId,
}

impl AddToCartForm {
    pub fn read(payload: &Payload) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        let nums = Quantity::read(&mut fields);
        let goods = fields.primary_key("goods", true).map(GoodsId::new);
        match (nums, goods) {
            (Some(nums), Some(goods)) if fields.errors.is_empty() => Ok(Self { nums, goods }),
            _ => Err(fields.errors),
        }
    }
}

/// `PUT`/`PATCH /shopcarts/{goods}/`: the line's new quantity.
pub struct QuantityForm {
    pub nums: Quantity,
}

impl QuantityForm {
    pub fn read(payload: &Payload) -> Result<Self, FieldErrors> {
        let mut fields = Fields::new(payload, false);
        match Quantity::read(&mut fields) {
            Some(nums) if fields.errors.is_empty() => Ok(Self { nums }),
            _ => Err(fields.errors),
        }
    }
}

/// Why a cart change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("invalid: {0:?}")]
    Invalid(FieldErrors),
    /// The user has no line for these goods (or the goods are gone).
    #[error("no such cart line")]
    NoLine,
    #[error(transparent)]
    Storage(#[from] DbErr),
}

impl From<FieldErrors> for CartError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl MaybeTransient for CartError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Storage(error) if error.is_transient())
    }
}

impl From<CartError> for ApiError {
    fn from(error: CartError) -> Self {
        match error {
            CartError::Invalid(errors) => ApiError::Validation(errors),
            CartError::NoLine => ApiError::NotFound,
            CartError::Storage(error) => ApiError::Database(error),
        }
    }
}

/// Refuses a line asking for more than the goods' stock.
fn check_stock(goods: &goods::Model, nums: i32) -> Result<(), CartError> {
    if nums > goods.goods_num {
        let message = format!("“{}” 库存不足：最多可购买 {} 件。", goods.name, goods.goods_num.max(0));
        return Err(FieldErrors::single("nums", message).into());
    }
    Ok(())
}

async fn line(txn: &DatabaseTransaction, user_id: i32, goods_id: i32) -> Result<Option<shopping_cart::Model>, DbErr> {
    shopping_cart::Entity::find()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .one(txn)
        .await
}

/// Adds `form.nums` of the goods to the user's line (creating it); the line's quantity after.
pub async fn add(db: &DatabaseConnection, user_id: i32, form: AddToCartForm) -> Result<i32, CartError> {
    let goods_id = form.goods.get();
    let Some(goods) = goods::Entity::find_by_id(goods_id).one(db).await? else {
        return Err(FieldErrors::single("goods", messages::does_not_exist(goods_id)).into());
    };
    db::transaction!(db, CartError, |txn| {
        db::lock_user(&txn, user_id).await?;
        match line(&txn, user_id, goods_id).await? {
            Some(existing) => {
                let total = existing.nums.saturating_add(form.nums.get());
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
                check_stock(&goods, form.nums.get())?;
                shopping_cart::Entity::insert(shopping_cart::ActiveModel {
                    user_id: Set(user_id),
                    goods_id: Set(goods_id),
                    nums: Set(form.nums.get()),
                    add_time: Set(now_utc()),
                    ..Default::default()
                })
                .exec(&txn)
                .await?;
                Ok(form.nums.get())
            }
        }
    })
}

/// How many of the goods the user's line holds.
pub async fn quantity(db: &DatabaseConnection, user_id: i32, goods_id: i32) -> Result<i32, CartError> {
    let line = shopping_cart::Entity::find()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .one(db)
        .await?
        .ok_or(CartError::NoLine)?;
    Ok(line.nums)
}

/// Sets the quantity of the user's line for the goods.
pub async fn set_quantity(
    db: &DatabaseConnection,
    user_id: i32,
    goods_id: i32,
    nums: Quantity,
) -> Result<(), CartError> {
    db::transaction!(db, CartError, |txn| {
        db::lock_user(&txn, user_id).await?;
        let existing = line(&txn, user_id, goods_id).await?.ok_or(CartError::NoLine)?;
        let goods = goods::Entity::find_by_id(goods_id).one(&txn).await?.ok_or(CartError::NoLine)?;
        check_stock(&goods, nums.get())?;
        shopping_cart::Entity::update(shopping_cart::ActiveModel {
            id: Set(existing.id),
            nums: Set(nums.get()),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
        Ok(())
    })
}

/// Removes the user's line for the goods.
pub async fn remove(db: &DatabaseConnection, user_id: i32, goods_id: i32) -> Result<(), CartError> {
    let deleted = shopping_cart::Entity::delete_many()
        .filter(shopping_cart::Column::UserId.eq(user_id))
        .filter(shopping_cart::Column::GoodsId.eq(goods_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(CartError::NoLine);
    }
    Ok(())
}

/// A cart line and its goods, rendered.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CartLineJson {
    pub goods: GoodsJson,
    pub nums: i32,
}

/// The cart's lines, rendered (for the storefront's cart page).
pub async fn cart_lines(state: &AppState, url: &RequestUrl, user_id: i32) -> Result<Vec<CartLineJson>, ApiError> {
    let (nums, goods) = lines_with_goods(&state.db, user_id).await?;
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
pub(crate) async fn lines_with_goods(
    db: &DatabaseConnection,
    user_id: i32,
) -> Result<(Vec<i32>, Vec<goods::Model>), DbErr> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_is_at_least_one_and_fits_a_line() {
        assert_eq!(Quantity::parse(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::parse(i64::from(i32::MAX)).map(Quantity::get), Ok(i32::MAX));
        assert_eq!(Quantity::parse(0), Err(NUMS_AT_LEAST_ONE));
        assert_eq!(Quantity::parse(-3), Err(NUMS_AT_LEAST_ONE));
        assert_eq!(Quantity::parse(i64::from(i32::MAX) + 1), Err(messages::NOT_AN_INTEGER));
    }
}
