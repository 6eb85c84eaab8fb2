//! Command-line parsing and the exit-code contract. Each subcommand has one file that
//! turns its arguments into library calls and prints the results.

mod eval;
mod explain;
mod lexicon;
mod report;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tropescan::engine::{Engine, DEFAULT_MIN_SPAN_SCORE, DEFAULT_THRESHOLD};
use tropescan::lexicon::LexiconSet;
use tropescan::score::DocModel;

/// Exit statuses. Documented in `docs/cli.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The command completed, but bad input was recorded (see `errors.jsonl`), or lexicon
    /// examples failed.
    BadInput = 1,
    /// The command could not run: usage, invalid lexicons, unusable output folder.
    Fatal = 2,
    /// Interrupted (Ctrl-C); a scan can be continued with `--resume`.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Parser)]
#[command(
    name = "tropescan",
    version,
    about = "Find AI-leverage and self-preservation tropes (and their counter-trope) in pre-training corpora",
    long_about = None,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan shards (files, folders, globs) into a run folder of Parquet tables
    Scan(scan::ScanArgs),
    /// Show why a text scores what it scores
    Explain(explain::ExplainArgs),
    /// Measure precision and recall against labeled JSON Lines
    Eval(eval::EvalArgs),
    /// Validate lexicons, run their examples, list them
    Lexicon(lexicon::LexiconArgs),
    /// Write an audit report (HTML, Markdown, JSON) for one or more runs
    Report(report::ReportArgs),
}

/// Options shared by every command that scores text.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Folder of lexicon files to use instead of the embedded ones
    #[arg(long, value_name = "DIR")]
    pub lexicons: Option<PathBuf>,
    /// Document score at which a document is flagged
    #[arg(long, default_value_t = DEFAULT_THRESHOLD, value_parser = unit_interval)]
    pub threshold: f64,
    /// Minimum score for a span to be kept
    #[arg(long, default_value_t = DEFAULT_MIN_SPAN_SCORE, value_parser = unit_interval)]
    pub min_span_score: f64,
    /// Document model file to use instead of the embedded one (format: docs/detection.md)
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Counter-trope model file to use instead of the embedded one (same format)
    #[arg(long, value_name = "FILE")]
    pub counter_model: Option<PathBuf>,
    /// Lexicons alone: ask neither the document model nor the counter-trope model
    #[arg(long, conflicts_with_all = ["model", "model_threshold", "counter_model"])]
    pub no_model: bool,
    /// Model probability at which a gated document is flagged [default: the model file's]
    #[arg(long, value_name = "P", value_parser = unit_interval)]
    pub model_threshold: Option<f64>,
}

fn unit_interval(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in [0, 1]"))
    }
}

impl EngineArgs {
    /// Loads the lexicons and compiles the engine, or prints why not.
    pub fn engine(&self) -> Result<Engine, Exit> {
        let set = match &self.lexicons {
            Some(dir) => LexiconSet::from_dir(dir),
            None => Ok(LexiconSet::embedded()),
        };
        let set = set.map_err(|e| {
            fail(&format!("invalid lexicon: {e}"), Some("run `tropescan lexicon check --lexicons DIR` for details; the format is in docs/lexicon-format.md"))
        })?;
        let (model, counter_model) = if self.no_model {
            (None, None)
        } else {
            let model = match &self.model {
                Some(path) => load_model(path)?,
                None => DocModel::embedded(),
            };
            let counter_model = match &self.counter_model {
                Some(path) => load_model(path)?,
                None => DocModel::embedded_counter(),
            };
            let model = match self.model_threshold {
                Some(t) => model.with_threshold(t),
                None => model,
            };
            (Some(model), Some(counter_model))
        };
        Engine::new(set, self.threshold, self.min_span_score)
            .map(|e| e.with_model(model).with_counter_model(counter_model))
            .map_err(|e| fail(&e.to_string(), None))
    }
}

/// Reads a model file, or prints why it cannot be used.
fn load_model(path: &std::path::Path) -> Result<DocModel, Exit> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
        .and_then(|text| {
            DocModel::parse(&text, &path.display().to_string())
                .map_err(|e| format!("invalid model: {e}"))
        })
        .map_err(|e| {
            fail(
                &e,
                Some("model files are written by scripts/train-model; --no-model scans with the lexicons alone"),
            )
        })
}

/// Prints an error (and a hint) to stderr and returns [`Exit::Fatal`].
pub fn fail(msg: &str, hint: Option<&str>) -> Exit {
    eprintln!("error: {msg}");
    if let Some(h) = hint {
        eprintln!("hint: {h}");
    }
    Exit::Fatal
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly instead of failing.
pub fn print(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(s.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Lexicon(a) => lexicon::run(a),
        Command::Report(a) => report::run(a),
    };
    exit.into()
}
