//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, nothing fetched)
//! that reads well on screen and on paper. Every piece of corpus text is HTML-escaped.

use std::fmt::Write;

use super::aggregate::{rate, UNATTRIBUTED};
use super::fmt;
use super::model::*;
use super::passage::segments;
use super::svg::{self, Bar, StripCell};
use super::table::{self, Cell, Table};

const CSS: &str = include_str!("report.css");

const SOURCE_BOUND_NOTE_HTML: &str = r#"<p class="more">≥: a lower bound. Without <code>--all-docs</code> only documents with spans have rows, so the source of the others is known only for shards whose rows name one source.</p>"#;

/// Shards drawn one column each in the strip; more are grouped into this many columns.
const STRIP_COLUMNS: usize = 300;

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    svg::esc(s)
}

/// Escapes an identifier (shard path, rule id) for a table cell, with break opportunities
/// after `/`, `.`, `_` and `-`, so a narrow column wraps it between its parts rather than
/// letter by letter.
fn esc_breakable(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        out.push_str(&svg::esc(c.encode_utf8(&mut [0; 4])));
        if matches!(c, '/' | '.' | '_' | '-') {
            out.push_str("<wbr>");
        }
    }
    out
}

/// Escapes passage text, keeping line breaks (the passage is shown with its lines, which
/// matters for mail and dialogue) but at most one in a row, without the indentation after.
fn esc_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_break = false;
    for (i, line) in s.split(['\n', '\r']).enumerate() {
        let line = if i > 0 {
            pending_break = true;
            line.trim_start()
        } else {
            line
        };
        if line.is_empty() {
            continue;
        }
        if pending_break {
            out.push('\n');
            pending_break = false;
        }
        out.push_str(&svg::esc(line));
    }
    if pending_break {
        out.push('\n');
    }
    out
}

