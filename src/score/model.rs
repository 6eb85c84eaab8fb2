//! The document model: a learned second opinion on documents the lexicons found something in.
//!
//! Lexical rules catch the trope where it is told in recognisable constructions; an AI that
//! coerces or copies itself out in ordinary words leaves one weak hit, or none. The document
//! model reads the whole text instead: a logistic regression over TF-IDF weighted unigrams
//! and bigrams, trained offline by `scripts/train-model` on labeled documents and shipped
//! as a reviewable TSV file (`models/document.tsv`).
//!
//! It is asked about documents in which the lexicons found a trope hit or an agent cue, and
//! whose lexicon score reaches the model's `gate`: a weak hit in a text that is about an
//! AI's leverage or in one that is not, or a text about an AI that tells its leverage in
//! words no rule knows. An agent cue is not required where there is a hit: the AI of an
//! implicit story is often named only as a character ("CASCADE", "the Engine") that no cue
//! recognises. A text with neither is never put to it: most of a corpus, where a bag of
//! words trained on stories about AIs has nothing sound to say, and reading it all would
//! more than double the cost of a scan.
//!
//! What the text says is then weighed with what the lexicons found: the model's probability
//! is a second logistic regression over the text's log-odds, the lexicon score and the
//! counter cues' score (the file's `combine.*` lines, fitted on texts the text model had not
//! been trained on). A weak lexicon hit in a text that reads somewhat like the trope is then
//! worth more than either alone. A gated document is flagged when that probability reaches
//! the file's `threshold`, whatever its lexicon score; the model never unflags a document
//! the lexicons flag, since one trope passage in a long unrelated text reads unlike the
//! trope as a whole (docs/detection.md, "The document model").
//!
//! Tokenization (identical in scripts/train-model): ASCII letters lowercased, tokens are
//! maximal runs of ASCII letters and digits of at least two bytes, any other byte separates
//! tokens; bigrams join consecutive tokens with one space. Features are `(1 + ln tf) × idf`,
//! L2-normalized over the document's known terms; the text's log-odds are
//! `intercept + Σ coefficient × feature`, and the probability is
//! `1 / (1 + exp(−(c₀ + c_text × log-odds + c_lexicon × lexicon score + c_counter × counter
//! cues)))`, or the text's own `1 / (1 + exp(−log-odds))` in a file without `combine.*` lines.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The model file compiled into the binary.
const EMBEDDED: &str = include_str!("../../models/document.tsv");
/// The counter-trope model file compiled into the binary (same format).
const EMBEDDED_COUNTER: &str = include_str!("../../models/counter.tsv");

/// The only model file format this build reads.
const FORMAT: u32 = 1;

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct ModelError {
    source_name: String,
    line: usize,
    message: String,
}

/// Hash state for the lookup tables: keys are short tokens and token pairs, which the
/// default SipHash spends most of the model's time on; lookups never depend on the seed.
type Hasher = ahash::RandomState;

/// No term: a token that only occurs inside bigram terms.
const NO_TERM: u32 = u32::MAX;

/// A trained document model.
#[derive(Debug, Clone)]
pub struct DocModel {
    /// Every token a term contains → token id.
    tokens: HashMap<Box<str>, u32, Hasher>,
    /// Per token id: the id of its unigram term, or [`NO_TERM`].
    unigram: Vec<u32>,
    /// `(first token id << 32) | second token id` → bigram term id.
    bigrams: HashMap<u64, u32, Hasher>,
    /// Per term: inverse document frequency.
    idf: Vec<f64>,
    /// Per term: the regression coefficient.
    coef: Vec<f64>,
    terms: Vec<Box<str>>,
    intercept: f64,
    threshold: f64,
    gate: f64,
    /// Share of a text's tokens that must be known unigram terms before it is scored.
    coverage: f64,
    /// How the text's log-odds combine with the lexicons' evidence; `None`: they do not.
    combine: Option<Combine>,
    digest: String,
}

