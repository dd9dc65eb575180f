//! `mem.cgroup-near-limit`: a memory cgroup's usage against its limit (v2 `memory.current` /
//! `memory.max`, v1 `memory.usage_in_bytes` / `memory.limit_in_bytes` or
//! `hierarchical_memory_limit`), with the `memory.stat` split that says whether the processes'
//! own memory (anon) or the page cache (file) fills it, and the OOM kills the cgroup counted.
//! Also: an OOM kill in the kernel log whose cgroup has no `memory.stat` in the bundle.

use super::fd_near_limit::{at_least_pct, ev, fact, floor_pct, pct_text};
use super::{CheckContext, CheckReport, CheckStatus, Missing};
use crate::ingest::memory_stat::{Amount, Cgroup, Entry};
use crate::model::{FieldValue, Fields, Finding, Fix, Severity};

pub const ID: &str = "mem.cgroup-near-limit";
pub const TITLE: &str = "Memory cgroup close to its limit";

/// 75%: past this the kernel starts reclaiming within the cgroup on every allocation burst,
/// and a heap or a traffic spike of a third more memory ends in an OOM kill.
pub const WARNING_PCT: u64 = 75;
/// 90%: reclaim is constant and the next allocation spike OOM-kills a process.
pub const CRITICAL_PCT: u64 = 90;
/// A limit recommended so the observed peak sits at this share of it (the same 75% the runtime
/// heap flags use, leaving a quarter for off-heap memory, cache and bursts).
pub const TARGET_PEAK_PCT: u64 = 75;
/// Limits are rounded up to this granularity (64 MiB) so the number reads like a human's.
pub const LIMIT_ROUND_BYTES: u64 = 64 << 20;

const MIB: u64 = 1 << 20;

fn mib(b: u64) -> u64 {
    b.saturating_add(MIB / 2) / MIB
}

/// A whole-percent share, rounded.
fn pct(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    ((part as u128 * 100 + whole as u128 / 2) / whole as u128) as u64
}

/// The limit that puts `peak` at `TARGET_PEAK_PCT`, rounded up to `LIMIT_ROUND_BYTES`.
pub fn recommended_limit(peak: u64) -> u64 {
    let raw = (peak as u128 * 100).div_ceil(TARGET_PEAK_PCT as u128);
    let r = LIMIT_ROUND_BYTES as u128;
    u64::try_from(raw.div_ceil(r) * r).unwrap_or(u64::MAX)
}

/// The memory.stat split: (anon, file, kernel, sock) in bytes, each when known.
pub struct Split<'a> {
    pub anon: Option<&'a Entry>,
    pub file: Option<&'a Entry>,
    pub kernel: Option<u64>,
    pub sock: Option<&'a Entry>,
}

pub fn split(cg: &Cgroup) -> Split<'_> {
    let kernel = cg.stat_of(&["kernel"]).and_then(Entry::bytes).or_else(|| {
        let parts = ["kernel_stack", "pagetables", "percpu", "vmalloc"];
        let slab = cg.stat_of(&["slab"]).and_then(Entry::bytes).or_else(|| {
            let r = cg.stat_of(&["slab_reclaimable"]).and_then(Entry::bytes);
            let u = cg.stat_of(&["slab_unreclaimable"]).and_then(Entry::bytes);
            if r.is_none() && u.is_none() {
                None
            } else {
                Some(r.unwrap_or(0).saturating_add(u.unwrap_or(0)))
            }
        });
        let known: Vec<u64> = parts
            .iter()
            .filter_map(|p| cg.stat_of(&[p]).and_then(Entry::bytes))
            .chain(slab)
            .collect();
        (!known.is_empty()).then(|| known.iter().fold(0u64, |a, b| a.saturating_add(*b)))
    });
    Split {
        anon: cg.stat_of(&["anon", "total_rss", "rss"]),
        file: cg.stat_of(&["file", "total_cache", "cache"]),
        kernel,
        sock: cg.stat_of(&["sock"]),
    }
}

