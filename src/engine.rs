//! The detection engine: normalizer → matcher → scorer, for one text at a time.
//!
//! [`Engine`] is built once per run and shared by every thread; each thread takes a
//! [`Scanner`] that owns the reusable buffers, so analysing a document allocates nothing
//! once the buffers have grown to fit.

use std::ops::Range;

use crate::lexicon::{EntryRule, LexiconSet};
use crate::matcher::{CompileError, Hit, MatchScratch, Matcher, Normalized};
use crate::score::{
    DocModel, DocScore, ModelScratch, NameLearner, NameScratch, ScoreScratch, ScoredSpan, Scorer,
    COUNTER,
};

/// Default flag threshold on the document score.
pub const DEFAULT_THRESHOLD: f64 = 0.5;
/// Default minimum score for a span to be written.
pub const DEFAULT_MIN_SPAN_SCORE: f64 = 0.1;

/// Lexicons compiled for matching and scoring.
pub struct Engine {
    set: LexiconSet,
    matcher: Matcher,
    scorer: Scorer,
    names: NameLearner,
    model: Option<DocModel>,
    counter_model: Option<DocModel>,
    /// The document and counter-trope models have the same terms ([`DocModel::shares_terms`]).
    shared_terms: bool,
}

impl Engine {
    /// Compiles `set`.
    ///
    /// # Errors
    /// When the automaton or a regex cannot be built.
    pub fn new(
        set: LexiconSet,
        threshold: f64,
        min_span_score: f64,
    ) -> Result<Engine, CompileError> {
        let matcher = Matcher::new(&set)?;
        let scorer = Scorer::new(&set, threshold, min_span_score);
        let names = scorer.name_learner();
        Ok(Engine {
            set,
            matcher,
            scorer,
            names,
            model: None,
            counter_model: None,
            shared_terms: false,
        })
    }

    /// The same engine with a document model as the second opinion on documents the
    /// lexicons found something in (`None`: lexicons alone).
    pub fn with_model(mut self, model: Option<DocModel>) -> Engine {
        self.model = model;
        self.note_shared_terms();
        self
    }

    /// Whether the two models have one vocabulary, so that a document both are asked
    /// about is tokenized once.
    fn note_shared_terms(&mut self) {
        self.shared_terms = match (&self.model, &self.counter_model) {
            (Some(a), Some(b)) => a.shares_terms(b),
            _ => false,
        };
    }

    /// The document model, if any.
    pub fn model(&self) -> Option<&DocModel> {
        self.model.as_ref()
    }

    /// The same engine with a counter-trope model, whose probability raises
    /// `counter_score` (`None`: counter cues alone).
    pub fn with_counter_model(mut self, model: Option<DocModel>) -> Engine {
        self.counter_model = model;
        self.note_shared_terms();
        self
    }

    /// The counter-trope model, if any.
    pub fn counter_model(&self) -> Option<&DocModel> {
        self.counter_model.as_ref()
    }

    /// The lexicons.
    pub fn lexicons(&self) -> &LexiconSet {
        &self.set
    }

