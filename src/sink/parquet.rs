//! The Parquet tables: `spans/*.parquet` and `docs/*.parquet`, one file each per shard.
//!
//! # Span table (`spans/*.parquet`), one row per kept span
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `doc_id` | utf8 | the document's id, or `<shard>:<line>` (line from 1) when it has none |
//! | `shard` | utf8 | the shard, as discovered (path with `/`) |
//! | `row` | uint64 | line (JSON Lines) or row (Parquet) index in the shard, from 0 |
//! | `start` | uint64 | byte offset of the span in the document text, inclusive, on a UTF-8 boundary |
//! | `end` | uint64 | byte offset of the span's end, exclusive, on a UTF-8 boundary |
//! | `category` | utf8 | trope category, or `counter` for counter-trope spans |
//! | `rule` | utf8 | the lexicon entry id that fired |
//! | `score` | float64 | the span's score (counter spans: counter evidence), in [0, 1] |
//! | `text` | utf8 | the span: `document_text[start..end]` |
//! | `context` | utf8 | up to 200 bytes either side of the span, on character boundaries |
//! | `agent` | utf8, nullable | the AI-agent cue that qualified the span, as it appears in the text |
//!
//! # Document table (`docs/*.parquet`), one row per document with a span (every document
//! with `--all-docs`)
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `doc_id`, `shard`, `row` | | as in the span table |
//! | `bytes` | uint64 | length of the document text in bytes |
//! | `score` | float64 | document score: noisy-OR of the category scores |
//! | `flagged` | bool | `score >= threshold`, or `model_score >= model threshold` |
//! | `n_spans` | uint32 | rows of this document in the span table |
//! | `score_<category>` | float64 | one column per trope category, in name order |
//! | `counter_score` | float64 | counter-trope score: the counter cues' evidence, or the counter-trope model's probability when higher |
//! | `model_score` | float64, nullable | the document model's probability (the text weighed with the lexicon score and counter cues); null when no model ran, the document has neither a trope hit nor an agent cue, or too few of its words are known |
//! | `counter_model_score` | float64, nullable | the counter-trope model's probability; null when no model ran or the document has no agent cue or no hit |
//! | `source` | utf8, nullable | the record's source field, when it has one |
//!
//! Both tables carry key-value metadata `tropescan.version`, `tropescan.lexicon_digest`,
//! `tropescan.threshold`, `tropescan.model` (the model's digest and threshold, or `none`)
//! and `tropescan.counter_model` (the counter-trope model's digest, or `none`), and are
//! zstd-compressed. Rows are in shard order (row, then
//! span start), written in fixed-size batches, so the bytes do not depend on threads.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{sync_dir, tmp_path};

/// Rows per record batch and per flush; fixed so output bytes never depend on scheduling.
const BATCH_ROWS: usize = 8192;

/// Provenance written into every table.
#[derive(Debug, Clone)]
pub struct TableMeta {
    /// Tool version.
    pub version: String,
    /// Lexicon digest.
    pub lexicon_digest: String,
    /// Flag threshold.
    pub threshold: f64,
    /// The document model: `sha256:<digest> threshold <t>`, or `none`.
    pub model: String,
    /// The counter-trope model: `sha256:<digest>`, or `none`.
    pub counter_model: String,
    /// Trope categories (document score columns).
    pub categories: Vec<String>,
}

/// One span row.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    /// Document id.
    pub doc_id: String,
    /// Row in the shard.
    pub row: u64,
    /// Start byte offset in the document text.
    pub start: u64,
    /// End byte offset (exclusive).
    pub end: u64,
    /// Category name.
    pub category: String,
    /// Rule id.
    pub rule: String,
    /// Score.
    pub score: f64,
    /// The span text.
    pub text: String,
    /// Context around it.
    pub context: String,
    /// The qualifying agent cue.
    pub agent: Option<String>,
}

