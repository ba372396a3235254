//! `mxshop import django`: moves a running Django MxShop (MySQL, PostgreSQL or SQLite) into
//! mxshop's database, table by table, keeping primary keys and password hashes.
//!
//! The source is only read, in one read-only transaction. Each target table is written in one
//! transaction (batches in savepoints), so a failure leaves that table as it was and names the row.

mod media;
mod progress;
mod report;
mod source;
mod tables;
mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::TimeDelta;
use sea_orm::{DatabaseConnection, EntityName, EntityTrait, Iterable, TransactionTrait};

use self::progress::Progress;
pub use self::report::Report;
use self::report::TableCounts;
use self::source::{Row, Source};
use self::tables::{Context, Mapped, Table};
use self::write::Target;
use crate::config::Config;
use crate::db;
use crate::db::entities::{
    banner, brand, category, goods, goods_image, hot_search_word, index_ad, order_goods, order_info, shopping_cart,
    user, user_address, user_fav, user_message,
};

/// What `mxshop import django` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Django database's URL.
    pub from: String,
    /// Django's `MEDIA_ROOT`, to copy the referenced files from.
    pub media: Option<PathBuf>,
    pub dry_run: bool,
    pub merge: bool,
    /// The Django site ran with `USE_TZ = True`: its naive datetimes are UTC, not Beijing time.
    pub source_utc: bool,
}

/// Django MxShop's `TIME_ZONE = 'Asia/Shanghai'` with `USE_TZ = False`: local times, UTC+8 (China
/// has had no daylight saving time since 1991).
const BEIJING: TimeDelta = TimeDelta::hours(8);

/// The tables written, in the order they are filled (parents first).
fn target_tables() -> [&'static str; 14] {
    [
        category::Entity.table_name(),
        brand::Entity.table_name(),
        goods::Entity.table_name(),
        goods_image::Entity.table_name(),
        banner::Entity.table_name(),
        index_ad::Entity.table_name(),
        hot_search_word::Entity.table_name(),
        user::Entity.table_name(),
        user_fav::Entity.table_name(),
        user_message::Entity.table_name(),
        user_address::Entity.table_name(),
        shopping_cart::Entity.table_name(),
        order_info::Entity.table_name(),
        order_goods::Entity.table_name(),
    ]
}

/// Runs the import into `target` (migrated), or with `--dry-run` (`target` is then `None`) reads
/// and checks everything without writing. Prints progress and the report; writes
/// `import-report.json` unless dry.
pub async fn run(config: &Config, options: &Options, target: Option<&DatabaseConnection>) -> anyhow::Result<Report> {
    let source = Source::open(&options.from).await?;
    let result = import(config, options, &source, target).await;
    source.close().await;
    let report = result?;
    print!("\n{}", report.summary());
    if !options.dry_run {
        let path = report_path(config);
        report.write_json(&path)?;
        println!("\nreport written to {}", path.display());
    }
    match &report.error {
        Some(error) => anyhow::bail!("{error}"),
        None => Ok(report),
    }
}