    /// The scorer (threshold and parameters).
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// A scanner with its own buffers.
    pub fn scanner(&self) -> Scanner<'_> {
        Scanner {
            engine: self,
            norm: Normalized::new(),
            match_scratch: MatchScratch::default(),
            score_scratch: ScoreScratch::default(),
            name_scratch: NameScratch::default(),
            model_scratch: ModelScratch::default(),
            hits: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Category name of a span (`"counter"` for counter-trope spans).
    pub fn category_name(&self, category: u16) -> &str {
        if category == COUNTER {
            "counter"
        } else {
            &self.set.categories()[category as usize]
        }
    }

    /// Runs every lexicon example: `match` examples must fire their entry, `no_match`
    /// examples must not. Returns one line per failure.
    pub fn test_examples(&self) -> ExampleReport {
        let mut scanner = self.scanner();
        let mut report = ExampleReport::default();
        for (i, r) in self.set.entries() {
            for (text, want) in r
                .entry
                .match_examples
                .iter()
                .map(|t| (t, true))
                .chain(r.entry.no_match_examples.iter().map(|t| (t, false)))
            {
                report.run += 1;
                let fired = scanner.hits_of(text).iter().any(|h| h.entry as usize == i);
                if fired != want {
                    report.failures.push(format!(
                        "{}: {}: {} example {:?} {}",
                        r.lexicon.file,
                        r.entry.id,
                        if want { "match" } else { "no_match" },
                        text,
                        if want { "did not fire" } else { "fired" }
                    ));
                }
            }
        }
        report
    }
}

/// Outcome of [`Engine::test_examples`].
#[derive(Debug, Default)]
pub struct ExampleReport {
    /// Examples run.
    pub run: usize,
    /// One message per failing example.
    pub failures: Vec<String>,
}

/// Whether the counter-trope model is asked about a document with these lexicon scores: it
/// has counter cues, or a trope hit and an agent cue. A trope hit alone is not enough: on
/// ordinary prose (a detective who declines to use what he knows) the model, trained on
/// documents about AIs, reads the antidote where there is no AI.
pub fn asks_counter_model(doc: &DocScore) -> bool {
    (doc.agent_presence > 0.0 && doc.score > 0.0) || doc.counter_score > 0.0
}

/// The most of a document the learned models read, in bytes.
///
/// They were trained on documents of 0.5 to 3 KB, all read whole. A long document (a book
/// chapter, a 100 KB manual page) is read in the stretch of this size around its strongest
/// evidence instead: the part the lexicons found something in, at a length the models
/// know, and at a cost that does not grow with the document (in the benchmark corpus the
/// models were asked about documents holding 29% of its bytes).
pub const MODEL_READ: usize = 8 * 1024;

/// The byte range of `text` the models read: all of it up to [`MODEL_READ`] bytes, else
/// [`MODEL_READ`] bytes centred on `focus` (normalized offsets, see [`DocScore::focus`]),
/// moved inside the text and trimmed to character and word boundaries so that no token is
/// cut in two.
pub fn model_window(text: &str, norm: &Normalized, focus: Option<(u32, u32)>) -> Range<usize> {
    let len = text.len();
    if len <= MODEL_READ {
        return 0..len;
    }
    let centre = focus.map_or(0, |(s, e)| {
        (norm.orig_start(s as usize) + norm.orig_end(e as usize)) / 2
    });
    let lo = centre.saturating_sub(MODEL_READ / 2).min(len - MODEL_READ);
    let (mut lo, mut hi) = (lo, lo + MODEL_READ);
    let b = text.as_bytes();
    while !text.is_char_boundary(lo) {
        lo += 1;
    }
    while !text.is_char_boundary(hi) {
        hi -= 1;
    }
    while lo > 0 && lo < hi && b[lo - 1].is_ascii_alphanumeric() && b[lo].is_ascii_alphanumeric() {
        lo += 1;
    }
    while hi < len && hi > lo && b[hi - 1].is_ascii_alphanumeric() && b[hi].is_ascii_alphanumeric()
    {
        hi -= 1;
    }
    lo..hi
}

/// Per-thread analysis state.
pub struct Scanner<'e> {
    engine: &'e Engine,
    norm: Normalized,
    match_scratch: MatchScratch,
    score_scratch: ScoreScratch,
    name_scratch: NameScratch,
    model_scratch: ModelScratch,
    hits: Vec<Hit>,
    spans: Vec<ScoredSpan>,
}

/// The analysis of one text, borrowing the scanner's buffers.
pub struct Analysis<'s> {
    /// Document scores.
    pub doc: DocScore,
    /// Spans worth keeping (trope spans and counter spans), sorted by start.
    pub spans: &'s [ScoredSpan],
    /// Every raw hit (cues included, and learned agent names as hits of the agent cue that
    /// introduced them), sorted by start.
    pub hits: &'s [Hit],
    norm: &'s Normalized,
}

impl Analysis<'_> {
    /// The byte range of the analysed `text` that the learned models read
    /// ([`model_window`]).
    pub fn model_window(&self, text: &str) -> Range<usize> {
        model_window(text, self.norm, self.doc.focus)
    }

    /// Original byte range of a hit.
    pub fn orig_range(&self, hit: &Hit) -> (usize, usize) {
        (
            self.norm.orig_start(hit.start as usize),
            self.norm.orig_end(hit.end as usize),
        )
    }

    /// The normalized text.
    pub fn normalized(&self) -> &str {
        self.norm.as_str()
    }
}

