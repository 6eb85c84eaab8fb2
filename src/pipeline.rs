//! The scan pipeline: the one place that knows every stage.
//!
//! ```text
//!  reader threads ──batches──▶ rayon workers ──rows──▶ writer (this thread)
//!  (decode shards)  bounded    (parse, normalize,      (reorder per shard, write
//!                   channel     match, score)           Parquet, journal, manifest)
//! ```
//!
//! Readers take shards one at a time and cut them into batches; workers analyse batches in
//! any order; the writer puts each shard's batches back in order, so outputs are the same
//! whatever the thread count. Both channels are bounded, so memory stays flat however
//! large a shard is. A shard's files are renamed into place when it completes and a line
//! is appended to the journal; `--resume` skips the shards the journal lists.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::iter::{ParallelBridge, ParallelIterator};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Scanner};
use crate::reader::{self, Batch, ErrorKind, ReadOptions, RecordError, Shard};
use crate::score::ScoredSpan;
use crate::sink::{
    output_stem, remove_tmp_tables, table_path, tmp_path, write_atomic, DocRow, Manifest,
    ShardEntry, ShardStatus, ShardWriter, SpanRow, TableMeta,
};

/// Bytes of context kept on each side of a span.
pub const CONTEXT_BYTES: usize = 200;

/// Most span rows one document writes. A document that repeats a trope phrase over
/// megabytes would otherwise turn each few bytes of input into a row of hundreds (its
/// context), exhausting memory; real documents stay far below this.
pub const MAX_SPANS_PER_DOC: usize = 10_000;

/// What to do with an output folder that already holds a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Refuse a folder that already holds output.
    New,
    /// Delete previous outputs and start over.
    Force,
    /// Continue the run recorded in the folder.
    Resume,
}

/// Everything `scan` needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Files, folders and globs.
    pub inputs: Vec<String>,
    /// The run folder.
    pub out_dir: PathBuf,
    /// Reader options (fields, limits).
    pub read: ReadOptions,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Write a document row for every document, not only those with spans.
    pub all_docs: bool,
    /// This process's rank.
    pub rank: usize,
    /// Number of ranks sharing the shards.
    pub world_size: usize,
    /// How to treat existing output.
    pub mode: OutputMode,
}

/// Live counters, read by the progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Input bytes read (compressed where compressed).
    pub input_bytes: AtomicU64,
    /// Input bytes to read in all.
    pub total_bytes: AtomicU64,
    /// Documents scanned.
    pub docs: AtomicU64,
    /// Documents flagged.
    pub flagged: AtomicU64,
    /// Shards completed.
    pub shards_done: AtomicU64,
    /// Shards to scan.
    pub shards_total: AtomicU64,
    /// Records and shards with errors.
    pub errors: AtomicU64,
    /// Set to stop early (Ctrl-C): readers stop, finished shards are kept, the rest resume.
    pub cancel: AtomicBool,
}

/// A scan that could not run or could not write its outputs.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The output folder holds a run and neither `--resume` nor `--force` was given.
    #[error("output folder {0} is not empty")]
    NotEmpty(PathBuf),
    /// `--resume` with options or lexicons that differ from the recorded run.
    #[error("cannot resume: {0}")]
    ResumeMismatch(String),
    /// Writing outputs failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// No input could be found at all.
    #[error("no input shard found")]
    NoInput,
}

impl ScanError {
    /// A `hint:` line for the user, where one helps.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ScanError::NotEmpty(_) => Some(
                "pass --resume to continue the run in it, or --force to delete its outputs and start over",
            ),
            ScanError::ResumeMismatch(_) => {
                Some("rerun with the recorded options, or pass --force to start over")
            }
            ScanError::NoInput => Some("give files, folders or globs of .jsonl, .json, .ndjson, .parquet or .txt files (optionally .gz or .zst)"),
            ScanError::Io { .. } => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ScanError + '_ {
    move |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The result of a scan.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The manifest written (totals included).
    pub manifest: Manifest,
    /// `true` when the scan was cancelled before every shard finished.
    pub interrupted: bool,
    /// Shards skipped because the journal says they are done.
    pub resumed_shards: usize,
}

/// File names of one rank's bookkeeping files.
struct RunFiles {
    manifest: PathBuf,
    errors: PathBuf,
    errors_name: String,
    journal: PathBuf,
}

