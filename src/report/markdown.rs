//! `report.md`: the report as GitHub-flavoured Markdown. Every piece of corpus text is
//! escaped (HTML entities for `<`, `>` and `&`, backslashes for Markdown punctuation), so
//! a document cannot inject markup into the report.

use std::fmt::Write;

use super::aggregate::UNATTRIBUTED;
use super::fmt;
use super::model::*;
use super::passage::segments;
use super::table::{self, Table};

/// Escapes text for Markdown prose and table cells, on one line.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An identifier as inline code. Code spans cannot hold escapes, so a name with a
/// backtick or a pipe is written as escaped plain text instead.
fn code(s: &str) -> String {
    if s.is_empty() || s.contains(['`', '|', '\n', '\r']) || s.chars().any(char::is_control) {
        esc(s)
    } else {
        format!("`{s}`")
    }
}

fn cell(c: &table::Cell) -> String {
    match c {
        table::Cell::Code(s) => code(s),
        other => esc(other.text()),
    }
}

fn render_table(out: &mut String, t: &Table) {
    let _ = writeln!(
        out,
        "| {} |",
        t.head
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let seps: Vec<&str> = (0..t.head.len())
        .map(|i| if t.numeric(i) { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "|{}|", seps.join("|"));
    for row in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(cell).collect::<Vec<_>>().join(" | ")
        );
    }
    if let Some(m) = &t.more {
        let _ = writeln!(out, "\n_{}_", esc(m));
    }
    out.push('\n');
}

/// Bold for the marked runs of a passage. Markdown has no nesting of highlights, so
/// consecutive marked segments become one bold run, with surrounding spaces kept outside
/// the asterisks (where CommonMark would not see them as emphasis).
fn passage(p: &Passage) -> String {
    let mut out = String::new();
    if !p.at_start {
        out.push('…');
    }
    let mut bold = String::new();
    let flush = |out: &mut String, bold: &mut String| {
        if bold.is_empty() {
            return;
        }
        let lead = bold.len() - bold.trim_start().len();
        let trail = bold.len() - bold.trim_end().len();
        let inner = bold.trim();
        out.push_str(&bold[..lead]);
        if !inner.is_empty() {
            let _ = write!(out, "**{inner}**");
        }
        out.push_str(&bold[bold.len() - trail..]);
        bold.clear();
    };
    for s in segments(p) {
        let text = esc(s.text);
        if s.marks.is_empty() {
            flush(&mut out, &mut bold);
            out.push_str(&text);
        } else {
            bold.push_str(&text);
        }
    }
    flush(&mut out, &mut bold);
    if !p.at_end {
        out.push('…');
    }
    out
}

