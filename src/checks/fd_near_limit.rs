//! `fd.near-limit`: open descriptors of a process (lsof, or an `ls -l /proc/<pid>/fd` listing)
//! against the soft `Max open files` of the same process, and the system-wide file handles of
//! `/proc/sys/fs/file-nr` against their maximum. An EMFILE logged by the process makes it
//! critical whatever the snapshot shows (the snapshot may have been taken after a restart).

use super::{CheckContext, CheckReport, CheckStatus, CheckedFact, Missing};
use crate::ingest::lsof::{Process, SourceLine};
use crate::ingest::proc_limits::{LimitRow, LimitValue, LimitsOrigin};
use crate::model::{Evidence, FieldValue, Fields, Finding, Fix, Severity};
use std::collections::BTreeMap;

pub const ID: &str = "fd.near-limit";
pub const TITLE: &str = "Open file descriptors close to the open-files limit";

/// 70%: a process this close to its limit exhausts it on the next burst of connections (a
/// retry storm or a slow downstream easily doubles a server's sockets in seconds).
pub const WARNING_PCT: u64 = 70;
/// 85%: exhaustion is imminent; accept loops and outbound connects start failing with EMFILE.
pub const CRITICAL_PCT: u64 = 85;
/// The floor of a recommended limit: 16384 costs nothing (a descriptor is a few hundred bytes
/// of kernel memory) and clears the 1024/4096 defaults with room for bursts.
pub const MIN_RECOMMENDED_NOFILE: u64 = 16384;
/// Headroom over the observed peak: a limit 4× the peak absorbs a doubling of load twice over
/// while a leak still shows up as a steady climb long before it is reached.
pub const PEAK_HEADROOM: u64 = 4;

/// The recommended `LimitNOFILE` / `ulimit -n` for an observed peak of open descriptors.
pub fn recommended_nofile(peak: u64) -> u64 {
    MIN_RECOMMENDED_NOFILE.max(PEAK_HEADROOM.saturating_mul(peak))
}

/// Whether `used` is at least `pct`% of `limit` (integer arithmetic, exact at the edges).
pub fn at_least_pct(used: u64, limit: u64, pct: u64) -> bool {
    limit > 0 && (used as u128) * 100 >= (limit as u128) * (pct as u128)
}

/// `used / limit` in whole percent, rounded down (0 for a zero limit).
pub fn floor_pct(used: u64, limit: u64) -> u64 {
    ((used as u128) * 100)
        .checked_div(limit as u128)
        .map_or(0, |p| u64::try_from(p).unwrap_or(u64::MAX))
}

/// `used / limit` in percent with one decimal, for summaries.
pub fn pct_text(used: u64, limit: u64) -> String {
    if limit == 0 {
        return "n/a".into();
    }
    let tenths = ((used as u128) * 1000 + (limit as u128) / 2) / (limit as u128);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// What the application log says about EMFILE, per process.
#[derive(Debug, Clone)]
pub struct EmfileReport {
    pub pid: Option<u32>,
    pub program: Option<String>,
    pub count: u64,
    pub evidence: Vec<Evidence>,
}

/// The `fd.emfile` findings of the log catalog, with the pid and program their lines name.
pub fn emfile_reports(ctx: &CheckContext) -> Vec<EmfileReport> {
    let mut out = Vec::new();
    for f in ctx.log_findings_of("fd.emfile") {
        let mut pid = None;
        let mut program = None;
        for e in &f.evidence {
            let p = crate::ingest::log::parse_line(&e.text);
            if pid.is_none() {
                pid = p.pid;
            }
            if program.is_none() {
                program = p.program.map(|s| s.into_owned());
            }
        }
        out.push(EmfileReport {
            pid,
            program,
            count: f.count,
            evidence: f.evidence.clone(),
        });
    }
    out
}

/// lsof truncates COMMAND (9 characters by default) and escapes spaces as `\x20`.
pub fn command_matches(command: &str, program: &str) -> bool {
    let c = command.replace("\\x20", " ");
    !c.is_empty() && (c == program || (c.len() >= 9 && program.starts_with(c.as_str())))
}

/// One process as the checks see it: its descriptors and its limits.
#[derive(Debug, Clone)]
pub struct ProcessView<'a> {
    pub pid: Option<u32>,
    pub fds: Option<&'a Process>,
    pub limit: Option<&'a LimitRow>,
    /// Set when the limits had no pid and were paired with the only process in the bundle.
    pub assumed_pairing: bool,
}

