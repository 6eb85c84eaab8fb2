//! Charts as inline SVG: horizontal bars, a log-scaled histogram, a strip of rates across
//! shards and a co-occurrence matrix. Plain elements with classes styled by the page's
//! CSS, a `<title>` on every mark for hover details, and a `viewBox` so they scale and
//! print sharp. All text is XML-escaped.

use std::fmt::Write;

use super::fmt;

/// Colours of the trope categories, given in category order (the lexicon categories
/// sorted by name), chosen to stay distinct in print and for common colour blindness.
const PALETTE: [&str; 8] = [
    "#c8414b", "#3a6ea5", "#8c5a3c", "#7d5ba6", "#0f8b8d", "#d98c1f", "#5b7083", "#b5487c",
];

/// The colour of counter-trope marks.
pub(crate) const COUNTER: &str = "#2e9e5b";

/// The colour of flagged documents in the histogram and the shard strip.
pub(crate) const PALETTE_HOT: &str = "#c8414b";

/// Neutral bar colour.
pub(crate) const NEUTRAL: &str = "#4a6fa5";

/// The colour of category `name` among `categories`.
pub(crate) fn color(name: &str, categories: &[String]) -> &'static str {
    if name == "counter" {
        return COUNTER;
    }
    categories
        .iter()
        .position(|c| c == name)
        .map_or(PALETTE[PALETTE.len() - 2], |i| PALETTE[i % PALETTE.len()])
}

/// Escapes text for SVG (XML) content and attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Shortens a label to `max` characters, keeping its end (file names differ at the end).
fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(n - (max - 1)).collect();
        format!("…{tail}")
    }
}

fn open(w: u32, h: u32, label: &str) -> String {
    open_class(w, h, label, "chart")
}

fn open_class(w: u32, h: u32, label: &str, class: &str) -> String {
    format!(
        r#"<svg class="{class}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(label)
    )
}

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    /// Label on the left.
    pub label: String,
    /// Length of the bar.
    pub value: f64,
    /// The baseline's value, drawn as a thin bar under the main one.
    pub baseline: Option<f64>,
    /// Text after the bar.
    pub text: String,
    /// Fill.
    pub color: &'static str,
    /// Hover text.
    pub title: String,
}

/// Horizontal bars scaled to the largest value (or `max` when larger).
pub(crate) fn hbars(bars: &[Bar], max: f64, aria: &str) -> String {
    const W: u32 = 760;
    let has_base = bars.iter().any(|b| b.baseline.is_some());
    let row = if has_base { 30 } else { 24 };
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(36);
    let label_w = (longest as u32 * 7 + 16).clamp(80, 270);
    let text_w = 150;
    let bar_w = (W - label_w - text_w) as f64;
    let top = 6;
    let h = top + row * bars.len() as u32 + 6;
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.baseline.unwrap_or(0.0)])
        .fold(max, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut s = open(W, h, aria);
    for (i, b) in bars.iter().enumerate() {
        let y = top + i as u32 * row;
        let len = (b.value / max * bar_w).max(if b.value > 0.0 { 1.5 } else { 0.0 });
        let _ = write!(
            s,
            r#"<g><title>{}</title><text class="lbl" x="{}" y="{}" text-anchor="end">{}</text><rect x="{label_w}" y="{}" width="{len:.1}" height="16" rx="2" fill="{}"/>"#,
            esc(&b.title),
            label_w - 8,
            y + 13,
            esc(&clip(&b.label, 36)),
            y + 2,
            b.color
        );
        if let Some(base) = b.baseline {
            let bl = (base / max * bar_w).max(if base > 0.0 { 1.5 } else { 0.0 });
            let _ = write!(
                s,
                r#"<rect class="base" x="{label_w}" y="{}" width="{bl:.1}" height="5" rx="1"/>"#,
                y + 20
            );
        }
        let _ = write!(
            s,
            r#"<text class="val" x="{:.1}" y="{}">{}</text></g>"#,
            label_w as f64 + len + 6.0,
            y + 13,
            esc(&b.text)
        );
    }
    s.push_str("</svg>");
    s
}

