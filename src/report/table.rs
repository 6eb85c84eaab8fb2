//! The report's tables, built once and rendered by both the Markdown and the HTML
//! renderer, so the two always show the same figures.

use std::collections::BTreeMap;

use super::compare::{change, headline};
use super::fmt;
use super::model::*;

/// One table cell.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Plain text.
    Text(String),
    /// An identifier (rule id, shard, digest), shown as code.
    Code(String),
    /// A figure, right-aligned.
    Num(String),
    /// A change, right-aligned, with its sign (-1, 0, 1) for styling.
    Delta(String, i8),
}

impl Cell {
    /// The cell's text, unescaped.
    pub(crate) fn text(&self) -> &str {
        match self {
            Cell::Text(s) | Cell::Code(s) | Cell::Num(s) | Cell::Delta(s, _) => s,
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Cell::Num(_) | Cell::Delta(..))
    }
}

/// A table: header, rows, and a line saying what was left out, if anything.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub more: Option<String>,
}

impl Table {
    fn new(head: &[&str]) -> Table {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
            more: None,
        }
    }

    /// Whether column `i` holds figures (to right-align it).
    pub(crate) fn numeric(&self, i: usize) -> bool {
        self.rows
            .first()
            .is_some_and(|r| r.get(i).is_some_and(Cell::is_numeric))
    }
}

fn num(v: u64) -> Cell {
    Cell::Num(fmt::int(v))
}

fn pct(r: f64) -> Cell {
    Cell::Num(fmt::pct(r))
}

fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

fn pp(run: f64, base: f64) -> Cell {
    let (d, _) = change(Num::Real(run), Num::Real(base));
    Cell::Delta(fmt::delta(d), sign(d.as_f64()))
}

/// Headline figures, with baseline, change and relative change when there is a baseline.
pub(crate) fn summary(r: &Report) -> Table {
    let Some(cmp) = &r.comparison else {
        let mut t = Table::new(&["Figure", "Value"]);
        for (_, label, v) in headline(&r.run.totals) {
            t.rows
                .push(vec![Cell::Text(label.into()), Cell::Num(fmt::num(v))]);
        }
        return t;
    };
    let mut t = Table::new(&["Figure", "Run", "Baseline", "Change", "Relative"]);
    for c in &cmp.headline {
        t.rows.push(vec![
            Cell::Text(c.label.clone()),
            Cell::Num(fmt::num(c.run)),
            Cell::Num(fmt::num(c.baseline)),
            Cell::Delta(fmt::delta(c.change), sign(c.change.as_f64())),
            Cell::Delta(fmt::relative(c.relative, c.change), sign(c.change.as_f64())),
        ]);
    }
    t
}

/// Settings read as text, left-aligned even where they are numbers.
fn scan_rows(run: &RunReport) -> Vec<(&'static str, Cell)> {
    let s = &run.scan;
    let ranks = if s.world_size > 1 {
        format!(
            "{} of {}",
            s.ranks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.world_size
        )
    } else {
        "single process".to_string()
    };
    vec![
        ("Run folders", Cell::Code(run.dirs.join(", "))),
        ("Manifests", Cell::Code(run.manifests.join(", "))),
        ("tropescan version", Cell::Text(s.tool_versions.join(", "))),
        (
            "Lexicon digest",
            Cell::Code(fmt::short_digest(&s.lexicon_digest).to_string()),
        ),
        ("Flag threshold", Cell::Text(format!("{}", s.threshold))),
        (
            "Minimum span score",
            Cell::Text(s.min_span_score.map_or("-".into(), |v| format!("{v}"))),
        ),
        (
            "Document model",
            match s.model.as_deref() {
                None => Cell::Text("-".into()),
                Some("none") => Cell::Text("none (lexicons alone)".into()),
                Some(m) => Cell::Code(model_label(m)),
            },
        ),
        (
            "Counter-trope model",
            match s.counter_model.as_deref() {
                None => Cell::Text("-".into()),
                Some("none") => Cell::Text("none (counter cues alone)".into()),
                Some(m) => Cell::Code(model_label(m)),
            },
        ),
        (
            "Document table",
            Cell::Text(if s.all_docs {
                "every document (--all-docs)".into()
            } else {
                "documents with spans".into()
            }),
        ),
        ("Ranks", Cell::Text(ranks)),
        (
            "Shards failed / partial",
            Cell::Text(format!(
                "{} / {}",
                run.totals.shards_failed, run.totals.shards_partial
            )),
        ),
        (
            "Input on disk",
            Cell::Text(fmt::bytes(run.totals.input_bytes)),
        ),
        ("Text scanned", Cell::Text(fmt::bytes(run.totals.bytes))),
    ]
}

