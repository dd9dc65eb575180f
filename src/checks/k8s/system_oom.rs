//! `k8s.system-oom`: `SystemOOM` node events: the kubelet saw the kernel OOM killer act on the
//! node (`System OOM encountered, victim process: node, pid: 48213`).

use super::{finding, int, nodes, settle, text, Collector};
use crate::checks::{CheckContext, CheckReport, CheckedFact};
use crate::model::{FieldValue, Fix, Severity};

pub const ID: &str = "k8s.system-oom";
pub const TITLE: &str = "Kernel OOM killer ran on the node (SystemOOM)";

/// `System OOM encountered, victim process: node, pid: 48213`
fn victim(message: &str) -> (Option<String>, Option<i64>) {
    let process = message
        .split("victim process: ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let pid = message
        .split("pid: ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok());
    (process, pid)
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for node in nodes(ctx) {
        looked += 1;
        let events: Vec<_> = node
            .events
            .iter()
            .filter(|e| e.reason == "SystemOOM")
            .collect();
        report.facts.push(CheckedFact {
            name: format!("node {} SystemOOM events", node.name.value),
            value: super::total(events.iter().map(|e| e.age.count)).to_string(),
            path: Some(ctx.path(node.source)),
            line: events.first().map(|e| e.line),
        });
        if events.is_empty() {
            continue;
        }
        let count = super::total(events.iter().map(|e| e.age.count));
        let mut fields = crate::model::Fields::new();
        fields.insert("node".into(), text(&node.name.value));
        fields.insert("count".into(), int(count));
        let mut ev: Vec<_> = events
            .iter()
            .map(|e| ctx.evidence(node.source, e.line, &e.text))
            .collect();
        let (process, pid) = events.first().map_or((None, None), |e| victim(&e.message));
        if let Some(p) = &process {
            fields.insert("victim".into(), text(p));
        }
        if let Some(p) = pid {
            fields.insert("pid".into(), int(p));
        }
        let mut summary = format!(
            "The kubelet on {} recorded {count} SystemOOM event(s){}: the kernel OOM killer ran on the node.",
            node.name.value,
            match (&process, pid) {
                (Some(p), Some(pid)) => format!(" (victim {p}, pid {pid})"),
                (Some(p), None) => format!(" (victim {p})"),
                _ => String::new(),
            }
        );
        // The kernel's own record of the same kill, when the bundle has the node's kernel log.
        let kernel = ["mem.oom-kill-memcg", "mem.oom-kill-global"]
            .into_iter()
            .flat_map(|s| ctx.log_findings_of(s))
            .find(|f| pid.is_some_and(|p| f.fields.get("pid") == Some(&FieldValue::Int(p))));
        if let Some(k) = kernel {
            if let Some(e) = k.evidence.first() {
                summary.push_str(&format!(
                    " The kernel log has the kill ({}:{}, {}).",
                    e.path, e.line, k.signature
                ));
                ev.push(e.clone());
            }
        } else {
            report.missing.push(crate::checks::Missing {
                check: ID.into(),
                what: format!("the kernel log of node {}", node.name.value),
                why: "it says whether the kill was inside a container's memory cgroup (its limit) or host-wide (the node ran out)".into(),
                command: "journalctl -k | grep -i -e 'invoked oom-killer' -e 'oom-kill:' -e 'killed process'   # or: dmesg -T | grep -i oom".into(),
            });
        }
        let fixes = vec![Fix {
            title: "Tell a container limit from node exhaustion".into(),
            text: "A kill with `constraint=CONSTRAINT_MEMCG` hit a container's own limit (fix that container: k8s.oomkilled); \
                   `CONSTRAINT_NONE` means the node ran out: lower pods' memory overcommit (requests close to usage), \
                   and reserve memory for the system with kubelet `--system-reserved`/`--kube-reserved` and a \
                   `--eviction-hard=memory.available` high enough for the kubelet to evict before the kernel kills."
                .into(),
        }];
        out.add(
            node.name.value.clone(),
            finding(ID, Severity::Critical, TITLE, summary, fields, ev, fixes),
        );
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("SystemOOM on {n} node(s)"),
        format!("{looked} node(s) checked: no SystemOOM events"),
        "no node descriptions in the bundle",
    );
    report
}

#[cfg(test)]
mod tests {
    #[test]
    fn victim_from_message() {
        assert_eq!(
            super::victim("System OOM encountered, victim process: node, pid: 48213"),
            (Some("node".into()), Some(48213))
        );
        assert_eq!(super::victim("System OOM encountered"), (None, None));
    }
}
