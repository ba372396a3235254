//! The order shapes of contract §2, in DRF's field order.

use serde::Serialize;

use super::order_list::OrderRow;
use crate::catalog::render::GoodsJson;
use crate::clock::format_datetime;
use crate::db::entities::{order_goods, order_info};
use crate::money::Money;

/// Order (list and create response).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderJson {
    pub id: i32,
    pub pay_status: String,
    pub trade_no: Option<String>,
    pub order_sn: String,
    pub pay_time: Option<String>,
    pub alipay_url: Option<String>,
    pub nonce_str: Option<String>,
    pub pay_type: String,
    pub post_script: String,
    pub order_mount: Money,
    pub address: String,
    pub signer_name: String,
    pub singer_mobile: String,
    pub add_time: String,
}

impl OrderJson {
    pub fn new(order: OrderRow, alipay_url: Option<String>) -> Self {
        Self {
            id: order.id,
            pay_status: order.pay_status,
            trade_no: order.trade_no,
            order_sn: order.order_sn,
            pay_time: order.pay_time.map(format_datetime),
            alipay_url,
            nonce_str: None,
            pay_type: order.pay_type,
            post_script: order.post_script,
            order_mount: Money::from_fen(order.order_mount_fen),
            address: order.address,
            signer_name: order.signer_name,
            singer_mobile: order.singer_mobile,
            add_time: format_datetime(order.add_time),
        }
    }
}

/// OrderGoods: an order line with its goods.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderGoodsJson {
    pub id: i32,
    pub goods: GoodsJson,
    pub goods_num: i32,
    pub add_time: String,
    pub order: i32,
}

impl OrderGoodsJson {
    pub fn new(line: &order_goods::Model, goods: GoodsJson) -> Self {
        Self {
            id: line.id,
            goods,
            goods_num: line.goods_num,
            add_time: format_datetime(line.add_time),
            order: line.order_id,
        }
    }
}

/// OrderDetail (retrieve).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderDetailJson {
    pub id: i32,
    pub goods: Vec<OrderGoodsJson>,
    pub alipay_url: Option<String>,
    pub order_sn: String,
    pub nonce_str: Option<String>,
    pub trade_no: Option<String>,
    pub pay_status: String,
    pub pay_type: String,
    pub post_script: String,
    pub order_mount: Money,
    pub pay_time: Option<String>,
    pub address: String,
    pub signer_name: String,
    pub singer_mobile: String,
    pub add_time: String,
    pub user: i32,
}

impl OrderDetailJson {
    pub fn new(order: &order_info::Model, goods: Vec<OrderGoodsJson>, alipay_url: Option<String>) -> Self {
        Self {
            id: order.id,
            goods,
            alipay_url,
            order_sn: order.order_sn.clone(),
            nonce_str: None,
            trade_no: order.trade_no.clone(),
            pay_status: order.pay_status.clone(),
            pay_type: order.pay_type.clone(),
            post_script: order.post_script.clone(),
            order_mount: Money::from_fen(order.order_mount_fen),
            pay_time: order.pay_time.map(format_datetime),
            address: order.address.clone(),
            signer_name: order.signer_name.clone(),
            singer_mobile: order.singer_mobile.clone(),
            add_time: format_datetime(order.add_time),
            user: order.user_id,
        }
    }
}
