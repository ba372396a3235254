//! The client: builds and signs the public request fields around a `biz_content`.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::Result;
use crate::sign;
use crate::timestamp;

/// An Alipay OpenAPI v2 client. Cheap to clone (keys are shared).
///
/// ```
/// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
/// use alipay::{Client, Config, KeyMode, PrivateKey, PublicKeyRsa};
/// let client = Client::new(Config::new(
///     "2021000000000000",
///     PrivateKey::from_file(format!("{dir}app_private_pkcs8.pem"))?,
///     KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?),
/// ))?;
/// assert_eq!(client.config().app_id, "2021000000000000");
/// # Ok::<(), alipay::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) config: Config,
    #[cfg(feature = "client")]
    pub(crate) http: reqwest::Client,
}

/// Which optional URLs go into a request's public fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Urls<'a> {
    pub notify_url: Option<&'a str>,
    pub return_url: Option<&'a str>,
}

impl Client {
    /// Builds a client; with the `client` feature, with its own HTTP client
    /// (`https_client_builder` with the configured timeout).
    pub fn new(config: Config) -> Result<Self> {
        config.validate()?;
        #[cfg(feature = "client")]
        let http = crate::https_client_builder()?
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| crate::Error::HttpClient(e.to_string()))?;
        Ok(Client {
            config,
            #[cfg(feature = "client")]
            http,
        })
    }

    /// Builds a client around a caller-supplied `reqwest::Client` (its own timeout applies,
    /// plus the configured one per request).
    #[cfg(feature = "client")]
    pub fn with_http_client(config: Config, http: reqwest::Client) -> Result<Self> {
        config.validate()?;
        Ok(Client { config, http })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The public fields of a request to `method` (without `sign`), timestamped `at`.
    pub(crate) fn public_params(&self, method: &str, at: DateTime<Utc>, urls: &Urls<'_>) -> Vec<(String, String)> {
        let c = &self.config;
        let mut p: Vec<(String, String)> = vec![
            ("app_id".into(), c.app_id.clone()),
            ("method".into(), method.into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), timestamp::format_beijing(at)),
            ("version".into(), "1.0".into()),
        ];
        let mut push = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                p.push((k.into(), v.into()));
            }
        };
        push("notify_url", urls.notify_url);
        push("return_url", urls.return_url);
        push("app_auth_token", c.app_auth_token.as_deref());
        if let Some(cert) = c.key_mode.cert_sns() {
            push("app_cert_sn", Some(&cert.app_cert_sn));
            push("alipay_root_cert_sn", Some(&cert.alipay_root_cert_sn));
        }
        p
    }

    /// Signs a full request: the public fields plus `biz_content`, returning
    /// `(public fields + sign, biz_content)` so callers can place them (URL vs body).
    pub(crate) fn sign_request(
        &self,
        method: &str,
        biz_content: &str,
        at: DateTime<Utc>,
        urls: &Urls<'_>,
    ) -> Result<(Vec<(String, String)>, String)> {
        let mut public = self.public_params(method, at, urls);
        let mut all = public.clone();
        all.push(("biz_content".into(), biz_content.to_owned()));
        let sign = sign::sign_request(&all, &self.config.app_private_key)?;
        public.push(("sign".into(), sign));
        Ok((public, biz_content.to_owned()))
    }

    /// Signs any API request and returns every field (public fields, `biz_content`, `sign`),
    /// for callers that need a method this crate does not wrap.
    ///
    /// ```
    /// # let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    /// # use alipay::*;
    /// # let client = Client::new(Config::new("2021", PrivateKey::from_file(format!("{dir}app_private_pkcs8.pem"))?,
    /// #     KeyMode::PublicKey(PublicKeyRsa::from_file(format!("{dir}alipay_public_spki.pem"))?)))?;
    /// let fields = client.signed_fields("alipay.trade.query", r#"{"out_trade_no":"1"}"#, chrono::Utc::now())?;
    /// assert!(fields.iter().any(|(k, _)| k == "sign"));
    /// # Ok::<(), alipay::Error>(())
    /// ```
    pub fn signed_fields(&self, method: &str, biz_content: &str, at: DateTime<Utc>) -> Result<Vec<(String, String)>> {
        let (mut public, biz) = self.sign_request(method, biz_content, at, &Urls::default())?;
        public.push(("biz_content".into(), biz));
        Ok(public)
    }

    /// The gateway URL with the given fields as its query string.
    pub(crate) fn gateway_url(&self, fields: &[(String, String)]) -> String {
        format!("{}?{}", self.config.gateway, sign::encode_form(fields.iter().map(|(k, v)| (k, v))))
    }
}
