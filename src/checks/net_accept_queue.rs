//! `net.accept-queue-overflow`: listeners whose accept queue (Recv-Q) reached its backlog
//! (Send-Q), non-zero ListenOverflows/ListenDrops, and listeners whose backlog sits at a
//! default (128, 511, 4096); tied to `net.syn-flood` findings on the same port.
//!
//! One finding per port whose listener is full or that the kernel reported a SYN flood on.
//! Non-zero counters with no such port give one host-wide finding naming the listeners at a
//! default backlog as suspects. Without any overflow, a default backlog is only a checked
//! fact marked "(a default backlog)".

use super::net_common::{evidence, fact, finding, log_evidence, socket_lists, thousands};
use super::{CheckContext, CheckReport, CheckStatus, Missing};
use crate::ingest::netstat::Counter;
use crate::ingest::sockets::Listener;
use crate::model::{Evidence, FieldValue, Fields, Finding, Fix, Severity};
use std::collections::BTreeMap;

pub const ID: &str = "net.accept-queue-overflow";
const TITLE: &str =
    "Listen (accept) queue overflow: connections dropped before the application accepted them";

/// Backlogs that are defaults rather than sized choices: 128 (somaxconn before Linux 5.4 and
/// many servers' default), 511 (Node.js, nginx, Redis), 4096 (somaxconn since Linux 5.4).
pub const LOW_BACKLOG_CAPS: &[u64] = &[128, 511, 4096];
/// A proposed backlog is never below the current kernel default of somaxconn (Linux 5.4+).
pub const MIN_RECOMMENDED_BACKLOG: u64 = 4096;
/// The proposed backlog is the saturated one times this (rounded up to a power of two): room
/// for a burst twice the one that overflowed.
pub const BACKLOG_HEADROOM: u64 = 2;
/// Canonical counters read (nstat names; `netstat -s` wordings are mapped to them).
pub const COUNTERS: &[&str] = &["TcpExtListenOverflows", "TcpExtListenDrops"];

/// Whether the accept queue reached the backlog: the kernel drops once it is full.
pub fn saturated(l: &Listener) -> bool {
    matches!(l.backlog, Some(b) if l.recv_q > 0 && l.recv_q >= b)
}

/// Whether the backlog is a default that somaxconn (or the server's own default) imposed.
pub fn capped_low(l: &Listener, somaxconn: Option<i64>) -> bool {
    let Some(b) = l.backlog else {
        return false;
    };
    LOW_BACKLOG_CAPS.contains(&b) && (somaxconn.is_none_or(|s| s as u64 == b) || b == 511)
}

/// The backlog to propose for a listener whose backlog was `current`.
pub fn recommended_backlog(current: u64) -> u64 {
    current
        .saturating_mul(BACKLOG_HEADROOM)
        .checked_next_power_of_two()
        .unwrap_or(u64::MAX)
        .max(MIN_RECOMMENDED_BACKLOG)
}

#[derive(Default)]
struct PortIssue<'a> {
    saturated: Vec<&'a Listener>,
    syn_flood: Vec<&'a Finding>,
}

