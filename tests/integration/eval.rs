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
