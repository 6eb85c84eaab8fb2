//! The run beside a baseline: headline figures with their change, and the flagged
//! documents that are new or gone, by id.
//!
//! Flagged ids are compared through 8-byte hashes collected during aggregation, so the
//! comparison holds 16 bytes per flagged document of both runs and never the ids
//! themselves; the ids listed as examples come from a second read of the `doc_id` and
//! `flagged` columns, keeping the first few in byte order.

use std::collections::BTreeSet;

use super::aggregate::{id_hash, IdHashes};
use super::model::*;
use super::read::{self, Cols};
use super::run::RunSet;
use super::{ReportError, ReportOptions};

/// Headline figures in display order: key, label and value.
pub(crate) fn headline(t: &RunTotals) -> Vec<(&'static str, &'static str, Num)> {
    let int = |v: u64| Num::Int(i64::try_from(v).unwrap_or(i64::MAX));
    vec![
        ("shards", "Shards", int(t.shards)),
        ("docs", "Documents", int(t.docs)),
        ("bytes", "Text bytes", int(t.bytes)),
        (
            "est_tokens",
            "Estimated tokens (bytes / 4)",
            int(t.est_tokens),
        ),
        ("spans", "Spans", int(t.spans)),
        ("flagged", "Flagged documents", int(t.flagged)),
        ("flagged_rate", "Flagged rate", Num::Real(t.flagged_rate)),
        (
            "counter_docs",
            "Counter-trope documents",
            int(t.counter_docs),
        ),
        (
            "counter_rate",
            "Counter-trope rate",
            Num::Real(t.counter_rate),
        ),
        ("errors", "Errors", int(t.errors)),
    ]
}

/// `run - baseline` and the relative change.
pub(crate) fn change(run: Num, base: Num) -> (Num, Option<f64>) {
    let d = match (run, base) {
        (Num::Int(a), Num::Int(b)) => Num::Int(a - b),
        (a, b) => Num::Real(((a.as_f64() - b.as_f64()) * 1e6).round() / 1e6),
    };
    let b = base.as_f64();
    let rel = (b != 0.0).then(|| ((d.as_f64() / b) * 1e4).round() / 1e4);
    (d, rel)
}

pub(crate) fn compare(
    run: &RunReport,
    base: &RunReport,
    (run_set, run_ids): (&RunSet, IdHashes),
    (base_set, base_ids): (&RunSet, IdHashes),
    opts: &ReportOptions,
) -> Result<Comparison, ReportError> {
    let headline = headline(&run.totals)
        .into_iter()
        .zip(headline(&base.totals))
        .map(|((key, label, r), (_, _, b))| {
            let (change, relative) = change(r, b);
            Change {
                metric: key.to_string(),
                label: label.to_string(),
                run: r,
                baseline: b,
                change,
                relative,
            }
        })
        .collect();
    let new_flagged = diff(run_set, &run_ids, &base_ids, opts.diff_examples)?;
    let gone_flagged = diff(base_set, &base_ids, &run_ids, opts.diff_examples)?;
    Ok(Comparison {
        same_lexicons: run.scan.lexicon_digest == base.scan.lexicon_digest,
        same_threshold: run.scan.threshold == base.scan.threshold,
        // A run of a version that recorded no model had none.
        same_model: run.scan.model.as_deref().unwrap_or("none")
            == base.scan.model.as_deref().unwrap_or("none"),
        headline,
        new_flagged,
        gone_flagged,
    })
}

/// Flagged ids of `set` (hashes `mine`) whose hash is not in `other`: how many, and the
/// first `k` in byte order.
fn diff(set: &RunSet, mine: &[u64], other: &[u64], k: usize) -> Result<IdDiff, ReportError> {
    let count = mine
        .iter()
        .filter(|h| other.binary_search(h).is_err())
        .count() as u64;
    let mut first: BTreeSet<String> = BTreeSet::new();
    if count > 0 && k > 0 {
        for (mi, entry) in &set.shards {
            let Some(f) = entry.outputs.iter().find(|o| o.starts_with("docs/")) else {
                continue;
            };
            let path = set.path(*mi, f);
            let mut reader = read::open(&path, &["doc_id", "flagged"], None)?;
            while let Some(batch) = read::next_batch(&mut reader, &path)? {
                let c = Cols::new(&batch, &path);
                let (ids, flags) = (c.str("doc_id")?, c.bool("flagged")?);
                for i in 0..batch.num_rows() {
                    if !flags.value(i) {
                        continue;
                    }
                    let id = ids.value(i);
                    let full = first.len() >= k;
                    if full && first.last().is_some_and(|l| id >= l.as_str()) {
                        continue;
                    }
                    if other.binary_search(&id_hash(id)).is_ok() || first.contains(id) {
                        continue;
                    }
                    first.insert(id.to_string());
                    if first.len() > k {
                        first.pop_last();
                    }
                }
            }
        }
    }
    Ok(IdDiff {
        count,
        examples: first.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes() {
        assert_eq!(change(Num::Int(12), Num::Int(10)), (Num::Int(2), Some(0.2)));
        assert_eq!(change(Num::Int(3), Num::Int(0)), (Num::Int(3), None));
        let (d, r) = change(Num::Real(0.25), Num::Real(0.5));
        assert_eq!(d, Num::Real(-0.25));
        assert_eq!(r, Some(-0.5));
    }
}
