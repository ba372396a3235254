//! `throttle_hit`: one row per counted request (a sliding-window log), shared by every instance.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "throttle_hit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What is limited, e.g. `login-address`.
    pub scope: String,
    /// Who is limited: an address or an account name.
    pub subject: String,
    pub hit_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
