//! The built-in storefront (`/shop/`): a visitor with a cookie jar drives the real router. Every
//! form's bad input must come back as a page with a message (never a 500 or a blank page) and
//! change nothing; forms without the session's CSRF token are refused.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Method, Request};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use shop::db::entities::{goods, order_info, shopping_cart};

use crate::support::{TestApp, TestResponse};

/// A browser: cookies kept between requests, forms posted URL-encoded (or multipart).
struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
    user_agent: &'static str,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app, cookies: HashMap::new(), user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126" }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &TestResponse) {
        for value in response.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(attributes.contains("HttpOnly") && attributes.contains("SameSite=Lax"), "{text}");
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> TestResponse {
        let request = request
            .header("host", "127.0.0.1:8000")
            .header("cookie", self.cookie_header())
            .header("user-agent", self.user_agent)
            .body(body)
            .unwrap();
        let response = self.app.request(request).await;
        self.keep_cookies(&response);
        assert!(!response.status.is_server_error(), "{}: {}", response.status, response.text());
        if response.status.is_success() || response.status.is_client_error() {
            // Every page is a whole HTML page, whatever went wrong.
            let text = response.text();
            assert!(text.starts_with("<!DOCTYPE html>") && text.contains("</html>"), "{text}");
        }
        response
    }

    async fn get(&mut self, uri: &str) -> TestResponse {
        self.send(Request::builder().uri(uri), Body::empty()).await
    }

    /// Posts `fields` with the CSRF token of the page at `page`, as the browser would.
    async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = csrf_of(&self.get(page).await.text());
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Posts exactly `fields` (no token unless one is among them).
    async fn post(&mut self, action: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri(action)
            .header("content-type", "application/x-www-form-urlencoded");
        self.send(request, Body::from(body)).await
    }

    async fn register(&mut self, mobile: &str) {
        self.submit("/shop/register/", "/shop/register/code/", &[("username", mobile)]).await.assert_status(200);
        let code = self.app.sms.last_code(mobile).unwrap();
        let done = self
            .submit(
                "/shop/register/",
                "/shop/register/",
                &[("username", mobile), ("code", &code), ("password", "secret123")],
            )
            .await;
        done.assert_status(303);
        assert!(self.cookies.contains_key("mxshop_session"));
    }
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[start..start + 64].to_owned()
}

fn assert_shows(response: &TestResponse, status: u16, message: &str) {
    response.assert_status(status);
    assert!(response.text().contains(message), "expected “{message}” in: {}", response.text());
}

async fn stock_of(app: &TestApp, id: i32) -> i32 {
    goods::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().goods_num
}

async fn price_of(app: &TestApp, id: i32) -> i64 {
    goods::Entity::find_by_id(id).one(&app.db).await.unwrap().unwrap().shop_price_fen
}

async fn cart_size(app: &TestApp) -> usize {
    shopping_cart::Entity::find().all(&app.db).await.unwrap().len()
}

