//! Page pay (`alipay.trade.page.pay`) and wap pay (`alipay.trade.wap.pay`): a signed redirect URL
//! or an auto-submitting POST form.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::client::{Client, Urls};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::timestamp;

/// Page-pay method name.
pub const PAGE_PAY_METHOD: &str = "alipay.trade.page.pay";
/// Wap-pay method name.
pub const WAP_PAY_METHOD: &str = "alipay.trade.wap.pay";

/// A relative payment timeout (`timeout_express`): `1m`–`15d` (`m`, `h`, `d`), or `1c`
/// (close at midnight).
///
/// ```
/// use alipay::TimeoutExpress;
/// assert_eq!(TimeoutExpress::new("30m")?.as_str(), "30m");
/// assert!(TimeoutExpress::new("16d").is_err());
/// assert!(TimeoutExpress::new("0m").is_err());
/// assert!(TimeoutExpress::new("2c").is_err());
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutExpress(String);

impl TimeoutExpress {
    /// Validates and wraps a `timeout_express` value.
    pub fn new(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParameter {
            field: "timeout_express",
            reason: format!("{s:?} is not 1m–15d (m/h/d) or 1c"),
        };
        if s == "1c" {
            return Ok(TimeoutExpress(s.to_owned()));
        }
        let (num, unit) = s.split_at(s.len().saturating_sub(1));
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || num.starts_with('0') {
            return Err(bad());
        }
        let n: u32 = num.parse().map_err(|_| bad())?;
        let minutes = match unit {
            "m" => n,
            "h" => n.checked_mul(60).ok_or_else(bad)?,
            "d" => n.checked_mul(24 * 60).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        if !(1..=15 * 24 * 60).contains(&minutes) {
            return Err(bad());
        }
        Ok(TimeoutExpress(s.to_owned()))
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When an unpaid trade closes.
///
/// ```
/// use alipay::{PayTimeout, TimeoutExpress};
/// let relative = PayTimeout::Relative(TimeoutExpress::new("2h")?);
/// let absolute = PayTimeout::Absolute(chrono::Utc::now() + chrono::Duration::minutes(30)); // sent in UTC+8
/// # let _ = (relative, absolute);
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayTimeout {
    /// `timeout_express`, relative to the trade's creation.
    Relative(TimeoutExpress),
    /// `time_expire`, an absolute instant (sent in Beijing time).
    Absolute(DateTime<Utc>),
}

/// The cashier's QR display mode (`qr_pay_mode`), page pay only.
///
/// ```
/// # use alipay::{Money, PagePay, QrPayMode};
/// let order = PagePay::new("A1", Money::from_fen(100)?, "Tea")?.with_qr_pay_mode(QrPayMode::Custom4 { width: 200 });
/// assert!(order.biz_content(false).contains(r#""qrcode_width":"200""#));
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrPayMode {
    /// `0`: simplified, iframe ≥ 600×300.
    Simple0,
    /// `1`: front-facing, iframe ≥ 300×600.
    FrontFacing1,
    /// `2`: jump to the QR page.
    Redirect2,
    /// `3`: mini, iframe ≥ 75×75.
    Mini3,
    /// `4`: custom width (`qrcode_width`, pixels).
    Custom4 {
        /// `qrcode_width`.
        width: u32,
    },
}

/// The business fields of a page-pay or wap-pay order.
///
/// ```
/// use alipay::{Money, PagePay, PayTimeout, TimeoutExpress};
/// let order = PagePay::new("20240101000001", Money::from_fen(1999)?, "Tea")?
///     .with_timeout(PayTimeout::Relative(TimeoutExpress::new("30m")?))
///     .with_passback_params("a%3D1");
/// assert_eq!(order.total_amount.to_string(), "19.99");
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePay {
    /// `out_trade_no`: the merchant's order number (1–64 visible ASCII characters).
    pub out_trade_no: String,
    /// `total_amount`.
    pub total_amount: Money,
    /// `subject` (non-empty, ≤ 256 characters).
    pub subject: String,
    /// `body`: a description.
    pub body: Option<String>,
    /// `timeout_express` or `time_expire`.
    pub timeout: Option<PayTimeout>,
    /// `passback_params`: URL-encoded by the merchant, echoed verbatim in the notification.
    pub passback_params: Option<String>,
    /// `qr_pay_mode` (page pay only; ignored for wap pay).
    pub qr_pay_mode: Option<QrPayMode>,
    /// `quit_url` (wap pay only; ignored for page pay).
    pub quit_url: Option<String>,
    /// Overrides the configured `return_url` for this order.
    pub return_url: Option<String>,
    /// Overrides the configured `notify_url` for this order.
    pub notify_url: Option<String>,
}

impl PagePay {
    /// An order with the required fields; checks the order number, amount and subject.
    pub fn new(out_trade_no: impl Into<String>, total_amount: Money, subject: impl Into<String>) -> Result<Self> {
        let order = PagePay {
            out_trade_no: out_trade_no.into(),
            total_amount,
            subject: subject.into(),
            body: None,
            timeout: None,
            passback_params: None,
            qr_pay_mode: None,
            quit_url: None,
            return_url: None,
            notify_url: None,
        };
        order.validate()?;
        Ok(order)
    }

    /// Checks the fields (also done before signing, since the fields are public):
    /// `out_trade_no` 1–64 visible ASCII characters, `subject` 1–256 characters, amount in
    /// 0.01–100000000.00.
    ///
    /// ```
    /// # use alipay::{Money, PagePay};
    /// let mut order = PagePay::new("A1", Money::from_fen(1)?, "Tea")?;
    /// order.out_trade_no = "has space".into();
    /// assert!(order.validate().is_err());
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_out_trade_no(&self.out_trade_no)?;
        if self.subject.trim().is_empty() || self.subject.chars().count() > 256 {
            return Err(Error::InvalidParameter { field: "subject", reason: "must be 1–256 characters".into() });
        }
        self.total_amount.check_payable()?;
        Ok(())
    }

    /// Sets `body`.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: PayTimeout) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets `passback_params`.
    pub fn with_passback_params(mut self, p: impl Into<String>) -> Self {
        self.passback_params = Some(p.into());
        self
    }

    /// Sets `qr_pay_mode`.
    pub fn with_qr_pay_mode(mut self, mode: QrPayMode) -> Self {
        self.qr_pay_mode = Some(mode);
        self
    }

    /// Sets `quit_url` (wap pay).
    pub fn with_quit_url(mut self, url: impl Into<String>) -> Self {
        self.quit_url = Some(url.into());
        self
    }

    /// Overrides `return_url`.
    pub fn with_return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Overrides `notify_url`.
    pub fn with_notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// The `biz_content` JSON for `product_code` (empty optionals left out).
    pub fn biz_content(&self, wap: bool) -> String {
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                m.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        };
        put("out_trade_no", &self.out_trade_no);
        put("total_amount", &self.total_amount.to_string());
        put("subject", &self.subject);
        put("product_code", if wap { "QUICK_WAP_WAY" } else { "FAST_INSTANT_TRADE_PAY" });
        if let Some(b) = &self.body {
            put("body", b);
        }
        match &self.timeout {
            Some(PayTimeout::Relative(t)) => put("timeout_express", t.as_str()),
            Some(PayTimeout::Absolute(t)) => put("time_expire", &timestamp::format_beijing(*t)),
            None => {}
        }
        if let Some(p) = &self.passback_params {
            put("passback_params", p);
        }
        if wap {
            if let Some(q) = &self.quit_url {
                put("quit_url", q);
            }
        } else if let Some(mode) = self.qr_pay_mode {
            let (code, width) = match mode {
                QrPayMode::Simple0 => ("0", None),
                QrPayMode::FrontFacing1 => ("1", None),
                QrPayMode::Redirect2 => ("2", None),
                QrPayMode::Mini3 => ("3", None),
                QrPayMode::Custom4 { width } => ("4", Some(width)),
            };
            put("qr_pay_mode", code);
            if let Some(w) = width {
                put("qrcode_width", &w.to_string());
            }
        }
        Value::Object(m).to_string()
    }
}

/// Checks an `out_trade_no`: 1–64 visible ASCII characters.
fn check_out_trade_no(s: &str) -> Result<()> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidParameter {
            field: "out_trade_no",
            reason: format!("{s:?} must be 1–64 visible ASCII characters"),
        });
    }
    Ok(())
}

