//! Account pages: register (with the SMS code), log in (username or mobile), log out, profile and
//! password. They call the API's own account functions, with the API's rate limits.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::session::Visitor;
use super::view::{self, Chrome, FormErrors};
use crate::accounts::handlers::UserDetail;
use crate::accounts::{codes, users};
use crate::config::SmsProvider;
use crate::http::ApiError;
use crate::http::body::Payload;
use crate::http::client_ip::ClientIp;
use crate::http::fields::Fields;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "storefront/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: FormErrors,
    username: String,
    next: String,
}

fn login_form(state: &AppState, visitor: &Visitor, status: StatusCode, errors: FormErrors, form: &Payload) -> Response {
    let page = LoginPage {
        chrome: Chrome::new(visitor, state),
        errors,
        username: form.text("username").unwrap_or_default().to_owned(),
        next: view::safe_next(form.text("next")),
    };
    view::page(state, visitor, status, &page)
}

/// `GET /shop/login/`
pub async fn login_page(State(state): State<AppState>, visitor: Visitor, Query(next): Query<Next>) -> Response {
    let form = Payload::from_form(next.next.map(|next| ("next".to_owned(), next)));
    login_form(&state, &visitor, StatusCode::OK, FormErrors::default(), &form)
}

/// `POST /shop/login/`: `POST /login/`'s checks and throttles; the token goes into the cookie.
pub async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(client): ClientIp,
    form: Result<Payload, ApiError>,
) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    if !visitor.csrf_ok(&state, &form) {
        return login_form(&state, &visitor, StatusCode::FORBIDDEN, FormErrors::general(view::STALE_FORM), &form);
    }
    let mut fields = Fields::new(&form, false);
    match users::login(&state, &mut fields, &client).await {
        Ok(user) => match visitor.sign_in(&state, &user) {
            Ok(cookie) => view::redirect(&visitor, &view::safe_next(form.text("next")), Some(cookie)),
            Err(error) => view::failure(&state, &visitor, error),
        },
        Err(error) => match view::form_errors(error, &["username", "password"]) {
            Ok(errors) => login_form(&state, &visitor, StatusCode::BAD_REQUEST, errors, &form),
            Err(error) => view::failure(&state, &visitor, error),
        },
    }
}

/// `POST /shop/logout/`: the session ends on the server (the user's session epoch moves on, so
/// the token the cookie held is refused everywhere, as a cookie or a Bearer token, and the
/// user's other sessions end too), then the cookie is cleared.
pub async fn logout(State(state): State<AppState>, visitor: Visitor, form: Result<Payload, ApiError>) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    if !visitor.csrf_ok(&state, &form) {
        return view::stale_form(&state, &visitor);
    }
    if let Some(user) = &visitor.user
        && let Err(error) = users::end_sessions(&state.db, &state.users, user.id).await
    {
        return view::failure(&state, &visitor, error.into());
    }
    view::redirect(&visitor, "/shop/", Some(visitor.sign_out()))
}

#[derive(Template)]
#[template(path = "storefront/register.html")]
struct RegisterPage {
    chrome: Chrome,
    errors: FormErrors,
    mobile: String,
    code: String,
    /// Said after a code was sent.
    sent: Option<String>,
}

fn register_form(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    errors: FormErrors,
    form: &Payload,
    sent: Option<String>,
) -> Response {
    let page = RegisterPage {
        chrome: Chrome::new(visitor, state),
        errors,
        mobile: form.text("username").or(form.text("mobile")).unwrap_or_default().to_owned(),
        code: form.text("code").unwrap_or_default().to_owned(),
        sent,
    };
    view::page(state, visitor, status, &page)
}

/// `GET /shop/register/`
pub async fn register_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    register_form(&state, &visitor, StatusCode::OK, FormErrors::default(), &Payload::empty(), None)
}

/// `POST /shop/register/code/`: `POST /code/` for the mobile in the form.
pub async fn send_code(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(client): ClientIp,
    form: Result<Payload, ApiError>,
) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    if !visitor.csrf_ok(&state, &form) {
        return register_form(
            &state,
            &visitor,
            StatusCode::FORBIDDEN,
            FormErrors::general(view::STALE_FORM),
            &form,
            None,
        );
    }
    let request = Payload::from_form([("mobile".to_owned(), form.text("username").unwrap_or_default().to_owned())]);
    let mut fields = Fields::new(&request, false);
    match codes::send_code(&state, &mut fields, &client).await {
        Ok(mobile) => {
            let mut sent = format!("验证码已发送到 {mobile}，5 分钟内有效。");
            if state.config.sms.provider == SmsProvider::Log {
                sent.push_str(
                    "（本机使用默认的 log 短信通道：验证码写在服务器日志里，请在运行 mxshop 的终端中查看。）",
                );
            }
            register_form(&state, &visitor, StatusCode::OK, FormErrors::default(), &form, Some(sent))
        }
        Err(error) => match view::form_errors(error, &["username"]) {
            // The API names the field `mobile`; here it is the username field.
            Ok(errors) => {
                let errors = errors.renamed("mobile", "username");
                register_form(&state, &visitor, StatusCode::BAD_REQUEST, errors, &form, None)
            }
            Err(error) => view::failure(&state, &visitor, error),
        },
    }
}

