//! The one migration set; it runs unchanged on SQLite, PostgreSQL and MySQL/MariaDB.

use sea_orm_migration::prelude::*;

mod m20261126_000001_catalog;
mod m20261126_000002_accounts;
mod m20261126_000003_trade;
mod m20261130_000001_ledger;
mod m20261130_000002_session_epoch;
mod m20261201_000001_unpaid_orders_by_user;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_catalog::Migration),
            Box::new(m20261126_000002_accounts::Migration),
            Box::new(m20261126_000003_trade::Migration),
            Box::new(m20261130_000001_ledger::Migration),
            Box::new(m20261130_000002_session_epoch::Migration),
            Box::new(m20261201_000001_unpaid_orders_by_user::Migration),
        ]
    }
}

/// `CREATE TABLE` with the options every table needs: on MySQL, InnoDB and full UTF-8 whatever the
/// server's default character set (Chinese names must fit); elsewhere nothing extra.
pub(crate) fn create_table(manager: &SchemaManager<'_>, name: impl IntoIden) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).if_not_exists();
    if manager.get_database_backend() == sea_orm::DbBackend::MySql {
        table.engine("InnoDB").character_set("utf8mb4").collate("utf8mb4_unicode_ci");
    }
    table
}

/// `CREATE INDEX name ON table (columns…)`.
pub(crate) async fn index<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[T],
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(*column);
    }
    manager.create_index(statement.to_owned()).await
}