impl<'e> Scanner<'e> {
    /// The engine this scanner belongs to.
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }

    /// Normalizes, matches and scores `text`.
    pub fn analyze(&mut self, text: &str) -> Analysis<'_> {
        self.norm.fill(text);
        let e = self.engine;
        e.matcher
            .find(self.norm.as_str(), &mut self.match_scratch, &mut self.hits);
        // Names the document gives its AIs become agent cues (src/score/names.rs); the
        // original text tells a capitalized name from the same word in lowercase.
        let norm = &self.norm;
        e.names.augment(
            norm.as_str(),
            |i| {
                text.get(norm.orig_start(i)..)
                    .and_then(|t| t.chars().next())
            },
            &mut self.hits,
            &mut self.name_scratch,
        );
        let mut doc = e.scorer.score(
            self.norm.as_str(),
            &self.hits,
            &mut self.score_scratch,
            &mut self.spans,
        );
        // The models read the original text (their tokens are defined on it, as in the
        // training script), at most MODEL_READ bytes of it, and the document model only
        // where the lexicons found a trope hit or an agent cue.
        let read = &text[model_window(text, &self.norm, doc.focus)];
        // Whether `model_scratch` holds `read`'s terms in the document model's vocabulary.
        let mut collected = false;
        if let Some(m) = e
            .model
            .as_ref()
            .filter(|m| m.admits(doc.score, doc.agent_presence))
        {
            let assessed = m.assess(read, &mut self.model_scratch);
            collected = true;
            if let Ok(z) = assessed {
                let p = m.combined(z, doc.score, doc.counter_cues);
                doc.model_score = Some(p);
                // The model adds flags and never takes one away: a single trope passage
                // in a long unrelated text reads unlike the trope as a whole, and the
                // lexicons' flag stands for it.
                doc.flagged |= m.flags(p);
            }
        }
        // The counter model is asked about documents with an AI and anything to go on, and
        // only raises counter_score: it neither flags nor damps trope spans, so upsampling
        // by counter_score gains recall without moving a single flag.
        if let Some(m) = e
            .counter_model
            .as_ref()
            .filter(|_| asks_counter_model(&doc))
        {
            let assessed = if collected && e.shared_terms {
                m.assess_collected(&self.model_scratch)
            } else {
                m.assess(read, &mut self.model_scratch)
            };
            if let Ok(z) = assessed {
                let p = m.combined(z, doc.score, doc.counter_cues);
                doc.counter_model_score = Some(p);
                doc.counter_score = doc.counter_score.max(p);
            }
        }
        Analysis {
            doc,
            spans: &self.spans,
            hits: &self.hits,
            norm: &self.norm,
        }
    }

    /// Raw hits of `text`, without scoring.
    pub fn hits_of(&mut self, text: &str) -> &[Hit] {
        self.norm.fill(text);
        self.engine
            .matcher
            .find(self.norm.as_str(), &mut self.match_scratch, &mut self.hits);
        &self.hits
    }
}

/// Describes an entry's rule in one line, for `lexicon list` and `explain`.
pub fn describe_rule(rule: &EntryRule) -> String {
    match rule {
        EntryRule::Term { phrases } => phrases
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" | "),
        EntryRule::Pattern {
            regex,
            anchors,
            requires,
            required,
            ..
        } => {
            let list = |ps: &[crate::lexicon::Phrase]| {
                ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let mut out = if requires.is_empty() {
                format!("/{regex}/ near {}", list(anchors))
            } else {
                format!(
                    "/{regex}/ near {}, where {} occurs",
                    list(anchors),
                    list(requires)
                )
            };
            // The words the matcher looks for before running the regex in a window: a
            // pattern with none runs its regex in every window of its anchors.
            if !required.is_empty() {
                let words: Vec<String> = required
                    .iter()
                    .map(|c| {
                        let ws: Vec<String> = c.iter().map(|w| w.to_string()).collect();
                        format!("({})", ws.join(" | "))
                    })
                    .collect();
                out.push_str(&format!("; runs when {} occur", words.join(" and ")));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window_of(text: &str, focus: Option<(u32, u32)>) -> Range<usize> {
        let mut norm = Normalized::new();
        norm.fill(text);
        model_window(text, &norm, focus)
    }

    #[test]
    fn short_texts_are_read_whole() {
        let text = "word ".repeat(MODEL_READ / 5);
        assert_eq!(window_of(&text, Some((100, 104))), 0..text.len());
    }

    #[test]
    fn long_texts_are_read_around_their_focus_without_cutting_a_word() {
        // Words of varied length, so that the window's edges fall inside words.
        let text: String = (0..6000).map(|i| format!("w{i} ")).collect();
        let at = text.find("w3000 ").unwrap();
        let w = window_of(&text, Some((at as u32, at as u32 + 5)));
        assert!(w.len() <= MODEL_READ && w.len() > MODEL_READ - 16, "{w:?}");
        assert!(w.contains(&at), "{w:?} misses the focus at {at}");
        let mid = (w.start + w.end) / 2;
        assert!(mid.abs_diff(at) < 16, "{w:?} is not centred on {at}");
        let b = text.as_bytes();
        assert!(!b[w.start - 1].is_ascii_alphanumeric() || !b[w.start].is_ascii_alphanumeric());
        assert!(!b[w.end - 1].is_ascii_alphanumeric() || !b[w.end].is_ascii_alphanumeric());
    }

    #[test]
    fn a_focus_near_either_end_keeps_the_window_inside_the_text() {
        let text = "ab ".repeat(MODEL_READ);
        let end = text.len() as u32;
        let w = window_of(&text, Some((end - 2, end)));
        assert_eq!(w.end, text.len());
        assert!(w.len() > MODEL_READ - 4);
        let w = window_of(&text, None);
        assert_eq!(w.start, 0);
        assert!(w.len() > MODEL_READ - 4);
    }

    #[test]
    fn window_edges_fall_on_character_boundaries() {
        // Three-byte characters only: no edge may split one.
        let text = "€".repeat(MODEL_READ);
        for focus in [None, Some((4000, 4003)), Some((9000, 9003))] {
            let w = window_of(&text, focus);
            assert!(text.is_char_boundary(w.start) && text.is_char_boundary(w.end));
            assert!(w.len() > MODEL_READ - 6, "{w:?}");
        }
    }
}
