//! Finding and checking the manifests of a run: every `run.json` and
//! `run.rank-NNNNN.json` in every folder given, read as one run.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::sink::{Manifest, ShardEntry};

use super::ReportError;

/// One manifest and the folder it belongs to.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The run folder holding it (outputs are relative to it).
    pub dir: PathBuf,
    /// The manifest's file name.
    pub file: String,
    /// Its contents.
    pub manifest: Manifest,
}

/// The manifests of one run, checked to agree with each other.
#[derive(Debug, Clone)]
pub struct RunSet {
    /// The folders, as given.
    pub dirs: Vec<PathBuf>,
    /// Manifests, in folder then file name order.
    pub manifests: Vec<LoadedManifest>,
    /// Every shard entry, in shard name order, with the index of its manifest.
    pub shards: Vec<(usize, ShardEntry)>,
    /// Flag threshold shared by the manifests.
    pub threshold: f64,
}

impl RunSet {
    /// The first manifest (every run has one).
    pub fn first(&self) -> &Manifest {
        &self.manifests[0].manifest
    }

    /// Path of a file named relative to the folder of manifest `m`.
    pub fn path(&self, m: usize, rel: &str) -> PathBuf {
        self.manifests[m].dir.join(rel)
    }
}

/// Whether `name` is a manifest file name: `run.json` or `run.rank-<digits>.json`.
fn is_manifest(name: &str) -> bool {
    name == "run.json"
        || name
            .strip_prefix("run.rank-")
            .and_then(|r| r.strip_suffix(".json"))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn threshold_of(m: &Manifest) -> f64 {
    m.options
        .get("threshold")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(crate::engine::DEFAULT_THRESHOLD)
}

/// Reads every manifest in `dirs` and checks that they describe one run: same lexicon
/// digest, threshold and categories, and no shard listed twice.
///
/// # Errors
/// [`ReportError::NoManifest`] for a folder without manifests, and the other variants for
/// unreadable or disagreeing manifests.
pub fn load(dirs: &[PathBuf]) -> Result<RunSet, ReportError> {
    let mut manifests = Vec::new();
    for dir in dirs {
        let entries = fs::read_dir(dir).map_err(|source| ReportError::Io {
            action: "read",
            path: dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_manifest(n))
            .collect();
        if names.is_empty() {
            return Err(ReportError::NoManifest(dir.clone()));
        }
        names.sort();
        for file in names {
            let path = dir.join(&file);
            let manifest = read_manifest(&path)?;
            manifests.push(LoadedManifest {
                dir: dir.clone(),
                file,
                manifest,
            });
        }
    }
    check_agree(&manifests)?;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in manifests.iter().enumerate() {
        for s in &m.manifest.shards {
            if let Some(&j) = seen.get(s.shard.as_str()) {
                return Err(ReportError::DuplicateShard {
                    shard: s.shard.clone(),
                    first: manifests[j].dir.join(&manifests[j].file),
                    second: m.dir.join(&m.file),
                });
            }
            seen.insert(&s.shard, i);
        }
    }
    let mut shards: Vec<(usize, ShardEntry)> = manifests
        .iter()
        .enumerate()
        .flat_map(|(i, m)| m.manifest.shards.iter().map(move |s| (i, s.clone())))
        .collect();
    shards.sort_by(|a, b| a.1.shard.cmp(&b.1.shard));
    let threshold = threshold_of(&manifests[0].manifest);
    Ok(RunSet {
        dirs: dirs.to_vec(),
        manifests,
        shards,
        threshold,
    })
}

fn read_manifest(path: &Path) -> Result<Manifest, ReportError> {
    let bytes = fs::read(path).map_err(|source| ReportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::BadManifest {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn check_agree(manifests: &[LoadedManifest]) -> Result<(), ReportError> {
    let Some(first) = manifests.first() else {
        return Ok(());
    };
    let f = &first.manifest;
    for m in &manifests[1..] {
        let o = &m.manifest;
        let mismatch = |what, a: String, b: String| ReportError::Mismatch {
            what,
            first: a,
            first_path: first.dir.join(&first.file),
            other: b,
            path: m.dir.join(&m.file),
        };
        if o.lexicon_digest != f.lexicon_digest {
            return Err(mismatch(
                "lexicon digest",
                f.lexicon_digest.clone(),
                o.lexicon_digest.clone(),
            ));
        }
        if threshold_of(o) != threshold_of(f) {
            return Err(mismatch(
                "threshold",
                threshold_of(f).to_string(),
                threshold_of(o).to_string(),
            ));
        }
        if o.categories != f.categories {
            return Err(mismatch(
                "categories",
                f.categories.join(","),
                o.categories.join(","),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_manifest;

    #[test]
    fn manifest_names() {
        assert!(is_manifest("run.json"));
        assert!(is_manifest("run.rank-00003.json"));
        assert!(!is_manifest("run.rank-.json"));
        assert!(!is_manifest("run.rank-0x1.json"));
        assert!(!is_manifest("report.json"));
        assert!(!is_manifest(".run.json.tmp"));
    }
}
