//! Built-in pages: the root (storefront or Vue front end), the SPA's `index.html`, the API root and the API docs.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value};

use crate::http::RequestUrl;
use crate::state::AppState;

/// The collections listed by the API root, as DRF's `DefaultRouter` lists them.
const COLLECTIONS: &[&str] = &[
    "goods",
    "categories",
    "hotsearchs",
    "banners",
    "indexgoods",
    "code",
    "users",
    "userfavs",
    "messages",
    "address",
    "shopcarts",
    "orders",
];

/// `GET /`: the installed Vue front end when there is one, otherwise the built-in storefront.
pub async fn root(page: crate::storefront::Page) -> Response {
    if page.state.config.frontend_dir.join("index.html").is_file() {
        return (StatusCode::FOUND, [(header::LOCATION, "/index/")]).into_response();
    }
    crate::storefront::home_page(page).await
}

/// `GET /index/`: the front end's `index.html`, read on each request so a front end can be dropped
/// in without a restart. Django template tags left in an unbuilt template are resolved or removed.
pub async fn spa_index(State(state): State<AppState>) -> Response {
    let path = state.config.frontend_dir.join("index.html");
    match tokio::fs::read_to_string(&path).await {
        Ok(template) => Html(strip_template_tags(&template)).into_response(),
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "no front end index.html");
            (StatusCode::NOT_FOUND, Html(NO_FRONTEND)).into_response()
        }
    }
}

const NO_FRONTEND: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mxshop: no front end</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>No front end installed</h1>
<p>Copy a built VueShop front end (<code>index.html</code> and <code>static/</code>) into the
front-end directory (<code>--frontend-dir</code>, <code>./frontend</code> by default) and reload.
The API is at <a href="/api/">/api/</a>.</p>
</body></html>
"#;

/// `{% static 'x' %}` becomes `/static/x`; any other `{% … %}` tag (such as `{% load static %}`)
/// is removed.
fn strip_template_tags(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{%") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("%}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let tag = rest[start + 2..start + len].trim();
        if let Some(argument) = tag.strip_prefix("static ") {
            out.push_str("/static/");
            out.push_str(argument.trim().trim_matches(['\'', '"']));
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// `GET /api/`: the collection URLs, absolute, like DRF's API root.
pub async fn api_root(url: RequestUrl) -> Json<Value> {
    let base = url.without_query();
    let origin = base.trim_end_matches("/api/");
    let map: Map<String, Value> =
        COLLECTIONS.iter().map(|name| ((*name).to_owned(), Value::String(format!("{origin}/{name}/")))).collect();
    Json(Value::Object(map))
}

/// `GET /health/`: a fixed answer for load balancers (and the load harness's baseline: the same
/// middleware as every route, no database).
#[utoipa::path(
    summary = "Liveness",
    get, path = "/health/", tag = "operations",
    responses((status = 200, description = "The process answers (liveness)", example = json!({"status": "ok"})))
)]
pub async fn health() -> Json<Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /ready/`: 200 when this instance can serve (the database answers, it has this build's
/// migrations, no shutdown has begun), else 503 with the reason, so a load balancer sends
/// traffic elsewhere.
#[utoipa::path(
    summary = "Readiness",
    get, path = "/ready/", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", example = json!({"status": "ready"})),
        (status = 503, description = "Not ready: `database unreachable`, `migrations pending: …` or `shutting down`", example = json!({"status": "unavailable", "reason": "migrations pending: m20261130_000001_ledger"})),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.readiness.check(&state.db).await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(reason) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable", "reason": reason})))
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_template_tags;

    #[test]
    fn resolves_static_tags() {
        let template = "{% load static %}<script src=\"{% static 'index.entry.js' %}\"></script>{% broken";
        assert_eq!(strip_template_tags(template), "<script src=\"/static/index.entry.js\"></script>{% broken");
    }
}
