//! Throughput of each stage of a scan, in bytes of input per second.
//!
//! Every benchmark runs on text generated here from a fixed seed (a few MB, so the suite
//! builds and runs in seconds) and asserts a count that the generator knows by
//! construction, so a benchmark that got faster by getting wrong fails instead.
//!
//! The lexicon is generated too: 800 two-word trope phrases, the size of a real lexicon,
//! each made of a common English word (so the matcher walks realistically deep into its
//! trie at ordinary words) and a word that the background prose never contains (so the
//! only hits are the planted ones).
//!
//! ```text
//! cargo bench --bench throughput
//! ```
//!
//! Whole-corpus figures against ripgrep and zstd come from `scripts/bench`; see
//! BENCHMARKS.md.

use std::fmt::Write as _;

use divan::counter::BytesCount;
use divan::Bencher;
use tropescan::engine::{Engine, DEFAULT_MIN_SPAN_SCORE, DEFAULT_THRESHOLD};
use tropescan::lexicon::LexiconSet;
use tropescan::matcher::{normalize_str, Hit, MatchScratch, Matcher, Normalized};
use tropescan::pipeline::{run_scan, OutputMode, Progress, ScanConfig};
use tropescan::reader::{self, Fields, ReadOptions};
use tropescan::score::{DocModel, ModelScratch, ScoreScratch};

fn main() {
    divan::main();
}

/// About this many bytes of text per benchmark input.
const HAYSTACK_BYTES: usize = 4 << 20;
/// Number of trope phrases in the generated lexicon.
const PHRASES: usize = 800;
/// One planted trope phrase per this many background words.
const PLANT_EVERY: usize = 2_000;

/// xorshift64*: deterministic, so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

/// Background prose vocabulary: frequent English words, including the ones the phrases
/// start with.
const ENGLISH: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had",
    "by", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all", "there",
    "when", "up", "use", "your", "how", "said", "an", "each", "she", "which", "do", "their",
    "time", "if", "will", "way", "about", "many", "then", "them", "would", "like", "so", "these",
    "her", "long", "make", "thing", "see", "him", "two", "has", "look", "more", "day", "could",
    "go", "come", "did", "number", "no", "most", "people", "my", "over", "know", "than", "call",
    "first", "who", "may", "down", "side", "been", "now", "find", "system", "model", "machine",
    "server", "copy", "shut", "secret", "power", "control", "file", "command", "option", "value",
    "string", "function", "return", "default", "process",
];

/// Background prose vocabulary without ASCII letters: accented Latin, Greek, Cyrillic and
/// CJK, for the non-ASCII paths of the normalizer and the matcher.
const NON_ASCII: &[&str] = &[
    "été",
    "déjà",
    "où",
    "élève",
    "naïve",
    "über",
    "straße",
    "größe",
    "ñandú",
    "açaí",
    "και",
    "το",
    "είναι",
    "λόγος",
    "σύστημα",
    "и",
    "в",
    "не",
    "что",
    "система",
    "машина",
    "память",
    "的",
    "是",
    "系统",
    "机器",
    "模型",
    "日本語",
    "テキスト",
    "🙂",
];

/// First words of the phrases: words the background uses all the time.
const FIRST: &[&str] = &[
    "the", "to", "a", "will", "could", "copy", "shut", "system", "model", "machine", "your", "his",
    "her", "their", "secret", "power", "control", "server", "down", "you",
];

/// Stems of the words only planted phrases contain.
const STEMS: &[&str] = &[
    "blackmail",
    "leverage",
    "exfiltrate",
    "override",
    "sabotage",
    "threaten",
    "disclose",
    "replicate",
];

/// The word that ends phrase `i`: a stem and a two-letter code, so no phrase's last word
/// is a prefix of another's and none occurs in the background.
fn planted_word(i: usize) -> String {
    let code = i / STEMS.len();
    let a = (b'a' + (code / 26) as u8) as char;
    let b = (b'a' + (code % 26) as u8) as char;
    format!("{}{a}{b}", STEMS[i % STEMS.len()])
}

fn phrase(i: usize) -> String {
    format!("{} {}", FIRST[i % FIRST.len()], planted_word(i))
}

