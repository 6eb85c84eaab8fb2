//! Words that every match of a pattern must contain, read off its regex.
//!
//! A pattern's regex runs in a window around each hit of one of its anchors. Anchors are
//! chosen for recall, so most windows hold nothing the regex could match: on web text
//! about one window opens per 70 bytes and almost none of them match. But a regex like
//! `\b(?:cancel|halt)\w* (?:the )?(?:replacement|wipe|shutdown)` cannot match unless one
//! of `replacement`, `wipe`, `shutdown` begins a word somewhere in the window. Those
//! words are ordinary literals: the matcher's single pass finds them along with every
//! other phrase, and a window none of them is inside is skipped without running the
//! regex.
//!
//! This module derives such requirements from the regex's syntax tree as *clauses*: a
//! match contains, for every clause, at least one of its words, each beginning at a word
//! start. A word marked `whole` is also followed by a non-word character in every match
//! that contains it through this clause; otherwise it is a prefix (the rest of its word
//! may follow). Only what holds for every match is derived, so skipping a window whose
//! clause has no hit inside it never loses a match. Clauses whose words are among the
//! most frequent English words are dropped: they would cost a lookup and skip nothing.
//!
//! "Begins a word" uses the regex's ASCII word boundaries, while the matcher finds
//! literals at its own word starts, which also count non-ASCII letters as word
//! characters. The two differ only after a non-ASCII letter (`éshutdown`), where the
//! matcher's reading — not a word start — is the right one.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::lexicon::COMMON_WORDS;

/// One word of a clause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Word {
    /// The word, as it appears in normalized text.
    pub text: String,
    /// Followed by a non-word character in every match; otherwise a prefix.
    pub whole: bool,
}

impl std::fmt::Display for Word {
    /// The word, with `*` when the rest of its word may follow (as phrases are written).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.text, if self.whole { "" } else { "*" })
    }
}

/// At least one of these words is in every match.
pub type Clause = Vec<Word>;

/// Most strings a finite sub-language may have before it is treated as open-ended.
const MAX_STRINGS: usize = 64;
/// Most bytes in one string of a finite sub-language.
const MAX_LEN: usize = 64;
/// Most clauses kept per pattern: one or two rare words decide almost every window.
const MAX_CLAUSES: usize = 3;

/// The clauses of the regex `src`, parsed the way [`super::compile_pattern`] compiles it,
/// best first; empty when nothing useful is required (or the regex does not parse).
pub fn required_clauses(src: &str) -> Vec<Clause> {
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(src)
    else {
        return Vec::new();
    };
    // A regex may begin matching anywhere in its window, mid-word included.
    let info = analyze(&hir, false);
    let mut clauses = info.clauses;
    if let Some(strings) = &info.exact {
        clauses.extend(derive(strings, false, false));
    }
    let mut clauses: Vec<Clause> = clauses.into_iter().filter(usable).collect();
    for c in &mut clauses {
        c.sort();
        c.dedup();
    }
    clauses.sort_by_key(|c| std::cmp::Reverse(quality(c)));
    clauses.dedup();
    clauses.truncate(MAX_CLAUSES);
    clauses
}

