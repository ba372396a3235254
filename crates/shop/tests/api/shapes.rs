//! The shape of every API answer, pinned in snapshots (`snapshots/api__shapes__*.snap`): for each
//! route and outcome the Vue client or an operator meets, the status and the JSON with its keys in
//! order and each value replaced by its type. A paid order and a refund need Alipay, so they are
//! taken from the real server with its built-in sandbox. A renamed, reordered, added or dropped
//! key, or a number that became a string, shows up as a diff of that file (`cargo insta review`
//! after an intended change).

use axum::http::Method;
use serde_json::{Map, Value, json};

use crate::support::{TestApp, TestResponse};

/// The JSON's shape: objects keep their keys in order, arrays show their first element, every
/// other value becomes its type.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("integer"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::Object(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// What a response looks like: the JSON's shape, or the content type of anything else.
fn outline(response: &TestResponse) -> Value {
    let content_type = response.header("content-type").unwrap_or_default();
    if response.body.is_empty() {
        json!("(no body)")
    } else if content_type.starts_with("application/json") {
        shape(&response.json())
    } else {
        json!(format!("({})", content_type.split(';').next().unwrap_or_default()))
    }
}

/// Responses by `METHOD route -> status`, in the order they were made.
#[derive(Default)]
struct Shapes(Map<String, Value>);

impl Shapes {
    fn insert(&mut self, method: &Method, route: &str, status: u16, outline: Value) {
        let key = format!("{method} {route} -> {status}");
        if let Some(seen) = self.0.get(&key) {
            assert_eq!(seen, &outline, "{key} answered in two shapes");
        }
        self.0.insert(key, outline);
    }

    fn record(&mut self, method: &Method, route: &str, response: &TestResponse) -> Value {
        self.insert(method, route, response.status.as_u16(), outline(response));
        if response.body.is_empty() || !response.header("content-type").unwrap_or_default().contains("json") {
            Value::Null
        } else {
            response.json()
        }
    }
}