async fn import(
    config: &Config,
    options: &Options,
    source: &Source,
    target: Option<&DatabaseConnection>,
) -> anyhow::Result<Report> {
    source.check_tables().await?;
    let target = target.map(|db| Target { db, merge: options.merge });
    if let Some(target) = &target
        && !options.merge
    {
        let filled = write::non_empty_tables(target.db, &target_tables()).await?;
        if !filled.is_empty() {
            let list: Vec<String> = filled.iter().map(|(table, count)| format!("{table} ({count} rows)")).collect();
            anyhow::bail!(
                "the target database is not empty: {}; import into an empty database, or pass --merge to \
                 update rows by primary key",
                list.join(", ")
            );
        }
    }
    let report =
        Report::new(db::redact(&options.from), db::redact(&config.database_url()), options.dry_run, options.merge);
    let utc_offset = if options.source_utc { TimeDelta::zero() } else { BEIJING };
    let window = i64::try_from(config.alipay.payment_window_secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .context("alipay.payment_window_secs is out of range")?;
    let mut ctx = Context::new(utc_offset, window, report);
    ctx.set_category_tree(&category_parents(source).await?);
    ctx.set_usernames(usernames(source).await?);
    // MySQL's and MariaDB's default collations compare without case: `Bob` and `bob` clash there.
    let target_url = config.database_url();
    let mysql_target = ["mysql:", "mariadb:"].iter().any(|scheme| target_url.starts_with(scheme));
    ctx.usernames_ignore_case = mysql_target;
    // mxshop's `text` columns are MySQL's TEXT there; Django's were LONGTEXT.
    ctx.text_max_bytes = mysql_target.then_some(65_535);

    let outcome = import_all(source, target.as_ref(), &mut ctx).await;
    // Order totals are compared only once every line was read.
    let mismatches = if outcome.is_ok() { ctx.order_mismatches() } else { Vec::new() };
    if let Err(error) = outcome {
        ctx.report.error = Some(format!("{error:#}"));
    }
    for (order, mount, lines) in mismatches {
        let (mount, lines) = (crate::money::Money::from_fen(mount), crate::money::Money::from_fen(lines));
        ctx.report.warn(
            "orders",
            order,
            format!("order_mount {mount} differs from its lines at today's prices ({lines}); kept {mount}"),
        );
    }
    match &options.media {
        Some(root) => {
            let copied =
                media::copy_referenced(&ctx.media, root, &config.media_dir(), options.dry_run, &mut ctx.report)?;
            println!(
                "media: {copied} file(s) {} from {}",
                if options.dry_run { "found" } else { "copied" },
                root.display()
            );
        }
        None if !ctx.media.is_empty() => {
            println!("media: {} file name(s) imported; files not copied (no --media DIR)", ctx.media.len());
        }
        None => {}
    }
    if let Some(target) = &target {
        write::advance_sequences(target.db, &target_tables()).await?;
    }
    Ok(ctx.report)
}

/// Each table in turn; stops at the first that fails (the ones before it stay imported).
async fn import_all(source: &Source, target: Option<&Target<'_>>, ctx: &mut Context) -> anyhow::Result<()> {
    import_table(source, target, &tables::CATEGORIES, ctx).await?;
    import_table(source, target, &tables::BRANDS, ctx).await?;
    import_table(source, target, &tables::GOODS, ctx).await?;
    import_table(source, target, &tables::GOODS_IMAGES, ctx).await?;
    import_table(source, target, &tables::BANNERS, ctx).await?;
    import_table(source, target, &tables::INDEX_ADS, ctx).await?;
    import_table(source, target, &tables::HOT_WORDS, ctx).await?;
    import_table(source, target, &tables::USERS, ctx).await?;
    import_table(source, target, &tables::FAVOURITES, ctx).await?;
    import_table(source, target, &tables::MESSAGES, ctx).await?;
    import_table(source, target, &tables::ADDRESSES, ctx).await?;
    import_table(source, target, &tables::CARTS, ctx).await?;
    import_table(source, target, &tables::ORDERS, ctx).await?;
    import_table(source, target, &tables::ORDER_LINES, ctx).await
}

/// Every category's parent, read before the categories themselves so that each can be placed in
/// the tree (and written after its parent).
async fn category_parents(source: &Source) -> anyhow::Result<HashMap<i32, Option<i32>>> {
    let mut parents = HashMap::new();
    let mut after = 0;
    loop {
        let page = source.page(tables::CATEGORIES.source, &["id", "parent_category_id"], after).await?;
        if page.is_empty() {
            return Ok(parents);
        }
        for result in &page {
            let row = Row::new(tables::CATEGORIES.source, result, TimeDelta::zero())?;
            parents.insert(row.id, row.int32("parent_category_id")?);
            after = row.id.into();
        }
    }
}

/// Every username, read before the users so that a mobile equal to someone else's username is
/// known whichever of the two comes first.
async fn usernames(source: &Source) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut usernames = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let page = source.page(tables::USERS.source, &["id", "username"], after).await?;
        if page.is_empty() {
            return Ok(usernames);
        }
        for result in &page {
            let row = Row::new(tables::USERS.source, result, TimeDelta::zero())?;
            usernames.extend(row.text("username")?);
            after = row.id.into();
        }
    }
}

