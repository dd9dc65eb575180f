//! `netstat -s` text counters, `nstat`/`nstat -az`, raw `/proc/net/netstat` + `/proc/net/snmp`,
//! and `netstat -an`/`-tan`/`-tanp` state lists.
//!
//! Counters get the canonical names `nstat` prints (`TcpExtListenOverflows`, `TcpActiveOpens`):
//! the section prefix joined to the kernel's field name. `netstat -s` prose lines are mapped
//! through a table of net-tools' wordings (old and new); its `Name: value` lines (counters
//! net-tools has no prose for, e.g. `TCPReqQFullDoCookies: 3`) take the section prefix.
//! State lists feed the same socket model as `ss` (`sockets::SocketList`), kept in
//! `Facts::lists`: checks read ss and netstat lists alike (`sockets` docs).

use super::sockets::{self, BadLines, Endpoint, RowRef, SocketList, TcpState};
use super::{ParseCtx, Parsed};
use crate::model::{Diagnostic, SourceId};
use std::collections::BTreeMap;
use std::io::BufRead;

/// One counter value and the line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Counter {
    /// Signed: `/proc/net/snmp` prints `Tcp: … MaxConn -1`.
    pub value: i64,
    pub row: RowRef,
}

/// The counters of one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterSet {
    pub source: SourceId,
    /// `netstat-s`, `nstat`, `proc-net-netstat`.
    pub format: String,
    pub counters: BTreeMap<String, Counter>,
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub counter_sets: Vec<CounterSet>,
    /// `netstat -tan` style state lists, in the shared socket model.
    pub lists: Vec<SocketList>,
}

impl Facts {
    /// Fold another source's facts into these (sources are parsed independently).
    pub fn merge(&mut self, other: Facts) {
        self.counter_sets.extend(other.counter_sets);
        self.lists.extend(other.lists);
    }

    /// A counter by canonical name: the largest value over all sources (counters only grow
    /// since boot, so the largest is the latest snapshot).
    pub fn counter(&self, name: &str) -> Option<&Counter> {
        self.counter_sets
            .iter()
            .filter_map(|s| s.counters.get(name))
            .max_by_key(|c| c.value)
    }
}

/// net-tools `netstat -s` prose (number first), per section, to canonical counter names.
/// Several wordings per counter: net-tools changed spellings over the years.
const PROSE: &[(&str, &str, &str)] = &[
    ("Tcp", "active connection openings", "TcpActiveOpens"),
    ("Tcp", "active connections openings", "TcpActiveOpens"),
    ("Tcp", "passive connection openings", "TcpPassiveOpens"),
    ("Tcp", "failed connection attempts", "TcpAttemptFails"),
    ("Tcp", "connection resets received", "TcpEstabResets"),
    ("Tcp", "connections established", "TcpCurrEstab"),
    ("Tcp", "segments received", "TcpInSegs"),
    ("Tcp", "segments sent out", "TcpOutSegs"),
    ("Tcp", "segments send out", "TcpOutSegs"),
    ("Tcp", "segments retransmitted", "TcpRetransSegs"),
    ("Tcp", "segments retransmited", "TcpRetransSegs"),
    ("Tcp", "bad segments received", "TcpInErrs"),
    ("Tcp", "resets sent", "TcpOutRsts"),
    (
        "TcpExt",
        "times the listen queue of a socket overflowed",
        "TcpExtListenOverflows",
    ),
    (
        "TcpExt",
        "SYNs to LISTEN sockets dropped",
        "TcpExtListenDrops",
    ),
    (
        "TcpExt",
        "SYNs to LISTEN sockets ignored",
        "TcpExtListenDrops",
    ),
    (
        "TcpExt",
        "resets received for embryonic SYN_RECV sockets",
        "TcpExtEmbryonicRsts",
    ),
    ("TcpExt", "SYN cookies sent", "TcpExtSyncookiesSent"),
    ("TcpExt", "SYN cookies received", "TcpExtSyncookiesRecv"),
    (
        "TcpExt",
        "invalid SYN cookies received",
        "TcpExtSyncookiesFailed",
    ),
    (
        "TcpExt",
        "TCP sockets finished time wait in fast timer",
        "TcpExtTW",
    ),
    (
        "TcpExt",
        "time wait sockets recycled by time stamp",
        "TcpExtTWRecycled",
    ),
    (
        "TcpExt",
        "TCP sockets finished time wait in slow timer",
        "TcpExtTWKilled",
    ),
    (
        "TcpExt",
        "connections reset due to unexpected data",
        "TcpExtTCPAbortOnData",
    ),
    (
        "TcpExt",
        "connections reset due to early user close",
        "TcpExtTCPAbortOnClose",
    ),
    (
        "TcpExt",
        "connections aborted due to timeout",
        "TcpExtTCPAbortOnTimeout",
    ),
    (
        "TcpExt",
        "connections aborted due to memory pressure",
        "TcpExtTCPAbortOnMemory",
    ),
    (
        "TcpExt",
        "packets pruned from receive queue because of socket buffer overrun",
        "TcpExtPruneCalled",
    ),
    (
        "TcpExt",
        "packets collapsed in receive queue due to low socket buffer",
        "TcpExtTCPRcvCollapsed",
    ),
];

