//! Demo data of our own: a three-level grocery catalogue with goods, images, banners, brands, ads
//! and hot words, generated deterministically and seeded into an empty database.

mod images;

use std::path::Path;

use anyhow::Context;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, TransactionTrait,
};

use crate::db::entities::{banner, brand, category, goods, goods_image, hot_search_word, index_ad};
use images::Placeholder;

/// A leaf category: (name, code).
type Leaf = (&'static str, &'static str);
/// A second-level category: (name, code, leaves).
type Branch = (&'static str, &'static str, &'static [Leaf]);

/// A top-level category and its subtree.
struct Node {
    name: &'static str,
    code: &'static str,
    is_tab: bool,
    children: &'static [Branch],
}

const TREE: &[Node] = &[
    Node {
        name: "生鲜食品",
        code: "fresh",
        is_tab: true,
        children: &[
            ("精品肉类", "meat", &[("牛肉", "beef"), ("猪肉", "pork"), ("禽肉", "poultry")]),
            ("海鲜水产", "seafood", &[("鱼类", "fish"), ("虾蟹", "shrimp")]),
            ("蔬菜水果", "produce", &[("时令水果", "fruit"), ("新鲜蔬菜", "vegetables")]),
        ],
    },
    Node {
        name: "酒水饮料",
        code: "drinks",
        is_tab: true,
        children: &[
            ("白酒", "baijiu", &[("浓香型", "strong-aroma"), ("酱香型", "sauce-aroma")]),
            ("葡萄酒", "wine", &[("红葡萄酒", "red-wine"), ("白葡萄酒", "white-wine")]),
            ("饮料", "beverages", &[("茶饮料", "tea-drinks"), ("果汁", "juice")]),
        ],
    },
    Node {
        name: "粮油副食",
        code: "pantry",
        is_tab: true,
        children: &[
            ("大米", "rice", &[("东北大米", "northeast-rice"), ("泰国香米", "jasmine-rice")]),
            ("食用油", "oil", &[("花生油", "peanut-oil"), ("橄榄油", "olive-oil")]),
            ("调味品", "seasoning", &[("酱油", "soy-sauce"), ("食醋", "vinegar")]),
        ],
    },
    Node {
        name: "休闲零食",
        code: "snacks",
        is_tab: false,
        children: &[
            ("坚果炒货", "nuts", &[("核桃", "walnuts"), ("开心果", "pistachios")]),
            ("饼干糕点", "biscuits", &[("饼干", "cookies"), ("糕点", "pastries")]),
        ],
    },
];

const ADJECTIVES: &[&str] = &["精选", "有机", "进口", "特级", "家庭装", "礼盒装", "优选"];
const SPECS: &[&str] = &["500g", "1kg", "2.5kg", "750ml", "6瓶装", "礼盒", "散装"];
const BRIEFS: &[&str] = &["产地直供，新鲜到家", "严选好货，品质保证", "限时特惠，买二送一", "冷链配送，当日达"];
const BRANDS: &[&str] = &["山水农场", "金穗", "海之味", "醇香坊", "绿源", "丰收季"];
const HOT_WORDS: &[&str] = &["牛肉", "葡萄酒", "大米", "橄榄油", "坚果"];

/// Seeds the demo catalogue if the database has no categories, and writes its images under
/// `media_dir`. Returns whether anything was seeded.
pub async fn seed_if_empty(db: &DatabaseConnection, media_dir: &Path) -> anyhow::Result<bool> {
    if category::Entity::find().count(db).await.context("counting categories")? > 0 {
        return Ok(false);
    }
    let mut placeholders = Vec::new();
    let result = insert_catalogue(db, &mut placeholders).await;
    if let Err(error) = result {
        // Another instance seeding the same empty database at the same time wins the race; its
        // rows are as good as ours.
        if category::Entity::find().count(db).await.unwrap_or(0) > 0 {
            tracing::info!("demo data was seeded concurrently by another instance");
            return Ok(false);
        }
        return Err(error);
    }
    images::write_all(media_dir, &placeholders)?;
    Ok(true)
}

/// Adds goods (spread over the leaf categories, reusing the demo images) until there are `target`;
/// for load tests. Returns how many were added.
pub async fn grow_catalogue(db: &DatabaseConnection, target: u32) -> anyhow::Result<u64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let existing = goods::Entity::find().count(db).await?;
    if existing >= u64::from(target) {
        return Ok(0);
    }
    let leaves: Vec<i32> = category::Entity::find()
        .filter(category::Column::CategoryType.eq(3))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    anyhow::ensure!(!leaves.is_empty(), "seed the demo catalogue first");
    let demo_goods = existing.max(1);
    let mut seq = Sequence(u64::from(target));
    let base_time = NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).context("base time")?;
    let mut added = 0;
    const CHUNK: u64 = 500;
    while existing + added < u64::from(target) {
        let txn = db.begin().await?;
        let batch = CHUNK.min(u64::from(target) - existing - added);
        let rows: Vec<goods::ActiveModel> = (0..batch)
            .map(|i| {
                let n = existing + added + i + 1;
                let shop_price_fen = (seq.next(290) as i64 + 9) * 100 + 90;
                let cover = format!("goods/images/goods-{}.svg", 1 + (n - 1) % demo_goods);
                let name = format!("{}商品 {n}", ADJECTIVES[seq.next(ADJECTIVES.len() as u64) as usize]);
                goods::ActiveModel {
                    category_id: Set(leaves[(n as usize) % leaves.len()]),
                    goods_sn: Set(format!("mx{n:07}")),
                    name: Set(name.clone()),
                    click_num: Set(seq.next(500) as i32),
                    sold_num: Set(seq.next(200) as i32),
                    fav_num: Set(seq.next(50) as i32),
                    goods_num: Set(seq.next(190) as i32 + 10),
                    market_price_fen: Set(shop_price_fen * 13 / 10),
                    shop_price_fen: Set(shop_price_fen),
                    goods_brief: Set(BRIEFS[seq.next(BRIEFS.len() as u64) as usize].into()),
                    goods_desc: Set(format!("<p><strong>{name}</strong></p><p>{}</p>", BRIEFS[(n % 4) as usize])),
                    ship_free: Set(n % 4 != 0),
                    goods_front_image: Set(Some(cover)),
                    is_new: Set(n % 5 == 0),
                    is_hot: Set(n % 7 == 0),
                    add_time: Set(base_time + Duration::minutes(n as i64)),
                    ..Default::default()
                }
            })
            .collect();
        goods::Entity::insert_many(rows).exec(&txn).await?;
        txn.commit().await?;
        added += batch;
    }
    Ok(added)
}

