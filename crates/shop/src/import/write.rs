//! Writing into mxshop's database: multi-row INSERTs (upserts by primary key with `--merge`) in
//! savepoints inside the table's transaction, the row to blame when a batch fails, the emptiness
//! check, and sequences moved past the imported keys.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IdenStatic, Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter, Statement, TransactionTrait, Value,
};

use super::tables::Table;

/// Bound parameters per INSERT: well under every backend's limit (SQLite 32766, PostgreSQL and
/// MySQL 65535), large enough that a statement carries a thousand goods.
const PARAMETERS_PER_STATEMENT: usize = 20_000;

/// Bytes of values per INSERT: MySQL refuses a statement larger than `max_allowed_packet` (4 MiB
/// by default on older servers, 16 MiB on MariaDB), and goods descriptions are long HTML.
pub const BYTES_PER_STATEMENT: usize = 2 * 1024 * 1024;

/// Rows per INSERT for an entity with this many columns.
pub fn batch_rows(columns: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / columns.max(1)).clamp(1, 1000)
}

/// About how many bytes a row's values take in a statement: text and bytes by length, anything
/// else as a number.
pub fn row_bytes<A: ActiveModelTrait>(model: &A) -> usize {
    <A::Entity as EntityTrait>::Column::iter()
        .map(|column| match model.get(column).into_value() {
            Some(Value::String(Some(text))) => text.len() + 8,
            Some(Value::Bytes(Some(bytes))) => bytes.len() + 8,
            _ => 16,
        })
        .sum()
}

/// A value as the report shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::String(Some(text)) => format!("{text:?}"),
        Value::Int(Some(number)) => number.to_string(),
        other => format!("{other:?}"),
    }
}

/// mxshop's database being imported into.
pub struct Target<'a> {
    pub db: &'a DatabaseConnection,
    pub merge: bool,
}

impl Target<'_> {
    /// Writes one batch in a savepoint. When the batch fails, its rows are tried again one at a
    /// time to name the one the database refuses; the error then carries that row's id.
    ///
    /// With `--merge`, rows that would overwrite a row of mxshop's own (same id, another
    /// identity) or clash with one (same unique identity, another id) are left out: returned
    /// with the reason, never written.
    pub async fn write_batch<E: EntityTrait>(
        &self,
        txn: &DatabaseTransaction,
        table: &Table<E>,
        mut rows: Vec<(i32, E::ActiveModel)>,
    ) -> anyhow::Result<Vec<(i32, String)>> {
        let refused = if self.merge { conflicts(txn, table, &rows).await? } else { Vec::new() };
        if !refused.is_empty() {
            rows.retain(|(id, _)| !refused.iter().any(|(refused, _)| refused == id));
        }
        if rows.is_empty() {
            return Ok(refused);
        }
        let savepoint = txn.begin().await?;
        let batch = self.insert::<E>(&savepoint, table, rows.iter().map(|(_, model)| model.clone())).await;
        let Err(batch_error) = batch else {
            savepoint.commit().await?;
            return Ok(refused);
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

/// The rows of `rows` that a `--merge` must not write, with why: the target holds a row with
/// the same id but another identity (mxshop made it after an earlier import), or holds one of the
/// row's unique values (the identity, a mobile, a trade_no) under another id — which MySQL's
/// upsert would otherwise overwrite, and the other databases refuse.
async fn conflicts<E: EntityTrait>(
    txn: &DatabaseTransaction,
    table: &Table<E>,
    rows: &[(i32, E::ActiveModel)],
) -> anyhow::Result<Vec<(i32, String)>> {
    let Some(identity) = table.identity else { return Ok(Vec::new()) };
    let column_named = |name: &str| {
        E::Column::iter()
            .find(|column| column.as_str() == name)
            .with_context(|| format!("{} has no column {name}", table.name))
    };
    let column = column_named(identity.column)?;
    let key = E::PrimaryKey::iter()
        .next()
        .map(PrimaryKeyToColumn::into_column)
        .with_context(|| format!("{} has no primary key", table.name))?;
    let mut unique = Vec::new();
    if identity.unique {
        unique.push(column);
    }
    for name in table.unique {
        unique.push(column_named(name)?);
    }
    let value_of = |model: &E::ActiveModel, column: E::Column| {
        model.get(column).into_value().filter(|value| *value != Value::String(None))
    };
    let incoming: HashMap<i32, Value> =
        rows.iter().filter_map(|(id, model)| Some((*id, value_of(model, column)?))).collect();
    let mut condition = Condition::any().add(key.is_in(rows.iter().map(|(id, _)| *id)));
    // Unique value → the incoming row holding it; compared without case, as MySQL's collations
    // do (PostgreSQL and SQLite return exact matches only).
    let mut holders: Vec<HashMap<String, i32>> = Vec::new();
    for &unique_column in &unique {
        let values: Vec<(i32, Value)> =
            rows.iter().filter_map(|(id, model)| Some((*id, value_of(model, unique_column)?))).collect();
        condition = condition.add(unique_column.is_in(values.iter().map(|(_, value)| value.clone())));
        holders.push(values.into_iter().map(|(id, value)| (shown(&value).to_lowercase(), id)).collect());
    }
    let existing = E::find().filter(condition).all(txn).await.with_context(|| format!("reading {}", table.name))?;
    let mut refused = BTreeMap::new();
    for model in existing {
        let id = match model.get(key) {
            Value::Int(Some(id)) => id,
            other => anyhow::bail!("{} id {other:?} is not a 32-bit integer", table.name),
        };
        let theirs = model.get(column);
        if let Some(ours) = incoming.get(&id)
            && *ours != theirs
        {
            refused.insert(
                id,
                format!(
                    "conflicts with mxshop's own {} {id}: {} {} there, {} here; not overwritten",
                    table.name,
                    identity.column,
                    shown(&theirs),
                    shown(ours)
                ),
            );
        }
        for (&unique_column, holders) in unique.iter().zip(&holders) {
            let value = model.get(unique_column);
            if let Some(&incoming_id) = holders.get(&shown(&value).to_lowercase())
                && incoming_id != id
            {
                refused.entry(incoming_id).or_insert_with(|| {
                    format!(
                        "conflicts with mxshop's own {} {id}, which has the same {} {}; not imported",
                        table.name,
                        unique_column.as_str(),
                        shown(&value)
                    )
                });
            }
        }
    }
    Ok(refused.into_iter().collect())
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
                // Never backwards: ids the sequence already handed out (perhaps to rows deleted
                // since) are not handed out again.
                let name = format!("SELECT pg_get_serial_sequence('\"{table}\"', 'id')");
                let sequence: String = db
                    .query_one_raw(Statement::from_string(backend, name))
                    .await?
                    .map(|row| row.try_get_by_index(0))
                    .transpose()?
                    .with_context(|| format!("{table} has no id sequence"))?;
                let sql = format!(
                    "SELECT setval('{sequence}', GREATEST(COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, \
                     (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence})), false)"
                );
                db.query_one_raw(Statement::from_string(backend, sql))
                    .await
                    .with_context(|| format!("advancing the id sequence of {table}"))?;
            }
            DbBackend::MySql => {
                // Never backwards either (InnoDB lets AUTO_INCREMENT go down to MAX(id) + 1).
                let sql = format!(
                    "SELECT CAST(GREATEST(COALESCE((SELECT MAX(id) FROM `{table}`), 0) + 1, \
                     COALESCE((SELECT AUTO_INCREMENT FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'), 1)) AS SIGNED) AS next"
                );
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
