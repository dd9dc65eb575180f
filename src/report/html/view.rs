//! The HTML report's view-model: everything the templates print, already formatted.
//! Built from the `Report` alone (the JSON's model), so the two outputs never disagree.

use super::format;
use super::timeline::{
    self, BootInput, ChartView, HitInput, IncidentInput, LaneInput, TimelineInput,
};
use crate::checks::{CheckReport, CheckStatus, CheckedFact, Missing};
use crate::model::{
    Diagnostic, Evidence, FieldValue, Fields, Finding, Fix, Level, Severity, Source,
};
use crate::report::Report;
use crate::timeline::events::TimelineEvent;
use crate::timeline::TimeSource;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Evidence lines shown per finding card; the rest is counted ("and N more").
pub const EXCERPTS_PER_FINDING: usize = 8;
/// Characters of one evidence line shown; lines can be up to `--max-line-bytes` long.
pub const EXCERPT_CHARS: usize = 1_500;
/// Lines shown before and after each evidence line when the bundle could be read again:
/// enough to see what led up to a line without drowning it.
pub const CONTEXT_LINES: u64 = 2;
/// Rows of the notable-events table: enough for any incident narrative, small enough that the
/// page opens instantly when a bundle has 100,000 timed events.
pub const MAX_EVENT_ROWS: usize = 200;
/// Characters of a log line shown in the events table (the card shows more).
const EVENT_TEXT_CHARS: usize = 240;
/// Findings listed in the verdict; every one still gets its card.
pub const MAX_VERDICT_ITEMS: usize = 50;
/// Field values shorter than this are not highlighted in evidence (a `0` would light up
/// every digit of a line).
const MIN_HIGHLIGHT_CHARS: usize = 2;

/// Integer fields that name something (a process, a port) rather than measure it: shown as
/// written, without thousands separators, among the finding's facts.
const IDENTIFIER_FIELDS: &[&str] = &[
    "pid",
    "tgid",
    "uid",
    "gid",
    "port",
    "order",
    "oom_score_adj",
    "errno",
    "netns",
];
/// Sizes that count against a memory cgroup's `limit_kb` (virtual size does not, so
/// `total_vm_kb` gets no gauge).
const GAUGED_FIELDS: &[&str] = &[
    "usage_kb",
    "anon_rss_kb",
    "file_rss_kb",
    "shmem_rss_kb",
    "rss_kb",
];
/// Facts shown first, in this order, because they say *who* was affected.
const WHO_FIELDS: &[&str] = &[
    "process",
    "pid",
    "pod",
    "namespace",
    "container",
    "pod_uid",
    "container_id",
    "port",
    "destination",
    "address",
];