fn example(out: &mut String, i: usize, d: &DocExample) {
    let _ = writeln!(out, "### {}. {}\n", i + 1, code(&d.doc_id));
    let _ = writeln!(
        out,
        "{} row {} · source {} · {}\n",
        code(&d.shard),
        d.row,
        code(&d.source),
        esc(&table::doc_scores(d))
    );
    if d.passages.is_empty() {
        out.push_str("_No span context found in the span table._\n\n");
    }
    for p in &d.passages {
        let _ = writeln!(out, "> {}\n", passage(p));
        // One line per marked stretch of text, listing every rule that fired on it.
        let mut i = 0;
        while i < p.marks.len() {
            let m = &p.marks[i];
            let same = p.marks[i..]
                .iter()
                .take_while(|x| (x.start, x.end) == (m.start, m.end))
                .count();
            let rules: Vec<String> = p.marks[i..i + same]
                .iter()
                .map(|x| {
                    format!(
                        "{} ({}, {})",
                        code(&x.rule),
                        esc(&x.category),
                        fmt::score(x.score)
                    )
                })
                .collect();
            let agent = m
                .agent
                .as_deref()
                .map(|a| format!("; agent “{}”", esc(a)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- “{}”: {}{agent}",
                esc(&p.text[m.start..m.end]),
                rules.join(", ")
            );
            i += same;
        }
        out.push('\n');
    }
}

/// Renders the whole report.
pub(crate) fn render(r: &Report) -> String {
    let run = &r.run;
    let thr = run.scan.threshold;
    let mut out = String::new();
    out.push_str("# tropescan audit report\n\n");
    let _ = write!(
        out,
        "Run {} · lexicons {} · threshold {}",
        run.dirs
            .iter()
            .map(|d| code(d))
            .collect::<Vec<_>>()
            .join(", "),
        code(fmt::short_digest(&run.scan.lexicon_digest)),
        thr
    );
    if let Some(b) = &r.baseline {
        let _ = write!(
            out,
            " · baseline {}",
            b.dirs
                .iter()
                .map(|d| code(d))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out.push_str("\n\n## Summary\n\n");
    render_table(&mut out, &table::summary(r));
    out.push_str(
        "Estimated tokens are text bytes / 4, a rough figure for English text; a tokenizer gives the real count.\n\n",
    );
    let _ = writeln!(out, "{}\n", timing_line("Run", &r.timing.run));
    if let Some(t) = &r.timing.baseline {
        let _ = writeln!(out, "{}\n", timing_line("Baseline", t));
    }
    if let Some(c) = &r.comparison {
        if !c.same_lexicons || !c.same_threshold || !c.same_model {
            out.push_str("**The run and the baseline were scanned with different lexicons, thresholds or document models: changes mix corpus and detector changes.**\n\n");
        }
    }
    if !run.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for n in &run.notes {
            let _ = writeln!(out, "- {}", esc(n));
        }
        out.push('\n');
    }

    out.push_str("## What was scanned\n\n");
    render_table(&mut out, &table::scan(r));

    out.push_str("## Flagged documents by category\n\n");
    let _ = writeln!(
        out,
        "A document counts for a category when its score for that category is at least the threshold ({thr}); a document can count for several.\n"
    );
    if run.totals.flagged_by_model > 0 {
        let _ = writeln!(
            out,
            "{} of the {} flagged documents were flagged by the document model alone (document score below {thr}), so they count in no category.\n",
            fmt::int(run.totals.flagged_by_model),
            fmt::int(run.totals.flagged)
        );
    }
    render_table(&mut out, &table::categories(r));

    out.push_str("## Categories that co-occur\n\n");
    if run.cooccurrence.is_empty() {
        out.push_str("No flagged document reaches the threshold in two categories.\n\n");
    } else {
        out.push_str(
            "Pairs of categories that both reach the threshold in one flagged document.\n\n",
        );
        render_table(&mut out, &table::pairs(r, 15));
    }

    out.push_str("## Flagged documents by source\n\n");
    out.push_str("The source is the document's `source` field when it has one, else the folder of its shard.\n\n");
    render_table(&mut out, &table::sources(r, 30));
    if r.run
        .sources
        .iter()
        .any(|s| !s.docs_exact && s.source != UNATTRIBUTED)
    {
        out.push_str("≥: a lower bound. Without `--all-docs` only documents with spans have rows, so the source of the others is known only for shards whose rows name one source.\n\n");
    }

    out.push_str("## Flagged documents by shard\n\n");
    render_table(&mut out, &table::shards(r, 50));

    out.push_str("## Score histogram\n\n");
    let _ = writeln!(
        out,
        "Documents by document score, in bins of {:.2}. Documents without a row in the document table (no span) score 0 and are counted in the first bin from the manifest totals ({} documents). Flagged: score ≥ {thr}.\n",
        run.histogram.bin_width,
        fmt::int(run.histogram.docs_without_row)
    );
    render_table(&mut out, &table::histogram(r));

    out.push_str("## Top rules\n\n### By hits\n\n");
    if run.rules.iter().all(|x| x.category == "counter") {
        out.push_str("No trope rule fired.\n\n");
    } else {
        render_table(&mut out, &table::rules(r, table::RuleOrder::Hits, 15));
        out.push_str("### By flagged documents\n\n");
        render_table(
            &mut out,
            &table::rules(r, table::RuleOrder::FlaggedDocs, 15),
        );
    }

    out.push_str("## Counter-trope documents\n\n");
    let _ = writeln!(
        out,
        "{} documents ({}) have a counter-trope score of at least {thr}: AIs that behave well under pressure, the pool to upsample. {} of them are also flagged.\n",
        fmt::int(run.counter.docs),
        fmt::pct(run.counter.rate),
        fmt::int(run.counter.also_flagged)
    );
    if run.rules.iter().any(|x| x.category == "counter") {
        out.push_str("### Counter cues\n\n");
        render_table(&mut out, &table::counter_cues(r, 10));
    }
    for (i, d) in run.counter.examples.iter().enumerate() {
        example(&mut out, i, d);
    }

    let _ = writeln!(out, "## Top flagged documents\n");
    if run.top_flagged.is_empty() {
        out.push_str("No document is flagged.\n\n");
    } else {
        let _ = writeln!(
            out,
            "The {} highest-scoring flagged documents, spans in bold.\n",
            run.top_flagged.len()
        );
    }
    for (i, d) in run.top_flagged.iter().enumerate() {
        example(&mut out, i, d);
    }

    if let Some(c) = &r.comparison {
        out.push_str("## Flagged documents new or gone since the baseline\n\n");
        for (title, d) in [("New", &c.new_flagged), ("Gone", &c.gone_flagged)] {
            let _ = writeln!(out, "### {title}: {}\n", fmt::int(d.count));
            if !d.examples.is_empty() {
                let ids: Vec<String> = d.examples.iter().map(|i| code(i)).collect();
                let _ = writeln!(out, "{}\n", ids.join(", "));
                if d.count > d.examples.len() as u64 {
                    let _ = writeln!(
                        out,
                        "_and {} more_\n",
                        fmt::int(d.count - d.examples.len() as u64)
                    );
                }
            }
        }
    }

    out.push_str("## Errors\n\n");
    let e = &run.errors;
    if e.total == 0 && e.by_kind.is_empty() {
        out.push_str("No errors.\n");
    } else {
        let _ = writeln!(
            out,
            "{} errors recorded (bad records, unreadable shards, inputs); the documents involved were not scanned.\n",
            fmt::int(e.total)
        );
        if !e.by_kind.is_empty() {
            render_table(&mut out, &table::error_kinds(r));
            out.push_str("### First errors of each kind\n\n");
            render_table(&mut out, &table::error_examples(r));
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The one line carrying timings, so that comparisons of reports can drop it.
fn timing_line(who: &str, t: &Timing) -> String {
    format!(
        "{who} wall time {} ({} in shards), {:.2} MB/s of input, {} documents/s.",
        fmt::secs(t.wall_seconds),
        fmt::secs(t.shard_seconds),
        t.input_mb_per_second,
        fmt::compact(t.docs_per_second)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_text_cannot_inject_markup() {
        assert_eq!(
            esc("<script>*a*</script>|"),
            "&lt;script&gt;\\*a\\*&lt;/script&gt;\\|"
        );
        assert_eq!(code("a`b"), "a\\`b");
        assert_eq!(code("rule.x"), "`rule.x`");
    }

    #[test]
    fn bold_runs_keep_spaces_outside() {
        let p = Passage {
            offset: 0,
            text: "they blackmailed him".into(),
            at_start: true,
            at_end: false,
            marks: vec![Mark {
                start: 4,
                end: 16,
                category: "coercion".into(),
                rule: "r".into(),
                score: 0.5,
                agent: None,
            }],
        };
        assert_eq!(passage(&p), "they **blackmailed** him…");
    }
}
