//! `mxshop check-config`: the effective configuration (secrets as `***`) and the checks a start
//! would make — keys, database, Alipay gateway, SMS provider, public URL — each on one line, so an
//! operator learns every problem at once instead of one per failed start. It only reads: nothing
//! it checks (a key file, the SQLite file, the migrations table) is created or changed, so running
//! it as another user leaves nothing behind.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::Config;
use crate::db;
use crate::payments::{self, Payments};
use crate::{accounts, outbound};

/// The result of one check.
enum Line {
    Ok(String),
    Problem(String),
}

/// Prints the configuration and the checks; `Err` when any check found a problem.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let mut shown = serde_json::to_value(config)?;
    if let Some(url) = shown.get_mut("database_url") {
        *url = serde_json::Value::String(db::redact(&config.database_url()));
    }
    println!("effective configuration (defaults < file < MXSHOP_* variables < flags; secrets as ***):");
    println!("{}", serde_json::to_string_pretty(&shown)?);
    println!();
    let lines = checks(config).await;
    let problems = lines.iter().filter(|line| matches!(line, Line::Problem(_))).count();
    for line in &lines {
        match line {
            Line::Ok(text) => println!("ok       {text}"),
            Line::Problem(text) => println!("PROBLEM  {text}"),
        }
    }
    anyhow::ensure!(problems == 0, "{problems} problem(s) in the configuration");
    println!("the configuration is usable");
    Ok(())
}

async fn checks(config: &Config) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut check = |result: anyhow::Result<String>, what: &str| {
        lines.push(match result {
            Ok(text) => Line::Ok(format!("{what}: {text}")),
            Err(error) => Line::Problem(format!("{what}: {error:#}")),
        });
    };
    check(crate::secrets::check_secret(config), "secret key");
    check(database(config).await, "database");
    let http = outbound::http_client();
    check(
        http.as_ref()
            .map_err(|error| anyhow::anyhow!("{error:#}"))
            .and_then(|http| accounts::sms::from_config(&config.sms, http.clone()))
            .map(|_| format!("provider {}", format!("{:?}", config.sms.provider).to_lowercase())),
        "SMS",
    );
    check(gateway(config, http.ok()), "alipay");
    check(public_url(config), "public URL");
    lines
}

async fn database(config: &Config) -> anyhow::Result<String> {
    let url = config.database_url();
    let shown = db::redact(&url);
    // SQLite: read-only, and a file that does not exist yet is made by the first start.
    let url = match db::sqlite_file(&url) {
        Some(file) if !file.exists() => return Ok(format!("{shown} will be created at the first start")),
        Some(_) => url.replace("mode=rwc", "mode=ro"),
        None => url,
    };
    // One attempt first: a pool retries a refused connection until its timeout (10 s), while an
    // operator should hear at once that nothing answers there.
    tokio::time::timeout(Duration::from_secs(15), one_connection(&url))
        .await
        .map_err(|_| anyhow::anyhow!("{shown} did not answer within 15 s"))?
        .map_err(|error| anyhow::anyhow!("{shown} cannot be reached: {error}"))?;
    let mut options = sea_orm::ConnectOptions::new(url.clone());
    options.max_connections(1).connect_timeout(Duration::from_secs(10)).sqlx_logging(false);
    let connect = sea_orm::Database::connect(options);
    let db = tokio::time::timeout(Duration::from_secs(15), connect)
        .await
        .map_err(|_| anyhow::anyhow!("{shown} did not answer within 15 s"))?
        // Some driver errors quote the whole URL, password included.
        .map_err(|error| anyhow::anyhow!("{}", error.to_string().replace(&url, &shown)))?;
    db.ping().await?;
    let missing = db::missing_migrations(&db).await?;
    Ok(format!(
        "{shown} answers; {}",
        if missing.is_empty() {
            "migrations current".to_owned()
        } else {
            format!("{} migration(s) to apply at the next start", missing.len())
        }
    ))
}

/// Opens and closes one connection to a PostgreSQL or MySQL server, without a pool's retries.
async fn one_connection(url: &str) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection as _;
    if url.starts_with("postgres") {
        sea_orm::sqlx::PgConnection::connect(url).await?.close().await
    } else if url.starts_with("mysql") {
        sea_orm::sqlx::MySqlConnection::connect(url).await?.close().await
    } else {
        Ok(())
    }
}

fn gateway(config: &Config, http: Option<reqwest::Client>) -> anyhow::Result<String> {
    let alipay = &config.alipay;
    if alipay.gateway == "builtin"
        && let Some(exposure) = payments::gateway::public_exposure(config)
        && !alipay.builtin_on_public_address
    {
        anyhow::bail!(
            "the built-in sandbox would be refused: {exposure} (set alipay.builtin_on_public_address = true \
             for a public demo, or configure real Alipay)"
        );
    }
    let builtin_keys = payments::gateway::BuiltinKeys::in_data_dir(&config.data_dir);
    if alipay.gateway == "builtin" && !builtin_keys.app_private_key.exists() {
        return Ok(format!(
            "gateway builtin; its keys will be generated under {} at the first start",
            config.data_dir.join("alipay").display()
        ));
    }
    let client = payments::gateway::client(config, http.ok_or_else(|| anyhow::anyhow!("no HTTP client"))?)?;
    Payments::new(config, std::sync::Arc::new(client), std::sync::Arc::new(crate::clock::SystemClock))?;
    if alipay.gateway != "builtin" && is_loopback_url(&config.public_url()) {
        anyhow::bail!(
            "gateway {} cannot deliver notifications to {}/alipay/return/: set alipay.public_url to the \
             shop's address on the internet",
            alipay.gateway,
            config.public_url()
        );
    }
    Ok(format!(
        "gateway {}, app id {}, keys loaded, notify_url {}/alipay/return/",
        alipay.gateway,
        alipay.app_id,
        config.public_url()
    ))
}

/// Where it can tell: a public URL naming an IP address must reach the listen address, directly
/// or through a trusted proxy.
fn public_url(config: &Config) -> anyhow::Result<String> {
    let public = config.public_url();
    let Some((scheme, rest)) = public.split_once("://") else {
        anyhow::bail!("{public} is not an absolute http(s) URL");
    };
    anyhow::ensure!(matches!(scheme, "http" | "https"), "{public}: the scheme must be http or https");
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host.trim_start_matches('[').trim_end_matches(']'), port.parse::<u16>().ok())
        }
        _ => (authority, None),
    };
    let port = port.unwrap_or(if scheme == "https" { 443 } else { 80 });
    let behind_proxy = !config.trusted_proxies.is_empty();
    if let Ok(ip) = host.parse::<IpAddr>()
        && !behind_proxy
    {
        let listen = config.listen;
        let same_host =
            listen.ip().is_unspecified() || listen.ip() == ip || (listen.ip().is_loopback() && ip.is_loopback());
        anyhow::ensure!(
            same_host && listen.port() == port,
            "{public} does not reach the listen address {listen} and no trusted proxy is configured"
        );
    }
    Ok(format!("{public}{}", if behind_proxy { " (through a trusted proxy)" } else { "" }))
}

fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host =
        authority.rsplit_once(':').map_or(authority, |(host, _)| host).trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
