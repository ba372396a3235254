//! Conventions every route follows, as middleware and fallbacks: django-cors-headers' CORS, Django's
//! `APPEND_SLASH` redirect, DRF-shaped bodies for errors the framework itself produces, and a
//! request id, a span, a log line and metrics per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::Instrument;

use super::error::{ApiError, detail, messages};
use super::routes::{RouteTable, UNMATCHED};
use crate::telemetry;

const ALLOW_HEADERS: &str =
    "accept, accept-encoding, authorization, content-type, dnt, origin, user-agent, x-csrftoken, x-requested-with";
const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, PATCH, POST, PUT";
const MAX_AGE: &str = "86400";

/// CORS exactly as django-cors-headers 3.5 with `CORS_ORIGIN_ALLOW_ALL`: a preflight is answered
/// `200` with an empty body before routing; any request with `Origin` gets `*`; OPTIONS requests
/// with `Origin` also get the allowed headers, methods and max age.
///
/// Not for the built-in Alipay sandbox: its pages show every trade, and another site's scripts
/// must not read them.
pub async fn cors(request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(crate::payments::gateway::BUILTIN_SANDBOX_PATH) {
        return next.run(request).await;
    }
    let is_options = request.method() == Method::OPTIONS;
    let has_origin = request.headers().contains_key(header::ORIGIN);
    let is_preflight = is_options && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if is_preflight {
        (StatusCode::OK, [(header::CONTENT_LENGTH, "0")]).into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if has_origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        if is_options {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        }
    }
    response
}

/// The policy of the shop's own HTML pages (docs, the sandbox's cashier and inspection
/// pages): no script at all, inline styles, images from here; never inside a frame, so a Pay
/// button cannot be overlaid by another site.
const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on HTML pages (layered on the page routes and the sandbox, not on the API).
/// The installed Vue front end (`/index/`) is someone else's bundle and gets only the frame and
/// referrer headers: its scripts must run as they are.
pub async fn page_security_headers(request: Request, next: Next) -> Response {
    let is_spa = request.uri().path().starts_with("/index/");
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        let headers = response.headers_mut();
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        if !is_spa && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
        }
    }
    response
}

/// Marks a response whose non-JSON error body is deliberate (Alipay expects a plain `fail`).
#[derive(Debug, Clone, Copy)]
pub struct KeepBody;

/// Gives a DRF `{"detail": …}` body to error responses that the framework and tower layers create
/// without a JSON one (405 from method routing, 413 from the body limit, 408 from the timeout, an
/// empty 404 from the file server, an extractor's plain-text rejection), so that every error a
/// client sees is a JSON object.
pub async fn drf_error_bodies(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_framework_body =
        content_type.is_none_or(|ct| ct.starts_with("text/plain")) && response.extensions().get::<KeepBody>().is_none();
    if !(status.is_client_error() || status.is_server_error()) || !is_framework_body {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let replacement = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(method.to_string()).into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => detail(status, messages::BODY_TOO_LARGE),
        StatusCode::REQUEST_TIMEOUT => detail(status, messages::TIMEOUT),
        StatusCode::NOT_FOUND => detail(status, messages::NOT_FOUND),
        _ if status.is_server_error() => detail(status, messages::SERVER_ERROR),
        _ => {
            // A rejection's text says what was wrong; keep it (it never holds internals).
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let fallback = status.canonical_reason().unwrap_or("error");
            detail(status, if text.trim().is_empty() { fallback } else { text.trim() })
        }
    };
    let (new_parts, body) = replacement.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(new_parts.headers);
    Response::from_parts(parts, body)
}