/// What the split says, in one sentence with numbers.
fn split_text(s: &Split, usage: u64, limit: u64) -> (String, &'static str) {
    let mut parts = Vec::new();
    let anon = s.anon.and_then(Entry::bytes);
    let file = s.file.and_then(Entry::bytes);
    if let Some(a) = anon {
        parts.push(format!(
            "anon {} MiB ({}%) of {} MiB",
            mib(a),
            pct(a, limit),
            mib(limit)
        ));
    }
    if let Some(f) = file {
        parts.push(format!(
            "file (page cache) {} MiB ({}%)",
            mib(f),
            pct(f, limit)
        ));
    }
    if let Some(k) = s.kernel {
        parts.push(format!("kernel {} MiB ({}%)", mib(k), pct(k, limit)));
    }
    if let Some(k) = s.sock.and_then(Entry::bytes) {
        parts.push(format!("sock {} MiB ({}%)", mib(k), pct(k, limit)));
    }
    if parts.is_empty() {
        return (
            "no memory.stat for this cgroup, so the anon/file split is unknown".into(),
            "unknown",
        );
    }
    let (verdict, heavy) = match (anon, file) {
        (Some(a), _) if a as u128 * 2 >= usage as u128 => (
            "the processes' own memory (anon: heap, stacks) fills the cgroup, which page-cache reclaim cannot relieve",
            "anon",
        ),
        (_, Some(f)) if f as u128 * 2 >= usage as u128 => (
            "page cache (file) fills most of it, which the kernel reclaims before killing anything",
            "file",
        ),
        _ => ("no single kind dominates", "mixed"),
    };
    (format!("{}: {verdict}", parts.join(", ")), heavy)
}

fn int(x: u64) -> FieldValue {
    FieldValue::Int(i64::try_from(x).unwrap_or(i64::MAX))
}

