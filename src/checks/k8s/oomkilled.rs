//! `k8s.oomkilled`: a container whose State or Last State is `OOMKilled` (any exit code), or a
//! `kubectl get pods` row whose STATUS is `OOMKilled`.

use super::{
    container_fields, container_label, evidence, fact, finding, finished_utc, int, kernel_oom_for,
    missing_kernel_log, pods, settle, state_evidence, terminated_states, text, Collector,
};
use crate::checks::{CheckContext, CheckReport, CheckedFact};
use crate::ingest::k8s::human_bytes;
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.oomkilled";
pub const TITLE: &str = "Container OOM-killed at its memory limit";

/// Suggested new limit when the workload genuinely needs more: one and a half times the old
/// one, a step big enough to matter and small enough not to hide a leak.
const LIMIT_RAISE_NUM: u64 = 3;
const LIMIT_RAISE_DEN: u64 = 2;

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        for c in pod.all_containers() {
            looked += 1;
            let label = container_label(pod, c);
            let oom = terminated_states(c).find(|(_, s)| s.reason_is("OOMKilled"));
            let Some((which, s)) = oom else {
                // Healthy: list the current state, so a reader sees what was ruled out.
                if let Some(s) = &c.state {
                    let reason = s.reason.as_ref().map_or("", |r| r.value.as_str());
                    report.facts.push(CheckedFact {
                        name: format!("{label} state"),
                        value: format!("{} {reason}", s.state).trim().to_string(),
                        path: Some(ctx.path(pod.source)),
                        line: (s.line > 0).then_some(s.line),
                    });
                }
                continue;
            };
            if let Some(r) = &s.reason {
                report.facts.push(fact(
                    ctx,
                    pod.source,
                    format!("{label} {which}"),
                    format!("{} OOMKilled", s.state),
                    r,
                ));
            }
            let mut fields = container_fields(pod, c);
            if let Some(e) = &s.exit_code {
                fields.insert("exit_code".into(), int(e.value));
            }
            if let Some(f) = &s.finished {
                fields.insert("finished".into(), text(&f.value.text));
            }
            let mut ev = state_evidence(ctx, pod.source, s);
            if let Some(id) = &c.container_id {
                ev.push(evidence(ctx, pod.source, id));
            }
            if let Some(l) = &c.limits.memory_bytes {
                ev.push(evidence(ctx, pod.source, l));
            }
            if let Some(r) = &c.restart_count {
                ev.push(evidence(ctx, pod.source, r));
            }
            let limit = c.limits.memory_bytes.as_ref().map(|l| l.value);
            let kernel = kernel_oom_for(ctx, pod, c);
            let mut summary = format!(
                "{label} was OOM-killed ({which}: reason OOMKilled{}{}){}.",
                s.exit_code
                    .as_ref()
                    .map_or(String::new(), |e| format!(", exit code {}", e.value)),
                s.finished
                    .as_ref()
                    .map_or(String::new(), |f| format!(", finished {}", f.value.text)),
                limit.map_or(
                    " with no memory limit of its own (the node ran out)".to_string(),
                    |l| { format!(" at its memory limit of {} ({l} bytes)", human_bytes(l)) }
                ),
            );
            if let Some(n) = c.restart_count.as_ref().filter(|n| n.value > 0) {
                summary.push_str(&format!(" It has restarted {} time(s).", n.value));
            }
            match kernel {
                Some(k) => {
                    if let Some(e) = k.evidence.first() {
                        summary.push_str(&format!(
                            " The kernel log confirms it ({}:{}).",
                            e.path, e.line
                        ));
                    }
                }
                None => report.missing.push(missing_kernel_log(ID, pod, c, s)),
            }
            let mut fixes = Vec::new();
            if let Some(l) = limit {
                let raised = (l / LIMIT_RAISE_DEN).saturating_mul(LIMIT_RAISE_NUM);
                fixes.push(Fix {
                    title: "Decide whether the limit or the workload is wrong".into(),
                    text: format!(
                        "If the working set legitimately exceeds {} (check `memory.stat` of the container's cgroup or \
                         `kubectl top pod {} -n {} --containers` under load), raise the limit, e.g. to {}:\n\
                         resources:\n  limits:\n    memory: {}\n\
                         If usage grows without bound, a raise only delays the next kill: find the leak (heap snapshot, \
                         allocation profile). For managed runtimes, cap the heap below the limit (see k8s.runtime-heap-vs-limit).",
                        human_bytes(l),
                        pod.name.value,
                        pod.namespace_str(),
                        human_bytes(raised),
                        human_bytes(raised),
                    ),
                });
            } else {
                fixes.push(Fix {
                    title: "Give the container a memory limit".into(),
                    text: "Without a limit of its own the container was killed by the node's OOM killer or eviction; \
                           set `resources.limits.memory` from its observed peak so the failure stays inside the pod."
                        .into(),
                });
            }
            let key = format!(
                "{}/{}/{}",
                pod.namespace_str(),
                pod.name.value,
                c.name.value
            );
            let mut f = finding(ID, Severity::Critical, TITLE, summary, fields, ev, fixes);
            f.first = finished_utc(s);
            f.last = f.first.clone();
            out.add(key, f);
        }
        // A `kubectl get pods` row: only the pod is known.
        if let Some(st) = pod.status.as_ref().filter(|s| s.value == "OOMKilled") {
            if pod.containers.is_empty() {
                looked += 1;
                let key = format!("{}/{}/", pod.namespace_str(), pod.name.value);
                if out.findings.iter().any(|f| {
                    f.fields.get("pod").map(|v| v.to_string()) == Some(pod.name.value.clone())
                }) {
                    continue;
                }
                let mut fields = crate::model::Fields::new();
                fields.insert("pod".into(), text(&pod.name.value));
                fields.insert("namespace".into(), text(pod.namespace_str()));
                if let Some(r) = &pod.restarts {
                    fields.insert("restart_count".into(), int(r.value));
                }
                let summary = format!(
                    "Pod {} shows STATUS OOMKilled{}: a container was OOM-killed; `kubectl describe pod` names which one and its limit.",
                    pod.display(),
                    pod.restarts.as_ref().map_or(String::new(), |r| format!(" after {} restart(s)", r.value)),
                );
                let fixes = vec![Fix {
                    title: "Collect the pod's container states".into(),
                    text: format!(
                        "kubectl describe pod {} -n {}   # Last State, Exit Code, Limits per container",
                        pod.name.value,
                        pod.namespace_str()
                    ),
                }];
                let ev = vec![evidence(ctx, pod.source, st)];
                out.add(
                    key,
                    finding(ID, Severity::Critical, TITLE, summary, fields, ev, fixes),
                );
            }
        }
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} of {looked} container(s) OOM-killed"),
        format!("{looked} container(s) checked: none OOM-killed"),
        "no pods in the bundle",
    );
    report
}