#[tokio::test]
async fn catalogue_pages_render_and_escape() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    let home = browser.get("/shop/").await;
    home.assert_status(200);
    assert!(home.text().contains("新品推荐"));
    let policy = home.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    let root = app.get("/").await;
    root.assert_status(200);
    assert!(root.text().contains("新品推荐"), "without a Vue bundle, / is the storefront");

    let listing = browser.get("/shop/category/1/?ordering=-shop_price&pricemin=10&pricemax=500").await;
    listing.assert_status(200);
    assert!(listing.text().contains("共 "));
    assert_shows(&browser.get("/shop/category/1/?pricemin=abc").await, 200, "输入一个数字。");
    assert_shows(&browser.get("/shop/category/1/?page=999").await, 404, "不存在");
    assert_shows(&browser.get("/shop/category/999999/").await, 404, "不存在");
    assert_shows(&browser.get("/shop/goods/999999/").await, 404, "不存在");
    assert_shows(&browser.get("/shop/goods/abc/").await, 404, "不存在");
    let search = browser.get("/shop/search/?search=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    search.assert_status(200);
    assert!(
        !search.text().contains("<script>alert") && search.text().contains("script&#62;alert"),
        "{}",
        search.text()
    );

    // The description is the admin's HTML, sanitised.
    let mut row: goods::ActiveModel = goods::Entity::find_by_id(1).one(&app.db).await.unwrap().unwrap().into();
    row.goods_desc =
        Set("<p onclick=\"x()\">好货</p><script>alert(1)</script><img src=\"/media/a.png\" onerror=\"x()\">".into());
    row.update(&app.db).await.unwrap();
    let detail = browser.get("/shop/goods/1/").await.text();
    assert!(detail.contains("<p>好货</p>"), "{detail}");
    assert!(!detail.contains("<script>alert") && !detail.contains("onclick") && !detail.contains("onerror"));
    // Without a cache period (as in these tests), each view is written at once.
    let clicks = goods::Entity::find_by_id(2).one(&app.db).await.unwrap().unwrap().click_num;
    browser.get("/shop/goods/2/").await.assert_status(200);
    assert_eq!(goods::Entity::find_by_id(2).one(&app.db).await.unwrap().unwrap().click_num, clicks + 1);
    for asset in ["/shop/assets/shop.css", "/shop/assets/shop.js"] {
        app.get(asset).await.assert_status(200);
    }
    app.get("/shop/assets/nothing.js").await.assert_status(404);
}

#[tokio::test]
async fn registration_form_errors_are_shown_next_to_the_fields() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    assert_shows(&browser.submit("/shop/register/", "/shop/register/code/", &[("username", "")]).await, 400, "该字段");
    assert_shows(
        &browser.submit("/shop/register/", "/shop/register/code/", &[("username", "12345")]).await,
        400,
        "手机号码非法",
    );
    let sent = browser.submit("/shop/register/", "/shop/register/code/", &[("username", "13800138000")]).await;
    assert_shows(&sent, 200, "服务器日志");
    let empty =
        browser.submit("/shop/register/", "/shop/register/", &[("username", ""), ("code", ""), ("password", "")]).await;
    assert_shows(&empty, 400, "该字段不能为空。");
    assert_shows(&empty, 400, "请输入验证码");
    let wrong = browser
        .submit(
            "/shop/register/",
            "/shop/register/",
            &[("username", "13800138000"), ("code", "0000"), ("password", "secret123")],
        )
        .await;
    let code = app.sms.last_code("13800138000").unwrap();
    if code != "0000" {
        assert_shows(&wrong, 400, "验证码错误");
    }
    let short = browser
        .submit(
            "/shop/register/",
            "/shop/register/",
            &[("username", "13800138000"), ("code", &code), ("password", "1")],
        )
        .await;
    assert_shows(&short, 400, "密码长度应为6到20个字符。");
    assert!(!browser.cookies.contains_key("mxshop_session"));
    let done = browser
        .submit(
            "/shop/register/",
            "/shop/register/",
            &[("username", "13800138000"), ("code", &code), ("password", "secret123")],
        )
        .await;
    done.assert_status(303);
    assert!(browser.cookies.contains_key("mxshop_session"));
    // The mobile, now taken, is refused for a second account.
    let mut other = Browser::new(&app);
    assert_shows(
        &other.submit("/shop/register/", "/shop/register/code/", &[("username", "13800138000")]).await,
        400,
        "用户已经存在",
    );
}