#[tokio::test]
async fn every_route_answers_in_its_pinned_shape() {
    let app = TestApp::with_demo().await;
    let mut shapes = Shapes::default();
    let token = app.register("13800138000", "pw123456").await;
    let t = Some(token.as_str());
    let user_id = TestApp::user_id(&token);
    let staff = {
        let user = shop::accounts::users::create_user(&app.db, "staff", None, "pw123456".into(), true).await.unwrap();
        shop::accounts::tokens::issue(&shop::secrets::Keys::from_secret(crate::support::TEST_SECRET), &user, 3600)
            .unwrap()
    };
    let goods_id = app.get("/goods/?page_size=1").await.json()["results"][0]["id"].as_i64().unwrap();
    let category_id = app.get("/categories/").await.json()[0]["id"].as_i64().unwrap();

    // The catalogue, anonymous.
    for (route, uri) in [
        ("/goods/", "/goods/?page_size=2".to_owned()),
        ("/goods/{id}/", format!("/goods/{goods_id}/")),
        ("/categories/", "/categories/".to_owned()),
        ("/categories/{id}/", format!("/categories/{category_id}/")),
        ("/banners/", "/banners/".to_owned()),
        ("/hotsearchs/", "/hotsearchs/".to_owned()),
        ("/indexgoods/", "/indexgoods/".to_owned()),
        ("/goods/{id}/", "/goods/999999/".to_owned()),
        ("/goods/", "/goods/?page=999".to_owned()),
        ("/health/", "/health/".to_owned()),
        ("/ready/", "/ready/".to_owned()),
    ] {
        shapes.record(&Method::GET, route, &app.get(&uri).await);
    }

    // Accounts.
    let post = |uri: &'static str, body: Value, token: Option<&'static str>| (uri, body, token);
    for (uri, body, token) in [
        post("/code/", json!({"mobile": "13900139000"}), None),
        post("/code/", json!({"mobile": "123"}), None),
        post("/users/", json!({"username": "13900139000", "password": "pw123456", "code": "0000"}), None),
        post("/login/", json!({"username": "13800138000", "password": "pw123456"}), None),
        post("/login/", json!({"username": "13800138000", "password": "wrong"}), None),
    ] {
        shapes.record(&Method::POST, uri, &app.json(Method::POST, uri, &body, token).await);
    }
    let code = app.sms.last_code("13900139000").unwrap();
    let body = json!({"username": "13900139000", "password": "pw123456", "code": code});
    shapes.record(&Method::POST, "/users/", &app.json(Method::POST, "/users/", &body, None).await);
    let me = format!("/users/{user_id}/");
    shapes.record(&Method::GET, "/users/{id}/", &app.authed(Method::GET, &me, &token).await);
    shapes.record(&Method::GET, "/users/", &app.authed(Method::GET, "/users/", &token).await);
    shapes.record(&Method::GET, "/users/{id}/", &app.get(&me).await);
    let profile = json!({"name": "小明", "gender": "female", "birthday": "2000-01-02", "email": "a@b.cn"});
    shapes.record(&Method::PATCH, "/users/{id}/", &app.json(Method::PATCH, &me, &profile, t).await);
    shapes.record(&Method::PUT, "/users/{id}/", &app.json(Method::PUT, &me, &json!({"email": "x"}), t).await);

    // Favourites, messages, addresses.
    let fav = json!({"goods": goods_id});
    shapes.record(&Method::POST, "/userfavs/", &app.json(Method::POST, "/userfavs/", &fav, t).await);
    shapes.record(&Method::POST, "/userfavs/", &app.json(Method::POST, "/userfavs/", &fav, t).await);
    shapes.record(&Method::GET, "/userfavs/", &app.authed(Method::GET, "/userfavs/", &token).await);
    let one_fav = format!("/userfavs/{goods_id}/");
    shapes.record(&Method::GET, "/userfavs/{id}/", &app.authed(Method::GET, &one_fav, &token).await);
    shapes.record(&Method::DELETE, "/userfavs/{id}/", &app.authed(Method::DELETE, &one_fav, &token).await);
    let parts: &[(&str, Option<&str>, &[u8])] = &[
        ("message_type", None, b"1"),
        ("subject", None, b"s"),
        ("message", None, b"m"),
        ("file", Some("a.txt"), b"x"),
    ];
    let message = shapes.record(&Method::POST, "/messages/", &app.multipart("/messages/", parts, &token).await);
    shapes.record(&Method::POST, "/messages/", &app.multipart("/messages/", &[], &token).await);
    shapes.record(&Method::GET, "/messages/", &app.authed(Method::GET, "/messages/", &token).await);
    let one_message = format!("/messages/{}/", message["id"]);
    shapes.record(&Method::DELETE, "/messages/{id}/", &app.authed(Method::DELETE, &one_message, &token).await);
    let address = json!({"province": "北京市", "city": "北京市", "district": "海淀区", "address": "中关村",
        "signer_name": "小明", "signer_mobile": "13800138000"});
    let created = shapes.record(&Method::POST, "/address/", &app.json(Method::POST, "/address/", &address, t).await);
    let bad = json!({"signer_mobile": "138001380001"});
    shapes.record(&Method::POST, "/address/", &app.json(Method::POST, "/address/", &bad, t).await);
    shapes.record(&Method::GET, "/address/", &app.authed(Method::GET, "/address/", &token).await);
    let one_address = format!("/address/{}/", created["id"]);
    shapes.record(&Method::GET, "/address/{id}/", &app.authed(Method::GET, &one_address, &token).await);
    let city = json!({"city": "上海市"});
    shapes.record(&Method::PATCH, "/address/{id}/", &app.json(Method::PATCH, &one_address, &city, t).await);
    shapes.record(&Method::PUT, "/address/{id}/", &app.json(Method::PUT, &one_address, &address, t).await);
    shapes.record(&Method::DELETE, "/address/{id}/", &app.authed(Method::DELETE, &one_address, &token).await);

    // The cart and orders.
    let line = json!({"goods": goods_id, "nums": 2});
    shapes.record(&Method::POST, "/shopcarts/", &app.json(Method::POST, "/shopcarts/", &line, t).await);
    shapes.record(&Method::POST, "/shopcarts/", &app.json(Method::POST, "/shopcarts/", &json!({}), t).await);
    shapes.record(&Method::GET, "/shopcarts/", &app.authed(Method::GET, "/shopcarts/", &token).await);
    let one_line = format!("/shopcarts/{goods_id}/");
    shapes.record(&Method::GET, "/shopcarts/{id}/", &app.authed(Method::GET, &one_line, &token).await);
    let nums = json!({"nums": 3});
    shapes.record(&Method::PATCH, "/shopcarts/{id}/", &app.json(Method::PATCH, &one_line, &nums, t).await);
    shapes.record(&Method::PUT, "/shopcarts/{id}/", &app.json(Method::PUT, &one_line, &nums, t).await);
    let gone = format!("/shopcarts/{goods_id}/");
    app.json(Method::POST, "/shopcarts/", &json!({"goods": goods_id, "nums": 1}), t).await.assert_status(201);
    shapes.record(&Method::DELETE, "/shopcarts/{id}/", &app.authed(Method::DELETE, &gone, &token).await);
    app.json(Method::POST, "/shopcarts/", &line, t).await.assert_status(201);
    let order =
        json!({"post_script": "快点", "address": "北京市", "signer_name": "小明", "singer_mobile": "13800138000"});
    let placed = shapes.record(&Method::POST, "/orders/", &app.json(Method::POST, "/orders/", &order, t).await);
    shapes.record(&Method::POST, "/orders/", &app.json(Method::POST, "/orders/", &order, t).await);
    shapes.record(&Method::GET, "/orders/", &app.authed(Method::GET, "/orders/", &token).await);
    let one_order = format!("/orders/{}/", placed["id"]);
    shapes.record(&Method::GET, "/orders/{id}/", &app.authed(Method::GET, &one_order, &token).await);
    let refund = format!("/admin/orders/{}/refund/", placed["id"]);
    shapes.record(&Method::GET, "/admin/orders/{id}/refund/", &app.authed(Method::GET, &refund, &staff).await);
    let amount = json!({"amount": "1.00"});
    let staff_post = app.json(Method::POST, &refund, &amount, Some(staff.as_str())).await;
    shapes.record(&Method::POST, "/admin/orders/{id}/refund/", &staff_post);
    shapes.record(&Method::POST, "/admin/orders/{id}/refund/", &app.json(Method::POST, &refund, &amount, t).await);
    shapes.record(&Method::DELETE, "/orders/{id}/", &app.authed(Method::DELETE, &one_order, &token).await);
    shapes.record(&Method::GET, "/alipay/return/", &app.get("/alipay/return/?out_trade_no=x").await);

    // Refusals every authenticated route shares.
    shapes.record(&Method::GET, "/orders/", &app.get("/orders/").await);
    shapes.record(&Method::GET, "/orders/", &app.authed(Method::GET, "/orders/", "not-a-token").await);

    insta::assert_json_snapshot!("responses", Value::Object(shapes.0));
}

