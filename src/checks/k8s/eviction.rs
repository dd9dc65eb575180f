//! `k8s.eviction`: pods the kubelet evicted (`Status: Failed`, `Reason: Evicted`, STATUS
//! `Evicted`, `Evicted` events) and nodes that crossed an eviction threshold
//! (`EvictionThresholdMet`).

use super::{evidence, fact, finding, int, nodes, pods, settle, text, Collector};
use crate::checks::{CheckContext, CheckReport};
use crate::ingest::k8s::{human_bytes, quantity_bytes, MIB};
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.eviction";
pub const TITLE: &str = "Pods evicted by the kubelet under node pressure";

/// Suggested requests are rounded up to this step: requests are capacity planning, not
/// measurements, and a round number survives the next small growth.
const REQUEST_STEP_BYTES: u64 = 64 * MIB;

/// From `Container report was using 1157468Ki, request is 256Mi, …`: (container, usage, request).
fn usage_in(message: &str) -> Option<(String, u64, Option<u64>)> {
    let rest = message.split("Container ").nth(1)?;
    let (name, rest) = rest.split_once(" was using ")?;
    let usage_text = rest.split([',', ' ']).next()?;
    let usage = quantity_bytes(usage_text)?;
    let request = rest
        .split("request is ")
        .nth(1)
        .and_then(|r| r.split([',', ' ']).next())
        .and_then(quantity_bytes);
    Some((name.to_string(), usage, request))
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        looked += 1;
        if let Some(st) = &pod.status {
            let reason = pod.reason.as_ref().map_or("", |r| r.value.as_str());
            report.facts.push(fact(
                ctx,
                pod.source,
                format!("pod {} status", pod.display()),
                format!("{} {reason}", st.value).trim().to_string(),
                st,
            ));
        }
        let reason = pod.reason.as_ref().filter(|r| r.value == "Evicted");
        let table = pod.status.as_ref().filter(|s| s.value == "Evicted");
        let events: Vec<_> = pod
            .events
            .iter()
            .filter(|e| e.reason == "Evicted")
            .collect();
        if reason.is_none() && table.is_none() && events.is_empty() {
            continue;
        }
        let mut fields = crate::model::Fields::new();
        fields.insert("pod".into(), text(&pod.name.value));
        fields.insert("namespace".into(), text(pod.namespace_str()));
        if let Some(n) = &pod.node {
            fields.insert("node".into(), text(&n.value));
        }
        let mut ev = Vec::new();
        for at in [reason, table].into_iter().flatten() {
            ev.push(evidence(ctx, pod.source, at));
        }
        let message = pod
            .message
            .as_ref()
            .map(|m| {
                ev.push(evidence(ctx, pod.source, m));
                m.value.clone()
            })
            .or_else(|| events.first().map(|e| e.message.clone()))
            .unwrap_or_default();
        for e in &events {
            ev.push(ctx.evidence(pod.source, e.line, &e.text));
        }
        let mut summary = format!(
            "Pod {} was evicted by the kubelet{}",
            pod.display(),
            pod.node
                .as_ref()
                .map_or(String::new(), |n| format!(" on {}", n.value))
        );
        if !message.is_empty() {
            summary.push_str(&format!(": {}", message.trim()));
        }
        summary.push('.');
        let mut fixes = Vec::new();
        if let Some((container, usage, request)) = usage_in(&message) {
            fields.insert("container".into(), text(&container));
            fields.insert("usage_bytes".into(), int(usage));
            if let Some(r) = request {
                fields.insert("request_bytes".into(), int(r));
            }
            let suggested = usage
                .div_ceil(REQUEST_STEP_BYTES)
                .saturating_mul(REQUEST_STEP_BYTES);
            fixes.push(Fix {
                title: "Request what the container uses".into(),
                text: format!(
                    "Under memory pressure the kubelet evicts first the pods using most above their request. {container} used {} \
                     against a request of {}: request at least its usage, e.g.\n\
                     resources:\n  requests:\n    memory: {}\n",
                    human_bytes(usage),
                    request.map_or("none".to_string(), human_bytes),
                    human_bytes(suggested)
                ),
            });
        }
        fixes.push(Fix {
            title: "Clean up and find the pressure".into(),
            text: format!(
                "Evicted pods stay as Failed objects: `kubectl delete pod {} -n {}` after reading them. See \
                 k8s.node-memory-pressure for what filled the node.",
                pod.name.value,
                pod.namespace_str()
            ),
        });
        out.add(
            format!("pod/{}/{}", pod.namespace_str(), pod.name.value),
            finding(ID, Severity::Warning, TITLE, summary, fields, ev, fixes),
        );
    }
    for node in nodes(ctx) {
        looked += 1;
        let events: Vec<_> = node
            .events
            .iter()
            .filter(|e| e.reason == "EvictionThresholdMet")
            .collect();
        if events.is_empty() {
            continue;
        }
        let count = super::total(events.iter().map(|e| e.age.count));
        let mut fields = crate::model::Fields::new();
        fields.insert("node".into(), text(&node.name.value));
        fields.insert("count".into(), int(count));
        let ev = events
            .iter()
            .map(|e| ctx.evidence(node.source, e.line, &e.text))
            .collect();
        let summary = format!(
            "Node {} crossed an eviction threshold {count} time(s) ({}): the kubelet reclaimed memory by evicting pods.",
            node.name.value,
            events.first().map_or(String::new(), |e| format!("{}, {}", e.age.text, e.message))
        );
        let fixes = vec![Fix {
            title: "Keep pods inside what the node can hold".into(),
            text: "Sum of the pods' real usage exceeded allocatable memory minus the eviction threshold: raise memory \
                   requests to real usage so the scheduler stops overcommitting the node, or add nodes."
                .into(),
        }];
        out.add(
            format!("node/{}", node.name.value),
            finding(ID, Severity::Warning, TITLE, summary, fields, ev, fixes),
        );
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} eviction finding(s)"),
        format!("{looked} pod(s) and node(s) checked: no evictions"),
        "no pods or nodes in the bundle",
    );
    report
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_from_eviction_message() {
        let m = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91260Ki. \
                 Container report was using 1157468Ki, request is 256Mi, has larger consumption of memory.";
        assert_eq!(
            super::usage_in(m),
            Some(("report".into(), 1_185_247_232, Some(268_435_456)))
        );
        assert_eq!(super::usage_in("nothing"), None);
    }
}
