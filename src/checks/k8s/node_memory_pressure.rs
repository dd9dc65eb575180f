//! `k8s.node-memory-pressure`: a node whose `MemoryPressure` condition is `True`, or whose
//! events say it had insufficient memory (`NodeHasInsufficientMemory`) even if it recovered.

use super::{finding, int, nodes, settle, text, Collector};
use crate::checks::{CheckContext, CheckReport, CheckedFact};
use crate::ingest::k8s::{human_bytes, Node};
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.node-memory-pressure";
pub const TITLE: &str = "Node under memory pressure";

/// Memory held back from pods (capacity − allocatable) below this share of the node leaves
/// the kubelet, runtime and kernel little room: the usual guidance reserves 5–10 %.
const MIN_RESERVED_PERCENT: u64 = 5;

fn reserved(node: &Node) -> Option<(u64, u64)> {
    let cap = node.capacity.memory_bytes.as_ref()?.value;
    let alloc = node.allocatable.memory_bytes.as_ref()?.value;
    Some((cap, cap.saturating_sub(alloc)))
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for node in nodes(ctx) {
        let pressure = node.conditions.iter().find(|c| c.kind == "MemoryPressure");
        if let Some(c) = pressure {
            looked += 1;
            report.facts.push(CheckedFact {
                name: format!("node {} MemoryPressure", node.name.value),
                value: format!("{} {}", c.status, c.reason).trim().to_string(),
                path: Some(ctx.path(node.source)),
                line: Some(c.line),
            });
        }
        let insufficient: Vec<_> = node
            .events
            .iter()
            .filter(|e| e.reason == "NodeHasInsufficientMemory")
            .collect();
        let active = pressure.filter(|c| c.status == "True");
        if active.is_none() && insufficient.is_empty() {
            continue;
        }
        let mut fields = crate::model::Fields::new();
        fields.insert("node".into(), text(&node.name.value));
        let mut ev = Vec::new();
        let mut summary;
        let severity;
        if let Some(c) = active {
            ev.push(ctx.evidence(node.source, c.line, &c.text));
            fields.insert("reason".into(), text(&c.reason));
            let since = c.last_transition.as_ref().map(|t| t.text.clone());
            if let Some(s) = &since {
                fields.insert("since".into(), text(s));
            }
            summary = format!(
                "Node {} reports MemoryPressure True ({}{}): the kubelet is evicting pods and refuses new BestEffort ones.",
                node.name.value,
                c.reason,
                since.map_or(String::new(), |s| format!(", since {s}"))
            );
            severity = Severity::Critical;
        } else {
            summary = format!(
                "Node {} reported insufficient memory earlier (events) and has since recovered.",
                node.name.value
            );
            severity = Severity::Warning;
        }
        let count = super::total(insufficient.iter().map(|e| e.age.count));
        if count > 0 {
            fields.insert("insufficient_memory_events".into(), int(count));
            summary.push_str(&format!(" NodeHasInsufficientMemory seen {count} time(s)."));
        }
        for e in &insufficient {
            ev.push(ctx.evidence(node.source, e.line, &e.text));
        }
        let mut fix = "Find what fills the node: `kubectl top pod -A --sort-by=memory` and the pods' limits vs requests \
                       (memory requests below real usage let the scheduler overcommit the node). Set requests to observed \
                       usage so pods spread over nodes."
            .to_string();
        if let Some((cap, res)) = reserved(node) {
            let pct = super::percent(res, cap);
            fields.insert("capacity_bytes".into(), int(cap));
            fields.insert("reserved_bytes".into(), int(res));
            fix.push_str(&format!(
                "\nCapacity {} minus allocatable leaves {} ({pct}%) for the system and the eviction threshold.",
                human_bytes(cap),
                human_bytes(res)
            ));
            if pct < MIN_RESERVED_PERCENT {
                let want = cap / 100 * MIN_RESERVED_PERCENT;
                fix.push_str(&format!(
                    " That is under {MIN_RESERVED_PERCENT}%: reserve about {} with kubelet `--system-reserved=memory=...` / \
                     `--kube-reserved=memory=...` so pods cannot take the node's own memory.",
                    human_bytes(want - want % (1024 * 1024))
                ));
            }
        }
        let fixes = vec![Fix {
            title: "Relieve the node and stop overcommitting it".into(),
            text: fix,
        }];
        out.add(
            node.name.value.clone(),
            finding(ID, severity, TITLE, summary, fields, ev, fixes),
        );
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} node(s) under memory pressure"),
        format!("{looked} node(s) checked: MemoryPressure False"),
        "no node descriptions in the bundle",
    );
    report
}
