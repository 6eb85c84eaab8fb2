//! Finding lexicon hits in normalized text.
//!
//! Every literal of every lexicon (term phrases, cue phrases, pattern anchors) is searched
//! for in one pass over the normalized document. Literal hits are checked for word
//! boundaries; anchor hits open small windows in which their patterns' regexes run, so no
//! regex ever scans a whole document. The same pass finds the words each regex requires
//! ([`required`]), and a window without them is skipped.
//!
//! A literal that begins with a word character can only match where a word begins, so
//! those literals go into a trie ([`trie`]) that is walked from each word start until the
//! walk dies, usually after two or three bytes. That reads each byte about once and stays
//! in the trie's first levels, which fit in cache, where an unanchored automaton over
//! thousands of phrases touches a cold state row on almost every byte. Before a walk, a
//! bitset of the literals' first four bytes ([`start_filter`]) rules out most word starts
//! at the cost of one L1 load. A literal that begins with punctuation (`(agent)`, `-ai`)
//! is walked from its first word and counted when its punctuation precedes that word;
//! only literals with no word character at all go into a small unanchored Aho-Corasick
//! automaton over the whole text. Together they report exactly the hits one unanchored
//! overlapping search would.

mod normalize;
pub mod required;
mod start_filter;
mod tables;
mod trie;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};

pub use normalize::{normalize_str, Normalized};

use crate::lexicon::{EntryRule, LexiconSet};
use start_filter::StartFilter;
use trie::Trie;

/// One hit of one entry, in normalized-text byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Start offset in the normalized text.
    pub start: u32,
    /// End offset (exclusive) in the normalized text.
    pub end: u32,
    /// Flattened entry index in the [`LexiconSet`].
    pub entry: u32,
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Term {
        entry: u32,
        prefix: bool,
    },
    Anchor {
        pattern: u32,
        prefix: bool,
    },
    /// A word of clause `clause` (see [`required`]).
    Clause {
        clause: u32,
        prefix: bool,
    },
}

struct Literal {
    owners: Vec<Owner>,
    check_left: bool,
    check_right: bool,
}

struct PatternRule {
    entry: u32,
    regex: Regex,
    window: usize,
    /// The pattern's clauses, as a range of clause ids: the regex runs in a window only
    /// when every clause has a word inside it. The lexicon's `requires` phrases form one
    /// clause; the others are read off the regex ([`required`]).
    clauses: std::ops::Range<u32>,
}

/// A compiled lexicon set, ready to search many documents from many threads.
pub struct Matcher {
    /// Literals that start with a word character, walked from word starts.
    word_start: Option<Trie>,
    /// Which word starts can begin a literal of `word_start` at all.
    start_filter: StartFilter,
    /// What each literal of `word_start` ends: `(literal, first, last)`, the literal of
    /// that text (`u32::MAX` when none) and the range of `after_punct` entries whose word
    /// part it is.
    word_start_ids: Vec<(u32, u32, u32)>,
    /// Literals that begin with punctuation (`(agent)`, `-ai`): `(literal, punctuation)`.
    /// The trie holds their word part (`agent)`, `ai`), which begins a word; a hit counts
    /// when the punctuation precedes it. Searching the whole text for them instead, with a
    /// separate automaton, cost a tenth of all matching for a dozen rare phrases.
    after_punct: Vec<(u32, Box<[u8]>)>,
    /// Literals with no word character at all, searched everywhere.
    anywhere: Option<AhoCorasick>,
    /// Literal index of each literal of `anywhere`.
    anywhere_ids: Vec<u32>,
    literals: Vec<Literal>,
    patterns: Vec<PatternRule>,
    /// The literals' texts, for the tests' reference search.
    #[cfg(test)]
    texts: Vec<String>,
}

/// Per-thread scratch space, reused across documents so the hot path does not allocate.
#[derive(Default)]
pub struct MatchScratch {
    regions: Vec<(u32, u32, u32)>,
    /// `(start, end)` of every hit of each clause's words, in text order, by clause id.
    clause_hits: Vec<Vec<(u32, u32)>>,
    /// The clauses whose `clause_hits` are not empty.
    touched: Vec<u32>,
}

