//! `/alipay/return/`: `POST` is Alipay's asynchronous notification (verified, checked against the
//! order, recorded, applied at most once, answered `success`); `GET` is the buyer's browser coming
//! back, which never changes an order by itself — it asks Alipay and applies the answer.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::apply::{self, EventRecord, Verdict};
use super::refunds;
use crate::clock::now_utc;
use crate::db::entities::{order_info, payment_event};
use crate::http::client_ip::ClientIp;
use crate::http::conventions::KeepBody;
use crate::state::AppState;
use crate::throttle::Limit;
use crate::trade::status::{PayEvent, PayStatus};

const ORDERS_PAGE: &str = "/index/#/app/home/member/order";
const HOME_PAGE: &str = "/index/";

/// Where facts about a trade came from. A notification is checked against our app and seller; a
/// query answer is trusted through its verified signature (Alipay's query answers carry no
/// `seller_id`, and we asked about our own `out_trade_no` with our own app).
pub enum Origin<'a> {
    Notification { app_id: &'a str, seller_id: Option<&'a str> },
    Query,
}

/// What Alipay says about a trade, from a notification or a query.
pub struct TradeFacts<'a> {
    pub out_trade_no: &'a str,
    pub trade_no: &'a str,
    pub status: alipay::TradeStatus,
    pub total_fen: i64,
    pub origin: Origin<'a>,
    /// `gmt_payment` (notifications) or `send_pay_date` (queries).
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// For refund notifications: the refund's `out_biz_no` (our `out_request_no`), if sent.
    pub refund: Option<Option<&'a str>>,
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    response.extensions_mut().insert(KeepBody);
    response
}

/// Unverifiable notifications recorded per client address: anyone can post junk here, and it
/// must not fill the database.
const UNVERIFIED_LIMIT: Limit = Limit { scope: "unverified-notification", max: 60, window: Duration::from_secs(3600) };
/// How much of an unverifiable notification is kept (a real one is about 1.5 KB).
const UNVERIFIED_KEPT_BYTES: usize = 4096;

/// `POST /alipay/return/`
#[utoipa::path(
    summary = "Alipay's asynchronous notification",
    post, path = "/alipay/return/", tag = "payments",
    request_body(content = crate::openapi::bodies::AlipayNotification, content_type = "application/x-www-form-urlencoded", description = "Alipay's asynchronous notification, RSA2-signed"),
    responses(
        (status = 200, description = "Verified and applied (or a duplicate): Alipay stops delivering", body = String, content_type = "text/plain", example = "success"),
        (status = 400, description = "Refused: bad signature, another app or seller, wrong amount, unknown order", body = String, content_type = "text/plain", example = "fail"),
        (status = 500, description = "Could not be applied now: Alipay delivers again later", body = String, content_type = "text/plain", example = "fail"),
    )
)]
pub async fn receive_notification(State(state): State<AppState>, ClientIp(client): ClientIp, body: String) -> Response {
    let started = std::time::Instant::now();
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let as_json: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    let event = EventRecord {
        order_sn: field("out_trade_no"),
        notify_id: field("notify_id"),
        trade_status: field("trade_status"),
        fields: serde_json::Value::Object(as_json).to_string(),
    };
    let notification = match state.payments.gateway.verify_notification(&fields) {
        Ok(notification) => notification,
        Err(error) => {
            crate::telemetry::notification(Verdict::BadSignature.as_str());
            if let Err(db_error) = record_unverified(&state, &client, event, &error).await {
                tracing::error!(error = %db_error, "cannot record a refused notification");
            }
            return plain(StatusCode::BAD_REQUEST, "fail");
        }
    };
    let facts = TradeFacts {
        out_trade_no: &notification.out_trade_no,
        trade_no: &notification.trade_no,
        status: notification.trade_status,
        total_fen: notification.total_amount.fen(),
        origin: Origin::Notification { app_id: &notification.app_id, seller_id: notification.seller_id.as_deref() },
        paid_at: notification.gmt_payment,
        refund: notification.is_refund().then_some(notification.out_biz_no.as_deref()),
    };
    let processed = process(&state, &facts, &event).await;
    crate::telemetry::notification(processed.as_ref().map_or("error", |verdict| verdict.as_str()));
    crate::telemetry::notification_applied_in(started);
    match processed {
        Ok(verdict) if verdict.accepted() => plain(StatusCode::OK, "success"),
        Ok(verdict) => {
            tracing::warn!(verdict = verdict.as_str(), out_trade_no = facts.out_trade_no, "refused a notification");
            plain(StatusCode::BAD_REQUEST, "fail")
        }
        Err(error) => {
            // Not answered `success`: Alipay delivers again later.
            tracing::error!(%error, out_trade_no = facts.out_trade_no, "cannot process a notification");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "fail")
        }
    }
}

