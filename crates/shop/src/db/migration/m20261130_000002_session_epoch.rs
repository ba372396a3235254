//! `users.session_epoch`: a per-user counter that login tokens carry (with the password hash, in
//! their `pwv` tag). Logging out increments it, which revokes every token issued before, like a
//! password change does.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    SessionEpoch,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let column = integer(Users::SessionEpoch).default(0).take();
        manager.alter_table(Table::alter().table(Users::Table).add_column(column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::SessionEpoch).to_owned()).await
    }
}
