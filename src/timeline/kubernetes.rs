//! Kubernetes snapshots on the timeline: container starts and terminations (absolute times
//! `kubectl` prints), and `Events:` rows, whose ages (`33s (x70 over 15m)`) count back from
//! the moment the command ran, i.e. the bundle's capture time.

use super::events::{Location, TimelineEvent};
use super::{BundleClock, TimeSource};
use crate::ingest::k8s::{ContainerState, Objects, Pod};
use crate::ingest::Facts;
use crate::model::{rfc3339, Severity, Source};
use chrono::{DateTime, Duration, Utc};

/// Event reasons worth a line on the timeline even when their type is Normal: they are state
/// changes a postmortem asks about (kills, evictions, OOMs). Other Normal events (Pulled,
/// Created, Scheduled) are routine.
const NOTABLE_NORMAL_REASONS: &[&str] = &[
    "Killing",
    "Preempting",
    "SystemOOM",
    "Evicted",
    "NodeNotReady",
];

/// (time, source, line, event) rows ready to merge into the notable timeline.
pub type Row = (Option<DateTime<Utc>>, usize, u64, TimelineEvent);

fn objects(facts: &Facts) -> [&Objects; 2] {
    [&facts.kubectl_describe, &facts.k8s_object]
}

/// Every absolute time the snapshots state, with `path:line`: candidates for the capture time.
pub fn stated_times(facts: &Facts, sources: &[Source]) -> Vec<(DateTime<Utc>, String)> {
    let mut out = Vec::new();
    for o in objects(facts) {
        for pod in &o.pods {
            let path = sources
                .get(pod.source)
                .map(|s| s.path.as_str())
                .unwrap_or("?");
            for c in pod.init_containers.iter().chain(&pod.containers) {
                for st in [&c.state, &c.last_state].into_iter().flatten() {
                    for t in [&st.started, &st.finished].into_iter().flatten() {
                        if let Some(p) = t.value.parsed {
                            out.push((p.with_timezone(&Utc), format!("{path}:{}", t.line)));
                        }
                    }
                }
            }
        }
    }
    out
}

fn state_event(pod: &Pod, container: &str, st: &ContainerState, path: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let who = match &pod.namespace {
        Some(ns) => format!("{}/{} container {container}", ns.value, pod.name.value),
        None => format!("{} container {container}", pod.name.value),
    };
    let reason = st.reason.as_ref().map(|r| r.value.clone());
    let exit = st.exit_code.as_ref().map(|e| e.value);
    if let Some(f) = &st.finished {
        let what = match (&reason, exit) {
            (Some(r), Some(e)) => format!("{who} terminated: {r}, exit code {e}"),
            (Some(r), None) => format!("{who} terminated: {r}"),
            (None, Some(e)) => format!("{who} terminated with exit code {e}"),
            (None, None) => format!("{who} terminated"),
        };
        let severity = match (reason.as_deref(), exit) {
            (Some("OOMKilled"), _) | (_, Some(137)) => Severity::Critical,
            (Some("Completed"), _) | (_, Some(0)) => Severity::Info,
            _ => Severity::Warning,
        };
        rows.push(row(
            f.value.parsed.map(|t| t.with_timezone(&Utc)),
            &f.value.text,
            pod.source,
            f.line,
            path,
            "pod-state",
            Some(severity),
            what,
        ));
    }
    if let Some(s) = &st.started {
        let what = if st.state.eq_ignore_ascii_case("running") {
            format!("{who} started (still running at capture)")
        } else {
            format!("{who} started")
        };
        rows.push(row(
            s.value.parsed.map(|t| t.with_timezone(&Utc)),
            &s.value.text,
            pod.source,
            s.line,
            path,
            "pod-state",
            Some(Severity::Info),
            what,
        ));
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn row(
    t: Option<DateTime<Utc>>,
    stated: &str,
    source: usize,
    line: u64,
    path: &str,
    kind: &str,
    severity: Option<Severity>,
    text: String,
) -> Row {
    (
        t,
        source,
        line,
        TimelineEvent {
            time: t.as_ref().map(rfc3339),
            time_source: if t.is_some() {
                TimeSource::Stated
            } else {
                TimeSource::Unresolved
            },
            stated: stated.to_string(),
            kind: kind.to_string(),
            signature: None,
            severity,
            path: path.to_string(),
            line,
            text,
            copies: Vec::<Location>::new(),
        },
    )
}

/// Container state changes and notable Events rows of every pod and node in the snapshots.
pub fn events(facts: &Facts, sources: &[Source], clock: &BundleClock) -> Vec<Row> {
    let mut rows = Vec::new();
    for o in objects(facts) {
        for pod in &o.pods {
            let path = sources
                .get(pod.source)
                .map(|s| s.path.clone())
                .unwrap_or_default();
            for c in pod.init_containers.iter().chain(&pod.containers) {
                for st in [&c.state, &c.last_state].into_iter().flatten() {
                    rows.extend(state_event(pod, &c.name.value, st, &path));
                }
            }
            for e in &pod.events {
                rows.extend(event_row(e, pod.source, &path, clock));
            }
        }
        for node in &o.nodes {
            let path = sources
                .get(node.source)
                .map(|s| s.path.clone())
                .unwrap_or_default();
            for e in &node.events {
                rows.extend(event_row(e, node.source, &path, clock));
            }
        }
    }
    rows
}

/// An `Events:` row at capture time − its age. The age is rounded by kubectl (`15m`), so the
/// time is approximate; without a capture time it stays unresolved.
fn event_row(
    e: &crate::ingest::k8s::Event,
    source: usize,
    path: &str,
    clock: &BundleClock,
) -> Option<Row> {
    let notable = e.kind == "Warning" || NOTABLE_NORMAL_REASONS.contains(&e.reason.as_str());
    if !notable {
        return None;
    }
    let t = match (clock.capture_utc, e.age.last_seen_secs) {
        (Some(cap), Some(age)) => Some(cap - Duration::seconds(age as i64)),
        _ => None,
    };
    let count = if e.age.count > 1 {
        format!(" (×{})", e.age.count)
    } else {
        String::new()
    };
    let mut r = row(
        t,
        &format!("{} ago", e.age.text),
        source,
        e.line,
        path,
        "k8s-event",
        Some(if e.kind == "Warning" {
            Severity::Warning
        } else {
            Severity::Info
        }),
        format!("{} {}{count}: {}", e.kind, e.reason, e.message),
    );
    r.3.time_source = if t.is_some() {
        TimeSource::Approximate
    } else {
        TimeSource::Unresolved
    };
    Some(r)
}
