//! `alipay-sandbox`: an offline Alipay gateway on a local port.

use std::net::SocketAddr;
use std::path::PathBuf;

use alipay_sandbox::{NotifyOn, Sandbox, StateLocation};
use anyhow::{Context, bail};
use clap::Parser;

/// An offline Alipay gateway that speaks the real protocol. Point any Alipay SDK's gateway at
/// http://<listen>/gateway.do.
#[derive(Debug, Parser)]
#[command(name = "alipay-sandbox", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "ALIPAY_SANDBOX_LISTEN", default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// SQLite state file (created if missing), or `:memory:`.
    #[arg(long, env = "ALIPAY_SANDBOX_STATE", default_value = "alipay-sandbox.sqlite")]
    state: String,
    /// A merchant app: `APP_ID=PUBLIC_KEY`, the key being a file (PEM or one-line base64) or inline base64. Repeatable.
    #[arg(long = "app", required = true, value_name = "APP_ID=PUBLIC_KEY")]
    apps: Vec<String>,
    /// The sandbox's own "Alipay" private key (PEM or one-line base64 file); it signs answers and notifications.
    /// Generated (RSA-2048, PKCS#8 PEM, mode 0600) if the file does not exist.
    #[arg(long, env = "ALIPAY_SANDBOX_ALIPAY_PRIVATE_KEY")]
    alipay_private_key: PathBuf,
    /// Multiplies notification re-delivery intervals (0.001: 4 minutes become 240 ms).
    #[arg(long, env = "ALIPAY_SANDBOX_TIME_SCALE", default_value_t = 1.0)]
    time_scale: f64,
    /// Events that notify: comma-separated `payment`, `refund`, `close` (or `none`).
    #[arg(long, env = "ALIPAY_SANDBOX_NOTIFY_ON", default_value = "payment,refund")]
    notify_on: String,
    /// How far a request's timestamp may be from the real clock, in seconds.
    #[arg(long, default_value_t = 1800)]
    timestamp_tolerance_secs: u64,
    /// `seller_id` put in notifications and returns.
    #[arg(long, default_value = alipay_sandbox::DEFAULT_SELLER_ID)]
    seller_id: String,
    /// Do not serve the test API (`test/pay`, `test/close`, `test/advance`, `test/drop-deliveries`).
    #[arg(long)]
    no_test_api: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let (alipay_key, generated) = alipay_sandbox::keys::load_or_generate_private_key(&args.alipay_private_key)
        .with_context(|| format!("the Alipay private key {}", args.alipay_private_key.display()))?;
    if generated {
        tracing::info!(path = %args.alipay_private_key.display(), "generated a new sandbox Alipay key pair");
    }
    let state = if args.state == ":memory:" {
        StateLocation::InMemory
    } else {
        StateLocation::File(PathBuf::from(&args.state))
    };
    let mut builder = Sandbox::builder()
        .alipay_key(alipay_key)
        .time_scale(args.time_scale)
        .state(state)
        .notify_on(args.notify_on.parse::<NotifyOn>()?)
        .timestamp_tolerance(std::time::Duration::from_secs(args.timestamp_tolerance_secs))
        .seller_id(args.seller_id)
        .test_api(!args.no_test_api);
    for spec in &args.apps {
        let Some((app_id, key)) = spec.split_once('=') else {
            bail!("--app {spec:?}: expected APP_ID=PUBLIC_KEY");
        };
        let path = std::path::Path::new(key);
        let public = if path.exists() {
            alipay::PublicKeyRsa::from_file(path)
        } else {
            alipay::PublicKeyRsa::from_text_named(key, &format!("--app {app_id}"))
        }
        .with_context(|| format!("--app {app_id}: public key"))?;
        builder = builder.app(app_id, public);
    }
    let (sandbox, router) = builder.build().await.context("starting the sandbox")?;
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr().context("local address")?;
    let public = alipay_sandbox::keys::spki_base64(sandbox.alipay_public_key()).map_err(anyhow::Error::msg)?;
    println!("alipay-sandbox listening on http://{addr}");
    println!("gateway: http://{addr}/gateway.do");
    println!("inspection: http://{addr}/inspect");
    println!("alipay public key: {public}");
    let worker = sandbox.spawn_delivery();
    let served = alipay_sandbox::serve(listener, router);
    tokio::select! {
        r = served => r.context("serving")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; pending deliveries resume on the next start"),
    }
    worker.abort();
    Ok(())
}
