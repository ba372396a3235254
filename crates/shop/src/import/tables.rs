//! Each Django table and how its rows become mxshop rows: which columns are read, what is checked,
//! what is converted (floats to fen, local times to UTC, placeholders to nothing), and which rows
//! are left out because what they point to was not imported.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;

use super::report::Report;
use super::source::Row;
use crate::db::entities::{
    banner, brand, category, goods, goods_image, hot_search_word, index_ad, order_goods, order_info, shopping_cart,
    user, user_address, user_fav, user_message,
};
use crate::money::Money;
use crate::trade::status::PayStatus;

/// A Django table and its mapping onto an mxshop entity.
pub struct Table<E: EntityTrait> {
    /// The entity's name in the report.
    pub name: &'static str,
    pub source: &'static str,
    pub columns: &'static [&'static str],
    pub map: fn(&Row<'_>, &mut Context) -> anyhow::Result<Mapped<E::ActiveModel>>,
    /// Columns a `--merge` leaves as they are on rows that already exist.
    pub kept_on_merge: &'static [&'static str],
    /// Rows are written in the order of this key (smallest first) rather than by id: parents
    /// before the children that point to them.
    pub write_order: Option<fn(&Context, i32) -> u32>,
}

/// What becomes of one source row.
pub enum Mapped<A> {
    Keep(A),
    /// Left out; `reason` groups the counts, `detail` says which row and why.
    Skip {
        reason: &'static str,
        detail: String,
    },
}

/// What the import knows across tables: the ids imported so far (rows pointing elsewhere are left
/// out), prices for order lines, order totals, media files referenced, and the report.
pub struct Context {
    pub utc_offset: TimeDelta,
    pub payment_window: TimeDelta,
    pub report: Report,
    /// Category id → its depth (1 for a root), for the categories whose chain of parents is whole.
    category_depth: HashMap<i32, u32>,
    categories: HashSet<i32>,
    goods_prices: HashMap<i32, i64>,
    users: HashSet<i32>,
    mobiles: HashSet<String>,
    /// Order id → (amount asked, sum of its lines at today's prices).
    orders: HashMap<i32, (i64, i64)>,
    /// Media files the imported rows name: (entity, row id, relative path).
    pub media: Vec<(&'static str, i32, String)>,
}

/// Stands in for a missing `add_time` (Django allows NULL there, mxshop does not); fixed, so that
/// importing again gives the same row.
fn missing_time() -> NaiveDateTime {
    chrono::DateTime::UNIX_EPOCH.naive_utc()
}

/// Values real MxShop dumps hold where an image is missing.
const IMAGE_PLACEHOLDERS: [&str; 2] = ["", "空着"];

impl Context {
    pub fn new(utc_offset: TimeDelta, payment_window: TimeDelta, report: Report) -> Self {
        Self {
            utc_offset,
            payment_window,
            report,
            category_depth: HashMap::new(),
            categories: HashSet::new(),
            goods_prices: HashMap::new(),
            users: HashSet::new(),
            mobiles: HashSet::new(),
            orders: HashMap::new(),
            media: Vec::new(),
        }
    }

    /// Works out each category's depth from `(id, parent)` pairs; categories under a missing
    /// parent or in a cycle get none (and are then left out).
    pub fn set_category_tree(&mut self, parents: &HashMap<i32, Option<i32>>) {
        for &id in parents.keys() {
            let mut depth = 1;
            let mut current = id;
            let whole = loop {
                match parents.get(&current) {
                    Some(Some(parent)) if depth <= parents.len() => {
                        depth += 1;
                        current = *parent;
                    }
                    Some(None) => break true,
                    _ => break false,
                }
            };
            if whole {
                self.category_depth.insert(id, u32::try_from(depth).unwrap_or(u32::MAX));
            }
        }
    }

    fn warn(&mut self, entity: &'static str, id: i32, message: String) {
        self.report.warn(entity, id, message);
    }

    /// Fen for a Django float, reporting values that were not a whole number of fen.
    fn money(&mut self, entity: &'static str, row: &Row<'_>, column: &str) -> anyhow::Result<Option<i64>> {
        let yuan = row.float(column)?.unwrap_or(0.0);
        let Some((money, exact)) = Money::from_yuan_float(yuan) else { return Ok(None) };
        if !exact {
            self.warn(entity, row.id, format!("{column} {yuan} is not a whole number of fen; imported as {money}"));
        }
        Ok(Some(money.fen()))
    }

