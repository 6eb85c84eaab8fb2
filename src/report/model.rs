//! The report's data, as written to `report.json`. Field by field documentation is in
//! `docs/report.md`; the same words are on the types below.
//!
//! Counts are integers; rates are fractions in [0, 1] rounded to 6 decimals; scores are
//! rounded to 4. Lists are sorted as their doc comment says, so the same run always gives
//! the same JSON.

use serde::Serialize;

/// The value of [`Report::format`]; changes when a field changes meaning or goes away.
pub const REPORT_FORMAT: &str = "tropescan-report/1";

/// Number of score histogram bins over [0, 1].
pub const HISTOGRAM_BINS: usize = 20;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// Version of the tropescan that wrote the report.
    pub tool_version: String,
    /// The run reported on.
    pub run: RunReport,
    /// The run compared against (`--baseline`), if any.
    pub baseline: Option<RunReport>,
    /// The run beside the baseline, if there is one.
    pub comparison: Option<Comparison>,
    /// Wall times and throughput: the only figures that differ between two scans of the
    /// same input, kept apart so they are easy to leave out of comparisons.
    pub timing: Timings,
}

/// Timings of the run and the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    /// The run.
    pub run: Timing,
    /// The baseline.
    pub baseline: Option<Timing>,
}

/// How long a run took.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// Wall time: the longest of the manifests' invocation times (ranks run side by side;
    /// a resumed scan counts its last invocation only).
    pub wall_seconds: f64,
    /// Time spent in shards, summed over shards (CPU-side work, all invocations).
    pub shard_seconds: f64,
    /// Input bytes (on disk) per wall second, in MB/s.
    pub input_mb_per_second: f64,
    /// Documents per wall second.
    pub docs_per_second: f64,
}

/// Everything about one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run folders, as given.
    pub dirs: Vec<String>,
    /// The manifest files read, relative to their run folder, in folder then name order.
    pub manifests: Vec<String>,
    /// How the run was scanned.
    pub scan: ScanInfo,
    /// Headline totals.
    pub totals: RunTotals,
    /// Flagged documents per trope category, in category order.
    pub categories: Vec<CategoryStats>,
    /// Flagged documents per source, by documents (most first), then name;
    /// `(unattributed)` last.
    pub sources: Vec<SourceStats>,
    /// One entry per shard, in shard name order.
    pub shards: Vec<ShardStats>,
    /// Document scores.
    pub histogram: Histogram,
    /// Every rule that fired, by hits (most first), then rule id.
    pub rules: Vec<RuleStats>,
    /// Pairs of categories that reach the threshold in the same flagged document, by
    /// documents (most first), then names.
    pub cooccurrence: Vec<PairStats>,
    /// Counter-trope documents (the upsampling pool).
    pub counter: CounterSummary,
    /// The highest-scoring flagged documents, best first (score, then shard and row).
    pub top_flagged: Vec<DocExample>,
    /// Bad input recorded by the scan.
    pub errors: ErrorSummary,
    /// Things a reader should know to interpret the figures (sampling of the document
    /// table, missing ranks, incomplete shards).
    pub notes: Vec<String>,
}

/// How the run was scanned, from its manifests.
#[derive(Debug, Clone, Serialize)]
pub struct ScanInfo {
    /// Versions of tropescan that wrote the manifests, sorted, without repeats.
    pub tool_versions: Vec<String>,
    /// SHA-256 over the lexicon files.
    pub lexicon_digest: String,
    /// Document score at which a document is flagged.
    pub threshold: f64,
    /// Minimum span score kept, when the manifests record it.
    pub min_span_score: Option<f64>,
    /// The document model as the manifests record it (`sha256:<digest> threshold <t>`, or
    /// `none`); absent for runs of versions without one.
    pub model: Option<String>,
    /// The counter-trope model as the manifests record it (`sha256:<digest>`, or `none`);
    /// absent for runs of versions without one.
    pub counter_model: Option<String>,
    /// Whether the document table holds every document (`--all-docs`), in every manifest.
    pub all_docs: bool,
    /// Trope categories, in score-column order.
    pub categories: Vec<String>,
    /// Number of ranks the shards were split over.
    pub world_size: usize,
    /// Ranks whose manifests were found, sorted.
    pub ranks: Vec<usize>,
}