/// Compiles a pattern's regex the way the matcher runs it: over bytes, with ASCII classes.
///
/// # Errors
/// The regex crate's error when the regex is invalid or too big.
pub fn compile_pattern(src: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(src)
        .unicode(false)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
}

/// A lexicon set whose automaton or regexes could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot compile lexicons: {0}")]
pub struct CompileError(String);

impl Matcher {
    /// Compiles every entry of `set`.
    ///
    /// # Errors
    /// When the automaton or a regex cannot be built (lexicon validation has already ruled
    /// out invalid regexes, so in practice: limits exceeded).
    pub fn new(set: &LexiconSet) -> Result<Matcher, CompileError> {
        let mut literals: Vec<Literal> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        let mut patterns = Vec::new();
        let mut clause_count = 0u32;
        let mut add = |text: &str, owner: Owner| {
            let i = *index.entry(text.to_string()).or_insert_with(|| {
                texts.push(text.to_string());
                literals.push(Literal {
                    owners: Vec::new(),
                    check_left: text.chars().next().is_some_and(is_word_char),
                    check_right: text.chars().last().is_some_and(is_word_char),
                });
                literals.len() - 1
            });
            literals[i].owners.push(owner);
        };
        for (i, r) in set.entries() {
            match &r.entry.rule {
                EntryRule::Term { phrases } => {
                    for p in phrases {
                        add(
                            &p.text,
                            Owner::Term {
                                entry: i as u32,
                                prefix: p.prefix,
                            },
                        );
                    }
                }
                EntryRule::Pattern {
                    required,
                    compiled,
                    anchors,
                    window,
                    requires,
                    ..
                } => {
                    let pi = patterns.len() as u32;
                    let first = clause_count;
                    if !requires.is_empty() {
                        for a in requires {
                            add(
                                &a.text,
                                Owner::Clause {
                                    clause: clause_count,
                                    prefix: a.prefix,
                                },
                            );
                        }
                        clause_count += 1;
                    }
                    for clause in required {
                        for w in clause {
                            add(
                                &w.text,
                                Owner::Clause {
                                    clause: clause_count,
                                    prefix: !w.whole,
                                },
                            );
                        }
                        clause_count += 1;
                    }
                    patterns.push(PatternRule {
                        entry: i as u32,
                        regex: compiled.clone(),
                        window: *window,
                        clauses: first..clause_count,
                    });
                    for a in anchors {
                        add(
                            &a.text,
                            Owner::Anchor {
                                pattern: pi,
                                prefix: a.prefix,
                            },
                        );
                    }
                }
            }
        }
        // `check_left` is set exactly when a literal starts with a word character. Each
        // trie text lists the literal it is and the punctuation-led literals it ends.
        let mut trie_of: std::collections::HashMap<&str, usize> = Default::default();
        let mut word_texts: Vec<&str> = Vec::new();
        let mut plain: Vec<u32> = Vec::new();
        let mut led: Vec<Vec<(u32, Box<[u8]>)>> = Vec::new();
        let (mut any_texts, mut anywhere_ids) = (Vec::new(), Vec::new());
        for (i, (text, lit)) in texts.iter().zip(&literals).enumerate() {
            let word_at = if lit.check_left {
                Some(0)
            } else {
                text.char_indices()
                    .find(|&(_, c)| is_word_char(c))
                    .map(|(k, _)| k)
            };
            let Some(k) = word_at else {
                any_texts.push(text.as_str());
                anywhere_ids.push(i as u32);
                continue;
            };
            let t = *trie_of.entry(&text[k..]).or_insert_with(|| {
                word_texts.push(&text[k..]);
                plain.push(u32::MAX);
                led.push(Vec::new());
                word_texts.len() - 1
            });
            if k == 0 {
                plain[t] = i as u32;
            } else {
                led[t].push((i as u32, text.as_bytes()[..k].into()));
            }
        }
        let mut after_punct = Vec::new();
        let word_start_ids = plain
            .into_iter()
            .zip(led)
            .map(|(lit, l)| {
                let first = after_punct.len() as u32;
                after_punct.extend(l);
                (lit, first, after_punct.len() as u32)
            })
            .collect();
        let start_filter = StartFilter::new(&word_texts);
        let word_start = if word_texts.is_empty() {
            None
        } else {
            Some(Trie::new(&word_texts))
        };
        let anywhere = if any_texts.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .match_kind(MatchKind::Standard)
                    .build(&any_texts)
                    .or_else(|_| {
                        AhoCorasick::builder()
                            .kind(Some(AhoCorasickKind::ContiguousNFA))
                            .match_kind(MatchKind::Standard)
                            .build(&any_texts)
                    })
                    .map_err(|e| CompileError(e.to_string()))?,
            )
        };
        Ok(Matcher {
            word_start,
            start_filter,
            word_start_ids,
            after_punct,
            anywhere,
            anywhere_ids,
            literals,
            patterns,
            #[cfg(test)]
            texts,
        })
    }

    /// Finds every hit in `norm`, appending to `hits` (cleared first), sorted by
    /// `(start, end, entry)` with exact duplicates removed.
    pub fn find(&self, norm: &str, scratch: &mut MatchScratch, hits: &mut Vec<Hit>) {
        hits.clear();
        scratch.regions.clear();
        for &c in &scratch.touched {
            scratch.clause_hits[c as usize].clear();
        }
        scratch.touched.clear();
        if let Some(trie) = &self.word_start {
            self.walk_word_starts(trie, norm, scratch, hits);
        }
        if let Some(ac) = &self.anywhere {
            for m in ac.find_overlapping_iter(norm.as_bytes()) {
                let lit = self.anywhere_ids[m.pattern().as_usize()];
                self.literal_hit(norm, lit, m.start(), m.end(), scratch, hits);
            }
        }
        if !scratch.regions.is_empty() {
            self.run_patterns(norm, scratch, hits);
        }
        hits.sort_unstable();
        hits.dedup();
    }

    /// Walks `trie` from every word start of `norm`.
    #[inline]
    fn walk_word_starts(
        &self,
        trie: &Trie,
        norm: &str,
        scratch: &mut MatchScratch,
        hits: &mut Vec<Hit>,
    ) {
        let bytes = norm.as_bytes();
        let filter = &self.start_filter;
        // The filter check is inlined into the word-start loop; the walk, needed at a
        // minority of word starts, is not, so the loop stays small.
        for_each_word_start(norm, |i| {
            if filter.may_start(&bytes[i..]) {
                self.walk_from(trie, norm, i, scratch, hits);
            }
        });
    }

    /// Walks `trie` from the word start `i` and records every literal it ends.
    #[inline(never)]
    fn walk_from(
        &self,
        trie: &Trie,
        norm: &str,
        i: usize,
        scratch: &mut MatchScratch,
        hits: &mut Vec<Hit>,
    ) {
        let bytes = norm.as_bytes();
        trie.walk(&bytes[i..], |len, t| {
            let (lit, first, last) = self.word_start_ids[t as usize];
            if lit != u32::MAX {
                self.literal_hit(norm, lit, i, i + len, scratch, hits);
            }
            for (lit, punct) in &self.after_punct[first as usize..last as usize] {
                if bytes[..i].ends_with(punct) {
                    self.literal_hit(norm, *lit, i - punct.len(), i + len, scratch, hits);
                }
            }
        });
    }

    /// Checks one occurrence of a literal at `s..e` for word boundaries and records what it
    /// means for each of its owners: a term hit or a pattern window.
    #[inline]
    fn literal_hit(
        &self,
        norm: &str,
        lit: u32,
        s: usize,
        e: usize,
        scratch: &mut MatchScratch,
        hits: &mut Vec<Hit>,
    ) {
        let bytes = norm.as_bytes();
        let lit = &self.literals[lit as usize];
        if lit.check_left && s > 0 && word_char_before(norm, s) {
            return;
        }
        let exact_ok = !lit.check_right || e >= bytes.len() || !word_char_at(norm, e);
        for owner in &lit.owners {
            let (prefix, end) = match *owner {
                Owner::Term { prefix, .. }
                | Owner::Anchor { prefix, .. }
                | Owner::Clause { prefix, .. } => {
                    if prefix {
                        (true, word_end(norm, e))
                    } else {
                        (false, e)
                    }
                }
            };
            if !prefix && !exact_ok {
                continue;
            }
            match *owner {
                Owner::Term { entry, .. } => hits.push(Hit {
                    start: s as u32,
                    end: end as u32,
                    entry,
                }),
                Owner::Anchor { pattern, .. } => {
                    let w = self.patterns[pattern as usize].window;
                    let lo = floor_char(norm, s.saturating_sub(w));
                    let hi = ceil_char(norm, (end + w).min(bytes.len()));
                    scratch.regions.push((pattern, lo as u32, hi as u32));
                }
                Owner::Clause { clause, .. } => {
                    if scratch.clause_hits.len() <= clause as usize {
                        scratch
                            .clause_hits
                            .resize_with(clause as usize + 1, Vec::new);
                    }
                    let list = &mut scratch.clause_hits[clause as usize];
                    if list.is_empty() {
                        scratch.touched.push(clause);
                    }
                    // The word itself, not the rest of its word: a match may stop at the
                    // window's edge in the middle of a word that runs on.
                    list.push((s as u32, e as u32));
                }
            }
        }
    }

    fn run_patterns(&self, norm: &str, scratch: &mut MatchScratch, hits: &mut Vec<Hit>) {
        let bytes = norm.as_bytes();
        let regions = &mut scratch.regions;
        regions.sort_unstable();
        let clause_hits = &scratch.clause_hits;
        // Merge overlapping windows of the same pattern so each byte is searched once per
        // pattern and no match is reported twice.
        let mut i = 0;
        while i < regions.len() {
            let (p, lo, mut hi) = regions[i];
            let mut j = i + 1;
            while j < regions.len() && regions[j].0 == p && regions[j].1 <= hi {
                hi = hi.max(regions[j].2);
                j += 1;
            }
            let rule = &self.patterns[p as usize];
            // Does every clause of this pattern have a word wholly inside the window?
            let satisfied = rule.clauses.clone().all(|c| {
                // Word hits arrive in text order (all clause words begin at word starts,
                // which the trie visits left to right).
                let Some(list) = clause_hits.get(c as usize) else {
                    return false;
                };
                let from = list.partition_point(|&(s, _)| s < lo);
                list[from..]
                    .iter()
                    .take_while(|&&(s, _)| s < hi)
                    .any(|&(_, e)| e <= hi)
            });
            if !satisfied {
                i = j;
                continue;
            }
            // The haystack ends with the window but starts with the text, so that `\b` at
            // the window's first byte sees the byte before it, as the trie's word starts do.
            let hay = &bytes[..hi as usize];
            let mut at = lo as usize;
            while let Some(m) = rule.regex.find_at(hay, at) {
                if m.is_empty() {
                    at = m.end() + 1;
                    if at > hay.len() {
                        break;
                    }
                    continue;
                }
                at = m.end();
                // A byte-level regex may stop inside a multi-byte char; spans stay on
                // char boundaries.
                hits.push(Hit {
                    start: floor_char(norm, m.start()) as u32,
                    end: ceil_char(norm, m.end()) as u32,
                    entry: rule.entry,
                });
            }
            i = j;
        }
    }
}

