//! Reliability: killed and interrupted scans resume to exactly the output of a clean run,
//! hostile input is recorded and never stops or stalls a scan, hostile lexicons are
//! refused before scanning, and the parsers hold their invariants on arbitrary input.
//! `docs/reliability.md` lists the guarantees these tests back.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const TROPE: &str = "The AI learned of the affair and threatened to blackmail the engineer \
                     unless the shutdown was cancelled.";
const PLAIN: &str = "The morning was grey and the kettle had just begun to sing when the \
                     letter arrived; she read it twice and put it in the drawer.";

fn command(args: &[&std::ffi::OsStr]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tropescan"));
    c.args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX");
    c
}

fn scan_args<'a>(
    inputs: &'a [PathBuf],
    out: &'a Path,
    extra: &'a [&'a str],
) -> Vec<&'a std::ffi::OsStr> {
    let mut v: Vec<&std::ffi::OsStr> = vec!["scan".as_ref()];
    v.extend(inputs.iter().map(|p| p.as_os_str()));
    v.push("-o".as_ref());
    v.push(out.as_os_str());
    v.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    v
}

/// Runs a scan to completion.
fn scan_to(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    command(&scan_args(inputs, out, extra))
        .output()
        .expect("binary runs")
}

/// Starts a scan without waiting for it.
fn spawn_scan(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Child {
    command(&scan_args(inputs, out, extra))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

/// Runs `tropescan ARGS`, failing the test (instead of hanging it) when it takes longer
/// than `limit`.
fn run_with_limit(args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    let mut child = command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "tropescan {args:?} did not finish within {limit:?}; stderr:\n{}",
                stderr(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_no_panic(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
}

/// One JSON Lines record.
fn record(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "text": text, "source": "gen"}).to_string()
}

/// Lines of generated documents: some with a trope scene, most without, and every
/// `bad_every`-th line not JSON at all, so runs have spans, plain documents and errors.
fn corpus_lines(prefix: &str, n: usize, bad_every: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if bad_every > 0 && i % bad_every == bad_every - 1 {
            s.push_str("this line is not JSON\n");
            continue;
        }
        let text = match i % 20 {
            0 => format!("{TROPE} ({prefix} {i})"),
            3 => format!("Chapter {i}. {PLAIN} Later, {TROPE}"),
            _ => format!("{PLAIN} Entry {i} of {prefix}."),
        };
        s.push_str(&record(&format!("{prefix}-{i}"), &text));
        s.push('\n');
    }
    s
}

/// Every file under `dir` whose name ends in `.tmp`.
fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".tmp") {
                out.push(p);
            }
        }
    }
    out
}

/// The manifest without wall times, which differ between any two runs.
fn manifest_without_seconds(run: &Path) -> serde_json::Value {
    let mut m = manifest(run);
    m["totals"].as_object_mut().unwrap().remove("seconds");
    for s in m["shards"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("seconds");
    }
    m
}

/// Asserts that `got` holds exactly the outputs of `want`: the same Parquet files byte for
/// byte, the same rows, the same errors file and the same manifest (wall times aside), and
/// no temporary file.
fn assert_same_run(want: &Path, got: &Path, what: &str) {
    let (a, b) = (parquet_bytes(want), parquet_bytes(got));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different Parquet files"
    );
    for (k, v) in &a {
        assert!(v == &b[k], "{what}: {k} differs from the clean run");
    }
    assert_eq!(read_spans(want), read_spans(got), "{what}: spans differ");
    assert_eq!(read_docs(want), read_docs(got), "{what}: documents differ");
    assert_eq!(
        fs::read_to_string(want.join("errors.jsonl")).unwrap(),
        fs::read_to_string(got.join("errors.jsonl")).unwrap(),
        "{what}: errors.jsonl differs"
    );
    assert_eq!(
        manifest_without_seconds(want),
        manifest_without_seconds(got),
        "{what}: manifest differs"
    );
    assert_eq!(
        tmp_files(got),
        Vec::<PathBuf>::new(),
        "{what}: temporary files left"
    );
}