impl RunFiles {
    fn new(dir: &Path, rank: usize, world: usize) -> RunFiles {
        let suffix = if world > 1 {
            format!(".rank-{rank:05}")
        } else {
            String::new()
        };
        let errors_name = format!("errors{suffix}.jsonl");
        RunFiles {
            manifest: dir.join(format!("run{suffix}.json")),
            errors: dir.join(&errors_name),
            errors_name,
            journal: dir.join(format!(".journal{suffix}.jsonl")),
        }
    }

    fn all(&self) -> [&PathBuf; 3] {
        [&self.manifest, &self.errors, &self.journal]
    }
}

#[derive(Serialize, Deserialize)]
struct JournalHeader {
    version: String,
    lexicon_digest: String,
    options: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct JournalLine {
    entry: ShardEntry,
    errors: Vec<RecordError>,
    /// Modification time in nanoseconds since the Unix epoch: the manifest's `mtime` has
    /// whole seconds, too coarse to notice a shard rewritten within the second it was
    /// scanned. 0 when the platform gives none.
    #[serde(default)]
    mtime_ns: u64,
}

/// When a shard was last modified, as recorded in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    secs: i64,
    nanos: u64,
}

impl Stamp {
    fn of(path: &Path) -> Stamp {
        let since = fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        Stamp {
            secs: since.map_or(0, |d| d.as_secs() as i64),
            nanos: since.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        }
    }

    /// `true` when `line` was journaled for this very content (same size, same time).
    fn matches(self, shard: &Shard, line: &JournalLine) -> bool {
        shard.size == line.entry.size
            && self.secs == line.entry.mtime
            && (line.mtime_ns == 0 || line.mtime_ns == self.nanos)
    }
}

/// Scans `cfg.inputs` into `cfg.out_dir` with `engine`, reporting live counts to
/// `progress`.
///
/// # Errors
/// When the run cannot start (output folder, resume mismatch, no input) or outputs cannot
/// be written. Bad input never makes this fail: it is recorded and counted.
pub fn run_scan(
    cfg: &ScanConfig,
    engine: &Engine,
    progress: &Progress,
) -> Result<ScanOutcome, ScanError> {
    let started = Instant::now();
    let world = cfg.world_size.max(1);
    let files = RunFiles::new(&cfg.out_dir, cfg.rank, world);
    let options = options_json(cfg, engine);
    let header = JournalHeader {
        version: env!("CARGO_PKG_VERSION").to_string(),
        lexicon_digest: engine.lexicons().digest().to_string(),
        options: options.clone(),
    };
    // Refusals come before anything is read or written.
    let journaled = check_dir(cfg, &files, &header)?;

    let mut discovery = reader::discover(&cfg.inputs);
    exclude_run_dir(&mut discovery.shards, &cfg.out_dir);
    if discovery.shards.is_empty() && discovery.errors.is_empty() {
        return Err(ScanError::NoInput);
    }
    let input_errors = discovery.errors;
    let every_shard: BTreeSet<String> = discovery.shards.iter().map(|s| s.name.clone()).collect();
    // Ranks take every world-th shard of the sorted list: deterministic, and balanced when
    // shards are of similar size.
    let mine: Vec<(Shard, Stamp)> = discovery
        .shards
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % world == cfg.rank)
        .map(|(_, s)| {
            let stamp = Stamp::of(&s.path);
            (s, stamp)
        })
        .collect();
    let (mut done, mut journal) =
        prepare_dir(cfg, &files, &header, journaled, &mine, &every_shard)?;
    let resumed_shards = done.len();
    let todo: Vec<(usize, &Shard, Stamp)> = mine
        .iter()
        .enumerate()
        .filter(|(_, (s, _))| !done.contains_key(&s.name))
        .map(|(i, (s, m))| (i, s, *m))
        .collect();
    progress
        .total_bytes
        .store(todo.iter().map(|(_, s, _)| s.size).sum(), Ordering::Relaxed);
    progress
        .shards_total
        .store(todo.len() as u64, Ordering::Relaxed);
    progress
        .errors
        .fetch_add(input_errors.len() as u64, Ordering::Relaxed);

    let meta = Arc::new(TableMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        lexicon_digest: engine.lexicons().digest().to_string(),
        threshold: engine.scorer().threshold(),
        model: model_label(engine),
        counter_model: counter_model_label(engine),
        categories: engine.lexicons().categories().to_vec(),
    });
    let finished = execute(cfg, engine, progress, &todo, &meta, &mut journal)?;
    for line in finished {
        done.insert(line.entry.shard.clone(), line);
    }
    let interrupted = done.len() < mine.len();

    // The manifest and the errors file list shards in shard order.
    let mut entries = Vec::new();
    let mut errors_out = Vec::new();
    for (s, _) in &mine {
        if let Some(line) = done.get(&s.name) {
            entries.push(line.entry.clone());
            for e in &line.errors {
                serde_json::to_writer(&mut errors_out, e).expect("serializable");
                errors_out.push(b'\n');
            }
        }
    }
    for e in &input_errors {
        serde_json::to_writer(&mut errors_out, e).expect("serializable");
        errors_out.push(b'\n');
    }
    write_atomic(&files.errors, &errors_out).map_err(io_err(&files.errors))?;
    let mut manifest = Manifest {
        tool: "tropescan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        lexicon_digest: engine.lexicons().digest().into(),
        categories: engine.lexicons().categories().to_vec(),
        options,
        rank: cfg.rank,
        world_size: world,
        errors_file: files.errors_name.clone(),
        shards: entries,
        totals: Default::default(),
    };
    manifest.tally(input_errors.len() as u64, started.elapsed().as_secs_f64());
    let json = serde_json::to_vec_pretty(&manifest).expect("serializable");
    write_atomic(&files.manifest, &json).map_err(io_err(&files.manifest))?;
    Ok(ScanOutcome {
        manifest,
        interrupted,
        resumed_shards,
    })
}

