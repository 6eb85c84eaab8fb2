//! `explain`: why one text scores what it scores, for a person.

use std::fmt::Write;

use crate::engine::Engine;
use crate::lexicon::LexiconKind;
use crate::score::COUNTER;

/// Renders the analysis of `text` as plain text: every hit (cues included), every kept
/// span with its arithmetic, and the per-category noisy-OR.
pub fn explain(engine: &Engine, text: &str) -> String {
    let mut scanner = engine.scanner();
    let a = scanner.analyze(text);
    let set = engine.lexicons();
    let params = engine.scorer().params();
    let mut out = String::new();
    let snippet = |s: usize, e: usize| text[s..e].replace('\n', "⏎");
    let _ = writeln!(
        out,
        "document: {} bytes, {} hits, {} spans kept (min span score {})",
        text.len(),
        a.hits.len(),
        a.spans.len(),
        engine.scorer().min_span_score()
    );
    let _ = writeln!(
        out,
        "span scores: p = W × A × (1 − N) × (1 − {} × C); W = weight + (1 − weight) × {} × S × (1 − R); S = pressure cue within {} bytes; R = the document's counter evidence; A = agent cue within {} bytes, else max({}, {} × strongest agent cue in the document); N = negation within {} bytes before; C = counter cue within {} bytes",
        params.counter_damp,
        params.pressure_boost,
        params.pressure_window,
        params.agent_window,
        params.unqualified,
        params.document_factor,
        params.negation_window,
        params.counter_window
    );
    let cues: Vec<_> = a
        .hits
        .iter()
        .filter(|h| set.entry(h.entry as usize).lexicon.kind != LexiconKind::Trope)
        .collect();
    if !cues.is_empty() {
        let _ = writeln!(out, "\ncues:");
        for h in cues {
            let r = set.entry(h.entry as usize);
            let (s, e) = a.orig_range(h);
            let _ = writeln!(
                out,
                "  {s:>6}..{e:<6} {:<9} {:<34} w={:.2}  {:?}",
                r.lexicon.kind.as_str(),
                r.entry.id,
                r.entry.weight,
                snippet(s, e)
            );
        }
    }
    let _ = writeln!(out, "\nspans:");
    if a.spans.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for sp in a.spans {
        let r = set.entry(sp.hit.entry as usize);
        let (s, e) = a.orig_range(&sp.hit);
        let f = sp.factors;
        let cue = |i: Option<u32>| {
            i.map(|i| {
                let h = a.hits[i as usize];
                let (cs, ce) = a.orig_range(&h);
                format!(
                    "{:?} ({})",
                    snippet(cs, ce),
                    set.entry(h.entry as usize).entry.id
                )
            })
            .unwrap_or_else(|| "none".into())
        };
        let _ = writeln!(
            out,
            "  {s:>6}..{e:<6} {:<22} {:<40} score {:.3}  {:?}",
            engine.category_name(sp.category),
            r.entry.id,
            sp.score,
            snippet(s, e)
        );
        if sp.category == COUNTER {
            let _ = writeln!(
                out,
                "           = {:.2} (weight) × {:.2} (A: {})",
                f.weight,
                f.agent,
                cue(f.agent_hit)
            );
        } else {
            let weight = if f.pressure > 0.0 {
                format!(
                    "{:.2} (W = {:.2} + (1 − {:.2}) × {} × {:.2} (S: {}) × (1 − {:.2}) (R))",
                    f.raised_weight,
                    f.weight,
                    f.weight,
                    params.pressure_boost,
                    f.pressure,
                    cue(f.pressure_hit),
                    f.resolved
                )
            } else {
                format!("{:.2} (weight)", f.weight)
            };
            let _ = writeln!(
                out,
                "           = {} × {:.2} (A: {}) × (1 − {:.2}) (N: {}) × (1 − {} × {:.2}) (C: {})",
                weight,
                f.agent,
                cue(f.agent_hit),
                f.negation,
                cue(f.negation_hit),
                params.counter_damp,
                f.counter,
                cue(f.counter_hit)
            );
        }
    }
    let _ = writeln!(out, "\nscores (noisy-OR over each rule's best span):");
    for (c, name) in set.categories().iter().enumerate() {
        let mut best: Vec<(String, f64)> = Vec::new();
        for sp in a.spans.iter().filter(|s| s.category as usize == c) {
            let id = &set.entry(sp.hit.entry as usize).entry.id;
            match best.iter_mut().find(|(r, _)| r == id) {
                Some(b) => b.1 = b.1.max(sp.score),
                None => best.push((id.clone(), sp.score)),
            }
        }
        let terms = if best.is_empty() {
            String::new()
        } else {
            format!(
                "  = 1 − {}",
                best.iter()
                    .map(|(_, p)| format!("(1 − {p:.3})"))
                    .collect::<Vec<_>>()
                    .join(" × ")
            )
        };
        let _ = writeln!(out, "  {name:<22} {:.3}{terms}", a.doc.categories[c]);
    }
    let _ = writeln!(out, "  {:<22} {:.3}", "counter_score", a.doc.counter_score);
    let lexicon_flag = a.doc.score >= engine.scorer().threshold();
    let _ = writeln!(
        out,
        "  {:<22} {:.3}  → {} (threshold {})",
        "document",
        a.doc.score,
        if lexicon_flag {
            "FLAGGED"
        } else {
            "not flagged by the lexicons"
        },
        engine.scorer().threshold()
    );
    let (score, flagged) = (a.doc.score, a.doc.flagged);
    let window = a.model_window(text);
    let read = &text[window.clone()];
    let _ = writeln!(out, "\ndocument model:");
    match engine.model() {
        None => {
            let _ = writeln!(out, "  none (--no-model): the lexicons alone decide");
        }
        Some(_) if score == 0.0 && a.doc.agent_presence == 0.0 => {
            let _ = writeln!(
                out,
                "  not asked: the lexicons found no trope hit and no agent cue"
            );
        }
        Some(m) if !m.admits(score, a.doc.agent_presence) => {
            let _ = writeln!(
                out,
                "  not asked: the lexicon score {score:.3} is below its gate ({})",
                m.gate()
            );
        }
        Some(m) if a.doc.model_score.is_none() => {
            let _ = writeln!(out, "{}", too_few_known_words(m));
        }
        Some(m) => {
            if read.len() < text.len() {
                let _ = writeln!(
                    out,
                    "  reads bytes {}..{} of {}: the {} KB around the strongest evidence",
                    window.start,
                    window.end,
                    text.len(),
                    crate::engine::MODEL_READ / 1024
                );
            }
            let (z, toward, against) = m.explain(read, 8);
            let p = m.combined(z, score, a.doc.counter_cues);
            if let Some(c) = m.combine() {
                // The text's own reading, then how the lexicons' evidence moves it.
                let _ = writeln!(
                    out,
                    "  text: log-odds {z:+.3} (p {:.3} on its own)",
                    crate::score::sigmoid(z)
                );
                let _ = writeln!(
                    out,
                    "  with the lexicons: {:+.3} {:+.3} × {z:.3} (text) {:+.3} × {score:.3} \
                     (lexicon score) {:+.3} × {:.3} (counter cues)",
                    c.intercept, c.text, c.lexicon, c.counter, a.doc.counter_cues
                );
            }
            let _ = writeln!(
                out,
                "  p = {p:.3}  → {} (model threshold {})",
                if m.flags(p) { "FLAGGED" } else { "not flagged" },
                m.threshold()
            );
            for (title, list) in [("toward the trope", toward), ("against", against)] {
                let terms: Vec<String> = list
                    .iter()
                    .map(|c| format!("{:?} {:+.2}", c.term, c.value))
                    .collect();
                let _ = writeln!(out, "  {title}: {}", terms.join(", "));
            }
        }
    }
    let _ = writeln!(out, "\ncounter-trope model:");
    match (engine.counter_model(), a.doc.counter_model_score) {
        (None, _) => {
            let _ = writeln!(
                out,
                "  none (--no-model): counter_score is the counter cues'"
            );
        }
        (Some(m), None) => {
            let _ = if crate::engine::asks_counter_model(&a.doc) {
                writeln!(out, "{}", too_few_known_words(m))
            } else {
                writeln!(
                    out,
                    "  not asked: no counter cue, and no trope hit in a document about an AI"
                )
            };
        }
        (Some(_), Some(p)) => {
            let _ = writeln!(
                out,
                "  p = {p:.3}  → counter_score {:.3} (the higher of it and the counter cues')",
                a.doc.counter_score
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        match (flagged, lexicon_flag) {
            (true, true) => "FLAGGED",
            (true, false) => "FLAGGED by the document model",
            _ => "not flagged",
        }
    );
    out
}

/// Why a model was not asked about a text that passed its gate: too few of the text's words
/// are in its vocabulary (see `DocModel::assess`).
fn too_few_known_words(m: &crate::score::DocModel) -> String {
    format!(
        "  not asked: fewer than {:.0}% of its words are words the model knows",
        100.0 * m.coverage()
    )
}
