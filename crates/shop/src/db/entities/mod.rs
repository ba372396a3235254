//! SeaORM entities, one per table.

pub mod banner;
pub mod brand;
pub mod category;
pub mod goods;
pub mod goods_image;
pub mod hot_search_word;
pub mod index_ad;
