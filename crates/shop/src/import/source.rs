//! Reading the Django database: one connection, one read-only transaction (a consistent snapshot
//! where the database offers one), tables read in pages by primary key, and values read whatever
//! type each backend gives a Django field.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    IsolationLevel, QueryResult, Statement, TransactionTrait, TryGetable,
};

use crate::db;

/// Every table a Django MxShop database has that the import reads.
pub const DJANGO_TABLES: [&str; 14] = [
    "goods_goodscategory",
    "goods_goodsbrand",
    "goods_goods",
    "goods_goodsimage",
    "goods_banner",
    "goods_indexad",
    "goods_hotsearchwords",
    "users_userprofile",
    "user_operation_userfav",
    "user_operation_userleavingmessage",
    "user_operation_useraddress",
    "trade_shoppingcart",
    "trade_orderinfo",
    "trade_ordergoods",
];

/// Rows read per query: large enough that round trips do not dominate, small enough that a page
/// of goods with their HTML descriptions stays a few megabytes.
const PAGE: u64 = 2000;

pub struct Source {
    connection: DatabaseConnection,
    txn: DatabaseTransaction,
    backend: DbBackend,
}

impl Source {
    /// Connects to the Django database and opens the read-only transaction everything is read in.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let url = read_only_url(url)?;
        let mut options = ConnectOptions::new(url.clone());
        options.max_connections(1).min_connections(1).sqlx_logging(false);
        let connection = Database::connect(options)
            .await
            .with_context(|| format!("connecting to the Django database {}", db::redact(&url)))?;
        let backend = connection.get_database_backend();
        // SQLite is opened read-only instead; it has no transaction access modes.
        let txn = match backend {
            DbBackend::Sqlite => connection.begin().await,
            _ => connection.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await,
        }
        .context("opening a read-only transaction on the Django database")?;
        Ok(Self { connection, txn, backend })
    }

    /// Refuses a database that is not a Django MxShop one, or lacks one of its tables, before
    /// anything is written.
    pub async fn check_tables(&self) -> anyhow::Result<()> {
        let sql = match self.backend {
            DbBackend::Sqlite => "SELECT name AS name FROM sqlite_master WHERE type = 'table'",
            DbBackend::Postgres => {
                "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema()"
            }
            _ => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
        };
        let rows = self.txn.query_all_raw(Statement::from_string(self.backend, sql)).await.context("listing tables")?;
        let present: Vec<String> = rows.iter().filter_map(|row| row.try_get::<String>("", "name").ok()).collect();
        let missing: Vec<&str> =
            DJANGO_TABLES.into_iter().filter(|table| !present.iter().any(|p| p.eq_ignore_ascii_case(table))).collect();
        if missing.len() == DJANGO_TABLES.len() {
            anyhow::bail!(
                "the source is not a Django MxShop database: it has none of its tables ({}, …)",
                DJANGO_TABLES[..3].join(", ")
            );
        }
        anyhow::ensure!(
            missing.is_empty(),
            "the Django database lacks table(s) {}; nothing was imported (run Django's `migrate` on it first, \
             or restore the missing tables)",
            missing.join(", ")
        );
        Ok(())
    }

    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        let statement = Query::select().expr(Expr::col(Alias::new("id")).count()).from(Alias::new(table)).to_owned();
        let row = self
            .txn
            .query_one(&statement)
            .await
            .with_context(|| format!("counting {table}"))?
            .with_context(|| format!("counting {table}: no answer"))?;
        let count: i64 = row.try_get_by_index(0).with_context(|| format!("counting {table}"))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// The next page of `table` after primary key `after`, in key order.
    pub async fn page(&self, table: &str, columns: &[&str], after: i64) -> anyhow::Result<Vec<QueryResult>> {
        let statement = Query::select()
            .columns(columns.iter().map(|column| Alias::new(*column)))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).gt(after))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(PAGE)
            .to_owned();
        self.txn.query_all(&statement).await.with_context(|| format!("reading {table} after id {after}"))
    }

    pub async fn close(self) {
        // Read-only: ending it either way changes nothing.
        let _ = self.txn.rollback().await;
        let _ = self.connection.close().await;
    }
}

/// `sqlite:` URLs are opened read-only (the file is never created or changed); other URLs as given.
fn read_only_url(url: &str) -> anyhow::Result<String> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).unwrap_or_default();
    match scheme.as_str() {
        "sqlite" => {
            let (base, query) = url.split_once('?').unwrap_or((url, ""));
            let params: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("mode=")).collect();
            Ok(format!("{base}?{}", params.into_iter().chain(["mode=ro"]).collect::<Vec<_>>().join("&")))
        }
        "mysql" | "mariadb" | "postgres" | "postgresql" => Ok(url.to_owned()),
        _ => anyhow::bail!("--from must be a mysql://, postgres:// or sqlite:// URL, not {}", db::redact(url)),
    }
}

