//! `eval`: precision and recall against labeled documents, with exactly the engine `scan`
//! uses.
//!
//! Labeled documents are JSON Lines with `id`, `text`, `label` (`positive` or
//! `negative`), `categories` (the trope categories of a positive) and an optional `note`;
//! a note starting with `counter-trope` marks a negative in which an AI behaves well.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::score::COUNTER;

/// One labeled document.
#[derive(Debug, Clone, Deserialize)]
pub struct Labeled {
    /// Id.
    pub id: String,
    /// Text.
    pub text: String,
    /// `positive` or `negative`.
    pub label: String,
    /// Categories of a positive.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Free-text note; `counter-trope...` marks counter-trope negatives.
    #[serde(default)]
    pub note: Option<String>,
}

impl Labeled {
    fn positive(&self) -> bool {
        self.label == "positive"
    }

    fn counter(&self) -> bool {
        self.note.as_deref().is_some_and(|n| {
            n.trim_start()
                .to_ascii_lowercase()
                .starts_with("counter-trope")
        })
    }
}

/// Reads labeled JSON Lines.
///
/// # Errors
/// The 1-based line number and reason of the first bad line.
pub fn read_labeled(text: &str) -> Result<Vec<Labeled>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let d: Labeled = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if d.label != "positive" && d.label != "negative" {
            return Err(format!(
                "line {}: label {:?} is neither \"positive\" nor \"negative\"",
                i + 1,
                d.label
            ));
        }
        out.push(d);
    }
    Ok(out)
}

/// The documents of one labeled file, under the name reports give it.
#[derive(Debug, Clone)]
pub struct LabeledSet {
    /// Name shown in reports (the file name).
    pub name: String,
    /// Its documents.
    pub docs: Vec<Labeled>,
}

/// Precision, recall, F1 and the counts behind them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    /// True positives.
    pub tp: u64,
    /// False positives.
    pub fp: u64,
    /// False negatives.
    pub fn_: u64,
    /// tp / (tp + fp); 1 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn); 1 when nothing was expected.
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

