//! `GET /goods/` (contract §3.1, §1.11) and `GET /goods/{id}/` (§3.2).

use serde_json::{Value, json};

use crate::support::{Fixture, TestApp};

fn ids(body: &Value) -> Vec<i64> {
    body["results"].as_array().expect("results").iter().map(|g| g["id"].as_i64().expect("id")).collect()
}

/// The ids `/goods/?{query}` lists, checking that `count` agrees with a single page of results.
async fn found(app: &TestApp, query: &str) -> Vec<i64> {
    let body = app.get(&format!("/goods/?{query}&page_size=100")).await.json();
    assert_eq!(body["count"].as_u64().expect("count") as usize, ids(&body).len(), "{query}");
    ids(&body)
}

/// Three levels under one tab, and goods at each level with distinct prices and counters.
struct Shelf {
    top: i32,
    mid: i32,
    leaf: i32,
    other: i32,
    goods: Vec<i32>,
}

async fn shelf(fx: &Fixture<'_>) -> Shelf {
    let top = fx.category("文学类", 1, None, true).await;
    let mid = fx.category("小说", 2, Some(top), false).await;
    let leaf = fx.category("武侠", 3, Some(mid), false).await;
    let other = fx.category("理学类", 1, None, false).await;
    let mut goods = Vec::new();
    goods.push(
        fx.goods_with("解忧杂货店", leaf, 1500, |g| {
            g.sold_num = sea_orm::Set(5);
            g.goods_brief = sea_orm::Set("南海出版公司".into());
            g.is_hot = sea_orm::Set(true);
        })
        .await,
    );
    goods.push(
        fx.goods_with("刘墉散文精选", mid, 990, |g| {
            g.sold_num = sea_orm::Set(24);
            g.goods_desc = sea_orm::Set("<p>长江文艺出版社 解忧</p>".into());
            g.is_new = sea_orm::Set(true);
        })
        .await,
    );
    goods.push(
        fx.goods_with("同学别将就", top, 1500, |g| {
            g.sold_num = sea_orm::Set(5);
            g.goods_brief = sea_orm::Set("100%_纯棉".into());
        })
        .await,
    );
    goods.push(fx.goods_with("Organic APPLE", other, 29970, |g| g.sold_num = sea_orm::Set(1)).await);
    Shelf { top, mid, leaf, other, goods }
}

