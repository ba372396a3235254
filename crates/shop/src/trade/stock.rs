//! The only code that moves stock (`goods_num`) and counts sales (`sold_num`). Stock moves only by
//! conditional or additive single-column updates, in goods-id order, so that concurrent
//! transactions over overlapping goods lock rows in the same order and cannot deadlock.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::db::entities::{goods, order_goods};

/// One cart line to reserve.
pub struct Line {
    pub goods_id: i32,
    pub nums: i32,
}

/// Takes `nums` of each goods off the shelf (`… WHERE goods_num >= nums`). Returns the ids of the
/// goods that were short; the caller rolls the transaction back when any are.
pub async fn reserve(txn: &impl ConnectionTrait, lines: &[Line]) -> Result<Vec<i32>, DbErr> {
    let mut sorted: Vec<&Line> = lines.iter().collect();
    sorted.sort_by_key(|line| line.goods_id);
    let mut short = Vec::new();
    for line in sorted {
        let reserved = goods::Entity::update_many()
            .col_expr(goods::Column::GoodsNum, Expr::col(goods::Column::GoodsNum).sub(line.nums))
            .filter(goods::Column::Id.eq(line.goods_id))
            .filter(goods::Column::GoodsNum.gte(line.nums))
            .exec(txn)
            .await?;
        if reserved.rows_affected == 0 {
            short.push(line.goods_id);
        }
    }
    Ok(short)
}

/// Puts an order's reserved stock back. Only called by the transition that closed the unpaid
/// order, so it runs once per order.
pub(crate) async fn release(txn: &impl ConnectionTrait, order_id: i32) -> Result<(), DbErr> {
    for line in order_lines(txn, order_id).await? {
        goods::Entity::update_many()
            .col_expr(goods::Column::GoodsNum, Expr::col(goods::Column::GoodsNum).add(line.goods_num))
            .filter(goods::Column::Id.eq(line.goods_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// `sold_num += quantity` for every line. Only called by the transition that paid the order.
pub(crate) async fn count_sales(txn: &impl ConnectionTrait, order_id: i32) -> Result<(), DbErr> {
    for line in order_lines(txn, order_id).await? {
        goods::Entity::update_many()
            .col_expr(goods::Column::SoldNum, Expr::col(goods::Column::SoldNum).add(line.goods_num))
            .filter(goods::Column::Id.eq(line.goods_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn order_lines(txn: &impl ConnectionTrait, order_id: i32) -> Result<Vec<order_goods::Model>, DbErr> {
    order_goods::Entity::find()
        .filter(order_goods::Column::OrderId.eq(order_id))
        .order_by_asc(order_goods::Column::GoodsId)
        .all(txn)
        .await
}
