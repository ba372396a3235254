//! A buyer's orders for `GET /orders/`, read as JSON the database builds (`db::json_rows`): one
//! value for the whole list instead of a hand-off per order, and no `strftime` per datetime.

use chrono::NaiveDateTime;
use sea_orm::{DatabaseConnection, DbErr};
use serde::Deserialize;

use crate::db::entities::order_info;
use crate::db::json_rows::{datetime, optional_datetime, read_json_rows};

/// What the list shows of an order, and what its pay URL is signed from.
#[derive(Debug, Deserialize)]
pub struct OrderRow {
    pub id: i32,
    pub pay_status: String,
    pub trade_no: Option<String>,
    pub order_sn: String,
    #[serde(deserialize_with = "optional_datetime")]
    pub pay_time: Option<NaiveDateTime>,
    pub pay_type: String,
    pub post_script: String,
    pub order_mount_fen: i64,
    pub address: String,
    pub signer_name: String,
    pub singer_mobile: String,
    #[serde(deserialize_with = "datetime")]
    pub add_time: NaiveDateTime,
    #[serde(deserialize_with = "datetime")]
    pub expire_at: NaiveDateTime,
}

impl From<&order_info::Model> for OrderRow {
    fn from(order: &order_info::Model) -> Self {
        Self {
            id: order.id,
            pay_status: order.pay_status.clone(),
            trade_no: order.trade_no.clone(),
            order_sn: order.order_sn.clone(),
            pay_time: order.pay_time,
            pay_type: order.pay_type.clone(),
            post_script: order.post_script.clone(),
            order_mount_fen: order.order_mount_fen,
            address: order.address.clone(),
            signer_name: order.signer_name.clone(),
            singer_mobile: order.singer_mobile.clone(),
            add_time: order.add_time,
            expire_at: order.expire_at,
        }
    }
}

/// The columns of `OrderRow`, in its order (serde reads a JSON array as the struct's fields).
const COLUMNS: &str = "id, pay_status, trade_no, order_sn, pay_time, pay_type, post_script, order_mount_fen, \
                       address, signer_name, singer_mobile, add_time, expire_at";

/// The user's orders that they have not cancelled, by id.
pub async fn read_orders(db: &DatabaseConnection, user_id: i32) -> Result<Vec<OrderRow>, DbErr> {
    let mut orders: Vec<OrderRow> =
        read_json_rows(db, COLUMNS, "order_info WHERE user_id = ? AND cancelled_at IS NULL", user_id.into()).await?;
    orders.sort_unstable_by_key(|order| order.id);
    Ok(orders)
}
