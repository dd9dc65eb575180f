//! Kubernetes checks over the pods and nodes read from `kubectl describe` and from objects
//! (`kubectl get -o json|yaml`, the `kubectl get pods` table). Shared helpers live here; each
//! check is its own module.

pub mod crashloop;
pub mod eviction;
pub mod no_memory_limit;
pub mod node_memory_pressure;
pub mod oomkilled;
pub mod runtime_heap;
pub mod sigkill;
pub mod system_oom;

use super::{CheckContext, CheckedFact, Missing};
use crate::ingest::k8s::{At, Container, ContainerState, Node, Pod};
use crate::model::{rfc3339, Evidence, FieldValue, Fields, Finding, Fix, Severity, SourceId};
use chrono::Duration;
use std::collections::BTreeMap;

/// Every pod the bundle describes: describe output first, then objects and table rows.
pub fn pods<'a>(ctx: &'a CheckContext) -> impl Iterator<Item = &'a Pod> + 'a {
    ctx.facts
        .kubectl_describe
        .pods
        .iter()
        .chain(ctx.facts.k8s_object.pods.iter())
}

pub fn nodes<'a>(ctx: &'a CheckContext) -> impl Iterator<Item = &'a Node> + 'a {
    ctx.facts
        .kubectl_describe
        .nodes
        .iter()
        .chain(ctx.facts.k8s_object.nodes.iter())
}

pub fn evidence<T>(ctx: &CheckContext, source: SourceId, at: &At<T>) -> Evidence {
    ctx.evidence(source, at.line, &at.text)
}

pub fn state_evidence(ctx: &CheckContext, source: SourceId, s: &ContainerState) -> Vec<Evidence> {
    let mut ev = vec![ctx.evidence(source, s.line, &s.text)];
    if let Some(r) = &s.reason {
        ev.push(evidence(ctx, source, r));
    }
    if let Some(e) = &s.exit_code {
        ev.push(evidence(ctx, source, e));
    }
    if let Some(f) = &s.finished {
        ev.push(evidence(ctx, source, f));
    }
    ev
}

pub fn fact<T>(
    ctx: &CheckContext,
    source: SourceId,
    name: String,
    value: String,
    at: &At<T>,
) -> CheckedFact {
    CheckedFact {
        name,
        value,
        path: Some(ctx.path(source)),
        line: (at.line > 0).then_some(at.line),
    }
}

pub fn text(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

pub fn int(i: impl TryInto<i64>) -> FieldValue {
    FieldValue::Int(i.try_into().unwrap_or(i64::MAX))
}

/// `ns/pod container`, how findings name a container.
pub fn container_label(pod: &Pod, c: &Container) -> String {
    format!("{} container {}", pod.display(), c.name.value)
}

/// The common fields of a container finding.
pub fn container_fields(pod: &Pod, c: &Container) -> Fields {
    let mut f = Fields::new();
    f.insert("pod".into(), text(&pod.name.value));
    f.insert("namespace".into(), text(pod.namespace_str()));
    f.insert("container".into(), text(&c.name.value));
    if let Some(id) = &c.container_id {
        f.insert("container_id".into(), text(&id.value));
    }
    if let Some(n) = &c.restart_count {
        f.insert("restart_count".into(), int(n.value));
    }
    if let Some(l) = &c.limits.memory_bytes {
        f.insert("limit_bytes".into(), int(l.value));
    }
    f
}

pub fn finding(
    id: &str,
    severity: Severity,
    title: &str,
    summary: String,
    fields: Fields,
    evidence: Vec<Evidence>,
    fixes: Vec<Fix>,
) -> Finding {
    let mut ev: Vec<Evidence> = Vec::new();
    for e in evidence {
        if e.line > 0 && !ev.contains(&e) {
            ev.push(e);
        }
    }
    ev.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Finding {
        signature: id.to_string(),
        severity,
        title: title.to_string(),
        summary,
        count: 1,
        first: None,
        last: None,
        fields,
        evidence: ev,
        evidence_omitted: 0,
        fixes,
    }
}

/// Findings keyed by what they are about (`ns/pod/container`), so a pod seen in both a
/// describe and an object dump gives one finding with both evidences.
#[derive(Default)]
pub struct Collector {
    by_key: BTreeMap<String, usize>,
    pub findings: Vec<Finding>,
}

impl Collector {
    pub fn add(&mut self, key: String, f: Finding) {
        match self.by_key.get(&key) {
            Some(&i) => {
                if let Some(existing) = self.findings.get_mut(i) {
                    for e in f.evidence {
                        if !existing.evidence.contains(&e) {
                            existing.evidence.push(e);
                        }
                    }
                    for (k, v) in f.fields {
                        existing.fields.entry(k).or_insert(v);
                    }
                }
            }
            None => {
                self.by_key.insert(key, self.findings.len());
                self.findings.push(f);
            }
        }
    }
    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }
}