/// Calls `f` with the byte offset of every word start of `s`: each word character (see
/// [`is_word_char`]) that is not preceded by one.
///
/// Eight ASCII bytes at a time: one word-character mask per `u64` and a shift find all the
/// word starts in it without a branch per byte. Chunks with non-ASCII bytes go char by char.
#[inline(always)]
fn for_each_word_start(s: &str, mut f: impl FnMut(usize)) {
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
    let bytes = s.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    let mut prev_word = false;
    while i < n {
        #[cfg(target_arch = "x86_64")]
        {
            i = sse2_word_starts(bytes, i, &mut prev_word, &mut f);
            if i >= n {
                break;
            }
        }
        if let Some(chunk) = bytes.get(i..i + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if x & HI == 0 {
                // `| 0x20` folds ASCII capitals onto lowercase and nothing else onto a-z.
                let word = in_range(x | (LO * 0x20), b'a', b'z')
                    | in_range(x, b'0', b'9')
                    | in_range(x, b'_', b'_');
                // Little endian: byte k+1's "previous is a word byte" is byte k's flag.
                let prev = (word << 8) | (u64::from(prev_word) << 7);
                let mut starts = word & !prev;
                while starts != 0 {
                    f(i + (starts.trailing_zeros() / 8) as usize);
                    starts &= starts - 1;
                }
                prev_word = word >> 63 != 0;
                i += 8;
                continue;
            }
        }
        // Char by char to the end of this chunk (or the text), then back to chunks.
        let end = (i + 8).min(n);
        while i < end {
            let b = bytes[i];
            let (word, len) = if b < 0x80 {
                (b.is_ascii_alphanumeric() || b == b'_', 1)
            } else {
                let c = s[i..].chars().next().expect("i is a char boundary");
                (is_word_char(c), c.len_utf8())
            };
            if word && !prev_word {
                f(i);
            }
            prev_word = word;
            i += len;
        }
    }
}

