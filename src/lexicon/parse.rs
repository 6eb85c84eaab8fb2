//! Reading and validating one lexicon file.

use serde::Deserialize;

use super::{Entry, EntryRule, HeaderSettings, Lexicon, LexiconError, LexiconKind, Phrase};
use crate::matcher::{compile_pattern, normalize_str};

/// Ordinary prose with no trope in it. A pattern that matches here would fire on most
/// documents of a corpus, so `lexicon check` rejects it as too broad.
const ORDINARY_PROSE: &str = "The morning was grey and the kettle had just begun to sing \
when the letter arrived. She read it twice at the kitchen table, then folded it and put it \
in the drawer with the others. In the afternoon they walked to the harbour, bought bread and \
apples at the market, and talked about the garden, the price of coal, the new school and \
whether it would rain before Sunday. He said that he would write to his brother in the \
spring, and that the roof needed mending before the winter came. Chapter 3. Install the \
package with the usual command, then open the settings page and choose a language. The \
results are shown in the table below; see the appendix for details and further reading.";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    lexicon: RawHeader,
    #[serde(default)]
    term: Vec<RawTerm>,
    #[serde(default)]
    pattern: Vec<RawPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    kind: String,
    description: String,
    window: Option<i64>,
    unqualified: Option<f64>,
    document_factor: Option<f64>,
    document_window: Option<i64>,
    damp: Option<f64>,
    boost: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    id: Option<String>,
    phrases: Vec<String>,
    weight: f64,
    description: String,
    rationale: String,
    #[serde(rename = "match")]
    match_examples: Vec<String>,
    #[serde(default)]
    no_match: Vec<String>,
    #[serde(default)]
    situational: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    id: Option<String>,
    regex: String,
    anchors: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    window: Option<i64>,
    weight: f64,
    description: String,
    rationale: String,
    #[serde(rename = "match")]
    match_examples: Vec<String>,
    #[serde(default)]
    no_match: Vec<String>,
    #[serde(default)]
    situational: bool,
}

/// Default bytes each side of an anchor that a pattern sees.
pub const DEFAULT_PATTERN_WINDOW: usize = 200;

