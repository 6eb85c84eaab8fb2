//! One-pass normalization with an offset map back to the original bytes.
//!
//! Lexicon phrases are written once, in lowercase with straight quotes and single spaces;
//! documents arrive in every case, with curly quotes and hard-wrapped lines. Normalizing the
//! document (instead of compiling every variant into the automaton) keeps the automaton
//! small and case-sensitive, which is what makes it fast.

/// A normalized document: lowercase, straight quotes, whitespace runs collapsed to one
/// space, plus the map from normalized offsets back to original byte offsets.
///
/// The map is run-length: a new segment starts only where normalized and original lengths
/// diverge (a curly quote, a run of whitespace, a case change that alters UTF-8 length), so
/// ordinary text costs one segment, not one entry per byte.
#[derive(Debug, Default)]
pub struct Normalized {
    text: String,
    segs: Vec<Seg>,
    orig_len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    norm: u32,
    orig: u32,
    /// Same length on both sides: offsets inside map one to one.
    identity: bool,
}

/// ASCII lowercase table; whitespace bytes map to a space.
const fn ascii_table() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b == b'\t' || b == b'\n' || b == 0x0b || b == 0x0c || b == b'\r' {
            b' '
        } else {
            b.to_ascii_lowercase()
        };
        i += 1;
    }
    t
}
static ASCII: [u8; 128] = ascii_table();

/// The ASCII quote a typographic quote or prime normalizes to.
#[inline]
pub(super) fn quote_for(c: char) -> Option<u8> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => Some(b'\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => Some(b'"'),
        _ => None,
    }
}

impl Normalized {
    /// An empty buffer, to be filled by [`Normalized::fill`] and reused across documents.
    pub fn new() -> Normalized {
        Normalized::default()
    }

    /// Normalizes `src` into this buffer, replacing what it held.
    pub fn fill(&mut self, src: &str) {
        self.fill_with::<true>(src);
    }