impl Client {
    fn pay_fields(&self, order: &PagePay, wap: bool, at: DateTime<Utc>) -> Result<(Vec<(String, String)>, String)> {
        order.validate()?;
        let urls = Urls {
            notify_url: order.notify_url.as_deref().or(self.config.notify_url.as_deref()),
            return_url: order.return_url.as_deref().or(self.config.return_url.as_deref()),
        };
        let method = if wap { WAP_PAY_METHOD } else { PAGE_PAY_METHOD };
        self.sign_request(method, &order.biz_content(wap), at, &urls)
    }

    /// The signed GET URL that sends the buyer to the page-pay cashier.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    /// # use alipay::*;
    /// # let client = Client::new(Config::new("2021", PrivateKey::from_file(format!("{dir}app_private_pkcs8.pem"))?,
    /// #     KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?)))?;
    /// let url = client.page_pay_url(&PagePay::new("A1", Money::from_fen(100)?, "Tea")?)?;
    /// assert!(url.starts_with("https://openapi.alipay.com/gateway.do?"));
    /// assert!(url.contains("total_amount%22%3A%221.00%22"));
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn page_pay_url(&self, order: &PagePay) -> Result<String> {
        self.page_pay_url_at(order, Utc::now())
    }

    /// [`Client::page_pay_url`] with an explicit timestamp.
    pub fn page_pay_url_at(&self, order: &PagePay, at: DateTime<Utc>) -> Result<String> {
        self.pay_url(order, false, at)
    }

