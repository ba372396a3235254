//! `goods`: the catalogue. Prices are integer fen; counters move only by single-column increments.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goods")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub category_id: i32,
    #[sea_orm(unique)]
    pub goods_sn: String,
    pub name: String,
    pub click_num: i32,
    pub sold_num: i32,
    pub fav_num: i32,
    /// Stock on hand.
    pub goods_num: i32,
    pub market_price_fen: i64,
    pub shop_price_fen: i64,
    pub goods_brief: String,
    pub goods_desc: String,
    pub ship_free: bool,
    /// Media name of the cover image, e.g. `goods/images/x.svg`.
    pub goods_front_image: Option<String>,
    pub is_new: bool,
    pub is_hot: bool,
    pub add_time: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