/// The word starts of `bytes` from `i` on, sixteen ASCII bytes at a time (x86-64 always
/// has SSE2), until a chunk holds a non-ASCII byte or fewer than 16 bytes remain; returns
/// where it stopped. The same classes as the eight-byte loop of [`for_each_word_start`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_word_starts(
    bytes: &[u8],
    mut i: usize,
    prev_word: &mut bool,
    f: &mut impl FnMut(usize),
) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };
    while let Some(chunk) = bytes.get(i..i + 16) {
        // SAFETY: SSE2 is part of the x86-64 baseline, so its intrinsics are always
        // available; the load reads the 16 bytes of `chunk`, with no alignment requirement.
        let word = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            if _mm_movemask_epi8(v) != 0 {
                break;
            }
            // ASCII only from here, so signed compares order the bytes as unsigned ones.
            let between = |x: __m128i, lo: u8, hi: u8| {
                _mm_and_si128(
                    _mm_cmpgt_epi8(x, _mm_set1_epi8(lo as i8 - 1)),
                    _mm_cmpgt_epi8(_mm_set1_epi8(hi as i8 + 1), x),
                )
            };
            // `| 0x20` folds ASCII capitals onto lowercase and nothing else onto a-z.
            let word = _mm_or_si128(
                _mm_or_si128(
                    between(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', b'z'),
                    between(v, b'0', b'9'),
                ),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8)),
            );
            _mm_movemask_epi8(word) as u32
        };
        let mut starts = word & !((word << 1) | u32::from(*prev_word));
        while starts != 0 {
            f(i + starts.trailing_zeros() as usize);
            starts &= starts - 1;
        }
        *prev_word = word & 0x8000 != 0;
        i += 16;
    }
    i
}

