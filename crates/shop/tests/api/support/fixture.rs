//! Hand-made catalogue rows for tests that need exact values.

use chrono::NaiveDateTime;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use shop::db::entities::{banner, brand, category, goods, goods_image, hot_search_word, index_ad};

use super::TestApp;

pub struct Fixture<'a> {
    pub db: &'a DatabaseConnection,
}

pub fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("time")
}

impl Fixture<'_> {
    pub async fn category(&self, name: &str, level: i16, parent: Option<i32>, is_tab: bool) -> i32 {
        category::Entity::insert(category::ActiveModel {
            name: Set(name.into()),
            code: Set(format!("c-{name}")),
            description: Set(format!("{name} desc")),
            category_type: Set(level),
            parent_id: Set(parent),
            is_tab: Set(is_tab),
            add_time: Set(time("2018-05-03 14:59:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert category")
        .last_insert_id
    }

    /// A goods with the given name, category and price; everything else plain.
    pub async fn goods(&self, name: &str, category_id: i32, shop_price_fen: i64) -> i32 {
        self.goods_with(name, category_id, shop_price_fen, |_| {}).await
    }

    pub async fn goods_with(
        &self,
        name: &str,
        category_id: i32,
        shop_price_fen: i64,
        adjust: impl FnOnce(&mut goods::ActiveModel),
    ) -> i32 {
        let mut model = goods::ActiveModel {
            category_id: Set(category_id),
            goods_sn: Set(format!("sn-{name}-{}", rand::random::<u32>())),
            name: Set(name.into()),
            click_num: Set(0),
            sold_num: Set(0),
            fav_num: Set(0),
            goods_num: Set(10),
            market_price_fen: Set(shop_price_fen * 2),
            shop_price_fen: Set(shop_price_fen),
            goods_brief: Set(String::new()),
            goods_desc: Set(String::new()),
            ship_free: Set(false),
            goods_front_image: Set(Some(format!("goods/images/{name}.png"))),
            is_new: Set(false),
            is_hot: Set(false),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        };
        adjust(&mut model);
        goods::Entity::insert(model).exec(self.db).await.expect("insert goods").last_insert_id
    }

    pub async fn image(&self, goods_id: i32, name: &str) {
        goods_image::Entity::insert(goods_image::ActiveModel {
            goods_id: Set(goods_id),
            image: Set(Some(name.into())),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert image");
    }

    pub async fn banner(&self, goods_id: i32, image: &str, index: i32) -> i32 {
        banner::Entity::insert(banner::ActiveModel {
            goods_id: Set(goods_id),
            image: Set(image.into()),
            sort_index: Set(index),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert banner")
        .last_insert_id
    }

    pub async fn brand(&self, name: &str, category_id: i32) -> i32 {
        brand::Entity::insert(brand::ActiveModel {
            category_id: Set(Some(category_id)),
            name: Set(name.into()),
            description: Set("出版社".into()),
            image: Set(Some(format!("brands/{name}.png"))),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert brand")
        .last_insert_id
    }

    pub async fn hot_word(&self, keywords: &str, index: i32) -> i32 {
        hot_search_word::Entity::insert(hot_search_word::ActiveModel {
            keywords: Set(keywords.into()),
            sort_index: Set(index),
            add_time: Set(time("2018-01-14 16:00:00")),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert hot word")
        .last_insert_id
    }

    pub async fn index_ad(&self, category_id: i32, goods_id: i32) {
        index_ad::Entity::insert(index_ad::ActiveModel {
            category_id: Set(category_id),
            goods_id: Set(goods_id),
            ..Default::default()
        })
        .exec(self.db)
        .await
        .expect("insert index ad");
    }
}

impl TestApp {
    pub fn fixture(&self) -> Fixture<'_> {
        Fixture { db: &self.db }
    }
}
