//! Parquet shards: the text, id and source columns, row group by row group.

use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::jsonl::FieldPath;
use super::{Batch, ErrorKind, OwnedDoc, ReadOptions, RecordError, Shard};

/// Rows per batch handed to workers: small enough to spread a row group over every core.
const BATCH_ROWS: usize = 1024;

pub(crate) fn read_row_groups(
    shard: &Shard,
    opts: &ReadOptions,
    emit: &mut dyn FnMut(Batch) -> bool,
    error: &mut dyn FnMut(RecordError),
    progress: &(dyn Fn(u64) + Sync),
) -> u64 {
    let bad = |reason: String| RecordError::shard(&shard.name, ErrorKind::BadParquet, reason);
    let file = match File::open(&shard.path) {
        Ok(f) => f,
        Err(e) => {
            error(RecordError::shard(
                &shard.name,
                ErrorKind::Unreadable,
                format!("cannot open: {e}"),
            ));
            return 0;
        }
    };
    let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
        Ok(b) => b,
        Err(e) => {
            error(bad(format!("not a readable Parquet file: {e}")));
            return shard.size;
        }
    };
    let fields = &opts.fields;
    let descr = builder.metadata().file_metadata().schema_descr_ptr();
    let leaf = |path: &FieldPath| {
        let want = path.parts().join(".");
        (0..descr.num_columns()).find(|&i| descr.column(i).path().string() == want)
    };
    let Some(text_leaf) = leaf(&fields.text) else {
        error(bad(format!("no column `{}` for the text", fields.text)));
        return shard.size;
    };
    let mut leaves = vec![text_leaf];
    leaves.extend(leaf(&fields.id));
    leaves.extend(leaf(&fields.source));
    let mask = ProjectionMask::leaves(&descr, leaves);
    let row_groups: Vec<(usize, u64, u64)> = {
        let mut start = 0u64;
        builder
            .metadata()
            .row_groups()
            .iter()
            .enumerate()
            .map(|(i, rg)| {
                let n = rg.num_rows() as u64;
                let item = (i, start, rg.compressed_size() as u64);
                start += n;
                item
            })
            .collect()
    };
    for (rg, first_row, rg_bytes) in row_groups {
        let reader = match File::open(&shard.path)
            .map_err(|e| e.to_string())
            .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()))
            .and_then(|b| {
                b.with_projection(mask.clone())
                    .with_row_groups(vec![rg])
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| e.to_string())
            }) {
            Ok(r) => r,
            Err(e) => {
                error(RecordError::at(
                    &shard.name,
                    first_row,
                    None,
                    ErrorKind::BadParquet,
                    format!("row group {rg}: {e}"),
                ));
                continue;
            }
        };
        let mut row = first_row;
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    error(RecordError::at(
                        &shard.name,
                        row,
                        None,
                        ErrorKind::BadParquet,
                        format!("row group {rg}: cannot decode rows from here on: {e}"),
                    ));
                    break;
                }
            };
            let n = batch.num_rows();
            match batch_docs(&batch, fields, row, &shard.name, opts.max_doc_bytes, error) {
                Ok(docs) => {
                    if !emit(Batch::Docs(docs)) {
                        return shard.size;
                    }
                }
                Err(reason) => {
                    error(bad(reason));
                    return shard.size;
                }
            }
            row += n as u64;
        }
        progress(rg_bytes);
    }
    shard.size
}

fn column(batch: &RecordBatch, path: &FieldPath) -> Option<ArrayRef> {
    let parts = path.parts();
    let mut col: ArrayRef = batch.column_by_name(&parts[0])?.clone();
    for p in &parts[1..] {
        let st: &StructArray = col.as_struct_opt()?;
        col = st.column_by_name(p)?.clone();
    }
    Some(col)
}

/// The value at `i` as a string, for string-like and integer columns.
fn value(col: &dyn Array, i: usize) -> Result<Option<String>, String> {
    if col.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(i).to_string(),
        DataType::Utf8View => col.as_string_view().value(i).to_string(),
        DataType::Binary => utf8(col.as_binary::<i32>().value(i))?,
        DataType::LargeBinary => utf8(col.as_binary::<i64>().value(i))?,
        DataType::BinaryView => utf8(col.as_binary_view().value(i))?,
        DataType::Int64 | DataType::Int32 | DataType::UInt64 | DataType::UInt32 => {
            arrow_cast_int(col, i)
        }
        other => return Err(format!("unsupported column type {other}")),
    }))
}

fn arrow_cast_int(col: &dyn Array, i: usize) -> String {
    use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
    match col.data_type() {
        DataType::Int64 => col.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Int32 => col.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::UInt64 => col.as_primitive::<UInt64Type>().value(i).to_string(),
        _ => col.as_primitive::<UInt32Type>().value(i).to_string(),
    }
}

fn utf8(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec())
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()))
}

fn batch_docs(
    batch: &RecordBatch,
    fields: &super::Fields,
    first_row: u64,
    shard: &str,
    max_doc_bytes: usize,
    error: &mut dyn FnMut(RecordError),
) -> Result<Vec<OwnedDoc>, String> {
    let text = column(batch, &fields.text)
        .ok_or_else(|| format!("no column `{}` for the text", fields.text))?;
    if !matches!(
        text.data_type(),
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    ) {
        return Err(format!(
            "text column `{}` has type {}, not a string",
            fields.text,
            text.data_type()
        ));
    }
    let id = column(batch, &fields.id);
    let source = column(batch, &fields.source);
    let mut docs = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let row = first_row + i as u64;
        let t = match value(text.as_ref(), i) {
            Ok(Some(t)) => t,
            Ok(None) => {
                error(RecordError::at(
                    shard,
                    row,
                    None,
                    ErrorKind::MissingText,
                    format!("text `{}` is null", fields.text),
                ));
                continue;
            }
            Err(reason) => {
                error(RecordError::at(
                    shard,
                    row,
                    None,
                    ErrorKind::InvalidUtf8,
                    reason,
                ));
                continue;
            }
        };
        if t.len() > max_doc_bytes {
            error(RecordError::at(
                shard,
                row,
                None,
                ErrorKind::TooLarge,
                format!("document is larger than --max-doc-bytes ({max_doc_bytes} bytes): skipped"),
            ));
            continue;
        }
        let id = id
            .as_ref()
            .and_then(|c| value(c.as_ref(), i).ok().flatten())
            .unwrap_or_else(|| format!("{shard}:{}", row + 1));
        let source = source
            .as_ref()
            .and_then(|c| value(c.as_ref(), i).ok().flatten());
        docs.push(OwnedDoc {
            row,
            id,
            text: t,
            source,
        });
    }
    Ok(docs)
}
