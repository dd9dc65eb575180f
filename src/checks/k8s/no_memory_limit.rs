//! `k8s.no-memory-limit`: a container without a memory limit of its own, typically a sidecar
//! next to a limited application container. It can grow until the node runs out, and the
//! kill then lands on whichever process the kernel picks.

use super::{
    container_fields, container_label, evidence, fact, finding, int, pods, settle, text, Collector,
};
use crate::checks::{CheckContext, CheckReport};
use crate::ingest::k8s::human_bytes;
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.no-memory-limit";
pub const TITLE: &str = "Container without a memory limit";

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        let limited: Vec<&str> = pod
            .containers
            .iter()
            .filter(|c| c.limits.memory_bytes.is_some())
            .map(|c| c.name.value.as_str())
            .collect();
        for c in &pod.containers {
            looked += 1;
            let label = container_label(pod, c);
            if let Some(l) = &c.limits.memory_bytes {
                report.facts.push(fact(
                    ctx,
                    pod.source,
                    format!("{label} memory limit"),
                    human_bytes(l.value),
                    l,
                ));
                continue;
            }
            let mut fields = container_fields(pod, c);
            if let Some(q) = &pod.qos_class {
                fields.insert("qos_class".into(), text(&q.value));
            }
            let mut ev = vec![evidence(ctx, pod.source, &c.name)];
            let request = c.requests.memory_bytes.as_ref();
            if let Some(r) = request {
                fields.insert("request_bytes".into(), int(r.value));
                ev.push(evidence(ctx, pod.source, r));
            }
            let mut summary = format!("{label} has no memory limit");
            if !limited.is_empty() {
                summary.push_str(&format!(
                    " while {} in the same pod {} one: a sidecar that can grow until the node runs out",
                    limited.join(", "),
                    if limited.len() == 1 { "has" } else { "have" }
                ));
            }
            summary.push('.');
            let sizing = match request {
                Some(r) => format!(
                    "It requests {}; set the limit from its observed peak (`kubectl top pod {} -n {} --containers`), \
                     at least the request:\nresources:\n  limits:\n    memory: {}",
                    human_bytes(r.value),
                    pod.name.value,
                    pod.namespace_str(),
                    human_bytes(r.value)
                ),
                None => format!(
                    "Measure its peak (`kubectl top pod {} -n {} --containers`) and set both:\nresources:\n  requests:\n    memory: <peak>\n  limits:\n    memory: <peak × 1.25>",
                    pod.name.value,
                    pod.namespace_str()
                ),
            };
            let fixes = vec![Fix {
                title: format!("Give {} a memory limit", c.name.value),
                text: sizing,
            }];
            let key = format!(
                "{}/{}/{}",
                pod.namespace_str(),
                pod.name.value,
                c.name.value
            );
            out.add(
                key,
                finding(ID, Severity::Warning, TITLE, summary, fields, ev, fixes),
            );
        }
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} container(s) without a memory limit"),
        format!("{looked} container(s) checked: all have a memory limit"),
        "no container specs in the bundle",
    );
    report
}
