//! Each Django table and how its rows become mxshop rows: which columns are read, what is checked,
//! what is converted (floats to fen, local times to UTC, placeholders to nothing), and which rows
//! are left out because what they point to was not imported. One file per Django app; the context
//! they share is here.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use sea_orm::EntityTrait;

use super::report::Report;
use super::source::Row;
use crate::money::Money;

mod catalog;
mod member;
mod trade;
mod users;

pub use catalog::{BANNERS, BRANDS, CATEGORIES, GOODS, GOODS_IMAGES, HOT_WORDS, INDEX_ADS};
pub use member::{ADDRESSES, FAVOURITES, MESSAGES};
pub use trade::{CARTS, ORDER_LINES, ORDERS};
pub use users::USERS;

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
    /// The column that says whose row this is: with `--merge`, an existing row with the same id
    /// but another value here is mxshop's own (made after an earlier import), never overwritten.
    pub identity: Option<Identity>,
    /// Other columns unique in mxshop: with `--merge`, a row whose value is held by an existing
    /// row under another id is refused too.
    pub unique: &'static [&'static str],
}

/// A column that identifies a row beyond its id.
#[derive(Clone, Copy)]
pub struct Identity {
    pub column: &'static str,
    /// Unique in mxshop: an existing row holding the value under another id is a conflict too.
    pub unique: bool,
}

impl Identity {
    /// A unique identifier (username, order_sn, goods_sn).
    pub const fn unique(column: &'static str) -> Option<Self> {
        Some(Self { column, unique: true })
    }

    /// The row's owner (user id, goods id, order id).
    pub const fn owner(column: &'static str) -> Option<Self> {
        Some(Self { column, unique: false })
    }
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
    /// Every source username (read before the users), to keep a mobile that is someone else's
    /// username from being imported (login tries usernames first).
    usernames: HashSet<String>,
    /// Usernames imported so far, lowercased when the target compares them without case.
    imported_usernames: HashMap<String, i32>,
    /// The target's unique username index ignores case (MySQL/MariaDB collations).
    pub usernames_ignore_case: bool,
    /// The target's `text` columns hold at most this many bytes (MySQL's TEXT: 65,535).
    pub text_max_bytes: Option<usize>,
    /// goods_sn values imported so far (mxshop's are unique, Django's are not).
    goods_sns: HashMap<String, i32>,
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
            usernames: HashSet::new(),
            imported_usernames: HashMap::new(),
            usernames_ignore_case: false,
            text_max_bytes: None,
            goods_sns: HashMap::new(),
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

    /// Every username of the source, read before the users themselves.
    pub fn set_usernames(&mut self, usernames: HashSet<String>) {
        self.usernames = usernames;
    }

    /// A row the target refused to have overwritten (`--merge` conflict): rows pointing at it are
    /// left out too, as for any row that was not imported.
    pub fn forget(&mut self, entity: &str, id: i32) {
        match entity {
            "users" => {
                self.users.remove(&id);
                self.report.superusers.retain(|user| user.id != id);
            }
            "goods" => {
                self.goods_prices.remove(&id);
            }
            "orders" => {
                self.orders.remove(&id);
            }
            _ => {}
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

    /// mxshop's unique goods_sn for a Django one (not unique there, and may be empty): an empty
    /// or already taken value becomes `django-<id>`, the same on every run.
    fn goods_sn(&mut self, id: i32, value: Option<String>) -> String {
        let value = value.map(|sn| sn.trim().to_owned()).unwrap_or_default();
        let made = format!("django-{id}");
        let sn = if value.is_empty() {
            self.warn("goods", id, format!("goods_sn is empty; imported as {made}"));
            made
        } else if let Some(first) = self.goods_sns.get(&value) {
            self.warn("goods", id, format!("goods_sn {value:?} is goods {first}'s too; imported as {made}"));
            made
        } else if value.chars().count() > 50 {
            self.warn("goods", id, format!("goods_sn {value:?} is longer than 50 characters; imported as {made}"));
            made
        } else {
            value
        };
        self.goods_sns.insert(sn.clone(), id);
        sn
    }

    /// `text` cut to `max` characters (the mxshop column's size), reporting the cut.
    fn fit(&mut self, entity: &'static str, id: i32, column: &str, text: String, max: usize) -> String {
        if text.chars().count() <= max {
            return text;
        }
        self.warn(entity, id, format!("{column} is longer than {max} characters; cut to {max}"));
        text.chars().take(max).collect()
    }

    /// `text` for a `text` column: cut (at a character boundary) to what the target's holds,
    /// reporting the cut.
    fn fit_text(&mut self, entity: &'static str, id: i32, column: &str, text: String) -> String {
        let Some(max) = self.text_max_bytes.filter(|&max| text.len() > max) else { return text };
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.warn(
            entity,
            id,
            format!("{column} is {} bytes, more than the target's text column holds ({max}); cut to {end}", text.len()),
        );
        text[..end].to_owned()
    }

    /// An image or file name: placeholders become nothing, absolute URLs are kept as they are,
    /// anything else is a media file to copy.
    /// A name that is not a plain relative path (`../x`, `/etc/x`, `a//b`) is refused: mxshop
    /// joins these names to its media directory to serve and delete files.
    fn media_name(
        &mut self,
        entity: &'static str,
        id: i32,
        column: &str,
        value: Option<String>,
        max: usize,
    ) -> Option<String> {
        let value = value?;
        if IMAGE_PLACEHOLDERS.contains(&value.trim()) {
            if !value.is_empty() {
                self.warn(entity, id, format!("{column} holds the placeholder {value:?}; imported without an image"));
            }
            return None;
        }
        if value.chars().count() > max {
            self.warn(entity, id, format!("{column} is longer than {max} characters; imported without it"));
            return None;
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            self.warn(entity, id, format!("{column} is an absolute URL, kept as it is: {value}"));
        } else if !is_plain_relative_path(&value) {
            self.warn(
                entity,
                id,
                format!(
                    "{column} {value:?} is not a plain relative path inside the media directory; imported without it"
                ),
            );
            return None;
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

/// Only normal components (`a/b.png`): no `..`, no root or drive, no empty or `.` parts, no
/// backslashes (a separator on Windows).
pub fn is_plain_relative_path(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('\\')
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && std::path::Path::new(name).components().all(|part| matches!(part, std::path::Component::Normal(_)))
}

fn skip<A>(reason: &'static str, detail: String) -> anyhow::Result<Mapped<A>> {
    Ok(Mapped::Skip { reason, detail })
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

#[cfg(test)]
mod tests {
    use super::is_plain_relative_path;

    #[test]
    fn only_plain_relative_media_names_pass() {
        for good in ["goods/images/a.png", "a.png", "message/images/slow.txt", "x/..y/z"] {
            assert!(is_plain_relative_path(good), "{good}");
        }
        for bad in
            ["", "../../mxshop.db", "goods/../../x", "/etc/passwd", "goods//x.png", "./x", "a/./b", "a/", "a\\..\\b"]
        {
            assert!(!is_plain_relative_path(bad), "{bad}");
        }
    }
}
