//! The API's goods detail: read from the database once per batch of views (`catalog::views`)
//! and kept as JSON split around its click count, so a view costs a lookup and a copy. The count
//! answered is the one read plus the views this instance has not written yet, as DRF answers the
//! count with the view just made.
//!
//! Kept for the shop's own host names only (absolute image URLs name the host), within a byte
//! budget; every copy is dropped when a batch of views is written, so none is older than a period.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::categories::CategoryCache;
use super::goods::render_goods;
use crate::db::entities::goods;
use crate::http::{ApiError, ApiResult, RequestUrl};
use crate::state::AppState;

/// What stands for the count while the JSON is written: a value no goods reaches.
const PLACEHOLDER: &[u8] = b"\"click_num\":-2147483648";
const KEY_LENGTH: usize = b"\"click_num\":".len();

/// One goods as JSON, without its click count.
struct Detail {
    read_at: Instant,
    /// Up to and including `"click_num":`.
    head: Vec<u8>,
    click_num: i32,
    /// After the count.
    tail: Vec<u8>,
}

impl Detail {
    fn weight(&self) -> usize {
        self.head.len() + self.tail.len() + 128
    }

    fn render(&self, unwritten: i32) -> Vec<u8> {
        let mut count = itoa::Buffer::new();
        let count = count.format(self.click_num.saturating_add(unwritten));
        let mut body = Vec::with_capacity(self.head.len() + count.len() + self.tail.len());
        body.extend_from_slice(&self.head);
        body.extend_from_slice(count.as_bytes());
        body.extend_from_slice(&self.tail);
        body
    }
}

#[derive(Default)]
struct Entries {
    /// The views' generation the copies were read in.
    generation: u64,
    map: HashMap<(String, i32), Arc<Detail>>,
    bytes: usize,
}

pub struct GoodsDetails {
    hosts: Vec<String>,
    budget: usize,
    /// A copy is dropped after this too (no batch is written while views fail to write).
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl GoodsDetails {
    /// `hosts`: the shop's own host names; `budget`: most bytes held; `ttl`: the period.
    pub fn new(hosts: Vec<String>, budget: usize, ttl: Duration) -> Self {
        Self { hosts, budget, ttl, entries: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &(String, i32), generation: u64) -> Option<Arc<Detail>> {
        let mut entries = self.lock();
        if entries.generation != generation {
            *entries = Entries { generation, ..Entries::default() };
            return None;
        }
        entries.map.get(key).filter(|detail| detail.read_at.elapsed() < self.ttl).cloned()
    }

    fn keep(&self, key: (String, i32), generation: u64, detail: Arc<Detail>) {
        let mut entries = self.lock();
        if entries.generation != generation {
            *entries = Entries { generation, ..Entries::default() };
        }
        if entries.bytes + detail.weight() <= self.budget {
            entries.bytes += detail.weight();
            if let Some(old) = entries.map.insert(key, detail) {
                entries.bytes -= old.weight();
            }
        }
    }
}

/// `GET /goods/{id}/`: the goods, its view counted (`catalog::views`).
pub async fn view(state: &AppState, url: &RequestUrl, id: i32) -> ApiResult<Response> {
    let (db, details, views) = (&state.db, &state.goods_details, &state.goods_views);
    let host = url.host();
    // Spelled as the shop spells it: the copy's image URLs name the host as this request does.
    let cacheable = details.hosts.iter().any(|known| known == host);
    let key = (host.to_owned(), id);
    let (detail, unwritten) = {
        let _no_batch = views.hold_batches().await;
        let generation = views.generation();
        let detail = match details.get(&key, generation).filter(|_| cacheable) {
            Some(detail) => detail,
            None => {
                let detail = Arc::new(read(db, &state.categories, url, id).await?);
                if cacheable {
                    details.keep(key, generation, detail.clone());
                }
                detail
            }
        };
        (detail, views.count(id))
    };
    views.write_if_immediate(db).await;
    Ok(([(header::CONTENT_TYPE, "application/json")], detail.render(unwritten)).into_response())
}

async fn read(db: &DatabaseConnection, categories: &CategoryCache, url: &RequestUrl, id: i32) -> ApiResult<Detail> {
    let row = goods::Entity::find_by_id(id).one(db).await?.ok_or(ApiError::NotFound)?;
    let click_num = row.click_num;
    let mut rendered = render_goods(db, url, std::slice::from_ref(&row), categories).await?;
    let mut json = rendered.pop().ok_or(ApiError::NotFound)?;
    json.click_num = i32::MIN;
    let body = serde_json::to_vec(&json).map_err(anyhow::Error::from)?;
    // Keys come first and string values escape their quotes: the first match is the count.
    let at = body
        .windows(PLACEHOLDER.len())
        .position(|window| window == PLACEHOLDER)
        .ok_or_else(|| anyhow::anyhow!("goods {id}: JSON without click_num"))?;
    Ok(Detail {
        read_at: Instant::now(),
        head: body[..at + KEY_LENGTH].to_vec(),
        click_num,
        tail: body[at + PLACEHOLDER.len()..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_written_between_head_and_tail() {
        let detail = Detail {
            read_at: Instant::now(),
            head: b"{\"id\":1,\"click_num\":".to_vec(),
            click_num: 41,
            tail: b",\"x\":2}".to_vec(),
        };
        assert_eq!(detail.render(1), b"{\"id\":1,\"click_num\":42,\"x\":2}");
    }

    #[test]
    fn copies_of_an_older_generation_are_dropped() {
        let details = GoodsDetails::new(Vec::new(), 1 << 20, Duration::from_secs(60));
        let key = ("shop".to_owned(), 1);
        let detail = Arc::new(Detail { read_at: Instant::now(), head: Vec::new(), click_num: 1, tail: Vec::new() });
        details.keep(key.clone(), 2, detail);
        assert!(details.get(&key, 2).is_some());
        assert!(details.get(&key, 4).is_none(), "a batch was written since");
        assert_eq!(details.lock().bytes, 0);
    }
}
