//! `tropescan lexicon check|test|list`

use clap::{Args, Subcommand};
use tropescan::engine::describe_rule;

use super::{print, EngineArgs, Exit};

#[derive(Args)]
pub struct LexiconArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Subcommand)]
enum Action {
    /// Validate the lexicons (format, ids, weights, regexes) and compile them
    Check {
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Run every entry's match / no_match examples
    Test {
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// List lexicons and entries
    List {
        /// Print every literal phrase (terms and anchors), one per line, and nothing else
        #[arg(long)]
        phrases: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

pub fn run(args: LexiconArgs) -> Exit {
    let engine_args = match &args.action {
        Action::Check { engine } | Action::Test { engine } | Action::List { engine, .. } => engine,
    };
    let engine = match engine_args.engine() {
        Ok(e) => e,
        Err(x) => return x,
    };
    let set = engine.lexicons();
    match args.action {
        Action::Check { .. } => {
            let entries: usize = set.lexicons().iter().map(|l| l.entries.len()).sum();
            eprintln!(
                "ok: {} lexicons, {} entries, {} phrases; digest {}",
                set.lexicons().len(),
                entries,
                set.phrases().len(),
                set.digest()
            );
            Exit::Ok
        }
        Action::Test { .. } => {
            let report = engine.test_examples();
            for f in &report.failures {
                eprintln!("FAIL {f}");
            }
            let passed = report.run - report.failures.len();
            print(&format!(
                "{passed} passed, {} failed\n",
                report.failures.len()
            ));
            if report.failures.is_empty() {
                Exit::Ok
            } else {
                Exit::BadInput
            }
        }
        Action::List { phrases, .. } => {
            let mut out = String::new();
            if phrases {
                for p in set.phrases() {
                    out.push_str(&p);
                    out.push('\n');
                }
            } else {
                for lex in set.lexicons() {
                    out.push_str(&format!(
                        "{} ({}, {} entries): {}\n",
                        lex.name,
                        lex.kind,
                        lex.entries.len(),
                        lex.description
                    ));
                    for e in &lex.entries {
                        out.push_str(&format!(
                            "  {:<44} {:.2}  {}\n",
                            e.id,
                            e.weight,
                            describe_rule(&e.rule)
                        ));
                    }
                }
            }
            print(&out);
            Exit::Ok
        }
    }
}
