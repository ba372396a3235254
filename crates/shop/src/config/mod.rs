//! Typed configuration: defaults < `mxshop.toml` < `MXSHOP_*` variables < command-line flags.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use self::values::Secret;
use self::values::text;

mod values;

/// The file read from the working directory unless `MXSHOP_CONFIG` names another.
pub const DEFAULT_CONFIG_FILE: &str = "mxshop.toml";

/// Everything the shop can be told at start-up. Every field has an offline default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server binds to.
    pub listen: SocketAddr,
    /// Directory for the SQLite file, uploaded and generated media, and generated secrets.
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…`, `postgres://…`, `mysql://…`). Default: `<data_dir>/mxshop.db`.
    #[serde(deserialize_with = "text::optional")]
    pub database_url: Option<String>,
    /// Directory holding a built VueShop front end (`index.html` and `static/`).
    pub frontend_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Most connections the database pool opens.
    pub db_max_connections: u32,
    /// Log format: `pretty` or `json`.
    pub log_format: LogFormat,
    /// Key for JWT signatures and SMS-code hashes. Unset: generated once and kept in
    /// `<data_dir>/secret.key`. Instances sharing a database must share it.
    pub secret_key: Option<Secret>,
    /// Lifetime of a login token, in seconds.
    pub jwt_lifetime_secs: u64,
    /// Largest file accepted by `/messages/`, in bytes.
    pub upload_limit_bytes: usize,
    /// File extensions `/messages/` accepts (lower case, without the dot).
    pub upload_extensions: Vec<String>,
    /// Files one user may upload per day (24 hours).
    pub upload_daily_count: u64,
    /// Bytes one user may upload per day (24 hours).
    pub upload_daily_bytes: u64,
    /// Unpaid orders one user may hold at once (each holds stock until it expires).
    pub max_unpaid_orders_per_user: u64,
    /// Units of goods one user's unpaid orders may hold together.
    pub max_unpaid_units_per_user: u64,
    /// Proxies whose `X-Forwarded-For` is believed; every other peer is its own client address.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long anonymous catalogue reads are cached per instance, in milliseconds (0: off).
    pub catalog_cache_ms: u64,
    /// Most bytes the catalogue cache holds (responses and their keys).
    pub catalog_cache_bytes: usize,
    /// Goods embedded in each `/indexgoods/` section (the original embedded them all, so the
    /// page grew with the catalogue; the Vue home page shows a handful per tab).
    pub index_goods_per_section: u64,
    /// How long an authenticated user is trusted without reading it again, in milliseconds (0:
    /// every request reads it): how long a password change, logout or deactivation takes to
    /// reach the other instances.
    pub auth_cache_ms: u64,
    /// Seconds a client has to send a request's headers (also how long an idle kept-alive
    /// connection stays open).
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body (408 beyond).
    pub body_read_timeout_secs: u64,
    /// Most TCP connections served at once.
    pub max_connections: usize,
    /// Most TCP connections one client (IPv4 address, IPv6 /64) holds at once; trusted proxies
    /// are exempt.
    pub max_connections_per_client: usize,
    /// On SIGTERM or Ctrl-C, how long in-flight requests may take to finish before the process
    /// exits anyway (each request is also bounded by its own 30 s timeout).
    pub shutdown_grace_secs: u64,
    /// On SIGTERM or Ctrl-C, how long the server keeps accepting requests (answering `/ready/`
    /// 503) before it drains: time for a load balancer to take it out of rotation.
    pub shutdown_delay_secs: u64,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret>,
    pub sms: SmsConfig,
    pub alipay: AlipayConfig,
}

