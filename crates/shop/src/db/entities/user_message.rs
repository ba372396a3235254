//! `user_message`: messages left by users (complaints, questions…) with an attached file.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// 1 留言, 2 投诉, 3 询问, 4 售后, 5 求购.
    pub message_type: i16,
    pub subject: String,
    pub message: String,
    /// Media name of the stored upload, e.g. `message/images/3f…9a.txt`.
    pub file: String,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
