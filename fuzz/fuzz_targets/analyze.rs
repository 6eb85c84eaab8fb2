//! The whole engine (normalize, match, score) with the embedded lexicons on arbitrary
//! text: every hit and span maps to a char-boundary range of the text, scores are
//! probabilities.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tropescan::engine::{Engine, DEFAULT_MIN_SPAN_SCORE, DEFAULT_THRESHOLD};
use tropescan::lexicon::LexiconSet;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        Engine::new(
            LexiconSet::embedded(),
            DEFAULT_THRESHOLD,
            DEFAULT_MIN_SPAN_SCORE,
        )
        .expect("embedded lexicons compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let mut scanner = engine().scanner();
    let a = scanner.analyze(text);
    let norm = a.normalized();
    for h in a.hits {
        assert!(h.start <= h.end && (h.end as usize) <= norm.len());
        assert!(norm.is_char_boundary(h.start as usize) && norm.is_char_boundary(h.end as usize));
        let (s, e) = a.orig_range(h);
        assert!(s <= e && e <= text.len(), "{s}..{e} of {}", text.len());
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
    }
    for sp in a.spans {
        assert!((0.0..=1.0).contains(&sp.score));
    }
    assert!((0.0..=1.0).contains(&a.doc.score) && (0.0..=1.0).contains(&a.doc.counter_score));
    assert!(a.doc.categories.iter().all(|c| (0.0..=1.0).contains(c)));
});
