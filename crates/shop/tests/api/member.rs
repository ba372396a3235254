//! The member area (contract §3.11–§3.13): favourites, messages, addresses — flows, validation,
//! ownership, concurrency and uploads.

use axum::http::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use shop::db::entities::{goods, user_address, user_fav, user_message};

use crate::support::TestApp;

async fn catalogue_goods(app: &TestApp, fav_num: i32) -> i32 {
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    fx.goods_with("解忧杂货店", top, 1500, |g| g.fav_num = sea_orm::Set(fav_num)).await
}

async fn fav_num(app: &TestApp, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().fav_num
}

#[tokio::test]
async fn favourites_flow_and_errors() {
    let app = TestApp::new().await;
    let goods_id = catalogue_goods(&app, 27).await;
    let token = app.register("13800138000", "pw123456").await;
    let t = Some(token.as_str());

    app.authed(Method::GET, &format!("/userfavs/{goods_id}/"), &token).await.assert_status(404);
    let created = app.json(Method::POST, "/userfavs/", &json!({"goods": goods_id.to_string()}), t).await;
    created.assert_status(201);
    let fav_id = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.text(), format!(r#"{{"goods":{goods_id},"id":{fav_id}}}"#));
    assert_eq!(fav_num(&app, goods_id).await, 28);

    let again = app.json(Method::POST, "/userfavs/", &json!({"goods": goods_id}), t).await;
    again.assert_status(400);
    assert_eq!(again.json(), json!({"non_field_errors": ["已经收藏"]}));
    assert_eq!(fav_num(&app, goods_id).await, 28, "a refused duplicate changes nothing");

    for (body, message) in [
        (json!({}), "该字段是必填项。"),
        (json!({"goods": 9999}), "无效主键 “9999” － 对象不存在。"),
        (json!({"goods": "abc"}), "类型错误。期望为主键，获得的类型为 str。"),
        (json!({"goods": true}), "类型错误。期望为主键，获得的类型为 bool。"),
    ] {
        let response = app.json(Method::POST, "/userfavs/", &body, t).await;
        response.assert_status(400);
        assert_eq!(response.json(), json!({"goods": [message]}), "{body}");
    }

    let detail = app.authed(Method::GET, &format!("/userfavs/{goods_id}/"), &token).await;
    assert_eq!(detail.json(), json!({"goods": goods_id, "id": fav_id}));
    let list = app.authed(Method::GET, "/userfavs/", &token).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["goods"]["name"], "解忧杂货店");
    assert_eq!(list[0]["goods"]["shop_price"], 15.0);
    assert_eq!(list[0]["id"], fav_id);

    app.authed(Method::DELETE, &format!("/userfavs/{goods_id}/"), &token).await.assert_status(204);
    assert_eq!(fav_num(&app, goods_id).await, 27);
    app.authed(Method::DELETE, &format!("/userfavs/{goods_id}/"), &token).await.assert_status(404);
    assert_eq!(fav_num(&app, goods_id).await, 27);
}