/// `sha256:<digest> threshold <t>` as `<short digest>, threshold <t>`; anything else as is.
fn model_label(m: &str) -> String {
    match m
        .strip_prefix("sha256:")
        .and_then(|rest| rest.split_once(" threshold "))
    {
        Some((digest, t)) => format!("{}, threshold {t}", fmt::short_digest(digest)),
        None => m
            .strip_prefix("sha256:")
            .map_or_else(|| m.to_string(), |d| fmt::short_digest(d).to_string()),
    }
}

/// How the run (and baseline) were scanned.
pub(crate) fn scan(r: &Report) -> Table {
    let rows = scan_rows(&r.run);
    match &r.baseline {
        None => {
            let mut t = Table::new(&["Setting", "Value"]);
            t.rows = rows
                .into_iter()
                .map(|(k, v)| vec![Cell::Text(k.into()), v])
                .collect();
            t
        }
        Some(b) => {
            let mut t = Table::new(&["Setting", "Run", "Baseline"]);
            t.rows = rows
                .into_iter()
                .zip(scan_rows(b))
                .map(|((k, v), (_, bv))| vec![Cell::Text(k.into()), v, bv])
                .collect();
            t
        }
    }
}

/// Flagged documents per category.
pub(crate) fn categories(r: &Report) -> Table {
    let base: BTreeMap<&str, &CategoryStats> = r
        .baseline
        .iter()
        .flat_map(|b| b.categories.iter().map(|c| (c.category.as_str(), c)))
        .collect();
    let mut t = if r.baseline.is_some() {
        Table::new(&[
            "Category",
            "Flagged",
            "Rate",
            "Spans",
            "Baseline flagged",
            "Baseline rate",
            "Change",
        ])
    } else {
        Table::new(&["Category", "Flagged", "Rate", "Spans"])
    };
    for c in &r.run.categories {
        let mut row = vec![
            Cell::Code(c.category.clone()),
            num(c.flagged),
            pct(c.rate),
            num(c.spans),
        ];
        if r.baseline.is_some() {
            match base.get(c.category.as_str()) {
                Some(b) => row.extend([num(b.flagged), pct(b.rate), pp(c.rate, b.rate)]),
                None => row.extend([
                    Cell::Num("-".into()),
                    Cell::Num("-".into()),
                    Cell::Num("-".into()),
                ]),
            }
        }
        t.rows.push(row);
    }
    t
}

/// Flagged documents per source, the largest `limit` sources. Sources whose document
/// count is a lower bound show `≥` and no rate.
pub(crate) fn sources(r: &Report, limit: usize) -> Table {
    let base: BTreeMap<&str, &SourceStats> = r
        .baseline
        .iter()
        .flat_map(|b| b.sources.iter().map(|s| (s.source.as_str(), s)))
        .collect();
    let mut head = vec![
        "Source",
        "Documents",
        "Flagged",
        "Share of flagged",
        "Rate",
        "Counter-trope",
    ];
    if r.baseline.is_some() {
        head.extend(["Baseline flagged", "Change"]);
    }
    let mut t = Table::new(&head);
    for s in r.run.sources.iter().take(limit) {
        let docs = if s.docs_exact {
            fmt::int(s.docs)
        } else {
            format!("≥ {}", fmt::int(s.docs))
        };
        let mut row = vec![
            Cell::Code(s.source.clone()),
            Cell::Num(docs),
            num(s.flagged),
            pct(s.share_of_flagged),
            Cell::Num(s.rate.map_or("-".into(), fmt::pct)),
            num(s.counter_docs),
        ];
        if r.baseline.is_some() {
            let bf = base.get(s.source.as_str()).map_or(0, |b| b.flagged);
            let (d, _) = change(Num::Int(s.flagged as i64), Num::Int(bf as i64));
            row.extend([num(bf), Cell::Delta(fmt::delta(d), sign(d.as_f64()))]);
        }
        t.rows.push(row);
    }
    if r.run.sources.len() > limit {
        t.more = Some(format!(
            "{} more sources in report.json",
            r.run.sources.len() - limit
        ));
    }
    t
}

/// Per-shard figures: every shard when there are at most `limit`, else the `limit` with
/// the highest flagged rate.
pub(crate) fn shards(r: &Report, limit: usize) -> Table {
    let mut t = Table::new(&[
        "Shard",
        "Status",
        "Documents",
        "Flagged",
        "Rate",
        "Spans",
        "Counter-trope",
        "Errors",
    ]);
    let mut list: Vec<&ShardStats> = r.run.shards.iter().collect();
    if list.len() > limit {
        list.sort_by(|a, b| {
            b.rate
                .total_cmp(&a.rate)
                .then_with(|| a.shard.cmp(&b.shard))
        });
        list.truncate(limit);
        t.more = Some(format!(
            "the {limit} shards with the highest flagged rate of {}; every shard is in report.json",
            r.run.shards.len()
        ));
    }
    for s in list {
        t.rows.push(vec![
            Cell::Code(s.shard.clone()),
            Cell::Text(s.status.clone()),
            num(s.docs),
            num(s.flagged),
            pct(s.rate),
            num(s.spans),
            num(s.counter_docs),
            num(s.errors),
        ]);
    }
    t
}

