//! From command-line inputs (files, folders, globs) to a sorted list of shards.

use std::collections::BTreeMap;
use std::path::Path;

use super::decode::{head, Compression};
use super::{ErrorKind, Format, RecordError, Shard};

/// What [`discover`] found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Shards, sorted by name, without duplicates.
    pub shards: Vec<Shard>,
    /// Inputs that could not be used (missing paths, symlink loops, unreadable folders).
    pub errors: Vec<RecordError>,
}

/// Expands `inputs` into shards. Folders are walked recursively (following symlinks,
/// with loops reported rather than followed forever) and contribute files whose names end
/// in a known extension (`.jsonl`, `.json`, `.ndjson`, `.parquet`, `.txt`, each optionally
/// `.gz`/`.zst`); files named explicitly are always taken, their format sniffed when the
/// name says nothing.
pub fn discover(inputs: &[String]) -> Discovery {
    let mut found: BTreeMap<String, Shard> = BTreeMap::new();
    let mut errors = Vec::new();
    for input in inputs {
        let path = Path::new(input);
        if path.exists() {
            add_path(path, true, &mut found, &mut errors);
            continue;
        }
        if input.contains(['*', '?', '[']) {
            match glob::glob(input) {
                Ok(paths) => {
                    let mut any = false;
                    for p in paths {
                        match p {
                            Ok(p) => {
                                any = true;
                                add_path(&p, true, &mut found, &mut errors);
                            }
                            Err(e) => errors.push(bad(input, format!("{e}"))),
                        }
                    }
                    if !any {
                        errors.push(bad(input, "the glob matched no file".into()));
                    }
                }
                Err(e) => errors.push(bad(input, format!("invalid glob: {e}"))),
            }
            continue;
        }
        errors.push(bad(input, missing_reason(path)));
    }
    Discovery {
        shards: found.into_values().collect(),
        errors,
    }
}

/// Why a path that does not resolve is unusable: a dangling symlink or a symlink loop says
/// so, rather than claiming nothing is there.
fn missing_reason(path: &Path) -> String {
    match (std::fs::symlink_metadata(path), std::fs::metadata(path)) {
        (Ok(link), Err(e)) if link.file_type().is_symlink() => {
            format!("the symlink does not resolve: {e}")
        }
        (_, Err(e)) if e.kind() != std::io::ErrorKind::NotFound => e.to_string(),
        _ => "no such file or folder".into(),
    }
}

fn bad(input: &str, reason: String) -> RecordError {
    RecordError::shard(input, ErrorKind::BadInput, reason)
}

fn add_path(
    path: &Path,
    explicit: bool,
    found: &mut BTreeMap<String, Shard>,
    errors: &mut Vec<RecordError>,
) {
    if path.is_dir() {
        for entry in walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(e) if e.file_type().is_file() => add_file(e.path(), false, found, errors),
                Ok(_) => {}
                Err(e) => {
                    let at = e
                        .path()
                        .map_or_else(|| path.display().to_string(), |p| p.display().to_string());
                    errors.push(bad(&display(Path::new(&at)), e.to_string()));
                }
            }
        }
    } else {
        add_file(path, explicit, found, errors);
    }
}

fn display(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn add_file(
    path: &Path,
    explicit: bool,
    found: &mut BTreeMap<String, Shard>,
    errors: &mut Vec<RecordError>,
) {
    let name = display(path);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push(RecordError::shard(
                &name,
                ErrorKind::Unreadable,
                e.to_string(),
            ));
            return;
        }
    };
    // Opening a FIFO blocks until something writes to it, and sockets and devices are not
    // shards: only regular files are read. (Inside folders they are skipped silently, like
    // any file without a shard extension.)
    if !meta.is_file() {
        errors.push(RecordError::shard(
            &name,
            ErrorKind::Unreadable,
            "not a regular file (a FIFO, socket or device): skipped",
        ));
        return;
    }
    let by_name = format_from_name(&name);
    let format = match by_name {
        Some(f) => {
            // A Parquet file is recognized by its magic whatever it is called.
            match head(path, 4) {
                Ok(h) if h == b"PAR1" => Format::Parquet,
                _ => f,
            }
        }
        None if explicit => match head(path, 4096) {
            Ok(h) => sniff_format(&h),
            Err(e) => {
                errors.push(RecordError::shard(
                    &name,
                    ErrorKind::Unreadable,
                    e.to_string(),
                ));
                return;
            }
        },
        None => return,
    };
    found.insert(
        name.clone(),
        Shard {
            path: path.to_path_buf(),
            name,
            format,
            size: meta.len(),
        },
    );
}

/// The format a file name implies, compression suffixes aside.
pub(crate) fn format_from_name(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let base = ["gz", "gzip", "zst", "zstd"]
        .iter()
        .find_map(|ext| lower.strip_suffix(&format!(".{ext}")))
        .unwrap_or(&lower);
    let ext = base.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
        "parquet" | "pq" => Some(Format::Parquet),
        "txt" | "text" => Some(Format::Text),
        _ => None,
    }
}

fn sniff_format(head: &[u8]) -> Format {
    if head.starts_with(b"PAR1") {
        return Format::Parquet;
    }
    if Compression::sniff(head) != Compression::None {
        // Compressed with no telling name: JSON Lines is by far the common case.
        return Format::Jsonl;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Format::Jsonl,
        _ => Format::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_names() {
        assert_eq!(format_from_name("a/b.jsonl.zst"), Some(Format::Jsonl));
        assert_eq!(format_from_name("b.json.gz"), Some(Format::Jsonl));
        assert_eq!(format_from_name("b.NDJSON"), Some(Format::Jsonl));
        assert_eq!(format_from_name("x.parquet"), Some(Format::Parquet));
        assert_eq!(format_from_name("story.txt.gz"), Some(Format::Text));
        assert_eq!(format_from_name("README"), None);
        assert_eq!(format_from_name("a.csv"), None);
    }

    #[test]
    fn sniffs_content() {
        assert_eq!(sniff_format(b"PAR1...."), Format::Parquet);
        assert_eq!(sniff_format(b"  {\"text\":1}"), Format::Jsonl);
        assert_eq!(sniff_format(b"Once upon"), Format::Text);
    }
}
