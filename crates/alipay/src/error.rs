//! The crate's single error type.

use std::fmt;

/// Everything that can go wrong in this crate.
///
/// Errors about the outcome of a server call are split so that callers can act on them:
/// [`Error::Api`] is a definite answer from Alipay (the call was refused, nothing happened),
/// [`Error::OutcomeUnknown`] means the call may or may not have taken effect (code `20000`,
/// timeouts, dropped connections, unreadable answers) and must be checked again, for example
/// with `alipay.trade.query` or by retrying with the same `out_request_no`.
///
/// ```
/// use alipay::{Error, Money};
/// let err = "1.234".parse::<Money>().unwrap_err();
/// assert!(matches!(err, Error::InvalidAmount { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key could not be read or parsed; `source_name` names the file or the config entry.
    #[error("{kind} key from {source_name}: {reason}")]
    Key {
        /// Which key ("app private", "Alipay public").
        kind: &'static str,
        /// Where it came from (a file name or "inline").
        source_name: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A certificate (or certificate bundle) could not be read or parsed.
    #[error("certificate {source_name}: {reason}")]
    Certificate {
        /// Where it came from (a file name or "inline").
        source_name: String,
        /// What was wrong with it.
        reason: String,
    },
    /// An amount that is not a valid money value (yuan with at most two decimals).
    #[error("invalid amount {value:?}: {reason}")]
    InvalidAmount {
        /// The offending text.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A request parameter we were asked to send is not acceptable.
    #[error("invalid parameter {field}: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The signature did not verify (or was missing / not base64).
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A required field is missing from a notification, return or response.
    #[error("missing field {0}")]
    MissingField(String),
    /// A field is present but malformed (for an amount field the cause is an
    /// [`Error::InvalidAmount`] reason).
    #[error("malformed field {field}={value:?}: {reason}")]
    MalformedField {
        /// The field's name.
        field: String,
        /// Its value as received.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An amount field (e.g. `total_amount`) is present but not a valid amount.
    #[error("malformed amount {field}={value:?}: {reason}")]
    MalformedAmount {
        /// The field's name.
        field: String,
        /// Its value as received.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The gateway's answer could not be understood (no `*_response` member, bad JSON, …).
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// Alipay answered with a definite error (`code` other than `10000`/`20000`).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The call may or may not have taken effect: query again before acting on it.
    #[error("outcome unknown for {method}: {reason}")]
    OutcomeUnknown {
        /// The API method that was called.
        method: String,
        /// What happened (code `20000`, a timeout, a transport error, …).
        reason: String,
    },
    /// Building the HTTP client failed (TLS configuration, …).
    #[error("HTTP client: {0}")]
    HttpClient(String),
}

impl Error {
    /// True when the operation may have taken effect and must be checked again.
    ///
    /// ```
    /// let err = alipay::Error::OutcomeUnknown { method: "alipay.trade.refund".into(), reason: "timeout".into() };
    /// assert!(err.is_outcome_unknown());
    /// ```
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }

    /// True only for a signed, definite refusal: Alipay answered, the answer verified, and the
    /// business (`40004`) said no for a reason that retrying will not change. Everything else
    /// leaves the outcome open: timeouts, HTTP errors, unsigned or badly signed answers,
    /// `ACQ.SYSTEM_ERROR`, causes that pass (`ACQ.SELLER_BALANCE_NOT_ENOUGH`,
    /// `ACQ.REFUND_CHARGE_ERROR`), answers that prove an earlier request with the same number
    /// (`ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`, `ACQ.DISCORDANT_REPEAT_REQUEST`), and configuration or
    /// permission errors (`20001`, `40002`, `40006`, `isv.*`), which the merchant fixes.
    ///
    /// ```
    /// let refused = alipay::ApiError::new("40004", "Business Failed", Some("ACQ.REASON_TRADE_REFUND_FEE_ERR"), None);
    /// assert!(alipay::Error::Api(Box::new(refused.clone())).is_definite_refusal());
    /// let unsigned = alipay::ApiError { signed: false, ..refused };
    /// assert!(!alipay::Error::Api(Box::new(unsigned)).is_definite_refusal());
    /// let broke = alipay::ApiError::new("40004", "Business Failed", Some("ACQ.SELLER_BALANCE_NOT_ENOUGH"), None);
    /// assert!(!alipay::Error::Api(Box::new(broke)).is_definite_refusal());
    /// let no_permission = alipay::ApiError::new("40006", "Insufficient Permissions", Some("isv.insufficient-isv-permissions"), None);
    /// assert!(!alipay::Error::Api(Box::new(no_permission)).is_definite_refusal());
    /// ```
    pub fn is_definite_refusal(&self) -> bool {
        self.api_error().is_some_and(|e| {
            let passing =
                matches!(e.sub_code_raw.as_deref(), Some("ACQ.REFUND_CHARGE_ERROR" | "ACQ.DISCORDANT_REPEAT_REQUEST"))
                    || matches!(e.sub_code, Some(SubCode::SellerBalanceNotEnough | SubCode::RefundAmountNotEqualTotal));
            e.signed && e.code == ResultCode::BusinessFailed && !e.should_retry() && !passing
        })
    }

    /// True for a signed `ACQ.TRADE_NOT_EXIST` (an unsigned one proves nothing).
    ///
    /// ```
    /// let e = alipay::ApiError::new("40004", "Business Failed", Some("ACQ.TRADE_NOT_EXIST"), None);
    /// assert!(alipay::Error::Api(Box::new(e)).is_trade_not_exist());
    /// ```
    pub fn is_trade_not_exist(&self) -> bool {
        self.is_definite_refusal()
            && self.api_error().and_then(|e| e.sub_code.as_ref()) == Some(&SubCode::TradeNotExist)
    }

    /// The Alipay API error, if this is one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// The `code` of a gateway answer.
///
/// ```
/// use alipay::ResultCode;
/// assert_eq!(ResultCode::from_code("40004"), ResultCode::BusinessFailed);
/// assert_eq!(ResultCode::BusinessFailed.as_str(), "40004");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultCode {
    /// `10000`: success.
    Success,
    /// `20000`: service unavailable, outcome unknown.
    UnknownOutcome,
    /// `20001`: insufficient authorisation (bad app_auth_token, …).
    InsufficientAuthorization,
    /// `40001`: a required parameter is missing.
    MissingParameter,
    /// `40002`: an invalid parameter (including `isv.invalid-signature`).
    InvalidParameter,
    /// `40004`: the business refused (see `sub_code`, usually `ACQ.*`).
    BusinessFailed,
    /// `40006`: insufficient permissions.
    InsufficientPermissions,
    /// Anything else.
    Other(String),
}

impl ResultCode {
    /// Maps a `code` string.
    pub fn from_code(code: &str) -> Self {
        match code {
            "10000" => ResultCode::Success,
            "20000" => ResultCode::UnknownOutcome,
            "20001" => ResultCode::InsufficientAuthorization,
            "40001" => ResultCode::MissingParameter,
            "40002" => ResultCode::InvalidParameter,
            "40004" => ResultCode::BusinessFailed,
            "40006" => ResultCode::InsufficientPermissions,
            other => ResultCode::Other(other.to_owned()),
        }
    }

    /// The wire form of the code.
    pub fn as_str(&self) -> &str {
        match self {
            ResultCode::Success => "10000",
            ResultCode::UnknownOutcome => "20000",
            ResultCode::InsufficientAuthorization => "20001",
            ResultCode::MissingParameter => "40001",
            ResultCode::InvalidParameter => "40002",
            ResultCode::BusinessFailed => "40004",
            ResultCode::InsufficientPermissions => "40006",
            ResultCode::Other(s) => s,
        }
    }
}

/// The `sub_code` of a gateway answer, with the codes of the trade APIs named.
///
/// ```
/// use alipay::SubCode;
/// assert_eq!(SubCode::from_code("ACQ.TRADE_NOT_EXIST"), SubCode::TradeNotExist);
/// assert_eq!(SubCode::from_code("ACQ.SOMETHING_NEW"), SubCode::Other("ACQ.SOMETHING_NEW".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubCode {
    /// `ACQ.TRADE_NOT_EXIST`: no such trade (for page pay: nobody opened the cashier yet).
    TradeNotExist,
    /// `ACQ.TRADE_STATUS_ERROR`: the trade is in a state that does not allow this.
    TradeStatusError,
    /// `ACQ.SYSTEM_ERROR`: Alipay-side error; retry with the same parameters.
    SystemError,
    /// `ACQ.INVALID_PARAMETER`.
    InvalidParameter,
    /// `ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`: a refund with this `out_request_no` had another amount.
    RefundAmountNotEqualTotal,
    /// `ACQ.REASON_TRADE_REFUND_FEE_ERR`: refund amount exceeds what is refundable.
    RefundFeeError,
    /// `ACQ.TRADE_HAS_FINISHED`: the trade is finished.
    TradeHasFinished,
    /// `ACQ.TRADE_HAS_CLOSE`: the trade is closed.
    TradeHasClosed,
    /// `ACQ.SELLER_BALANCE_NOT_ENOUGH`: the merchant's balance cannot cover the refund.
    SellerBalanceNotEnough,
    /// `isv.invalid-signature`: the gateway rejected our signature.
    InvalidSignature,
    /// `isv.invalid-app-id` / `isv.invalid-app-id` variants.
    InvalidAppId,
    /// Anything else, verbatim.
    Other(String),
}

impl SubCode {
    /// Maps a `sub_code` string.
    pub fn from_code(code: &str) -> Self {
        match code {
            "ACQ.TRADE_NOT_EXIST" => SubCode::TradeNotExist,
            "ACQ.TRADE_STATUS_ERROR" => SubCode::TradeStatusError,
            "ACQ.SYSTEM_ERROR" | "aop.ACQ.SYSTEM_ERROR" => SubCode::SystemError,
            "ACQ.INVALID_PARAMETER" => SubCode::InvalidParameter,
            "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" => SubCode::RefundAmountNotEqualTotal,
            "ACQ.REASON_TRADE_REFUND_FEE_ERR" => SubCode::RefundFeeError,
            "ACQ.TRADE_HAS_FINISHED" => SubCode::TradeHasFinished,
            "ACQ.TRADE_HAS_CLOSE" => SubCode::TradeHasClosed,
            "ACQ.SELLER_BALANCE_NOT_ENOUGH" => SubCode::SellerBalanceNotEnough,
            "isv.invalid-signature" => SubCode::InvalidSignature,
            "isv.invalid-app-id" => SubCode::InvalidAppId,
            other => SubCode::Other(other.to_owned()),
        }
    }
}

/// A definite error answer from the gateway.
///
/// ```
/// use alipay::{ApiError, ResultCode, SubCode};
/// let e = ApiError::new("40004", "Business Failed", Some("ACQ.TRADE_NOT_EXIST"), Some("交易不存在"));
/// assert_eq!(e.code, ResultCode::BusinessFailed);
/// assert_eq!(e.sub_code, Some(SubCode::TradeNotExist));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The typed `code`.
    pub code: ResultCode,
    /// `msg`.
    pub msg: String,
    /// The typed `sub_code`, if any.
    pub sub_code: Option<SubCode>,
    /// The raw `sub_code` string, if any.
    pub sub_code_raw: Option<String>,
    /// `sub_msg` (for `isv.invalid-signature` it shows the gateway's string to sign).
    pub sub_msg: Option<String>,
    /// Whether the answer carried a valid signature (some gateway errors come unsigned).
    pub signed: bool,
}

