//! The notable events of a bundle in one time order: signature hits (copies across files
//! merged into one event with every location) and boots.

use super::observe::{BootReason, ClockObservations};
use super::{Resolution, TimeSource};
use crate::model::{rfc3339, Hit, Severity, Source};
use crate::signatures::Catalog;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub line: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    /// RFC 3339 UTC, or null when it could not be resolved.
    pub time: Option<String>,
    pub time_source: TimeSource,
    /// What the line itself stated about time (`--11-21T14:23:07`, `+4358.077120s since boot`).
    pub stated: String,
    /// `signature` or `boot`.
    pub kind: String,
    /// The signature id for signature events.
    pub signature: Option<String>,
    pub severity: Option<Severity>,
    pub path: String,
    pub line: u64,
    pub text: String,
    /// The same record in other files.
    pub copies: Vec<Location>,
}

/// Notable events, sorted by time (unresolved last), equal times in source order. `extra`
/// holds events from snapshots (Kubernetes state changes and events).
pub fn notable(
    catalog: &Catalog,
    sources: &[Source],
    hits: &[Hit],
    clocks: &[ClockObservations],
    res: &Resolution,
    extra: Vec<super::kubernetes::Row>,
) -> Vec<TimelineEvent> {
    let path = |s: usize| sources.get(s).map(|x| x.path.clone()).unwrap_or_default();
    let mut events: Vec<(
        Option<chrono::DateTime<chrono::Utc>>,
        usize,
        u64,
        TimelineEvent,
    )> = Vec::new();
    let mut copies_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (j, c) in res.copy_of.iter().enumerate() {
        if let Some(p) = c {
            copies_of.entry(*p).or_default().push(j);
        }
    }
    for (i, h) in hits.iter().enumerate() {
        if res.copy_of.get(i).copied().flatten().is_some() {
            continue;
        }
        let copies = copies_of
            .get(&i)
            .map(|js| {
                js.iter()
                    .map(|&j| Location {
                        path: path(hits[j].source),
                        line: hits[j].first_line,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let sig = catalog.signatures.get(h.signature);
        let t = res.times.get(i).copied().flatten();
        events.push((
            t,
            h.source,
            h.first_line,
            TimelineEvent {
                time: t.as_ref().map(rfc3339),
                time_source: res
                    .sources
                    .get(i)
                    .cloned()
                    .unwrap_or(TimeSource::Unresolved),
                stated: h.stamp.describe(),
                kind: "signature".into(),
                signature: sig.map(|s| s.id.clone()),
                severity: sig.map(|s| s.severity),
                path: path(h.source),
                line: h.first_line,
                text: h.evidence.first().map(|e| e.1.clone()).unwrap_or_default(),
                copies,
            },
        ));
    }
    for (si, c) in clocks.iter().enumerate() {
        for b in &c.boots {
            let text = match &b.reason {
                BootReason::Separator(Some(id)) => format!("boot {id} (journal separator)"),
                BootReason::Separator(None) => "reboot (journal separator)".to_string(),
                BootReason::BootId(id) => format!("boot {id} (journal _BOOT_ID changed)"),
                BootReason::MonotonicReset => {
                    "reboot (seconds since boot went backwards)".to_string()
                }
            };
            events.push((
                None,
                si,
                b.line,
                TimelineEvent {
                    time: None,
                    time_source: TimeSource::Unresolved,
                    stated: String::new(),
                    kind: "boot".into(),
                    signature: None,
                    severity: None,
                    path: path(si),
                    line: b.line,
                    text,
                    copies: Vec::new(),
                },
            ));
        }
    }
    events.extend(extra);
    // Stable: equal (or missing) times keep source order, then line order.
    events.sort_by(|a, b| {
        let ka = (a.0.is_none(), a.0, a.1, a.2);
        let kb = (b.0.is_none(), b.0, b.1, b.2);
        ka.cmp(&kb)
    });
    events.into_iter().map(|e| e.3).collect()
}
