//! `tropescan lexicon check|test|list`

use clap::{Args, Subcommand};
use tropescan::engine::describe_rule;
use tropescan::lexicon::anchors::frequent_anchors;

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
            // Not an error: the lexicons work, they only cost more than they need to.
            let frequent = frequent_anchors(set);
            for f in &frequent {
                eprintln!(
                    "warning: {}: {}: anchor {:?} is one of the most frequent English words, so its windows of {} bytes each side cover most of every document",
                    f.file, f.entry, f.anchor, f.window
                );
            }
            if !frequent.is_empty() {
                eprintln!("hint: anchor those patterns on a rarer word near every match (see BENCHMARKS.md); each anchor hit costs a regex search over its window");
            }
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