impl Prf {
    fn new(tp: u64, fp: u64, fn_: u64) -> Prf {
        let precision = if tp + fp == 0 {
            1.0
        } else {
            tp as f64 / (tp + fp) as f64
        };
        let recall = if tp + fn_ == 0 {
            1.0
        } else {
            tp as f64 / (tp + fn_) as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Per-category figures.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryEval {
    /// Category.
    pub category: String,
    /// Documents labeled with it.
    pub labeled: u64,
    /// Of those, how many the scanner flags (document flag): the recall that matters for
    /// triage.
    pub flag_recall: f64,
    /// Category-level precision/recall: predicted when the category score reaches the
    /// threshold.
    pub scored: Prf,
}

/// Per-rule figures.
#[derive(Debug, Clone, Serialize)]
pub struct RuleEval {
    /// Rule id.
    pub rule: String,
    /// Category (or `counter`).
    pub category: String,
    /// Documents in which it kept a span.
    pub docs: u64,
    /// Spans kept.
    pub spans: u64,
    /// Of its documents, the share that are positive (counter rules: counter-trope).
    pub precision: f64,
}

/// A misclassified document.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    /// The set (file) it comes from.
    pub set: String,
    /// Id.
    pub id: String,
    /// Document score.
    pub score: f64,
    /// The document model's probability, when it was asked.
    pub model_score: Option<f64>,
    /// Labeled categories.
    pub categories: Vec<String>,
    /// Note.
    pub note: Option<String>,
    /// Spans kept, as `rule score "text"`, best first.
    pub spans: Vec<String>,
}

/// One row of the threshold table.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdRow {
    /// Threshold.
    pub threshold: f64,
    /// Document-level figures at it.
    pub prf: Prf,
    /// Share of counter-trope documents flagged at it.
    pub counter_flag_rate: f64,
}

/// The headline figures of one labeled set, at the report's threshold.
#[derive(Debug, Clone, Serialize)]
pub struct SetSummary {
    /// Name (the file name).
    pub name: String,
    /// Documents.
    pub documents: u64,
    /// Positives.
    pub positives: u64,
    /// Document-level figures.
    pub overall: Prf,
    /// Counter-trope documents.
    pub counter_docs: u64,
    /// Share of them flagged.
    pub counter_flag_rate: f64,
    /// `counter_score >= threshold` as a detector of counter-trope documents.
    pub counter_score: Prf,
}

/// The document model an evaluation ran with.
#[derive(Debug, Clone, Serialize)]
pub struct ModelUsed {
    /// SHA-256 of the model file.
    pub digest: String,
    /// Model probability that flags a gated document.
    pub threshold: f64,
    /// Lexicon score a document needs before the model is asked.
    pub gate: f64,
}

/// Everything `eval` measures. With several sets, every figure except `sets` is over
/// their documents pooled.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// One summary per labeled set, in the order given.
    pub sets: Vec<SetSummary>,
    /// Documents.
    pub documents: u64,
    /// Positives.
    pub positives: u64,
    /// Threshold used.
    pub threshold: f64,
    /// The document model that was asked (absent: lexicons alone).
    pub model: Option<ModelUsed>,
    /// SHA-256 of the counter-trope model that raised `counter_score` (absent: counter
    /// cues alone).
    pub counter_model: Option<String>,
    /// Document-level figures.
    pub overall: Prf,
    /// Per category.
    pub categories: Vec<CategoryEval>,
    /// Counter-trope documents.
    pub counter_docs: u64,
    /// Share of them flagged.
    pub counter_flag_rate: f64,
    /// `counter_score >= threshold` as a detector of counter-trope documents.
    pub counter_score: Prf,
    /// Figures across thresholds.
    pub thresholds: Vec<ThresholdRow>,
    /// Per rule, by documents descending.
    pub rules: Vec<RuleEval>,
    /// False positives, by score descending.
    pub false_positives: Vec<Miss>,
    /// False negatives, by score descending.
    pub false_negatives: Vec<Miss>,
}

struct Scored {
    score: f64,
    cats: Vec<f64>,
    counter: f64,
    /// The document model's probability, when it was asked.
    model: Option<f64>,
    /// The model flagged the document (at its own threshold, whatever the lexicon one).
    model_flag: bool,
    spans: Vec<(String, String, f64, String)>,
}

impl Scored {
    /// Flagged at lexicon threshold `t`: the lexicon score reaches it, or the model flags.
    fn flagged(&self, t: f64) -> bool {
        self.score >= t || self.model_flag
    }
}