/// Every pid with descriptors or limits, joined by pid. Limits without a pid are paired with
/// the process only when the bundle has exactly one process with descriptors and one such table.
pub fn process_views<'a>(ctx: &CheckContext<'a>) -> Vec<ProcessView<'a>> {
    let lsof = &ctx.facts.lsof;
    let limits = &ctx.facts.proc_limits;
    let mut by_pid: BTreeMap<u32, ProcessView> = BTreeMap::new();
    for (pid, p) in &lsof.processes {
        by_pid.insert(
            *pid,
            ProcessView {
                pid: Some(*pid),
                fds: Some(p),
                limit: None,
                assumed_pairing: false,
            },
        );
    }
    for l in &limits.limits {
        if l.origin != LimitsOrigin::ProcLimits {
            continue;
        }
        let (Some(pid), Some(row)) = (l.pid, l.open_files.as_ref()) else {
            continue;
        };
        let v = by_pid.entry(pid).or_insert(ProcessView {
            pid: Some(pid),
            fds: None,
            limit: None,
            assumed_pairing: false,
        });
        v.limit.get_or_insert(row);
    }
    let pidless: Vec<&LimitRow> = limits
        .limits
        .iter()
        .filter(|l| l.origin == LimitsOrigin::ProcLimits && l.pid.is_none())
        .filter_map(|l| l.open_files.as_ref())
        .collect();
    if let [row] = pidless[..] {
        let with_fds: Vec<u32> = by_pid
            .values()
            .filter(|v| v.fds.is_some())
            .filter_map(|v| v.pid)
            .collect();
        if let [pid] = with_fds[..] {
            if let Some(v) = by_pid.get_mut(&pid) {
                if v.limit.is_none() {
                    v.limit = Some(row);
                    v.assumed_pairing = true;
                }
            }
        }
    }
    by_pid.into_values().collect()
}

/// The EMFILE report that belongs to a process: by pid, else by program name; a report whose
/// lines name neither (a bare application log) belongs to the bundle's only process that has
/// both descriptors and limits, if there is exactly one.
pub fn emfile_for<'a>(
    view: &ProcessView,
    views: &[ProcessView],
    reports: &'a [EmfileReport],
) -> Option<&'a EmfileReport> {
    if let Some(pid) = view.pid {
        if let Some(r) = reports.iter().find(|r| r.pid == Some(pid)) {
            return Some(r);
        }
    }
    let command = view.fds.map(|p| p.command.as_str()).unwrap_or("");
    let by_name = reports.iter().find(|r| {
        r.pid.is_none()
            && r.program
                .as_deref()
                .is_some_and(|p| command_matches(command, p))
    });
    if by_name.is_some() {
        return by_name;
    }
    let complete = |v: &ProcessView| v.fds.is_some() && v.limit.is_some();
    let sole = complete(view) && views.iter().filter(|v| complete(v)).count() == 1;
    if sole {
        return reports
            .iter()
            .find(|r| r.pid.is_none() && r.program.is_none());
    }
    None
}

pub(crate) fn ev(ctx: &CheckContext, at: &SourceLine) -> Evidence {
    ctx.evidence(at.source, at.line, &at.text)
}