/// Section names of `netstat -s`, `/proc/net/netstat` and `/proc/net/snmp`.
const SECTIONS: &[&str] = &[
    "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt", "Ip6",
    "Icmp6", "Udp6", "UdpLite6", "Sctp", "TCPExt",
];

fn is_counter_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `TcpExtListenOverflows  1523  0.0` (the rate column is absent with `nstat -a -s`).
fn nstat_row(line: &str) -> Option<(&str, i64)> {
    let mut t = line.split_whitespace();
    let name = t.next()?;
    let value = t.next()?.parse::<i64>().ok()?;
    if let Some(rate) = t.next() {
        rate.parse::<f64>().ok()?;
    }
    if t.next().is_some() || !is_counter_name(name) {
        return None;
    }
    SECTIONS
        .iter()
        .any(|s| name.starts_with(s))
        .then_some((name, value))
}

fn note(f: &'static str, formats: &mut Vec<&'static str>) {
    if !formats.contains(&f) {
        formats.push(f);
    }
}

/// `tcp  0  0 10.0.0.5:43210  10.0.4.17:5432  TIME_WAIT  -`
fn looks_like_state_row(line: &str) -> bool {
    let t: Vec<&str> = line.split_whitespace().collect();
    t.len() >= 6
        && matches!(t[0], "tcp" | "tcp6")
        && t[1].parse::<u64>().is_ok()
        && t[2].parse::<u64>().is_ok()
        && t[3].contains(':')
        && TcpState::from_netstat(t[5]).is_some()
}

/// Whether `head` with `path` (a hint only) is netstat/nstat output or /proc/net counters.
pub fn detect(head: &str, _path: &str) -> bool {
    let mut nstat = 0usize;
    let mut rows = 0usize;
    let mut section_headers = 0usize;
    let mut indented_numbers = 0usize;
    for line in head.lines().take(400) {
        let t = line.trim_end();
        if t == "#kernel" {
            return true;
        }
        if t.starts_with("Proto Recv-Q Send-Q") || t.starts_with("Active Internet connections") {
            return true;
        }
        if let Some((sec, rest)) = t.split_once(": ") {
            if SECTIONS.contains(&sec)
                && rest.split_whitespace().count() >= 3
                && rest.split_whitespace().all(is_counter_name)
            {
                return true;
            }
        }
        if let Some(sec) = t.strip_suffix(':') {
            if SECTIONS.contains(&sec) {
                section_headers += 1;
            }
        }
        if line.starts_with([' ', '\t'])
            && line
                .split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u64>().is_ok())
        {
            indented_numbers += 1;
        }
        if nstat_row(t).is_some() {
            nstat += 1;
        }
        if looks_like_state_row(t) {
            rows += 1;
        }
    }
    (section_headers >= 1 && indented_numbers >= 2) || nstat >= 2 || rows >= 2
}