/// Headline totals of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunTotals {
    /// Shards.
    pub shards: u64,
    /// Shards that could not be read at all.
    pub shards_failed: u64,
    /// Shards read only in part (truncated or corrupt stream).
    pub shards_partial: u64,
    /// Documents scanned.
    pub docs: u64,
    /// Bytes of document text scanned.
    pub bytes: u64,
    /// Bytes of input on disk (compressed where compressed).
    pub input_bytes: u64,
    /// Estimated tokens: text bytes / 4.
    pub est_tokens: u64,
    /// Spans kept (trope and counter).
    pub spans: u64,
    /// Flagged documents (document score >= threshold).
    pub flagged: u64,
    /// `flagged / docs`.
    pub flagged_rate: f64,
    /// Flagged documents whose document score is below the threshold: flagged by the
    /// document model alone, so they count in no category.
    pub flagged_by_model: u64,
    /// Counter-trope documents (counter score >= threshold).
    pub counter_docs: u64,
    /// `counter_docs / docs`.
    pub counter_rate: f64,
    /// Errors recorded (records, shards and inputs).
    pub errors: u64,
}

/// One trope category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryStats {
    /// Category name.
    pub category: String,
    /// Documents whose score for this category is >= threshold.
    pub flagged: u64,
    /// `flagged / docs` of the run.
    pub rate: f64,
    /// Spans of this category.
    pub spans: u64,
}

/// One source: the documents' `source` column when set, else the shard's folder.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStats {
    /// Source name; `(unattributed)` gathers documents without spans whose source cannot
    /// be known (see `docs/report.md`).
    pub source: String,
    /// Documents attributed to it.
    pub docs: u64,
    /// Whether `docs` is exact. Without `--all-docs`, documents without spans have no
    /// row and so no known source; a source sharing a shard with such documents has a
    /// lower bound here.
    pub docs_exact: bool,
    /// Flagged documents (always exact: flagged documents have rows).
    pub flagged: u64,
    /// `flagged / flagged documents of the run`.
    pub share_of_flagged: f64,
    /// `flagged / docs`, when `docs` is exact (never for `(unattributed)`).
    pub rate: Option<f64>,
    /// Counter-trope documents.
    pub counter_docs: u64,
}

/// One shard.
#[derive(Debug, Clone, Serialize)]
pub struct ShardStats {
    /// Shard name, as the scan discovered it.
    pub shard: String,
    /// `done`, `partial` or `failed`.
    pub status: String,
    /// Documents scanned.
    pub docs: u64,
    /// Text bytes scanned.
    pub bytes: u64,
    /// Spans kept.
    pub spans: u64,
    /// Flagged documents.
    pub flagged: u64,
    /// `flagged / docs`.
    pub rate: f64,
    /// Counter-trope documents.
    pub counter_docs: u64,
    /// Errors recorded for it.
    pub errors: u64,
}

/// Document scores in equal-width bins over [0, 1].
#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    /// Width of a bin (1 / [`HISTOGRAM_BINS`]).
    pub bin_width: f64,
    /// Documents per bin; bin `i` holds scores in `[i*w, (i+1)*w)`, the last one also 1.
    /// Documents without a row in the document table score 0 and are in bin 0.
    pub counts: Vec<u64>,
    /// Of bin 0, the documents without a row in the document table (no span; only
    /// documents with spans have rows unless the scan ran with `--all-docs`).
    pub docs_without_row: u64,
}

/// One lexicon rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleStats {
    /// Rule id.
    pub rule: String,
    /// Category of its spans (`counter` for counter-trope cues).
    pub category: String,
    /// Spans it produced.
    pub hits: u64,
    /// Documents it fired in.
    pub docs: u64,
    /// Flagged documents it fired in.
    pub flagged_docs: u64,
    /// Mean span score.
    pub mean_score: f64,
}

/// Two categories reaching the threshold in the same flagged document.
#[derive(Debug, Clone, Serialize)]
pub struct PairStats {
    /// First category (in category order).
    pub a: String,
    /// Second category.
    pub b: String,
    /// Flagged documents with both.
    pub docs: u64,
}

