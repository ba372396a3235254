//! What every storefront page shares: the layout's data, the HTML response (its own
//! Content-Security-Policy, no caching, the session's cookies), redirects, field errors shown next
//! to their fields, and the friendly pages for everything else that can go wrong.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Visitor;
use crate::http::auth::CurrentUser;
use crate::http::body::Payload;
use crate::http::{ApiError, FieldErrors, RequestUrl};
use crate::state::AppState;

/// The layout's data: who is signed in, the CSRF token of the logout form, the search words.
pub struct Chrome {
    pub user_name: Option<String>,
    pub csrf: String,
    pub search: String,
    /// The Pay button's default channel: `wap` on phones, else `page`.
    pub channel: &'static str,
}

impl Chrome {
    pub fn new(visitor: &Visitor, state: &AppState) -> Self {
        Self {
            user_name: visitor.user.as_ref().map(|user| user.name.clone().unwrap_or_else(|| user.username.clone())),
            csrf: visitor.csrf_token(state),
            search: String::new(),
            channel: if visitor.mobile { "wap" } else { "page" },
        }
    }
}

/// What a storefront handler starts from: the shop, the visitor and the request's URL (for
/// absolute links), extracted in that order.
pub struct Page {
    pub state: AppState,
    pub visitor: Visitor,
    pub url: RequestUrl,
}

impl FromRequestParts<AppState> for Page {
    /// The visitor's rejection (the layout's 503 page when the login cookie could not be checked).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        let Ok(url) = RequestUrl::from_request_parts(parts, state).await;
        Ok(Self { state: state.clone(), visitor, url })
    }
}

/// A submitted form body, or why it could not be read (a page answers either way).
pub type Submitted = Result<Payload, ApiError>;

/// Own scripts and styles only (served from `/shop/assets/`); forms go to this site only (Pay is
/// a link, so the redirects to the Alipay gateway and on to its cashier are not form navigations);
/// images from here or any HTTPS host (goods descriptions link theirs); never framed.
fn content_security_policy() -> &'static str {
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

/// A rendered page with the storefront's headers and the visitor's cookies.
pub fn page(_state: &AppState, visitor: &Visitor, status: StatusCode, template: &impl Template) -> Response {
    let body = match template.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "rendering a storefront page");
            return (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误。").into_response();
        }
    };
    let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::session::with_cookies(response, visitor.cookies())
}

/// `303 See Other` to `to` (after a form), with the visitor's cookies and any `extra` ones.
pub fn redirect(visitor: &Visitor, to: &str, extra: Option<HeaderValue>) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/shop/"));
    let response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    super::session::with_cookies(response, visitor.cookies().into_iter().chain(extra).collect())
}

/// A message page (errors, notices).
#[derive(Template)]
#[template(path = "storefront/message.html")]
pub struct MessagePage<'a> {
    pub chrome: Chrome,
    pub title: &'a str,
    pub lines: Vec<String>,
}

pub fn message(state: &AppState, visitor: &Visitor, status: StatusCode, title: &str, lines: Vec<String>) -> Response {
    page(state, visitor, status, &MessagePage { chrome: Chrome::new(visitor, state), title, lines })
}

pub const STALE_FORM: &str = "页面已过期（安全校验未通过），请返回、刷新页面后重试。";

/// The page for a form without a valid CSRF token: nothing was changed.
pub fn stale_form(state: &AppState, visitor: &Visitor) -> Response {
    message(state, visitor, StatusCode::FORBIDDEN, "请重试", vec![STALE_FORM.to_owned()])
}

/// The answer a form handler gives before it gets to its work (`?` returns it): the form could
/// not be read, the visitor must sign in, the form is stale.
pub struct Early(Box<Response>);

impl From<Response> for Early {
    fn from(page: Response) -> Self {
        Self(Box::new(page))
    }
}

