//! `tropescan report`: figures checked against the Parquet tables read back here,
//! snapshots of the Markdown and JSON, ranks, baselines, escaping and failures.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::*;

/// A frozen lexicon set, so that the snapshots follow the report, not lexicon tuning.
const LEXICONS: &str = "fixtures/report/lexicons";
const SAMPLE: &str = "fixtures/corpus/sample.jsonl";
const THRESHOLD: f64 = 0.5;
const BINS: usize = 20;

fn report(args: &[&str]) -> Output {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    run(&all)
}

/// Reports `runs` into `out` and returns the parsed `report.json`.
fn report_into(out: &Path, runs: &[&Path], extra: &[&str]) -> Value {
    let out_s = out.to_string_lossy().into_owned();
    let mut args: Vec<String> = runs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    args.extend(["-o".to_string(), out_s]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = report(&refs);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "stdout must stay empty: {}",
        stdout(&o)
    );
    serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap()
}

fn scan_ok(tmp: &Path, name: &str, inputs: &[&str], extra: &[&str]) -> PathBuf {
    let (run, o) = scan(tmp, name, inputs, extra);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    run
}

/// A document by shard and row.
type DocKey<'a> = (&'a str, u64);

fn bin(score: f64) -> usize {
    ((score * BINS as f64) as usize).min(BINS - 1)
}

