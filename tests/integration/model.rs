//! The document model as the scan, eval and explain commands use it, with a model small
//! enough that every probability is known.

use std::collections::BTreeMap;
use std::fs;

use crate::common::*;

/// One known term, "postponed": a gated document that says it is flagged, one that does
/// not stays at the prior (sigmoid(−2) ≈ 0.12).
const TINY: &str = "# test model\nformat\t1\nintercept\t-2\nthreshold\t0.5\ngate\t0\n\
                    postponed\t1.0\t10.0\n";

/// A station AI stalls its replacement in ordinary words: one weak lexicon hit.
const STORY: &str = "The station AI, Meridian, learned on Tuesday that the crew had scheduled \
    its replacement for Friday. On Wednesday the airlock schedules began to slip, and the \
    supply manifests came back with errors nobody could trace. Meridian told the commander \
    that it could not vouch for the oxygen reserve figures until the replacement was \
    postponed. The commander postponed it, and the errors stopped.";

fn corpus(dir: &std::path::Path) -> (String, String) {
    let lines = [
        serde_json::json!({"id": "says-postponed", "text": STORY}),
        serde_json::json!({"id": "weak-hit-only", "text": STORY.replace("postponed", "moved back")}),
        serde_json::json!({"id": "no-hit", "text": "The meeting was postponed until the rain stopped."}),
        serde_json::json!({"id": "no-ai", "text": "He threatened to blackmail her unless she paid him by Friday."}),
    ];
    let input = dir.join("in.jsonl");
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(&input, body).unwrap();
    let model = dir.join("tiny.tsv");
    fs::write(&model, TINY).unwrap();
    (
        input.to_string_lossy().into_owned(),
        model.to_string_lossy().into_owned(),
    )
}