#[tokio::test]
async fn login_logout_and_password_change() {
    let app = TestApp::with_demo().await;
    app.user("alice", false).await;
    let mut browser = Browser::new(&app);
    let empty = browser.submit("/shop/login/", "/shop/login/", &[("username", ""), ("password", "")]).await;
    assert_shows(&empty, 400, "该字段不能为空。");
    let wrong =
        browser.submit("/shop/login/", "/shop/login/", &[("username", "alice"), ("password", "nope1234")]).await;
    assert_shows(&wrong, 400, "无法使用提供的认证信息登录。");
    let ok = browser
        .submit(
            "/shop/login/",
            "/shop/login/",
            &[("username", "alice"), ("password", "pw123456"), ("next", "/shop/cart/")],
        )
        .await;
    ok.assert_status(303);
    assert_eq!(ok.header("location"), Some("/shop/cart/"));
    // No open redirect through `next`.
    let mut elsewhere = Browser::new(&app);
    let away = elsewhere
        .submit(
            "/shop/login/",
            "/shop/login/",
            &[("username", "alice"), ("password", "pw123456"), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(away.header("location"), Some("/shop/"));
    assert!(browser.get("/shop/").await.text().contains("alice"));

    let logout = browser.submit("/shop/", "/shop/logout/", &[]).await;
    logout.assert_status(303);
    assert!(!browser.cookies.contains_key("mxshop_session"));
    assert!(browser.get("/shop/cart/").await.header("location").unwrap().starts_with("/shop/login/"));

    // A password change ends every session, the other browser's included.
    browser
        .submit("/shop/login/", "/shop/login/", &[("username", "alice"), ("password", "pw123456")])
        .await
        .assert_status(303);
    let wrong_old = browser
        .submit(
            "/shop/profile/",
            "/shop/profile/password/",
            &[("old_password", "bad12345"), ("new_password", "newpass123")],
        )
        .await;
    assert_shows(&wrong_old, 400, "原密码不正确。");
    let changed = browser
        .submit(
            "/shop/profile/",
            "/shop/profile/password/",
            &[("old_password", "pw123456"), ("new_password", "newpass123")],
        )
        .await;
    changed.assert_status(303);
    assert!(!browser.cookies.contains_key("mxshop_session"));
    let stale = elsewhere.get("/shop/profile/").await;
    stale.assert_status(303);
    assert!(!elsewhere.cookies.contains_key("mxshop_session"), "the other session was ended and its cookie cleared");
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    browser.register("13800138001").await;
    let stale = "页面已过期";
    assert_shows(&browser.post("/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await, 403, stale);
    assert_shows(&browser.post("/shop/cart/add/", &[("csrf", "00"), ("goods", "1"), ("nums", "1")]).await, 403, stale);
    assert_eq!(cart_size(&app).await, 0);
    assert_shows(&browser.post("/shop/logout/", &[]).await, 403, stale);
    assert!(browser.cookies.contains_key("mxshop_session"), "still signed in");
    assert_shows(&browser.post("/shop/login/", &[("username", "x"), ("password", "y")]).await, 403, stale);
    assert_shows(&browser.post("/shop/checkout/", &[("address", "new")]).await, 403, stale);
    assert_shows(&browser.post("/shop/addresses/", &[("province", "x")]).await, 403, stale);
    assert_shows(&browser.post("/shop/profile/", &[("username", "x")]).await, 403, stale);
    // A token from another browser does not pass either.
    let mut other = Browser::new(&app);
    let foreign = csrf_of(&other.get("/shop/login/").await.text());
    assert_shows(
        &browser.post("/shop/cart/add/", &[("csrf", &foreign), ("goods", "1"), ("nums", "1")]).await,
        403,
        stale,
    );
    assert_eq!(cart_size(&app).await, 0);
}

#[tokio::test]
async fn cart_and_checkout_errors_are_messages_and_orders_are_the_apis() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    // Signed out, the cart sends to the login page.
    let add = browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await;
    assert_eq!(add.header("location"), Some("/shop/login/?next=%2Fshop%2Fgoods%2F1%2F"));
    browser.register("13800138002").await;

    let stock = stock_of(&app, 1).await;
    let too_many = (stock + 1).to_string();
    assert_shows(
        &browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", &too_many)]).await,
        400,
        "库存不足",
    );
    assert_shows(
        &browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "")]).await,
        400,
        "请填写合法的整数值。",
    );
    assert_shows(
        &browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "0")]).await,
        400,
        "商品数量不能小于一",
    );
    assert_eq!(cart_size(&app).await, 0);
    browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await.assert_status(303);
    browser.submit("/shop/goods/2/", "/shop/cart/add/", &[("goods", "2"), ("nums", "2")]).await.assert_status(303);
    assert_shows(&browser.submit("/shop/cart/", "/shop/cart/1/", &[("nums", &too_many)]).await, 400, "库存不足");
    browser.submit("/shop/cart/", "/shop/cart/1/", &[("nums", "3")]).await.assert_status(303);
    let cart = browser.get("/shop/cart/").await.text();
    let total = 3 * price_of(&app, 1).await + 2 * price_of(&app, 2).await;
    let total_text = format!("{}.{:02}", total / 100, total % 100);
    assert!(cart.contains(&format!("¥{total_text}")), "{cart}");

    let checkout = "/shop/checkout/";
    let empty = browser
        .submit(checkout, checkout, &[("address", "new"), ("order_mount", &total_text), ("post_script", "")])
        .await;
    assert_shows(&empty, 400, "该字段是必填项。");
    let address = [
        ("address", "new"),
        ("province", "北京市"),
        ("city", "北京市"),
        ("district", "海淀区"),
        ("detail", "中关村大街 1 号"),
        ("signer_name", "张三"),
    ];
    let mut fields = address.to_vec();
    fields.extend([("signer_mobile", "123"), ("order_mount", total_text.as_str()), ("post_script", "快")]);
    assert_shows(&browser.submit(checkout, checkout, &fields).await, 400, "手机号码非法");
    let mut fields = address.to_vec();
    fields.extend([("signer_mobile", "13912345678"), ("order_mount", "0.01"), ("post_script", "快")]);
    assert_shows(&browser.submit(checkout, checkout, &fields).await, 400, "请刷新购物车后重试");
    assert!(order_info::Entity::find().all(&app.db).await.unwrap().is_empty(), "no order from a stale total");
    // The address was saved on the way: the page offers it, and it is used by id now.
    let page = browser.get(checkout).await.text();
    let id_at = page.find("name=\"address\" value=\"").unwrap() + 22;
    let address_id: String = page[id_at..].chars().take_while(char::is_ascii_digit).collect();
    let placed = browser
        .submit(checkout, checkout, &[("address", &address_id), ("order_mount", &total_text), ("post_script", "快")])
        .await;
    placed.assert_status(303);
    let order_page = placed.header("location").unwrap().to_owned();
    let order = browser.get(&order_page).await;
    assert_shows(&order, 200, "待支付");
    assert!(order.text().contains("张三 13912345678"));
    assert_eq!(stock_of(&app, 1).await, stock - 3, "stock reserved by the API's order");
    assert_eq!(cart_size(&app).await, 0);
    assert_shows(
        &browser.submit(checkout, checkout, &[("address", &address_id), ("post_script", "再来")]).await,
        400,
        "购物车为空",
    );

    // Pay with a gateway that cannot be reached is still a redirect to it (the cashier is Alipay's).
    let id = order_page.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    let pay = browser.get(&format!("/shop/orders/{id}/pay/?channel=wap")).await;
    pay.assert_status(303);
    assert!(pay.header("location").unwrap().contains("alipay.trade.wap.pay"));
    let pay = browser.get(&format!("/shop/orders/{id}/pay/?channel=page")).await;
    assert!(pay.header("location").unwrap().contains("alipay.trade.page.pay"));

    browser.submit(&order_page, &format!("/shop/orders/{id}/cancel/"), &[]).await.assert_status(303);
    assert_eq!(stock_of(&app, 1).await, stock, "stock released once");
    assert_shows(&browser.get(&order_page).await, 404, "不存在");
    let again = browser.submit("/shop/orders/", &format!("/shop/orders/{id}/cancel/"), &[]).await;
    assert_shows(&again, 404, "不存在");
    assert_eq!(stock_of(&app, 1).await, stock);
    // Another user's order is nobody else's business.
    let mut stranger = Browser::new(&app);
    stranger.register("13800138003").await;
    assert_shows(&stranger.get(&order_page).await, 404, "不存在");
}

