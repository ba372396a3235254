//! `order_info`: orders. The amount is computed by the server, in fen; `pay_status` holds the
//! contract's strings (see `trade::status`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_info")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    #[sea_orm(unique)]
    pub order_sn: String,
    pub trade_no: Option<String>,
    pub pay_status: String,
    pub pay_type: String,
    pub post_script: String,
    pub order_mount_fen: i64,
    pub pay_time: Option<DateTime>,
    pub address: String,
    pub signer_name: String,
    /// Sic: the contract's spelling.
    pub singer_mobile: String,
    /// The client's `Idempotency-Key`, unique per user.
    pub idempotency_key: Option<String>,
    /// When an unpaid order expires (UTC); also Alipay's `time_expire`.
    pub expire_at: DateTime,
    /// When reconciliation last asked Alipay about this order.
    pub checked_at: Option<DateTime>,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
