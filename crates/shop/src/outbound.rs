//! The one HTTP client for calls the shop makes (SMS provider, payment gateway): rustls over
//! aws-lc-rs with the webpki roots, so no system TLS library or second crypto stack is needed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    http_client_builder()?.build().context("building the HTTP client")
}

/// The client's builder, for callers that need a different policy (e.g. no redirects).
pub fn http_client_builder() -> anyhow::Result<reqwest::ClientBuilder> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30)))
}
