//! Database access: connecting by URL (SQLite, PostgreSQL or MySQL/MariaDB), migrations, entities.

pub mod entities;
pub mod json_rows;
pub mod migration;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
};
use sea_orm_migration::MigratorTrait;

pub use migration::Migrator;

/// The page cache of each SQLite connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 512;

/// A pooled connection idle this long is pinged before it is handed out. sqlx pings every
/// connection it takes back; pinging it again when it is handed out a moment later cost an
/// exchange with the server per statement (a hand-off to the driver's thread on SQLite), while a
/// connection the server dropped (a restart, a proxy's idle timeout) has mostly been idle a while.
/// HikariCP skips the same check for connections used within the last 500 ms.
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// Opens a pool for `url`. For SQLite the file's directory is created and the database put in WAL
/// mode, so that readers never wait for the writer.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    // Owner-only: the file holds password hashes and every order.
    if let Some(file) = sqlite_file(url).filter(|file| !file.as_os_str().is_empty()) {
        crate::secrets::ensure_private_file(file)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        .sqlx_logging(false)
        // Each pooled SQLite connection keeps a page cache of its own (2 MB by default, 32 MB for
        // a full pool of sixteen), all holding the same hot pages that the OS caches once for all.
        .map_sqlx_sqlite_opts(|sqlite| sqlite.pragma("cache_size", format!("-{SQLITE_CACHE_KIB}")));
    let db = Database::connect(options).await.with_context(|| format!("connecting to {}", redact(url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL").await.context("enabling SQLite WAL mode")?;
    }
    Ok(db)
}

/// The pool's open connections, idle connections and maximum.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        DbBackend::MySql => {
            let pool = db.get_mysql_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
    }
}

/// Takes a connection from the pool and gives it back; `false` when none can be had.
pub async fn acquire_probe(db: &DatabaseConnection) -> bool {
    match db.get_database_backend() {
        DbBackend::Postgres => db.get_postgres_connection_pool().acquire().await.is_ok(),
        DbBackend::MySql => db.get_mysql_connection_pool().acquire().await.is_ok(),
        _ => db.get_sqlite_connection_pool().acquire().await.is_ok(),
    }
}

/// This build's migrations that the database has not applied (read-only: never creates the
/// migrations table). Migrations the database has beyond this build's are fine: a newer instance
/// of a rolling deploy applied them, and older code runs on a newer schema.
pub async fn missing_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    use sea_orm::EntityTrait;
    use sea_orm_migration::{SchemaManager, seaql_migrations};
    let applied: std::collections::HashSet<String> = if SchemaManager::new(db).has_table("seaql_migrations").await? {
        seaql_migrations::Entity::find().all(db).await?.into_iter().map(|row| row.version).collect()
    } else {
        Default::default()
    };
    Ok(Migrator::migrations().iter().map(|m| m.name().to_owned()).filter(|name| !applied.contains(name)).collect())
}

/// Ends a transaction: commits when `result` is `Ok`, rolls back at once when it is an error.
///
/// A transaction merely dropped is rolled back only when its connection is next used, holding its
/// locks (on MySQL, even metadata locks) until then.
pub async fn finish<T, E: From<DbErr>>(txn: DatabaseTransaction, result: Result<T, E>) -> Result<T, E> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::error!(error = %rollback, "rolling back a failed transaction");
            }
            Err(error)
        }
    }
}

/// Whether a transaction failed only because a concurrent one won a lock race (a deadlock, a
/// serialization failure, SQLite's busy writer, MySQL's lock-wait timeout) and may simply be run
/// again.
pub fn is_transient(error: &DbErr) -> bool {
    let Some(sea_orm::sqlx::Error::Database(database)) = driver_error(error) else { return false };
    // MySQL's lock-wait timeout (1205) has the catch-all SQLSTATE HY000: only its number says so.
    if database.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>().is_some_and(|e| e.number() == 1205) {
        return true;
    }
    // SQLSTATE 40001 (serialization failure; MySQL reports deadlocks with it too) and 40P01
    // (PostgreSQL deadlock); SQLite's primary code 5 is SQLITE_BUSY (517: BUSY_SNAPSHOT).
    matches!(database.code().as_deref(), Some("40001" | "40P01" | "5" | "517"))
}

/// Whether a statement was refused because it would duplicate a unique key, on any of the three
/// databases (SQLite's constraint codes, PostgreSQL's SQLSTATE 23505, MySQL's error 1062).
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the connection was found dead (the server or the network dropped it): an I/O error,
/// as a pooled connection the server closed meets on its next statement.
pub fn is_connection_lost(error: &DbErr) -> bool {
    matches!(driver_error(error), Some(sea_orm::sqlx::Error::Io(_)))
}

/// The driver's error behind a statement's, a query's or a connection's failure.
fn driver_error(error: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(inner))
        | DbErr::Query(RuntimeErr::SqlxError(inner))
        | DbErr::Conn(RuntimeErr::SqlxError(inner)) => Some(inner.as_ref()),
        _ => None,
    }
}

/// An error that may say a transaction lost a lock race.
pub trait MaybeTransient {
    fn is_transient(&self) -> bool;
}

impl MaybeTransient for DbErr {
    fn is_transient(&self) -> bool {
        is_transient(self)
    }
}