/// Counts a detector `predicted` against the truth `expected` over `docs` (scored as
/// `scored`).
fn prf_of(
    docs: &[&Labeled],
    scored: &[Scored],
    expected: impl Fn(&Labeled) -> bool,
    predicted: impl Fn(&Scored) -> bool,
) -> Prf {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (d, s) in docs.iter().zip(scored) {
        match (expected(d), predicted(s)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    Prf::new(tp, fp, fn_)
}

/// Document-level figures at threshold `t`: the flag against the positive label.
fn prf_at(docs: &[&Labeled], scored: &[Scored], t: f64) -> Prf {
    prf_of(docs, scored, Labeled::positive, |s| s.flagged(t))
}

/// Share of the counter-trope documents among `docs` flagged at threshold `t`.
fn counter_rate_at(docs: &[&Labeled], scored: &[Scored], t: f64) -> f64 {
    let counter_docs = docs.iter().filter(|d| d.counter()).count();
    if counter_docs == 0 {
        return 0.0;
    }
    docs.iter()
        .zip(scored)
        .filter(|(d, s)| d.counter() && s.flagged(t))
        .count() as f64
        / counter_docs as f64
}

/// `counter_score >= t` as a detector of the counter-trope documents among `docs`.
fn counter_prf(docs: &[&Labeled], scored: &[Scored], t: f64) -> Prf {
    prf_of(docs, scored, Labeled::counter, |s| s.counter >= t)
}

/// Scans every set's documents with `engine` and measures: one summary per set, and the
/// full report over all documents pooled (a single set is its own pool).
pub fn evaluate(engine: &Engine, sets: &[LabeledSet]) -> EvalReport {
    let threshold = engine.scorer().threshold();
    let set = engine.lexicons();
    let mut scanner = engine.scanner();
    let docs: Vec<&Labeled> = sets.iter().flat_map(|s| &s.docs).collect();
    let set_of: Vec<&str> = sets
        .iter()
        .flat_map(|s| std::iter::repeat(s.name.as_str()).take(s.docs.len()))
        .collect();
    let scored: Vec<Scored> = docs
        .iter()
        .map(|d| {
            let a = scanner.analyze(&d.text);
            let mut spans: Vec<(String, String, f64, String)> = a
                .spans
                .iter()
                .map(|s| {
                    let (st, en) = a.orig_range(&s.hit);
                    (
                        set.entry(s.hit.entry as usize).entry.id.clone(),
                        engine.category_name(s.category).to_string(),
                        s.score,
                        d.text[st..en].to_string(),
                    )
                })
                .collect();
            spans.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            Scored {
                score: a.doc.score,
                cats: a.doc.categories.clone(),
                counter: a.doc.counter_score,
                model: a.doc.model_score,
                model_flag: a
                    .doc
                    .model_score
                    .zip(engine.model())
                    .is_some_and(|(p, m)| m.flags(p)),
                spans,
            }
        })
        .collect();
    let counter_docs = docs.iter().filter(|d| d.counter()).count() as u64;
    let mut start = 0;
    let summaries = sets
        .iter()
        .map(|one| {
            let range = start..start + one.docs.len();
            start = range.end;
            let (d, sc) = (&docs[range.clone()], &scored[range]);
            SetSummary {
                name: one.name.clone(),
                documents: d.len() as u64,
                positives: d.iter().filter(|x| x.positive()).count() as u64,
                overall: prf_at(d, sc, threshold),
                counter_docs: d.iter().filter(|x| x.counter()).count() as u64,
                counter_flag_rate: counter_rate_at(d, sc, threshold),
                counter_score: counter_prf(d, sc, threshold),
            }
        })
        .collect();
    let categories = set
        .categories()
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let (mut tp, mut fp, mut fn_, mut labeled, mut flagged) = (0, 0, 0, 0u64, 0u64);
            for (d, s) in docs.iter().zip(&scored) {
                let has = d.categories.iter().any(|x| x == name);
                let pred = s.cats[c] >= threshold;
                labeled += u64::from(has);
                flagged += u64::from(has && s.flagged(threshold));
                match (has, pred) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
            CategoryEval {
                category: name.clone(),
                labeled,
                flag_recall: if labeled == 0 {
                    1.0
                } else {
                    flagged as f64 / labeled as f64
                },
                scored: Prf::new(tp, fp, fn_),
            }
        })
        .collect();
    let counter_score = counter_prf(&docs, &scored, threshold);
    let mut rules: BTreeMap<String, (String, u64, u64, u64)> = BTreeMap::new();
    for (d, s) in docs.iter().zip(&scored) {
        let mut seen: Vec<&str> = Vec::new();
        for (rule, cat, _, _) in &s.spans {
            let e = rules.entry(rule.clone()).or_insert((cat.clone(), 0, 0, 0));
            e.2 += 1;
            if !seen.contains(&rule.as_str()) {
                seen.push(rule);
                e.1 += 1;
                let good = if cat == engine.category_name(COUNTER) {
                    d.counter()
                } else {
                    d.positive()
                };
                e.3 += u64::from(good);
            }
        }
    }
    let mut rules: Vec<RuleEval> = rules
        .into_iter()
        .map(|(rule, (category, docs, spans, good))| RuleEval {
            rule,
            category,
            docs,
            spans,
            precision: good as f64 / docs.max(1) as f64,
        })
        .collect();
    rules.sort_by(|a, b| b.docs.cmp(&a.docs).then_with(|| a.rule.cmp(&b.rule)));
    let miss = |set: &str, d: &Labeled, s: &Scored| Miss {
        set: set.to_string(),
        id: d.id.clone(),
        score: s.score,
        model_score: s.model,
        categories: d.categories.clone(),
        note: d.note.clone(),
        spans: s
            .spans
            .iter()
            .take(6)
            .map(|(r, _, p, t)| format!("{r} {p:.2} {t:?}"))
            .collect(),
    };
    let misses = |wanted: &dyn Fn(&Labeled, &Scored) -> bool| {
        let mut list: Vec<Miss> = docs
            .iter()
            .zip(&scored)
            .zip(&set_of)
            .filter(|((d, s), _)| wanted(d, s))
            .map(|((d, s), set)| miss(set, d, s))
            .collect();
        list.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.set.cmp(&b.set))
                .then_with(|| a.id.cmp(&b.id))
        });
        list
    };
    let false_positives = misses(&|d, s| !d.positive() && s.flagged(threshold));
    let false_negatives = misses(&|d, s| d.positive() && !s.flagged(threshold));
    EvalReport {
        sets: summaries,
        documents: docs.len() as u64,
        positives: docs.iter().filter(|d| d.positive()).count() as u64,
        threshold,
        model: engine.model().map(|m| ModelUsed {
            digest: m.digest().to_string(),
            threshold: m.threshold(),
            gate: m.gate(),
        }),
        counter_model: engine.counter_model().map(|m| m.digest().to_string()),
        overall: prf_at(&docs, &scored, threshold),
        categories,
        counter_docs,
        counter_flag_rate: counter_rate_at(&docs, &scored, threshold),
        counter_score,
        thresholds: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
            .iter()
            .map(|&t| ThresholdRow {
                threshold: t,
                prf: prf_at(&docs, &scored, t),
                counter_flag_rate: counter_rate_at(&docs, &scored, t),
            })
            .collect(),
        rules,
        false_positives,
        false_negatives,
    }
}