/// Reads the whole body first (within `deadline`, `body_read_timeout_secs`: a client that stalls mid-body is
/// answered 408 and holds nothing), then runs the handler in a task of its own, so that once started it
/// finishes — commits or rolls back — even if the client goes away or the request times out. A
/// handler future dropped in the middle of a transaction would leave the rollback queued on its
/// connection until that connection is reused, holding row locks meanwhile.
pub async fn run_to_completion(State(deadline): State<Duration>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    // Most requests (every GET) have no body: nothing to wait for.
    if axum::body::HttpBody::is_end_stream(&body) {
        return spawn_handler(Request::from_parts(parts, body), next).await;
    }
    let bytes = match tokio::time::timeout(deadline, axum::body::to_bytes(body, usize::MAX)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) => {
            let too_large = error.into_inner().downcast_ref::<http_body_util::LengthLimitError>().is_some();
            return if too_large {
                detail(StatusCode::PAYLOAD_TOO_LARGE, messages::BODY_TOO_LARGE)
            } else {
                detail(StatusCode::BAD_REQUEST, messages::BODY_INCOMPLETE)
            };
        }
        Err(_) => return detail(StatusCode::REQUEST_TIMEOUT, messages::TIMEOUT),
    };
    spawn_handler(Request::from_parts(parts, Body::from(bytes)), next).await
}

async fn spawn_handler(request: Request, next: Next) -> Response {
    // The task carries the request's span, so the handler's log lines name the request.
    match tokio::spawn(next.run(request).in_current_span()).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(%error, "a request handler panicked");
            detail(StatusCode::INTERNAL_SERVER_ERROR, messages::SERVER_ERROR)
        }
    }
}

/// DRF's answer to a plain (non-preflight) OPTIONS request on an API route.
pub async fn describe_options(matched: Option<MatchedPath>) -> Response {
    let name = matched.map_or_else(String::new, |path| path.as_str().to_owned());
    Json(json!({
        "name": name,
        "description": "",
        "renders": ["application/json"],
        "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    }))
    .into_response()
}

/// Unmatched requests: a GET or HEAD whose path lacks the trailing slash of an existing route is
/// redirected (301) to it, keeping the query, like Django's `APPEND_SLASH`; everything else is
/// DRF's JSON 404.
pub async fn not_found(routes: Arc<matchit::Router<()>>, request: Request<Body>) -> Response {
    let uri = request.uri();
    let path = uri.path();
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if is_read && !path.ends_with('/') {
        let with_slash = format!("{path}/");
        if routes.at(&with_slash).is_ok() {
            let location = match uri.query() {
                Some(query) => format!("{with_slash}?{query}"),
                None => with_slash,
            };
            return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, location)]).into_response();
        }
    }
    ApiError::NotFound.into_response()
}

/// The request id header: accepted from a client or proxy, else made here; always answered.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, in its extensions and in every log line written while it is handled.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    /// The id a client or proxy sent, when it is a sane token (at most 64 visible characters of
    /// `[A-Za-z0-9._:-]`, so it cannot forge log lines), else a new random one.
    fn of(headers: &axum::http::HeaderMap) -> Self {
        let sent = headers.get(&REQUEST_ID).filter(|value| {
            let bytes = value.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= 64
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        });
        match sent {
            Some(value) => Self(value.clone()),
            None => {
                // 16 hex digits written in place: no string to format and copy.
                let mut id = [0u8; 16];
                let random = rand::random::<u64>();
                for (i, digit) in id.iter_mut().enumerate() {
                    *digit = b"0123456789abcdef"[((random >> (60 - 4 * i)) & 0xf) as usize];
                }
                Self(HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("0")))
            }
        }
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// One span per request (request id, method, matched route, path) around everything logged while
/// it is handled, one line when it is answered (status, latency), the `x-request-id` answer
/// header, and the request metrics.
pub async fn observe_requests(State(routes): State<RouteTable>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let _in_flight = telemetry::InFlight::enter();
    let id = RequestId::of(request.headers());
    let method = method_label(request.method());
    let route = routes.label(request.uri().path());
    let span = tracing::info_span!(
        "request",
        id = %String::from_utf8_lossy(id.0.as_bytes()),
        method,
        route = route.as_deref().unwrap_or(UNMATCHED),
        path = %request.uri().path(),
    );
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    response.headers_mut().insert(REQUEST_ID, id.0);
    let status = response.status();
    tracing::info!(parent: &span, status = status.as_u16(), latency_ms = elapsed.as_secs_f64() * 1000.0, "served");
    telemetry::record_request(method, route, status, elapsed);
    response
}
