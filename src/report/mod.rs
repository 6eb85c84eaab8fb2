//! The audit report: what a run scanned and what it found, as HTML (with charts),
//! Markdown and JSON.
//!
//! ```text
//!  run folders ──▶ run::load ──▶ aggregate (manifests + Parquet, streamed) ──▶ Report
//!                                                                                │
//!                        report.json ◀── serde    report.md ◀── markdown    report.html ◀── html + svg
//! ```
//!
//! [`build`] reads one or more run folders as one run (every rank manifest in each), and
//! optionally a baseline run, into a [`Report`]; [`write()`] renders it into a folder. The
//! Parquet tables are read batch by batch with only the columns each figure needs, and
//! only a bounded number of documents is kept for the examples, so memory stays flat
//! however many spans a run holds. The same run gives byte-identical reports: nothing in
//! them depends on the clock, and every list is sorted.
//!
//! Timings (wall time, throughput) are kept apart in [`Report::timing`] so that tools
//! comparing reports can drop them.

mod aggregate;
mod compare;
mod fmt;
mod html;
mod markdown;
mod meta;
mod model;
mod passage;
mod read;
mod run;
mod svg;
mod table;
mod top;

use std::io;
use std::path::{Path, PathBuf};

pub use model::*;
pub use run::{load as load_run, LoadedManifest, RunSet};

/// Documents shown in the "top flagged documents" section unless told otherwise.
pub const DEFAULT_TOP_DOCS: usize = 20;

/// What to put in a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Flagged documents shown with their spans in context.
    pub top_docs: usize,
    /// Counter-trope documents shown as examples.
    pub counter_examples: usize,
    /// Ids listed for flagged documents that are new or gone against the baseline.
    pub diff_examples: usize,
    /// Examples listed per error kind.
    pub error_examples: usize,
}

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions {
            top_docs: DEFAULT_TOP_DOCS,
            counter_examples: 5,
            diff_examples: 50,
            error_examples: 3,
        }
    }
}

/// A report that could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The folder holds no `run.json` nor `run.rank-NNNNN.json`.
    #[error("no run manifest in {0}")]
    NoManifest(PathBuf),
    /// A manifest that cannot be read or parsed.
    #[error("cannot read manifest {path}: {reason}")]
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Manifests of one run that disagree on something every manifest must share.
    #[error("{path} has {what} {other}, but {first_path} has {first}")]
    Mismatch {
        /// What differs (`lexicon digest`, `threshold`, `categories`).
        what: &'static str,
        /// The value in the first manifest.
        first: String,
        /// The first manifest.
        first_path: PathBuf,
        /// The other value.
        other: String,
        /// The manifest that differs.
        path: PathBuf,
    },
    /// The same shard listed by two manifests.
    #[error("shard {shard} is listed by both {first} and {second}")]
    DuplicateShard {
        /// The shard.
        shard: String,
        /// One manifest listing it.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A Parquet table that cannot be read.
    #[error("cannot read {path}: {reason}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Any other I/O error.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read`, `create` or `write`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl ReportError {
    /// A `hint:` line for the user, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ReportError::NoManifest(_) => {
                Some("give the folder a scan wrote (`tropescan scan INPUT... -o RUN_DIR`)")
            }
            ReportError::Mismatch { .. } => Some(
                "folders read as one run must come from one scan configuration; compare runs with --baseline instead",
            ),
            ReportError::DuplicateShard { .. } => Some(
                "each shard may appear in one manifest only; give the folders of separate scans separately, or compare them with --baseline",
            ),
            ReportError::Parquet { .. } => {
                Some("the run folder may be incomplete or damaged; rerun the scan with --resume")
            }
            ReportError::BadManifest { .. } | ReportError::Io { .. } => None,
        }
    }
}

/// Builds the report of the run in `dirs` (read as one run), compared with the run in
/// `baseline` when given.
///
/// # Errors
/// When a folder holds no manifest, manifests disagree, or a file cannot be read.
pub fn build(
    dirs: &[PathBuf],
    baseline: Option<&[PathBuf]>,
    opts: &ReportOptions,
) -> Result<Report, ReportError> {
    let run = run::load(dirs)?;
    let base = baseline.map(run::load).transpose()?;
    let (run_report, run_ids, run_timing) = aggregate::aggregate(&run, opts, base.is_some())?;
    let mut report = Report {
        format: REPORT_FORMAT.to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        run: run_report,
        baseline: None,
        comparison: None,
        timing: Timings {
            run: run_timing,
            baseline: None,
        },
    };
    if let Some(base) = base {
        let (base_report, base_ids, base_timing) = aggregate::aggregate(&base, opts, true)?;
        let comparison = compare::compare(
            &report.run,
            &base_report,
            (&run, run_ids),
            (&base, base_ids),
            opts,
        )?;
        report.baseline = Some(base_report);
        report.comparison = Some(comparison);
        report.timing.baseline = Some(base_timing);
    }
    Ok(report)
}

/// The report as JSON (`report.json`), pretty-printed, ending with a newline.
pub fn to_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}

/// The report as Markdown (`report.md`).
pub fn to_markdown(report: &Report) -> String {
    markdown::render(report)
}

/// The report as one self-contained HTML page (`report.html`): inline CSS and SVG,
/// nothing loaded from elsewhere.
pub fn to_html(report: &Report) -> String {
    html::render(report)
}

/// Writes `report.html`, `report.md` and `report.json` into `dir` (created if needed),
/// each atomically, and returns their paths.
///
/// # Errors
/// When the folder cannot be created or a file cannot be written.
pub fn write(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source,
    })?;
    let files = [
        ("report.html", to_html(report)),
        ("report.md", to_markdown(report)),
        ("report.json", to_json(report)),
    ];
    let mut written = Vec::new();
    for (name, body) in files {
        let path = dir.join(name);
        crate::sink::write_atomic(&path, body.as_bytes()).map_err(|source| ReportError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
