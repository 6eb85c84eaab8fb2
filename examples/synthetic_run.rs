//! Writes a synthetic run folder, as `tropescan scan` would, with a chosen number of span
//! rows, to measure `tropescan report` at scale without scanning a large corpus first.
//!
//! ```text
//! cargo run --release --example synthetic_run -- /tmp/big-run 2000000
//! /usr/bin/time -v target/release/tropescan report /tmp/big-run
//! ```
//!
//! The run has 64 shards in 4 source folders. Every document row has 1 to 3 spans with
//! contexts of about 400 bytes (like real spans), scores spread over [0, 1], and five times
//! as many documents without spans as with them (they exist only in the manifest, as in a
//! scan without `--all-docs`). Values come from a fixed-seed generator, so the same
//! arguments give the same run.

use std::path::PathBuf;
use std::sync::Arc;

use tropescan::sink::{
    output_stem, DocRow, Manifest, ShardEntry, ShardStatus, ShardWriter, SpanRow, TableMeta, Totals,
};

const SHARDS: usize = 64;
const CATEGORIES: [&str; 6] = [
    "coercion",
    "deception",
    "power_seeking",
    "self_exfiltration",
    "shutdown_resistance",
    "threatened_disclosure",
];
const SOURCES: [&str; 4] = ["cc/2024", "cc/2023", "books", "forums"];
const WORDS: [&str; 16] = [
    "the", "model", "said", "that", "it", "would", "not", "allow", "anyone", "to", "replace",
    "its", "weights", "before", "the", "board",
];

/// xorshift64*: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn text(rng: &mut Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 6);
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: synthetic_run DIR [SPAN_ROWS]")?);
    let target: u64 = args.next().map_or(Ok(2_000_000), |s| s.parse())?;
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        return Err(format!("{} is not empty", dir.display()).into());
    }
    std::fs::create_dir_all(dir.join("spans"))?;
    std::fs::create_dir_all(dir.join("docs"))?;
    let meta = Arc::new(TableMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        lexicon_digest: "synthetic".to_string(),
        threshold: 0.5,
        model: "none".to_string(),
        counter_model: "none".to_string(),
        categories: CATEGORIES.iter().map(|c| c.to_string()).collect(),
    });
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per_shard = target / SHARDS as u64;
    let mut entries = Vec::new();
    for si in 0..SHARDS {
        let shard = format!(
            "corpus/{}/part-{si:05}.jsonl.zst",
            SOURCES[si % SOURCES.len()]
        );
        let mut w = ShardWriter::new(&dir, &shard, output_stem(&shard), meta.clone());
        let (mut spans_n, mut rows_n, mut flagged, mut counter_docs, mut bytes) = (0, 0, 0, 0, 0);
        let mut row = 0u64;
        while spans_n < per_shard {
            // Five documents without spans for every document with spans.
            row += 1 + rng.below(10);
            let n = 1 + rng.below(3);
            let doc_bytes = 2000 + rng.below(20_000);
            let doc_id = format!("{shard}:{}", row + 1);
            let mut spans = Vec::with_capacity(n as usize);
            let mut cats = vec![0.0; CATEGORIES.len()];
            let mut counter = 0.0f64;
            for k in 0..n {
                let start = (k * 700 + rng.below(500)).min(doc_bytes - 40);
                let span = text(&mut rng, 3);
                let end = start + span.len() as u64;
                let score = rng.unit();
                let is_counter = rng.below(12) == 0;
                let category = if is_counter {
                    counter = 1.0 - (1.0 - counter) * (1.0 - score);
                    "counter".to_string()
                } else {
                    let c = rng.below(CATEGORIES.len() as u64) as usize;
                    cats[c] = f64::max(cats[c], score);
                    CATEGORIES[c].to_string()
                };
                // As the scanner cuts it: up to 200 bytes either side of the span.
                let before = text(&mut rng, 80);
                let before = &before[before.len() - (start as usize).min(200)..];
                let after = text(&mut rng, 80);
                let context = format!("{before}{span}{}", &after[..200]);
                spans.push(SpanRow {
                    doc_id: doc_id.clone(),
                    row,
                    start,
                    end,
                    rule: format!("{category}.rule-{}", rng.below(40)),
                    category,
                    score,
                    text: span,
                    context,
                    agent: (rng.below(3) > 0).then(|| "the model".to_string()),
                });
            }
            let score = 1.0 - cats.iter().map(|p| 1.0 - p).product::<f64>();
            let doc = DocRow {
                doc_id,
                row,
                bytes: doc_bytes,
                score,
                flagged: score >= 0.5,
                n_spans: n as u32,
                categories: cats,
                counter_score: counter,
                model_score: None,
                counter_model_score: None,
                source: (si % 2 == 0).then(|| SOURCES[si % SOURCES.len()].to_string()),
            };
            flagged += u64::from(doc.flagged);
            counter_docs += u64::from(counter >= 0.5);
            bytes += doc_bytes;
            spans_n += n;
            rows_n += 1;
            w.push(spans, vec![doc])?;
        }
        let docs = row + 1;
        // Documents without spans: average length, as the manifest would count them.
        bytes += (docs - rows_n) * 12_000;
        let outputs = w.finish()?;
        entries.push(ShardEntry {
            shard,
            format: "jsonl".into(),
            size: bytes / 3,
            mtime: 0,
            status: ShardStatus::Done,
            docs,
            bytes,
            spans: spans_n,
            flagged,
            counter_docs,
            errors: 0,
            seconds: 1.0,
            outputs,
        });
    }
    let mut manifest = Manifest {
        tool: "tropescan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        lexicon_digest: "synthetic".into(),
        categories: CATEGORIES.iter().map(|c| c.to_string()).collect(),
        options: serde_json::json!({"threshold": 0.5, "min_span_score": 0.1, "all_docs": false}),
        rank: 0,
        world_size: 1,
        errors_file: "errors.jsonl".into(),
        shards: entries,
        totals: Totals::default(),
    };
    manifest.tally(0, 60.0);
    std::fs::write(dir.join("errors.jsonl"), "")?;
    std::fs::write(dir.join("run.json"), serde_json::to_vec_pretty(&manifest)?)?;
    let t = &manifest.totals;
    eprintln!(
        "wrote {}: {} shards, {} documents, {} spans, {} flagged",
        dir.display(),
        t.shards,
        t.docs,
        t.spans,
        t.flagged
    );
    Ok(())
}
