//! The cache's store: entries by key within a byte budget, which request builds a missing or
//! stale entry while the others wait or get the previous copy, and page fragments kept alike.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};

/// What an entry costs besides its key and body (headers, bookkeeping), for the byte budget.
const ENTRY_OVERHEAD: usize = 512;

#[derive(Clone)]
pub(super) struct Cached {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

struct Slot {
    value: Option<Cached>,
    fetched_at: Instant,
    refreshing: bool,
    /// Held by the request building the first copy; the others wait on it instead of building
    /// the same page side by side.
    fill: Arc<tokio::sync::Mutex<()>>,
}

impl Slot {
    fn weight(key: &str, value: &Cached) -> usize {
        key.len() + value.body.len() + ENTRY_OVERHEAD
    }
}

#[derive(Default)]
struct Slots {
    map: HashMap<String, Slot>,
    /// Hashes of keys asked for once and not kept (see the module's comment).
    seen: std::collections::HashSet<u64>,
    /// Keys holding a value, oldest first: eviction order.
    order: VecDeque<String>,
    /// Sum of the weights of the entries holding a value.
    bytes: usize,
}

pub struct ResponseCache {
    ttl: Duration,
    /// Most bytes the entries may hold together.
    budget: usize,
    /// `Host` values whose pages are cached: the shop's own names. Pages for any other name are
    /// built on each request (their absolute URLs name that host).
    hosts: Vec<String>,
    slots: Mutex<Slots>,
    /// Keyed per process, so that nobody can pick URLs whose hashes collide.
    hasher: std::hash::RandomState,
}

/// Keys asked for once remembered at most (as hashes); then forgotten all at once.
const SEEN_KEYS: usize = 64 * 1024;

/// What to do with a request, decided under the lock.
pub(super) enum Plan<'a> {
    Serve(Cached),
    /// First time this key is asked for: build it, keep nothing.
    Pass,
    /// Build the response (the first copy: while holding the fill guard).
    Refresh(Refresh<'a>),
    /// Another request is building the first copy: wait for it, then look again.
    Wait(Arc<tokio::sync::Mutex<()>>),
}

/// The right to refresh one key. Dropped without `store` (the request was cancelled, the
/// response was an error), it releases the key so that the next request builds it again instead
/// of stale data being served for ever.
pub(super) struct Refresh<'a> {
    cache: &'a ResponseCache,
    key: String,
    _fill: Option<tokio::sync::OwnedMutexGuard<()>>,
    stored: bool,
}

impl Refresh<'_> {
    pub(super) fn store(mut self, value: Cached) {
        self.cache.store(&self.key, value);
        self.stored = true;
    }
}

impl Drop for Refresh<'_> {
    fn drop(&mut self) {
        if !self.stored {
            self.cache.abandon(&self.key);
        }
    }
}

impl ResponseCache {
    /// `ttl` zero disables caching; `budget` is in bytes; `hosts` as above.
    pub fn new(ttl: Duration, budget: usize, hosts: Vec<String>) -> Self {
        Self { ttl, budget, hosts, slots: Mutex::default(), hasher: std::hash::RandomState::new() }
    }

    /// Whether requests for `host` are cached at all (caching is on and the host is one of ours).
    pub(super) fn serves(&self, host: &str) -> bool {
        !self.ttl.is_zero() && self.hosts.iter().any(|known| known.eq_ignore_ascii_case(host))
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn plan(&self, key: &str) -> Plan<'_> {
        let mut slots = self.lock();
        let now = Instant::now();
        if let Some(slot) = slots.map.get_mut(key) {
            return match &slot.value {
                Some(value) if now.duration_since(slot.fetched_at) < self.ttl => Plan::Serve(value.clone()),
                Some(value) if slot.refreshing => Plan::Serve(value.clone()),
                Some(_) => {
                    slot.refreshing = true;
                    Plan::Refresh(Refresh { cache: self, key: key.to_owned(), _fill: None, stored: false })
                }
                None => Plan::Wait(slot.fill.clone()),
            };
        }
        let hash = std::hash::BuildHasher::hash_one(&self.hasher, key);
        if !slots.seen.contains(&hash) {
            if slots.seen.len() >= SEEN_KEYS {
                slots.seen.clear();
            }
            slots.seen.insert(hash);
            return Plan::Pass;
        }
        slots.seen.remove(&hash);
        let fill = Arc::new(tokio::sync::Mutex::new(()));
        // A new mutex: nobody else can hold it yet.
        let guard = fill.clone().try_lock_owned().ok();
        slots.map.insert(key.to_owned(), Slot { value: None, fetched_at: now, refreshing: true, fill });
        Plan::Refresh(Refresh { cache: self, key: key.to_owned(), _fill: guard, stored: false })
    }

    /// Whatever copy there is, fresh or not.
    pub(super) fn peek(&self, key: &str) -> Option<Cached> {
        self.lock().map.get(key).and_then(|slot| slot.value.clone())
    }

