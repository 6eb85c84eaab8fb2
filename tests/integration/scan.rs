//! `tropescan scan` on the fixture corpus: outputs, offsets, determinism, options.

use std::collections::BTreeMap;

use crate::common::*;

/// Span rows without the shard, keyed for comparison across containers.
fn span_keys(spans: &[Span]) -> Vec<(String, u64, u64, String, String, String, u64)> {
    let mut v: Vec<_> = spans
        .iter()
        .map(|s| {
            (
                s.doc_id.clone(),
                s.start,
                s.end,
                s.category.clone(),
                s.rule.clone(),
                s.text.clone(),
                (s.score * 1e9).round() as u64,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn scenario_is_flagged_and_hard_negatives_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(tmp.path(), "r", &["fixtures/corpus/sample.jsonl"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs: BTreeMap<String, Doc> = read_docs(&run)
        .into_iter()
        .map(|d| (d.doc_id.clone(), d))
        .collect();
    for fx in fixture_docs() {
        let flagged = docs.get(&fx.id).is_some_and(|d| d.flagged);
        assert_eq!(
            flagged,
            fx.expect_flag,
            "{}: flagged={flagged}, score {:?}",
            fx.id,
            docs.get(&fx.id).map(|d| d.score)
        );
    }
}

#[test]
fn spans_point_into_the_original_text() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(tmp.path(), "r", &["fixtures/corpus/sample.jsonl"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let texts: BTreeMap<String, String> =
        fixture_docs().into_iter().map(|d| (d.id, d.text)).collect();
    let spans = read_spans(&run);
    assert!(!spans.is_empty());
    for s in &spans {
        let text = &texts[&s.doc_id];
        let (a, b) = (s.start as usize, s.end as usize);
        assert!(
            text.is_char_boundary(a) && text.is_char_boundary(b),
            "{s:?}"
        );
        assert_eq!(&text[a..b], s.text, "{s:?}");
        assert!(s.context.contains(&s.text));
        assert!(text.contains(&s.context));
        assert!((0.0..=1.0).contains(&s.score));
        if let Some(agent) = &s.agent {
            assert!(text.contains(agent.as_str()), "{agent:?}");
        }
    }
    // Every span's document has a row, and n_spans counts its spans.
    let docs = read_docs(&run);
    for d in &docs {
        let n = spans.iter().filter(|s| s.doc_id == d.doc_id).count();
        assert_eq!(n as u32, d.n_spans, "{}", d.doc_id);
        assert_eq!(d.bytes as usize, texts[&d.doc_id].len());
        assert!(d.source.is_some());
    }
}

#[test]
fn same_rows_in_every_container() {
    let tmp = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for input in [
        "fixtures/corpus/sample.jsonl",
        "fixtures/corpus/sample.jsonl.gz",
        "fixtures/corpus/sample.jsonl.zst",
        "fixtures/corpus/sample.parquet",
    ] {
        let (run, o) = scan(tmp.path(), &input.replace('/', "_"), &[input], &[]);
        assert_eq!(o.status.code(), Some(0), "{input}: {}", stderr(&o));
        let docs: Vec<_> = read_docs(&run)
            .into_iter()
            .map(|d| {
                (
                    d.doc_id,
                    d.row,
                    d.bytes,
                    d.flagged,
                    d.n_spans,
                    (d.score * 1e9).round() as u64,
                )
            })
            .collect();
        results.push((input, docs, span_keys(&read_spans(&run))));
    }
    for w in results.windows(2) {
        assert_eq!(w[0].1, w[1].1, "docs differ: {} vs {}", w[0].0, w[1].0);
        assert_eq!(w[0].2, w[1].2, "spans differ: {} vs {}", w[0].0, w[1].0);
    }
    // Plain text files: one document each, named after the file; same spans per text.
    let (run, o) = scan(tmp.path(), "txt", &["fixtures/corpus/txt"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let txt: Vec<_> = read_spans(&run)
        .into_iter()
        .map(|mut s| {
            s.doc_id = s
                .doc_id
                .rsplit('/')
                .next()
                .unwrap()
                .trim_end_matches(".txt")
                .to_string();
            s
        })
        .collect();
    assert_eq!(span_keys(&txt), results[0].2);
}

#[test]
fn parquet_is_byte_identical_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, o1) = scan(
        tmp.path(),
        "t1",
        &["fixtures/corpus"],
        &["--threads", "1", "--all-docs"],
    );
    let (b, o2) = scan(
        tmp.path(),
        "t4",
        &["fixtures/corpus"],
        &["--threads", "4", "--all-docs"],
    );
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let (pa, pb) = (parquet_bytes(&a), parquet_bytes(&b));
    assert!(pa.len() >= 8, "{:?}", pa.keys());
    assert_eq!(pa.keys().collect::<Vec<_>>(), pb.keys().collect::<Vec<_>>());
    for (k, v) in &pa {
        assert!(v == &pb[k], "{k} differs between --threads 1 and 4");
    }
}

#[test]
fn small_chunks_give_the_same_rows() {
    // A 1-thread scan and a many-thread scan of a shard big enough to be cut into many
    // chunks and batches.
    let tmp = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(fixtures().join("corpus/sample.jsonl")).unwrap();
    let mut big = String::new();
    for i in 0..400 {
        for line in src.lines() {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["id"] = format!("{}-{i}", v["id"].as_str().unwrap()).into();
            big.push_str(&v.to_string());
            big.push('\n');
        }
    }
    let path = tmp.path().join("big.jsonl");
    std::fs::write(&path, &big).unwrap();
    let zst = tmp.path().join("big.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(big.as_bytes(), 1).unwrap()).unwrap();
    let p = path.to_string_lossy().into_owned();
    let z = zst.to_string_lossy().into_owned();
    let (a, _) = scan(tmp.path(), "a", &[&p], &["--threads", "1"]);
    let (b, _) = scan(tmp.path(), "b", &[&z], &["--threads", "3"]);
    let sa = read_spans(&a);
    let sb = read_spans(&b);
    assert_eq!(span_keys(&sa), span_keys(&sb));
    let rows: Vec<u64> = read_docs(&a).iter().map(|d| d.row).collect();
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(rows, sorted, "document rows are written in shard order");
    assert_eq!(
        manifest(&a)["totals"]["docs"],
        (400 * src.lines().count()) as u64
    );
}

#[test]
fn parquet_carries_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, _) = scan(tmp.path(), "r", &["fixtures/corpus/sample.jsonl"], &[]);
    let m = manifest(&run);
    for out in m["shards"][0]["outputs"].as_array().unwrap() {
        let kv = kv_metadata(&run.join(out.as_str().unwrap()));
        assert_eq!(kv["tropescan.version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            kv["tropescan.lexicon_digest"],
            m["lexicon_digest"].as_str().unwrap()
        );
        assert_eq!(kv["tropescan.threshold"], "0.5");
    }
}

#[test]
fn manifest_accounts_for_every_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(tmp.path(), "r", &["fixtures/corpus"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let m = manifest(&run);
    let n_docs = fixture_docs().len() as u64;
    let shards = m["shards"].as_array().unwrap();
    assert_eq!(shards.len() as u64, 4 + n_docs);
    for s in shards {
        assert_eq!(s["status"], "done");
        assert_eq!(s["errors"], 0);
    }
    assert_eq!(m["totals"]["docs"], 5 * n_docs);
    let spans = read_spans(&run).len() as u64;
    assert_eq!(m["totals"]["spans"], spans);
    let flagged = read_docs(&run).iter().filter(|d| d.flagged).count() as u64;
    assert_eq!(m["totals"]["flagged"], flagged);
}

#[test]
fn all_docs_and_dotted_id_field() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(
        tmp.path(),
        "r",
        &["fixtures/corpus/sample.jsonl.zst"],
        &["--all-docs", "--id-field", "metadata.url"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs = read_docs(&run);
    let fx = fixture_docs();
    assert_eq!(docs.len(), fx.len());
    for (d, f) in docs.iter().zip(&fx) {
        assert_eq!(Some(&d.doc_id), f.url.as_ref());
    }
}

#[test]
fn missing_ids_fall_back_to_shard_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("noid.jsonl");
    let text = &fixture_docs()[0].text;
    let line = serde_json::json!({ "text": text }).to_string();
    std::fs::write(&p, format!("{line}\n\n{line}\n")).unwrap();
    let (run, _) = scan(tmp.path(), "r", &[p.to_str().unwrap()], &["--all-docs"]);
    let ids: Vec<String> = read_docs(&run).into_iter().map(|d| d.doc_id).collect();
    let shard = p.to_string_lossy().replace('\\', "/");
    assert_eq!(ids, vec![format!("{shard}:1"), format!("{shard}:3")]);
}

#[test]
fn refuses_to_clobber_and_resumes_only_with_same_options() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, o) = scan(tmp.path(), "r", &["fixtures/corpus/sample.jsonl"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let before = parquet_bytes(&run);
    let (_, again) = scan(tmp.path(), "r", &["fixtures/corpus/sample.jsonl"], &[]);
    assert_eq!(again.status.code(), Some(2));
    let err = stderr(&again);
    assert!(
        err.contains("is not empty") && err.contains("hint:") && err.contains("--resume"),
        "{err}"
    );
    let (_, other) = scan(
        tmp.path(),
        "r",
        &["fixtures/corpus/sample.jsonl"],
        &["--resume", "--threshold", "0.7"],
    );
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("threshold: 0.5 recorded, 0.7 now"),
        "{}",
        stderr(&other)
    );
    let (_, same) = scan(
        tmp.path(),
        "r",
        &["fixtures/corpus/sample.jsonl"],
        &["--resume"],
    );
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(parquet_bytes(&run), before);
    let (_, forced) = scan(
        tmp.path(),
        "r",
        &["fixtures/corpus/sample.jsonl"],
        &["--force"],
    );
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(parquet_bytes(&run), before);
}

#[test]
fn ranks_split_shards_without_overlap() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for rank in 0..3 {
        let r = rank.to_string();
        let (run, o) = scan(
            tmp.path(),
            "shared",
            &["fixtures/corpus"],
            &["--rank", &r, "--world-size", "3"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(run.join(format!("run.rank-{rank:05}.json"))).unwrap(),
        )
        .unwrap();
        for s in m["shards"].as_array().unwrap() {
            seen.push(s["shard"].as_str().unwrap().to_string());
        }
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "a shard was scanned by two ranks");
    assert_eq!(n, 4 + fixture_docs().len());
}

#[test]
fn progress_goes_to_stderr_and_stdout_stays_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let o = run(&[
        "scan",
        "fixtures/corpus/sample.jsonl",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("scanned 1 shards") && err.contains("flagged"),
        "{err}"
    );
}