#[tokio::test]
async fn a_paid_order_and_its_refunds_answer_in_their_pinned_shapes() {
    let shop = TestApp::served().await;
    let mut shapes = Shapes::default();
    let goods_id = crate::checkout::shelf(&shop).await;
    let buyer = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&buyer, goods_id, 2).await;
    let return_url = shop.pay(&order).await;
    assert_eq!(shop.http.get(&return_url).send().await.unwrap().status().as_u16(), 302);
    let mut call = async |method: Method, route: &str, uri: &str, body: Value, token: &str| {
        let (status, answer) = shop.fetch(method.clone(), uri, body, Some(token)).await;
        shapes.insert(&method, route, status, shape(&answer));
        answer
    };
    let one = format!("/orders/{}/", order["id"]);
    let paid = call(Method::GET, "/orders/{id}/", &one, Value::Null, &buyer).await;
    assert_eq!(paid["pay_status"], "TRADE_SUCCESS");
    call(Method::GET, "/orders/", "/orders/", Value::Null, &buyer).await;
    let refunds = format!("/admin/orders/{}/refund/", order["id"]);
    let refund = json!({"amount": "1.00", "reason": "破损", "out_request_no": "shape-1"});
    call(Method::POST, "/admin/orders/{id}/refund/", &refunds, refund.clone(), &staff).await;
    call(Method::POST, "/admin/orders/{id}/refund/", &refunds, refund, &staff).await;
    let listed = call(Method::GET, "/admin/orders/{id}/refund/", &refunds, Value::Null, &staff).await;
    assert_eq!(listed[0]["status"], "succeeded", "{listed}");
    insta::assert_json_snapshot!("paid", Value::Object(shapes.0));
}
