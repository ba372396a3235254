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

/// The fields of `OrderJson` before its pay URL.
#[derive(Serialize)]
struct OrderHead<'a> {
    id: i32,
    pay_status: &'a str,
    trade_no: Option<&'a str>,
    order_sn: &'a str,
    pay_time: Option<String>,
}

/// The fields of `OrderJson` after its pay URL.
#[derive(Serialize)]
struct OrderTail<'a> {
    nonce_str: Option<&'a str>,
    pay_type: &'a str,
    post_script: &'a str,
    order_mount: Money,
    address: &'a str,
    signer_name: &'a str,
    singer_mobile: &'a str,
    add_time: String,
}

/// Appends `OrderJson::new(order, url)` as serde writes it, with the pay URL given already as a
/// JSON string (`Payments::pay_url_json`) and copied as it is.
pub fn write_order(order: &OrderRow, alipay_url_json: Option<&str>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let head = OrderHead {
        id: order.id,
        pay_status: &order.pay_status,
        trade_no: order.trade_no.as_deref(),
        order_sn: &order.order_sn,
        pay_time: order.pay_time.map(format_datetime),
    };
    serde_json::to_writer(&mut *out, &head)?;
    out.pop(); // its closing brace
    out.extend_from_slice(b",\"alipay_url\":");
    out.extend_from_slice(alipay_url_json.unwrap_or("null").as_bytes());
    let tail = OrderTail {
        nonce_str: None,
        pay_type: &order.pay_type,
        post_script: &order.post_script,
        order_mount: Money::from_fen(order.order_mount_fen),
        address: &order.address,
        signer_name: &order.signer_name,
        singer_mobile: &order.singer_mobile,
        add_time: format_datetime(order.add_time),
    };
    let at = out.len();
    serde_json::to_writer(&mut *out, &tail)?;
    out[at] = b','; // its opening brace
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_order_json_serializes_to() {
        let time = |s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let order = |paid: bool| OrderRow {
            id: 7,
            pay_status: if paid { "TRADE_SUCCESS" } else { "paying" }.into(),
            trade_no: paid.then(|| "2026113022001".into()),
            order_sn: "20261130120000x".into(),
            pay_time: paid.then(|| time("2026-11-30 04:05:06")),
            pay_type: "alipay".into(),
            post_script: "quote \" backslash \\ nul \u{0} 🛒 </script>".into(),
            order_mount_fen: 12_345,
            address: "北京市 \n".into(),
            signer_name: "张三".into(),
            singer_mobile: "13800138000".into(),
            add_time: time("2026-11-29 23:59:59"),
            expire_at: time("2026-11-30 00:29:59"),
        };
        let url = "https://openapi.alipay.com/gateway.do?a=1&sign=x%2By";
        for (row, alipay_url) in [(order(false), Some(url)), (order(true), None)] {
            let quoted = alipay_url.map(|url| serde_json::to_string(url).unwrap());
            let mut written = Vec::new();
            write_order(&row, quoted.as_deref(), &mut written).unwrap();
            let expected = serde_json::to_string(&OrderJson::new(row, alipay_url.map(str::to_owned))).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }
}