/// Whether a kernel-log memcg path names this cgroup.
fn same_cgroup(cg: &Cgroup, memcg: &str, container_id: Option<&str>) -> bool {
    let m = memcg.trim_end_matches('/');
    if cg.cgroup_path.as_deref() == Some(m) {
        return true;
    }
    let m_rel = m.trim_start_matches('/');
    if !m_rel.is_empty() && cg.key.trim_end_matches('/').ends_with(m_rel) {
        return true;
    }
    matches!((container_id, cg.container_id.as_deref()), (Some(a), Some(b)) if a == b)
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let mut assessed = 0usize;
    let mut notes: Vec<String> = Vec::new();
    for cg in ctx.facts.memory_stat.cgroups.values() {
        let name = &cg.key;
        let usage = cg.usage();
        let limit = cg.limit();
        if let Some(u) = usage {
            r.facts.push(fact(
                ctx,
                format!("usage of {name}"),
                u.bytes()
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "max".into()),
                &u.at,
            ));
        }
        if let Some(l) = limit {
            r.facts.push(fact(
                ctx,
                format!("limit of {name}"),
                match l.amount {
                    Amount::Bytes(b) => b.to_string(),
                    Amount::Max => "max (unlimited)".into(),
                },
                &l.at,
            ));
        }
        let oom_kills = cg.oom_kills().and_then(Entry::bytes).unwrap_or(0);
        if let Some(o) = cg.oom_kills() {
            r.facts.push(fact(
                ctx,
                format!("oom_kill of {name}"),
                oom_kills.to_string(),
                &o.at,
            ));
        }
        let (Some(u), Some(l)) = (usage, limit) else {
            // Half the pair: say which file settles it.
            let (want, v1) = match (usage, limit, cg.version) {
                (None, _, Some(1)) => ("memory.usage_in_bytes", true),
                (None, _, _) => ("memory.current", false),
                (_, None, Some(1)) => ("memory.limit_in_bytes", true),
                (_, None, _) => ("memory.max", false),
                _ => ("", false),
            };
            if !want.is_empty() {
                let dir = match (&cg.cgroup_path, v1) {
                    (Some(p), true) => format!("/sys/fs/cgroup/memory{p}"),
                    (Some(p), false) => format!("/sys/fs/cgroup{p}"),
                    (None, _) => format!("<cgroup dir of {name}>"),
                };
                let both = if v1 {
                    "memory.usage_in_bytes memory.limit_in_bytes"
                } else {
                    "memory.current memory.max"
                };
                r.missing.push(Missing {
                    check: ID.into(),
                    what: format!("{want} of cgroup {name}"),
                    why: "the bundle has part of this cgroup's memory files but not both its usage and its limit".into(),
                    command: format!("cd {dir} && cat {both}"),
                });
            }
            if oom_kills == 0 {
                continue;
            }
            // No usage/limit pair, but the cgroup counted OOM kills: that alone is the finding.
            assessed += 1;
            if let Some(o) = cg.oom_kills() {
                r.findings.push(oom_only_finding(ctx, cg, oom_kills, o));
            }
            continue;
        };
        let (Some(used), Some(lim)) = (u.bytes(), l.bytes()) else {
            assessed += 1;
            notes.push(format!(
                "{name}: no memory limit (usage {} MiB)",
                u.bytes().map(mib).unwrap_or(0)
            ));
            if oom_kills > 0 {
                if let Some(o) = cg.oom_kills() {
                    r.findings.push(oom_only_finding(ctx, cg, oom_kills, o));
                }
            }
            continue;
        };
        assessed += 1;
        let severity = if at_least_pct(used, lim, CRITICAL_PCT) || oom_kills > 0 {
            Severity::Critical
        } else if at_least_pct(used, lim, WARNING_PCT) {
            Severity::Warning
        } else {
            notes.push(format!(
                "{name}: {} of {} MiB ({})",
                mib(used),
                mib(lim),
                pct_text(used, lim)
            ));
            continue;
        };
        let s = split(cg);
        let (split_sentence, heavy) = split_text(&s, used, lim);
        let mut summary = format!(
            "cgroup {name} uses {} MiB of its {} MiB limit ({}); {split_sentence}.",
            mib(used),
            mib(lim),
            pct_text(used, lim)
        );
        if oom_kills > 0 {
            summary.push_str(&format!(
                " The cgroup counted {oom_kills} OOM kill(s) (memory.events/oom_control oom_kill)."
            ));
        }
        // The kernel log's OOM kill in this cgroup, when the catalog found one: same incident.
        let oom_log = ctx.log_findings_of("mem.oom-kill-memcg").find(|f| {
            let cid = match f.fields.get("container_id") {
                Some(FieldValue::Text(c)) => Some(c.as_str()),
                _ => None,
            };
            matches!(f.fields.get("memcg"), Some(FieldValue::Text(m)) if same_cgroup(cg, m, cid))
        });
        if let Some(f) = oom_log {
            let process = f.fields.get("process").map(|p| p.to_string());
            let pid = f.fields.get("pid").map(|p| p.to_string());
            summary.push_str(&format!(
                " The kernel log shows the OOM kill of {} (pid {}) in this cgroup.",
                process.as_deref().unwrap_or("a process"),
                pid.as_deref().unwrap_or("?")
            ));
        }
        let peak = cg.peak().and_then(Entry::bytes).unwrap_or(used).max(used);
        let new_limit = recommended_limit(peak);
        let mut fields = Fields::new();
        fields.insert("cgroup".into(), FieldValue::Text(name.clone()));
        fields.insert("usage_bytes".into(), int(used));
        fields.insert("limit_bytes".into(), int(lim));
        fields.insert("used_pct".into(), int(floor_pct(used, lim)));
        fields.insert("peak_bytes".into(), int(peak));
        fields.insert("heavy".into(), FieldValue::Text(heavy.into()));
        fields.insert("recommended_limit_bytes".into(), int(new_limit));
        if let Some(a) = s.anon.and_then(Entry::bytes) {
            fields.insert("anon_bytes".into(), int(a));
        }
        if let Some(f) = s.file.and_then(Entry::bytes) {
            fields.insert("file_bytes".into(), int(f));
        }
        if let Some(k) = s.kernel {
            fields.insert("kernel_bytes".into(), int(k));
        }
        if let Some(k) = s.sock.and_then(Entry::bytes) {
            fields.insert("sock_bytes".into(), int(k));
        }
        if oom_kills > 0 || cg.oom_kills().is_some() {
            fields.insert("oom_kill".into(), int(oom_kills));
        }
        if let Some(p) = &cg.pod_uid {
            fields.insert("pod_uid".into(), FieldValue::Text(p.clone()));
        }
        if let Some(c) = &cg.container_id {
            fields.insert("container_id".into(), FieldValue::Text(c.clone()));
        }
        let mut evidence = vec![ev(ctx, &u.at), ev(ctx, &l.at)];
        for e in [s.anon, s.file, cg.oom_kills().filter(|_| oom_kills > 0)]
            .into_iter()
            .flatten()
        {
            evidence.push(ev(ctx, &e.at));
        }
        if let Some(f) = oom_log {
            evidence.extend(f.evidence.iter().rev().take(1).cloned());
        }
        let mut fixes = Vec::new();
        if heavy == "anon" || heavy == "mixed" || heavy == "unknown" {
            let heap_mib = mib(lim) * 75 / 100;
            fixes.push(Fix {
                title: format!("Cap the runtime heap below the {} MiB limit", mib(lim)),
                text: format!(
                    "# anon memory is the processes' own; cap the heap at 75% of the limit so the runtime collects before the kernel kills:\n\
                     NODE_OPTIONS=--max-old-space-size={heap_mib}   # Node.js (MiB)\n\
                     JAVA_OPTS=-Xmx{heap_mib}m                     # JVM (or -XX:MaxRAMPercentage=75)\n\
                     GOMEMLIMIT={heap_mib}MiB                       # Go 1.19+"
                ),
            });
        }
        fixes.push(Fix {
            title: format!(
                "Or raise the limit to {} MiB (peak {} MiB at {TARGET_PEAK_PCT}%)",
                mib(new_limit),
                mib(peak)
            ),
            text: format!(
                "# {} MiB = observed peak {} MiB / 0.{TARGET_PEAK_PCT}, rounded up to {} MiB\n\
                 # Kubernetes: resources.limits.memory: {}Mi\n\
                 # systemd: MemoryMax={}M",
                mib(new_limit),
                mib(peak),
                LIMIT_ROUND_BYTES / MIB,
                mib(new_limit),
                mib(new_limit)
            ),
        });
        if heavy == "file" {
            fixes.push(Fix {
                title: "Check whether the cache is the problem at all".into(),
                text: format!(
                    "# page cache is reclaimed before an OOM kill; pressure shows in memory.events (max, oom) and memory.pressure:\ncat /sys/fs/cgroup{0}/memory.events /sys/fs/cgroup{0}/memory.pressure",
                    cg.cgroup_path.as_deref().unwrap_or("/<cgroup>")
                ),
            });
        }
        r.findings.push(Finding {
            signature: ID.into(),
            severity,
            title: TITLE.into(),
            summary,
            count: 1,
            first: None,
            last: None,
            fields,
            evidence,
            evidence_omitted: 0,
            fixes,
        });
    }
    // OOM kills in the kernel log whose cgroup the bundle does not describe.
    for f in ctx.log_findings_of("mem.oom-kill-memcg") {
        let Some(FieldValue::Text(memcg)) = f.fields.get("memcg") else {
            continue;
        };
        let cid = match f.fields.get("container_id") {
            Some(FieldValue::Text(c)) => Some(c.as_str()),
            _ => None,
        };
        let described = ctx
            .facts
            .memory_stat
            .cgroups
            .values()
            .any(|cg| same_cgroup(cg, memcg, cid) && !cg.stat.is_empty());
        if described {
            continue;
        }
        let process = f
            .fields
            .get("process")
            .map(|p| p.to_string())
            .unwrap_or_else(|| "a process".into());
        r.missing.push(Missing {
            check: ID.into(),
            what: format!("memory.stat and memory.events of {memcg}, where the kernel OOM-killed {process}"),
            why: "mem.oom-kill-memcg fired: the anon/file split says whether the process's own memory or page cache filled the cgroup (cgroup v1: /sys/fs/cgroup/memory<memcg>/memory.stat and memory.oom_control)".into(),
            command: format!("cat /sys/fs/cgroup{memcg}/memory.stat /sys/fs/cgroup{memcg}/memory.events"),
        });
    }
    r.status = CheckStatus::of(!r.findings.is_empty(), assessed > 0);
    r.note = if let Some(f) = r.findings.first() {
        let mut n = f.summary.clone();
        if r.findings.len() > 1 {
            n.push_str(&format!(" (and {} more cgroup(s))", r.findings.len() - 1));
        }
        if !notes.is_empty() {
            n.push_str(&format!(" Healthy: {}.", notes.join("; ")));
        }
        n
    } else if !notes.is_empty() {
        notes.join("; ")
    } else {
        "no cgroup with both a memory usage and a limit in the bundle".into()
    };
    r
}

