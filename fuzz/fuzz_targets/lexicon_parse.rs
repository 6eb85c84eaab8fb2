//! The lexicon parser and validator on arbitrary text: it never panics, and a lexicon it
//! accepts compiles into a matcher that can run its own examples.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tropescan::lexicon::{parse, LexiconSet};

const AGENTS: &str = r#"
[lexicon]
name = "agents"
kind = "agent"
description = "d"

[[term]]
id = "agents.ai"
phrases = ["the ai"]
weight = 0.9
description = "d"
rationale = "r"
match = ["the ai"]
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lex) = parse("coercion.toml", text) else {
        return;
    };
    assert!(!lex.entries.is_empty());
    // An accepted trope lexicon joins a set and compiles; its examples run without panic.
    let mut files = vec![("coercion.toml".to_string(), text.to_string())];
    if lex.name != "agents" {
        files.push(("agents.toml".to_string(), AGENTS.to_string()));
    }
    if let Ok(set) = LexiconSet::from_files(&files) {
        if let Ok(engine) = tropescan::engine::Engine::new(set, 0.5, 0.1) {
            let _ = engine.test_examples();
        }
    }
});