/// Alipay: the gateway, this shop's app and keys, and the payment window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AlipayConfig {
    /// `builtin` (the sandbox inside mxshop, the default), `alipay-sandbox` (Alipay's own
    /// sandbox), `production`, or a gateway URL.
    #[serde(deserialize_with = "text::string")]
    pub gateway: String,
    /// The app id. With `builtin`, any id works (the shop registers itself).
    #[serde(deserialize_with = "text::string")]
    pub app_id: String,
    /// The app's private key (PEM PKCS#1/PKCS#8 or one-line base64). With `builtin`: generated
    /// once under `<data_dir>/alipay/`.
    pub app_private_key_file: Option<PathBuf>,
    /// Alipay's public key (public-key mode).
    pub alipay_public_key_file: Option<PathBuf>,
    /// Certificate mode: the app certificate, Alipay's certificate and Alipay's root bundle.
    pub app_cert_file: Option<PathBuf>,
    pub alipay_cert_file: Option<PathBuf>,
    pub alipay_root_cert_file: Option<PathBuf>,
    /// The merchant's Alipay user id; when set, notifications for another seller are refused.
    #[serde(deserialize_with = "text::optional")]
    pub seller_id: Option<String>,
    /// Public base URL for `notify_url` and `return_url`. Default: `http://<listen>`.
    #[serde(deserialize_with = "text::optional")]
    pub public_url: Option<String>,
    /// How long an order may wait for payment before it is closed and its stock released
    /// (60 s to 15 days; anything else is refused at startup).
    pub payment_window_secs: u64,
    /// Timeout of one call to the gateway; after it the outcome is unknown and checked again.
    pub request_timeout_ms: u64,
    /// How often the expiry and reconciliation job runs.
    pub job_interval_secs: u64,
    /// Serve the built-in sandbox (`gateway = "builtin"`) on an address other than loopback. Its
    /// cashier lets anyone mark any order paid: only for a demo reachable by others.
    pub builtin_on_public_address: bool,
    /// Days a notification that failed verification (junk anyone can post) is kept for
    /// inspection; verified payment events are the audit trail and are kept.
    pub refused_notification_retention_days: u64,
    /// The built-in sandbox's notification retry intervals are multiplied by this (tests and demos
    /// use small values so Alipay's 4-minute first retry takes a moment).
    pub sandbox_time_scale: f64,
}

impl Default for AlipayConfig {
    fn default() -> Self {
        Self {
            gateway: "builtin".into(),
            app_id: "2021000000000001".into(),
            app_private_key_file: None,
            alipay_public_key_file: None,
            app_cert_file: None,
            alipay_cert_file: None,
            alipay_root_cert_file: None,
            seller_id: None,
            public_url: None,
            payment_window_secs: 1800,
            request_timeout_ms: 15_000,
            job_interval_secs: 30,
            refused_notification_retention_days: 30,
            builtin_on_public_address: false,
            sandbox_time_scale: 1.0,
        }
    }
}

/// Where SMS codes go.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SmsConfig {
    /// `log` (the code is written to the server log) or `yunpian`.
    pub provider: SmsProvider,
    /// Yunpian API key (required for `yunpian`).
    pub yunpian_api_key: Option<Secret>,
    /// Yunpian's single-send endpoint.
    #[serde(deserialize_with = "text::string")]
    pub yunpian_url: String,
    /// Message text; `{code}` is replaced. Must match a template approved by Yunpian.
    #[serde(deserialize_with = "text::string")]
    pub text_template: String,
    /// Codes the whole shop sends per day (each costs money): beyond it, 429 and an error log.
    pub daily_limit: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Log,
    Yunpian,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: SmsProvider::Log,
            yunpian_api_key: None,
            yunpian_url: "https://sms.yunpian.com/v2/sms/single_send.json".into(),
            text_template: "【mxshop】您的验证码是{code}。如非本人操作，请忽略本短信".into(),
            daily_limit: 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            frontend_dir: PathBuf::from("./frontend"),
            body_limit_bytes: 10 * 1024 * 1024,
            db_max_connections: 16,
            log_format: LogFormat::Pretty,
            secret_key: None,
            jwt_lifetime_secs: 3600,
            upload_limit_bytes: 5 * 1024 * 1024,
            upload_extensions: [
                "txt", "md", "csv", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "png", "jpg", "jpeg", "gif",
                "webp", "zip",
            ]
            .map(String::from)
            .to_vec(),
            upload_daily_count: 20,
            upload_daily_bytes: 50 * 1024 * 1024,
            max_unpaid_orders_per_user: 20,
            max_unpaid_units_per_user: 200,
            trusted_proxies: Vec::new(),
            catalog_cache_ms: 1000,
            catalog_cache_bytes: 16 * 1024 * 1024,
            auth_cache_ms: 1000,
            index_goods_per_section: 20,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 20,
            max_connections: 8192,
            max_connections_per_client: 256,
            shutdown_grace_secs: 35,
            shutdown_delay_secs: 0,
            metrics_token: None,
            sms: SmsConfig::default(),
            alipay: AlipayConfig::default(),
        }
    }
}

/// Values given on the command line; `None` leaves the layered value alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontend_dir: Option<PathBuf>,
}

