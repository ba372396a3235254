//! What an import did: counts per entity (read, imported, skipped with reason) and every warning,
//! printed at the end and written as `import-report.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    pub target: String,
    pub dry_run: bool,
    pub merge: bool,
    pub tables: Vec<TableCounts>,
    pub warnings: Vec<Warning>,
    /// Rows `--merge` refused to write over rows of mxshop's own (each also a warning).
    pub conflicts: u64,
    /// Every user imported with mxshop's superuser rights.
    pub superusers: Vec<Superuser>,
    /// Why the import stopped, when it did.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TableCounts {
    pub entity: &'static str,
    pub source_table: &'static str,
    pub read: u64,
    /// Written, or with `--dry-run` would have been.
    pub imported: u64,
    pub skipped: BTreeMap<&'static str, u64>,
    pub seconds: f64,
}

impl TableCounts {
    pub fn new(entity: &'static str, source_table: &'static str) -> Self {
        Self { entity, source_table, read: 0, imported: 0, skipped: BTreeMap::new(), seconds: 0.0 }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

#[derive(Debug, Serialize)]
pub struct Superuser {
    pub id: i32,
    pub username: String,
}

#[derive(Debug, Serialize)]
pub struct Warning {
    pub entity: &'static str,
    pub id: i32,
    pub message: String,
}

/// Warnings printed at the end; the JSON report has them all (a dry run, which writes no JSON,
/// prints them all).
const PRINTED_WARNINGS: usize = 40;

impl Report {
    pub fn new(source: String, target: String, dry_run: bool, merge: bool) -> Self {
        Self {
            source,
            target,
            dry_run,
            merge,
            tables: Vec::new(),
            warnings: Vec::new(),
            conflicts: 0,
            superusers: Vec::new(),
            error: None,
        }
    }

    pub fn warn(&mut self, entity: &'static str, id: i32, message: String) {
        self.warnings.push(Warning { entity, id, message });
    }

    /// The counts table, the skip reasons and the first warnings, as printed at the end.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let imported = if self.dry_run { "would import" } else { "imported" };
        let _ = writeln!(out, "{:<14} {:>9} {:>12} {:>8}", "entity", "read", imported, "skipped");
        for table in &self.tables {
            let _ = writeln!(
                out,
                "{:<14} {:>9} {:>12} {:>8}",
                table.entity,
                table.read,
                table.imported,
                table.skipped_total()
            );
            for (reason, count) in &table.skipped {
                let _ = writeln!(out, "    skipped {count}: {reason}");
            }
        }
        if !self.superusers.is_empty() {
            let list: Vec<String> = self.superusers.iter().map(|s| format!("{} (id {})", s.username, s.id)).collect();
            let _ = writeln!(out, "\nsuperusers: {}", list.join(", "));
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\n{} warning(s):", self.warnings.len());
            let printed = if self.dry_run { usize::MAX } else { PRINTED_WARNINGS };
            for warning in self.warnings.iter().take(printed) {
                let _ = writeln!(out, "  {} {}: {}", warning.entity, warning.id, warning.message);
            }
            if self.warnings.len() > printed {
                let _ = writeln!(out, "  … and {} more in the JSON report", self.warnings.len() - PRINTED_WARNINGS);
            }
        }
        out
    }

    /// Written readable by the owner only (it names users, their mobiles and superusers): a new
    /// file replaces the old one.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self).context("serialising the import report")?;
        let fresh = path.with_extension("json.new");
        match std::fs::remove_file(&fresh) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(error).with_context(|| format!("removing {}", fresh.display()));
            }
            _ => {}
        }
        crate::secrets::write_private_file(&fresh, &json)?;
        std::fs::rename(&fresh, path).with_context(|| format!("writing {}", path.display()))
    }
}
