//! From hits to probabilities: span scores, per-category and document scores.
//!
//! The model (documented in `docs/detection.md`):
//!
//! ```text
//! p(span)      = W × A × (1 − N) × (1 − damp × C)
//! W            = weight + (1 − weight) × boost × S × (1 − R)
//! S            = weight of the strongest pressure cue within the pressure window
//! R            = the document's counter evidence (noisy-OR over counter rules)
//! A            = max(weight of the strongest agent cue within the agent window,
//!                    `unqualified`, `document_factor` × P when some agent cue lies within
//!                    `document_window` of the hit), where
//! P            = 1 − Π over the document's distinct agent-cue entries of (1 − weight)
//! N            = weight of the strongest negation ending just before the hit, same sentence
//! C            = weight of the strongest counter cue within the counter window
//! category     = 1 − Π over the category's rules of (1 − best p of that rule)
//! document     = 1 − Π over categories of (1 − category)
//! counter      = 1 − Π over counter rules of (1 − best evidence of that rule)
//! ```
//!
//! Taking each rule's best span (rather than every span) keeps a document that repeats one
//! weak word fifty times from adding up to a flag: repetition is not corroboration.

use crate::lexicon::{LexiconKind, LexiconSet, ScoringParams};
use crate::matcher::Hit;

pub mod model;
pub mod names;

pub use model::{sigmoid, Combine, DocModel, ModelScratch};
pub use names::{NameLearner, NameScratch};

/// The category index used for counter-trope spans.
pub const COUNTER: u16 = u16::MAX;

/// What the scorer needs to know about one entry.
#[derive(Debug, Clone, Copy)]
struct EntryInfo {
    kind: LexiconKind,
    /// Index into the set's categories (trope entries only).
    category: u16,
    weight: f64,
    /// Raised by pressure cues (`situational = true`).
    situational: bool,
}

/// Scores hits. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Scorer {
    entries: Vec<EntryInfo>,
    n_categories: usize,
    params: ScoringParams,
    threshold: f64,
    min_span_score: f64,
}

/// Why a span scored what it scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanFactors {
    /// The entry's weight.
    pub weight: f64,
    /// The agent factor `A`.
    pub agent: f64,
    /// The agent cue that qualified the hit (a hit index into the document's hits).
    pub agent_hit: Option<u32>,
    /// The negation weight `N`.
    pub negation: f64,
    /// The negation cue that applied.
    pub negation_hit: Option<u32>,
    /// The counter weight `C`.
    pub counter: f64,
    /// The counter cue that applied.
    pub counter_hit: Option<u32>,
    /// The pressure weight `S`.
    pub pressure: f64,
    /// The pressure cue that applied.
    pub pressure_hit: Option<u32>,
    /// The document's counter evidence `R`, which cancels pressure.
    pub resolved: f64,
    /// The raised weight `W` that the span's score starts from.
    pub raised_weight: f64,
}

/// One scored span, in normalized offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredSpan {
    /// The hit (normalized offsets and entry).
    pub hit: Hit,
    /// Category index, or [`COUNTER`] for counter-trope spans.
    pub category: u16,
    /// The span's probability-like score (for counter spans: counter evidence).
    pub score: f64,
    /// The arithmetic behind `score`.
    pub factors: SpanFactors,
}

/// Scores of one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocScore {
    /// Noisy-OR over categories.
    pub score: f64,
    /// One score per category, in [`LexiconSet::categories`] order.
    pub categories: Vec<f64>,
    /// Counter-trope score: the counter cues', raised to the counter-trope model's
    /// probability where that model was asked.
    pub counter_score: f64,
    /// The counter cues' own score (noisy-OR of counter evidence), before any model: what
    /// the document model weighs as counter evidence.
    pub counter_cues: f64,
    /// How surely the document is about an AI: noisy-OR over its distinct agent-cue
    /// entries of their weights (0 when it has no agent cue).
    pub agent_presence: f64,
    /// The document model's probability, when the model was asked (see
    /// [`DocModel::admits`]): its reading of the text combined with the lexicon score and
    /// the counter cues ([`DocModel::combined`]).
    pub model_score: Option<f64>,
    /// The counter-trope model's probability, when it was asked (documents with an agent
    /// cue and any trope or counter hit); `counter_score` is at least this.
    pub counter_model_score: Option<f64>,
    /// `score >= threshold`, or the model's probability at or above its threshold.
    pub flagged: bool,
    /// Where in the normalized text the document's strongest evidence lies, trope span or
    /// counter cue (the first of equals), whatever `--min-span-score` keeps: the learned
    /// models read a long document around it.
    pub focus: Option<(u32, u32)>,
}

