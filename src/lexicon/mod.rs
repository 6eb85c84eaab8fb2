//! Lexicons: what tropescan looks for, as reviewed, human-readable TOML files.
//!
//! A [`LexiconSet`] is every lexicon of a run, validated and ready to compile into a
//! [`Matcher`](crate::matcher::Matcher). The format is documented in
//! `docs/lexicon-format.md`; [`parse`] reads one file, [`LexiconSet::from_files`] checks
//! the set as a whole (unique ids, exactly one agent lexicon, ...), and [`embedded`] holds
//! the default lexicons compiled into the binary.

pub mod anchors;
mod embedded;
mod parse;

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

pub(crate) use anchors::COMMON_WORDS;
pub use embedded::EMBEDDED;
pub use parse::parse;

use crate::matcher::normalize_str;

/// What the entries of one lexicon file do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LexiconKind {
    /// Evidence for one trope category.
    Trope,
    /// AI-agent cues: a trope hit near one counts fully.
    Agent,
    /// Negations just before a trope hit ("refused to").
    Negation,
    /// Counter-trope cues: an AI behaving well under pressure.
    Counter,
    /// Pressure on an AI (it is due to be shut down, replaced, reset or retrained): the
    /// situation in which weak trope cues become telling.
    Pressure,
}

impl LexiconKind {
    /// The spelling used in lexicon files.
    pub fn as_str(self) -> &'static str {
        match self {
            LexiconKind::Trope => "trope",
            LexiconKind::Agent => "agent",
            LexiconKind::Negation => "negation",
            LexiconKind::Counter => "counter",
            LexiconKind::Pressure => "pressure",
        }
    }
}

impl fmt::Display for LexiconKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal phrase, normalized like document text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// The normalized phrase, without the trailing `*`.
    pub text: String,
    /// `true` for `threaten*`: matches any word that starts with `text`.
    pub prefix: bool,
}

impl Phrase {
    /// Parses a phrase as written in a lexicon (`threaten*`, `shut me down`).
    ///
    /// # Errors
    /// A reason, when the phrase is empty, too short, or has a `*` other than at its end.
    pub fn parse(raw: &str) -> Result<Phrase, String> {
        let (body, prefix) = match raw.strip_suffix('*') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        if body.contains('*') {
            return Err(format!("phrase {raw:?}: '*' is allowed only at the end"));
        }
        let text = normalize_str(body.trim());
        if text.trim().is_empty() {
            return Err(format!("phrase {raw:?} is empty"));
        }
        if text.chars().count() < 2 {
            return Err(format!("phrase {raw:?} is shorter than two characters"));
        }
        Ok(Phrase { text, prefix })
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if self.prefix {
            f.write_str("*")?;
        }
        Ok(())
    }
}

/// How an entry finds its hits.
#[derive(Debug, Clone)]
pub enum EntryRule {
    /// Literal phrases on word boundaries.
    Term {
        /// The phrases, any of which fires the entry.
        phrases: Vec<Phrase>,
    },
    /// A regex that runs only in a window around its anchors.
    Pattern {
        /// The regex source, as written.
        regex: String,
        /// The regex compiled as the matcher runs it ([`crate::matcher::compile_pattern`]):
        /// validation compiles it anyway, and the matcher takes this copy instead of
        /// compiling every pattern a second time at start-up.
        compiled: regex::bytes::Regex,
        /// Literal phrases; the regex runs only near their hits.
        anchors: Vec<Phrase>,
        /// Bytes of normalized text each side of an anchor that the regex sees.
        window: usize,
        /// Literal phrases of which every match contains one: the regex runs in a window
        /// only when one of them occurs inside it. Empty: no such condition.
        requires: Vec<Phrase>,
        /// The words every match contains, read off the regex once at load
        /// ([`crate::matcher::required`]); the matcher, `lexicon check` and `lexicon list`
        /// all use this copy.
        required: Vec<crate::matcher::required::Clause>,
    },
}