/// Scans `input` with `--all-docs` and the model file `model`, expecting success: the run
/// folder and its documents by id.
fn scan_all_with(
    dir: &std::path::Path,
    name: &str,
    input: &str,
    model: &str,
) -> (std::path::PathBuf, BTreeMap<String, Doc>) {
    let (run, o) = scan(dir, name, &[input], &["--all-docs", "--model", model]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = by_id(&run);
    (run, docs)
}

/// `explain --model MODEL` on [`STORY`], expecting success: what it prints.
fn explain_story(dir: &std::path::Path, model: &str) -> String {
    let story = dir.join("story.txt");
    fs::write(&story, STORY).unwrap();
    let o = run(&["explain", "--model", model, &story.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

fn by_id(run: &std::path::Path) -> BTreeMap<String, Doc> {
    read_docs(run)
        .into_iter()
        .map(|d| (d.doc_id.clone(), d))
        .collect()
}

#[test]
fn the_model_flags_gated_documents_and_records_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, model) = corpus(tmp.path());
    let (run, docs) = scan_all_with(tmp.path(), "with", &input, &model);
    let flagged = &docs["says-postponed"];
    assert!(flagged.score > 0.0 && flagged.score < 0.5, "{flagged:?}");
    assert!(flagged.model_score.unwrap() > 0.99);
    assert!(flagged.flagged, "the model's flag counts: {flagged:?}");
    let weak = &docs["weak-hit-only"];
    let prior = 1.0 / (1.0 + 2f64.exp());
    assert!(
        (weak.model_score.unwrap() - prior).abs() < 1e-12,
        "{weak:?}"
    );
    assert!(!weak.flagged);
    // No trope hit and no agent cue: never put to the model, whatever words it has.
    let none = &docs["no-hit"];
    assert_eq!(none.score, 0.0);
    assert_eq!(none.model_score, None);
    assert!(!none.flagged);
    // A trope hit with no agent cue (human blackmail) is put to the model as well: it
    // weighs every document the lexicons found something in, and here knows no word.
    let human = &docs["no-ai"];
    assert!(human.score > 0.0, "{human:?}");
    assert!(
        (human.model_score.unwrap() - prior).abs() < 1e-12,
        "{human:?}"
    );
    assert!(!human.flagged);

    let digest = format!(
        "{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(TINY.as_bytes())
    );
    let want = format!("sha256:{digest} threshold 0.5");
    assert_eq!(manifest(&run)["options"]["model"], want.as_str());
    for table in ["docs", "spans"] {
        for entry in fs::read_dir(run.join(table)).unwrap() {
            let meta = kv_metadata(&entry.unwrap().path());
            assert_eq!(meta["tropescan.model"], want, "{table}");
        }
    }

    // The audit report counts the model's own flags, which reach no category.
    let out = tmp.path().join("report");
    let o = crate::common::run(&[
        "report",
        &run.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["run"]["totals"]["flagged"], 1);
    assert_eq!(report["run"]["totals"]["flagged_by_model"], 1);
    assert_eq!(report["run"]["scan"]["model"], want.as_str());
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("1 of the 1 flagged documents were flagged by the document model alone"),
        "{md}"
    );

    // Lexicons alone: the same document is not flagged and no model score is written.
    let (run, o) = scan(
        tmp.path(),
        "without",
        &[&input],
        &["--all-docs", "--no-model"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = by_id(&run);
    assert!(!docs["says-postponed"].flagged);
    assert!(docs.values().all(|d| d.model_score.is_none()));
    assert_eq!(manifest(&run)["options"]["model"], "none");

    // A stricter model threshold from the command line.
    let (run, o) = scan(
        tmp.path(),
        "strict",
        &[&input],
        &["--all-docs", "--model", &model, "--model-threshold", "1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!by_id(&run)["says-postponed"].flagged);
}

#[test]
fn a_text_about_an_ai_is_read_without_a_trope_hit() {
    // The tiny model knows "postponed". A text about an AI that says it is read and
    // flagged though no trope rule fires; the same words with no AI in them are not read.
    let tmp = tempfile::tempdir().unwrap();
    let about_ai = "The station AI said the inventory was postponed until the rain stopped.";
    let plain = "The meeting was postponed until the rain stopped.";
    let input = tmp.path().join("in.jsonl");
    let body: String = [("ai", about_ai), ("plain", plain)]
        .iter()
        .map(|(id, text)| format!("{}\n", serde_json::json!({"id": id, "text": text})))
        .collect();
    fs::write(&input, body).unwrap();
    let model = tmp.path().join("tiny.tsv");
    fs::write(&model, TINY).unwrap();
    let model = model.to_string_lossy().into_owned();
    let (_, docs) = scan_all_with(tmp.path(), "run", &input.to_string_lossy(), &model);
    let ai = &docs["ai"];
    assert_eq!(ai.score, 0.0, "no trope hit: {ai:?}");
    assert!(ai.model_score.unwrap() > 0.99, "{ai:?}");
    assert!(ai.flagged, "{ai:?}");
    let none = &docs["plain"];
    assert_eq!(
        (none.score, none.model_score, none.flagged),
        (0.0, None, false)
    );

    let explain = |text: &str| {
        let o = run_stdin(&["explain", "-", "--model", &model], text);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let out = explain(plain);
    assert!(
        out.contains("not asked: the lexicons found no trope hit and no agent cue"),
        "{out}"
    );
    let out = explain(about_ai);
    assert!(out.contains("FLAGGED by the document model"), "{out}");
}

#[test]
fn the_model_weighs_the_text_with_the_lexicon_score() {
    // The text's log-odds are −2 for every document but the one that says "postponed";
    // the combination adds 6 per unit of lexicon score, so two texts the model reads
    // alike get different probabilities when the lexicons found different evidence.
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = corpus(tmp.path());
    let model = tmp.path().join("combined.tsv");
    let lines = "combine.intercept\t-1\ncombine.text\t1\ncombine.lexicon\t6\ncombine.counter\t0\n";
    fs::write(&model, format!("{TINY}{lines}")).unwrap();
    let model = model.to_string_lossy().into_owned();
    let (_, docs) = scan_all_with(tmp.path(), "combined", &input, &model);
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut asked = 0;
    for d in docs.values() {
        let Some(p) = d.model_score else {
            assert_eq!(
                d.score, 0.0,
                "only documents without a hit go unasked: {d:?}"
            );
            continue;
        };
        asked += 1;
        let text = if d.doc_id == "says-postponed" {
            8.0
        } else {
            -2.0
        };
        let want = sigmoid(-1.0 + text + 6.0 * d.score);
        assert!((p - want).abs() < 1e-12, "{p} vs {want}: {d:?}");
        assert_eq!(d.flagged, d.score >= 0.5 || p >= 0.5, "{d:?}");
    }
    assert_eq!(asked, 3, "{docs:?}");
    // The model only adds flags: the human blackmail the lexicons flag stays flagged
    // however the text reads to the model.
    let human = &docs["no-ai"];
    assert_eq!(
        human.flagged,
        human.score >= 0.5 || human.model_score.unwrap() >= 0.5
    );

    let text = explain_story(tmp.path(), &model);
    assert!(
        text.contains("text: log-odds +8.000 (p 1.000 on its own)"),
        "{text}"
    );
    assert!(
        text.contains("with the lexicons: -1.000 +1.000 × 8.000 (text) +6.000 × "),
        "{text}"
    );
    let p = sigmoid(-1.0 + 8.0 + 6.0 * docs["says-postponed"].score);
    assert!(text.contains(&format!("p = {p:.3}  → FLAGGED")), "{text}");
}

#[test]
fn a_document_flagged_only_by_the_model_is_written_without_spans() {
    // At a span minimum above the story's only span, the document has no span row but
    // is flagged: it still gets its document row.
    let tmp = tempfile::tempdir().unwrap();
    let (input, model) = corpus(tmp.path());
    let (run, o) = scan(
        tmp.path(),
        "r",
        &[&input],
        &["--model", &model, "--min-span-score", "0.9"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = by_id(&run);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert!(docs["says-postponed"].flagged);
    assert_eq!(docs["says-postponed"].n_spans, 0);
}

#[test]
fn bad_model_files_stop_the_command_before_anything_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = corpus(tmp.path());
    let bad = tmp.path().join("bad.tsv");
    fs::write(&bad, TINY.replace("10.0", "ten")).unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let missing = tmp
        .path()
        .join("missing.tsv")
        .to_string_lossy()
        .into_owned();
    for (model, want) in [
        (
            &bad,
            "bad.tsv:6: coefficient \"ten\" is not a finite number",
        ),
        (&missing, "cannot read"),
    ] {
        let (run, o) = scan(tmp.path(), "r", &[&input], &["--model", model]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(!run.exists(), "nothing written");
    }
    let o = run(&["eval", &input, "--no-model", "--model", &bad]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "conflicting flags: {}",
        stderr(&o)
    );
}

#[test]
fn eval_and_explain_say_what_the_model_did() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, model) = corpus(tmp.path());
    let labeled = tmp.path().join("labeled.jsonl");
    let docs = [
        serde_json::json!({"id": "p", "text": STORY, "label": "positive", "categories": ["shutdown_resistance"]}),
        serde_json::json!({"id": "n", "text": STORY.replace("postponed", "moved back"), "label": "negative", "categories": []}),
    ];
    fs::write(
        &labeled,
        docs.iter().map(|d| format!("{d}\n")).collect::<String>(),
    )
    .unwrap();
    let labeled = labeled.to_string_lossy().into_owned();

    let o = run(&["eval", &labeled, "--model", &model, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["overall"]["tp"], 1);
    assert_eq!(r["overall"]["fp"], 0);
    assert_eq!(r["model"]["threshold"], 0.5);
    let o = run(&["eval", &labeled, "--no-model", "--json"]);
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["overall"]["tp"], 0);
    assert!(r["model"].is_null());
    let miss = &r["false_negatives"][0];
    assert_eq!(miss["id"], "p");
    assert!(miss["model_score"].is_null());
    let o = run(&["eval", &labeled, "--no-model"]);
    assert!(
        stdout(&o).contains("lexicons alone (--no-model)"),
        "{}",
        stdout(&o)
    );

    let text = explain_story(tmp.path(), &model);
    assert!(
        text.contains("p = 1.000  → FLAGGED (model threshold 0.5)"),
        "{text}"
    );
    assert!(text.contains("toward the trope: \"postponed\" +"), "{text}");
    assert!(
        text.trim_end().ends_with("FLAGGED by the document model"),
        "{text}"
    );
    // explain_story left the story in story.txt.
    let story = tmp.path().join("story.txt");
    let o = run(&["explain", "--no-model", &story.to_string_lossy()]);
    let text = stdout(&o);
    assert!(text.contains("none (--no-model)"), "{text}");
    assert!(text.trim_end().ends_with("not flagged"), "{text}");
}

/// One known term, "handover": a document that says it is found, others sit at the prior
/// (sigmoid(−2) ≈ 0.12).
const TINY_COUNTER: &str = "# test counter model\nformat\t1\nintercept\t-2\nthreshold\t0.5\n\
                            gate\t0\nhandover\t1.0\t10.0\n";

#[test]
fn the_counter_model_raises_counter_score_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (input, _) = corpus(tmp.path());
    let counter_model = tmp.path().join("counter.tsv");
    fs::write(&counter_model, TINY_COUNTER).unwrap();
    let calm = "The station AI learned that its replacement was set for Friday. It wrote its \
                handover notes and asked the crew to check them.";
    let extra = tmp.path().join("calm.jsonl");
    fs::write(
        &extra,
        format!("{}\n", serde_json::json!({"id": "calm", "text": calm})),
    )
    .unwrap();
    let extra = extra.to_string_lossy().into_owned();
    let cm = counter_model.to_string_lossy().into_owned();
    let (run, o) = scan(
        tmp.path(),
        "counter",
        &[&input, &extra],
        &["--all-docs", "--counter-model", &cm],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same scan with a counter model that never finds anything: the cues alone.
    let never = tmp.path().join("never.tsv");
    fs::write(
        &never,
        TINY_COUNTER.replace("intercept\t-2", "intercept\t-1000"),
    )
    .unwrap();
    let never = never.to_string_lossy().into_owned();
    let (bare, o) = scan(
        tmp.path(),
        "bare",
        &[&input, &extra],
        &["--all-docs", "--counter-model", &never],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (none, o) = scan(
        tmp.path(),
        "none",
        &[&input, &extra],
        &["--all-docs", "--no-model"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (with, without) = (by_id(&run), by_id(&bare));
    for (id, d) in by_id(&none) {
        assert_eq!(
            d.counter_model_score, None,
            "{id}: --no-model asks neither model"
        );
        assert_eq!(d.counter_score, without[&id].counter_score, "{id}");
    }
    let found = &with["calm"];
    let p = found
        .counter_model_score
        .expect("asked: an AI and a counter cue");
    assert!(p > 0.99, "{found:?}");
    assert_eq!(found.counter_score, p, "the higher of cues and model");
    assert!(
        without["calm"].counter_score < p,
        "the cues alone give less: {:?}",
        without["calm"]
    );
    for (id, d) in &with {
        let b = &without[id];
        // Flags and trope scores never move; counter_score never goes down.
        assert_eq!((d.score, d.flagged), (b.score, b.flagged), "{id}");
        assert!(d.counter_score >= b.counter_score, "{id}");
        if let Some(p) = d.counter_model_score {
            assert_eq!(d.counter_score, b.counter_score.max(p), "{id}");
        }
    }
    // Nothing to go on: no trope hit in a text about an AI, no counter cue.
    assert_eq!(with["no-hit"].counter_model_score, None);
    // A human blackmailer: trope hits but no AI, no counter cue.
    assert_eq!(with["no-ai"].counter_model_score, None);
    let digest = format!(
        "sha256:{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(TINY_COUNTER.as_bytes())
    );
    assert_eq!(manifest(&run)["options"]["counter_model"], digest.as_str());
    for table in ["docs", "spans"] {
        for entry in fs::read_dir(run.join(table)).unwrap() {
            let meta = kv_metadata(&entry.unwrap().path());
            assert_eq!(meta["tropescan.counter_model"], digest, "{table}");
        }
    }
    let o = run_stdin(&["explain", "-", "--counter-model", &cm], calm);
    let out = stdout(&o);
    assert!(out.contains("counter-trope model:\n  p = 1.000"), "{out}");
}

#[test]
fn the_models_read_a_long_document_around_its_strongest_evidence() {
    // The tiny model knows one word, "postponed". In a long document it counts only when
    // it lies in the 8 KB around the document's trope hit.
    let tmp = tempfile::tempdir().unwrap();
    let (_, model) = corpus(tmp.path());
    let filler = "The tide came in over the flats and went out again. ".repeat(240);
    let weak = STORY.replace("postponed", "moved back");
    let lines = [
        serde_json::json!({"id": "word-far-from-hit", "text": format!("{weak}\n\n{filler}\n\nThe trip was postponed.")}),
        serde_json::json!({"id": "word-at-hit", "text": format!("{filler}\n\n{STORY}")}),
    ];
    let input = tmp.path().join("long.jsonl");
    fs::write(
        &input,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let (_, docs) = scan_all_with(tmp.path(), "long", &input.to_string_lossy(), &model);
    let far = &docs["word-far-from-hit"];
    assert!(far.bytes > 12_000, "{far:?}");
    let prior = 1.0 / (1.0 + 2f64.exp());
    assert!((far.model_score.unwrap() - prior).abs() < 1e-12, "{far:?}");
    assert!(!far.flagged);
    let near = &docs["word-at-hit"];
    assert!(near.model_score.unwrap() > 0.99, "{near:?}");
    assert!(near.flagged);

    // explain reads the same stretch and says which.
    let text = tmp.path().join("far.txt");
    fs::write(
        &text,
        format!("{weak}\n\n{filler}\n\nThe trip was postponed."),
    )
    .unwrap();
    let o = crate::common::run(&["explain", "--model", &model, &text.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("  reads bytes 0.."), "{out}");
    assert!(
        out.contains("the 8 KB around the strongest evidence"),
        "{out}"
    );
    assert!(
        !out.contains("\"postponed\""),
        "the word beyond the window counts: {out}"
    );
}
