//! The catalogue held in memory (`Snapshot`), read again in the background once it is older than
//! the catalogue cache period, or ten times as long as reading it took (so that a large
//! catalogue costs at most a tenth of a core to keep fresh). With a period of zero, requests share
//! one read that started after they arrived.

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};

use super::snapshot::Snapshot;

/// A catalogue this much slower to read than the period is read this many times as rarely.
const READ_COST_FACTOR: u32 = 10;

/// A copy this many refresh intervals old (the background reads kept failing) is not served:
/// requests wait for a fresh read instead.
const STALE_LIMIT: u32 = 30;

pub struct Catalogue {
    period: Duration,
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Held while the catalogue is being read: one read at a time, however many requests.
    reading: Arc<tokio::sync::Mutex<()>>,
    /// Reads started so far; each snapshot carries the number of its own.
    started: AtomicU64,
}

impl Catalogue {
    /// `period` zero: every list is served from a read that started after it arrived (requests
    /// arriving during a read share the next one, so the database sees one read at a time).
    pub fn new(period: Duration) -> Self {
        Self { period, current: Mutex::default(), reading: Arc::default(), started: AtomicU64::new(0) }
    }

    fn held(&self) -> Option<Arc<Snapshot>> {
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn hold(&self, snapshot: Arc<Snapshot>) {
        *self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(snapshot);
    }

    /// The catalogue as last read, if one is held and periods are on; never waits for a read.
    pub fn held_now(&self) -> Option<Arc<Snapshot>> {
        self.held().filter(|_| !self.period.is_zero())
    }

    /// The catalogue as last read. When that is stale, a read starts in the background and this
    /// request is served the stale one; the first request, and any when the copy is far too old
    /// (reads failing), wait for a read.
    pub async fn get(self: &Arc<Self>, db: &DatabaseConnection) -> Result<Arc<Snapshot>, DbErr> {
        let arrived = self.started.load(AtomicOrdering::SeqCst);
        let Some(snapshot) = self.held().filter(|_| !self.period.is_zero()) else {
            return self.read_after(db, arrived).await;
        };
        let due = self.period.max(snapshot.took * READ_COST_FACTOR);
        let age = snapshot.read_at.elapsed();
        if age >= due * STALE_LIMIT {
            return self.read_after(db, arrived).await;
        }
        if age >= due
            && let Ok(reading) = self.reading.clone().try_lock_owned()
        {
            let (catalogue, db, previous) = (self.clone(), db.clone(), snapshot.clone());
            tokio::spawn(async move {
                let sequence = catalogue.started.fetch_add(1, AtomicOrdering::SeqCst) + 1;
                match Snapshot::read(&db, sequence, Some(&previous)).await {
                    Ok(fresh) => catalogue.hold(Arc::new(fresh)),
                    Err(error) => tracing::warn!(%error, "reading the catalogue; the previous copy is served"),
                }
                drop(reading);
            });
        }
        Ok(snapshot)
    }

    /// A snapshot whose read started after `arrived` reads had: the one another request just
    /// made, or one read now.
    async fn read_after(&self, db: &DatabaseConnection, arrived: u64) -> Result<Arc<Snapshot>, DbErr> {
        let _reading = self.reading.lock().await;
        if let Some(snapshot) = self.held().filter(|snapshot| snapshot.sequence > arrived) {
            return Ok(snapshot);
        }
        let sequence = self.started.fetch_add(1, AtomicOrdering::SeqCst) + 1;
        let snapshot = Arc::new(Snapshot::read(db, sequence, self.held().as_deref()).await?);
        self.hold(snapshot.clone());
        Ok(snapshot)
    }
}