/// One table: read page by page, map, write in batches inside one transaction, committed only
/// when the whole table went in.
async fn import_table<E: EntityTrait>(
    source: &Source,
    target: Option<&Target<'_>>,
    table: &Table<E>,
    ctx: &mut Context,
) -> anyhow::Result<()> {
    let total = source.count(table.source).await?;
    let mut counts = TableCounts::new(table.name, table.source);
    let mut progress = Progress::start(table.name, total);
    let result = match target {
        Some(target) => {
            let txn =
                target.db.begin().await.with_context(|| format!("starting the transaction for {}", table.name))?;
            let result = copy_rows(source, Some((target, &txn)), table, ctx, &mut counts, &mut progress).await;
            db::finish(txn, result).await
        }
        None => copy_rows(source, None, table, ctx, &mut counts, &mut progress).await,
    };
    if result.is_err() && target.is_some() {
        // Rolled back: none of the rows counted went in.
        counts.imported = 0;
    }
    counts.seconds = progress.finish(&counts);
    ctx.report.tables.push(counts);
    result.with_context(|| format!("importing {} from {}: nothing of that table was written", table.name, table.source))
}

async fn copy_rows<E: EntityTrait>(
    source: &Source,
    target: Option<(&Target<'_>, &sea_orm::DatabaseTransaction)>,
    table: &Table<E>,
    ctx: &mut Context,
    counts: &mut TableCounts,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let batch_rows = write::batch_rows(E::Column::iter().count());
    let mut batch: Vec<(i32, E::ActiveModel)> = Vec::with_capacity(batch_rows);
    let mut batch_bytes = 0;
    let mut after = 0;
    loop {
        let page = source.page(table.source, table.columns, after).await?;
        if page.is_empty() {
            break;
        }
        for result in &page {
            let row = Row::new(table.source, result, ctx.utc_offset)?;
            after = row.id.into();
            counts.read += 1;
            match (table.map)(&row, ctx)? {
                Mapped::Keep(model) => {
                    counts.imported += 1;
                    batch_bytes += write::row_bytes(&model);
                    batch.push((row.id, model));
                }
                Mapped::Skip { reason, detail } => {
                    *counts.skipped.entry(reason).or_default() += 1;
                    ctx.report.warn(table.name, row.id, format!("not imported: {detail}"));
                }
            }
            // Rows in a write order other than by id wait until the whole table is read.
            if table.write_order.is_none() && (batch.len() >= batch_rows || batch_bytes >= write::BYTES_PER_STATEMENT) {
                flush(target, table, &mut batch, ctx, counts).await?;
                batch_bytes = 0;
            }
        }
        progress.advance(u64::try_from(page.len()).unwrap_or_default());
    }
    if let Some(order) = table.write_order {
        batch.sort_by_key(|(id, _)| (order(ctx, *id), *id));
    }
    while !batch.is_empty() {
        let mut bytes = 0;
        let size = batch
            .iter()
            .take(batch_rows)
            .take_while(|(_, model)| {
                let fits = bytes < write::BYTES_PER_STATEMENT;
                bytes += write::row_bytes(model);
                fits
            })
            .count()
            .max(1);
        let rest = batch.split_off(size);
        flush(target, table, &mut batch, ctx, counts).await?;
        batch = rest;
    }
    Ok(())
}

/// Writes and empties `batch` (with `--dry-run`, only empties it). Rows a `--merge` refused to
/// write over mxshop's own are counted as skipped and reported, and rows pointing at them are
/// left out in the tables after.
async fn flush<E: EntityTrait>(
    target: Option<(&Target<'_>, &sea_orm::DatabaseTransaction)>,
    table: &Table<E>,
    batch: &mut Vec<(i32, E::ActiveModel)>,
    ctx: &mut Context,
    counts: &mut TableCounts,
) -> anyhow::Result<()> {
    let rows = std::mem::take(batch);
    let Some((target, txn)) = target else { return Ok(()) };
    for (id, why) in target.write_batch(txn, table, rows).await? {
        counts.imported = counts.imported.saturating_sub(1);
        *counts.skipped.entry(MERGE_CONFLICT).or_default() += 1;
        ctx.report.warn(table.name, id, format!("not imported: {why}"));
        ctx.report.conflicts += 1;
        ctx.forget(table.name, id);
    }
    Ok(())
}

/// The skip reason of a row `--merge` would have written over one of mxshop's own.
const MERGE_CONFLICT: &str = "conflicts with an mxshop row";

/// `import-report.json` next to a SQLite database file, else in the data directory.
fn report_path(config: &Config) -> PathBuf {
    let url = config.database_url();
    let dir = db::sqlite_file(&url).and_then(Path::parent).map_or_else(|| config.data_dir.clone(), Path::to_path_buf);
    dir.join("import-report.json")
}
