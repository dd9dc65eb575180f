//! The socket model shared by `ss` and `netstat` state lists: one `SocketList` per source,
//! aggregated while streaming (an `ss -tan` of a busy host has 100k rows), keeping what the
//! checks read (counts per state, per local address and destination, per process) and the
//! first row of every group as evidence.
//!
//! Client or server side: a row whose local port is a listening port already seen in the
//! same list (or a privileged port below 1024) is server-side; any other row is client-side.
//! `ss` and `netstat` print LISTEN sockets first (the kernel dumps its listening hash before
//! the established hash), so listeners are known by the time their connections come. A
//! grepped list without listeners counts everything above port 1023 as client-side.

use crate::model::SourceId;
use std::collections::{BTreeMap, BTreeSet};

/// TCP states under the names `ss` prints (netstat's `TIME_WAIT` maps to `TIME-WAIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// `UNCONN` (UDP and raw sockets) in ss.
    Unconn,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::Unconn => "UNCONN",
        }
    }

    /// ss spelling (`ESTAB`, `TIME-WAIT`, `UNCONN`).
    pub fn from_ss(s: &str) -> Option<TcpState> {
        Some(match s {
            "ESTAB" => TcpState::Established,
            "SYN-SENT" => TcpState::SynSent,
            "SYN-RECV" => TcpState::SynRecv,
            "FIN-WAIT-1" => TcpState::FinWait1,
            "FIN-WAIT-2" => TcpState::FinWait2,
            "TIME-WAIT" => TcpState::TimeWait,
            "CLOSE" => TcpState::Close,
            "UNCONN" => TcpState::Unconn,
            "CLOSE-WAIT" => TcpState::CloseWait,
            "LAST-ACK" => TcpState::LastAck,
            "LISTEN" => TcpState::Listen,
            "CLOSING" => TcpState::Closing,
            _ => return None,
        })
    }

    /// netstat spelling (`ESTABLISHED`, `TIME_WAIT`, `FIN_WAIT1`).
    pub fn from_netstat(s: &str) -> Option<TcpState> {
        Some(match s {
            "ESTABLISHED" => TcpState::Established,
            "SYN_SENT" => TcpState::SynSent,
            "SYN_RECV" => TcpState::SynRecv,
            "FIN_WAIT1" => TcpState::FinWait1,
            "FIN_WAIT2" => TcpState::FinWait2,
            "TIME_WAIT" => TcpState::TimeWait,
            "CLOSE" => TcpState::Close,
            "CLOSE_WAIT" => TcpState::CloseWait,
            "LAST_ACK" => TcpState::LastAck,
            "LISTEN" => TcpState::Listen,
            "CLOSING" => TcpState::Closing,
            _ => return None,
        })
    }
}

/// An address and port as printed, split and normalised for grouping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Address without brackets, scope or the `::ffff:` prefix of v4-mapped addresses;
    /// `*` for the wildcard (`*`, `0.0.0.0`, `::`).
    pub ip: String,
    /// Port as printed (`5432`, `*`, or a service name without `-n`).
    pub port: String,
    /// The address:port exactly as printed (`[::]:22`, `127.0.0.53%lo:53`).
    pub raw: String,
}

impl Endpoint {
    /// `10.0.0.1:443`, `[::ffff:10.0.0.1]:443`, `[::]:3000`, `*:3000`, `10.0.0.1%lo:53`,
    /// `[fe80::1]%eth0:22`, old ss / netstat `:::22`, `::ffff:10.0.0.1:443`, `0.0.0.0:*`.
    pub fn parse(s: &str) -> Option<Endpoint> {
        let (addr, port) = s.rsplit_once(':')?;
        if port.is_empty() || addr.is_empty() {
            return None;
        }
        let mut a = addr;
        // Scope after the bracket or the address: `[fe80::1]%eth0`, `127.0.0.53%lo`.
        if let Some((before, _scope)) = a.split_once('%') {
            a = before;
        }
        let a = a.trim_start_matches('[').trim_end_matches(']');
        let a = a.strip_prefix("::ffff:").unwrap_or(a);
        let ip = match a {
            "" | "*" | "0.0.0.0" | "::" => "*".to_string(),
            other => other.to_string(),
        };
        if !ip
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':' || c == '*')
        {
            return None;
        }
        Some(Endpoint {
            ip,
            port: port.to_string(),
            raw: s.to_string(),
        })
    }

    pub fn port_number(&self) -> Option<u16> {
        self.port.parse().ok()
    }

    /// `10.0.4.17:5432`, `[2001:db8::1]:443`.
    pub fn display(&self) -> String {
        if self.ip.contains(':') {
            format!("[{}]:{}", self.ip, self.port)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }
}

/// A process owning a socket (`users:(("node",pid=1234,fd=23))`, netstat `1234/node`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Process {
    pub name: String,
    pub pid: u32,
}

