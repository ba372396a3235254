//! `GET /categories/` and `GET /categories/{id}/` (contract §3.3, §2).

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn list_shows_three_levels_of_top_level_categories() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let second_top = fx.category("理学类", 1, None, false).await;
    let mid = fx.category("小说", 2, Some(top), false).await;
    let leaf = fx.category("武侠", 3, Some(mid), false).await;
    let leaf2 = fx.category("言情", 3, Some(mid), false).await;

    let response = app.get("/categories/").await;
    response.assert_status(200);
    let flat = |id: i32, name: &str, level: i16, parent: Option<i32>, is_tab: bool| {
        json!({"id": id, "name": name, "code": format!("c-{name}"), "desc": format!("{name} desc"),
               "category_type": level, "is_tab": is_tab, "add_time": "2018-05-03 22:59:00",
               "parent_category": parent})
    };
    let mut mid_json = flat(mid, "小说", 2, Some(top), false);
    let mut top_json = flat(top, "文学类", 1, None, true);
    let mut second_json = flat(second_top, "理学类", 1, None, false);
    // Tree shapes: `id`, `sub_cat`, then the flat fields.
    let with_sub = |node: &mut serde_json::Value, sub: serde_json::Value| {
        let mut map = serde_json::Map::new();
        map.insert("id".into(), node["id"].clone());
        map.insert("sub_cat".into(), sub);
        for (key, value) in node.as_object().unwrap() {
            if key != "id" {
                map.insert(key.clone(), value.clone());
            }
        }
        *node = serde_json::Value::Object(map);
    };
    with_sub(&mut mid_json, json!([flat(leaf, "武侠", 3, Some(mid), false), flat(leaf2, "言情", 3, Some(mid), false)]));
    with_sub(&mut top_json, json!([mid_json]));
    with_sub(&mut second_json, json!([]));
    let expected = json!([top_json, second_json]);
    assert_eq!(response.text(), serde_json::to_string(&expected).unwrap());
}

#[tokio::test]
async fn any_level_can_be_the_root() {
    let app = TestApp::new().await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let mid = fx.category("小说", 2, Some(top), false).await;
    let leaf = fx.category("武侠", 3, Some(mid), false).await;

    let top_json = app.get(&format!("/categories/{top}/")).await.json();
    assert_eq!(top_json["name"], "文学类");
    assert_eq!(top_json["sub_cat"][0]["sub_cat"][0]["id"], leaf);
    assert!(top_json["sub_cat"][0]["sub_cat"][0].get("sub_cat").is_none(), "level 3 has no sub_cat key");

    let mid_json = app.get(&format!("/categories/{mid}/")).await.json();
    assert_eq!(mid_json["name"], "小说");
    assert_eq!(mid_json["parent_category"], top);
    assert_eq!(mid_json["sub_cat"][0]["id"], leaf);
    assert_eq!(mid_json["sub_cat"][0]["sub_cat"], json!([]));

    let leaf_json = app.get(&format!("/categories/{leaf}/")).await.json();
    assert_eq!(leaf_json["sub_cat"], json!([]));
    assert_eq!(leaf_json["category_type"], 3);

    for path in ["/categories/424242/", "/categories/x/", "/categories/0/"] {
        let response = app.get(path).await;
        response.assert_status(404);
        assert_eq!(response.json(), json!({"detail": "未找到。"}));
    }
}

#[tokio::test]
async fn demo_tree_has_three_levels_under_each_tab() {
    let app = TestApp::with_demo().await;
    let list = app.get("/categories/").await.json();
    let tabs: Vec<_> = list.as_array().unwrap().iter().filter(|c| c["is_tab"] == true).collect();
    assert!(tabs.len() >= 3);
    for tab in tabs {
        let subs = tab["sub_cat"].as_array().unwrap();
        assert!(!subs.is_empty(), "{}", tab["name"]);
        for sub in subs {
            assert_eq!(sub["category_type"], 2);
            assert!(!sub["sub_cat"].as_array().unwrap().is_empty());
            assert!(sub["sub_cat"].as_array().unwrap().iter().all(|leaf| leaf["category_type"] == 3));
        }
    }
}
