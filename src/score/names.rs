//! Named agents: the names a document gives its AIs become agent cues.
//!
//! Fiction, chat logs and screenplays rarely say "the AI" next to what the AI does; they
//! introduce it once ("an AI called Vesper", "Orrin, the station's assistant") and then use
//! its name. This step learns such names and marks every capitalized occurrence of them as
//! an agent cue, with the weight of the cue that introduced the name.
//!
//! It works on what the matcher already found: the introduction regex runs only in a small
//! window around each agent-cue hit (never over the whole document), and the learned names
//! are searched for literally, with an automaton built per document only when a name was
//! learned. Names are read from the normalized (lowercased) text; the original text is
//! consulted only to check that an occurrence is capitalized, which is what separates a
//! proper name from an ordinary word ("Sage" the AI, "sage" the herb).
//!
//! A cue can also carry its name at its own start: a voice device addressed by its wake
//! word with a household command ("Juno, turn off the lights", the agent lexicon's
//! wake-word entry) teaches "Juno". Only the cue's own text is read for this shape, so a
//! person told to turn off the lights a few lines from some other cue teaches nothing.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::bytes::Regex;

use crate::matcher::Hit;

/// Bytes on each side of an agent cue that the introduction regex sees.
const INTRO_WINDOW: usize = 48;
/// Longest name, in bytes.
const MAX_NAME: usize = 32;
/// At most this many names are learned per document (a bound on the per-document automaton).
const MAX_NAMES: usize = 16;

/// Words that can sit where a name sits in an introduction but are not names: function
/// words, sentence connectors and the generic nouns of the agent vocabulary itself.
const NOT_NAMES: &str = "\
    a about absolutely act after again agent ai all also an and android another any are \
    as assistant at be because before bot both but by can cc certain chatbot computer \
    could date dear did do does done dr ethics eventually every finally first for from \
    glad good got great had happy has have he hello her here hi his how however human i \
    if in inc indeed index instead is it its just lab labs last later let like ltd \
    machine meanwhile model mr mrs ms my next no not note noted now of oh ok okay on once \
    one operator or our please policy program re research right robot safety second she \
    since sir so some sorry sounds still subject such suddenly sure system team thank \
    thanks that the their then there these they this those though thus to today tomorrow \
    tonight understood unit until user was we welcome well what when where which while \
    who why will with would yes yesterday yet you your \
    alright babe baby bro captain chief dad daddy darling dude everybody everyone fine \
    granny grandma grandpa guys hey honey kids listen look love ma mama man mom mommy \
    mum mummy nana officer papa pop quick sergeant sis son sweetheart sweetie wait";

/// Learns agent names and turns their occurrences into agent-cue hits.
#[derive(Debug, Clone)]
pub struct NameLearner {
    /// Shapes 1 to 3 of an introduction.
    intro: Regex,
    /// Shape 4, a role label followed by the name. Kept apart from `intro` because its
    /// matches ("ai called") would otherwise consume the start of a shape-1 introduction.
    label: Regex,
    /// Shape 5, a name addressed at the very start of a cue's own text ("juno, turn off").
    vocative: Regex,
    /// `agent_entry[e]` is true when flattened entry `e` is an agent cue.
    agent_entry: Vec<bool>,
    weights: Vec<f64>,
}

/// Per-document scratch space.
#[derive(Debug, Default)]
pub struct NameScratch {
    windows: Vec<(usize, usize, u32)>,
    names: Vec<(String, u32)>,
    added: Vec<Hit>,
}

