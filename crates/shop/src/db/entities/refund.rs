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
    /// `pending`, `succeeded`, `failed` (see `payments::refunds::RefundStatus`).
    pub status: String,
    /// The staff member's username, or `system` for automatic refunds.
    pub requested_by: String,
    pub add_time: DateTime,
    pub refunded_at: Option<DateTime>,
    /// When the refund job should next ask Alipay about a pending refund.
    pub next_check_at: Option<DateTime>,
    /// Consecutive attempts that left the refund pending; sets the back-off.
    pub check_attempts: i32,
    /// Why the refund is still pending or why it failed, for the operator.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
