//! Accounts and the member area: users, SMS verification codes, request throttling, favourites,
//! leaving messages and shipping addresses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{create_table, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Username,
    Password,
    Name,
    Birthday,
    Gender,
    Mobile,
    Email,
    IsActive,
    IsSuperuser,
    DateJoined,
    LastLogin,
}

#[derive(DeriveIden, Clone, Copy)]
enum VerifyCode {
    Table,
    Id,
    Mobile,
    CodeHash,
    FailedAttempts,
    UsedAt,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum ThrottleHit {
    Table,
    Id,
    Scope,
    Subject,
    HitAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserFav {
    Table,
    Id,
    UserId,
    GoodsId,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserMessage {
    Table,
    Id,
    UserId,
    MessageType,
    Subject,
    Message,
    File,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserAddress {
    Table,
    Id,
    UserId,
    Province,
    City,
    District,
    Address,
    SignerName,
    SignerMobile,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Goods {
    Table,
    Id,
}

fn user_fk(table: impl IntoIden + Copy, column: impl IntoIden + Copy, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                create_table(manager, Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Username, 150))
                    .col(string_len(Users::Password, 255))
                    .col(string_len_null(Users::Name, 30))
                    .col(date_null(Users::Birthday))
                    .col(string_len(Users::Gender, 6).default("female"))
                    .col(string_len_null(Users::Mobile, 11).unique_key())
                    .col(string_len_null(Users::Email, 100))
                    .col(boolean(Users::IsActive).default(true))
                    .col(boolean(Users::IsSuperuser).default(false))
                    .col(date_time(Users::DateJoined))
                    .col(date_time_null(Users::LastLogin))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, VerifyCode::Table)
                    .col(pk_auto(VerifyCode::Id))
                    .col(string_len(VerifyCode::Mobile, 11))
                    .col(string_len(VerifyCode::CodeHash, 64))
                    .col(integer(VerifyCode::FailedAttempts).default(0))
                    .col(date_time_null(VerifyCode::UsedAt))
                    .col(date_time(VerifyCode::AddTime))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_verify_code_mobile", VerifyCode::Table, &[VerifyCode::Mobile, VerifyCode::AddTime]).await?;

        manager
            .create_table(
                create_table(manager, ThrottleHit::Table)
                    .col(big_pk_auto(ThrottleHit::Id))
                    .col(string_len(ThrottleHit::Scope, 30))
                    .col(string_len(ThrottleHit::Subject, 160))
                    .col(date_time(ThrottleHit::HitAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_throttle_hit_subject",
            ThrottleHit::Table,
            &[ThrottleHit::Scope, ThrottleHit::Subject, ThrottleHit::HitAt],
        )
        .await?;
        index(manager, "idx_throttle_hit_time", ThrottleHit::Table, &[ThrottleHit::HitAt]).await?;

        manager
            .create_table(
                create_table(manager, UserFav::Table)
                    .col(pk_auto(UserFav::Id))
                    .col(integer(UserFav::UserId))
                    .col(integer(UserFav::GoodsId))
                    .col(date_time(UserFav::AddTime))
                    .foreign_key(&mut user_fk(UserFav::Table, UserFav::UserId, "fk_user_fav_user"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_fav_goods")
                            .from(UserFav::Table, UserFav::GoodsId)
                            .to(Goods::Table, Goods::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_fav_user_goods")
                    .table(UserFav::Table)
                    .col(UserFav::UserId)
                    .col(UserFav::GoodsId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                create_table(manager, UserMessage::Table)
                    .col(pk_auto(UserMessage::Id))
                    .col(integer(UserMessage::UserId))
                    .col(small_integer(UserMessage::MessageType).default(1))
                    .col(string_len(UserMessage::Subject, 100))
                    .col(text(UserMessage::Message))
                    .col(string_len(UserMessage::File, 100))
                    .col(date_time(UserMessage::AddTime))
                    .foreign_key(&mut user_fk(UserMessage::Table, UserMessage::UserId, "fk_user_message_user"))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_user_message_user", UserMessage::Table, &[UserMessage::UserId]).await?;

        manager
            .create_table(
                create_table(manager, UserAddress::Table)
                    .col(pk_auto(UserAddress::Id))
                    .col(integer(UserAddress::UserId))
                    .col(string_len(UserAddress::Province, 100))
                    .col(string_len(UserAddress::City, 100))
                    .col(string_len(UserAddress::District, 100))
                    .col(string_len(UserAddress::Address, 100))
                    .col(string_len(UserAddress::SignerName, 100))
                    .col(string_len(UserAddress::SignerMobile, 11))
                    .col(date_time(UserAddress::AddTime))
                    .foreign_key(&mut user_fk(UserAddress::Table, UserAddress::UserId, "fk_user_address_user"))
                    .to_owned(),
            )
            .await?;
        index(manager, "idx_user_address_user", UserAddress::Table, &[UserAddress::UserId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UserAddress::Table.into_iden(),
            UserMessage::Table.into_iden(),
            UserFav::Table.into_iden(),
            ThrottleHit::Table.into_iden(),
            VerifyCode::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