/// The document model as recorded in outputs: digest and threshold, or `none`.
fn model_label(engine: &Engine) -> String {
    engine.model().map_or("none".to_string(), |m| {
        format!("sha256:{} threshold {}", m.digest(), m.threshold())
    })
}

/// The counter-trope model as recorded in outputs: its digest, or `none`.
fn counter_model_label(engine: &Engine) -> String {
    engine
        .counter_model()
        .map_or("none".to_string(), |m| format!("sha256:{}", m.digest()))
}

fn options_json(cfg: &ScanConfig, engine: &Engine) -> serde_json::Value {
    let mut inputs = cfg.inputs.clone();
    inputs.sort();
    serde_json::json!({
        "inputs": inputs,
        "text_field": cfg.read.fields.text.to_string(),
        "id_field": cfg.read.fields.id.to_string(),
        "source_field": cfg.read.fields.source.to_string(),
        "max_doc_bytes": cfg.read.max_doc_bytes,
        "threshold": engine.scorer().threshold(),
        "min_span_score": engine.scorer().min_span_score(),
        "model": model_label(engine),
        "counter_model": counter_model_label(engine),
        "all_docs": cfg.all_docs,
        "rank": cfg.rank,
        "world_size": cfg.world_size.max(1),
    })
}

/// Drops shards that live inside the run folder: a run folder placed inside an input
/// folder would otherwise have its own outputs (`*.parquet`, `errors.jsonl`, `run.json`)
/// read back as input on `--resume`.
fn exclude_run_dir(shards: &mut Vec<Shard>, out_dir: &Path) {
    let Ok(run_dir) = fs::canonicalize(out_dir) else {
        // Not there yet: nothing can be inside it.
        return;
    };
    shards.retain(|s| !fs::canonicalize(&s.path).is_ok_and(|p| p.starts_with(&run_dir)));
}

/// What the journal of an earlier run holds.
struct Journaled {
    /// The last line for each shard, by shard name.
    lines: BTreeMap<String, JournalLine>,
}

