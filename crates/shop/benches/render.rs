//! Goods JSON rendering: a page of 100 goods as `/goods/?page_size=100` serialises it.

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shop::catalog::render::{CategoryJson, GoodsJson};
use shop::db::entities::{category, goods};
use shop::http::RequestUrl;

fn page() -> Vec<GoodsJson> {
    let time = NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("time");
    let category = category::Model {
        id: 7,
        name: "时令水果".into(),
        code: "fruit".into(),
        description: "时令水果".into(),
        category_type: 3,
        parent_id: Some(3),
        is_tab: false,
        add_time: time,
    };
    let url = RequestUrl::new("127.0.0.1:8000", "/goods/");
    (1..=100)
        .map(|id| {
            let model = goods::Model {
                id,
                category_id: 7,
                goods_sn: format!("mx{id:05}"),
                name: format!("进口时令水果 礼盒 {id}"),
                click_num: 82,
                sold_num: 103,
                fav_num: 9,
                goods_num: 30,
                market_price_fen: 37310,
                shop_price_fen: 28700,
                goods_brief: "严选好货，品质保证".into(),
                goods_desc: "<p><strong>进口时令水果 礼盒</strong></p><p>严选好货，品质保证。</p>".repeat(3),
                ship_free: true,
                goods_front_image: Some(format!("goods/images/goods-{id}.svg")),
                is_new: id % 5 == 0,
                is_hot: id % 7 == 0,
                add_time: time,
            };
            let gallery = vec![Some(format!("goods-{id}-1.svg")), Some(format!("goods-{id}-2.svg"))];
            GoodsJson::new(&model, CategoryJson::from(&category), &gallery, &url)
        })
        .collect()
}

fn render(c: &mut Criterion) {
    let goods = page();
    let mut group = c.benchmark_group("goods_json");
    group.throughput(Throughput::Elements(goods.len() as u64));
    group.bench_function("serialise a page of 100", |b| b.iter(|| serde_json::to_vec(&goods).expect("JSON")));
    group
        .bench_function("build and serialise a page of 100", |b| b.iter(|| serde_json::to_vec(&page()).expect("JSON")));
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
