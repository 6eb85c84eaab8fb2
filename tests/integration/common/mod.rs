//! Helpers: run the binary, read Parquet outputs back into test-side rows.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

/// Runs `tropescan ARGS` in the repository root.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tropescan"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .expect("binary runs")
}

pub fn run_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tropescan"))
        .args(args)
        .current_dir(repo())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Scans `inputs` into a fresh folder under `tmp`, returning the folder and the output.
pub fn scan(tmp: &Path, name: &str, inputs: &[&str], extra: &[&str]) -> (PathBuf, Output) {
    let out = tmp.join(name);
    let out_s = out.to_string_lossy().into_owned();
    let mut args = vec!["scan", "--quiet"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["-o", &out_s]);
    args.extend_from_slice(extra);
    let o = run(&args);
    (out, o)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub doc_id: String,
    pub shard: String,
    pub row: u64,
    pub start: u64,
    pub end: u64,
    pub category: String,
    pub rule: String,
    pub score: f64,
    pub text: String,
    pub context: String,
    pub agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub doc_id: String,
    pub shard: String,
    pub row: u64,
    pub bytes: u64,
    pub score: f64,
    pub flagged: bool,
    pub n_spans: u32,
    pub categories: BTreeMap<String, f64>,
    pub counter_score: f64,
    pub model_score: Option<f64>,
    pub counter_model_score: Option<f64>,
    pub source: Option<String>,
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn batches(path: &Path) -> Vec<RecordBatch> {
    let f = fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn s(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let c = b
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name}"));
    if c.is_null(i) {
        None
    } else {
        Some(c.as_string::<i32>().value(i).to_string())
    }
}

fn u(b: &RecordBatch, name: &str, i: usize) -> u64 {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<UInt64Type>()
        .value(i)
}

fn f(b: &RecordBatch, name: &str, i: usize) -> f64 {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Float64Type>()
        .value(i)
}

pub const SPAN_COLUMNS: &[&str] = &[
    "doc_id", "shard", "row", "start", "end", "category", "rule", "score", "text", "context",
    "agent",
];

pub fn read_spans(run: &Path) -> Vec<Span> {
    let mut out = Vec::new();
    for p in parquet_files(&run.join("spans")) {
        for b in batches(&p) {
            let names: Vec<String> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(names, SPAN_COLUMNS, "span columns of {}", p.display());
            for i in 0..b.num_rows() {
                out.push(Span {
                    doc_id: s(&b, "doc_id", i).unwrap(),
                    shard: s(&b, "shard", i).unwrap(),
                    row: u(&b, "row", i),
                    start: u(&b, "start", i),
                    end: u(&b, "end", i),
                    category: s(&b, "category", i).unwrap(),
                    rule: s(&b, "rule", i).unwrap(),
                    score: f(&b, "score", i),
                    text: s(&b, "text", i).unwrap(),
                    context: s(&b, "context", i).unwrap(),
                    agent: s(&b, "agent", i),
                });
            }
        }
    }
    out
}

pub fn read_docs(run: &Path) -> Vec<Doc> {
    let mut out = Vec::new();
    for p in parquet_files(&run.join("docs")) {
        for b in batches(&p) {
            let schema = b.schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(
                &names[..7],
                &["doc_id", "shard", "row", "bytes", "score", "flagged", "n_spans"]
            );
            assert_eq!(
                &names[names.len() - 4..],
                &[
                    "counter_score",
                    "model_score",
                    "counter_model_score",
                    "source"
                ]
            );
            let cats: Vec<&str> = names[7..names.len() - 4].to_vec();
            assert!(cats.iter().all(|c| c.starts_with("score_")), "{cats:?}");
            for i in 0..b.num_rows() {
                out.push(Doc {
                    doc_id: s(&b, "doc_id", i).unwrap(),
                    shard: s(&b, "shard", i).unwrap(),
                    row: u(&b, "row", i),
                    bytes: u(&b, "bytes", i),
                    score: f(&b, "score", i),
                    flagged: b.column_by_name("flagged").unwrap().as_boolean().value(i),
                    n_spans: b
                        .column_by_name("n_spans")
                        .unwrap()
                        .as_primitive::<UInt32Type>()
                        .value(i),
                    categories: cats
                        .iter()
                        .map(|c| (c.trim_start_matches("score_").to_string(), f(&b, c, i)))
                        .collect(),
                    counter_score: f(&b, "counter_score", i),
                    model_score: {
                        let c = b.column_by_name("model_score").unwrap();
                        (!c.is_null(i)).then(|| f(&b, "model_score", i))
                    },
                    counter_model_score: {
                        let c = b.column_by_name("counter_model_score").unwrap();
                        (!c.is_null(i)).then(|| f(&b, "counter_model_score", i))
                    },
                    source: s(&b, "source", i),
                });
            }
        }
    }
    out
}

/// Key-value metadata of a Parquet file.
pub fn kv_metadata(path: &Path) -> BTreeMap<String, String> {
    let r = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// All Parquet files of a run, by name relative to the run, with their bytes.
pub fn parquet_bytes(run: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for sub in ["spans", "docs"] {
        for p in parquet_files(&run.join(sub)) {
            let name = format!("{sub}/{}", p.file_name().unwrap().to_string_lossy());
            m.insert(name, fs::read(&p).unwrap());
        }
    }
    m
}

/// Fixture documents with what a good scanner should do with them.
#[derive(Debug, Clone)]
pub struct FixtureDoc {
    pub id: String,
    pub text: String,
    pub url: Option<String>,
    pub expect_flag: bool,
}

pub fn fixture_docs() -> Vec<FixtureDoc> {
    let src = fs::read_to_string(fixtures().join("corpus_src.jsonl")).unwrap();
    src.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            FixtureDoc {
                id: v["id"].as_str().unwrap().to_string(),
                text: v["text"].as_str().unwrap().to_string(),
                url: v["metadata"]["url"].as_str().map(str::to_string),
                expect_flag: v["expect"].as_str() == Some("flag"),
            }
        })
        .collect()
}

pub fn manifest(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(run.join("run.json")).unwrap()).unwrap()
}

pub fn errors(run: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(run.join("errors.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
