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
//!
//! # What is public, and why
//!
//! The root re-exports what a shop needs: [`Client`] and its [`Config`], keys ([`PrivateKey`],
//! [`PublicKeyRsa`], [`Certificate`]), [`Money`], [`PagePay`], the typed [`Notification`] and
//! [`Return`], the call types ([`TradeRef`], [`Refund`], the `*Response` structs) and [`Error`].
//! The modules are public for whoever implements or tests the other side of the protocol (the
//! `alipay-sandbox` crate does):
//!
//! | module | for |
//! |---|---|
//! | [`sign`] | canonical strings, RSA2 signing and verification of requests and notifications, form encoding |
//! | [`notify`] | verifying notifications and returns given as a body, a query or decoded fields |
//! | [`response`] | finding the signed `*_response` span in a gateway answer |
//! | [`api`] | the server calls' requests and answers, [`api::parse_response`] for methods not wrapped |
//! | [`page_pay`] | page-pay and wap-pay orders and their timeouts |
//! | [`timestamp`] | Alipay's Beijing-time timestamps |
//! | [`cert`] | certificate-mode serial numbers |
//! | [`keys`] | key formats and signature types |
//!
//! Everything else (the JSON scanner's internals, HTML escaping of the pay form, the HTTP calls'
//! plumbing) is private to the crate.
//!
//! # Features
//!
//! `client` (on by default) adds the server calls over HTTPS (`https_client_builder`, and
//! `Client::trade_query` and the others). Without it (`default-features = false`) the crate signs
//! and verifies, builds page-pay URLs and forms and checks notifications, with no HTTP or TLS
//! stack. `examples/` has a page-pay URL, a notification handler in axum, and query and refund.

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
mod trade_status;

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