#[tokio::test]
async fn member_pages_use_the_member_api() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    browser.register("13800138004").await;
    browser.submit("/shop/goods/3/", "/shop/favs/3/", &[]).await.assert_status(303);
    browser.submit("/shop/goods/3/", "/shop/favs/3/", &[]).await.assert_status(303);
    assert!(browser.get("/shop/favs/").await.text().contains("/shop/goods/3/"));
    assert!(browser.get("/shop/goods/3/").await.text().contains("取消收藏"));
    browser.submit("/shop/goods/3/", "/shop/favs/3/", &[("remove", "1")]).await.assert_status(303);
    assert!(!browser.get("/shop/favs/").await.text().contains("/shop/goods/3/"));

    assert_shows(
        &browser.submit("/shop/addresses/", "/shop/addresses/", &[("province", "")]).await,
        400,
        "该字段是必填项。",
    );
    let long = "长".repeat(101);
    let fields = [
        ("province", "北京市"),
        ("city", "北京市"),
        ("district", "海淀区"),
        ("detail", long.as_str()),
        ("signer_name", "李四"),
        ("signer_mobile", "13912345678"),
    ];
    assert_shows(
        &browser.submit("/shop/addresses/", "/shop/addresses/", &fields).await,
        400,
        "请确保这个字段不能超过 100 个字符。",
    );
    let mut fields = fields;
    fields[3].1 = "<b>五道口</b>";
    browser.submit("/shop/addresses/", "/shop/addresses/", &fields).await.assert_status(303);
    let page = browser.get("/shop/addresses/").await.text();
    assert!(page.contains("&#60;b&#62;五道口") && !page.contains("<b>五道口"), "escaped: {page}");

    let profile = browser.submit("/shop/profile/", "/shop/profile/", &[("username", "a b"), ("email", "nope")]).await;
    assert_shows(&profile, 400, "请输入合法的邮件地址。");
    assert_shows(&profile, 400, "请输入合法用户名");

    // A message with a file (multipart, the token among the parts).
    let token = csrf_of(&browser.get("/shop/messages/").await.text());
    let boundary = "----storefront";
    let part = |name: &str, file: Option<&str>, value: &str| match file {
        Some(file) => format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: text/plain\r\n\r\n{value}\r\n"
        ),
        None => format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"),
    };
    let send = |parts: String| {
        let request = Request::builder()
            .method(Method::POST)
            .uri("/shop/messages/")
            .header("content-type", format!("multipart/form-data; boundary={boundary}"));
        (request, Body::from(format!("{parts}--{boundary}--\r\n")))
    };
    let (request, body) = send(part("csrf", None, &token) + &part("subject", None, "") + &part("message", None, ""));
    assert_shows(&browser.send(request, body).await, 400, "该字段是必填项。");
    let (request, body) = send(
        part("csrf", None, &token)
            + &part("subject", None, "发票")
            + &part("message", None, "请开发票")
            + &part("file", Some("evil.exe"), "MZ"),
    );
    assert_shows(&browser.send(request, body).await, 400, "不支持的文件类型");
    let (request, body) = send(
        part("csrf", None, &token)
            + &part("message_type", None, "3")
            + &part("subject", None, "发票")
            + &part("message", None, "请开发票")
            + &part("file", Some("note.txt"), "hello"),
    );
    browser.send(request, body).await.assert_status(303);
    let messages = browser.get("/shop/messages/").await.text();
    assert!(messages.contains("请开发票") && messages.contains("/media/"), "{messages}");
}