impl Config {
    /// Layers the defaults, the config file, the environment and `overrides`.
    ///
    /// The file is `MXSHOP_CONFIG` when set (it must then exist), else `./mxshop.toml` if present.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let explicit_file = std::env::var_os("MXSHOP_CONFIG").map(PathBuf::from);
        let file = explicit_file.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        if let Some(path) = &explicit_file {
            anyhow::ensure!(path.is_file(), "MXSHOP_CONFIG names {}, which is not a file", path.display());
        }
        Self::figment(&file, overrides)
            .extract()
            .with_context(|| format!("invalid configuration (file {}, MXSHOP_* variables, flags)", file.display()))
    }

    fn figment(file: &Path, overrides: &Overrides) -> Figment {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            // MXSHOP_TEST_* belong to the test suite and MXSHOP_CONFIG names the file itself.
            // `MXSHOP_SMS__PROVIDER` sets `sms.provider`.
            .merge(
                Env::prefixed("MXSHOP_")
                    .filter(|key| {
                        let key = key.as_str();
                        !key.starts_with("test_") && key != "config"
                    })
                    .split("__"),
            )
            .merge(Serialized::defaults(overrides))
    }

    /// The database URL in force: the configured one or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => format!("sqlite://{}?mode=rwc", self.data_dir.join("mxshop.db").display()),
        }
    }

    /// The `Host` values that name this shop: the listen address and the public URL's host.
    pub fn own_hosts(&self) -> Vec<String> {
        let public = self.public_url();
        let public_host = public.split_once("://").map_or(public.as_str(), |(_, rest)| rest);
        let public_host = public_host.split('/').next().unwrap_or_default().to_ascii_lowercase();
        let mut hosts = vec![self.listen.to_string(), public_host];
        hosts.dedup();
        hosts
    }

    /// The shop's public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.alipay.public_url {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.listen),
        }
    }

    /// Where uploaded and generated images live; served under `/media/`.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's own error type
    fn layers_file_env_and_flags_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "shop.toml",
                "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/a\"\nfrontend_dir = \"/srv/fe\"",
            )?;
            jail.set_env("MXSHOP_DATA_DIR", "/srv/b");
            jail.set_env("MXSHOP_TEST_POSTGRES_URL", "postgres://ignored");
            let overrides = Overrides { frontend_dir: Some("/srv/flag".into()), ..Overrides::default() };
            let config: Config = Config::figment(Path::new("shop.toml"), &overrides).extract()?;
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
            assert_eq!(config.data_dir, PathBuf::from("/srv/b"));
            assert_eq!(config.frontend_dir, PathBuf::from("/srv/flag"));
            assert_eq!(config.database_url(), "sqlite:///srv/b/mxshop.db?mode=rwc");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's own error type
    fn digit_only_values_from_the_environment_are_text() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("MXSHOP_ALIPAY__APP_ID", "2021000117001234");
            jail.set_env("MXSHOP_ALIPAY__SELLER_ID", "2088102177846880");
            jail.set_env("MXSHOP_SECRET_KEY", "12345678901234567890123456789012345678");
            jail.set_env("MXSHOP_SMS__YUNPIAN_API_KEY", "1234567890");
            jail.set_env("MXSHOP_ALIPAY__PAYMENT_WINDOW_SECS", "900");
            let config: Config = Config::figment(Path::new("absent.toml"), &Overrides::default()).extract()?;
            assert_eq!(config.alipay.app_id, "2021000117001234");
            assert_eq!(config.alipay.seller_id.as_deref(), Some("2088102177846880"));
            assert_eq!(config.secret_key.as_ref().map(Secret::expose), Some("12345678901234567890123456789012345678"));
            assert_eq!(config.sms.yunpian_api_key.as_ref().map(Secret::expose), Some("1234567890"));
            assert_eq!(config.alipay.payment_window_secs, 900, "numbers stay numbers");
            Ok(())
        });
    }

    #[test]
    fn the_sample_file_documents_the_defaults() {
        let sample = include_str!("../../../../mxshop.example.toml");
        let config: Config = Figment::from(Toml::string(sample)).extract().expect("the sample parses");
        assert_eq!(config, Config::default());
    }

    #[test]
    fn defaults_are_offline() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(config.database_url(), "sqlite://./data/mxshop.db?mode=rwc");
        assert_eq!(config.media_dir(), PathBuf::from("./data/media"));
    }
}