impl IntoResponse for Early {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A submitted form as its page needs it: readable, from a visitor `who` lets in (`anyone`, or
/// `signed_in`), with a valid CSRF token. Otherwise the answer instead: the page for an unreadable
/// body, `who`'s answer (the login page), or `again`, the form's own page (403, stale: nothing
/// changed).
pub async fn checked_form<U, Page: Future<Output = Response>>(
    state: &AppState,
    visitor: &Visitor,
    form: Submitted,
    who: impl FnOnce() -> Result<U, Early>,
    again: impl FnOnce(Payload, StatusCode, FormErrors) -> Page,
) -> Result<(U, Payload), Early> {
    let form = form.map_err(|error| Early::from(unreadable_page(state, visitor, error)))?;
    let admitted = who()?;
    if !visitor.csrf_ok(state, &form) {
        return Err(Early::from(again(form, StatusCode::FORBIDDEN, FormErrors::general(STALE_FORM)).await));
    }
    Ok((admitted, form))
}

/// `checked_form`'s gate for forms anyone may send.
pub fn anyone() -> Result<(), Early> {
    Ok(())
}

/// `checked_form`'s gate for a signed-in visitor; others are sent to log in, then back to `back`.
pub fn signed_in<'a>(visitor: &'a Visitor, back: &'a str) -> impl FnOnce() -> Result<CurrentUser, Early> + 'a {
    move || visitor.current_user().ok_or_else(|| Early::from(to_login(visitor, back)))
}

/// `checked_form` for forms without a page of their own (buttons): a stale one gets a message page.
pub async fn signed_in_form(
    state: &AppState,
    visitor: &Visitor,
    form: Submitted,
    back: &str,
) -> Result<(CurrentUser, Payload), Early> {
    let stale = move |_, _, _| async move { stale_form(state, visitor) };
    checked_form(state, visitor, form, signed_in(visitor, back), stale).await
}

/// The answer to a checked form: `done` with what the call returned; errors a form shows (its
/// fields', a provider's refusal, throttling) on its page again (400); any other as a page.
pub async fn answer<T, Page: Future<Output = Response>>(
    (state, visitor): (&AppState, &Visitor),
    form: Payload,
    result: Result<T, impl Into<ApiError>>,
    shown: &'static [&'static str],
    done: impl FnOnce(T) -> Response,
    again: impl FnOnce(Payload, StatusCode, FormErrors) -> Page,
) -> Response {
    match result {
        Ok(value) => done(value),
        Err(error) => match form_errors(error.into(), shown) {
            Ok(errors) => again(form, StatusCode::BAD_REQUEST, errors).await,
            Err(error) => failure(state, visitor, error),
        },
    }
}

/// Where a visitor who must sign in is sent; `back` is the page to return to.
pub fn to_login(visitor: &Visitor, back: &str) -> Response {
    let back = form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>();
    redirect(visitor, &format!("/shop/login/?next={back}"), None)
}

/// Any error a domain function returned, as a page a person can read (never a blank page).
pub fn failure(state: &AppState, visitor: &Visitor, error: ApiError) -> Response {
    match error {
        ApiError::NotFound | ApiError::InvalidPage => {
            message(state, visitor, StatusCode::NOT_FOUND, "未找到", vec!["您要找的页面或商品不存在。".into()])
        }
        ApiError::Unauthorized(_) => to_login(visitor, "/shop/"),
        ApiError::Throttled(seconds) => message(
            state,
            visitor,
            StatusCode::TOO_MANY_REQUESTS,
            "操作太频繁",
            vec![format!("请 {seconds} 秒后再试。")],
        ),
        ApiError::Busy(seconds) => message(
            state,
            visitor,
            StatusCode::SERVICE_UNAVAILABLE,
            "服务器繁忙",
            vec![format!("请 {seconds} 秒后再试。")],
        ),
        ApiError::Validation(errors) => message(
            state,
            visitor,
            StatusCode::BAD_REQUEST,
            "无法完成",
            errors.iter().flat_map(|(_, list)| list.iter().cloned()).collect(),
        ),
        ApiError::Provider { message: text, .. } | ApiError::Unprocessable(text) | ApiError::ParseError(text) => {
            message(state, visitor, StatusCode::BAD_REQUEST, "无法完成", vec![text])
        }
        other => {
            let status = other.into_response().status();
            let text = if status.is_server_error() {
                "服务器内部错误，请稍后再试。"
            } else {
                "请求无法处理。"
            };
            message(state, visitor, status, "出错了", vec![text.into()])
        }
    }
}

/// Field errors of a form: each shown next to its field, the rest (and `non_field_errors`) on top.
#[derive(Default)]
pub struct FormErrors {
    errors: FieldErrors,
    shown: &'static [&'static str],
}