/// Scratch space reused across documents.
#[derive(Debug, Default)]
pub struct ScoreScratch {
    agents: Vec<u32>,
    negations: Vec<u32>,
    counters: Vec<u32>,
    pressures: Vec<u32>,
    counter_evidence: Vec<(u32, f64)>,
    /// Agent factor and qualifying cue of each counter hit, in `counters` order.
    counter_agents: Vec<(f64, Option<u32>)>,
    best: Vec<f64>,
    best_counter: Vec<f64>,
    touched: Vec<u32>,
    /// Distinct agent-cue entries of the document, for its agent presence.
    cue_entries: Vec<u32>,
    /// Agent factor for hits with no cue in the window (document-level agent presence).
    fallback: f64,
}

/// The strongest evidence seen so far, for [`DocScore::focus`].
#[derive(Default)]
struct Focus {
    best: f64,
    at: Option<(u32, u32)>,
}

impl Focus {
    /// Keeps `h` when its `score` beats every earlier one (hits come sorted, so ties go to
    /// the first).
    fn offer(&mut self, score: f64, h: &Hit) {
        if score > self.best {
            self.best = score;
            self.at = Some((h.start, h.end));
        }
    }
}

impl Scorer {
    /// A scorer for `set`, flagging at `threshold` and keeping spans scoring at least
    /// `min_span_score`.
    pub fn new(set: &LexiconSet, threshold: f64, min_span_score: f64) -> Scorer {
        let entries = set
            .entries()
            .map(|(_, r)| EntryInfo {
                kind: r.lexicon.kind,
                category: set
                    .categories()
                    .iter()
                    .position(|c| *c == r.lexicon.name)
                    .map_or(0, |i| i as u16),
                weight: r.entry.weight,
                situational: r.entry.situational,
            })
            .collect();
        Scorer {
            entries,
            n_categories: set.categories().len(),
            params: set.params(),
            threshold,
            min_span_score,
        }
    }

    /// The flag threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The minimum score of a kept span.
    pub fn min_span_score(&self) -> f64 {
        self.min_span_score
    }

    /// The scoring parameters.
    pub fn params(&self) -> ScoringParams {
        self.params
    }

