//! Writing into mxshop's database: multi-row INSERTs (upserts by primary key with `--merge`) in
//! savepoints inside the table's transaction, the row to blame when a batch fails, the emptiness
//! check, and sequences moved past the imported keys.

use anyhow::Context as _;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, IdenStatic, Iterable,
    PrimaryKeyToColumn, Statement, TransactionTrait,
};

use super::tables::Table;

/// Bound parameters per INSERT: well under every backend's limit (SQLite 32766, PostgreSQL and
/// MySQL 65535), large enough that a statement carries a thousand goods.
const PARAMETERS_PER_STATEMENT: usize = 20_000;

/// Rows per INSERT for an entity with this many columns.
pub fn batch_rows(columns: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / columns.max(1)).clamp(1, 1000)
}

/// mxshop's database being imported into.
pub struct Target<'a> {
    pub db: &'a DatabaseConnection,
    pub merge: bool,
}

impl Target<'_> {
    /// Writes one batch in a savepoint. When the batch fails, its rows are tried again one at a
    /// time to name the one the database refuses; the error then carries that row's id.
    pub async fn write_batch<E: EntityTrait>(
        &self,
        txn: &DatabaseTransaction,
        table: &Table<E>,
        rows: Vec<(i32, E::ActiveModel)>,
    ) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let savepoint = txn.begin().await?;
        let batch = self.insert::<E>(&savepoint, table, rows.iter().map(|(_, model)| model.clone())).await;
        let Err(batch_error) = batch else {
            savepoint.commit().await?;
            return Ok(());
        };
        savepoint.rollback().await?;
        // Row by row, each after the ones before it: a row may clash with another of its batch.
        let retry = txn.begin().await?;
        for (id, model) in rows {
            if let Err(error) = self.insert::<E>(&retry, table, [model]).await {
                retry.rollback().await?;
                anyhow::bail!("{} row {id} cannot be written: {error}", table.source);
            }
        }
        retry.rollback().await?;
        Err(anyhow::Error::new(batch_error).context(format!("writing a batch of {}", table.source)))
    }

    async fn insert<E: EntityTrait>(
        &self,
        txn: &DatabaseTransaction,
        table: &Table<E>,
        models: impl IntoIterator<Item = E::ActiveModel>,
    ) -> Result<u64, sea_orm::DbErr> {
        let mut insert = E::insert_many(models);
        if self.merge {
            let keys: Vec<E::Column> = E::PrimaryKey::iter().map(PrimaryKeyToColumn::into_column).collect();
            let updated = E::Column::iter().filter(|column| {
                !keys.iter().any(|key| key.as_str() == column.as_str())
                    && !table.kept_on_merge.contains(&column.as_str())
            });
            insert = insert.on_conflict(OnConflict::columns(keys.clone()).update_columns(updated).to_owned());
        }
        insert.exec_without_returning(txn).await
    }
}

/// The tables that already hold rows, with their counts.
pub async fn non_empty_tables(db: &DatabaseConnection, tables: &[&str]) -> anyhow::Result<Vec<(String, i64)>> {
    let mut found = Vec::new();
    for &table in tables {
        let statement = Query::select().expr(Expr::cust("COUNT(*)")).from(Alias::new(table)).to_owned();
        let row = db.query_one(&statement).await.with_context(|| format!("counting {table}"))?;
        let count: i64 = row.map(|row| row.try_get_by_index(0)).transpose()?.unwrap_or_default();
        if count > 0 {
            found.push((table.to_owned(), count));
        }
    }
    Ok(found)
}

/// Moves each table's id sequence past the largest id, so that rows created after the import do
/// not collide with imported ones. SQLite's AUTOINCREMENT follows explicit ids by itself.
pub async fn advance_sequences(db: &DatabaseConnection, tables: &[&str]) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    for &table in tables {
        match backend {
            DbBackend::Postgres => {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
                     COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
                );
                db.query_one_raw(Statement::from_string(backend, sql))
                    .await
                    .with_context(|| format!("advancing the id sequence of {table}"))?;
            }
            DbBackend::MySql => {
                let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM `{table}`");
                let next: i64 = db
                    .query_one_raw(Statement::from_string(backend, sql))
                    .await?
                    .map(|row| row.try_get_by_index(0))
                    .transpose()?
                    .unwrap_or(1);
                db.execute_unprepared(&format!("ALTER TABLE `{table}` AUTO_INCREMENT = {next}"))
                    .await
                    .with_context(|| format!("advancing the AUTO_INCREMENT of {table}"))?;
            }
            _ => {}
        }
    }
    Ok(())
}