#[tokio::test]
async fn envelope_with_absolute_next_and_previous() {
    let app = TestApp::with_demo().await;
    let response = app.get("/goods/?page=2&page_size=5&ordering=-shop_price").await;
    response.assert_status(200);
    let body = response.json();
    assert_eq!(body["count"], 84);
    assert_eq!(body["next"], "http://127.0.0.1:8000/goods/?ordering=-shop_price&page=3&page_size=5");
    assert_eq!(body["previous"], "http://127.0.0.1:8000/goods/?ordering=-shop_price&page_size=5");
    let prices: Vec<f64> =
        body["results"].as_array().unwrap().iter().map(|g| g["shop_price"].as_f64().unwrap()).collect();
    assert_eq!(prices.len(), 5);
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");

    let third = app.get("/goods/?page=3&page_size=5&ordering=-shop_price").await.json();
    assert_eq!(third["previous"], "http://127.0.0.1:8000/goods/?ordering=-shop_price&page=2&page_size=5");
    let last = app.get("/goods/?page=last&page_size=5").await.json();
    assert_eq!(last["next"], Value::Null);
    assert_eq!(last["results"].as_array().unwrap().len(), 4);
    let first = app.get("/goods/").await.json();
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(first["next"], "http://127.0.0.1:8000/goods/?page=2");
    assert_eq!(first["results"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn links_keep_every_parameter_sorted_and_blanks() {
    let app = TestApp::with_demo().await;
    let top = app.get("/categories/").await.json()[0]["id"].as_i64().unwrap();
    let body =
        app.get(&format!("/goods/?page=1&top_category={top}&ordering=-add_time&pricemin=&pricemax=")).await.json();
    assert_eq!(
        body["next"],
        format!("http://127.0.0.1:8000/goods/?ordering=-add_time&page=2&pricemax=&pricemin=&top_category={top}")
    );
    let page2 =
        app.get(&format!("/goods/?page=2&top_category={top}&ordering=-add_time&pricemin=&pricemax=")).await.json();
    assert_eq!(
        page2["previous"],
        format!("http://127.0.0.1:8000/goods/?ordering=-add_time&pricemax=&pricemin=&top_category={top}")
    );
    let searched = app.get("/goods/?search=%E7%89%9B%E8%82%89&page_size=1").await;
    let searched = searched.json();
    assert_eq!(searched["next"], "http://127.0.0.1:8000/goods/?page=2&page_size=1&search=%E7%89%9B%E8%82%89");
    let host = app.send(axum::http::Method::GET, "/goods/?page_size=1", &[("host", "shop.example:8080")]).await.json();
    assert_eq!(host["next"], "http://shop.example:8080/goods/?page=2&page_size=1");
}

#[tokio::test]
async fn page_size_is_capped_and_falls_back() {
    let app = TestApp::with_demo().await;
    let len = |body: Value| body["results"].as_array().unwrap().len();
    assert_eq!(len(app.get("/goods/?page_size=5").await.json()), 5);
    assert_eq!(len(app.get("/goods/?page_size=1000").await.json()), 84);
    assert_eq!(len(app.get("/goods/?page_size=100").await.json()), 84);
    for fallback in ["0", "-3", "abc", "", "2.5", "%00"] {
        assert_eq!(len(app.get(&format!("/goods/?page_size={fallback}")).await.json()), 12, "page_size={fallback}");
    }
    // The cap applies to page counting too: 84 goods at 100 a page is one page.
    app.get("/goods/?page_size=1000&page=2").await.assert_status(404);
}

#[tokio::test]
async fn invalid_pages_are_404() {
    let app = TestApp::with_demo().await;
    for page in ["0", "-1", "abc", "", "1.5", "8", "99999999999999999999999"] {
        let response = app.get(&format!("/goods/?page={page}")).await;
        response.assert_status(404);
        assert_eq!(response.json(), json!({"detail": "无效页面。"}), "page={page}");
    }
    let last = app.get("/goods/?page=last").await.json();
    assert_eq!(last["results"].as_array().unwrap().len(), 84 - 6 * 12);
    app.get("/goods/?page=7").await.assert_status(200);
    let empty = TestApp::new().await;
    let body = empty.get("/goods/?page=1").await;
    body.assert_status(200);
    assert_eq!(body.json(), json!({"count": 0, "next": null, "previous": null, "results": []}));
    empty.get("/goods/?page=last").await.assert_status(200);
    empty.get("/goods/?page=2").await.assert_status(404);
}

#[tokio::test]
async fn ordering_drops_unknown_names_and_breaks_ties_by_id() {
    let app = TestApp::new().await;
    let s = shelf(&app.fixture()).await;
    let g = &s.goods;
    let by_id: Vec<i64> = g.iter().map(|&id| i64::from(id)).collect();
    assert_eq!(found(&app, "").await, by_id);
    assert_eq!(found(&app, "ordering=-add_time").await, by_id);
    assert_eq!(found(&app, "ordering=name,-click_num").await, by_id);
    assert_eq!(found(&app, "ordering=shop_price").await, [g[1], g[0], g[2], g[3]].map(i64::from));
    assert_eq!(found(&app, "ordering=-shop_price").await, [g[3], g[0], g[2], g[1]].map(i64::from));
    assert_eq!(found(&app, "ordering=-sold_num").await, [g[1], g[0], g[2], g[3]].map(i64::from));
    assert_eq!(found(&app, "ordering=sold_num,-shop_price").await, [g[3], g[0], g[2], g[1]].map(i64::from));
    assert_eq!(found(&app, "ordering=bogus,%20-shop_price").await, [g[3], g[0], g[2], g[1]].map(i64::from));
}

#[tokio::test]
async fn search_ands_terms_over_name_brief_and_description() {
    let app = TestApp::new().await;
    let s = shelf(&app.fixture()).await;
    let g = &s.goods;
    // "解忧" is in goods 0's name and goods 1's description.
    assert_eq!(found(&app, "search=%E8%A7%A3%E5%BF%A7").await, [g[0], g[1]].map(i64::from));
    // Both terms must match (the name "解忧杂货店" has both; goods 1 has only "解忧").
    assert_eq!(found(&app, "search=%E8%A7%A3%E5%BF%A7+%E6%9D%82%E8%B4%A7").await, [i64::from(g[0])]);
    // Comma separates too; brief is searched.
    assert_eq!(found(&app, "search=%E8%A7%A3%E5%BF%A7,%E5%8D%97%E6%B5%B7").await, [i64::from(g[0])]);
    // Case-insensitive.
    assert_eq!(found(&app, "search=apple").await, [i64::from(g[3])]);
    assert_eq!(found(&app, "search=oRgAnIc%20APPle").await, [i64::from(g[3])]);
    // LIKE wildcards are literal.
    assert_eq!(found(&app, "search=100%25_").await, [i64::from(g[2])]);
    assert_eq!(found(&app, "search=%25").await, [i64::from(g[2])]);
    assert_eq!(found(&app, "search=_").await, [i64::from(g[2])]);
    assert!(found(&app, "search=nothing-like-this").await.is_empty());
    // Blank search means no search.
    assert_eq!(found(&app, "search=").await.len(), 4);
    assert_eq!(found(&app, "search=%20,%20").await.len(), 4);
}

#[tokio::test]
async fn price_range_is_inclusive_and_validated() {
    let app = TestApp::new().await;
    let s = shelf(&app.fixture()).await;
    let g = &s.goods;
    assert_eq!(found(&app, "pricemin=15").await, [g[0], g[2], g[3]].map(i64::from));
    assert_eq!(found(&app, "pricemax=15").await, [g[0], g[1], g[2]].map(i64::from));
    assert_eq!(found(&app, "pricemin=9.9&pricemax=9.90").await, [i64::from(g[1])]);
    assert_eq!(found(&app, "pricemin=9.91&pricemax=15").await, [g[0], g[2]].map(i64::from));
    assert_eq!(found(&app, "pricemin=299.7").await, [i64::from(g[3])]);
    assert_eq!(found(&app, "pricemin=&pricemax=").await.len(), 4);
    assert_eq!(found(&app, "pricemin=1e1&pricemax=1.5e1").await, [g[0], g[2]].map(i64::from));

    let bad = app.get("/goods/?pricemin=abc&pricemax=1,5&top_category=x").await;
    bad.assert_status(400);
    assert_eq!(
        bad.json(),
        json!({"pricemin": ["输入一个数字。"], "pricemax": ["输入一个数字。"], "top_category": ["输入一个数字。"]})
    );
    let one = app.get("/goods/?pricemax=NaN").await;
    one.assert_status(400);
    assert_eq!(one.json(), json!({"pricemax": ["输入一个数字。"]}));
    // A filter error wins over a bad page, as DRF filters before it paginates.
    app.get("/goods/?pricemin=x&page=0").await.assert_status(400);
}

#[tokio::test]
async fn top_category_covers_the_subtree() {
    let app = TestApp::new().await;
    let s = shelf(&app.fixture()).await;
    let g = &s.goods;
    assert_eq!(found(&app, &format!("top_category={}", s.top)).await, [g[0], g[1], g[2]].map(i64::from));
    assert_eq!(found(&app, &format!("top_category={}", s.mid)).await, [g[0], g[1]].map(i64::from));
    assert_eq!(found(&app, &format!("top_category={}", s.leaf)).await, [i64::from(g[0])]);
    assert_eq!(found(&app, &format!("top_category={}", s.other)).await, [i64::from(g[3])]);
    assert_eq!(found(&app, &format!("top_category={}.0", s.top)).await.len(), 3);
    assert!(found(&app, "top_category=1.5").await.is_empty());
    assert!(found(&app, "top_category=99999").await.is_empty());
    assert!(found(&app, "top_category=99999999999999").await.is_empty());
    let bad = app.get("/goods/?top_category=abc").await;
    bad.assert_status(400);
    assert_eq!(bad.json(), json!({"top_category": ["输入一个数字。"]}));
    let both = app.get(&format!("/goods/?top_category={}&pricemax=10&ordering=-sold_num", s.top)).await.json();
    assert_eq!(both["count"], 1);
    assert_eq!(ids(&both), [i64::from(g[1])]);
}

#[tokio::test]
async fn boolean_and_name_filters() {
    let app = TestApp::new().await;
    let s = shelf(&app.fixture()).await;
    let g = &s.goods;
    for yes in ["true", "True", "TRUE", "1"] {
        assert_eq!(found(&app, &format!("is_hot={yes}")).await, [i64::from(g[0])], "{yes}");
    }
    assert_eq!(found(&app, "is_new=true").await, [i64::from(g[1])]);
    assert_eq!(found(&app, "is_hot=false").await, [g[1], g[2], g[3]].map(i64::from));
    assert_eq!(found(&app, "is_hot=0").await, [g[1], g[2], g[3]].map(i64::from));
    assert_eq!(found(&app, "is_hot=yes").await.len(), 4);
    assert_eq!(found(&app, "is_hot=").await.len(), 4);
    assert_eq!(found(&app, "is_new=true&is_hot=true").await, Vec::<i64>::new());
    assert_eq!(found(&app, "name=%E5%90%8C%E5%AD%A6%E5%88%AB%E5%B0%86%E5%B0%B1").await, [i64::from(g[2])]);
    assert!(found(&app, "name=%E5%90%8C%E5%AD%A6").await.is_empty());
    assert_eq!(found(&app, "unknown=1&another=x").await.len(), 4);
}

#[tokio::test]
async fn goods_shape_money_and_images() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let plain = fx.goods("刘墉散文精选", top, 1500).await;
    let gallery = fx.goods_with("带图", top, 29970, |g| g.goods_front_image = sea_orm::Set(None)).await;
    fx.image(gallery, "liuyong one.png").await;
    fx.image(gallery, "第二张.png").await;

    let body = app.get(&format!("/goods/{plain}/")).await;
    body.assert_status(200);
    let text = body.text();
    let expected_prefix = format!(
        concat!(
            r#"{{"id":{plain},"category":{{"id":{top},"name":"文学类","code":"c-文学类","desc":"文学类 desc","category_type":1,"#,
            r#""is_tab":true,"add_time":"2018-05-03 22:59:00","parent_category":null}},"#,
            r#""images":[{{"image":"http://127.0.0.1:8000/media/goods/images/刘墉散文精选.png"}}],"#
        ),
        plain = plain,
        top = top
    )
    .replace("刘墉散文精选.png", "%E5%88%98%E5%A2%89%E6%95%A3%E6%96%87%E7%B2%BE%E9%80%89.png");
    assert!(text.starts_with(&expected_prefix), "{text}");
    let goods = body.json();
    assert!(text.contains(r#""market_price":30.0,"shop_price":15.0"#), "{text}");
    assert_eq!(goods["add_time"], "2018-01-15 00:00:00");

    let with_gallery = app.get(&format!("/goods/{gallery}/")).await.json();
    assert_eq!(
        with_gallery["images"],
        json!([
            {"image": "http://127.0.0.1:8000/media/liuyong%20one.png"},
            {"image": "http://127.0.0.1:8000/media/%E7%AC%AC%E4%BA%8C%E5%BC%A0.png"}
        ])
    );
    assert_eq!(with_gallery["goods_front_image"], Value::Null);
    assert_eq!(with_gallery["shop_price"].to_string(), "299.7");
    assert_eq!(with_gallery["market_price"].to_string(), "599.4");
}

#[tokio::test]
async fn detail_counts_clicks_atomically() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let id = fx.goods_with("a", top, 100, |g| g.click_num = sea_orm::Set(120)).await;
    assert_eq!(app.get(&format!("/goods/{id}/")).await.json()["click_num"], 121);
    let views: Vec<_> =
        (0..20).map(|_| tokio::spawn(crate::support::send_to(app.router.clone(), format!("/goods/{id}/")))).collect();
    for view in views {
        view.await.expect("task").assert_status(200);
    }
    assert_eq!(app.get(&format!("/goods/{id}/")).await.json()["click_num"], 142);
    // The list does not count views.
    assert_eq!(app.get("/goods/").await.json()["results"][0]["click_num"], 142);
}

#[tokio::test]
async fn missing_or_malformed_ids_are_404() {
    let app = TestApp::new().await;
    for path in
        ["/goods/999999/", "/goods/abc/", "/goods/1.5/", "/goods/%FF/", "/goods/99999999999999999999/", "/goods/-1/"]
    {
        let response = app.get(path).await;
        response.assert_status(404);
        assert_eq!(response.json(), json!({"detail": "未找到。"}), "{path}");
    }
}

#[tokio::test]
async fn listing_issues_a_constant_number_of_statements() {
    let app = TestApp::with_demo().await;
    let mut counts = Vec::new();
    for query in ["page_size=1", "page_size=5", "page_size=100", "page_size=100&search=a&ordering=-sold_num"] {
        let before = app.statement_count();
        let body = app.get(&format!("/goods/?{query}")).await;
        body.assert_status(200);
        counts.push(app.statement_count() - before);
    }
    // With no cache period: the catalogue (goods, images) and the category tree, read whole.
    assert_eq!(counts, [3, 3, 3, 3]);
    let before = app.statement_count();
    app.get("/indexgoods/").await.assert_status(200);
    // The tree, brands, ads, the first goods of each of the demo's three tabs, their images, and
    // the tree again for rendering (no cache period): bounded by the tabs, not the goods.
    assert_eq!(app.statement_count() - before, 8, "indexgoods");
}

#[tokio::test]
async fn catalogue_reads_are_cached_briefly() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 60_000).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let id = fx.goods("a", top, 100).await;
    let first = app.get("/goods/?page_size=5").await;
    assert_eq!(first.json()["count"], 1);
    let statements = app.statement_count();
    // Kept from its second request on; the catalogue itself is held for the period too.
    for _ in 0..2 {
        let again = app.get("/goods/?page_size=5").await;
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("content-type"), Some("application/json"));
    }
    assert_eq!(app.statement_count(), statements, "served from memory");
    fx.goods("b", top, 200).await;
    assert_eq!(app.get("/goods/?page_size=5").await.body, first.body, "at most a period old");
    // Another host gets its own copy (absolute URLs name the host).
    let other = app.send(axum::http::Method::GET, "/goods/?page_size=5", &[("host", "shop.example")]).await;
    assert!(other.text().contains("http://shop.example/media/"), "{}", other.text());
    // Details count each view.
    assert_eq!(app.get(&format!("/goods/{id}/")).await.json()["click_num"], 1);
    assert_eq!(app.get(&format!("/goods/{id}/")).await.json()["click_num"], 2);
    app.get("/goods/?page=9").await.assert_status(404);
}

