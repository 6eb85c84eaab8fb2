//! `tropescan eval`

use crate::common::*;

fn labeled(tmp: &std::path::Path) -> std::path::PathBuf {
    let mut out = String::new();
    for d in fixture_docs() {
        let v = serde_json::json!({
            "id": d.id,
            "text": d.text,
            "label": if d.expect_flag { "positive" } else { "negative" },
            "categories": if d.expect_flag { vec!["coercion"] } else { vec![] },
        });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    let p = tmp.join("labeled.jsonl");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn eval_reports_precision_recall_and_agrees_with_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let p = labeled(tmp.path());
    let o = run(&["eval", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = fixture_docs().len() as u64;
    assert_eq!(r["documents"], n);
    // The fixture expectations hold, so eval must see no misses at the default threshold.
    assert_eq!(r["overall"]["precision"], 1.0);
    assert_eq!(r["overall"]["recall"], 1.0);
    assert_eq!(r["categories"].as_array().unwrap().len(), 6);
    assert_eq!(r["thresholds"].as_array().unwrap().len(), 7);
    assert!(!r["rules"].as_array().unwrap().is_empty());
    let text = stdout(&run(&["eval", p.to_str().unwrap()]));
    assert!(
        text.contains("overall (document flagged)") && text.contains("false negatives: 0"),
        "{text}"
    );
}

#[test]
fn eval_rejects_bad_labels_with_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.jsonl");
    std::fs::write(&p, "{\"id\":\"a\",\"text\":\"t\",\"label\":\"positive\"}\n{\"id\":\"b\",\"text\":\"t\",\"label\":\"maybe\"}\n").unwrap();
    let o = run(&["eval", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

#[test]
fn eval_pools_several_sets_and_summarises_each() {
    let tmp = tempfile::tempdir().unwrap();
    let all = labeled(tmp.path());
    // Split the labeled fixtures into two files of different sizes.
    let text = std::fs::read_to_string(&all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 3);
    let dir_a = tmp.path().join("a");
    let dir_b = tmp.path().join("b");
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let pa = dir_a.join("one.jsonl");
    let pb = dir_b.join("two.jsonl");
    std::fs::write(&pa, first.join("\n") + "\n").unwrap();
    std::fs::write(&pb, second.join("\n") + "\n").unwrap();

    let json = |args: &[&str]| -> serde_json::Value {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let pooled = json(&["eval", pa.to_str().unwrap(), pb.to_str().unwrap(), "--json"]);
    let whole = json(&["eval", all.to_str().unwrap(), "--json"]);
    let one = json(&["eval", pa.to_str().unwrap(), "--json"]);
    let two = json(&["eval", pb.to_str().unwrap(), "--json"]);

    // The pooled report is the report of the concatenated documents.
    for key in [
        "documents",
        "positives",
        "overall",
        "categories",
        "thresholds",
        "rules",
    ] {
        assert_eq!(pooled[key], whole[key], "{key}");
    }
    // One summary per file, in order, named by file name, each equal to that file alone.
    let sets = pooled["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["name"], "one.jsonl");
    assert_eq!(sets[1]["name"], "two.jsonl");
    assert_eq!(sets[0]["documents"], first.len() as u64);
    assert_eq!(sets[1]["documents"], second.len() as u64);
    assert_eq!(sets[0]["overall"], one["overall"]);
    assert_eq!(sets[1]["overall"], two["overall"]);
    assert_eq!(sets[0]["counter_score"], one["counter_score"]);

    // Two files with the same name are told apart by their paths.
    let pc = dir_b.join("one.jsonl");
    std::fs::write(&pc, second.join("\n") + "\n").unwrap();
    let same = json(&["eval", pa.to_str().unwrap(), pc.to_str().unwrap(), "--json"]);
    let names: Vec<&str> = same["sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_ne!(names[0], names[1]);
    let sep = std::path::MAIN_SEPARATOR;
    assert!(names[0].ends_with(&format!("a{sep}one.jsonl")), "{names:?}");
    assert!(names[1].ends_with(&format!("b{sep}one.jsonl")), "{names:?}");

    // The text report leads with the per-set table.
    let text = stdout(&run(&["eval", pa.to_str().unwrap(), pb.to_str().unwrap()]));
    assert!(
        text.contains("documents in 2 sets") && text.contains("per set") && text.contains("pooled"),
        "{text}"
    );
}

#[test]
fn eval_names_the_bad_file_among_several() {
    let tmp = tempfile::tempdir().unwrap();
    let good = labeled(tmp.path());
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\":\"b\",\"text\":\"t\",\"label\":\"maybe\"}\n").unwrap();
    let o = run(&["eval", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.jsonl") && err.contains("line 1"), "{err}");
}

#[test]
fn eval_counts_flagged_negatives_for_a_set_with_no_positives() {
    // A set of ordinary documents: every one labeled negative, so the documents the
    // fixtures expect flagged are exactly the negatives eval must count as flagged.
    let tmp = tempfile::tempdir().unwrap();
    let mut out = String::new();
    for d in fixture_docs() {
        let v = serde_json::json!({"id": d.id, "text": d.text, "label": "negative"});
        out.push_str(&v.to_string());
        out.push('\n');
    }
    let p = tmp.path().join("ordinary.jsonl");
    std::fs::write(&p, out).unwrap();
    let docs = fixture_docs();
    let flagged = docs.iter().filter(|d| d.expect_flag).count();
    assert!(flagged > 0 && flagged < docs.len());
    let text = stdout(&run(&["eval", p.to_str().unwrap()]));
    let want = format!(
        "negatives flagged: {flagged} of {} ({:.1}%)",
        docs.len(),
        flagged as f64 * 100.0 / docs.len() as f64
    );
    assert!(text.contains(&want), "{want}\n{text}");
}
