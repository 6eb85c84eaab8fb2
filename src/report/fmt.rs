//! Number formatting shared by the Markdown and HTML renderers.

use super::model::Num;

/// `1234567` as `1,234,567`.
pub(crate) fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count with grouping: `+1,234`, `-5`, `0`.
pub(crate) fn signed_int(v: i64) -> String {
    match v.signum() {
        1 => format!("+{}", int(v.unsigned_abs())),
        -1 => format!("-{}", int(v.unsigned_abs())),
        _ => "0".to_string(),
    }
}

/// A fraction as a percentage, with more decimals for small values so that rare
/// categories do not all read `0.00%`.
pub(crate) fn pct(rate: f64) -> String {
    let x = rate * 100.0;
    if x == 0.0 {
        "0%".to_string()
    } else if x.abs() < 0.01 {
        format!("{x:.4}%")
    } else if x.abs() < 1.0 {
        format!("{x:.3}%")
    } else {
        format!("{x:.2}%")
    }
}

/// A change of a fraction, in percentage points: `+1.25 pp`.
pub(crate) fn pp(delta: f64) -> String {
    let x = delta * 100.0;
    if x == 0.0 {
        "0 pp".to_string()
    } else {
        let sign = if x > 0.0 { "+" } else { "-" };
        let a = x.abs();
        if a < 0.01 {
            format!("{sign}{a:.4} pp")
        } else {
            format!("{sign}{a:.2} pp")
        }
    }
}

/// Bytes in decimal units: `1.23 GB`.
pub(crate) fn bytes(v: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if v < 1000 {
        return format!("{v} B");
    }
    let mut x = v as f64;
    let mut unit = "B";
    for u in UNITS {
        if x < 1000.0 {
            break;
        }
        x /= 1000.0;
        unit = u;
    }
    format!("{x:.2} {unit}")
}

/// A short count for chart labels: `950`, `12.3k`, `4.5M`, `1.2B`.
pub(crate) fn compact(v: f64) -> String {
    let a = v.abs();
    if a < 1000.0 {
        format!("{}", v.round() as i64)
    } else if a < 1e6 {
        format!("{:.1}k", v / 1e3)
    } else if a < 1e9 {
        format!("{:.1}M", v / 1e6)
    } else {
        format!("{:.1}B", v / 1e9)
    }
}

/// A count and a noun, plural unless the count is 1: `1 span`, `3 spans`.
pub(crate) fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", int(n))
    }
}

/// A score with two decimals.
pub(crate) fn score(v: f64) -> String {
    format!("{v:.2}")
}

/// A headline value: counts grouped, fractions as percentages.
pub(crate) fn num(v: Num) -> String {
    match v {
        Num::Int(i) if i >= 0 => int(i.unsigned_abs()),
        Num::Int(i) => signed_int(i),
        Num::Real(r) => pct(r),
    }
}

/// A headline change: signed count, or percentage points for fractions.
pub(crate) fn delta(v: Num) -> String {
    match v {
        Num::Int(i) => signed_int(i),
        Num::Real(r) => pp(r),
    }
}

/// A relative change: `+12.5%`, or `new` when the baseline was 0.
pub(crate) fn relative(r: Option<f64>, change: Num) -> String {
    match r {
        Some(r) => {
            let x = r * 100.0;
            if x == 0.0 {
                "0%".to_string()
            } else {
                format!("{}{:.1}%", if x > 0.0 { "+" } else { "-" }, x.abs())
            }
        }
        None if change.as_f64() != 0.0 => "new".to_string(),
        None => "0%".to_string(),
    }
}

/// The first 12 hex digits of a digest, enough to tell lexicon versions apart.
pub(crate) fn short_digest(d: &str) -> &str {
    &d[..d.len().min(12)]
}

/// Seconds for people: `0.42 s`, `1m 05s`, `2h 03m`.
pub(crate) fn secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.2} s")
    } else if s < 3600.0 {
        let r = s.round() as u64;
        format!("{}m {:02}s", r / 60, r % 60)
    } else {
        let r = s.round() as u64;
        format!("{}h {:02}m", r / 3600, (r % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(1234567), "1,234,567");
        assert_eq!(signed_int(-1234), "-1,234");
        assert_eq!(signed_int(5), "+5");
        assert_eq!(pct(0.5), "50.00%");
        assert_eq!(pct(0.00123), "0.123%");
        assert_eq!(pct(0.0000012), "0.0001%");
        assert_eq!(pp(-0.0125), "-1.25 pp");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234_567), "1.23 MB");
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(relative(None, Num::Int(3)), "new");
        assert_eq!(relative(Some(-0.25), Num::Int(-1)), "-25.0%");
        assert_eq!(secs(65.2), "1m 05s");
    }
}