impl Process {
    pub fn display(&self) -> String {
        format!("{} (pid {})", self.name, self.pid)
    }
}

/// Where a fact was read: source, 1-based line and the line as written.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RowRef {
    pub source: SourceId,
    pub line: u64,
    pub text: String,
}

/// A listening TCP socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub local: Endpoint,
    /// Connections waiting in the accept queue.
    pub recv_q: u64,
    /// Effective backlog = min(listen() backlog, net.core.somaxconn); `None` where the tool
    /// does not print it (netstat shows 0 for listeners).
    pub backlog: Option<u64>,
    pub processes: Vec<Process>,
    pub row: RowRef,
}

/// Count and first row of a group of sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub count: u64,
    pub first: RowRef,
}

/// Client-side sockets: local address → destination → state → process.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClientKey {
    pub local_ip: String,
    pub destination: String,
    pub state: TcpState,
    /// `None` where the list has no process column or the socket has no owner (TIME-WAIT).
    pub process: Option<Process>,
}

/// Server-side sockets: local endpoint → peer address (not port: every client port differs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerKey {
    pub local: String,
    pub peer_ip: String,
    pub state: TcpState,
    pub process: Option<Process>,
}

/// One socket list (one `ss` or `netstat` state list).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SocketList {
    pub source: SourceId,
    /// The variant (`ss-tanp`, `netstat-tan` ...).
    pub format: String,
    /// Rows per netid or protocol (`tcp`, `udp`, `u_str` ...).
    pub by_netid: BTreeMap<String, u64>,
    /// TCP rows per state, listeners included.
    pub by_state: BTreeMap<TcpState, u64>,
    pub tcp_rows: u64,
    /// Whether rows carried a process column (`-p`) at all.
    pub has_processes: bool,
    pub listeners: Vec<Listener>,
    pub client: BTreeMap<ClientKey, Group>,
    pub server: BTreeMap<ServerKey, Group>,
    listening_ports: BTreeSet<String>,
}

/// Lowest port the kernel never hands out as ephemeral in practice.
const FIRST_UNPRIVILEGED_PORT: u16 = 1024;

impl SocketList {
    pub fn new(source: SourceId, format: &str) -> SocketList {
        SocketList {
            source,
            format: format.to_string(),
            ..Default::default()
        }
    }

    pub fn count_netid(&mut self, netid: &str) {
        *self.by_netid.entry(netid.to_string()).or_default() += 1;
    }

    /// Add one TCP row. `row` is only called for rows kept as evidence (listeners and the
    /// first row of a group), so a 100k-row dump does not copy every line.
    #[allow(clippy::too_many_arguments)]
    pub fn add_tcp(
        &mut self,
        state: TcpState,
        recv_q: u64,
        send_q: Option<u64>,
        local: Endpoint,
        peer: Endpoint,
        processes: Vec<Process>,
        row: impl FnOnce() -> RowRef,
    ) {
        self.tcp_rows += 1;
        *self.by_state.entry(state).or_default() += 1;
        if !processes.is_empty() {
            self.has_processes = true;
        }
        if state == TcpState::Listen {
            self.listening_ports.insert(local.port.clone());
            self.listeners.push(Listener {
                local,
                recv_q,
                backlog: send_q,
                processes,
                row: row(),
            });
            return;
        }
        let process = processes.into_iter().next();
        let server_side = self.listening_ports.contains(&local.port)
            || local
                .port_number()
                .is_some_and(|p| p < FIRST_UNPRIVILEGED_PORT);
        if server_side {
            let key = ServerKey {
                local: local.display(),
                peer_ip: peer.ip,
                state,
                process,
            };
            bump(&mut self.server, key, row);
        } else {
            let key = ClientKey {
                local_ip: local.ip,
                destination: peer.display(),
                state,
                process,
            };
            bump(&mut self.client, key, row);
        }
    }

