//! `order_info (user_id, pay_status)`: a checkout counts the buyer's unpaid orders. Without it
//! SQLite read them through the status index, that is every unpaid order of every buyer, inside
//! the writer's turn (90 µs with 646 unpaid orders against 13 µs with this index, and growing with
//! the shop). PostgreSQL builds it without `CONCURRENTLY`: on a large `order_info` the upgrade
//! holds order writes for the seconds the build takes (notifications meanwhile are delivered again).

use sea_orm_migration::prelude::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_order_info_user_status";

#[derive(DeriveIden, Clone, Copy)]
enum OrderInfo {
    Table,
    UserId,
    PayStatus,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, NAME, OrderInfo::Table, &[OrderInfo::UserId, OrderInfo::PayStatus]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(OrderInfo::Table).to_owned()).await
    }
}