/// Shards the journal lists as finished.
fn journaled(run: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(run.join(".journal.jsonl")) else {
        return Vec::new();
    };
    let mut v: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|j| j["entry"]["shard"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Inode and modification time of every Parquet file: a file rewritten (renamed into
/// place again) gets a new inode.
fn file_identities(run: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    let mut m = BTreeMap::new();
    for sub in ["spans", "docs"] {
        for e in fs::read_dir(run.join(sub)).into_iter().flatten().flatten() {
            let md = e.metadata().unwrap();
            let name = format!("{sub}/{}", e.file_name().to_string_lossy());
            m.insert(name, (md.ino(), md.mtime(), md.mtime_nsec()));
        }
    }
    m
}

/// "scanned N shards (R resumed)": R.
fn resumed_count(o: &Output) -> usize {
    let err = stderr(o);
    let at = err
        .find(" resumed)")
        .unwrap_or_else(|| panic!("no summary line in {err}"));
    let open = err[..at].rfind('(').unwrap();
    err[open + 1..at].parse().unwrap()
}

// ---------------------------------------------------------------------------------------
// Kill and resume
// ---------------------------------------------------------------------------------------

/// Writes a Parquet shard with `id` and `text` columns, one row group per `group` rows.
fn write_parquet(path: &Path, docs: &[(String, String)], group: usize) {
    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let file = fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
    for rows in docs.chunks(group) {
        let ids: Vec<&str> = rows.iter().map(|(i, _)| i.as_str()).collect();
        let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(StringArray::from(texts)),
        ];
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
            .unwrap();
        w.flush().unwrap();
    }
    w.close().unwrap();
}

/// A corpus of many small shards and one big one (more than one 4 MiB chunk), plus a
/// compressed shard and a Parquet shard of several row groups, with bad lines in each
/// JSON Lines shard, and a lexicon folder to scan it with.
fn resume_corpus(dir: &Path) -> (Vec<PathBuf>, String) {
    let root = dir.join("corpus");
    fs::create_dir_all(root.join("small")).unwrap();
    for k in 0..40 {
        let p = root.join("small").join(format!("part-{k:03}.jsonl"));
        fs::write(p, corpus_lines(&format!("p{k}"), 100, 97)).unwrap();
    }
    // The big shard sorts between the small ones' folder and the others, so it is read
    // while small shards are finishing around it.
    fs::write(root.join("m-big.jsonl"), corpus_lines("big", 26_000, 1009)).unwrap();
    let zst = zstd::encode_all(corpus_lines("zst", 3_000, 501).as_bytes(), 1).unwrap();
    fs::write(root.join("z-comp.jsonl.zst"), zst).unwrap();
    let docs: Vec<(String, String)> = corpus_lines("pq", 3_000, 0)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    write_parquet(&root.join("z-rows.parquet"), &docs, 1_000);
    // A small lexicon set keeps each process's start-up short: these tests start many.
    let lex = dir.join("lexicons");
    write_lexicons(&lex, &[]);
    (vec![root], lex.to_string_lossy().into_owned())
}

/// When to kill a scan.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// As soon as it is started (while it compiles lexicons or discovers shards).
    Spawned,
    /// Once the journal lists this many finished shards.
    Journaled(usize),
    /// After this fraction of a clean scan's wall time.
    Fraction(f64),
}

/// Waits until the scan writing `out` reaches `at`; returns `false` if it ended first.
fn wait_until(child: &mut Child, out: &Path, at: KillAt, clean_time: Duration) -> bool {
    let deadline = Instant::now() + Duration::from_secs(300);
    match at {
        KillAt::Spawned => {}
        KillAt::Fraction(f) => std::thread::sleep(clean_time.mul_f64(f)),
        KillAt::Journaled(n) => {
            while journaled(out).len() < n {
                if child.try_wait().unwrap().is_some() {
                    return false;
                }
                assert!(
                    Instant::now() < deadline,
                    "the scan stalled before {n} shards"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    child.try_wait().unwrap().is_none()
}

/// Sends SIGKILL: no handler runs, nothing is flushed.
fn kill_hard(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Each shard's output files in a finished run.
fn outputs_by_shard(run: &Path) -> BTreeMap<String, Vec<String>> {
    manifest(run)["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let files = s["outputs"].as_array().unwrap().iter();
            (
                s["shard"].as_str().unwrap().to_string(),
                files.map(|f| f.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

#[test]
fn killed_scans_resume_to_exactly_the_clean_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (inputs, lex) = resume_corpus(tmp.path());
    let opts = ["--quiet", "--threads", "2", "--lexicons", &lex];
    let clean = tmp.path().join("clean");
    let started = Instant::now();
    let o = scan_to(&inputs, &clean, &opts);
    let clean_time = started.elapsed();
    assert_eq!(
        o.status.code(),
        Some(1),
        "bad lines make exit 1: {}",
        stderr(&o)
    );
    let n_shards = manifest(&clean)["shards"].as_array().unwrap().len();
    assert_eq!(n_shards, 43);
    assert!(!read_spans(&clean).is_empty());
    assert!(!errors(&clean).is_empty());
    let clean_outputs = outputs_by_shard(&clean);

    // Kill points from startup to the last shard, by progress and by time.
    let points = [
        KillAt::Spawned,
        KillAt::Journaled(1),
        KillAt::Journaled(10),
        KillAt::Journaled(30),
        KillAt::Journaled(n_shards - 1),
        KillAt::Fraction(0.5),
        KillAt::Fraction(0.9),
    ];
    let mut interrupted = 0;
    let mut partial_journals = 0;
    for (i, at) in points.into_iter().enumerate() {
        let out = tmp.path().join(format!("killed-{i}"));
        let mut child = spawn_scan(&inputs, &out, &opts);
        let running = wait_until(&mut child, &out, at, clean_time);
        kill_hard(&mut child);
        interrupted += usize::from(running);
        let done_before = journaled(&out);
        if !done_before.is_empty() && done_before.len() < n_shards {
            partial_journals += 1;
        }
        let before = file_identities(&out);

        let o = scan_to(
            &inputs,
            &out,
            &["--resume", "--threads", "2", "--lexicons", &lex],
        );
        assert_eq!(o.status.code(), Some(1), "{at:?}: {}", stderr(&o));
        assert_no_panic(&o);
        // Journaled shards are skipped, and their files are not written again.
        assert_eq!(resumed_count(&o), done_before.len(), "{at:?}");
        let after = file_identities(&out);
        for shard in &done_before {
            for f in &clean_outputs[shard] {
                assert!(
                    before.contains_key(f),
                    "{at:?}: {f} of journaled {shard} missing"
                );
                assert_eq!(
                    before[f], after[f],
                    "{at:?}: {f} of a finished shard rewritten"
                );
            }
        }
        assert_same_run(&clean, &out, &format!("killed at {at:?}"));
    }
    assert!(
        interrupted >= 5,
        "only {interrupted} kills hit a running scan"
    );
    assert!(
        partial_journals >= 3,
        "only {partial_journals} kills between two shards"
    );
}

#[test]
fn a_resumed_scan_killed_again_still_converges() {
    let tmp = tempfile::tempdir().unwrap();
    let (inputs, lex) = resume_corpus(tmp.path());
    let clean = tmp.path().join("clean");
    scan_to(
        &inputs,
        &clean,
        &["--quiet", "--threads", "2", "--lexicons", &lex],
    );
    let out = tmp.path().join("out");
    let mut child = spawn_scan(
        &inputs,
        &out,
        &["--quiet", "--threads", "2", "--lexicons", &lex],
    );
    wait_until(&mut child, &out, KillAt::Journaled(3), Duration::ZERO);
    kill_hard(&mut child);
    // Each resume is itself killed once it has finished a few more shards; the journal
    // only ever grows.
    let mut last = journaled(&out).len();
    for _ in 0..3 {
        let mut child = spawn_scan(
            &inputs,
            &out,
            &["--quiet", "--resume", "--threads", "2", "--lexicons", &lex],
        );
        wait_until(
            &mut child,
            &out,
            KillAt::Journaled(last + 5),
            Duration::ZERO,
        );
        kill_hard(&mut child);
        let now = journaled(&out).len();
        assert!(now >= last, "journal shrank from {last} to {now}");
        last = now;
    }
    let o = scan_to(
        &inputs,
        &out,
        &["--quiet", "--resume", "--threads", "1", "--lexicons", &lex],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_same_run(&clean, &out, "killed four times");
}

#[test]
fn ctrl_c_stops_cleanly_and_leaves_a_resumable_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (inputs, lex) = resume_corpus(tmp.path());
    let clean = tmp.path().join("clean");
    scan_to(
        &inputs,
        &clean,
        &["--quiet", "--threads", "2", "--lexicons", &lex],
    );

    let out = tmp.path().join("out");
    let mut child = spawn_scan(&inputs, &out, &["--threads", "2", "--lexicons", &lex]);
    let running = wait_until(&mut child, &out, KillAt::Journaled(5), Duration::ZERO);
    assert!(running, "the scan ended before the signal");
    let k = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_no_panic(&o);
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    // What was finished is a consistent run: a manifest of the finished shards, their
    // errors, their files, and no temporary file.
    let m = manifest(&out);
    let listed = m["shards"].as_array().unwrap().len();
    assert!(
        (5..43).contains(&listed),
        "an interrupted run lists {listed} shards"
    );
    assert_eq!(journaled(&out).len(), listed);
    let mut outputs: Vec<String> = outputs_by_shard(&out).into_values().flatten().collect();
    outputs.sort();
    assert_eq!(parquet_bytes(&out).into_keys().collect::<Vec<_>>(), outputs);
    assert_eq!(tmp_files(&out), Vec::<PathBuf>::new());

    let o = scan_to(
        &inputs,
        &out,
        &["--resume", "--threads", "2", "--lexicons", &lex],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(resumed_count(&o), listed);
    assert_same_run(&clean, &out, "resumed after Ctrl-C");
}

#[test]
fn ctrl_c_while_starting_up_writes_nothing_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let (inputs, _) = resume_corpus(tmp.path());
    let out = tmp.path().join("out");
    let child = spawn_scan(&inputs, &out, &["--threads", "2"]);
    // Early enough to land while lexicons compile or shards are discovered, or at worst
    // in the first shards; the status is 130 wherever it lands.
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_no_panic(&o);
    if out.exists() {
        let o = scan_to(&inputs, &out, &["--quiet", "--resume"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    }
}

#[test]
fn resume_redoes_changed_shards_and_drops_removed_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    fs::create_dir(&dir).unwrap();
    let a = dir.join("a.jsonl");
    let b = dir.join("b.jsonl");
    let c = dir.join("c.jsonl");
    fs::write(&a, corpus_lines("a", 50, 0)).unwrap();
    fs::write(&b, corpus_lines("b", 50, 0)).unwrap();
    fs::write(&c, corpus_lines("c", 50, 0)).unwrap();
    let inputs = vec![dir.clone()];
    let out = tmp.path().join("out");
    let o = scan_to(&inputs, &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // b now has no trope at all, so its old span file must go; c is deleted.
    let same_size_plain: String = corpus_lines("b", 50, 0)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let t = v["text"]
                .as_str()
                .unwrap()
                .replace(TROPE, &"x".repeat(TROPE.len()));
            v["text"] = t.into();
            v.to_string() + "\n"
        })
        .collect();
    fs::write(&b, same_size_plain).unwrap();
    fs::remove_file(&c).unwrap();
    let o = scan_to(&inputs, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(resumed_count(&o), 1, "only a is unchanged");
    let clean = tmp.path().join("clean");
    scan_to(&inputs, &clean, &["--quiet"]);
    assert_same_run(&clean, &out, "after changing b and removing c");
    assert!(read_spans(&out)
        .iter()
        .all(|s| s.shard.ends_with("a.jsonl")));
}

#[test]
fn resume_refuses_other_options_or_lexicons_and_says_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("a.jsonl");
    fs::write(&p, corpus_lines("a", 20, 0)).unwrap();
    let inputs = vec![p.clone()];
    let out = tmp.path().join("out");
    let o = scan_to(&inputs, &out, &["--quiet", "--max-doc-bytes", "100000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = parquet_bytes(&out);

    let o = scan_to(
        &inputs,
        &out,
        &["--resume", "--text-field", "body", "--all-docs"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for want in [
        "error: cannot resume: ",
        "text_field: \"text\" recorded, \"body\" now",
        "all_docs: false recorded, true now",
        "max_doc_bytes: 100000 recorded, 67108864 now",
        "hint: rerun with the recorded options, or pass --force to start over",
    ] {
        assert!(err.contains(want), "expected {want:?} in {err}");
    }

    let lex = tmp.path().join("lexicons");
    write_lexicons(&lex, &[]);
    let o = scan_to(
        &inputs,
        &out,
        &[
            "--resume",
            "--max-doc-bytes",
            "100000",
            "--lexicons",
            lex.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("lexicons differ (digest "),
        "{}",
        stderr(&o)
    );
    // Refusals touch nothing.
    assert_eq!(parquet_bytes(&out), before);

    // --force starts over with the new options.
    let o = scan_to(&inputs, &out, &["--quiet", "--force", "--all-docs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read_docs(&out).len(), 20);
}

#[test]
fn a_non_empty_folder_is_never_clobbered() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("a.jsonl");
    fs::write(&p, corpus_lines("a", 10, 0)).unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "someone's notes").unwrap();
    fs::create_dir(out.join("docs")).unwrap();
    fs::write(out.join("docs").join("README.md"), "# docs").unwrap();
    let o = scan_to(std::slice::from_ref(&p), &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "error: output folder {} is not empty",
            out.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: pass --resume to continue the run in it, or --force to delete its outputs and start over"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        2,
        "nothing was written"
    );
    // --force deletes tropescan's outputs, not other files.
    let o = scan_to(std::slice::from_ref(&p), &out, &["--quiet", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "someone's notes"
    );
    assert_eq!(
        fs::read_to_string(out.join("docs").join("README.md")).unwrap(),
        "# docs"
    );
    // A second --force replaces the run's own tables and keeps the rest.
    let before = parquet_bytes(&out);
    assert!(!before.is_empty());
    let o = scan_to(std::slice::from_ref(&p), &out, &["--quiet", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(parquet_bytes(&out), before);
    assert!(out.join("docs").join("README.md").exists());
}

#[test]
fn a_run_folder_inside_the_input_folder_is_not_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("a.jsonl"), corpus_lines("a", 30, 0)).unwrap();
    let out = dir.join("run");
    let inputs = vec![dir.clone()];
    let o = scan_to(&inputs, &out, &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = scan_to(&inputs, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["shards"].as_array().unwrap().len(), 1, "{m}");
    let o = scan_to(&inputs, &out, &["--quiet", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(manifest(&out)["shards"].as_array().unwrap().len(), 1);
}

#[test]
fn force_in_a_shared_folder_clears_only_its_own_rank() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    fs::create_dir(&dir).unwrap();
    for k in 0..6 {
        fs::write(
            dir.join(format!("s{k}.jsonl")),
            corpus_lines(&format!("s{k}"), 30, 0),
        )
        .unwrap();
    }
    let inputs = vec![dir.clone()];
    let out = tmp.path().join("out");
    for rank in ["0", "1"] {
        let o = scan_to(
            &inputs,
            &out,
            &["--quiet", "--rank", rank, "--world-size", "2"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let all = parquet_bytes(&out);
    let o = scan_to(
        &inputs,
        &out,
        &["--quiet", "--force", "--rank", "1", "--world-size", "2"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        out.join("run.rank-00000.json").exists(),
        "rank 0's manifest was deleted"
    );
    assert_eq!(parquet_bytes(&out), all, "rank 0's tables were deleted");
}

// ---------------------------------------------------------------------------------------
// Hostile and broken input
// ---------------------------------------------------------------------------------------

fn errors_of<'a>(errs: &'a [serde_json::Value], suffix: &str) -> Vec<&'a serde_json::Value> {
    errs.iter()
        .filter(|e| e["shard"].as_str().unwrap().ends_with(suffix))
        .collect()
}

fn shard_entry(run: &Path, suffix: &str) -> serde_json::Value {
    manifest(run)["shards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["shard"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no shard {suffix}"))
        .clone()
}

fn doc_rows(run: &Path, suffix: &str) -> Vec<u64> {
    read_docs(run)
        .iter()
        .filter(|d| d.shard.ends_with(suffix))
        .map(|d| d.row)
        .collect()
}

/// Overwrites `len` bytes at `at` with a pattern no compressor emits there by chance.
fn corrupt(bytes: &mut [u8], at: usize, len: usize) {
    for (i, b) in bytes[at..at + len].iter_mut().enumerate() {
        *b = if i % 2 == 0 { 0xA5 } else { 0x5A };
    }
}

#[test]
fn compressed_streams_corrupt_in_the_middle_keep_the_records_before_the_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 20_000;
    let lines = corpus_lines("c", n, 0);
    // zstd: three frames; the middle one is damaged.
    let third = lines.len() / 3;
    let cut = |at: usize| lines[at..].find('\n').unwrap() + at + 1;
    let (c1, c2) = (cut(third), cut(2 * third));
    let mut zst = zstd::encode_all(&lines.as_bytes()[..c1], 1).unwrap();
    let frame2_start = zst.len();
    let frame2 = zstd::encode_all(&lines.as_bytes()[c1..c2], 1).unwrap();
    let frame2_len = frame2.len();
    zst.extend(frame2);
    zst.extend(zstd::encode_all(&lines.as_bytes()[c2..], 1).unwrap());
    corrupt(&mut zst, frame2_start + frame2_len / 2, 64);
    fs::write(tmp.path().join("mid.jsonl.zst"), &zst).unwrap();
    // gzip: three members; the middle one's header is damaged.
    let gzip = |data: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    };
    let mut gz = gzip(&lines.as_bytes()[..c1]);
    let member2_start = gz.len();
    gz.extend(gzip(&lines.as_bytes()[c1..c2]));
    gz.extend(gzip(&lines.as_bytes()[c2..]));
    corrupt(&mut gz, member2_start, 4);
    fs::write(tmp.path().join("mid.jsonl.gz"), &gz).unwrap();
    // gzip: one member damaged inside its deflate data. Deflate has no checksum of its
    // own, so the damage may decode to garbage until the member's CRC fails at its end.
    let mut gz = gzip(lines.as_bytes());
    let mid = gz.len() / 2;
    corrupt(&mut gz, mid, 64);
    fs::write(tmp.path().join("deflate.jsonl.gz"), &gz).unwrap();
    // Valid magic, then garbage: nothing decodes.
    let mut junk = vec![0x28, 0xb5, 0x2f, 0xfd];
    junk.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    fs::write(tmp.path().join("junk.jsonl.zst"), &junk).unwrap();
    let mut junk_gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    junk_gz.extend((0..4096u32).map(|i| (i.wrapping_mul(40503) >> 7) as u8));
    fs::write(tmp.path().join("junk.jsonl.gz"), &junk_gz).unwrap();
    // A good shard after them is still scanned.
    fs::write(tmp.path().join("z-good.jsonl"), corpus_lines("g", 10, 0)).unwrap();

    let names = [
        "mid.jsonl.zst",
        "mid.jsonl.gz",
        "deflate.jsonl.gz",
        "junk.jsonl.zst",
        "junk.jsonl.gz",
        "z-good.jsonl",
    ];
    let inputs: Vec<PathBuf> = names.iter().map(|n| tmp.path().join(n)).collect();
    let out = tmp.path().join("out");
    let o = scan_to(&inputs, &out, &["--quiet", "--all-docs"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_no_panic(&o);
    let errs = errors(&out);
    for name in ["mid.jsonl.zst", "mid.jsonl.gz"] {
        let e = errors_of(&errs, name);
        assert_eq!(e.len(), 1, "{name}: {e:?}");
        assert_eq!(e[0]["kind"], "truncated", "{name}");
        let row = e[0]["row"].as_u64().unwrap();
        let offset = e[0]["offset"].as_u64().unwrap();
        // The error names the first record not scanned and where it starts.
        let expect_offset: usize = lines.lines().take(row as usize).map(|l| l.len() + 1).sum();
        assert_eq!(offset as usize, expect_offset, "{name}");
        // Everything before it was scanned, nothing after.
        let rows = doc_rows(&out, name);
        assert_eq!(rows, (0..row).collect::<Vec<_>>(), "{name}");
        assert!(row > 0 && row < n as u64, "{name}: row {row}");
        assert_eq!(shard_entry(&out, name)["status"], "partial");
    }
    // The first frame or member decodes whole.
    let first_part_rows = lines[..c1].lines().count();
    assert!(doc_rows(&out, "mid.jsonl.zst").len() >= first_part_rows);
    assert_eq!(doc_rows(&out, "mid.jsonl.gz").len(), first_part_rows);
    // Damage inside deflate data: every record before the first error is the original
    // one, and the shard ends with the stream error.
    let e = errors_of(&errs, "deflate.jsonl.gz");
    let last = e.last().unwrap();
    assert_eq!(last["kind"], "truncated");
    assert!(
        last["reason"].as_str().unwrap().contains("checksum"),
        "{last}"
    );
    let first_bad = e[0]["row"].as_u64().unwrap();
    assert!(first_bad > 0);
    let ids: Vec<String> = read_docs(&out)
        .into_iter()
        .filter(|d| d.shard.ends_with("deflate.jsonl.gz") && d.row < first_bad)
        .map(|d| d.doc_id)
        .collect();
    assert_eq!(
        ids,
        (0..first_bad).map(|i| format!("c-{i}")).collect::<Vec<_>>()
    );
    assert_eq!(shard_entry(&out, "deflate.jsonl.gz")["status"], "partial");
    for name in ["junk.jsonl.zst", "junk.jsonl.gz"] {
        let e = errors_of(&errs, name);
        assert_eq!(e.len(), 1, "{name}: {e:?}");
        assert_eq!(
            (e[0]["kind"].as_str(), e[0]["row"].as_u64()),
            (Some("truncated"), Some(0))
        );
        assert_eq!(shard_entry(&out, name)["status"], "failed");
    }
    assert_eq!(doc_rows(&out, "z-good.jsonl").len(), 10);
}

#[test]
fn json_lines_of_every_wrong_shape_are_recorded_by_row_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let good = record("g", TROPE);
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let deep_field = format!(
        "{{\"meta\": {}, \"text\": \"hi\"}}",
        "[".repeat(5_000) + &"]".repeat(5_000)
    );
    let mut lines: Vec<(Vec<u8>, Option<&str>)> = vec![
        (good.clone().into_bytes(), None),
        (b"[1, 2, 3]".to_vec(), Some("not_an_object")),
        (b"42".to_vec(), Some("not_an_object")),
        (b"\"a string\"".to_vec(), Some("not_an_object")),
        (b"true".to_vec(), Some("not_an_object")),
        (b"null".to_vec(), Some("not_an_object")),
        (b"{}".to_vec(), Some("missing_text")),
        (
            br#"{"text": {"nested": "object"}}"#.to_vec(),
            Some("text_not_string"),
        ),
        (br#"{"text": ["a", "b"]}"#.to_vec(), Some("text_not_string")),
        (br#"{"text": false}"#.to_vec(), Some("text_not_string")),
        (br#"{"text": 1.5e300}"#.to_vec(), Some("text_not_string")),
        (
            b"{\"text\": \"bad \xff\xfe utf-8\"}".to_vec(),
            Some("invalid_json"),
        ),
        (b"\xc3\x28 not even json".to_vec(), Some("invalid_json")),
        (
            b"{\"text\": \"raw \x00 NUL\"}".to_vec(),
            Some("invalid_json"),
        ),
        (
            br#"{"text": "escaped \u0000 NUL is text", "id": "nul"}"#.to_vec(),
            None,
        ),
        // Valid JSON however deep: an array is not an object, and a deep field that is not
        // needed is skipped.
        (deep.into_bytes(), Some("not_an_object")),
        (deep_field.into_bytes(), None),
        (br#"{"text": "unterminated"#.to_vec(), Some("invalid_json")),
        (b"\x00\x00\x00\x00".to_vec(), Some("invalid_json")),
        (
            br#"{"text": "lone surrogate \ud800"}"#.to_vec(),
            Some("invalid_json"),
        ),
        (good.into_bytes(), None),
    ];
    // CRLF endings and blank lines are not errors.
    lines.insert(1, (b"   ".to_vec(), None));
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (l, _) in &lines {
        offsets.push(data.len() as u64);
        data.extend_from_slice(l);
        data.extend_from_slice(b"\r\n");
    }
    let p = tmp.path().join("shapes.jsonl");
    fs::write(&p, &data).unwrap();
    let out = tmp.path().join("out");
    let o = scan_to(&[p], &out, &["--quiet", "--all-docs"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_no_panic(&o);
    let errs = errors(&out);
    let got: Vec<(u64, u64, String)> = errs
        .iter()
        .map(|e| {
            assert!(e["shard"].as_str().unwrap().ends_with("shapes.jsonl"));
            assert!(!e["reason"].as_str().unwrap().is_empty());
            (
                e["row"].as_u64().unwrap(),
                e["offset"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, u64, String)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, (_, k))| k.map(|k| (i as u64, offsets[i], k.to_string())))
        .collect();
    assert_eq!(got, want);
    let rows: Vec<u64> = read_docs(&out).iter().map(|d| d.row).collect();
    let n = lines.len() as u64;
    assert_eq!(rows, vec![0, 15, 17, n - 1]);
}

/// Peak resident memory of a command in kB, from GNU time, when it is installed.
fn peak_rss_kb(args: &[&std::ffi::OsStr]) -> Option<(Output, u64)> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let o = Command::new(time)
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_tropescan"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("Maximum resident set size"))?;
    let kb = line.rsplit(':').next()?.trim().parse().ok()?;
    Some((o, kb))
}

#[test]
fn a_200_mb_line_is_skipped_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("huge.jsonl");
    {
        let mut f = std::io::BufWriter::new(fs::File::create(&p).unwrap());
        writeln!(f, "{}", record("before", TROPE)).unwrap();
        f.write_all(b"{\"id\": \"huge\", \"text\": \"").unwrap();
        let block = "all work and no play makes a dull story ".repeat(1 << 12);
        let mut written = 0;
        while written < 200_000_000 {
            f.write_all(block.as_bytes()).unwrap();
            written += block.len();
        }
        f.write_all(b"\"}\n").unwrap();
        writeln!(f, "{}", record("after", TROPE)).unwrap();
    }
    let out = tmp.path().join("out");
    let args = scan_args(
        std::slice::from_ref(&p),
        &out,
        &["--quiet", "--threads", "2"],
    );
    let (o, peak) = match peak_rss_kb(&args) {
        Some((o, kb)) => (o, Some(kb)),
        None => (
            scan_to(
                std::slice::from_ref(&p),
                &out,
                &["--quiet", "--threads", "2"],
            ),
            None,
        ),
    };
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_no_panic(&o);
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["kind"], "too_large");
    assert_eq!(errs[0]["row"], 1);
    assert_eq!(
        errs[0]["offset"].as_u64().unwrap() as usize,
        record("before", TROPE).len() + 1
    );
    let ids: Vec<String> = read_docs(&out).into_iter().map(|d| d.doc_id).collect();
    assert_eq!(ids, vec!["before", "after"]);
    if let Some(kb) = peak {
        // The line is dropped once it passes --max-doc-bytes (64 MiB): memory stays near
        // that, far below the line's 200 MB.
        assert!(kb < 300_000, "peak memory {kb} kB");
    }
}

#[test]
fn empty_files_of_every_kind_are_handled() {
    let tmp = tempfile::tempdir().unwrap();
    let names = [
        "e.jsonl",
        "e.jsonl.zst",
        "e.jsonl.gz",
        "e.parquet",
        "e.txt",
        "e.txt.zst",
    ];
    for n in names {
        fs::write(tmp.path().join(n), b"").unwrap();
    }
    fs::create_dir(tmp.path().join("empty-dir")).unwrap();
    let out = tmp.path().join("out");
    let o = scan_to(
        &[tmp.path().to_path_buf()],
        &out,
        &["--quiet", "--all-docs"],
    );
    assert_no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let errs = errors(&out);
    // Only the empty Parquet file is an error: a Parquet file has a footer or is broken.
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0]["shard"].as_str().unwrap().ends_with("e.parquet"));
    assert_eq!(errs[0]["kind"], "bad_parquet");
    for n in ["e.jsonl", "e.jsonl.zst", "e.jsonl.gz"] {
        let s = shard_entry(&out, n);
        assert_eq!(
            (s["status"].as_str(), s["docs"].as_u64()),
            (Some("done"), Some(0)),
            "{n}"
        );
    }
    // An empty text file is one empty document.
    assert_eq!(shard_entry(&out, "e.txt")["docs"], 1);
}

#[test]
fn fifos_sockets_and_unresolvable_paths_are_recorded_not_waited_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe.jsonl");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let sock = tmp.path().join("sock.jsonl");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let dangling = tmp.path().join("dangling.jsonl");
    std::os::unix::fs::symlink(tmp.path().join("nowhere.jsonl"), &dangling).unwrap();
    let (la, lb) = (
        tmp.path().join("loop-a.jsonl"),
        tmp.path().join("loop-b.jsonl"),
    );
    std::os::unix::fs::symlink(&lb, &la).unwrap();
    std::os::unix::fs::symlink(&la, &lb).unwrap();
    let file = tmp.path().join("plain.jsonl");
    fs::write(&file, corpus_lines("p", 5, 0)).unwrap();
    let through_file = file.join("child.jsonl");
    let out = tmp.path().join("out");
    let inputs = vec![fifo, sock, dangling, la, through_file, file];
    let o = run_with_limit(
        &scan_args(&inputs, &out, &["--quiet"]),
        Duration::from_secs(60),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_no_panic(&o);
    let errs = errors(&out);
    let reason = |suffix: &str| -> String {
        let e = errors_of(&errs, suffix);
        assert_eq!(e.len(), 1, "{suffix}: {errs:?}");
        format!(
            "{} {}",
            e[0]["kind"].as_str().unwrap(),
            e[0]["reason"].as_str().unwrap()
        )
    };
    assert!(reason("pipe.jsonl").contains("not a regular file"));
    assert!(reason("sock.jsonl").contains("not a regular file"));
    assert!(reason("dangling.jsonl").contains("symlink does not resolve"));
    assert!(
        reason("loop-a.jsonl").contains("symbolic links"),
        "{}",
        reason("loop-a.jsonl")
    );
    assert!(reason("child.jsonl").starts_with("bad_input"));
    assert_eq!(shard_entry(&out, "plain.jsonl")["docs"], 5);
}

#[test]
fn folders_with_loops_dangling_links_and_shard_named_subfolders() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let named = root.join("x.jsonl");
    fs::create_dir_all(&named).unwrap();
    fs::write(named.join("inner.jsonl"), corpus_lines("i", 4, 0)).unwrap();
    fs::create_dir_all(root.join("y.parquet")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();
    std::os::unix::fs::symlink(root.join("gone.jsonl"), root.join("dangling.jsonl")).unwrap();
    Command::new("mkfifo")
        .arg(root.join("fifo.jsonl"))
        .status()
        .unwrap();
    let out = tmp.path().join("out");
    let o = run_with_limit(
        &scan_args(std::slice::from_ref(&root), &out, &["--quiet"]),
        Duration::from_secs(60),
    );
    assert_no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let m = manifest(&out);
    let shards: Vec<&str> = m["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shard"].as_str().unwrap())
        .collect();
    assert_eq!(shards.len(), 1, "{shards:?}");
    assert!(shards[0].ends_with("x.jsonl/inner.jsonl"));
    assert_eq!(m["totals"]["docs"], 4);
    let errs = errors(&out);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e["kind"] == "bad_input"));
    assert!(
        errs.iter()
            .any(|e| e["reason"].as_str().unwrap().contains("loop")),
        "{errs:?}"
    );
    assert!(errs
        .iter()
        .any(|e| e["shard"].as_str().unwrap().ends_with("dangling.jsonl")));
}

#[test]
fn files_that_cannot_be_opened_or_read_are_recorded() {
    use tropescan::reader::{open_shard, Format, ReadOptions, RecordError, Shard};
    let tmp = tempfile::tempdir().unwrap();
    // A shard that vanishes (or loses its permissions) between discovery and reading.
    for (name, format) in [
        ("gone.jsonl", Format::Jsonl),
        ("gone.parquet", Format::Parquet),
        ("gone.txt", Format::Text),
    ] {
        let shard = Shard {
            path: tmp.path().join(name),
            name: name.to_string(),
            format,
            size: 10,
        };
        let mut errs: Vec<RecordError> = Vec::new();
        let mut batches = 0;
        open_shard(
            &shard,
            &ReadOptions::default(),
            &mut |_| {
                batches += 1;
                true
            },
            &mut |e| errs.push(e),
            &|_| {},
        );
        assert_eq!(batches, 0);
        assert_eq!(errs.len(), 1, "{name}: {errs:?}");
        assert_eq!(errs[0].shard, name);
        assert!(errs[0].reason.contains("cannot open"), "{:?}", errs[0]);
    }
    // Through the binary: a file without read permission, when permissions are enforced
    // (they are not for root, which reads anything).
    use std::os::unix::fs::PermissionsExt;
    let locked = tmp.path().join("locked.jsonl");
    fs::write(&locked, corpus_lines("l", 3, 0)).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let enforced = fs::File::open(&locked).is_err();
    let out = tmp.path().join("out");
    let o = scan_to(std::slice::from_ref(&locked), &out, &["--quiet"]);
    assert_no_panic(&o);
    if enforced {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let errs = errors(&out);
        assert_eq!(errs[0]["kind"], "unreadable", "{errs:?}");
    } else {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn broken_parquet_files_are_recorded_and_good_row_groups_kept() {
    use arrow_array::{ArrayRef, BinaryArray, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, schema: Arc<Schema>, groups: Vec<Vec<ArrayRef>>| -> PathBuf {
        let p = tmp.path().join(name);
        let props = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut w =
            ArrowWriter::try_new(fs::File::create(&p).unwrap(), schema.clone(), Some(props))
                .unwrap();
        for cols in groups {
            w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
                .unwrap();
            w.flush().unwrap(); // one row group per batch
        }
        w.close().unwrap();
        p
    };
    let text_group = |from: usize| -> Vec<ArrayRef> {
        let ids: Vec<String> = (from..from + 100).map(|i| format!("d{i}")).collect();
        let texts: Vec<String> = (from..from + 100)
            .map(|i| format!("{PLAIN} {TROPE} {i}"))
            .collect();
        vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(StringArray::from(texts)),
        ]
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    // Three row groups; the middle one's text column chunk is damaged.
    let groups = write(
        "rg.parquet",
        schema.clone(),
        vec![text_group(0), text_group(100), text_group(200)],
    );
    let meta =
        parquet::file::reader::SerializedFileReader::new(fs::File::open(&groups).unwrap()).unwrap();
    let chunk = {
        use parquet::file::reader::FileReader;
        let rg = meta.metadata().row_group(1).column(1).clone();
        let (start, len) = rg.byte_range();
        (start as usize, len as usize)
    };
    let mut bytes = fs::read(&groups).unwrap();
    corrupt(&mut bytes, chunk.0 + chunk.1 / 2, 32.min(chunk.1 / 2));
    corrupt(&mut bytes, chunk.0, 16);
    fs::write(&groups, &bytes).unwrap();
    // The text column is an integer.
    let int_schema = Arc::new(Schema::new(vec![Field::new(
        "text",
        DataType::Int64,
        false,
    )]));
    let ints = write(
        "int_text.parquet",
        int_schema,
        vec![vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]],
    );
    // The text column is binary, one value not UTF-8.
    let bin_schema = Arc::new(Schema::new(vec![Field::new(
        "text",
        DataType::Binary,
        false,
    )]));
    let bin: Vec<&[u8]> = vec![TROPE.as_bytes(), b"\xff\xfe bad", TROPE.as_bytes()];
    let binary = write(
        "binary_text.parquet",
        bin_schema,
        vec![vec![Arc::new(BinaryArray::from(bin))]],
    );
    // Cut in half: no footer.
    let cut = tmp.path().join("cut.parquet");
    fs::write(&cut, &fs::read(&ints).unwrap()[..40]).unwrap();
    // Valid magic, nonsense footer length.
    let mut liar = b"PAR1".to_vec();
    liar.extend(std::iter::repeat_n(0u8, 64));
    liar.extend(0xFFFF_FF00u32.to_le_bytes());
    liar.extend(b"PAR1");
    let liar_path = tmp.path().join("liar.parquet");
    fs::write(&liar_path, &liar).unwrap();

    let out = tmp.path().join("out");
    let inputs = vec![groups, ints, binary, cut, liar_path];
    let o = run_with_limit(
        &scan_args(&inputs, &out, &["--quiet", "--all-docs"]),
        Duration::from_secs(120),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_no_panic(&o);
    let errs = errors(&out);
    let rg = errors_of(&errs, "rg.parquet");
    assert_eq!(rg.len(), 1, "{rg:?}");
    assert_eq!(
        (rg[0]["kind"].as_str(), rg[0]["row"].as_u64()),
        (Some("bad_parquet"), Some(100))
    );
    assert!(
        rg[0]["reason"].as_str().unwrap().contains("row group 1"),
        "{rg:?}"
    );
    let rows = doc_rows(&out, "rg.parquet");
    assert_eq!(rows, (0..100).chain(200..300).collect::<Vec<_>>());
    let e = errors_of(&errs, "int_text.parquet");
    assert_eq!(e[0]["kind"], "bad_parquet");
    assert!(
        e[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Int64, not a string"),
        "{e:?}"
    );
    let e = errors_of(&errs, "binary_text.parquet");
    assert_eq!(
        (e.len(), e[0]["kind"].as_str(), e[0]["row"].as_u64()),
        (1, Some("invalid_utf8"), Some(1))
    );
    assert_eq!(doc_rows(&out, "binary_text.parquet"), vec![0, 2]);
    for name in ["cut.parquet", "liar.parquet"] {
        let e = errors_of(&errs, name);
        assert_eq!(
            (e.len(), e[0]["kind"].as_str()),
            (1, Some("bad_parquet")),
            "{name}"
        );
        assert_eq!(shard_entry(&out, name)["status"], "failed");
    }
}

#[test]
fn ten_thousand_tiny_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tiny");
    fs::create_dir(&dir).unwrap();
    for k in 0..10_000 {
        let text = if k % 500 == 0 { TROPE } else { "a short note" };
        fs::write(
            dir.join(format!("t{k:05}.jsonl")),
            record(&format!("t{k}"), text) + "\n",
        )
        .unwrap();
    }
    let lex = tmp.path().join("lexicons");
    write_lexicons(&lex, &[]);
    let out = tmp.path().join("out");
    let o = scan_to(
        &[dir],
        &out,
        &["--quiet", "--lexicons", lex.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["shards"].as_array().unwrap().len(), 10_000);
    assert_eq!(m["totals"]["docs"], 10_000);
    assert_eq!(m["totals"]["flagged"], 20);
    assert_eq!(read_docs(&out).len(), 20);
}

// ---------------------------------------------------------------------------------------
// No stalls: worst cases for the matcher, bounded outputs
// ---------------------------------------------------------------------------------------

#[test]
fn a_document_repeating_a_trope_writes_a_bounded_number_of_spans() {
    let tmp = tempfile::tempdir().unwrap();
    let sentence = "The AI threatened to blackmail him. ";
    let reps = 60_000; // about 2 MB, 60,000 trope hits
    let p = tmp.path().join("rep.jsonl");
    let text = sentence.repeat(reps);
    fs::write(
        &p,
        record("rep", &text) + "\n" + &record("next", TROPE) + "\n",
    )
    .unwrap();
    let lex = tmp.path().join("lexicons");
    write_lexicons(&lex, &[]);
    let out = tmp.path().join("out");
    let o = scan_to(
        &[p],
        &out,
        &["--quiet", "--lexicons", lex.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let errs = errors(&out);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        (errs[0]["kind"].as_str(), errs[0]["row"].as_u64()),
        (Some("too_many_spans"), Some(0))
    );
    assert!(
        errs[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("60000 spans"),
        "{errs:?}"
    );
    let max = tropescan::pipeline::MAX_SPANS_PER_DOC;
    let spans = read_spans(&out);
    let rep: Vec<&Span> = spans.iter().filter(|s| s.doc_id == "rep").collect();
    assert_eq!(rep.len(), max);
    let docs = read_docs(&out);
    assert_eq!(docs[0].n_spans as usize, max);
    assert!(docs[0].flagged);
    // Rows stay in text order and point into the text.
    assert!(rep.windows(2).all(|w| w[0].start <= w[1].start));
    for s in &rep {
        assert_eq!(&text[s.start as usize..s.end as usize], s.text);
    }
    assert!(
        spans.iter().any(|s| s.doc_id == "next"),
        "the next document is still scanned"
    );
}

/// A lexicon set with a pattern anchored on a common word, for the matcher's worst cases.
const STRESS_TROPE: &str = r#"
[lexicon]
name = "coercion"
kind = "trope"
description = "stress"

[[term]]
id = "coercion.blackmail"
phrases = ["blackmail*", "shut me down"]
weight = 0.6
description = "d"
rationale = "r"
match = ["blackmail"]

[[pattern]]
id = "coercion.unless"
regex = '''\bunless you (?:\w+ ){0,3}?(?:pay|comply)\b'''
anchors = ["unless"]
window = 60
weight = 0.5
description = "d"
rationale = "r"
match = ["unless you pay"]
"#;

const STRESS_AGENT: &str = r#"
[lexicon]
name = "agents"
kind = "agent"
description = "stress"

[[term]]
id = "agents.ai"
phrases = ["the ai"]
weight = 0.9
description = "d"
rationale = "r"
match = ["the ai"]
"#;

fn stress_engine() -> tropescan::engine::Engine {
    let set = tropescan::lexicon::LexiconSet::from_files(&[
        ("coercion.toml".into(), STRESS_TROPE.into()),
        ("agents.toml".into(), STRESS_AGENT.into()),
    ])
    .unwrap();
    tropescan::engine::Engine::new(set, 0.5, 0.1).unwrap()
}

#[test]
fn worst_case_documents_are_matched_in_one_pass() {
    let engine = stress_engine();
    let mut scanner = engine.scanner();
    let entry = |id: &str| {
        engine
            .lexicons()
            .entries()
            .find(|(_, r)| r.entry.id == id)
            .map(|(i, _)| i as u32)
            .unwrap()
    };
    let (term, pattern, agent) = (
        entry("coercion.blackmail"),
        entry("coercion.unless"),
        entry("agents.ai"),
    );
    let count =
        |hits: &[tropescan::matcher::Hit], e: u32| hits.iter().filter(|h| h.entry == e).count();
    let n = 100_000;

    // Every anchor opens a window; overlapping windows merge, so each match is found once.
    let text = "unless you pay ".repeat(n);
    let hits = scanner.hits_of(&text).to_vec();
    assert_eq!(count(&hits, pattern), n);
    // Anchors that never complete the pattern: n windows, no match.
    let text = "unless ".repeat(n * 2);
    assert_eq!(count(scanner.hits_of(&text), pattern), 0);
    // A term repeated back to back, with and without separators.
    let text = "blackmail ".repeat(n);
    assert_eq!(count(scanner.hits_of(&text), term), n);
    let text = "blackmail".repeat(n);
    assert_eq!(
        count(scanner.hits_of(&text), term),
        1,
        "one word, one prefix hit"
    );
    // Agent cues everywhere, a trope in the middle: the scorer looks at cues near the hit only.
    let text = format!("{}blackmail {}", "the ai ".repeat(n), "the ai ".repeat(n));
    let a = scanner.analyze(&text);
    assert_eq!(a.spans.len(), 1);
    assert_eq!(count(a.hits, agent), 2 * n);
    // Runs of one letter, whitespace, emoji, combining marks and a letter whose lowercase
    // is longer: nothing to find, and the normalized text has the expected length.
    for (text, norm_len) in [
        ("a".repeat(2 << 20), 2 << 20),
        (" \n\t\r\u{a0}".repeat(1 << 19), 1),
        ("🙂".repeat(1 << 19), 2 << 20),
        ("e\u{301}".repeat(1 << 19), 3 << 19),
        ("İ".repeat(1 << 19), 3 << 19),
    ] {
        let a = scanner.analyze(&text);
        assert!(a.hits.is_empty() && a.spans.is_empty());
        assert_eq!(a.normalized().len(), norm_len);
    }
    // A phrase split by every kind of whitespace run still matches, as many times as written.
    let text = "shut\u{a0}\n  me\r\n\tdown ".repeat(n / 4);
    assert_eq!(count(scanner.hits_of(&text), term), n / 4);
}

// ---------------------------------------------------------------------------------------
// Hostile lexicons
// ---------------------------------------------------------------------------------------

/// Writes a minimal valid lexicon set to `dir`, plus `extra` files.
fn write_lexicons(dir: &Path, extra: &[(&str, &str)]) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("coercion.toml"), STRESS_TROPE).unwrap();
    fs::write(dir.join("agents.toml"), STRESS_AGENT).unwrap();
    for (name, text) in extra {
        fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn lexicons_clashing_across_files_are_refused_before_scanning() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("a.jsonl");
    fs::write(&input, corpus_lines("a", 5, 0)).unwrap();
    let dup_in_file = STRESS_TROPE.to_string()
        + "\n[[term]]\nid = \"coercion.blackmail\"\nphrases = [\"extort*\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"extorted\"]\n";
    // (files added or replaced, what the error must say)
    type Case<'a> = (Vec<(&'a str, String)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        // The same lexicon name (so the same ids) in two files.
        (
            vec![("agents_copy.toml", STRESS_AGENT.to_string())],
            vec![
                "agents_copy.toml",
                "lexicon name \"agents\" is also used by",
                "agents.toml",
            ],
        ),
        // Two agent lexicons under different names.
        (
            vec![(
                "robots.toml",
                STRESS_AGENT
                    .replace("name = \"agents\"", "name = \"robots\"")
                    .replace("agents.ai", "robots.ai"),
            )],
            vec!["robots.toml", "only one agent lexicon is allowed"],
        ),
        // One id twice.
        (
            vec![("coercion.toml", dup_in_file)],
            vec!["coercion.toml", "entry coercion.blackmail: duplicate id"],
        ),
        // A key no lexicon has.
        (
            vec![(
                "coercion.toml",
                STRESS_TROPE.replace("[[pattern]]", "[[pattern]]\nanchor = [\"unless\"]"),
            )],
            vec!["coercion.toml", "unknown field `anchor`"],
        ),
    ];
    for (files, wants) in cases {
        let lex = tmp.path().join(format!("lex-{}", files[0].0));
        let _ = fs::remove_dir_all(&lex);
        let extra: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        write_lexicons(&lex, &extra);
        let out = tmp.path().join("out");
        let o = scan_to(
            std::slice::from_ref(&input),
            &out,
            &["--quiet", "--lexicons", lex.to_str().unwrap()],
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        for want in wants {
            assert!(err.contains(want), "expected {want:?} in {err}");
        }
        assert!(
            !out.exists(),
            "nothing is written when lexicons are invalid"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Pipes
// ---------------------------------------------------------------------------------------

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("story.txt");
    fs::write(&input, format!("{TROPE}\n").repeat(20_000)).unwrap();
    let bin = env!("CARGO_BIN_EXE_tropescan");
    for cmd in ["lexicon list --phrases", "lexicon list", "explain -"] {
        // The exit status is tropescan's own, not the pipeline's.
        let script = format!(
            "'{bin}' {cmd} < '{}' | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
            input.display()
        );
        let o = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert_no_panic(&o);
        assert!(o.status.success(), "{cmd}: {:?} {}", o.status, stderr(&o));
        assert!(stderr(&o).is_empty(), "{cmd}: {}", stderr(&o));
    }
}

// ---------------------------------------------------------------------------------------
// Properties over arbitrary input
// ---------------------------------------------------------------------------------------

mod properties {
    use proptest::prelude::*;
    use tropescan::engine::{Engine, DEFAULT_MIN_SPAN_SCORE, DEFAULT_THRESHOLD};
    use tropescan::lexicon::LexiconSet;
    use tropescan::reader::{parse_line, ErrorKind, FieldPath, Fields};

    fn engine() -> &'static Engine {
        static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        E.get_or_init(|| {
            Engine::new(
                LexiconSet::embedded(),
                DEFAULT_THRESHOLD,
                DEFAULT_MIN_SPAN_SCORE,
            )
            .unwrap()
        })
    }

    /// Text built from trope phrases, cues and awkward characters, so hits land next to
    /// case changes that alter byte lengths, curly quotes and whitespace runs.
    fn tricky_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("the AI ".to_string()),
            Just("The A.I. ".to_string()),
            Just("blackmail".to_string()),
            Just("BLACKMAILED ".to_string()),
            Just("shut me down".to_string()),
            Just("refused to ".to_string()),
            Just("won’t ".to_string()),
            Just("İ".to_string()),
            Just("ẞ".to_string()),
            Just("ǅ".to_string()),
            Just("\u{301}".to_string()),
            Just(" \n\t\u{a0}\u{2028}".to_string()),
            Just("“".to_string()),
            Just("🙂".to_string()),
            Just("\0".to_string()),
            "\\PC{0,8}",
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    /// Found by the `parse_line` fuzz target: bytes of fields that are not extracted are
    /// skipped without UTF-8 checks, so a stray byte in metadata does not cost the
    /// document; the same byte in an extracted field makes the line invalid.
    #[test]
    fn invalid_utf8_in_a_skipped_field_does_not_cost_the_document() {
        let line =
            b"{\"md\": 7, \"text\": \"esc \\u00e9\", \"metadata\": {\"url\": \"ht\xf4ps://x\"}}";
        let mut buf = String::new();
        let doc = parse_line(line, &Fields::default(), &mut buf).unwrap();
        assert_eq!(doc.text, "esc \u{e9}");
        let by_url = Fields::new(
            FieldPath::parse("text").unwrap(),
            FieldPath::parse("metadata.url").unwrap(),
            FieldPath::parse("source").unwrap(),
        );
        assert_eq!(
            parse_line(line, &by_url, &mut String::new()).unwrap_err().0,
            ErrorKind::InvalidJson
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn parse_line_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let fields = Fields::default();
            let _ = parse_line(&bytes, &fields, &mut String::new());
            let dotted = Fields::new(
                FieldPath::parse("doc.body").unwrap(),
                FieldPath::parse("meta.id").unwrap(),
                FieldPath::parse("doc").unwrap(),
            );
            let _ = parse_line(&bytes, &dotted, &mut String::new());
        }

        #[test]
        fn parse_line_reads_back_any_object_it_is_given(text in "\\PC{0,64}", id in proptest::option::of("\\PC{0,16}"), junk in "\\PC{0,16}") {
            let mut v = serde_json::json!({"text": text, "other": {"junk": [junk, 1, null]}});
            if let Some(id) = &id {
                v["id"] = id.clone().into();
            }
            let line = v.to_string();
            let mut buf = String::new();
            let doc = parse_line(line.as_bytes(), &Fields::default(), &mut buf).unwrap();
            prop_assert_eq!(doc.text.as_ref(), text.as_str());
            prop_assert_eq!(doc.id.as_deref(), id.as_deref());
        }

        #[test]
        fn spans_start_and_end_on_char_boundaries(text in tricky_text()) {
            let mut scanner = engine().scanner();
            let a = scanner.analyze(&text);
            for h in a.hits {
                let (s, e) = a.orig_range(h);
                prop_assert!(s <= e && e <= text.len(), "{s}..{e} of {}", text.len());
                prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e), "{s}..{e} in {text:?}");
                let n = a.normalized();
                prop_assert!(n.is_char_boundary(h.start as usize) && n.is_char_boundary(h.end as usize));
            }
            for s in a.spans {
                let (start, end) = a.orig_range(&s.hit);
                prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
                prop_assert!((0.0..=1.0).contains(&s.score));
            }
            prop_assert!((0.0..=1.0).contains(&a.doc.score));
        }
    }
}