/// Counter-trope documents.
#[derive(Debug, Clone, Serialize)]
pub struct CounterSummary {
    /// Documents whose counter score is >= threshold.
    pub docs: u64,
    /// `docs / docs of the run`.
    pub rate: f64,
    /// Of them, documents that are also flagged.
    pub also_flagged: u64,
    /// The highest counter scores, best first (counter score, then shard and row).
    pub examples: Vec<DocExample>,
}

/// A document shown with its spans in context.
#[derive(Debug, Clone, Serialize)]
pub struct DocExample {
    /// Document id.
    pub doc_id: String,
    /// Shard.
    pub shard: String,
    /// Line or row in the shard, from 0.
    pub row: u64,
    /// Source (column value, or the shard's folder).
    pub source: String,
    /// Text length in bytes.
    pub bytes: u64,
    /// Document score.
    pub score: f64,
    /// Counter-trope score.
    pub counter_score: f64,
    /// Category scores above 0, in category order.
    pub categories: Vec<CategoryScore>,
    /// Spans in the span table.
    pub n_spans: u64,
    /// Passages of the text around its spans, in text order (at most three, chosen by
    /// best span score).
    pub passages: Vec<Passage>,
}

/// A category's score in one document.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryScore {
    /// Category.
    pub category: String,
    /// Score.
    pub score: f64,
}

/// A stretch of a document's text with its spans marked, rebuilt from the spans'
/// contexts.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    /// Byte offset of `text` in the document.
    pub offset: u64,
    /// The text.
    pub text: String,
    /// Whether `text` starts at the start of the document.
    pub at_start: bool,
    /// Whether `text` ends at the end of the document.
    pub at_end: bool,
    /// Spans in it, by start then end.
    pub marks: Vec<Mark>,
}

/// One span inside a [`Passage`].
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    /// Start byte offset in the passage text.
    pub start: usize,
    /// End byte offset in the passage text (exclusive).
    pub end: usize,
    /// Category (`counter` for counter-trope spans).
    pub category: String,
    /// Rule id.
    pub rule: String,
    /// Span score.
    pub score: f64,
    /// The AI-agent cue that qualified it.
    pub agent: Option<String>,
}

/// Bad input recorded by the scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ErrorSummary {
    /// Errors counted in the manifests.
    pub total: u64,
    /// Errors per kind in the errors files, by count (most first), then kind.
    pub by_kind: Vec<KindCount>,
    /// The first few errors of each kind by shard and row, kinds in `by_kind` order.
    pub examples: Vec<ErrorExample>,
    /// Errors files named by a manifest but absent.
    pub missing_files: Vec<String>,
}

/// Errors of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindCount {
    /// Kind (`invalid_json`, `truncated`, ...).
    pub kind: String,
    /// How many.
    pub count: u64,
}

/// One line of an errors file.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorExample {
    /// Kind.
    pub kind: String,
    /// Shard (or input).
    pub shard: String,
    /// Line or row, when the error is about one record.
    pub row: Option<u64>,
    /// What went wrong.
    pub reason: String,
}

/// The run beside its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Whether both runs used the same lexicons (same digest).
    pub same_lexicons: bool,
    /// Whether both runs used the same threshold.
    pub same_threshold: bool,
    /// Whether both runs used the same document model (or none), as far as their
    /// manifests record it.
    pub same_model: bool,
    /// Headline figures, run beside baseline, in headline order.
    pub headline: Vec<Change>,
    /// Flagged document ids in the run but not flagged in the baseline.
    pub new_flagged: IdDiff,
    /// Flagged document ids in the baseline but not flagged in the run.
    pub gone_flagged: IdDiff,
}

/// A number that is a count or a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    /// A count (differences of counts may be negative).
    Int(i64),
    /// A fraction or other real value.
    Real(f64),
}

impl Num {
    /// The value as `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Real(r) => r,
        }
    }
}

/// One figure of the run beside the baseline's.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Stable key (`docs`, `flagged_rate`, ...).
    pub metric: String,
    /// For people.
    pub label: String,
    /// Run value.
    pub run: Num,
    /// Baseline value.
    pub baseline: Num,
    /// `run - baseline`.
    pub change: Num,
    /// `change / baseline`, when the baseline is not 0.
    pub relative: Option<f64>,
}

/// Document ids flagged on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct IdDiff {
    /// How many distinct ids.
    pub count: u64,
    /// The first ids in byte order.
    pub examples: Vec<String>,
}
