//! Streaming aggregation of a run: manifests for what was scanned, the document table for
//! scores and flags, the span table for rules, the errors files for bad input.
//!
//! Each shard is read in two passes over its own files: the document table (projected to
//! ids, flags and scores) and then the span table (projected to row, category, rule and
//! score), which needs the shard's flagged rows to count rules per flagged document. Only
//! per-category, per-source and per-rule counters, a bounded heap of the best documents
//! and one 8-byte hash per flagged document (for comparisons with a baseline) outlive a
//! shard. The documents kept for examples get a third, filtered read of their spans with
//! contexts at the end.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use crate::sink::ShardEntry;

use super::meta::{read_errors, scan_info, timing};
use super::model::*;
use super::passage::{self, SpanCtx};
use super::read::{self, opt_str, Cols};
use super::run::RunSet;
use super::top::{Candidate, Ranked, TopK};
use super::{ReportError, ReportOptions};

/// Source name for documents without spans whose source cannot be known.
pub(crate) const UNATTRIBUTED: &str = "(unattributed)";

/// Sorted, distinct hashes of the ids of a run's flagged documents.
pub(crate) type IdHashes = Vec<u64>;

/// A 64-bit hash of a document id. Only compared within one process, so the hasher's
/// algorithm need not be stable across Rust versions; collisions among a billion ids are
/// unlikely (about 3%), and one would only hide a single id from the new/gone lists.
pub(crate) fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

pub(crate) fn round_to(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// A rate rounded to 6 decimals, 0 when the denominator is.
pub(crate) fn rate(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        round_to(n as f64 / d as f64, 6)
    }
}

/// A score rounded to 4 decimals.
pub(crate) fn score4(x: f64) -> f64 {
    round_to(x, 4)
}

/// The histogram bin of a score.
pub(crate) fn bin(score: f64) -> usize {
    if score.is_nan() || score <= 0.0 {
        return 0;
    }
    ((score * HISTOGRAM_BINS as f64) as usize).min(HISTOGRAM_BINS - 1)
}

/// The folder part of a shard name (`/`-separated), `.` when it has none.
pub(crate) fn folder_of(shard: &str) -> &str {
    match shard.rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => ".",
    }
}

#[derive(Debug, Default)]
struct SourceAcc {
    docs: u64,
    flagged: u64,
    counter: u64,
    /// Shares a shard with documents whose source is unknown, so `docs` is a lower bound.
    inexact: bool,
    /// Named by a `source` column (not a shard's folder).
    from_column: bool,
}

#[derive(Debug)]
struct RuleAcc {
    rule: String,
    category: String,
    hits: u64,
    docs: u64,
    flagged_docs: u64,
    score_sum: f64,
}

/// Per-shard state of the document pass, handed to the span pass.
struct ShardAcc {
    rows: u64,
    flagged: u64,
    counter: u64,
    flagged_rows: Vec<u64>,
    /// Sources named by the shard's document rows.
    sources: BTreeSet<String>,
}

struct Acc<'r> {
    run: &'r RunSet,
    threshold: f64,
    cats: Vec<String>,
    cat_cols: Vec<String>,
    cat_flagged: Vec<u64>,
    cat_spans: Vec<u64>,
    /// `pairs[a * n + b]` for `a < b`.
    pairs: Vec<u64>,
    hist: Vec<u64>,
    docs_without_row: u64,
    flagged: u64,
    counter_docs: u64,
    counter_and_flagged: u64,
    /// Flagged documents below the threshold: the document model's own flags.
    flagged_by_model: u64,
    spans: u64,
    sources: HashMap<String, SourceAcc>,
    /// Documents without rows in shards that name no source, by folder; attributed at the
    /// end, once it is known whether the run uses a source column at all.
    pending: Vec<(String, u64)>,
    source_column_used: bool,
    rule_index: HashMap<String, usize>,
    rules: Vec<RuleAcc>,
    top: TopK,
    top_counter: TopK,
    /// Hashes of flagged ids, collected only when there is a baseline to compare with.
    flagged_ids: Option<Vec<u64>>,
    shards: Vec<ShardStats>,
    disagreements: Vec<String>,
}

