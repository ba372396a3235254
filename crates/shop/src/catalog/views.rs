//! Views of the storefront's goods pages, counted in memory and written in batches: one
//! `click_num = click_num + n` per goods per period instead of a write per page, so a detail page
//! can come from the catalogue cache. The period is the catalogue cache's: the page shows
//! figures at most that old, and its views reach the database at most that late (views of the
//! last period are lost if the process dies). The API's detail still counts each view at once,
//! because it answers with the new count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::goods;

pub struct ViewCounts {
    period: Duration,
    pending: Mutex<Pending>,
}

struct Pending {
    views: HashMap<i32, i32>,
    since: Instant,
}

impl ViewCounts {
    pub fn new(period: Duration) -> Self {
        Self { period, pending: Mutex::new(Pending { views: HashMap::new(), since: Instant::now() }) }
    }

    /// Counts a view of `goods_id`; when the period is over, writes every count held (the
    /// request that notices pays for one batch).
    pub async fn count(&self, db: &DatabaseConnection, goods_id: i32) -> Result<(), DbErr> {
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let views = pending.views.entry(goods_id).or_default();
            *views = views.saturating_add(1);
            if pending.since.elapsed() < self.period {
                return Ok(());
            }
            pending.since = Instant::now();
            std::mem::take(&mut pending.views)
        };
        let result = write_all(due, |id, views| async move {
            goods::Entity::update_many()
                .col_expr(goods::Column::ClickNum, Expr::col(goods::Column::ClickNum).add(views))
                .filter(goods::Column::Id.eq(id))
                .exec(db)
                .await
                .map(drop)
        })
        .await;
        result.map_err(|(error, unwritten)| {
            // Not lost: the next batch writes them.
            self.restore(unwritten);
            error
        })
    }

    /// Puts counts that were not written back among the pending ones.
    fn restore(&self, unwritten: HashMap<i32, i32>) {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (id, views) in unwritten {
            let held = pending.views.entry(id).or_default();
            *held = held.saturating_add(views);
        }
    }
}

/// Writes each goods' count with `write`; on the first error, that error and every count not
/// written (the failed one included).
async fn write_all<F, Fut>(due: HashMap<i32, i32>, mut write: F) -> Result<(), (DbErr, HashMap<i32, i32>)>
where
    F: FnMut(i32, i32) -> Fut,
    Fut: Future<Output = Result<(), DbErr>>,
{
    let mut left: Vec<(i32, i32)> = due.into_iter().collect();
    while let Some((id, views)) = left.pop() {
        if let Err(error) = write(id, views).await {
            left.push((id, views));
            return Err((error, left.into_iter().collect()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_not_written_are_put_back_for_the_next_batch() {
        let counts = ViewCounts::new(Duration::ZERO);
        let due = HashMap::from([(1, 3), (2, 5), (3, 7)]);
        let mut written = Vec::new();
        let result = write_all(due, |id, views| {
            let fails = !written.is_empty();
            if !fails {
                written.push((id, views));
            }
            async move { if fails { Err(DbErr::Custom("database is locked".into())) } else { Ok(()) } }
        })
        .await;
        let (_, unwritten) = result.expect_err("the second write fails");
        assert_eq!(unwritten.len(), 2, "the failed count and the one after it");
        counts.pending.lock().unwrap().views.insert(2, 1);
        counts.restore(unwritten.clone());
        let pending = counts.pending.lock().unwrap().views.clone();
        let total: i32 = pending.values().sum();
        assert_eq!(total + written.iter().map(|(_, views)| views).sum::<i32>(), 3 + 5 + 7 + 1, "{pending:?}");
        assert!(!pending.contains_key(&written[0].0) || written[0].0 == 2, "written counts are not put back");
    }
}
