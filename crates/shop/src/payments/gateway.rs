//! The Alipay client the shop uses, built from the configuration: Alipay itself (production or its
//! sandbox) with the merchant's keys, or the built-in sandbox with key pairs generated once in the
//! data directory.

use std::path::{Path, PathBuf};

use anyhow::Context;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::Config;

/// Where the built-in sandbox is mounted.
pub const BUILTIN_SANDBOX_PATH: &str = "/sandbox/alipay";

/// Paths of the built-in mode's generated keys.
pub struct BuiltinKeys {
    pub app_private_key: PathBuf,
    /// The sandbox's own "Alipay" key; the shop verifies with its public half.
    pub sandbox_private_key: PathBuf,
}

impl BuiltinKeys {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("alipay");
        Self {
            app_private_key: dir.join("app_private_key.pem"),
            sandbox_private_key: dir.join("sandbox_alipay_private_key.pem"),
        }
    }

    /// Generates any key that does not exist yet (RSA-2048, PKCS#8 PEM, mode 0600).
    pub fn ensure(&self) -> anyhow::Result<()> {
        for path in [&self.app_private_key, &self.sandbox_private_key] {
            if path.exists() {
                crate::secrets::tighten(path)?;
            } else {
                generate_private_key(path)?;
                tracing::info!(path = %path.display(), "generated an RSA key pair for the built-in Alipay sandbox");
            }
        }
        Ok(())
    }
}

fn generate_private_key(path: &Path) -> anyhow::Result<()> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow::anyhow!("generating an RSA key failed"))?;
    let der = key.as_der().map_err(|_| anyhow::anyhow!("encoding an RSA key failed"))?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    crate::secrets::write_private_file(path, &pem)
}

/// The built-in sandbox for `gateway = "builtin"`: the shop's app registered with its generated
/// public key, the sandbox signing with its own generated key, state in `<data_dir>/alipay/`.
/// Returns the sandbox and the router to mount at [`BUILTIN_SANDBOX_PATH`]; notifications are
/// delivered by a background task started here.
pub async fn builtin_sandbox(config: &Config) -> anyhow::Result<Option<BuiltinSandbox>> {
    if config.alipay.gateway != "builtin" {
        return Ok(None);
    }
    if let Some(exposure) = public_exposure(config)
        && !config.alipay.builtin_on_public_address
    {
        anyhow::bail!(
            "refusing to serve the built-in Alipay sandbox: {exposure}. It is a demo gateway whose \
             cashier lets anyone mark any order paid without paying. Configure real Alipay \
             (alipay.gateway = \"production\" with your keys), keep the shop on loopback, or, for a \
             demo others may reach on purpose, set alipay.builtin_on_public_address = true"
        );
    }
    let keys = BuiltinKeys::in_data_dir(&config.data_dir);
    keys.ensure()?;
    let app_public = alipay::PrivateKey::from_file(&keys.app_private_key)?.public_key()?;
    let state_file = config.data_dir.join("alipay").join("sandbox.sqlite");
    crate::secrets::ensure_private_file(&state_file)?;
    let (sandbox, router) = alipay_sandbox::Sandbox::builder()
        .app(config.alipay.app_id.clone(), app_public)
        .alipay_key(alipay::PrivateKey::from_file(&keys.sandbox_private_key)?)
        .time_scale(config.alipay.sandbox_time_scale)
        .state(alipay_sandbox::StateLocation::File(state_file))
        // The cashier's Pay and Close buttons are the way to pay; no test API on a shop's port.
        .test_api(false)
        .build()
        .await
        .context("starting the built-in Alipay sandbox")?;
    // The delivery task runs for the life of the process.
    drop(sandbox.spawn_delivery());
    Ok(Some(BuiltinSandbox { sandbox, router }))
}