#[derive(Debug, Clone)]
pub struct ReportView {
    pub title: String,
    pub headline: String,
    pub worst_class: String,
    pub stats: Vec<StatView>,
    pub span_label: String,
    pub incidents: Vec<IncidentView>,
    pub verdict: Vec<VerdictItem>,
    pub verdict_more: String,
    pub verdict_empty: String,
    pub timeline: TimelineView,
    pub cards: Vec<CardView>,
    pub healthy: Vec<CheckView>,
    pub not_applicable: Vec<CheckView>,
    pub missing: Vec<MissingView>,
    pub sources: Vec<SourceView>,
    pub sources_have_span: bool,
    pub diagnostics: Vec<DiagView>,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct StatView {
    pub value: String,
    pub label: String,
    pub class: String,
}

/// An incident: findings from several sources joined into one story.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub id: String,
    pub severity: String,
    pub sev_class: String,
    pub when: String,
    pub title: String,
    pub narrative: String,
    /// Links to the member findings' cards: (href, signature).
    pub members: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct VerdictItem {
    pub href: String,
    pub severity: String,
    pub sev_class: String,
    pub when: String,
    pub title: String,
    pub affected: String,
    pub count: String,
}

#[derive(Debug, Clone)]
pub struct TimelineView {
    pub chart: Option<ChartView>,
    pub note: String,
    pub events: Vec<EventRow>,
    pub events_more: String,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub time: String,
    pub time_source: String,
    pub location: String,
    pub text: String,
    pub href: String,
    pub sev_class: String,
    pub signature: String,
}

#[derive(Debug, Clone)]
pub struct CardView {
    pub id: String,
    pub sev_class: String,
    pub severity: String,
    pub signature: String,
    pub title: String,
    pub when: String,
    pub count: String,
    pub summary: String,
    pub numbers: Vec<NumberView>,
    pub facts: Vec<FactView>,
    pub excerpts: Vec<ExcerptView>,
    pub excerpts_more: String,
    pub fixes: Vec<FixView>,
}

#[derive(Debug, Clone)]
pub struct NumberView {
    pub label: String,
    pub value: String,
    pub detail: String,
    /// Width of the gauge in percent (`""` for none), capped at 100.
    pub meter: String,
    pub meter_class: String,
}

#[derive(Debug, Clone)]
pub struct FactView {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ExcerptView {
    pub location: String,
    /// A line around the evidence (shown dimmed, nothing highlighted).
    pub context: bool,
    /// A visual break before this line (another file, or lines skipped).
    pub gap_before: bool,
    pub segments: Vec<Segment>,
    pub clipped: String,
}

/// A run of text, highlighted when it is the value of one of the finding's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

#[derive(Debug, Clone)]
pub struct FixView {
    pub title: String,
    pub lines: Vec<CodeLine>,
}

#[derive(Debug, Clone)]
pub struct CodeLine {
    pub code: String,
    pub comment: String,
}

#[derive(Debug, Clone)]
pub struct CheckView {
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub note: String,
    pub facts: Vec<CheckFactView>,
}

#[derive(Debug, Clone)]
pub struct CheckFactView {
    pub name: String,
    pub value: String,
    pub location: String,
}

#[derive(Debug, Clone)]
pub struct MissingView {
    pub check: String,
    pub what: String,
    pub why: String,
    pub command: String,
}

#[derive(Debug, Clone)]
pub struct SourceView {
    pub path: String,
    pub kind: String,
    pub format: String,
    pub lines: String,
    pub span: String,
    pub status: String,
    pub skipped: bool,
    pub diagnostics: Vec<DiagView>,
}

#[derive(Debug, Clone)]
pub struct DiagView {
    pub level: String,
    pub level_class: String,
    pub location: String,
    pub message: String,
}

/// A finding's times as instants. The model carries them as RFC 3339 strings (its JSON form);
/// reading them back is the only conversion the view does.
fn times(f: &Finding) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let first = parse(&f.first)?;
    let last = parse(&f.last).unwrap_or(first).max(first);
    Some((first, last))
}

fn card_id(index: usize) -> String {
    format!("finding-{}", index + 1)
}

fn when(f: &Finding) -> String {
    match times(f) {
        Some((a, b)) if a != b => format!(
            "{} → {} ({})",
            format::instant(&a),
            format::instant(&b),
            format::duration_ms((b - a).num_milliseconds())
        ),
        Some((a, _)) => format::instant(&a),
        None => "time not resolved".to_string(),
    }
}

fn field_int(fields: &Fields, name: &str) -> Option<i64> {
    match fields.get(name) {
        Some(FieldValue::Int(i)) => Some(*i),
        _ => None,
    }
}

fn field_text(fields: &Fields, name: &str) -> Option<String> {
    fields.get(name).map(|v| v.to_string())
}

/// Who or what was hit, in words: `node (pid 48213), pod UID …, container 8d2b6c51f3a0`.
fn affected(f: &Finding) -> String {
    let fl = &f.fields;
    let mut parts = Vec::new();
    match (field_text(fl, "process"), field_text(fl, "pid")) {
        (Some(p), Some(pid)) => parts.push(format!("{p} (pid {pid})")),
        (Some(p), None) => parts.push(p),
        (None, Some(pid)) => parts.push(format!("pid {pid}")),
        (None, None) => {}
    }
    match (field_text(fl, "namespace"), field_text(fl, "pod")) {
        (Some(ns), Some(pod)) => parts.push(format!("pod {ns}/{pod}")),
        (None, Some(pod)) => parts.push(format!("pod {pod}")),
        _ => {
            if let Some(uid) = field_text(fl, "pod_uid") {
                parts.push(format!("pod UID {uid}"));
            }
        }
    }
    if let Some(c) = field_text(fl, "container") {
        parts.push(format!("container {c}"));
    } else if let Some(id) = field_text(fl, "container_id") {
        // The 12-character short id `crictl ps` and `docker ps` print.
        let short: String = id.chars().take(12).collect();
        parts.push(format!("container {short}"));
    }
    if let Some(p) = field_text(fl, "port") {
        parts.push(format!("port {p}"));
    }
    if let Some(d) = field_text(fl, "destination") {
        parts.push(format!("destination {d}"));
    }
    if let Some(a) = field_text(fl, "address") {
        parts.push(format!("address {a}"));
    }
    if parts.is_empty() {
        if let Some(e) = f.evidence.first() {
            parts.push(format!("in {}", e.path));
        }
    }
    parts.join(", ")
}

fn numbers(fields: &Fields) -> Vec<NumberView> {
    let limit_kb = field_int(fields, "limit_kb");
    let mut out = Vec::new();
    for (name, value) in fields {
        let FieldValue::Int(n) = value else { continue };
        if IDENTIFIER_FIELDS.contains(&name.as_str()) {
            continue;
        }
        let mut view = NumberView {
            label: format::field_label(name),
            value: format::thousands(*n),
            detail: String::new(),
            meter: String::new(),
            meter_class: String::new(),
        };
        if name.ends_with("_kb") {
            view.value = format::size_kib(*n);
            view.detail = format!("{} kB", format::thousands(*n));
            if let (Some(limit), true) =
                (limit_kb, GAUGED_FIELDS.contains(&name.as_str()) && *n > 0)
            {
                if let Some(pct) = format::percent(*n, limit) {
                    view.detail = format!("{pct} of the {} limit", format::size_kib(limit));
                    let width = (*n as f64 * 100.0 / limit as f64).clamp(0.0, 100.0);
                    view.meter = format!("{width:.1}");
                    view.meter_class = if width >= 90.0 {
                        "meter-critical"
                    } else if width >= 75.0 {
                        "meter-warning"
                    } else {
                        "meter-ok"
                    }
                    .to_string();
                }
            }
        } else if name.ends_with("_bytes") {
            view.value = format::size_bytes(*n);
            view.detail = format!("{} bytes", format::thousands(*n));
        } else if name == "seconds" || name.ends_with("_seconds") {
            view.value = format!("{} s", format::thousands(*n));
        }
        out.push(view);
    }
    // Gauges first: they carry the "how close to the limit" story.
    out.sort_by_key(|n| n.meter.is_empty());
    out
}

fn facts(fields: &Fields) -> Vec<FactView> {
    let shown = |name: &str, v: &FieldValue| {
        matches!(v, FieldValue::Text(_)) || IDENTIFIER_FIELDS.contains(&name)
    };
    let mut out: Vec<FactView> = WHO_FIELDS
        .iter()
        .filter_map(|n| fields.get(*n).filter(|v| shown(n, v)).map(|v| (*n, v)))
        .chain(
            fields
                .iter()
                .filter(|(n, v)| !WHO_FIELDS.contains(&n.as_str()) && shown(n, v))
                .map(|(n, v)| (n.as_str(), v)),
        )
        .map(|(n, v)| FactView {
            label: n.replace('_', " "),
            value: v.to_string(),
        })
        .collect();
    out.dedup_by(|a, b| a.label == b.label);
    out
}

/// The byte ranges of `text` to highlight: occurrences of the finding's field values
/// (integers only where not part of a longer number).
fn highlight(text: &str, fields: &Fields) -> Vec<Segment> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for value in fields.values() {
        let (needle, whole_number) = match value {
            FieldValue::Int(i) => (i.to_string(), true),
            FieldValue::Text(s) => (s.clone(), false),
        };
        if needle.chars().count() < MIN_HIGHLIGHT_CHARS {
            continue;
        }
        for (start, m) in text.match_indices(&needle) {
            let end = start + m.len();
            if !standalone(text, start, end, whole_number) {
                continue;
            }
            ranges.push((start, end));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in merged {
        if s > at {
            out.push(Segment {
                text: text[at..s].to_string(),
                hit: false,
            });
        }
        out.push(Segment {
            text: text[s..e].to_string(),
            hit: true,
        });
        at = e;
    }
    if at < text.len() || out.is_empty() {
        out.push(Segment {
            text: text[at..].to_string(),
            hit: false,
        });
    }
    out
}

/// Whether `text[start..end]` is a whole token: a number not inside a longer number (a `.`
/// counts only between digits, so `port 3000.` matches), a word not inside a longer word.
fn standalone(text: &str, start: usize, end: usize, number: bool) -> bool {
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let (b1, b2) = (before.next(), before.next());
    let (a1, a2) = (after.next(), after.next());
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if number {
        let joined_before = digit(b1) || (b1 == Some('.') && digit(b2));
        let joined_after = digit(a1) || (a1 == Some('.') && digit(a2));
        !(joined_before || joined_after)
    } else {
        let first = text[start..end].chars().next();
        let last = text[start..end].chars().next_back();
        // Only a value that starts (ends) with a word character can run into a neighbour.
        !((word(first) && word(b1)) || (word(last) && word(a1)))
    }
}

fn excerpts(
    f: &Finding,
    context: &BTreeMap<String, BTreeMap<u64, String>>,
) -> (Vec<ExcerptView>, String) {
    // Evidence lines shown, then the context lines around them that are not evidence.
    let shown: Vec<&Evidence> = f.evidence.iter().take(EXCERPTS_PER_FINDING).collect();
    let mut rows: BTreeMap<(String, u64), (String, bool)> = BTreeMap::new();
    let mut order: Vec<(String, u64)> = Vec::new();
    for e in &shown {
        let around = context.get(&e.path);
        for l in e.line.saturating_sub(CONTEXT_LINES)..=e.line + CONTEXT_LINES {
            let key = (e.path.clone(), l);
            if l == e.line {
                rows.insert(key.clone(), (e.text.clone(), false));
            } else if let Some(t) = around.and_then(|m| m.get(&l)) {
                rows.entry(key.clone()).or_insert((t.clone(), true));
            } else {
                continue;
            }
            if !order.contains(&key) {
                order.push(key);
            }
        }
    }
    let mut out = Vec::new();
    let mut prev: Option<&(String, u64)> = None;
    for key in &order {
        let Some((text, is_context)) = rows.get(key) else {
            continue;
        };
        let (text, clipped) = format::clip(text, EXCERPT_CHARS);
        out.push(ExcerptView {
            location: format!("{}:{}", key.0, key.1),
            context: *is_context,
            gap_before: prev.is_some_and(|p| p.0 != key.0 || p.1 + 1 != key.1),
            segments: if *is_context {
                vec![Segment {
                    text: text.clone(),
                    hit: false,
                }]
            } else {
                highlight(&text, &f.fields)
            },
            clipped: clipped.unwrap_or_default(),
        });
        prev = Some(key);
    }
    let more = f.evidence.len().saturating_sub(EXCERPTS_PER_FINDING) as u64 + f.evidence_omitted;
    let more = if more > 0 {
        format!(
            "and {} more line(s) not shown (the JSON output lists up to 20)",
            format::thousands_u64(more)
        )
    } else {
        String::new()
    };
    (out, more)
}

/// A fix's text as code lines, with a trailing `# comment` split off to be shown dimmed.
fn fix_view(fix: &Fix) -> FixView {
    let lines = fix
        .text
        .trim_end_matches('\n')
        .split('\n')
        .map(|line| {
            let split = if line.trim_start().starts_with('#') {
                Some(0)
            } else {
                // Only a `#` after two spaces: `#` inside a command (`grep '#'`) stays code.
                line.find("  #").map(|i| i + 2)
            };
            match split {
                Some(i) => CodeLine {
                    code: line[..i].to_string(),
                    comment: line[i..].to_string(),
                },
                None => CodeLine {
                    code: line.to_string(),
                    comment: String::new(),
                },
            }
        })
        .collect();
    FixView {
        title: fix.title.clone(),
        lines,
    }
}

fn card(index: usize, f: &Finding, report: &Report) -> CardView {
    let (excerpts, excerpts_more) = excerpts(f, &report.context);
    CardView {
        id: card_id(index),
        sev_class: timeline::severity_class(f.severity).to_string(),
        severity: f.severity.as_str().to_string(),
        signature: f.signature.clone(),
        title: f.title.clone(),
        when: when(f),
        count: format!("{} event(s)", format::thousands_u64(f.count)),
        summary: f.summary.clone(),
        numbers: numbers(&f.fields),
        facts: facts(&f.fields),
        excerpts,
        excerpts_more,
        fixes: f.fixes.iter().map(fix_view).collect(),
    }
}

fn verdict_item(index: usize, f: &Finding) -> VerdictItem {
    VerdictItem {
        href: format!("#{}", card_id(index)),
        severity: f.severity.as_str().to_string(),
        sev_class: timeline::severity_class(f.severity).to_string(),
        when: match times(f) {
            Some((a, _)) => format::instant(&a),
            None => "time not resolved".to_string(),
        },
        title: f.title.clone(),
        affected: affected(f),
        count: if f.count > 1 {
            format!("×{}", format::thousands_u64(f.count))
        } else {
            String::new()
        },
    }
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// How a time was obtained, in words.
fn time_source_label(ts: &TimeSource) -> String {
    match ts {
        TimeSource::Stated => "stated in the line".into(),
        TimeSource::YearInferred => "year inferred".into(),
        TimeSource::ZoneAssumed => "zone assumed".into(),
        TimeSource::BootAnchored(a) => format!("since boot, anchored by {a}"),
        TimeSource::Approximate => "approximate".into(),
        TimeSource::Unresolved => "not resolved".into(),
    }
}

/// The finding card a timeline event belongs to: the finding of that signature whose
/// evidence holds the event's line, else the first finding of that signature.
fn card_of(report: &Report, e: &TimelineEvent) -> Option<usize> {
    let sig = e.signature.as_deref()?;
    let mut fallback = None;
    for (i, f) in report.findings.iter().enumerate() {
        if f.signature != sig {
            continue;
        }
        if f.evidence
            .iter()
            .any(|ev| ev.path == e.path && ev.line == e.line)
        {
            return Some(i);
        }
        fallback.get_or_insert(i);
    }
    fallback
}

fn timeline_view(report: &Report) -> TimelineView {
    let mut input = TimelineInput::default();
    let mut lane_of: BTreeMap<String, usize> = BTreeMap::new();
    // Lanes: every source with resolved times, in path order (like the sources table).
    let mut lane_paths: Vec<String> = report.volume.iter().map(|v| v.path.clone()).collect();
    lane_paths.extend(
        report
            .timeline
            .iter()
            .filter(|e| e.time.is_some())
            .map(|e| e.path.clone()),
    );
    lane_paths.sort();
    lane_paths.dedup();
    for p in lane_paths {
        lane_of.insert(p.clone(), input.lanes.len());
        let volume = report
            .volume
            .iter()
            .find(|v| v.path == p)
            .map(|v| v.minutes.clone())
            .unwrap_or_default();
        input.lanes.push(LaneInput { label: p, volume });
    }
    let mut rows: Vec<EventRow> = Vec::new();
    let mut untimed = 0usize;
    for e in &report.timeline {
        let t = parse_time(e.time.as_deref());
        let card = card_of(report, e);
        let href = card.map(|i| format!("#{}", card_id(i))).unwrap_or_default();
        let severity = e.severity.unwrap_or(crate::model::Severity::Info);
        if e.kind == "boot" {
            if let Some(at) = t {
                input.boots.push(BootInput {
                    at,
                    title: format!("{} ({}:{})", e.text, e.path, e.line),
                });
            }
        } else if let (Some(at), Some(&lane)) = (t, lane_of.get(&e.path)) {
            input.hits.push(HitInput {
                lane,
                first: at,
                last: at,
                severity,
                title: format!(
                    "{} ({})",
                    card.and_then(|i| report.findings.get(i))
                        .map(|f| f.title.clone())
                        .unwrap_or_default(),
                    e.signature.clone().unwrap_or_default()
                ),
                href: href.clone(),
            });
        } else {
            untimed += 1;
        }
        let (text, clipped) = format::clip(&e.text, EVENT_TEXT_CHARS);
        let copies = if e.copies.is_empty() {
            String::new()
        } else {
            format!(" (+{} copies)", e.copies.len())
        };
        rows.push(EventRow {
            time: t.map(|a| format::instant(&a)).unwrap_or_else(|| "—".into()),
            time_source: time_source_label(&e.time_source),
            location: format!("{}:{}{copies}", e.path, e.line),
            text: if clipped.is_some() {
                format!("{text}…")
            } else {
                text
            },
            href,
            sev_class: timeline::severity_class(severity).to_string(),
            signature: e.signature.clone().unwrap_or_else(|| e.kind.clone()),
        });
    }
    for inc in &report.incidents {
        if let (Some(start), Some(end)) = (
            parse_time(inc.start.as_deref()),
            parse_time(inc.end.as_deref()),
        ) {
            input.incidents.push(IncidentInput {
                start,
                end,
                title: format!("{} {}", inc.id, inc.title),
            });
        }
    }
    let chart = timeline::chart(&input);
    let note = match (&chart, untimed) {
        (None, 0) => {
            "No event in this bundle has a resolved time, so there is nothing to chart.".to_string()
        }
        (None, n) => format!(
            "No chart: none of the {} event(s) has a resolved time. The bundle states no year, \
             zone or boot anchor that would place them (see the clock section); the table lists \
             them by where they are.",
            format::thousands_u64(n as u64)
        ),
        (Some(_), 0) => String::new(),
        (Some(_), n) => format!(
            "{} event(s) are not on the chart: no anchor in the bundle resolves their time \
             (see the clock section).",
            format::thousands_u64(n as u64)
        ),
    };
    let total = rows.len();
    let events: Vec<EventRow> = rows.into_iter().take(MAX_EVENT_ROWS).collect();
    let events_more = if total > events.len() {
        format!(
            "and {} more event(s) not listed (see the JSON output)",
            format::thousands_u64((total - events.len()) as u64)
        )
    } else {
        String::new()
    };
    TimelineView {
        chart,
        note,
        events,
        events_more,
    }
}

fn check_view(c: &CheckReport) -> CheckView {
    let (status, class) = match c.status {
        CheckStatus::Fired => ("fired", "status-fired"),
        CheckStatus::Healthy => ("healthy", "status-healthy"),
        CheckStatus::NotApplicable => ("not applicable", "status-na"),
    };
    CheckView {
        id: c.id.clone(),
        title: c.title.clone(),
        status: status.to_string(),
        status_class: class.to_string(),
        note: c.note.clone(),
        facts: c.facts.iter().map(check_fact).collect(),
    }
}

fn check_fact(f: &CheckedFact) -> CheckFactView {
    CheckFactView {
        name: f.name.clone(),
        value: f.value.clone(),
        location: match (&f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        },
    }
}

fn missing_view(m: &Missing) -> MissingView {
    MissingView {
        check: m.check.clone(),
        what: m.what.clone(),
        why: m.why.clone(),
        command: m.command.clone(),
    }
}

fn diag_view(d: &Diagnostic, path: Option<&str>) -> DiagView {
    let (level, class) = match d.level {
        Level::Info => ("info", "diag-info"),
        Level::Warning => ("warning", "diag-warning"),
        Level::Error => ("error", "diag-error"),
    };
    let path = d.path.as_deref().or(path);
    DiagView {
        level: level.to_string(),
        level_class: class.to_string(),
        location: match (path, d.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.to_string(),
            (None, Some(l)) => format!("line {l}"),
            (None, None) => String::new(),
        },
        message: d.message.clone(),
    }
}

fn source_view(s: &Source) -> SourceView {
    SourceView {
        path: s.path.clone(),
        kind: s.kind.as_str().to_string(),
        format: if s.format.is_empty() {
            "—".into()
        } else {
            s.format.clone()
        },
        lines: format::thousands_u64(s.lines),
        span: String::new(),
        status: match &s.skipped {
            Some(why) => format!("skipped: {why}"),
            None => "read".into(),
        },
        skipped: s.skipped.is_some(),
        diagnostics: s
            .diagnostics
            .iter()
            .map(|d| diag_view(d, Some(&s.path)))
            .collect(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        format::thousands_u64(n as u64),
        if n == 1 { one } else { many }
    )
}

pub fn build(report: &Report) -> ReportView {
    let count = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
    let (crit, warn, info) = (
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let read: Vec<&Source> = report
        .sources
        .iter()
        .filter(|s| s.skipped.is_none())
        .collect();
    let lines: u64 = read.iter().map(|s| s.lines).sum();
    let timeline = timeline_view(report);
    let span = report.findings.iter().filter_map(times).fold(
        None,
        |acc: Option<(DateTime<Utc>, DateTime<Utc>)>, (a, b)| {
            Some(match acc {
                None => (a, b),
                Some((x, y)) => (x.min(a), y.max(b)),
            })
        },
    );
    let span_label = match span {
        Some((a, b)) if a != b => format!(
            "Findings with resolved times span {} → {} ({}).",
            format::instant(&a),
            format::instant(&b),
            format::duration_ms((b - a).num_milliseconds())
        ),
        Some((a, _)) => format!("Findings with resolved times: {}.", format::instant(&a)),
        None => "No finding has a resolved time.".to_string(),
    };
    let headline = if report.findings.is_empty() {
        format!(
            "No known failure signature matched in {}.",
            plural(read.len(), "source", "sources")
        )
    } else {
        let mut parts = Vec::new();
        for (n, label) in [(crit, "critical"), (warn, "warning"), (info, "info")] {
            if n > 0 {
                parts.push(format!("{} {label}", format::thousands_u64(n as u64)));
            }
        }
        format!(
            "{} ({}) in {}.",
            plural(report.findings.len(), "finding", "findings"),
            parts.join(", "),
            plural(read.len(), "source", "sources")
        )
    };
    let worst_class = report
        .worst_severity()
        .map(timeline::severity_class)
        .unwrap_or("sev-none")
        .to_string();
    let stat = |value: usize, label: &str, class: &str| StatView {
        value: format::thousands_u64(value as u64),
        label: label.to_string(),
        class: class.to_string(),
    };
    let stats = vec![
        stat(crit, "critical", "sev-critical"),
        stat(warn, "warning", "sev-warning"),
        stat(info, "info", "sev-info"),
        stat(read.len(), "sources read", ""),
        StatView {
            value: format::thousands_u64(lines),
            label: "lines".into(),
            class: String::new(),
        },
    ];
    let verdict: Vec<VerdictItem> = report
        .findings
        .iter()
        .enumerate()
        .take(MAX_VERDICT_ITEMS)
        .map(|(i, f)| verdict_item(i, f))
        .collect();
    let verdict_more = if report.findings.len() > verdict.len() {
        format!(
            "and {} more finding(s), each with its card below",
            format::thousands_u64((report.findings.len() - verdict.len()) as u64)
        )
    } else {
        String::new()
    };
    let incidents: Vec<IncidentView> = report
        .incidents
        .iter()
        .map(|inc| IncidentView {
            id: inc.id.clone(),
            severity: inc.severity.as_str().to_string(),
            sev_class: timeline::severity_class(inc.severity).to_string(),
            when: match (
                parse_time(inc.start.as_deref()),
                parse_time(inc.end.as_deref()),
            ) {
                (Some(a), Some(b)) if a != b => {
                    format!("{} → {}", format::instant(&a), format::instant(&b))
                }
                (Some(a), _) => format::instant(&a),
                _ => "time not resolved".to_string(),
            },
            title: inc.title.clone(),
            narrative: inc.narrative.clone(),
            members: inc
                .findings
                .iter()
                .map(|r| (format!("#{}", card_id(r.index)), r.signature.clone()))
                .collect(),
        })
        .collect();
    let sources: Vec<SourceView> = report.sources.iter().map(source_view).collect();
    ReportView {
        incidents,
        title: format!("coroner report: {headline}"),
        headline,
        worst_class,
        stats,
        span_label,
        verdict_empty: if report.findings.is_empty() {
            "Nothing in the bundle matched a known failure signature or check. See what was \
             checked and what evidence is missing below."
                .to_string()
        } else {
            String::new()
        },
        verdict,
        verdict_more,
        timeline,
        cards: report
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| card(i, f, report))
            .collect(),
        healthy: report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Healthy)
            .map(check_view)
            .collect(),
        not_applicable: report
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::NotApplicable)
            .map(check_view)
            .collect(),
        missing: report.missing.iter().map(missing_view).collect(),
        sources_have_span: sources.iter().any(|s| !s.span.is_empty()),
        sources,
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| diag_view(d, None))
            .collect(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
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
    fn highlights_field_values_but_not_parts_of_longer_numbers() {
        let f = fields(&[
            ("pid", FieldValue::Int(48213)),
            ("process", FieldValue::Text("node".into())),
        ]);
        let segs = highlight(
            "Killed process 48213 (node) x:482130 y:48213.5 nodemask 48213.",
            &f,
        );
        let hits: Vec<&str> = segs
            .iter()
            .filter(|s| s.hit)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(hits, vec!["48213", "node", "48213"]);
        let joined: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            joined,
            "Killed process 48213 (node) x:482130 y:48213.5 nodemask 48213."
        );
    }

    #[test]
    fn overlapping_highlights_merge() {
        let f = fields(&[
            ("a", FieldValue::Text("ab-".into())),
            ("b", FieldValue::Text("-cd".into())),
        ]);
        let segs = highlight("(ab-cd)", &f);
        assert_eq!(
            segs,
            vec![
                Segment {
                    text: "(".into(),
                    hit: false
                },
                Segment {
                    text: "ab-cd".into(),
                    hit: true
                },
                Segment {
                    text: ")".into(),
                    hit: false
                },
            ]
        );
    }

    #[test]
    fn numbers_with_units_and_gauges() {
        let f = fields(&[
            ("anon_rss_kb", FieldValue::Int(1003412)),
            ("limit_kb", FieldValue::Int(1048576)),
            ("failcnt", FieldValue::Int(2231)),
            ("pid", FieldValue::Int(48213)),
        ]);
        let n = numbers(&f);
        assert_eq!(n[0].label, "anon rss");
        assert_eq!(n[0].value, "980 MiB");
        assert_eq!(n[0].detail, "96 % of the 1 GiB limit");
        assert_eq!(n[0].meter_class, "meter-critical");
        assert!(n.iter().any(|x| x.label == "failcnt" && x.value == "2,231"));
        assert!(
            !n.iter().any(|x| x.label == "pid"),
            "ids are facts, not numbers"
        );
        let facts = facts(&f);
        assert_eq!(facts[0].label, "pid");
        assert_eq!(facts[0].value, "48213");
    }

    #[test]
    fn fix_comments_are_split_off() {
        let v = fix_view(&Fix {
            title: "t".into(),
            text: "# why\nNODE_OPTIONS=--max-old-space-size=768     # Node.js (MiB)\ngrep '#' x\n"
                .into(),
        });
        assert_eq!(v.lines.len(), 3);
        assert_eq!(v.lines[0].code, "");
        assert_eq!(v.lines[0].comment, "# why");
        assert_eq!(
            v.lines[1].code,
            "NODE_OPTIONS=--max-old-space-size=768     "
        );
        assert_eq!(v.lines[1].comment, "# Node.js (MiB)");
        assert_eq!(v.lines[2].code, "grep '#' x");
    }
}