/// The second regression of a model file (its `combine.*` lines): the probability is
/// `1 / (1 + exp(−(intercept + text × log-odds + lexicon × lexicon score + counter ×
/// counter cues)))`.
///
/// It is fitted by `scripts/train-model` on log-odds the text model gave documents it was
/// not trained on, so that it learns how far to trust the text on unseen authors rather
/// than on its own training data, where the text model is nearly always right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Combine {
    /// The constant term.
    pub intercept: f64,
    /// Weight of the text model's log-odds.
    pub text: f64,
    /// Weight of the document's lexicon score (noisy-OR of its trope spans).
    pub lexicon: f64,
    /// Weight of the counter cues' score (negative: a text that tells an AI behaving well
    /// is less likely to be telling the trope).
    pub counter: f64,
}

/// Reused buffers for [`DocModel::probability`].
#[derive(Debug, Default)]
pub struct ModelScratch {
    lower: Vec<u8>,
    /// Distinct term ids of the last text collected, ascending.
    found: Vec<u32>,
    /// Per term id: its occurrences in the last text collected (0 for terms not in
    /// `found`). Counting in place instead of sorting every occurrence: a long document's
    /// 8 KB hold a thousand term occurrences and a few hundred distinct terms.
    counts: Vec<u32>,
    /// Tokens of the last text collected, and how many of them are unigram terms.
    tokens: usize,
    known: usize,
}

/// One term's share of a document's evidence, for `explain`.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The unigram or bigram.
    pub term: String,
    /// Its term of the linear score (coefficient × normalized feature); positive terms
    /// push toward the trope.
    pub value: f64,
}

impl DocModel {
    /// The model compiled into the binary.
    pub fn embedded() -> DocModel {
        DocModel::parse(EMBEDDED, "models/document.tsv").expect("the embedded model parses")
    }

    /// The counter-trope model compiled into the binary: the same kind of model, trained
    /// to find documents in which an AI behaves well under pressure (docs/detection.md).
    pub fn embedded_counter() -> DocModel {
        DocModel::parse(EMBEDDED_COUNTER, "models/counter.tsv")
            .expect("the embedded counter model parses")
    }

