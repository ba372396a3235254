//! `ApiError`: every error a handler can return, rendered in DRF's shapes in this one place.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// DRF's standard messages under `zh-hans`, byte for byte.
pub mod messages {
    pub const NOT_FOUND: &str = "未找到。";
    pub const INVALID_PAGE: &str = "无效页面。";
    pub const NOT_A_NUMBER: &str = "输入一个数字。";
    pub const SERVER_ERROR: &str = "服务器内部错误。";
    pub const BODY_TOO_LARGE: &str = "请求体过大。";
    pub const TIMEOUT: &str = "请求超时。";
    pub const BUSY: &str = "服务器繁忙，请稍后再试。";
    pub const BODY_INCOMPLETE: &str = "请求体不完整。";
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("invalid page")]
    InvalidPage,
    /// Field (or `non_field_errors`) messages, in the order they were found.
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    /// An outside provider refused: `{"<field>": "<its message>"}`, a bare string as the original
    /// answered for SMS failures.
    #[error("provider refused: {message}")]
    Provider { field: &'static str, message: String },
    /// 401 with DRF's `detail` and a `WWW-Authenticate` challenge.
    #[error("not authenticated: {0}")]
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed (staff-only routes).
    #[error("permission denied")]
    PermissionDenied,
    /// 429; the number is the seconds until a request would be accepted.
    #[error("throttled for {0} s")]
    Throttled(u64),
    /// 503: too much work queued (password hashing); the number is the seconds to wait.
    #[error("busy, retry in {0} s")]
    Busy(u64),
    /// 422 `{"detail": …}`: well-formed, but conflicts with what the key was first used for
    /// (an `Idempotency-Key` reused with another request).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    #[error("malformed request body: {0}")]
    ParseError(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A form that did not read: the 400 with its field errors.
impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

/// DRF's `{"field": ["msg", …], …}` body, keeping insertion order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(Vec<(String, Vec<String>)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(name, _)| name == field) {
            Some((_, list)) => list.push(message),
            None => self.0.push((field.to_owned(), vec![message])),
        }
    }

    /// Each field with its messages, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(name, list)| (name.as_str(), list.as_slice()))
    }

    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(name, _)| name == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same errors with the fields in `order` (fields it does not name last, as found).
    pub fn ordered(mut self, order: &[&str]) -> Self {
        self.0.sort_by_key(|(name, _)| order.iter().position(|field| field == name).unwrap_or(order.len()));
        self
    }

    /// `Ok(())` when nothing was added, else the 400 carrying every field's messages.
    pub fn into_result(self) -> ApiResult<()> {
        if self.is_empty() { Ok(()) } else { Err(ApiError::Validation(self)) }
    }

    fn to_json(&self) -> Value {
        let map: Map<String, Value> = self.0.iter().map(|(field, list)| (field.clone(), json!(list))).collect();
        Value::Object(map)
    }
}

/// A `{"detail": …}` body with the given status: DRF's shape for everything but field errors.
pub fn detail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "detail": message }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound => detail(StatusCode::NOT_FOUND, messages::NOT_FOUND),
            ApiError::InvalidPage => detail(StatusCode::NOT_FOUND, messages::INVALID_PAGE),
            ApiError::Validation(errors) => (StatusCode::BAD_REQUEST, Json(errors.to_json())).into_response(),
            ApiError::Provider { field, message } => {
                (StatusCode::BAD_REQUEST, Json(json!({ field: message }))).into_response()
            }
            ApiError::Unauthorized(message) => {
                let mut response = detail(StatusCode::UNAUTHORIZED, message);
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"api\""));
                response
            }
            ApiError::PermissionDenied => detail(StatusCode::FORBIDDEN, "您没有执行该操作的权限。"),
            ApiError::Throttled(seconds) => {
                let mut response = detail(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("请求超过了限速。 Expected available in {seconds} seconds."),
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            ApiError::Busy(seconds) => {
                let mut response = detail(StatusCode::SERVICE_UNAVAILABLE, messages::BUSY);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            ApiError::Unprocessable(message) => detail(StatusCode::UNPROCESSABLE_ENTITY, &message),
            ApiError::MethodNotAllowed(method) => {
                detail(StatusCode::METHOD_NOT_ALLOWED, &format!("方法 “{method}” 不被允许。"))
            }
            ApiError::UnsupportedMediaType(content_type) => {
                detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, &format!("不支持请求中的媒体类型 “{content_type}”。"))
            }
            ApiError::ParseError(message) => detail(StatusCode::BAD_REQUEST, &message),
            ApiError::Database(error) => {
                tracing::error!(error = %error, "database error");
                detail(StatusCode::INTERNAL_SERVER_ERROR, messages::SERVER_ERROR)
            }
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                detail(StatusCode::INTERNAL_SERVER_ERROR, messages::SERVER_ERROR)
            }
        }
    }
}

impl crate::db::MaybeTransient for ApiError {
    fn is_transient(&self) -> bool {
        matches!(self, ApiError::Database(error) if crate::db::is_transient(error))
    }
}