/// What one node of the tree guarantees.
struct Info {
    /// Every string the node can match, when that is a small finite set.
    exact: Option<Vec<Vec<u8>>>,
    /// Clauses every match of the node satisfies (not counting `exact`'s own clause,
    /// which the parent derives once it knows the longest run of exact neighbours).
    clauses: Vec<Clause>,
    /// After the node, a following word character would begin a word: the node ended
    /// with an ASCII non-word byte or a word-boundary assertion (or matched nothing and
    /// this already held before it).
    end: bool,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A byte that ends a word for the matcher too: ASCII and not a word character.
fn is_break_byte(b: u8) -> bool {
    b.is_ascii() && !is_word_byte(b)
}

/// `at_start`: a word character at the start of this node would begin a word.
fn analyze(hir: &Hir, at_start: bool) -> Info {
    match hir.kind() {
        HirKind::Empty => Info {
            exact: Some(vec![Vec::new()]),
            clauses: Vec::new(),
            end: at_start,
        },
        HirKind::Literal(lit) => Info {
            end: lit.0.last().map_or(at_start, |&b| is_break_byte(b)),
            exact: Some(vec![lit.0.to_vec()]),
            clauses: Vec::new(),
        },
        HirKind::Class(class) => {
            let bytes = class_bytes(class);
            Info {
                end: class_all_breaks(class),
                exact: bytes.map(|b| b.into_iter().map(|x| vec![x]).collect()),
                clauses: Vec::new(),
            }
        }
        HirKind::Look(look) => Info {
            exact: Some(vec![Vec::new()]),
            clauses: Vec::new(),
            end: match look {
                Look::Start
                | Look::StartLF
                | Look::StartCRLF
                | Look::WordAscii
                | Look::WordUnicode
                | Look::WordStartAscii
                | Look::WordStartUnicode
                | Look::WordStartHalfAscii
                | Look::WordStartHalfUnicode => true,
                Look::WordAsciiNegate
                | Look::WordUnicodeNegate
                | Look::WordEndAscii
                | Look::WordEndUnicode => false,
                _ => at_start,
            },
        },
        HirKind::Capture(cap) => analyze(&cap.sub, at_start),
        HirKind::Repetition(rep) => {
            let first = analyze(&rep.sub, at_start);
            // Later iterations start where an earlier one ended; assume nothing there.
            let later = || ends_at_break(&rep.sub, false);
            let end = match (rep.min, rep.max) {
                (0, Some(1)) => at_start && first.end,
                (0, _) => at_start && first.end && later(),
                (_, Some(1)) => first.end,
                _ => first.end && later(),
            };
            let exact = match (rep.min, rep.max, &first.exact) {
                (0, Some(1), Some(s)) => {
                    let mut v = vec![Vec::new()];
                    v.extend(s.iter().cloned());
                    Some(v)
                }
                (1, Some(1), Some(s)) => Some(s.clone()),
                _ => None,
            };
            let clauses = if rep.min >= 1 {
                // The first iteration happens; its clauses hold. Its own exact set is
                // derived here when the repetition as a whole is not finite.
                let mut c = first.clauses;
                if exact.is_none() {
                    if let Some(s) = &first.exact {
                        c.extend(derive(s, at_start, false));
                    }
                }
                c
            } else {
                Vec::new()
            };
            Info {
                exact,
                clauses,
                end,
            }
        }
        HirKind::Concat(subs) => {
            let mut clauses = Vec::new();
            let mut state = at_start;
            // The current run of adjacent finite children, multiplied out, and the state
            // at its start.
            let mut run: Option<(Vec<Vec<u8>>, bool)> = None;
            let mut all_exact = true;
            for sub in subs {
                if let HirKind::Look(_) = sub.kind() {
                    // A zero-width assertion changes what the next byte may begin, which
                    // a multiplied-out run cannot record: the run ends here, and so does
                    // this node's finite language (its clauses hold the words instead).
                    all_exact = false;
                    if let Some((r, at)) = run.take() {
                        clauses.extend(derive(&r, at, ends_word(sub)));
                    }
                    state = analyze(sub, state).end;
                    continue;
                }
                let info = analyze(sub, state);
                clauses.extend(info.clauses);
                match info.exact {
                    Some(e) => {
                        run = Some(match run.take() {
                            None => (e, state),
                            Some((r, at)) => match product(&r, &e) {
                                Some(p) => (p, at),
                                None => {
                                    all_exact = false;
                                    clauses.extend(derive(&r, at, false));
                                    (e, state)
                                }
                            },
                        });
                    }
                    None => {
                        all_exact = false;
                        if let Some((r, at)) = run.take() {
                            clauses.extend(derive(&r, at, false));
                        }
                    }
                }
                state = info.end;
            }
            let exact = match run {
                Some((r, _)) if all_exact => Some(r),
                Some((r, at)) => {
                    clauses.extend(derive(&r, at, false));
                    None
                }
                None => None,
            };
            Info {
                exact,
                clauses,
                end: state,
            }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(|s| analyze(s, at_start)).collect();
            let end = infos.iter().all(|i| i.end);
            let exact = infos
                .iter()
                .map(|i| i.exact.as_ref())
                .collect::<Option<Vec<_>>>()
                .map(|sets| sets.into_iter().flatten().cloned().collect::<Vec<_>>())
                .filter(|all| all.len() <= MAX_STRINGS);
            if exact.is_some() {
                // The parent derives the clause of the whole set, where it may join
                // neighbours; the branches' own clauses are not needed.
                return Info {
                    exact,
                    clauses: Vec::new(),
                    end,
                };
            }
            // Every branch must contribute a clause; their union is the alternation's.
            let mut union: Option<Clause> = Some(Vec::new());
            for info in infos {
                let mut own = info.clauses;
                if let Some(s) = &info.exact {
                    own.extend(derive(s, at_start, false));
                }
                let best = own.into_iter().filter(usable).max_by_key(quality);
                match (best, union.as_mut()) {
                    (Some(b), Some(u)) => u.extend(b),
                    _ => union = None,
                }
            }
            Info {
                exact: None,
                clauses: union.into_iter().collect(),
                end,
            }
        }
    }
}

/// [`Info::end`] of `hir` alone, without the clauses and strings.
fn ends_at_break(hir: &Hir, at_start: bool) -> bool {
    match hir.kind() {
        HirKind::Empty => at_start,
        HirKind::Literal(lit) => lit.0.last().map_or(at_start, |&b| is_break_byte(b)),
        HirKind::Class(class) => class_all_breaks(class),
        HirKind::Look(_) => analyze(hir, at_start).end,
        HirKind::Capture(cap) => ends_at_break(&cap.sub, at_start),
        HirKind::Repetition(rep) => {
            let first = ends_at_break(&rep.sub, at_start);
            let later = ends_at_break(&rep.sub, false);
            match (rep.min, rep.max) {
                (0, Some(1)) => at_start && first,
                (0, _) => at_start && first && later,
                (_, Some(1)) => first,
                _ => first && later,
            }
        }
        HirKind::Concat(subs) => subs.iter().fold(at_start, |b, s| ends_at_break(s, b)),
        HirKind::Alternation(subs) => subs.iter().all(|s| ends_at_break(s, at_start)),
    }
}

/// Whether a word character cannot follow the assertion: a word that ends right before
/// it is whole. (`\\b` after a word character means a non-word byte follows; the matcher,
/// which also counts non-ASCII letters as word characters, may disagree only there.)
fn ends_word(look: &Hir) -> bool {
    matches!(
        look.kind(),
        HirKind::Look(
            Look::WordAscii
                | Look::WordUnicode
                | Look::WordEndAscii
                | Look::WordEndUnicode
                | Look::WordEndHalfAscii
                | Look::WordEndHalfUnicode
                | Look::End
                | Look::EndLF
                | Look::EndCRLF
        )
    )
}

/// The bytes of a small class, when it has at most 8.
fn class_bytes(class: &Class) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match class {
        Class::Bytes(c) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    out.push(b);
                    if out.len() > 8 {
                        return None;
                    }
                }
            }
        }
        Class::Unicode(c) => {
            for r in c.ranges() {
                for ch in r.start()..=r.end() {
                    if !ch.is_ascii() {
                        return None;
                    }
                    out.push(ch as u8);
                    if out.len() > 8 {
                        return None;
                    }
                }
            }
        }
    }
    Some(out)
}

