//! Client configuration: app id, keys (public-key or certificate mode), gateway, URLs, timeout.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cert::{self, Certificate};
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKeyRsa, SignType};

/// Production gateway.
pub const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// Sandbox gateway (the old `openapi.alipaydev.com` is retired).
pub const SANDBOX_GATEWAY: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";
/// Default HTTP timeout for server calls.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How Alipay's signatures are checked and what extra request fields are sent.
///
/// ```
/// # let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/alipay_public_spki.pem")).unwrap();
/// let mode = alipay::KeyMode::PublicKey(alipay::PublicKeyRsa::from_text(&pem)?);
/// assert!(mode.cert_sns().is_none());
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum KeyMode {
    /// "Public key" mode: Alipay's public key as pasted from the console.
    PublicKey(PublicKeyRsa),
    /// Certificate mode: the key comes from Alipay's certificate; requests carry the SNs.
    Certificate(CertMode),
}

impl KeyMode {
    /// The key that verifies what Alipay signs.
    pub fn alipay_public_key(&self) -> &PublicKeyRsa {
        match self {
            KeyMode::PublicKey(k) => k,
            KeyMode::Certificate(c) => &c.alipay_public_key,
        }
    }

    /// The certificate serial numbers, in certificate mode.
    pub fn cert_sns(&self) -> Option<&CertMode> {
        match self {
            KeyMode::PublicKey(_) => None,
            KeyMode::Certificate(c) => Some(c),
        }
    }
}

/// Certificate-mode material: the three SNs and Alipay's public key from its certificate.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/alipay/");
/// let m = alipay::CertMode::from_files(
///     format!("{dir}appCertPublicKey_2021001161683774.crt"),
///     format!("{dir}alipayCertPublicKey_RSA2.crt"),
///     format!("{dir}alipayRootCert.crt"),
/// )?;
/// assert_eq!(m.app_cert_sn, "866efef280dec9137a87d047ac446315");
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CertMode {
    /// `app_cert_sn`, sent with every request.
    pub app_cert_sn: String,
    /// `alipay_cert_sn` of the configured Alipay certificate (responses name theirs).
    pub alipay_cert_sn: String,
    /// `alipay_root_cert_sn`, sent with every request.
    pub alipay_root_cert_sn: String,
    /// Alipay's public key, taken from its certificate.
    pub alipay_public_key: PublicKeyRsa,
}

impl CertMode {
    /// Reads the app certificate, Alipay's certificate and the root bundle.
    pub fn from_files(
        app_cert: impl AsRef<Path>,
        alipay_cert: impl AsRef<Path>,
        root_bundle: impl AsRef<Path>,
    ) -> Result<Self> {
        let app = Certificate::from_file(app_cert)?;
        let alipay = Certificate::from_file(alipay_cert)?;
        let root = cert::root_cert_sn_from_file(root_bundle)?;
        Ok(CertMode {
            app_cert_sn: app.sn(),
            alipay_cert_sn: alipay.sn(),
            alipay_root_cert_sn: root,
            alipay_public_key: alipay.public_key()?,
        })
    }

    /// Same as [`CertMode::from_files`], from PEM texts.
    pub fn from_pem(app_cert: &str, alipay_cert: &str, root_bundle: &str) -> Result<Self> {
        let app = Certificate::from_pem(app_cert)?;
        let alipay = Certificate::from_pem(alipay_cert)?;
        Ok(CertMode {
            app_cert_sn: app.sn(),
            alipay_cert_sn: alipay.sn(),
            alipay_root_cert_sn: cert::root_cert_sn(root_bundle)?,
            alipay_public_key: alipay.public_key()?,
        })
    }
}

/// Everything a [`crate::Client`] needs. Build it with [`Config::new`] and the `with_*` methods.
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
/// use alipay::{Config, KeyMode, PrivateKey, PublicKeyRsa};
/// let config = Config::new(
///     "2021000000000000",
///     PrivateKey::from_file(format!("{dir}app_private_pkcs1.pem"))?,
///     KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?),
/// )
/// .with_gateway(alipay::SANDBOX_GATEWAY)
/// .with_notify_url("https://shop.example/alipay/notify")
/// .with_timeout(std::time::Duration::from_secs(5));
/// assert_eq!(config.gateway, alipay::SANDBOX_GATEWAY);
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// The merchant application's id (`app_id`).
    pub app_id: String,
    /// The app private key (shared, not cloned).
    pub app_private_key: Arc<PrivateKey>,
    /// Public-key or certificate mode.
    pub key_mode: KeyMode,
    /// Gateway URL (defaults to [`PRODUCTION_GATEWAY`]).
    pub gateway: String,
    /// Default `notify_url` for payments (never sent when empty).
    pub notify_url: Option<String>,
    /// Default `return_url` for page pay (never sent when empty).
    pub return_url: Option<String>,
    /// `app_auth_token` for service providers acting for a merchant.
    pub app_auth_token: Option<String>,
    /// HTTP timeout of server calls.
    pub timeout: Duration,
    /// The `sign_type` Alipay uses towards us (`RSA2`; `RSA` only for legacy merchants).
    pub alipay_sign_type: SignType,
}

impl Config {
    /// A configuration for the production gateway, 15 s timeout, RSA2.
    pub fn new(app_id: impl Into<String>, app_private_key: PrivateKey, key_mode: KeyMode) -> Self {
        Config {
            app_id: app_id.into(),
            app_private_key: Arc::new(app_private_key),
            key_mode,
            gateway: PRODUCTION_GATEWAY.to_owned(),
            notify_url: None,
            return_url: None,
            app_auth_token: None,
            timeout: DEFAULT_TIMEOUT,
            alipay_sign_type: SignType::Rsa2,
        }
    }

    /// Sets the gateway URL ([`PRODUCTION_GATEWAY`], [`SANDBOX_GATEWAY`] or any URL).
    pub fn with_gateway(mut self, url: impl Into<String>) -> Self {
        self.gateway = url.into();
        self
    }

    /// Sets the default `notify_url`.
    pub fn with_notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = non_empty(url.into());
        self
    }

    /// Sets the default `return_url`.
    pub fn with_return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = non_empty(url.into());
        self
    }

    /// Sets `app_auth_token`.
    pub fn with_app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.app_auth_token = non_empty(token.into());
        self
    }

    /// Sets the HTTP timeout of server calls.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the sign type expected on what Alipay sends (legacy merchants: [`SignType::Rsa`]).
    pub fn with_alipay_sign_type(mut self, sign_type: SignType) -> Self {
        self.alipay_sign_type = sign_type;
        self
    }

    /// Checks the configuration (non-empty app id, a gateway URL that is http(s)).
    pub fn validate(&self) -> Result<()> {
        if self.app_id.trim().is_empty() {
            return Err(Error::InvalidParameter { field: "app_id", reason: "is empty".into() });
        }
        if !(self.gateway.starts_with("https://") || self.gateway.starts_with("http://")) || self.gateway.contains('?')
        {
            return Err(Error::InvalidParameter {
                field: "gateway",
                reason: format!(
                    "{:?} is not an http(s) URL without a query (drop any \"?charset=utf-8\": every request carries charset itself)",
                    self.gateway
                ),
            });
        }
        Ok(())
    }
}

pub(crate) fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}