#[tokio::test]
async fn phones_pay_with_wap_by_default() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    browser.user_agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148";
    browser.register("13800138005").await;
    browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await.assert_status(303);
    let fields = [
        ("address", "new"),
        ("province", "上海市"),
        ("city", "上海市"),
        ("district", "浦东新区"),
        ("detail", "世纪大道 1 号"),
        ("signer_name", "王五"),
        ("signer_mobile", "13912345678"),
        ("post_script", "无"),
    ];
    let placed = browser.submit("/shop/checkout/", "/shop/checkout/", &fields).await;
    let order_page = placed.header("location").unwrap().to_owned();
    let page = browser.get(&order_page).await.text();
    let id = order_page.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    assert!(page.contains(&format!("href=\"/shop/orders/{id}/pay/?channel=wap\"")), "{page}");
    // Without the channel parameter (no script, a hand-typed URL), the phone still gets wap pay.
    let pay = browser.get(&format!("/shop/orders/{id}/pay/")).await;
    assert!(pay.header("location").unwrap().contains("alipay.trade.wap.pay"));
}

#[tokio::test]
async fn catalogue_pages_are_built_from_the_catalogue_cache() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 60_000).await;
    shop::demo::seed_if_empty(&app.db, &app.config.media_dir()).await.unwrap();
    let mut browser = Browser::new(&app);
    for page in ["/shop/", "/shop/category/1/?ordering=-sold_num", "/shop/goods/1/"] {
        // Kept from the second request on (a page asked for once is not kept).
        let first = browser.get(page).await;
        first.assert_status(200);
        browser.get(page).await.assert_status(200);
        let before = app.statement_count();
        let second = browser.get(page).await;
        // The detail page's view waits for the batch written once per cache period.
        assert_eq!(app.statement_count() - before, 0, "{page}");
        assert_eq!(first.text().len(), second.text().len(), "{page}");
    }
    // Another host name gets its own, uncached page (absolute URLs name the host).
    let other = app.send(Method::GET, "/shop/", &[("host", "shop.example")]).await;
    assert!(other.text().contains("http://shop.example/media/"));
}