/// The score histogram: bars on a log scale (counts span orders of magnitude), bins at or
/// above the threshold in `hot`, the baseline as outlines, the threshold as a dashed line.
pub(crate) fn histogram(
    counts: &[u64],
    baseline: Option<&[u64]>,
    threshold: f64,
    hot: &str,
) -> String {
    const W: u32 = 760;
    const H: u32 = 260;
    let (left, right, top, bottom) = (56.0, 16.0, 14.0, 38.0);
    let pw = W as f64 - left - right;
    let ph = H as f64 - top - bottom;
    let max = counts
        .iter()
        .chain(baseline.unwrap_or(&[]))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let decades = (max as f64).log10().ceil().max(1.0);
    let y = |c: u64| -> f64 {
        if c == 0 {
            top + ph
        } else {
            top + ph - ((c as f64).log10() + 1.0) / (decades + 1.0) * ph
        }
    };
    let n = counts.len().max(1);
    let bw = pw / n as f64;
    let mut s = open(W, H, "Histogram of document scores, log scale");
    // Grid lines at powers of ten.
    for d in 0..=decades as u32 {
        let v = 10u64.pow(d);
        let gy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{gy:.1}" y2="{gy:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left + pw,
            left - 6.0,
            gy + 4.0,
            fmt::compact(v as f64)
        );
    }
    for (i, &c) in counts.iter().enumerate() {
        let lo = i as f64 / n as f64;
        let x = left + i as f64 * bw;
        let top_y = y(c);
        // A bin is drawn as flagged when every score in it reaches the threshold.
        let fill = if lo + 1e-9 >= threshold { hot } else { NEUTRAL };
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{top_y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>[{lo:.2}, {:.2}): {} documents</title></rect>"#,
            x + 1.0,
            bw - 2.0,
            top + ph - top_y,
            lo + 1.0 / n as f64,
            fmt::int(c)
        );
        if let Some(b) = baseline.and_then(|b| b.get(i)) {
            let by = y(*b);
            let _ = write!(
                s,
                r#"<rect class="base-outline" x="{:.1}" y="{by:.1}" width="{:.1}" height="{:.1}"><title>baseline: {} documents</title></rect>"#,
                x + 3.0,
                bw - 6.0,
                top + ph - by,
                fmt::int(*b)
            );
        }
    }
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{v:.2}</text>"#,
            left + v * pw,
            H as f64 - bottom + 16.0
        );
    }
    let tx = left + threshold * pw;
    let _ = write!(
        s,
        r#"<line class="thr" x1="{tx:.1}" x2="{tx:.1}" y1="{top}" y2="{}"/><text class="axis" x="{:.1}" y="{}">threshold {threshold}</text>"#,
        top + ph,
        tx + 4.0,
        top + 10.0
    );
    let _ = write!(
        s,
        r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">document score</text></svg>"#,
        left + pw / 2.0,
        H - 4
    );
    s
}

/// One column of the shard strip.
#[derive(Debug, Clone)]
pub(crate) struct StripCell {
    /// Flagged rate.
    pub rate: f64,
    /// Hover text.
    pub title: String,
}

/// Flagged rate across shards, in shard order: a column per cell, its height and shade
/// the rate; the run's overall rate as a dashed line.
pub(crate) fn strip(cells: &[StripCell], overall: f64, hot: &str) -> String {
    const W: u32 = 760;
    const H: u32 = 150;
    let (left, right, top, bottom) = (56.0, 16.0, 12.0, 26.0);
    let pw = W as f64 - left - right;
    let ph = H as f64 - top - bottom;
    let max = cells
        .iter()
        .map(|c| c.rate)
        .fold(overall, f64::max)
        .max(1e-9);
    let n = cells.len().max(1);
    let cw = pw / n as f64;
    let gap = if cw > 4.0 { 1.0 } else { 0.0 };
    let mut s = open(W, H, "Flagged rate across shards");
    let _ = write!(
        s,
        r#"<line class="grid" x1="{left}" x2="{}" y1="{top}" y2="{top}"/><text class="axis" x="{}" y="{}" text-anchor="end">{}</text><line class="grid" x1="{left}" x2="{}" y1="{}" y2="{}"/><text class="axis" x="{}" y="{}" text-anchor="end">0%</text>"#,
        left + pw,
        left - 6.0,
        top + 4.0,
        fmt::pct(max),
        left + pw,
        top + ph,
        top + ph,
        left - 6.0,
        top + ph + 4.0
    );
    for (i, c) in cells.iter().enumerate() {
        let hgt = c.rate / max * ph;
        let opacity = 0.35 + 0.65 * (c.rate / max);
        let _ = write!(
            s,
            r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{hot}" fill-opacity="{opacity:.2}"><title>{}</title></rect>"#,
            left + i as f64 * cw + gap / 2.0,
            top + ph - hgt,
            (cw - gap).max(0.5),
            hgt.max(if c.rate > 0.0 { 1.0 } else { 0.0 }),
            esc(&c.title)
        );
    }
    let oy = top + ph - overall / max * ph;
    let _ = write!(
        s,
        r#"<line class="thr" x1="{left}" x2="{}" y1="{oy:.1}" y2="{oy:.1}"><title>overall {}</title></line><text class="axis" x="{left}" y="{}">first shard</text><text class="axis" x="{}" y="{}" text-anchor="end">last shard</text></svg>"#,
        left + pw,
        fmt::pct(overall),
        H - 6,
        left + pw,
        H - 6
    );
    s
}

