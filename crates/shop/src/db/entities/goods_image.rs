//! `goods_image`: a goods' gallery.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goods_image")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub goods_id: i32,
    pub image: Option<String>,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