impl FormErrors {
    pub fn new(errors: FieldErrors, shown: &'static [&'static str]) -> Self {
        Self { errors, shown }
    }

    /// A form-level message (stale page, provider refusal).
    pub fn general(message: impl Into<String>) -> Self {
        Self { errors: FieldErrors::single("non_field_errors", message), shown: &[] }
    }

    /// The same errors with `from`'s messages under `to` (a form that names a field differently).
    pub fn renamed(self, from: &str, to: &str) -> Self {
        let mut errors = FieldErrors::new();
        for (name, list) in self.errors.iter() {
            for message in list {
                errors.add(if name == from { to } else { name }, message.clone());
            }
        }
        Self { errors, shown: self.shown }
    }

    pub fn into_inner(self) -> FieldErrors {
        self.errors
    }

    /// The messages of `field`, joined.
    pub fn get(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(name, _)| *name == field).map(|(_, list)| list.join(" "))
    }

    /// Every message.
    pub fn all(&self) -> Vec<String> {
        self.errors.iter().flat_map(|(_, list)| list.iter().cloned()).collect()
    }

    /// Messages of fields the form does not show.
    pub fn others(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(name, _)| !self.shown.contains(name))
            .flat_map(|(_, list)| list.iter().cloned())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.iter().next().is_none()
    }
}

/// A form's outcome: an error a form can show becomes `FormErrors`, any other stays a page.
/// A form body that could not be read (wrong type, broken or too large).
pub const UNREADABLE_FORM: &str = "提交的表单无法读取（内容不完整或太大），请返回、刷新页面后重试。";
/// A body that is not a form.
pub const NOT_A_FORM: &str = "提交的内容不是表单，请使用页面上的表单提交。";

/// Why a form's body could not be read, as the form page shows it: a file over the upload limit
/// next to its field, a body that is not a form or does not parse on top; with the page's status.
pub fn unreadable(error: ApiError, shown: &'static [&'static str]) -> Result<(StatusCode, FormErrors), ApiError> {
    match error {
        ApiError::UnsupportedMediaType(_) => Ok((StatusCode::UNSUPPORTED_MEDIA_TYPE, FormErrors::general(NOT_A_FORM))),
        ApiError::ParseError(_) => Ok((StatusCode::BAD_REQUEST, FormErrors::general(UNREADABLE_FORM))),
        other => form_errors(other, shown).map(|errors| (StatusCode::BAD_REQUEST, errors)),
    }
}

/// The page for a form body that could not be read, for forms without a page of their own
/// (buttons): nothing was changed.
pub fn unreadable_page(state: &AppState, visitor: &Visitor, error: ApiError) -> Response {
    match error {
        ApiError::UnsupportedMediaType(_) => {
            message(state, visitor, StatusCode::UNSUPPORTED_MEDIA_TYPE, "无法完成", vec![NOT_A_FORM.to_owned()])
        }
        ApiError::ParseError(_) => {
            message(state, visitor, StatusCode::BAD_REQUEST, "无法完成", vec![UNREADABLE_FORM.to_owned()])
        }
        other => failure(state, visitor, other),
    }
}

pub fn form_errors(error: ApiError, shown: &'static [&'static str]) -> Result<FormErrors, ApiError> {
    match error {
        ApiError::Validation(errors) => Ok(FormErrors::new(errors, shown)),
        ApiError::Provider { message, .. } => Ok(FormErrors::general(message)),
        ApiError::Throttled(seconds) => Ok(FormErrors::general(format!("操作太频繁，请 {seconds} 秒后再试。"))),
        other => Err(other),
    }
}

/// The `next` a login page may send back to: a storefront path only (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with("/shop/") && !path.contains("//") && !path.contains('\\') => path.to_owned(),
        _ => "/shop/".to_owned(),
    }
}
