//! The `goods` app: categories, brands, goods and their images, banners, index ads, hot words.

use sea_orm::ActiveValue::Set;

use super::{Context, Identity, Mapped, Table, goods_ref, skip};
use crate::db::entities::{banner, brand, category, goods, goods_image, hot_search_word, index_ad};
use crate::import::source::Row;

pub const CATEGORIES: Table<category::Entity> = Table {
    name: "categories",
    source: "goods_goodscategory",
    columns: &["id", "name", "code", "desc", "category_type", "is_tab", "add_time", "parent_category_id"],
    map: map_category,
    kept_on_merge: &[],
    write_order: Some(|ctx, id| ctx.category_depth.get(&id).copied().unwrap_or(u32::MAX)),
    identity: None,
    unique: &[],
};

fn map_category(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<category::ActiveModel>> {
    const E: &str = "categories";
    let parent = row.int32("parent_category_id")?;
    if !ctx.category_depth.contains_key(&row.id) {
        return skip("parent category missing", format!("its parent category {parent:?} does not lead to a root"));
    }
    let level = row.int("category_type")?.unwrap_or(1);
    let Ok(level @ 1..=3) = i16::try_from(level) else {
        return skip("not a level 1–3 category", format!("category_type is {level}"));
    };
    ctx.categories.insert(row.id);
    let description = ctx.fit(E, row.id, "desc", row.required_text("desc")?, 200);
    let name = ctx.fit(E, row.id, "name", row.required_text("name")?, 30);
    let code = ctx.fit(E, row.id, "code", row.required_text("code")?, 30);
    Ok(Mapped::Keep(category::ActiveModel {
        id: Set(row.id),
        name: Set(name),
        code: Set(code),
        description: Set(description),
        category_type: Set(level),
        parent_id: Set(parent),
        is_tab: Set(row.flag("is_tab")?),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const BRANDS: Table<brand::Entity> = Table {
    name: "brands",
    source: "goods_goodsbrand",
    columns: &["id", "name", "desc", "image", "add_time", "category_id"],
    map: map_brand,
    kept_on_merge: &[],
    write_order: None,
    identity: None,
    unique: &[],
};

fn map_brand(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<brand::ActiveModel>> {
    const E: &str = "brands";
    let mut category = row.int32("category_id")?;
    if let Some(id) = category.filter(|id| !ctx.categories.contains(id)) {
        ctx.warn(E, row.id, format!("its category {id} was not imported; imported without a category"));
        category = None;
    }
    let description = ctx.fit(E, row.id, "desc", row.required_text("desc")?, 200);
    let image = ctx.media_name(E, row.id, "image", row.text("image")?, 200);
    let name = ctx.fit(E, row.id, "name", row.required_text("name")?, 30);
    Ok(Mapped::Keep(brand::ActiveModel {
        id: Set(row.id),
        category_id: Set(category),
        name: Set(name),
        description: Set(description),
        image: Set(image),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const GOODS: Table<goods::Entity> = Table {
    name: "goods",
    source: "goods_goods",
    columns: &[
        "id",
        "goods_sn",
        "name",
        "click_num",
        "sold_num",
        "fav_num",
        "goods_num",
        "market_price",
        "shop_price",
        "goods_brief",
        "goods_desc",
        "ship_free",
        "goods_front_image",
        "is_new",
        "is_hot",
        "add_time",
        "category_id",
    ],
    map: map_goods,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::unique("goods_sn"),
    unique: &[],
};

fn map_goods(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<goods::ActiveModel>> {
    const E: &str = "goods";
    let category = row.required_int32("category_id")?;
    if !ctx.categories.contains(&category) {
        return skip("category not imported", format!("its category {category} was not imported"));
    }
    let (Some(market_price), Some(shop_price)) = (ctx.money(E, row, "market_price")?, ctx.money(E, row, "shop_price")?)
    else {
        return skip("price not an amount", "market_price or shop_price is negative or not a number".into());
    };
    let mut stock = row.int32("goods_num")?.unwrap_or(0);
    if stock < 0 {
        ctx.warn(E, row.id, format!("goods_num is {stock}; imported as 0"));
        stock = 0;
    }
    let brief = ctx.fit(E, row.id, "goods_brief", row.required_text("goods_brief")?, 500);
    let image = ctx.media_name(E, row.id, "goods_front_image", row.text("goods_front_image")?, 200);
    let goods_sn = ctx.goods_sn(row.id, row.text("goods_sn")?);
    let name = ctx.fit(E, row.id, "name", row.required_text("name")?, 100);
    let description = ctx.fit_text(E, row.id, "goods_desc", row.required_text("goods_desc")?);
    ctx.goods_prices.insert(row.id, shop_price);
    Ok(Mapped::Keep(goods::ActiveModel {
        id: Set(row.id),
        category_id: Set(category),
        goods_sn: Set(goods_sn),
        name: Set(name),
        click_num: Set(row.int32("click_num")?.unwrap_or(0)),
        sold_num: Set(row.int32("sold_num")?.unwrap_or(0)),
        fav_num: Set(row.int32("fav_num")?.unwrap_or(0)),
        goods_num: Set(stock),
        market_price_fen: Set(market_price),
        shop_price_fen: Set(shop_price),
        goods_brief: Set(brief),
        goods_desc: Set(description),
        ship_free: Set(row.flag("ship_free")?),
        goods_front_image: Set(image),
        is_new: Set(row.flag("is_new")?),
        is_hot: Set(row.flag("is_hot")?),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const GOODS_IMAGES: Table<goods_image::Entity> = Table {
    name: "goods images",
    source: "goods_goodsimage",
    columns: &["id", "image", "add_time", "goods_id"],
    map: map_goods_image,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("goods_id"),
    unique: &[],
};

fn map_goods_image(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<goods_image::ActiveModel>> {
    const E: &str = "goods images";
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", detail),
    };
    let image = ctx.media_name(E, row.id, "image", row.text("image")?, 200);
    Ok(Mapped::Keep(goods_image::ActiveModel {
        id: Set(row.id),
        goods_id: Set(goods),
        image: Set(image),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const BANNERS: Table<banner::Entity> = Table {
    name: "banners",
    source: "goods_banner",
    columns: &["id", "image", "index", "add_time", "goods_id"],
    map: map_banner,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("goods_id"),
    unique: &[],
};

fn map_banner(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<banner::ActiveModel>> {
    const E: &str = "banners";
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", detail),
    };
    let Some(image) = ctx.media_name(E, row.id, "image", row.text("image")?, 200) else {
        return skip("no image", "a banner without an image shows nothing".into());
    };
    Ok(Mapped::Keep(banner::ActiveModel {
        id: Set(row.id),
        goods_id: Set(goods),
        image: Set(image),
        sort_index: Set(row.int32("index")?.unwrap_or(0)),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const INDEX_ADS: Table<index_ad::Entity> = Table {
    name: "index ads",
    source: "goods_indexad",
    columns: &["id", "category_id", "goods_id"],
    map: map_index_ad,
    kept_on_merge: &[],
    write_order: None,
    identity: Identity::owner("goods_id"),
    unique: &[],
};

fn map_index_ad(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<index_ad::ActiveModel>> {
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", detail),
    };
    let category = row.required_int32("category_id")?;
    if !ctx.categories.contains(&category) {
        return skip("category not imported", format!("its category {category} was not imported"));
    }
    Ok(Mapped::Keep(index_ad::ActiveModel { id: Set(row.id), category_id: Set(category), goods_id: Set(goods) }))
}

pub const HOT_WORDS: Table<hot_search_word::Entity> = Table {
    name: "hot words",
    source: "goods_hotsearchwords",
    columns: &["id", "keywords", "index", "add_time"],
    map: map_hot_word,
    kept_on_merge: &[],
    write_order: None,
    identity: None,
    unique: &[],
};

fn map_hot_word(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<hot_search_word::ActiveModel>> {
    let keywords = ctx.fit("hot words", row.id, "keywords", row.required_text("keywords")?, 20);
    Ok(Mapped::Keep(hot_search_word::ActiveModel {
        id: Set(row.id),
        keywords: Set(keywords),
        sort_index: Set(row.int32("index")?.unwrap_or(0)),
        add_time: Set(ctx.time("hot words", row, "add_time")?),
    }))
}
