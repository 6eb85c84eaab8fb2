//! `tropescan eval LABELED.jsonl...`

use std::path::PathBuf;

use clap::Args;

use super::{fail, print, EngineArgs, Exit};

#[derive(Args)]
pub struct EvalArgs {
    /// Labeled JSON Lines: id, text, label (positive|negative), categories, note. With
    /// several files, each gets a summary line and the full report covers them pooled
    #[arg(value_name = "LABELED.jsonl", required = true)]
    files: Vec<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: EvalArgs) -> Exit {
    let engine = match args.engine.engine() {
        Ok(e) => e,
        Err(x) => return x,
    };
    let mut sets = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => return fail(&format!("cannot read {}: {e}", file.display()), None),
        };
        let docs = match tropescan::eval::read_labeled(&text) {
            Ok(d) => d,
            Err(e) => {
                return fail(
                    &format!("{}: {e}", file.display()),
                    Some("each line needs id, text, label and optionally categories and note"),
                )
            }
        };
        sets.push(tropescan::eval::LabeledSet {
            name: set_name(file, &args.files),
            docs,
        });
    }
    let report = tropescan::eval::evaluate(&engine, &sets);
    if args.json {
        print(&(serde_json::to_string_pretty(&report).expect("serializable") + "\n"));
    } else {
        print(&tropescan::eval::render(&report));
    }
    Exit::Ok
}

/// A set is named by its file name, or by the path as given when two files share a name.
fn set_name(file: &std::path::Path, all: &[PathBuf]) -> String {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(n)
            if all
                .iter()
                .filter(|f| f.file_name() == file.file_name())
                .count()
                == 1 =>
        {
            n
        }
        _ => file.display().to_string(),
    }
}
