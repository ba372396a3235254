//! Async notifications (POST to `notify_url`) and browser returns (GET to `return_url`):
//! decode, verify (excluding `sign` and `sign_type`), then type.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::keys::{PublicKeyRsa, SignType};
use crate::money::Money;
use crate::sign;
use crate::timestamp;
pub use crate::trade_status::TradeStatus;

/// The body to answer a notification that was accepted (7 bytes, plain text).
pub const SUCCESS_BODY: &str = "success";

/// A verified async notification.
///
/// The merchant must still check that `out_trade_no` is its order, `total_amount` equals the
/// order's amount, `app_id` is its own and `seller_id` the expected seller, apply it at most once
/// (`notify_id` repeats on re-delivery) and answer [`SUCCESS_BODY`].
///
/// ```no_run
/// # fn f(client: &alipay::Client, body: &str) -> alipay::Result<&'static str> {
/// let n = client.verify_notification(body)?;
/// if n.app_id != client.config().app_id { return Ok("fail"); }
/// if n.trade_status.is_paid() && !n.is_refund() {
///     // look up n.out_trade_no, compare n.total_amount, mark paid once (keyed by notify_id)
/// }
/// Ok(alipay::notify::SUCCESS_BODY)
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `notify_id` (same on every re-delivery).
    pub notify_id: String,
    /// `notify_time`.
    pub notify_time: DateTime<FixedOffset>,
    /// `notify_type` (normally `trade_status_sync`).
    pub notify_type: String,
    /// `app_id`.
    pub app_id: String,
    /// `auth_app_id`.
    pub auth_app_id: Option<String>,
    /// `trade_no`: Alipay's trade number.
    pub trade_no: String,
    /// `out_trade_no`: the merchant's order number.
    pub out_trade_no: String,
    /// `out_biz_no`: the refund request number, for refund notifications.
    pub out_biz_no: Option<String>,
    /// `trade_status`.
    pub trade_status: TradeStatus,
    /// `total_amount`.
    pub total_amount: Money,
    /// `receipt_amount`.
    pub receipt_amount: Option<Money>,
    /// `invoice_amount`.
    pub invoice_amount: Option<Money>,
    /// `buyer_pay_amount`.
    pub buyer_pay_amount: Option<Money>,
    /// `point_amount`.
    pub point_amount: Option<Money>,
    /// `refund_fee`: total refunded so far (present on refund notifications).
    pub refund_fee: Option<Money>,
    /// `buyer_id`.
    pub buyer_id: Option<String>,
    /// `buyer_logon_id`.
    pub buyer_logon_id: Option<String>,
    /// `seller_id`.
    pub seller_id: Option<String>,
    /// `seller_email`.
    pub seller_email: Option<String>,
    /// `subject`.
    pub subject: Option<String>,
    /// `body`.
    pub body: Option<String>,
    /// `gmt_create`.
    pub gmt_create: Option<DateTime<FixedOffset>>,
    /// `gmt_payment`.
    pub gmt_payment: Option<DateTime<FixedOffset>>,
    /// `gmt_refund` (may carry milliseconds; kept as sent).
    pub gmt_refund: Option<String>,
    /// `gmt_close`.
    pub gmt_close: Option<DateTime<FixedOffset>>,
    /// `fund_bill_list` (a JSON text).
    pub fund_bill_list: Option<String>,
    /// `passback_params`, verbatim.
    pub passback_params: Option<String>,
    /// `voucher_detail_list` (a JSON text).
    pub voucher_detail_list: Option<String>,
    /// Every received field (decoded), `sign` included.
    pub raw: BTreeMap<String, String>,
}

impl Notification {
    /// True when this notification reports a refund (partial: `TRADE_SUCCESS` + `refund_fee`;
    /// full: `TRADE_CLOSED` + `refund_fee`); payment side effects must not run again for it.
    pub fn is_refund(&self) -> bool {
        self.refund_fee.is_some() || self.out_biz_no.is_some() || self.gmt_refund.is_some()
    }
}

/// A verified browser return (display hint only: never mark an order paid from it).
///
#[cfg_attr(feature = "client", doc = "```no_run")]
#[cfg_attr(not(feature = "client"), doc = "```ignore")]
/// # async fn f(client: &alipay::Client, query: &str) -> alipay::Result<()> {
/// let r = client.verify_return(query)?;
/// // Display only: ask Alipay for the truth.
/// let status = client.trade_query(&alipay::TradeRef::OutTradeNo(r.out_trade_no)).await?.trade_status;
/// # let _ = status; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// `out_trade_no`.
    pub out_trade_no: String,
    /// `trade_no`.
    pub trade_no: String,
    /// `total_amount`.
    pub total_amount: Money,
    /// `app_id`.
    pub app_id: String,
    /// `auth_app_id`.
    pub auth_app_id: Option<String>,
    /// `seller_id`.
    pub seller_id: Option<String>,
    /// `method` (`alipay.trade.page.pay.return`).
    pub method: Option<String>,
    /// `timestamp`.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// Every received field (decoded).
    pub raw: BTreeMap<String, String>,
}