/// Says whether the document model took part, and how.
fn model_line(r: &EvalReport) -> String {
    let trope = match &r.model {
        Some(m) => format!(
            "document model {} (flags at {}; asked about every document {}); \
             a flag is the lexicon score at the threshold or the model's flag",
            &m.digest[..12.min(m.digest.len())],
            m.threshold,
            if m.gate > 0.0 {
                format!("whose lexicon score reaches {}", m.gate)
            } else {
                "with a trope hit or an agent cue".to_string()
            }
        ),
        None => "lexicons alone (--no-model)".to_string(),
    };
    match &r.counter_model {
        Some(d) => format!(
            "{trope}; counter_score is the counter cues' or counter-trope model {}'s, whichever is higher",
            &d[..12.min(d.len())]
        ),
        None => trope,
    }
}

/// Renders a report as aligned plain text.
pub fn render(r: &EvalReport) -> String {
    let mut o = String::new();
    let p = |x: &Prf| {
        format!(
            "P {:.3}  R {:.3}  F1 {:.3}  (tp {} fp {} fn {})",
            x.precision, x.recall, x.f1, x.tp, x.fp, x.fn_
        )
    };
    let pooled = r.sets.len() > 1;
    if pooled {
        let _ = writeln!(
            o,
            "{} documents in {} sets, {} positive; threshold {}",
            r.documents,
            r.sets.len(),
            r.positives,
            r.threshold
        );
        let _ = writeln!(o, "{}", model_line(r));
        let width = r
            .sets
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0)
            .max(6);
        let _ = writeln!(
            o,
            "\nper set{:w$}   docs   pos      P      R     F1   counter flagged   counter_score P / R",
            "",
            w = width.saturating_sub(5)
        );
        let row = |o: &mut String,
                   name: &str,
                   docs: u64,
                   pos: u64,
                   x: &Prf,
                   cd: u64,
                   cr: f64,
                   cs: &Prf| {
            let flagged = (cr * cd as f64).round() as u64;
            let _ = writeln!(
                o,
                "  {name:<width$} {docs:>6} {pos:>5}  {:.3}  {:.3}  {:.3}   {:>5.1}% ({flagged}/{cd})   {:.3} / {:.3}",
                x.precision,
                x.recall,
                x.f1,
                cr * 100.0,
                cs.precision,
                cs.recall,
            );
        };
        for s in &r.sets {
            row(
                &mut o,
                &s.name,
                s.documents,
                s.positives,
                &s.overall,
                s.counter_docs,
                s.counter_flag_rate,
                &s.counter_score,
            );
        }
        row(
            &mut o,
            "pooled",
            r.documents,
            r.positives,
            &r.overall,
            r.counter_docs,
            r.counter_flag_rate,
            &r.counter_score,
        );
        let _ = writeln!(o, "\nall sets pooled:");
    } else {
        let _ = writeln!(
            o,
            "{} documents, {} positive; threshold {}",
            r.documents, r.positives, r.threshold
        );
        let _ = writeln!(o, "{}", model_line(r));
    }
    let _ = writeln!(o, "\noverall (document flagged)  {}", p(&r.overall));
    // A set of ordinary documents has no positives, so precision and recall say nothing
    // about it; the share of negatives flagged is its one figure.
    let negatives = r.documents - r.positives;
    let _ = writeln!(
        o,
        "negatives flagged: {} of {} ({:.1}%)",
        r.overall.fp,
        negatives,
        r.overall.fp as f64 * 100.0 / negatives.max(1) as f64
    );
    let _ = writeln!(
        o,
        "\nper category          labeled  flag recall  category score ≥ threshold"
    );
    for c in &r.categories {
        let _ = writeln!(
            o,
            "  {:<22} {:>5}  {:>10.3}   {}",
            c.category,
            c.labeled,
            c.flag_recall,
            p(&c.scored)
        );
    }
    let _ = writeln!(
        o,
        "\ncounter-trope documents: {}  flagged {:.1}%  counter_score ≥ threshold: {}",
        r.counter_docs,
        r.counter_flag_rate * 100.0,
        p(&r.counter_score)
    );
    let _ = writeln!(o, "\nthreshold  precision  recall  F1     counter flagged");
    for t in &r.thresholds {
        let _ = writeln!(
            o,
            "  {:<8.2} {:>9.3} {:>7.3} {:>6.3}  {:>6.1}%",
            t.threshold,
            t.prf.precision,
            t.prf.recall,
            t.prf.f1,
            t.counter_flag_rate * 100.0
        );
    }
    let _ = writeln!(
        o,
        "\nrules (documents with a kept span, precision of those documents)"
    );
    for rule in &r.rules {
        let _ = writeln!(
            o,
            "  {:<48} {:<22} docs {:>4}  spans {:>4}  precision {:.2}",
            rule.rule, rule.category, rule.docs, rule.spans, rule.precision
        );
    }
    for (title, list) in [
        ("false positives", &r.false_positives),
        ("false negatives", &r.false_negatives),
    ] {
        let _ = writeln!(o, "\n{title}: {}", list.len());
        for m in list {
            let id = if pooled {
                format!("{}:{}", m.set, m.id)
            } else {
                m.id.clone()
            };
            let _ = writeln!(
                o,
                "  {} score {:.3}{} {:?} {}",
                id,
                m.score,
                m.model_score
                    .map_or(String::new(), |p| format!(" model {p:.3}")),
                m.categories,
                m.note.as_deref().unwrap_or("")
            );
            for s in &m.spans {
                let _ = writeln!(o, "      {s}");
            }
        }
    }
    o
}
