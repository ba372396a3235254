//! The trade: shopping carts, orders (amounts in fen, an optional idempotency key per user, a
//! payment deadline), order lines with the price each goods had when ordered, every payment
//! notification received, and refunds.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{create_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ShoppingCart {
    Table,
    Id,
    UserId,
    GoodsId,
    Nums,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderInfo {
    Table,
    Id,
    UserId,
    OrderSn,
    TradeNo,
    PayStatus,
    PayType,
    PostScript,
    OrderMountFen,
    PayTime,
    Address,
    SignerName,
    SingerMobile,
    IdempotencyKey,
    ExpireAt,
    CheckedAt,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentEvent {
    Table,
    Id,
    OrderSn,
    NotifyId,
    TradeStatus,
    Verdict,
    Fields,
    ReceivedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Refund {
    Table,
    Id,
    OrderId,
    OutRequestNo,
    AmountFen,
    Reason,
    Status,
    RequestedBy,
    AddTime,
    RefundedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderGoods {
    Table,
    Id,
    OrderId,
    GoodsId,
    GoodsNum,
    PriceFen,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Goods {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, ShoppingCart::Table)
                    .col(pk_auto(ShoppingCart::Id))
                    .col(integer(ShoppingCart::UserId))
                    .col(integer(ShoppingCart::GoodsId))
                    .col(integer(ShoppingCart::Nums))
                    .col(date_time(ShoppingCart::AddTime))
                    .check(Expr::col(ShoppingCart::Nums).gte(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shopping_cart_user")
                            .from(ShoppingCart::Table, ShoppingCart::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shopping_cart_goods")
                            .from(ShoppingCart::Table, ShoppingCart::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_shopping_cart_user_goods")
                    .table(ShoppingCart::Table)
                    .col(ShoppingCart::UserId)
                    .col(ShoppingCart::GoodsId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, OrderInfo::Table)
                    .col(pk_auto(OrderInfo::Id))
                    .col(integer(OrderInfo::UserId))
                    .col(string_len_uniq(OrderInfo::OrderSn, 32))
                    .col(string_len_null(OrderInfo::TradeNo, 100).unique_key())
                    .col(string_len(OrderInfo::PayStatus, 30))
                    .col(string_len(OrderInfo::PayType, 10))
                    .col(string_len(OrderInfo::PostScript, 200))
                    .col(big_integer(OrderInfo::OrderMountFen))
                    .col(date_time_null(OrderInfo::PayTime))
                    .col(string_len(OrderInfo::Address, 100))
                    .col(string_len(OrderInfo::SignerName, 20))
                    .col(string_len(OrderInfo::SingerMobile, 11))
                    .col(string_len_null(OrderInfo::IdempotencyKey, 100))
                    .col(date_time(OrderInfo::ExpireAt))
                    .col(date_time_null(OrderInfo::CheckedAt))
                    .col(date_time(OrderInfo::AddTime))
                    .check(Expr::col(OrderInfo::OrderMountFen).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_info_user")
                            .from(OrderInfo::Table, OrderInfo::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_order_info_user_idempotency_key")
                    .table(OrderInfo::Table)
                    .col(OrderInfo::UserId)
                    .col(OrderInfo::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_order_info_status_time", OrderInfo::Table, &[OrderInfo::PayStatus, OrderInfo::AddTime])
            .await?;

        manager
            .create_table(
                create_table(manager, OrderGoods::Table)
                    .col(pk_auto(OrderGoods::Id))
                    .col(integer(OrderGoods::OrderId))
                    .col(integer(OrderGoods::GoodsId))
                    .col(integer(OrderGoods::GoodsNum))
                    .col(big_integer(OrderGoods::PriceFen))
                    .col(date_time(OrderGoods::AddTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_goods_order")
                            .from(OrderGoods::Table, OrderGoods::OrderId)
                            .to(OrderInfo::Table, OrderInfo::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_goods_goods")
                            .from(OrderGoods::Table, OrderGoods::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_order_goods_order", OrderGoods::Table, &[OrderGoods::OrderId]).await?;

        manager
            .create_table(
                create_table(manager, PaymentEvent::Table)
                    .col(big_pk_auto(PaymentEvent::Id))
                    .col(string_len(PaymentEvent::OrderSn, 64))
                    .col(string_len(PaymentEvent::NotifyId, 128))
                    .col(string_len(PaymentEvent::TradeStatus, 32))
                    .col(string_len(PaymentEvent::Verdict, 32))
                    .col(text(PaymentEvent::Fields))
                    .col(date_time(PaymentEvent::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_payment_event_order_sn", PaymentEvent::Table, &[PaymentEvent::OrderSn]).await?;

        manager
            .create_table(
                create_table(manager, Refund::Table)
                    .col(pk_auto(Refund::Id))
                    .col(integer(Refund::OrderId))
                    .col(string_len_uniq(Refund::OutRequestNo, 64))
                    .col(big_integer(Refund::AmountFen))
                    .col(string_len(Refund::Reason, 256))
                    .col(string_len(Refund::Status, 16))
                    .col(string_len(Refund::RequestedBy, 150))
                    .col(date_time(Refund::AddTime))
                    .col(date_time_null(Refund::RefundedAt))
                    .check(Expr::col(Refund::AmountFen).gt(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refund_order")
                            .from(Refund::Table, Refund::OrderId)
                            .to(OrderInfo::Table, OrderInfo::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_refund_order", Refund::Table, &[Refund::OrderId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Refund::Table.into_iden(),
            PaymentEvent::Table.into_iden(),
            OrderGoods::Table.into_iden(),
            OrderInfo::Table.into_iden(),
            ShoppingCart::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
