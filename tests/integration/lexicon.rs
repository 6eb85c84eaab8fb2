//! `tropescan lexicon check|test|list`, and lexicon errors before scanning.

use crate::common::*;

#[test]
fn embedded_lexicons_check_and_pass_their_examples() {
    let o = run(&["lexicon", "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ok:"));
    let o = run(&["lexicon", "test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"));
}

#[test]
fn the_lexicons_folder_matches_the_embedded_set() {
    let a = run(&["lexicon", "check"]);
    let b = run(&["lexicon", "check", "--lexicons", "lexicons"]);
    assert_eq!(
        stderr(&a),
        stderr(&b),
        "digests differ: embedded vs lexicons/"
    );
}

#[test]
fn list_phrases_prints_one_literal_per_line() {
    let o = run(&["lexicon", "list", "--phrases"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() > 100, "{}", lines.len());
    assert!(lines
        .iter()
        .all(|l| !l.is_empty() && !l.ends_with('*') && *l == l.to_lowercase()));
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, lines);
    let o = run(&["lexicon", "list"]);
    assert!(stdout(&o).contains("coercion (trope,"));
}

fn write_set(dir: &std::path::Path, broken: &str) {
    for entry in std::fs::read_dir(repo().join("lexicons")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("coercion.toml"), broken).unwrap();
}

#[test]
fn invalid_lexicons_fail_before_scanning_naming_file_entry_and_reason() {
    let cases = [
        (
            "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"d\"\n[[pattern]]\nid = \"coercion.bad\"\nregex = '(unclosed'\nanchors = [\"unless\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"unless\"]\n",
            "entry coercion.bad: invalid regex",
        ),
        (
            "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"d\"\n[[term]]\nid = \"coercion.w\"\nphrases = [\"blackmail\"]\nweight = 7\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"blackmail\"]\n",
            "entry coercion.w: weight 7 is out of range",
        ),
    ];
    for (text, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write_set(tmp.path(), text);
        let dir = tmp.path().to_str().unwrap();
        let o = run(&["lexicon", "check", "--lexicons", dir]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.contains("coercion.toml") && err.contains(want), "{err}");
        let out = tmp.path().join("run");
        let o = run(&[
            "scan",
            "fixtures/corpus/sample.jsonl",
            "-o",
            out.to_str().unwrap(),
            "--lexicons",
            dir,
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            !out.exists(),
            "nothing is written when lexicons are invalid"
        );
    }
}

#[test]
fn failing_examples_make_lexicon_test_fail() {
    let tmp = tempfile::tempdir().unwrap();
    write_set(
        tmp.path(),
        "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"d\"\n[[term]]\nid = \"coercion.x\"\nphrases = [\"blackmail*\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"they coerced him\"]\nno_match = [\"blackmailers\"]\n",
    );
    let o = run(&[
        "lexicon",
        "test",
        "--lexicons",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("coercion.x: match example \"they coerced him\" did not fire"),
        "{err}"
    );
    assert!(
        err.contains("no_match example \"blackmailers\" fired"),
        "{err}"
    );
}

#[test]
fn check_warns_about_anchors_that_are_very_common_words() {
    let tmp = tempfile::tempdir().unwrap();
    write_set(
        tmp.path(),
        "[lexicon]\nname = \"coercion\"\nkind = \"trope\"\ndescription = \"d\"\n[[pattern]]\nid = \"coercion.leak-to\"\nregex = 'leak (?:it|this) to (?:them|him)'\nanchors = [\"to\", \"leak*\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"I will leak it to them\"]\n[[pattern]]\nid = \"coercion.to-the-press\"\nregex = 'leak (?:it )?to the press'\nanchors = [\"to\"]\nweight = 0.5\ndescription = \"d\"\nrationale = \"r\"\nmatch = [\"I will leak it to the press\"]\n",
    );
    let o = run(&[
        "lexicon",
        "check",
        "--lexicons",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("coercion.leak-to: anchor \"to\""), "{err}");
    assert!(!err.contains("anchor \"leak*\""), "{err}");
    // Every match contains `press`, which the matcher looks up before running the regex.
    assert!(!err.contains("coercion.to-the-press"), "{err}");
    // `lexicon list` says which words a window needs before the regex runs, and shows no
    // such words for the pattern whose words are all common.
    let o = run(&[
        "lexicon",
        "list",
        "--lexicons",
        tmp.path().to_str().unwrap(),
    ]);
    let out = stdout(&o);
    let line = |id: &str| out.lines().find(|l| l.contains(id)).unwrap().to_string();
    assert!(
        line("coercion.to-the-press").ends_with("; runs when (press*) occur"),
        "{out}"
    );
    assert!(!line("coercion.leak-to").contains("runs when"), "{out}");
    assert!(err.contains("ok:"), "{err}");
}
