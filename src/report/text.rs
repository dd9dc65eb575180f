//! Plain-text output for terminals and tickets.

use super::Report;
use crate::model::Severity;
use std::fmt::Write;

/// Evidence lines printed per finding in text (JSON keeps up to the engine's cap).
const TEXT_EVIDENCE: usize = 6;

fn sev_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING ",
        Severity::Info => "INFO    ",
    }
}

/// Keep terminal control bytes in log text from reaching the user's terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

pub fn render(report: &Report) -> String {
    let mut o = String::new();
    let read = report
        .sources
        .iter()
        .filter(|s| s.skipped.is_none())
        .count();
    let count = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
    let _ = writeln!(
        o,
        "coroner: {} finding(s) in {} source(s) read ({} critical, {} warning, {} info)",
        report.findings.len(),
        read,
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info)
    );
    if !report.incidents.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "incidents:");
        for inc in &report.incidents {
            let when = match (&inc.start, &inc.end) {
                (Some(a), Some(b)) if a != b => format!("{a} .. {b}"),
                (Some(a), _) => a.clone(),
                _ => "time unknown".into(),
            };
            let _ = writeln!(
                o,
                "  {} {} {}  ({when})",
                inc.id,
                sev_label(inc.severity),
                inc.title
            );
            let _ = writeln!(o, "     {}", printable(&inc.narrative));
            let members: Vec<&str> = inc.findings.iter().map(|r| r.signature.as_str()).collect();
            let _ = writeln!(o, "     findings: {}", members.join(", "));
        }
    }
    for f in &report.findings {
        let _ = writeln!(o);
        let _ = writeln!(o, "{} {}  {}", sev_label(f.severity), f.signature, f.title);
        let _ = writeln!(o, "  {}", printable(&f.summary));
        let when = match (&f.first, &f.last) {
            (Some(a), Some(b)) if a != b => format!(", {a} .. {b}"),
            (Some(a), _) => format!(", at {a}"),
            _ => String::new(),
        };
        let _ = writeln!(o, "  {} event(s){when}", f.count);
        if !f.fields.is_empty() {
            let fields: Vec<String> = f
                .fields
                .iter()
                .map(|(k, v)| format!("{k}={}", printable(&v.to_string())))
                .collect();
            let _ = writeln!(o, "  fields: {}", fields.join(" "));
        }
        let _ = writeln!(o, "  evidence:");
        for e in f.evidence.iter().take(TEXT_EVIDENCE) {
            let _ = writeln!(o, "    {}:{}: {}", e.path, e.line, printable(&e.text));
        }
        let more = f.evidence.len().saturating_sub(TEXT_EVIDENCE) as u64 + f.evidence_omitted;
        if more > 0 {
            let _ = writeln!(o, "    … and {more} more line(s) (see --format json)");
        }
        for fix in &f.fixes {
            let _ = writeln!(o, "  fix: {}", fix.title);
            for l in fix.text.lines() {
                let _ = writeln!(o, "    {}", printable(l));
            }
        }
    }
    if !report.checks.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "checks:");
        for c in &report.checks {
            let status = match c.status {
                crate::checks::CheckStatus::Fired => "fired",
                crate::checks::CheckStatus::Healthy => "healthy",
                crate::checks::CheckStatus::NotApplicable => "n/a",
            };
            let _ = writeln!(o, "  {:<8} {:<32} {}", status, c.id, printable(&c.note));
        }
    }
    if !report.missing.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(o, "missing evidence:");
        for m in &report.missing {
            let _ = writeln!(o, "  {} ({}): {}", m.what, m.check, m.why);
            let _ = writeln!(o, "    $ {}", m.command);
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "sources:");
    for s in &report.sources {
        match &s.skipped {
            Some(why) => {
                let _ = writeln!(o, "  {}  [{}] skipped: {}", s.path, s.kind, why);
            }
            None => {
                let span = match (&s.span.first, &s.span.last) {
                    (Some(a), Some(b)) => format!(", {a} .. {b}"),
                    _ => String::new(),
                };
                let unresolved = if s.span.unresolved > 0 {
                    format!(", {} unresolved stamp(s)", s.span.unresolved)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    o,
                    "  {}  [{} {}] {} line(s){span}{unresolved}",
                    s.path, s.kind, s.format, s.lines
                );
            }
        }
        for d in &s.diagnostics {
            let at = d.line.map(|l| format!("line {l}: ")).unwrap_or_default();
            let _ = writeln!(o, "    {:?}: {at}{}", d.level, printable(&d.message));
        }
    }
    for d in &report.diagnostics {
        let p = d
            .path
            .as_deref()
            .map(|p| format!("{p}: "))
            .unwrap_or_default();
        let _ = writeln!(o, "{:?}: {p}{}", d.level, printable(&d.message));
    }
    o
}
