//! Figures that come from the manifests and errors files alone: how the run was scanned,
//! how long it took, and the errors it recorded.

use std::collections::{BTreeMap, BTreeSet};

use super::aggregate::round_to;
use super::model::*;
use super::read;
use super::run::RunSet;
use super::{ReportError, ReportOptions};

pub(crate) fn scan_info(run: &RunSet) -> ScanInfo {
    let first = run.first();
    let versions: BTreeSet<String> = run
        .manifests
        .iter()
        .map(|m| m.manifest.version.clone())
        .collect();
    let ranks: BTreeSet<usize> = run.manifests.iter().map(|m| m.manifest.rank).collect();
    ScanInfo {
        tool_versions: versions.into_iter().collect(),
        lexicon_digest: first.lexicon_digest.clone(),
        threshold: run.threshold,
        min_span_score: first
            .options
            .get("min_span_score")
            .and_then(serde_json::Value::as_f64),
        model: first
            .options
            .get("model")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        counter_model: first
            .options
            .get("counter_model")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        all_docs: run.manifests.iter().all(|m| {
            m.manifest
                .options
                .get("all_docs")
                .and_then(serde_json::Value::as_bool)
                == Some(true)
        }),
        categories: first.categories.clone(),
        world_size: run
            .manifests
            .iter()
            .map(|m| m.manifest.world_size)
            .max()
            .unwrap_or(1),
        ranks: ranks.into_iter().collect(),
    }
}

pub(crate) fn timing(run: &RunSet, t: &RunTotals) -> Timing {
    let wall = run
        .manifests
        .iter()
        .map(|m| m.manifest.totals.seconds)
        .fold(0.0, f64::max);
    // Folded from +0.0: an empty `sum()` of floats is -0.0, which would print as "-0.00".
    let shard_seconds = run
        .shards
        .iter()
        .map(|(_, s)| s.seconds)
        .fold(0.0, |a, b| a + b);
    let per = |x: f64| {
        if wall > 0.0 {
            round_to(x / wall, 3)
        } else {
            0.0
        }
    };
    Timing {
        wall_seconds: round_to(wall, 3),
        shard_seconds: round_to(shard_seconds, 3),
        input_mb_per_second: per(t.input_bytes as f64 / 1e6),
        docs_per_second: per(t.docs as f64),
    }
}

pub(crate) fn read_errors(run: &RunSet, opts: &ReportOptions) -> Result<ErrorSummary, ReportError> {
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    // The first errors of each kind by shard and row, whichever rank's file holds them,
    // so that splitting a scan over ranks does not change the examples.
    let mut examples: BTreeMap<String, Vec<ErrorExample>> = BTreeMap::new();
    let k = opts.error_examples;
    let mut missing = Vec::new();
    for m in &run.manifests {
        let name = &m.manifest.errors_file;
        let found = read::each_error(&m.dir.join(name), |e| {
            *by_kind.entry(e.kind.clone()).or_default() += 1;
            let ex = examples.entry(e.kind.clone()).or_default();
            let key = |x: &ErrorExample| (x.shard.clone(), x.row);
            let new = ErrorExample {
                kind: e.kind,
                shard: e.shard,
                row: e.row,
                reason: e.reason,
            };
            let at = ex.partition_point(|x| key(x) <= key(&new));
            if at < k {
                ex.insert(at, new);
                ex.truncate(k);
            }
        })?;
        if !found {
            missing.push(m.dir.join(name).display().to_string());
        }
    }
    let mut kinds: Vec<KindCount> = by_kind
        .into_iter()
        .map(|(kind, count)| KindCount { kind, count })
        .collect();
    kinds.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
    let examples = kinds
        .iter()
        .flat_map(|k| examples.remove(&k.kind).unwrap_or_default())
        .collect();
    Ok(ErrorSummary {
        total: run.manifests.iter().map(|m| m.manifest.totals.errors).sum(),
        by_kind: kinds,
        examples,
        missing_files: missing,
    })
}
