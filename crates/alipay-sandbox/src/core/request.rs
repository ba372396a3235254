//! What merchants send: a decoded `biz_content`, and the refusals answered in Alipay's terms.

use alipay::Money;
use serde_json::{Map, Value};

/// A refusal in Alipay's terms.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub msg: &'static str,
    pub sub_code: String,
    pub sub_msg: String,
}

impl Refusal {
    pub fn missing(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40001", msg: "Missing Required Arguments", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn invalid(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40002", msg: "Invalid Arguments", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn business(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Refusal { code: "40004", msg: "Business Failed", sub_code: sub_code.into(), sub_msg: sub_msg.into() }
    }
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "sandbox state error");
        Refusal {
            code: "20000",
            msg: "Service Currently Unavailable",
            sub_code: "isp.unknow-error".into(),
            sub_msg: "系统繁忙".into(),
        }
    }
    pub(super) fn not_exist() -> Self {
        Refusal::business("ACQ.TRADE_NOT_EXIST", "交易不存在")
    }
    pub(super) fn status_error() -> Self {
        Refusal::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    }
}

pub(crate) type Outcome<T> = std::result::Result<T, Refusal>;

/// A decoded `biz_content`.
pub(crate) struct Biz(pub Map<String, Value>);

impl Biz {
    /// A field as text (numbers are accepted as their decimal text); empty counts as absent.
    pub fn get(&self, k: &str) -> Option<String> {
        match self.0.get(k)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub(super) fn money(&self, k: &str) -> Outcome<Option<Money>> {
        match self.get(k) {
            None => Ok(None),
            Some(s) => s
                .parse::<Money>()
                .and_then(Money::check_payable)
                .map(Some)
                .map_err(|e| Refusal::business("ACQ.INVALID_PARAMETER", format!("参数无效: {k} ({e})"))),
        }
    }
}