/// Keeps the start of an unverifiable notification, within the client's budget, and now and then
/// forgets old ones.
async fn record_unverified(
    state: &AppState,
    client: &str,
    event: EventRecord<'_>,
    error: &alipay::Error,
) -> anyhow::Result<()> {
    if UNVERIFIED_LIMIT.take(&state.db, state.clock.as_ref(), client).await.is_err() {
        return Ok(());
    }
    let out_trade_no: String = event.order_sn.chars().take(64).collect();
    tracing::warn!(%error, out_trade_no, client, "refused a notification");
    let mut fields = event.fields;
    if fields.len() > UNVERIFIED_KEPT_BYTES {
        let mut end = UNVERIFIED_KEPT_BYTES;
        while !fields.is_char_boundary(end) {
            end -= 1;
        }
        fields.truncate(end);
    }
    apply::record(&state.db, &EventRecord { fields, ..event }, Verdict::BadSignature).await?;
    // Evidence for a while, then noise.
    let retention = chrono::TimeDelta::try_days(
        i64::try_from(state.config.alipay.refused_notification_retention_days).unwrap_or(i64::MAX),
    );
    let cutoff = retention.and_then(|retention| now_utc().checked_sub_signed(retention));
    if let Some(cutoff) = cutoff
        && rand::random::<u8>() < 4
    {
        payment_event::Entity::delete_many()
            .filter(payment_event::Column::Verdict.eq(Verdict::BadSignature.as_str()))
            .filter(payment_event::Column::ReceivedAt.lt(cutoff))
            .exec(&state.db)
            .await?;
    }
    Ok(())
}

/// Checks the facts against the order and applies them. Recorded in every case.
#[tracing::instrument(name = "apply_trade_facts", skip_all, fields(out_trade_no = facts.out_trade_no, status = ?facts.status))]
pub async fn process(state: &AppState, facts: &TradeFacts<'_>, event: &EventRecord<'_>) -> anyhow::Result<Verdict> {
    let payments = &state.payments;
    let refuse = |verdict: Verdict| async move {
        apply::record(&state.db, event, verdict).await?;
        Ok::<Verdict, anyhow::Error>(verdict)
    };
    if let Origin::Notification { app_id, seller_id } = facts.origin {
        if app_id != payments.app_id {
            return refuse(Verdict::AppMismatch).await;
        }
        if let Some(expected) = &payments.seller_id
            && seller_id != Some(expected.as_str())
        {
            return refuse(Verdict::SellerMismatch).await;
        }
    }
    let Some(order) =
        order_info::Entity::find().filter(order_info::Column::OrderSn.eq(facts.out_trade_no)).one(&state.db).await?
    else {
        return refuse(Verdict::UnknownOrder).await;
    };
    if facts.total_fen != order.order_mount_fen {
        return refuse(Verdict::AmountMismatch).await;
    }
    if let Some(out_request_no) = facts.refund {
        apply::record(&state.db, event, Verdict::Refund).await?;
        if let Some(out_request_no) = out_request_no {
            refunds::confirm_by_notification(state, &order, out_request_no).await?;
        }
        return Ok(Verdict::Refund);
    }
    let verdict = match facts.status {
        alipay::TradeStatus::TradeSuccess | alipay::TradeStatus::TradeFinished => {
            let paid_at = facts.paid_at.map_or_else(now_utc, |t| t.naive_utc());
            let finished = facts.status == alipay::TradeStatus::TradeFinished;
            apply::apply_paid(&state.db, &order, facts.trade_no, paid_at, finished, event).await?
        }
        alipay::TradeStatus::TradeClosed if PayStatus::parse(&order.pay_status) == Some(PayStatus::Paying) => {
            // Alipay closed the unpaid trade (its own timeout): it can take no payment now.
            apply::close_unpaid(&state.db, order.id, PayEvent::ClosedByAlipay, false, Some(event)).await?;
            Verdict::Applied
        }
        _ => {
            apply::record(&state.db, event, Verdict::Ignored).await?;
            Verdict::Ignored
        }
    };
    if verdict == Verdict::LatePayment {
        tracing::warn!(order_sn = %order.order_sn, "payment for a closed order; refunding it");
        refunds::refund_late_payment(state, &order).await?;
    }
    Ok(verdict)
}

