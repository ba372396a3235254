//! Non-API routes (contract §4): the SPA, its static files, media, the favicon, `/`, `/api/`.

use serde_json::json;

use crate::support::TestApp;

async fn app_with_frontend() -> TestApp {
    let app = TestApp::new().await;
    let frontend = &app.config.frontend_dir;
    std::fs::create_dir_all(frontend.join("static/fonts")).unwrap();
    std::fs::write(
        frontend.join("index.html"),
        "{% load static %}<!DOCTYPE html><html><head><title>首页</title></head><body><div id=\"app\"></div>\
         <script src=\"{% static 'index.entry.js' %}\"></script></body></html>",
    )
    .unwrap();
    std::fs::write(frontend.join("static/index.entry.js"), "console.log('vue');").unwrap();
    std::fs::write(frontend.join("static/fonts/iconfont.woff"), b"wOFF").unwrap();
    std::fs::write(frontend.join("static/fonts/iconfont.css"), "@font-face{}").unwrap();
    app
}

#[tokio::test]
async fn serves_the_front_end_and_its_static_files() {
    let app = app_with_frontend().await;
    let index = app.get("/index/").await;
    index.assert_status(200);
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        index.text(),
        "<!DOCTYPE html><html><head><title>首页</title></head><body><div id=\"app\"></div>\
         <script src=\"/static/index.entry.js\"></script></body></html>"
    );
    for (path, mime) in [
        ("/static/index.entry.js", "text/javascript"),
        ("/static/fonts/iconfont.woff", "application/font-woff"),
        ("/static/fonts/iconfont.css", "text/css"),
        ("/index/static/fonts/iconfont.woff", "application/font-woff"),
    ] {
        let response = app.get(path).await;
        response.assert_status(200);
        assert_eq!(response.header("content-type"), Some(mime), "{path}");
    }
    assert_eq!(app.get("/static/index.entry.js").await.text(), "console.log('vue');");
    let root = app.get("/").await;
    root.assert_status(302);
    assert_eq!(root.header("location"), Some("/index/"));
    // The built-in storefront stays at /shop/ beside the bundle.
    let shop = app.get("/shop/").await;
    shop.assert_status(200);
    assert!(shop.text().contains("href=\"/shop/cart/\""));
}

#[tokio::test]
async fn without_a_front_end_the_root_is_the_storefront() {
    let app = TestApp::new().await;
    let root = app.get("/").await;
    root.assert_status(200);
    assert!(root.text().contains("href=\"/shop/cart/\""));
    assert!(root.text().contains("href=\"/api/\""));
    assert!(root.text().contains("href=\"/docs/\""));
    let index = app.get("/index/").await;
    index.assert_status(404);
    assert!(index.text().contains("No front end installed"));
}

#[tokio::test]
async fn api_root_lists_collections() {
    let app = TestApp::new().await;
    let body = app.get("/api/").await.json();
    assert_eq!(body["goods"], "http://127.0.0.1:8000/goods/");
    assert_eq!(body["indexgoods"], "http://127.0.0.1:8000/indexgoods/");
}

#[tokio::test]
async fn favicon_is_local() {
    let app = TestApp::new().await;
    let icon = app.get("/favicon.ico").await;
    icon.assert_status(200);
    assert_eq!(icon.header("content-type"), Some("image/x-icon"));
    assert_eq!(&icon.body[..4], &[0, 0, 1, 0]);
}

#[tokio::test]
async fn media_is_served_without_listings_or_escapes() {
    let app = TestApp::new().await;
    let media = app.config.media_dir();
    std::fs::create_dir_all(media.join("goods/images")).unwrap();
    std::fs::write(media.join("goods/images/a.png"), b"\x89PNG").unwrap();
    std::fs::write(app.config.data_dir.join("secret.txt"), b"secret").unwrap();
    let image = app.get("/media/goods/images/a.png").await;
    image.assert_status(200);
    assert_eq!(image.header("content-type"), Some("image/png"));
    for path in
        ["/media/goods/images/", "/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/goods/../../secret.txt"]
    {
        let response = app.get(path).await;
        assert!(response.status.is_client_error(), "{path}: {}", response.status);
        assert_ne!(response.text(), "secret");
    }
    assert_eq!(app.get("/media/x").await.json(), json!({"detail": "未找到。"}));
}

#[tokio::test]
async fn health_answers_without_the_database() {
    let app = TestApp::new().await;
    let before = app.statement_count();
    let response = app.get("/health/").await;
    response.assert_status(200);
    assert_eq!(response.json(), json!({"status": "ok"}));
    assert_eq!(app.statement_count(), before);
}
