//! The catalogue's JSON shapes, in DRF's field order (contract §2).

use serde::{Deserialize, Serialize};

use crate::clock::format_datetime;
use crate::db::entities::{banner, brand, category, goods, hot_search_word};
use crate::http::RequestUrl;
use crate::money::Money;

/// The fields every category shape shares, after `id` (and `sub_cat` in tree shapes).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryFields {
    pub name: String,
    pub code: String,
    pub desc: String,
    pub category_type: i16,
    pub is_tab: bool,
    pub add_time: String,
    pub parent_category: Option<i32>,
}

impl From<&category::Model> for CategoryFields {
    fn from(model: &category::Model) -> Self {
        Self {
            name: model.name.clone(),
            code: model.code.clone(),
            desc: model.description.clone(),
            category_type: model.category_type,
            is_tab: model.is_tab,
            add_time: format_datetime(model.add_time),
            parent_category: model.parent_id,
        }
    }
}

/// Category (flat): no `sub_cat` key.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CategoryJson {
    pub id: i32,
    #[serde(flatten)]
    pub fields: CategoryFields,
}

impl From<&category::Model> for CategoryJson {
    fn from(model: &category::Model) -> Self {
        Self { id: model.id, fields: model.into() }
    }
}

/// A category with its children; `S` is the children's shape (`CategoryJson` at the last level).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryTreeJson<S> {
    pub id: i32,
    pub sub_cat: Vec<S>,
    #[serde(flatten)]
    pub fields: CategoryFields,
}

/// Level-1 shape: children are trees whose children are flat.
pub type CategoryTree = CategoryTreeJson<CategoryTreeJson<CategoryJson>>;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImageJson {
    pub image: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GoodsJson {
    pub id: i32,
    pub category: CategoryJson,
    pub images: Vec<ImageJson>,
    pub goods_sn: String,
    pub name: String,
    pub click_num: i32,
    pub sold_num: i32,
    pub fav_num: i32,
    pub goods_num: i32,
    pub market_price: Money,
    pub shop_price: Money,
    pub goods_brief: String,
    pub goods_desc: String,
    pub ship_free: bool,
    pub goods_front_image: Option<String>,
    pub is_new: bool,
    pub is_hot: bool,
    pub add_time: String,
}

impl GoodsJson {
    /// `gallery` holds the goods' image names in order; when it is empty the cover stands in, so
    /// the detail page always has an image to show (deviation D3).
    pub fn new(model: &goods::Model, category: CategoryJson, gallery: &[Option<String>], url: &RequestUrl) -> Self {
        let cover = url.media(model.goods_front_image.as_deref());
        let images = if gallery.is_empty() {
            vec![ImageJson { image: cover.clone() }]
        } else {
            gallery.iter().map(|name| ImageJson { image: url.media(name.as_deref()) }).collect()
        };
        Self {
            id: model.id,
            category,
            images,
            goods_sn: model.goods_sn.clone(),
            name: model.name.clone(),
            click_num: model.click_num,
            sold_num: model.sold_num,
            fav_num: model.fav_num,
            goods_num: model.goods_num,
            market_price: Money::from_fen(model.market_price_fen),
            shop_price: Money::from_fen(model.shop_price_fen),
            goods_brief: model.goods_brief.clone(),
            goods_desc: model.goods_desc.clone(),
            ship_free: model.ship_free,
            goods_front_image: cover,
            is_new: model.is_new,
            is_hot: model.is_hot,
            add_time: format_datetime(model.add_time),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BannerJson {
    pub id: i32,
    pub image: Option<String>,
    pub index: i32,
    pub add_time: String,
    pub goods: i32,
}

impl BannerJson {
    pub fn new(model: &banner::Model, url: &RequestUrl) -> Self {
        Self {
            id: model.id,
            image: url.media(Some(&model.image)),
            index: model.sort_index,
            add_time: format_datetime(model.add_time),
            goods: model.goods_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BrandJson {
    pub id: i32,
    pub name: String,
    pub desc: String,
    pub image: Option<String>,
    pub add_time: String,
    pub category: Option<i32>,
}

impl BrandJson {
    pub fn new(model: &brand::Model, url: &RequestUrl) -> Self {
        Self {
            id: model.id,
            name: model.name.clone(),
            desc: model.description.clone(),
            image: url.media(model.image.as_deref()),
            add_time: format_datetime(model.add_time),
            category: model.category_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotSearchJson {
    pub id: i32,
    pub keywords: String,
    pub index: i32,
    pub add_time: String,
}

impl From<&hot_search_word::Model> for HotSearchJson {
    fn from(model: &hot_search_word::Model) -> Self {
        Self {
            id: model.id,
            keywords: model.keywords.clone(),
            index: model.sort_index,
            add_time: format_datetime(model.add_time),
        }
    }
}

/// `ad_goods`: a goods, or `{}` when the category has no ad.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AdGoods {
    Goods(Box<GoodsJson>),
    None {},
}

/// One home-page section: a tab category with its brands, all goods of its subtree and its ad.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndexCategoryJson {
    pub id: i32,
    pub brands: Vec<BrandJson>,
    pub goods: Vec<GoodsJson>,
    pub sub_cat: Vec<CategoryTreeJson<CategoryJson>>,
    pub ad_goods: AdGoods,
    #[serde(flatten)]
    pub fields: CategoryFields,
}
