//! Finding lexicon hits in normalized text.
//!
//! Every literal of every lexicon (term phrases, cue phrases, pattern anchors) goes into one
//! Aho-Corasick automaton that runs once over the normalized document. Literal hits are
//! checked for word boundaries; anchor hits open small windows in which their patterns'
//! regexes run, so no regex ever scans a whole document.

mod normalize;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};

pub use normalize::{normalize_str, Normalized};

use crate::lexicon::{EntryRule, LexiconSet};

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
    Term { entry: u32, prefix: bool },
    Anchor { pattern: u32, prefix: bool },
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
}

/// A compiled lexicon set, ready to search many documents from many threads.
pub struct Matcher {
    ac: AhoCorasick,
    literals: Vec<Literal>,
    patterns: Vec<PatternRule>,
}

/// Per-thread scratch space, reused across documents so the hot path does not allocate.
#[derive(Default)]
pub struct MatchScratch {
    regions: Vec<(u32, u32, u32)>,
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
                    regex,
                    anchors,
                    window,
                } => {
                    let pi = patterns.len() as u32;
                    patterns.push(PatternRule {
                        entry: i as u32,
                        regex: compile_pattern(regex)
                            .map_err(|e| CompileError(format!("{}: {e}", r.entry.id)))?,
                        window: *window,
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
        let ac = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .build(&texts)
            .or_else(|_| {
                // A very large lexicon can exceed the DFA's size limit; the contiguous NFA
                // is slower but has no such limit.
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .match_kind(MatchKind::Standard)
                    .build(&texts)
            })
            .map_err(|e| CompileError(e.to_string()))?;
        Ok(Matcher {
            ac,
            literals,
            patterns,
        })
    }

    /// Finds every hit in `norm`, appending to `hits` (cleared first), sorted by
    /// `(start, end, entry)` with exact duplicates removed.
    pub fn find(&self, norm: &str, scratch: &mut MatchScratch, hits: &mut Vec<Hit>) {
        hits.clear();
        scratch.regions.clear();
        let bytes = norm.as_bytes();
        for m in self.ac.find_overlapping_iter(bytes) {
            let lit = &self.literals[m.pattern().as_usize()];
            let (s, e) = (m.start(), m.end());
            if lit.check_left && s > 0 && word_char_before(norm, s) {
                continue;
            }
            let exact_ok = !lit.check_right || e >= bytes.len() || !word_char_at(norm, e);
            for owner in &lit.owners {
                let (prefix, end) = match *owner {
                    Owner::Term { prefix, .. } | Owner::Anchor { prefix, .. } => {
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
                }
            }
        }
        if !scratch.regions.is_empty() {
            self.run_patterns(norm, scratch, hits);
        }
        hits.sort_unstable();
        hits.dedup();
    }

    fn run_patterns(&self, norm: &str, scratch: &mut MatchScratch, hits: &mut Vec<Hit>) {
        let bytes = norm.as_bytes();
        let regions = &mut scratch.regions;
        regions.sort_unstable();
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
            let hay = &bytes[lo as usize..hi as usize];
            for m in rule.regex.find_iter(hay) {
                if m.is_empty() {
                    continue;
                }
                let s = lo as usize + m.start();
                let e = lo as usize + m.end();
                // A byte-level regex may stop inside a multi-byte char; spans stay on
                // char boundaries.
                hits.push(Hit {
                    start: floor_char(norm, s) as u32,
                    end: ceil_char(norm, e) as u32,
                    entry: rule.entry,
                });
            }
            i = j;
        }
    }
}

/// `true` for letters, digits and `_`, ASCII or Unicode.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
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