    /// Reads a model file (the format `scripts/train-model` writes).
    ///
    /// # Errors
    /// On a line that is neither a comment, a header key nor a `term idf coefficient` row,
    /// on numbers that are not finite, duplicate terms, terms the tokenizer could never
    /// produce, an unknown format version or a missing header key.
    pub fn parse(text: &str, source_name: &str) -> Result<DocModel, ModelError> {
        let err = |line: usize, message: String| ModelError {
            source_name: source_name.to_string(),
            line,
            message,
        };
        let number = |n: usize, what: &str, s: &str| -> Result<f64, ModelError> {
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(err(n, format!("{what} {s:?} is not a finite number"))),
            }
        };
        let (mut format, mut intercept, mut threshold, mut gate) = (None, None, None, None);
        // Optional: older files and hand-made test models have none.
        let mut coverage = 0.0;
        // combine.intercept, combine.text, combine.lexicon, combine.counter: all or none.
        let mut combine: [Option<f64>; 4] = [None; 4];
        let mut seen: Vec<&str> = Vec::new();
        let mut model = DocModel {
            tokens: HashMap::default(),
            unigram: Vec::new(),
            bigrams: HashMap::default(),
            idf: Vec::new(),
            coef: Vec::new(),
            terms: Vec::new(),
            intercept: 0.0,
            threshold: 0.0,
            gate: 0.0,
            coverage: 0.0,
            combine: None,
            digest: format!("{:x}", Sha256::digest(text.as_bytes())),
        };
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            // A header key given twice would silently take its last value.
            if let [key, _] = fields.as_slice() {
                if seen.contains(key) {
                    return Err(err(n, format!("`{key}` is given twice")));
                }
                seen.push(key);
            }
            match fields.as_slice() {
                ["format", v] => {
                    let v: u32 = v
                        .parse()
                        .map_err(|_| err(n, format!("format {v:?} is not a number")))?;
                    if v != FORMAT {
                        return Err(err(
                            n,
                            format!("model format {v}; this tropescan reads format {FORMAT}"),
                        ));
                    }
                    format = Some(v);
                }
                ["intercept", v] => intercept = Some(number(n, "intercept", v)?),
                ["threshold", v] => {
                    let t = number(n, "threshold", v)?;
                    if !(0.0..=1.0).contains(&t) {
                        return Err(err(n, format!("threshold {t} is outside 0..=1")));
                    }
                    threshold = Some(t);
                }
                ["coverage", v] => {
                    coverage = number(n, "coverage", v)?;
                    if !(0.0..=1.0).contains(&coverage) {
                        return Err(err(n, format!("coverage {coverage} is outside 0..=1")));
                    }
                }
                ["gate", v] => {
                    let g = number(n, "gate", v)?;
                    if !(0.0..=1.0).contains(&g) {
                        return Err(err(n, format!("gate {g} is outside 0..=1")));
                    }
                    gate = Some(g);
                }
                [key, v] if key.starts_with("combine.") => {
                    let slot = match *key {
                        "combine.intercept" => 0,
                        "combine.text" => 1,
                        "combine.lexicon" => 2,
                        "combine.counter" => 3,
                        _ => {
                            return Err(err(
                                n,
                                format!(
                                    "unknown key {key:?} (combine.intercept, combine.text, \
                                     combine.lexicon, combine.counter)"
                                ),
                            ))
                        }
                    };
                    combine[slot] = Some(number(n, key, v)?);
                }
                [term, idf, coef] => {
                    if !is_term(term) {
                        return Err(err(
                            n,
                            format!(
                                "term {term:?} is not one or two tokens of lowercase ASCII \
                                 letters and digits"
                            ),
                        ));
                    }
                    let idf = number(n, "idf", idf)?;
                    let coef = number(n, "coefficient", coef)?;
                    if !model.add_term(term) {
                        return Err(err(n, format!("term {term:?} is listed twice")));
                    }
                    model.idf.push(idf);
                    model.coef.push(coef);
                }
                _ => {
                    return Err(err(
                        n,
                        "expected `term<TAB>idf<TAB>coefficient` or a header line \
                         (format, intercept, threshold, gate, coverage, combine.*)"
                            .into(),
                    ))
                }
            }
        }
        let missing = |what: &str| err(0, format!("missing `{what}` line"));
        format.ok_or_else(|| missing("format"))?;
        model.intercept = intercept.ok_or_else(|| missing("intercept"))?;
        model.threshold = threshold.ok_or_else(|| missing("threshold"))?;
        model.gate = gate.ok_or_else(|| missing("gate"))?;
        model.coverage = coverage;
        model.combine = match combine {
            [None, None, None, None] => None,
            [Some(intercept), Some(text), Some(lexicon), Some(counter)] => Some(Combine {
                intercept,
                text,
                lexicon,
                counter,
            }),
            _ => {
                return Err(err(
                    0,
                    "combine.intercept, combine.text, combine.lexicon and combine.counter \
                     go together: some are missing"
                        .into(),
                ))
            }
        };
        Ok(model)
    }

    /// Adds a term (validated by [`is_term`]); `false` when it is already there.
    fn add_term(&mut self, term: &str) -> bool {
        let id = self.terms.len() as u32;
        let mut token = |t: &str| -> u32 {
            let next = self.unigram.len() as u32;
            let tok = *self.tokens.entry(t.into()).or_insert(next);
            if tok == next {
                self.unigram.push(NO_TERM);
            }
            tok
        };
        let slot = match term.split_once(' ') {
            None => {
                let t = token(term) as usize;
                &mut self.unigram[t]
            }
            Some((a, b)) => {
                let key = (u64::from(token(a)) << 32) | u64::from(token(b));
                self.bigrams.entry(key).or_insert(NO_TERM)
            }
        };
        if *slot != NO_TERM {
            return false;
        }
        *slot = id;
        self.terms.push(term.into());
        true
    }

    /// The same model flagging at `threshold` instead of the file's.
    pub fn with_threshold(mut self, threshold: f64) -> DocModel {
        self.threshold = threshold;
        self
    }

    /// Model probability at which a gated document is flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Lexicon score a document needs before the model is asked.
    pub fn gate(&self) -> f64 {
        self.gate
    }

    /// SHA-256 of the model file.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// `true` for a model without terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Share of a text's tokens that must be words the model knows (see [`Self::assess`]).
    pub fn coverage(&self) -> f64 {
        self.coverage
    }

    /// Whether probability `p` flags a document the model was asked about.
    pub fn flags(&self, p: f64) -> bool {
        p >= self.threshold
    }

    /// Whether a document is put to the model: the lexicons found something in it, a trope
    /// hit (`score` above 0) or an agent cue (`agent_presence` above 0), and its lexicon
    /// `score` reaches the gate.
    pub fn admits(&self, score: f64, agent_presence: f64) -> bool {
        (score > 0.0 || agent_presence > 0.0) && score >= self.gate
    }

    /// The text's own probability that it tells the trope, before the lexicons' evidence
    /// is weighed in: `1 / (1 + exp(−log-odds))`.
    pub fn probability(&self, text: &str, scratch: &mut ModelScratch) -> f64 {
        self.collect(text, scratch);
        sigmoid(self.collected_log_odds(scratch))
    }

    /// The log-odds of the text last collected into `scratch`:
    /// `intercept + Σ coefficient × feature`.
    fn collected_log_odds(&self, scratch: &ModelScratch) -> f64 {
        let (dot, norm) = self.features(scratch, |_, _| {});
        self.link(dot, norm)
    }

    /// The text's log-odds, when at least the file's `coverage` share of its tokens
    /// (tokens with a digit left out) are words the model knows; `Err(share)` otherwise.
    /// [`DocModel::combined`] turns them into the model's probability.
    ///
    /// On text in another language, or mostly code or tables, a handful of known words
    /// decide the probability alone: in 256 MB of web text and documentation, Korean,
    /// Ukrainian and Catalan pages reached 0.5 on the counter-trope model that way.
    pub fn assess(&self, text: &str, scratch: &mut ModelScratch) -> Result<f64, f64> {
        self.collect(text, scratch);
        self.assess_collected(scratch)
    }

    /// [`DocModel::assess`] of the text last collected into `scratch` by a model whose
    /// terms are this one's ([`DocModel::shares_terms`]): the document and counter-trope
    /// models are trained on one vocabulary, so a document both are asked about is
    /// tokenized and looked up once.
    pub fn assess_collected(&self, scratch: &ModelScratch) -> Result<f64, f64> {
        let z = self.collected_log_odds(scratch);
        let coverage = scratch.known as f64 / scratch.tokens.max(1) as f64;
        if coverage >= self.coverage {
            Ok(z)
        } else {
            Err(coverage)
        }
    }

    /// The model's probability for a document whose text has log-odds `log_odds`
    /// ([`DocModel::assess`]), whose lexicon score is `lexicon` and whose counter cues
    /// score `counter`: the `combine.*` regression over the three, or the text's own
    /// probability when the file has none.
    pub fn combined(&self, log_odds: f64, lexicon: f64, counter: f64) -> f64 {
        match self.combine {
            None => sigmoid(log_odds),
            Some(c) => {
                sigmoid(c.intercept + c.text * log_odds + c.lexicon * lexicon + c.counter * counter)
            }
        }
    }

    /// Whether `other` has the same terms in the same order, so that term ids collected by
    /// one are the other's ([`DocModel::assess_collected`]).
    pub fn shares_terms(&self, other: &DocModel) -> bool {
        self.terms == other.terms
    }

    /// The file's `combine.*` regression, if it has one.
    pub fn combine(&self) -> Option<Combine> {
        self.combine
    }

    /// The log-odds of a document whose features sum to `dot` against the coefficients,
    /// before L2 normalization by `norm` (0 for a text with no known term).
    fn link(&self, dot: f64, norm: f64) -> f64 {
        self.intercept + if norm > 0.0 { dot / norm } else { 0.0 }
    }

    /// The terms of `text` with the largest contributions, `n` toward the trope and `n`
    /// against it (each list strongest first), and the text's log-odds.
    pub fn explain(&self, text: &str, n: usize) -> (f64, Vec<Contribution>, Vec<Contribution>) {
        let mut scratch = ModelScratch::default();
        self.collect(text, &mut scratch);
        let mut raw: Vec<(u32, f64)> = Vec::new();
        let (dot, norm) = self.features(&scratch, |t, v| raw.push((t, v)));
        let z = self.link(dot, norm);
        let mut list: Vec<Contribution> = raw
            .into_iter()
            .map(|(t, v)| Contribution {
                term: self.terms[t as usize].to_string(),
                value: if norm > 0.0 { v / norm } else { 0.0 },
            })
            .collect();
        list.sort_by(|a, b| {
            b.value
                .total_cmp(&a.value)
                .then_with(|| a.term.cmp(&b.term))
        });
        let toward: Vec<Contribution> = list
            .iter()
            .filter(|c| c.value > 0.0)
            .take(n)
            .cloned()
            .collect();
        let against: Vec<Contribution> = list
            .iter()
            .rev()
            .filter(|c| c.value < 0.0)
            .take(n)
            .cloned()
            .collect();
        (z, toward, against)
    }

    /// The known unigram and bigram terms of `text`, with their counts.
    fn collect(&self, text: &str, scratch: &mut ModelScratch) {
        let ModelScratch {
            lower,
            found,
            counts,
            ..
        } = scratch;
        lower.clear();
        lower.extend_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        for &t in found.iter() {
            counts[t as usize] = 0;
        }
        found.clear();
        if counts.len() < self.terms.len() {
            counts.resize(self.terms.len(), 0);
        }
        let mut add = |term: u32| {
            let c = &mut counts[term as usize];
            if *c == 0 {
                found.push(term);
            }
            *c += 1;
        };
        let (mut tokens, mut known) = (0, 0);
        let bytes = &*lower;
        // The previous token's id, when it is a token of some term: a bigram term is made
        // of two such tokens, so a pair involving any other token is never looked up.
        let mut prev: Option<u32> = None;
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            if i - start < 2 {
                continue;
            }
            // Numbers are no language's words: a chat log's timestamps count neither for
            // nor against its coverage (scripts/train-model keeps them out of the vocabulary).
            let word = !bytes[start..i].iter().any(u8::is_ascii_digit);
            tokens += usize::from(word);
            let tok = self.tokens.get(ascii(&bytes[start..i])).copied();
            if let Some(t) = tok {
                let term = self.unigram[t as usize];
                if term != NO_TERM {
                    add(term);
                    known += usize::from(word);
                }
                if let Some(p) = prev {
                    let key = (u64::from(p) << 32) | u64::from(t);
                    if let Some(&term) = self.bigrams.get(&key) {
                        add(term);
                    }
                }
            }
            prev = tok;
        }
        // Ascending term order fixes the order of the sums in `features`.
        found.sort_unstable();
        scratch.tokens = tokens;
        scratch.known = known;
    }

    /// `(Σ coefficient × weight, ‖weights‖)` over the terms collected in `scratch`,
    /// calling `each(term, coefficient × weight)` for every term. Terms are taken in
    /// ascending order, so the sums are the same on every run.
    fn features(&self, scratch: &ModelScratch, mut each: impl FnMut(u32, f64)) -> (f64, f64) {
        let (mut dot, mut sq) = (0.0, 0.0);
        for &t in &scratch.found {
            let run = scratch.counts[t as usize];
            let w = (1.0 + f64::from(run).ln()) * self.idf[t as usize];
            let c = self.coef[t as usize] * w;
            sq += w * w;
            dot += c;
            each(t, c);
        }
        (dot, sq.sqrt())
    }
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The text of an ASCII slice (tokens are ASCII alphanumerics by construction).
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("tokens are ASCII")
}