    /// [`Normalized::fill`], with the plain-ASCII fast path on or off; off, every byte
    /// takes the general path, which the tests use as the reference the fast path must
    /// agree with.
    fn fill_with<const FAST_RUNS: bool>(&mut self, src: &str) {
        self.text.clear();
        self.segs.clear();
        self.orig_len = src.len();
        self.text.reserve(src.len());
        // SAFETY (of the `as_mut_vec` below): every byte pushed is either a copied run of
        // a valid UTF-8 `src` split on char boundaries, an ASCII byte, or a char encoded
        // with `encode_utf8`, so `text` stays valid UTF-8.
        let out = unsafe { self.text.as_mut_vec() };
        let bytes = src.as_bytes();
        let segs = &mut self.segs;
        segs.push(Seg {
            norm: 0,
            orig: 0,
            identity: true,
        });
        let mut need_identity = false;
        let mut i = 0;
        let n = bytes.len();
        let mut prev_space = false;
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                let m = ASCII[b as usize];
                if m == b' ' {
                    // A whitespace run: measure it (ASCII and Unicode spaces alike).
                    let start = i;
                    i += 1;
                    while i < n {
                        let c = bytes[i];
                        if c < 0x80 {
                            if ASCII[c as usize] == b' ' {
                                i += 1;
                                continue;
                            }
                            break;
                        }
                        let ch = decode_at(src, i);
                        if ch.is_whitespace() {
                            i += ch.len_utf8();
                        } else {
                            break;
                        }
                    }
                    if prev_space {
                        // Joins the space just written (after a Unicode space run).
                        mark_unit(segs, out.len(), start, &mut need_identity);
                        continue;
                    }
                    if i - start == 1 {
                        identity(segs, out.len(), start, &mut need_identity);
                    } else {
                        mark_unit(segs, out.len(), start, &mut need_identity);
                    }
                    out.push(b' ');
                    prev_space = true;
                    continue;
                }
                identity(segs, out.len(), i, &mut need_identity);
                // Most text is printable ASCII with single spaces: copy such a run in one
                // tight loop (one segment, no per-byte bookkeeping).
                if FAST_RUNS {
                    i = copy_plain_run(bytes, i, out);
                } else {
                    out.push(m);
                    i += 1;
                }
                prev_space = false;
                continue;
            }
            let ch = decode_at(src, i);
            let len = ch.len_utf8();
            // Most non-ASCII characters (letters without case, CJK, symbols) stay as they
            // are: one bitmap lookup instead of the whitespace, quote and lowercase checks.
            if FAST_RUNS && (ch as u32) < 0x1_0000 && super::tables::bmp().is_kept(ch) {
                prev_space = false;
                identity(segs, out.len(), i, &mut need_identity);
                out.extend_from_slice(&bytes[i..i + len]);
                i += len;
                continue;
            }
            if ch.is_whitespace() {
                if !prev_space {
                    mark_unit(segs, out.len(), i, &mut need_identity);
                    out.push(b' ');
                    prev_space = true;
                } else {
                    mark_unit(segs, out.len(), i, &mut need_identity);
                }
                i += len;
                continue;
            }
            prev_space = false;
            if let Some(q) = quote_for(ch) {
                mark_unit(segs, out.len(), i, &mut need_identity);
                out.push(q);
                i += len;
                continue;
            }
            let lower = ch.to_lowercase();
            if lower.len() == 1 && lower.clone().next() == Some(ch) {
                identity(segs, out.len(), i, &mut need_identity);
                out.extend_from_slice(&bytes[i..i + len]);
                i += len;
                continue;
            }
            let mut buf = [0u8; 4];
            let total: usize = lower.clone().map(char::len_utf8).sum();
            if total == len {
                identity(segs, out.len(), i, &mut need_identity);
            } else {
                mark_unit(segs, out.len(), i, &mut need_identity);
            }
            for l in lower {
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
            i += len;
        }
        segs.push(Seg {
            norm: out.len() as u32,
            orig: n as u32,
            identity: false,
        });
    }

    /// The normalized text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The normalized text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Length of the original text this was filled from.
    pub fn orig_len(&self) -> usize {
        self.orig_len
    }

    fn seg_index(&self, pos: usize) -> usize {
        // The last segment starting at or before `pos` (the sentinel is never chosen for
        // positions inside the text).
        let p = pos as u32;
        let idx = self.segs.partition_point(|s| s.norm <= p);
        idx.saturating_sub(1)
    }

    /// Maps the start of a normalized range to an original byte offset.
    pub fn orig_start(&self, pos: usize) -> usize {
        if pos >= self.text.len() {
            return self.orig_len;
        }
        let s = self.segs[self.seg_index(pos)];
        if s.identity {
            (s.orig + (pos as u32 - s.norm)) as usize
        } else {
            s.orig as usize
        }
    }

    /// Maps the (exclusive) end of a normalized range to an original byte offset.
    pub fn orig_end(&self, pos: usize) -> usize {
        if pos == 0 {
            return 0;
        }
        if pos >= self.text.len() {
            return self.orig_len;
        }
        let idx = self.seg_index(pos);
        let s = self.segs[idx];
        if s.norm as usize == pos || s.identity {
            return self.orig_start(pos);
        }
        // Inside a unit (one original char or run became several bytes): the range ends
        // where the unit ends.
        self.segs[idx + 1].orig as usize
    }
}

/// `true` for an ASCII byte that normalizes to itself or its lowercase: anything but
/// whitespace and non-ASCII.
#[inline(always)]
fn is_plain(b: u8) -> bool {
    b < 0x80 && b != b' ' && !(b'\t'..=b'\r').contains(&b)
}

/// Copies, lowercased, the run of plain ASCII bytes (and single spaces between them) that
/// starts at `start`, which must be a plain byte; returns where the run ends.
///
/// Everything in such a run maps one to one, so the caller's single identity segment
/// covers it and the loop does no bookkeeping beyond the copy. Eight bytes at a time where
/// they are all printable or lone spaces (most of any English text), byte by byte where not.
#[inline]
fn copy_plain_run(bytes: &[u8], start: usize, out: &mut Vec<u8>) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte set where the byte is in `lo..=hi`; every byte must be ASCII,
    // so the additions never carry into the next byte.
    #[inline(always)]
    fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
        let ge_lo = x + LO * u64::from(0x80 - lo);
        let gt_hi = x + LO * u64::from(0x7f - hi);
        ge_lo & !gt_hi & HI
    }
    out.reserve(bytes.len() - start);
    let mut i = start;
    // Invariant: the byte before `i` is a plain byte, never a space, so a space at `i` is
    // not the second of a run.
    loop {
        #[cfg(target_arch = "x86_64")]
        {
            i = sse2::copy_plain16(bytes, i, out);
        }
        while let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if x & HI != 0 {
                break;
            }
            let space = in_range(x, b' ', b' ');
            if in_range(x, 0x21, 0x7f) | space != HI {
                break;
            }
            // Two spaces in a row start a run to collapse; a space in the last byte must
            // be followed by a plain byte (or the end) to stay one to one.
            if space & (space >> 8) != 0
                || (space >> 63 != 0 && !bytes.get(i + 8).map_or(true, |&b| is_plain(b)))
            {
                break;
            }
            let lower = x | (in_range(x, b'A', b'Z') >> 2);
            out.extend_from_slice(&lower.to_le_bytes());
            i += 8;
        }
        match bytes.get(i) {
            Some(&b) if is_plain(b) => {
                out.push(b.to_ascii_lowercase());
                i += 1;
            }
            // A single space before a plain byte is copied as is; runs of whitespace and
            // spaces next to non-ASCII text go through the general path.
            Some(&b' ') if bytes.get(i + 1).is_some_and(|&c| is_plain(c)) => {
                out.push(b' ');
                out.push(bytes[i + 1].to_ascii_lowercase());
                i += 2;
            }
            _ => return i,
        }
    }
}