/// `POST /shop/register/`: `POST /users/`, then signed in.
pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(client): ClientIp,
    form: Result<Payload, ApiError>,
) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    if !visitor.csrf_ok(&state, &form) {
        return register_form(
            &state,
            &visitor,
            StatusCode::FORBIDDEN,
            FormErrors::general(view::STALE_FORM),
            &form,
            None,
        );
    }
    let mut fields = Fields::new(&form, false);
    match users::register(&state, &mut fields, &client).await {
        Ok(user) => match visitor.sign_in(&state, &user) {
            Ok(cookie) => view::redirect(&visitor, "/shop/", Some(cookie)),
            Err(error) => view::failure(&state, &visitor, error),
        },
        Err(error) => match view::form_errors(error, &["username", "code", "password"]) {
            Ok(errors) => register_form(&state, &visitor, StatusCode::BAD_REQUEST, errors, &form, None),
            Err(error) => view::failure(&state, &visitor, error),
        },
    }
}

#[derive(Template)]
#[template(path = "storefront/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    profile: UserDetail,
    errors: FormErrors,
    saved: bool,
}

fn profile_form(state: &AppState, visitor: &Visitor, status: StatusCode, errors: FormErrors, saved: bool) -> Response {
    let Some(user) = &visitor.user else { return view::to_login(visitor, "/shop/profile/") };
    let page = ProfilePage { chrome: Chrome::new(visitor, state), profile: UserDetail::from(user), errors, saved };
    view::page(state, visitor, status, &page)
}

/// `GET /shop/profile/`
pub async fn profile_page(State(state): State<AppState>, visitor: Visitor) -> Response {
    profile_form(&state, &visitor, StatusCode::OK, FormErrors::default(), false)
}

/// `POST /shop/profile/`: `PUT /users/{id}/`.
pub async fn update_profile(
    State(state): State<AppState>,
    mut visitor: Visitor,
    form: Result<Payload, ApiError>,
) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    let Some(user) = visitor.user.clone() else { return view::to_login(&visitor, "/shop/profile/") };
    if !visitor.csrf_ok(&state, &form) {
        return profile_form(&state, &visitor, StatusCode::FORBIDDEN, FormErrors::general(view::STALE_FORM), false);
    }
    let mut fields = Fields::new(&form, false);
    match users::update_profile(&state.db, &state.users, user, &mut fields).await {
        Ok(updated) => {
            visitor.user = Some(updated);
            profile_form(&state, &visitor, StatusCode::OK, FormErrors::default(), true)
        }
        Err(error) => match view::form_errors(error, &["username", "gender", "birthday", "email"]) {
            Ok(errors) => profile_form(&state, &visitor, StatusCode::BAD_REQUEST, errors, false),
            Err(error) => view::failure(&state, &visitor, error),
        },
    }
}

/// `POST /shop/profile/password/`: a new password ends every session (this one included: the
/// login tokens name the old password), so the visitor signs in again.
pub async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    form: Result<Payload, ApiError>,
) -> Response {
    let form = match form {
        Ok(form) => form,
        Err(error) => return view::unreadable_page(&state, &visitor, error),
    };
    let Some(user) = visitor.user.clone() else { return view::to_login(&visitor, "/shop/profile/") };
    if !visitor.csrf_ok(&state, &form) {
        return profile_form(&state, &visitor, StatusCode::FORBIDDEN, FormErrors::general(view::STALE_FORM), false);
    }
    let mut fields = Fields::new(&form, false);
    match users::change_password(&state.db, &state.users, &user, &mut fields).await {
        Ok(()) => view::redirect(&visitor, "/shop/login/?next=/shop/profile/", Some(visitor.sign_out())),
        Err(error) => match view::form_errors(error, &["old_password", "new_password"]) {
            Ok(errors) => profile_form(&state, &visitor, StatusCode::BAD_REQUEST, errors, false),
            Err(error) => view::failure(&state, &visitor, error),
        },
    }
}