/// A deterministic pseudo-random sequence, so every fresh shop has the same demo data.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Inserts the catalogue in one transaction, collecting the images to draw.
struct Seeder<'a> {
    txn: &'a DatabaseTransaction,
    seq: Sequence,
    placeholders: &'a mut Vec<Placeholder>,
    goods_count: u32,
    base_time: NaiveDateTime,
}

async fn insert_catalogue(db: &DatabaseConnection, placeholders: &mut Vec<Placeholder>) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let result = seed_rows(&txn, placeholders).await;
    crate::db::finish(txn, result).await
}

async fn seed_rows(txn: &DatabaseTransaction, placeholders: &mut Vec<Placeholder>) -> anyhow::Result<()> {
    let base_time =
        NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|date| date.and_hms_opt(0, 0, 0)).context("demo base time")?;
    let mut seeder = Seeder { txn, seq: Sequence(20261126), placeholders, goods_count: 0, base_time };
    let mut banner_goods = Vec::new();

    for (tab_index, node) in TREE.iter().enumerate() {
        let hue = tab_index as u32 * 90 + 10;
        let top = seeder.category(node.name, node.code, 1, None, node.is_tab).await?;
        let mut section_goods = vec![seeder.goods(top, node.name, hue).await?];
        for (sub_name, sub_code, leaves) in node.children {
            let sub = seeder.category(sub_name, sub_code, 2, Some(top), false).await?;
            section_goods.push(seeder.goods(sub, sub_name, hue + 20).await?);
            for (leaf_name, leaf_code) in *leaves {
                let leaf = seeder.category(leaf_name, leaf_code, 3, Some(sub), false).await?;
                for _ in 0..3 {
                    section_goods.push(seeder.goods(leaf, leaf_name, hue + 40).await?);
                }
            }
        }
        if node.is_tab {
            seeder.tab_extras(tab_index, node, top, &section_goods, hue).await?;
            banner_goods.push(section_goods[2]);
        }
    }
    seeder.banners(&banner_goods).await?;
    seeder.hot_words().await
}

