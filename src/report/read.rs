//! Reading a run's tables back: Parquet with a projection of the columns a figure needs
//! (and optionally a filter on `row`), and the errors files, line by line.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, BooleanArray, PrimitiveArray, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowFilter,
};
use parquet::arrow::ProjectionMask;
use serde::Deserialize;

use super::ReportError;

/// Rows per decoded batch: large enough to amortize per-batch work, small enough that a
/// batch of span contexts stays a few megabytes.
const BATCH_ROWS: usize = 8192;

fn pq_err(path: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |reason| ReportError::Parquet {
        path: path.to_path_buf(),
        reason,
    }
}

/// Opens `path` reading only `wanted` columns (those absent from the file are skipped;
/// callers check for the ones they require) and, when `rows` is given, only the rows whose
/// `row` column is in it.
///
/// # Errors
/// When the file cannot be opened or is not Parquet.
pub(crate) fn open(
    path: &Path,
    wanted: &[&str],
    rows: Option<BTreeSet<u64>>,
) -> Result<ParquetRecordBatchReader, ReportError> {
    let err = pq_err(path);
    let file = File::open(path).map_err(|e| err(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let fields = builder.schema().fields().clone();
    let index = |name: &str| fields.iter().position(|f| f.name() == name);
    let roots: Vec<usize> = wanted.iter().filter_map(|n| index(n)).collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let mut builder = builder.with_projection(mask).with_batch_size(BATCH_ROWS);
    if let Some(rows) = rows {
        let row_idx = index("row").ok_or_else(|| err("no column row".into()))?;
        let pmask = ProjectionMask::roots(builder.parquet_schema(), [row_idx]);
        // The filter reads `row` first and decodes the other columns only for the rows it
        // keeps, so picking a few documents out of a large span table stays cheap.
        let pred = ArrowPredicateFn::new(pmask, move |batch: RecordBatch| {
            let col = batch.column(0).as_primitive::<UInt64Type>();
            Ok(col
                .iter()
                .map(|v| Some(v.is_some_and(|r| rows.contains(&r))))
                .collect::<BooleanArray>())
        });
        builder = builder.with_row_filter(RowFilter::new(vec![Box::new(pred)]));
    }
    builder.build().map_err(|e| err(e.to_string()))
}

/// The next batch, with the error named after `path`.
pub(crate) fn next_batch(
    reader: &mut ParquetRecordBatchReader,
    path: &Path,
) -> Result<Option<RecordBatch>, ReportError> {
    reader
        .next()
        .transpose()
        .map_err(|e| pq_err(path)(e.to_string()))
}

/// Typed access to a batch's columns by name.
pub(crate) struct Cols<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Cols<'a> {
    pub(crate) fn new(batch: &'a RecordBatch, path: &'a Path) -> Cols<'a> {
        Cols { batch, path }
    }

    fn get(&self, name: &str) -> Result<&'a dyn Array, ReportError> {
        self.batch
            .column_by_name(name)
            .map(|c| c.as_ref())
            .ok_or_else(|| pq_err(self.path)(format!("no column {name}")))
    }

    fn wrong(&self, name: &str, want: &str) -> ReportError {
        pq_err(self.path)(format!("column {name} is not {want}"))
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.batch.column_by_name(name).is_some()
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a StringArray, ReportError> {
        self.get(name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| self.wrong(name, "utf8"))
    }

    pub(crate) fn u64(&self, name: &str) -> Result<&'a PrimitiveArray<UInt64Type>, ReportError> {
        self.get(name)?
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| self.wrong(name, "uint64"))
    }

    pub(crate) fn u32(&self, name: &str) -> Result<&'a PrimitiveArray<UInt32Type>, ReportError> {
        self.get(name)?
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| self.wrong(name, "uint32"))
    }

    pub(crate) fn f64(&self, name: &str) -> Result<&'a PrimitiveArray<Float64Type>, ReportError> {
        self.get(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| self.wrong(name, "float64"))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<&'a BooleanArray, ReportError> {
        self.get(name)?
            .as_boolean_opt()
            .ok_or_else(|| self.wrong(name, "boolean"))
    }
}

/// The value of a nullable string column, `None` when null.
pub(crate) fn opt_str(col: &StringArray, i: usize) -> Option<&str> {
    (!col.is_null(i)).then(|| col.value(i))
}

/// One line of `errors.jsonl`, with only the fields the report uses.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorLine {
    pub shard: String,
    pub row: Option<u64>,
    pub kind: String,
    pub reason: String,
}

/// Calls `f` with every line of an errors file, in order. Lines that are not error
/// records (a file cut short by a crash) are skipped.
///
/// # Errors
/// When the file exists but cannot be read. Returns `Ok(false)` when it does not exist.
pub(crate) fn each_error(path: &Path, mut f: impl FnMut(ErrorLine)) -> Result<bool, ReportError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(ReportError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| ReportError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            return Ok(true);
        }
        if let Ok(e) = serde_json::from_slice::<ErrorLine>(&line) {
            f(e);
        }
    }
}