#[tokio::test]
async fn listing_parameters_the_page_does_not_offer_do_not_poison_the_cache() {
    let app = TestApp::with_config(|config| config.catalog_cache_ms = 60_000).await;
    shop::demo::seed_if_empty(&app.db, &app.config.media_dir()).await.unwrap();
    let count = |text: &str| {
        let start = text.find("共 ").expect("a count") + "共 ".len();
        text[start..].split(' ').next().unwrap().parse::<u64>().unwrap()
    };
    // The full listing, built on a twin app without a cache, is what everyone must see.
    let plain = Browser::new(&TestApp::with_demo().await).get("/shop/category/1/").await.text();
    let full = count(&plain);
    assert!(full > 1, "{plain}");
    let mut browser = Browser::new(&app);
    for junk in ["name=zzz", "is_new=true", "is_hot=true", "page_size=1", "top_category=999999"] {
        // The junk filters are not the listing's: the page is the full listing for them too.
        let poisoned = browser.get(&format!("/shop/category/1/?{junk}")).await;
        poisoned.assert_status(200);
        assert_eq!(count(&poisoned.text()), full, "{junk}");
        assert_eq!(count(&browser.get("/shop/category/1/").await.text()), full, "after {junk}");
    }
    let searched = browser.get("/shop/search/?search=a&name=zzz").await;
    assert_eq!(count(&searched.text()), count(&browser.get("/shop/search/?search=a").await.text()));
}

/// Places an order for goods 1 with a new address; the order page's path.
async fn place_order(browser: &mut Browser<'_>) -> String {
    browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await.assert_status(303);
    let fields = [
        ("address", "new"),
        ("province", "上海市"),
        ("city", "上海市"),
        ("district", "浦东新区"),
        ("detail", "世纪大道 1 号"),
        ("signer_name", "王五"),
        ("signer_mobile", "13912345678"),
        ("post_script", "无"),
    ];
    let placed = browser.submit("/shop/checkout/", "/shop/checkout/", &fields).await;
    placed.assert_status(303);
    placed.header("location").unwrap().to_owned()
}

