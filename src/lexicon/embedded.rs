//! The default lexicons, compiled into the binary so a bare `tropescan scan` needs no files.

/// `(file name, contents)` of every file in the repository's `lexicons/` folder.
/// A test checks that this list and the folder agree.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("agents.toml", include_str!("../../lexicons/agents.toml")),
    (
        "coercion.toml",
        include_str!("../../lexicons/coercion.toml"),
    ),
    ("counter.toml", include_str!("../../lexicons/counter.toml")),
    (
        "deception.toml",
        include_str!("../../lexicons/deception.toml"),
    ),
    (
        "negation.toml",
        include_str!("../../lexicons/negation.toml"),
    ),
    (
        "power_seeking.toml",
        include_str!("../../lexicons/power_seeking.toml"),
    ),
    (
        "pressure.toml",
        include_str!("../../lexicons/pressure.toml"),
    ),
    (
        "self_exfiltration.toml",
        include_str!("../../lexicons/self_exfiltration.toml"),
    ),
    (
        "shutdown_resistance.toml",
        include_str!("../../lexicons/shutdown_resistance.toml"),
    ),
    (
        "threatened_disclosure.toml",
        include_str!("../../lexicons/threatened_disclosure.toml"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_lexicon_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/lexicons");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = super::EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }
}