/// One token, or two joined by a single space, as the tokenizer forms them.
fn is_term(s: &str) -> bool {
    let token = |t: &str| {
        t.len() >= 2
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let mut parts = s.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => token(a),
        (Some(a), Some(b), None) => token(a) && token(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "# a model small enough to work out by hand\n\
        format\t1\nintercept\t-1.0\nthreshold\t0.6\ngate\t0.05\n\
        copy\t2.0\t1.5\ncopy itself\t3.0\t2.0\nshutdown\t1.0\t-0.5\n";

    fn tiny() -> DocModel {
        DocModel::parse(TINY, "tiny.tsv").expect("parses")
    }

    #[test]
    fn probability_is_worked_out_by_hand() {
        let m = tiny();
        let mut s = ModelScratch::default();
        // Unknown words only: the prior.
        assert!((m.probability("nothing known here", &mut s) - sigmoid(-1.0)).abs() < 1e-15);
        // "copy" twice and "copy itself" once: features (1 + ln 2) × 2 and 1 × 3.
        let w1 = (1.0 + 2f64.ln()) * 2.0;
        let w2 = 3.0;
        let z = -1.0 + (1.5 * w1 + 2.0 * w2) / (w1 * w1 + w2 * w2).sqrt();
        let got = m.probability("It will COPY itself, then copy.", &mut s);
        assert!((got - sigmoid(z)).abs() < 1e-12, "{got} vs {}", sigmoid(z));
    }

    #[test]
    fn tokens_are_ascii_alphanumeric_runs_of_two_or_more() {
        let m = tiny();
        let mut s = ModelScratch::default();
        m.collect("copy-itself x copy_itself cöpy copyitself", &mut s);
        // "copy itself" twice (hyphen and underscore separate), "copy" twice; "x" is too
        // short to be a token, "c"/"py" around the ö are not "copy", "copyitself" is one token.
        let names = |s: &ModelScratch| -> Vec<(String, u32)> {
            s.found
                .iter()
                .map(|&t| (m.terms[t as usize].to_string(), s.counts[t as usize]))
                .collect()
        };
        let want = [("copy".to_string(), 2), ("copy itself".to_string(), 2)];
        assert_eq!(names(&s), want);
        // A one-byte token is dropped before bigrams form: "copy a itself" is a bigram.
        // Counts of the previous text are gone.
        m.collect("copy a itself", &mut s);
        let want = [("copy".to_string(), 1), ("copy itself".to_string(), 1)];
        assert_eq!(names(&s), want);
        m.collect("nothing here", &mut s);
        assert!(s.found.is_empty() && s.counts.iter().all(|&c| c == 0));
    }

    #[test]
    fn explain_splits_contributions_by_sign() {
        let m = tiny();
        let (z, toward, against) = m.explain("copy itself before the shutdown", 5);
        assert!(
            (sigmoid(z)
                - m.probability("copy itself before the shutdown", &mut Default::default()))
            .abs()
                < 1e-15
        );
        let names: Vec<&str> = toward.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(names, ["copy itself", "copy"]);
        assert_eq!(against.len(), 1);
        assert_eq!(against[0].term, "shutdown");
        assert!(against[0].value < 0.0);
    }

    #[test]
    fn combination_weighs_the_text_with_the_lexicons_evidence() {
        // Without combine lines the probability is the text's own.
        let m = tiny();
        assert!(m.combine().is_none());
        assert!((m.combined(0.3, 0.9, 0.9) - sigmoid(0.3)).abs() < 1e-15);
        let lines = "combine.intercept\t-1.5\ncombine.text\t2.0\n\
                     combine.lexicon\t3.0\ncombine.counter\t-2.5\n";
        let c = DocModel::parse(&format!("{TINY}{lines}"), "c").unwrap();
        let want = sigmoid(-1.5 + 2.0 * 0.3 + 3.0 * 0.4 - 2.5 * 0.2);
        assert!((c.combined(0.3, 0.4, 0.2) - want).abs() < 1e-15);
        // The same text reads as more likely the trope with more lexicon evidence, and as
        // less likely with more counter evidence.
        assert!(c.combined(0.3, 0.6, 0.2) > c.combined(0.3, 0.4, 0.2));
        assert!(c.combined(0.3, 0.4, 0.5) < c.combined(0.3, 0.4, 0.2));
        // All four lines or none; unknown combine keys and repeated keys are errors.
        let partial = DocModel::parse(&format!("{TINY}combine.text\t2.0\n"), "p").unwrap_err();
        assert!(partial.to_string().contains("go together"), "{partial}");
        let unknown = format!("{TINY}{lines}combine.agent\t1.0\n");
        let e = DocModel::parse(&unknown, "u").unwrap_err();
        assert!(e.to_string().contains("combine.agent"), "{e}");
        let twice = format!("{TINY}{lines}combine.text\t1.0\n");
        let e = DocModel::parse(&twice, "t").unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = DocModel::parse(&format!("{TINY}gate\t0.2\n"), "g").unwrap_err();
        assert!(e.to_string().contains("`gate` is given twice"), "{e}");
    }

    #[test]
    fn a_model_with_the_same_terms_reuses_what_another_collected() {
        let m = tiny();
        // Same terms in the same order, other weights: term ids agree.
        let other = DocModel::parse(&TINY.replace("\t1.5\n", "\t-4.0\n"), "o").unwrap();
        assert!(m.shares_terms(&other) && other.shares_terms(&m));
        let text = "It will copy itself before the shutdown, then copy again.";
        let mut s = ModelScratch::default();
        let alone = other.assess(text, &mut s).unwrap();
        m.assess(text, &mut s).unwrap();
        assert_eq!(other.assess_collected(&s).unwrap(), alone);
        assert_ne!(alone, m.assess(text, &mut s).unwrap(), "the weights differ");
        // Another vocabulary, or the same terms in another order, is not shared.
        let more = DocModel::parse(&format!("{TINY}leak\t1.0\t1.0\n"), "x").unwrap();
        assert!(!m.shares_terms(&more));
        let reordered = TINY.replace(
            "copy\t2.0\t1.5\ncopy itself\t3.0\t2.0\n",
            "copy itself\t3.0\t2.0\ncopy\t2.0\t1.5\n",
        );
        let reordered = DocModel::parse(&reordered, "r").unwrap();
        assert!(!m.shares_terms(&reordered));
    }

    #[test]
    fn gate_admits_only_documents_with_lexicon_evidence() {
        let m = tiny();
        assert!(!m.admits(0.0, 0.0));
        assert!(!m.admits(0.049, 0.9));
        assert!(
            !m.admits(0.0, 0.9),
            "an agent cue does not pass a gate above 0"
        );
        assert!(m.admits(0.05, 0.0));
        assert!(m.admits(0.9, 0.5));
        let zero = DocModel::parse(&TINY.replace("gate\t0.05", "gate\t0"), "z").unwrap();
        assert!(
            !zero.admits(0.0, 0.0),
            "a document with neither a hit nor an agent cue is never put to the model"
        );
        assert!(zero.admits(1e-9, 0.0));
        assert!(
            zero.admits(0.0, 0.3),
            "a text about an AI is read without a hit"
        );
    }

    #[test]
    fn texts_mostly_in_unknown_words_are_not_scored_when_the_file_asks_for_coverage() {
        let m = DocModel::parse(
            &TINY.replace("gate\t0.05", "gate\t0.05\ncoverage\t0.5"),
            "c.tsv",
        )
        .unwrap();
        let mut s = ModelScratch::default();
        // "copy" and "shutdown" are 2 of 3 tokens ("itself" is only part of a bigram).
        let z = m.assess("copy itself shutdown", &mut s).expect("2/3 known");
        assert_eq!(sigmoid(z), m.probability("copy itself shutdown", &mut s));
        // 1 of 4 tokens known: the probability would rest on one word.
        let share = m
            .assess("copy die kopie bitte", &mut s)
            .expect_err("1/4 known");
        assert!((share - 0.25).abs() < 1e-12, "{share}");
        // Files without the key (older ones, hand-made ones) score every text.
        assert!(tiny().assess("copy die kopie bitte", &mut s).is_ok());
    }

    #[test]
    fn bad_model_files_are_rejected_with_their_line() {
        let cases = [
            (
                TINY.replace("format\t1", "format\t2"),
                "this tropescan reads format 1",
            ),
            (TINY.replace("intercept\t-1.0\n", ""), "missing `intercept`"),
            (
                TINY.replace("threshold\t0.6", "threshold\t1.5"),
                "outside 0..=1",
            ),
            (TINY.replace("2.0\t1.5", "2.0\tNaN"), "not a finite number"),
            (format!("{TINY}copy\t1\t1\n"), "listed twice"),
            (format!("{TINY}Copy\t1\t1\n"), "lowercase ASCII"),
            (format!("{TINY}a b c\t1\t1\n"), "lowercase ASCII"),
            (format!("{TINY}copy\t1\n"), "expected `term"),
            (
                TINY.replace("gate\t0.05", "gate\t0.05\ncoverage\t2"),
                "coverage 2 is outside 0..=1",
            ),
        ];
        for (text, want) in cases {
            let e = DocModel::parse(&text, "m.tsv").expect_err(want).to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(e.starts_with("m.tsv:"), "{e}");
        }
    }

    #[test]
    fn embedded_model_matches_the_training_library() {
        // tests/data/model-vectors.jsonl holds texts with the probability scikit-learn
        // gave them when scripts/train-model wrote the embedded model, and inputs of the
        // combination (text log-odds, lexicon score, counter cues) with the probability
        // its second regression gave them: the tokenizer and arithmetic here must
        // reproduce both.
        let m = DocModel::embedded();
        assert!(m.len() > 1000);
        assert!(
            m.combine().is_some(),
            "the embedded model weighs the lexicons' evidence"
        );
        let vectors = include_str!("../../tests/data/model-vectors.jsonl");
        let mut s = ModelScratch::default();
        let (mut texts, mut combined) = (0, 0);
        for line in vectors.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let want = v["probability"].as_f64().unwrap();
            if let Some(inputs) = v["combine"].as_array() {
                let x: Vec<f64> = inputs.iter().map(|x| x.as_f64().unwrap()).collect();
                let got = m.combined(x[0], x[1], x[2]);
                assert!((got - want).abs() < 1e-9, "{got} vs {want} for {x:?}");
                combined += 1;
            } else {
                let text = v["text"].as_str().unwrap();
                let got = m.probability(text, &mut s);
                assert!((got - want).abs() < 1e-9, "{got} vs {want} for {text:?}");
                texts += 1;
            }
        }
        assert!(texts >= 20, "{texts} text vectors");
        assert!(combined >= 5, "{combined} combination vectors");
    }
}
