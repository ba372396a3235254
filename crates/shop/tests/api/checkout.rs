//! End to end over HTTP only, with the built-in Alipay sandbox: register → cart → order → follow
//! `alipay_url` → Pay → notification → paid once → the return lands on the orders page.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use shop::accounts::sms::LogSms;
use shop::db::entities::{goods, payment_event};

use crate::support::{TEST_SECRET, TestDatabase};

struct LiveShop {
    base: String,
    db: sea_orm::DatabaseConnection,
    sms: Arc<LogSms>,
    http: reqwest::Client,
    _data: tempfile::TempDir,
    _database: TestDatabase,
}

impl LiveShop {
    /// The real server on a free port, with the built-in sandbox mounted.
    async fn start() -> Self {
        let database = TestDatabase::create().await;
        let data = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = shop::Config {
            listen: addr,
            data_dir: data.path().to_path_buf(),
            secret_key: Some(shop::config::Secret::new(TEST_SECRET)),
            ..shop::Config::default()
        };
        assert_eq!(config.alipay.gateway, "builtin");
        let db = shop::db::connect(&database.url, 5).await.unwrap();
        shop::db::migrate(&db).await.unwrap();
        let sms = Arc::new(LogSms::default());
        let state = shop::AppState { sms: sms.clone(), ..shop::AppState::new(db.clone(), config).await.unwrap() };
        let server = shop::Server::with_listener(listener, state);
        tokio::spawn(server.run(std::future::pending()));
        let http =
            shop::outbound::http_client_builder().unwrap().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: format!("http://{addr}"), db, sms, http, _data: data, _database: database }
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn sold(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().sold_num
}

#[tokio::test]
async fn pay_with_the_builtin_sandbox() {
    let shop = LiveShop::start().await;
    let fx = crate::support::Fixture { db: &shop.db };
    let top = fx.category("文学类", 1, None, true).await;
    let goods_id = fx.goods_with("解忧杂货店", top, 9990, |g| g.sold_num = Set(24)).await;
    let post = reqwest::Method::POST;

    let mobile = "13800138000";
    assert_eq!(shop.json(post.clone(), "/code/", json!({"mobile": mobile}), None).await.0, 201);
    let code = shop.sms.last_code(mobile).unwrap();
    let (status, registered) = shop
        .json(post.clone(), "/users/", json!({"username": mobile, "password": "pw123456", "code": code}), None)
        .await;
    assert_eq!(status, 201);
    let token = registered["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    assert_eq!(shop.json(post.clone(), "/shopcarts/", json!({"goods": goods_id, "nums": 3}), t).await.0, 201);
    let (status, order) = shop
        .json(post.clone(), "/orders/", json!({"post_script": "快", "singer_mobile": mobile, "order_mount": 299.7}), t)
        .await;
    assert_eq!(status, 201, "{order}");
    let alipay_url = order["alipay_url"].as_str().unwrap();
    assert!(alipay_url.starts_with(&format!("{}/sandbox/alipay/gateway.do?", shop.base)), "{alipay_url}");

    // The cashier: opening it creates the trade; it shows the amount and the order number.
    let cashier = shop.http.get(alipay_url).send().await.unwrap();
    assert_eq!(cashier.status().as_u16(), 200);
    let page = cashier.text().await.unwrap();
    assert!(page.contains("299.70") && page.contains(order["order_sn"].as_str().unwrap()), "{page}");
    let trade_no = page.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // Pay: the browser is sent to return_url with the signed return fields.
    let paid = shop
        .http
        .post(format!("{}/sandbox/alipay/cashier/pay", shop.base))
        .form(&[("trade_no", trade_no.as_str())])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_redirection(), "{}", paid.status());
    let return_url = paid.headers()["location"].to_str().unwrap().to_owned();
    assert!(return_url.starts_with(&format!("{}/alipay/return/?", shop.base)), "{return_url}");
    let returned = shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(returned.status().as_u16(), 302);
    assert_eq!(returned.headers()["location"], "/index/#/app/home/member/order");

    // The notification arrives (and the return asked the gateway too): paid exactly once.
    let id = order["id"].as_i64().unwrap();
    let mut status = String::new();
    let mut notified = false;
    for _ in 0..100 {
        let (_, detail) = shop.json(reqwest::Method::GET, &format!("/orders/{id}/"), Value::Null, t).await;
        status = detail["pay_status"].as_str().unwrap_or_default().to_owned();
        notified = payment_event::Entity::find()
            .all(&shop.db)
            .await
            .unwrap()
            .iter()
            .any(|e| e.notify_id != "return" && e.notify_id != "reconcile");
        if status == "TRADE_SUCCESS" && notified {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "TRADE_SUCCESS");
    assert!(notified, "the sandbox's notification reached /alipay/return/");
    assert_eq!(sold(&shop.db, goods_id).await, 27, "sold_num up once");
    let events = payment_event::Entity::find().all(&shop.db).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.verdict == "applied").count(), 1, "{events:?}");
    let (_, listed) = shop.json(reqwest::Method::GET, "/orders/", Value::Null, t).await;
    assert_eq!(listed[0]["pay_status"], "TRADE_SUCCESS");
    assert_eq!(listed[0]["alipay_url"], Value::Null);
}
