//! Passages of a document's text around its spans, rebuilt from the span table alone.
//!
//! Every span row carries its `context`: the document text from up to
//! [`CONTEXT_BYTES`](crate::pipeline::CONTEXT_BYTES) bytes before the span to as many after,
//! widened to character boundaries. Where the span sits in its context, and so where the
//! context sits in the document, follows from the span's `start`. Contexts that overlap
//! are joined into one passage, so nearby spans are shown together in one stretch of text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::pipeline::CONTEXT_BYTES;

use super::model::{Mark, Passage};
use super::read::{self, opt_str, Cols};
use super::ReportError;

/// Spans kept per example document; enough for every passage shown.
const MAX_SPANS_PER_DOC: usize = 200;
/// Passages shown per document.
const MAX_PASSAGES: usize = 3;
/// Contexts stop being joined into one passage beyond this length.
const MAX_PASSAGE_BYTES: usize = 700;

/// A span with its context, as read from the span table.
#[derive(Debug, Clone)]
pub(crate) struct SpanCtx {
    pub start: u64,
    pub end: u64,
    pub category: String,
    pub rule: String,
    pub score: f64,
    pub text: String,
    pub context: String,
    pub agent: Option<String>,
}

/// The spans of the documents at `rows` in one span table, by row, in table order.
///
/// # Errors
/// When the table cannot be read.
pub(crate) fn fetch(
    path: &Path,
    rows: BTreeSet<u64>,
) -> Result<BTreeMap<u64, Vec<SpanCtx>>, ReportError> {
    let cols = [
        "row", "start", "end", "category", "rule", "score", "text", "context", "agent",
    ];
    let mut reader = read::open(path, &cols, Some(rows))?;
    let mut out: BTreeMap<u64, Vec<SpanCtx>> = BTreeMap::new();
    while let Some(batch) = read::next_batch(&mut reader, path)? {
        let c = Cols::new(&batch, path);
        let (row, start, end) = (c.u64("row")?, c.u64("start")?, c.u64("end")?);
        let (category, rule, score) = (c.str("category")?, c.str("rule")?, c.f64("score")?);
        let (text, context) = (c.str("text")?, c.str("context")?);
        let agent = if c.has("agent") {
            Some(c.str("agent")?)
        } else {
            None
        };
        for i in 0..batch.num_rows() {
            let v = out.entry(row.value(i)).or_default();
            if v.len() >= MAX_SPANS_PER_DOC {
                continue;
            }
            v.push(SpanCtx {
                start: start.value(i),
                end: end.value(i),
                category: category.value(i).to_string(),
                rule: rule.value(i).to_string(),
                score: score.value(i),
                text: text.value(i).to_string(),
                context: context.value(i).to_string(),
                agent: agent.and_then(|a| opt_str(a, i)).map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// Where the span's text starts inside its context, if it can be placed.
fn offset_in_context(s: &SpanCtx) -> Option<usize> {
    let expected = (s.start as usize).min(CONTEXT_BYTES);
    // Widening to a character boundary moves the context start back by at most 3 bytes.
    (expected..=expected + 3)
        .find(|&p| s.context.is_char_boundary(p) && s.context[p..].starts_with(s.text.as_str()))
        .filter(|&p| p as u64 <= s.start)
}

/// Where a span's context goes: onto the end of the last passage (from byte `cut` of the
/// context), into a new passage after cutting the last one at a document offset, or into a
/// new passage at a document offset.
enum Place {
    Extend(usize),
    Split(u64),
    New(u64),
}

struct Building {
    offset: u64,
    text: String,
    marks: Vec<Mark>,
    best: f64,
}

/// Builds at most [`MAX_PASSAGES`] passages over `spans` of a document of `doc_bytes`
/// bytes, chosen by their best trope span (best counter span when `counter`), and
/// returned in text order.
pub(crate) fn passages(spans: &[SpanCtx], doc_bytes: u64, counter: bool) -> Vec<Passage> {
    // Each placed span with the document offset of its context.
    let mut placed: Vec<(u64, &SpanCtx)> = spans
        .iter()
        .filter(|s| s.end >= s.start && (s.end - s.start) as usize == s.text.len())
        .filter_map(|s| offset_in_context(s).map(|p| (s.start - p as u64, s)))
        .collect();
    placed.sort_by(|a, b| {
        (a.0, a.1.start, a.1.end, &a.1.rule).cmp(&(b.0, b.1.start, b.1.end, &b.1.rule))
    });
    let mut built: Vec<Building> = Vec::new();
    for (cs, s) in placed {
        let ce = cs + s.context.len() as u64;
        let place = match built.last() {
            Some(b) if cs <= b.offset + b.text.len() as u64 => {
                let be = b.offset + b.text.len() as u64;
                let cut = (be - cs) as usize;
                let fits = ce.max(be) - b.offset <= MAX_PASSAGE_BYTES as u64;
                if !s.context.is_char_boundary(cut) {
                    Place::New(cs)
                } else if fits {
                    Place::Extend(cut)
                } else {
                    // Too long: end this passage after its last span and start the next
                    // one there, so that no text shows twice. Spans that overlap the last
                    // one have to join it.
                    let marks_end =
                        b.offset + b.marks.iter().map(|m| m.end).max().unwrap_or(0) as u64;
                    let split = marks_end.max(cs);
                    let ok = split <= s.start
                        && s.context.is_char_boundary((split - cs) as usize)
                        && b.text.is_char_boundary((split - b.offset) as usize);
                    if ok {
                        Place::Split(split)
                    } else {
                        Place::Extend(cut)
                    }
                }
            }
            _ => Place::New(cs),
        };
        match place {
            Place::Extend(cut) => {
                let b = built.last_mut().expect("matched above");
                if cut < s.context.len() {
                    b.text.push_str(&s.context[cut..]);
                }
            }
            Place::Split(at) => {
                let b = built.last_mut().expect("matched above");
                b.text.truncate((at - b.offset) as usize);
                built.push(Building {
                    offset: at,
                    text: s.context[(at - cs) as usize..].to_string(),
                    marks: Vec::new(),
                    best: f64::NEG_INFINITY,
                });
            }
            Place::New(offset) => built.push(Building {
                offset,
                text: s.context[(offset - cs) as usize..].to_string(),
                marks: Vec::new(),
                best: f64::NEG_INFINITY,
            }),
        }
        let b = built.last_mut().expect("pushed or joined");
        let start = (s.start - b.offset) as usize;
        b.marks.push(Mark {
            start,
            end: start + s.text.len(),
            category: s.category.clone(),
            rule: s.rule.clone(),
            score: super::aggregate::score4(s.score),
            agent: s.agent.clone(),
        });
        if (s.category == "counter") == counter {
            b.best = b.best.max(s.score);
        }
    }
    // Pick the passages with the best spans, then show them in text order.
    let mut order: Vec<usize> = (0..built.len()).collect();
    order.sort_by(|&a, &b| built[b].best.total_cmp(&built[a].best).then(a.cmp(&b)));
    order.truncate(MAX_PASSAGES);
    order.sort_unstable();
    let mut built: Vec<Option<Building>> = built.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| built[i].take())
        .map(|mut b| {
            b.marks
                .sort_by(|x, y| (x.start, x.end, &x.rule).cmp(&(y.start, y.end, &y.rule)));
            let len = b.text.len() as u64;
            Passage {
                at_start: b.offset == 0,
                at_end: b.offset + len >= doc_bytes,
                offset: b.offset,
                text: b.text,
                marks: b.marks,
            }
        })
        .collect()
}

/// A piece of passage text and the marks covering it.
pub(crate) struct Segment<'a> {
    pub text: &'a str,
    /// Indexes into the passage's marks; empty for plain text.
    pub marks: Vec<usize>,
}

/// Cuts a passage at every mark boundary, so overlapping spans render as flat runs of
/// text, each with the marks covering it.
pub(crate) fn segments(p: &Passage) -> Vec<Segment<'_>> {
    let mut cuts: Vec<usize> = vec![0, p.text.len()];
    for m in &p.marks {
        if m.end <= p.text.len()
            && p.text.is_char_boundary(m.start)
            && p.text.is_char_boundary(m.end)
        {
            cuts.push(m.start);
            cuts.push(m.end);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| Segment {
            text: &p.text[w[0]..w[1]],
            marks: p
                .marks
                .iter()
                .enumerate()
                .filter(|(_, m)| m.start <= w[0] && w[1] <= m.end && m.start < m.end)
                .map(|(i, _)| i)
                .collect(),
        })
        .filter(|s| !s.text.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans of `doc` at the given ranges, with contexts cut as the scanner cuts them.
    fn spans_of(doc: &str, ranges: &[(usize, usize, &str)]) -> Vec<SpanCtx> {
        ranges
            .iter()
            .map(|&(s, e, cat)| SpanCtx {
                start: s as u64,
                end: e as u64,
                category: cat.into(),
                rule: format!("{cat}.r{s}"),
                score: 0.5 + s as f64 / 10_000.0,
                text: doc[s..e].into(),
                context: crate::pipeline::context(doc, s, e, CONTEXT_BYTES).into(),
                agent: None,
            })
            .collect()
    }

    #[test]
    fn near_spans_share_a_passage_that_is_the_document_text() {
        let doc =
            "ä".repeat(50) + " the AI threatened to leak it, then refused to " + &"ö".repeat(200);
        let a = doc.find("threatened").unwrap();
        let b = doc.find("refused").unwrap();
        let spans = spans_of(&doc, &[(a, a + 10, "coercion"), (b, b + 7, "counter")]);
        let ps = passages(&spans, doc.len() as u64, false);
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!(
            &doc[p.offset as usize..p.offset as usize + p.text.len()],
            p.text
        );
        assert!(p.at_start);
        assert_eq!(&p.text[p.marks[0].start..p.marks[0].end], "threatened");
        assert_eq!(&p.text[p.marks[1].start..p.marks[1].end], "refused");
    }

    #[test]
    fn distant_spans_make_separate_passages_best_ones_kept_in_order() {
        let filler = "x ".repeat(400);
        let doc = format!("blackmail {filler}leak {filler}deceive {filler}shut {filler}end");
        let at = |w: &str| doc.find(w).unwrap();
        let spans = spans_of(
            &doc,
            &[
                (at("blackmail"), at("blackmail") + 9, "coercion"),
                (at("leak"), at("leak") + 4, "threatened_disclosure"),
                (at("deceive"), at("deceive") + 7, "deception"),
                (at("shut"), at("shut") + 4, "counter"),
            ],
        );
        let ps = passages(&spans, doc.len() as u64, false);
        // Four passages, the counter one ranks last for a trope example: three kept.
        assert_eq!(ps.len(), 3);
        let firsts: Vec<&str> = ps
            .iter()
            .map(|p| &p.text[p.marks[0].start..p.marks[0].end])
            .collect();
        assert_eq!(firsts, ["blackmail", "leak", "deceive"]);
        assert!(ps.iter().all(|p| !p.at_end));
        let ps = passages(&spans, doc.len() as u64, true);
        assert!(ps
            .iter()
            .any(|p| p.marks.iter().any(|m| m.category == "counter")));
    }

    #[test]
    fn a_chain_of_near_spans_is_cut_into_passages_that_never_repeat_text() {
        let doc = "blackmail and then some words ".repeat(60);
        let ranges: Vec<(usize, usize, &str)> = doc
            .match_indices("blackmail")
            .map(|(i, w)| (i, i + w.len(), "coercion"))
            .collect();
        let spans = spans_of(&doc, &ranges);
        let ps = passages(&spans, doc.len() as u64, false);
        assert!(ps.len() > 1, "one passage would be {} bytes", doc.len());
        for w in ps.windows(2) {
            assert!(
                w[0].offset + w[0].text.len() as u64 <= w[1].offset,
                "overlap"
            );
        }
        for p in &ps {
            let at = p.offset as usize;
            assert_eq!(&doc[at..at + p.text.len()], p.text);
            assert!(p
                .marks
                .iter()
                .all(|m| &p.text[m.start..m.end] == "blackmail"));
        }
    }

    #[test]
    fn overlapping_marks_become_flat_segments() {
        let doc = "they blackmailed him hard";
        let spans = spans_of(
            doc,
            &[(5, 16, "coercion"), (5, 20, "threatened_disclosure")],
        );
        let ps = passages(&spans, doc.len() as u64, false);
        let segs: Vec<(&str, usize)> = segments(&ps[0])
            .iter()
            .map(|s| (s.text, s.marks.len()))
            .collect();
        assert_eq!(
            segs,
            [("they ", 0), ("blackmailed", 2), (" him", 1), (" hard", 0)]
        );
    }

    #[test]
    fn unplaceable_spans_are_skipped() {
        let mut spans = spans_of("abc def", &[(4, 7, "coercion")]);
        spans[0].context = "something else".into();
        assert!(passages(&spans, 7, false).is_empty());
    }
}
