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
        for (id, views) in due {
            goods::Entity::update_many()
                .col_expr(goods::Column::ClickNum, Expr::col(goods::Column::ClickNum).add(views))
                .filter(goods::Column::Id.eq(id))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}