/// Checks the output folder against the mode, writing nothing. On `--resume`, reads the
/// journal and refuses when the run was made with other options, lexicons or version.
fn check_dir(
    cfg: &ScanConfig,
    files: &RunFiles,
    header: &JournalHeader,
) -> Result<Option<Journaled>, ScanError> {
    let dir = &cfg.out_dir;
    match cfg.mode {
        OutputMode::New => {
            let ours = files.all().iter().any(|f| f.exists());
            let non_empty =
                dir.is_dir() && fs::read_dir(dir).map_err(io_err(dir))?.next().is_some();
            // Several ranks share one folder, so for them only their own files count.
            if ours || (cfg.world_size <= 1 && non_empty) {
                return Err(ScanError::NotEmpty(dir.clone()));
            }
            Ok(None)
        }
        OutputMode::Force => Ok(None),
        OutputMode::Resume => {
            if files.journal.exists() {
                read_journal(&files.journal, header).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

/// Makes the folder ready: removes previous outputs on `--force`, keeps on `--resume` the
/// journal lines of shards unchanged on disk (removing the outputs of the others), clears
/// temporary files a killed run left, and starts this run's journal. Returns the shards
/// already done and the journal, open for appending.
fn prepare_dir(
    cfg: &ScanConfig,
    files: &RunFiles,
    header: &JournalHeader,
    journaled: Option<Journaled>,
    mine: &[(Shard, Stamp)],
    every_shard: &BTreeSet<String>,
) -> Result<(BTreeMap<String, JournalLine>, Journal), ScanError> {
    let dir = &cfg.out_dir;
    if cfg.mode == OutputMode::Force && dir.exists() {
        remove_outputs(cfg, files, mine)?;
    }
    for sub in ["", "spans", "docs"] {
        let p = dir.join(sub);
        fs::create_dir_all(&p).map_err(io_err(&p))?;
    }
    for f in files.all() {
        let _ = fs::remove_file(tmp_path(f));
    }
    let mut done = BTreeMap::new();
    if let Some(journaled) = journaled {
        let by_name: BTreeMap<&str, &(Shard, Stamp)> = mine
            .iter()
            .map(|item| (item.0.name.as_str(), item))
            .collect();
        for (name, line) in journaled.lines {
            match by_name.get(name.as_str()) {
                Some((shard, stamp)) if stamp.matches(shard, &line) => {
                    done.insert(name, line);
                }
                // Changed on disk: its old outputs go now, so the folder never mixes rows
                // of two versions of a shard; it is scanned again below.
                Some(_) => remove_tables(dir, &name)?,
                // Gone from the inputs: its outputs go too. A shard that still exists but
                // now falls to another rank is left to that rank, which overwrites it.
                None if !every_shard.contains(&name) => remove_tables(dir, &name)?,
                None => {}
            }
        }
    }
    // The journal is rewritten whole (atomically) with the lines kept: a line torn by a
    // crash, or one of a shard scanned again, must not come back on a later resume.
    let mut text = serde_json::to_vec(header).expect("serializable");
    text.push(b'\n');
    for line in done.values() {
        serde_json::to_writer(&mut text, line).expect("serializable");
        text.push(b'\n');
    }
    write_atomic(&files.journal, &text).map_err(io_err(&files.journal))?;
    let journal = fs::OpenOptions::new()
        .append(true)
        .open(&files.journal)
        .map_err(io_err(&files.journal))?;
    Ok((
        done,
        Journal {
            file: journal,
            synced: Instant::now(),
        },
    ))
}

/// Removes a shard's tables and any temporary files of them.
fn remove_tables(dir: &Path, shard: &str) -> Result<(), ScanError> {
    let stem = output_stem(shard);
    remove_tmp_tables(dir, &stem);
    for sub in ["spans", "docs"] {
        let p = table_path(dir, sub, &stem);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&p)(e)),
        }
    }
    Ok(())
}

/// `--force`: one rank alone owns the folder and clears every output in it; among several
/// ranks, each clears only its own files, since the others may be writing theirs.
fn remove_outputs(
    cfg: &ScanConfig,
    files: &RunFiles,
    mine: &[(Shard, Stamp)],
) -> Result<(), ScanError> {
    let dir = &cfg.out_dir;
    let mut bookkeeping: Vec<PathBuf> = files.all().iter().map(|f| f.to_path_buf()).collect();
    if cfg.world_size <= 1 {
        // Files of an earlier multi-rank run in the same folder would otherwise be read
        // as part of this run.
        for entry in fs::read_dir(dir).map_err(io_err(dir))?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rank_file = |prefix: &str, ext: &str| {
                name.strip_prefix(prefix)
                    .and_then(|r| r.strip_suffix(ext))
                    .is_some_and(|r| r.len() == 5 && r.bytes().all(|b| b.is_ascii_digit()))
            };
            if rank_file("run.rank-", ".json")
                || rank_file("errors.rank-", ".jsonl")
                || rank_file(".journal.rank-", ".jsonl")
            {
                bookkeeping.push(entry.path());
            }
        }
    }
    for f in &bookkeeping {
        if f.exists() {
            fs::remove_file(f).map_err(io_err(f))?;
        }
    }
    if cfg.world_size <= 1 {
        // Only tables (and their temporary files) go: `-o` may name a folder that also
        // holds a person's own `docs/`.
        for sub in ["spans", "docs"] {
            let p = dir.join(sub);
            let Ok(entries) = fs::read_dir(&p) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".parquet") || name.ends_with(".parquet.tmp") {
                    let f = entry.path();
                    fs::remove_file(&f).map_err(io_err(&f))?;
                }
            }
        }
    } else {
        for (shard, _) in mine {
            remove_tables(dir, &shard.name)?;
        }
    }
    Ok(())
}

