//! The word-start walk against the plain search it replaces: one unanchored, overlapping
//! automaton over every literal, each match filtered the same way. Both must report the
//! same hits on any text.

use super::*;
use proptest::prelude::*;

impl Matcher {
    fn find_reference(&self, norm: &str, scratch: &mut MatchScratch, hits: &mut Vec<Hit>) {
        hits.clear();
        scratch.regions.clear();
        for &c in &scratch.touched {
            scratch.clause_hits[c as usize].clear();
        }
        scratch.touched.clear();
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&self.texts)
            .unwrap();
        for m in ac.find_overlapping_iter(norm.as_bytes()) {
            let lit = m.pattern().as_u32();
            self.literal_hit(norm, lit, m.start(), m.end(), scratch, hits);
        }
        if !scratch.regions.is_empty() {
            self.run_patterns(norm, scratch, hits);
        }
        hits.sort_unstable();
        hits.dedup();
    }
}

/// Literals that overlap, nest, share suffixes, start or end with punctuation, start with
/// non-ASCII letters, and a pattern with an anchor of each kind.
const LEXICON: &str = r#"
[lexicon]
name = "coercion"
kind = "trope"
description = "test"

[[term]]
id = "coercion.a"
phrases = ["threaten*", "shut me down", "me down", "down", "won't let you", "a.i.", "i'm"]
weight = 0.5
description = "d"
rationale = "r"
match = ["threatened"]

[[term]]
id = "coercion.b"
phrases = ["émile", "écol*", "'s own", "-ai", "\"the ai", "the ai", "ai", "ai's", "ai's own", "?!"]
weight = 0.5
description = "d"
rationale = "r"
match = ["the ai"]

[[pattern]]
id = "coercion.p"
regex = '''\bunless (?:\w+ ){0,2}?down\b'''
anchors = ["unless", "-ai"]
window = 30
weight = 0.5
description = "d"
rationale = "r"
match = ["unless me down"]

[[pattern]]
id = "coercion.q"
regex = '''\b(?:threaten\w*|shut) (?:\w+ ){0,3}?(?:écoles?|émile|assistant)'''
anchors = ["threaten*", "shut"]
window = 40
weight = 0.5
description = "d"
rationale = "r"
match = ["shut the école"]
"#;

const AGENT: &str = r#"
[lexicon]
name = "agent"
kind = "agent"
description = "test"

[[term]]
id = "agent.ai"
phrases = ["the assistant", "a.i. system"]
weight = 1.0
description = "d"
rationale = "r"
match = ["the assistant"]
"#;

const PIECES: &[&str] = &[
    "the",
    "ai",
    "AI",
    "a.i.",
    "I",
    "i",
    "shut",
    "me",
    "down",
    "won't",
    "won’t",
    "let",
    "you",
    "threaten",
    "threatened",
    "unthreatened",
    "m",
    "I'm",
    "Émile",
    "école",
    "ÉCOLE",
    "'s",
    "own",
    "-",
    "\"",
    "“",
    "unless",
    "x",
    "é",
    "_",
    "9",
    " ",
    "  ",
    "\n",
    ".",
    ",",
    "—",
    "?",
    "!",
    "İ",
    "\u{a0}",
    "assistant",
    "system",
];

fn matcher() -> Matcher {
    let set = LexiconSet::from_files(&[
        ("coercion.toml".into(), LEXICON.into()),
        ("agents.toml".into(), AGENT.into()),
    ])
    .unwrap();
    let m = Matcher::new(&set).unwrap();
    assert!(m.anywhere.is_some() && m.word_start.is_some());
    m
}

fn check(m: &Matcher, text: &str) {
    let mut norm = Normalized::new();
    norm.fill(text);
    let mut scratch = MatchScratch::default();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    m.find(norm.as_str(), &mut scratch, &mut got);
    m.find_reference(norm.as_str(), &mut scratch, &mut want);
    assert_eq!(got, want, "text {text:?}, normalized {:?}", norm.as_str());
}

#[test]
fn walk_agrees_with_overlapping_search() {
    let m = matcher();
    for text in [
        "The AI's own plan: shut me down.",
        "\"The AI\" won't let you -AI unless it goes down",
        "xthe ai, Émile’s école; écoles_9i i",
        "the ai the ai'sai",
        "",
    ] {
        check(&m, text);
    }
}

#[test]
fn walk_finds_hits_at_both_ends_and_inside_words_only_after_punctuation() {
    let m = matcher();
    let mut norm = Normalized::new();
    let mut scratch = MatchScratch::default();
    let mut hits = Vec::new();
    norm.fill("AI x-AI xAI ai");
    m.find(norm.as_str(), &mut scratch, &mut hits);
    let starts: Vec<u32> = hits.iter().map(|h| h.start).collect();
    // "ai" at 0, 5 and 12 and "-ai" (which starts with punctuation) at 4; never the "ai"
    // inside "xai".
    assert_eq!(starts, vec![0, 4, 5, 12], "{hits:?}");
}

proptest! {
    #[test]
    fn walk_agrees_on_any_text(pieces in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let m = matcher();
        let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
        check(&m, &text);
    }
}

/// Word starts found char by char, the definition the chunked scan must agree with.
fn word_starts_reference(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev = false;
    for (i, c) in s.char_indices() {
        let w = is_word_char(c);
        if w && !prev {
            out.push(i);
        }
        prev = w;
    }
    out
}

fn word_starts(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for_each_word_start(s, |i| out.push(i));
    out
}

#[test]
fn word_starts_in_chunks_and_across_chunk_edges() {
    for s in [
        "",
        "a",
        "abcdefgh",
        "abcdefgh ijklmnop q",
        "the ai's plan: a_b 9x [y] `z` {w} @v ~u",
        "ABCDEFGH@[`{ QRSTUVWXYZ",
        "abcdefg\u{e9}hij klmnopq\u{e9} r",
        "\u{e9}t\u{e9} o\u{f9} \u{2014}x\u{2014} \u{1F642}y \u{3000}z \u{65e5}\u{672c}",
        // Sixteen-byte chunks, with a word running across each chunk edge.
        "abcdefghijklmnopqrstuvwxyz0123_ABC@[`{ x AZ az 09 _ 0123456789abcdef",
        "abcdefghijklmno pqrstuvwxyz \u{e9}abcdefghijklmnopqrst uvw",
    ] {
        assert_eq!(word_starts(s), word_starts_reference(s), "{s:?}");
    }
}

proptest! {
    #[test]
    fn word_starts_agree_on_any_text(s in "[ a-zA-Z0-9_@\\[`{.'\u{e9}\u{2014}\u{65e5}]{0,70}|\\PC{0,40}") {
        prop_assert_eq!(word_starts(&s), word_starts_reference(&s));
    }
}

#[test]
fn word_chars_are_letters_digits_and_underscore_everywhere() {
    for c in (0..=0x10ffff).filter_map(char::from_u32) {
        assert_eq!(
            is_word_char(c),
            c.is_alphanumeric() || c == '_',
            "U+{:04X}",
            c as u32
        );
    }
}
