//! Copying the files imported rows name (goods images, banners, brand images, message files) from
//! Django's `MEDIA_ROOT` into mxshop's media directory, under the same relative paths.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use anyhow::Context as _;

use super::report::Report;

/// Copies (or with `dry_run` only looks for) each referenced file; returns how many were copied
/// (or found). Missing files and names that would leave the media directory are reported.
pub fn copy_referenced(
    references: &[(&'static str, i32, String)],
    media_root: &Path,
    media_dir: &Path,
    dry_run: bool,
    report: &mut Report,
) -> anyhow::Result<u64> {
    let mut done = BTreeSet::new();
    for (entity, id, name) in references {
        if done.contains(name.as_str()) {
            continue;
        }
        let relative = Path::new(name);
        if !relative.components().all(|part| matches!(part, Component::Normal(_))) {
            report.warn(entity, *id, format!("media name {name:?} is not a plain relative path; not copied"));
            continue;
        }
        let from = media_root.join(relative);
        if !from.is_file() {
            report.warn(entity, *id, format!("media file {name} is not in {}", media_root.display()));
            continue;
        }
        if !dry_run {
            let to = media_dir.join(relative);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::copy(&from, &to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
        done.insert(name.as_str());
    }
    Ok(u64::try_from(done.len()).unwrap_or(u64::MAX))
}
