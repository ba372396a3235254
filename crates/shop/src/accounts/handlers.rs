//! Account handlers: `/code/`, `/users/`, `/users/{any}/`, `/login/`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::forms::{LoginForm, ProfileForm, RegisterForm, SendCodeForm};
use super::{codes, tokens, users};
use crate::db::entities::user;
use crate::http::ApiResult;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::client_ip::ClientIp;
use crate::state::AppState;

/// UserDetail: what the profile page binds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

pub(crate) fn token_for(state: &AppState, user: &user::Model) -> ApiResult<String> {
    tokens::issue(&state.keys, user, state.config.jwt_lifetime_secs)
        .map_err(|e| anyhow::anyhow!("signing a token: {e}").into())
}

/// `POST /code/`
#[utoipa::path(
    summary = "Send an SMS code",
    post, path = "/code/", tag = "accounts", request_body(content((crate::openapi::bodies::SendCode = "application/json"), (crate::openapi::bodies::SendCode = "application/x-www-form-urlencoded"), (crate::openapi::bodies::SendCode = "multipart/form-data"))),
    responses((status = 201, description = "A code was sent (with the `log` provider: written to the server log)", example = json!({"mobile": "13800138000"})), crate::openapi::answers::Invalid, crate::openapi::answers::Throttled)
)]
pub async fn send_code(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mobile = codes::send_code(&state, SendCodeForm::read(&payload), &client).await?;
    Ok((StatusCode::CREATED, Json(json!({ "mobile": mobile.as_str() }))))
}

/// `POST /users/`
#[utoipa::path(
    summary = "Register with an SMS code",
    post, path = "/users/", tag = "accounts", request_body(content((crate::openapi::bodies::Register = "application/json"), (crate::openapi::bodies::Register = "application/x-www-form-urlencoded"), (crate::openapi::bodies::Register = "multipart/form-data"))),
    responses((status = 201, description = "Registered and logged in", example = json!({"name": "13800138000", "username": "13800138000", "token": "eyJ…"})), crate::openapi::answers::Invalid, crate::openapi::answers::Throttled)
)]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let user = users::register(&state, RegisterForm::read(&payload), &client).await?;
    let token = token_for(&state, &user)?;
    let name = user.name.clone().unwrap_or_else(|| user.username.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "username": user.username, "mobile": user.mobile, "token": token, "name": name })),
    ))
}

/// `POST /login/`
#[utoipa::path(
    summary = "Log in (get a token)",
    post, path = "/login/", tag = "accounts", request_body(content((crate::openapi::bodies::Login = "application/json"), (crate::openapi::bodies::Login = "application/x-www-form-urlencoded"), (crate::openapi::bodies::Login = "multipart/form-data"))),
    responses((status = 200, description = "A login token (JWT)", example = json!({"token": "eyJ…"})), (status = 400, description = "Wrong credentials", body = crate::openapi::answers::Invalid, example = json!({"non_field_errors": ["无法使用提供的认证信息登录。"]})), crate::openapi::answers::Throttled, (status = 503, description = "Too many logins at once; try again", body = crate::openapi::answers::Throttled))
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    payload: Payload,
) -> ApiResult<Json<serde_json::Value>> {
    let form = LoginForm::read(&payload)?;
    let user = users::login(&state, form, &client).await?;
    Ok(Json(json!({ "token": token_for(&state, &user)? })))
}

/// `GET /users/`: the authenticated user.
#[utoipa::path(
    summary = "The caller's profile",
    get, path = "/users/", tag = "accounts", security(("jwt" = [])),
    responses((status = 200, description = "The authenticated user's profile", body = UserDetail), crate::openapi::answers::NotAuthenticated)
)]
pub async fn get_own_profile(user: CurrentUser) -> Json<UserDetail> {
    Json(UserDetail::from(&user.0))
}

/// `GET /users/{any}/`: the authenticated user, whatever the id (as the original).
#[utoipa::path(
    summary = "The caller's profile (any id)",
    get, path = "/users/{id}/", tag = "accounts", params(("id" = i32, Path, description = "any id: the profile is always the caller's")), security(("jwt" = [])),
    responses((status = 200, description = "The authenticated user's profile", body = UserDetail), crate::openapi::answers::NotAuthenticated)
)]
pub async fn get_profile(user: CurrentUser) -> Json<UserDetail> {
    get_own_profile(user).await
}

/// `PATCH /users/{any}/`
#[utoipa::path(
    summary = "Change some profile fields",
    patch, path = "/users/{id}/", tag = "accounts", params(("id" = i32, Path, description = "any id: the caller's profile changes")), security(("jwt" = [])), request_body(content((crate::openapi::bodies::Profile = "application/json"), (crate::openapi::bodies::Profile = "application/x-www-form-urlencoded"), (crate::openapi::bodies::Profile = "multipart/form-data"))),
    responses((status = 200, description = "The updated profile", body = UserDetail), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn patch_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<Json<UserDetail>> {
    let updated = users::update_profile(&state.db, &state.users, user.0, ProfileForm::read(&payload, true)).await?;
    Ok(Json(UserDetail::from(&updated)))
}

/// `PUT /users/{any}/`: like PATCH, but `username` is required.
#[utoipa::path(
    summary = "Replace the profile",
    put, path = "/users/{id}/", tag = "accounts", params(("id" = i32, Path, description = "any id: the caller's profile changes")), security(("jwt" = [])), request_body(content((crate::openapi::bodies::Profile = "application/json"), (crate::openapi::bodies::Profile = "application/x-www-form-urlencoded"), (crate::openapi::bodies::Profile = "multipart/form-data"))),
    responses((status = 200, description = "The updated profile", body = UserDetail), crate::openapi::answers::Invalid, crate::openapi::answers::NotAuthenticated)
)]
pub async fn put_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    payload: Payload,
) -> ApiResult<Json<UserDetail>> {
    let updated = users::update_profile(&state.db, &state.users, user.0, ProfileForm::read(&payload, false)).await?;
    Ok(Json(UserDetail::from(&updated)))
}
