//! `CurrentUser`: the user a `Authorization: Bearer <jwt>` (or `JWT <jwt>`) header names, with
//! drf-jwt's 401 answers for every way it can be wrong.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sea_orm::EntityTrait;

use super::error::ApiError;
use crate::accounts::tokens;
use crate::db::entities::user;
use crate::state::AppState;

pub mod messages {
    pub const NOT_PROVIDED: &str = "身份认证信息未提供。";
    pub const NO_CREDENTIALS: &str = "Invalid Authorization header. No credentials provided.";
    pub const SPACES: &str = "Invalid Authorization header. Credentials string should not contain spaces.";
    pub const UNKNOWN_USER: &str = "Invalid signature.";
    pub const INACTIVE: &str = "用户账户已禁用。";
}

/// The authenticated, active user.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub user::Model);

impl CurrentUser {
    pub fn id(&self) -> i32 {
        self.0.id
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let words: Vec<&str> = header.as_deref().unwrap_or_default().split_whitespace().collect();
        let scheme_ok =
            words.first().is_some_and(|w| w.eq_ignore_ascii_case("bearer") || w.eq_ignore_ascii_case("jwt"));
        let token = match (scheme_ok, words.len()) {
            (false, _) => return Err(ApiError::Unauthorized(messages::NOT_PROVIDED)),
            (true, 1) => return Err(ApiError::Unauthorized(messages::NO_CREDENTIALS)),
            (true, 2) => words[1],
            (true, _) => return Err(ApiError::Unauthorized(messages::SPACES)),
        };
        user_for_token(state, token).await.map(Self)
    }
}

/// The active user a login token names, refused as drf-jwt refuses it; the storefront's session
/// cookie carries the same token, so both are checked here.
pub async fn user_for_token(state: &AppState, token: &str) -> Result<user::Model, ApiError> {
    let claims = tokens::verify(&state.keys, token).map_err(|error| ApiError::Unauthorized(error.message()))?;
    if let Some(user) = state.users.get(claims.user_id, &claims.pwv) {
        return Ok(user);
    }
    let read = state.users.read_start();
    let user = user::Entity::find_by_id(claims.user_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::Unauthorized(messages::UNKNOWN_USER))?;
    if !user.is_active {
        return Err(ApiError::Unauthorized(messages::INACTIVE));
    }
    let version = state.keys.password_version(&user.password, user.session_epoch);
    state.users.keep(read, &user, &version);
    if claims.pwv != version {
        return Err(ApiError::Unauthorized(tokens::TokenError::Revoked.message()));
    }
    Ok(user)
}