/// The favourites list writes each goods' JSON as the goods list does, for goods the catalogue
/// in memory holds and for one added since it was read (rendered from the database).
#[tokio::test]
async fn favourites_show_goods_as_the_list_does() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 600_000).await;
    let fx = app.fixture();
    let top = fx.category("文学类", 1, None, true).await;
    let sub = fx.category("小说 \"新\"", 2, Some(top), false).await;
    let first = fx.goods("解忧杂货店", sub, 1500).await;
    fx.image(first, "goods/images/一 1.png").await;
    fx.image(first, "https://cdn.example.com/2.png").await;
    let second = fx.goods("白夜行 \\ </script>", top, 3999).await;
    let listed = app.get("/goods/?page_size=100").await.json()["results"].clone();
    let by_id = |id: i32| listed.as_array().unwrap().iter().find(|goods| goods["id"] == id).unwrap().clone();
    // Added after the catalogue was read: its JSON comes from the database.
    let third = fx.goods("嫌疑人X的献身", sub, 2800).await;
    fx.image(third, "goods/images/3.png").await;
    assert!(app.get("/goods/?page_size=100").await.json()["results"].as_array().unwrap().len() == 2);

    let token = app.register("13800138000", "pw123456").await;
    let mut ids = Vec::new();
    for goods in [second, third, first] {
        let fav = app.json(Method::POST, "/userfavs/", &json!({"goods": goods}), Some(&token)).await;
        fav.assert_status(201);
        ids.push(fav.json()["id"].clone());
    }
    let response = app.authed(Method::GET, "/userfavs/", &token).await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let favourites = response.json();
    let keys = |goods: &Value| goods.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let read = favourites[1]["goods"].clone();
    assert_eq!(keys(&read), keys(&by_id(first)));
    assert_eq!(
        (&read["id"], &read["name"], &read["shop_price"], &read["category"]["name"], &read["images"]),
        (
            &json!(third),
            &json!("嫌疑人X的献身"),
            &json!(28.0),
            &json!("小说 \"新\""),
            &json!([{"image": "http://127.0.0.1:8000/media/goods/images/3.png"}])
        )
    );
    assert_eq!(
        favourites,
        json!([
            {"goods": by_id(second), "id": ids[0]},
            {"goods": read, "id": ids[1]},
            {"goods": by_id(first), "id": ids[2]},
        ])
    );
}

