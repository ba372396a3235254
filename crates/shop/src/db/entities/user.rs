//! `users`: shop accounts. `password` holds an Argon2id PHC string, or a Django
//! `pbkdf2_sha256$…` hash until the user's next login rehashes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    pub password: String,
    pub name: Option<String>,
    pub birthday: Option<Date>,
    /// `male` or `female`.
    pub gender: String,
    #[sea_orm(unique)]
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub is_active: bool,
    pub is_superuser: bool,
    pub date_joined: DateTime,
    pub last_login: Option<DateTime>,
    /// Incremented by a logout: tokens carry it (in `pwv`), so a logout ends every session.
    pub session_epoch: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