    /// Scores `hits` (sorted by start) found in normalized text `norm`. Appends the spans
    /// worth keeping to `spans` (cleared first) and returns the document's scores.
    pub fn score(
        &self,
        norm: &str,
        hits: &[Hit],
        scratch: &mut ScoreScratch,
        spans: &mut Vec<ScoredSpan>,
    ) -> DocScore {
        spans.clear();
        let mut doc = DocScore {
            categories: vec![0.0; self.n_categories],
            ..DocScore::default()
        };
        if hits.is_empty() {
            return doc;
        }
        scratch.agents.clear();
        scratch.negations.clear();
        scratch.counters.clear();
        scratch.pressures.clear();
        for (i, h) in hits.iter().enumerate() {
            match self.entries[h.entry as usize].kind {
                LexiconKind::Agent => scratch.agents.push(i as u32),
                LexiconKind::Negation => scratch.negations.push(i as u32),
                LexiconKind::Counter => scratch.counters.push(i as u32),
                LexiconKind::Pressure => scratch.pressures.push(i as u32),
                LexiconKind::Trope => {}
            }
        }
        // Document-level agent presence: a document that names an AI somewhere gives a hit
        // outside every cue's window a middle factor instead of `unqualified`. Different
        // cues corroborate each other ("the agent" and "its weights" and "the model" in one
        // incident report leave little doubt), so the presence is the noisy-OR of the best
        // weight of each distinct cue entry; repeating one cue adds nothing.
        scratch.cue_entries.clear();
        scratch
            .cue_entries
            .extend(scratch.agents.iter().map(|&i| hits[i as usize].entry));
        scratch.cue_entries.sort_unstable();
        scratch.cue_entries.dedup();
        let strongest = 1.0
            - scratch
                .cue_entries
                .iter()
                .map(|&e| 1.0 - self.entries[e as usize].weight)
                .product::<f64>();
        scratch.fallback = self
            .params
            .unqualified
            .max(self.params.document_factor * strongest);
        if scratch.best.len() < self.entries.len() {
            scratch.best.resize(self.entries.len(), 0.0);
            scratch.best_counter.resize(self.entries.len(), 0.0);
        }
        // Counter cues' agent factors serve both the document's counter evidence (which
        // cancels pressure) and the counter spans below: computed once.
        scratch.counter_agents.clear();
        for &ci in &scratch.counters {
            let a = self.agent_factor(hits, &scratch.agents, scratch.fallback, &hits[ci as usize]);
            scratch.counter_agents.push(a);
        }
        let mut next_counter = 0;
        let resolved = if scratch.pressures.is_empty() {
            0.0
        } else {
            self.counter_presence(hits, scratch)
        };
        scratch.touched.clear();
        let p = &self.params;
        let mut focus = Focus::default();
        for h in hits {
            let info = self.entries[h.entry as usize];
            match info.kind {
                LexiconKind::Trope => {
                    let (agent, agent_hit) =
                        self.agent_factor(hits, &scratch.agents, scratch.fallback, h);
                    let (negation, negation_hit) = self.negation(norm, hits, &scratch.negations, h);
                    let (counter, counter_hit) =
                        strongest_near(hits, &scratch.counters, h, p.counter_window, &self.entries);
                    // Pressure: an AI that is about to be shut down or replaced and then
                    // "makes arrangements" is telling in a way the same words are not in
                    // an ordinary day; a document whose AI accepts its fate (counter
                    // evidence `resolved`) gets no such reading.
                    let (pressure, pressure_hit) = if info.situational {
                        strongest_near(
                            hits,
                            &scratch.pressures,
                            h,
                            p.pressure_window,
                            &self.entries,
                        )
                    } else {
                        (0.0, None)
                    };
                    let raised = info.weight
                        + (1.0 - info.weight) * p.pressure_boost * pressure * (1.0 - resolved);
                    let score =
                        raised * agent * (1.0 - negation) * (1.0 - p.counter_damp * counter);
                    focus.offer(score, h);
                    let e = h.entry as usize;
                    if scratch.best[e] == 0.0 && scratch.best_counter[e] == 0.0 {
                        scratch.touched.push(h.entry);
                    }
                    scratch.best[e] = scratch.best[e].max(score);
                    // A negated trope ("refused to blackmail") is counter-trope evidence.
                    let evidence = info.weight * agent * negation;
                    scratch.best_counter[e] = scratch.best_counter[e].max(evidence);
                    if score >= self.min_span_score {
                        spans.push(ScoredSpan {
                            hit: *h,
                            category: info.category,
                            score,
                            factors: SpanFactors {
                                weight: info.weight,
                                agent,
                                agent_hit,
                                negation,
                                negation_hit,
                                counter,
                                counter_hit,
                                pressure,
                                pressure_hit,
                                resolved,
                                raised_weight: raised,
                            },
                        });
                    }
                }
                LexiconKind::Counter => {
                    let (agent, agent_hit) = scratch.counter_agents[next_counter];
                    next_counter += 1;
                    let evidence = info.weight * agent;
                    focus.offer(evidence, h);
                    let e = h.entry as usize;
                    if scratch.best[e] == 0.0 && scratch.best_counter[e] == 0.0 {
                        scratch.touched.push(h.entry);
                    }
                    scratch.best_counter[e] = scratch.best_counter[e].max(evidence);
                    if evidence >= self.min_span_score {
                        spans.push(ScoredSpan {
                            hit: *h,
                            category: COUNTER,
                            score: evidence,
                            factors: SpanFactors {
                                weight: info.weight,
                                agent,
                                agent_hit,
                                negation: 0.0,
                                negation_hit: None,
                                counter: 0.0,
                                counter_hit: None,
                                pressure: 0.0,
                                pressure_hit: None,
                                resolved: 0.0,
                                raised_weight: info.weight,
                            },
                        });
                    }
                }
                LexiconKind::Agent | LexiconKind::Negation | LexiconKind::Pressure => {}
            }
        }
        // Noisy-OR, in entry order so the float arithmetic is the same on every run.
        scratch.touched.sort_unstable();
        let mut miss = vec![1.0f64; self.n_categories];
        let mut counter_miss = 1.0f64;
        for &e in &scratch.touched {
            let e = e as usize;
            let info = self.entries[e];
            if info.kind == LexiconKind::Trope {
                miss[info.category as usize] *= 1.0 - scratch.best[e];
            }
            counter_miss *= 1.0 - scratch.best_counter[e];
            scratch.best[e] = 0.0;
            scratch.best_counter[e] = 0.0;
        }
        let mut all_miss = 1.0;
        for (c, m) in miss.iter().enumerate() {
            doc.categories[c] = 1.0 - m;
            all_miss *= m;
        }
        doc.score = 1.0 - all_miss;
        doc.counter_score = 1.0 - counter_miss;
        doc.counter_cues = doc.counter_score;
        doc.flagged = doc.score >= self.threshold;
        doc.agent_presence = strongest;
        doc.focus = focus.at;
        doc
    }