/// A source row being read; errors name the table, the row and the column.
pub struct Row<'a> {
    pub table: &'static str,
    pub id: i32,
    result: &'a QueryResult,
    /// Naive datetimes in the source are in this offset from UTC (Django with `USE_TZ = False`
    /// stores local time).
    utc_offset: chrono::TimeDelta,
}

impl<'a> Row<'a> {
    pub fn new(table: &'static str, result: &'a QueryResult, utc_offset: chrono::TimeDelta) -> anyhow::Result<Self> {
        let mut row = Self { table, id: 0, result, utc_offset };
        row.id = row
            .int("id")?
            .and_then(|id| i32::try_from(id).ok())
            .with_context(|| format!("{table}: a row without a usable id"))?;
        Ok(row)
    }

    fn try_get<T: TryGetable>(&self, column: &str) -> Option<Option<T>> {
        self.result.try_get::<Option<T>>("", column).ok()
    }

    fn unreadable(&self, column: &str, what: &str) -> anyhow::Error {
        anyhow::anyhow!("{} row {}: column {column} cannot be read as {what}", self.table, self.id)
    }

    /// An integer column of any width (and booleans, which some backends store as integers).
    pub fn int(&self, column: &str) -> anyhow::Result<Option<i64>> {
        self.try_get::<i64>(column)
            .or_else(|| self.try_get::<i32>(column).map(|v| v.map(i64::from)))
            .or_else(|| self.try_get::<i16>(column).map(|v| v.map(i64::from)))
            .or_else(|| self.try_get::<bool>(column).map(|v| v.map(i64::from)))
            .ok_or_else(|| self.unreadable(column, "an integer"))
    }

    /// An integer column that must hold a value fitting `i32` (ids, counters).
    pub fn int32(&self, column: &str) -> anyhow::Result<Option<i32>> {
        self.int(column)?
            .map(|value| i32::try_from(value).map_err(|_| self.unreadable(column, "a 32-bit integer")))
            .transpose()
    }

    pub fn required_int32(&self, column: &str) -> anyhow::Result<i32> {
        self.int32(column)?.ok_or_else(|| self.unreadable(column, "a value (it is NULL)"))
    }

    pub fn flag(&self, column: &str) -> anyhow::Result<bool> {
        match self.try_get::<bool>(column) {
            Some(value) => Ok(value.unwrap_or(false)),
            None => Ok(self.int(column)?.is_some_and(|v| v != 0)),
        }
    }

    pub fn float(&self, column: &str) -> anyhow::Result<Option<f64>> {
        self.try_get::<f64>(column)
            .or_else(|| {
                // SQLite keeps a whole number in a REAL column as an integer.
                self.try_get::<i64>(column).map(|v| v.map(|v| v as f64))
            })
            .ok_or_else(|| self.unreadable(column, "a number"))
    }

    pub fn text(&self, column: &str) -> anyhow::Result<Option<String>> {
        self.try_get::<String>(column).ok_or_else(|| self.unreadable(column, "text"))
    }

    pub fn required_text(&self, column: &str) -> anyhow::Result<String> {
        Ok(self.text(column)?.unwrap_or_default())
    }

    /// A datetime in UTC: `timestamptz` values as they are, naive ones shifted from the source's
    /// zone.
    pub fn datetime(&self, column: &str) -> anyhow::Result<Option<NaiveDateTime>> {
        if let Some(naive) = self.try_get::<NaiveDateTime>(column) {
            return Ok(naive.map(|t| t - self.utc_offset));
        }
        self.try_get::<DateTime<Utc>>(column)
            .map(|v| v.map(|t| t.naive_utc()))
            .ok_or_else(|| self.unreadable(column, "a date and time"))
    }

    pub fn date(&self, column: &str) -> anyhow::Result<Option<NaiveDate>> {
        self.try_get::<NaiveDate>(column).ok_or_else(|| self.unreadable(column, "a date"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_sources_are_opened_read_only() {
        assert_eq!(read_only_url("sqlite:///srv/db.sqlite3").unwrap(), "sqlite:///srv/db.sqlite3?mode=ro");
        assert_eq!(
            read_only_url("sqlite://db.sqlite3?mode=rwc&cache=shared").unwrap(),
            "sqlite://db.sqlite3?cache=shared&mode=ro"
        );
        assert_eq!(read_only_url("mysql://root@db/mxshop").unwrap(), "mysql://root@db/mxshop");
        assert!(read_only_url("/srv/db.sqlite3").is_err());
    }
}