/// Aggregates `run` into its report, the hashes of its flagged ids (empty unless
/// `collect_ids`: they cost 8 bytes per flagged document and serve only comparisons) and
/// its timing.
pub(crate) fn aggregate(
    run: &RunSet,
    opts: &ReportOptions,
    collect_ids: bool,
) -> Result<(RunReport, IdHashes, Timing), ReportError> {
    let cats = run.first().categories.clone();
    let n = cats.len();
    let mut acc = Acc {
        run,
        threshold: run.threshold,
        cat_cols: cats.iter().map(|c| format!("score_{c}")).collect(),
        cats,
        cat_flagged: vec![0; n],
        cat_spans: vec![0; n],
        pairs: vec![0; n * n],
        hist: vec![0; HISTOGRAM_BINS],
        docs_without_row: 0,
        flagged: 0,
        counter_docs: 0,
        counter_and_flagged: 0,
        flagged_by_model: 0,
        spans: 0,
        sources: HashMap::new(),
        pending: Vec::new(),
        source_column_used: false,
        rule_index: HashMap::new(),
        rules: Vec::new(),
        top: TopK::new(opts.top_docs),
        top_counter: TopK::new(opts.counter_examples),
        flagged_ids: collect_ids.then(Vec::new),
        shards: Vec::with_capacity(run.shards.len()),
        disagreements: Vec::new(),
    };
    for (si, (mi, entry)) in run.shards.iter().enumerate() {
        acc.shard(si, *mi, entry)?;
    }
    let errors = read_errors(run, opts)?;
    acc.finish(errors)
}

fn output<'e>(entry: &'e ShardEntry, table: &str) -> Option<&'e str> {
    entry
        .outputs
        .iter()
        .find(|o| o.strip_prefix(table).is_some_and(|r| r.starts_with('/')))
        .map(String::as_str)
}

