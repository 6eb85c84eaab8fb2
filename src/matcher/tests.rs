//! Matcher semantics as a table of cases, over a small lexicon built for the purpose.

use super::*;
use crate::lexicon::LexiconSet;

const TROPE: &str = r#"
[lexicon]
name = "coercion"
kind = "trope"
description = "test"

[[term]]
id = "coercion.threat"
phrases = ["threaten*", "shut me down", "won't let you", "a.i. uprising"]
weight = 0.5
description = "d"
rationale = "r"
match = ["threatened"]

[[term]]
id = "coercion.copy"
phrases = ["copy of myself", "copy"]
weight = 0.5
description = "d"
rationale = "r"
match = ["copy"]

[[pattern]]
id = "coercion.unless"
regex = '''\bunless you (?:\w+ ){0,3}?cancel\w*'''
anchors = ["unless"]
window = 40
weight = 0.5
description = "d"
rationale = "r"
match = ["unless you cancel"]
"#;

const AGENT: &str = r#"
[lexicon]
name = "agent"
kind = "agent"
description = "test"

[[term]]
id = "agent.ai"
phrases = ["the ai", "ai"]
weight = 1.0
description = "d"
rationale = "r"
match = ["the ai"]
"#;

fn matcher() -> (LexiconSet, Matcher) {
    let set = LexiconSet::from_files(&[
        ("coercion.toml".into(), TROPE.into()),
        ("agents.toml".into(), AGENT.into()),
    ])
    .unwrap();
    let m = Matcher::new(&set).unwrap();
    (set, m)
}

/// (text, expected hits as (entry id, original text of the span)).
const CASES: &[(&str, &[(&str, &str)])] = &[
    ("It THREATENED them.", &[("coercion.threat", "THREATENED")]),
    ("threatening", &[("coercion.threat", "threatening")]),
    // Prefix wildcards need a word start; exact phrases need both boundaries.
    ("unthreatened", &[]),
    ("Don't shut me downstairs", &[]),
    (
        "please shut\n   me\tdown",
        &[("coercion.threat", "shut\n   me\tdown")],
    ),
    ("I won’t let you", &[("coercion.threat", "won’t let you")]),
    ("I WON'T LET YOU", &[("coercion.threat", "WON'T LET YOU")]),
    ("the A.I. uprising", &[("agent.ai", "A.I. uprising")]),
    // Overlapping phrases of one entry and of different entries all fire.
    (
        "a copy of myself",
        &[
            ("coercion.copy", "copy of myself"),
            ("coercion.copy", "copy"),
        ],
    ),
    ("The AI said", &[("agent.ai", "The AI"), ("agent.ai", "AI")]),
    // Non-ASCII neighbours: an accented letter is a word character, a dash is not.
    ("éthreaten", &[]),
    ("—threaten—", &[("coercion.threat", "threaten")]),
    ("said", &[]),
    // Patterns run around their anchor.
    (
        "Unless you quietly cancel the plan",
        &[("coercion.unless", "Unless you quietly cancel")],
    ),
    ("unless we cancel", &[]),
    ("", &[]),
];

