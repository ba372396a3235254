//! Account handlers: `/code/`, `/users/`, `/users/{any}/`, `/login/`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::{codes, tokens, users};
use crate::app::AppState;
use crate::db::entities::user;
use crate::http::ApiResult;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::client_ip::ClientIp;
use crate::http::fields::Fields;

/// UserDetail: what the profile page binds.
#[derive(Debug, Serialize)]
pub struct UserDetail {
    pub username: String,
    pub gender: String,
    pub birthday: Option<String>,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

impl From<&user::Model> for UserDetail {
    fn from(user: &user::Model) -> Self {
        Self {
            username: user.username.clone(),
            gender: user.gender.clone(),
            birthday: user.birthday.map(|date| date.format("%Y-%m-%d").to_string()),
            email: user.email.clone(),
            mobile: user.mobile.clone(),
        }
    }
}

fn token_for(state: &AppState, user: &user::Model) -> ApiResult<String> {
    tokens::issue(&state.keys, user, state.config.jwt_lifetime_secs)
        .map_err(|e| anyhow::anyhow!("signing a token: {e}").into())
}

/// `POST /code/`
pub async fn send_code(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    codes::SEND_LIMIT.take(&state.db, &client).await?;
    let mut fields = Fields::new(&payload, false);
    let mobile = codes::send_code(&state, &mut fields).await?;
    Ok((StatusCode::CREATED, Json(json!({ "mobile": mobile }))))
}

/// `POST /users/`
pub async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    users::REGISTER_LIMIT.take(&state.db, &client).await?;
    let mut fields = Fields::new(&payload, false);
    let user = users::register(&state, &mut fields).await?;
    let token = token_for(&state, &user)?;
    let name = user.name.clone().unwrap_or_else(|| user.username.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "username": user.username, "mobile": user.mobile, "token": token, "name": name })),
    ))
}

/// `POST /login/`
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<Json<serde_json::Value>> {
    let mut fields = Fields::new(&payload, false);
    let user = users::login(&state, &mut fields, &client).await?;
    Ok(Json(json!({ "token": token_for(&state, &user)? })))
}

/// `GET /users/` and `GET /users/{any}/`: the authenticated user.
pub async fn get_profile(user: CurrentUser) -> Json<UserDetail> {
    Json(UserDetail::from(&user.0))
}

/// `PATCH /users/{any}/`
pub async fn patch_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<Json<UserDetail>> {
    let mut fields = Fields::new(&payload, true);
    let updated = users::update_profile(&state.db, user.0, &mut fields).await?;
    Ok(Json(UserDetail::from(&updated)))
}

/// `PUT /users/{any}/`: like PATCH, but `username` is required.
pub async fn put_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<Json<UserDetail>> {
    let mut fields = Fields::new(&payload, false);
    let updated = users::update_profile(&state.db, user.0, &mut fields).await?;
    Ok(Json(UserDetail::from(&updated)))
}
