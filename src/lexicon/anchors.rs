//! A cost check on pattern anchors: anchors that are very common words.
//!
//! A pattern's regex runs in a window of `window` bytes each side of every hit of one of
//! its anchors. When an anchor is a word that every English text is full of (`to`, `if`,
//! `will`), the windows of that one pattern cover most of every document, and a few such
//! patterns cost more than all the rest of a scan. Anchoring the pattern on its rarest
//! required word instead gives the same matches at a fraction of the cost. This check
//! names the anchors that are among the most frequent English words; it cannot judge
//! rarer words, whose frequency depends on the corpus. Patterns whose regex requires a
//! rarer word (see [`crate::matcher::required`]) or that list `requires` are not named:
//! their windows mostly cost a lookup.

use super::{EntryRule, LexiconSet};

/// About the 120 most frequent words of English text (function words, auxiliaries,
/// pronouns and the commonest verbs), normalized.
pub(crate) const COMMON_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "back", "be",
    "because", "been", "but", "by", "can", "come", "could", "day", "did", "do", "does", "even",
    "first", "for", "from", "get", "give", "go", "good", "had", "has", "have", "he", "her", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "like", "look",
    "made", "make", "may", "me", "might", "more", "most", "my", "new", "no", "not", "now", "of",
    "on", "once", "one", "only", "or", "other", "our", "out", "over", "said", "say", "see", "set",
    "she", "should", "so", "some", "take", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "think", "this", "time", "to", "two", "up", "us", "use", "used", "very",
    "want", "was", "way", "we", "well", "were", "what", "when", "which", "who", "will", "with",
    "work", "would", "year", "you", "your",
];

/// One anchor that is a very common word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrequentAnchor {
    /// The pattern's entry id.
    pub entry: String,
    /// The name of the lexicon file the pattern is in.
    pub file: String,
    /// The anchor as written (`*` included for prefix anchors).
    pub anchor: String,
    /// The pattern's window, in bytes each side.
    pub window: usize,
}

/// Every pattern anchor of `set` that is one of the most frequent English words (or, for a
/// prefix anchor, a prefix of one), in entry order.
pub fn frequent_anchors(set: &LexiconSet) -> Vec<FrequentAnchor> {
    let mut out = Vec::new();
    for (_, r) in set.entries() {
        let EntryRule::Pattern {
            required,
            anchors,
            window,
            requires,
            ..
        } = &r.entry.rule
        else {
            continue;
        };
        // With `requires`, or words the regex itself requires, a frequent anchor opens
        // windows that mostly cost a lookup, not a regex search.
        if !requires.is_empty() || !required.is_empty() {
            continue;
        }
        for a in anchors {
            let common = if a.prefix {
                COMMON_WORDS.iter().any(|w| w.starts_with(a.text.as_str()))
            } else {
                COMMON_WORDS.contains(&a.text.as_str())
            };
            if common {
                // The file name alone: the same lexicons read from a folder or embedded
                // in the binary give the same report.
                let file = std::path::Path::new(&r.lexicon.file)
                    .file_name()
                    .map_or_else(
                        || r.lexicon.file.clone(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                out.push(FrequentAnchor {
                    entry: r.entry.id.clone(),
                    file,
                    anchor: a.to_string(),
                    window: *window,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_word_list_is_normalized_sorted_and_unique() {
        let mut sorted = COMMON_WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, COMMON_WORDS);
        for w in COMMON_WORDS {
            assert_eq!(crate::matcher::normalize_str(w), *w);
        }
    }
}
