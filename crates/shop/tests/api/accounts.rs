//! Accounts (contract §3.7–§3.10, §1.6): SMS codes, registration, login, tokens, the profile.

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use shop::db::entities::{user, verify_code};

use crate::support::{TEST_SECRET, TestApp};

const MOBILE: &str = "13800138000";

async fn post(app: &TestApp, uri: &str, body: Value) -> crate::support::TestResponse {
    app.json(Method::POST, uri, &body, None).await
}

#[tokio::test]
async fn code_checks_run_in_the_contract_order() {
    let app = TestApp::new().await;
    let cases = [
        (json!({}), "该字段是必填项。"),
        (json!({"mobile": ""}), "该字段不能为空。"),
        (json!({"mobile": "138001380001"}), "请确保这个字段不能超过 11 个字符。"),
        (json!({"mobile": "12345"}), "手机号码非法"),
        (json!({"mobile": "17712345678"}), "手机号码非法"),
    ];
    for (body, message) in cases {
        let response = post(&app, "/code/", body.clone()).await;
        response.assert_status(400);
        assert_eq!(response.json(), json!({"mobile": [message]}), "{body}");
    }
    let sent = post(&app, "/code/", json!({"mobile": MOBILE})).await;
    sent.assert_status(201);
    assert_eq!(sent.json(), json!({"mobile": MOBILE}), "the code is never in the response");
    let code = app.sms.last_code(MOBILE).unwrap();
    assert_eq!(code.len(), 4);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let stored = verify_code::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_ne!(stored.code_hash, code, "stored hashed");
    // A keyed hash (HMAC-SHA256, hex) of this mobile and code: the code cannot be read back.
    let keys = shop::secrets::Keys::from_secret(crate::support::TEST_SECRET);
    assert_eq!(stored.code_hash, keys.code_hash(MOBILE, &code));
    assert_eq!(stored.code_hash.len(), 64);
    assert!(stored.code_hash.bytes().all(|b| b.is_ascii_hexdigit()));

    let again = post(&app, "/code/", json!({"mobile": MOBILE})).await;
    again.assert_status(400);
    assert_eq!(again.json(), json!({"mobile": ["距离上一次发送未超过60s"]}));

    app.register_with_code(MOBILE, "pw123456").await;
    let registered = post(&app, "/code/", json!({"mobile": MOBILE})).await;
    assert_eq!(registered.json(), json!({"mobile": ["用户已经存在"]}));
    // Form bodies work too, and surrounding spaces are trimmed.
    let form = app.post("/code/", "application/x-www-form-urlencoded", "mobile=+15912345678+").await;
    form.assert_status(201);
    assert_eq!(form.json(), json!({"mobile": "15912345678"}));
}

impl TestApp {
    /// Registers `mobile` with the code already sent to it.
    async fn register_with_code(&self, mobile: &str, password: &str) -> Value {
        let code = self.sms.last_code(mobile).unwrap();
        let response = post(self, "/users/", json!({"username": mobile, "password": password, "code": code})).await;
        response.assert_status(201);
        response.json()
    }
}

#[tokio::test]
async fn registration_reports_all_fields_together() {
    let app = TestApp::new().await;
    let blank = post(&app, "/users/", json!({"username": "", "code": "", "password": ""})).await;
    blank.assert_status(400);
    assert_eq!(
        blank.text(),
        r#"{"username":["该字段不能为空。"],"code":["请输入验证码"],"password":["该字段不能为空。"]}"#
    );
    let missing = post(&app, "/users/", json!({})).await;
    assert_eq!(
        missing.json(),
        json!({"username": ["该字段是必填项。"], "code": ["请输入验证码"], "password": ["该字段是必填项。"]})
    );
    // No username: the code is not checked against anything (the original crashed here).
    let no_user = post(&app, "/users/", json!({"code": "1234", "password": "pw123456"})).await;
    assert_eq!(no_user.json(), json!({"username": ["该字段是必填项。"]}));
    let format = post(&app, "/users/", json!({"username": MOBILE, "code": "12", "password": "pw123456"})).await;
    assert_eq!(format.json(), json!({"code": ["验证码格式错误"]}));
    let none_sent = post(&app, "/users/", json!({"username": MOBILE, "code": "1234", "password": "pw123456"})).await;
    assert_eq!(none_sent.json(), json!({"code": ["验证码错误"]}));

    post(&app, "/code/", json!({"mobile": MOBILE})).await.assert_status(201);
    let code = app.sms.last_code(MOBILE).unwrap();
    for (password, message) in [
        ("short", "密码长度应为6到20个字符。"),
        ("x".repeat(21).as_str(), "密码长度应为6到20个字符。"),
        ("密码密码密码12", "密码不能包含中文字符。"),
    ] {
        let response = post(&app, "/users/", json!({"username": MOBILE, "code": code, "password": password})).await;
        assert_eq!(response.json(), json!({"password": [message]}), "{password}");
    }
    assert_eq!(user::Entity::find().all(&app.db).await.unwrap().len(), 0, "nothing half-written");

    let created =
        post(&app, "/users/", json!({"username": MOBILE, "code": code, "password": "pw123456", "mobile": "ignored"}))
            .await;
    created.assert_status(201);
    let body = created.json();
    assert_eq!(body["username"], MOBILE);
    assert_eq!(body["mobile"], MOBILE);
    assert_eq!(body["name"], MOBILE);
    let stored = user::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(stored.password.starts_with("$argon2id$"), "hashed before the insert");

    let again = post(&app, "/users/", json!({"username": MOBILE, "code": code, "password": "pw123456"})).await;
    assert_eq!(again.json(), json!({"username": ["用户已经存在"], "code": ["验证码错误"]}));
}

