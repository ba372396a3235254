//! The `trade` app: cart lines, orders and their lines.

use sea_orm::ActiveValue::Set;

use super::{Context, Identity, Mapped, Table, goods_ref, skip, user_ref};
use crate::db::entities::{order_goods, order_info, shopping_cart};
use crate::import::source::Row;
use crate::trade::status::PayStatus;

pub const CARTS: Table<shopping_cart::Entity> = Table {
    name: "cart lines",
    source: "trade_shoppingcart",
    columns: &["id", "nums", "add_time", "goods_id", "user_id"],
    map: map_cart_line,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("user_id"),
    unique: &[],
};

fn map_cart_line(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<shopping_cart::ActiveModel>> {
    let (user, goods) = match (user_ref(row, ctx)?, goods_ref(row, ctx)?) {
        (Ok(user), Ok(goods)) => (user, goods),
        (Err(detail), _) => return skip("user missing", detail),
        (_, Err(detail)) => return skip("goods missing", detail),
    };
    let nums = row.int32("nums")?.unwrap_or(0);
    if nums < 1 {
        return skip("no quantity", format!("nums is {nums}"));
    }
    Ok(Mapped::Keep(shopping_cart::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        goods_id: Set(goods),
        nums: Set(nums),
        add_time: Set(ctx.time("cart lines", row, "add_time")?),
    }))
}

pub const ORDERS: Table<order_info::Entity> = Table {
    name: "orders",
    source: "trade_orderinfo",
    columns: &[
        "id",
        "order_sn",
        "trade_no",
        "pay_status",
        "pay_type",
        "post_script",
        "order_mount",
        "pay_time",
        "address",
        "signer_name",
        "singer_mobile",
        "add_time",
        "user_id",
    ],
    map: map_order,
    // The payment jobs' own bookkeeping on an order that exists.
    kept_on_merge: &[
        "idempotency_key",
        "checked_at",
        "cancelled_at",
        "watch_gateway",
        "next_check_at",
        "check_attempts",
        "request_fingerprint",
        "claimed_by",
    ],
    write_order: None,
    identity: Identity::unique("order_sn"),
    unique: &["trade_no"],
};

fn map_order(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<order_info::ActiveModel>> {
    const E: &str = "orders";
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    let status_text = row.required_text("pay_status")?;
    // Django's MxShop writes `paying` and Alipay's `WAIT_BUYER_PAY` for the same state.
    let status = match status_text.as_str() {
        "WAIT_BUYER_PAY" => Some(PayStatus::Paying),
        other => PayStatus::parse(other),
    };
    let Some(status) = status else {
        return skip("unknown pay_status", format!("pay_status is {status_text:?}"));
    };
    let Some(mount) = ctx.money(E, row, "order_mount")? else {
        return skip("amount not an amount", "order_mount is negative or not a number".into());
    };
    let order_sn = match row.text("order_sn")?.filter(|sn| !sn.is_empty()) {
        Some(sn) if sn.chars().count() > 32 => {
            return skip("order_sn too long", format!("order_sn {sn:?} is longer than mxshop's 32 characters"));
        }
        Some(sn) => sn,
        None => {
            let made = format!("django-{}", row.id);
            ctx.warn(E, row.id, format!("order_sn is empty; imported as {made}"));
            made
        }
    };
    let add_time = ctx.time(E, row, "add_time")?;
    // An order imported unpaid has not been paid here: a payment that arrives later is applied
    // (or, once the order is closed, refunded as late) only when no pay_time says otherwise.
    let pay_time = if status == PayStatus::Paying {
        if let Some(time) = row.datetime("pay_time")? {
            ctx.warn(E, row.id, format!("pay_time {time} on an unpaid order ({status_text}); imported without it"));
        }
        None
    } else {
        row.datetime("pay_time")?
    };
    let trade_no = match row.text("trade_no")?.filter(|no| !no.is_empty()) {
        Some(no) if no.chars().count() > 100 => {
            ctx.warn(E, row.id, "trade_no is longer than 100 characters; imported without it".into());
            None
        }
        other => other,
    };
    let mut text = |column: &str, max: usize| -> anyhow::Result<String> {
        Ok(ctx.fit(E, row.id, column, row.required_text(column)?, max))
    };
    let (pay_type, post_script, address) = (text("pay_type", 10)?, text("post_script", 200)?, text("address", 100)?);
    let (signer_name, singer_mobile) = (text("signer_name", 20)?, text("singer_mobile", 11)?);
    ctx.orders.insert(row.id, (mount, 0));
    Ok(Mapped::Keep(order_info::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        order_sn: Set(order_sn),
        trade_no: Set(trade_no),
        pay_status: Set(status.as_str().to_owned()),
        pay_type: Set(pay_type),
        post_script: Set(post_script),
        order_mount_fen: Set(mount),
        pay_time: Set(pay_time),
        address: Set(address),
        signer_name: Set(signer_name),
        singer_mobile: Set(singer_mobile),
        idempotency_key: Set(None),
        // An unpaid order gets the window it would have had here; an old one then expires at
        // the jobs' next run, as any unpaid order does.
        expire_at: Set(add_time + ctx.payment_window),
        checked_at: Set(None),
        add_time: Set(add_time),
        cancelled_at: Set(None),
        watch_gateway: Set(false),
        next_check_at: Set(None),
        check_attempts: Set(0),
        request_fingerprint: Set(None),
        claimed_by: Set(None),
    }))
}

pub const ORDER_LINES: Table<order_goods::Entity> = Table {
    name: "order lines",
    source: "trade_ordergoods",
    columns: &["id", "goods_num", "add_time", "goods_id", "order_id"],
    map: map_order_line,
    // The price the first import gave a line stays: a goods repriced in Django since must not
    // change what was paid for orders already taken.
    kept_on_merge: &["price_fen"],
    write_order: None,
    identity: Identity::owner("order_id"),
    unique: &[],
};

fn map_order_line(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<order_goods::ActiveModel>> {
    let order = row.required_int32("order_id")?;
    if !ctx.orders.contains_key(&order) {
        return skip("order missing", format!("its order {order} does not exist"));
    }
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", format!("{detail} (order {order})")),
    };
    let quantity = row.int32("goods_num")?.unwrap_or(0);
    if quantity < 1 {
        return skip("no quantity", format!("goods_num is {quantity} (order {order})"));
    }
    // Django's lines have no price: the goods' price now is the best there is.
    let price = ctx.goods_prices.get(&goods).copied().unwrap_or_default();
    if let Some(totals) = ctx.orders.get_mut(&order) {
        totals.1 = totals.1.saturating_add(price.saturating_mul(i64::from(quantity)));
    }
    Ok(Mapped::Keep(order_goods::ActiveModel {
        id: Set(row.id),
        order_id: Set(order),
        goods_id: Set(goods),
        goods_num: Set(quantity),
        price_fen: Set(price),
        add_time: Set(ctx.time("order lines", row, "add_time")?),
    }))
}