fn read_journal(path: &Path, header: &JournalHeader) -> Result<Journaled, ScanError> {
    let file = fs::File::open(path).map_err(io_err(path))?;
    let mut lines = io::BufReader::new(file).lines();
    let empty = Journaled {
        lines: BTreeMap::new(),
    };
    let first = match lines.next() {
        Some(l) => l.map_err(io_err(path))?,
        None => return Ok(empty),
    };
    // An unreadable header means no usable journal: every shard is scanned again.
    let Ok(old) = serde_json::from_str::<JournalHeader>(&first) else {
        return Ok(empty);
    };
    let short = |d: &str| d[..12.min(d.len())].to_string();
    let mut diffs = Vec::new();
    if old.version != header.version {
        diffs.push(format!(
            "tropescan version: {} recorded, {} now",
            old.version, header.version
        ));
    }
    if old.lexicon_digest != header.lexicon_digest {
        diffs.push(format!(
            "lexicons differ (digest {} recorded, {} now)",
            short(&old.lexicon_digest),
            short(&header.lexicon_digest)
        ));
    }
    if let (Some(a), Some(b)) = (old.options.as_object(), header.options.as_object()) {
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for k in keys {
            if a.get(k) != b.get(k) {
                diffs.push(format!(
                    "{k}: {} recorded, {} now",
                    a.get(k).map_or("unset".into(), |v| v.to_string()),
                    b.get(k).map_or("unset".into(), |v| v.to_string())
                ));
            }
        }
    }
    if !diffs.is_empty() {
        return Err(ScanError::ResumeMismatch(diffs.join("; ")));
    }
    let mut done = BTreeMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        // A line cut short by a crash is simply not a finished shard.
        if let Ok(j) = serde_json::from_str::<JournalLine>(&line) {
            done.insert(j.entry.shard.clone(), j);
        }
    }
    Ok(Journaled { lines: done })
}

/// One batch's results.
#[derive(Default)]
struct BatchOut {
    spans: Vec<SpanRow>,
    docs: Vec<DocRow>,
    errors: Vec<RecordError>,
    n_docs: u64,
    bytes: u64,
    n_spans: u64,
    flagged: u64,
    counter_docs: u64,
}

enum Msg {
    Result {
        shard: usize,
        seq: u64,
        out: BatchOut,
    },
    ReaderDone {
        shard: usize,
        batches: u64,
        errors: Vec<RecordError>,
    },
}

struct ShardState {
    writer: ShardWriter,
    next: u64,
    pending: BTreeMap<u64, BatchOut>,
    total: Option<u64>,
    reader_errors: Vec<RecordError>,
    errors: Vec<RecordError>,
    started: Instant,
    entry: ShardEntry,
}