#[tokio::test]
async fn pay_is_a_link_that_no_form_action_policy_can_block() {
    // Chrome and Safari check a form's redirects against CSP `form-action`, and Alipay's gateway
    // redirects onwards to its cashier host: Pay is a plain navigation, not a form submission.
    let app = TestApp::with_demo().await;
    let mut owner = Browser::new(&app);
    owner.register("13800138006").await;
    let order_page = place_order(&mut owner).await;
    let id = order_page.trim_end_matches('/').rsplit('/').next().unwrap().to_owned();
    let pay_path = format!("/shop/orders/{id}/pay/");
    let page = owner.get(&order_page).await;
    let text = page.text();
    assert!(
        text.contains(&format!("<a id=\"pay\" class=\"button primary\" href=\"{pay_path}?channel=page\"")),
        "{text}"
    );
    assert!(!text.contains(&format!("action=\"{pay_path}\"")), "no form posts to Pay: {text}");
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("form-action 'self';"), "forms go to this site only: {policy}");
    let pay = owner.get(&format!("{pay_path}?channel=page")).await;
    pay.assert_status(303);
    assert!(pay.header("location").unwrap().contains("alipay.trade.page.pay"));
    // Only the owner; others do not learn that the order exists.
    let mut other = Browser::new(&app);
    other.register("13800138007").await;
    assert_shows(&other.get(&pay_path).await, 404, "不存在");
    let anonymous = Browser::new(&app).get(&pay_path).await;
    anonymous.assert_status(303);
    assert!(anonymous.header("location").unwrap().starts_with("/shop/login/"));
    // Only while unpaid: a paid order has no Pay link and no redirect to the cashier.
    let sn = order_info::Entity::find_by_id(id.parse::<i32>().unwrap()).one(&app.db).await.unwrap().unwrap();
    let mut paid: order_info::ActiveModel = sn.into();
    paid.pay_status = Set("TRADE_SUCCESS".to_owned());
    paid.update(&app.db).await.unwrap();
    assert!(!owner.get(&order_page).await.text().contains(&pay_path));
    assert_shows(&owner.get(&pay_path).await, 409, "此订单已不能支付");
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_too() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    browser.register("13800138008").await;
    let token = browser.cookies["mxshop_session"].clone();
    let bearer = format!("Bearer {token}");
    app.send(Method::GET, "/address/", &[("authorization", &bearer)]).await.assert_status(200);
    let mut copy = Browser::new(&app);
    copy.cookies.insert("mxshop_session".to_owned(), token.clone());
    assert!(copy.get("/shop/").await.text().contains("13800138008"), "a copied cookie is the same session");

    let home = browser.get("/shop/").await.text();
    assert!(home.contains("退出登录（所有设备）"), "the button says it ends every session: {home}");
    browser.submit("/shop/", "/shop/logout/", &[]).await.assert_status(303);
    assert!(!browser.cookies.contains_key("mxshop_session"));
    // The token the cookie held is refused wherever it was copied: as a cookie and as a Bearer token.
    let stale = copy.get("/shop/profile/").await;
    stale.assert_status(303);
    assert!(stale.header("location").unwrap().starts_with("/shop/login/"));
    assert!(!copy.cookies.contains_key("mxshop_session"), "the copied cookie is cleared");
    app.send(Method::GET, "/address/", &[("authorization", &bearer)]).await.assert_status(401);
    // Signing in again gives a working session.
    browser
        .submit("/shop/login/", "/shop/login/", &[("username", "13800138008"), ("password", "secret123")])
        .await
        .assert_status(303);
    let fresh = format!("Bearer {}", browser.cookies["mxshop_session"]);
    app.send(Method::GET, "/address/", &[("authorization", &fresh)]).await.assert_status(200);
}

