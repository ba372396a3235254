//! HTTP conventions (contract §1): trailing slashes, DRF error bodies, methods, CORS, limits.

use axum::http::Method;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn get_without_slash_redirects_permanently() {
    let app = TestApp::new().await;
    for (path, location) in [
        ("/goods", "/goods/"),
        ("/goods?page=2&search=a", "/goods/?page=2&search=a"),
        ("/goods/12", "/goods/12/"),
        ("/categories", "/categories/"),
        ("/indexgoods", "/indexgoods/"),
        ("/index", "/index/"),
    ] {
        let response = app.get(path).await;
        response.assert_status(301);
        assert_eq!(response.header("location"), Some(location), "{path}");
    }
    // No route with the slash either: a plain JSON 404, as Django only redirects to real routes.
    let response = app.get("/nothing-here").await;
    response.assert_status(404);
    assert_eq!(response.json(), json!({"detail": "未找到。"}));
    // Writes are never redirected.
    let response = app.post("/goods", "application/json", "{}").await;
    response.assert_status(404);
    assert_eq!(response.json(), json!({"detail": "未找到。"}));
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = TestApp::new().await;
    for path in ["/nope/", "/goods/1/extra/", "/media/", "/media/none.png", "/static/missing.js", "/goods//", "/%FF/"] {
        let response = app.get(path).await;
        response.assert_status(404);
        assert_eq!(response.json(), json!({"detail": "未找到。"}), "{path}");
        assert_eq!(response.header("content-type"), Some("application/json"), "{path}");
    }
}

#[tokio::test]
async fn disallowed_methods_are_drf_405() {
    let app = TestApp::new().await;
    for (method, path) in [
        (Method::POST, "/goods/"),
        (Method::PATCH, "/goods/1/"),
        (Method::DELETE, "/categories/"),
        (Method::PUT, "/banners/"),
        (Method::POST, "/hotsearchs/"),
        (Method::DELETE, "/indexgoods/"),
    ] {
        let response = app.send(method.clone(), path, &[]).await;
        response.assert_status(405);
        assert_eq!(response.json(), json!({"detail": format!("方法 “{method}” 不被允许。")}), "{method} {path}");
        let allow = response.header("allow").expect("Allow header");
        assert!(allow.contains("GET"), "{allow}");
    }
}

#[tokio::test]
async fn head_and_plain_options_are_answered() {
    let app = TestApp::new().await;
    let head = app.send(Method::HEAD, "/goods/", &[]).await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    let options = app.send(Method::OPTIONS, "/goods/", &[]).await;
    options.assert_status(200);
    assert_eq!(options.json()["name"], "/goods/");
    assert!(options.header("access-control-allow-origin").is_none(), "no Origin, no CORS headers");
}

#[tokio::test]
async fn cors_preflight_and_simple_requests() {
    let app = TestApp::new().await;
    let preflight = app
        .send(
            Method::OPTIONS,
            "/shopcarts/",
            &[
                ("origin", "http://localhost:8000"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization,content-type"),
            ],
        )
        .await;
    preflight.assert_status(200);
    assert!(preflight.body.is_empty());
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some(
            "accept, accept-encoding, authorization, content-type, dnt, origin, user-agent, x-csrftoken, x-requested-with"
        )
    );
    assert_eq!(preflight.header("access-control-allow-methods"), Some("DELETE, GET, OPTIONS, PATCH, POST, PUT"));
    assert_eq!(preflight.header("access-control-max-age"), Some("86400"));
    assert_eq!(preflight.header("vary"), Some("Origin"));
    assert!(preflight.header("access-control-allow-credentials").is_none());

    let simple = app.send(Method::GET, "/goods/", &[("origin", "http://localhost:8000")]).await;
    simple.assert_status(200);
    assert_eq!(simple.header("access-control-allow-origin"), Some("*"));
    assert_eq!(simple.header("vary"), Some("Origin"));
    assert!(simple.header("access-control-allow-methods").is_none());

    // Errors carry CORS headers too, or the browser hides them from the front end.
    let error = app.send(Method::GET, "/goods/?page=0", &[("origin", "http://x")]).await;
    error.assert_status(404);
    assert_eq!(error.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_json() {
    let app = TestApp::with_config(|config| config.body_limit_bytes = 1024).await;
    let response = app.post("/goods/", "application/json", &"x".repeat(4096)).await;
    response.assert_status(413);
    assert_eq!(response.json(), json!({"detail": "请求体过大。"}));
}

#[tokio::test]
async fn no_query_string_or_path_produces_a_server_error() {
    let app = TestApp::with_demo().await;
    let queries = [
        "%",
        "%%",
        "%zz",
        "page=%FF%FE",
        "search=%00",
        "search=%FF",
        "ordering=,,,-,--sold_num",
        "ordering=%00",
        "pricemin=%E2%80%8B",
        "pricemin=1e999999",
        "pricemin=-",
        "pricemin=+",
        "pricemax=.",
        "top_category=%FF",
        "top_category=-0",
        "is_new=%FF",
        "name=%00",
        "page=last&page=0",
        "page_size=%2B5",
        "page_size=99999999999999999999",
        "a&b&c=&&&=",
        "search=",
        "search=%27%22%3B--",
        "search=%5C",
        "search=!",
        "search=%25%25%25",
    ];
    for query in queries {
        let response = app.get(&format!("/goods/?{query}")).await;
        assert!(response.status.as_u16() < 500, "{query}: {}", response.status);
        assert!(response.json().is_object(), "{query}");
    }
    for path in ["/goods/%00/", "/goods/%2F/", "/categories/%FF%FF/", "/goods/0x10/", "/goods/1e3/", "/goods/%201/"] {
        let response = app.get(path).await;
        assert!(response.status.as_u16() < 500, "{path}: {}", response.status);
    }
}
