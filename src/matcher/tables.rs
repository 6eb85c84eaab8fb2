//! Per-character answers for the Basic Multilingual Plane, computed once from the standard
//! library's Unicode tables.
//!
//! `char::is_alphanumeric` and `char::to_lowercase` binary-search tables of ranges, a few
//! dozen instructions and several unpredictable branches per character; text in scripts
//! the hand-written fast paths do not list (CJK, Japanese kana, Myanmar, Arabic, symbols)
//! paid that for every character. One bit per code point answers the same questions with
//! one load: two bitmaps of 8 KB each.

use std::sync::OnceLock;

use super::normalize::quote_for;

const WORDS: usize = 0x1_0000 / 64;

/// The bitmaps; see [`bmp`].
pub(super) struct Bmp {
    /// `char::is_alphanumeric`.
    word: Box<[u64; WORDS]>,
    /// Characters that normalize to themselves: not whitespace, not a quote the normalizer
    /// straightens, and their own (single-character) lowercase.
    kept: Box<[u64; WORDS]>,
}

static BMP: OnceLock<Bmp> = OnceLock::new();

/// The bitmaps, built on first use.
#[inline]
pub(super) fn bmp() -> &'static Bmp {
    BMP.get_or_init(Bmp::build)
}

#[inline(always)]
fn bit(map: &[u64; WORDS], c: char) -> bool {
    let c = c as u32 as usize;
    debug_assert!(c < 0x1_0000);
    map[(c >> 6) & (WORDS - 1)] >> (c & 63) & 1 != 0
}

impl Bmp {
    fn build() -> Bmp {
        let mut word = Box::new([0u64; WORDS]);
        let mut kept = Box::new([0u64; WORDS]);
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            let i = c as usize;
            if c.is_alphanumeric() {
                word[i >> 6] |= 1 << (i & 63);
            }
            let mut lower = c.to_lowercase();
            let same = lower.next() == Some(c) && lower.next().is_none();
            if same && !c.is_whitespace() && quote_for(c).is_none() {
                kept[i >> 6] |= 1 << (i & 63);
            }
        }
        Bmp { word, kept }
    }

    /// `c.is_alphanumeric()`, for `c` in the Basic Multilingual Plane.
    #[inline(always)]
    pub(super) fn is_word(&self, c: char) -> bool {
        bit(&self.word, c)
    }

    /// Whether the normalizer keeps `c` as it is, for `c` in the Basic Multilingual Plane.
    #[inline(always)]
    pub(super) fn is_kept(&self, c: char) -> bool {
        bit(&self.kept, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmaps_agree_with_the_standard_library() {
        let t = bmp();
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            assert_eq!(t.is_word(c), c.is_alphanumeric(), "{c:?}");
            let kept = !c.is_whitespace()
                && quote_for(c).is_none()
                && c.to_lowercase().collect::<String>() == c.to_string();
            assert_eq!(t.is_kept(c), kept, "{c:?}");
        }
    }
}
