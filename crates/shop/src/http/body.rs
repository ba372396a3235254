//! `Payload`: a request body parsed the way DRF parses one — JSON, URL-encoded form or multipart —
//! into named values, with DRF's 400 and 415 answers for bodies it cannot read.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;

use super::error::{ApiError, FieldErrors};
use crate::state::AppState;

/// How the body arrived; DRF treats blank form values differently from blank JSON strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// An uploaded file, held in memory (uploads are capped well below the body limit).
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the client gave, untrusted.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum FieldValue {
    Json(Value),
    Text(String),
    File(Upload),
}

#[derive(Debug, Clone)]
pub struct Payload {
    pub kind: BodyKind,
    fields: Vec<(String, FieldValue)>,
}

impl Payload {
    pub fn empty() -> Self {
        Self { kind: BodyKind::Form, fields: Vec::new() }
    }

    pub fn from_json(value: Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Self {
                kind: BodyKind::Json,
                fields: map.into_iter().map(|(k, v)| (k, FieldValue::Json(v))).collect(),
            }),
            other => {
                let found = match other {
                    Value::Array(_) => "list",
                    Value::String(_) => "str",
                    Value::Number(n) if n.is_f64() => "float",
                    Value::Number(_) => "int",
                    Value::Bool(_) => "bool",
                    _ => "NoneType",
                };
                Err(ApiError::Validation(FieldErrors::single(
                    "non_field_errors",
                    format!("无效数据。期待为字典类型，得到的是 {found} 。"),
                )))
            }
        }
    }

    /// A form body made by the server (the storefront turns its own forms into the API's fields).
    pub fn from_form(fields: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { kind: BodyKind::Form, fields: fields.into_iter().map(|(k, v)| (k, FieldValue::Text(v))).collect() }
    }

    /// The last text value sent under `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            FieldValue::Text(text) => Some(text),
            FieldValue::Json(serde_json::Value::String(text)) => Some(text),
            _ => None,
        }
    }

    /// The last value sent under `name`, as Django's `QueryDict` answers.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The largest file part accepted; larger ones are refused with a field error naming the limit.
pub fn upload_too_large(limit: usize) -> String {
    format!("文件大小不能超过 {}。", human_size(limit))
}

pub fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} 字节")
    }
}

impl FromRequest<AppState> for Payload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type =
            request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if media_type == "multipart/form-data" {
            let multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::ParseError(format!("Multipart form parse error - {e}")))?;
            return read_multipart(multipart, state.config.upload_limit_bytes).await;
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::ParseError(format!("Request body could not be read - {e}")))?;
        if bytes.is_empty() {
            return Ok(Self::empty());
        }
        match media_type.as_str() {
            "application/json" => {
                let value: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::ParseError(format!("JSON parse error - {e}")))?;
                Self::from_json(value)
            }
            "application/x-www-form-urlencoded" => Ok(Self {
                kind: BodyKind::Form,
                fields: form_urlencoded::parse(&bytes)
                    .map(|(k, v)| (k.into_owned(), FieldValue::Text(v.into_owned())))
                    .collect(),
            }),
            _ => Err(ApiError::UnsupportedMediaType(content_type)),
        }
    }
}

async fn read_multipart(mut multipart: Multipart, upload_limit: usize) -> Result<Payload, ApiError> {
    let parse_error = |e: axum::extract::multipart::MultipartError| {
        ApiError::ParseError(format!("Multipart form parse error - {}", e.body_text()))
    };
    let mut fields = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(parse_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(parse_error)? {
                    if bytes.len() + chunk.len() > upload_limit {
                        return Err(ApiError::Validation(FieldErrors::single(&name, upload_too_large(upload_limit))));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                fields.push((name, FieldValue::File(Upload { file_name, bytes })));
            }
            None => {
                let text = field.text().await.map_err(parse_error)?;
                fields.push((name, FieldValue::Text(text)));
            }
        }
    }
    Ok(Payload { kind: BodyKind::Form, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(upload_too_large(5 * 1024 * 1024), "文件大小不能超过 5 MB。");
        assert_eq!(human_size(1536), "1536 字节");
        assert_eq!(human_size(2048), "2 KB");
    }
}