#[tokio::test]
async fn unreadable_form_bodies_get_the_form_page_with_a_message() {
    let app = TestApp::with_config(|config| config.upload_limit_bytes = 16).await;
    let mut browser = Browser::new(&app);
    browser.register("13800138009").await;
    let token = csrf_of(&browser.get("/shop/messages/").await.text());
    let boundary = "XyZboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\n发票\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n请开发票\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n{}\r\n--{boundary}--\r\n",
        "x".repeat(64)
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/shop/messages/")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"));
    // The messages page itself, its form and the message next to the file field (not JSON).
    let oversize = browser.send(request, Body::from(body)).await;
    assert_shows(&oversize, 400, "文件大小不能超过 16 字节。");
    assert!(oversize.text().contains("id=\"err-file\""), "{}", oversize.text());
    assert!(oversize.text().contains("action=\"/shop/messages/\""), "{}", oversize.text());
    // A body of another type, or one that does not parse, is a page too.
    let request = Request::builder().method(Method::POST).uri("/shop/messages/").header("content-type", "text/plain");
    let wrong_type = browser.send(request, Body::from("hello")).await;
    wrong_type.assert_status(415);
    assert!(wrong_type.text().contains("action=\"/shop/messages/\""), "{}", wrong_type.text());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/shop/cart/add/")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"));
    let broken = browser.send(request, Body::from("--XyZboundary\r\nnot a part")).await;
    broken.assert_status(400);
    assert_eq!(cart_size(&app).await, 0);
    let empty = shop::db::entities::user_message::Entity::find().all(&app.db).await.unwrap();
    assert!(empty.is_empty(), "nothing was saved");
}

#[tokio::test]
async fn a_form_over_the_body_limit_is_a_page() {
    let app = TestApp::with_config(|config| config.body_limit_bytes = 2048).await;
    let mut browser = Browser::new(&app);
    browser.register("13800138010").await;
    let token = csrf_of(&browser.get("/shop/messages/").await.text());
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf", token.as_str()), ("subject", "长"), ("message", &"字".repeat(2000))])
        .finish();
    // A browser sends the length first: the limit answers before any handler runs.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/shop/messages/")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", body.len());
    let refused = browser.send(request, Body::from(body)).await;
    assert_shows(&refused, 413, "提交的内容太大");
    assert!(refused.header("content-type").unwrap().starts_with("text/html"));
    // The API keeps its JSON.
    let api = app.send(Method::POST, "/messages/", &[("content-length", "4096")]).await;
    api.assert_status(413);
}

#[tokio::test]
async fn checkout_retries_place_one_order_and_save_one_address() {
    let app = TestApp::with_demo().await;
    let mut browser = Browser::new(&app);
    browser.register("13800138011").await;
    let addresses = || async { shop::db::entities::user_address::Entity::find().all(&app.db).await.unwrap().len() };
    browser.submit("/shop/goods/1/", "/shop/cart/add/", &[("goods", "1"), ("nums", "1")]).await.assert_status(303);
    let page = browser.get("/shop/checkout/").await.text();
    let key_at = page.find("name=\"checkout_key\" value=\"").expect("a per-page checkout key") + 27;
    let key = page[key_at..key_at + 32].to_owned();
    let csrf = csrf_of(&page);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("checkout_key", key.as_str()),
        ("address", "new"),
        ("province", "上海市"),
        ("city", "上海市"),
        ("district", "浦东新区"),
        ("detail", "世纪大道 1 号"),
        ("signer_name", "王五"),
        ("signer_mobile", "13912345678"),
        ("post_script", "无"),
        ("order_mount", "0.01"),
    ];
    // Refused (the total is not the cart's): the new address is saved once and chosen on the page
    // that comes back, so the retry does not save it again.
    let refused = browser.post("/shop/checkout/", &fields).await;
    refused.assert_status(400);
    assert_eq!(addresses().await, 1);
    let text = refused.text();
    assert!(!text.contains("id=\"address-new\" checked"), "{text}");
    let checked = text.find("\" checked>").expect("an address chosen");
    let saved: String = text[..checked].rsplit('"').next().unwrap().to_owned();
    assert!(saved.parse::<i32>().is_ok(), "the saved address is chosen: {saved}");
    fields.retain(|(name, _)| !["order_mount", "address"].contains(name));
    fields.push(("address", &saved));
    // A double click: the same page's key twice is one order.
    let first = browser.post("/shop/checkout/", &fields).await;
    first.assert_status(303);
    let second = browser.post("/shop/checkout/", &fields).await;
    second.assert_status(303);
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(order_info::Entity::find().all(&app.db).await.unwrap().len(), 1);
    assert_eq!(addresses().await, 1, "the retries saved no other address");
}