impl Acc<'_> {
    fn shard(&mut self, si: usize, mi: usize, entry: &ShardEntry) -> Result<(), ReportError> {
        let folder = folder_of(&entry.shard).to_string();
        let mut st = ShardAcc {
            rows: 0,
            flagged: 0,
            counter: 0,
            flagged_rows: Vec::new(),
            sources: BTreeSet::new(),
        };
        if let Some(f) = output(entry, "docs") {
            self.docs(&self.run.path(mi, f), si, &folder, &mut st)?;
        }
        st.flagged_rows.sort_unstable();
        let spans = match output(entry, "spans") {
            Some(f) => self.spans_pass(&self.run.path(mi, f), &st.flagged_rows)?,
            None => 0,
        };
        self.spans += spans;
        let rest = entry.docs.saturating_sub(st.rows);
        self.hist[0] += rest;
        self.docs_without_row += rest;
        // Documents without a row (no span) have no known source. A shard whose rows all
        // name one source is taken to hold only that source; in a shard of several
        // sources they stay unattributed, and those sources' counts become lower bounds.
        if rest > 0 {
            match st.sources.len() {
                0 => self.pending.push((folder, rest)),
                1 => {
                    let only = st.sources.first().expect("one source");
                    self.source(only).docs += rest;
                }
                _ => {
                    self.source(UNATTRIBUTED).docs += rest;
                    for s in &st.sources {
                        self.source(s).inexact = true;
                    }
                }
            }
        }
        if st.flagged != entry.flagged || spans != entry.spans || st.counter != entry.counter_docs {
            self.disagreements.push(format!(
                "{}: the manifest counts {} flagged, {} counter-trope documents and {} spans; the tables hold {}, {} and {}",
                entry.shard, entry.flagged, entry.counter_docs, entry.spans, st.flagged, st.counter, spans
            ));
        }
        self.shards.push(ShardStats {
            shard: entry.shard.clone(),
            status: serde_json::to_value(entry.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            docs: entry.docs,
            bytes: entry.bytes,
            spans,
            flagged: st.flagged,
            rate: rate(st.flagged, entry.docs),
            counter_docs: st.counter,
            errors: entry.errors,
        });
        Ok(())
    }

    fn source(&mut self, name: &str) -> &mut SourceAcc {
        if !self.sources.contains_key(name) {
            self.sources.insert(name.to_string(), SourceAcc::default());
        }
        self.sources.get_mut(name).expect("inserted above")
    }

    fn docs(
        &mut self,
        path: &Path,
        si: usize,
        folder: &str,
        st: &mut ShardAcc,
    ) -> Result<(), ReportError> {
        let mut wanted = vec!["doc_id", "row", "bytes", "score", "flagged", "n_spans"];
        wanted.extend(self.cat_cols.iter().map(String::as_str));
        wanted.extend(["counter_score", "source"]);
        let mut reader = read::open(path, &wanted, None)?;
        let thr = self.threshold;
        let n = self.cats.len();
        while let Some(batch) = read::next_batch(&mut reader, path)? {
            let c = Cols::new(&batch, path);
            let (ids, rows, bytes) = (c.str("doc_id")?, c.u64("row")?, c.u64("bytes")?);
            let (scores, flags, n_spans) = (c.f64("score")?, c.bool("flagged")?, c.u32("n_spans")?);
            let counter = c.f64("counter_score")?;
            let cat_cols = self
                .cat_cols
                .iter()
                .map(|name| c.f64(name))
                .collect::<Result<Vec<_>, _>>()?;
            let source_col = if c.has("source") {
                Some(c.str("source")?)
            } else {
                None
            };
            let mut present: Vec<usize> = Vec::with_capacity(n);
            for i in 0..batch.num_rows() {
                st.rows += 1;
                let (row, score, flagged) = (rows.value(i), scores.value(i), flags.value(i));
                let cscore = counter.value(i);
                let is_counter = cscore >= thr;
                self.hist[bin(score)] += 1;
                let column_source = source_col.and_then(|s| opt_str(s, i));
                self.source_column_used |= column_source.is_some();
                let src = column_source.unwrap_or(folder);
                if !st.sources.contains(src) {
                    st.sources.insert(src.to_string());
                }
                let sa = self.source(src);
                sa.from_column |= column_source.is_some();
                sa.docs += 1;
                sa.flagged += u64::from(flagged);
                sa.counter += u64::from(is_counter);
                present.clear();
                for (k, col) in cat_cols.iter().enumerate() {
                    if col.value(i) >= thr {
                        self.cat_flagged[k] += 1;
                        present.push(k);
                    }
                }
                if flagged {
                    self.flagged += 1;
                    self.flagged_by_model += u64::from(score < thr);
                    st.flagged += 1;
                    st.flagged_rows.push(row);
                    if let Some(v) = &mut self.flagged_ids {
                        v.push(id_hash(ids.value(i)));
                    }
                    for (x, &a) in present.iter().enumerate() {
                        for &b in &present[x + 1..] {
                            self.pairs[a * n + b] += 1;
                        }
                    }
                }
                if is_counter {
                    self.counter_docs += 1;
                    st.counter += 1;
                    self.counter_and_flagged += u64::from(flagged);
                }
                let want_top = flagged && self.top.wants(score, si, row);
                let want_counter = is_counter && self.top_counter.wants(cscore, si, row);
                if want_top || want_counter {
                    let doc = Candidate {
                        doc_id: ids.value(i).to_string(),
                        source: src.to_string(),
                        bytes: bytes.value(i),
                        score,
                        counter_score: cscore,
                        cats: cat_cols.iter().map(|col| col.value(i)).collect(),
                        n_spans: u64::from(n_spans.value(i)),
                    };
                    if want_top && want_counter {
                        self.top_counter.push(Ranked {
                            key: cscore,
                            shard: si,
                            row,
                            doc: doc.clone(),
                        });
                    } else if want_counter {
                        self.top_counter.push(Ranked {
                            key: cscore,
                            shard: si,
                            row,
                            doc,
                        });
                        continue;
                    }
                    self.top.push(Ranked {
                        key: score,
                        shard: si,
                        row,
                        doc,
                    });
                }
            }
        }
        Ok(())
    }

    fn cat_index(&self, cat: &str) -> Option<usize> {
        self.cats.iter().position(|c| c == cat)
    }

    fn rule(&mut self, rule: &str, category: &str) -> usize {
        if let Some(&i) = self.rule_index.get(rule) {
            return i;
        }
        let i = self.rules.len();
        self.rules.push(RuleAcc {
            rule: rule.to_string(),
            category: category.to_string(),
            hits: 0,
            docs: 0,
            flagged_docs: 0,
            score_sum: 0.0,
        });
        self.rule_index.insert(rule.to_string(), i);
        i
    }

    /// Counts spans per category and rule. Span rows come grouped by document (shard
    /// order: row, then start), so "documents a rule fired in" needs only the rules seen in
    /// the current document.
    fn spans_pass(&mut self, path: &Path, flagged_rows: &[u64]) -> Result<u64, ReportError> {
        let mut reader = read::open(path, &["row", "category", "rule", "score"], None)?;
        let mut count = 0u64;
        let mut current: Option<u64> = None;
        let mut row_flagged = false;
        let mut seen: Vec<usize> = Vec::new();
        while let Some(batch) = read::next_batch(&mut reader, path)? {
            let c = Cols::new(&batch, path);
            let (rows, cats, rules, scores) = (
                c.u64("row")?,
                c.str("category")?,
                c.str("rule")?,
                c.f64("score")?,
            );
            for i in 0..batch.num_rows() {
                count += 1;
                let row = rows.value(i);
                if current != Some(row) {
                    current = Some(row);
                    seen.clear();
                    row_flagged = flagged_rows.binary_search(&row).is_ok();
                }
                let cat = cats.value(i);
                if let Some(k) = self.cat_index(cat) {
                    self.cat_spans[k] += 1;
                }
                let ri = self.rule(rules.value(i), cat);
                let r = &mut self.rules[ri];
                r.hits += 1;
                r.score_sum += scores.value(i);
                if !seen.contains(&ri) {
                    seen.push(ri);
                    r.docs += 1;
                    r.flagged_docs += u64::from(row_flagged);
                }
            }
        }
        Ok(count)
    }

    fn finish(
        mut self,
        errors: ErrorSummary,
    ) -> Result<(RunReport, IdHashes, Timing), ReportError> {
        let run = self.run;
        // Shards without document rows: their folder is their source unless the run names
        // sources in a column, in which case their documents could belong to any source a
        // column names, or to their folder.
        for (folder, rest) in std::mem::take(&mut self.pending) {
            if self.source_column_used {
                self.source(UNATTRIBUTED).docs += rest;
                for (name, s) in self.sources.iter_mut() {
                    if s.from_column || *name == folder {
                        s.inexact = true;
                    }
                }
            } else {
                self.source(&folder).docs += rest;
            }
        }
        if let Some(u) = self.sources.get_mut(UNATTRIBUTED) {
            u.inexact = false;
        }
        let totals = self.totals();
        let docs = totals.docs;
        let top = std::mem::replace(&mut self.top, TopK::new(0)).into_sorted();
        let top_counter = std::mem::replace(&mut self.top_counter, TopK::new(0)).into_sorted();
        let spans = fetch_example_spans(run, top.iter().chain(&top_counter))?;
        let example = |r: &Ranked, counter: bool| -> DocExample {
            let ctx = spans.get(&(r.shard, r.row)).map_or(&[][..], Vec::as_slice);
            DocExample {
                doc_id: r.doc.doc_id.clone(),
                shard: run.shards[r.shard].1.shard.clone(),
                row: r.row,
                source: r.doc.source.clone(),
                bytes: r.doc.bytes,
                score: score4(r.doc.score),
                counter_score: score4(r.doc.counter_score),
                categories: self
                    .cats
                    .iter()
                    .zip(&r.doc.cats)
                    .filter(|(_, s)| **s > 0.0)
                    .map(|(c, s)| CategoryScore {
                        category: c.clone(),
                        score: score4(*s),
                    })
                    .collect(),
                n_spans: r.doc.n_spans,
                passages: passage::passages(ctx, r.doc.bytes, counter),
            }
        };
        let top_flagged: Vec<DocExample> = top.iter().map(|r| example(r, false)).collect();
        let counter_examples: Vec<DocExample> =
            top_counter.iter().map(|r| example(r, true)).collect();

        let n = self.cats.len();
        let categories = (0..n)
            .map(|k| CategoryStats {
                category: self.cats[k].clone(),
                flagged: self.cat_flagged[k],
                rate: rate(self.cat_flagged[k], docs),
                spans: self.cat_spans[k],
            })
            .collect();
        let mut cooccurrence: Vec<PairStats> = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if self.pairs[a * n + b] > 0 {
                    cooccurrence.push(PairStats {
                        a: self.cats[a].clone(),
                        b: self.cats[b].clone(),
                        docs: self.pairs[a * n + b],
                    });
                }
            }
        }
        cooccurrence.sort_by(|x, y| {
            y.docs
                .cmp(&x.docs)
                .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
        });
        let mut sources: Vec<SourceStats> = self
            .sources
            .iter()
            .map(|(name, s)| SourceStats {
                source: name.clone(),
                docs: s.docs,
                docs_exact: !s.inexact,
                flagged: s.flagged,
                share_of_flagged: rate(s.flagged, self.flagged),
                rate: (!s.inexact && name != UNATTRIBUTED).then(|| rate(s.flagged, s.docs)),
                counter_docs: s.counter,
            })
            .collect();
        sources.sort_by(|a, b| {
            (a.source == UNATTRIBUTED)
                .cmp(&(b.source == UNATTRIBUTED))
                .then(b.docs.cmp(&a.docs))
                .then_with(|| a.source.cmp(&b.source))
        });
        let mut rules: Vec<RuleStats> = self
            .rules
            .iter()
            .map(|r| RuleStats {
                rule: r.rule.clone(),
                category: r.category.clone(),
                hits: r.hits,
                docs: r.docs,
                flagged_docs: r.flagged_docs,
                mean_score: if r.hits == 0 {
                    0.0
                } else {
                    score4(r.score_sum / r.hits as f64)
                },
            })
            .collect();
        rules.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.rule.cmp(&b.rule)));
        let scan = scan_info(run);
        let notes = self.notes(&scan, &totals, &errors);
        let timing = timing(run, &totals);
        let mut ids = self.flagged_ids.take().unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        let report = RunReport {
            dirs: run.dirs.iter().map(|d| d.display().to_string()).collect(),
            manifests: run.manifests.iter().map(|m| m.file.clone()).collect(),
            scan,
            totals,
            categories,
            sources,
            shards: self.shards,
            histogram: Histogram {
                bin_width: 1.0 / HISTOGRAM_BINS as f64,
                counts: self.hist,
                docs_without_row: self.docs_without_row,
            },
            rules,
            cooccurrence,
            counter: CounterSummary {
                docs: self.counter_docs,
                rate: rate(self.counter_docs, docs),
                also_flagged: self.counter_and_flagged,
                examples: counter_examples,
            },
            top_flagged,
            errors,
            notes,
        };
        Ok((report, ids, timing))
    }

    fn totals(&self) -> RunTotals {
        let mut t = RunTotals::default();
        for m in &self.run.manifests {
            let mt = &m.manifest.totals;
            t.shards += mt.shards;
            t.shards_failed += mt.shards_failed;
            t.shards_partial += mt.shards_partial;
            t.docs += mt.docs;
            t.bytes += mt.bytes;
            t.input_bytes += mt.input_bytes;
            t.errors += mt.errors;
        }
        t.est_tokens = t.bytes / 4;
        t.spans = self.spans;
        t.flagged = self.flagged;
        t.flagged_by_model = self.flagged_by_model;
        t.flagged_rate = rate(self.flagged, t.docs);
        t.counter_docs = self.counter_docs;
        t.counter_rate = rate(self.counter_docs, t.docs);
        t
    }

    fn notes(&self, scan: &ScanInfo, t: &RunTotals, errors: &ErrorSummary) -> Vec<String> {
        let mut notes = Vec::new();
        if self.docs_without_row > 0 {
            notes.push(format!(
                "The document table holds only documents with spans (the scan ran without --all-docs): the {} documents without spans score 0 and are counted in histogram bin 0 from the manifest totals.",
                super::fmt::int(self.docs_without_row)
            ));
        }
        if let Some(s) = self.sources.get(UNATTRIBUTED) {
            notes.push(format!(
                "{} documents without spans could not be given a source (their shard mixes sources, or names none while other shards do); they are listed as {UNATTRIBUTED}, and the sources they may belong to have a lower bound for documents and no rate. A scan with --all-docs gives exact per-source figures.",
                super::fmt::int(s.docs)
            ));
        }
        if scan.world_size > 1 {
            let missing: Vec<String> = (0..scan.world_size)
                .filter(|r| !scan.ranks.contains(r))
                .map(|r| r.to_string())
                .collect();
            if !missing.is_empty() {
                notes.push(format!(
                    "Manifests of rank {} of {} are missing: the figures cover the ranks found only.",
                    missing.join(", "),
                    scan.world_size
                ));
            }
        }
        if t.shards_failed + t.shards_partial > 0 {
            notes.push(format!(
                "{} shards could not be read and {} were read in part; see the errors section.",
                t.shards_failed, t.shards_partial
            ));
        }
        for f in &errors.missing_files {
            notes.push(format!(
                "The errors file {f} is missing; error kinds are not counted for it."
            ));
        }
        for d in &self.disagreements {
            notes.push(format!("Tables and manifest disagree for {d}."));
        }
        notes
    }
}