/// Parse one netstat/nstat/proc-net source.
pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut diagnostics = Vec::new();
    let mut bad = BadLines::default();
    let src = ctx.source;
    let mut counters: BTreeMap<String, Counter> = BTreeMap::new();
    let mut formats: Vec<&'static str> = Vec::new();
    let mut list = SocketList::new(src, "");
    let mut saw_list_header = false;
    let mut in_unix = false;
    let mut section: Option<String> = None;
    // `/proc/net/*` header line waiting for its value line: (prefix, names, line).
    let mut pending: Option<(String, Vec<String>, u64)> = None;
    let mut unmapped_prose = 0u64;

    let lines = sockets::for_each_line(reader, ctx.max_line_bytes, &mut diagnostics, |n, text| {
        let row = || RowRef {
            source: src,
            line: n,
            text: text.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return;
        }
        if trimmed == "#kernel" {
            note("nstat", &mut formats);
            return;
        }
        // State lists.
        if trimmed.starts_with("Active UNIX domain sockets")
            || trimmed.starts_with("Active Bluetooth connections")
        {
            in_unix = true;
            return;
        }
        if trimmed.starts_with("Active Internet connections") {
            in_unix = false;
            return;
        }
        if trimmed.starts_with("Proto ") {
            if trimmed.contains("Recv-Q") && !in_unix {
                saw_list_header = true;
            }
            return;
        }
        if in_unix {
            return;
        }
        let toks: Vec<&str> = trimmed.split_whitespace().collect();
        if let Some(proto) = toks.first().copied() {
            if matches!(
                proto,
                "tcp" | "tcp6" | "udp" | "udp6" | "raw" | "raw6" | "udpl" | "udpl6"
            ) && toks.get(1).is_some_and(|t| t.parse::<u64>().is_ok())
            {
                parse_state_row(&toks, row, &mut list, &mut bad, n);
                return;
            }
        }
        // /proc/net/netstat and /proc/net/snmp: `TcpExt: Names…` then `TcpExt: values…`.
        if let Some((prefix, rest)) = trimmed.split_once(':') {
            if SECTIONS.contains(&prefix)
                && !rest.trim().is_empty()
                && !text.starts_with([' ', '\t'])
            {
                let fields: Vec<&str> = rest.split_whitespace().collect();
                if fields.iter().all(|f| is_counter_name(f)) {
                    pending = Some((
                        prefix.to_string(),
                        fields.iter().map(|f| f.to_string()).collect(),
                        n,
                    ));
                    return;
                }
                let values: Option<Vec<i64>> = fields.iter().map(|f| f.parse().ok()).collect();
                match (pending.take(), values) {
                    (Some((p, names, _)), Some(values)) if p == prefix => {
                        if names.len() != values.len() {
                            bad.add(
                                n,
                                format!(
                                    "{prefix}: {} values for {} names (truncated?)",
                                    values.len(),
                                    names.len()
                                ),
                            );
                        }
                        for (name, value) in names.iter().zip(values) {
                            counters
                                .entry(format!("{prefix}{name}"))
                                .or_insert(Counter { value, row: row() });
                        }
                        if prefix.ends_with("Ext") {
                            note("proc-net-netstat", &mut formats);
                        } else {
                            note("proc-net-snmp", &mut formats);
                        }
                    }
                    (_, _) => bad.add(n, format!("`{prefix}:` values without their header line")),
                }
                return;
            }
        }
        // netstat -s section header: `Tcp:`.
        if let Some(sec) = trimmed.strip_suffix(':') {
            if !sec.contains(' ') && sec.chars().all(|c| c.is_ascii_alphanumeric()) {
                section = Some(if sec == "TCPExt" {
                    "TcpExt".into()
                } else {
                    sec.to_string()
                });
                note("netstat-s", &mut formats);
                return;
            }
        }
        if let Some((name, value)) = nstat_row(trimmed) {
            counters
                .entry(name.to_string())
                .or_insert(Counter { value, row: row() });
            note("nstat", &mut formats);
            return;
        }
        if let Some(sec) = section.as_deref() {
            // `    TCPReqQFullDoCookies: 3` / `    Forwarding: 1`
            if let Some((k, v)) = trimmed.split_once(": ") {
                if is_counter_name(k) {
                    if let Ok(value) = v.trim().parse::<i64>() {
                        counters
                            .entry(format!("{sec}{k}"))
                            .or_insert(Counter { value, row: row() });
                        return;
                    }
                }
            }
            // `    1523 times the listen queue of a socket overflowed`
            if let Some((num, phrase)) = trimmed.split_once(' ') {
                if let Ok(value) = num.parse::<i64>() {
                    let phrase = phrase.trim().trim_end_matches('.');
                    match PROSE.iter().find(|(s, p, _)| *s == sec && *p == phrase) {
                        Some((_, _, name)) => {
                            counters
                                .entry(name.to_string())
                                .or_insert(Counter { value, row: row() });
                        }
                        None => unmapped_prose += 1,
                    }
                    return;
                }
            }
            // Prose with the number inside (`Quick ack mode was activated 12 times`): not needed.
            unmapped_prose += 1;
            return;
        }
        bad.add(n, "not a netstat/nstat line");
    });

    bad.finish(&mut diagnostics);
    if unmapped_prose > 0 {
        diagnostics.push(Diagnostic::info(
            None,
            format!("{unmapped_prose} netstat -s line(s) without a canonical counter name were not kept"),
        ));
    }
    let mut format: Vec<String> = formats.iter().map(|f| f.to_string()).collect();
    let has_list = list.tcp_rows > 0 || !list.by_netid.is_empty();
    if has_list {
        let mut f = String::from("netstat-tan");
        if list.has_processes {
            f.push('p');
        }
        if !saw_list_header {
            f.push_str("-headerless");
        }
        format.push(f);
    }
    if counters.is_empty() && !has_list {
        diagnostics.push(Diagnostic::warning(
            None,
            "no netstat counter or socket row recognised",
        ));
    }
    let format = format.join("+");
    let mut facts = Facts::default();
    if !counters.is_empty() {
        facts.counter_sets.push(CounterSet {
            source: src,
            format: format.clone(),
            counters,
        });
    }
    if has_list {
        list.format = format.clone();
        facts.lists.push(list);
    }
    Parsed {
        facts,
        lines,
        format,
        diagnostics,
    }
}

