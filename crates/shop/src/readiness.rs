//! Readiness for a load balancer: the database answers and has this build's migrations, and the
//! instance is not shutting down. Probes are anonymous and may come fast, so one check runs at a
//! time and its verdict is reused for a second: however many probes arrive, the database sees at
//! most two cheap queries a second from them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::Mutex;

/// How long a verdict is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// A check answers within this, so a probe does not hang on a database that is gone (the pool
/// itself would wait up to its 30 s acquire timeout).
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Readiness {
    draining: AtomicBool,
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    /// From now on the instance answers not ready: the load balancer stops sending it new
    /// requests while it finishes the ones it has.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// `Err(reason)` when the instance should get no traffic; the reason names a category, never
    /// a database error's text (that goes to the log).
    pub async fn check(&self, db: &DatabaseConnection) -> Result<(), String> {
        if self.draining.load(Ordering::Relaxed) {
            return Err("shutting down".to_owned());
        }
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = last.as_ref()
            && at.elapsed() < FRESH_FOR
        {
            return verdict.clone();
        }
        let verdict = match tokio::time::timeout(CHECK_TIMEOUT, Self::probe(db)).await {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::warn!(timeout = ?CHECK_TIMEOUT, "readiness: the database did not answer in time");
                Err("database unreachable".to_owned())
            }
        };
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }

    async fn probe(db: &DatabaseConnection) -> Result<(), String> {
        let missing = crate::db::missing_migrations(db).await.map_err(|error| {
            tracing::warn!(%error, "readiness: the database cannot be read");
            "database unreachable".to_owned()
        })?;
        if missing.is_empty() { Ok(()) } else { Err(format!("migrations pending: {}", missing.join(", "))) }
    }
}