/// SQLite has one writer at a time. Left to itself, a transaction that finds the database locked
/// sleeps and tries again (SQLite's busy handler sleeps up to 100 ms a time), so under load
/// writers wait far longer than the writes take and the slowest wait most of a second. The shop's
/// write transactions (`transaction!`) take turns here instead, in arrival order. One turn per
/// process: tests that run several SQLite databases side by side share it.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This process's turn to write, on SQLite; nothing to wait for on the other databases.
pub async fn writer_turn(db: &DatabaseConnection) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(SQLITE_WRITER.lock().await),
        _ => None,
    }
}

/// A transaction that lost a lock race is run again this many times before the caller hears.
pub const ATTEMPTS: usize = 4;

/// `transaction!(db, ErrorType, |txn| body)`: runs `body` (an expression that may use `?` and
/// `.await`, and yields `Result<T, ErrorType>`) in a transaction, committed when it succeeds, and
/// runs it again (a few times) when it failed only because a concurrent transaction won a lock
/// race. Every write path with an invariant goes through here, so none of them turns a deadlock
/// into an error. A transaction that finds its pooled connection dead at `BEGIN` (dropped by a
/// database restart while idle for less than `PING_IF_IDLE_FOR`) begins again on another: nothing
/// of it reached the server. A macro rather than a function taking an async closure: the futures of such
/// closures cannot be shown to be `Send` for axum handlers.
macro_rules! transaction {
    ($db:expr, $error:ty, |$txn:ident| $body:expr) => {{
        let _turn = $crate::db::writer_turn($db).await;
        let mut attempt = 1;
        loop {
            let $txn = match sea_orm::TransactionTrait::begin($db).await {
                Ok(txn) => txn,
                Err(error) if $crate::db::is_connection_lost(&error) && attempt < $crate::db::ATTEMPTS => {
                    tracing::warn!(attempt, %error, "a pooled connection was dead at BEGIN; beginning on another");
                    attempt += 1;
                    continue;
                }
                Err(error) => break Err::<_, $error>(error.into()),
            };
            let result: Result<_, $error> = async { $body }.await;
            match $crate::db::finish($txn, result).await {
                Err(error) if $crate::db::MaybeTransient::is_transient(&error) && attempt < $crate::db::ATTEMPTS => {
                    tracing::warn!(attempt, "a transaction lost a lock race; running it again");
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use transaction;

/// Locks the user's row for the rest of the transaction (a no-op update, which locks on every
/// database and on SQLite takes the write lock up front): one user's cart and order changes then
/// run one at a time, while different users' run side by side.
pub async fn lock_user(txn: &DatabaseTransaction, user_id: i32) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entities::user::Entity::update_many()
        .col_expr(entities::user::Column::IsActive, Expr::col(entities::user::Column::IsActive))
        .filter(entities::user::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Applies every pending migration; a no-op when the schema is current.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("running database migrations")
}

/// The file behind a `sqlite://` URL, unless it is an in-memory database.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// The URL with any password replaced, for logs and error messages: the one in the user
/// information (up to the last `@` of the authority, so a password may hold `@`) and those in
/// query parameters (`password=`, `sslpassword=`).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = rest.split_once('?').map_or((rest, None), |(path, query)| (path, Some(query)));
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let query = query.map(|query| {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    match query {
        Some(query) => format!("{scheme}://{authority}{path}?{query}"),
        None => format!("{scheme}://{authority}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_files_and_redacts_passwords() {
        assert_eq!(sqlite_file("sqlite://./data/mxshop.db?mode=rwc"), Some(Path::new("./data/mxshop.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x@y/z"), None);
        assert_eq!(redact("postgres://shop:secret@db:5432/shop"), "postgres://shop:***@db:5432/shop");
        assert_eq!(redact("mysql://root@127.0.0.1/test"), "mysql://root@127.0.0.1/test");
        assert_eq!(redact("postgres://shop:p@ss@db/shop"), "postgres://shop:***@db/shop");
        assert_eq!(
            redact("postgres://db/shop?user=shop&password=secret&sslpassword=k&sslmode=require"),
            "postgres://db/shop?user=shop&password=***&sslpassword=***&sslmode=require"
        );
        assert_eq!(redact("sqlite://./data/mxshop.db?mode=rwc"), "sqlite://./data/mxshop.db?mode=rwc");
    }

    #[tokio::test]
    async fn a_duplicate_key_is_a_unique_violation_and_nothing_else_is() {
        let db = connect("sqlite::memory:", 1).await.unwrap();
        let run = |sql: &'static str| sea_orm::ConnectionTrait::execute_unprepared(&db, sql);
        run("CREATE TABLE t (k INTEGER NOT NULL UNIQUE)").await.unwrap();
        run("INSERT INTO t (k) VALUES (1)").await.unwrap();
        assert!(is_unique_violation(&run("INSERT INTO t (k) VALUES (1)").await.unwrap_err()));
        assert!(!is_unique_violation(&run("INSERT INTO t (k) VALUES (NULL)").await.unwrap_err()), "NOT NULL");
        assert!(!is_unique_violation(&run("INSERT INTO missing (k) VALUES (1)").await.unwrap_err()));
    }

    /// Every pooled connection gets the small page cache, not SQLite's 2 MB default.
    #[tokio::test]
    async fn sqlite_connections_keep_a_small_page_cache() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let db = connect(&format!("sqlite://{}?mode=rwc", file.path().display()), 4).await.unwrap();
        let pool = db.get_sqlite_connection_pool();
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut connection = pool.acquire().await.unwrap();
            let (size,): (i64,) =
                sea_orm::sqlx::query_as("PRAGMA cache_size").fetch_one(&mut *connection).await.unwrap();
            assert_eq!(size, -i64::from(SQLITE_CACHE_KIB));
            held.push(connection);
        }
    }
}