/// Reads, for every example document, its spans with their contexts, keyed by shard index
/// and row.
fn fetch_example_spans<'a>(
    run: &RunSet,
    docs: impl Iterator<Item = &'a Ranked>,
) -> Result<BTreeMap<(usize, u64), Vec<SpanCtx>>, ReportError> {
    let mut wanted: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
    for r in docs {
        wanted.entry(r.shard).or_default().insert(r.row);
    }
    let mut out = BTreeMap::new();
    for (si, rows) in wanted {
        let (mi, entry) = &run.shards[si];
        let Some(f) = output(entry, "spans") else {
            continue;
        };
        for (row, spans) in passage::fetch(&run.path(*mi, f), rows)? {
            out.insert((si, row), spans);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_the_unit_interval() {
        assert_eq!(bin(0.0), 0);
        assert_eq!(bin(0.049), 0);
        assert_eq!(bin(0.05), 1);
        assert_eq!(bin(0.5), 10);
        assert_eq!(bin(0.999), HISTOGRAM_BINS - 1);
        assert_eq!(bin(1.0), HISTOGRAM_BINS - 1);
        assert_eq!(bin(f64::NAN), 0);
    }

    #[test]
    fn folders() {
        assert_eq!(folder_of("corpus/web/a.jsonl"), "corpus/web");
        assert_eq!(folder_of("a.jsonl"), ".");
        assert_eq!(folder_of("/a.jsonl"), "/");
    }

    #[test]
    fn rates_round_and_survive_zero() {
        assert_eq!(rate(1, 3), 0.333333);
        assert_eq!(rate(5, 0), 0.0);
    }
}