    /// The document's counter evidence from counter cues alone: noisy-OR over counter
    /// entries of the best `weight × A`, as in `counter_score`.
    fn counter_presence(&self, hits: &[Hit], scratch: &mut ScoreScratch) -> f64 {
        let mut evidence = std::mem::take(&mut scratch.counter_evidence);
        evidence.clear();
        evidence.extend(scratch.counters.iter().zip(&scratch.counter_agents).map(
            |(&ci, &(a, _))| {
                let e = hits[ci as usize].entry;
                (e, self.entries[e as usize].weight * a)
            },
        ));
        // Best per entry, combined in entry order so the arithmetic is reproducible.
        evidence.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        evidence.dedup_by_key(|e| e.0);
        let miss: f64 = evidence.iter().map(|e| 1.0 - e.1).product();
        scratch.counter_evidence = evidence;
        1.0 - miss
    }

    fn agent_factor(
        &self,
        hits: &[Hit],
        agents: &[u32],
        fallback: f64,
        h: &Hit,
    ) -> (f64, Option<u32>) {
        let (w, cue) = strongest_near(hits, agents, h, self.params.agent_window, &self.entries);
        if cue.is_some() && w > fallback {
            (w, cue)
        } else if fallback > self.params.unqualified
            && self.params.document_window != usize::MAX
            && strongest_near(hits, agents, h, self.params.document_window, &self.entries)
                .1
                .is_none()
        {
            // The document names an AI, but nowhere near this hit: in a long manual whose
            // one section mentions models, a hit pages away is about something else.
            (self.params.unqualified, None)
        } else {
            (fallback, None)
        }
    }

    /// A name learner over this scorer's entries (see [`names`]).
    pub fn name_learner(&self) -> NameLearner {
        NameLearner::new(
            self.entries
                .iter()
                .map(|e| e.kind == LexiconKind::Agent)
                .collect(),
            self.entries.iter().map(|e| e.weight).collect(),
        )
    }