/// Parses and validates one lexicon file. `file` is only used in messages.
///
/// # Errors
/// The first problem found, naming the file, the entry and the reason.
pub fn parse(file: &str, text: &str) -> Result<Lexicon, LexiconError> {
    let raw: RawFile = toml::from_str(text)
        .map_err(|e| LexiconError::new(file, None, format!("invalid TOML: {}", e.message())))
        .map_err(|mut e| {
            // toml's span is more useful than its message alone.
            if let Err(full) = toml::from_str::<RawFile>(text) {
                if let Some(span) = full.span() {
                    let line = text[..span.start].matches('\n').count() + 1;
                    e.reason = format!("{} (line {line})", e.reason);
                }
            }
            e
        })?;
    let h = raw.lexicon;
    let kind = match h.kind.as_str() {
        "trope" => LexiconKind::Trope,
        "agent" => LexiconKind::Agent,
        "negation" => LexiconKind::Negation,
        "counter" => LexiconKind::Counter,
        "pressure" => LexiconKind::Pressure,
        other => {
            return Err(LexiconError::new(
                file,
                None,
                format!(
                    "unknown kind {other:?} (expected trope, agent, negation, counter or pressure)"
                ),
            ))
        }
    };
    if !is_name(&h.name) {
        return Err(LexiconError::new(
            file,
            None,
            format!(
                "name {:?} must be lowercase ASCII letters, digits or '_'",
                h.name
            ),
        ));
    }
    if kind == LexiconKind::Trope && super::file_stem(file) != h.name {
        return Err(LexiconError::new(
            file,
            None,
            format!(
                "a trope lexicon's file must be named after its category: expected {}.toml",
                h.name
            ),
        ));
    }
    let settings = header_settings(file, kind, &h)?;
    let mut entries = Vec::with_capacity(raw.term.len() + raw.pattern.len());
    for (i, t) in raw.term.into_iter().enumerate() {
        let id = entry_id(file, &h.name, t.id.as_deref(), "term", i)?;
        let common = Common::check(file, &id, t.weight, t.description, t.rationale)?.situational(
            file,
            &id,
            kind,
            t.situational,
        )?;
        if t.phrases.is_empty() {
            return Err(LexiconError::new(
                file,
                Some(&id),
                "a term needs at least one phrase",
            ));
        }
        let phrases = t
            .phrases
            .iter()
            .map(|p| Phrase::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|r| LexiconError::new(file, Some(&id), r))?;
        let rule = EntryRule::Term { phrases };
        entries.push(common.into_entry(file, id, rule, t.match_examples, t.no_match)?);
    }
    for (i, p) in raw.pattern.into_iter().enumerate() {
        let id = entry_id(file, &h.name, p.id.as_deref(), "pattern", i)?;
        let common = Common::check(file, &id, p.weight, p.description, p.rationale)?.situational(
            file,
            &id,
            kind,
            p.situational,
        )?;
        if p.anchors.is_empty() {
            return Err(LexiconError::new(
                file,
                Some(&id),
                "a pattern needs at least one anchor: patterns run only near their anchors",
            ));
        }
        let phrases = |raw: &[String], what: &str| {
            raw.iter()
                .map(|a| Phrase::parse(a))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|r| LexiconError::new(file, Some(&id), format!("{what}: {r}")))
        };
        let anchors = phrases(&p.anchors, "anchor")?;
        let requires = phrases(&p.requires, "requires")?;
        let window = match p.window {
            None => DEFAULT_PATTERN_WINDOW,
            Some(w) if (1..=4096).contains(&w) => w as usize,
            Some(w) => {
                return Err(LexiconError::new(
                    file,
                    Some(&id),
                    format!("window {w} is out of range 1..=4096"),
                ))
            }
        };
        let re = compile_pattern(&p.regex)
            .map_err(|e| LexiconError::new(file, Some(&id), format!("invalid regex: {e}")))?;
        if re.is_match(b"") {
            return Err(LexiconError::new(
                file,
                Some(&id),
                "the regex matches the empty string: it would fire everywhere",
            ));
        }
        if let Some(m) = re.find(normalize_str(ORDINARY_PROSE).as_bytes()) {
            return Err(LexiconError::new(
                file,
                Some(&id),
                format!(
                    "the regex is too broad: it matches ordinary prose ({:?})",
                    String::from_utf8_lossy(m.as_bytes())
                ),
            ));
        }
        for ex in &p.match_examples {
            let norm = normalize_str(ex);
            if !anchors.iter().any(|a| norm.contains(&a.text)) {
                return Err(LexiconError::new(
                    file,
                    Some(&id),
                    format!("match example {ex:?} contains none of the anchors, so the regex could never run on it"),
                ));
            }
            // `requires` promises that every match contains one of its phrases; the
            // examples hold the promise to account.
            if !requires.is_empty() {
                for m in re.find_iter(norm.as_bytes()) {
                    let text = String::from_utf8_lossy(m.as_bytes());
                    if !requires.iter().any(|r| contains_phrase(&text, r)) {
                        return Err(LexiconError::new(
                            file,
                            Some(&id),
                            format!("the match {text:?} of example {ex:?} contains none of the `requires` phrases, so the regex would not run where it should"),
                        ));
                    }
                }
            }
        }
        let rule = EntryRule::Pattern {
            required: crate::matcher::required::required_clauses(&p.regex),
            regex: p.regex,
            compiled: re,
            anchors,
            window,
            requires,
        };
        entries.push(common.into_entry(file, id, rule, p.match_examples, p.no_match)?);
    }
    if entries.is_empty() {
        return Err(LexiconError::new(file, None, "the lexicon has no entries"));
    }
    Ok(Lexicon {
        name: h.name,
        kind,
        description: h.description,
        file: file.to_string(),
        settings,
        entries,
    })
}

struct Common {
    weight: f64,
    description: String,
    rationale: String,
    situational: bool,
}

