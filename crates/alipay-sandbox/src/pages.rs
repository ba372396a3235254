//! Hand-written HTML (every interpolated value escaped): the cashier, messages, refusals and the
//! inspection page. Links are relative so the router works under any mount point.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::core::{Refusal, Snapshot};
use crate::model::Trade;

pub use alipay::page_pay::html_escape as escape;

const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{color:#1677ff}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;\
text-align:left;vertical-align:top;font-size:.9rem}button{font-size:1.1rem;padding:.5rem 1.5rem;margin-right:1rem}\
.pay{background:#1677ff;color:#fff;border:0}.ok{color:#080}.bad{color:#b00}code{word-break:break-all}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{} - Alipay sandbox</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// The cashier: merchant, subject, amount, order number; Pay and Close.
pub(crate) fn cashier(t: &Trade, seller_id: &str) -> Response {
    let body = format!(
        "<h1>支付宝 收银台 (sandbox)</h1>\
         <table>\
         <tr><th>Merchant</th><td id=\"merchant\">{app} (seller {seller})</td></tr>\
         <tr><th>Subject</th><td id=\"subject\">{subject}</td></tr>\
         <tr><th>Amount</th><td id=\"amount\">¥ {amount}</td></tr>\
         <tr><th>Order number</th><td id=\"out_trade_no\">{out}</td></tr>\
         <tr><th>Trade number</th><td id=\"trade_no\">{no}</td></tr>\
         <tr><th>Status</th><td id=\"status\">{status}</td></tr>\
         </table>\
         <form method=\"post\" action=\"cashier/pay\" style=\"display:inline\">\
         <input type=\"hidden\" name=\"trade_no\" value=\"{no}\"><button id=\"pay\" class=\"pay\" type=\"submit\">Pay ¥ {amount}</button></form>\
         <form method=\"post\" action=\"cashier/close\" style=\"display:inline\">\
         <input type=\"hidden\" name=\"trade_no\" value=\"{no}\"><button id=\"close\" type=\"submit\">Close</button></form>",
        app = escape(&t.app_id),
        seller = escape(seller_id),
        subject = escape(&t.subject),
        amount = t.total_amount,
        out = escape(&t.out_trade_no),
        no = escape(&t.trade_no),
        status = t.status,
    );
    Html(layout("收银台", &body)).into_response()
}

/// A plain message page.
pub(crate) fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!("<h1 id=\"title\">{}</h1><p id=\"message\">{}</p>", escape(title), escape(text));
    (status, Html(layout(title, &body))).into_response()
}

/// A refused page-pay request, shown like Alipay's error page.
pub(crate) fn refusal(r: &Refusal) -> Response {
    let body = format!(
        "<h1 class=\"bad\">支付请求错误 / request refused</h1><table>\
         <tr><th>code</th><td id=\"code\">{}</td></tr><tr><th>msg</th><td>{}</td></tr>\
         <tr><th>sub_code</th><td id=\"sub_code\">{}</td></tr><tr><th>sub_msg</th><td><code id=\"sub_msg\">{}</code></td></tr></table>",
        escape(r.code),
        escape(r.msg),
        escape(&r.sub_code),
        escape(&r.sub_msg)
    );
    (StatusCode::BAD_REQUEST, Html(layout("错误", &body))).into_response()
}

/// The inspection page: trades, refunds, notifications with every attempt.
pub(crate) fn inspect(s: &Snapshot) -> Html<String> {
    let mut b = format!(
        "<h1>Alipay sandbox</h1><p>Sandbox clock: {} · next {} deliveries will be dropped · \
         <a href=\"inspect.json\">JSON</a> · <a href=\"alipay_public_key.pem\">Alipay public key</a></p>",
        escape(&s.now),
        s.drop_next
    );
    b.push_str(
        "<h2>Trades</h2><table><tr><th>app_id</th><th>out_trade_no</th><th>trade_no</th><th>status</th>\
                <th>amount</th><th>refunded</th><th>subject</th><th>created</th><th>paid</th><th>closed</th></tr>",
    );
    for t in s.trades.iter().rev() {
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.app_id),
            escape(&t.out_trade_no),
            escape(&t.trade_no),
            t.status,
            t.total_amount,
            t.refund_fee,
            escape(&t.subject),
            alipay::timestamp::format_beijing(t.gmt_create),
            t.gmt_payment.map(alipay::timestamp::format_beijing).unwrap_or_default(),
            t.gmt_close.map(alipay::timestamp::format_beijing).unwrap_or_default(),
        ));
    }
    b.push_str(
        "</table><h2>Refunds</h2><table><tr><th>out_trade_no</th><th>out_request_no</th><th>amount</th>\
                <th>refunded after</th><th>when</th></tr>",
    );
    for r in s.refunds.iter().rev() {
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.out_trade_no),
            escape(&r.out_request_no),
            r.refund_amount,
            r.refund_fee_after,
            alipay::timestamp::format_beijing(r.gmt_refund),
        ));
    }
    b.push_str("</table><h2>Notifications</h2><table><tr><th>notify_id</th><th>event</th><th>out_trade_no</th>\
                <th>notify_url</th><th>state</th><th>next due</th><th>attempts (time · HTTP · merchant's reply)</th></tr>");
    for n in s.notifications.iter().rev() {
        let attempts: String = n
            .attempts
            .iter()
            .map(|a| {
                format!(
                    "<div class=\"{}\">#{} {} · {} · <code>{}</code></div>",
                    if a.success { "ok" } else { "bad" },
                    a.number,
                    alipay::timestamp::format_beijing(a.at),
                    a.http_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                    escape(&a.reply)
                )
            })
            .collect();
        b.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
            escape(&n.notice.notify_id),
            escape(&n.notice.event),
            escape(&n.notice.out_trade_no),
            escape(&n.notice.notify_url),
            n.notice.state,
            n.notice.next_due.map(alipay::timestamp::format_beijing).unwrap_or_default(),
            attempts
        ));
    }
    b.push_str("</table>");
    Html(layout("inspection", &b))
}