/// The kernel's OOM-kill finding for this container (by container id) or pod (by UID), if the
/// bundle's logs have one.
pub fn kernel_oom_for<'a>(ctx: &'a CheckContext, pod: &Pod, c: &Container) -> Option<&'a Finding> {
    let id = c.bare_id();
    let uid = pod.uid.as_ref().map(|u| u.value.as_str());
    ["mem.oom-kill-memcg", "mem.oom-kill-global"]
        .into_iter()
        .flat_map(|sig| ctx.log_findings_of(sig))
        .find(|f| {
            let field = |k: &str| match f.fields.get(k) {
                Some(FieldValue::Text(s)) => Some(s.as_str()),
                _ => None,
            };
            (id.is_some() && field("container_id") == id)
                || (id.is_none() && uid.is_some() && field("pod_uid") == uid)
        })
}

/// How long before and after a container's finish time to search the kernel log: clocks of
/// the node and the API server may disagree by a few minutes.
const KERNEL_LOG_WINDOW_MINUTES: i64 = 10;

/// Ask for the node's kernel log around a container's termination.
pub fn missing_kernel_log(check: &str, pod: &Pod, c: &Container, s: &ContainerState) -> Missing {
    let node = pod.node.as_ref().map_or("the pod's node".to_string(), |n| {
        format!("node {}", n.value)
    });
    let id = c.bare_id().unwrap_or("");
    let short = id.get(..12).unwrap_or(id);
    let since_until = s
        .finished
        .as_ref()
        .and_then(|f| f.value.parsed)
        .and_then(|t| {
            let fmt =
                |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M:%S UTC").to_string();
            let utc = t.with_timezone(&chrono::Utc);
            let w = Duration::minutes(KERNEL_LOG_WINDOW_MINUTES);
            let since = utc.checked_sub_signed(w)?;
            let until = utc.checked_add_signed(w)?;
            Some(format!(
                " --since \"{}\" --until \"{}\"",
                fmt(since),
                fmt(until)
            ))
        })
        .unwrap_or_default();
    let grep = if short.is_empty() {
        "grep -i -e oom -e 'killed process'".to_string()
    } else {
        format!("grep -i -e oom -e 'killed process' -e {short}")
    };
    Missing {
        check: check.to_string(),
        what: format!(
            "the kernel log of {node} around the end of {}",
            container_label(pod, c)
        ),
        why: "only the kernel's oom-kill record (with this container's id in its memcg path) proves \
              an OOM kill and shows which process used how much memory; the bundle has none for this container"
            .into(),
        command: format!("journalctl -k{since_until} | {grep}   # or: dmesg -T | {grep}"),
    }
}

/// The terminated states of a container (current, then last), with which one it is.
pub fn terminated_states(c: &Container) -> impl Iterator<Item = (&'static str, &ContainerState)> {
    [
        ("state", c.state.as_ref()),
        ("last state", c.last_state.as_ref()),
    ]
    .into_iter()
    .filter_map(|(w, s)| s.filter(|s| s.is_terminated()).map(|s| (w, s)))
}

/// RFC 3339 UTC of a state's finish time, when stated.
pub fn finished_utc(s: &ContainerState) -> Option<String> {
    let t = s.finished.as_ref()?.value.parsed?;
    Some(rfc3339(&t.with_timezone(&chrono::Utc)))
}

/// Set status and note from what was found: fired when there are findings, healthy when
/// something was looked at, not-applicable otherwise.
pub fn settle(
    report: &mut super::CheckReport,
    looked: usize,
    fired: String,
    healthy: String,
    absent: &str,
) {
    use super::CheckStatus;
    if !report.findings.is_empty() {
        report.status = CheckStatus::Fired;
        report.note = fired;
    } else if looked > 0 {
        report.status = CheckStatus::Healthy;
        report.note = healthy;
    } else {
        report.status = CheckStatus::NotApplicable;
        report.note = absent.to_string();
    }
}

/// Sum of event counts, saturating (counts come from the input).
pub fn total(counts: impl Iterator<Item = u64>) -> u64 {
    counts.fold(0, u64::saturating_add)
}

/// `part` as a whole percentage of `whole` (0 when `whole` is 0), without overflow.
pub fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    u64::try_from(u128::from(part) * 100 / u128::from(whole)).unwrap_or(u64::MAX)
}