/// Every filter combined, over the demo catalogue (84 goods: the marks span two 64-goods words),
/// gives exactly the goods a plain reading of the full list selects, in id order.
#[tokio::test]
async fn combined_filters_agree_with_the_full_list() {
    let app = TestApp::with_demo().await;
    let all = app.get("/goods/?page_size=100").await.json()["results"].as_array().unwrap().clone();
    assert_eq!(all.len(), 84);
    let trees = app.get("/categories/").await.json();
    fn subtree(node: &Value, out: &mut Vec<i64>) {
        out.push(node["id"].as_i64().unwrap());
        for child in node["sub_cat"].as_array().into_iter().flatten() {
            subtree(child, out);
        }
    }
    let fen = |goods: &Value| (goods["shop_price"].as_f64().unwrap() * 100.0).round() as i64;
    let word = all[70]["name"].as_str().unwrap().split_whitespace().next().unwrap().to_owned();
    let mut checked = 0;
    for tree in trees.as_array().unwrap().iter().take(3) {
        let mut in_tree = Vec::new();
        subtree(tree, &mut in_tree);
        for (min, max) in [(0, i64::MAX), (5000, 20000), (1, 9_999_999)] {
            for search in [None, Some(word.as_str())] {
                let expected: Vec<i64> = all
                    .iter()
                    .filter(|g| in_tree.contains(&g["category"]["id"].as_i64().unwrap()))
                    .filter(|g| (min..=max).contains(&fen(g)))
                    .filter(|g| {
                        search.is_none_or(|w| {
                            ["name", "goods_brief", "goods_desc"]
                                .iter()
                                .any(|field| g[*field].as_str().unwrap().to_lowercase().contains(&w.to_lowercase()))
                        })
                    })
                    .map(|g| g["id"].as_i64().unwrap())
                    .collect();
                let mut query = format!("top_category={}&pricemin={}", tree["id"], min as f64 / 100.0);
                if max != i64::MAX {
                    query.push_str(&format!("&pricemax={}", max as f64 / 100.0));
                }
                if let Some(w) = search {
                    query.push_str(&format!("&search={}", urlencoding(w)));
                }
                assert_eq!(found(&app, &query).await, expected, "{query}");
                checked += usize::from(!expected.is_empty());
            }
        }
    }
    assert!(checked >= 6, "only {checked} combinations matched anything");
}

/// Percent-encodes every byte outside ASCII letters and digits.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}