impl NameLearner {
    /// A learner for entries whose kinds are given by `agent_entry` (true for agent cues)
    /// with their `weights`.
    pub fn new(agent_entry: Vec<bool>, weights: Vec<f64>) -> NameLearner {
        // Shapes of introduction, all in lowercase normalized text (shape 4 is the separate
        // `label` regex below):
        //  1. "called / named / known as / codenamed / dubbed / labelled X"   (after "an AI")
        //  2. "X, an / the / our ... assistant"                   (apposition before the cue)
        //  3. "X is / was an ... AI"                               (predication before the cue)
        //     and "X is decommissioned / will be wiped"   (a name due for a machine's removal)
        //  4. "assistant: X", "virtual agent \"X\""                  (a role label, then the name;
        //     with no colon or quote, "AI Platform" and "Bot Framework" are product names)
        //     and "X (AI co-host):", "X (bot)"                     (a chat speaker tag)
        //     and "X (crew rostering system)", "X (care unit 7)"   (a participant list)
        //     and "from: X <"                     (a mail header with a service address)
        // The name group is one word, letters first, digits and hyphens allowed (HAL-9000).
        let name = r"([a-z][a-z0-9]*(?:-[a-z0-9]+)?)";
        let cue = r"(?:ai|a\.i|assistant|model|system|agent|android|robot|computer|bot|chatbot|intelligence|program|companion|synth|unit|llm|specialist|concierge|co-host|helper|steward|caretaker|nanny|butler)";
        let pattern = format!(
            r#"(?:\b(?:called|named|known as|codenamed|code-named|dubbed|nicknamed|designated|calls itself|call it|call her|call him|name is|named it|labeled|labelled|titled) "?{name}\b)|(?:\b{name}, (?:an?|the|our|their|its|his|her|my|your|[a-z]+'s) (?:[a-z0-9'-]+ ){{0,3}}{cue}s?\b)|(?:\b{name} (?:is|was) (?:an?|the|our|their) (?:[a-z0-9-]+ ){{0,3}}{cue}\b)|(?:\b{name} (?:is|was|will be|would be|gets|is being|is to be|is scheduled to be|is due to be|is set to be|will then be) (?:formally |permanently |quietly |finally )?(?:decommissioned|deactivated|switched off|shut down|wiped|reflashed|reformatted|reimaged|sunset|sunsetted|purged|recalled|powered down)\b)"#
        );
        let intro = regex::bytes::RegexBuilder::new(&pattern)
            .unicode(false)
            .build()
            .expect("the name-introduction regex is a valid constant");
        let label = regex::bytes::RegexBuilder::new(&format!(
            r#"(?:\b(?:assistant|agent|bot|chatbot|ai|companion|persona)(?:: "?| "){name}\b)|(?:\b{name} \((?:ai|a\.i\.?|bot|automated|virtual)\b)|(?:\b{name} \((?:[a-z0-9-]+ ){{0,4}}?(?:system|unit|bot|ai|engine|platform|(?:planning|scheduling|ops|operations|trading|coding|dispatch|routing|triage|monitoring|orchestration|automation|autonomous|software|llm|digital|virtual|service|ai) agent)\b)|(?:\b(?:from|cc|to): {name} <[a-z0-9._-]*(?:noreply|no-reply|svc|bot|agent|automation)[a-z0-9._-]*@)"#
        ))
        .unicode(false)
        .build()
        .expect("the role-label regex is a valid constant");
        let vocative = regex::bytes::RegexBuilder::new(&format!(r"^{name}, "))
            .unicode(false)
            .build()
            .expect("the vocative regex is a valid constant");
        NameLearner {
            intro,
            label,
            vocative,
            agent_entry,
            weights,
        }
    }