    pub fn count(&self, state: TcpState) -> u64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }

    /// TCP sockets per owning process and state (client and server side; listeners
    /// included), for rows that name their process (`-p`).
    pub fn per_process(&self) -> BTreeMap<&Process, BTreeMap<TcpState, u64>> {
        let mut m: BTreeMap<&Process, BTreeMap<TcpState, u64>> = BTreeMap::new();
        let client = self
            .client
            .iter()
            .map(|(k, g)| (&k.process, k.state, g.count));
        let server = self
            .server
            .iter()
            .map(|(k, g)| (&k.process, k.state, g.count));
        for (p, state, n) in client.chain(server) {
            if let Some(p) = p {
                *m.entry(p).or_default().entry(state).or_default() += n;
            }
        }
        for l in &self.listeners {
            for p in &l.processes {
                *m.entry(p).or_default().entry(TcpState::Listen).or_default() += 1;
            }
        }
        m
    }

    /// Client-side sockets in `state` per local address.
    pub fn client_by_local(&self, state: TcpState) -> BTreeMap<&str, u64> {
        let mut m: BTreeMap<&str, u64> = BTreeMap::new();
        for (k, g) in &self.client {
            if k.state == state {
                *m.entry(k.local_ip.as_str()).or_default() += g.count;
            }
        }
        m
    }

    /// Client-side sockets in `state` per destination, optionally from one local address,
    /// largest first (ties by destination), with the first row of each.
    pub fn client_by_destination(
        &self,
        state: TcpState,
        local_ip: Option<&str>,
    ) -> Vec<(String, u64, RowRef)> {
        let mut m: BTreeMap<&str, (u64, &RowRef)> = BTreeMap::new();
        for (k, g) in &self.client {
            if k.state != state || local_ip.is_some_and(|l| l != k.local_ip) {
                continue;
            }
            let e = m.entry(k.destination.as_str()).or_insert((0, &g.first));
            e.0 += g.count;
            if g.first.line < e.1.line {
                e.1 = &g.first;
            }
        }
        let mut v: Vec<(String, u64, RowRef)> = m
            .into_iter()
            .map(|(d, (n, r))| (d.to_string(), n, r.clone()))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

fn bump<K: Ord>(m: &mut BTreeMap<K, Group>, key: K, row: impl FnOnce() -> RowRef) {
    match m.get_mut(&key) {
        Some(g) => g.count += 1,
        None => {
            m.insert(
                key,
                Group {
                    count: 1,
                    first: row(),
                },
            );
        }
    }
}

/// `users:(("node",pid=1234,fd=23),("node",pid=1235,fd=9))` → processes, in order.
pub fn parse_ss_users(s: &str) -> Vec<Process> {
    let mut out = Vec::new();
    let Some(start) = s.find("users:(") else {
        return out;
    };
    let mut rest = &s[start + "users:(".len()..];
    while let Some(open) = rest.find("(\"") {
        let after = &rest[open + 2..];
        let Some(close_q) = after.find("\",") else {
            break;
        };
        let name = &after[..close_q];
        let fields = &after[close_q + 2..];
        let end = fields.find(')').unwrap_or(fields.len());
        let pid = fields[..end]
            .split(',')
            .find_map(|kv| kv.strip_prefix("pid="))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            let p = Process {
                name: name.to_string(),
                pid,
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
        rest = &fields[end..];
    }
    out
}

/// netstat's `1234/node` (or `-`).
pub fn parse_netstat_program(s: &str) -> Option<Process> {
    let (pid, name) = s.split_once('/')?;
    Some(Process {
        // `901/sshd: /usr/sbin` is cut at the column width: keep the command name.
        name: name.trim_end_matches(':').to_string(),
        pid: pid.parse().ok()?,
    })
}

/// Stream `reader` line by line (the project's capped, lossy line reader), calling `each`
/// with the 1-based line number and text; read problems become diagnostics. Returns the
/// number of physical lines read.
pub fn for_each_line(
    reader: &mut dyn std::io::BufRead,
    max_line_bytes: usize,
    diagnostics: &mut Vec<crate::model::Diagnostic>,
    mut each: impl FnMut(u64, &str),
) -> u64 {
    let mut lines = super::lines::LineReader::new(reader, max_line_bytes);
    while let Some(l) = lines.next_or_stop() {
        each(l.number, &l.text);
    }
    diagnostics.extend(lines.diagnostics());
    lines.lines_read()
}

/// Collects "this line could not be read" diagnostics, listing the first few and counting the rest.
#[derive(Debug, Default)]
pub struct BadLines {
    pub count: u64,
    listed: Vec<crate::model::Diagnostic>,
}

/// Unreadable lines listed one by one; the rest are counted in one diagnostic.
const BAD_LINES_LISTED: usize = 10;

impl BadLines {
    pub fn add(&mut self, line: u64, message: impl Into<String>) {
        self.count += 1;
        if self.listed.len() < BAD_LINES_LISTED {
            self.listed
                .push(crate::model::Diagnostic::warning(Some(line), message));
        }
    }

    pub fn finish(self, out: &mut Vec<crate::model::Diagnostic>) {
        let listed = self.listed.len() as u64;
        out.extend(self.listed);
        if self.count > listed {
            out.push(crate::model::Diagnostic::warning(
                None,
                format!("{} more unreadable line(s) not listed", self.count - listed),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> (String, String) {
        let e = Endpoint::parse(s).expect(s);
        (e.ip, e.port)
    }

    #[test]
    fn endpoints_in_every_printed_form() {
        assert_eq!(ep("10.0.0.1:443"), ("10.0.0.1".into(), "443".into()));
        assert_eq!(
            ep("[::ffff:10.0.0.1]:443"),
            ("10.0.0.1".into(), "443".into())
        );
        assert_eq!(ep("[::]:3000"), ("*".into(), "3000".into()));
        assert_eq!(ep("*:3000"), ("*".into(), "3000".into()));
        assert_eq!(ep("0.0.0.0:*"), ("*".into(), "*".into()));
        assert_eq!(ep("10.0.0.1%lo:53"), ("10.0.0.1".into(), "53".into()));
        assert_eq!(ep("[fe80::1]%eth0:22"), ("fe80::1".into(), "22".into()));
        assert_eq!(ep(":::22"), ("*".into(), "22".into()));
        assert_eq!(ep("::ffff:10.0.0.1:443"), ("10.0.0.1".into(), "443".into()));
        assert_eq!(
            Endpoint::parse("[2001:db8::7]:443").map(|e| e.display()),
            Some("[2001:db8::7]:443".to_string())
        );
        assert_eq!(Endpoint::parse("garbage"), None);
        assert_eq!(Endpoint::parse("/run/x.sock:1"), None);
        assert_eq!(Endpoint::parse(":"), None);
    }

    #[test]
    fn state_names_of_both_tools() {
        let ss = [
            "ESTAB",
            "SYN-SENT",
            "SYN-RECV",
            "FIN-WAIT-1",
            "FIN-WAIT-2",
            "TIME-WAIT",
            "CLOSE-WAIT",
            "LAST-ACK",
            "LISTEN",
            "CLOSING",
            "UNCONN",
        ];
        for name in ss {
            assert_eq!(TcpState::from_ss(name).map(|s| s.as_str()), Some(name));
        }
        let netstat = [
            ("ESTABLISHED", "ESTAB"),
            ("SYN_SENT", "SYN-SENT"),
            ("SYN_RECV", "SYN-RECV"),
            ("FIN_WAIT1", "FIN-WAIT-1"),
            ("FIN_WAIT2", "FIN-WAIT-2"),
            ("TIME_WAIT", "TIME-WAIT"),
            ("CLOSE", "CLOSE"),
            ("CLOSE_WAIT", "CLOSE-WAIT"),
            ("LAST_ACK", "LAST-ACK"),
            ("LISTEN", "LISTEN"),
            ("CLOSING", "CLOSING"),
        ];
        for (n, s) in netstat {
            assert_eq!(TcpState::from_netstat(n).map(|x| x.as_str()), Some(s));
        }
        assert_eq!(TcpState::from_ss("TIME_WAIT"), None);
        assert_eq!(TcpState::from_netstat("ESTAB"), None);
    }

    #[test]
    fn sides_and_per_process_counts() {
        let mut l = SocketList::new(0, "t");
        let ep = |s: &str| Endpoint::parse(s).expect(s);
        let node = Process {
            name: "node".into(),
            pid: 7,
        };
        let row = || RowRef::default();
        l.add_tcp(
            TcpState::Listen,
            0,
            Some(511),
            ep("*:3000"),
            ep("*:*"),
            vec![node.clone()],
            row,
        );
        l.add_tcp(
            TcpState::Established,
            0,
            Some(0),
            ep("10.0.0.1:3000"),
            ep("10.0.0.9:40000"),
            vec![node.clone()],
            row,
        );
        l.add_tcp(
            TcpState::Established,
            0,
            Some(0),
            ep("10.0.0.1:41000"),
            ep("10.0.0.2:5432"),
            vec![node.clone()],
            row,
        );
        l.add_tcp(
            TcpState::TimeWait,
            0,
            Some(0),
            ep("10.0.0.1:443"),
            ep("10.0.0.8:50000"),
            vec![],
            row,
        );
        assert_eq!(l.server.len(), 2, "listening port and privileged port");
        assert_eq!(l.client.len(), 1);
        let pp = l.per_process();
        let counts: Vec<(TcpState, u64)> = pp[&node].iter().map(|(s, n)| (*s, *n)).collect();
        assert_eq!(
            counts,
            vec![(TcpState::Established, 2), (TcpState::Listen, 1)]
        );
    }

    #[test]
    fn ss_users_and_netstat_programs() {
        assert_eq!(
            parse_ss_users(r#"users:(("node",pid=1234,fd=23),("node",pid=1235,fd=9))"#),
            vec![
                Process {
                    name: "node".into(),
                    pid: 1234
                },
                Process {
                    name: "node".into(),
                    pid: 1235
                }
            ]
        );
        assert_eq!(parse_ss_users(r#"users:(("x"#), vec![]);
        assert_eq!(parse_ss_users("timer:(keepalive,1min,0)"), vec![]);
        assert_eq!(
            parse_netstat_program("881/postgres"),
            Some(Process {
                name: "postgres".into(),
                pid: 881
            })
        );
        assert_eq!(parse_netstat_program("-"), None);
    }
}
