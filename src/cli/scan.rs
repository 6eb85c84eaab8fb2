//! `tropescan scan INPUT... -o RUN_DIR`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tropescan::pipeline::{run_scan, OutputMode, Progress, ScanConfig};
use tropescan::reader::{FieldPath, Fields, ReadOptions, DEFAULT_MAX_DOC_BYTES};

use super::{fail, EngineArgs, Exit};

#[derive(Args)]
pub struct ScanArgs {
    /// Files, folders (recursive) or globs of .jsonl/.json/.ndjson, .parquet or .txt shards,
    /// optionally .gz or .zst
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// The run folder to write
    #[arg(short, long, value_name = "RUN_DIR")]
    output: PathBuf,
    /// Field (or dotted path) holding the document text
    #[arg(long, default_value = "text", value_name = "PATH")]
    text_field: String,
    /// Field (or dotted path) holding the document id
    #[arg(long, default_value = "id", value_name = "PATH")]
    id_field: String,
    /// Field (or dotted path) naming the document's source, for reports
    #[arg(long, default_value = "source", value_name = "PATH")]
    source_field: String,
    /// Worker threads (0: one per core)
    #[arg(short = 'j', long, default_value_t = 0)]
    threads: usize,
    /// Write a document row for every document, not only those with spans
    #[arg(long)]
    all_docs: bool,
    /// Documents larger than this are skipped and recorded in errors.jsonl
    #[arg(long, default_value_t = DEFAULT_MAX_DOC_BYTES, value_name = "BYTES")]
    max_doc_bytes: usize,
    /// This process's rank among --world-size (default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX)
    #[arg(long)]
    rank: Option<usize>,
    /// Number of ranks sharing the inputs (default: $SLURM_ARRAY_TASK_COUNT, else 1)
    #[arg(long)]
    world_size: Option<usize>,
    /// Continue the run recorded in RUN_DIR, skipping finished shards
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Delete previous outputs in RUN_DIR and start over
    #[arg(long)]
    force: bool,
    /// No progress display
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

pub fn run(args: ScanArgs) -> Exit {
    // The handler goes in first, so that a Ctrl-C at any moment (compiling large lexicons
    // takes a while) ends with the documented status.
    let progress = Arc::new(Progress::default());
    {
        let p = progress.clone();
        // First Ctrl-C: stop reading, keep the shards already finished, write the manifest
        // and errors of what was done. Second: leave at once (the journal still makes the
        // run resumable, as after a kill).
        let _ = ctrlc::set_handler(move || {
            if p.cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(Exit::Interrupted as i32);
            }
            eprintln!("\ninterrupted: stopping; finished shards are kept, rerun with --resume to continue");
        });
    }
    let engine = match args.engine.engine() {
        Ok(e) => e,
        Err(x) => return x,
    };
    let path = |s: &str| FieldPath::parse(s);
    let fields = match (
        path(&args.text_field),
        path(&args.id_field),
        path(&args.source_field),
    ) {
        (Ok(t), Ok(i), Ok(s)) => Fields::new(t, i, s),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return fail(&e, None),
    };
    let world_size = args
        .world_size
        .or_else(|| env_usize("SLURM_ARRAY_TASK_COUNT"))
        .unwrap_or(1)
        .max(1);
    let rank = args
        .rank
        .or_else(|| env_usize("SLURM_ARRAY_TASK_ID"))
        .or_else(|| env_usize("JOB_COMPLETION_INDEX"))
        .unwrap_or(0);
    if rank >= world_size {
        return fail(
            &format!("rank {rank} is not below world size {world_size}"),
            Some("ranks count from 0: pass --rank R --world-size N with R < N"),
        );
    }
    let cfg = ScanConfig {
        inputs: args.inputs,
        out_dir: args.output,
        read: ReadOptions {
            fields,
            max_doc_bytes: args.max_doc_bytes,
            ..ReadOptions::default()
        },
        threads: args.threads,
        all_docs: args.all_docs,
        rank,
        world_size,
        mode: if args.resume {
            OutputMode::Resume
        } else if args.force {
            OutputMode::Force
        } else {
            OutputMode::New
        },
    };
    if progress.cancel.load(Ordering::SeqCst) {
        eprintln!("interrupted before scanning: nothing was written");
        return Exit::Interrupted;
    }
    let started = Instant::now();
    let display = (!args.quiet).then(|| spawn_progress(progress.clone(), started));
    let result = run_scan(&cfg, &engine, &progress);
    if let Some((stop, handle)) = display {
        stop.store(true, Ordering::Relaxed);
        let _ = handle.join();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return fail(&e.to_string(), e.hint()),
    };
    let t = &outcome.manifest.totals;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if !args.quiet {
        eprintln!(
            "scanned {} shards ({} resumed), {} documents, {:.1} MB in {:.2}s ({:.1} MB/s)",
            t.shards,
            outcome.resumed_shards,
            t.docs,
            t.input_bytes as f64 / 1e6,
            secs,
            t.input_bytes as f64 / 1e6 / secs
        );
        eprintln!(
            "flagged {} documents ({} spans), {} counter-trope documents",
            t.flagged, t.spans, t.counter_docs
        );
        eprintln!("wrote {}", cfg.out_dir.display());
    }
    if t.errors > 0 {
        eprintln!(
            "warning: {} errors ({} shards failed, {} partial): see {}",
            t.errors,
            t.shards_failed,
            t.shards_partial,
            cfg.out_dir.join(&outcome.manifest.errors_file).display()
        );
    }
    if outcome.interrupted {
        Exit::Interrupted
    } else if t.errors > 0 {
        Exit::BadInput
    } else {
        Exit::Ok
    }
}

type Display = (
    Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
);

fn spawn_progress(p: Arc<Progress>, started: Instant) -> Display {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let tty = std::io::stderr().is_terminal();
    // On a terminal the line is redrawn in place; in a log, a line every 10 seconds.
    let every = if tty {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(10)
    };
    let handle = std::thread::spawn(move || {
        let mut last = Instant::now();
        let mut drew = false;
        while !stop2.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if last.elapsed() < every {
                continue;
            }
            last = Instant::now();
            let line = progress_line(&p, started);
            if tty {
                eprint!("\r\x1b[2K{line}");
            } else {
                eprintln!("{line}");
            }
            drew = true;
        }
        if tty && drew {
            eprint!("\r\x1b[2K");
        }
    });
    (stop, handle)
}

fn progress_line(p: &Progress, started: Instant) -> String {
    let done = p.input_bytes.load(Ordering::Relaxed) as f64;
    let total = p.total_bytes.load(Ordering::Relaxed).max(1) as f64;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let rate = done / secs;
    let eta = if rate > 0.0 {
        (total - done).max(0.0) / rate
    } else {
        0.0
    };
    format!(
        "{:>5.1}% {:.0}/{:.0} MB  {:.1} MB/s  {} docs  {} flagged  {}/{} shards  {} errors  ETA {}",
        100.0 * done / total,
        done / 1e6,
        total / 1e6,
        rate / 1e6,
        p.docs.load(Ordering::Relaxed),
        p.flagged.load(Ordering::Relaxed),
        p.shards_done.load(Ordering::Relaxed),
        p.shards_total.load(Ordering::Relaxed),
        p.errors.load(Ordering::Relaxed),
        fmt_secs(eta)
    )
}

fn fmt_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}