#[tokio::test]
async fn sms_codes_resist_guessing_reuse_and_age() {
    let app = TestApp::new().await;
    post(&app, "/code/", json!({"mobile": MOBILE})).await.assert_status(201);
    let code = app.sms.last_code(MOBILE).unwrap();
    let wrong = if code == "0000" { "1111" } else { "0000" };
    for guess in 1..=5 {
        let response = post(&app, "/users/", json!({"username": MOBILE, "code": wrong, "password": "pw123456"})).await;
        assert_eq!(response.json(), json!({"code": ["验证码错误"]}), "guess {guess}");
    }
    let sixth = post(&app, "/users/", json!({"username": MOBILE, "code": code, "password": "pw123456"})).await;
    sixth.assert_status(400);
    assert_eq!(sixth.json(), json!({"code": ["验证码错误"]}), "the 6th guess fails even when right");

    // A fresh code (after the 60 s wait, simulated by ageing the old one) works once.
    let second = "15912345678";
    post(&app, "/code/", json!({"mobile": second})).await.assert_status(201);
    let code = app.sms.last_code(second).unwrap();
    app.register_with_code(second, "pw123456").await;
    let reused = post(&app, "/users/", json!({"username": "other", "code": code, "password": "pw123456"})).await;
    assert_eq!(reused.json(), json!({"code": ["验证码错误"]}));

    // Expired after five minutes.
    let third = "18612345678";
    post(&app, "/code/", json!({"mobile": third})).await.assert_status(201);
    let code = app.sms.last_code(third).unwrap();
    post(&app, "/code/", json!({"mobile": third})).await.assert_status(400); // one a minute
    app.clock.advance(chrono::TimeDelta::seconds(301));
    let expired = post(&app, "/users/", json!({"username": third, "code": code, "password": "pw123456"})).await;
    assert_eq!(expired.json(), json!({"code": ["验证码过期"]}));
    // …and a new code may be sent once 60 s have passed.
    post(&app, "/code/", json!({"mobile": third})).await.assert_status(201);
}

#[tokio::test]
async fn login_by_username_or_mobile() {
    let app = TestApp::with_config(|config| config.auth_cache_ms = 100).await;
    let token = app.register(MOBILE, "pw123456").await;
    let renamed = app.json(Method::PATCH, "/users/1/", &json!({"username": "alice"}), Some(&token)).await;
    renamed.assert_status(200);
    assert_eq!(renamed.json()["username"], "alice");
    // The old token still works: tokens resolve by user id.
    app.authed(Method::GET, "/users/", &token).await.assert_status(200);

    for name in ["alice", MOBILE, " alice "] {
        let response = post(&app, "/login/", json!({"username": name, "password": " pw123456 "})).await;
        response.assert_status(200);
        let body = response.json();
        assert_eq!(body.as_object().unwrap().len(), 1);
        let token = body["token"].as_str().unwrap();
        let profile = app.authed(Method::GET, "/users/", token).await.json();
        assert_eq!(profile["username"], "alice");
    }
    let bad = post(&app, "/login/", json!({"username": "alice", "password": "wrong-pw"})).await;
    bad.assert_status(400);
    assert_eq!(bad.json(), json!({"non_field_errors": ["无法使用提供的认证信息登录。"]}));
    let unknown = post(&app, "/login/", json!({"username": "nobody", "password": "pw123456"})).await;
    assert_eq!(unknown.json(), json!({"non_field_errors": ["无法使用提供的认证信息登录。"]}));
    assert_eq!(
        post(&app, "/login/", json!({"username": "alice"})).await.json(),
        json!({"password": ["该字段是必填项。"]})
    );
    assert_eq!(
        post(&app, "/login/", json!({"username": "", "password": ""})).await.json(),
        json!({"username": ["该字段不能为空。"], "password": ["该字段不能为空。"]})
    );
    // Inactive users cannot log in.
    let stored = user::Entity::find().one(&app.db).await.unwrap().unwrap();
    user::Entity::update(user::ActiveModel { id: Set(stored.id), is_active: Set(false), ..Default::default() })
        .exec(&app.db)
        .await
        .unwrap();
    let inactive = post(&app, "/login/", json!({"username": "alice", "password": "pw123456"})).await;
    assert_eq!(inactive.json(), json!({"non_field_errors": ["无法使用提供的认证信息登录。"]}));
    // Changed behind the shop's back: seen once the user's copy is `auth_cache_ms` old.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let refused = app.authed(Method::GET, "/users/", &token).await;
    refused.assert_status(401);
    assert_eq!(refused.json(), json!({"detail": "用户账户已禁用。"}));
}

