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
    /// When the buyer cancelled it (the order is then closed and hidden from the buyer).
    pub cancelled_at: Option<DateTime>,
    /// Closed here, but the Alipay trade may still take a payment: the jobs ask until it cannot.
    pub watch_gateway: bool,
    /// When the jobs should next look at this order (`None`: as soon as it qualifies). Moving it
    /// forward from the value seen is how a job instance claims the order.
    pub next_check_at: Option<DateTime>,
    /// Consecutive job attempts that could not finish; sets the back-off.
    pub check_attempts: i32,
    /// SHA-256 (hex) of what the order was created from, for `Idempotency-Key` replays.
    pub request_fingerprint: Option<String>,
    /// The token of the job run that last claimed the order (kept after release, so that a run
    /// holding an older read cannot claim it again).
    pub claimed_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
