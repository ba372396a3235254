//! Rate limits kept in the database (a sliding-window log), so every instance sees the same counts.

use std::time::Duration;

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::clock::Clock;
use crate::db::entities::throttle_hit;
use crate::http::ApiError;

/// Why a limited event was not counted.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The limit is reached; a slot frees up in this many seconds.
    #[error("rate limit reached; retry in {0} s")]
    Reached(u64),
    #[error(transparent)]
    Storage(#[from] DbErr),
}

impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Reached(seconds) => ApiError::Throttled(seconds),
            LimitError::Storage(error) => ApiError::Database(error),
        }
    }
}

/// At most `max` counted events per `window` for one subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub scope: &'static str,
    pub max: u64,
    pub window: Duration,
}

/// Hits older than this are deleted now and then; no limit looks further back.
const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(1);

impl Limit {
    fn window_start(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - chrono::TimeDelta::from_std(self.window).unwrap_or(RETENTION)
    }

    /// Counts one event for the subject, then refuses it (`Err(Reached)`, with the seconds until
    /// a slot frees up) if that makes more than `max` in the window. Counting first makes the
    /// limit hold against parallel requests, and counting only the hits inserted before this one
    /// (by id) makes it exact: of many at once, the first `max` pass, whatever order the counts
    /// run in.
    pub async fn take(&self, db: &DatabaseConnection, clock: &dyn Clock, subject: &str) -> Result<Hit, LimitError> {
        let subject: String = subject.chars().take(160).collect();
        let now = clock.now();
        let hit = throttle_hit::Entity::insert(throttle_hit::ActiveModel {
            scope: Set(self.scope.to_owned()),
            subject: Set(subject.clone()),
            hit_at: Set(now),
            ..Default::default()
        })
        .exec(db)
        .await?;
        let hit = Hit(hit.last_insert_id);
        // Roughly one insert in sixty-four also sweeps expired hits, keeping the table small
        // without a separate job.
        if rand::random::<u8>() < 4 {
            throttle_hit::Entity::delete_many()
                .filter(Expr::col(throttle_hit::Column::HitAt).lt(now - RETENTION))
                .exec(db)
                .await?;
        }
        let start = self.window_start(now);
        let in_window = throttle_hit::Entity::find()
            .filter(throttle_hit::Column::Scope.eq(self.scope))
            .filter(throttle_hit::Column::Subject.eq(subject.as_str()))
            .filter(throttle_hit::Column::HitAt.gt(start));
        let count = in_window.clone().filter(throttle_hit::Column::Id.lte(hit.0)).count(db).await?;
        if count <= self.max {
            return Ok(hit);
        }
        // A refused request does not use up a slot, so waiting long enough always helps.
        hit.give_back(db).await?;
        // The oldest hits leave the window first; once enough have left, a request fits again.
        let release = in_window
            .order_by_desc(throttle_hit::Column::HitAt)
            .offset(self.max.saturating_sub(1))
            .one(db)
            .await?
            .map_or(now, |hit| hit.hit_at);
        let wait = std::cmp::max((release - start).num_seconds(), 1) as u64;
        tracing::warn!(scope = self.scope, subject, count, wait, "rate limit reached");
        crate::telemetry::rate_limited(self.scope);
        Err(LimitError::Reached(wait))
    }
}

/// One counted event; given back when it should not count after all (a login that succeeded).
#[derive(Debug, Clone, Copy)]
pub struct Hit(i64);

impl Hit {
    pub async fn give_back(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        throttle_hit::Entity::delete_by_id(self.0).exec(db).await?;
        Ok(())
    }
}
