//! `Lookup`: the `{id}` of an item route. Anything that is not an integer id is DRF's 404, never
//! axum's plain-text rejection.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::error::ApiError;
use super::query::parse_python_int;

/// A primary key taken from the last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for Lookup {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        parse_python_int(&raw).and_then(|id| i32::try_from(id).ok()).map(Lookup).ok_or(ApiError::NotFound)
    }
}
