//! `tropescan eval LABELED.jsonl`

use std::path::PathBuf;

use clap::Args;

use super::{fail, print, EngineArgs, Exit};

#[derive(Args)]
pub struct EvalArgs {
    /// Labeled JSON Lines: id, text, label (positive|negative), categories, note
    #[arg(value_name = "LABELED.jsonl")]
    file: PathBuf,
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
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => return fail(&format!("cannot read {}: {e}", args.file.display()), None),
    };
    let docs = match tropescan::eval::read_labeled(&text) {
        Ok(d) => d,
        Err(e) => {
            return fail(
                &format!("{}: {e}", args.file.display()),
                Some("each line needs id, text, label and optionally categories and note"),
            )
        }
    };
    let report = tropescan::eval::evaluate(&engine, &docs);
    if args.json {
        print(&(serde_json::to_string_pretty(&report).expect("serializable") + "\n"));
    } else {
        print(&tropescan::eval::render(&report));
    }
    Exit::Ok
}