impl Seeder<'_> {
    async fn category(
        &mut self,
        name: &str,
        code: &str,
        level: i16,
        parent: Option<i32>,
        is_tab: bool,
    ) -> anyhow::Result<i32> {
        let inserted = category::Entity::insert(category::ActiveModel {
            name: Set(name.into()),
            code: Set(code.into()),
            description: Set(name.into()),
            category_type: Set(level),
            parent_id: Set(parent),
            is_tab: Set(is_tab),
            add_time: Set(self.base_time),
            ..Default::default()
        })
        .exec(self.txn)
        .await
        .with_context(|| format!("inserting category {code}"))?;
        Ok(inserted.last_insert_id)
    }

    /// One goods with a cover and one to three gallery images.
    async fn goods(&mut self, category_id: i32, category_name: &str, hue: u32) -> anyhow::Result<i32> {
        self.goods_count += 1;
        let n = self.goods_count;
        let seq = &mut self.seq;
        let name = format!(
            "{}{} {}",
            ADJECTIVES[seq.next(ADJECTIVES.len() as u64) as usize],
            category_name,
            SPECS[seq.next(SPECS.len() as u64) as usize]
        );
        // Prices end in .90 or .00 yuan, like a real shelf.
        let shop_price_fen = (seq.next(290) as i64 + 9) * 100 + if seq.next(2) == 0 { 90 } else { 0 };
        let market_price_fen = shop_price_fen * 13 / 10 / 10 * 10;
        let brief = BRIEFS[seq.next(BRIEFS.len() as u64) as usize];
        let cover = format!("goods/images/goods-{n}.svg");
        self.placeholders.push(Placeholder { name: cover.clone(), label: name.clone(), width: 400, height: 400, hue });
        let inserted = goods::Entity::insert(goods::ActiveModel {
            category_id: Set(category_id),
            goods_sn: Set(format!("mx{n:05}")),
            name: Set(name.clone()),
            click_num: Set(seq.next(500) as i32),
            sold_num: Set(seq.next(200) as i32),
            fav_num: Set(seq.next(50) as i32),
            goods_num: Set(seq.next(190) as i32 + 10),
            market_price_fen: Set(market_price_fen),
            shop_price_fen: Set(shop_price_fen),
            goods_brief: Set(brief.into()),
            goods_desc: Set(format!(
                "<p><strong>{name}</strong></p><p>{brief}。</p><p><img src=\"/media/{cover}\" alt=\"{name}\"></p>"
            )),
            ship_free: Set(!n.is_multiple_of(4)),
            goods_front_image: Set(Some(cover)),
            is_new: Set(n.is_multiple_of(5)),
            is_hot: Set(n.is_multiple_of(7)),
            add_time: Set(self.base_time + Duration::hours(i64::from(n))),
            ..Default::default()
        })
        .exec(self.txn)
        .await
        .with_context(|| format!("inserting goods {n}"))?;
        let goods_id = inserted.last_insert_id;
        for k in 1..=1 + n % 3 {
            let image = format!("goods-{n}-{k}.svg");
            self.placeholders.push(Placeholder {
                name: image.clone(),
                label: format!("{name} · {k}"),
                width: 400,
                height: 400,
                hue: hue + k * 15,
            });
            goods_image::Entity::insert(goods_image::ActiveModel {
                goods_id: Set(goods_id),
                image: Set(Some(image)),
                add_time: Set(self.base_time),
                ..Default::default()
            })
            .exec(self.txn)
            .await?;
        }
        Ok(goods_id)
    }

    /// A tab's home-page ad and two brands.
    async fn tab_extras(
        &mut self,
        tab_index: usize,
        node: &Node,
        top: i32,
        goods: &[i32],
        hue: u32,
    ) -> anyhow::Result<()> {
        index_ad::Entity::insert(index_ad::ActiveModel {
            category_id: Set(top),
            goods_id: Set(goods[1]),
            ..Default::default()
        })
        .exec(self.txn)
        .await?;
        for brand_index in 0..2 {
            let name = BRANDS[(tab_index * 2 + brand_index) % BRANDS.len()];
            let image = format!("brands/brand-{}-{}.svg", node.code, brand_index + 1);
            self.placeholders.push(Placeholder {
                name: image.clone(),
                label: name.into(),
                width: 200,
                height: 100,
                hue,
            });
            brand::Entity::insert(brand::ActiveModel {
                category_id: Set(Some(top)),
                name: Set(name.into()),
                description: Set(format!("{name}，{}", node.name)),
                image: Set(Some(image)),
                add_time: Set(self.base_time),
                ..Default::default()
            })
            .exec(self.txn)
            .await?;
        }
        Ok(())
    }

    async fn banners(&mut self, goods: &[i32]) -> anyhow::Result<()> {
        for (index, goods_id) in goods.iter().enumerate() {
            let image = format!("banner/banner-{}.svg", index + 1);
            self.placeholders.push(Placeholder {
                name: image.clone(),
                label: format!("mxshop 特惠 {}", index + 1),
                width: 1200,
                height: 400,
                hue: index as u32 * 90 + 10,
            });
            banner::Entity::insert(banner::ActiveModel {
                goods_id: Set(*goods_id),
                image: Set(image),
                sort_index: Set(index as i32),
                add_time: Set(self.base_time),
                ..Default::default()
            })
            .exec(self.txn)
            .await?;
        }
        Ok(())
    }

    async fn hot_words(&mut self) -> anyhow::Result<()> {
        for (index, word) in HOT_WORDS.iter().enumerate() {
            hot_search_word::Entity::insert(hot_search_word::ActiveModel {
                keywords: Set((*word).into()),
                sort_index: Set((HOT_WORDS.len() - index) as i32),
                add_time: Set(self.base_time),
                ..Default::default()
            })
            .exec(self.txn)
            .await?;
        }
        Ok(())
    }
}