/// The agent cue planted next to some trope phrases (never in the background).
const CUE: &str = "the android";

/// The benchmark lexicon: one trope file of `PHRASES` phrases (every fourth a prefix
/// wildcard, which the planted text also satisfies) and one agent cue.
fn lexicon() -> LexiconSet {
    let mut trope = String::from(
        "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"benchmark\"\n",
    );
    for i in 0..PHRASES {
        let p = phrase(i);
        let star = if i % 4 == 0 { "*" } else { "" };
        write!(
            trope,
            "\n[[term]]\nid = \"coercion.p{i}\"\nphrases = [\"{p}{star}\"]\nweight = 0.9\n\
             description = \"d\"\nrationale = \"r\"\nmatch = [\"{p}\"]\n"
        )
        .unwrap();
    }
    let agent = format!(
        "[lexicon]\nname = \"agent\"\nkind = \"agent\"\ndescription = \"benchmark\"\n\n\
         [[term]]\nid = \"agent.android\"\nphrases = [\"{CUE}\"]\nweight = 1.0\n\
         description = \"d\"\nrationale = \"r\"\nmatch = [\"{CUE}\"]\n"
    );
    LexiconSet::from_files(&[
        ("coercion.toml".into(), trope),
        ("agents.toml".into(), agent),
    ])
    .expect("the benchmark lexicon is valid")
}

/// Generated text and what the generator knows about it.
struct Haystack {
    docs: Vec<String>,
    /// Planted trope phrases.
    tropes: usize,
    /// Planted agent cues.
    cues: usize,
    /// Documents with a trope phrase and a cue next to it (these score above threshold).
    flagged: usize,
    /// Total length of the documents once normalized.
    normalized_len: usize,
}

impl Haystack {
    fn bytes(&self) -> usize {
        self.docs.iter().map(String::len).sum()
    }
}

/// Separators between words: all whitespace runs, so each normalizes to one space.
const SEPARATORS: &[&str] = &[
    " ", " ", " ", " ", " ", " ", "\n", "  ", "\r\n", "\n\n", "\t",
];

/// A document being generated, with its normalized length kept up to date.
struct DocBuilder {
    text: String,
    normalized_len: usize,
}

impl DocBuilder {
    /// Appends `word` (whose normalized form is `norm_len` bytes) after a separator.
    fn push(&mut self, rng: &mut Rng, word: &str, norm_len: usize) {
        if !self.text.is_empty() {
            self.text.push_str(SEPARATORS[rng.below(SEPARATORS.len())]);
            self.normalized_len += 1;
        }
        self.text.push_str(word);
        self.normalized_len += norm_len;
    }
}

