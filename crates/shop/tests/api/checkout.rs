//! End to end over HTTP only, with the built-in Alipay sandbox: register → cart → order → follow
//! `alipay_url` → Pay → notification → paid once → the return lands on the orders page.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use shop::accounts::sms::LogSms;
use shop::db::entities::{goods, order_info, payment_event, refund};

use crate::support::{TEST_SECRET, TestClock, TestDatabase};

pub(crate) struct LiveShop {
    pub base: String,
    pub state: shop::AppState,
    pub db: sea_orm::DatabaseConnection,
    sms: Arc<LogSms>,
    /// The shop's clock (shared by every instance of the shop).
    pub clock: Arc<TestClock>,
    pub http: reqwest::Client,
    pub data: tempfile::TempDir,
    database_url: String,
    /// The first instance owns the database (dropped with it).
    _database: Option<TestDatabase>,
}

impl LiveShop {
    /// The real server on a free port, with the built-in sandbox mounted.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut shop::Config)) -> Self {
        let database = TestDatabase::create().await;
        let url = database.url.clone();
        let clock = Arc::new(TestClock::default());
        Self::launch(tempfile::tempdir().unwrap(), Some(database), url, clock, adjust).await
    }

    /// Another instance of the same shop: the same database and the same Alipay (this instance's
    /// sandbox, reached through `public_url`, with the same keys), its own port and job runner.
    pub async fn second_instance(&self) -> Self {
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(data.path().join("alipay")).unwrap();
        for key in ["app_private_key.pem", "sandbox_alipay_private_key.pem"] {
            std::fs::copy(self.data.path().join("alipay").join(key), data.path().join("alipay").join(key)).unwrap();
        }
        let public = self.base.clone();
        let first = self.state.config.clone();
        Self::launch(data, None, self.database_url.clone(), self.clock.clone(), move |config| {
            // The same shop: the same settings, but its own address and data directory.
            *config = shop::Config { listen: config.listen, data_dir: config.data_dir.clone(), ..(*first).clone() };
            config.alipay.public_url = Some(public);
        })
        .await
    }

    async fn launch(
        data: tempfile::TempDir,
        database: Option<TestDatabase>,
        database_url: String,
        clock: Arc<TestClock>,
        adjust: impl FnOnce(&mut shop::Config),
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = shop::Config {
            listen: addr,
            data_dir: data.path().to_path_buf(),
            secret_key: Some(shop::config::Secret::new(TEST_SECRET)),
            ..shop::Config::default()
        };
        adjust(&mut config);
        assert_eq!(config.alipay.gateway, "builtin");
        let db = shop::db::connect(&database_url, 5).await.unwrap();
        shop::db::migrate(&db).await.unwrap();
        let sms = Arc::new(LogSms::default());
        let state =
            shop::AppState::new(db.clone(), config).await.unwrap().with_sms(sms.clone()).with_clock(clock.clone());
        let server = shop::Server::with_listener(listener, state.clone());
        tokio::spawn(server.run(std::future::pending()));
        let http =
            shop::outbound::http_client_builder().unwrap().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: format!("http://{addr}"), state, db, sms, clock, http, data, database_url, _database: database }
    }

    pub async fn json(&self, method: reqwest::Method, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

pub(crate) async fn sold(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
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

impl LiveShop {
    /// A user and a token, created directly (not through the rate-limited registration).
    pub async fn user(&self, name: &str, superuser: bool) -> String {
        let user =
            shop::accounts::users::create_user(&self.db, name, None, "pw123456".into(), superuser).await.unwrap();
        shop::accounts::tokens::issue(&shop::secrets::Keys::from_secret(TEST_SECRET), &user, 3600).unwrap()
    }

    /// Puts `nums` of `goods_id` in the cart and orders it.
    pub async fn order(&self, token: &str, goods_id: i32, nums: i32) -> Value {
        let post = reqwest::Method::POST;
        let t = Some(token);
        assert_eq!(self.json(post.clone(), "/shopcarts/", json!({"goods": goods_id, "nums": nums}), t).await.0, 201);
        let (status, order) =
            self.json(post, "/orders/", json!({"post_script": "x", "singer_mobile": "13800138000"}), t).await;
        assert_eq!(status, 201, "{order}");
        order
    }

    /// Opens the order's cashier and presses Pay; returns where the browser is sent.
    pub async fn pay(&self, order: &Value) -> String {
        let trade_no = self.open_cashier(order).await;
        let paid = self
            .http
            .post(format!("{}/sandbox/alipay/cashier/pay", self.base))
            .form(&[("trade_no", trade_no.as_str())])
            .send()
            .await
            .unwrap();
        assert!(paid.status().is_redirection(), "{}", paid.status());
        paid.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Opens the order's cashier (which creates the Alipay trade); returns its `trade_no`.
    pub async fn open_cashier(&self, order: &Value) -> String {
        let page = self.http.get(order["alipay_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
        page.split("name=\"trade_no\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
    }

    pub async fn order_row(&self, order: &Value) -> order_info::Model {
        order_info::Entity::find_by_id(order["id"].as_i64().unwrap() as i32).one(&self.db).await.unwrap().unwrap()
    }

    pub fn sandbox(&self) -> &alipay_sandbox::Sandbox {
        &self.state.sandbox.as_ref().expect("the built-in sandbox").sandbox
    }
}

pub(crate) async fn stock(db: &sea_orm::DatabaseConnection, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(db).await.unwrap().unwrap().goods_num
}

pub(crate) async fn shelf(shop: &LiveShop) -> i32 {
    let fx = crate::support::Fixture { db: &shop.db };
    let top = fx.category("文学类", 1, None, true).await;
    fx.goods_with("解忧杂货店", top, 9990, |g| {
        g.sold_num = Set(24);
        g.goods_num = Set(29);
    })
    .await
}

#[tokio::test]
async fn lost_notifications_are_recovered_by_reconciliation() {
    let shop = LiveShop::start().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 2).await;
    let _ignored_return = shop.pay(&order).await;
    // The sandbox has tried to notify (and dropped it): the shop heard nothing.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.sandbox().snapshot().await.notifications.iter().all(|n| n.attempts.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "the sandbox made no delivery attempt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(shop.order_row(&order).await.pay_status, "paying", "no notification, no return: not paid yet");

    // A young order is left to its notification; one older than two minutes is asked about.
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap().reconciled, 0);
    shop.clock.advance(chrono::TimeDelta::minutes(3));
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(report.reconciled, 1);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");
    assert_eq!(sold(&shop.db, goods_id).await, 26);
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap(), Default::default(), "nothing left to do");
    assert_eq!(sold(&shop.db, goods_id).await, 26);
}

#[tokio::test]
async fn unpaid_orders_expire_and_release_stock() {
    let shop = LiveShop::start().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let order = shop.order(&token, goods_id, 4).await;
    // The buyer opens the cashier but never pays.
    let trade_no = shop.open_cashier(&order).await;
    assert_eq!(stock(&shop.db, goods_id).await, 25);
    // Not before its deadline…
    let deadline = shop.order_row(&order).await.expire_at;
    shop.clock.advance(deadline - shop::clock::now_utc() - chrono::TimeDelta::seconds(60));
    assert_eq!(shop::payments::jobs::run_once(&shop.state).await.unwrap().expired, 0);
    // …and once it has passed.
    shop.clock.advance(chrono::TimeDelta::seconds(61));
    let report = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED");
    assert_eq!(stock(&shop.db, goods_id).await, 29, "stock released");
    // The trade is closed at the gateway too: the cashier can no longer take the payment.
    let paid = shop
        .http
        .post(format!("{}/sandbox/alipay/cashier/pay", shop.base))
        .form(&[("trade_no", trade_no.as_str())])
        .send()
        .await
        .unwrap();
    assert!(!paid.status().is_redirection(), "the closed trade took a payment: {}", paid.status());
    let trade = shop.sandbox().snapshot().await.trades.into_iter().find(|t| t.trade_no == trade_no).unwrap();
    assert_eq!(trade.status, alipay::TradeStatus::TradeClosed);
    let again = shop::payments::jobs::run_once(&shop.state).await.unwrap();
    assert_eq!(again.expired, 0, "closed once");
    assert_eq!(stock(&shop.db, goods_id).await, 29);
}

#[tokio::test]
async fn a_late_payment_is_refunded_through_the_gateway() {
    let shop = LiveShop::start().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    shop.sandbox().drop_next_deliveries(1000).await.unwrap();
    let order = shop.order(&token, goods_id, 1).await;
    let return_url = shop.pay(&order).await;
    // The expiry ran just before the payment landed.
    assert!(
        shop::payments::apply::close_unpaid(
            &shop.db,
            shop.order_row(&order).await.id,
            shop::trade::status::PayEvent::Expired,
            false,
            None
        )
        .await
        .unwrap()
    );
    let returned = shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(returned.status().as_u16(), 302);
    let row = shop.order_row(&order).await;
    assert_eq!(row.pay_status, "TRADE_CLOSED", "stays closed");
    assert_eq!(sold(&shop.db, goods_id).await, 24);
    let refunds = refund::Entity::find().all(&shop.db).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!((refunds[0].amount_fen, refunds[0].status.as_str()), (9990, "succeeded"));
}

#[tokio::test]
async fn staff_refunds_partial_partial_over_rest() {
    let shop = LiveShop::start().await;
    let goods_id = shelf(&shop).await;
    let token = shop.user("buyer", false).await;
    let staff = shop.user("staff", true).await;
    let order = shop.order(&token, goods_id, 3).await;
    let return_url = shop.pay(&order).await;
    shop.http.get(&return_url).send().await.unwrap();
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");

    let uri = format!("/admin/orders/{}/refund/", order["id"]);
    let post = reqwest::Method::POST;
    let s = Some(staff.as_str());
    let (status, first) =
        shop.json(post.clone(), &uri, json!({"amount": "100.00", "reason": "破损", "out_request_no": "r-1"}), s).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "succeeded");
    assert_eq!(first["amount"], 100.0);
    let (status, second) = shop.json(post.clone(), &uri, json!({"amount": "50", "reason": "补偿"}), s).await;
    assert_eq!((status, second["status"].as_str()), (201, Some("succeeded")));
    let (status, over) = shop.json(post.clone(), &uri, json!({"amount": "149.71"}), s).await;
    assert_eq!(status, 400, "{over}");
    assert_eq!(over, json!({"amount": ["退款总额不能超过实付金额：已退 150.00，可退 149.70。"]}));
    let (status, replay) = shop.json(post.clone(), &uri, json!({"amount": "100.00", "out_request_no": "r-1"}), s).await;
    assert_eq!(status, 200, "a replay is the same refund");
    assert_eq!(replay["id"], first["id"]);
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_SUCCESS");
    let (status, rest) = shop.json(post, &uri, json!({"amount": "149.70"}), s).await;
    assert_eq!((status, rest["status"].as_str()), (201, Some("succeeded")));
    assert_eq!(shop.order_row(&order).await.pay_status, "TRADE_CLOSED", "a full refund closes the order");
    let (_, listed) = shop.json(reqwest::Method::GET, &uri, Value::Null, s).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let refunded: i64 = refund::Entity::find().all(&shop.db).await.unwrap().iter().map(|r| r.amount_fen).sum();
    assert_eq!(refunded, 29970);
}
