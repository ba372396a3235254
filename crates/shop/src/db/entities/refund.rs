//! `refund`: refunds of paid orders, each with its own idempotent `out_request_no`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    #[sea_orm(unique)]
    pub out_request_no: String,
    pub amount_fen: i64,
    pub reason: String,
    /// `pending`, `succeeded`, `failed`.
    pub status: String,
    /// The staff member's username, or `system` for automatic refunds.
    pub requested_by: String,
    pub add_time: DateTime,
    pub refunded_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