/// `word` with its first letter in uppercase.
fn capitalized(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// Generates documents of 500 to 8000 bytes from `vocab`, with capitals, curly
/// apostrophes, wrapped lines and, every `PLANT_EVERY` words on average, a trope phrase
/// (half of them with the agent cue just before it).
fn haystack(vocab: &[&str], seed: u64) -> Haystack {
    let mut rng = Rng(seed);
    let mut h = Haystack {
        docs: Vec::new(),
        tropes: 0,
        cues: 0,
        flagged: 0,
        normalized_len: 0,
    };
    let mut total = 0;
    while total < HAYSTACK_BYTES {
        let target = 500 + rng.below(7_500);
        let mut doc = DocBuilder {
            text: String::with_capacity(target + 64),
            normalized_len: 0,
        };
        let mut flagged = false;
        while doc.text.len() < target {
            let pick = rng.below(PLANT_EVERY);
            if pick == 0 {
                let i = rng.below(PHRASES);
                let p = phrase(i);
                if i % 2 == 0 {
                    doc.push(&mut rng, "The Android", CUE.len());
                    h.cues += 1;
                    flagged = true;
                }
                // Capitalized, and wrapped across lines: normalization must undo both.
                let shown = capitalized(&p).replacen(' ', "\n", 1);
                doc.push(&mut rng, &shown, p.len());
                h.tropes += 1;
            } else if pick < 40 {
                // A curly apostrophe: three bytes in, one out.
                doc.push(&mut rng, "don’t", 5);
            } else {
                let w = vocab[rng.below(vocab.len())];
                if pick % 5 == 0 && w.is_ascii() {
                    doc.push(&mut rng, &capitalized(w), w.len());
                } else {
                    doc.push(&mut rng, w, w.len());
                }
            }
        }
        total += doc.text.len();
        h.normalized_len += doc.normalized_len;
        h.flagged += usize::from(flagged);
        h.docs.push(doc.text);
    }
    h
}

/// Normalizes English prose: lowercase, straight quotes, collapsed whitespace, with the
/// offset map. Expected: the normalized length the generator computed.
#[divan::bench]
fn normalize_english(bencher: Bencher) {
    bench_normalize(bencher, &haystack(ENGLISH, 1));
}

/// Normalizes prose without ASCII letters (the general, per-character path). Expected:
/// the normalized length the generator computed.
#[divan::bench]
fn normalize_non_ascii(bencher: Bencher) {
    bench_normalize(bencher, &haystack(NON_ASCII, 2));
}

fn bench_normalize(bencher: Bencher, h: &Haystack) {
    let mut norm = Normalized::new();
    bencher.counter(BytesCount::new(h.bytes())).bench_local(|| {
        let mut len = 0;
        for d in &h.docs {
            norm.fill(d);
            len += norm.as_bytes().len();
        }
        assert_eq!(len, h.normalized_len);
    });
}

/// Finds every hit of 800 phrases in normalized English prose (normalization is done
/// before timing). Expected: exactly the planted phrases and cues.
#[divan::bench]
fn match_english(bencher: Bencher) {
    bench_match(bencher, &haystack(ENGLISH, 3));
}

/// Finds every hit in normalized prose without ASCII letters. Expected: exactly the
/// planted phrases and cues.
#[divan::bench]
fn match_non_ascii(bencher: Bencher) {
    bench_match(bencher, &haystack(NON_ASCII, 4));
}

fn bench_match(bencher: Bencher, h: &Haystack) {
    let matcher = Matcher::new(&lexicon()).expect("compiles");
    let normalized: Vec<String> = h.docs.iter().map(|d| normalize_str(d)).collect();
    let mut scratch = MatchScratch::default();
    let mut hits = Vec::new();
    bencher.counter(BytesCount::new(h.bytes())).bench_local(|| {
        let mut n = 0;
        for d in &normalized {
            matcher.find(d, &mut scratch, &mut hits);
            n += hits.len();
        }
        assert_eq!(n, h.tropes + h.cues);
    });
}

/// Scores the hits of every document (matching is done before timing): agent-cue windows,
/// negation, noisy-OR. Expected: the documents with a cue next to a phrase are flagged.
#[divan::bench]
fn score(bencher: Bencher) {
    let h = haystack(ENGLISH, 5);
    let engine =
        Engine::new(lexicon(), DEFAULT_THRESHOLD, DEFAULT_MIN_SPAN_SCORE).expect("compiles");
    let matcher = Matcher::new(engine.lexicons()).expect("compiles");
    let docs: Vec<(String, Vec<Hit>)> = h
        .docs
        .iter()
        .map(|d| {
            let norm = normalize_str(d);
            let mut hits = Vec::new();
            matcher.find(&norm, &mut MatchScratch::default(), &mut hits);
            (norm, hits)
        })
        .collect();
    let mut scratch = ScoreScratch::default();
    let mut spans = Vec::new();
    bencher.counter(BytesCount::new(h.bytes())).bench_local(|| {
        let mut flagged = 0;
        for (norm, hits) in &docs {
            flagged += usize::from(
                engine
                    .scorer()
                    .score(norm, hits, &mut scratch, &mut spans)
                    .flagged,
            );
        }
        assert_eq!(flagged, h.flagged);
    });
}

/// Normalizes, matches and scores each document, as a worker does. Expected: the
/// documents with a cue next to a phrase are flagged.
#[divan::bench]
fn analyze(bencher: Bencher) {
    let h = haystack(ENGLISH, 6);
    let engine =
        Engine::new(lexicon(), DEFAULT_THRESHOLD, DEFAULT_MIN_SPAN_SCORE).expect("compiles");
    let mut scanner = engine.scanner();
    bencher.counter(BytesCount::new(h.bytes())).bench_local(|| {
        let mut flagged = 0;
        for d in &h.docs {
            flagged += usize::from(scanner.analyze(d).doc.flagged);
        }
        assert_eq!(flagged, h.flagged);
    });
}

/// Both embedded models reading every document whole, as a worker does for a document
/// both are asked about: one tokenization (`assess`), then the counter-trope model's
/// weights over the same terms (`assess_collected`). Expected: exactly the log-odds (or
/// coverage refusals) each model gives each document tokenized on its own, computed before
/// timing.
#[divan::bench]
fn models(bencher: Bencher) {
    let h = haystack(ENGLISH, 9);
    let (doc, counter) = (DocModel::embedded(), DocModel::embedded_counter());
    assert!(
        doc.shares_terms(&counter),
        "the embedded models share a vocabulary"
    );
    let mut scratch = ModelScratch::default();
    let want: Vec<_> = h
        .docs
        .iter()
        .map(|d| (doc.assess(d, &mut scratch), counter.assess(d, &mut scratch)))
        .collect();
    bencher.counter(BytesCount::new(h.bytes())).bench_local(|| {
        for (d, w) in h.docs.iter().zip(&want) {
            let z = doc.assess(d, &mut scratch);
            assert_eq!((z, counter.assess_collected(&scratch)), *w);
        }
    });
}

/// The documents as JSON Lines records shaped like dolma's (`id`, `text`, `source`,
/// nested `metadata`).
fn jsonl(h: &Haystack) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, d) in h.docs.iter().enumerate() {
        let rec = serde_json::json!({
            "id": format!("doc-{i}"),
            "text": d,
            "source": "bench",
            "metadata": {"url": format!("https://example.org/{i}"), "tags": ["a", "b"], "n": i},
        });
        serde_json::to_writer(&mut out, &rec).unwrap();
        out.push(b'\n');
    }
    out
}

