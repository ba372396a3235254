//! A database of its own for each test: a SQLite file by default, or a fresh database on the
//! PostgreSQL or MySQL/MariaDB server the run names; dropped after the test.

use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::ConnectionTrait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// The backend this run tests, from the environment. Setting both server URLs is refused so a run
/// never silently tests less than it claims.
pub fn backend() -> (Backend, Option<String>) {
    let postgres = std::env::var("MXSHOP_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty());
    let mysql = std::env::var("MXSHOP_TEST_MYSQL_URL").ok().filter(|v| !v.is_empty());
    match (postgres, mysql) {
        (Some(_), Some(_)) => {
            panic!("set MXSHOP_TEST_POSTGRES_URL or MXSHOP_TEST_MYSQL_URL, not both, per run")
        }
        (Some(url), None) => (Backend::Postgres, Some(url)),
        (None, Some(url)) => (Backend::MySql, Some(url)),
        (None, None) => (Backend::Sqlite, None),
    }
}

static DATABASE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database made for one test and dropped after it.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: String,
    /// SQLite's file lives here (removed with it).
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let (backend, admin_url) = backend();
        Self::create_on(backend, admin_url).await
    }

    /// A database of its own on `backend` (at the server `admin_url` unless SQLite), whatever the
    /// run's backend.
    pub async fn create_on(backend: Backend, admin_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = format!(
            "mxshop_t_{}_{}_{}",
            std::process::id(),
            DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let url = match (&backend, &admin_url) {
            (Backend::Sqlite, _) => {
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display())
            }
            (_, Some(admin)) => {
                let admin_db = sea_orm::Database::connect(admin.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach the test database server at {admin}: {e}"));
                let create = match backend {
                    Backend::MySql => {
                        format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                    }
                    _ => format!("CREATE DATABASE {name}"),
                };
                admin_db.execute_unprepared(&create).await.expect("create test database");
                admin_db.close().await.expect("close admin connection");
                replace_database(admin, &name)
            }
            (_, None) => unreachable!("server backends always have a URL"),
        };
        Self { url, backend, admin_url, name, _dir: dir }
    }
}

/// `scheme://user@host:port/old?params` → the same with database `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin) = self.admin_url.clone() else {
            return;
        };
        let name = self.name.clone();
        let backend = self.backend;
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread of our own.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let Ok(db) = sea_orm::Database::connect(admin.as_str()).await else { return };
                if backend == Backend::MySql {
                    // The test's pool is still open; its idle connections would hold DROP up.
                    let ids = db
                        .query_all_raw(sea_orm::Statement::from_string(
                            sea_orm::DbBackend::MySql,
                            format!("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '{name}'"),
                        ))
                        .await
                        .unwrap_or_default();
                    for row in ids {
                        if let Ok(id) = row.try_get::<u64>("", "id") {
                            let _ = db.execute_unprepared(&format!("KILL {id}")).await;
                        }
                    }
                }
                let drop_sql = match backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let _ = db.execute_unprepared(&drop_sql).await;
                let _ = db.close().await;
            });
        });
        let _ = handle.join();
    }
}
