//! `/media/`: catalogue images and uploaded files. The file server decodes and normalises the
//! path itself (`//`, `%6D`, `./` all reach the same file), so the decision "is this an upload?"
//! is taken on the same normalised path, never on the spelling of the request: every upload is a
//! download that the browser neither renders nor sniffs, and nothing under `/media/` may run
//! script on the shop's origin.

use std::path::Path;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::services::ServeDir;

use crate::member::messages::UPLOAD_DIR;

/// The media directory's file server, with the headers above.
pub fn service(media_dir: &Path) -> axum::routing::Router {
    axum::routing::Router::new()
        .fallback_service(ServeDir::new(media_dir).append_index_html_on_directories(false))
        .layer(axum::middleware::from_fn(protect))
}

async fn protect(request: Request, next: Next) -> Response {
    let upload = is_upload(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Images still display in <img>; a document opened directly gets no script and no origin.
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    if upload {
        headers.insert(CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    }
    response
}

/// Whether `path` (relative to `/media`, as the file server will read it) names an upload.
fn is_upload(path: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut segments = decoded.split(['/', '\\']).filter(|segment| !segment.is_empty() && *segment != ".");
    let upload_root = UPLOAD_DIR.split('/').next().unwrap_or(UPLOAD_DIR);
    segments.next().is_some_and(|first| first == upload_root)
}

#[cfg(test)]
mod tests {
    use super::is_upload;

    #[test]
    fn every_spelling_of_an_upload_path_is_an_upload() {
        for path in [
            "/message/images/a.html",
            "//message/images/a.html",
            "/./message/images/a.html",
            "/%6Dessage/images/a.html",
            "/%2Fmessage%2Fimages/a.html",
            "/.//message//images/a.html",
        ] {
            assert!(is_upload(path), "{path}");
        }
        assert!(!is_upload("/goods/images/1.jpg"));
        assert!(!is_upload("/messages/x"));
    }
}
