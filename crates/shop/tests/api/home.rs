//! `GET /banners/`, `/hotsearchs/` and `/indexgoods/` (contract §3.4–§3.6).

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn banners_by_index_then_id() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let goods = fx.goods("g", top, 100).await;
    let b1 = fx.banner(goods, "banner/l2.jpg", 2).await;
    let b2 = fx.banner(goods, "banner/l1.jpg", 0).await;
    let b3 = fx.banner(goods, "banner/l3.jpg", 0).await;
    let response = app.get("/banners/").await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!([
            {"id": b2, "image": "http://127.0.0.1:8000/media/banner/l1.jpg", "index": 0, "add_time": "2018-01-15 00:00:00", "goods": goods},
            {"id": b3, "image": "http://127.0.0.1:8000/media/banner/l3.jpg", "index": 0, "add_time": "2018-01-15 00:00:00", "goods": goods},
            {"id": b1, "image": "http://127.0.0.1:8000/media/banner/l2.jpg", "index": 2, "add_time": "2018-01-15 00:00:00", "goods": goods},
        ])
    );
    assert!(response.text().starts_with(&format!(r#"[{{"id":{b2},"image":"#)));
}

#[tokio::test]
async fn hot_words_by_descending_index() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let a = fx.hot_word("刘墉", 0).await;
    let b = fx.hot_word("解忧杂货店", 5).await;
    let c = fx.hot_word("同学别将就", 0).await;
    let response = app.get("/hotsearchs/").await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!([
            {"id": b, "keywords": "解忧杂货店", "index": 5, "add_time": "2018-01-15 00:00:00"},
            {"id": a, "keywords": "刘墉", "index": 0, "add_time": "2018-01-15 00:00:00"},
            {"id": c, "keywords": "同学别将就", "index": 0, "add_time": "2018-01-15 00:00:00"},
        ])
    );
}

#[tokio::test]
async fn index_goods_has_every_tab_with_its_subtree() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let books = fx.category("文学类", 1, None, true).await;
    let science = fx.category("理学类", 1, None, true).await;
    let hidden = fx.category("测试分类", 1, None, false).await;
    let novels = fx.category("小说", 2, Some(books), true).await;
    let wuxia = fx.category("武侠", 3, Some(novels), false).await;
    let g_top = fx.goods("文学", books, 100).await;
    let g_leaf = fx.goods("武侠小说", wuxia, 200).await;
    let g_mid = fx.goods("小说集", novels, 300).await;
    let g_science = fx.goods("物理", science, 400).await;
    fx.goods("隐藏", hidden, 500).await;
    let brand = fx.brand("北大", books).await;
    fx.brand("北理工", science).await;
    fx.index_ad(books, g_science).await;
    fx.index_ad(books, g_top).await;

    let response = app.get("/indexgoods/").await;
    response.assert_status(200);
    let body = response.json();
    let sections = body.as_array().unwrap();
    assert_eq!(sections.len(), 2, "only top-level tabs");
    let books_json = &sections[0];
    assert_eq!(books_json["id"], books);
    assert_eq!(
        books_json["brands"],
        json!([{"id": brand, "name": "北大", "desc": "出版社", "image": "http://127.0.0.1:8000/media/brands/%E5%8C%97%E5%A4%A7.png",
                "add_time": "2018-01-15 00:00:00", "category": books}])
    );
    let goods_ids: Vec<i64> =
        books_json["goods"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect();
    assert_eq!(goods_ids, [g_top, g_leaf, g_mid].map(i64::from));
    assert_eq!(books_json["goods"][1]["category"]["id"], wuxia);
    assert_eq!(books_json["sub_cat"][0]["id"], novels);
    assert_eq!(books_json["sub_cat"][0]["sub_cat"][0]["id"], wuxia);
    // The first ad of the category, as a full goods.
    assert_eq!(books_json["ad_goods"]["id"], g_science);
    assert_eq!(books_json["ad_goods"]["name"], "物理");
    assert_eq!(
        books_json["ad_goods"]["images"][0]["image"],
        "http://127.0.0.1:8000/media/goods/images/%E7%89%A9%E7%90%86.png"
    );

    let science_json = &sections[1];
    assert_eq!(science_json["ad_goods"], json!({}));
    assert_eq!(science_json["goods"].as_array().unwrap().len(), 1);
    assert_eq!(science_json["sub_cat"], json!([]));
}

#[tokio::test]
async fn demo_home_page_is_complete() {
    let app = TestApp::with_demo().await;
    let banners = app.get("/banners/").await.json();
    assert!(banners.as_array().unwrap().len() >= 3);
    let hot = app.get("/hotsearchs/").await.json();
    assert!(!hot.as_array().unwrap().is_empty());
    let index = app.get("/indexgoods/").await.json();
    let sections = index.as_array().unwrap();
    assert!(sections.len() >= 3);
    for section in sections {
        assert!(!section["brands"].as_array().unwrap().is_empty());
        assert!(section["goods"].as_array().unwrap().len() >= 10);
        assert!(section["ad_goods"]["id"].is_i64());
    }
    // Every demo goods has a gallery, and every image it names exists and is served.
    let all = app.get("/goods/?page_size=100").await.json();
    let goods = all["results"].as_array().unwrap();
    assert!(goods.len() >= 60);
    let mut image_urls = Vec::new();
    for g in goods {
        assert!(g["goods_desc"].as_str().unwrap().contains("<p>"));
        image_urls.push(g["goods_front_image"].as_str().unwrap().to_owned());
        for image in g["images"].as_array().unwrap() {
            image_urls.push(image["image"].as_str().unwrap().to_owned());
        }
    }
    for banner in banners.as_array().unwrap() {
        image_urls.push(banner["image"].as_str().unwrap().to_owned());
    }
    for url in image_urls {
        let path = url.strip_prefix("http://127.0.0.1:8000").expect("absolute media URL");
        let response = app.get(path).await;
        response.assert_status(200);
        assert_eq!(response.header("content-type"), Some("image/svg+xml"), "{path}");
    }
}

#[tokio::test]
async fn the_catalogue_grows_for_load_tests() {
    let app = TestApp::with_demo().await;
    let added = shop::demo::grow_catalogue(&app.db, 1234).await.unwrap();
    assert_eq!(added, 1234 - 84);
    let body = app.get("/goods/?page=last&page_size=100").await.json();
    assert_eq!(body["count"], 1234);
    assert_eq!(shop::demo::grow_catalogue(&app.db, 1000).await.unwrap(), 0, "never shrinks or duplicates");
    // Every added goods sits in a leaf category and points at an existing demo image.
    let last = &body["results"][body["results"].as_array().unwrap().len() - 1];
    assert_eq!(last["category"]["category_type"], 3);
    let image = last["goods_front_image"].as_str().unwrap().strip_prefix("http://127.0.0.1:8000").unwrap().to_owned();
    app.get(&image).await.assert_status(200);
}
