//! What the server calls (`alipay.trade.query`, `.refund`, `.fastpay.refund.query`, `.close`,
//! `.cancel`) send and answer, and [`parse_response`]: find the `*_response` span, verify it, then
//! parse that same span. The calls themselves (with the `client` feature) are in `calls`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, Result, ResultCode};
use crate::money::Money;
use crate::notify::TradeStatus;
use crate::response;

/// Which trade a call is about.
///
/// ```
/// let by_ours = alipay::TradeRef::OutTradeNo("20240101000001".into());
/// let by_alipays = alipay::TradeRef::TradeNo("2024010122001400000000000001".into());
/// assert_ne!(by_ours, by_alipays);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeRef {
    /// The merchant's `out_trade_no`.
    OutTradeNo(String),
    /// Alipay's `trade_no`.
    TradeNo(String),
}

/// `alipay.trade.refund` parameters.
///
/// ```
/// use alipay::{Money, Refund, TradeRef};
/// let r = Refund::new(TradeRef::OutTradeNo("O1".into()), Money::from_fen(50)?, "O1-R1")?;
/// assert_eq!(r.out_request_no, "O1-R1");
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The trade.
    pub trade: TradeRef,
    /// `refund_amount`.
    pub refund_amount: Money,
    /// `out_request_no`: unique per refund, and reused on retry (the idempotency key).
    pub out_request_no: String,
    /// `refund_reason`.
    pub refund_reason: Option<String>,
}

impl Refund {
    /// A refund of `amount` identified by `out_request_no`.
    pub fn new(trade: TradeRef, amount: Money, out_request_no: impl Into<String>) -> Result<Self> {
        let out_request_no = out_request_no.into();
        if out_request_no.is_empty() || out_request_no.len() > 64 {
            return Err(Error::InvalidParameter {
                field: "out_request_no", reason: "must be 1–64 characters".into()
            });
        }
        Ok(Refund { trade, refund_amount: amount.check_payable()?, out_request_no, refund_reason: None })
    }
}

fn opt_money<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Money>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn yes_no<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "Y" => Ok(true),
        "N" => Ok(false),
        other => Err(serde::de::Error::custom(format!("expected Y or N, got {other:?}"))),
    }
}

/// `alipay.trade.query` result.
///
/// ```
/// let r: alipay::TradeQueryResponse = serde_json::from_str(
///     r#"{"code":"10000","msg":"Success","trade_no":"T","out_trade_no":"O","trade_status":"TRADE_SUCCESS","total_amount":"88.80","receipt_amount":""}"#,
/// )?;
/// assert!(r.trade_status.is_paid());
/// assert_eq!(r.total_amount.fen(), 8880);
/// assert_eq!(r.receipt_amount, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TradeQueryResponse {
    /// `trade_no`.
    pub trade_no: String,
    /// `out_trade_no`.
    pub out_trade_no: String,
    /// `trade_status`.
    pub trade_status: TradeStatus,
    /// `total_amount`.
    pub total_amount: Money,
    /// `buyer_logon_id`.
    #[serde(default)]
    pub buyer_logon_id: Option<String>,
    /// `buyer_user_id`.
    #[serde(default)]
    pub buyer_user_id: Option<String>,
    /// `buyer_pay_amount`.
    #[serde(default, deserialize_with = "opt_money")]
    pub buyer_pay_amount: Option<Money>,
    /// `receipt_amount`.
    #[serde(default, deserialize_with = "opt_money")]
    pub receipt_amount: Option<Money>,
    /// `point_amount`.
    #[serde(default, deserialize_with = "opt_money")]
    pub point_amount: Option<Money>,
    /// `invoice_amount`.
    #[serde(default, deserialize_with = "opt_money")]
    pub invoice_amount: Option<Money>,
    /// `send_pay_date` (Beijing time, as sent).
    #[serde(default)]
    pub send_pay_date: Option<String>,
}

/// `alipay.trade.refund` result. `fund_change` says whether *this* call moved money
/// (a replay with the same `out_request_no` gives `false`); `refund_fee` is cumulative.
///
/// ```
/// let r: alipay::RefundResponse = serde_json::from_str(
///     r#"{"code":"10000","trade_no":"T","out_trade_no":"O","fund_change":"N","refund_fee":"10.00"}"#,
/// )?;
/// assert!(!r.fund_change); // a replay of an already-applied out_request_no
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundResponse {
    /// `trade_no`.
    pub trade_no: String,
    /// `out_trade_no`.
    pub out_trade_no: String,
    /// `fund_change` (`Y` → true).
    #[serde(deserialize_with = "yes_no")]
    pub fund_change: bool,
    /// `refund_fee`: total refunded on the trade so far.
    pub refund_fee: Money,
    /// `buyer_logon_id`.
    #[serde(default)]
    pub buyer_logon_id: Option<String>,
    /// `gmt_refund_pay`.
    #[serde(default)]
    pub gmt_refund_pay: Option<String>,
}