pub(crate) fn fact(
    ctx: &CheckContext,
    name: String,
    value: String,
    at: &SourceLine,
) -> CheckedFact {
    CheckedFact {
        name,
        value,
        path: Some(ctx.path(at.source)),
        line: Some(at.line),
    }
}

/// One sentence on what kind of descriptors dominate, i.e. what leaks.
pub fn breakdown(p: &Process) -> String {
    let ipv4 = p.of_type("IPv4");
    let ipv6 = p.of_type("IPv6");
    let inet = ipv4 + ipv6 + p.of_type("sock");
    let sockets = inet + p.of_type("unix") + p.of_type("socket");
    let reg = p.of_type("REG");
    let fifo = p.of_type("FIFO");
    let total = p.open_fds.max(1);
    let mut s = format!(
        "{} IPv4 + {} IPv6 sockets, {} other sockets, {} regular files, {} pipes, {} other",
        ipv4,
        ipv6,
        sockets - ipv4 - ipv6,
        reg,
        fifo,
        p.open_fds.saturating_sub(sockets + reg + fifo)
    );
    if sockets * 2 > total {
        s.push_str(": mostly sockets, so connections leak (or the process serves more clients than its limit allows)");
        if let Some((peer, n)) = top_peer(p) {
            if n * 2 > inet {
                let established = p.socket_states.get("ESTABLISHED").copied().unwrap_or(0);
                s.push_str(&format!(
                    "; {n} of them go to one destination, {peer} ({established} ESTABLISHED in all): a connection pool without a cap, or connections never returned to it"
                ));
            }
        }
        let close_wait = p.socket_states.get("CLOSE_WAIT").copied().unwrap_or(0);
        if close_wait * 4 > inet && close_wait > 0 {
            s.push_str(&format!(
                "; {close_wait} in CLOSE_WAIT: the peer closed and the application never did"
            ));
        }
    } else if reg * 2 > total {
        s.push_str(": mostly regular files, so file handles leak (files opened and never closed)");
    } else if fifo * 2 > total {
        s.push_str(": mostly pipes, so child processes or their pipes leak");
    } else {
        s.push_str(": no single kind dominates");
    }
    if p.deleted > 0 {
        s.push_str(&format!("; {} deleted file(s) still held open", p.deleted));
    }
    s
}

/// The remote endpoint holding the most descriptors.
pub fn top_peer(p: &Process) -> Option<(&str, u64)> {
    p.peers
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, v)| (k.as_str(), *v))
}