impl ApiError {
    /// Builds an error from its wire strings (marked as signed).
    pub fn new(code: &str, msg: &str, sub_code: Option<&str>, sub_msg: Option<&str>) -> Self {
        ApiError {
            code: ResultCode::from_code(code),
            msg: msg.to_owned(),
            sub_code: sub_code.map(SubCode::from_code),
            sub_code_raw: sub_code.map(str::to_owned),
            sub_msg: sub_msg.map(str::to_owned),
            signed: true,
        }
    }
}

impl ApiError {
    /// True for Alipay-side transient errors (`ACQ.SYSTEM_ERROR`): retry with the same
    /// parameters (for a refund: the same `out_request_no`).
    ///
    /// ```
    /// let e = alipay::ApiError::new("40004", "Business Failed", Some("ACQ.SYSTEM_ERROR"), None);
    /// assert!(e.should_retry());
    /// ```
    pub fn should_retry(&self) -> bool {
        matches!(self.sub_code, Some(SubCode::SystemError))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Alipay error {} {}", self.code.as_str(), self.msg)?;
        if let Some(sc) = &self.sub_code_raw {
            write!(f, " ({sc}")?;
            if let Some(sm) = &self.sub_msg {
                write!(f, ": {sm}")?;
            }
            write!(f, ")")?;
        }
        if !self.signed {
            write!(f, " [unsigned]")?;
        }
        Ok(())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