    /// `text` cut to `max` characters (the mxshop column's size), reporting the cut.
    fn fit(&mut self, entity: &'static str, id: i32, column: &str, text: String, max: usize) -> String {
        if text.chars().count() <= max {
            return text;
        }
        self.warn(entity, id, format!("{column} is longer than {max} characters; cut to {max}"));
        text.chars().take(max).collect()
    }

    /// An image or file name: placeholders become nothing, absolute URLs are kept as they are,
    /// anything else is a media file to copy.
    fn media_name(&mut self, entity: &'static str, id: i32, column: &str, value: Option<String>) -> Option<String> {
        let value = value?;
        if IMAGE_PLACEHOLDERS.contains(&value.trim()) {
            if !value.is_empty() {
                self.warn(entity, id, format!("{column} holds the placeholder {value:?}; imported without an image"));
            }
            return None;
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            self.warn(entity, id, format!("{column} is an absolute URL, kept as it is: {value}"));
        } else {
            self.media.push((entity, id, value.clone()));
        }
        Some(value)
    }

    fn time(&mut self, entity: &'static str, row: &Row<'_>, column: &str) -> anyhow::Result<NaiveDateTime> {
        Ok(match row.datetime(column)? {
            Some(time) => time,
            None => {
                self.warn(entity, row.id, format!("{column} is empty; set to {}", missing_time()));
                missing_time()
            }
        })
    }

