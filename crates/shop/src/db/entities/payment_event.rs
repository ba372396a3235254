//! `payment_event`: every payment notification (or query answer) received, with its fields and
//! what was done with it — the audit trail of the payment state machine.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_sn: String,
    pub notify_id: String,
    pub trade_status: String,
    /// `applied`, `duplicate`, `bad_signature`, `app_mismatch`, … (see `payments::Verdict`).
    pub verdict: String,
    /// The received fields as a JSON object.
    pub fields: String,
    pub received_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