/// One document row.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRow {
    /// Document id.
    pub doc_id: String,
    /// Row in the shard.
    pub row: u64,
    /// Text length in bytes.
    pub bytes: u64,
    /// Document score.
    pub score: f64,
    /// Whether it reaches the threshold.
    pub flagged: bool,
    /// Spans written for it.
    pub n_spans: u32,
    /// Per-category scores.
    pub categories: Vec<f64>,
    /// Counter-trope score.
    pub counter_score: f64,
    /// The document model's probability, when it was asked.
    pub model_score: Option<f64>,
    /// The counter-trope model's probability, when it was asked.
    pub counter_model_score: Option<f64>,
    /// Source field.
    pub source: Option<String>,
}

/// The span table's schema.
pub fn span_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("shard", DataType::Utf8, false),
        Field::new("row", DataType::UInt64, false),
        Field::new("start", DataType::UInt64, false),
        Field::new("end", DataType::UInt64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("context", DataType::Utf8, false),
        Field::new("agent", DataType::Utf8, true),
    ]))
}

/// The document table's schema for these categories.
pub fn doc_schema(categories: &[String]) -> SchemaRef {
    let mut fields = vec![
        Field::new("doc_id", DataType::Utf8, false),
        Field::new("shard", DataType::Utf8, false),
        Field::new("row", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("flagged", DataType::Boolean, false),
        Field::new("n_spans", DataType::UInt32, false),
    ];
    for c in categories {
        fields.push(Field::new(format!("score_{c}"), DataType::Float64, false));
    }
    fields.push(Field::new("counter_score", DataType::Float64, false));
    fields.push(Field::new("model_score", DataType::Float64, true));
    fields.push(Field::new("counter_model_score", DataType::Float64, true));
    fields.push(Field::new("source", DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

struct Table {
    path: PathBuf,
    writer: ArrowWriter<File>,
}

impl Table {
    fn create(path: PathBuf, schema: SchemaRef, meta: &TableMeta) -> io::Result<Table> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).expect("valid level"),
            ))
            .set_created_by(format!("tropescan {}", meta.version))
            .set_key_value_metadata(Some(vec![
                KeyValue::new("tropescan.version".into(), meta.version.clone()),
                KeyValue::new(
                    "tropescan.lexicon_digest".into(),
                    meta.lexicon_digest.clone(),
                ),
                KeyValue::new("tropescan.threshold".into(), meta.threshold.to_string()),
                KeyValue::new("tropescan.model".into(), meta.model.clone()),
                KeyValue::new("tropescan.counter_model".into(), meta.counter_model.clone()),
            ]))
            .build();
        let file = File::create(tmp_path(&path))?;
        let writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(io::Error::other)?;
        Ok(Table { path, writer })
    }

    fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        self.writer.write(batch).map_err(io::Error::other)
    }

    fn finish(self) -> io::Result<PathBuf> {
        let file = self.writer.into_inner().map_err(io::Error::other)?;
        file.sync_all()?;
        std::fs::rename(tmp_path(&self.path), &self.path)?;
        Ok(self.path)
    }
}

/// Where a shard's table goes: `dir/<sub>/<stem>.parquet` (`sub` is `spans` or `docs`).
pub fn table_path(dir: &Path, sub: &str, stem: &str) -> PathBuf {
    dir.join(sub).join(format!("{stem}.parquet"))
}

/// Removes the temporary files a shard's tables are written under, left behind when a
/// scan was killed while writing them. Missing files are not an error.
pub fn remove_tmp_tables(dir: &Path, stem: &str) {
    for sub in ["spans", "docs"] {
        let _ = std::fs::remove_file(tmp_path(&table_path(dir, sub, stem)));
    }
}