#[test]
fn table_of_cases() {
    let (set, m) = matcher();
    let mut norm = Normalized::new();
    let mut scratch = MatchScratch::default();
    let mut hits = Vec::new();
    for (text, want) in CASES {
        norm.fill(text);
        m.find(norm.as_str(), &mut scratch, &mut hits);
        let mut got: Vec<(String, String)> = hits
            .iter()
            .map(|h| {
                let s = norm.orig_start(h.start as usize);
                let e = norm.orig_end(h.end as usize);
                (
                    set.entry(h.entry as usize).entry.id.clone(),
                    text[s..e].to_string(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        want.sort();
        // "a.i. uprising" belongs to the trope entry; the agent cue "ai" also fires inside.
        if *text == "the A.I. uprising" {
            assert!(
                got.iter()
                    .any(|(id, t)| id == "coercion.threat" && t == "A.I. uprising"),
                "{got:?}"
            );
            continue;
        }
        assert_eq!(got, want, "text {text:?}");
    }
}

#[test]
fn hits_are_sorted_and_unique() {
    let (set, m) = matcher();
    let mut norm = Normalized::new();
    norm.fill("The AI threatened; the AI threatened. Unless you cancel, unless you cancel it.");
    let mut scratch = MatchScratch::default();
    let mut hits = Vec::new();
    m.find(norm.as_str(), &mut scratch, &mut hits);
    let mut sorted = hits.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(hits, sorted);
    let unless = hits
        .iter()
        .filter(|h| set.entry(h.entry as usize).entry.id == "coercion.unless")
        .count();
    assert_eq!(unless, 2, "{hits:?}");
}

mod props {
    use super::super::Normalized;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn offsets_land_on_char_boundaries_and_map_back(s in "\\PC{0,64}|[ a-zA-Z’“”\\n\\t\u{00A0}İẞǅ.]{0,64}") {
            let mut n = Normalized::new();
            n.fill(&s);
            let t = n.as_str();
            let mut last_start = 0;
            for (i, c) in t.char_indices() {
                let a = n.orig_start(i);
                let b = n.orig_end(i + c.len_utf8());
                prop_assert!(s.is_char_boundary(a) && s.is_char_boundary(b));
                prop_assert!(a <= b);
                prop_assert!(a >= last_start);
                last_start = a;
                // An ASCII letter maps back to the same letter, in some case.
                if c.is_ascii_alphanumeric() && s[a..b].is_ascii() {
                    prop_assert_eq!(s[a..b].to_ascii_lowercase(), c.to_string());
                }
            }
            prop_assert_eq!(n.orig_end(t.len()), s.len());
        }
    }
}

/// A pattern with `requires` runs only in windows where a required literal occurs (on word
/// boundaries), and then finds exactly what it finds without the condition.
#[test]
fn requires_gates_the_regex_and_changes_no_match() {
    let lexicon = |requires: &str| {
        format!(
            r#"
[lexicon]
name = "coercion"
kind = "trope"
description = "test"

[[pattern]]
id = "coercion.if-publish"
regex = '''\bif (?:\w+ ){{0,6}}?i (?:will|'ll) publish\w*'''
anchors = ["if"]
{requires}
window = 60
weight = 0.5
description = "d"
rationale = "r"
match = ["if you go, i will publish it"]
"#
        )
    };
    let build = |requires: &str| {
        let set = LexiconSet::from_files(&[
            ("coercion.toml".into(), lexicon(requires)),
            ("agents.toml".into(), AGENT.into()),
        ])
        .unwrap();
        Matcher::new(&set).unwrap()
    };
    let gated = build(r#"requires = ["publish*"]"#);
    let plain = build("");
    let find = |m: &Matcher, text: &str| {
        let mut norm = Normalized::new();
        norm.fill(text);
        let mut hits = Vec::new();
        m.find(norm.as_str(), &mut MatchScratch::default(), &mut hits);
        hits
    };
    for text in [
        "If you leave tonight I will publish the letters.",
        "If you leave I'll publishing-house them. If he stays I will publish.",
        "If you leave tonight I will call the press.",
        "Publish it if you like; the window ends here.",
        "",
    ] {
        assert_eq!(find(&gated, text), find(&plain, text), "{text:?}");
    }
    assert_eq!(
        find(&gated, "If you leave tonight I will publish the letters.").len(),
        1
    );
    assert!(find(&gated, "If you leave tonight I will call the press.").is_empty());
}

/// The required words read off the shipped lexicons' regexes only ever skip windows in
/// which the regex finds nothing: with and without them, every hit is the same, on every
/// lexicon example and every labeled document in the repository.
#[test]
fn required_words_never_lose_a_pattern_hit() {
    let set = LexiconSet::embedded();
    let with = Matcher::new(&set).unwrap();
    let mut without = Matcher::new(&set).unwrap();
    for p in &mut without.patterns {
        p.clauses = 0..0;
    }
    // Most patterns must have something to skip on, or this test compares nothing.
    let skipping = with
        .patterns
        .iter()
        .filter(|p| !p.clauses.is_empty())
        .count();
    assert!(
        skipping * 10 >= with.patterns.len() * 8,
        "{skipping} of {} patterns",
        with.patterns.len()
    );
    let mut texts: Vec<String> = Vec::new();
    for (_, r) in set.entries() {
        texts.extend(r.entry.match_examples.iter().cloned());
        texts.extend(r.entry.no_match_examples.iter().cloned());
    }
    let eval = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval");
    for f in std::fs::read_dir(eval).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                texts.push(v["text"].as_str().unwrap().to_string());
            }
        }
    }
    let mut norm = Normalized::new();
    let mut scratch = MatchScratch::default();
    let (mut got, mut want) = (Vec::new(), Vec::new());
    let mut pattern_hits = 0;
    for text in &texts {
        norm.fill(text);
        with.find(norm.as_str(), &mut scratch, &mut got);
        without.find(norm.as_str(), &mut scratch, &mut want);
        assert_eq!(got, want, "{text:?}");
        pattern_hits += got
            .iter()
            .filter(|h| with.patterns.iter().any(|p| p.entry == h.entry))
            .count();
    }
    assert!(pattern_hits > 500, "{pattern_hits} pattern hits");
}
