//! `tropescan explain`

use crate::common::*;

#[test]
fn explains_the_scenario_from_stdin() {
    let fx = fixture_docs();
    let scenario = &fx[0];
    assert!(scenario.expect_flag);
    let o = run_stdin(&["explain"], &scenario.text);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FLAGGED"), "{out}");
    assert!(out.contains("(weight) ×"), "{out}");
    assert!(
        out.contains("agent."),
        "the qualifying agent cue is named: {out}"
    );
    assert!(out.contains("counter_score"), "{out}");
}

#[test]
fn explains_a_file_that_is_not_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("plain.txt");
    std::fs::write(&p, "We walked to the harbour and bought apples.").unwrap();
    let o = run(&["explain", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("not flagged") && out.contains("(none)"),
        "{out}"
    );
    // The embedded model asks on any trope hit or agent cue: here there is neither.
    assert!(
        out.contains("not asked: the lexicons found no trope hit and no agent cue"),
        "{out}"
    );
}