/// Category co-occurrence among flagged documents: `diag[i]` is category `i`'s count,
/// `pairs` gives `(i, j, count)` for `i < j`.
pub(crate) fn matrix(cats: &[String], diag: &[u64], pairs: &[(usize, usize, u64)]) -> String {
    let n = cats.len();
    let cell = 46.0;
    let label_w = (cats.iter().map(|c| c.len()).max().unwrap_or(4) as f64 * 7.0 + 14.0).min(220.0);
    let top = 12.0;
    // Column labels are drawn rotated, reaching right and down by most of their length.
    let w = label_w + cell * n as f64 + label_w;
    let h = top + cell * n as f64 + label_w * 0.72 + 8.0;
    let mut grid = vec![0u64; n * n];
    for (i, d) in diag.iter().enumerate().take(n) {
        grid[i * n + i] = *d;
    }
    for &(i, j, c) in pairs {
        if i < n && j < n {
            grid[i * n + j] = c;
            grid[j * n + i] = c;
        }
    }
    let max = grid.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut s = open(
        w.ceil() as u32,
        h.ceil() as u32,
        "Category co-occurrence among flagged documents",
    );
    for (i, c) in cats.iter().enumerate() {
        let cy = top + i as f64 * cell + cell / 2.0 + 4.0;
        let _ = write!(
            s,
            r#"<text class="lbl" x="{:.1}" y="{cy:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            esc(c)
        );
        let cx = label_w + i as f64 * cell + cell / 2.0;
        let ly = top + n as f64 * cell + 10.0;
        let _ = write!(
            s,
            r#"<text class="lbl" x="{cx:.1}" y="{ly:.1}" transform="rotate(40 {cx:.1} {ly:.1})">{}</text>"#,
            esc(c)
        );
    }
    for i in 0..n {
        for j in 0..n {
            let v = grid[i * n + j];
            let x = label_w + j as f64 * cell;
            let y = top + i as f64 * cell;
            let (fill, a) = match (v, i == j) {
                (0, _) => ("#eef0f4", 1.0),
                (_, true) => ("#5b7083", 0.12 + 0.88 * (v as f64 / max).sqrt()),
                (_, false) => ("#c8414b", 0.12 + 0.88 * (v as f64 / max).sqrt()),
            };
            let ink = if v > 0 && a > 0.55 { "#fff" } else { "#222" };
            let what = if i == j {
                format!("{}: {} documents", cats[i], fmt::int(v))
            } else {
                format!("{} + {}: {} documents", cats[i], cats[j], fmt::int(v))
            };
            let _ = write!(
                s,
                r##"<g><title>{}</title><rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" fill-opacity="{a:.2}" stroke="#fff"/><text class="cellv" x="{:.1}" y="{:.1}" text-anchor="middle" fill="{ink}">{}</text></g>"##,
                esc(&what),
                x,
                cell,
                cell,
                x + cell / 2.0,
                y + cell / 2.0 + 4.0,
                if v == 0 {
                    String::new()
                } else {
                    fmt::compact(v as f64)
                }
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_clipped() {
        let b = Bar {
            label: "<b>\"x\"</b>".into(),
            value: 1.0,
            baseline: None,
            text: "1 & 2".into(),
            color: NEUTRAL,
            title: "t'".into(),
        };
        let svg = hbars(&[b], 0.0, "a<b");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&quot;x&quot;&lt;/b&gt;"));
        assert!(svg.contains("1 &amp; 2"));
        assert_eq!(clip("abcdef", 4), "…def");
    }

    #[test]
    fn histogram_handles_empty_and_zero_counts() {
        let svg = histogram(&[0; 20], None, 0.5, "#c00");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("NaN"));
        let svg = strip(&[], 0.0, "#c00");
        assert!(!svg.contains("NaN"));
    }
}