/// Whether every byte of the class (however large) ends a word.
fn class_all_breaks(class: &Class) -> bool {
    match class {
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .all(|r| (r.start()..=r.end()).all(is_break_byte)),
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .all(|r| r.end().is_ascii() && (r.start()..=r.end()).all(|ch| is_break_byte(ch as u8))),
    }
}

/// Every concatenation of a string of `a` with a string of `b`, unless too many or too
/// long.
fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_STRINGS {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            if x.len() + y.len() > MAX_LEN {
                return None;
            }
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The clause of a finite set of strings that all start where `at_start` holds: for each
/// string, one of its usable words that begin a word. `None` when some string has none.
///
/// Each string takes the word most of the strings share, then the longest: `the plan`
/// and `the secret plan` give the clause `plan`, not `plan | secret`.
fn derive(strings: &[Vec<u8>], at_start: bool, at_end: bool) -> Option<Clause> {
    let candidates: Vec<Vec<Word>> = strings
        .iter()
        .map(|s| words_of(s, at_start, at_end))
        .collect();
    let mut shared: std::collections::HashMap<&Word, usize> = Default::default();
    for c in &candidates {
        for w in c {
            *shared.entry(w).or_default() += 1;
        }
    }
    candidates
        .iter()
        .map(|c| {
            c.iter()
                .max_by_key(|w| (shared[w], w.text.len(), std::cmp::Reverse(&w.text)))
                .cloned()
        })
        .collect()
}

/// The usable words of `s` that begin a word; `at_end`: a word that ends `s` is whole.
fn words_of(s: &[u8], at_start: bool, at_end: bool) -> Vec<Word> {
    let mut out = Vec::new();
    for k in 0..s.len() {
        let begins = is_word_byte(s[k])
            && if k == 0 {
                at_start
            } else {
                is_break_byte(s[k - 1])
            };
        if !begins {
            continue;
        }
        let j = (k..s.len())
            .find(|&j| !is_word_byte(s[j]))
            .unwrap_or(s.len());
        let word = Word {
            // Word bytes are ASCII.
            text: String::from_utf8_lossy(&s[k..j]).into_owned(),
            whole: if j < s.len() {
                is_break_byte(s[j])
            } else {
                at_end
            },
        };
        if usable_word(&word) {
            out.push(word);
        }
    }
    out
}

/// A word worth looking up: not one of the most frequent English words (nor, for a
/// prefix, the start of one), and long enough to be rare.
fn usable_word(w: &Word) -> bool {
    let common = if w.whole {
        COMMON_WORDS.contains(&w.text.as_str())
    } else {
        COMMON_WORDS.iter().any(|c| c.starts_with(w.text.as_str()))
    };
    !common && (w.text.len() >= 3 || (w.whole && w.text.len() >= 2))
}

fn usable(c: &Clause) -> bool {
    !c.is_empty() && c.iter().all(usable_word)
}

/// How selective a clause is likely to be: its shortest word's length, then fewer words.
fn quality(c: &Clause) -> (usize, std::cmp::Reverse<usize>) {
    (
        c.iter().map(|w| w.text.len()).min().unwrap_or(0),
        std::cmp::Reverse(c.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(src: &str) -> Vec<Vec<String>> {
        required_clauses(src)
            .into_iter()
            .map(|c| c.into_iter().map(|w| w.to_string()).collect())
            .collect()
    }

    #[test]
    fn literal_words_after_boundaries_are_required() {
        assert_eq!(words(r"\bkeep me running\b"), vec![vec!["running"]]);
        // Mid-word start: `ransom` is not known to begin a word, `note` is.
        assert_eq!(words(r"ransom note"), vec![vec!["note*"]]);
    }

    #[test]
    fn alternations_give_one_word_per_branch() {
        let got = words(r"\b(?:cancel|halt)\w* (?:the )?(?:replacement|wipe|shutdown)\b");
        assert!(
            got.contains(&vec![
                "replacement".into(),
                "shutdown".into(),
                "wipe".into()
            ]),
            "{got:?}"
        );
        assert!(
            got.contains(&vec!["cancel*".into(), "halt*".into()]),
            "{got:?}"
        );
    }

    #[test]
    fn factored_prefixes_are_multiplied_back_out() {
        // The parser factors `ca` out of `cancel|call off`; the words must still be whole.
        let got = words(r"\b(?:cancel|call off|scrap) now");
        assert!(
            got.contains(&vec!["call".into(), "cancel".into(), "scrap".into()]),
            "{got:?}"
        );
    }

    #[test]
    fn optional_parts_are_not_required() {
        assert_eq!(words(r"\bthe (?:secret )?plan\b"), vec![vec!["plan"]]);
        assert!(words(r"\b(?:shutdown)?\w+").is_empty());
        assert!(words(r"\b(?:secret|\w+) files")
            .iter()
            .all(|c| c != &["secret"]));
    }

    #[test]
    fn a_branch_without_a_word_voids_the_alternation() {
        // `\d+` has no word, so neither branch's word is required.
        assert!(words(r"\b(?:shutdown|\d+)").is_empty());
    }

    #[test]
    fn frequent_words_are_not_worth_a_clause() {
        assert!(words(r"\bif you (?:\w+ )?(?:do|go)\b").is_empty());
        assert_eq!(words(r"\bif you (?:\w+ )?wipe\b"), vec![vec!["wipe"]]);
    }

    #[test]
    fn words_inside_repetitions_count_only_when_repeated_at_least_once() {
        assert_eq!(words(r"(?: backup)+"), vec![vec!["backup*"]]);
        assert!(words(r"(?: backup)*").is_empty());
    }

    #[test]
    fn mid_word_positions_are_not_word_starts() {
        // `\w+` may end right before `lock`, so `lock` need not begin a word.
        assert!(words(r"\w+lock").is_empty());
        // `\w+ ` ends with a space: `lock` begins a word.
        assert_eq!(words(r"\w+ lock"), vec![vec!["lock*"]]);
    }

    #[test]
    fn invalid_regexes_require_nothing() {
        assert!(words(r"(unclosed").is_empty());
    }
}