/// Verifies decoded fields of a notification or return: `sign` over the others minus `sign_type`.
/// If the fields name a `sign_type`, it must equal `expected`.
fn verify_fields(
    fields: &[(String, String)],
    key: &PublicKeyRsa,
    expected: SignType,
) -> Result<BTreeMap<String, String>> {
    let map = sign::unique_map(fields)?;
    let sig = match map.get("sign") {
        Some(s) if !s.is_empty() => *s,
        _ => return Err(Error::BadSignature("no sign field".into())),
    };
    if let Some(t) = map.get("sign_type").filter(|t| !t.is_empty())
        && *t != expected.as_str()
    {
        return Err(Error::BadSignature(format!("sign_type {t:?} but {} is expected", expected.as_str())));
    }
    sign::verify_notification(fields, sig, key, expected)?;
    Ok(map.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

struct Fields(BTreeMap<String, String>);

impl Fields {
    fn opt(&self, k: &str) -> Option<String> {
        self.0.get(k).filter(|v| !v.is_empty()).cloned()
    }
    fn req(&self, k: &str) -> Result<String> {
        self.opt(k).ok_or_else(|| Error::MissingField(k.into()))
    }
    fn money(&self, k: &str) -> Result<Option<Money>> {
        self.opt(k)
            .map(|v| {
                v.parse().map_err(|e| match e {
                    Error::InvalidAmount { reason, .. } => {
                        Error::MalformedAmount { field: k.into(), value: v.clone(), reason }
                    }
                    other => other,
                })
            })
            .transpose()
    }
    fn req_money(&self, k: &str) -> Result<Money> {
        self.money(k)?.ok_or_else(|| Error::MissingField(k.into()))
    }
    fn time(&self, k: &str) -> Result<Option<DateTime<FixedOffset>>> {
        self.opt(k).map(|v| timestamp::parse_beijing(k, &v)).transpose()
    }
    /// The fields a notification and a return both carry to name the trade and whom it is for.
    /// Read in one place so that both hold them to the same rules (which are required, how the
    /// amount parses): a shop checks the same fields of either against its order.
    fn trade(&self) -> Result<TradeFields> {
        Ok(TradeFields {
            app_id: self.req("app_id")?,
            auth_app_id: self.opt("auth_app_id"),
            seller_id: self.opt("seller_id"),
            out_trade_no: self.req("out_trade_no")?,
            trade_no: self.req("trade_no")?,
            total_amount: self.req_money("total_amount")?,
        })
    }
}

struct TradeFields {
    app_id: String,
    auth_app_id: Option<String>,
    seller_id: Option<String>,
    out_trade_no: String,
    trade_no: String,
    total_amount: Money,
}

/// Verifies and types a notification given as decoded fields.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_private_pkcs8.pem"))?;
/// let mut fields: Vec<(String, String)> = [
///     ("notify_id", "n1"), ("notify_time", "2024-01-01 12:00:00"), ("notify_type", "trade_status_sync"),
///     ("app_id", "2021"), ("trade_no", "T1"), ("out_trade_no", "O1"), ("trade_status", "TRADE_SUCCESS"),
///     ("total_amount", "9.90"), ("sign_type", "RSA2"),
/// ].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// let sign = alipay::sign::sign_notification(&fields, &key)?;
/// fields.push(("sign".into(), sign));
/// let n = alipay::notify::verify_notification_fields(&fields, &key.public_key()?, alipay::SignType::Rsa2)?;
/// assert_eq!(n.total_amount.fen(), 990);
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn verify_notification_fields(
    fields: &[(String, String)],
    key: &PublicKeyRsa,
    sign_type: SignType,
) -> Result<Notification> {
    let f = Fields(verify_fields(fields, key, sign_type)?);
    let notify_id = f.req("notify_id")?;
    let notify_time = f.time("notify_time")?.ok_or_else(|| Error::MissingField("notify_time".into()))?;
    let notify_type = f.req("notify_type")?;
    let TradeFields { app_id, auth_app_id, seller_id, out_trade_no, trade_no, total_amount } = f.trade()?;
    Ok(Notification {
        notify_id,
        notify_time,
        notify_type,
        app_id,
        auth_app_id,
        trade_no,
        out_trade_no,
        out_biz_no: f.opt("out_biz_no"),
        trade_status: f.req("trade_status")?.parse()?,
        total_amount,
        receipt_amount: f.money("receipt_amount")?,
        invoice_amount: f.money("invoice_amount")?,
        buyer_pay_amount: f.money("buyer_pay_amount")?,
        point_amount: f.money("point_amount")?,
        refund_fee: f.money("refund_fee")?,
        buyer_id: f.opt("buyer_id"),
        buyer_logon_id: f.opt("buyer_logon_id"),
        seller_id,
        seller_email: f.opt("seller_email"),
        subject: f.opt("subject"),
        body: f.opt("body"),
        gmt_create: f.time("gmt_create")?,
        gmt_payment: f.time("gmt_payment")?,
        gmt_refund: f.opt("gmt_refund"),
        gmt_close: f.time("gmt_close")?,
        fund_bill_list: f.opt("fund_bill_list"),
        passback_params: f.opt("passback_params"),
        voucher_detail_list: f.opt("voucher_detail_list"),
        raw: f.0,
    })
}

/// Verifies and types a notification given as its raw form-encoded POST body.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_private_pkcs8.pem"))?;
/// let fields = [("notify_id", "n1"), ("notify_time", "2024-01-01 12:00:00"), ("notify_type", "trade_status_sync"),
///     ("app_id", "2021"), ("trade_no", "T1"), ("out_trade_no", "O1"), ("trade_status", "TRADE_CLOSED"),
///     ("total_amount", "9.90"), ("refund_fee", "9.90"), ("sign_type", "RSA2")];
/// let sign = alipay::sign::sign_notification(&fields, &key)?;
/// let body = alipay::sign::encode_form(fields.iter().copied().chain([("sign", sign.as_str())]));
/// let n = alipay::notify::verify_notification_body(&body, &key.public_key()?, alipay::SignType::Rsa2)?;
/// assert!(n.is_refund() && !n.trade_status.is_paid());
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn verify_notification_body(body: &str, key: &PublicKeyRsa, sign_type: SignType) -> Result<Notification> {
    verify_notification_fields(&sign::parse_form(body)?, key, sign_type)
}

/// Verifies and types a browser return given as decoded fields.
pub fn verify_return_fields(fields: &[(String, String)], key: &PublicKeyRsa, sign_type: SignType) -> Result<Return> {
    let f = Fields(verify_fields(fields, key, sign_type)?);
    let TradeFields { app_id, auth_app_id, seller_id, out_trade_no, trade_no, total_amount } = f.trade()?;
    Ok(Return {
        out_trade_no,
        trade_no,
        total_amount,
        app_id,
        auth_app_id,
        seller_id,
        method: f.opt("method"),
        timestamp: f.time("timestamp")?,
        raw: f.0,
    })
}

/// Verifies and types a browser return given as its raw query string.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_private_pkcs8.pem"))?;
/// let fields = [("out_trade_no", "O1"), ("trade_no", "T1"), ("total_amount", "1.00"), ("app_id", "2021"),
///     ("method", "alipay.trade.page.pay.return"), ("sign_type", "RSA2")];
/// let sign = alipay::sign::sign_notification(&fields, &key)?;
/// let query = alipay::sign::encode_form(fields.iter().copied().chain([("sign", sign.as_str())]));
/// let r = alipay::notify::verify_return_query(&query, &key.public_key()?, alipay::SignType::Rsa2)?;
/// assert_eq!(r.total_amount.to_string(), "1.00");
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn verify_return_query(query: &str, key: &PublicKeyRsa, sign_type: SignType) -> Result<Return> {
    verify_return_fields(&sign::parse_form(query)?, key, sign_type)
}

impl Client {
    /// Verifies a notification's raw form body with the configured Alipay key and sign type.
    ///
    /// ```no_run
    /// # fn f(client: &alipay::Client, body: &str) -> alipay::Result<()> {
    /// let n = client.verify_notification(body)?;
    /// if n.trade_status.is_paid() && !n.is_refund() { /* mark the order paid, once */ }
    /// // answer alipay::notify::SUCCESS_BODY
    /// # Ok(()) }
    /// ```
    pub fn verify_notification(&self, body: &str) -> Result<Notification> {
        verify_notification_body(body, self.config.key_mode.alipay_public_key(), self.config.alipay_sign_type)
    }

    /// Verifies already-decoded notification fields (e.g. from a framework's form extractor).
    pub fn verify_notification_fields(&self, fields: &[(String, String)]) -> Result<Notification> {
        verify_notification_fields(fields, self.config.key_mode.alipay_public_key(), self.config.alipay_sign_type)
    }

    /// Verifies a browser return's raw query string.
    pub fn verify_return(&self, query: &str) -> Result<Return> {
        verify_return_query(query, self.config.key_mode.alipay_public_key(), self.config.alipay_sign_type)
    }
}
