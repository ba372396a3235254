//! Goods views (the API's `GET /goods/{id}/` and the storefront's goods page), counted in memory
//! and written in one statement per period (the catalogue cache's) by a background task, and
//! once more at shutdown: a view costs no database write of its own. A crash loses the views of
//! the last period, never an order or a payment. With a period of zero every view is written
//! before it is answered.
//!
//! The count a detail answers is exact for this instance: the goods as read from the database
//! plus the views not written yet. A detail reads and counts while holding off the batches
//! (`hold_batches`), and its copy is tagged with the number of batches written so far, so a copy
//! read before a batch committed is never combined with the counts of that batch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::goods;

/// Goods per statement: three parameters each, well within every database's limit.
const GOODS_PER_STATEMENT: usize = 1000;

pub struct GoodsViews {
    period: Duration,
    counts: Mutex<Counts>,
    /// Written by a batch (one at a time); read by a detail while it reads and counts.
    batches: tokio::sync::RwLock<()>,
}

#[derive(Default)]
struct Counts {
    /// Counted, not yet in a batch.
    pending: HashMap<i32, i32>,
    /// Batches written so far.
    generation: u64,
}

impl GoodsViews {
    pub fn new(period: Duration) -> Self {
        Self { period, counts: Mutex::default(), batches: tokio::sync::RwLock::new(()) }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// No batch is written while the guard lives: a goods read from the database meanwhile
    /// holds exactly the views of `generation()` batches.
    pub async fn hold_batches(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.batches.read().await
    }

    /// Batches written so far.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Counts a view of `goods_id`; the views of that goods not in the database yet, this one
    /// included. With a period of zero, the caller writes them at once (`write_if_immediate`).
    pub fn count(&self, goods_id: i32) -> i32 {
        let mut counts = self.lock();
        let pending = counts.pending.entry(goods_id).or_default();
        *pending = pending.saturating_add(1);
        *pending
    }

    /// With a period of zero (no cache), writes the views now.
    pub async fn write_if_immediate(&self, db: &DatabaseConnection) {
        if self.period.is_zero()
            && let Err(error) = self.write(db).await
        {
            tracing::warn!(%error, "writing goods views; they are written with the next batch");
        }
    }

    /// Writes every view counted so far: one `UPDATE … CASE` per thousand goods, in one
    /// transaction. On failure the counts stay for the next batch.
    pub async fn write(&self, db: &DatabaseConnection) -> Result<usize, DbErr> {
        let _batch = self.batches.write().await;
        let batch: Vec<(i32, i32)> = self.lock().pending.iter().map(|(&id, &views)| (id, views)).collect();
        if batch.is_empty() {
            return Ok(0);
        }
        write_batch(db, &batch).await?;
        // Views counted meanwhile (storefront pages count without holding off batches) stay.
        let mut counts = self.lock();
        for (id, views) in &batch {
            if let Some(pending) = counts.pending.get_mut(id) {
                *pending -= views;
                if *pending <= 0 {
                    counts.pending.remove(id);
                }
            }
        }
        counts.generation += 1;
        Ok(batch.len())
    }
}

async fn write_batch(db: &DatabaseConnection, batch: &[(i32, i32)]) -> Result<(), DbErr> {
    crate::db::transaction!(db, DbErr, |txn| {
        for chunk in batch.chunks(GOODS_PER_STATEMENT) {
            let mut added = CaseStatement::new();
            for &(id, views) in chunk {
                added = added.case(goods::Column::Id.eq(id), views);
            }
            goods::Entity::update_many()
                .col_expr(goods::Column::ClickNum, Expr::col(goods::Column::ClickNum).add(added.finally(0)))
                .filter(goods::Column::Id.is_in(chunk.iter().map(|&(id, _)| id)))
                .exec(&txn)
                .await?;
        }
        Ok(())
    })
}

/// Writes the views every period until `stop` turns true (the last ones are written by the
/// caller once no request can count any more).
pub fn spawn_writer(
    db: DatabaseConnection,
    views: std::sync::Arc<GoodsViews>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if views.period.is_zero() {
            return;
        }
        let mut every = tokio::time::interval(views.period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                // The guard `wait_for` returns is not `Send`: dropped inside.
                () = async { drop(stop.wait_for(|stopped| *stopped).await) } => return,
                _ = every.tick() => {
                    if let Err(error) = views.write(&db).await {
                        tracing::warn!(%error, "writing goods views; they are written with the next batch");
                    }
                }
            }
        }
    })
}