/// `GET /alipay/return/`: verify the return, ask Alipay about the trade, apply what it says, and
/// send the buyer to their orders (or home when anything is wrong).
#[utoipa::path(
    summary = "The buyer's browser back from Alipay",
    get, path = "/alipay/return/", tag = "payments",
    params(("out_trade_no" = Option<String>, Query, description = "with Alipay's other signed return parameters")),
    responses((status = 302, description = "To the order page after asking Alipay about the trade (a return never changes an order by itself), or to the home page"))
)]
pub async fn browser_return(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let redirect = |to: &'static str| (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
    match confirm_return(&state, query.as_deref().unwrap_or_default()).await {
        Some(_) => redirect(ORDERS_PAGE),
        None => redirect(HOME_PAGE),
    }
}

/// A browser return: verified (signature, app id), then the trade is asked about and applied.
/// The returned `out_trade_no`, or `None` when the return is not genuine.
pub async fn confirm_return(state: &AppState, query: &str) -> Option<String> {
    let returned = state.payments.gateway.verify_return(query).ok()?;
    if returned.app_id != state.payments.app_id {
        return None;
    }
    if let Err(error) = reconcile_by_query(state, &returned.out_trade_no, "return").await {
        tracing::warn!(%error, out_trade_no = %returned.out_trade_no, "could not confirm a returned payment");
    }
    Some(returned.out_trade_no)
}

/// What a query found and what was done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queried {
    pub status: alipay::TradeStatus,
    pub verdict: Verdict,
}

/// Asks Alipay about `out_trade_no` and applies the answer like a notification. `source` names
/// what asked (`return`, `reconcile`, `expire`, `settle`) in the event record. `Ok(None)`: Alipay
/// said, in a signed answer, that the trade does not exist (nobody opened the cashier).
pub async fn reconcile_by_query(state: &AppState, out_trade_no: &str, source: &str) -> anyhow::Result<Option<Queried>> {
    let trade = alipay::TradeRef::OutTradeNo(out_trade_no.to_owned());
    let answer = match state.payments.gateway.query(&trade).await {
        Ok(answer) => answer,
        Err(error) if error.is_trade_not_exist() => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let fields = serde_json::json!({
        "source": source, "out_trade_no": answer.out_trade_no, "trade_no": answer.trade_no,
        "trade_status": answer.trade_status.as_str(), "total_amount": answer.total_amount.to_string(),
        "send_pay_date": answer.send_pay_date,
    });
    let event = EventRecord {
        order_sn: out_trade_no,
        notify_id: source,
        trade_status: answer.trade_status.as_str(),
        fields: fields.to_string(),
    };
    let paid_at = match answer.send_pay_date.as_deref().filter(|date| !date.is_empty()) {
        Some(date) => Some(alipay::timestamp::parse_beijing("send_pay_date", date)?),
        None => None,
    };
    let facts = TradeFacts {
        out_trade_no: &answer.out_trade_no,
        trade_no: &answer.trade_no,
        status: answer.trade_status,
        total_fen: answer.total_amount.fen(),
        origin: Origin::Query,
        paid_at,
        refund: None,
    };
    let verdict = process(state, &facts, &event).await?;
    Ok(Some(Queried { status: answer.trade_status, verdict }))
}
