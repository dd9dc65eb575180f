//! `ss -s` summaries, `ss -tan`/`-tanp`/`-na` socket lists and `ss -lnt`/`-lntp` listeners.
//!
//! Rows are split on whitespace: ss pads columns to the terminal, and the only columns that
//! matter (state, queues, local and peer address:port, `users:(…)`) never contain spaces for
//! inet sockets. Unix, netlink and packet sockets (`ss -na`) are counted by netid only.
//! Extra columns of `-o`/`-e` (`timer:(…)`, `uid:`, `ino:`) follow the process and are
//! ignored; the continuation lines of `-i`/`-m` (`skmem:(…)`, `cubic wscale:…`) start with
//! whitespace and are skipped. Without a header (a grep), rows are recognised by their state.

use super::sockets::{self, BadLines, Endpoint, RowRef, SocketList, TcpState};
use super::{ParseCtx, Parsed};
use crate::model::{Diagnostic, SourceId};
use std::collections::BTreeMap;
use std::io::BufRead;

/// `TCP:   45000 (estab 300, closed 44000, orphaned 2, timewait 43990)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TcpSummary {
    pub total: u64,
    /// `estab`, `closed`, `orphaned`, `synrecv`, `timewait` as printed (older ss prints
    /// `timewait 43990/0`: the first number is kept).
    pub counts: BTreeMap<String, u64>,
    pub row: RowRef,
}

impl TcpSummary {
    pub fn get(&self, key: &str) -> Option<u64> {
        self.counts.get(key).copied()
    }
}

/// One row of the `Transport Total IP IPv6` table (`-` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct TransportRow {
    pub total: Option<u64>,
    pub ip: Option<u64>,
    pub ipv6: Option<u64>,
    pub row: RowRef,
}

/// One `ss -s` output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub source: SourceId,
    /// `Total: 1234` (older ss: `Total: 1234 (kernel 1500)`).
    pub total: Option<(u64, RowRef)>,
    pub tcp: Option<TcpSummary>,
    /// `RAW`, `UDP`, `TCP`, `INET`, `FRAG` (and `*` on old versions).
    pub transport: BTreeMap<String, TransportRow>,
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub lists: Vec<SocketList>,
    pub summaries: Vec<Summary>,
}

impl Facts {
    /// Fold another source's facts into these (sources are parsed independently).
    pub fn merge(&mut self, other: Facts) {
        self.lists.extend(other.lists);
        self.summaries.extend(other.summaries);
    }
}

/// Netids of `ss -a`/`-na` (`Netid` column). Only `tcp` rows feed the TCP aggregates.
const NETIDS: &[&str] = &[
    "tcp",
    "udp",
    "raw",
    "u_str",
    "u_dgr",
    "u_seq",
    "u_seqpacket",
    "p_raw",
    "p_dgr",
    "nl",
    "v_str",
    "v_dgr",
    "mptcp",
    "sctp",
    "tipc",
    "xdp",
    "icmp6",
    "dccp",
];

fn is_header(line: &str) -> bool {
    line.contains("Recv-Q") && line.contains("Send-Q") && line.contains("Local Address")
}

/// A socket row without header: `STATE RQ SQ LOCAL PEER …` or `NETID STATE RQ SQ LOCAL PEER …`.
fn looks_like_row(line: &str) -> bool {
    let t: Vec<&str> = line.split_whitespace().collect();
    let t = match t.first() {
        Some(n) if NETIDS.contains(n) => &t[1..],
        _ => &t[..],
    };
    t.len() >= 5
        && TcpState::from_ss(t[0]).is_some()
        && t[1].parse::<u64>().is_ok()
        && t[2].parse::<u64>().is_ok()
        && t[3].contains(':')
}

/// Whether `head` with `path` (a hint only) is ss output.
pub fn detect(head: &str, _path: &str) -> bool {
    let mut total = false;
    let mut tcp_summary = false;
    let mut rows = 0usize;
    let mut others = 0usize;
    for line in head.lines().take(200) {
        if line.trim().is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        if is_header(line) && !line.trim_start().starts_with("Proto") {
            return true;
        }
        if line.starts_with("Total: ") {
            total = true;
        } else if line.starts_with("TCP:") && line.contains("(estab") {
            tcp_summary = true;
        } else if looks_like_row(line) {
            rows += 1;
        } else {
            others += 1;
        }
    }
    (total && tcp_summary) || (rows >= 2 && rows >= others)
}

/// How the columns of a list are laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    netid: bool,
    state: bool,
}

