//! `verify_code`: SMS codes sent for registration, stored as keyed hashes, single-use, with a
//! count of wrong guesses.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verify_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub mobile: String,
    /// Hex HMAC-SHA256 of the mobile and the code, keyed by the deployment's secret.
    pub code_hash: String,
    pub failed_attempts: i32,
    pub used_at: Option<DateTime>,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
