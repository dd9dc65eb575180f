//! `net.sysctl-review`: the kernel values behind the network checks, listed as checked
//! facts. A value becomes a finding only where evidence in the bundle ties it to a failure:
//! `nf_conntrack_count` at ≥ 90% of `nf_conntrack_max` while `net.conntrack-full` fired.
//! (The port range, `tcp_tw_reuse`, `somaxconn` and `tcp_max_syn_backlog` are judged by
//! `net.ephemeral-port-exhaustion` and `net.accept-queue-overflow`, which cite them.)

use super::net_common::{evidence, fact, finding, log_evidence, percent, thousands};
use super::{CheckContext, CheckReport, CheckStatus, Missing};
use crate::model::{FieldValue, Fields, Finding, Fix, Severity};

pub const ID: &str = "net.sysctl-review";
const TITLE: &str = "Kernel network settings behind the failures";

/// The reviewed keys and what each one governs.
pub const REVIEWED: &[(&str, &str)] = &[
    ("net.core.somaxconn", "caps every listen() backlog"),
    (
        "net.ipv4.tcp_max_syn_backlog",
        "half-open (SYN) queue per listener",
    ),
    (
        "net.ipv4.ip_local_port_range",
        "ephemeral ports for outbound connections",
    ),
    (
        "net.ipv4.tcp_tw_reuse",
        "reuse of TIME-WAIT ports by outbound connects",
    ),
    (
        "net.ipv4.tcp_tw_recycle",
        "removed in Linux 4.12; must not be set",
    ),
    (
        "net.ipv4.tcp_fin_timeout",
        "seconds in FIN-WAIT-2 (not TIME-WAIT)",
    ),
    (
        "net.ipv4.tcp_keepalive_time",
        "idle seconds before keepalive probes",
    ),
    (
        "net.ipv4.tcp_max_tw_buckets",
        "TIME-WAIT sockets kept before skipping TIME-WAIT",
    ),
    (
        "net.core.netdev_max_backlog",
        "packets queued per CPU before the stack drops them",
    ),
    (
        "net.core.rmem_max",
        "largest receive buffer an application may set",
    ),
    (
        "net.core.wmem_max",
        "largest send buffer an application may set",
    ),
    (
        "net.netfilter.nf_conntrack_max",
        "connection-tracking table size",
    ),
    (
        "net.netfilter.nf_conntrack_count",
        "connection-tracking entries in use",
    ),
];

/// The kernel default of `tcp_keepalive_time`: 2 hours, longer than most NAT and load
/// balancer idle timeouts (350 s on AWS NAT gateways), so idle pooled connections die silently.
pub const KEEPALIVE_DEFAULT_SECONDS: i64 = 7200;
/// conntrack in use at or above this share of the maximum is at the edge: with
/// `net.conntrack-full` logged, the table size is the failure.
pub const CONNTRACK_FULL_RATIO: f64 = 0.9;
/// Proposed conntrack maximum = the current maximum × this.
pub const CONNTRACK_GROWTH: i64 = 2;
/// Entries per hash bucket for the proposed maximum (hashsize = max / 4).
pub const CONNTRACK_ENTRIES_PER_BUCKET: i64 = 4;

fn conntrack_key<'a>(
    ctx: &'a CheckContext,
    name: &str,
) -> Option<&'a crate::ingest::sysctl::SysctlValue> {
    // Older kernels also expose net.nf_conntrack_max.
    ctx.facts
        .sysctl
        .get(&format!("net.netfilter.{name}"))
        .or_else(|| ctx.facts.sysctl.get(&format!("net.{name}")))
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let conntrack_full: Vec<&Finding> = ctx.log_findings_of("net.conntrack-full").collect();
    let count_v = conntrack_key(ctx, "nf_conntrack_count");
    let max_v = conntrack_key(ctx, "nf_conntrack_max");
    if !conntrack_full.is_empty() && (count_v.is_none() || max_v.is_none()) {
        r.missing.push(Missing {
            check: ID.into(),
            what: "the conntrack count and maximum".into(),
            why: "the conntrack table was logged full; the count against the maximum sizes the fix"
                .into(),
            command: "sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max"
                .into(),
        });
    }
    if ctx.facts.sysctl.values.is_empty() {
        r.note = "no sysctl values in the bundle".into();
        return r;
    }
    let mut seen = 0usize;
    for (key, what) in REVIEWED {
        let v = if key.starts_with("net.netfilter.") {
            conntrack_key(ctx, key.trim_start_matches("net.netfilter."))
        } else {
            ctx.facts.sysctl.get(key)
        };
        let Some(v) = v else {
            continue;
        };
        seen += 1;
        let mut value = format!("{} ({what})", v.raw.replace('\t', " "));
        if *key == "net.ipv4.tcp_keepalive_time" && v.int() == Some(KEEPALIVE_DEFAULT_SECONDS) {
            value = format!("{KEEPALIVE_DEFAULT_SECONDS} (the 2-hour default: {what})");
        }
        r.facts.push(fact(ctx, key, value, Some(&v.row)));
    }

    if let (Some(c), Some(m)) = (count_v, max_v) {
        if let (Some(count), Some(max)) = (c.int(), m.int()) {
            let ratio = if max > 0 {
                count as f64 / max as f64
            } else {
                0.0
            };
            if ratio >= CONNTRACK_FULL_RATIO && !conntrack_full.is_empty() {
                let new_max = max.saturating_mul(CONNTRACK_GROWTH);
                let logged: u64 = conntrack_full.iter().map(|f| f.count).sum();
                let summary = format!(
                    "nf_conntrack_count {} of nf_conntrack_max {} ({}) while the kernel logged `table full, dropping packet` {} time(s): the table size is the failure.",
                    thousands(count.max(0) as u64),
                    thousands(max.max(0) as u64),
                    percent(ratio),
                    logged
                );
                let mut fields = Fields::new();
                fields.insert("nf_conntrack_count".into(), FieldValue::Int(count));
                fields.insert("nf_conntrack_max".into(), FieldValue::Int(max));
                fields.insert("proposed_nf_conntrack_max".into(), FieldValue::Int(new_max));
                let mut ev = vec![evidence(ctx, &c.row), evidence(ctx, &m.row)];
                for f in &conntrack_full {
                    ev.extend(log_evidence(f, 3));
                }
                let fix = Fix {
                    title: format!("Raise nf_conntrack_max to {}", thousands(new_max.max(0) as u64)),
                    text: format!(
                        "# /etc/sysctl.d/90-conntrack.conf (about 300 bytes of kernel memory per entry)\n\
                         net.netfilter.nf_conntrack_max = {new_max}   # now {max}, {} in use\n\
                         echo {} > /sys/module/nf_conntrack/parameters/hashsize   # {CONNTRACK_ENTRIES_PER_BUCKET} entries per bucket",
                        count,
                        new_max / CONNTRACK_ENTRIES_PER_BUCKET
                    ),
                };
                r.findings.push(finding(
                    ID,
                    Severity::Critical,
                    TITLE,
                    summary,
                    fields,
                    ev,
                    vec![fix],
                ));
            }
        }
    }
    if r.findings.is_empty() {
        r.status = CheckStatus::Healthy;
        r.note = format!("{seen} network value(s) checked; none tied to a failure in this bundle");
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
