//! Account pages: register (with the SMS code), log in (username or mobile), log out, profile and
//! password. They call the API's own account functions, with the API's rate limits.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::session::Visitor;
use super::view::{self, Chrome, FormErrors, Page, Submitted};
use crate::accounts::forms::{LoginForm, PasswordChangeForm, ProfileForm, RegisterForm, SendCodeForm};
use crate::accounts::handlers::UserDetail;
use crate::accounts::{codes, users};
use crate::config::SmsProvider;
use crate::http::body::Payload;
use crate::http::client_ip::ClientIp;
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
pub async fn login_page(Page { state, visitor, .. }: Page, Query(next): Query<Next>) -> Response {
    let form = Payload::from_form(next.next.map(|next| ("next".to_owned(), next)));
    login_form(&state, &visitor, StatusCode::OK, FormErrors::default(), &form)
}

/// `POST /shop/login/`: `POST /login/`'s checks and throttles; the token goes into the cookie.
pub async fn login(
    Page { state, visitor, .. }: Page,
    ClientIp(client): ClientIp,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let again = move |form: Payload, status, errors| async move { login_form(state, visitor, status, errors, &form) };
    let ((), form) = view::checked_form(state, visitor, form, view::anyone, again).await?;
    let result = match LoginForm::read(&form) {
        Ok(login) => users::login(state, login, &client).await,
        Err(errors) => Err(errors.into()),
    };
    let next = view::safe_next(form.text("next"));
    let signed_in = |user| match visitor.sign_in(state, &user) {
        Ok(cookie) => view::redirect(visitor, &next, Some(cookie)),
        Err(error) => view::failure(state, visitor, error),
    };
    Ok(view::answer((state, visitor), form, result, &["username", "password"], signed_in, again).await)
}

/// `POST /shop/logout/`: the session ends on the server (the user's session epoch moves on, so
/// the token the cookie held is refused everywhere, as a cookie or a Bearer token, and the
/// user's other sessions end too), then the cookie is cleared.
pub async fn logout(Page { state, visitor, .. }: Page, form: Submitted) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let stale = move |_: Payload, _, _| async move { view::stale_form(state, visitor) };
    view::checked_form(state, visitor, form, view::anyone, stale).await?;
    if let Some(user) = &visitor.user
        && let Err(error) = users::end_sessions(&state.db, &state.users, user.id).await
    {
        return Ok(view::failure(state, visitor, error.into()));
    }
    Ok(view::redirect(visitor, "/shop/", Some(visitor.sign_out())))
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
pub async fn register_page(Page { state, visitor, .. }: Page) -> Response {
    register_form(&state, &visitor, StatusCode::OK, FormErrors::default(), &Payload::empty(), None)
}

/// `POST /shop/register/code/`: `POST /code/` for the mobile in the form.
pub async fn send_code(
    Page { state, visitor, .. }: Page,
    ClientIp(client): ClientIp,
    form: Submitted,
) -> Result<Response, view::Early> {
    // The API names the field `mobile`; here it is the username field.
    let (state, visitor) = (&state, &visitor);
    let again = move |form: Payload, status, errors: FormErrors| async move {
        register_form(state, visitor, status, errors.renamed("mobile", "username"), &form, None)
    };
    let ((), form) = view::checked_form(state, visitor, form, view::anyone, again).await?;
    let request = Payload::from_form([("mobile".to_owned(), form.text("username").unwrap_or_default().to_owned())]);
    let result = codes::send_code(state, SendCodeForm::read(&request), &client).await;
    let sent = |mobile| {
        let mut sent = format!("验证码已发送到 {mobile}，5 分钟内有效。");
        if state.config.sms.provider == SmsProvider::Log {
            sent.push_str("（本机使用默认的 log 短信通道：验证码写在服务器日志里，请在运行 mxshop 的终端中查看。）");
        }
        register_form(state, visitor, StatusCode::OK, FormErrors::default(), &form, Some(sent))
    };
    Ok(view::answer((state, visitor), form.clone(), result, &["username"], sent, again).await)
}

/// `POST /shop/register/`: `POST /users/`, then signed in.
pub async fn register(
    Page { state, visitor, .. }: Page,
    ClientIp(client): ClientIp,
    form: Submitted,
) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let again =
        move |form: Payload, status, errors| async move { register_form(state, visitor, status, errors, &form, None) };
    let ((), form) = view::checked_form(state, visitor, form, view::anyone, again).await?;
    let result = users::register(state, RegisterForm::read(&form), &client).await;
    let signed_in = |user| match visitor.sign_in(state, &user) {
        Ok(cookie) => view::redirect(visitor, "/shop/", Some(cookie)),
        Err(error) => view::failure(state, visitor, error),
    };
    Ok(view::answer((state, visitor), form, result, &["username", "code", "password"], signed_in, again).await)
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
    let Some(user) = &visitor.user else { return view::to_login(visitor, PROFILE) };
    let page = ProfilePage { chrome: Chrome::new(visitor, state), profile: UserDetail::from(user), errors, saved };
    view::page(state, visitor, status, &page)
}

const PROFILE: &str = "/shop/profile/";

/// The profile page again, for either of its forms (profile, password).
fn profile_again<'a>(
    state: &'a AppState,
    visitor: &'a Visitor,
) -> impl Fn(Payload, StatusCode, FormErrors) -> std::future::Ready<Response> + Copy + 'a {
    move |_, status, errors| std::future::ready(profile_form(state, visitor, status, errors, false))
}

/// `GET /shop/profile/`
pub async fn profile_page(Page { state, visitor, .. }: Page) -> Response {
    profile_form(&state, &visitor, StatusCode::OK, FormErrors::default(), false)
}

/// `POST /shop/profile/`: `PUT /users/{id}/`.
pub async fn update_profile(Page { state, visitor, .. }: Page, form: Submitted) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let again = profile_again(state, visitor);
    let (user, form) = view::checked_form(state, visitor, form, view::signed_in(visitor, PROFILE), again).await?;
    let result = users::update_profile(&state.db, &state.users, user.0, ProfileForm::read(&form, false)).await;
    let saved = |updated| {
        let mut visitor = visitor.clone();
        visitor.user = Some(updated);
        profile_form(state, &visitor, StatusCode::OK, FormErrors::default(), true)
    };
    Ok(view::answer((state, visitor), form, result, &["username", "gender", "birthday", "email"], saved, again).await)
}

/// `POST /shop/profile/password/`: a new password ends every session (this one included: the
/// login tokens name the old password), so the visitor signs in again.
pub async fn change_password(Page { state, visitor, .. }: Page, form: Submitted) -> Result<Response, view::Early> {
    let (state, visitor) = (&state, &visitor);
    let again = profile_again(state, visitor);
    let (user, form) = view::checked_form(state, visitor, form, view::signed_in(visitor, PROFILE), again).await?;
    let result = users::change_password(&state.db, &state.users, &user.0, PasswordChangeForm::read(&form)).await;
    let signed_out = |()| view::redirect(visitor, "/shop/login/?next=/shop/profile/", Some(visitor.sign_out()));
    Ok(view::answer((state, visitor), form, result, &["old_password", "new_password"], signed_out, again).await)
}