#[tokio::test]
async fn django_passwords_are_accepted_then_rehashed() {
    let app = TestApp::new().await;
    // Django's pbkdf2_sha256 of "pw123456" (computed with Python's hashlib, Django's algorithm).
    let django = "pbkdf2_sha256$260000$mxshopSalt2026$ko62uiuKpM/3iA9AXOvl0NPh7bE8kktqBzWA4dPj4wE=";
    user::Entity::insert(user::ActiveModel {
        username: Set("legacy".into()),
        password: Set(django.into()),
        gender: Set("male".into()),
        mobile: Set(Some("13700000000".into())),
        is_active: Set(true),
        is_superuser: Set(false),
        date_joined: Set(chrono::Utc::now().naive_utc()),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    post(&app, "/login/", json!({"username": "legacy", "password": "wrong-pw"})).await.assert_status(400);
    let stored = user::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(stored.password, django, "a failed login changes nothing");
    post(&app, "/login/", json!({"username": "legacy", "password": "pw123456"})).await.assert_status(200);
    let stored = user::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(stored.password.starts_with("$argon2id$"), "{}", stored.password);
    post(&app, "/login/", json!({"username": "13700000000", "password": "pw123456"})).await.assert_status(200);
}

#[tokio::test]
async fn login_is_throttled_per_account_with_retry_after() {
    let app = TestApp::new().await;
    app.register(MOBILE, "pw123456").await;
    for _ in 0..10 {
        post(&app, "/login/", json!({"username": MOBILE, "password": "wrong-pw"})).await.assert_status(400);
    }
    let throttled = post(&app, "/login/", json!({"username": MOBILE, "password": "pw123456"})).await;
    throttled.assert_status(429);
    let retry: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(throttled.json(), json!({"detail": format!("请求超过了限速。 Expected available in {retry} seconds.")}));
}

fn forge(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn bad_tokens_are_401_with_drf_jwt_messages() {
    let app = TestApp::new().await;
    let token = app.register(MOBILE, "pw123456").await;
    let now = chrono::Utc::now().timestamp();
    let user_id = user::Entity::find().one(&app.db).await.unwrap().unwrap().id;
    let (header, payload, _) = {
        let mut parts = token.split('.');
        (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
    };
    let genuine: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    let pwv = genuine["pwv"].as_str().expect("tokens carry the password version").to_owned();
    let valid = json!({"user_id": user_id, "username": MOBILE, "exp": now + 600, "email": null, "pwv": pwv});
    let mut tampered_claims = genuine.clone();
    tampered_claims["user_id"] = json!(user_id + 1);
    let tampered = format!(
        "{header}.{}.{}",
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string()),
        token.rsplit('.').next().unwrap()
    );
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(valid.to_string())
    );
    let cases: Vec<(String, &str)> = vec![
        (forge(&valid, "not-the-secret-not-the-secret-not-the"), "Error decoding signature."),
        (alg_none, "Error decoding signature."),
        (
            forge(&json!({"user_id": user_id, "username": MOBILE, "exp": now - 5, "email": null}), TEST_SECRET),
            "Signature has expired.",
        ),
        (forge(&json!({"user_id": user_id, "username": MOBILE, "email": null}), TEST_SECRET), "不正确的身份认证信息。"),
        (
            forge(&json!({"user_id": 999_999, "username": "ghost", "exp": now + 600, "email": null}), TEST_SECRET),
            "Invalid signature.",
        ),
        (forge(&json!({"username": MOBILE, "exp": now + 600}), TEST_SECRET), "Invalid payload."),
        // Well signed, but for no password version the user has (issued before a change).
        (
            forge(&json!({"user_id": user_id, "username": MOBILE, "exp": now + 600, "email": null}), TEST_SECRET),
            "登录已失效（密码已修改），请重新登录。",
        ),
        (
            forge(
                &json!({"user_id": user_id, "username": MOBILE, "exp": now + 600, "pwv": "0011223344556677"}),
                TEST_SECRET,
            ),
            "登录已失效（密码已修改），请重新登录。",
        ),
        (tampered, "Error decoding signature."),
        ("garbage".into(), "Error decoding signature."),
    ];
    for (bad, message) in cases {
        let response = app.authed(Method::GET, "/userfavs/", &bad).await;
        response.assert_status(401);
        assert_eq!(response.json(), json!({"detail": message}), "{bad}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer realm=\"api\""));
    }
    // The genuine token, and a forged-but-correctly-signed one, pass.
    app.authed(Method::GET, "/userfavs/", &token).await.assert_status(200);
    app.authed(Method::GET, "/userfavs/", &forge(&valid, TEST_SECRET)).await.assert_status(200);

    for (header, message) in [
        (None, "身份认证信息未提供。"),
        (Some("Basic abc"), "身份认证信息未提供。"),
        (Some("Bearer"), "Invalid Authorization header. No credentials provided."),
        (Some("Bearer a b"), "Invalid Authorization header. Credentials string should not contain spaces."),
    ] {
        let headers: Vec<(&str, &str)> = header.map(|h| ("authorization", h)).into_iter().collect();
        let response = app.send(Method::GET, "/address/", &headers).await;
        response.assert_status(401);
        assert_eq!(response.json(), json!({"detail": message}), "{header:?}");
    }
    let jwt_scheme = app.send(Method::GET, "/address/", &[("authorization", &format!("JWT {token}"))]).await;
    jwt_scheme.assert_status(200);
    // Anonymous requests are 401 even on detail URLs that do not exist.
    app.send(Method::DELETE, "/address/424242/", &[]).await.assert_status(401);
    // The catalogue ignores Authorization entirely.
    app.send(Method::GET, "/goods/", &[("authorization", "Bearer garbage")]).await.assert_status(200);
}

#[tokio::test]
async fn profile_reads_and_updates_the_current_user() {
    let app = TestApp::new().await;
    let token = app.register(MOBILE, "pw123456").await;
    app.send(Method::GET, "/users/", &[]).await.assert_status(401);
    let profile = app.authed(Method::GET, "/users/", &token).await;
    profile.assert_status(200);
    assert_eq!(
        profile.text(),
        format!(r#"{{"username":"{MOBILE}","gender":"female","birthday":null,"email":null,"mobile":"{MOBILE}"}}"#)
    );
    assert_eq!(app.authed(Method::GET, "/users/77/", &token).await.json()["username"], MOBILE);

    // What the profile page sends: its form plus stray keys, mobile included (read-only).
    let patched = app
        .json(
            Method::PATCH,
            "/users/1/",
            &json!({"username": "bob", "birthday": "1990-02-03", "gender": "male", "email": "bob@example.com",
                    "mobile": "15900000000", "sex": "x", "phone": "y"}),
            Some(&token),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(
        patched.json(),
        json!({"username": "bob", "gender": "male", "birthday": "1990-02-03", "email": "bob@example.com", "mobile": MOBILE})
    );
    let bad = app
        .json(
            Method::PATCH,
            "/users/1/",
            &json!({"username": "", "birthday": "03/02/1990", "gender": "x", "email": "nope"}),
            Some(&token),
        )
        .await;
    bad.assert_status(400);
    assert_eq!(
        bad.json(),
        json!({"username": ["该字段不能为空。"], "gender": ["“x” 不是合法选项。"],
               "birthday": ["日期格式错误。请从这些格式中选择：YYYY-MM-DD。"], "email": ["请输入合法的邮件地址。"]})
    );
    let other = app.register("15912345678", "pw123456").await;
    let taken = app.json(Method::PATCH, "/users/1/", &json!({"username": "bob"}), Some(&other)).await;
    assert_eq!(taken.json(), json!({"username": ["已存在一位使用该名字的用户。"]}));
    let charset = app.json(Method::PATCH, "/users/1/", &json!({"username": "bob smith!"}), Some(&other)).await;
    assert_eq!(charset.json(), json!({"username": ["请输入合法用户名。只能包含字母，数字和@/./+/-/_ 字符。"]}));
    let put_missing = app.json(Method::PUT, "/users/1/", &json!({"gender": "male"}), Some(&other)).await;
    assert_eq!(put_missing.json(), json!({"username": ["该字段是必填项。"]}));
    let cleared = app.json(Method::PATCH, "/users/1/", &json!({"email": "", "birthday": null}), Some(&token)).await;
    assert_eq!(cleared.json()["email"], Value::Null);
    assert_eq!(cleared.json()["birthday"], Value::Null);
    app.authed(Method::DELETE, "/users/1/", &token).await.assert_status(405);
}

#[tokio::test]
async fn request_bodies_are_parsed_like_drf() {
    let app = TestApp::new().await;
    let unsupported = app.post("/login/", "text/plain", "username=a").await;
    unsupported.assert_status(415);
    assert_eq!(unsupported.json(), json!({"detail": "不支持请求中的媒体类型 “text/plain”。"}));
    let malformed = app.post("/login/", "application/json", "{\"username\": ").await;
    malformed.assert_status(400);
    assert!(malformed.json()["detail"].as_str().unwrap().starts_with("JSON parse error - "), "{}", malformed.text());
    let list = app.post("/login/", "application/json", "[1, 2]").await;
    list.assert_status(400);
    assert_eq!(list.json(), json!({"non_field_errors": ["无效数据。期待为字典类型，得到的是 list 。"]}));
    let form = app.post("/login/", "application/x-www-form-urlencoded", "username=&password=").await;
    assert_eq!(form.json(), json!({"username": ["该字段不能为空。"], "password": ["该字段不能为空。"]}));
    let wrong_types = app.post("/login/", "application/json", r#"{"username": true, "password": ["x"]}"#).await;
    assert_eq!(wrong_types.json(), json!({"username": ["不是有效的字符串。"], "password": ["不是有效的字符串。"]}));
}

#[tokio::test]
async fn yunpian_gets_exactly_its_form_and_its_errors_reach_the_client() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let seen = received.clone();
    let mock = axum::Router::new().route(
        "/v2/sms/single_send.json",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let fields: std::collections::BTreeMap<String, String> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                let mobile = fields.get("mobile").cloned().unwrap_or_default();
                seen.lock().unwrap().push((content_type, body.clone(), mobile.clone()));
                if mobile == "15912345678" {
                    axum::Json(json!({"code": 2, "msg": "请求参数格式错误", "detail": "参数 mobile 格式不正确"}))
                } else {
                    axum::Json(json!({"code": 0, "msg": "发送成功", "count": 1, "fee": 0.05, "unit": "RMB", "mobile": mobile, "sid": 1}))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, mock).await });

    let app = TestApp::with_configured_services(|config| {
        config.sms.provider = shop::config::SmsProvider::Yunpian;
        config.sms.yunpian_api_key = Some(shop::config::Secret::new("test-api-key"));
        config.sms.yunpian_url = format!("http://{addr}/v2/sms/single_send.json");
    })
    .await;
    post(&app, "/code/", json!({"mobile": MOBILE})).await.assert_status(201);
    let failed = post(&app, "/code/", json!({"mobile": "15912345678"})).await;
    failed.assert_status(400);
    assert_eq!(failed.json(), json!({"mobile": "请求参数格式错误"}), "a bare string, as the original");
    // A failed send leaves no code behind, so the client may retry at once.
    assert!(
        verify_code::Entity::find()
            .filter(verify_code::Column::Mobile.eq("15912345678"))
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let (content_type, body, _) = &received[0];
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["apikey", "mobile", "text"]);
    assert_eq!(fields[0].1, "test-api-key");
    assert_eq!(fields[1].1, MOBILE);
    let text = &fields[2].1;
    let code: String = text.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 4);
    assert_eq!(text, &format!("【mxshop】您的验证码是{code}。如非本人操作，请忽略本短信"));
    let stored =
        verify_code::Entity::find().filter(verify_code::Column::Mobile.eq(MOBILE)).one(&app.db).await.unwrap().unwrap();
    let keys = shop::secrets::Keys::from_secret(TEST_SECRET);
    assert!(keys.code_matches(MOBILE, &code, &stored.code_hash));
}

/// In-process requests have no peer address, so all of them are one client ("local"); how
/// clients are told apart is tested against the spawned binary in `security`.
#[tokio::test]
async fn code_requests_are_limited_per_client_address() {
    let app = TestApp::new().await;
    for i in 0..20 {
        let response = post(&app, "/code/", json!({"mobile": format!("1380013{i:04}")})).await;
        response.assert_status(201);
    }
    let limited = post(&app, "/code/", json!({"mobile": "13900000000"})).await;
    limited.assert_status(429);
    assert!(limited.header("retry-after").is_some());
}
