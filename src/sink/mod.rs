//! Writing results: Parquet tables of spans and documents, the errors file, the manifest.
//!
//! Every file appears atomically: it is written under a temporary name in the same folder,
//! flushed to disk and renamed, so a crash never leaves a file that fails to open.

mod manifest;
mod parquet;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use manifest::{Manifest, ShardEntry, ShardStatus, Totals};
pub use parquet::{
    doc_schema, remove_tmp_tables, span_schema, table_path, DocRow, ShardWriter, SpanRow, TableMeta,
};

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync of the
/// folder), so readers see the old file or the new one, never a mix, even after a crash.
///
/// # Errors
/// Any I/O error; the temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = tmp_path(path);
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Flushes a folder's entries to disk, so a rename or removal in it survives a power loss
/// (a file's own fsync does not cover its name). A no-op where folders cannot be opened.
///
/// # Errors
/// The folder cannot be opened or flushed.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The temporary name a file is written under before it is renamed into place.
pub fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// A file name for a shard's outputs: readable, unique and the same on every run.
pub fn output_stem(shard: &str) -> String {
    let mut clean: String = shard
        .chars()
        .map(|c| match c {
            '/' | '\\' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
            _ => '_',
        })
        .collect();
    let clean_start = clean.trim_start_matches(['.', '_']).len();
    clean = clean[clean.len() - clean_start..].to_string();
    if clean.len() > 96 {
        let mut cut = clean.len() - 96;
        while !clean.is_char_boundary(cut) {
            cut += 1;
        }
        clean = clean[cut..].to_string();
    }
    // FNV-1a: tiny, stable across versions and platforms, enough to keep names unique.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in shard.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{clean}-{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_clean_and_distinct() {
        let a = output_stem("corpus/a b.jsonl.zst");
        assert!(a.starts_with("corpus_a_b.jsonl.zst-"), "{a}");
        assert_ne!(output_stem("x/y.jsonl"), output_stem("x_y.jsonl"));
        assert!(!output_stem("../../etc/passwd").starts_with('.'));
        assert!(output_stem(&"z".repeat(500)).len() < 120);
    }
}
