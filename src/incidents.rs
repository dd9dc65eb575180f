//! Correlation: findings from different files that describe one failure become one incident
//! with all the evidence and a narrative. Rules match on the findings' public fields
//! (container id, pod UID, pid, port, destination), so they work the same whichever parser
//! or check produced them.

use crate::model::{FieldValue, Finding, Severity};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A kubelet records a container's `Finished` time when it notices the exit, normally within
/// seconds of the kernel's kill; a busy node can take longer. Beyond this, a name-less match
/// by time alone is not trusted.
pub const OOM_MATCH_WINDOW: Duration = Duration::minutes(5);
/// Container ids are matched on a prefix at least this long (`docker ps` and `crictl` print
/// 12 or 13 hex digits; the kernel and `kubectl describe` print all 64).
pub const CONTAINER_ID_PREFIX: usize = 12;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingRef {
    /// Index into the report's `findings`.
    pub index: usize,
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub start: Option<String>,
    pub end: Option<String>,
    pub findings: Vec<FindingRef>,
    pub narrative: String,
}

fn text(f: &Finding, k: &str) -> Option<String> {
    match f.fields.get(k)? {
        FieldValue::Text(s) if !s.is_empty() => Some(s.clone()),
        FieldValue::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn int(f: &Finding, k: &str) -> Option<i64> {
    match f.fields.get(k)? {
        FieldValue::Int(i) => Some(*i),
        FieldValue::Text(s) => s.trim().parse().ok(),
    }
}

fn time_of(s: &Option<String>) -> Option<DateTime<Utc>> {
    s.as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// `containerd://8d2b…` → `8d2b…`, lowercased.
pub fn bare_container_id(id: &str) -> String {
    id.rsplit("://")
        .next()
        .unwrap_or(id)
        .trim()
        .to_ascii_lowercase()
}

fn same_container(a: &str, b: &str) -> bool {
    let (a, b) = (bare_container_id(a), bare_container_id(b));
    let n = a.len().min(b.len());
    n >= CONTAINER_ID_PREFIX && a[..n] == b[..n]
}

fn mib(kb: i64) -> String {
    format!("{} MiB", (kb + 512) / 1024)
}

fn mib_bytes(b: i64) -> String {
    format!("{} MiB", (b + (1 << 19)) >> 20)
}

/// The pod/container a finding is about, for matching: (container id, pod uid, pod, container).
struct Subject {
    container_id: Option<String>,
    pod_uid: Option<String>,
    pod: Option<String>,
    container: Option<String>,
}

fn subject(f: &Finding) -> Subject {
    Subject {
        container_id: text(f, "container_id"),
        pod_uid: text(f, "pod_uid"),
        pod: text(f, "pod"),
        container: text(f, "container"),
    }
}

fn same_subject(a: &Subject, b: &Subject) -> bool {
    if let (Some(x), Some(y)) = (&a.container_id, &b.container_id) {
        return same_container(x, y);
    }
    if let (Some(x), Some(y)) = (&a.pod_uid, &b.pod_uid) {
        return x.eq_ignore_ascii_case(y);
    }
    matches!((&a.pod, &b.pod), (Some(x), Some(y)) if x == y)
        && matches!((&a.container, &b.container), (Some(x), Some(y)) if x == y)
}

struct Builder<'a> {
    findings: &'a [Finding],
    claimed: Vec<bool>,
    out: Vec<(Vec<usize>, String, String)>,
}

impl<'a> Builder<'a> {
    fn of(&self, sig: &'a str) -> impl Iterator<Item = usize> + 'a {
        let findings = self.findings;
        (0..findings.len()).filter(move |&i| findings[i].signature == sig)
    }

    fn free(&self, i: usize) -> bool {
        !self.claimed[i]
    }

    fn add(&mut self, members: Vec<usize>, title: String, narrative: String) {
        for &m in &members {
            self.claimed[m] = true;
        }
        self.out.push((members, title, narrative));
    }
}

/// Kernel memcg OOM kill ↔ the container's OOMKilled / exit 137 in Kubernetes ↔ its cgroup's
/// memory.stat ↔ its runtime heap flag. A kernel kill with no matching OOMKilled means a child
/// process died while the container kept running: said explicitly.
fn oom_incidents(b: &mut Builder) {
    let kills: Vec<usize> = b.of("mem.oom-kill-memcg").collect();
    for k in kills {
        let kill = &b.findings[k];
        let ks = subject(kill);
        let kill_time = time_of(&kill.first);
        let mut members = vec![k];
        let mut how = String::new();
        // Kubernetes' view of the same container.
        let by_id = b
            .of("k8s.oomkilled")
            .chain(b.of("k8s.sigkill-137"))
            .find(|&i| b.free(i) && same_subject(&ks, &subject(&b.findings[i])));
        let k8s = by_id.or_else(|| {
            // No shared id: exactly one OOMKilled container that finished within the window.
            let near: Vec<usize> = b
                .of("k8s.oomkilled")
                .filter(|&i| b.free(i))
                .filter(|&i| {
                    match (
                        kill_time,
                        text(&b.findings[i], "finished").and_then(|t| parse_any_time(&t)),
                    ) {
                        (Some(a), Some(t)) => (a - t).abs() <= OOM_MATCH_WINDOW,
                        _ => false,
                    }
                })
                .collect();
            if near.len() == 1 {
                how = " (matched by time: no container id in common)".into();
                Some(near[0])
            } else {
                None
            }
        });
        let mut ks_full = ks;
        if let Some(i) = k8s {
            members.push(i);
            let s = subject(&b.findings[i]);
            ks_full.pod = s.pod.or(ks_full.pod);
            ks_full.container = s.container.or(ks_full.container);
        }
        let others: Vec<usize> = [
            "mem.cgroup-near-limit",
            "k8s.runtime-heap-vs-limit",
            "k8s.crashloop",
            "k8s.no-memory-limit",
        ]
        .iter()
        .flat_map(|sig| b.of(sig).collect::<Vec<_>>())
        .filter(|&i| {
            b.free(i) && !members.contains(&i) && same_subject(&ks_full, &subject(&b.findings[i]))
        })
        .collect();
        members.extend(others);
        let narrative = oom_narrative(b.findings, k, k8s, &members, &how);
        let who = text(kill, "process").unwrap_or_else(|| "a process".into());
        let title = match (&ks_full.pod, &ks_full.container) {
            (Some(p), Some(c)) => format!("OOM kill of {who} in {p}/{c}"),
            _ => format!(
                "OOM kill of {who} (pid {})",
                text(kill, "pid").unwrap_or_else(|| "?".into())
            ),
        };
        b.add(members, title, narrative);
    }
}

/// RFC 3339 or the RFC 1123 form `kubectl describe` prints.
fn parse_any_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn oom_narrative(
    findings: &[Finding],
    k: usize,
    k8s: Option<usize>,
    members: &[usize],
    how: &str,
) -> String {
    let kill = &findings[k];
    let mut n = format!(
        "The kernel's memory-cgroup OOM killer killed {} (pid {}){}.",
        text(kill, "process").unwrap_or_else(|| "a process".into()),
        text(kill, "pid").unwrap_or_else(|| "?".into()),
        kill.first
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default()
    );
    if let (Some(anon), Some(limit)) = (int(kill, "anon_rss_kb"), int(kill, "limit_kb")) {
        let file = int(kill, "file_rss_kb").unwrap_or(0);
        let share = if limit > 0 { anon * 100 / limit } else { 0 };
        n.push_str(&format!(
            " Its anonymous memory was {} ({share}% of the {} cgroup limit) and file-backed {}: {}.",
            mib(anon),
            mib(limit),
            mib(file),
            if share >= 75 {
                "the process's own heap filled the cgroup, not page cache"
            } else {
                "the cgroup as a whole (other processes or page cache) filled the limit"
            }
        ));
    }
    match k8s {
        Some(i) => {
            let f = &findings[i];
            let who = match (text(f, "namespace"), text(f, "pod"), text(f, "container")) {
                (Some(ns), Some(p), Some(c)) => format!("{ns}/{p}, container {c}"),
                (_, Some(p), Some(c)) => format!("{p}, container {c}"),
                _ => "the container".into(),
            };
            if f.signature == "k8s.oomkilled" {
                n.push_str(&format!(
                    " Kubernetes recorded {who} as OOMKilled (exit code {}){how}",
                    text(f, "exit_code").unwrap_or_else(|| "137".into())
                ));
            } else {
                n.push_str(&format!(
                    " Kubernetes recorded {who} as killed with exit code 137 but reason {}; the kernel log shows it was the OOM killer{how}",
                    text(f, "reason").unwrap_or_else(|| "other than OOMKilled".into())
                ));
            }
            match int(f, "restart_count") {
                Some(r) if r > 0 => {
                    n.push_str(&format!(" and the container has restarted {r} time(s)."))
                }
                _ => n.push('.'),
            }
        }
        None => {
            let pod = text(kill, "pod_uid")
                .map(|u| format!(" of pod UID {u}"))
                .unwrap_or_default();
            n.push_str(&format!(
                " No container{pod} was reported OOMKilled for it in the bundle: if the container kept running, the kernel killed a child process inside it (a worker, a shell, a sidecar process), which Kubernetes does not report; collect `kubectl describe pod` to settle it."
            ));
        }
    }
    for &m in members {
        let f = &findings[m];
        match f.signature.as_str() {
            "mem.cgroup-near-limit" => {
                if let (Some(u), Some(l)) = (int(f, "usage_bytes"), int(f, "limit_bytes")) {
                    n.push_str(&format!(
                        " The cgroup's memory.stat shows {} of {} in use{}.",
                        mib_bytes(u),
                        mib_bytes(l),
                        int(f, "anon_bytes")
                            .map(|a| format!(", {} of it anonymous", mib_bytes(a)))
                            .unwrap_or_default()
                    ));
                }
            }
            "k8s.runtime-heap-vs-limit" => n.push_str(&format!(" {}", f.summary)),
            _ => {}
        }
    }
    n
}

/// fd.emfile errors of a process ↔ its limits and open descriptors (pid, else command name).
fn fd_incidents(b: &mut Builder) {
    let errors: Vec<usize> = b.of("fd.emfile").collect();
    for e in errors {
        let err = &b.findings[e];
        let program = text(err, "program");
        let pid = text(err, "pid");
        let related: Vec<usize> = ["fd.near-limit", "fd.low-soft-limit"]
            .iter()
            .flat_map(|sig| b.of(sig).collect::<Vec<_>>())
            .filter(|&i| b.free(i))
            .filter(|&i| {
                let f = &b.findings[i];
                match (&pid, text(f, "pid")) {
                    (Some(a), Some(c)) => *a == c,
                    _ => match (&program, text(f, "command")) {
                        (Some(p), Some(c)) => p.starts_with(&c) || c.starts_with(p.as_str()),
                        // A single process in the bundle with descriptor trouble is the one.
                        _ => true,
                    },
                }
            })
            .collect();
        if related.is_empty() {
            continue;
        }
        let mut members = vec![e];
        members.extend(related.iter().copied());
        let near = related
            .iter()
            .map(|&i| &b.findings[i])
            .find(|f| f.signature == "fd.near-limit");
        let mut n = format!(
            "{} logged EMFILE (too many open files) {} time(s).",
            program.clone().unwrap_or_else(|| "A process".into()),
            err.count
        );
        if let Some(f) = near {
            n.push_str(&format!(" {}", f.summary));
        }
        for &i in &related {
            if b.findings[i].signature == "fd.low-soft-limit" {
                n.push_str(&format!(" {}", b.findings[i].summary));
            }
        }
        let title = format!(
            "File descriptor exhaustion in {}",
            program.unwrap_or_else(|| "a process".into())
        );
        b.add(members, title, n);
    }
}

/// net.eaddrnotavail to a destination ↔ the TIME-WAIT pile-up against the port range.
fn port_incidents(b: &mut Builder) {
    let errors: Vec<usize> = b.of("net.eaddrnotavail").collect();
    for e in errors {
        let dest = text(&b.findings[e], "destination");
        let related: Vec<usize> = b
            .of("net.ephemeral-port-exhaustion")
            .chain(b.of("net.client-pool-cap"))
            .filter(|&i| b.free(i))
            .filter(|&i| {
                let f = &b.findings[i];
                match (
                    &dest,
                    text(f, "top_destination").or_else(|| text(f, "destination")),
                ) {
                    (Some(d), Some(t)) => *d == t,
                    _ => true,
                }
            })
            .collect();
        if related.is_empty() {
            continue;
        }
        let mut members = vec![e];
        members.extend(related.iter().copied());
        let mut n = format!(
            "Outbound connections{} failed {} time(s) with EADDRNOTAVAIL.",
            dest.as_deref()
                .map(|d| format!(" to {d}"))
                .unwrap_or_default(),
            b.findings[e].count
        );
        for &i in &related {
            n.push_str(&format!(" {}", b.findings[i].summary));
        }
        let title = format!(
            "Ephemeral port exhaustion{}",
            dest.map(|d| format!(" towards {d}")).unwrap_or_default()
        );
        b.add(members, title, n);
    }
}

/// net.syn-flood on port P ↔ the listener on P, its backlog and the overflow counters.
fn listen_incidents(b: &mut Builder) {
    let floods: Vec<usize> = b.of("net.syn-flood").collect();
    for s in floods {
        let port = text(&b.findings[s], "port");
        let related: Vec<usize> = b
            .of("net.accept-queue-overflow")
            .filter(|&i| b.free(i))
            .filter(
                |&i| matches!((&port, text(&b.findings[i], "port")), (Some(p), Some(q)) if *p == q),
            )
            .collect();
        if related.is_empty() {
            continue;
        }
        let mut members = vec![s];
        members.extend(related.iter().copied());
        let mut n = b.findings[s].summary.clone();
        for &i in &related {
            n.push_str(&format!(" {}", b.findings[i].summary));
        }
        let title = format!(
            "Listen queue overflow on port {}",
            port.unwrap_or_else(|| "?".into())
        );
        b.add(members, title, n);
    }
}

/// Build the incidents of a report's (final, ordered) findings.
pub fn correlate(findings: &[Finding]) -> Vec<Incident> {
    let mut b = Builder {
        findings,
        claimed: vec![false; findings.len()],
        out: Vec::new(),
    };
    oom_incidents(&mut b);
    fd_incidents(&mut b);
    port_incidents(&mut b);
    listen_incidents(&mut b);
    let mut incidents: Vec<(Option<DateTime<Utc>>, usize, Incident)> = b
        .out
        .into_iter()
        .enumerate()
        .map(|(n, (mut members, title, narrative))| {
            members.sort_unstable();
            let times: Vec<DateTime<Utc>> = members
                .iter()
                .flat_map(|&m| [time_of(&findings[m].first), time_of(&findings[m].last)])
                .flatten()
                .collect();
            let start = times.iter().min().copied();
            let end = times.iter().max().copied();
            let severity = members
                .iter()
                .map(|&m| findings[m].severity)
                .max()
                .unwrap_or(Severity::Info);
            (
                start,
                n,
                Incident {
                    id: String::new(),
                    title,
                    severity,
                    start: start.as_ref().map(crate::model::rfc3339),
                    end: end.as_ref().map(crate::model::rfc3339),
                    findings: members
                        .iter()
                        .map(|&m| FindingRef {
                            index: m,
                            signature: findings[m].signature.clone(),
                        })
                        .collect(),
                    narrative,
                },
            )
        })
        .collect();
    // Worst first, then by start time (unknown last), then in rule order.
    incidents.sort_by(|a, b| {
        b.2.severity
            .cmp(&a.2.severity)
            .then((a.0.is_none(), a.0).cmp(&(b.0.is_none(), b.0)))
            .then(a.1.cmp(&b.1))
    });
    incidents
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, mut inc))| {
            inc.id = format!("I{}", i + 1);
            inc
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Fields;

    fn finding(
        sig: &str,
        sev: Severity,
        first: Option<&str>,
        fields: &[(&str, FieldValue)],
    ) -> Finding {
        Finding {
            signature: sig.into(),
            severity: sev,
            title: sig.into(),
            summary: format!("{sig} summary."),
            count: 1,
            first: first.map(str::to_string),
            last: first.map(str::to_string),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Fields>(),
            evidence: Vec::new(),
            evidence_omitted: 0,
            fixes: Vec::new(),
        }
    }

    fn t(s: &str) -> FieldValue {
        FieldValue::Text(s.into())
    }

    const CID_A: &str = "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6";
    const CID_B: &str = "1111111111112222222222223333333333334444444444445555555555556666";

    fn kernel_kill(pid: i64, cid: &str, at: &str) -> Finding {
        finding(
            "mem.oom-kill-memcg",
            Severity::Critical,
            Some(at),
            &[
                ("pid", FieldValue::Int(pid)),
                ("process", t("node")),
                ("container_id", t(cid)),
                ("anon_rss_kb", FieldValue::Int(1_003_412)),
                ("file_rss_kb", FieldValue::Int(31_352)),
                ("limit_kb", FieldValue::Int(1_048_576)),
            ],
        )
    }

    fn k8s_oom(pod: &str, cid: &str, finished: &str) -> Finding {
        finding(
            "k8s.oomkilled",
            Severity::Critical,
            None,
            &[
                ("pod", t(pod)),
                ("namespace", t("shop")),
                ("container", t("api")),
                ("container_id", t(&format!("containerd://{cid}"))),
                ("exit_code", FieldValue::Int(137)),
                ("restart_count", FieldValue::Int(3)),
                ("finished", t(finished)),
            ],
        )
    }

    #[test]
    fn kernel_kill_joins_its_container_by_id() {
        let f = vec![
            kernel_kill(48213, CID_A, "2026-11-21T14:23:07Z"),
            k8s_oom("api-1", CID_A, "Sat, 21 Nov 2026 14:23:07 +0000"),
        ];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].id, "I1");
        assert_eq!(inc[0].title, "OOM kill of node in api-1/api");
        let idx: Vec<usize> = inc[0].findings.iter().map(|r| r.index).collect();
        assert_eq!(idx, vec![0, 1]);
        assert!(
            inc[0]
                .narrative
                .contains("980 MiB (95% of the 1024 MiB cgroup limit)"),
            "{}",
            inc[0].narrative
        );
        assert!(inc[0].narrative.contains("restarted 3 time(s)"));
        assert_eq!(inc[0].start.as_deref(), Some("2026-11-21T14:23:07Z"));
    }

    #[test]
    fn two_kills_in_different_pods_are_not_joined() {
        let f = vec![
            kernel_kill(100, CID_A, "2026-11-21T14:23:07Z"),
            kernel_kill(200, CID_B, "2026-11-21T14:23:09Z"),
            k8s_oom("api-1", CID_A, "Sat, 21 Nov 2026 14:23:07 +0000"),
            k8s_oom("api-2", CID_B, "Sat, 21 Nov 2026 14:23:09 +0000"),
        ];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 2);
        let sets: Vec<Vec<usize>> = inc
            .iter()
            .map(|i| i.findings.iter().map(|r| r.index).collect())
            .collect();
        assert!(sets.contains(&vec![0, 2]), "{sets:?}");
        assert!(sets.contains(&vec![1, 3]), "{sets:?}");
    }

    #[test]
    fn kill_without_oomkilled_container_says_a_child_died() {
        let f = vec![kernel_kill(7, CID_A, "2026-11-21T14:23:07Z")];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 1);
        assert!(
            inc[0].narrative.contains("killed a child process"),
            "{}",
            inc[0].narrative
        );
    }

    #[test]
    fn time_window_match_only_when_unambiguous() {
        // No container id in common: one OOMKilled container within the window joins...
        let mut kill = kernel_kill(1, CID_A, "2026-11-21T14:23:07Z");
        kill.fields.remove("container_id");
        let f = vec![
            kill.clone(),
            k8s_oom("api-1", CID_B, "Sat, 21 Nov 2026 14:24:00 +0000"),
        ];
        let inc = correlate(&f);
        assert_eq!(inc[0].findings.len(), 2);
        assert!(inc[0].narrative.contains("matched by time"));
        // ...but not one outside it, and not when two candidates are near.
        let f = vec![
            kill.clone(),
            k8s_oom("api-1", CID_B, "Sat, 21 Nov 2026 14:40:00 +0000"),
        ];
        assert_eq!(correlate(&f)[0].findings.len(), 1);
        let f = vec![
            kill,
            k8s_oom("api-1", CID_B, "Sat, 21 Nov 2026 14:23:00 +0000"),
            k8s_oom("api-2", CID_B, "Sat, 21 Nov 2026 14:23:10 +0000"),
        ];
        assert_eq!(correlate(&f)[0].findings.len(), 1);
    }

    #[test]
    fn syn_flood_joins_the_listener_on_its_port_only() {
        let f = vec![
            finding(
                "net.syn-flood",
                Severity::Warning,
                None,
                &[("port", FieldValue::Int(3000))],
            ),
            finding(
                "net.accept-queue-overflow",
                Severity::Warning,
                None,
                &[("port", FieldValue::Int(3000))],
            ),
            finding(
                "net.accept-queue-overflow",
                Severity::Warning,
                None,
                &[("port", FieldValue::Int(8080))],
            ),
        ];
        let inc = correlate(&f);
        assert_eq!(inc.len(), 1);
        assert_eq!(
            inc[0].findings.iter().map(|r| r.index).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(inc[0].title, "Listen queue overflow on port 3000");
    }
}
