//! Reading shards into documents.
//!
//! A *shard* is one input file. [`discover`] turns the command line's files, folders and
//! globs into a sorted list of shards; [`open_shard`] yields the shard as a sequence of
//! [`Batch`]es (newline-aligned chunks of JSON Lines, Parquet row groups, one text file)
//! that workers turn into documents independently, so one large shard still keeps every
//! core busy. Bad records never stop a shard: they become [`RecordError`]s.

mod decode;
mod input;
mod jsonl;
mod parquet;

use std::path::PathBuf;

pub use decode::Compression;
pub use input::{discover, Discovery};
pub use jsonl::{lines as lines_of, parse_line, FieldPath, Fields, LineDoc};

/// How a shard's content is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON Lines, one document per line.
    Jsonl,
    /// Apache Parquet, one document per row.
    Parquet,
    /// Plain text, one document per file.
    Text,
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Shard {
    /// Where it is.
    pub path: PathBuf,
    /// How it is shown in outputs (the path as discovered, with `/` separators).
    pub name: String,
    /// Its layout.
    pub format: Format,
    /// Size on disk in bytes.
    pub size: u64,
}

/// What a reader needs to know.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Field paths to extract.
    pub fields: Fields,
    /// Documents longer than this are skipped and recorded as errors.
    pub max_doc_bytes: usize,
    /// Target size of a JSON Lines chunk handed to a worker.
    pub chunk_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            fields: Fields::default(),
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            chunk_bytes: 4 << 20,
        }
    }
}

/// Default `--max-doc-bytes`: 64 MiB, far above any real web document, low enough that a
/// runaway line cannot exhaust memory.
pub const DEFAULT_MAX_DOC_BYTES: usize = 64 << 20;

/// A document ready to scan, owned.
#[derive(Debug, Clone)]
pub struct OwnedDoc {
    /// Row (line or Parquet row) index in the shard, from 0.
    pub row: u64,
    /// Document id (a fallback id when the record has none).
    pub id: String,
    /// The text.
    pub text: String,
    /// The `source` field, when the record has one.
    pub source: Option<String>,
}

/// A unit of work from one shard.
#[derive(Debug)]
pub enum Batch {
    /// Complete lines of JSON Lines.
    Lines {
        /// The bytes (whole lines).
        data: Vec<u8>,
        /// Row index of the first line.
        first_row: u64,
        /// Byte offset of the first line in the (decompressed) shard.
        first_offset: u64,
    },
    /// Documents already decoded (Parquet, plain text).
    Docs(Vec<OwnedDoc>),
}

/// A bad record or a bad shard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordError {
    /// Shard name.
    pub shard: String,
    /// Row (line or Parquet row) index from 0, when the error is about one record.
    pub row: Option<u64>,
    /// Byte offset of the record (decompressed stream for compressed shards).
    pub offset: Option<u64>,
    /// Machine-readable kind, e.g. `invalid_json`, `missing_text`.
    pub kind: ErrorKind,
    /// What went wrong, for a person.
    pub reason: String,
}

/// Kinds of [`RecordError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line is not valid JSON (invalid UTF-8 included).
    InvalidJson,
    /// The line is JSON but not an object.
    NotAnObject,
    /// The text field is absent or null.
    MissingText,
    /// The text field is not a string.
    TextNotString,
    /// Invalid UTF-8 (plain text files, Parquet strings).
    InvalidUtf8,
    /// The document exceeds `--max-doc-bytes`.
    TooLarge,
    /// The document has more spans than one document may write; the highest-scoring were
    /// written and the document was scored on all of them.
    TooManySpans,
    /// A compressed stream ended early or is corrupt.
    Truncated,
    /// The file could not be opened or read.
    Unreadable,
    /// The Parquet file or its columns could not be used.
    BadParquet,
    /// The input path itself is unusable (missing, symlink loop, no shard matched).
    BadInput,
}

/// Shard-level fatal outcome (the shard could not be read at all from some point on).
pub type ShardResult = Result<(), RecordError>;

/// Calls `emit` for each batch of `shard`, in order, and `error` for each bad record the
/// reader itself detects (lines too long, truncated streams, unreadable files).
///
/// Returns the number of input bytes read (on disk, compressed where compressed).
pub fn open_shard(
    shard: &Shard,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Batch) -> bool,
    error: &mut dyn FnMut(RecordError),
    progress: &(dyn Fn(u64) + Sync),
) -> u64 {
    match shard.format {
        Format::Jsonl => jsonl::read_chunks(shard, opts, emit, error, progress),
        Format::Text => decode::read_text(shard, opts, emit, error, progress),
        Format::Parquet => parquet::read_row_groups(shard, opts, emit, error, progress),
    }
}

impl RecordError {
    pub(crate) fn shard(shard: &str, kind: ErrorKind, reason: impl Into<String>) -> RecordError {
        RecordError {
            shard: shard.to_string(),
            row: None,
            offset: None,
            kind,
            reason: reason.into(),
        }
    }

    pub(crate) fn at(
        shard: &str,
        row: u64,
        offset: Option<u64>,
        kind: ErrorKind,
        reason: impl Into<String>,
    ) -> RecordError {
        RecordError {
            shard: shard.to_string(),
            row: Some(row),
            offset,
            kind,
            reason: reason.into(),
        }
    }
}
