//! Money at every edge: buyer-cancelled orders are kept (closed, hidden from the buyer) and
//! watched at the gateway until no payment can arrive; jobs back off per order and claim work by
//! compare-and-set on `next_check_at` and a lease owner (`claimed_by`); refunds carry their own retry schedule and last error;
//! `Idempotency-Key` remembers the request it was first used with; on MySQL/MariaDB the
//! identifiers compare byte for byte, as on PostgreSQL and SQLite.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum OrderInfo {
    Table,
    CancelledAt,
    WatchGateway,
    NextCheckAt,
    CheckAttempts,
    RequestFingerprint,
    ClaimedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Refund {
    Table,
    NextCheckAt,
    CheckAttempts,
    LastError,
}

/// One column per statement: SQLite alters one thing at a time.
async fn add(manager: &SchemaManager<'_>, table: impl IntoIden, column: &mut ColumnDef) -> Result<(), DbErr> {
    manager.alter_table(Table::alter().table(table).add_column(column.take()).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(manager, OrderInfo::Table, &mut date_time_null(OrderInfo::CancelledAt)).await?;
        add(manager, OrderInfo::Table, boolean(OrderInfo::WatchGateway).default(false)).await?;
        add(manager, OrderInfo::Table, &mut date_time_null(OrderInfo::NextCheckAt)).await?;
        add(manager, OrderInfo::Table, integer(OrderInfo::CheckAttempts).default(0)).await?;
        add(manager, OrderInfo::Table, &mut string_len_null(OrderInfo::RequestFingerprint, 64)).await?;
        add(manager, OrderInfo::Table, &mut string_len_null(OrderInfo::ClaimedBy, 32)).await?;
        add(manager, Refund::Table, &mut date_time_null(Refund::NextCheckAt)).await?;
        add(manager, Refund::Table, integer(Refund::CheckAttempts).default(0)).await?;
        add(manager, Refund::Table, &mut string_len_null(Refund::LastError, 256)).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::MySql {
            // utf8mb4_unicode_ci would make `abc` and `ABC` (or `a` and `á`) the same key.
            let connection = manager.get_connection();
            for statement in [
                "ALTER TABLE order_info MODIFY order_sn VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
                "ALTER TABLE order_info MODIFY idempotency_key VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
                "ALTER TABLE refund MODIFY out_request_no VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
            ] {
                connection.execute_unprepared(statement).await?;
            }
        }
        // Orders closed before this release were closed at the gateway already.
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            OrderInfo::CancelledAt,
            OrderInfo::WatchGateway,
            OrderInfo::NextCheckAt,
            OrderInfo::CheckAttempts,
            OrderInfo::RequestFingerprint,
            OrderInfo::ClaimedBy,
        ] {
            manager.alter_table(Table::alter().table(OrderInfo::Table).drop_column(column).to_owned()).await?;
        }
        for column in [Refund::NextCheckAt, Refund::CheckAttempts, Refund::LastError] {
            manager.alter_table(Table::alter().table(Refund::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