/// Parse one `ss` output (a summary, a list, or both concatenated).
pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut diagnostics = Vec::new();
    let mut bad = BadLines::default();
    let mut list = SocketList::new(ctx.source, "");
    let mut summary = Summary {
        source: ctx.source,
        ..Default::default()
    };
    let mut layout: Option<Layout> = None;
    let mut in_transport = false;
    let mut saw_header = false;
    // `ss -tan state time-wait` prints no State column: the state is only in the command,
    // which a bundle keeps in the file name at best.
    let path_state = state_from_path(&ctx.path);
    let mut warned_no_state = false;
    let mut continuation_lines = 0u64;
    let src = ctx.source;
    let mut notes: Vec<Diagnostic> = Vec::new();

    let lines = sockets::for_each_line(reader, ctx.max_line_bytes, &mut diagnostics, |n, text| {
        let row = || RowRef {
            source: src,
            line: n,
            text: text.to_string(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            in_transport = false;
            return;
        }
        if text.starts_with([' ', '\t']) && !looks_like_row(trimmed) {
            // -i/-m/-e continuation (`skmem:(…)`, `cubic wscale:7,7 rto:204 …`).
            continuation_lines += 1;
            return;
        }
        if is_header(text) {
            saw_header = true;
            let first = trimmed.split_whitespace().next().unwrap_or("");
            layout = Some(Layout {
                netid: first == "Netid",
                state: text.contains("State"),
            });
            in_transport = false;
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("Total:") {
            match leading_u64(rest) {
                Some(v) => summary.total = Some((v, row())),
                None => bad.add(n, "ss -s `Total:` without a number"),
            }
            return;
        }
        if let Some(rest) = trimmed.strip_prefix("TCP:") {
            if rest.contains('(') {
                match parse_tcp_summary(rest, row()) {
                    Some(t) => summary.tcp = Some(t),
                    None => bad.add(n, "unreadable ss -s `TCP:` line"),
                }
                return;
            }
        }
        if trimmed.starts_with("Transport") && trimmed.contains("Total") {
            in_transport = true;
            return;
        }
        if in_transport {
            let t: Vec<&str> = trimmed.split_whitespace().collect();
            if t.len() == 4 {
                let num = |s: &str| s.parse::<u64>().ok();
                summary.transport.insert(
                    t[0].to_string(),
                    TransportRow {
                        total: num(t[1]),
                        ip: num(t[2]),
                        ipv6: num(t[3]),
                        row: row(),
                    },
                );
                return;
            }
            in_transport = false;
        }
        let lay = match layout {
            Some(l) => l,
            None => {
                // Headerless (grep): infer from the row.
                let first = trimmed.split_whitespace().next().unwrap_or("");
                Layout {
                    netid: NETIDS.contains(&first),
                    state: true,
                }
            }
        };
        let mut toks = trimmed.split_whitespace();
        let netid = if lay.netid { toks.next() } else { None };
        if let Some(id) = netid {
            list.count_netid(id);
            if id != "tcp" {
                return;
            }
        }
        let state = if lay.state {
            let s = toks.next().unwrap_or("");
            match TcpState::from_ss(s) {
                Some(st) => st,
                None => {
                    bad.add(n, format!("not an ss socket row (unknown state `{s}`)"));
                    return;
                }
            }
        } else {
            match path_state {
                Some(s) => {
                    if !warned_no_state {
                        warned_no_state = true;
                        notes.push(Diagnostic::info(
                            Some(n),
                            format!(
                                "no State column (`ss … state` filter): rows taken as {} from the file name",
                                s.as_str()
                            ),
                        ));
                    }
                    s
                }
                None => {
                    if !warned_no_state {
                        warned_no_state = true;
                        notes.push(Diagnostic::warning(
                            Some(n),
                            "no State column (`ss … state` filter) and no state in the file name: rows not counted",
                        ));
                    }
                    return;
                }
            }
        };
        let (Some(rq), Some(sq), Some(local), Some(peer)) =
            (toks.next(), toks.next(), toks.next(), toks.next())
        else {
            bad.add(n, "truncated ss socket row");
            return;
        };
        let (Ok(rq), Ok(sq)) = (rq.parse::<u64>(), sq.parse::<u64>()) else {
            bad.add(n, "ss socket row with non-numeric Recv-Q/Send-Q");
            return;
        };
        let (Some(local), Some(peer)) = (Endpoint::parse(local), Endpoint::parse(peer)) else {
            bad.add(n, "ss socket row with an unreadable address:port");
            return;
        };
        if netid.is_none() {
            list.count_netid("tcp");
        }
        let processes = sockets::parse_ss_users(text);
        list.add_tcp(state, rq, Some(sq), local, peer, processes, row);
    });

    diagnostics.extend(notes);
    bad.finish(&mut diagnostics);
    if continuation_lines > 0 {
        diagnostics.push(Diagnostic::info(
            None,
            format!("{continuation_lines} continuation line(s) of -i/-m/-e details skipped"),
        ));
    }
    let has_summary = summary.total.is_some() || summary.tcp.is_some();
    let has_list = !list.by_netid.is_empty();
    let mut format = Vec::new();
    if has_summary {
        format.push("ss-s".to_string());
    }
    if has_list {
        let only_listen = list.tcp_rows > 0 && list.count(TcpState::Listen) == list.tcp_rows;
        let netids = layout.is_some_and(|l| l.netid);
        let mut f = String::from(match (only_listen, netids) {
            (true, _) => "ss-lnt",
            (false, true) => "ss-na",
            (false, false) => "ss-tan",
        });
        if list.has_processes {
            f.push('p');
        }
        if !saw_header {
            f.push_str("-headerless");
        }
        format.push(f);
    }
    if !has_summary && !has_list {
        diagnostics.push(Diagnostic::warning(
            None,
            "no ss summary or socket row recognised",
        ));
    }
    let format = format.join("+");
    let mut facts = Facts::default();
    if has_summary {
        facts.summaries.push(summary);
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

fn leading_u64(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

/// `   45000 (estab 300, closed 44000, orphaned 2, timewait 43990)` (older: `synrecv 0,
/// timewait 43990/0), ports 0`).
fn parse_tcp_summary(rest: &str, row: RowRef) -> Option<TcpSummary> {
    let total = leading_u64(rest)?;
    let inner = rest.split_once('(')?.1;
    let inner = inner.split_once(')').map(|p| p.0).unwrap_or(inner);
    let mut counts = BTreeMap::new();
    for part in inner.split(',') {
        let mut kv = part.split_whitespace();
        if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
            let v = v.split('/').next().unwrap_or(v);
            if let Ok(v) = v.parse::<u64>() {
                counts.insert(k.to_string(), v);
            }
        }
    }
    Some(TcpSummary { total, counts, row })
}

/// `ss-tan-state-time-wait.txt`, `ss_-tan_state_time-wait` → TIME-WAIT.
fn state_from_path(path: &str) -> Option<TcpState> {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let name = name.replace('_', "-");
    [
        ("time-wait", TcpState::TimeWait),
        ("timewait", TcpState::TimeWait),
        ("close-wait", TcpState::CloseWait),
        ("established", TcpState::Established),
        ("estab", TcpState::Established),
        ("syn-sent", TcpState::SynSent),
        ("syn-recv", TcpState::SynRecv),
        ("listening", TcpState::Listen),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, path: &str) -> Parsed<Facts> {
        let ctx = ParseCtx {
            source: 0,
            path: path.into(),
            max_line_bytes: 1 << 20,
        };
        parse(&mut text.as_bytes(), &ctx)
    }

    #[test]
    fn detects_headers_summaries_and_headerless_rows() {
        assert!(detect(
            "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n",
            "x"
        ));
        assert!(detect(
            "Total: 12\nTCP:   5 (estab 2, closed 0, orphaned 0, timewait 0)\n",
            "x"
        ));
        assert!(detect(
            "ESTAB 0 0 10.0.0.1:40000 10.0.0.2:5432\nTIME-WAIT 0 0 10.0.0.1:40001 10.0.0.2:5432\n",
            "x"
        ));
        assert!(!detect(
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State\n",
            "x"
        ));
        assert!(!detect(
            "Nov 21 14:23:07 host kernel: ESTAB 0 0 a:1 b:2\n",
            "x"
        ));
        assert!(!detect("net.core.somaxconn = 4096\n", "x"));
    }

    #[test]
    fn state_filter_without_state_column_uses_the_file_name() {
        let text = "Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n0      0      10.0.2.15:40000   10.0.4.17:5432\n";
        let p = run(text, "ss-tan-state-time-wait.txt");
        assert_eq!(p.facts.lists[0].count(TcpState::TimeWait), 1);
        let p = run(text, "ss.txt");
        assert!(p.facts.lists.is_empty() || p.facts.lists[0].tcp_rows == 0);
        assert!(p
            .diagnostics
            .iter()
            .any(|d| d.message.contains("no State column")));
    }

    #[test]
    fn garbage_and_truncated_rows_are_diagnostics() {
        let p = run("State Recv-Q Send-Q Local Address:Port Peer Address:Port\nESTAB 0\nBOGUS 1 2 3 4\nESTAB x y a:1 b:2\n", "x");
        assert_eq!(p.facts.lists.len(), 0);
        assert_eq!(p.diagnostics.len(), 4, "{:?}", p.diagnostics);
        let p = run("\u{fffd}\u{fffd}\n\n", "x");
        assert!(p.diagnostics.iter().any(|d| d.message.contains("no ss")));
    }
}
