//! The `timeline` command's selection and rendering: notable events or every line, filtered
//! by time window and signature.

use super::events::TimelineEvent;
use super::TimeSource;
use crate::model::rfc3339;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use std::fmt::Write;

/// `--since`, `--until` and `--signature`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub signatures: Vec<String>,
}

impl Filter {
    fn has_window(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// An untimed event passes only when no window is asked for.
    pub fn admits_time(&self, t: Option<DateTime<Utc>>) -> bool {
        match t {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            None => !self.has_window(),
        }
    }
}

/// `2026-11-21T14:00:00Z`, `2026-11-21T15:00:00+01:00`, `2026-11-21 14:00[:00]` and
/// `2026-11-21` (both read as UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "`{s}` is not a time (use RFC 3339 such as 2026-11-21T14:00:00Z, or `2026-11-21 14:00` in UTC)"
    ))
}

/// Notable events that pass the filter.
pub fn select<'a>(events: &'a [TimelineEvent], f: &Filter) -> Vec<&'a TimelineEvent> {
    events
        .iter()
        .filter(|e| {
            let t = e
                .time
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            f.admits_time(t)
                && (f.signatures.is_empty()
                    || e.signature
                        .as_ref()
                        .is_some_and(|s| f.signatures.contains(s)))
        })
        .collect()
}

/// One line of `timeline --all`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimedLine {
    pub time: Option<String>,
    pub time_source: TimeSource,
    pub path: String,
    pub line: u64,
    pub text: String,
}

/// Collects every line with its resolved time and orders them. An untimed line (a stack trace)
/// sorts with the last timed line before it in its file.
#[derive(Default)]
pub struct AllLines {
    rows: Vec<(Option<DateTime<Utc>>, usize, u64, TimedLine)>,
    last_time: Vec<Option<DateTime<Utc>>>,
}

impl AllLines {
    /// Add one line of `source`; `row.time` is filled from `time`.
    pub fn push(
        &mut self,
        filter: &Filter,
        source: usize,
        time: Option<DateTime<Utc>>,
        mut row: TimedLine,
    ) {
        if self.last_time.len() <= source {
            self.last_time.resize(source + 1, None);
        }
        if time.is_some() {
            self.last_time[source] = time;
        }
        let key = time.or(self.last_time[source]);
        if !filter.admits_time(key) {
            return;
        }
        row.time = time.as_ref().map(rfc3339);
        self.rows.push((key, source, row.line, row));
    }

    pub fn finish(mut self) -> Vec<TimedLine> {
        self.rows.sort_by_key(|r| (r.0, r.1, r.2));
        self.rows.into_iter().map(|r| r.3).collect()
    }
}

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

pub fn events_text(events: &[&TimelineEvent]) -> String {
    let mut o = String::new();
    for e in events {
        let what = match (&e.signature, e.kind.as_str()) {
            (Some(s), _) => s.clone(),
            (None, k) => k.to_string(),
        };
        let copies = if e.copies.is_empty() {
            String::new()
        } else {
            format!(
                "  (also {})",
                e.copies
                    .iter()
                    .map(|c| format!("{}:{}", c.path, c.line))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            o,
            "{:<32} {:<30} {:<24} {}:{}{copies}\n    {}",
            e.time.as_deref().unwrap_or("(unresolved)"),
            e.time_source.as_string(),
            what,
            e.path,
            e.line,
            printable(&e.text)
        );
    }
    o
}

pub fn lines_text(lines: &[TimedLine]) -> String {
    let mut o = String::new();
    for l in lines {
        let _ = writeln!(
            o,
            "{:<32} {}:{}  {}",
            l.time.as_deref().unwrap_or("-"),
            l.path,
            l.line,
            printable(&l.text)
        );
    }
    o
}

pub fn to_json<T: Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_and_filters_windows() {
        let t = parse_time("2026-11-21 14:00").expect("time");
        assert_eq!(rfc3339(&t), "2026-11-21T14:00:00Z");
        assert_eq!(
            rfc3339(&parse_time("2026-11-21T15:00:00+01:00").expect("time")),
            "2026-11-21T14:00:00Z"
        );
        assert!(parse_time("yesterday").is_err());
        let f = Filter {
            since: Some(t),
            ..Default::default()
        };
        assert!(f.admits_time(parse_time("2026-11-21T14:00:00Z").ok()));
        assert!(!f.admits_time(parse_time("2026-11-21T13:59:59Z").ok()));
        assert!(!f.admits_time(None));
        assert!(Filter::default().admits_time(None));
    }

    #[test]
    fn untimed_lines_follow_their_file_s_last_time() {
        let mut all = AllLines::default();
        let f = Filter::default();
        let t = |s: &str| parse_time(s).ok();
        let row = |path: &str, line: u64, text: &str| TimedLine {
            time: None,
            time_source: TimeSource::Stated,
            path: path.into(),
            line,
            text: text.into(),
        };
        all.push(&f, 0, t("2026-11-21T14:00:05Z"), row("a", 1, "a1"));
        all.push(&f, 0, None, row("a", 2, "  at trace"));
        all.push(&f, 1, t("2026-11-21T14:00:01Z"), row("b", 1, "b1"));
        all.push(&f, 1, t("2026-11-21T14:00:09Z"), row("b", 2, "b2"));
        let order: Vec<String> = all.finish().into_iter().map(|l| l.text).collect();
        assert_eq!(order, vec!["b1", "a1", "  at trace", "b2"]);
    }
}
