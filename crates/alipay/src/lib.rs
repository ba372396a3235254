//! Alipay OpenAPI v2 client: keys in every format, canonical strings, RSA2 sign/verify,
//! page-pay and wap-pay URLs and forms, notification and return verification, typed server
//! calls with response-signature verification, certificate-mode serial numbers and Beijing-time
//! timestamps. It knows nothing about any shop.
//!
//! ```
//! # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
//! use alipay::{Client, Config, KeyMode, Money, PagePay, PrivateKey, PublicKeyRsa};
//! let client = Client::new(
//!     Config::new(
//!         "2021000000000000",
//!         PrivateKey::from_file(format!("{dir}app_private_pkcs8.pem"))?,
//!         KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?),
//!     )
//!     .with_gateway(alipay::SANDBOX_GATEWAY)
//!     .with_notify_url("https://shop.example/pay/alipay/notify")
//!     .with_return_url("https://shop.example/pay/alipay/return"),
//! )?;
//! let url = client.page_pay_url(&PagePay::new("20240101000001", "19.90".parse::<Money>()?, "Tea")?)?;
//! assert!(url.starts_with(alipay::SANDBOX_GATEWAY));
//! # Ok::<(), alipay::Error>(())
//! ```

#![warn(missing_docs)]

pub mod api;
#[cfg(feature = "client")]
mod calls;
pub mod cert;
mod client;
mod config;
mod error;
pub mod keys;
mod money;
pub mod notify;
pub mod page_pay;
pub mod response;
pub mod sign;
pub mod timestamp;

pub use api::{
    CancelResponse, CloseResponse, Refund, RefundQueryResponse, RefundResponse, TradeQueryResponse, TradeRef,
};
#[cfg(feature = "client")]
pub use calls::https_client_builder;
pub use cert::Certificate;
pub use client::Client;
pub use config::{CertMode, Config, DEFAULT_TIMEOUT, KeyMode, PRODUCTION_GATEWAY, SANDBOX_GATEWAY};
pub use error::{ApiError, Error, Result, ResultCode, SubCode};
pub use keys::{PrivateKey, PublicKeyRsa, SignType};
pub use money::Money;
pub use notify::{Notification, Return, TradeStatus};
pub use page_pay::{PagePay, PayTimeout, QrPayMode, TimeoutExpress};
