//! Server calls (`alipay.trade.query`, `.refund`, `.fastpay.refund.query`, `.close`, `.cancel`):
//! sign, POST, find the `*_response` span, verify it, then parse that same span.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::{Client, Urls};
use crate::error::{ApiError, Error, Result, ResultCode};
use crate::money::Money;
use crate::notify::TradeStatus;
use crate::response;
use crate::sign;

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

impl TradeRef {
    fn put(&self, m: &mut Map<String, Value>) {
        match self {
            TradeRef::OutTradeNo(s) => m.insert("out_trade_no".into(), Value::String(s.clone())),
            TradeRef::TradeNo(s) => m.insert("trade_no".into(), Value::String(s.clone())),
        };
    }
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
/// ```no_run
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

impl Client {
    /// Calls any API `method` with a `biz_content` and returns the verified, typed response.
    ///
    /// ```no_run
    /// # async fn f(client: &alipay::Client) -> alipay::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Bill { bill_download_url: String }
    /// let bill: Bill = client
    ///     .execute("alipay.data.dataservice.bill.downloadurl.query", r#"{"bill_type":"trade","bill_date":"2024-01-01"}"#)
    ///     .await?;
    /// println!("{}", bill.bill_download_url);
    /// # Ok(()) }
    /// ```
    pub async fn execute<T: DeserializeOwned>(&self, method: &str, biz_content: &str) -> Result<T> {
        self.execute_at(method, biz_content, Utc::now()).await
    }

    /// [`Client::execute`] with an explicit timestamp.
    pub async fn execute_at<T: DeserializeOwned>(
        &self,
        method: &str,
        biz_content: &str,
        at: DateTime<Utc>,
    ) -> Result<T> {
        let (public, biz) = self.sign_request(method, biz_content, at, &Urls::default())?;
        let url = self.gateway_url(&public);
        let unknown = |reason: String| Error::OutcomeUnknown { method: method.to_owned(), reason };
        let response = self
            .http
            .post(url)
            .timeout(self.config.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(sign::encode_form([("biz_content", biz.as_str())]))
            .send()
            .await
            .map_err(|e| unknown(format!("transport: {}", error_chain(&e))))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| unknown(format!("reading the answer: {}", error_chain(&e))))?;
        if !status.is_success() {
            return Err(unknown(format!("HTTP status {status}")));
        }
        // The signature covers the exact bytes: never decode lossily.
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::MalformedResponse("the answer is not UTF-8 (we always ask for charset=utf-8)".into())
        })?;
        let result = parse_response(method, text, self.config.key_mode.alipay_public_key());
        if let (Err(Error::BadSignature(reason)), Some(cert)) = (&result, self.config.key_mode.cert_sns())
            && let Ok(scanned) = response::scan(text, &response::response_key(method))
            && let Some(sn) = scanned.alipay_cert_sn.filter(|sn| *sn != cert.alipay_cert_sn)
        {
            return Err(Error::BadSignature(format!(
                "{reason}; the answer is signed by Alipay certificate {sn}, ours is {} (download the new one)",
                cert.alipay_cert_sn
            )));
        }
        result
    }

    /// `alipay.trade.query`.
    ///
    /// ```no_run
    /// # async fn f(client: &alipay::Client) -> alipay::Result<()> {
    /// let r = client.trade_query(&alipay::TradeRef::OutTradeNo("O1".into())).await?;
    /// if r.trade_status.is_paid() { /* … */ }
    /// # Ok(()) }
    /// ```
    pub async fn trade_query(&self, trade: &TradeRef) -> Result<TradeQueryResponse> {
        let mut m = Map::new();
        trade.put(&mut m);
        self.execute("alipay.trade.query", &Value::Object(m).to_string()).await
    }

    /// `alipay.trade.refund`. Retry with the same [`Refund`] (same `out_request_no`) after an
    /// [`Error::OutcomeUnknown`] or `ACQ.SYSTEM_ERROR`.
    ///
    /// ```no_run
    /// # async fn f(client: &alipay::Client) -> alipay::Result<()> {
    /// use alipay::{Money, Refund, TradeRef};
    /// let refund = Refund::new(TradeRef::OutTradeNo("O1".into()), Money::from_fen(1000)?, "O1-R1")?;
    /// let r = loop {
    ///     match client.trade_refund(&refund).await {
    ///         Err(e) if e.is_outcome_unknown() => continue, // same out_request_no: idempotent
    ///         other => break other?,
    ///     }
    /// };
    /// println!("moved money: {}, refunded so far: {}", r.fund_change, r.refund_fee);
    /// # Ok(()) }
    /// ```
    pub async fn trade_refund(&self, refund: &Refund) -> Result<RefundResponse> {
        Refund::new(refund.trade.clone(), refund.refund_amount, refund.out_request_no.clone())?;
        let mut m = Map::new();
        refund.trade.put(&mut m);
        m.insert("refund_amount".into(), Value::String(refund.refund_amount.to_string()));
        m.insert("out_request_no".into(), Value::String(refund.out_request_no.clone()));
        if let Some(r) = refund.refund_reason.as_ref().filter(|r| !r.is_empty()) {
            m.insert("refund_reason".into(), Value::String(r.clone()));
        }
        self.execute("alipay.trade.refund", &Value::Object(m).to_string()).await
    }

    /// `alipay.trade.fastpay.refund.query` for the refund `out_request_no`.
    ///
    /// ```no_run
    /// # async fn f(client: &alipay::Client) -> alipay::Result<()> {
    /// let q = client.refund_query(&alipay::TradeRef::OutTradeNo("O1".into()), "O1-R1").await?;
    /// if q.refunded() { /* the refund happened */ }
    /// # Ok(()) }
    /// ```
    pub async fn refund_query(&self, trade: &TradeRef, out_request_no: &str) -> Result<RefundQueryResponse> {
        let mut m = Map::new();
        trade.put(&mut m);
        m.insert("out_request_no".into(), Value::String(out_request_no.to_owned()));
        self.execute("alipay.trade.fastpay.refund.query", &Value::Object(m).to_string()).await
    }

    /// `alipay.trade.close` (only `WAIT_BUYER_PAY` trades; `ACQ.TRADE_NOT_EXIST` means nobody
    /// opened the cashier, so there is nothing to close).
    pub async fn trade_close(&self, trade: &TradeRef) -> Result<CloseResponse> {
        let mut m = Map::new();
        trade.put(&mut m);
        self.execute("alipay.trade.close", &Value::Object(m).to_string()).await
    }

    /// `alipay.trade.cancel`.
    pub async fn trade_cancel(&self, trade: &TradeRef) -> Result<CancelResponse> {
        let mut m = Map::new();
        trade.put(&mut m);
        self.execute("alipay.trade.cancel", &Value::Object(m).to_string()).await
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
