//! `hot_search_word`: the keywords under the search box.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hot_search_word")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub keywords: String,
    /// Rendered as `index`; descending.
    pub sort_index: i32,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