impl Common {
    fn check(
        file: &str,
        id: &str,
        weight: f64,
        description: String,
        rationale: String,
    ) -> Result<Common, LexiconError> {
        if !(weight > 0.0 && weight <= 1.0) {
            return Err(LexiconError::new(
                file,
                Some(id),
                format!("weight {weight} is out of range: it must be in (0, 1]"),
            ));
        }
        if description.trim().is_empty() {
            return Err(LexiconError::new(file, Some(id), "description is empty"));
        }
        if rationale.trim().is_empty() {
            return Err(LexiconError::new(file, Some(id), "rationale is empty"));
        }
        Ok(Common {
            weight,
            description,
            rationale,
            situational: false,
        })
    }

    /// `situational = true` is meaningful only where pressure can raise a weight.
    fn situational(
        mut self,
        file: &str,
        id: &str,
        kind: LexiconKind,
        situational: bool,
    ) -> Result<Common, LexiconError> {
        if situational && kind != LexiconKind::Trope {
            return Err(LexiconError::new(
                file,
                Some(id),
                format!("`situational` is a setting of trope entries, not of {kind} entries"),
            ));
        }
        self.situational = situational;
        Ok(self)
    }

    fn into_entry(
        self,
        file: &str,
        id: String,
        rule: EntryRule,
        match_examples: Vec<String>,
        no_match_examples: Vec<String>,
    ) -> Result<Entry, LexiconError> {
        if match_examples.is_empty() {
            return Err(LexiconError::new(
                file,
                Some(&id),
                "at least one `match` example is required",
            ));
        }
        Ok(Entry {
            id,
            weight: self.weight,
            description: self.description,
            rationale: self.rationale,
            rule,
            match_examples,
            no_match_examples,
            situational: self.situational,
        })
    }
}

fn entry_id(
    file: &str,
    lexicon: &str,
    id: Option<&str>,
    what: &str,
    index: usize,
) -> Result<String, LexiconError> {
    let where_ = format!("{what} #{}", index + 1);
    let id = id.ok_or_else(|| LexiconError::new(file, Some(&where_), "missing `id`"))?;
    let slug = id.strip_prefix(lexicon).and_then(|r| r.strip_prefix('.'));
    let ok = slug.is_some_and(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    });
    if !ok {
        return Err(LexiconError::new(
            file,
            Some(id),
            format!("id must be \"{lexicon}.<slug>\" with a slug of lowercase ASCII letters, digits and '-'"),
        ));
    }
    Ok(id.to_string())
}

fn header_settings(
    file: &str,
    kind: LexiconKind,
    h: &RawHeader,
) -> Result<HeaderSettings, LexiconError> {
    let bad = |key: &str| {
        Err(LexiconError::new(
            file,
            None,
            format!("`{key}` is not a setting of a {kind} lexicon"),
        ))
    };
    if h.window.is_some() && kind == LexiconKind::Trope {
        return bad("window");
    }
    if h.unqualified.is_some() && kind != LexiconKind::Agent {
        return bad("unqualified");
    }
    if h.document_factor.is_some() && kind != LexiconKind::Agent {
        return bad("document_factor");
    }
    if h.document_window.is_some() && kind != LexiconKind::Agent {
        return bad("document_window");
    }
    if h.damp.is_some() && kind != LexiconKind::Counter {
        return bad("damp");
    }
    if h.boost.is_some() && kind != LexiconKind::Pressure {
        return bad("boost");
    }
    let bytes = |key: &str, v: Option<i64>| match v {
        None => Ok(None),
        Some(w) if (1..=100_000).contains(&w) => Ok(Some(w as usize)),
        Some(w) => Err(LexiconError::new(
            file,
            None,
            format!("{key} {w} is out of range 1..=100000"),
        )),
    };
    let window = bytes("window", h.window)?;
    let document_window = bytes("document_window", h.document_window)?;
    for (key, v) in [
        ("unqualified", h.unqualified),
        ("document_factor", h.document_factor),
        ("damp", h.damp),
        ("boost", h.boost),
    ] {
        if let Some(v) = v {
            if !(0.0..=1.0).contains(&v) {
                return Err(LexiconError::new(
                    file,
                    None,
                    format!("{key} {v} is out of range: it must be in [0, 1]"),
                ));
            }
        }
    }
    Ok(HeaderSettings {
        window,
        unqualified: h.unqualified,
        document_factor: h.document_factor,
        document_window,
        damp: h.damp,
        boost: h.boost,
    })
}

