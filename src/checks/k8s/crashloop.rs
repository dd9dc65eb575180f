//! `k8s.crashloop`: a container waiting in `CrashLoopBackOff`, or `BackOff` events
//! (`Back-off restarting failed container`), with its restart count and how often the kubelet
//! backed off.

use super::{
    container_fields, container_label, evidence, fact, finding, int, pods, settle, text, Collector,
};
use crate::checks::{CheckContext, CheckReport};
use crate::ingest::k8s::{Container, Event, Pod};
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.crashloop";
pub const TITLE: &str = "Container in a crash loop (CrashLoopBackOff)";

/// A run shorter than this before the exit means the process dies at startup (config,
/// missing dependency), not under load: the kubelet's back-off starts at 10 s.
const STARTUP_CRASH_SECS: i64 = 60;

fn is_restart_backoff(e: &Event) -> bool {
    e.reason == "BackOff" && e.message.contains("restarting failed")
}

/// Which container an event is about: `failed container api`, `spec.containers{api}`, or the
/// pod's only container.
fn event_container<'a>(e: &Event, pod: &'a Pod) -> Option<&'a Container> {
    let by_name = |n: &str| pod.all_containers().find(|c| c.name.value == n);
    if let Some(rest) = e.message.split("failed container ").nth(1) {
        let name = rest.split([' ', '=']).next().unwrap_or("");
        if let Some(c) = by_name(name) {
            return Some(c);
        }
    }
    if let Some(n) = e
        .sub_object
        .strip_prefix("spec.containers{")
        .and_then(|s| s.strip_suffix('}'))
    {
        return by_name(n);
    }
    if pod.containers.len() == 1 {
        return pod.containers.first();
    }
    None
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        for c in pod.all_containers() {
            looked += 1;
            if let Some(n) = &c.restart_count {
                report.facts.push(fact(
                    ctx,
                    pod.source,
                    format!("{} restart count", container_label(pod, c)),
                    n.value.to_string(),
                    n,
                ));
            }
            let waiting = c
                .state
                .as_ref()
                .filter(|s| s.state == "Waiting" && s.reason_is("CrashLoopBackOff"));
            let backoffs: Vec<&Event> = pod
                .events
                .iter()
                .filter(|e| is_restart_backoff(e))
                .filter(|e| event_container(e, pod).is_some_and(|x| std::ptr::eq(x, c)))
                .collect();
            if waiting.is_none() && backoffs.is_empty() {
                continue;
            }
            let label = container_label(pod, c);
            let mut fields = container_fields(pod, c);
            let backoff_count = super::total(backoffs.iter().map(|e| e.age.count));
            fields.insert("backoff_events".into(), int(backoff_count));
            let mut ev = Vec::new();
            if let Some(w) = waiting {
                ev.push(ctx.evidence(pod.source, w.line, &w.text));
                if let Some(r) = &w.reason {
                    ev.push(evidence(ctx, pod.source, r));
                }
            }
            if let Some(r) = &c.restart_count {
                ev.push(evidence(ctx, pod.source, r));
            }
            for e in &backoffs {
                ev.push(ctx.evidence(pod.source, e.line, &e.text));
            }
            let mut summary = format!(
                "{label} is {}",
                if waiting.is_some() {
                    "waiting in CrashLoopBackOff"
                } else {
                    "being restarted with back-off"
                }
            );
            if let Some(n) = &c.restart_count {
                summary.push_str(&format!(" after {} restart(s)", n.value));
            }
            if backoff_count > 0 {
                let window = backoffs
                    .iter()
                    .filter_map(|e| e.age.first_seen_secs.map(|_| e.age.text.clone()))
                    .next()
                    .unwrap_or_else(|| {
                        backoffs
                            .first()
                            .map_or(String::new(), |e| e.age.text.clone())
                    });
                summary.push_str(&format!(
                    "; the kubelet backed off {backoff_count} time(s) ({window})"
                ));
            }
            summary.push('.');
            let mut fixes = Vec::new();
            if let Some(last) = c.last_state.as_ref().filter(|s| s.is_terminated()) {
                let reason = last.reason.as_ref().map_or("", |r| r.value.as_str());
                if let Some(e) = &last.exit_code {
                    fields.insert("last_exit_code".into(), int(e.value));
                    ev.push(evidence(ctx, pod.source, e));
                }
                if !reason.is_empty() {
                    fields.insert("last_reason".into(), text(reason));
                }
                let ran = match (
                    last.started.as_ref().and_then(|s| s.value.parsed),
                    last.finished.as_ref().and_then(|f| f.value.parsed),
                ) {
                    (Some(a), Some(b)) => Some((b - a).num_seconds()),
                    _ => None,
                };
                if let Some(secs) = ran {
                    fields.insert("last_run_secs".into(), int(secs));
                }
                summary.push_str(&format!(
                    " Last exit: reason {}, exit code {}{}.",
                    if reason.is_empty() {
                        "not stated"
                    } else {
                        reason
                    },
                    last.exit_code
                        .as_ref()
                        .map_or("not stated".to_string(), |e| e.value.to_string()),
                    ran.map_or(String::new(), |s| format!(", after running {s} s")),
                ));
                if reason == "OOMKilled" {
                    summary.push_str(
                        " It is crashing because it runs out of memory (see k8s.oomkilled).",
                    );
                } else if ran.is_some_and(|s| s < STARTUP_CRASH_SECS) {
                    summary.push_str(" It dies during startup: configuration, a missing dependency or a failing migration, not load.");
                }
            }
            fixes.push(Fix {
                title: "Read why the previous run exited".into(),
                text: format!(
                    "kubectl logs {} -n {} -c {} --previous\n\
                     The exit code says who ended it: 1/2 the application itself, 137 SIGKILL (OOM or the kubelet), 143 SIGTERM.",
                    pod.name.value,
                    pod.namespace_str(),
                    c.name.value
                ),
            });
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
        // `kubectl get pods` rows.
        if pod.containers.is_empty() {
            if let Some(st) = pod
                .status
                .as_ref()
                .filter(|s| s.value == "CrashLoopBackOff")
            {
                looked += 1;
                let key = format!("{}/{}/", pod.namespace_str(), pod.name.value);
                let mut fields = crate::model::Fields::new();
                fields.insert("pod".into(), text(&pod.name.value));
                fields.insert("namespace".into(), text(pod.namespace_str()));
                if let Some(r) = &pod.restarts {
                    fields.insert("restart_count".into(), int(r.value));
                }
                let summary = format!(
                    "Pod {} is in CrashLoopBackOff{}{}.",
                    pod.display(),
                    pod.restarts
                        .as_ref()
                        .map_or(String::new(), |r| format!(" after {} restart(s)", r.value)),
                    pod.last_restart_ago
                        .as_ref()
                        .map_or(String::new(), |a| format!(
                            ", the last {a} before the listing"
                        )),
                );
                let fixes = vec![Fix {
                    title: "Read why the previous run exited".into(),
                    text: format!(
                        "kubectl describe pod {0} -n {1}; kubectl logs {0} -n {1} --all-containers --previous",
                        pod.name.value,
                        pod.namespace_str()
                    ),
                }];
                let already = out.findings.iter().any(|f| {
                    f.fields.get("pod").map(|v| v.to_string()) == Some(pod.name.value.clone())
                        && f.fields.get("namespace").map(|v| v.to_string())
                            == Some(pod.namespace_str().to_string())
                });
                if !already {
                    out.add(
                        key,
                        finding(
                            ID,
                            Severity::Warning,
                            TITLE,
                            summary,
                            fields,
                            vec![evidence(ctx, pod.source, st)],
                            fixes,
                        ),
                    );
                }
            }
        }
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} container(s) or pod(s) crash-looping"),
        format!("{looked} container(s) checked: no CrashLoopBackOff, no restart back-off events"),
        "no pods in the bundle",
    );
    report
}