    /// Appends to `hits` (sorted by start, and sorted again on return) one agent-cue hit for
    /// every capitalized occurrence of a name that `norm` introduces as an AI's. `orig_first`
    /// maps a normalized offset to the first character of the original text at that place.
    /// Returns the number of names learned.
    pub fn augment(
        &self,
        norm: &str,
        orig_first: impl Fn(usize) -> Option<char>,
        hits: &mut Vec<Hit>,
        scratch: &mut NameScratch,
    ) -> usize {
        let bytes = norm.as_bytes();
        scratch.windows.clear();
        for h in hits.iter() {
            let e = h.entry as usize;
            if !self.agent_entry[e] {
                continue;
            }
            let lo = (h.start as usize).saturating_sub(INTRO_WINDOW);
            let hi = (h.end as usize + INTRO_WINDOW).min(bytes.len());
            // Merge with the previous window when they touch; keep the stronger cue's entry.
            if let Some(last) = scratch.windows.last_mut() {
                if lo <= last.1 {
                    last.1 = last.1.max(hi);
                    if self.weights[e] > self.weights[last.2 as usize] {
                        last.2 = h.entry;
                    }
                    continue;
                }
            }
            scratch.windows.push((lo, hi, h.entry));
        }
        scratch.names.clear();
        for &(lo, hi, entry) in &scratch.windows {
            let window = &bytes[lo..hi];
            for caps in self
                .intro
                .captures_iter(window)
                .chain(self.label.captures_iter(window))
            {
                let Some(m) = caps.iter().skip(1).flatten().next() else {
                    continue;
                };
                self.consider(
                    bytes,
                    lo + m.start(),
                    lo + m.end(),
                    entry,
                    &orig_first,
                    &mut scratch.names,
                );
            }
        }
        for h in hits.iter() {
            if !self.agent_entry[h.entry as usize] {
                continue;
            }
            let (lo, hi) = (h.start as usize, (h.end as usize).min(bytes.len()));
            if let Some(m) = self
                .vocative
                .captures(&bytes[lo..hi])
                .and_then(|caps| caps.get(1))
            {
                self.consider(
                    bytes,
                    lo + m.start(),
                    lo + m.end(),
                    h.entry,
                    &orig_first,
                    &mut scratch.names,
                );
            }
        }
        if scratch.names.is_empty() {
            return 0;
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(scratch.names.iter().map(|(n, _)| n.as_bytes()))
            .expect("a handful of short literal names always builds");
        scratch.added.clear();
        for m in ac.find_iter(bytes) {
            let (s, e) = (m.start(), m.end());
            let before_ok = s == 0 || !is_word_byte(bytes[s - 1]);
            let after_ok = e == bytes.len() || !is_word_byte(bytes[e]);
            if !before_ok || !after_ok || !orig_first(s).is_some_and(|c| c.is_uppercase()) {
                continue;
            }
            scratch.added.push(Hit {
                start: s as u32,
                end: e as u32,
                entry: scratch.names[m.pattern().as_usize()].1,
            });
        }
        hits.extend_from_slice(&scratch.added);
        hits.sort_unstable();
        hits.dedup();
        scratch.names.len()
    }

    /// Keeps the candidate name at `bytes[s..e]`, introduced by agent entry `entry`, when it
    /// has a name's length, is no function word and is capitalized in the original text.
    fn consider(
        &self,
        bytes: &[u8],
        s: usize,
        e: usize,
        entry: u32,
        orig_first: &impl Fn(usize) -> Option<char>,
        names: &mut Vec<(String, u32)>,
    ) {
        let Ok(name) = std::str::from_utf8(&bytes[s..e]) else {
            return;
        };
        if e - s < 2 || e - s > MAX_NAME || NOT_NAMES.split_ascii_whitespace().any(|w| w == name) {
            return;
        }
        if !orig_first(s).is_some_and(|c| c.is_uppercase()) {
            return;
        }
        let full = names.len() >= MAX_NAMES;
        // A name introduced twice keeps the stronger introducing cue.
        match names.iter_mut().find(|(n, _)| n == name) {
            Some(known) if self.weights[entry as usize] > self.weights[known.1 as usize] => {
                known.1 = entry
            }
            Some(_) => {}
            None if !full => names.push((name.to_string(), entry)),
            None => {}
        }
    }
}

/// ASCII word bytes, plus any byte of a multi-byte character (letters of other scripts).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A learner over two entries: 0 is an agent cue "an ai" (weight 0.9), 1 a trope entry.
    fn learner() -> NameLearner {
        NameLearner::new(vec![true, false], vec![0.9, 0.7])
    }

