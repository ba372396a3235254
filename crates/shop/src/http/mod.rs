//! Shared HTTP plumbing: DRF-shaped errors, query parsing, pagination, absolute URLs, lookups and
//! the conventions every route follows (CORS, trailing slashes, error bodies, request logs).

pub mod auth;
pub mod body;
pub mod cache;
pub mod client_ip;
pub mod conventions;
pub mod draft;
pub mod error;
pub mod fields;
pub mod origin;
pub mod pagination;
pub mod path;
pub mod query;
pub mod routes;
pub mod serve;

pub use error::{ApiError, ApiResult, FieldErrors};
pub use origin::RequestUrl;
pub use path::Lookup;
pub use query::QueryParams;
