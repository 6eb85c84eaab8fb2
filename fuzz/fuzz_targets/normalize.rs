//! The normalizer and its offset map on arbitrary text: the normalized text is what the
//! documented rules give (lowercase, straight quotes, one space per whitespace run), and
//! every normalized offset maps back to a char boundary of the original, monotonically.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tropescan::matcher::{normalize_str, Normalized};

/// The rules, written the slow and obvious way.
fn reference(s: &str) -> String {
    let mut out = String::new();
    let mut prev_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
            continue;
        }
        prev_space = false;
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => out.push('"'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    let mut n = Normalized::new();
    // Reuse across documents must not leak state: fill with something else first.
    n.fill("Some EARLIER “document”\twith  spaces");
    n.fill(s);
    let t = n.as_str();
    assert_eq!(t, reference(s));
    assert_eq!(t, normalize_str(s));
    assert_eq!(n.orig_len(), s.len());
    let mut last_start = 0;
    let mut last_end = 0;
    for (i, c) in t.char_indices() {
        let a = n.orig_start(i);
        let b = n.orig_end(i + c.len_utf8());
        assert!(s.is_char_boundary(a) && s.is_char_boundary(b), "{a}..{b}");
        assert!(a < b, "char {c:?} at {i} maps to empty {a}..{b}");
        assert!(a >= last_start && b >= last_end, "not monotonic at {i}");
        // The original char(s) normalize to a run that contains this char.
        assert!(
            reference(&s[a..b]).contains(c) || c == ' ',
            "{c:?} from {:?}",
            &s[a..b]
        );
        last_start = a;
        last_end = b;
    }
    assert_eq!(n.orig_end(t.len()), s.len());
    assert_eq!(n.orig_start(t.len()), s.len());
});
