//! The storefront's session. The login cookie carries the same JWT the API takes as a Bearer
//! token and is checked the same way (signature, expiry, active user, password version); a second
//! cookie holds a random browser id. CSRF tokens are an HMAC of both, so a token is good only for
//! this browser and this login, and another site can neither read nor forge one.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::accounts::handlers::token_for;
use crate::db::entities::user;
use crate::http::auth::{CurrentUser, user_for_token};
use crate::http::body::Payload;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;

const SESSION_COOKIE: &str = "mxshop_session";
const BROWSER_COOKIE: &str = "mxshop_browser";
/// The browser cookie outlives any login; it only binds CSRF tokens.
const BROWSER_COOKIE_SECS: u64 = 400 * 24 * 3600;
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Who is asking: the signed-in user, if any, and what binds this browser's forms.
#[derive(Clone)]
pub struct Visitor {
    pub user: Option<user::Model>,
    token: Option<String>,
    browser: String,
    /// The browser had no (valid) id cookie: one is set with this response.
    new_browser: bool,
    /// The login cookie no longer holds (expired, password changed): it is cleared.
    stale_session: bool,
    secure: bool,
    /// A phone's browser (its Pay button uses wap pay unless the page says otherwise).
    pub mobile: bool,
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn random_browser_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// What a presented login cookie means for this request.
enum SessionCheck {
    SignedIn(user::Model),
    /// The token no longer holds (expired, revoked, unknown or inactive user): the cookie is
    /// cleared.
    Refused(ApiError),
    /// The token could not be checked (database down or busy): the cookie is kept.
    Unavailable(ApiError),
}

fn session_check(checked: Result<user::Model, ApiError>) -> SessionCheck {
    match checked {
        Ok(user) => SessionCheck::SignedIn(user),
        Err(error @ ApiError::Unauthorized(_)) => SessionCheck::Refused(error),
        Err(error) => SessionCheck::Unavailable(error),
    }
}

impl FromRequestParts<AppState> for Visitor {
    /// The layout's 503 page when the login cookie could not be checked.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (browser, new_browser) = match cookie(parts, BROWSER_COOKIE) {
            Some(id) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => (id.to_owned(), false),
            _ => (random_browser_id(), true),
        };
        let agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mobile = ["Mobile", "Android", "iPhone"].iter().any(|word| agent.contains(word));
        let secure = state.config.public_url().starts_with("https://");
        let mut visitor = Self { user: None, token: None, browser, new_browser, stale_session: false, secure, mobile };
        if let Some(token) = cookie(parts, SESSION_COOKIE).filter(|token| !token.is_empty()) {
            match session_check(user_for_token(state, token).await) {
                SessionCheck::SignedIn(user) => {
                    visitor.user = Some(user);
                    visitor.token = Some(token.to_owned());
                }
                SessionCheck::Refused(error) => {
                    tracing::debug!(%error, "storefront session refused");
                    visitor.stale_session = true;
                }
                SessionCheck::Unavailable(error) => {
                    tracing::warn!(error = ?error, "storefront session could not be checked");
                    // The cookie is kept: the visitor is still signed in once the database answers.
                    return Err(super::view::message(
                        state,
                        &visitor,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "服务器繁忙",
                        vec!["暂时无法确认您的登录状态，请稍后再试。".to_owned()],
                    ));
                }
            }
        }
        Ok(visitor)
    }
}

impl Visitor {
    /// The signed-in user, as the API's handlers take it.
    pub fn current_user(&self) -> Option<CurrentUser> {
        self.user.clone().map(CurrentUser)
    }

    fn binding(&self) -> String {
        format!("{}|{}", self.browser, self.token.as_deref().unwrap_or_default())
    }

    /// The token every state-changing form of this page carries.
    pub fn csrf_token(&self, state: &AppState) -> String {
        state.keys.csrf_token(&self.binding())
    }

    /// Whether the form carries this browser's and this session's token. A browser that sent no
    /// id cookie cannot pass (its forms were not made for it).
    pub fn csrf_ok(&self, state: &AppState, form: &Payload) -> bool {
        !self.new_browser && form.text(CSRF_FIELD).is_some_and(|token| state.keys.csrf_matches(&self.binding(), token))
    }

    /// `Set-Cookie` values this response must carry whatever it is.
    pub fn cookies(&self) -> Vec<HeaderValue> {
        let mut cookies = Vec::new();
        if self.new_browser {
            cookies.push(self.cookie_header(BROWSER_COOKIE, &self.browser, BROWSER_COOKIE_SECS));
        }
        if self.stale_session {
            cookies.push(self.cookie_header(SESSION_COOKIE, "", 0));
        }
        cookies
    }

    /// The cookie that signs `user` in (a login token, as `POST /login/` issues).
    pub fn sign_in(&self, state: &AppState, user: &user::Model) -> ApiResult<HeaderValue> {
        let token = token_for(state, user)?;
        Ok(self.cookie_header(SESSION_COOKIE, &token, state.config.jwt_lifetime_secs))
    }

    /// The cookie that ends the session in this browser.
    pub fn sign_out(&self) -> HeaderValue {
        self.cookie_header(SESSION_COOKIE, "", 0)
    }

    fn cookie_header(&self, name: &str, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
        // Names are constants, values hex or a JWT (base64url and dots): always a valid header.
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(mut response: axum::response::Response, cookies: Vec<HeaderValue>) -> axum::response::Response {
    for value in cookies {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_refused_token_clears_the_login_cookie() {
        let refused = session_check(Err(ApiError::Unauthorized("revoked")));
        assert!(matches!(refused, SessionCheck::Refused(_)));
        // A database that cannot answer says nothing about the token: the visitor stays signed in
        // and is told to retry.
        let down = session_check(Err(ApiError::Database(sea_orm::DbErr::Custom("connection timed out".into()))));
        assert!(matches!(down, SessionCheck::Unavailable(_)));
        assert!(matches!(session_check(Err(ApiError::Busy(1))), SessionCheck::Unavailable(_)));
        let internal = session_check(Err(ApiError::Internal(anyhow::anyhow!("pool closed"))));
        assert!(matches!(internal, SessionCheck::Unavailable(_)));
    }
}