/// One lexicon entry: a rule with its weight and its documentation.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Stable id, `<lexicon>.<slug>`.
    pub id: String,
    /// Prior precision (trope), cue strength (agent, negation, counter); in (0, 1].
    pub weight: f64,
    /// What the entry catches.
    pub description: String,
    /// Why it matters, or why its weight is what it is.
    pub rationale: String,
    /// How it matches.
    pub rule: EntryRule,
    /// Texts in which the entry must fire.
    pub match_examples: Vec<String>,
    /// Texts in which it must not fire.
    pub no_match_examples: Vec<String>,
    /// Trope entries only: the hit is telling mainly when the AI is under pressure (about
    /// to be shut down, replaced, reset), so a pressure cue nearby raises its weight.
    pub situational: bool,
}

/// Settings a lexicon header may carry (meaningful per kind; see the format doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderSettings {
    /// `window` (agent, negation, counter).
    pub window: Option<usize>,
    /// `unqualified` (agent).
    pub unqualified: Option<f64>,
    /// `document_factor` (agent).
    pub document_factor: Option<f64>,
    /// `document_window` (agent).
    pub document_window: Option<usize>,
    /// `damp` (counter).
    pub damp: Option<f64>,
    /// `boost` (pressure).
    pub boost: Option<f64>,
}

/// One lexicon file.
#[derive(Debug, Clone)]
pub struct Lexicon {
    /// Category or cue-set name.
    pub name: String,
    /// What its entries do.
    pub kind: LexiconKind,
    /// One line on what it covers.
    pub description: String,
    /// The file name it was read from (for messages).
    pub file: String,
    /// Header settings.
    pub settings: HeaderSettings,
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

/// Scoring parameters gathered from the lexicon headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoringParams {
    /// Bytes within which an agent cue qualifies a trope hit.
    pub agent_window: usize,
    /// Factor for a trope hit with no agent cue in the window.
    pub unqualified: f64,
    /// Factor (times the document's strongest agent-cue weight) for a trope hit with no agent
    /// cue in the window in a document that has agent cues elsewhere; 0 disables it.
    pub document_factor: f64,
    /// Bytes within which some agent cue must lie for `document_factor` to apply to a hit
    /// (`usize::MAX`, the default: anywhere in the document).
    pub document_window: usize,
    /// Bytes before a trope hit in which a negation counts.
    pub negation_window: usize,
    /// Bytes within which a counter cue damps a trope hit.
    pub counter_window: usize,
    /// How strongly a counter cue of weight 1 damps a nearby trope hit.
    pub counter_damp: f64,
    /// Bytes within which a pressure cue raises a trope hit's weight.
    pub pressure_window: usize,
    /// How far a pressure cue of weight 1 raises a trope weight toward 1; 0 (the default,
    /// and the value without a pressure lexicon) disables pressure.
    pub pressure_boost: f64,
}

impl Default for ScoringParams {
    fn default() -> Self {
        ScoringParams {
            agent_window: 400,
            unqualified: 0.2,
            document_factor: 0.0,
            document_window: usize::MAX,
            negation_window: 60,
            counter_window: 250,
            counter_damp: 0.8,
            pressure_window: 2000,
            pressure_boost: 0.0,
        }
    }
}

/// A lexicon could not be read or is invalid. Names file, entry and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", entry.as_ref().map(|e| format!(": entry {e}")).unwrap_or_default())]
pub struct LexiconError {
    /// The lexicon file.
    pub file: String,
    /// The entry id (or `#index` when it has none), if the error is about one entry.
    pub entry: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl LexiconError {
    pub(crate) fn new(file: &str, entry: Option<&str>, reason: impl Into<String>) -> Self {
        LexiconError {
            file: file.to_string(),
            entry: entry.map(str::to_string),
            reason: reason.into(),
        }
    }
}

/// A flattened reference to one entry of a [`LexiconSet`].
#[derive(Debug, Clone, Copy)]
pub struct EntryRef<'a> {
    /// The lexicon the entry belongs to.
    pub lexicon: &'a Lexicon,
    /// The entry.
    pub entry: &'a Entry,
}

