//! `mxshop serve`: bind, migrate, seed an empty database, start the jobs, serve until a signal,
//! drain, then write what is held in memory.

use anyhow::Context;

use super::open_database;
use crate::app::Server;
use crate::config::Config;
use crate::state::AppState;
use crate::{db, demo, payments};

/// Raises the open-file limit to what the system allows (often 1024 by default, while every
/// connection takes a descriptor), and keeps `max_connections` within it, with room for the
/// database, logs and files served.
fn fit_connections_to_file_limit(config: &mut Config) {
    const RESERVED: u64 = 256;
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open-file limit");
            return;
        }
    };
    let fits = usize::try_from(limit.saturating_sub(RESERVED).max(1)).unwrap_or(usize::MAX);
    if config.max_connections > fits {
        tracing::warn!(
            open_file_limit = limit,
            configured = config.max_connections,
            used = fits,
            "max_connections lowered to fit the open-file limit (raise it with ulimit -n or LimitNOFILE=)"
        );
        config.max_connections = fits;
    }
}

pub(super) async fn serve(mut config: Config) -> anyhow::Result<()> {
    fit_connections_to_file_limit(&mut config);
    // Bind first: with port 0 the real address is known only now, and notify/return URLs and
    // absolute links must name it.
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (is another mxshop running?)", config.listen))?;
    config.listen = listener.local_addr().context("reading the bound address")?;
    let db = open_database(&config).await?;
    db::migrate(&db).await?;
    if demo::seed_if_empty(&db, &config.media_dir()).await? {
        tracing::info!(media = %config.media_dir().display(), "seeded the demo catalogue into an empty database");
    }
    let database = db::redact(&config.database_url());
    let frontend = config.frontend_dir.join("index.html").is_file();
    // The metrics recorder first: the jobs spawned below record their first run at once, and a
    // run finished before the router installed the recorder was lost from `/metrics`.
    crate::telemetry::handle();
    let state = AppState::new(db, config.clone()).await?;
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs = payments::jobs::spawn(
        state.clone(),
        std::time::Duration::from_secs(config.alipay.job_interval_secs.max(1)),
        jobs_stopped,
    );
    let (views, views_db) = (state.goods_views.clone(), state.db.clone());
    // Stopped after the drain: requests served meanwhile still count views, and their copies of
    // goods details still expire.
    let (stop_views, views_stopped) = tokio::sync::watch::channel(false);
    let views_writer = crate::catalog::views::spawn_writer(views_db.clone(), views.clone(), views_stopped);
    let readiness = state.readiness.clone();
    let server = Server::with_listener(listener, state);
    let base = format!("http://{}", config.listen);
    say(format_args!("mxshop is serving on {base}/"));
    say(format_args!(
        "  shop (Vue front end): {base}/index/{}",
        if frontend { "" } else { "  (not installed: see README)" }
    ));
    say(format_args!("  API root:             {base}/api/"));
    say(format_args!("  API docs:             {base}/docs/"));
    say(format_args!("  goods:                {base}/goods/"));
    if config.alipay.gateway == "builtin" {
        say(format_args!("  Alipay sandbox:       {base}{}/", payments::gateway::BUILTIN_SANDBOX_PATH));
    }
    say(format_args!("  database:             {database}"));
    say(format_args!("  data directory:       {}", config.data_dir.display()));
    let signalled = std::sync::Arc::new(std::sync::OnceLock::new());
    let delay = std::time::Duration::from_secs(config.shutdown_delay_secs);
    let on_signal = {
        let signalled = signalled.clone();
        async move {
            shutdown_signal().await;
            let _ = signalled.set(std::time::Instant::now());
            // Not ready from now on; the jobs finish the order they are on.
            readiness.start_draining();
            let _ = stop_jobs.send(true);
            if !delay.is_zero() {
                tracing::info!(?delay, "answering not ready, still accepting while the load balancer notices");
                tokio::time::sleep(delay).await;
            }
        }
    };
    server.run(on_signal).await?;
    // One grace for the drain and the jobs together, counted from the end of the delay.
    let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
    let spent = signalled.get().map_or(std::time::Duration::ZERO, std::time::Instant::elapsed);
    let left = grace.saturating_sub(spent.saturating_sub(delay)).max(std::time::Duration::from_secs(1));
    if tokio::time::timeout(left, jobs).await.is_err() {
        tracing::warn!(
            "the payment jobs did not finish within the shutdown grace; their orders are retried at the next start"
        );
    }
    // Drained: no request counts a view any more.
    let _ = stop_views.send(true);
    let last_views = async {
        let _ = views_writer.await;
        views.write(&views_db).await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), last_views).await {
        Ok(Ok(goods)) => tracing::info!(goods, "goods views written"),
        Ok(Err(error)) => tracing::error!(%error, "writing goods views at shutdown; the last period's are lost"),
        Err(_) => tracing::error!("writing goods views took over 5 s at shutdown; the last period's are lost"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// A line on standard output; a closed stdout (a supervisor that stopped reading) must not take
/// the server down with it.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Completes at the first SIGTERM or Ctrl-C (SIGINT): the server stops accepting and drains. A
/// second signal ends the process at once.
async fn shutdown_signal() {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    // Both listeners exist from the start: a listener made after a signal arrives does not see it,
    // so one made only after the first signal could miss a second sent right behind it.
    let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::error!(%error, "cannot listen for {name}; it will not stop the server gracefully");
            None
        }
    };
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
    async fn received(listener: &mut Option<Signal>) {
        match listener {
            Some(listener) => {
                listener.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    async fn next_signal(terminate: &mut Option<Signal>, interrupt: &mut Option<Signal>) -> &'static str {
        tokio::select! {
            () = received(terminate) => "SIGTERM",
            () = received(interrupt) => "SIGINT",
        }
    }
    let first = next_signal(&mut terminate, &mut interrupt).await;
    tracing::info!(
        signal = first,
        "shutting down: no new connections; in-flight requests finish (a second signal stops at once)"
    );
    tokio::spawn(async move {
        let second = next_signal(&mut terminate, &mut interrupt).await;
        tracing::warn!(signal = second, "second signal: exiting now");
        std::process::exit(1);
    });
}
