//! `goods_category`: the three-level category tree.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goods_category")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub code: String,
    /// Rendered as `desc` (a reserved word in SQL).
    pub description: String,
    /// 1, 2 or 3: the level in the tree.
    pub category_type: i16,
    pub parent_id: Option<i32>,
    pub is_tab: bool,
    /// UTC.
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
