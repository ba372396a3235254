//! Progress per table: a bar with rows/s and ETA on a terminal, plain lines otherwise (logs, CI).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::report::TableCounts;

/// Plain mode prints a line every this many rows of a long table.
const PLAIN_EVERY: u64 = 50_000;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: u64,
    started: Instant,
    name: &'static str,
}

impl Progress {
    pub fn start(name: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template("{msg:<14} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(name);
            bar
        });
        Self { bar, total, done: 0, started: Instant::now(), name }
    }

    pub fn advance(&mut self, rows: u64) {
        let before = self.done / PLAIN_EVERY;
        self.done += rows;
        match &self.bar {
            Some(bar) => bar.inc(rows),
            None if self.done / PLAIN_EVERY > before => {
                println!("  {}: {} of {} rows", self.name, self.done, self.total)
            }
            None => {}
        }
    }

    /// Ends the bar and prints the table's line; returns the seconds taken.
    pub fn finish(self, counts: &TableCounts) -> f64 {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 { counts.read as f64 / seconds } else { 0.0 };
        println!(
            "{}: {} read, {} imported, {} skipped in {seconds:.2} s ({rate:.0} rows/s)",
            counts.entity,
            counts.read,
            counts.imported,
            counts.skipped_total()
        );
        seconds
    }
}
