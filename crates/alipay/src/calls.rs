//! The server calls over HTTPS (the `client` feature): sign, POST, then [`parse_response`] on the
//! exact bytes of the answer.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::api::{
    CancelResponse, CloseResponse, Refund, RefundQueryResponse, RefundResponse, TradeQueryResponse, TradeRef,
    parse_response,
};
use crate::client::{Client, Urls};
use crate::error::{Error, Result};
use crate::{response, sign};

/// An HTTPS client builder as this crate uses it: rustls over aws-lc-rs with the webpki roots, so
/// no system TLS library and no second crypto stack. Set timeouts and a redirect policy on it.
///
/// ```
/// let http = alipay::https_client_builder()?.timeout(std::time::Duration::from_secs(10)).build();
/// assert!(http.is_ok());
/// # Ok::<(), alipay::Error>(())
/// ```
pub fn https_client_builder() -> Result<reqwest::ClientBuilder> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::HttpClient(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls))
}

impl TradeRef {
    fn put(&self, m: &mut Map<String, Value>) {
        match self {
            TradeRef::OutTradeNo(s) => m.insert("out_trade_no".into(), Value::String(s.clone())),
            TradeRef::TradeNo(s) => m.insert("trade_no".into(), Value::String(s.clone())),
        };
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
