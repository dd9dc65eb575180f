//! `fd.low-soft-limit`: a process holding network sockets whose soft `Max open files` is 1024 or
//! less. 1024 is the default soft limit of most shells, systemd services before v240 and many
//! container runtimes: a network server under load outgrows it long before it leaks anything.

use super::fd_near_limit::{ev, fact, nofile_fixes, process_views, recommended_nofile};
use super::{CheckContext, CheckReport, CheckStatus};
use crate::model::{FieldValue, Fields, Finding, Severity};

pub const ID: &str = "fd.low-soft-limit";
pub const TITLE: &str = "Network process with a soft open-files limit of 1024 or less";

/// The select()-era default (FD_SETSIZE) that still ships as the soft RLIMIT_NOFILE of shells,
/// older systemd and container runtimes: each connection costs a descriptor, so a server with
/// this limit cannot hold more than about a thousand clients and downstream connections.
pub const LOW_SOFT_LIMIT: u64 = 1024;

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let mut assessed = 0usize;
    let mut healthy: Vec<String> = Vec::new();
    for v in process_views(ctx) {
        let (Some(p), Some(l)) = (v.fds, v.limit) else {
            continue;
        };
        let sockets = p.of_type("IPv4") + p.of_type("IPv6") + p.of_type("sock");
        if sockets == 0 {
            continue;
        }
        assessed += 1;
        let label = match v.pid {
            Some(pid) => format!("pid {pid} ({})", p.command),
            None => p.command.clone(),
        };
        r.facts.push(fact(
            ctx,
            format!("soft Max open files of {label}, holding {sockets} network sockets"),
            l.soft.to_string(),
            &l.at,
        ));
        let soft = match l.soft.value() {
            Some(s) if s <= LOW_SOFT_LIMIT => s,
            _ => {
                healthy.push(format!("{label}: soft limit {}", l.soft));
                continue;
            }
        };
        let n = recommended_nofile(p.open_fds);
        let mut fields = Fields::new();
        let int = |x: u64| FieldValue::Int(i64::try_from(x).unwrap_or(i64::MAX));
        if let Some(pid) = v.pid {
            fields.insert("pid".into(), int(u64::from(pid)));
        }
        fields.insert("command".into(), FieldValue::Text(p.command.clone()));
        fields.insert("soft_limit".into(), int(soft));
        if let Some(h) = l.hard {
            fields.insert(
                "hard_limit".into(),
                match h.value() {
                    Some(h) => int(h),
                    None => FieldValue::Text(h.to_string()),
                },
            );
        }
        fields.insert("network_sockets".into(), int(sockets));
        fields.insert("open_fds".into(), int(p.open_fds));
        fields.insert("recommended_nofile".into(), int(n));
        let mut evidence = vec![ev(ctx, &l.at)];
        if let Some(at) = p
            .type_samples
            .get("IPv4")
            .or_else(|| p.type_samples.get("IPv6"))
            .or_else(|| p.type_samples.get("sock"))
        {
            evidence.push(ev(ctx, at));
        }
        r.findings.push(Finding {
            signature: ID.into(),
            severity: Severity::Warning,
            title: TITLE.into(),
            summary: format!(
                "{label} holds {sockets} network socket(s) ({} descriptors in all) with a soft open-files limit of {soft}: every client and downstream connection costs a descriptor, so load alone reaches the limit. Recommended LimitNOFILE={n}.",
                p.open_fds
            ),
            count: 1,
            first: None,
            last: None,
            fields,
            evidence,
            evidence_omitted: 0,
            fixes: nofile_fixes(v.pid, &p.command, p.open_fds, Some(l)),
        });
    }
    r.status = CheckStatus::of(!r.findings.is_empty(), assessed > 0);
    r.note = if !r.findings.is_empty() {
        format!(
            "{} network process(es) with a soft limit of {LOW_SOFT_LIMIT} or less",
            r.findings.len()
        )
    } else if assessed > 0 {
        healthy.join("; ")
    } else {
        "no process with both network sockets (lsof) and an open-files limit".into()
    };
    r
}
