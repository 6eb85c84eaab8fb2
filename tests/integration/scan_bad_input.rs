//! Bad input never stops a scan: each kind is recorded, good records around it are kept,
//! and the exit status says errors happened.

use crate::common::*;

fn kinds(errors: &[serde_json::Value], shard_suffix: &str) -> Vec<(String, Option<u64>)> {
    errors
        .iter()
        .filter(|e| e["shard"].as_str().unwrap().ends_with(shard_suffix))
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["row"].as_u64()))
        .collect()
}

#[test]
fn each_kind_of_bad_input_is_recorded_and_the_scan_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(
        tmp.path(),
        "r",
        &["fixtures/bad", "fixtures/missing.jsonl"],
        &["--all-docs"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("errors"), "{}", stderr(&o));
    let errors = errors(&run);
    assert_eq!(
        kinds(&errors, "mixed_bad_lines.jsonl"),
        vec![
            ("invalid_json".into(), Some(1)),
            ("missing_text".into(), Some(2)),
            ("text_not_string".into(), Some(3)),
            ("not_an_object".into(), Some(4)),
            ("invalid_json".into(), Some(5)),
        ]
    );
    assert_eq!(kinds(&errors, "truncated.jsonl.zst")[0].0, "truncated");
    assert_eq!(kinds(&errors, "truncated.jsonl.gz")[0].0, "truncated");
    assert_eq!(kinds(&errors, "broken_footer.parquet")[0].0, "bad_parquet");
    assert_eq!(kinds(&errors, "invalid_utf8.txt")[0].0, "invalid_utf8");
    assert_eq!(kinds(&errors, "missing.jsonl")[0].0, "bad_input");
    for e in &errors {
        assert!(e["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    // Every record error carries its byte offset.
    let mixed = std::fs::read(fixtures().join("bad/mixed_bad_lines.jsonl")).unwrap();
    for e in errors.iter().filter(|e| {
        e["shard"]
            .as_str()
            .unwrap()
            .ends_with("mixed_bad_lines.jsonl")
    }) {
        let off = e["offset"].as_u64().unwrap() as usize;
        assert!(
            off == 0 || mixed[off - 1] == b'\n',
            "offset {off} starts a line"
        );
    }

    let docs = read_docs(&run);
    let rows = |suffix: &str| -> Vec<u64> {
        docs.iter()
            .filter(|d| d.shard.ends_with(suffix))
            .map(|d| d.row)
            .collect()
    };
    // The good records around the bad ones (NUL byte included) are scanned.
    assert_eq!(rows("mixed_bad_lines.jsonl"), vec![0, 6, 7]);
    // A plain file named .zst reads as what it is.
    assert_eq!(rows("plain_named.jsonl.zst").len(), fixture_docs().len());
    // Truncated streams: the records before the damage are kept.
    assert!(!rows("truncated.jsonl.zst").is_empty());
    assert!(!rows("truncated.jsonl.gz").is_empty());

    let m = manifest(&run);
    let status = |suffix: &str| {
        m["shards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["shard"].as_str().unwrap().ends_with(suffix))
            .map(|s| s["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("truncated.jsonl.zst"), "partial");
    assert_eq!(status("broken_footer.parquet"), "failed");
    assert_eq!(status("mixed_bad_lines.jsonl"), "done");
    assert_eq!(status("empty.jsonl"), "done");
    assert_eq!(m["totals"]["errors"].as_u64().unwrap(), errors.len() as u64);
}

#[test]
fn oversized_documents_are_skipped_with_a_record() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("huge.jsonl");
    let big = "x".repeat(3 << 20);
    let small =
        serde_json::json!({"id": "ok", "text": "The AI threatened to blackmail the engineer."});
    let line = serde_json::json!({"id": "huge", "text": big});
    std::fs::write(&p, format!("{small}\n{line}\n{small}\n")).unwrap();
    let zst = tmp.path().join("huge.jsonl.zst");
    std::fs::write(
        &zst,
        zstd::encode_all(std::fs::read(&p).unwrap().as_slice(), 1).unwrap(),
    )
    .unwrap();
    for input in [&p, &zst] {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let (run, o) = scan(
            tmp.path(),
            &format!("r-{name}"),
            &[input.to_str().unwrap()],
            &["--all-docs", "--max-doc-bytes", "1000000"],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let errs = errors(&run);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0]["kind"], "too_large");
        assert_eq!(errs[0]["row"], 1);
        let rows: Vec<u64> = read_docs(&run).iter().map(|d| d.row).collect();
        assert_eq!(rows, vec![0, 2], "{name}");
    }
}

#[test]
fn parquet_without_the_text_column_is_a_shard_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(
        tmp.path(),
        "r",
        &["fixtures/corpus/sample.parquet"],
        &["--text-field", "body"],
    );
    assert_eq!(o.status.code(), Some(1));
    let errs = errors(&run);
    assert_eq!(errs[0]["kind"], "bad_parquet");
    assert!(errs[0]["reason"].as_str().unwrap().contains("body"));
}

#[test]
fn empty_folder_and_unmatched_glob() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (_, o) = scan(tmp.path(), "r1", &[empty.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no input shard found"));
    let glob = format!("{}/*.jsonl", empty.display());
    let (run, o) = scan(tmp.path(), "r2", &[&glob], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(errors(&run)[0]["kind"], "bad_input");
}