fn oom_only_finding(ctx: &CheckContext, cg: &Cgroup, oom_kills: u64, o: &Entry) -> Finding {
    let mut fields = Fields::new();
    fields.insert("cgroup".into(), FieldValue::Text(cg.key.clone()));
    fields.insert("oom_kill".into(), int(oom_kills));
    Finding {
        signature: ID.into(),
        severity: Severity::Critical,
        title: "Memory cgroup counted OOM kills".into(),
        summary: format!(
            "cgroup {} counted {oom_kills} OOM kill(s): its usage reached the limit at least once, whatever it is now.",
            cg.key
        ),
        count: 1,
        first: None,
        last: None,
        fields,
        evidence: vec![ev(ctx, &o.at)],
        evidence_omitted: 0,
        fixes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommended_limit_puts_the_peak_at_75_percent() {
        assert_eq!(recommended_limit(1 << 30), 1408 << 20);
        assert_eq!(recommended_limit(48 << 20), 64 << 20);
        assert_eq!(recommended_limit(0), 0);
        assert_eq!(recommended_limit(u64::MAX), u64::MAX);
    }

    #[test]
    fn shares() {
        assert_eq!(pct(1004535808, 1073741824), 94);
        assert_eq!(pct(1, 0), 0);
        assert_eq!(mib(1004535808), 958);
    }
}
