//! `net.ephemeral-port-exhaustion`: client-side sockets (TIME-WAIT plus ESTAB, per local
//! address) against the width of `net.ipv4.ip_local_port_range`, with the destinations that
//! hold the ports and the `tcp_tw_reuse` state.

use super::net_common::{
    evidence, fact, fact_in, finding, log_evidence, percent, socket_lists, thousands,
};
use super::{CheckContext, CheckReport, CheckStatus, Missing};
use crate::ingest::sockets::{RowRef, SocketList, TcpState};
use crate::model::{FieldValue, Fields, Finding, Fix, Severity};

pub const ID: &str = "net.ephemeral-port-exhaustion";
const TITLE: &str = "Ephemeral (local) ports exhausted by outbound connections";

/// The kernel's default `net.ipv4.ip_local_port_range` (since Linux 4.4: 32768–60999,
/// 28,232 ports), assumed when the bundle does not say.
pub const DEFAULT_PORT_RANGE: (u64, u64) = (32768, 60999);
/// At half the range in use, a burst or a slower downstream uses up the rest within one
/// TIME-WAIT period: raise it before connects fail.
pub const USAGE_FIRE_RATIO: f64 = 0.5;
/// At 90% of the range, connects to a busy destination are failing or about to.
pub const USAGE_CRITICAL_RATIO: f64 = 0.9;
/// One destination holding at least this share of the TIME-WAIT sockets means the client
/// opens a new connection per request to it instead of reusing one.
pub const DOMINANT_DESTINATION_SHARE: f64 = 0.5;
/// Linux keeps a socket in TIME-WAIT for 60 s (TCP_TIMEWAIT_LEN, not tunable), so TIME-WAIT
/// count / 60 is the recent rate of new connections.
pub const TIME_WAIT_SECONDS: u64 = 60;
/// Destinations listed in the finding.
const TOP_DESTINATIONS: usize = 5;
/// Local addresses listed as checked facts per socket list.
const FACTS_PER_LIST: usize = 3;

/// A range the fix proposes: 55,296 ports, well clear of common server ports below 10240.
const WIDE_RANGE: (u64, u64) = (10240, 65535);

struct Usage<'a> {
    list: &'a SocketList,
    local_ip: String,
    time_wait: u64,
    established: u64,
}

impl Usage<'_> {
    fn used(&self) -> u64 {
        self.time_wait + self.established
    }
}

fn tw_reuse_meaning(v: i64) -> &'static str {
    match v {
        0 => "off",
        1 => "on for outbound connections",
        2 => "loopback only, the default since Linux 4.20",
        _ => "unknown value",
    }
}

