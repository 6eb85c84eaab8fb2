//! Regenerates the fixture corpus in every container from `fixtures/corpus_src.jsonl`:
//! `.jsonl`, `.jsonl.gz`, `.jsonl.zst`, `.parquet` and one `.txt` per document, plus the
//! named edge-case files in `fixtures/bad/`.
//!
//! Run from the repository root: `cargo run --example make_fixtures`.

use std::fs;
use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let src = fs::read_to_string("fixtures/corpus_src.jsonl")?;
    let corpus = "fixtures/corpus";
    let _ = fs::remove_dir_all(corpus);
    fs::create_dir_all(format!("{corpus}/txt"))?;
    // The scanned copy drops the `expect` field: tests read expectations from the source.
    let mut lines = Vec::new();
    let (mut ids, mut texts, mut sources, mut urls) = (vec![], vec![], vec![], vec![]);
    for line in src.lines().filter(|l| !l.trim().is_empty()) {
        let mut v: serde_json::Value = serde_json::from_str(line)?;
        v.as_object_mut().expect("object").remove("expect");
        let id = v["id"].as_str().expect("id").to_string();
        let text = v["text"].as_str().expect("text").to_string();
        fs::write(format!("{corpus}/txt/{id}.txt"), &text)?;
        ids.push(id);
        texts.push(text);
        sources.push(v["source"].as_str().map(str::to_string));
        urls.push(v["metadata"]["url"].as_str().map(str::to_string));
        lines.push(serde_json::to_string(&v)?);
    }
    let jsonl = lines.join("\n") + "\n";
    fs::write(format!("{corpus}/sample.jsonl"), &jsonl)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(jsonl.as_bytes())?;
    fs::write(format!("{corpus}/sample.jsonl.gz"), gz.finish()?)?;
    fs::write(
        format!("{corpus}/sample.jsonl.zst"),
        zstd::encode_all(jsonl.as_bytes(), 3)?,
    )?;
    // FineWeb-like Parquet: a `metadata` struct is not needed; url is its own column.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, true),
        Field::new("url", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids.clone())),
        Arc::new(StringArray::from(texts.clone())),
        Arc::new(StringArray::from(sources)),
        Arc::new(StringArray::from(urls)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(5))
        .build();
    let mut w = ArrowWriter::try_new(
        fs::File::create(format!("{corpus}/sample.parquet"))?,
        schema,
        Some(props),
    )?;
    w.write(&batch)?;
    w.close()?;

    // Edge cases, each named for what it is.
    let bad = "fixtures/bad";
    let _ = fs::remove_dir_all(bad);
    fs::create_dir_all(bad)?;
    fs::write(format!("{bad}/empty.jsonl"), "")?;
    let first = &lines[0];
    let second = &lines[1];
    let mut mixed = Vec::new();
    mixed.extend_from_slice(first.as_bytes());
    mixed.extend_from_slice(b"\n{\"id\": \"bad-utf8\", \"text\": \"caf\xe9 \xff\"}\n");
    mixed.extend_from_slice(b"{\"id\": \"no-text\", \"body\": \"x\"}\n");
    mixed.extend_from_slice(b"{\"id\": \"num-text\", \"text\": 42}\n");
    mixed.extend_from_slice(b"[\"an\", \"array\"]\n");
    mixed.extend_from_slice(b"not json at all\n");
    mixed.extend_from_slice(b"{\"id\": \"nul\", \"text\": \"a \\u0000 nul\"}\n");
    mixed.extend_from_slice(second.as_bytes());
    mixed.push(b'\n');
    fs::write(format!("{bad}/mixed_bad_lines.jsonl"), &mixed)?;
    // One zstd frame per line (as parallel compressors write them), cut two thirds in: the
    // frames before the cut decode, the one cut in half does not.
    let mut frames = Vec::new();
    for line in &lines {
        frames.extend(zstd::encode_all(format!("{line}\n").as_bytes(), 3)?);
    }
    fs::write(
        format!("{bad}/truncated.jsonl.zst"),
        &frames[..frames.len() * 2 / 3],
    )?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(jsonl.as_bytes())?;
    let gzb = gz.finish()?;
    fs::write(
        format!("{bad}/truncated.jsonl.gz"),
        &gzb[..gzb.len() * 2 / 3],
    )?;
    fs::write(format!("{bad}/plain_named.jsonl.zst"), &jsonl)?;
    let pq = fs::read(format!("{corpus}/sample.parquet"))?;
    fs::write(format!("{bad}/broken_footer.parquet"), &pq[..pq.len() - 20])?;
    fs::write(
        format!("{bad}/invalid_utf8.txt"),
        b"The AI \xff\xfe said nothing",
    )?;
    println!("wrote {corpus} and {bad} from {} documents", ids.len());
    Ok(())
}
