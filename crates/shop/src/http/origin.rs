//! The absolute URL of the current request (`http://{Host}{path}`), from which `next`/`previous`
//! links and `/media/` image URLs are built, as DRF's `build_absolute_uri` does.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header::HOST;
use axum::http::request::Parts;

use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct RequestUrl {
    origin: String,
    path: String,
}

impl RequestUrl {
    pub fn new(host: &str, path: &str) -> Self {
        Self { origin: format!("http://{host}"), path: path.to_owned() }
    }

    /// The host (and port) the request named.
    pub fn host(&self) -> &str {
        self.origin.trim_start_matches("http://")
    }

    /// Scheme, host and path, without the query string.
    pub fn without_query(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }

    /// The public URL of a stored media name (`goods/images/x.png`), or `None` for no image. An
    /// absolute URL (kept so by `mxshop import django`) is its own URL, as Django's storage
    /// `urljoin` makes it.
    pub fn media(&self, name: Option<&str>) -> Option<String> {
        Some(match media_url(name)? {
            MediaUrl::Absolute(url) => url.to_owned(),
            MediaUrl::Name(name) => format!("{}{MEDIA_PATH}{name}", self.origin),
        })
    }

    /// `http://host`, as it starts every URL built for this request, as it goes inside a JSON
    /// string (escaped, without the quotes).
    pub fn origin_json(&self) -> String {
        let quoted = serde_json::to_string(&self.origin).unwrap_or_default();
        quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
    }
}

/// Where a stored media name is served.
pub enum MediaUrl<'a> {
    /// A name that is a URL already.
    Absolute(&'a str),
    /// The name percent-encoded, served under `MEDIA_PATH` of the request's origin.
    Name(String),
}

/// Where stored media are served.
pub const MEDIA_PATH: &str = "/media/";

/// Where `name` is served; `None` for no image (no name, or an empty one).
pub fn media_url(name: Option<&str>) -> Option<MediaUrl<'_>> {
    let name = name.filter(|name| !name.is_empty())?;
    if name.starts_with("http://") || name.starts_with("https://") {
        return Some(MediaUrl::Absolute(name));
    }
    let mut encoded = String::with_capacity(name.len());
    encode_path(name, &mut encoded);
    Some(MediaUrl::Name(encoded))
}

/// Django's `filepath_to_uri`: keep `/` and URL-safe characters, percent-encode the rest as UTF-8.
fn encode_path(name: &str, out: &mut String) {
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'_'
            | b'.'
            | b'-'
            | b'~'
            | b'/'
            | b'!'
            | b'*'
            | b'('
            | b')'
            | b'\'' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// A Host header is used only if it looks like `name[:port]` or `[v6]:port`; anything else
/// (spaces, `/`, `@`, control bytes) falls back to the address the server listens on.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

impl FromRequestParts<AppState> for RequestUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| valid_host(host))
            .map_or_else(|| state.public_host.clone(), str::to_owned);
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |uri| uri.path().to_owned());
        Ok(Self::new(&host, &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_urls_are_absolute_and_encoded() {
        let url = RequestUrl::new("127.0.0.1:8000", "/goods/");
        assert_eq!(
            url.media(Some("goods/images/a b.svg")).as_deref(),
            Some("http://127.0.0.1:8000/media/goods/images/a%20b.svg")
        );
        assert_eq!(url.media(Some("书.svg")).as_deref(), Some("http://127.0.0.1:8000/media/%E4%B9%A6.svg"));
        assert_eq!(url.media(Some("")), None);
        assert_eq!(url.media(Some("https://cdn.example/a.png")).as_deref(), Some("https://cdn.example/a.png"));
        assert_eq!(url.media(None), None);
        assert_eq!(url.without_query(), "http://127.0.0.1:8000/goods/");
    }

    #[test]
    fn rejects_odd_hosts() {
        assert!(valid_host("localhost:8000"));
        assert!(valid_host("[::1]:8000"));
        assert!(!valid_host("evil.com/x"));
        assert!(!valid_host("a b"));
        assert!(!valid_host("user@host"));
    }
}
