//! SeaORM entities, one per table.

pub mod banner;
pub mod brand;
pub mod category;
pub mod goods;
pub mod goods_image;
pub mod hot_search_word;
pub mod index_ad;
pub mod order_goods;
pub mod order_info;
pub mod payment_event;
pub mod refund;
pub mod shopping_cart;
pub mod throttle_hit;
pub mod user;
pub mod user_address;
pub mod user_fav;
pub mod user_message;
pub mod verify_code;
