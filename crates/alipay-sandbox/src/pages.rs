//! The HTML pages (the cashier, messages, refusals and the inspection page), rendered by askama
//! from `templates/sandbox/`, which escapes every value. Links are relative so the router works
//! under any mount point.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::core::{Refusal, Snapshot};
use crate::model::Trade;

#[derive(Template)]
#[template(path = "sandbox/cashier.html")]
struct CashierPage<'a> {
    trade: &'a Trade,
    seller_id: &'a str,
}

#[derive(Template)]
#[template(path = "sandbox/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: &'a str,
}

#[derive(Template)]
#[template(path = "sandbox/refusal.html")]
struct RefusalPage<'a> {
    refusal: &'a Refusal,
}

#[derive(Template)]
#[template(path = "sandbox/inspect.html")]
struct InspectPage<'a> {
    snapshot: &'a Snapshot,
}

/// A rendered page, or a 500 that says the page could not be rendered.
fn page(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering a sandbox page");
            (StatusCode::INTERNAL_SERVER_ERROR, "the sandbox could not render this page").into_response()
        }
    }
}

/// The cashier: merchant, subject, amount, order number; Pay and Close.
pub(crate) fn cashier(trade: &Trade, seller_id: &str) -> Response {
    page(StatusCode::OK, CashierPage { trade, seller_id }.render())
}

/// A plain message page.
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, MessagePage { title, text }.render())
}

/// A refused page-pay request, shown like Alipay's error page.
pub(crate) fn refusal(refusal: &Refusal) -> Response {
    page(StatusCode::BAD_REQUEST, RefusalPage { refusal }.render())
}

/// The inspection page: trades, refunds, notifications with every attempt.
pub(crate) fn inspect(snapshot: &Snapshot) -> Response {
    page(StatusCode::OK, InspectPage { snapshot }.render())
}

/// Beijing time, as Alipay shows it.
pub(crate) fn beijing(at: &DateTime<Utc>) -> String {
    alipay::timestamp::format_beijing(*at)
}

/// Beijing time, or nothing.
pub(crate) fn beijing_or_blank(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref().map(beijing).unwrap_or_default()
}
