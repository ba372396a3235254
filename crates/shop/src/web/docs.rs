//! The API documentation: the OpenAPI 3.1 document generated from the handlers
//! (`/api/openapi.json`) and Swagger UI over it at `/docs/`, its assets compiled into the binary
//! (nothing is fetched from another site, so the docs work offline).

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_swagger_ui::Config;

use crate::http::ApiError;
use crate::state::AppState;

/// Where the document is served; Swagger UI loads it from here.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

/// Swagger UI runs its own scripts and fetches the document from this origin, nothing else: no
/// online validator, no fonts or images from elsewhere.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::new([DOCUMENT_PATH])
            .validator_url("none")
            .try_it_out_enabled(true)
            .persist_authorization(false)
            .display_request_duration(true),
    )
});

/// `GET /api/openapi.json`
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], Bytes::clone(&state.api_document)).into_response()
}

/// `GET /docs/`
pub async fn docs_index() -> Response {
    swagger_file("")
}

/// `GET /docs/{file}`: Swagger UI's scripts, styles and icons.
pub async fn docs_file(Path(file): Path<String>) -> Response {
    swagger_file(&file)
}

fn swagger_file(file: &str) -> Response {
    match utoipa_swagger_ui::serve(file, SWAGGER_CONFIG.clone()) {
        Ok(Some(found)) => {
            let mut response = ([(header::CONTENT_TYPE, found.content_type)], found.bytes.into_owned()).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            if found.gzpipped {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => ApiError::NotFound.into_response(),
        Err(error) => ApiError::Internal(anyhow::anyhow!("serving Swagger UI {file}: {error}")).into_response(),
    }
}