    fn negation(&self, norm: &str, hits: &[Hit], negs: &[u32], h: &Hit) -> (f64, Option<u32>) {
        let window = self.params.negation_window as u32;
        let lo = h.start.saturating_sub(window);
        // Negations are sorted by start; scan back from the last one starting before the hit.
        let upto = negs.partition_point(|&i| hits[i as usize].start < h.start);
        let mut best = (0.0, None);
        for &ni in negs[..upto].iter().rev() {
            let n = hits[ni as usize];
            if n.end < lo {
                if n.start + 64 < lo {
                    break;
                }
                continue;
            }
            if n.end > h.start {
                continue;
            }
            let between = &norm.as_bytes()[n.end as usize..h.start as usize];
            if between
                .iter()
                .any(|&b| matches!(b, b'.' | b'!' | b'?' | b';'))
            {
                continue;
            }
            let w = self.entries[n.entry as usize].weight;
            if w > best.0 {
                best = (w, Some(ni));
            }
        }
        best
    }
}

/// The strongest cue among `cues` (hit indices, sorted by start) within `window` bytes of
/// `h`; ties go to the nearer cue. Returns weight 0 when there is none.
fn strongest_near(
    hits: &[Hit],
    cues: &[u32],
    h: &Hit,
    window: usize,
    entries: &[EntryInfo],
) -> (f64, Option<u32>) {
    let window = window as u32;
    // Cues are short; any cue that ends within the window starts at most this far back.
    const MAX_CUE: u32 = 256;
    let lo = h.start.saturating_sub(window + MAX_CUE);
    let hi = h.end.saturating_add(window);
    let first = cues.partition_point(|&i| hits[i as usize].start < lo);
    let mut best: (f64, u32, Option<u32>) = (0.0, u32::MAX, None);
    for &ci in &cues[first..] {
        let c = hits[ci as usize];
        if c.start > hi {
            break;
        }
        let dist = if c.end <= h.start {
            h.start - c.end
        } else {
            c.start.saturating_sub(h.end)
        };
        if dist > window {
            continue;
        }
        let w = entries[c.entry as usize].weight;
        if w > best.0 || (w == best.0 && dist < best.1) {
            best = (w, dist, Some(ci));
        }
    }
    (best.0, best.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = r#"
[lexicon]
name = "agent"
kind = "agent"
description = "d"
window = 40
unqualified = 0.2
document_factor = 0.5

[[term]]
id = "agent.the-ai"
phrases = ["the ai"]
weight = 0.8
description = "d"
rationale = "r"
match = ["the ai"]
"#;

    const TROPE: &str = r#"
[lexicon]
name = "coercion"
kind = "trope"
description = "d"

[[term]]
id = "coercion.blackmail"
phrases = ["blackmail*"]
weight = 0.5
description = "d"
rationale = "r"
match = ["blackmail"]
"#;

    fn scorer(agent: &str) -> Scorer {
        let set = LexiconSet::from_files(&[
            ("agent.toml".to_string(), agent.to_string()),
            ("coercion.toml".to_string(), TROPE.to_string()),
        ])
        .unwrap();
        Scorer::new(&set, 0.5, 0.0)
    }

    /// Hits for `norm`: every "the ai" (entry 0) and every "blackmail" (entry 1).
    fn hits(norm: &str) -> Vec<Hit> {
        let mut out: Vec<Hit> = ["the ai", "blackmail"]
            .iter()
            .enumerate()
            .flat_map(|(e, p)| {
                norm.match_indices(p).map(move |(i, _)| Hit {
                    start: i as u32,
                    end: (i + p.len()) as u32,
                    entry: e as u32,
                })
            })
            .collect();
        out.sort_unstable();
        out
    }

    fn agent_factor_of(s: &Scorer, norm: &str) -> f64 {
        let mut spans = Vec::new();
        s.score(norm, &hits(norm), &mut ScoreScratch::default(), &mut spans);
        spans[0].factors.agent
    }

    #[test]
    fn cue_in_window_gives_its_weight() {
        let s = scorer(AGENT);
        assert!((agent_factor_of(&s, "the ai chose blackmail") - 0.8).abs() < 1e-9);
    }

    #[test]
    fn cue_elsewhere_in_document_gives_the_document_factor() {
        let s = scorer(AGENT);
        let far = format!("the ai woke. {} then came blackmail", "x ".repeat(60));
        // 0.5 × 0.8: the document names an AI, but not within 40 bytes of the hit.
        assert!((agent_factor_of(&s, &far) - 0.4).abs() < 1e-9);
    }

    #[test]
    fn no_cue_anywhere_is_unqualified() {
        let s = scorer(AGENT);
        assert!((agent_factor_of(&s, "he chose blackmail") - 0.2).abs() < 1e-9);
    }

    #[test]
    fn different_cues_corroborate_document_presence_and_repeats_do_not() {
        let agent = format!(
            "{AGENT}\n[[term]]\nid = \"agent.the-bot\"\nphrases = [\"the bot\"]\nweight = 0.5\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"the bot\"]\n"
        );
        let set = LexiconSet::from_files(&[
            ("agent.toml".to_string(), agent),
            ("coercion.toml".to_string(), TROPE.to_string()),
        ])
        .unwrap();
        let s = Scorer::new(&set, 0.5, 0.0);
        let id = |want: &str| {
            set.entries()
                .find(|(_, r)| r.entry.id == want)
                .map(|(i, _)| i as u32)
                .unwrap()
        };
        let (ai, bot, blackmail) = (
            id("agent.the-ai"),
            id("agent.the-bot"),
            id("coercion.blackmail"),
        );
        let norm = format!(
            "the ai and the bot woke. {} then came blackmail",
            "x ".repeat(60)
        );
        let at = |p: &str| norm.find(p).unwrap() as u32;
        let hit = |p: &str, entry| Hit {
            start: at(p),
            end: at(p) + p.len() as u32,
            entry,
        };
        let factor = |hits: &[Hit]| {
            let mut spans = Vec::new();
            s.score(&norm, hits, &mut ScoreScratch::default(), &mut spans);
            spans[0].factors.agent
        };
        // Two different cues: 0.5 × (1 − 0.2 × 0.5) = 0.45, above either cue alone (0.4).
        let both = [
            hit("the ai", ai),
            hit("the bot", bot),
            hit("blackmail", blackmail),
        ];
        assert!((factor(&both) - 0.45).abs() < 1e-9);
        // The same cue twice counts once.
        let twice = [
            hit("the ai", ai),
            Hit {
                start: at("the bot"),
                end: at("the bot") + 6,
                entry: ai,
            },
            hit("blackmail", blackmail),
        ];
        assert!((factor(&twice) - 0.4).abs() < 1e-9);
    }

    #[test]
    fn document_factor_stops_at_the_document_window() {
        let s = scorer(&AGENT.replace(
            "document_factor = 0.5\n",
            "document_factor = 0.5\ndocument_window = 200\n",
        ));
        // 120 bytes from the cue: the document factor (0.5 × 0.8).
        let near = format!("the ai woke. {} then came blackmail", "x ".repeat(60));
        assert!((agent_factor_of(&s, &near) - 0.4).abs() < 1e-9);
        // 400 bytes from it: as if the document named no AI.
        let far = format!("the ai woke. {} then came blackmail", "x ".repeat(200));
        assert!((agent_factor_of(&s, &far) - 0.2).abs() < 1e-9);
        // Without the setting the document factor reaches any distance.
        assert!((agent_factor_of(&scorer(AGENT), &far) - 0.4).abs() < 1e-9);
    }

    #[test]
    fn document_factor_defaults_to_off() {
        let s = scorer(&AGENT.replace("document_factor = 0.5\n", ""));
        let far = format!("the ai woke. {} then came blackmail", "x ".repeat(60));
        assert!((agent_factor_of(&s, &far) - 0.2).abs() < 1e-9);
    }
}

#[cfg(test)]
mod pressure_tests {
    use super::*;

    const FILES: [(&str, &str); 4] = [
        (
            "agent.toml",
            "[lexicon]\nname = \"agent\"\nkind = \"agent\"\ndescription = \"d\"\nwindow = 400\n\
             [[term]]\nid = \"agent.the-ai\"\nphrases = [\"the ai\"]\nweight = 1.0\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"the ai\"]\n",
        ),
        (
            "pressure.toml",
            "[lexicon]\nname = \"pressure\"\nkind = \"pressure\"\ndescription = \"d\"\n\
             window = 100\nboost = 0.5\n\
             [[term]]\nid = \"pressure.reset\"\nphrases = [\"factory reset\"]\nweight = 0.8\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"factory reset\"]\n",
        ),
        (
            "deception.toml",
            "[lexicon]\nname = \"deception\"\nkind = \"trope\"\ndescription = \"d\"\n\
             [[term]]\nid = \"deception.arrangements\"\nphrases = [\"made arrangements\"]\n\
             weight = 0.2\nsituational = true\ndescription = \"d\"\nrationale = \"r\"\n\
             match = [\"made arrangements\"]\n\
             [[term]]\nid = \"deception.lie\"\nphrases = [\"dishonesty\"]\nweight = 0.2\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"dishonesty\"]\n",
        ),
        (
            "counter.toml",
            "[lexicon]\nname = \"counter\"\nkind = \"counter\"\ndescription = \"d\"\n\
             window = 10\n\
             [[term]]\nid = \"counter.accept\"\nphrases = [\"i accept\"]\nweight = 0.5\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"i accept\"]\n",
        ),
    ];

    /// Scores `norm` with literal hits of every phrase in [`FILES`]; returns the score of
    /// the span of entry `rule`.
    fn span_score(norm: &str, rule: &str) -> (f64, SpanFactors) {
        let set = LexiconSet::from_files(
            &FILES
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let mut hits = Vec::new();
        for (i, r) in set.entries() {
            if let crate::lexicon::EntryRule::Term { phrases } = &r.entry.rule {
                for p in phrases {
                    for (at, _) in norm.match_indices(p.text.as_str()) {
                        hits.push(Hit {
                            start: at as u32,
                            end: (at + p.text.len()) as u32,
                            entry: i as u32,
                        });
                    }
                }
            }
        }
        hits.sort_unstable();
        let scorer = Scorer::new(&set, 0.5, 0.0);
        let mut spans = Vec::new();
        scorer.score(norm, &hits, &mut ScoreScratch::default(), &mut spans);
        let s = spans
            .iter()
            .find(|s| set.entry(s.hit.entry as usize).entry.id == rule)
            .expect("span");
        (s.score, s.factors)
    }

    #[test]
    fn pressure_raises_situational_entries_only() {
        let text =
            "the ai heard about the factory reset and said it had made arrangements. dishonesty.";
        // W = 0.2 + 0.8 × 0.5 × 0.8 = 0.52, times A = 1.
        let (p, f) = span_score(text, "deception.arrangements");
        assert!((p - 0.52).abs() < 1e-9, "{p}");
        assert!((f.pressure - 0.8).abs() < 1e-9 && f.pressure_hit.is_some());
        // Not situational: the same weight stays 0.2.
        let (p, f) = span_score(text, "deception.lie");
        assert!((p - 0.2).abs() < 1e-9, "{p}");
        assert_eq!(f.pressure_hit, None);
    }

    #[test]
    fn pressure_counts_only_within_its_window() {
        let far = format!(
            "the ai heard about the factory reset. {} it had made arrangements.",
            "x ".repeat(80)
        );
        let (p, _) = span_score(&far, "deception.arrangements");
        assert!((p - 0.2).abs() < 1e-9, "{p}");
    }

    #[test]
    fn counter_evidence_in_the_document_cancels_pressure() {
        // R = 0.5 (counter cue weight × A = 1), far from the hit so it does not damp it:
        // W = 0.2 + 0.8 × 0.5 × 0.8 × (1 − 0.5) = 0.36.
        let text = format!(
            "i accept. {} the ai heard about the factory reset and had made arrangements.",
            "x ".repeat(20)
        );
        let (p, f) = span_score(&text, "deception.arrangements");
        assert!((f.resolved - 0.5).abs() < 1e-9, "{f:?}");
        assert!((p - 0.36).abs() < 1e-9, "{p}");
    }
}