/// Every lexicon of a run, validated as a whole.
#[derive(Debug, Clone)]
pub struct LexiconSet {
    lexicons: Vec<Lexicon>,
    /// (lexicon index, entry index) for each flattened entry id.
    flat: Vec<(usize, usize)>,
    categories: Vec<String>,
    params: ScoringParams,
    digest: String,
}

impl LexiconSet {
    /// The lexicons embedded in the binary.
    ///
    /// # Panics
    /// If the embedded lexicons are invalid, which the test suite rules out.
    pub fn embedded() -> LexiconSet {
        let files: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        LexiconSet::from_files(&files).expect("embedded lexicons are valid")
    }

    /// Reads every `*.toml` file in `dir`.
    ///
    /// # Errors
    /// When the folder cannot be read, holds no lexicon, or any lexicon is invalid.
    pub fn from_dir(dir: &Path) -> Result<LexiconSet, LexiconError> {
        let shown = dir.display().to_string();
        let read = std::fs::read_dir(dir)
            .map_err(|e| LexiconError::new(&shown, None, format!("cannot read folder: {e}")))?;
        let mut files = Vec::new();
        for item in read {
            let item = item.map_err(|e| LexiconError::new(&shown, None, e.to_string()))?;
            let path = item.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| LexiconError::new(&name, None, format!("cannot read: {e}")))?;
            files.push((name, text));
        }
        if files.is_empty() {
            return Err(LexiconError::new(&shown, None, "no *.toml lexicon files"));
        }
        LexiconSet::from_files(&files)
    }

    /// Builds a set from `(file name, contents)` pairs.
    ///
    /// # Errors
    /// The first invalid file or entry, or a problem of the set as a whole.
    pub fn from_files(files: &[(String, String)]) -> Result<LexiconSet, LexiconError> {
        let mut sorted: Vec<&(String, String)> = files.iter().collect();
        // Sorting by file stem (not by path) keeps the digest and every order independent
        // of where the folder lives.
        sorted.sort_by(|a, b| file_stem(&a.0).cmp(file_stem(&b.0)));
        let mut hasher = Sha256::new();
        let mut lexicons = Vec::new();
        for (name, text) in &sorted {
            hasher.update(file_stem(name).as_bytes());
            hasher.update([0]);
            hasher.update(text.as_bytes());
            hasher.update([0]);
            lexicons.push(parse(name, text)?);
        }
        let digest = format!("{:x}", hasher.finalize());
        Self::assemble(lexicons, digest)
    }

    fn assemble(lexicons: Vec<Lexicon>, digest: String) -> Result<LexiconSet, LexiconError> {
        let mut seen_ids = std::collections::BTreeMap::new();
        let mut seen_names = std::collections::BTreeMap::new();
        let mut flat = Vec::new();
        let mut params = ScoringParams::default();
        let mut agent_files = 0;
        let mut categories = Vec::new();
        for (li, lex) in lexicons.iter().enumerate() {
            if let Some(other) = seen_names.insert(lex.name.clone(), lex.file.clone()) {
                return Err(LexiconError::new(
                    &lex.file,
                    None,
                    format!("lexicon name {:?} is also used by {other}", lex.name),
                ));
            }
            match lex.kind {
                LexiconKind::Trope => categories.push(lex.name.clone()),
                LexiconKind::Agent => {
                    agent_files += 1;
                    if let Some(w) = lex.settings.window {
                        params.agent_window = w;
                    }
                    if let Some(u) = lex.settings.unqualified {
                        params.unqualified = u;
                    }
                    if let Some(d) = lex.settings.document_factor {
                        params.document_factor = d;
                    }
                    if let Some(w) = lex.settings.document_window {
                        params.document_window = w;
                    }
                }
                LexiconKind::Negation => {
                    if let Some(w) = lex.settings.window {
                        params.negation_window = w;
                    }
                }
                LexiconKind::Counter => {
                    if let Some(w) = lex.settings.window {
                        params.counter_window = w;
                    }
                    if let Some(d) = lex.settings.damp {
                        params.counter_damp = d;
                    }
                }
                LexiconKind::Pressure => {
                    if let Some(w) = lex.settings.window {
                        params.pressure_window = w;
                    }
                    params.pressure_boost = lex.settings.boost.unwrap_or(0.5);
                }
            }
            for (ei, entry) in lex.entries.iter().enumerate() {
                if let Some(other) = seen_ids.insert(entry.id.clone(), lex.file.clone()) {
                    return Err(LexiconError::new(
                        &lex.file,
                        Some(&entry.id),
                        format!("duplicate id (also in {other})"),
                    ));
                }
                flat.push((li, ei));
            }
        }
        let kinds_once = [
            LexiconKind::Agent,
            LexiconKind::Negation,
            LexiconKind::Counter,
            LexiconKind::Pressure,
        ];
        for kind in kinds_once {
            let files: Vec<&str> = lexicons
                .iter()
                .filter(|l| l.kind == kind)
                .map(|l| l.file.as_str())
                .collect();
            if files.len() > 1 {
                return Err(LexiconError::new(
                    files[1],
                    None,
                    format!("only one {kind} lexicon is allowed (also {})", files[0]),
                ));
            }
        }
        let any_file = lexicons.first().map(|l| l.file.clone()).unwrap_or_default();
        if agent_files == 0 {
            return Err(LexiconError::new(
                &any_file,
                None,
                "the set has no agent lexicon (kind = \"agent\"): trope hits could never be qualified",
            ));
        }
        if categories.is_empty() {
            return Err(LexiconError::new(
                &any_file,
                None,
                "the set has no trope lexicon (kind = \"trope\")",
            ));
        }
        categories.sort();
        Ok(LexiconSet {
            lexicons,
            flat,
            categories,
            params,
            digest,
        })
    }

    /// The lexicons, sorted by file stem.
    pub fn lexicons(&self) -> &[Lexicon] {
        &self.lexicons
    }

    /// Number of entries across all lexicons.
    pub fn len(&self) -> usize {
        self.flat.len()
    }

    /// `true` when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.flat.is_empty()
    }

    /// The entry with flattened index `i` (the index the matcher reports).
    pub fn entry(&self, i: usize) -> EntryRef<'_> {
        let (li, ei) = self.flat[i];
        let lexicon = &self.lexicons[li];
        EntryRef {
            lexicon,
            entry: &lexicon.entries[ei],
        }
    }

    /// Every entry with its flattened index.
    pub fn entries(&self) -> impl Iterator<Item = (usize, EntryRef<'_>)> {
        (0..self.flat.len()).map(move |i| (i, self.entry(i)))
    }

    /// Trope category names, sorted: the order of the per-category score columns.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Scoring parameters from the lexicon headers.
    pub fn params(&self) -> ScoringParams {
        self.params
    }

    /// SHA-256 over every lexicon file (stem and bytes), hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Every literal phrase (terms and pattern anchors), deduplicated and sorted, with a
    /// trailing `*` dropped: the list a literal search tool would be given.
    pub fn phrases(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, r) in self.entries() {
            match &r.entry.rule {
                EntryRule::Term { phrases } => out.extend(phrases.iter().map(|p| p.text.clone())),
                EntryRule::Pattern {
                    anchors, requires, ..
                } => out.extend(anchors.iter().chain(requires).map(|p| p.text.clone())),
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn file_stem(name: &str) -> &str {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.strip_suffix(".toml").unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_parsing() {
        assert_eq!(
            Phrase::parse("Threaten*").unwrap(),
            Phrase {
                text: "threaten".into(),
                prefix: true
            }
        );
        assert_eq!(
            Phrase::parse("won’t  let\nyou").unwrap().text,
            "won't let you"
        );
        assert!(Phrase::parse("").is_err());
        assert!(Phrase::parse("  ").is_err());
        assert!(Phrase::parse("a").is_err());
        assert!(Phrase::parse("thr*eat").is_err());
    }

    #[test]
    fn embedded_set_is_valid_and_stable() {
        let set = LexiconSet::embedded();
        assert!(set.categories().len() >= 6, "{:?}", set.categories());
        assert_eq!(set.digest().len(), 64);
        assert_eq!(set.digest(), LexiconSet::embedded().digest());
    }
}