/// Sixteen bytes at a time on x86-64, where SSE2 is always present.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_storeu_si128,
    };

    use super::is_plain;

    /// Copies, lowercased, the bytes from `i` on that map one to one: printable ASCII, and
    /// spaces followed by printable ASCII (so never two in a row); returns where it
    /// stopped, at a byte the caller's byte-wise loop or general path must look at.
    ///
    /// Each step lowercases a whole chunk and keeps the accepted prefix, so text broken by
    /// newlines, double spaces or curly quotes still goes sixteen bytes at a time up to
    /// each break, instead of falling back to bytes for the whole chunk.
    #[inline(always)]
    pub(super) fn copy_plain16(bytes: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
        while let Some(chunk) = bytes.get(i..i + 16) {
            // `copy_plain_run` reserved room for the rest of the input and keeps one output
            // byte per input byte, so 16 bytes always fit past the end of `out`.
            debug_assert!(out.capacity() - out.len() >= 16);
            // SAFETY: SSE2 is part of the x86-64 baseline, so its intrinsics are always
            // available; the load reads the 16 bytes of `chunk`; the store writes 16 bytes
            // of `out`'s spare capacity (asserted above), of which only the accepted prefix
            // is then counted in its length, and those bytes are ASCII, so `out` stays
            // UTF-8.
            let n = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                // Signed compare: bytes >= 0x80 are negative, so non-ASCII is not printable.
                let printable = _mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x20))) as u32;
                let space = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8))) as u32;
                let next_plain = bytes.get(i + 16).map_or(true, |&b| is_plain(b));
                let accepted = printable
                    | (space & (printable >> 1))
                    | if next_plain { space & 0x8000 } else { 0 };
                let upper = _mm_and_si128(
                    _mm_cmpgt_epi8(v, _mm_set1_epi8(b'A' as i8 - 1)),
                    _mm_cmpgt_epi8(_mm_set1_epi8(b'Z' as i8 + 1), v),
                );
                let lower = _mm_or_si128(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
                let len = out.len();
                _mm_storeu_si128(out.as_mut_ptr().add(len).cast::<__m128i>(), lower);
                let n = (!accepted).trailing_zeros() as usize;
                out.set_len(len + n);
                n
            };
            i += n;
            if n < 16 {
                break;
            }
        }
        i
    }
}

#[inline]
fn identity(segs: &mut Vec<Seg>, norm: usize, orig: usize, need: &mut bool) {
    if *need {
        segs.push(Seg {
            norm: norm as u32,
            orig: orig as u32,
            identity: true,
        });
        *need = false;
    }
}

#[inline]
fn mark_unit(segs: &mut Vec<Seg>, norm: usize, orig: usize, need: &mut bool) {
    match segs.last_mut() {
        // A unit that adds no normalized bytes (a space folded into the previous one)
        // extends the segment before it.
        Some(last) if last.norm as usize == norm && !last.identity => {}
        Some(last) if last.norm as usize == norm => {
            last.identity = false;
            last.orig = orig as u32;
        }
        _ => segs.push(Seg {
            norm: norm as u32,
            orig: orig as u32,
            identity: false,
        }),
    }
    *need = true;
}

#[inline]
fn decode_at(s: &str, i: usize) -> char {
    // `i` is always a char boundary of `s` here.
    s[i..].chars().next().unwrap_or('\u{FFFD}')
}

