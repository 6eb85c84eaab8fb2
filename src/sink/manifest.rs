//! `run.json`: what was scanned, with which lexicons and options, and how each shard went.

use serde::{Deserialize, Serialize};

/// How a shard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardStatus {
    /// Read to the end (bad records, if any, are counted in `errors`).
    Done,
    /// Reading stopped early (truncated or corrupt stream, undecodable row group); the
    /// records before the damage were scanned.
    Partial,
    /// Nothing could be read.
    Failed,
}

/// One shard's line in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Shard name.
    pub shard: String,
    /// `jsonl`, `parquet` or `text`.
    pub format: String,
    /// Size on disk in bytes.
    pub size: u64,
    /// Modification time, seconds since the Unix epoch (for `--resume`).
    pub mtime: i64,
    /// How it ended.
    pub status: ShardStatus,
    /// Documents scanned.
    pub docs: u64,
    /// Bytes of document text scanned.
    pub bytes: u64,
    /// Spans written.
    pub spans: u64,
    /// Documents flagged.
    pub flagged: u64,
    /// Documents with a counter-trope score of at least the threshold.
    pub counter_docs: u64,
    /// Bad records and shard errors.
    pub errors: u64,
    /// Wall time spent on it.
    pub seconds: f64,
    /// Files written for it, relative to the run folder.
    pub outputs: Vec<String>,
}

/// Totals over the shards of the manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Shards scanned.
    pub shards: u64,
    /// Shards that failed.
    pub shards_failed: u64,
    /// Shards that ended early.
    pub shards_partial: u64,
    /// Documents scanned.
    pub docs: u64,
    /// Text bytes scanned.
    pub bytes: u64,
    /// Input bytes (on disk).
    pub input_bytes: u64,
    /// Spans written.
    pub spans: u64,
    /// Documents flagged.
    pub flagged: u64,
    /// Counter-trope documents.
    pub counter_docs: u64,
    /// Errors recorded (shards, records and inputs).
    pub errors: u64,
    /// Wall time of the run.
    pub seconds: f64,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `tropescan`.
    pub tool: String,
    /// Tool version.
    pub version: String,
    /// SHA-256 of the lexicons.
    pub lexicon_digest: String,
    /// Trope categories, in score-column order.
    pub categories: Vec<String>,
    /// The options that shape the outputs.
    pub options: serde_json::Value,
    /// This manifest's rank and the world size.
    pub rank: usize,
    /// Number of ranks.
    pub world_size: usize,
    /// The errors file, relative to the run folder.
    pub errors_file: String,
    /// One entry per shard, in shard order.
    pub shards: Vec<ShardEntry>,
    /// Totals.
    pub totals: Totals,
}

impl Manifest {
    /// Recomputes `totals` from the shard entries (seconds and errors outside shards are
    /// kept as they are).
    pub fn tally(&mut self, extra_errors: u64, seconds: f64) {
        let mut t = Totals {
            errors: extra_errors,
            seconds,
            ..Totals::default()
        };
        for s in &self.shards {
            t.shards += 1;
            t.shards_failed += u64::from(s.status == ShardStatus::Failed);
            t.shards_partial += u64::from(s.status == ShardStatus::Partial);
            t.docs += s.docs;
            t.bytes += s.bytes;
            t.input_bytes += s.size;
            t.spans += s.spans;
            t.flagged += s.flagged;
            t.counter_docs += s.counter_docs;
            t.errors += s.errors;
        }
        self.totals = t;
    }
}