fn execute(
    cfg: &ScanConfig,
    engine: &Engine,
    progress: &Progress,
    todo: &[(usize, &Shard, Stamp)],
    meta: &Arc<TableMeta>,
    journal: &mut Journal,
) -> Result<Vec<JournalLine>, ScanError> {
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    // A killed run can leave temporary tables behind; only this rank's shards are
    // touched, since other ranks may be writing theirs in the same folder.
    let clear_tmp = || {
        for (_, shard, _) in todo {
            remove_tmp_tables(&cfg.out_dir, &output_stem(&shard.name));
        }
    };
    clear_tmp();
    let threads = if cfg.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        cfg.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("tropescan-worker-{i}"))
        .build()
        .map_err(|e| ScanError::Io {
            path: cfg.out_dir.clone(),
            source: io::Error::other(e),
        })?;
    let cap = threads * 2 + 2;
    let (work_tx, work_rx) = sync_channel::<(usize, u64, Batch)>(cap);
    let (res_tx, res_rx) = sync_channel::<Msg>(cap * 2);
    let next_shard = AtomicUsize::new(0);
    let readers = threads.min(todo.len()).max(1);
    let mut finished = Vec::new();
    let mut write_error: Option<ScanError> = None;

    std::thread::scope(|s| {
        for _ in 0..readers {
            let work_tx = work_tx.clone();
            let res_tx = res_tx.clone();
            let next_shard = &next_shard;
            s.spawn(move || reader_loop(cfg, todo, next_shard, progress, work_tx, res_tx));
        }
        drop(work_tx);
        {
            let res_tx = res_tx.clone();
            let pool = &pool;
            s.spawn(move || worker_loop(pool, engine, cfg, todo, progress, work_rx, res_tx));
        }
        drop(res_tx);
        let mut states: HashMap<usize, ShardState> = HashMap::new();
        for msg in res_rx {
            if write_error.is_some() {
                // Keep draining so readers and workers can finish, but write nothing more.
                progress.cancel.store(true, Ordering::Relaxed);
                continue;
            }
            let shard = match &msg {
                Msg::Result { shard, .. } | Msg::ReaderDone { shard, .. } => *shard,
            };
            let st = states
                .entry(shard)
                .or_insert_with(|| new_state(cfg, &todo[shard], meta));
            match msg {
                Msg::Result { seq, out, .. } => {
                    st.pending.insert(seq, out);
                }
                Msg::ReaderDone {
                    batches, errors, ..
                } => {
                    st.total = Some(batches);
                    st.reader_errors = errors;
                }
            }
            if let Err(e) = drain(st) {
                write_error = Some(ScanError::Io {
                    path: cfg.out_dir.join("spans"),
                    source: e,
                });
                continue;
            }
            if st.total == Some(st.next) {
                let st = states.remove(&shard).expect("present");
                match finish_shard(st, journal, todo[shard].2) {
                    Ok(line) => {
                        progress.shards_done.fetch_add(1, Ordering::Relaxed);
                        finished.push(line);
                    }
                    Err(e) => {
                        write_error = Some(ScanError::Io {
                            path: cfg.out_dir.clone(),
                            source: e,
                        })
                    }
                }
            }
        }
        // Shards left in `states` were cut short by cancellation: their temporary files
        // are removed and they will be scanned again on resume.
        for (_, st) in states {
            st.writer.abandon();
        }
    });
    // A write error can leave a table half-renamed or unwritten: clear what remains.
    clear_tmp();
    if write_error.is_none() {
        if let Err(e) = journal.sync() {
            write_error = Some(io_err(&cfg.out_dir)(e));
        }
    }
    match write_error {
        Some(e) => Err(e),
        None => Ok(finished),
    }
}