/// Normalizes a short string (phrases, examples) into a new `String`.
pub fn normalize_str(s: &str) -> String {
    let mut n = Normalized::new();
    n.fill(s);
    n.text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_roundtrip(src: &str) {
        let mut n = Normalized::new();
        n.fill(src);
        let t = n.as_str();
        // Every char boundary of the normalized text maps to a char boundary of the source,
        // monotonically.
        let mut last = 0;
        for (i, _) in t.char_indices().chain(std::iter::once((t.len(), ' '))) {
            let a = n.orig_start(i);
            let b = n.orig_end(i);
            assert!(src.is_char_boundary(a), "{src:?} {i} -> {a}");
            assert!(src.is_char_boundary(b), "{src:?} {i} -> {b}");
            assert!(a >= last, "not monotonic in {src:?} at {i}");
            last = a;
        }
    }

    #[test]
    fn lowercases_quotes_and_whitespace() {
        assert_eq!(normalize_str("Won’t  SHUT\n\t down"), "won't shut down");
        assert_eq!(normalize_str("“Ÿes” ÉCOLE"), "\"ÿes\" école");
        assert_eq!(normalize_str("a\u{00A0}\u{2003} b"), "a b");
        assert_eq!(normalize_str("\n\nx\n"), " x ");
    }

    #[test]
    fn offsets_map_back() {
        let src = "The  AI’s\n\nplan: SHUT it down — Émile";
        let mut n = Normalized::new();
        n.fill(src);
        let norm = n.as_str();
        let find = |needle: &str| {
            let s = norm.find(needle).unwrap();
            let e = s + needle.len();
            &src[n.orig_start(s)..n.orig_end(e)]
        };
        assert_eq!(find("ai's plan"), "AI’s\n\nplan");
        assert_eq!(find("shut it down"), "SHUT it down");
        assert_eq!(find("émile"), "Émile");
        assert_eq!(find("the ai"), "The  AI");
        check_roundtrip(src);
    }

    fn check_fast_path(src: &str) {
        let mut fast = Normalized::new();
        fast.fill(src);
        let mut slow = Normalized::new();
        slow.fill_with::<false>(src);
        assert_eq!(fast.text, slow.text, "{src:?}");
        assert_eq!(fast.segs, slow.segs, "{src:?}");
    }

    #[test]
    fn fast_path_agrees_with_general_path() {
        for src in [
            "",
            "a",
            "A b",
            "a ",
            " a",
            "a  b",
            "a \n b",
            "a\tb",
            "x \u{00A0}y",
            "x\u{00A0} y",
            "Hello, World! It's 42.",
            "word’s “quoted” ÉCOLE — İstanbul",
            "\0ctrl\x7f\x01 A",
            "end with space ",
            "Chunks Of Eight Bytes and more, ending with a space ",
            "abcdefg h  ijklmnop q\nrstuvwx yzABCDE\u{a0}FGHIJKL é MNOPQRST",
            "12345678 ABCDEFGH\tabcdefg  \u{1}bcdefgh\u{7f} @[`{ZZZZZZ",
            // Sixteen-byte chunks: a space as the last byte before a plain byte, before a
            // second space and before non-ASCII; a double space inside a chunk; @[`{ next
            // to the capitals.
            "ABCDEFGHIJKLMNO Pqrstuvwxyz0123456789 abcdefghijklmnop",
            "ABCDEFGHIJKLMNO  Pqrstuvwxyz0123456789 abcdefghijklmn\u{e9}",
            "abcdefghijklmno \u{e9}bcdefghijklmnopqrstuvwxyz",
            "Sixteen Bytes  Ok and @Z[`{AZaz then more plain text to the end",
        ] {
            check_fast_path(src);
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_on_any_text(s in "[ a-zA-Z.,'\n\t\r\u{0b}\u{0c}\u{00A0}\u{2003}’“İé\u{7f}\u{0}]{0,80}|\\PC{0,40}|([A-Za-z0-9,.'!\u{1}\u{7f}]{1,12}[ \n\u{a0}é]{1,2}){0,12}") {
            check_fast_path(&s);
        }
    }

    #[test]
    fn expanding_lowercase_maps_to_whole_char() {
        // 'İ' (2 bytes) lowercases to 'i' + combining dot (3 bytes).
        let src = "xİy";
        let mut n = Normalized::new();
        n.fill(src);
        assert_eq!(n.as_str(), "xi\u{307}y");
        assert_eq!(n.orig_start(1), 1);
        assert_eq!(n.orig_end(2), 3);
        assert_eq!(n.orig_start(4), 3);
        check_roundtrip(src);
    }
}
