//! `tropescan report RUN_DIR... [-o DIR] [--baseline RUN_DIR]`

use std::path::PathBuf;

use clap::Args;
use tropescan::report::{self, ReportOptions, DEFAULT_TOP_DOCS};

use super::{fail, Exit};

#[derive(Args)]
pub struct ReportArgs {
    /// Run folders written by `scan`, read together as one run (every rank manifest in each)
    #[arg(required = true, value_name = "RUN_DIR")]
    runs: Vec<PathBuf>,
    /// Folder to write report.html, report.md and report.json into [default: the first RUN_DIR]
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// A run to compare with (repeat to read several folders as the baseline run)
    #[arg(long, value_name = "RUN_DIR")]
    baseline: Vec<PathBuf>,
    /// Flagged documents shown with their spans in context
    #[arg(long, default_value_t = DEFAULT_TOP_DOCS, value_name = "N")]
    top: usize,
}

pub fn run(args: ReportArgs) -> Exit {
    let opts = ReportOptions {
        top_docs: args.top,
        ..ReportOptions::default()
    };
    let baseline = (!args.baseline.is_empty()).then_some(args.baseline.as_slice());
    let built = match report::build(&args.runs, baseline, &opts) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string(), e.hint()),
    };
    let dir = args.output.unwrap_or_else(|| args.runs[0].clone());
    match report::write(&built, &dir) {
        Ok(paths) => {
            for p in paths {
                eprintln!("wrote {}", p.display());
            }
            Exit::Ok
        }
        Err(e) => fail(&e.to_string(), e.hint()),
    }
}