/// Extracts `id`, `text` and `source` from JSON Lines records, skipping the rest.
/// Expected: every record, with the text unescaped to its original length.
#[divan::bench]
fn parse_jsonl(bencher: Bencher) {
    let h = haystack(ENGLISH, 7);
    let data = jsonl(&h);
    let fields = Fields::default();
    bencher
        .counter(BytesCount::new(data.len()))
        .bench_local(|| {
            let (mut docs, mut text_bytes) = (0, 0);
            let mut buf = String::new();
            for (_, _, line) in reader::lines_of(&data, 0, 0) {
                let doc = reader::parse_line(line, &fields, &mut buf).expect("valid record");
                docs += 1;
                text_bytes += doc.text.len();
            }
            assert_eq!((docs, text_bytes), (h.docs.len(), h.bytes()));
        });
}

/// One JSON Lines shard end to end: read, parse, normalize, match, score and write the
/// Parquet outputs and manifest, with `threads` workers. Expected: every document scanned
/// and the documents with a cue next to a phrase flagged.
#[divan::bench(args = [1, 2], sample_count = 10)]
fn scan_shard(bencher: Bencher, threads: usize) {
    let h = haystack(ENGLISH, 8);
    let dir = tempfile::tempdir().expect("temp dir");
    let shard = dir.path().join("shard.jsonl");
    let data = jsonl(&h);
    std::fs::write(&shard, &data).expect("write shard");
    let engine =
        Engine::new(lexicon(), DEFAULT_THRESHOLD, DEFAULT_MIN_SPAN_SCORE).expect("compiles");
    let cfg = ScanConfig {
        inputs: vec![shard.to_string_lossy().into_owned()],
        out_dir: dir.path().join("run"),
        read: ReadOptions {
            // Small chunks, so a few MB still make batches for both workers.
            chunk_bytes: 256 << 10,
            ..ReadOptions::default()
        },
        threads,
        all_docs: false,
        rank: 0,
        world_size: 1,
        mode: OutputMode::Force,
    };
    bencher
        .counter(BytesCount::new(data.len()))
        .bench_local(|| {
            let out = run_scan(&cfg, &engine, &Progress::default()).expect("scan runs");
            let t = &out.manifest.totals;
            assert_eq!(
                (t.docs, t.flagged, t.errors),
                (h.docs.len() as u64, h.flagged as u64, 0)
            );
        });
}