/// The fixes for a process with `open` descriptors against `row`.
pub fn nofile_fixes(
    pid: Option<u32>,
    command: &str,
    open: u64,
    row: Option<&LimitRow>,
) -> Vec<Fix> {
    let n = recommended_nofile(open);
    let hard_note = match row.and_then(|r| r.hard) {
        Some(LimitValue::Value(h)) if h < n => format!(
            "\n# The hard limit ({h}) is below {n}: raise both (LimitNOFILE={n} sets soft and hard; `ulimit -n` cannot exceed the hard limit without privilege)."
        ),
        Some(h) => format!(
            "\n# The hard limit ({h}) already allows {n}: the soft limit is what blocks (Go 1.19+ raises its soft limit to the hard one at startup; other runtimes do not)."
        ),
        None => String::new(),
    };
    let who = match pid {
        Some(p) => format!("pid {p}"),
        None => "the process".into(),
    };
    let pid_expr = match pid {
        Some(p) => p.to_string(),
        None => format!("$(pgrep -o {})", command.replace("\\x20", " ")),
    };
    vec![
        Fix {
            title: format!("Raise the open-files limit to {n}"),
            text: format!(
                "# {n} = max({MIN_RECOMMENDED_NOFILE}, {PEAK_HEADROOM} x {open} open descriptors observed for {who}){hard_note}\n\
                 # systemd unit (systemctl edit <unit>):\n\
                 [Service]\n\
                 LimitNOFILE={n}\n\
                 # shell or init script, before starting the process:\n\
                 ulimit -n {n}\n\
                 # Docker: --ulimit nofile={n}:{n}   (containerd/CRI-O: the runtime's default rlimits)"
            ),
        },
        Fix {
            title: "Find what holds the descriptors".into(),
            text: format!(
                "# by TYPE (IPv4/IPv6 = connections, REG = files, FIFO = pipes):\n\
                 lsof -nP -p {pid_expr} | awk 'NR>1 {{print $5}}' | sort | uniq -c | sort -rn\n\
                 # connections by destination:\n\
                 ss -tanp | grep 'pid={pid_expr},' | awk '{{print $1, $5}}' | sort | uniq -c | sort -rn | head"
            ),
        },
    ]
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let reports = emfile_reports(ctx);
    let views = process_views(ctx);
    let mut assessed = 0usize;
    let mut notes: Vec<String> = Vec::new();
    let mut unpaired = 0u64;
    for v in &views {
        let label = match (v.pid, v.fds.map(|p| p.command.as_str())) {
            (Some(pid), Some(c)) if !c.is_empty() => format!("pid {pid} ({c})"),
            (Some(pid), _) => format!("pid {pid}"),
            _ => "a process".into(),
        };
        let em = emfile_for(v, &views, &reports);
        if let Some(p) = v.fds {
            // A host-wide lsof lists hundreds of processes: list those the check could compare
            // (or that logged EMFILE) and count the rest.
            if v.limit.is_none() && em.is_none() {
                unpaired += 1;
            } else if let Some(at) = &p.first {
                r.facts.push(fact(
                    ctx,
                    format!("open fds of {label}"),
                    p.open_fds.to_string(),
                    at,
                ));
            }
        }
        if let Some(l) = v.limit {
            let hard = l.hard.map(|h| h.to_string()).unwrap_or_else(|| "?".into());
            let mut name = format!("soft/hard Max open files of {label}");
            if v.assumed_pairing {
                name.push_str(" (limits file names no pid; the bundle's only process assumed)");
            }
            r.facts
                .push(fact(ctx, name, format!("{}/{}", l.soft, hard), &l.at));
        }
        let (Some(p), Some(l)) = (v.fds, v.limit) else {
            continue;
        };
        let Some(soft) = l.soft.value() else {
            assessed += 1;
            notes.push(format!("{label}: {} fds, soft limit unlimited", p.open_fds));
            continue;
        };
        assessed += 1;
        let severity = if em.is_some() || at_least_pct(p.open_fds, soft, CRITICAL_PCT) {
            Severity::Critical
        } else if at_least_pct(p.open_fds, soft, WARNING_PCT) {
            Severity::Warning
        } else {
            notes.push(format!(
                "{label}: {} of {} fds ({})",
                p.open_fds,
                soft,
                pct_text(p.open_fds, soft)
            ));
            continue;
        };
        let n = recommended_nofile(p.open_fds);
        let mut summary = format!(
            "{label} holds {} open file descriptors against a soft limit of {soft} ({})",
            p.open_fds,
            pct_text(p.open_fds, soft)
        );
        if let Some(e) = em {
            summary.push_str(&format!(" and logged EMFILE {} time(s)", e.count));
        }
        summary.push_str(&format!("; {}. Recommended LimitNOFILE={n}.", breakdown(p)));
        let mut fields = Fields::new();
        let int = |x: u64| FieldValue::Int(i64::try_from(x).unwrap_or(i64::MAX));
        if let Some(pid) = v.pid {
            fields.insert("pid".into(), int(u64::from(pid)));
        }
        fields.insert("command".into(), FieldValue::Text(p.command.clone()));
        fields.insert("open_fds".into(), int(p.open_fds));
        fields.insert("soft_limit".into(), int(soft));
        if let Some(h) = l.hard {
            fields.insert("hard_limit".into(), FieldValue::Text(h.to_string()));
            if let Some(h) = h.value() {
                fields.insert("hard_limit".into(), int(h));
            }
        }
        fields.insert("used_pct".into(), int(floor_pct(p.open_fds, soft)));
        fields.insert("recommended_nofile".into(), int(n));
        for (t, k) in [
            ("IPv4", "ipv4_fds"),
            ("IPv6", "ipv6_fds"),
            ("REG", "reg_fds"),
            ("FIFO", "fifo_fds"),
        ] {
            fields.insert(k.into(), int(p.of_type(t)));
        }
        if let Some((peer, count)) = top_peer(p) {
            fields.insert("top_peer".into(), FieldValue::Text(peer.to_string()));
            fields.insert("top_peer_fds".into(), int(count));
        }
        if let Some(e) = em {
            fields.insert("emfile_count".into(), int(e.count));
        }
        let mut evidence = vec![ev(ctx, &l.at)];
        if let Some(at) = &p.first {
            evidence.push(ev(ctx, at));
        }
        if let Some((peer, _)) = top_peer(p) {
            if let Some(at) = p.peer_samples.get(peer) {
                evidence.push(ev(ctx, at));
            }
        }
        if let Some(e) = em {
            evidence.extend(e.evidence.iter().take(3).cloned());
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
            fixes: nofile_fixes(v.pid, &p.command, p.open_fds, Some(l)),
        });
    }
    // `ulimit -a` says what a shell's children inherit, not what a given process has: a fact only.
    for l in &ctx.facts.proc_limits.limits {
        if l.origin != LimitsOrigin::Ulimit {
            continue;
        }
        if let Some(row) = &l.open_files {
            r.facts.push(fact(
                ctx,
                "open files of the shell that ran `ulimit -a` (inherited by what it starts)".into(),
                row.soft.to_string(),
                &row.at,
            ));
        }
    }
    if unpaired > 0 {
        r.facts.push(CheckedFact {
            name: "processes with open fds but no open-files limit in the bundle".into(),
            value: unpaired.to_string(),
            path: None,
            line: None,
        });
    }
    // System-wide handles.
    for nr in &ctx.facts.proc_limits.file_nr {
        assessed += 1;
        r.facts.push(fact(
            ctx,
            "file-nr allocated/max".into(),
            format!("{}/{}", nr.allocated, nr.max),
            &nr.at,
        ));
        let severity = if at_least_pct(nr.allocated, nr.max, CRITICAL_PCT) {
            Severity::Critical
        } else if at_least_pct(nr.allocated, nr.max, WARNING_PCT) {
            Severity::Warning
        } else {
            notes.push(format!(
                "system: {} of {} file handles ({})",
                nr.allocated,
                nr.max,
                pct_text(nr.allocated, nr.max)
            ));
            continue;
        };
        let n = nr
            .max
            .saturating_mul(2)
            .max(nr.allocated.saturating_mul(PEAK_HEADROOM));
        let mut fields = Fields::new();
        let int = |x: u64| FieldValue::Int(i64::try_from(x).unwrap_or(i64::MAX));
        fields.insert("allocated".into(), int(nr.allocated));
        fields.insert("max".into(), int(nr.max));
        fields.insert("recommended_file_max".into(), int(n));
        r.findings.push(Finding {
            signature: ID.into(),
            severity,
            title: "System-wide file handles close to fs.file-max".into(),
            summary: format!(
                "The host has {} file handles allocated of fs.file-max {} ({}): every process risks ENFILE.",
                nr.allocated,
                nr.max,
                pct_text(nr.allocated, nr.max)
            ),
            count: 1,
            first: None,
            last: None,
            fields,
            evidence: vec![ev(ctx, &nr.at)],
            evidence_omitted: 0,
            fixes: vec![Fix {
                title: format!("Raise fs.file-max to {n}"),
                text: format!(
                    "# {n} = max(2 x current max {}, {PEAK_HEADROOM} x {} allocated)\nsysctl -w fs.file-max={n}\necho 'fs.file-max = {n}' > /etc/sysctl.d/60-file-max.conf\n# and find the process holding them: for p in /proc/[0-9]*; do echo \"$(ls $p/fd 2>/dev/null | wc -l) $p\"; done | sort -rn | head",
                    nr.max, nr.allocated
                ),
            }],
        });
    }
    // EMFILE with nothing to compare it with: say what to collect.
    for e in &reports {
        let complete = views.iter().any(|v| {
            v.fds.is_some()
                && v.limit.is_some()
                && emfile_for(v, &views, &reports).is_some_and(|x| std::ptr::eq(x, e))
        });
        if complete {
            continue;
        }
        let pid = e
            .pid
            .map(|p| p.to_string())
            .unwrap_or_else(|| match &e.program {
                Some(p) => format!("$(pgrep -o {p})"),
                None => "<pid>".into(),
            });
        let who = match (&e.program, e.pid) {
            (Some(p), Some(pid)) => format!("{p} (pid {pid})"),
            (Some(p), None) => p.clone(),
            (None, Some(pid)) => format!("pid {pid}"),
            (None, None) => "the process that logged EMFILE".into(),
        };
        r.missing.push(Missing {
            check: ID.into(),
            what: format!("open-files limit and open descriptors of {who}"),
            why: "fd.emfile fired: the limit and the descriptor breakdown say whether the limit is too low or descriptors leak".into(),
            command: format!("cat /proc/{pid}/limits; ls /proc/{pid}/fd | wc -l; lsof -p {pid} -nP"),
        });
    }
    r.status = CheckStatus::of(!r.findings.is_empty(), assessed > 0);
    r.note = if r.findings.is_empty() {
        if notes.is_empty() {
            "no process with both open descriptors and an open-files limit, and no file-nr".into()
        } else {
            notes.join("; ")
        }
    } else {
        let worst: Vec<String> = r
            .findings
            .iter()
            .map(|f| f.summary.clone())
            .take(1)
            .collect();
        let mut n = worst.join("");
        if !notes.is_empty() {
            n.push_str(&format!(" Healthy: {}.", notes.join("; ")));
        }
        n
    };
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact_at_the_edges() {
        assert!(!at_least_pct(69, 100, WARNING_PCT));
        assert!(at_least_pct(70, 100, WARNING_PCT));
        assert!(!at_least_pct(84, 100, CRITICAL_PCT));
        assert!(at_least_pct(85, 100, CRITICAL_PCT));
        assert!(!at_least_pct(716, 1024, WARNING_PCT)); // 69.9%
        assert!(at_least_pct(717, 1024, WARNING_PCT)); // 70.0%
        assert!(!at_least_pct(1, 0, WARNING_PCT));
        assert!(at_least_pct(u64::MAX, u64::MAX, CRITICAL_PCT));
    }

    #[test]
    fn recommended_limits() {
        assert_eq!(recommended_nofile(0), 16384);
        assert_eq!(recommended_nofile(1021), 16384);
        assert_eq!(recommended_nofile(4096), 16384);
        assert_eq!(recommended_nofile(4097), 16388);
        assert_eq!(recommended_nofile(u64::MAX), u64::MAX);
        assert_eq!(pct_text(1021, 1024), "99.7%");
        assert_eq!(pct_text(0, 0), "n/a");
        assert_eq!(floor_pct(1021, 1024), 99);
        assert_eq!(floor_pct(5, 0), 0);
    }

    #[test]
    fn truncated_commands_match_program_names() {
        assert!(command_matches("orders-ap", "orders-api"));
        assert!(command_matches("node", "node"));
        assert!(!command_matches("node", "nodejs"));
        assert!(command_matches("my\\x20app", "my app"));
        assert!(!command_matches("", "x"));
    }
}
