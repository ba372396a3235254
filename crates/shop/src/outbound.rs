//! The one HTTP client for calls the shop makes (SMS provider, payment gateway): the `alipay`
//! crate's (rustls over aws-lc-rs with the webpki roots), so no system TLS library or second
//! crypto stack is needed.

use std::time::Duration;

use anyhow::Context;

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    http_client_builder()?.build().context("building the HTTP client")
}

/// The client's builder, for callers that need a different policy (e.g. no redirects).
pub fn http_client_builder() -> anyhow::Result<reqwest::ClientBuilder> {
    Ok(alipay::https_client_builder()
        .context("TLS settings")?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30)))
}