fn render_table(out: &mut String, t: &Table, class: &str) {
    let _ = write!(
        out,
        r#"<div class="tablewrap"><table class="{class}"><thead><tr>"#
    );
    for (i, h) in t.head.iter().enumerate() {
        let cls = if t.numeric(i) { r#" class="n""# } else { "" };
        let _ = write!(out, "<th{cls}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            match c {
                Cell::Text(s) => {
                    let _ = write!(out, "<td>{}</td>", esc(s));
                }
                Cell::Code(s) => {
                    let _ = write!(out, "<td><code>{}</code></td>", esc_breakable(s));
                }
                Cell::Num(s) => {
                    let _ = write!(out, r#"<td class="n">{}</td>"#, esc(s));
                }
                Cell::Delta(s, sign) => {
                    let cls = match sign {
                        1 => "n up",
                        -1 => "n down",
                        _ => "n",
                    };
                    let _ = write!(out, r#"<td class="{cls}">{}</td>"#, esc(s));
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    if let Some(m) = &t.more {
        let _ = write!(out, r#"<p class="more">{}</p>"#, esc(m));
    }
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = write!(out, r#"<section id="{id}"><h2>{}</h2>"#, esc(title));
}

fn kpi(out: &mut String, label: &str, value: String, sub: String) {
    let _ = write!(
        out,
        r#"<div class="kpi"><div class="kl">{}</div><div class="kv">{}</div><div class="ks">{}</div></div>"#,
        esc(label),
        esc(&value),
        sub
    );
}

/// A KPI's sub-line: the given text, and with a baseline the change against it.
fn kpi_sub(r: &Report, metric: &str, text: &str) -> String {
    let mut s = esc(text);
    if let Some(c) = r
        .comparison
        .as_ref()
        .and_then(|c| c.headline.iter().find(|h| h.metric == metric))
    {
        let cls = match c.change.as_f64() {
            x if x > 0.0 => "up",
            x if x < 0.0 => "down",
            _ => "",
        };
        if !s.is_empty() {
            s.push_str(" · ");
        }
        let _ = write!(
            s,
            r#"<span class="{cls}">{} vs baseline</span>"#,
            esc(&fmt::delta(c.change))
        );
    }
    s
}

fn kpis(out: &mut String, r: &Report) {
    let t = &r.run.totals;
    out.push_str(r#"<div class="kpis">"#);
    kpi(
        out,
        "Documents",
        fmt::int(t.docs),
        kpi_sub(r, "docs", &format!("{} shards", fmt::int(t.shards))),
    );
    kpi(
        out,
        "Estimated tokens",
        fmt::compact(t.est_tokens as f64),
        kpi_sub(
            r,
            "est_tokens",
            &format!("{} of text / 4", fmt::bytes(t.bytes)),
        ),
    );
    kpi(
        out,
        "Flagged",
        fmt::int(t.flagged),
        kpi_sub(r, "flagged_rate", &fmt::pct(t.flagged_rate)),
    );
    kpi(
        out,
        "Counter-trope",
        fmt::int(t.counter_docs),
        kpi_sub(r, "counter_rate", &fmt::pct(t.counter_rate)),
    );
    kpi(
        out,
        "Spans",
        fmt::int(t.spans),
        kpi_sub(r, "spans", "trope and counter"),
    );
    kpi(
        out,
        "Errors",
        fmt::int(t.errors),
        kpi_sub(
            r,
            "errors",
            &format!(
                "{} failed · {} partial shards",
                t.shards_failed, t.shards_partial
            ),
        ),
    );
    out.push_str("</div>");
}

fn passage_html(out: &mut String, p: &Passage, cats: &[String]) {
    out.push_str(r#"<blockquote class="passage">"#);
    if !p.at_start {
        out.push('…');
    }
    for s in segments(p) {
        if s.marks.is_empty() {
            out.push_str(&esc_lines(s.text));
            continue;
        }
        // The strongest span covering the text gives the colour; all of them the tooltip.
        let top = s
            .marks
            .iter()
            .map(|&i| &p.marks[i])
            .max_by(|a, b| {
                a.score
                    .total_cmp(&b.score)
                    .then_with(|| b.rule.cmp(&a.rule))
            })
            .expect("a marked segment has a mark");
        let title: Vec<String> = s
            .marks
            .iter()
            .map(|&i| {
                let m = &p.marks[i];
                let agent = m
                    .agent
                    .as_deref()
                    .map(|a| format!(", agent “{a}”"))
                    .unwrap_or_default();
                format!(
                    "{} ({}, {}{agent})",
                    m.rule,
                    m.category,
                    fmt::score(m.score)
                )
            })
            .collect();
        let c = svg::color(&top.category, cats);
        let _ = write!(
            out,
            r#"<mark style="--c:{c}" title="{}">{}</mark>"#,
            esc(&title.join("; ")),
            esc_lines(s.text)
        );
    }
    if !p.at_end {
        out.push('…');
    }
    out.push_str("</blockquote>");
}

fn chip(out: &mut String, label: &str, color: &str) {
    let _ = write!(
        out,
        r#"<span class="chip" style="--c:{color}">{}</span>"#,
        esc(label)
    );
}

fn example(out: &mut String, i: usize, d: &DocExample, cats: &[String], counter: bool) {
    let main = if counter { d.counter_score } else { d.score };
    let _ = write!(
        out,
        r#"<article class="doc"><header><span class="rank">{}</span><code class="id">{}</code><span class="big">{}</span></header><div class="meta"><code>{}</code> row {} · source <code>{}</code> · {} · {}</div><div class="chips">"#,
        i + 1,
        esc(&d.doc_id),
        if counter {
            format!("counter {}", fmt::score(main))
        } else {
            format!("score {}", fmt::score(main))
        },
        esc(&d.shard),
        d.row,
        esc(&d.source),
        fmt::bytes(d.bytes),
        fmt::plural(d.n_spans, "span")
    );
    // Scores that round to 0.00 say nothing on a chip.
    for c in d.categories.iter().filter(|c| c.score >= 0.005) {
        chip(
            out,
            &format!("{} {}", c.category, fmt::score(c.score)),
            svg::color(&c.category, cats),
        );
    }
    if d.counter_score > 0.0 {
        chip(
            out,
            &format!("counter {}", fmt::score(d.counter_score)),
            svg::COUNTER,
        );
    }
    out.push_str("</div>");
    if d.passages.is_empty() {
        out.push_str(r#"<p class="more">No span context found in the span table.</p>"#);
    }
    for p in &d.passages {
        passage_html(out, p, cats);
    }
    out.push_str("</article>");
}

fn legend(out: &mut String, cats: &[String]) {
    out.push_str(r#"<p class="legend">"#);
    for c in cats {
        chip(out, c, svg::color(c, cats));
    }
    chip(out, "counter", svg::COUNTER);
    out.push_str("</p>");
}

fn category_chart(r: &Report) -> String {
    let cats = &r.run.scan.categories;
    let bars: Vec<Bar> = r
        .run
        .categories
        .iter()
        .map(|c| {
            let base = r
                .baseline
                .as_ref()
                .and_then(|b| b.categories.iter().find(|x| x.category == c.category));
            Bar {
                label: c.category.clone(),
                value: c.rate,
                baseline: base.map(|b| b.rate),
                text: format!("{} · {}", fmt::int(c.flagged), fmt::pct(c.rate)),
                color: svg::color(&c.category, cats),
                title: format!(
                    "{}: {} documents, {}{}",
                    c.category,
                    fmt::int(c.flagged),
                    fmt::pct(c.rate),
                    base.map(|b| format!("; baseline {}", fmt::pct(b.rate)))
                        .unwrap_or_default()
                ),
            }
        })
        .collect();
    svg::hbars(&bars, 0.0, "Flagged rate per category")
}

fn source_chart(r: &Report, limit: usize) -> String {
    let mut list: Vec<&SourceStats> = r.run.sources.iter().filter(|s| s.flagged > 0).collect();
    list.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then_with(|| a.source.cmp(&b.source))
    });
    let bars: Vec<Bar> = list
        .into_iter()
        .take(limit)
        .map(|s| {
            let base = r.baseline.as_ref().map(|b| {
                b.sources
                    .iter()
                    .find(|x| x.source == s.source)
                    .map_or(0, |x| x.flagged)
            });
            let rate = match s.rate {
                Some(v) => format!("{} of {}", fmt::pct(v), fmt::compact(s.docs as f64)),
                None => format!("{} of flagged", fmt::pct(s.share_of_flagged)),
            };
            Bar {
                label: s.source.clone(),
                value: s.flagged as f64,
                baseline: base.map(|b| b as f64),
                text: format!("{} · {rate}", fmt::int(s.flagged)),
                color: svg::NEUTRAL,
                title: format!(
                    "{}: {} flagged of {}{} documents{}",
                    s.source,
                    fmt::int(s.flagged),
                    if s.docs_exact { "" } else { "at least " },
                    fmt::int(s.docs),
                    base.map(|b| format!("; baseline {}", fmt::int(b)))
                        .unwrap_or_default()
                ),
            }
        })
        .collect();
    svg::hbars(&bars, 0.0, "Flagged documents per source")
}

fn strip_chart(r: &Report) -> String {
    let shards = &r.run.shards;
    let per = shards.len().div_ceil(STRIP_COLUMNS).max(1);
    let cells: Vec<StripCell> = shards
        .chunks(per)
        .map(|group| {
            let docs: u64 = group.iter().map(|s| s.docs).sum();
            let flagged: u64 = group.iter().map(|s| s.flagged).sum();
            let name = if group.len() == 1 {
                group[0].shard.clone()
            } else {
                format!("{} … {}", group[0].shard, group[group.len() - 1].shard)
            };
            StripCell {
                rate: rate(flagged, docs),
                title: format!(
                    "{name}: {} of {} flagged ({})",
                    fmt::int(flagged),
                    fmt::int(docs),
                    fmt::pct(rate(flagged, docs))
                ),
            }
        })
        .collect();
    svg::strip(&cells, r.run.totals.flagged_rate, svg::PALETTE_HOT)
}

fn matrix_chart(r: &Report) -> String {
    let cats = &r.run.scan.categories;
    let diag: Vec<u64> = r.run.categories.iter().map(|c| c.flagged).collect();
    let index = |name: &str| cats.iter().position(|c| c == name);
    let pairs: Vec<(usize, usize, u64)> = r
        .run
        .cooccurrence
        .iter()
        .filter_map(|p| Some((index(&p.a)?, index(&p.b)?, p.docs)))
        .collect();
    svg::matrix(cats, &diag, &pairs)
}

fn timing_line(who: &str, t: &Timing) -> String {
    format!(
        "{who}: wall time {} ({} in shards), {:.2} MB/s of input, {} documents/s.",
        fmt::secs(t.wall_seconds),
        fmt::secs(t.shard_seconds),
        t.input_mb_per_second,
        fmt::compact(t.docs_per_second)
    )
}

/// Renders the whole page.
pub(crate) fn render(r: &Report) -> String {
    let run = &r.run;
    let cats = &run.scan.categories;
    let thr = run.scan.threshold;
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="tropescan {}"><title>tropescan audit report: {}</title><style>{CSS}</style></head><body><main>"#,
        esc(&r.tool_version),
        esc(&run.dirs.join(", "))
    );
    let _ = write!(
        out,
        r#"<header class="top"><h1>tropescan audit report</h1><p class="sub">Run <code>{}</code> · lexicons <code>{}</code> · threshold {thr}"#,
        esc(&run.dirs.join(", ")),
        esc(fmt::short_digest(&run.scan.lexicon_digest))
    );
    if let Some(b) = &r.baseline {
        let _ = write!(
            out,
            r#" · baseline <code>{}</code>"#,
            esc(&b.dirs.join(", "))
        );
    }
    out.push_str("</p></header>");
    kpis(&mut out, r);
    out.push_str(r##"<nav><a href="#summary">Summary</a><a href="#categories">Categories</a><a href="#sources">Sources</a><a href="#shards">Shards</a><a href="#histogram">Scores</a><a href="#rules">Rules</a><a href="#counter">Counter-trope</a><a href="#top">Top documents</a>"##);
    if r.comparison.is_some() {
        out.push_str(r##"<a href="#diff">New and gone</a>"##);
    }
    out.push_str(r##"<a href="#errors">Errors</a></nav>"##);

    section(&mut out, "summary", "Summary");
    if let Some(c) = &r.comparison {
        if !c.same_lexicons || !c.same_threshold || !c.same_model {
            out.push_str(r#"<p class="warn">The run and the baseline were scanned with different lexicons, thresholds or document models: changes mix corpus and detector changes.</p>"#);
        }
    }
    // Beside a baseline the tables have more columns: one above the other then.
    let layout = if r.baseline.is_some() {
        "stack"
    } else {
        "cols"
    };
    let _ = write!(out, r#"<div class="{layout}"><div>"#);
    render_table(&mut out, &table::summary(r), "fig");
    out.push_str(r#"<p class="more">Estimated tokens are text bytes / 4, a rough figure for English text; a tokenizer gives the real count.</p>"#);
    let _ = write!(
        out,
        r#"<p class="more timing">{}"#,
        esc(&timing_line("Run", &r.timing.run))
    );
    if let Some(t) = &r.timing.baseline {
        let _ = write!(out, "<br>{}", esc(&timing_line("Baseline", t)));
    }
    out.push_str("</p></div><div>");
    render_table(&mut out, &table::scan(r), "fig");
    out.push_str("</div></div>");
    if !run.notes.is_empty() {
        out.push_str(r#"<ul class="notes">"#);
        for n in &run.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");

    section(&mut out, "categories", "Flagged documents by category");
    let _ = write!(
        out,
        r#"<p>A document counts for a category when its score for that category is at least the threshold ({thr}); a document can count for several.{}{}</p>"#,
        if r.baseline.is_some() {
            " Thin grey bars: the baseline."
        } else {
            ""
        },
        if run.totals.flagged_by_model > 0 {
            format!(
                " {} of the {} flagged documents were flagged by the document model alone (document score below {thr}), so they count in no category.",
                fmt::int(run.totals.flagged_by_model),
                fmt::int(run.totals.flagged)
            )
        } else {
            String::new()
        }
    );
    out.push_str(&category_chart(r));
    render_table(&mut out, &table::categories(r), "");
    out.push_str("</section>");

    section(&mut out, "cooccurrence", "Categories that co-occur");
    if run.cooccurrence.is_empty() {
        out.push_str("<p>No flagged document reaches the threshold in two categories.</p>");
    } else {
        out.push_str(r#"<p>Flagged documents in which both categories reach the threshold; the diagonal counts each category alone.</p><div class="cols"><div>"#);
        out.push_str(&matrix_chart(r));
        out.push_str("</div><div>");
        render_table(&mut out, &table::pairs(r, 15), "");
        out.push_str("</div></div>");
    }
    out.push_str("</section>");

    section(&mut out, "sources", "Flagged documents by source");
    out.push_str("<p>The source is the document's <code>source</code> field when it has one, else the folder of its shard. Flagged documents of the sources with most of them; the rate where the source's document count is known.</p>");
    out.push_str(&source_chart(r, 20));
    if r.run
        .sources
        .iter()
        .any(|s| !s.docs_exact && s.source != UNATTRIBUTED)
    {
        out.push_str(SOURCE_BOUND_NOTE_HTML);
    }
    render_table(&mut out, &table::sources(r, 30), "");
    out.push_str("</section>");

    section(&mut out, "shards", "Flagged rate across shards");
    let _ = write!(
        out,
        "<p>One column per shard in shard order{}; the dashed line is the run's overall rate ({}). A shard far above it is worth a look.</p>",
        if run.shards.len() > STRIP_COLUMNS { ", neighbouring shards grouped" } else { "" },
        fmt::pct(run.totals.flagged_rate)
    );
    out.push_str(&strip_chart(r));
    render_table(&mut out, &table::shards(r, 50), "");
    out.push_str("</section>");

    section(&mut out, "histogram", "Score histogram");
    let _ = write!(
        out,
        "<p>Documents by document score on a log scale; red bins are flagged (score ≥ {thr}). Documents without a row in the document table (no span) score 0 and are counted in the first bin from the manifest totals ({} documents).{}</p>",
        fmt::int(run.histogram.docs_without_row),
        if r.baseline.is_some() { " Outlines: the baseline." } else { "" }
    );
    out.push_str(&svg::histogram(
        &run.histogram.counts,
        r.baseline.as_ref().map(|b| b.histogram.counts.as_slice()),
        thr,
        svg::PALETTE_HOT,
    ));
    out.push_str("<details><summary>Counts per bin</summary>");
    render_table(&mut out, &table::histogram(r), "");
    out.push_str("</details></section>");

    section(&mut out, "rules", "Top rules");
    if run.rules.iter().all(|x| x.category == "counter") {
        out.push_str("<p>No trope rule fired.</p>");
    } else {
        out.push_str("<h3>By hits</h3>");
        render_table(&mut out, &table::rules(r, table::RuleOrder::Hits, 15), "");
        out.push_str("<h3>By flagged documents</h3>");
        render_table(
            &mut out,
            &table::rules(r, table::RuleOrder::FlaggedDocs, 15),
            "",
        );
    }
    out.push_str("</section>");

    section(&mut out, "counter", "Counter-trope documents");
    let _ = write!(
        out,
        "<p><strong>{}</strong> documents ({}) have a counter-trope score of at least {thr}: AIs that behave well under pressure, the pool to upsample. {} of them are also flagged.</p>",
        fmt::int(run.counter.docs),
        fmt::pct(run.counter.rate),
        fmt::int(run.counter.also_flagged)
    );
    if run.rules.iter().any(|x| x.category == "counter") {
        out.push_str("<h3>Counter cues</h3>");
        render_table(&mut out, &table::counter_cues(r, 10), "");
    }
    if !run.counter.examples.is_empty() {
        out.push_str("<h3>Examples</h3>");
    }
    for (i, d) in run.counter.examples.iter().enumerate() {
        example(&mut out, i, d, cats, true);
    }
    out.push_str("</section>");

    section(&mut out, "top", "Top flagged documents");
    if run.top_flagged.is_empty() {
        out.push_str("<p>No document is flagged.</p>");
    } else {
        let _ = write!(
            out,
            "<p>The {} highest-scoring flagged documents with their spans in context; hover a span for its rule, category, score and agent cue.</p>",
            run.top_flagged.len()
        );
        legend(&mut out, cats);
    }
    for (i, d) in run.top_flagged.iter().enumerate() {
        example(&mut out, i, d, cats, false);
    }
    out.push_str("</section>");

    if let Some(c) = &r.comparison {
        section(
            &mut out,
            "diff",
            "Flagged documents new or gone since the baseline",
        );
        out.push_str(r#"<div class="cols">"#);
        for (title, d) in [("New", &c.new_flagged), ("Gone", &c.gone_flagged)] {
            let _ = write!(out, "<div><h3>{title}: {}</h3>", fmt::int(d.count));
            if !d.examples.is_empty() {
                out.push_str(r#"<ul class="ids">"#);
                for id in &d.examples {
                    let _ = write!(out, "<li><code>{}</code></li>", esc(id));
                }
                out.push_str("</ul>");
                if d.count > d.examples.len() as u64 {
                    let _ = write!(
                        out,
                        r#"<p class="more">and {} more</p>"#,
                        fmt::int(d.count - d.examples.len() as u64)
                    );
                }
            }
            out.push_str("</div>");
        }
        out.push_str("</div></section>");
    }

    section(&mut out, "errors", "Errors");
    let e = &run.errors;
    if e.total == 0 && e.by_kind.is_empty() {
        out.push_str("<p>No errors.</p>");
    } else {
        let _ = write!(
            out,
            "<p>{} errors recorded (bad records, unreadable shards, inputs); the documents involved were not scanned.</p>",
            fmt::int(e.total)
        );
        if !e.by_kind.is_empty() {
            render_table(&mut out, &table::error_kinds(r), "narrow");
            out.push_str("<h3>First errors of each kind</h3>");
            render_table(&mut out, &table::error_examples(r), "");
        }
    }
    out.push_str("</section>");
    let _ = write!(
        out,
        r#"<footer>Written by tropescan {} from the run's manifests, document and span tables and errors files; the same data is in report.json and report.md.</footer></main></body></html>"#,
        esc(&r.tool_version)
    );
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::{esc_breakable, esc_lines};

    #[test]
    fn identifiers_break_between_parts() {
        assert_eq!(esc_breakable("a/<b>"), "a/<wbr>&lt;b&gt;");
    }

    #[test]
    fn passage_lines_are_escaped_and_blank_lines_collapsed() {
        assert_eq!(esc_lines("a <b>\r\n\n   c & d"), "a &lt;b&gt;\nc &amp; d");
        assert_eq!(esc_lines("\nx\n"), "\nx\n");
        assert_eq!(esc_lines("plain"), "plain");
    }
}