/// Why the shop looks reachable from other machines, if it does: a non-loopback listen address,
/// a reverse proxy in front (`trusted_proxies`), or a public URL that is not loopback.
pub(crate) fn public_exposure(config: &Config) -> Option<String> {
    if !config.listen.ip().is_loopback() {
        return Some(format!("it would listen on {}", config.listen));
    }
    if !config.trusted_proxies.is_empty() {
        return Some("trusted_proxies is set, so a reverse proxy forwards the internet to it".to_owned());
    }
    let public = config.public_url();
    let host = public.split_once("://").map_or(public.as_str(), |(_, rest)| rest).split('/').next().unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name).trim_start_matches('[').trim_end_matches(']');
    let loopback =
        name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| format!("its public URL is {public}"))
}

/// The built-in sandbox answers only requests made on this machine and not relayed by a proxy,
/// unless `alipay.builtin_on_public_address` says otherwise: a forgotten `gateway = "builtin"`
/// behind nginx must not become a free checkout.
pub async fn local_only(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0);
    let relayed =
        ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|name| request.headers().contains_key(*name));
    // No peer: an in-process caller.
    if peer.is_some_and(|peer| !peer.ip().to_canonical().is_loopback()) || relayed {
        return crate::http::error::detail(axum::http::StatusCode::FORBIDDEN, "内置支付宝沙箱只接受本机访问。");
    }
    next.run(request).await
}

/// The running built-in sandbox.
#[derive(Clone)]
pub struct BuiltinSandbox {
    /// For operators' tools and tests (advance time, drop deliveries, inspect).
    pub sandbox: alipay_sandbox::Sandbox,
    pub router: axum::Router,
}

/// The gateway URL for the configured `gateway` value.
pub fn gateway_url(config: &Config) -> String {
    match config.alipay.gateway.as_str() {
        "builtin" => format!("{}{BUILTIN_SANDBOX_PATH}/gateway.do", config.public_url()),
        "alipay-sandbox" => alipay::SANDBOX_GATEWAY.to_owned(),
        "production" => alipay::PRODUCTION_GATEWAY.to_owned(),
        url => url.to_owned(),
    }
}

fn required<'a>(value: &'a Option<PathBuf>, key: &str) -> anyhow::Result<&'a PathBuf> {
    value.as_ref().ok_or_else(|| anyhow::anyhow!("alipay.{key} must be set when alipay.gateway is not \"builtin\""))
}

/// Builds the client, loading (or, for the built-in sandbox, generating) the keys. Any missing or
/// unparseable key is a start-up error naming the file.
pub fn client(config: &Config, http: reqwest::Client) -> anyhow::Result<alipay::Client> {
    let alipay_config = &config.alipay;
    let (app_key, key_mode) = if alipay_config.gateway == "builtin" {
        let keys = BuiltinKeys::in_data_dir(&config.data_dir);
        keys.ensure()?;
        let app_key = alipay::PrivateKey::from_file(&keys.app_private_key)?;
        let sandbox_public = alipay::PrivateKey::from_file(&keys.sandbox_private_key)?.public_key()?;
        (app_key, alipay::KeyMode::PublicKey(sandbox_public))
    } else {
        let app_key =
            alipay::PrivateKey::from_file(required(&alipay_config.app_private_key_file, "app_private_key_file")?)?;
        let key_mode = match (&alipay_config.alipay_public_key_file, &alipay_config.app_cert_file) {
            (Some(public), _) => alipay::KeyMode::PublicKey(alipay::PublicKeyRsa::from_file(public)?),
            (None, Some(app_cert)) => alipay::KeyMode::Certificate(alipay::CertMode::from_files(
                app_cert,
                required(&alipay_config.alipay_cert_file, "alipay_cert_file")?,
                required(&alipay_config.alipay_root_cert_file, "alipay_root_cert_file")?,
            )?),
            (None, None) => anyhow::bail!("set alipay.alipay_public_key_file, or the three certificate files"),
        };
        (app_key, key_mode)
    };
    let public = config.public_url();
    let client_config = alipay::Config::new(alipay_config.app_id.clone(), app_key, key_mode)
        .with_gateway(gateway_url(config))
        .with_notify_url(format!("{public}/alipay/return/"))
        .with_return_url(format!("{public}/alipay/return/"))
        .with_timeout(std::time::Duration::from_millis(alipay_config.request_timeout_ms));
    alipay::Client::with_http_client(client_config, http).context("configuring the Alipay client")
}