pub fn run(ctx: &CheckContext) -> CheckReport {
    let mut r = CheckReport::new(ID, TITLE);
    let lists = socket_lists(ctx);
    let eaddr: Vec<&Finding> = ctx.log_findings_of("net.eaddrnotavail").collect();
    // Host-wide numbers without a per-address split: listed, not judged.
    for s in &ctx.facts.ss.summaries {
        if let Some((t, n)) = s.tcp.as_ref().and_then(|t| Some((t, t.get("timewait")?))) {
            r.facts.push(fact(
                ctx,
                "TIME-WAIT sockets, all addresses (ss -s)",
                thousands(n),
                Some(&t.row),
            ));
        }
    }
    if let Some(c) = ctx.facts.netstat.counter("TcpExtTCPTimeWaitOverflow") {
        r.facts.push(fact(
            ctx,
            "TcpExtTCPTimeWaitOverflow",
            c.value.to_string(),
            Some(&c.row),
        ));
    }
    if lists.is_empty() && eaddr.is_empty() {
        r.note = "no socket list and no EADDRNOTAVAIL in the logs".into();
        return r;
    }

    let sysctl = &ctx.facts.sysctl;
    let range_value = sysctl.get("net.ipv4.ip_local_port_range");
    let parsed_range = range_value.and_then(|v| match v.numbers()?.as_slice() {
        [lo, hi] if 0 < *lo && lo <= hi => Some((*lo as u64, *hi as u64)),
        _ => None,
    });
    let (range, range_source) = match parsed_range {
        Some(r) => (r, "sysctl"),
        None => (DEFAULT_PORT_RANGE, "default"),
    };
    let width = range.1 - range.0 + 1;
    match (range_value, parsed_range) {
        (Some(v), Some(_)) => r.facts.push(fact(
            ctx,
            "net.ipv4.ip_local_port_range",
            format!("{} {} ({} ports)", range.0, range.1, thousands(width)),
            Some(&v.row),
        )),
        (Some(v), None) => r.facts.push(fact(
            ctx,
            "net.ipv4.ip_local_port_range",
            format!(
                "unreadable `{}`: default {} {} ({} ports) used",
                v.raw.replace('\t', " "),
                range.0,
                range.1,
                thousands(width)
            ),
            Some(&v.row),
        )),
        (None, _) => r.facts.push(fact(
            ctx,
            "net.ipv4.ip_local_port_range",
            format!(
                "not in the bundle: kernel default {} {} ({} ports) used",
                range.0,
                range.1,
                thousands(width)
            ),
            None,
        )),
    }
    let tw_reuse = sysctl.get("net.ipv4.tcp_tw_reuse");
    let tw_reuse_int = tw_reuse.and_then(|v| v.int());
    if let Some(v) = tw_reuse {
        let value = match v.int() {
            Some(i) => format!("{i} ({})", tw_reuse_meaning(i)),
            None => v.raw.clone(),
        };
        r.facts
            .push(fact(ctx, "net.ipv4.tcp_tw_reuse", value, Some(&v.row)));
    }
    let tw_recycle = sysctl
        .get("net.ipv4.tcp_tw_recycle")
        .filter(|v| v.int().is_some_and(|i| i != 0));
    if range_value.is_none() {
        r.missing.push(Missing {
            check: ID.into(),
            what: "the ephemeral port range".into(),
            why: format!(
                "port usage was measured against the kernel default ({} ports); a customised range changes the verdict",
                thousands(width)
            ),
            command: "sysctl net.ipv4.ip_local_port_range".into(),
        });
    }

    // Client-side usage per (list, local address), busiest first.
    let mut usages: Vec<Usage> = Vec::new();
    for list in &lists {
        let tw = list.client_by_local(TcpState::TimeWait);
        let est = list.client_by_local(TcpState::Established);
        let mut ips: Vec<&str> = tw.keys().chain(est.keys()).copied().collect();
        ips.sort();
        ips.dedup();
        let mut per_list: Vec<Usage> = ips
            .into_iter()
            .filter(|ip| *ip != "*")
            .map(|ip| Usage {
                list,
                local_ip: ip.to_string(),
                time_wait: tw.get(ip).copied().unwrap_or(0),
                established: est.get(ip).copied().unwrap_or(0),
            })
            .collect();
        per_list.sort_by(|a, b| b.used().cmp(&a.used()).then(a.local_ip.cmp(&b.local_ip)));
        for u in per_list.iter().take(FACTS_PER_LIST) {
            r.facts.push(fact_in(
                ctx,
                &format!(
                    "client-side sockets from {} ({})",
                    u.local_ip,
                    ctx.path(u.list.source)
                ),
                format!(
                    "{} TIME-WAIT + {} ESTAB = {} of {} ports ({})",
                    thousands(u.time_wait),
                    thousands(u.established),
                    thousands(u.used()),
                    thousands(width),
                    percent(u.used() as f64 / width as f64)
                ),
                u.list.source,
            ));
        }
        if let Some(u) = per_list.first() {
            for (dest, n, row) in u
                .list
                .client_by_destination(TcpState::TimeWait, Some(&u.local_ip))
                .iter()
                .take(TOP_DESTINATIONS)
            {
                r.facts.push(fact(
                    ctx,
                    &format!("TIME-WAIT from {} to {dest}", u.local_ip),
                    thousands(*n),
                    Some(row),
                ));
            }
        }
        usages.extend(per_list);
    }
    usages.sort_by_key(|u| std::cmp::Reverse(u.used()));
    let worst = usages.first();
    let ratio = worst.map_or(0.0, |u| u.used() as f64 / width as f64);
    let eaddr_count: u64 = eaddr.iter().map(|f| f.count).sum();

    if lists.is_empty() {
        r.missing.push(Missing {
            check: ID.into(),
            what: "a TIME-WAIT socket list".into(),
            why: "EADDRNOTAVAIL was logged but no ss/netstat list shows which destinations hold the ports".into(),
            command: "ss -tan state time-wait".into(),
        });
    }
    if ratio < USAGE_FIRE_RATIO && eaddr.is_empty() {
        r.status = CheckStatus::Healthy;
        r.note = match worst {
            Some(u) => format!(
                "busiest local address {} uses {} of {} ports ({}), below {}",
                u.local_ip,
                thousands(u.used()),
                thousands(width),
                percent(ratio),
                percent(USAGE_FIRE_RATIO)
            ),
            None => "no client-side TIME-WAIT or ESTAB sockets".into(),
        };
        return r;
    }

    let severity = if !eaddr.is_empty() || ratio >= USAGE_CRITICAL_RATIO {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut fields = Fields::new();
    let mut ev = Vec::new();
    for f in &eaddr {
        ev.extend(log_evidence(f, 3));
    }
    let destinations_logged: Vec<String> = eaddr
        .iter()
        .filter_map(|f| f.fields.get("destination").map(|d| d.to_string()))
        .collect();
    let mut summary;
    let mut top: Vec<(String, u64, RowRef)> = Vec::new();
    let range_text = format!(
        "net.ipv4.ip_local_port_range {} {}{}",
        range.0,
        range.1,
        if range_source == "default" {
            " (kernel default, not in the bundle)"
        } else {
            ""
        }
    );
    match worst {
        Some(u) => {
            top = u
                .list
                .client_by_destination(TcpState::TimeWait, Some(&u.local_ip));
            summary = format!(
                "{} of {} local ports of {} in use ({} TIME-WAIT, {} ESTAB; {} of {})",
                thousands(u.used()),
                thousands(width),
                u.local_ip,
                thousands(u.time_wait),
                thousands(u.established),
                percent(ratio),
                range_text
            );
            if u.used() > width {
                // connect() may reuse a local port towards a different destination.
                summary.push_str(
                    "; more sockets than ports: ports are shared across destinations, and the busiest destination runs out first",
                );
            }
            if let Some((dest, n, _)) = top.first() {
                summary.push_str(&format!(
                    "; {} of the TIME-WAIT sockets go to {dest}",
                    thousands(*n)
                ));
                fields.insert("top_destination".into(), FieldValue::Text(dest.clone()));
                fields.insert(
                    "top_destination_time_wait".into(),
                    FieldValue::Int(*n as i64),
                );
            }
            fields.insert("local_address".into(), FieldValue::Text(u.local_ip.clone()));
            fields.insert("ports_used".into(), FieldValue::Int(u.used() as i64));
            fields.insert("time_wait".into(), FieldValue::Int(u.time_wait as i64));
            fields.insert("established".into(), FieldValue::Int(u.established as i64));
            for (_, _, row) in top.iter().take(TOP_DESTINATIONS) {
                ev.push(evidence(ctx, row));
            }
            for s in ctx
                .facts
                .ss
                .summaries
                .iter()
                .filter(|s| s.source == u.list.source)
            {
                if let Some(t) = &s.tcp {
                    ev.push(evidence(ctx, &t.row));
                }
            }
        }
        None => {
            summary = format!(
                "no free ephemeral port for outbound connections ({range_text}); no socket list in the bundle shows which destinations hold them"
            );
        }
    }
    if !eaddr.is_empty() {
        summary.push_str(&format!(
            "; EADDRNOTAVAIL logged {} time(s){}",
            thousands(eaddr_count),
            if destinations_logged.is_empty() {
                String::new()
            } else {
                format!(" for {}", destinations_logged.join(", "))
            }
        ));
        fields.insert(
            "eaddrnotavail_count".into(),
            FieldValue::Int(eaddr_count as i64),
        );
    }
    summary.push('.');
    fields.insert("port_range_width".into(), FieldValue::Int(width as i64));
    fields.insert(
        "port_range".into(),
        FieldValue::Text(format!("{}-{}", range.0, range.1)),
    );
    fields.insert(
        "port_range_source".into(),
        FieldValue::Text(range_source.into()),
    );
    if let Some(i) = tw_reuse_int {
        fields.insert("tcp_tw_reuse".into(), FieldValue::Int(i));
    }
    for v in [range_value, tw_reuse, tw_recycle].into_iter().flatten() {
        ev.push(evidence(ctx, &v.row));
    }

    // Fixes: reuse first, then the kernel knobs.
    let mut fixes = Vec::new();
    let total_tw: u64 = top.iter().map(|t| t.1).sum();
    let reuse_target = top
        .first()
        .map(|t| t.0.clone())
        .or_else(|| destinations_logged.first().cloned())
        .unwrap_or_else(|| "the busiest destination".into());
    let mut reuse = String::new();
    if let Some((dest, n, _)) = top.first() {
        let share = *n as f64 / total_tw.max(1) as f64;
        reuse.push_str(&format!(
            "# {} sockets in TIME-WAIT to {dest} = about {} new connections per second over the last {TIME_WAIT_SECONDS} s",
            thousands(*n),
            thousands(n / TIME_WAIT_SECONDS),
        ));
        if share >= DOMINANT_DESTINATION_SHARE {
            reuse.push_str(&format!(
                "\n# ({} of all TIME-WAIT): one destination dominating means the client opens a connection per request and never reuses it.",
                percent(share)
            ));
        }
        reuse.push('\n');
        if top.len() > 1 {
            reuse.push_str("# Top destinations by TIME-WAIT:");
            for (d, n, _) in top.iter().take(TOP_DESTINATIONS) {
                reuse.push_str(&format!("\n#   {:>7}  {d}", thousands(*n)));
            }
            reuse.push('\n');
        }
    }
    reuse.push_str(
        "Node.js: new http.Agent({ keepAlive: true, maxSockets: 64 }) or an undici Pool; database clients: one pool per process (pg.Pool), never a client per query\n\
         Go: one shared http.Client; Transport.MaxIdleConnsPerHost >= the concurrency to that host (the default 2 forces churn)\n\
         Java: a pooled client (HikariCP, Apache HttpClient PoolingHttpClientConnectionManager)",
    );
    fixes.push(Fix {
        title: format!(
            "Reuse connections to {reuse_target} (keep-alive / pooling) before touching sysctls"
        ),
        text: reuse,
    });
    let mut knobs = String::from("# /etc/sysctl.d/90-ephemeral-ports.conf\n");
    if range.0 > WIDE_RANGE.0 || range.1 < WIDE_RANGE.1 {
        knobs.push_str(&format!(
            "net.ipv4.ip_local_port_range = {} {}   # {} ports instead of {}\n",
            WIDE_RANGE.0,
            WIDE_RANGE.1,
            thousands(WIDE_RANGE.1 - WIDE_RANGE.0 + 1),
            thousands(width)
        ));
    }
    match tw_reuse_int {
        Some(1) => knobs.push_str("# net.ipv4.tcp_tw_reuse is already 1\n"),
        Some(v) => knobs.push_str(&format!(
            "net.ipv4.tcp_tw_reuse = 1   # now {v} ({}): lets outbound connects reuse TIME-WAIT ports safely (timestamps)\n",
            tw_reuse_meaning(v)
        )),
        None => knobs.push_str(
            "net.ipv4.tcp_tw_reuse = 1   # current value not in the bundle\n",
        ),
    }
    knobs.push_str(
        "# keep ip_local_reserved_ports for any server port that falls inside the new range",
    );
    fixes.push(Fix {
        title: "Then widen the port range and allow TIME-WAIT reuse for outbound connections"
            .into(),
        text: knobs,
    });
    if let Some(v) = tw_recycle {
        fixes.push(Fix {
            title: "Remove net.ipv4.tcp_tw_recycle".into(),
            text: format!(
                "net.ipv4.tcp_tw_recycle = {} is set: it was removed in Linux 4.12 because it drops connections from clients behind NAT; delete it from sysctl.d",
                v.raw.trim()
            ),
        });
    }

    r.status = CheckStatus::Fired;
    r.note = summary.clone();
    r.findings
        .push(finding(ID, severity, TITLE, summary, fields, ev, fixes));
    r
}