/// Which ranking of rules.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RuleOrder {
    /// By spans produced.
    Hits,
    /// By flagged documents fired in.
    FlaggedDocs,
}

/// Trope rules (no counter cues), the first `limit` in the order asked for.
pub(crate) fn rules(r: &Report, order: RuleOrder, limit: usize) -> Table {
    let mut list: Vec<&RuleStats> = r
        .run
        .rules
        .iter()
        .filter(|x| x.category != "counter")
        .collect();
    if let RuleOrder::FlaggedDocs = order {
        list.sort_by(|a, b| {
            b.flagged_docs
                .cmp(&a.flagged_docs)
                .then_with(|| a.rule.cmp(&b.rule))
        });
    }
    rule_table(&list, "Rule", limit)
}

/// Counter-trope cues by hits.
pub(crate) fn counter_cues(r: &Report, limit: usize) -> Table {
    let list: Vec<&RuleStats> = r
        .run
        .rules
        .iter()
        .filter(|x| x.category == "counter")
        .collect();
    rule_table(&list, "Cue", limit)
}

fn rule_table(list: &[&RuleStats], first: &str, limit: usize) -> Table {
    let mut t = Table::new(&[
        first,
        "Category",
        "Hits",
        "Documents",
        "Flagged documents",
        "Mean span score",
    ]);
    for x in list.iter().take(limit) {
        t.rows.push(vec![
            Cell::Code(x.rule.clone()),
            Cell::Text(x.category.clone()),
            num(x.hits),
            num(x.docs),
            num(x.flagged_docs),
            Cell::Num(fmt::score(x.mean_score)),
        ]);
    }
    if list.len() > limit {
        t.more = Some(format!("{} more in report.json", list.len() - limit));
    }
    t
}

/// Category pairs among flagged documents.
pub(crate) fn pairs(r: &Report, limit: usize) -> Table {
    let mut t = Table::new(&[
        "Categories",
        "Flagged documents with both",
        "Share of flagged",
    ]);
    for p in r.run.cooccurrence.iter().take(limit) {
        t.rows.push(vec![
            Cell::Text(format!("{} + {}", p.a, p.b)),
            num(p.docs),
            pct(super::aggregate::rate(p.docs, r.run.totals.flagged)),
        ]);
    }
    if r.run.cooccurrence.len() > limit {
        t.more = Some(format!(
            "{} more pairs in report.json",
            r.run.cooccurrence.len() - limit
        ));
    }
    t
}

/// The score histogram as rows.
pub(crate) fn histogram(r: &Report) -> Table {
    let h = &r.run.histogram;
    let base = r.baseline.as_ref().map(|b| &b.histogram);
    let mut t = if base.is_some() {
        Table::new(&["Score", "Documents", "Baseline"])
    } else {
        Table::new(&["Score", "Documents"])
    };
    for (i, &c) in h.counts.iter().enumerate() {
        let lo = i as f64 * h.bin_width;
        let hi = lo + h.bin_width;
        let close = if i + 1 == h.counts.len() { "]" } else { ")" };
        let mut row = vec![Cell::Text(format!("[{lo:.2}, {hi:.2}{close}")), num(c)];
        if let Some(b) = base {
            row.push(num(b.counts.get(i).copied().unwrap_or(0)));
        }
        t.rows.push(row);
    }
    t
}

/// Errors per kind.
pub(crate) fn error_kinds(r: &Report) -> Table {
    let mut t = Table::new(&["Kind", "Count"]);
    for k in &r.run.errors.by_kind {
        t.rows.push(vec![Cell::Code(k.kind.clone()), num(k.count)]);
    }
    t
}

/// The first errors of each kind.
pub(crate) fn error_examples(r: &Report) -> Table {
    let mut t = Table::new(&["Kind", "Shard", "Row", "Reason"]);
    for e in &r.run.errors.examples {
        t.rows.push(vec![
            Cell::Code(e.kind.clone()),
            Cell::Code(e.shard.clone()),
            Cell::Num(e.row.map_or("-".into(), |v| v.to_string())),
            Cell::Text(e.reason.clone()),
        ]);
    }
    t
}

/// A document's figures on one line: score, counter score, category scores.
pub(crate) fn doc_scores(d: &DocExample) -> String {
    let cats: Vec<String> = d
        .categories
        .iter()
        .filter(|c| c.score >= 0.005)
        .map(|c| format!("{} {}", c.category, fmt::score(c.score)))
        .collect();
    let mut s = format!("score {}", fmt::score(d.score));
    if !cats.is_empty() {
        s.push_str(&format!(" ({})", cats.join(", ")));
    }
    s.push_str(&format!(", counter {}", fmt::score(d.counter_score)));
    s.push_str(&format!(
        ", {}, {}",
        fmt::plural(d.n_spans, "span"),
        fmt::bytes(d.bytes)
    ));
    s
}
