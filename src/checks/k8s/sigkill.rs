//! `k8s.sigkill-137`: a container that exited with code 137 (128 + SIGKILL) whose reason is not
//! `OOMKilled`. A SIGKILL is not proof of an OOM kill: the kubelet kills containers that fail
//! their liveness probe or outlive their termination grace period the same way.

use super::{
    container_fields, container_label, evidence, fact, finding, finished_utc, int, kernel_oom_for,
    missing_kernel_log, pods, settle, state_evidence, terminated_states, text, Collector,
};
use crate::checks::{CheckContext, CheckReport};
use crate::model::{Fix, Severity};

pub const ID: &str = "k8s.sigkill-137";
pub const TITLE: &str = "Container killed by SIGKILL (exit 137), not reported as OOMKilled";

/// 128 + 9: how a shell and the container runtimes report death by SIGKILL.
pub const SIGKILL_EXIT_CODE: i64 = 137;

/// A reason the kubelet invents when it lost track of a container (eviction, node restart):
/// its 137 is synthetic, not a kill.
const SYNTHETIC_REASONS: &[&str] = &["OOMKilled", "ContainerStatusUnknown"];

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut report = CheckReport::new(ID, TITLE);
    let mut out = Collector::default();
    let mut looked = 0;
    for pod in pods(ctx) {
        for c in pod.all_containers() {
            looked += 1;
            for (which, s) in terminated_states(c) {
                if let Some(e) = &s.exit_code {
                    let reason = s.reason.as_ref().map_or("", |r| r.value.as_str());
                    report.facts.push(fact(
                        ctx,
                        pod.source,
                        format!("{} {which} exit code", container_label(pod, c)),
                        format!("{} {reason}", e.value).trim().to_string(),
                        e,
                    ));
                }
                let Some(code) = s
                    .exit_code
                    .as_ref()
                    .filter(|e| e.value == SIGKILL_EXIT_CODE)
                else {
                    continue;
                };
                let reason = s.reason.as_ref().map_or("", |r| r.value.as_str());
                if SYNTHETIC_REASONS.contains(&reason) {
                    continue;
                }
                let label = container_label(pod, c);
                let mut fields = container_fields(pod, c);
                fields.insert("exit_code".into(), int(code.value));
                fields.insert("reason".into(), text(reason));
                if let Some(f) = &s.finished {
                    fields.insert("finished".into(), text(&f.value.text));
                }
                let mut ev = state_evidence(ctx, pod.source, s);
                if let Some(id) = &c.container_id {
                    ev.push(evidence(ctx, pod.source, id));
                }
                // Liveness kills show as `Unhealthy` + `Killing` events of the pod.
                let probe_events: Vec<_> = pod
                    .events
                    .iter()
                    .filter(|e| {
                        (e.reason == "Unhealthy" && e.message.contains("Liveness"))
                            || (e.reason == "Killing" && e.message.contains("liveness"))
                    })
                    .collect();
                for e in &probe_events {
                    ev.push(ctx.evidence(pod.source, e.line, &e.text));
                }
                let kernel = kernel_oom_for(ctx, pod, c);
                let mut summary = format!(
                    "{label} exited with code 137 ({which}, reason {}): 137 = 128 + 9, it was killed by SIGKILL. \
                     A SIGKILL is not proof of an OOM kill: the runtime did not report OOMKilled.",
                    if reason.is_empty() { "not stated" } else { reason }
                );
                let severity = match kernel {
                    Some(k) => {
                        let at = k
                            .evidence
                            .first()
                            .map_or(String::new(), |e| format!(" ({}:{})", e.path, e.line));
                        summary.push_str(&format!(
                            " But the kernel log shows an OOM kill in this container{at}: a process inside it \
                             was OOM-killed, which the runtime reports as Error when it was not the main process."
                        ));
                        Severity::Critical
                    }
                    None => {
                        report.missing.push(missing_kernel_log(ID, pod, c, s));
                        Severity::Warning
                    }
                };
                if !probe_events.is_empty() {
                    let failures = super::total(
                        probe_events
                            .iter()
                            .filter(|e| e.reason == "Unhealthy")
                            .map(|e| e.age.count),
                    );
                    summary.push_str(&format!(
                        " The pod's events show {failures} failed liveness probe(s) and a kill by the kubelet: \
                         the likeliest sender of this SIGKILL."
                    ));
                    fields.insert("liveness_failures".into(), int(failures));
                }
                let short = c
                    .bare_id()
                    .map(|id| id.get(..12).unwrap_or(id))
                    .unwrap_or("<container id>");
                let fixes = vec![
                    Fix {
                        title: "Rule an OOM kill in or out".into(),
                        text: format!(
                            "On the node, look for an oom-kill whose memcg path holds this container's id: \
                             `journalctl -k | grep -i -e oom-kill -e 'killed process' | grep {short}` (or `dmesg -T`). \
                             With cgroup v2 a child process OOM-killed inside the container is reported as Error, not OOMKilled."
                        ),
                    },
                    Fix {
                        title: "Check liveness probe kills".into(),
                        text: format!(
                            "`kubectl get events -n {} --field-selector involvedObject.name={}` for `Unhealthy` / `Killing`: \
                             a probe that times out under load gets the container SIGKILLed after the grace period. \
                             Raise `timeoutSeconds`/`failureThreshold` or make the probe endpoint cheap.",
                            pod.namespace_str(),
                            pod.name.value
                        ),
                    },
                    Fix {
                        title: "Check shutdown handling".into(),
                        text: "A container that ignores SIGTERM is SIGKILLed when `terminationGracePeriodSeconds` (default 30 s) \
                               runs out: handle SIGTERM (exec form ENTRYPOINT so the app is PID 1, or an init such as tini), \
                               and keep any `preStop` hook shorter than the grace period."
                            .into(),
                    },
                ];
                let key = format!(
                    "{}/{}/{}/{which}",
                    pod.namespace_str(),
                    pod.name.value,
                    c.name.value
                );
                let mut f = finding(ID, severity, TITLE, summary, fields, ev, fixes);
                f.first = finished_utc(s);
                f.last = f.first.clone();
                out.add(key, f);
            }
        }
    }
    report.findings = out.findings;
    let n = report.findings.len();
    settle(
        &mut report,
        looked,
        format!("{n} SIGKILL exit(s) without an OOMKilled reason"),
        format!("{looked} container(s) checked: no exit 137 without an OOMKilled reason"),
        "no container states in the bundle",
    );
    report
}