/// `tcp  0  0 10.0.0.5:43210  10.0.4.17:5432  TIME_WAIT  1234/node` (udp rows may have no state).
fn parse_state_row(
    toks: &[&str],
    row: impl FnOnce() -> RowRef,
    list: &mut SocketList,
    bad: &mut BadLines,
    n: u64,
) {
    let proto = toks.first().copied().unwrap_or("");
    let netid = proto.trim_end_matches('6');
    if netid != "tcp" {
        list.count_netid(netid);
        return;
    }
    if toks.len() < 6 {
        bad.add(n, "truncated netstat socket row");
        return;
    }
    let Some(state) = TcpState::from_netstat(toks[5]) else {
        bad.add(n, format!("netstat row with unknown state `{}`", toks[5]));
        return;
    };
    let (Ok(rq), Ok(sq)) = (toks[1].parse::<u64>(), toks[2].parse::<u64>()) else {
        bad.add(n, "netstat row with non-numeric Recv-Q/Send-Q");
        return;
    };
    let (Some(local), Some(peer)) = (Endpoint::parse(toks[3]), Endpoint::parse(toks[4])) else {
        bad.add(n, "netstat row with an unreadable address:port");
        return;
    };
    let processes: Vec<_> = toks
        .get(6)
        .and_then(|p| sockets::parse_netstat_program(p))
        .into_iter()
        .collect();
    list.count_netid("tcp");
    // netstat prints Send-Q 0 for listeners: the backlog is unknown, not zero.
    let backlog = if state == TcpState::Listen {
        None
    } else {
        Some(sq)
    };
    list.add_tcp(state, rq, backlog, local, peer, processes, row);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Parsed<Facts> {
        let ctx = ParseCtx {
            source: 0,
            path: "x".into(),
            max_line_bytes: 1 << 20,
        };
        parse(&mut text.as_bytes(), &ctx)
    }

    #[test]
    fn detects_each_variant_and_not_others() {
        assert!(detect("#kernel\nIpInReceives 1 0.0\n", "x"));
        assert!(detect(
            "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed\nTcpExt: 0 0 0\n",
            "x"
        ));
        assert!(detect(
            "Ip:\n    Forwarding: 1\n    12 total packets received\n    3 forwarded\n",
            "x"
        ));
        assert!(detect(
            "Proto Recv-Q Send-Q Local Address Foreign Address State\n",
            "x"
        ));
        assert!(!detect(
            "State Recv-Q Send-Q Local Address:Port Peer Address:Port\n",
            "x"
        ));
        assert!(!detect(
            "net.core.somaxconn = 4096\nnet.ipv4.tcp_fin_timeout = 60\n",
            "x"
        ));
        assert!(!detect("Nov 21 14:23:07 host kernel: Tcp: hello\n", "x"));
    }

    #[test]
    fn proc_header_without_values_and_garbage_are_diagnostics() {
        let p = run("TcpExt: ListenOverflows ListenDrops\nTcpExt: 5\n");
        assert_eq!(
            p.facts.counter("TcpExtListenOverflows").map(|c| c.value),
            Some(5)
        );
        assert!(p
            .diagnostics
            .iter()
            .any(|d| d.message.contains("1 values for 2 names")));
        let p = run("IpExt: 1 2 3\n");
        assert!(p.facts.counter_sets.is_empty());
        assert!(!p.diagnostics.is_empty());
        let p = run("tcp 0 0 10.0.0.1:1 10.0.0.2:2 BOGUS\ntcp 0\n");
        assert_eq!(p.facts.lists.len(), 0);
        assert_eq!(p.diagnostics.len(), 3, "{:?}", p.diagnostics);
    }
}