fn new_state(cfg: &ScanConfig, item: &(usize, &Shard, Stamp), meta: &Arc<TableMeta>) -> ShardState {
    let (_, shard, stamp) = *item;
    ShardState {
        writer: ShardWriter::new(
            &cfg.out_dir,
            &shard.name,
            output_stem(&shard.name),
            meta.clone(),
        ),
        next: 0,
        pending: BTreeMap::new(),
        total: None,
        reader_errors: Vec::new(),
        errors: Vec::new(),
        started: Instant::now(),
        entry: ShardEntry {
            shard: shard.name.clone(),
            format: serde_json::to_value(shard.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            size: shard.size,
            mtime: stamp.secs,
            status: ShardStatus::Done,
            docs: 0,
            bytes: 0,
            spans: 0,
            flagged: 0,
            counter_docs: 0,
            errors: 0,
            seconds: 0.0,
            outputs: Vec::new(),
        },
    }
}

/// Writes every batch that is next in order.
fn drain(st: &mut ShardState) -> io::Result<()> {
    while let Some(out) = st.pending.remove(&st.next) {
        st.entry.docs += out.n_docs;
        st.entry.bytes += out.bytes;
        st.entry.spans += out.n_spans;
        st.entry.flagged += out.flagged;
        st.entry.counter_docs += out.counter_docs;
        st.errors.extend(out.errors);
        st.writer.push(out.spans, out.docs)?;
        st.next += 1;
    }
    Ok(())
}

/// Publishes a shard's tables, then journals it: a shard is in the journal only once its
/// files are durable, so a crash anywhere leaves it either done or to be scanned again.
fn finish_shard(
    mut st: ShardState,
    journal: &mut Journal,
    stamp: Stamp,
) -> io::Result<JournalLine> {
    let fatal = st.reader_errors.iter().any(|e| {
        matches!(
            e.kind,
            ErrorKind::Truncated | ErrorKind::Unreadable | ErrorKind::BadParquet
        )
    });
    st.entry.status = match (fatal, st.entry.docs > 0 || !st.errors.is_empty()) {
        (false, _) => ShardStatus::Done,
        (true, true) => ShardStatus::Partial,
        (true, false) => ShardStatus::Failed,
    };
    let mut errors = std::mem::take(&mut st.errors);
    errors.extend(std::mem::take(&mut st.reader_errors));
    // Record errors first by position; shard-level errors (no row) last.
    errors.sort_by(|a, b| {
        (a.row.is_none(), a.row, a.offset, &a.reason).cmp(&(
            b.row.is_none(),
            b.row,
            b.offset,
            &b.reason,
        ))
    });
    st.entry.errors = errors.len() as u64;
    st.entry.outputs = st.writer.finish()?;
    st.entry.seconds = (st.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    let line = JournalLine {
        entry: st.entry,
        errors,
        mtime_ns: stamp.nanos,
    };
    let mut bytes = serde_json::to_vec(&line).expect("serializable");
    bytes.push(b'\n');
    journal.append(&bytes)?;
    Ok(line)
}

/// How often journal lines are flushed to disk while shards finish.
const JOURNAL_SYNC_EVERY: Duration = Duration::from_secs(1);

/// The journal, open for appending. A line reaches the page cache at once, so a killed
/// process loses none; it reaches the disk within [`JOURNAL_SYNC_EVERY`] and at the end of
/// the run, so a power loss forgets at most the last second of finished shards, which a
/// resume scans again. (A flush per line cost several milliseconds per shard, which
/// dominated scans of many small shards.) Tables are durable before their line is
/// written, so a line on disk never names missing files.
struct Journal {
    file: fs::File,
    synced: Instant,
}

impl Journal {
    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        self.file.write_all(line)?;
        if self.synced.elapsed() >= JOURNAL_SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.synced = Instant::now();
        Ok(())
    }
}

fn reader_loop(
    cfg: &ScanConfig,
    todo: &[(usize, &Shard, Stamp)],
    next_shard: &AtomicUsize,
    progress: &Progress,
    work_tx: SyncSender<(usize, u64, Batch)>,
    res_tx: SyncSender<Msg>,
) {
    loop {
        if progress.cancel.load(Ordering::Relaxed) {
            return;
        }
        let i = next_shard.fetch_add(1, Ordering::Relaxed);
        if i >= todo.len() {
            return;
        }
        let shard = todo[i].1;
        let mut seq = 0u64;
        let errors = Mutex::new(Vec::new());
        let count = |n: u64| {
            progress.input_bytes.fetch_add(n, Ordering::Relaxed);
        };
        let mut emit = |b: Batch| {
            if progress.cancel.load(Ordering::Relaxed) {
                return false;
            }
            if work_tx.send((i, seq, b)).is_err() {
                return false;
            }
            seq += 1;
            true
        };
        let mut on_error = |e: RecordError| errors.lock().expect("not poisoned").push(e);
        reader::open_shard(shard, &cfg.read, &mut emit, &mut on_error, &count);
        if progress.cancel.load(Ordering::Relaxed) {
            return;
        }
        let errors = errors.into_inner().expect("not poisoned");
        progress
            .errors
            .fetch_add(errors.len() as u64, Ordering::Relaxed);
        if res_tx
            .send(Msg::ReaderDone {
                shard: i,
                batches: seq,
                errors,
            })
            .is_err()
        {
            return;
        }
    }
}

fn worker_loop(
    pool: &rayon::ThreadPool,
    engine: &Engine,
    cfg: &ScanConfig,
    todo: &[(usize, &Shard, Stamp)],
    progress: &Progress,
    work_rx: Receiver<(usize, u64, Batch)>,
    res_tx: SyncSender<Msg>,
) {
    pool.install(|| {
        work_rx.into_iter().par_bridge().for_each_init(
            || (engine.scanner(), res_tx.clone()),
            |(scanner, tx), (shard, seq, batch)| {
                let out = process_batch(scanner, &todo[shard].1.name, batch, cfg);
                progress.docs.fetch_add(out.n_docs, Ordering::Relaxed);
                progress.flagged.fetch_add(out.flagged, Ordering::Relaxed);
                progress
                    .errors
                    .fetch_add(out.errors.len() as u64, Ordering::Relaxed);
                let _ = tx.send(Msg::Result { shard, seq, out });
            },
        );
    });
}

/// Turns one batch into rows.
fn process_batch(
    scanner: &mut Scanner<'_>,
    shard: &str,
    batch: Batch,
    cfg: &ScanConfig,
) -> BatchOut {
    let mut out = BatchOut::default();
    match batch {
        Batch::Lines {
            data,
            first_row,
            first_offset,
        } => {
            // The texts' decoded escapes, one buffer for the whole batch.
            let mut text_buf = String::new();
            for (row, offset, line) in reader::lines_of(&data, first_row, first_offset) {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match reader::parse_line(line, &cfg.read.fields, &mut text_buf) {
                    Ok(doc) => {
                        if doc.text.len() > cfg.read.max_doc_bytes {
                            out.errors.push(RecordError::at(
                                shard,
                                row,
                                Some(offset),
                                ErrorKind::TooLarge,
                                format!(
                                    "document is larger than --max-doc-bytes ({} bytes): skipped",
                                    cfg.read.max_doc_bytes
                                ),
                            ));
                            continue;
                        }
                        let id = match doc.id {
                            Some(id) => id.into_owned(),
                            None => format!("{shard}:{}", row + 1),
                        };
                        scan_doc(
                            scanner,
                            &mut out,
                            cfg,
                            shard,
                            row,
                            id,
                            &doc.text,
                            doc.source.as_deref(),
                        );
                    }
                    Err((kind, reason)) => {
                        out.errors
                            .push(RecordError::at(shard, row, Some(offset), kind, reason));
                    }
                }
            }
        }
        Batch::Docs(docs) => {
            for d in docs {
                scan_doc(
                    scanner,
                    &mut out,
                    cfg,
                    shard,
                    d.row,
                    d.id,
                    &d.text,
                    d.source.as_deref(),
                );
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn scan_doc(
    scanner: &mut Scanner<'_>,
    out: &mut BatchOut,
    cfg: &ScanConfig,
    shard: &str,
    row: u64,
    id: String,
    text: &str,
    source: Option<&str>,
) {
    let engine = scanner.engine();
    let threshold = engine.scorer().threshold();
    let a = scanner.analyze(text);
    out.n_docs += 1;
    out.bytes += text.len() as u64;
    out.flagged += u64::from(a.doc.flagged);
    out.counter_docs += u64::from(a.doc.counter_score >= threshold);
    // A document the model flags, or the counter model finds, may have no span above the
    // span minimum: it is still written, so every flag and every counted counter-trope
    // document has its row.
    if a.spans.is_empty() && !cfg.all_docs && !a.doc.flagged && a.doc.counter_score < threshold {
        return;
    }
    let kept = spans_to_write(a.spans);
    if kept.len() < a.spans.len() {
        out.errors.push(RecordError::at(
            shard,
            row,
            None,
            ErrorKind::TooManySpans,
            format!(
                "{} spans, more than {MAX_SPANS_PER_DOC} per document: the {MAX_SPANS_PER_DOC} highest-scoring were written",
                a.spans.len()
            ),
        ));
    }
    for s in kept.iter() {
        let (start, end) = a.orig_range(&s.hit);
        let agent = s.factors.agent_hit.map(|i| {
            let (cs, ce) = a.orig_range(&a.hits[i as usize]);
            text[cs..ce].to_string()
        });
        out.spans.push(SpanRow {
            doc_id: id.clone(),
            row,
            start: start as u64,
            end: end as u64,
            category: engine.category_name(s.category).to_string(),
            rule: engine
                .lexicons()
                .entry(s.hit.entry as usize)
                .entry
                .id
                .clone(),
            score: s.score,
            text: text[start..end].to_string(),
            context: context(text, start, end, CONTEXT_BYTES).to_string(),
            agent,
        });
    }
    out.n_spans += kept.len() as u64;
    out.docs.push(DocRow {
        doc_id: id,
        row,
        bytes: text.len() as u64,
        score: a.doc.score,
        flagged: a.doc.flagged,
        n_spans: kept.len() as u32,
        categories: a.doc.categories.clone(),
        counter_score: a.doc.counter_score,
        model_score: a.doc.model_score,
        counter_model_score: a.doc.counter_model_score,
        source: source.map(str::to_string),
    });
}

/// The spans a document writes: all of them or, past [`MAX_SPANS_PER_DOC`], the
/// highest-scoring ones (earlier first on ties), in text order.
fn spans_to_write(spans: &[ScoredSpan]) -> Cow<'_, [ScoredSpan]> {
    if spans.len() <= MAX_SPANS_PER_DOC {
        return Cow::Borrowed(spans);
    }
    let order = |a: &usize, b: &usize| spans[*b].score.total_cmp(&spans[*a].score).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..spans.len()).collect();
    idx.select_nth_unstable_by(MAX_SPANS_PER_DOC - 1, order);
    idx.truncate(MAX_SPANS_PER_DOC);
    idx.sort_unstable();
    Cow::Owned(idx.into_iter().map(|i| spans[i]).collect())
}

/// Up to `n` bytes either side of `start..end`, widened to character boundaries.
pub fn context(text: &str, start: usize, end: usize, n: usize) -> &str {
    let mut lo = start.saturating_sub(n);
    while !text.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (end + n).min(text.len());
    while !text.is_char_boundary(hi) {
        hi += 1;
    }
    &text[lo..hi]
}