/// Removes `path`; returns whether there was something to remove.
fn remove_if_present(path: &Path) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes one shard's span and document tables, creating each file only when it gets
/// its first row.
pub struct ShardWriter {
    shard: String,
    dir: PathBuf,
    stem: String,
    meta: Arc<TableMeta>,
    spans: Vec<SpanRow>,
    docs: Vec<DocRow>,
    span_table: Option<Table>,
    doc_table: Option<Table>,
}

impl ShardWriter {
    /// A writer for `shard` whose files go to `dir/spans/<stem>.parquet` and
    /// `dir/docs/<stem>.parquet`.
    pub fn new(dir: &Path, shard: &str, stem: String, meta: Arc<TableMeta>) -> ShardWriter {
        ShardWriter {
            shard: shard.to_string(),
            dir: dir.to_path_buf(),
            stem,
            meta,
            spans: Vec::new(),
            docs: Vec::new(),
            span_table: None,
            doc_table: None,
        }
    }

    /// Queues rows, writing full batches.
    ///
    /// # Errors
    /// I/O or Parquet errors.
    pub fn push(&mut self, spans: Vec<SpanRow>, docs: Vec<DocRow>) -> io::Result<()> {
        self.spans.extend(spans);
        self.docs.extend(docs);
        while self.spans.len() >= BATCH_ROWS {
            let rest = self.spans.split_off(BATCH_ROWS);
            let rows = std::mem::replace(&mut self.spans, rest);
            self.write_spans(&rows)?;
        }
        while self.docs.len() >= BATCH_ROWS {
            let rest = self.docs.split_off(BATCH_ROWS);
            let rows = std::mem::replace(&mut self.docs, rest);
            self.write_docs(&rows)?;
        }
        Ok(())
    }

    /// Writes what is queued, closes the files and moves them into place. Returns the
    /// files written, relative to the run folder.
    ///
    /// A table that got no row has no file: one left by an earlier scan of the shard (whose
    /// content has changed since) is removed, so the folder holds exactly this scan's rows.
    /// The folders are flushed before returning, so once the caller records the shard as
    /// done, its files are durable.
    ///
    /// # Errors
    /// I/O or Parquet errors.
    pub fn finish(mut self) -> io::Result<Vec<String>> {
        let spans = std::mem::take(&mut self.spans);
        if !spans.is_empty() {
            self.write_spans(&spans)?;
        }
        let docs = std::mem::take(&mut self.docs);
        if !docs.is_empty() {
            self.write_docs(&docs)?;
        }
        let mut out = Vec::new();
        let tables = [
            ("spans", self.span_table.take()),
            ("docs", self.doc_table.take()),
        ];
        for (sub, table) in tables {
            let changed = match table {
                Some(t) => {
                    t.finish()?;
                    out.push(format!("{sub}/{}.parquet", self.stem));
                    true
                }
                None => remove_if_present(&table_path(&self.dir, sub, &self.stem))?,
            };
            if changed {
                sync_dir(&self.dir.join(sub))?;
            }
        }
        Ok(out)
    }

    /// Stops without publishing: temporary files are removed and files already in place
    /// (from an earlier, finished scan of the shard) are left as they are.
    pub fn abandon(mut self) {
        drop(self.span_table.take());
        drop(self.doc_table.take());
        remove_tmp_tables(&self.dir, &self.stem);
    }