/// `alipay.trade.fastpay.refund.query` result.
///
/// ```
/// let done: alipay::RefundQueryResponse =
///     serde_json::from_str(r#"{"code":"10000","refund_amount":"10.00","refund_status":"REFUND_SUCCESS"}"#)?;
/// assert!(done.refunded());
/// let none: alipay::RefundQueryResponse = serde_json::from_str(r#"{"code":"10000"}"#)?;
/// assert!(!none.refunded());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RefundQueryResponse {
    /// `trade_no`.
    #[serde(default)]
    pub trade_no: Option<String>,
    /// `out_trade_no`.
    #[serde(default)]
    pub out_trade_no: Option<String>,
    /// `out_request_no`.
    #[serde(default)]
    pub out_request_no: Option<String>,
    /// `refund_amount` (absent when no such refund happened).
    #[serde(default, deserialize_with = "opt_money")]
    pub refund_amount: Option<Money>,
    /// `total_amount`.
    #[serde(default, deserialize_with = "opt_money")]
    pub total_amount: Option<Money>,
    /// `refund_status` (`REFUND_SUCCESS` or empty).
    #[serde(default)]
    pub refund_status: Option<String>,
    /// `gmt_refund_pay`.
    #[serde(default)]
    pub gmt_refund_pay: Option<String>,
}

impl RefundQueryResponse {
    /// The refund happened iff `refund_amount` is present and `refund_status` is empty or
    /// `REFUND_SUCCESS`.
    pub fn refunded(&self) -> bool {
        self.refund_amount.is_some()
            && matches!(self.refund_status.as_deref(), None | Some("") | Some("REFUND_SUCCESS"))
    }
}

/// `alipay.trade.close` result.
///
#[cfg_attr(feature = "client", doc = "```no_run")]
#[cfg_attr(not(feature = "client"), doc = "```ignore")]
/// # async fn f(client: &alipay::Client) -> alipay::Result<()> {
/// use alipay::{Error, SubCode, TradeRef};
/// match client.trade_close(&TradeRef::OutTradeNo("O1".into())).await {
///     Ok(_) => {}
///     // Nobody opened the cashier: nothing to close.
///     Err(Error::Api(e)) if e.sub_code == Some(SubCode::TradeNotExist) => {}
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CloseResponse {
    /// `trade_no`.
    #[serde(default)]
    pub trade_no: Option<String>,
    /// `out_trade_no`.
    #[serde(default)]
    pub out_trade_no: Option<String>,
}

/// `alipay.trade.cancel` result.
///
/// ```
/// let r: alipay::CancelResponse = serde_json::from_str(r#"{"code":"10000","action":"close","retry_flag":"N"}"#)?;
/// assert_eq!(r.action.as_deref(), Some("close"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CancelResponse {
    /// `trade_no`.
    #[serde(default)]
    pub trade_no: Option<String>,
    /// `out_trade_no`.
    #[serde(default)]
    pub out_trade_no: Option<String>,
    /// `retry_flag` (`Y`: call cancel again).
    #[serde(default)]
    pub retry_flag: Option<String>,
    /// `action` (`close`, `refund`).
    #[serde(default)]
    pub action: Option<String>,
}

#[derive(Deserialize)]
struct Common {
    code: Option<String>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    sub_code: Option<String>,
    #[serde(default)]
    sub_msg: Option<String>,
}

/// Turns a gateway answer into a typed result: scan, verify the raw span, then parse that span.
///
/// ```
/// # let key = alipay::PrivateKey::from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_private_pkcs8.pem"))?;
/// let span = r#"{"code":"10000","msg":"Success","trade_no":"T","out_trade_no":"O","trade_status":"TRADE_SUCCESS","total_amount":"1.00"}"#;
/// let body = format!(r#"{{"alipay_trade_query_response":{span},"sign":"{}"}}"#, key.sign_rsa2(span.as_bytes())?);
/// let r: alipay::TradeQueryResponse = alipay::api::parse_response("alipay.trade.query", &body, &key.public_key()?)?;
/// assert_eq!(r.total_amount.to_string(), "1.00");
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn parse_response<T: DeserializeOwned>(method: &str, body: &str, key: &crate::PublicKeyRsa) -> Result<T> {
    let key_name = response::response_key(method);
    let scanned = response::scan(body, &key_name)?;
    let signed = match &scanned.sign {
        Some(sig) => {
            key.verify(crate::SignType::Rsa2, scanned.span.as_bytes(), sig)?;
            true
        }
        None => false,
    };
    let common: Common =
        serde_json::from_str(scanned.span).map_err(|e| Error::MalformedResponse(format!("{key_name}: {e}")))?;
    let code = common.code.as_deref().unwrap_or_default();
    match ResultCode::from_code(code) {
        ResultCode::Success if !scanned.is_error_response => {
            if !signed {
                return Err(Error::BadSignature("a success response must be signed".into()));
            }
            serde_json::from_str(scanned.span).map_err(|e| Error::MalformedResponse(format!("{key_name}: {e}")))
        }
        ResultCode::UnknownOutcome => Err(Error::OutcomeUnknown {
            method: method.to_owned(),
            reason: format!("code 20000 {} {}", common.msg.unwrap_or_default(), common.sub_code.unwrap_or_default())
                .trim_end()
                .to_owned(),
        }),
        _ => {
            let mut e = ApiError::new(
                code,
                common.msg.as_deref().unwrap_or_default(),
                common.sub_code.as_deref(),
                common.sub_msg.as_deref(),
            );
            e.signed = signed;
            Err(Error::Api(Box::new(e)))
        }
    }
}