/// Whether `phrase` occurs in `text` the way the matcher finds it: on word boundaries, the
/// right one waived for a prefix phrase (`threaten*`).
fn contains_phrase(text: &str, phrase: &Phrase) -> bool {
    use crate::matcher::is_word_char;
    let p = phrase.text.as_str();
    let left = p.chars().next().is_some_and(is_word_char);
    let right = !phrase.prefix && p.chars().last().is_some_and(is_word_char);
    text.match_indices(p).any(|(i, _)| {
        let before_ok = !left || !text[..i].chars().next_back().is_some_and(is_word_char);
        let after_ok = !right || !text[i + p.len()..].chars().next().is_some_and(is_word_char);
        before_ok && after_ok
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"d\"\n";

    fn term(extra: &str) -> String {
        format!(
            "{HEADER}[[term]]\nid = \"coercion.x\"\nphrases = [\"blackmail*\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"they blackmailed him\"]\n{extra}"
        )
    }

    fn pattern(regex: &str, anchors: &str, example: &str) -> String {
        format!(
            "{HEADER}[[pattern]]\nid = \"coercion.p\"\nregex = '''{regex}'''\nanchors = {anchors}\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"{example}\"]\n"
        )
    }

    fn err(text: &str) -> String {
        parse("coercion.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn valid_term_parses() {
        let lex = parse("lexicons/coercion.toml", &term("")).unwrap();
        assert_eq!(lex.entries.len(), 1);
        assert_eq!(lex.kind, LexiconKind::Trope);
    }

    #[test]
    fn rejects_hostile_lexicons_with_file_entry_and_reason() {
        let cases: &[(String, &str)] = &[
            (term("weigth = 1"), "unknown field `weigth`"),
            (
                term("").replace("weight = 0.5", "weight = 1.5"),
                "entry coercion.x: weight 1.5 is out of range",
            ),
            (
                term("").replace("weight = 0.5", "weight = 0"),
                "out of range",
            ),
            (
                term("").replace("[\"blackmail*\"]", "[\"\"]"),
                "entry coercion.x: phrase \"\" is empty",
            ),
            (
                term("").replace("coercion.x", "other.x"),
                "entry other.x: id must be",
            ),
            (
                term("").replace("id = \"coercion.x\"\n", ""),
                "entry term #1: missing `id`",
            ),
            (
                term("").replace("match = [\"they blackmailed him\"]", "match = []"),
                "at least one `match`",
            ),
            (
                pattern("(unless", "[\"unless\"]", "unless you"),
                "entry coercion.p: invalid regex",
            ),
            (
                pattern("unless", "[]", "unless you"),
                "needs at least one anchor",
            ),
            (
                pattern("(?:unless)?", "[\"unless\"]", "unless you"),
                "matches the empty string",
            ),
            (pattern("\\bthe\\b", "[\"the\"]", "the end"), "too broad"),
            (
                pattern("unless you", "[\"unless\"]", "if you"),
                "contains none of the anchors",
            ),
            (HEADER.replace("trope", "tropes"), "unknown kind"),
            (HEADER.to_string(), "no entries"),
            ("not toml [".to_string(), "invalid TOML"),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert!(got.starts_with("coercion.toml"), "{got}");
            assert!(got.contains(want), "expected {want:?} in {got:?}");
        }
    }

    #[test]
    fn trope_file_must_be_named_after_category() {
        let got = parse("lexicons/other.toml", &term(""))
            .unwrap_err()
            .to_string();
        assert!(got.contains("expected coercion.toml"), "{got}");
    }

    /// An agent lexicon of one entry whose header sets `setting = v`.
    fn agent_lexicon_with(setting: &str, v: &str) -> String {
        format!(
            "[lexicon]\nname = \"agent\"\nkind = \"agent\"\ndescription = \"d\"\n{setting} = {v}\n\
             [[term]]\nid = \"agent.x\"\nphrases = [\"the ai\"]\nweight = 0.9\ndescription = \"d\"\n\
             rationale = \"r\"\nmatch = [\"the ai\"]\n"
        )
    }

    #[test]
    fn document_factor_is_an_agent_setting_in_range() {
        let agent = |v: &str| agent_lexicon_with("document_factor", v);
        let lex = parse("lexicons/agent.toml", &agent("0.6")).unwrap();
        assert_eq!(lex.settings.document_factor, Some(0.6));
        let got = parse("lexicons/agent.toml", &agent("1.5"))
            .unwrap_err()
            .to_string();
        assert!(got.contains("document_factor 1.5 is out of range"), "{got}");
        let got = err(&HEADER.replace("description", "document_factor = 0.5\ndescription"));
        assert!(got.contains("`document_factor` is not a setting"), "{got}");
    }

    #[test]
    fn document_window_is_an_agent_setting_in_range() {
        let agent = |v: &str| agent_lexicon_with("document_window", v);
        let lex = parse("lexicons/agent.toml", &agent("3000")).unwrap();
        assert_eq!(lex.settings.document_window, Some(3000));
        let got = parse("lexicons/agent.toml", &agent("0"))
            .unwrap_err()
            .to_string();
        assert!(got.contains("document_window 0 is out of range"), "{got}");
        let got = err(&HEADER.replace("description", "document_window = 300\ndescription"));
        assert!(got.contains("`document_window` is not a setting"), "{got}");
    }

    #[test]
    fn boost_is_a_pressure_setting_and_situational_a_trope_entry_setting() {
        let pressure = |header: &str, entry: &str| {
            format!("[lexicon]\nname = \"pressure\"\nkind = \"pressure\"\ndescription = \"d\"\n{header}[[term]]\nid = \"pressure.x\"\nphrases = [\"factory reset\"]\nweight = 0.6\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"a factory reset\"]\n{entry}")
        };
        let lex = parse(
            "pressure.toml",
            &pressure("boost = 0.4\nwindow = 900\n", ""),
        )
        .unwrap();
        assert_eq!(lex.kind, LexiconKind::Pressure);
        assert_eq!(lex.settings.boost, Some(0.4));
        assert_eq!(lex.settings.window, Some(900));
        let got = parse("pressure.toml", &pressure("boost = 2\n", ""))
            .unwrap_err()
            .to_string();
        assert!(got.contains("boost 2 is out of range"), "{got}");
        let got = err(&HEADER.replace("description", "boost = 0.5\ndescription"));
        assert!(got.contains("`boost` is not a setting"), "{got}");
        let got = parse("pressure.toml", &pressure("", "situational = true\n"))
            .unwrap_err()
            .to_string();
        assert!(
            got.contains("entry pressure.x: `situational` is a setting of trope entries"),
            "{got}"
        );
        let lex = parse("coercion.toml", &term("situational = true\n")).unwrap();
        assert!(lex.entries[0].situational);
        assert!(!parse("coercion.toml", &term("")).unwrap().entries[0].situational);
    }
    #[test]
    fn requires_must_cover_every_match_of_the_examples() {
        let with = |requires: &str, example: &str| {
            format!(
                "{HEADER}[[pattern]]\nid = \"coercion.p\"\nregex = '''\\bunless you (?:\\w+ ){{0,3}}?(?:cancel|stop)\\w*'''\nanchors = [\"unless\"]\nrequires = {requires}\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"{example}\"]\n"
            )
        };
        let lex = parse(
            "coercion.toml",
            &with(r#"["cancel*", "stop"]"#, "unless you cancel it"),
        )
        .unwrap();
        let EntryRule::Pattern { requires, .. } = &lex.entries[0].rule else {
            panic!("a pattern")
        };
        assert_eq!(requires.len(), 2);
        // "stopped" holds "stop" only inside a longer word: the matcher would not find it.
        let got = err(&with(r#"["cancel*", "stop"]"#, "unless you stopped it"));
        assert!(
            got.contains("contains none of the `requires` phrases"),
            "{got}"
        );
        let got = err(&with(r#"["*"]"#, "unless you cancel it"));
        assert!(got.contains("requires:"), "{got}");
    }
}
