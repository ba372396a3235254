//! Durable state: a SQLite file (through SeaORM's raw statements) holding each record as JSON,
//! written through on every change and read back at start-up.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::model::{Attempt, Notice, RefundRecord, Trade};

/// Everything read back from a state file.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub trades: Vec<Trade>,
    pub refunds: Vec<RefundRecord>,
    pub notices: Vec<Notice>,
    pub attempts: Vec<Attempt>,
    pub clock_offset_ms: i64,
    pub drop_next: u32,
}

/// The SQLite state file.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    db: DatabaseConnection,
}

const TABLES: &[&str] = &["trades", "refunds", "notices"];

impl Store {
    /// Opens (creating if needed) the state file.
    pub async fn open(path: &Path) -> Result<Self> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Database::connect(url.as_str()).await.map_err(|e| Error::store(format!("opening {path:?}"), e))?;
        let store = Store { db };
        for t in TABLES {
            store.exec(&format!("CREATE TABLE IF NOT EXISTS {t} (k TEXT PRIMARY KEY NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL)")).await?;
        }
        store
            .exec("CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)")
            .await?;
        store.exec("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL)").await?;
        Ok(store)
    }

    async fn exec(&self, sql: &str) -> Result<()> {
        self.db.execute_unprepared(sql).await.map_err(|e| Error::store("creating the schema", e))?;
        Ok(())
    }

    /// Reads everything back, in creation order.
    pub async fn load(&self) -> Result<Loaded> {
        let mut out = Loaded {
            trades: self.load_table("trades").await?,
            refunds: self.load_table("refunds").await?,
            notices: self.load_table("notices").await?,
            ..Loaded::default()
        };
        out.attempts = self.load_rows("SELECT data FROM attempts ORDER BY id").await?;
        out.clock_offset_ms = self.meta("clock_offset_ms").await?.and_then(|v| v.parse().ok()).unwrap_or(0);
        out.drop_next = self.meta("drop_next").await?.and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(out)
    }

    async fn load_table<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>> {
        self.load_rows(&format!("SELECT data FROM {table} ORDER BY seq, k")).await
    }

    async fn load_rows<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        let rows = self
            .db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .map_err(|e| Error::store("reading the state", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let data: String = row.try_get("", "data").map_err(|e| Error::store("reading a row", e))?;
            out.push(serde_json::from_str(&data).map_err(|e| Error::store("decoding a row", e))?);
        }
        Ok(out)
    }

    async fn meta(&self, key: &str) -> Result<Option<String>> {
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT v FROM meta WHERE k = ?",
                [key.into()],
            ))
            .await
            .map_err(|e| Error::store("reading meta", e))?;
        match row {
            Some(r) => Ok(Some(r.try_get("", "v").map_err(|e| Error::store("reading meta", e))?)),
            None => Ok(None),
        }
    }

    /// Writes a meta value.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
                [key.into(), value.into()],
            ))
            .await
            .map_err(|e| Error::store("writing meta", e))?;
        Ok(())
    }

    async fn upsert<T: Serialize>(&self, table: &str, key: &str, seq: i64, value: &T) -> Result<()> {
        let data = serde_json::to_string(value).map_err(|e| Error::store("encoding a row", e))?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!(
                    "INSERT INTO {table} (k, seq, data) VALUES (?, ?, ?) ON CONFLICT(k) DO UPDATE SET data = excluded.data"
                ),
                [key.into(), seq.into(), data.into()],
            ))
            .await
            .map_err(|e| Error::store(format!("writing {table}"), e))?;
        Ok(())
    }

    pub async fn save_trade(&self, t: &Trade) -> Result<()> {
        self.upsert("trades", &t.key(), t.gmt_create.timestamp_millis(), t).await
    }

    pub async fn save_refund(&self, r: &RefundRecord) -> Result<()> {
        self.upsert("refunds", &r.key(), r.gmt_refund.timestamp_millis(), r).await
    }

    pub async fn save_notice(&self, n: &Notice) -> Result<()> {
        self.upsert("notices", &n.notify_id, n.created_at.timestamp_millis(), n).await
    }

    pub async fn add_attempt(&self, a: &Attempt) -> Result<()> {
        let data = serde_json::to_string(a).map_err(|e| Error::store("encoding an attempt", e))?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO attempts (data) VALUES (?)",
                [data.into()],
            ))
            .await
            .map_err(|e| Error::store("writing an attempt", e))?;
        Ok(())
    }
}