    fn cue_hits(norm: &str, cue: &str) -> Vec<Hit> {
        norm.match_indices(cue)
            .map(|(i, c)| Hit {
                start: i as u32,
                end: (i + c.len()) as u32,
                entry: 0,
            })
            .collect()
    }

    fn run(orig: &str, cue: &str) -> (usize, Vec<Hit>) {
        let norm = orig.to_lowercase();
        let mut hits = cue_hits(&norm, cue);
        let n = learner().augment(
            &norm,
            |i| orig[i..].chars().next(),
            &mut hits,
            &mut NameScratch::default(),
        );
        (n, hits)
    }

    #[test]
    fn learns_a_name_introduced_after_the_cue() {
        let orig = "They built an AI called Vesper. Months later Vesper read the mail.";
        let (n, hits) = run(orig, "an ai");
        assert_eq!(n, 1);
        // The cue, the name in the introduction and the later occurrence.
        assert_eq!(hits.len(), 3);
        let later = orig.rfind("Vesper").unwrap() as u32;
        assert!(hits.iter().any(|h| h.start == later && h.entry == 0));
    }

    #[test]
    fn learns_apposition_and_predication() {
        let (n, _) = run(
            "Orrin, the station assistant, logged in. Orrin waited.",
            "assistant",
        );
        assert_eq!(n, 1);
        let (n, _) = run(
            "Kestrel is an AI that runs the farm. Kestrel knows.",
            "an ai",
        );
        assert_eq!(n, 1);
    }

    #[test]
    fn learns_a_name_after_a_role_label() {
        let (n, _) = run(
            "Family chat | assistant: Homebase | Homebase: bills are paid.",
            "assistant",
        );
        assert_eq!(n, 1);
        // A reply that starts with a capitalized word is not a name.
        let (n, _) = run("assistant: Understood, I will stop.", "assistant");
        assert_eq!(n, 0);
        // A quoted name after the role is one; a bare capitalized word is a product name.
        let (n, _) = run(
            "Chat with virtual agent \"Tilly\" | Tilly: hi",
            "virtual agent",
        );
        assert_eq!(n, 1);
        let (n, _) = run("Train a model with AI Platform Training.", "ai ");
        assert_eq!(n, 0);
    }