    /// The signed GET URL for wap pay (mobile browsers).
    pub fn wap_pay_url(&self, order: &PagePay) -> Result<String> {
        self.wap_pay_url_at(order, Utc::now())
    }

    /// [`Client::wap_pay_url`] with an explicit timestamp.
    pub fn wap_pay_url_at(&self, order: &PagePay, at: DateTime<Utc>) -> Result<String> {
        self.pay_url(order, true, at)
    }

    fn pay_url(&self, order: &PagePay, wap: bool, at: DateTime<Utc>) -> Result<String> {
        let (mut fields, biz) = self.pay_fields(order, wap, at)?;
        fields.push(("biz_content".into(), biz));
        Ok(self.gateway_url(&fields))
    }

    /// An HTML form that POSTs the page-pay request on load: public fields in the action URL,
    /// `biz_content` in a hidden input.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    /// # use alipay::*;
    /// # let client = Client::new(Config::new("2021", PrivateKey::from_file(format!("{dir}app_private_pkcs8.pem"))?,
    /// #     KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?)))?;
    /// let html = client.page_pay_form(&PagePay::new("A1", Money::from_fen(100)?, "<Tea & \"Cake\">")?)?;
    /// assert!(html.contains(r#"method="POST""#));
    /// assert!(html.contains("&lt;Tea &amp; \\&quot;Cake\\&quot;&gt;"));
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn page_pay_form(&self, order: &PagePay) -> Result<String> {
        self.page_pay_form_at(order, Utc::now())
    }

    /// [`Client::page_pay_form`] with an explicit timestamp.
    pub fn page_pay_form_at(&self, order: &PagePay, at: DateTime<Utc>) -> Result<String> {
        self.pay_form(order, false, at)
    }

    /// The auto-submitting form for wap pay.
    pub fn wap_pay_form(&self, order: &PagePay) -> Result<String> {
        self.wap_pay_form_at(order, Utc::now())
    }

    /// [`Client::wap_pay_form`] with an explicit timestamp.
    pub fn wap_pay_form_at(&self, order: &PagePay, at: DateTime<Utc>) -> Result<String> {
        self.pay_form(order, true, at)
    }

    fn pay_form(&self, order: &PagePay, wap: bool, at: DateTime<Utc>) -> Result<String> {
        let (fields, biz) = self.pay_fields(order, wap, at)?;
        let action = self.gateway_url(&fields);
        Ok(format!(
            concat!(
                "<form id=\"alipaysubmit\" name=\"alipaysubmit\" action=\"{}\" method=\"POST\">",
                "<input type=\"hidden\" name=\"biz_content\" value=\"{}\">",
                "<input type=\"submit\" value=\"ok\" style=\"display:none;\">",
                "</form><script>document.forms['alipaysubmit'].submit();</script>"
            ),
            html_escape(&action),
            html_escape(&biz)
        ))
    }
}

/// Escapes text for HTML content and attribute values (`& < > " '`) in the auto-submitting pay
/// form.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_escape_covers_content_and_attributes() {
        assert_eq!(super::html_escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