    fn store(&self, key: &str, value: Cached) {
        let weight = Slot::weight(key, &value);
        let mut slots = self.lock();
        let fill = slots.map.get(key).map_or_else(Arc::default, |slot| slot.fill.clone());
        let old = slots
            .map
            .insert(key.to_owned(), Slot { value: Some(value), fetched_at: Instant::now(), refreshing: false, fill });
        match old {
            Some(Slot { value: Some(old), .. }) => slots.bytes -= Slot::weight(key, &old),
            _ => slots.order.push_back(key.to_owned()),
        }
        slots.bytes += weight;
        if slots.bytes > self.budget {
            self.evict(&mut slots, key);
        }
    }

    /// Drops the oldest entries until the entries take nine tenths of the budget (so that the
    /// next stores do not evict again at once); `keep`, just stored, is the newest.
    fn evict(&self, slots: &mut Slots, keep: &str) {
        let target = self.budget / 10 * 9;
        while slots.bytes > target {
            let Some(key) = slots.order.pop_front() else { return };
            if key == keep && slots.order.is_empty() {
                // Alone and still too large for the budget: not kept either.
                slots.order.push_back(key);
                if let Some(Slot { value: Some(value), .. }) = slots.map.remove(keep) {
                    slots.bytes -= Slot::weight(keep, &value);
                }
                slots.order.clear();
                return;
            }
            if let Some(Slot { value: Some(value), .. }) = slots.map.remove(&key) {
                slots.bytes -= Slot::weight(&key, &value);
            }
        }
    }

    /// A refresh that did not store: an empty slot is forgotten (the next request builds it), a
    /// stale one may be refreshed by the next request.
    fn abandon(&self, key: &str) {
        let mut slots = self.lock();
        match slots.map.get_mut(key) {
            Some(slot) if slot.value.is_none() => {
                slots.map.remove(key);
            }
            Some(slot) => slot.refreshing = false,
            None => {}
        }
    }
}

impl ResponseCache {
    /// A part of a page built by `build`, kept like a cached response (at most `ttl` old, built
    /// once while other requests wait for it or get the previous copy), for the shop's own host
    /// names only, as responses are. Errors are not kept.
    pub async fn fragment<E>(
        &self,
        host: &str,
        key: &str,
        build: impl Future<Output = Result<String, E>>,
    ) -> Result<Bytes, E> {
        if !self.serves(host) {
            return build.await.map(Bytes::from);
        }
        let refresh = match self.plan(key) {
            Plan::Serve(cached) => return Ok(cached.body),
            Plan::Pass => return build.await.map(Bytes::from),
            Plan::Refresh(refresh) => refresh,
            Plan::Wait(fill) => {
                let _guard = fill.lock_owned().await;
                return match self.peek(key) {
                    Some(cached) => Ok(cached.body),
                    // The builder gave up: build it here, without keeping it.
                    None => build.await.map(Bytes::from),
                };
            }
        };
        let body = Bytes::from(build.await?);
        refresh.store(Cached { status: StatusCode::OK, headers: HeaderMap::new(), body: body.clone() });
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(body: &[u8]) -> Cached {
        Cached { status: StatusCode::OK, headers: HeaderMap::new(), body: Bytes::copy_from_slice(body) }
    }

    #[test]
    fn the_first_copy_is_built_once_and_stale_ones_served_while_refreshing() {
        let cache = ResponseCache::new(Duration::from_nanos(1), 1 << 20, Vec::new());
        assert!(matches!(cache.plan("k"), Plan::Pass), "asked for once: built, not kept");
        let Plan::Refresh(refresh) = cache.plan("k") else { panic!("the second request builds the copy") };
        assert!(matches!(cache.plan("k"), Plan::Wait(_)), "others wait for the first copy");
        refresh.store(cached(b"v1"));
        std::thread::sleep(Duration::from_millis(2));
        let Plan::Refresh(refresh) = cache.plan("k") else { panic!("expired: this request refreshes") };
        match cache.plan("k") {
            Plan::Serve(cached) => assert_eq!(cached.body, Bytes::from_static(b"v1")),
            _ => panic!("a second request must get the stale copy"),
        }
        // The refreshing request goes away without storing: the next one refreshes.
        drop(refresh);
        assert!(matches!(cache.plan("k"), Plan::Refresh(_)), "a cancelled refresh does not stick");
    }

    #[test]
    fn urls_asked_for_once_are_not_kept() {
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20, Vec::new());
        for n in 0..(SEEN_KEYS * 2) {
            assert!(matches!(cache.plan(&format!("/goods/?pricemin={n}")), Plan::Pass), "{n}");
        }
        let slots = cache.lock();
        assert!(slots.map.is_empty() && slots.bytes == 0);
        assert!(slots.seen.len() <= SEEN_KEYS, "the memory of keys is bounded too");
    }

    #[test]
    fn entries_fit_the_byte_budget() {
        let budget = 4 * (ENTRY_OVERHEAD + 100);
        let cache = ResponseCache::new(Duration::from_secs(60), budget, Vec::new());
        for n in 0..100 {
            let key = format!("k{n}");
            assert!(matches!(cache.plan(&key), Plan::Pass));
            let Plan::Refresh(refresh) = cache.plan(&key) else { panic!("asked for again") };
            refresh.store(cached(&[b'x'; 90]));
            assert!(cache.lock().bytes <= budget, "after {n}");
        }
        assert!(cache.peek("k99").is_some(), "the newest entry is kept");
        assert!(cache.lock().map.len() <= 4);
    }
}