#[tokio::test]
async fn concurrent_favourites_keep_fav_num_exact() {
    let app = TestApp::new().await;
    let goods_id = catalogue_goods(&app, 5).await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(app.user(&format!("buyer{i}"), false).await);
    }
    let mut tasks = Vec::new();
    for token in tokens {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let request = |method: Method, uri: String, body: Option<Value>| {
                let mut builder = axum::http::Request::builder()
                    .method(method)
                    .uri(uri)
                    .header("host", "127.0.0.1:8000")
                    .header("authorization", format!("Bearer {token}"));
                let body = match body {
                    Some(body) => {
                        builder = builder.header("content-type", "application/json");
                        axum::body::Body::from(body.to_string())
                    }
                    None => axum::body::Body::empty(),
                };
                builder.body(body).unwrap()
            };
            // Each user favourites twice at once (a double click) and then unfavourites.
            let first = crate::support::call(
                router.clone(),
                request(Method::POST, "/userfavs/".into(), Some(json!({"goods": goods_id}))),
            );
            let second = crate::support::call(
                router.clone(),
                request(Method::POST, "/userfavs/".into(), Some(json!({"goods": goods_id}))),
            );
            let (a, b) = tokio::join!(first, second);
            let mut statuses = [a.status.as_u16(), b.status.as_u16()];
            statuses.sort_unstable();
            assert_eq!(statuses, [201, 400], "{} / {}", a.text(), b.text());
            let deleted =
                crate::support::call(router, request(Method::DELETE, format!("/userfavs/{goods_id}/"), None)).await;
            assert_eq!(deleted.status.as_u16(), 204, "{}", deleted.text());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(fav_num(&app, goods_id).await, 5);
    assert!(user_fav::Entity::find().all(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn messages_with_files() {
    let app = TestApp::new().await;
    let token = app.register("13800138000", "pw123456").await;
    let created = app
        .multipart(
            "/messages/",
            &[
                ("file", Some("note 1.txt"), b"hello"),
                ("subject", None, b""),
                ("message", None, b"m"),
                ("message_type", None, b"2"),
            ],
            &token,
        )
        .await;
    created.assert_status(201);
    let body = created.json();
    assert_eq!(body["message_type"], 2, "an integer, compared with === by the front end");
    assert_eq!(body["subject"], "");
    assert_eq!(body["message"], "m");
    assert_eq!(body["add_time"].as_str().unwrap().len(), "2026-11-26 06:50".len());
    let file_url = body["file"].as_str().unwrap();
    let path = file_url.strip_prefix("http://127.0.0.1:8000").unwrap();
    assert!(path.starts_with("/media/message/images/") && path.ends_with(".txt"), "{path}");
    let download = app.get(path).await;
    download.assert_status(200);
    assert_eq!(download.body, b"hello");
    assert_eq!(download.header("content-disposition"), Some("attachment"));
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));

    let list = app.authed(Method::GET, "/messages/", &token).await.json();
    assert_eq!(list, json!([body]));
    let id = body["id"].as_i64().unwrap();
    app.authed(Method::GET, &format!("/messages/{id}/"), &token).await.assert_status(405);

    for (parts, field, message) in [
        (vec![("file", None, &b""[..])], "file", "提交的数据不是一个文件。请检查表单的编码类型。"),
        (vec![("subject", None, &b"s"[..])], "file", "没有提交任何文件。"),
        (
            vec![("file", Some("a.txt"), &b"x"[..]), ("message_type", None, &b"9"[..])],
            "message_type",
            "“9” 不是合法选项。",
        ),
    ] {
        let response = app.multipart("/messages/", &parts, &token).await;
        response.assert_status(400);
        assert_eq!(response.json()[field], json!([message]), "{}", response.text());
    }
    let exe = app.multipart("/messages/", &[("file", Some("run.exe"), b"MZ")], &token).await;
    exe.assert_status(400);
    assert!(exe.json()["file"][0].as_str().unwrap().starts_with("不支持的文件类型 “exe”"), "{}", exe.text());
    let json_missing = app.json(Method::POST, "/messages/", &json!({"subject": "s"}), Some(&token)).await;
    assert_eq!(json_missing.json(), json!({"file": ["没有提交任何文件。"]}));

    app.authed(Method::DELETE, &format!("/messages/{id}/"), &token).await.assert_status(204);
    app.get(path).await.assert_status(404);
    app.authed(Method::DELETE, &format!("/messages/{id}/"), &token).await.assert_status(404);
}

#[tokio::test]
async fn uploads_are_capped_renamed_and_downloaded() {
    let app = TestApp::with_config(|config| {
        config.upload_limit_bytes = 1024;
        // Not allowed by default (see `active_types_are_refused_by_default`); allowed here to show
        // that even then an upload is never rendered.
        config.upload_extensions.push("html".into());
    })
    .await;
    let token = app.register("13800138000", "pw123456").await;
    let media = app.config.media_dir();

    let big = vec![b'x'; 1025];
    let refused = app.multipart("/messages/", &[("file", Some("big.txt"), &big)], &token).await;
    refused.assert_status(400);
    assert_eq!(refused.json(), json!({"file": ["文件大小不能超过 1 KB。"]}));
    assert!(user_message::Entity::find().all(&app.db).await.unwrap().is_empty());
    let stored_files = |dir: &std::path::Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(stored_files(&media.join("message/images")), 0, "nothing stored");

    let html = b"<script>alert(1)</script>";
    let created = app.multipart("/messages/", &[("file", Some("../../x.html"), html)], &token).await;
    created.assert_status(201);
    let url = created.json()["file"].as_str().unwrap().to_owned();
    let name = url.rsplit('/').next().unwrap();
    assert!(name.ends_with(".html") && name.len() == 32 + ".html".len(), "random name: {name}");
    assert!(media.join("message/images").join(name).is_file());
    assert!(!app.config.data_dir.join("x.html").exists() && !media.join("x.html").exists());
    let served = app.get(url.strip_prefix("http://127.0.0.1:8000").unwrap()).await;
    served.assert_status(200);
    assert_eq!(served.header("content-disposition"), Some("attachment"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(served.header("content-security-policy"), Some("sandbox"));
    assert_eq!(served.body, html);
}

#[tokio::test]
async fn active_types_are_refused_by_default() {
    let app = TestApp::new().await;
    let token = app.register("13800138000", "pw123456").await;
    for name in ["x.html", "x.HTM", "x.svg", "x.xhtml", "x.js", "x.xml"] {
        let refused = app.multipart("/messages/", &[("file", Some(name), b"<svg onload=alert(1)>")], &token).await;
        refused.assert_status(400);
        assert!(
            refused.json()["file"][0].as_str().unwrap().starts_with("不支持的文件类型"),
            "{name}: {}",
            refused.text()
        );
    }
    assert!(user_message::Entity::find().all(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn addresses_flow_and_validation() {
    let app = TestApp::new().await;
    let token = app.register("13800138000", "pw123456").await;
    let t = Some(token.as_str());
    let pristine = app.json(Method::POST, "/address/", &json!({"province": "", "city": ""}), t).await;
    pristine.assert_status(400);
    assert_eq!(pristine.json(), json!({"province": ["该字段不能为空。"], "city": ["该字段不能为空。"]}));
    let too_long = app.json(Method::POST, "/address/", &json!({"signer_mobile": "138001380001"}), t).await;
    assert_eq!(too_long.json(), json!({"signer_mobile": ["请确保这个字段不能超过 11 个字符。"]}));
    let empty = app.json(Method::POST, "/address/", &json!({}), t).await;
    empty.assert_status(201);
    assert_eq!(empty.json()["province"], "");

    let full = json!({"province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路 1 号",
                      "signer_name": "张三", "signer_mobile": "13800138000", "id": 999, "add_time": "x", "receiveName": "ignored"});
    let created = app.json(Method::POST, "/address/", &full, t).await;
    created.assert_status(201);
    let body = created.json();
    let id = body["id"].as_i64().unwrap();
    assert_ne!(id, 999);

    let patched = app.json(Method::PATCH, &format!("/address/{id}/"), &json!({"city": "宁波市", "id": 1}), t).await;
    patched.assert_status(200);
    assert_eq!(patched.json()["city"], "宁波市");
    assert_eq!(patched.json()["province"], "浙江省");
    let put = app.json(Method::PUT, &format!("/address/{id}/"), &json!({"address": "新地址"}), t).await;
    assert_eq!(put.json()["address"], "新地址");
    let blank = app.json(Method::PATCH, &format!("/address/{id}/"), &json!({"signer_name": " "}), t).await;
    assert_eq!(blank.json(), json!({"signer_name": ["该字段不能为空。"]}));
    assert_eq!(app.authed(Method::GET, &format!("/address/{id}/"), &token).await.json()["signer_name"], "张三");
    assert_eq!(app.authed(Method::GET, "/address/", &token).await.json().as_array().unwrap().len(), 2);
    app.authed(Method::DELETE, &format!("/address/{id}/"), &token).await.assert_status(204);
    app.authed(Method::GET, &format!("/address/{id}/"), &token).await.assert_status(404);
}

#[tokio::test]
async fn another_users_objects_are_404_and_untouched() {
    let app = TestApp::new().await;
    let goods_id = catalogue_goods(&app, 0).await;
    let alice = app.register("13800138000", "pw123456").await;
    let bob = app.register("15912345678", "pw123456").await;
    let a = Some(alice.as_str());

    app.json(Method::POST, "/userfavs/", &json!({"goods": goods_id}), a).await.assert_status(201);
    let address = app.json(Method::POST, "/address/", &json!({"province": "浙江省"}), a).await.json();
    let address_id = address["id"].as_i64().unwrap();
    let message = app.multipart("/messages/", &[("file", Some("a.txt"), b"a")], &alice).await.json();
    let message_id = message["id"].as_i64().unwrap();

    let attempts = [
        (Method::GET, format!("/userfavs/{goods_id}/")),
        (Method::DELETE, format!("/userfavs/{goods_id}/")),
        (Method::DELETE, format!("/messages/{message_id}/")),
        (Method::GET, format!("/address/{address_id}/")),
        (Method::PATCH, format!("/address/{address_id}/")),
        (Method::PUT, format!("/address/{address_id}/")),
        (Method::DELETE, format!("/address/{address_id}/")),
    ];
    for (method, uri) in attempts {
        let response = app.json(method.clone(), &uri, &json!({"province": "黑客省"}), Some(&bob)).await;
        response.assert_status(404);
        assert_eq!(response.json(), json!({"detail": "未找到。"}), "{method} {uri}");
    }
    for list in ["/userfavs/", "/messages/", "/address/"] {
        assert_eq!(app.authed(Method::GET, list, &bob).await.json(), json!([]), "{list}");
        assert_eq!(app.authed(Method::GET, list, &alice).await.json().as_array().unwrap().len(), 1, "{list}");
    }
    assert_eq!(app.authed(Method::GET, &format!("/address/{address_id}/"), &alice).await.json(), address);
    assert_eq!(user_fav::Entity::find().all(&app.db).await.unwrap().len(), 1);
    assert_eq!(user_message::Entity::find().all(&app.db).await.unwrap().len(), 1);
    assert_eq!(user_address::Entity::find().all(&app.db).await.unwrap()[0].province, "浙江省");
    assert_eq!(fav_num(&app, goods_id).await, 1);
}

/// The front end's real flows, in the order a shopper meets them.
#[tokio::test]
async fn a_shopper_walks_the_member_pages() {
    let app = TestApp::with_demo().await;
    let mobile = "17612345678";
    // Register: send a code (read from the log provider), then register with it.
    app.json(Method::POST, "/code/", &json!({"mobile": mobile}), None).await.assert_status(201);
    let code = app.sms.last_code(mobile).unwrap();
    let registered = app
        .json(Method::POST, "/users/", &json!({"username": mobile, "password": "shop2026", "code": code}), None)
        .await;
    registered.assert_status(201);
    // Log in by mobile, rename, log in by username.
    let token = app
        .json(Method::POST, "/login/", &json!({"username": mobile, "password": "shop2026"}), None)
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = Some(token.as_str());
    let profile = app.authed(Method::GET, "/users/", &token).await.json();
    let mut form = profile.clone();
    form["username"] = json!("shopper");
    form["birthday"] = json!("1995-06-01");
    form["sex"] = json!("");
    app.json(Method::PATCH, "/users/1/", &form, t).await.assert_status(200);
    let by_name =
        app.json(Method::POST, "/login/", &json!({"username": "shopper", "password": "shop2026"}), None).await;
    by_name.assert_status(200);
    // Favourite from the product page, check, unfavourite from the collection page.
    let goods_id = app.get("/goods/?page_size=1").await.json()["results"][0]["id"].as_i64().unwrap();
    let before = fav_num(&app, goods_id as i32).await;
    app.json(Method::POST, "/userfavs/", &json!({"goods": goods_id}), t).await.assert_status(201);
    app.authed(Method::GET, &format!("/userfavs/{goods_id}/"), &token).await.assert_status(200);
    assert_eq!(app.authed(Method::GET, "/userfavs/", &token).await.json()[0]["goods"]["id"], goods_id);
    app.authed(Method::DELETE, &format!("/userfavs/{goods_id}/"), &token).await.assert_status(204);
    assert_eq!(fav_num(&app, goods_id as i32).await, before);
    // Leave a message with a file.
    let message = app
        .multipart(
            "/messages/",
            &[
                ("file", Some("发票.pdf"), b"%PDF-1.4"),
                ("message_type", None, b"4"),
                ("subject", None, "售后".as_bytes()),
            ],
            &token,
        )
        .await;
    message.assert_status(201);
    assert_eq!(message.json()["message_type"], 4);
    // Add, edit and delete an address.
    let address = app
        .json(Method::POST, "/address/", &json!({"province": "北京市", "city": "北京市", "district": "海淀区", "address": "中关村", "signer_name": "李四", "signer_mobile": mobile}), t)
        .await
        .json();
    let id = address["id"].as_i64().unwrap();
    let mut edited = address.clone();
    edited["address"] = json!("中关村大街 1 号");
    assert_eq!(
        app.json(Method::PATCH, &format!("/address/{id}/"), &edited, t).await.json()["address"],
        "中关村大街 1 号"
    );
    app.authed(Method::DELETE, &format!("/address/{id}/"), &token).await.assert_status(204);
    assert_eq!(app.authed(Method::GET, "/address/", &token).await.json(), json!([]));
}