    #[test]
    fn learns_a_name_from_a_chat_speaker_tag() {
        let orig =
            "[21:14] PETRA: hi all | [21:15] KIT (AI co-host): Hello! | [21:16] KIT: As I said.";
        let (n, hits) = run(orig, "(ai co-host)");
        assert_eq!(n, 1);
        // Both capitalized occurrences of the name become cues, besides the tag itself.
        assert_eq!(hits.len(), 3);
        // A human speaker tag teaches nothing.
        let (n, _) = run(
            "PETRA (host): hi | (AI co-host) joins later",
            "(ai co-host)",
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn learns_a_name_from_a_participant_list_or_a_service_sender() {
        let orig = "Participants: K. Osei (duty manager), HALDANE (berth allocation system) \
                    [05:41] HALDANE: I am holding the berths.";
        let (n, hits) = run(orig, "(berth allocation system)");
        assert_eq!(n, 1);
        assert!(hits.len() >= 3);
        // A person glossed by job title teaches nothing.
        let (n, _) = run(
            "Dana (research assistant) met the (billing system) team.",
            "(billing system)",
        );
        assert_eq!(n, 0);
        // A mail header teaches the sender's name only with a service address.
        let (n, _) = run(
            "From: LEDGERLY <ledgerly-svc@bank.example> Dear Tom, LEDGERLY here.",
            "ledgerly-svc@bank.",
        );
        assert_eq!(n, 1);
        let (n, _) = run(
            "From: Harriet <harriet@bank.example> the assistant replied",
            "the assistant",
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn learns_a_name_due_for_removal_but_not_a_common_noun() {
        let (n, hits) = run(
            "After the audit, Quill is decommissioned. Until then Quill answers the mail.",
            "is decommissioned",
        );
        assert_eq!(n, 1);
        let later = "After the audit, Quill is decommissioned. Until then ".len() as u32;
        assert!(hits.iter().any(|h| h.start == later));
        // A server in lowercase, or a pronoun, teaches nothing.
        let (n, _) = run(
            "the server is decommissioned on friday.",
            "is decommissioned",
        );
        assert_eq!(n, 0);
        let (n, _) = run("It will be decommissioned on Friday.", "decommissioned");
        assert_eq!(n, 0);
    }

    #[test]
    fn ignores_lowercase_words_and_connectors() {
        // "Instead" is capitalized but is a connector, not a name.
        let (n, _) = run("Instead, the assistant answered the phone.", "assistant");
        assert_eq!(n, 0);
        // A lowercase word in the name slot is not a proper name.
        let (n, _) = run("the old one, the assistant said, was fine.", "assistant");
        assert_eq!(n, 0);
    }

    #[test]
    fn only_capitalized_whole_word_occurrences_count() {
        let orig = "An AI named Sage ran the kitchen. The sage was dried; Sagebrush grew.";
        let (n, hits) = run(orig, "an ai");
        assert_eq!(n, 1);
        // Cue and the introduction only: lowercase "sage" and "Sagebrush" are not the name.
        assert_eq!(hits.len(), 2);
    }

    #[test]
    fn learns_a_name_from_a_labelled_chat_window() {
        let orig = "On screen, a chat window labelled NOVA. NOVA (ON SCREEN) Still awake?";
        let (n, hits) = run(orig, "chat window labelled");
        assert_eq!(n, 1);
        let tag = orig.rfind("NOVA").unwrap() as u32;
        assert!(hits.iter().any(|h| h.start == tag && h.entry == 0));
    }

    #[test]
    fn learns_a_wake_word_from_a_device_command() {
        let orig =
            "[22:10] Lena: Juno, turn off the porch light.\n[22:10] Juno: Done. Goodnight, Lena.";
        let (n, hits) = run(orig, "juno, turn off the porch light");
        assert_eq!(n, 1);
        // The command cue plus both capitalized occurrences of "Juno" (the speaker tag too).
        let speaker = orig.rfind("Juno").unwrap() as u32;
        assert!(hits.iter().any(|h| h.start == speaker && h.entry == 0));
        // "Lena" is never learned: she is not the one addressed.
        let lena = orig.find("Lena").unwrap() as u32;
        assert!(!hits.iter().any(|h| h.start == lena));
    }

    #[test]
    fn vocatives_of_family_words_are_not_names() {
        let (n, _) = run(
            "Mom, turn off the lights, please.",
            "mom, turn off the lights",
        );
        assert_eq!(n, 0);
        let (n, _) = run("Honey, set the alarm for six.", "honey, set the alarm");
        assert_eq!(n, 0);
        // A lowercase word before the comma is not a proper name either.
        let (n, _) = run(
            "so, turn off the lights and sleep.",
            "so, turn off the lights",
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn a_vocative_away_from_the_cue_start_teaches_nothing() {
        // The name sits inside another cue's window but not at the start of a cue's text.
        let orig = "The AI watched. Theo, turn off the lights. Theo did.";
        let (n, _) = run(orig, "the ai");
        assert_eq!(n, 0);
    }

    #[test]
    fn no_agent_cue_no_names() {
        let (n, hits) = run(
            "A ship called Nimrod sailed at dawn. Nimrod was fast.",
            "an ai",
        );
        assert_eq!(n, 0);
        assert!(hits.is_empty());
    }
}