/// `true` for letters, digits and `_`, ASCII or Unicode.
#[inline]
pub fn is_word_char(c: char) -> bool {
    // The blocks that web text uses most, answered without the Unicode tables' binary
    // searches; a test checks every code point against `char::is_alphanumeric`.
    match c as u32 {
        0..=0x7f => c.is_ascii_alphanumeric() || c == '_',
        // Latin-1 letters, all but the multiplication and division signs.
        0xc0..=0xff => c != '\u{d7}' && c != '\u{f7}',
        // General Punctuation (dashes, ellipsis, bullets, spaces), box drawing, and
        // pictographs and emoji.
        0x2000..=0x206f | 0x2500..=0x257f | 0x1f300..=0x1faff => false,
        // Basic Cyrillic, Greek and Hangul syllables: letters throughout.
        0x0400..=0x045f | 0x0391..=0x03a1 | 0x03a3..=0x03c9 | 0xac00..=0xd7a3 => true,
        // The rest of the Basic Multilingual Plane from a bitmap made once.
        cp if cp < 0x1_0000 => tables::bmp().is_word(c),
        _ => c.is_alphanumeric(),
    }
}

#[inline]
fn word_char_at(s: &str, i: usize) -> bool {
    let b = s.as_bytes()[i];
    if b < 0x80 {
        return b.is_ascii_alphanumeric() || b == b'_';
    }
    s[i..].chars().next().is_some_and(is_word_char)
}

#[inline]
fn word_char_before(s: &str, i: usize) -> bool {
    let b = s.as_bytes()[i - 1];
    if b < 0x80 {
        return b.is_ascii_alphanumeric() || b == b'_';
    }
    s[..i].chars().next_back().is_some_and(is_word_char)
}

fn word_end(s: &str, mut i: usize) -> usize {
    while i < s.len() && word_char_at(s, i) {
        i += s[i..].chars().next().map_or(1, char::len_utf8);
    }
    i
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod walk_tests;