    fn write_spans(&mut self, rows: &[SpanRow]) -> io::Result<()> {
        if self.span_table.is_none() {
            let path = table_path(&self.dir, "spans", &self.stem);
            self.span_table = Some(Table::create(path, span_schema(), &self.meta)?);
        }
        let n = rows.len();
        let mut doc_id = StringBuilder::with_capacity(n, n * 16);
        let mut shard = StringBuilder::with_capacity(n, n * self.shard.len());
        let mut row = UInt64Builder::with_capacity(n);
        let mut start = UInt64Builder::with_capacity(n);
        let mut end = UInt64Builder::with_capacity(n);
        let mut category = StringBuilder::with_capacity(n, n * 12);
        let mut rule = StringBuilder::with_capacity(n, n * 24);
        let mut score = Float64Builder::with_capacity(n);
        let mut text = StringBuilder::with_capacity(n, n * 16);
        let mut context = StringBuilder::with_capacity(n, n * 400);
        let mut agent = StringBuilder::with_capacity(n, n * 8);
        for r in rows {
            doc_id.append_value(&r.doc_id);
            shard.append_value(&self.shard);
            row.append_value(r.row);
            start.append_value(r.start);
            end.append_value(r.end);
            category.append_value(&r.category);
            rule.append_value(&r.rule);
            score.append_value(r.score);
            text.append_value(&r.text);
            context.append_value(&r.context);
            agent.append_option(r.agent.as_deref());
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(doc_id.finish()),
            Arc::new(shard.finish()),
            Arc::new(row.finish()),
            Arc::new(start.finish()),
            Arc::new(end.finish()),
            Arc::new(category.finish()),
            Arc::new(rule.finish()),
            Arc::new(score.finish()),
            Arc::new(text.finish()),
            Arc::new(context.finish()),
            Arc::new(agent.finish()),
        ];
        let batch = RecordBatch::try_new(span_schema(), cols).map_err(io::Error::other)?;
        self.span_table
            .as_mut()
            .expect("created above")
            .write(&batch)
    }

    fn write_docs(&mut self, rows: &[DocRow]) -> io::Result<()> {
        let schema = doc_schema(&self.meta.categories);
        if self.doc_table.is_none() {
            let path = table_path(&self.dir, "docs", &self.stem);
            self.doc_table = Some(Table::create(path, schema.clone(), &self.meta)?);
        }
        let n = rows.len();
        let mut doc_id = StringBuilder::with_capacity(n, n * 16);
        let mut shard = StringBuilder::with_capacity(n, n * self.shard.len());
        let mut row = UInt64Builder::with_capacity(n);
        let mut bytes = UInt64Builder::with_capacity(n);
        let mut score = Float64Builder::with_capacity(n);
        let mut flagged = BooleanBuilder::with_capacity(n);
        let mut n_spans = UInt32Builder::with_capacity(n);
        let mut cats: Vec<Float64Builder> = self
            .meta
            .categories
            .iter()
            .map(|_| Float64Builder::with_capacity(n))
            .collect();
        let mut counter = Float64Builder::with_capacity(n);
        let mut model = Float64Builder::with_capacity(n);
        let mut counter_model = Float64Builder::with_capacity(n);
        let mut source = StringBuilder::with_capacity(n, n * 8);
        for r in rows {
            doc_id.append_value(&r.doc_id);
            shard.append_value(&self.shard);
            row.append_value(r.row);
            bytes.append_value(r.bytes);
            score.append_value(r.score);
            flagged.append_value(r.flagged);
            n_spans.append_value(r.n_spans);
            for (b, v) in cats.iter_mut().zip(&r.categories) {
                b.append_value(*v);
            }
            counter.append_value(r.counter_score);
            model.append_option(r.model_score);
            counter_model.append_option(r.counter_model_score);
            source.append_option(r.source.as_deref());
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(doc_id.finish()),
            Arc::new(shard.finish()),
            Arc::new(row.finish()),
            Arc::new(bytes.finish()),
            Arc::new(score.finish()),
            Arc::new(flagged.finish()),
            Arc::new(n_spans.finish()),
        ];
        for mut b in cats {
            cols.push(Arc::new(b.finish()));
        }
        cols.push(Arc::new(counter.finish()));
        cols.push(Arc::new(model.finish()));
        cols.push(Arc::new(counter_model.finish()));
        cols.push(Arc::new(source.finish()));
        let batch = RecordBatch::try_new(schema, cols).map_err(io::Error::other)?;
        self.doc_table
            .as_mut()
            .expect("created above")
            .write(&batch)
    }
}