fn processes(l: &Listener) -> String {
    l.processes
        .iter()
        .map(|p| p.display())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let lists = socket_lists(ctx);
    let listeners: Vec<&Listener> = lists.iter().flat_map(|l| l.listeners.iter()).collect();
    let counters: Vec<(&str, &Counter)> = COUNTERS
        .iter()
        .filter_map(|n| ctx.facts.netstat.counter(n).map(|c| (*n, c)))
        .collect();
    let syn: Vec<&Finding> = ctx.log_findings_of("net.syn-flood").collect();
    let somaxconn_v = ctx.facts.sysctl.get("net.core.somaxconn");
    let somaxconn = somaxconn_v.and_then(|v| v.int());
    let syn_backlog_v = ctx.facts.sysctl.get("net.ipv4.tcp_max_syn_backlog");
    let syn_backlog = syn_backlog_v.and_then(|v| v.int());

    if !syn.is_empty() && listeners.is_empty() && counters.is_empty() {
        r.missing.push(Missing {
            check: ID.into(),
            what: "the listeners' accept queues".into(),
            why: "a SYN flood was logged; Recv-Q against Send-Q says whether the application accepts too slowly".into(),
            command: "ss -lnt".into(),
        });
        r.missing.push(Missing {
            check: ID.into(),
            what: "the listen queue overflow counters".into(),
            why: "the SYN flood line is rate-limited; the counters give the magnitude".into(),
            command: "nstat -az TcpExtListenOverflows TcpExtListenDrops".into(),
        });
    }
    if listeners.is_empty() && counters.is_empty() {
        r.note = if syn.is_empty() {
            "no listener list and no listen-queue counters".into()
        } else {
            "a SYN flood was logged but the bundle has no listener list or listen-queue counters"
                .into()
        };
        return r;
    }

    for (name, c) in &counters {
        r.facts
            .push(fact(ctx, name, c.value.to_string(), Some(&c.row)));
    }
    if let Some(v) = somaxconn_v {
        r.facts
            .push(fact(ctx, "net.core.somaxconn", v.raw.clone(), Some(&v.row)));
    }
    if let Some(v) = syn_backlog_v {
        r.facts.push(fact(
            ctx,
            "net.ipv4.tcp_max_syn_backlog",
            v.raw.clone(),
            Some(&v.row),
        ));
    }
    let mut by_port: BTreeMap<String, PortIssue> = BTreeMap::new();
    let mut capped: Vec<&Listener> = Vec::new();
    for l in &listeners {
        let backlog = l
            .backlog
            .map_or("backlog not shown".to_string(), |b| format!("backlog {b}"));
        let default_note = if capped_low(l, somaxconn) {
            " (a default backlog)"
        } else {
            ""
        };
        r.facts.push(fact(
            ctx,
            &format!("listener {}", l.local.raw),
            format!("Recv-Q {} of {backlog}{default_note}", l.recv_q),
            Some(&l.row),
        ));
        if saturated(l) {
            by_port
                .entry(l.local.port.clone())
                .or_default()
                .saturated
                .push(l);
        } else if capped_low(l, somaxconn) {
            capped.push(l);
        }
    }
    for f in &syn {
        if let Some(FieldValue::Int(p)) = f.fields.get("port") {
            let port = p.to_string();
            if listeners.iter().any(|l| l.local.port == port) || !counters.is_empty() {
                by_port.entry(port).or_default().syn_flood.push(f);
            }
        }
    }
    let overflowed: Vec<&(&str, &Counter)> = counters.iter().filter(|(_, c)| c.value > 0).collect();
    let counter_text = overflowed
        .iter()
        .map(|(n, c)| format!("{n} {}", thousands(c.value as u64)))
        .collect::<Vec<_>>()
        .join(", ");
    let counter_evidence: Vec<Evidence> = overflowed
        .iter()
        .map(|(_, c)| evidence(ctx, &c.row))
        .collect();
    let sysctl_evidence: Vec<Evidence> = [somaxconn_v, syn_backlog_v]
        .into_iter()
        .flatten()
        .map(|v| evidence(ctx, &v.row))
        .collect();

    for (port, issue) in &by_port {
        let mut ev: Vec<Evidence> = Vec::new();
        let mut parts: Vec<String> = Vec::new();
        let mut fields = Fields::new();
        if let Ok(p) = port.parse::<i64>() {
            fields.insert("port".into(), FieldValue::Int(p));
        } else {
            fields.insert("port".into(), FieldValue::Text(port.clone()));
        }
        // Every listener on the port: the full one, or the one a SYN flood was logged for.
        let on_port: Vec<&&Listener> = listeners.iter().filter(|l| &l.local.port == port).collect();
        let worst = on_port
            .iter()
            .copied()
            .max_by_key(|l| (l.recv_q, l.backlog));
        for l in &on_port {
            ev.push(evidence(ctx, &l.row));
        }
        for l in &issue.saturated {
            let procs = processes(l);
            parts.push(format!(
                "the listener {} has {} connection(s) waiting to be accepted with a backlog of {}: the queue is full{}",
                l.local.raw,
                l.recv_q,
                l.backlog.unwrap_or(0),
                if procs.is_empty() { String::new() } else { format!(" ({procs} accepts too slowly)") }
            ));
        }
        if let Some(l) = worst {
            fields.insert("recv_q".into(), FieldValue::Int(l.recv_q as i64));
            if let Some(b) = l.backlog {
                fields.insert("backlog".into(), FieldValue::Int(b as i64));
            }
            if let Some(p) = l.processes.first() {
                fields.insert("process".into(), FieldValue::Text(p.name.clone()));
                fields.insert("pid".into(), FieldValue::Int(p.pid as i64));
            }
        }
        if !issue.syn_flood.is_empty() {
            let n: u64 = issue.syn_flood.iter().map(|f| f.count).sum();
            parts.push(format!(
                "the kernel logged a possible SYN flood on port {port} {n} time(s) (net.syn-flood): the same listener's queues overflowed"
            ));
            for f in &issue.syn_flood {
                ev.extend(log_evidence(f, 3));
            }
        }
        if !overflowed.is_empty() {
            parts.push(format!("host counters since boot: {counter_text}"));
            ev.extend(counter_evidence.iter().cloned());
        }
        ev.extend(sysctl_evidence.iter().cloned());
        for (n, c) in &overflowed {
            fields.insert(
                if *n == "TcpExtListenOverflows" {
                    "listen_overflows"
                } else {
                    "listen_drops"
                }
                .into(),
                FieldValue::Int(c.value),
            );
        }
        if let Some(s) = somaxconn {
            fields.insert("somaxconn".into(), FieldValue::Int(s));
        }
        let severity = if !issue.saturated.is_empty() {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let current = worst
            .and_then(|l| l.backlog)
            .unwrap_or(somaxconn.unwrap_or(128).max(0) as u64);
        let fixes = backlog_fixes(port, current, somaxconn, syn_backlog, worst);
        let mut summary = format!("Port {port}: {}", parts.join("; "));
        summary.push('.');
        r.findings
            .push(finding(ID, severity, TITLE, summary, fields, ev, fixes));
    }
    if !overflowed.is_empty() && by_port.is_empty() {
        // Host-wide counters with no listener to blame (port findings carry them otherwise).
        let mut fields = Fields::new();
        for (n, c) in &overflowed {
            fields.insert(
                if *n == "TcpExtListenOverflows" {
                    "listen_overflows"
                } else {
                    "listen_drops"
                }
                .into(),
                FieldValue::Int(c.value),
            );
        }
        let mut ev = counter_evidence.clone();
        ev.extend(sysctl_evidence.iter().cloned());
        let current = capped
            .iter()
            .filter_map(|l| l.backlog)
            .max()
            .unwrap_or(somaxconn.unwrap_or(4096).max(0) as u64);
        for l in &capped {
            ev.push(evidence(ctx, &l.row));
        }
        let suspects = if capped.is_empty() {
            String::new()
        } else {
            format!(
                "; listeners at a default backlog: {}",
                capped
                    .iter()
                    .map(|l| format!(
                        "{} (backlog {}{})",
                        l.local.raw,
                        l.backlog.unwrap_or(0),
                        if l.processes.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", processes(l))
                        }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let summary = format!(
            "A listen queue overflowed since boot ({counter_text}){}{suspects}: connections were dropped before an application accepted them.",
            if listeners.is_empty() {
                "; no listener list in the bundle says which one".to_string()
            } else {
                "; no listener is full in the snapshot, so it happened earlier".to_string()
            }
        );
        r.findings.push(finding(
            ID,
            Severity::Warning,
            TITLE,
            summary,
            fields,
            ev,
            backlog_fixes("<port>", current, somaxconn, syn_backlog, None),
        ));
        if listeners.is_empty() {
            r.missing.push(Missing {
                check: ID.into(),
                what: "the listeners' accept queues".into(),
                why:
                    "the overflow counters are host-wide; Recv-Q against Send-Q names the listener"
                        .into(),
                command: "ss -lntp".into(),
            });
        }
    }
    if r.findings.is_empty() {
        r.status = CheckStatus::Healthy;
        r.note = format!(
            "{} listener(s), none with a full accept queue{}",
            listeners.len(),
            if counters.is_empty() {
                String::new()
            } else {
                "; ListenOverflows/ListenDrops are 0".to_string()
            }
        );
    } else {
        r.status = CheckStatus::Fired;
        r.note = r
            .findings
            .iter()
            .map(|f| f.summary.clone())
            .collect::<Vec<_>>()
            .join(" ");
    }
    r
}

fn backlog_fixes(
    port: &str,
    current: u64,
    somaxconn: Option<i64>,
    syn_backlog: Option<i64>,
    listener: Option<&&Listener>,
) -> Vec<Fix> {
    let target = recommended_backlog(current);
    let somax = somaxconn.map_or(target, |s| (s.max(0) as u64).max(target));
    let synb = syn_backlog.map_or(target, |s| (s.max(0) as u64).max(target));
    let now = |v: Option<i64>| v.map_or("not in the bundle".to_string(), |v| v.to_string());
    let mut fixes = Vec::new();
    if let Some(l) = listener.filter(|l| saturated(l)) {
        fixes.push(Fix {
            title: format!("Find why the process on port {port} accepts too slowly"),
            text: format!(
                "# Recv-Q {} of {}: the accept queue is full because accept() lags, a bigger backlog only absorbs bursts.\n\
                 # Look for a blocked event loop (Node.js), too few worker threads/processes, or CPU throttling of {}.",
                l.recv_q,
                l.backlog.unwrap_or(0),
                if l.processes.is_empty() { "the server".to_string() } else { processes(l) }
            ),
        });
    }
    fixes.push(Fix {
        title: format!("Raise the accept and SYN backlogs to {target} (kernel and application)"),
        text: format!(
            "# /etc/sysctl.d/90-listen-backlog.conf\n\
             net.core.somaxconn = {somax}   # now {}\n\
             net.ipv4.tcp_max_syn_backlog = {synb}   # now {}\n\
             # somaxconn only caps the application's own listen() backlog on port {port}; raise that too:\n\
             #   Node.js: server.listen({{ port: {port}, backlog: {target} }})   nginx: listen {port} backlog={target};\n\
             #   Java: new ServerSocket({port}, {target})   Go: uses somaxconn (restart after changing it)",
            now(somaxconn),
            now(syn_backlog)
        ),
    });
    fixes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_backlog_doubles_and_rounds_up() {
        assert_eq!(recommended_backlog(128), 4096);
        assert_eq!(recommended_backlog(511), 4096);
        assert_eq!(recommended_backlog(4096), 8192);
        assert_eq!(recommended_backlog(5000), 16384);
        assert_eq!(recommended_backlog(u64::MAX), u64::MAX);
    }
}
