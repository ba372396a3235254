//! The users that login tokens name, kept in memory for a short while (`auth_cache_ms`), so an
//! authenticated request costs no database read when nothing changed. A copy is used only for a
//! token whose password version it matches; this instance forgets a user the moment it changes
//! the password, ends the sessions or edits the profile. Another instance (or the `mxshop user`
//! command) sees such a change within `auth_cache_ms` — the window in which a revoked token or a
//! deactivated user is still accepted elsewhere.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::db::entities::user;

/// Users held at most; beyond, the expired ones are dropped, or all of them.
const MAX_USERS: usize = 100_000;

pub struct UserCache {
    ttl: Duration,
    users: Mutex<HashMap<i32, Held>>,
    /// Moves on at every `forget`: a copy read while it moved may predate the change, and is
    /// not kept.
    forgotten: AtomicU64,
}

/// Taken before reading a user from the database; `keep` takes it back.
#[derive(Clone, Copy)]
pub struct ReadStart {
    forgotten: u64,
    at: Instant,
}

struct Held {
    user: user::Model,
    /// The password version tokens must carry (`Keys::password_version`).
    version: String,
    read_at: Instant,
}

impl UserCache {
    /// `ttl` zero: every request reads the user.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, users: Mutex::default(), forgotten: AtomicU64::new(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Held>> {
        self.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The active user `id`, read less than `ttl` ago, when `version` is still its password
    /// version.
    pub fn get(&self, id: i32, version: &str) -> Option<user::Model> {
        let users = self.lock();
        let held = users.get(&id)?;
        (held.read_at.elapsed() < self.ttl && held.version == version).then(|| held.user.clone())
    }

    /// Call before reading the user from the database.
    pub fn read_start(&self) -> ReadStart {
        ReadStart { forgotten: self.forgotten.load(Ordering::SeqCst), at: Instant::now() }
    }

    /// Keeps an active user read since `start`, with its password version, unless a user was
    /// forgotten meanwhile (the read may hold what the change replaced). Its age counts from
    /// the start of the read.
    pub fn keep(&self, start: ReadStart, user: &user::Model, version: &str) {
        if self.ttl.is_zero() || !user.is_active {
            return;
        }
        let mut users = self.lock();
        if self.forgotten.load(Ordering::SeqCst) != start.forgotten {
            return;
        }
        if users.len() >= MAX_USERS {
            users.retain(|_, held| held.read_at.elapsed() < self.ttl);
            if users.len() >= MAX_USERS {
                users.clear();
            }
        }
        users.insert(user.id, Held { user: user.clone(), version: version.to_owned(), read_at: start.at });
    }

    /// After a change to the user: the next request reads it again.
    pub fn forget(&self, id: i32) {
        let mut users = self.lock();
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        users.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i32) -> user::Model {
        user::Model {
            id,
            username: format!("u{id}"),
            password: "hash".into(),
            name: None,
            birthday: None,
            gender: "female".into(),
            mobile: None,
            email: None,
            is_active: true,
            is_superuser: false,
            date_joined: chrono::Utc::now().naive_utc(),
            last_login: None,
            session_epoch: 0,
        }
    }

    #[test]
    fn a_copy_serves_only_its_own_version_and_only_until_forgotten() {
        let cache = UserCache::new(Duration::from_secs(60));
        cache.keep(cache.read_start(), &user(1), "v1");
        assert!(cache.get(1, "v1").is_some());
        assert!(cache.get(1, "v0").is_none(), "a token of another password version reads the user again");
        cache.forget(1);
        assert!(cache.get(1, "v1").is_none());
        let inactive = user::Model { is_active: false, ..user(2) };
        cache.keep(cache.read_start(), &inactive, "v1");
        assert!(cache.get(2, "v1").is_none(), "inactive users are not kept");
    }

    #[test]
    fn a_read_that_overlaps_a_change_is_not_kept() {
        let cache = UserCache::new(Duration::from_secs(60));
        let start = cache.read_start();
        // The password changes (and the user is forgotten) while the old row is being read.
        cache.forget(1);
        cache.keep(start, &user(1), "old-version");
        assert!(cache.get(1, "old-version").is_none(), "the revoked version must not be trusted");
        cache.keep(cache.read_start(), &user(1), "new-version");
        assert!(cache.get(1, "new-version").is_some());
    }

    #[test]
    fn copies_expire() {
        let cache = UserCache::new(Duration::from_millis(1));
        cache.keep(cache.read_start(), &user(1), "v1");
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get(1, "v1").is_none());
    }
}