    /// Order id → (amount asked, sum of lines) for the orders whose lines do not add up to it.
    pub fn order_mismatches(&self) -> Vec<(i32, i64, i64)> {
        let mut mismatches: Vec<_> = self
            .orders
            .iter()
            .filter(|(_, (mount, lines))| mount != lines)
            .map(|(&id, &(mount, lines))| (id, mount, lines))
            .collect();
        mismatches.sort_unstable();
        mismatches
    }
}

fn skip<A>(reason: &'static str, detail: String) -> anyhow::Result<Mapped<A>> {
    Ok(Mapped::Skip { reason, detail })
}

pub const CATEGORIES: Table<category::Entity> = Table {
    name: "categories",
    source: "goods_goodscategory",
    columns: &["id", "name", "code", "desc", "category_type", "is_tab", "add_time", "parent_category_id"],
    map: map_category,
    kept_on_merge: &[],
    write_order: Some(|ctx, id| ctx.category_depth.get(&id).copied().unwrap_or(u32::MAX)),
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
    Ok(Mapped::Keep(category::ActiveModel {
        id: Set(row.id),
        name: Set(row.required_text("name")?),
        code: Set(row.required_text("code")?),
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
};

fn map_brand(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<brand::ActiveModel>> {
    const E: &str = "brands";
    let mut category = row.int32("category_id")?;
    if let Some(id) = category.filter(|id| !ctx.categories.contains(id)) {
        ctx.warn(E, row.id, format!("its category {id} was not imported; imported without a category"));
        category = None;
    }
    let description = ctx.fit(E, row.id, "desc", row.required_text("desc")?, 200);
    let image = ctx.media_name(E, row.id, "image", row.text("image")?);
    Ok(Mapped::Keep(brand::ActiveModel {
        id: Set(row.id),
        category_id: Set(category),
        name: Set(row.required_text("name")?),
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
    let image = ctx.media_name(E, row.id, "goods_front_image", row.text("goods_front_image")?);
    ctx.goods_prices.insert(row.id, shop_price);
    Ok(Mapped::Keep(goods::ActiveModel {
        id: Set(row.id),
        category_id: Set(category),
        goods_sn: Set(row.required_text("goods_sn")?),
        name: Set(row.required_text("name")?),
        click_num: Set(row.int32("click_num")?.unwrap_or(0)),
        sold_num: Set(row.int32("sold_num")?.unwrap_or(0)),
        fav_num: Set(row.int32("fav_num")?.unwrap_or(0)),
        goods_num: Set(stock),
        market_price_fen: Set(market_price),
        shop_price_fen: Set(shop_price),
        goods_brief: Set(brief),
        goods_desc: Set(row.required_text("goods_desc")?),
        ship_free: Set(row.flag("ship_free")?),
        goods_front_image: Set(image),
        is_new: Set(row.flag("is_new")?),
        is_hot: Set(row.flag("is_hot")?),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

/// Rows that point at goods: left out when the goods were not imported.
fn goods_ref(row: &Row<'_>, ctx: &Context) -> anyhow::Result<Result<i32, String>> {
    let id = row.required_int32("goods_id")?;
    Ok(if ctx.goods_prices.contains_key(&id) { Ok(id) } else { Err(format!("its goods {id} does not exist")) })
}

/// Rows that point at a user: left out when the user was not imported.
fn user_ref(row: &Row<'_>, ctx: &Context) -> anyhow::Result<Result<i32, String>> {
    let id = row.required_int32("user_id")?;
    Ok(if ctx.users.contains(&id) { Ok(id) } else { Err(format!("its user {id} does not exist")) })
}

pub const GOODS_IMAGES: Table<goods_image::Entity> = Table {
    name: "goods images",
    source: "goods_goodsimage",
    columns: &["id", "image", "add_time", "goods_id"],
    map: map_goods_image,
    kept_on_merge: &[],
    write_order: None,
};

fn map_goods_image(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<goods_image::ActiveModel>> {
    const E: &str = "goods images";
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", detail),
    };
    let image = ctx.media_name(E, row.id, "image", row.text("image")?);
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
};

fn map_banner(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<banner::ActiveModel>> {
    const E: &str = "banners";
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", detail),
    };
    let Some(image) = ctx.media_name(E, row.id, "image", row.text("image")?) else {
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
};

fn map_hot_word(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<hot_search_word::ActiveModel>> {
    Ok(Mapped::Keep(hot_search_word::ActiveModel {
        id: Set(row.id),
        keywords: Set(row.required_text("keywords")?),
        sort_index: Set(row.int32("index")?.unwrap_or(0)),
        add_time: Set(ctx.time("hot words", row, "add_time")?),
    }))
}

pub const USERS: Table<user::Entity> = Table {
    name: "users",
    source: "users_userprofile",
    columns: &[
        "id",
        "password",
        "last_login",
        "is_superuser",
        "username",
        "is_staff",
        "is_active",
        "date_joined",
        "name",
        "birthday",
        "gender",
        "mobile",
        "email",
    ],
    map: map_user,
    // A user who has logged in here since has a new hash (and may have changed the password): an
    // import must never bring the old one back.
    kept_on_merge: &["password", "last_login"],
    write_order: None,
};

fn map_user(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user::ActiveModel>> {
    const E: &str = "users";
    let username = row.required_text("username")?;
    let password = row.required_text("password")?;
    if !password.starts_with("pbkdf2_sha256$") {
        let scheme = password.split('$').next().filter(|s| !s.starts_with('!') && !s.is_empty());
        let why = scheme.map_or("an unusable password (social login or disabled)".to_owned(), |s| {
            format!("a password hashed with {s}, which mxshop does not verify")
        });
        ctx.warn(
            E,
            row.id,
            format!("{username} has {why}; they cannot log in until `mxshop user set-password {username}`"),
        );
    }
    let mut mobile = row.text("mobile")?.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    if let Some(number) = mobile.take() {
        if number.chars().count() > 11 {
            ctx.warn(
                E,
                row.id,
                format!("{username}'s mobile {number:?} is longer than 11 characters; imported without it"),
            );
        } else if !ctx.mobiles.insert(number.clone()) {
            ctx.warn(
                E,
                row.id,
                format!("{username}'s mobile {number} belongs to another user too; imported without it (logs in by username)"),
            );
        } else {
            mobile = Some(number);
        }
    }
    let mut gender = row.required_text("gender")?;
    if gender != "male" && gender != "female" {
        ctx.warn(E, row.id, format!("{username}'s gender {gender:?} is neither male nor female; imported as female"));
        gender = "female".into();
    }
    let is_superuser = row.flag("is_superuser")?;
    if row.flag("is_staff")? && !is_superuser {
        ctx.warn(E, row.id, format!("{username} is staff but not a superuser; mxshop has no staff role"));
    }
    ctx.users.insert(row.id);
    Ok(Mapped::Keep(user::ActiveModel {
        id: Set(row.id),
        username: Set(username),
        password: Set(password),
        name: Set(row.text("name")?.filter(|name| !name.is_empty())),
        birthday: Set(row.date("birthday")?),
        gender: Set(gender),
        mobile: Set(mobile),
        email: Set(row.text("email")?.filter(|email| !email.is_empty())),
        is_active: Set(row.flag("is_active")?),
        is_superuser: Set(is_superuser),
        date_joined: Set(ctx.time(E, row, "date_joined")?),
        last_login: Set(row.datetime("last_login")?),
    }))
}

pub const FAVOURITES: Table<user_fav::Entity> = Table {
    name: "favourites",
    source: "user_operation_userfav",
    columns: &["id", "add_time", "goods_id", "user_id"],
    map: map_favourite,
    kept_on_merge: &[],
    write_order: None,
};

fn map_favourite(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_fav::ActiveModel>> {
    let (user, goods) = match (user_ref(row, ctx)?, goods_ref(row, ctx)?) {
        (Ok(user), Ok(goods)) => (user, goods),
        (Err(detail), _) => return skip("user missing", detail),
        (_, Err(detail)) => return skip("goods missing", detail),
    };
    Ok(Mapped::Keep(user_fav::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        goods_id: Set(goods),
        add_time: Set(ctx.time("favourites", row, "add_time")?),
    }))
}

pub const MESSAGES: Table<user_message::Entity> = Table {
    name: "messages",
    source: "user_operation_userleavingmessage",
    columns: &["id", "message_type", "subject", "message", "file", "add_time", "user_id"],
    map: map_message,
    kept_on_merge: &[],
    write_order: None,
};

fn map_message(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_message::ActiveModel>> {
    const E: &str = "messages";
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    let kind = row.int("message_type")?.unwrap_or(1);
    let Ok(kind @ 1..=5) = i16::try_from(kind) else {
        return skip("unknown message type", format!("message_type is {kind}"));
    };
    let file = ctx.media_name(E, row.id, "file", row.text("file")?).unwrap_or_default();
    Ok(Mapped::Keep(user_message::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        message_type: Set(kind),
        subject: Set(row.required_text("subject")?),
        message: Set(row.required_text("message")?),
        file: Set(file),
        add_time: Set(ctx.time(E, row, "add_time")?),
    }))
}

pub const ADDRESSES: Table<user_address::Entity> = Table {
    name: "addresses",
    source: "user_operation_useraddress",
    columns: &["id", "province", "city", "district", "address", "signer_name", "signer_mobile", "add_time", "user_id"],
    map: map_address,
    kept_on_merge: &[],
    write_order: None,
};

fn map_address(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<user_address::ActiveModel>> {
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    Ok(Mapped::Keep(user_address::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        province: Set(row.required_text("province")?),
        city: Set(row.required_text("city")?),
        district: Set(row.required_text("district")?),
        address: Set(row.required_text("address")?),
        signer_name: Set(row.required_text("signer_name")?),
        signer_mobile: Set(row.required_text("signer_mobile")?),
        add_time: Set(ctx.time("addresses", row, "add_time")?),
    }))
}

pub const CARTS: Table<shopping_cart::Entity> = Table {
    name: "cart lines",
    source: "trade_shoppingcart",
    columns: &["id", "nums", "add_time", "goods_id", "user_id"],
    map: map_cart_line,
    kept_on_merge: &[],
    write_order: None,
};

fn map_cart_line(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<shopping_cart::ActiveModel>> {
    let (user, goods) = match (user_ref(row, ctx)?, goods_ref(row, ctx)?) {
        (Ok(user), Ok(goods)) => (user, goods),
        (Err(detail), _) => return skip("user missing", detail),
        (_, Err(detail)) => return skip("goods missing", detail),
    };
    let nums = row.int32("nums")?.unwrap_or(0);
    if nums < 1 {
        return skip("no quantity", format!("nums is {nums}"));
    }
    Ok(Mapped::Keep(shopping_cart::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        goods_id: Set(goods),
        nums: Set(nums),
        add_time: Set(ctx.time("cart lines", row, "add_time")?),
    }))
}

pub const ORDERS: Table<order_info::Entity> = Table {
    name: "orders",
    source: "trade_orderinfo",
    columns: &[
        "id",
        "order_sn",
        "trade_no",
        "pay_status",
        "pay_type",
        "post_script",
        "order_mount",
        "pay_time",
        "address",
        "signer_name",
        "singer_mobile",
        "add_time",
        "user_id",
    ],
    map: map_order,
    // The payment jobs' own bookkeeping on an order that exists.
    kept_on_merge: &[
        "idempotency_key",
        "checked_at",
        "cancelled_at",
        "watch_gateway",
        "next_check_at",
        "check_attempts",
        "request_fingerprint",
        "claimed_by",
    ],
    write_order: None,
};

fn map_order(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<order_info::ActiveModel>> {
    const E: &str = "orders";
    let user = match user_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("user missing", detail),
    };
    let status_text = row.required_text("pay_status")?;
    // Django's MxShop writes `paying` and Alipay's `WAIT_BUYER_PAY` for the same state.
    let status = match status_text.as_str() {
        "WAIT_BUYER_PAY" => Some(PayStatus::Paying),
        other => PayStatus::parse(other),
    };
    let Some(status) = status else {
        return skip("unknown pay_status", format!("pay_status is {status_text:?}"));
    };
    let Some(mount) = ctx.money(E, row, "order_mount")? else {
        return skip("amount not an amount", "order_mount is negative or not a number".into());
    };
    let order_sn = match row.text("order_sn")?.filter(|sn| !sn.is_empty()) {
        Some(sn) => sn,
        None => {
            let made = format!("django-{}", row.id);
            ctx.warn(E, row.id, format!("order_sn is empty; imported as {made}"));
            made
        }
    };
    let add_time = ctx.time(E, row, "add_time")?;
    ctx.orders.insert(row.id, (mount, 0));
    Ok(Mapped::Keep(order_info::ActiveModel {
        id: Set(row.id),
        user_id: Set(user),
        order_sn: Set(order_sn),
        trade_no: Set(row.text("trade_no")?.filter(|no| !no.is_empty())),
        pay_status: Set(status.as_str().to_owned()),
        pay_type: Set(row.required_text("pay_type")?),
        post_script: Set(row.required_text("post_script")?),
        order_mount_fen: Set(mount),
        pay_time: Set(row.datetime("pay_time")?),
        address: Set(row.required_text("address")?),
        signer_name: Set(row.required_text("signer_name")?),
        singer_mobile: Set(row.required_text("singer_mobile")?),
        idempotency_key: Set(None),
        // An unpaid order gets the window it would have had here; an old one then expires at
        // the jobs' next run, as any unpaid order does.
        expire_at: Set(add_time + ctx.payment_window),
        checked_at: Set(None),
        add_time: Set(add_time),
        cancelled_at: Set(None),
        watch_gateway: Set(false),
        next_check_at: Set(None),
        check_attempts: Set(0),
        request_fingerprint: Set(None),
        claimed_by: Set(None),
    }))
}

pub const ORDER_LINES: Table<order_goods::Entity> = Table {
    name: "order lines",
    source: "trade_ordergoods",
    columns: &["id", "goods_num", "add_time", "goods_id", "order_id"],
    map: map_order_line,
    kept_on_merge: &[],
    write_order: None,
};

fn map_order_line(row: &Row<'_>, ctx: &mut Context) -> anyhow::Result<Mapped<order_goods::ActiveModel>> {
    let order = row.required_int32("order_id")?;
    if !ctx.orders.contains_key(&order) {
        return skip("order missing", format!("its order {order} does not exist"));
    }
    let goods = match goods_ref(row, ctx)? {
        Ok(id) => id,
        Err(detail) => return skip("goods missing", format!("{detail} (order {order})")),
    };
    // Django's lines have no price: the goods' price now is the best there is.
    let price = ctx.goods_prices.get(&goods).copied().unwrap_or_default();
    let quantity = row.int32("goods_num")?.unwrap_or(0);
    if let Some(totals) = ctx.orders.get_mut(&order) {
        totals.1 = totals.1.saturating_add(price.saturating_mul(i64::from(quantity)));
    }
    Ok(Mapped::Keep(order_goods::ActiveModel {
        id: Set(row.id),
        order_id: Set(order),
        goods_id: Set(goods),
        goods_num: Set(quantity),
        price_fen: Set(price),
        add_time: Set(ctx.time("order lines", row, "add_time")?),
    }))
}