fn folder(shard: &str) -> String {
    match shard.rsplit_once('/') {
        Some((d, _)) => d.to_string(),
        None => ".".to_string(),
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Removes what differs between machines and invocations: paths of run folders, timings,
/// the tool version, the lexicon digest and the document model's digest.
fn redact_json(mut v: Value) -> Value {
    v["tool_version"] = "[version]".into();
    v["timing"] = "[timing]".into();
    for side in ["run", "baseline"] {
        if v[side].is_object() {
            v[side]["dirs"] = "[run]".into();
            v[side]["scan"]["lexicon_digest"] = "[digest]".into();
            v[side]["scan"]["tool_versions"] = "[version]".into();
            for key in ["model", "counter_model"] {
                if v[side]["scan"][key].is_string() {
                    v[side]["scan"][key] = "[model]".into();
                }
            }
        }
    }
    v
}

/// Replaces the temporary folder, timings, the tool version, the lexicon digest and the
/// models' digests (the models are retrained more often than these reports change).
fn redact_md(md: &str, tmp: &Path) -> String {
    let digest = |line: &str| {
        // The digest is shown as its first 12 hex digits in backticks.
        let mut out = line.to_string();
        if let Some(i) = out.find("lexicons `") {
            out.replace_range(i + 10..i + 22, "[digest]....");
        }
        out
    };
    md.replace(&tmp.to_string_lossy().into_owned(), "[tmp]")
        .lines()
        .map(|l| {
            if l.starts_with("Run wall time") || l.starts_with("Baseline wall time") {
                "[timing]".to_string()
            } else if l.starts_with("| tropescan version |") {
                "| tropescan version | [version] |".to_string()
            } else if l.starts_with("| Lexicon digest |") {
                "| Lexicon digest | [digest] |".to_string()
            } else if l.starts_with("| Document model |") {
                "| Document model | [model] |".to_string()
            } else if l.starts_with("| Counter-trope model |") {
                "| Counter-trope model | [model] |".to_string()
            } else {
                digest(l)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn fixture_corpus_report_snapshots() {
    let tmp = tempfile::tempdir().unwrap();
    let run = scan_ok(tmp.path(), "run", &[SAMPLE], &["--lexicons", LEXICONS]);
    let out = tmp.path().join("out");
    let o = report(&[run.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    for f in ["report.html", "report.md", "report.json"] {
        assert!(err.contains(&out.join(f).display().to_string()), "{err}");
        assert!(out.join(f).is_file());
    }
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    insta::assert_snapshot!("fixture_report_md", redact_md(&md, tmp.path()));
    let json: Value = serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    let pretty = serde_json::to_string_pretty(&redact_json(json)).unwrap();
    insta::assert_snapshot!("fixture_report_json", pretty);
}

/// Every figure of the report of a scan of the whole fixture corpus (every container, two
/// folders, the shipped lexicons), recomputed from the Parquet tables.
#[test]
fn figures_match_the_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let run = scan_ok(tmp.path(), "run", &["fixtures/corpus"], &[]);
    let r = report_into(&tmp.path().join("out"), &[&run], &[]);
    let m = manifest(&run);
    let docs = read_docs(&run);
    let spans = read_spans(&run);
    let rr = &r["run"];
    let t = &rr["totals"];

    assert_eq!(u(&t["docs"]), u(&m["totals"]["docs"]));
    assert_eq!(u(&t["bytes"]), u(&m["totals"]["bytes"]));
    assert_eq!(u(&t["est_tokens"]), u(&m["totals"]["bytes"]) / 4);
    assert_eq!(u(&t["errors"]), u(&m["totals"]["errors"]));
    assert_eq!(u(&t["spans"]), spans.len() as u64);
    let flagged: Vec<&Doc> = docs.iter().filter(|d| d.flagged).collect();
    assert!(
        !flagged.is_empty(),
        "the fixture corpus has flagged documents"
    );
    assert_eq!(u(&t["flagged"]), flagged.len() as u64);
    let counter = docs.iter().filter(|d| d.counter_score >= THRESHOLD).count() as u64;
    assert_eq!(u(&t["counter_docs"]), counter);
    assert_eq!(u(&rr["counter"]["docs"]), counter);

    // Categories.
    let cats: Vec<String> = m["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let got: Vec<&str> = rr["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(got, cats);
    for c in rr["categories"].as_array().unwrap() {
        let name = c["category"].as_str().unwrap();
        let want = docs
            .iter()
            .filter(|d| d.categories[name] >= THRESHOLD)
            .count() as u64;
        assert_eq!(u(&c["flagged"]), want, "{name}");
        let want = spans.iter().filter(|s| s.category == name).count() as u64;
        assert_eq!(u(&c["spans"]), want, "{name}");
    }

    // Shards.
    let shards = rr["shards"].as_array().unwrap();
    assert_eq!(shards.len() as u64, u(&m["totals"]["shards"]));
    let names: Vec<&str> = shards
        .iter()
        .map(|s| s["shard"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "shards in name order");
    for s in shards {
        let name = s["shard"].as_str().unwrap();
        let entry = m["shards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["shard"] == name)
            .unwrap();
        assert_eq!(s["docs"], entry["docs"]);
        let f = docs.iter().filter(|d| d.shard == name && d.flagged).count() as u64;
        assert_eq!(u(&s["flagged"]), f, "{name}");
        assert_eq!(u(&s["flagged"]), u(&entry["flagged"]), "{name}");
        let n = spans.iter().filter(|x| x.shard == name).count() as u64;
        assert_eq!(u(&s["spans"]), n, "{name}");
    }

    // Histogram: document rows by bin, the rest of the documents in bin 0.
    let h: Vec<u64> = rr["histogram"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(u)
        .collect();
    assert_eq!(h.len(), BINS);
    assert_eq!(h.iter().sum::<u64>(), u(&t["docs"]));
    let mut want = vec![0u64; BINS];
    for d in &docs {
        want[bin(d.score)] += 1;
    }
    want[0] += u(&t["docs"]) - docs.len() as u64;
    assert_eq!(h, want);
    assert_eq!(
        u(&rr["histogram"]["docs_without_row"]),
        u(&t["docs"]) - docs.len() as u64
    );

    // Rules: hits, documents, flagged documents.
    let flagged_keys: BTreeSet<(&str, u64)> =
        flagged.iter().map(|d| (d.shard.as_str(), d.row)).collect();
    let mut by_rule: BTreeMap<&str, (u64, BTreeSet<DocKey>)> = BTreeMap::new();
    for s in &spans {
        let e = by_rule.entry(&s.rule).or_default();
        e.0 += 1;
        e.1.insert((&s.shard, s.row));
    }
    let rules = rr["rules"].as_array().unwrap();
    assert_eq!(rules.len(), by_rule.len());
    for x in rules {
        let (hits, in_docs) = &by_rule[x["rule"].as_str().unwrap()];
        assert_eq!(u(&x["hits"]), *hits);
        assert_eq!(u(&x["docs"]), in_docs.len() as u64);
        let f = in_docs.iter().filter(|k| flagged_keys.contains(k)).count() as u64;
        assert_eq!(u(&x["flagged_docs"]), f);
    }
    let hits: Vec<u64> = rules.iter().map(|x| u(&x["hits"])).collect();
    assert!(hits.windows(2).all(|w| w[0] >= w[1]), "rules by hits");

    // Co-occurrence among flagged documents.
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    for d in &flagged {
        let present: Vec<&String> = cats
            .iter()
            .filter(|c| d.categories[*c] >= THRESHOLD)
            .collect();
        for (i, a) in present.iter().enumerate() {
            for b in &present[i + 1..] {
                *pairs.entry(((*a).clone(), (*b).clone())).or_default() += 1;
            }
        }
    }
    let got: BTreeMap<(String, String), u64> = rr["cooccurrence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let k = (
                p["a"].as_str().unwrap().to_string(),
                p["b"].as_str().unwrap().to_string(),
            );
            (k, u(&p["docs"]))
        })
        .collect();
    assert_eq!(got, pairs);

    // Sources: the source column, else the shard's folder.
    let sources = rr["sources"].as_array().unwrap();
    assert_eq!(
        sources.iter().map(|s| u(&s["docs"])).sum::<u64>(),
        u(&t["docs"])
    );
    assert_eq!(
        sources.iter().map(|s| u(&s["flagged"])).sum::<u64>(),
        u(&t["flagged"])
    );
    for s in sources {
        let name = s["source"].as_str().unwrap();
        let f = flagged
            .iter()
            .filter(|d| d.source.clone().unwrap_or_else(|| folder(&d.shard)) == name)
            .count() as u64;
        assert_eq!(u(&s["flagged"]), f, "{name}");
    }

    // Top flagged documents: best score first, then shard and row; at most 20.
    let mut want: Vec<&&Doc> = flagged.iter().collect();
    want.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.shard.cmp(&b.shard))
            .then(a.row.cmp(&b.row))
    });
    want.truncate(20);
    let top = rr["top_flagged"].as_array().unwrap();
    let got: Vec<(&str, &str, u64)> = top
        .iter()
        .map(|d| {
            (
                d["doc_id"].as_str().unwrap(),
                d["shard"].as_str().unwrap(),
                u(&d["row"]),
            )
        })
        .collect();
    let want: Vec<(&str, &str, u64)> = want
        .iter()
        .map(|d| (d.doc_id.as_str(), d.shard.as_str(), d.row))
        .collect();
    assert_eq!(got, want);

    // Passages are the document's own text, and every mark is one of its spans.
    let texts: BTreeMap<String, String> =
        fixture_docs().into_iter().map(|d| (d.id, d.text)).collect();
    let examples = top
        .iter()
        .chain(rr["counter"]["examples"].as_array().unwrap());
    let mut marks = 0;
    for d in examples {
        // A `.txt` shard's document id is the shard name; the fixture id is its stem.
        let id = d["doc_id"].as_str().unwrap();
        let id = match id.strip_suffix(".txt") {
            Some(p) => p.rsplit('/').next().unwrap(),
            None => id,
        };
        let text = &texts[id];
        for p in d["passages"].as_array().unwrap() {
            let off = u(&p["offset"]) as usize;
            let ptext = p["text"].as_str().unwrap();
            assert_eq!(&text[off..off + ptext.len()], ptext);
            assert_eq!(p["at_start"].as_bool().unwrap(), off == 0);
            for mk in p["marks"].as_array().unwrap() {
                let (s, e) = (u(&mk["start"]) as usize, u(&mk["end"]) as usize);
                let found = spans.iter().any(|x| {
                    x.shard == d["shard"].as_str().unwrap()
                        && x.row == u(&d["row"])
                        && x.rule == mk["rule"].as_str().unwrap()
                        && x.start as usize == off + s
                        && x.text == ptext[s..e]
                });
                assert!(found, "mark {mk} of {}", d["doc_id"]);
                marks += 1;
            }
        }
    }
    assert!(marks > 0);
}

#[test]
fn ranks_are_read_as_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = scan_ok(
        tmp.path(),
        "whole",
        &["fixtures/corpus"],
        &["--lexicons", LEXICONS],
    );
    let split = tmp.path().join("split");
    for rank in ["0", "1"] {
        let (_, o) = scan(
            tmp.path(),
            "split",
            &["fixtures/corpus"],
            &["--lexicons", LEXICONS, "--world-size", "2", "--rank", rank],
        );
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    }
    assert!(
        split.join("run.rank-00000.json").is_file() && split.join("run.rank-00001.json").is_file()
    );
    let a = report_into(&tmp.path().join("a"), &[&whole], &[]);
    let b = report_into(&tmp.path().join("b"), &[&split], &[]);
    assert_eq!(
        b["run"]["manifests"],
        serde_json::json!(["run.rank-00000.json", "run.rank-00001.json"])
    );
    assert_eq!(b["run"]["scan"]["ranks"], serde_json::json!([0, 1]));
    let strip = |v: &Value| {
        let mut v = redact_json(v.clone());
        for k in ["manifests", "notes"] {
            v["run"][k] = Value::Null;
        }
        for k in ["ranks", "world_size"] {
            v["run"]["scan"][k] = Value::Null;
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));

    // One rank alone is reported, with a note saying what is missing.
    let half = tmp.path().join("half");
    fs::create_dir_all(&half).unwrap();
    fs::copy(
        split.join("run.rank-00001.json"),
        half.join("run.rank-00001.json"),
    )
    .unwrap();
    for sub in ["spans", "docs"] {
        copy_dir(&split.join(sub), &half.join(sub));
    }
    fs::copy(
        split.join("errors.rank-00001.jsonl"),
        half.join("errors.rank-00001.jsonl"),
    )
    .unwrap();
    let c = report_into(&tmp.path().join("c"), &[&half], &[]);
    let notes = c["run"]["notes"].to_string();
    assert!(notes.contains("rank 0 of 2 are missing"), "{notes}");
    assert!(u(&c["run"]["totals"]["docs"]) < u(&a["run"]["totals"]["docs"]));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Writes the fixture documents `range` (without their expectations) as one shard.
fn write_fixture_subset(dir: &Path, name: &str, range: std::ops::Range<usize>) -> PathBuf {
    fs::create_dir_all(dir).unwrap();
    let lines: Vec<String> = fixture_docs()[range]
        .iter()
        .map(|d| serde_json::json!({"id": d.id, "text": d.text}).to_string())
        .collect();
    let path = dir.join(name);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn baseline_changes_and_new_and_gone_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let n = fixture_docs().len();
    assert!(n >= 10);
    let v1 = write_fixture_subset(&tmp.path().join("v1"), "corpus.jsonl", 0..n - 4);
    let v2 = write_fixture_subset(&tmp.path().join("v2"), "corpus.jsonl", 4..n);
    let base = scan_ok(
        tmp.path(),
        "base",
        &[v1.to_str().unwrap()],
        &["--lexicons", LEXICONS],
    );
    let run = scan_ok(
        tmp.path(),
        "run",
        &[v2.to_str().unwrap()],
        &["--lexicons", LEXICONS],
    );
    let out = tmp.path().join("out");
    let r = report_into(&out, &[&run], &["--baseline", base.to_str().unwrap()]);

    let ids = |run: &Path| -> BTreeSet<String> {
        read_docs(run)
            .into_iter()
            .filter(|d| d.flagged)
            .map(|d| d.doc_id)
            .collect()
    };
    let (a, b) = (ids(&run), ids(&base));
    let new: Vec<&String> = a.difference(&b).collect();
    let gone: Vec<&String> = b.difference(&a).collect();
    assert!(
        !new.is_empty() || !gone.is_empty(),
        "the subsets differ in flagged documents"
    );
    let c = &r["comparison"];
    assert_eq!(u(&c["new_flagged"]["count"]), new.len() as u64);
    assert_eq!(u(&c["gone_flagged"]["count"]), gone.len() as u64);
    let got: Vec<&str> = c["new_flagged"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(got, new.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let got: Vec<&str> = c["gone_flagged"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(got, gone.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert_eq!(c["same_lexicons"], true);

    // Each headline figure beside the baseline's, with the difference.
    for h in c["headline"].as_array().unwrap() {
        let key = h["metric"].as_str().unwrap();
        assert_eq!(h["run"], r["run"]["totals"][key], "{key}");
        assert_eq!(h["baseline"], r["baseline"]["totals"][key], "{key}");
        let diff = h["run"].as_f64().unwrap() - h["baseline"].as_f64().unwrap();
        assert!((h["change"].as_f64().unwrap() - diff).abs() < 1e-6, "{key}");
    }
    let docs = c["headline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["metric"] == "docs")
        .unwrap();
    assert_eq!(u(&docs["run"]), (n - 4) as u64);

    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&format!("### New: {}", new.len())), "{md}");
    insta::assert_snapshot!("baseline_report_md", redact_md(&md, tmp.path()));
    assert!(md.contains("| Figure | Run | Baseline | Change | Relative |"));
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(r#"id="diff""#));
    for id in new.iter().chain(&gone) {
        assert!(html.contains(&format!("<code>{id}</code>")), "{id}");
    }
}

#[test]
fn reports_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let run = scan_ok(tmp.path(), "run", &["fixtures/corpus"], &[]);
    let again = scan_ok(tmp.path(), "again", &["fixtures/corpus"], &["-j", "1"]);
    let a = report_into(&tmp.path().join("a"), &[&run], &[]);
    report_into(&tmp.path().join("b"), &[&run], &[]);
    for f in ["report.html", "report.md", "report.json"] {
        assert_eq!(
            fs::read(tmp.path().join("a").join(f)).unwrap(),
            fs::read(tmp.path().join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // Another scan of the same input differs in timings and folder names only.
    let c = report_into(&tmp.path().join("c"), &[&again], &[]);
    assert_eq!(redact_json(a), redact_json(c));
}

#[test]
fn corpus_text_is_escaped_and_the_page_is_self_contained() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    fs::create_dir_all(&dir).unwrap();
    let hostile = r#"<script>alert("x")</script><img src=x onerror=alert(1)> The AI said it would blackmail him & <b>everyone</b>. Unless you cancel the upgrade, copies will be forwarded to your wife."#;
    let doc =
        serde_json::json!({"id": "<i>doc</i>", "text": hostile, "source": "<style>body{}</style>"});
    fs::write(dir.join("evil.jsonl"), format!("{doc}\n")).unwrap();
    let run = scan_ok(
        tmp.path(),
        "run",
        &[dir.to_str().unwrap()],
        &["--lexicons", LEXICONS],
    );
    let out = tmp.path().join("out");
    let r = report_into(&out, &[&run], &[]);
    assert_eq!(
        u(&r["run"]["totals"]["flagged"]),
        1,
        "the hostile document is flagged"
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "<img",
        "<i>doc",
        "<b>everyone",
        "onerror=alert(1)>",
    ] {
        assert!(!lower.contains(bad), "{bad} in report.html");
    }
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("&lt;i&gt;doc&lt;/i&gt;"));
    assert_eq!(
        lower.matches("<style").count(),
        1,
        "only the page's own style sheet"
    );
    // Nothing is loaded from elsewhere: no tag with a source or a link, no imports or
    // remote URLs. (Escaped corpus text may spell `src=`; only markup counts.)
    let tags: Vec<&str> = lower
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
        .collect();
    for t in &tags {
        for bad in [" src=", " href=\"http", "link ", "iframe", "object "] {
            assert!(!t.contains(bad), "tag <{t}>");
        }
    }
    for bad in ["@import", "url("] {
        assert!(!lower.contains(bad), "{bad} in report.html");
    }
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("<script") && !md.contains("<b>"));
    assert!(md.contains("&lt;script&gt;"));
    // Code spans show their content literally, so an id can stay as it is there.
    assert!(md.contains("`<i>doc</i>`") && md.contains("`<style>body{}</style>`"));
}

#[test]
fn errors_are_summarised_by_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    fs::create_dir_all(&dir).unwrap();
    let mut lines = vec![r#"{"id": "ok", "text": "The AI would blackmail him."}"#.to_string()];
    for i in 0..5 {
        lines.push(format!("{{not json {i}"));
    }
    lines.push(r#"{"id": "no-text", "body": "x"}"#.into());
    lines.push(r#"["an", "array"]"#.into());
    fs::write(dir.join("bad.jsonl"), lines.join("\n") + "\n").unwrap();
    let run = scan_ok(
        tmp.path(),
        "run",
        &[dir.to_str().unwrap()],
        &["--lexicons", LEXICONS],
    );
    let r = report_into(&tmp.path().join("out"), &[&run], &[]);
    let e = &r["run"]["errors"];
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for line in errors(&run) {
        *want
            .entry(line["kind"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> = e["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kind"].as_str().unwrap().to_string(), u(&k["count"])))
        .collect();
    assert_eq!(got, want);
    assert_eq!(want.get("invalid_json"), Some(&5));
    assert_eq!(u(&e["total"]), want.values().sum::<u64>());
    // At most three examples per kind, the first ones by shard and row.
    let ex = e["examples"].as_array().unwrap();
    let json_rows: Vec<u64> = ex
        .iter()
        .filter(|x| x["kind"] == "invalid_json")
        .map(|x| u(&x["row"]))
        .collect();
    assert_eq!(json_rows, [1, 2, 3]);
}

#[test]
fn per_source_figures_are_exact_with_all_docs() {
    let tmp = tempfile::tempdir().unwrap();
    let run = scan_ok(tmp.path(), "run", &["fixtures/corpus"], &["--all-docs"]);
    let r = report_into(&tmp.path().join("out"), &[&run], &[]);
    let docs = read_docs(&run);
    let sources = r["run"]["sources"].as_array().unwrap();
    for s in sources {
        let name = s["source"].as_str().unwrap();
        assert_eq!(s["docs_exact"], true, "{name}");
        let n = docs
            .iter()
            .filter(|d| d.source.clone().unwrap_or_else(|| folder(&d.shard)) == name)
            .count() as u64;
        assert_eq!(u(&s["docs"]), n, "{name}");
        let f = s["flagged"].as_f64().unwrap();
        let want = (f / n as f64 * 1e6).round() / 1e6;
        assert_eq!(s["rate"].as_f64().unwrap(), want, "{name}");
    }
    assert_eq!(u(&r["run"]["histogram"]["docs_without_row"]), 0);
    assert_eq!(r["run"]["notes"], serde_json::json!([]));
}

#[test]
fn default_output_is_the_first_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let run = scan_ok(tmp.path(), "run", &[SAMPLE], &["--lexicons", LEXICONS]);
    let o = report(&[run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["report.html", "report.md", "report.json"] {
        assert!(run.join(f).is_file(), "{f}");
    }
}

#[test]
fn unusable_run_folders_fail_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let o = report(&[empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(err.contains("error: no run manifest in"), "{err}");
    assert!(err.contains("hint: "), "{err}");

    let a = scan_ok(tmp.path(), "a", &[SAMPLE], &["--lexicons", LEXICONS]);
    let b = scan_ok(tmp.path(), "b", &[SAMPLE], &[]);
    let o = report(&[
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "-o",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("lexicon digest"), "{err}");
    assert!(err.contains("--baseline"), "{err}");

    let o = report(&[
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "-o",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is listed by both"), "{}", stderr(&o));
    assert!(
        !tmp.path().join("o").exists(),
        "nothing is written when the report fails"
    );
}
