//! `{name}` and `{name|filter|filter}` placeholders in summaries and fixes.
//!
//! Filters do the arithmetic a fix needs (a kB figure shown in MiB, 75% of a limit) so the
//! numbers in a fix come from the evidence, not from prose.

use crate::model::{FieldValue, Fields};

/// Fields every hit has, whatever its regex captured.
pub const BUILTIN_FIELDS: &[&str] = &["source", "line", "host", "program", "count"];

/// Filters a placeholder may chain.
pub const FILTERS: &[(&str, &str)] = &[
    ("mib", "a kB value shown in MiB (rounded)"),
    ("gib", "a kB value shown in GiB with one decimal"),
    ("pct75", "75% of a number, rounded down"),
    ("x2", "twice a number"),
    ("x4", "four times a number"),
    ("thousands", "a number with thousands separators"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    pub filters: Vec<String>,
}

/// Split `text` into plain runs and `{? … ?}` optional blocks: (run, is_optional).
fn optional_blocks(text: &str) -> Result<Vec<(&str, bool)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{?") {
        out.push((&rest[..i], false));
        let body = &rest[i + 2..];
        let end = body
            .find("?}")
            .ok_or_else(|| "unclosed optional block `{?` (close it with `?}`)".to_string())?;
        out.push((&body[..end], true));
        rest = &body[end + 2..];
    }
    out.push((rest, false));
    Ok(out)
}

/// Every placeholder in `text`, or a message naming the malformed one. `{{` and `}}` are
/// literal braces; `{? … ?}` is a block left out when a placeholder inside has no value.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, String> {
    let mut out = Vec::new();
    let mut all = Vec::new();
    for (run, _) in optional_blocks(text)? {
        all.extend(pieces(run)?);
    }
    for piece in all {
        if let Piece::Hole(p) = piece {
            for f in &p.filters {
                if !FILTERS.iter().any(|(n, _)| n == f) {
                    return Err(format!("unknown filter `{f}` in `{{{}}}`", p.name));
                }
            }
            out.push(p);
        }
    }
    Ok(out)
}

enum Piece<'a> {
    Text(&'a str),
    Brace(char),
    Hole(Placeholder),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push(Piece::Text(&rest[..i]));
        let c = rest.as_bytes()[i];
        if rest[i + 1..].starts_with(c as char) {
            out.push(Piece::Brace(c as char));
            rest = &rest[i + 2..];
            continue;
        }
        if c == b'}' {
            return Err("unmatched `}` (write `}}` for a literal brace)".into());
        }
        let close = rest[i..]
            .find('}')
            .ok_or_else(|| "unclosed `{` (write `{{` for a literal brace)".to_string())?;
        let inner = &rest[i + 1..i + close];
        let mut parts = inner.split('|').map(str::trim);
        let name = parts.next().unwrap_or_default().to_string();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("bad placeholder `{{{inner}}}`"));
        }
        out.push(Piece::Hole(Placeholder {
            name,
            filters: parts.map(str::to_string).collect(),
        }));
        rest = &rest[i + close + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Render `text` with `fields`. A field the evidence did not provide reads `unknown`, except
/// inside a `{? … ?}` block, which is then left out whole.
pub fn render(text: &str, fields: &Fields) -> String {
    let Ok(blocks) = optional_blocks(text) else {
        // Validated at load; an invalid template is shown as written rather than lost.
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len() + 32);
    for (run, optional) in blocks {
        let Ok(pieces) = pieces(run) else {
            return text.to_string();
        };
        let complete = pieces.iter().all(|p| match p {
            Piece::Hole(h) => fields.contains_key(&h.name),
            _ => true,
        });
        if optional && !complete {
            continue;
        }
        render_pieces(pieces, fields, &mut out);
    }
    out
}

fn render_pieces(pieces: Vec<Piece<'_>>, fields: &Fields, out: &mut String) {
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Brace(c) => out.push(c),
            Piece::Hole(h) => match fields.get(&h.name) {
                Some(v) => out.push_str(&apply(v, &h.filters)),
                None => out.push_str("unknown"),
            },
        }
    }
}

fn as_number(v: &FieldValue) -> Option<i64> {
    match v {
        FieldValue::Int(i) => Some(*i),
        FieldValue::Text(s) => s.replace(',', "").trim().parse().ok(),
    }
}

fn apply(v: &FieldValue, filters: &[String]) -> String {
    let mut cur = v.to_string();
    let mut num = as_number(v);
    for f in filters {
        let Some(n) = num else {
            return cur;
        };
        match f.as_str() {
            "mib" => {
                let m = (n + 512) / 1024;
                num = Some(m);
                cur = m.to_string();
            }
            "gib" => {
                cur = format!("{:.1}", n as f64 / (1024.0 * 1024.0));
                num = None;
            }
            "pct75" => {
                let m = n * 3 / 4;
                num = Some(m);
                cur = m.to_string();
            }
            "x2" | "x4" => {
                let m = n.saturating_mul(if f == "x2" { 2 } else { 4 });
                num = Some(m);
                cur = m.to_string();
            }
            "thousands" => {
                cur = thousands(n);
                num = None;
            }
            _ => {}
        }
    }
    cur
}

/// `28232` → `28,232`.
pub fn thousands(n: i64) -> String {
    let digits = thousands_u64(n.unsigned_abs());
    if n < 0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// `27900` → `27,900`: the one digit grouping every output uses.
pub fn thousands_u64(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, FieldValue)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn renders_with_filters_and_braces() {
        let f = fields(&[
            ("limit_kb", FieldValue::Int(1_048_576)),
            ("port", FieldValue::Text("3000".into())),
        ]);
        assert_eq!(
            render("{{x}} port {port}, limit {limit_kb|mib} MiB, heap {limit_kb|mib|pct75}, {limit_kb|gib} GiB, {missing}", &f),
            "{x} port 3000, limit 1024 MiB, heap 768, 1.0 GiB, unknown"
        );
        assert_eq!(thousands(28232), "28,232");
        assert_eq!(render("a{? in {port}?}{? and {nope}?}.", &f), "a in 3000.");
        assert!(placeholders("{? open").is_err());
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    #[test]
    fn reports_malformed_placeholders() {
        assert!(placeholders("a {b").is_err());
        assert!(placeholders("a } b").is_err());
        assert!(placeholders("{a|nope}").is_err());
        assert!(placeholders("{a b}").is_err());
        assert_eq!(
            placeholders("{a|mib} {{lit}}").expect("valid"),
            vec![Placeholder {
                name: "a".into(),
                filters: vec!["mib".into()]
            }]
        );
    }
}
