//! ss, netstat/nstat/proc-net and sysctl parsers over their fixtures: detection from content,
//! exact extracted values with their lines, and bad input (truncated, garbage, wrong kind,
//! non-UTF-8, empty) giving diagnostics, never a panic.

use coroner::ingest::sockets::{Process, TcpState};
use coroner::ingest::{self, Facts, ParseCtx};
use coroner::model::{Level, SourceKind};
use coroner::signatures::Catalog;
use coroner::{read_source, AnalyzeOptions, SourceResult};
use std::path::Path;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel),
    )
    .expect("fixture")
}

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&[]).expect("catalog"))
}

fn read_bytes(display: &str, bytes: &[u8]) -> SourceResult {
    let mut reader = bytes;
    read_source(
        display,
        &mut reader,
        0,
        catalog(),
        &AnalyzeOptions::default(),
    )
}

fn read(rel: &str) -> SourceResult {
    read_bytes(rel, &fixture(rel))
}

/// The 1-based line of `rel` that is exactly `text` (or contains it when not exact).
fn line_text(rel: &str, line: u64) -> String {
    let bytes = fixture(rel);
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .nth(line as usize - 1)
        .expect("line exists")
        .to_string()
}

fn proc_(name: &str, pid: u32) -> Process {
    Process {
        name: name.into(),
        pid,
    }
}

#[test]
fn ss_summary_modern() {
    let r = read("ss/ss-s.txt");
    assert_eq!(r.source.kind, SourceKind::Ss);
    assert_eq!(r.source.format, "ss-s");
    let s = &r.facts.ss.summaries[0];
    let (total, row) = s.total.as_ref().expect("total");
    assert_eq!((*total, row.line), (1873, 1));
    let tcp = s.tcp.as_ref().expect("tcp");
    assert_eq!(tcp.total, 45000);
    assert_eq!(tcp.get("estab"), Some(300));
    assert_eq!(tcp.get("closed"), Some(44000));
    assert_eq!(tcp.get("orphaned"), Some(2));
    assert_eq!(tcp.get("timewait"), Some(43990));
    assert_eq!(tcp.row.line, 2);
    assert_eq!(tcp.row.text, line_text("ss/ss-s.txt", 2));
    let t = &s.transport["TCP"];
    assert_eq!(
        (t.total, t.ip, t.ipv6, t.row.line),
        (Some(1000), Some(700), Some(300), 7)
    );
    assert_eq!(s.transport["RAW"].ipv6, Some(1));
    assert_eq!(s.transport.len(), 5);
    assert!(r.facts.ss.lists.is_empty());
}

#[test]
fn ss_summary_old_with_kernel_synrecv_and_slash_timewait() {
    let r = read("ss/ss-s-old.txt");
    let s = &r.facts.ss.summaries[0];
    assert_eq!(s.total.as_ref().map(|t| t.0), Some(1234));
    let tcp = s.tcp.as_ref().expect("tcp");
    assert_eq!(tcp.total, 312);
    assert_eq!(tcp.get("synrecv"), Some(0));
    assert_eq!(tcp.get("timewait"), Some(79));
    let star = &s.transport["*"];
    assert_eq!((star.total, star.ip, star.ipv6), (Some(1500), None, None));
}

#[test]
fn ss_tanp_states_addresses_and_processes() {
    let rel = "ss/ss-tanp.txt";
    let r = read(rel);
    assert_eq!(r.source.kind, SourceKind::Ss);
    assert_eq!(r.source.format, "ss-tanp");
    assert_eq!(r.source.lines, 26);
    assert!(
        r.source.diagnostics.is_empty(),
        "{:?}",
        r.source.diagnostics
    );
    let l = &r.facts.ss.lists[0];
    assert_eq!(l.tcp_rows, 25);
    assert_eq!(l.count(TcpState::Listen), 4);
    assert_eq!(l.count(TcpState::Established), 14);
    assert_eq!(l.count(TcpState::TimeWait), 3);
    assert_eq!(l.count(TcpState::SynSent), 1);
    assert_eq!(l.count(TcpState::CloseWait), 1);
    assert_eq!(l.count(TcpState::FinWait2), 1);
    assert_eq!(l.count(TcpState::LastAck), 1);
    assert!(l.has_processes);

    let ls = &l.listeners;
    assert_eq!(ls.len(), 4);
    assert_eq!(
        (ls[0].local.ip.as_str(), ls[0].local.port.as_str()),
        ("*", "3000")
    );
    assert_eq!((ls[0].recv_q, ls[0].backlog), (0, Some(511)));
    assert_eq!(ls[0].processes, vec![proc_("node", 1234)]);
    assert_eq!(ls[0].row.line, 2);
    assert_eq!(ls[0].row.text, line_text(rel, 2));
    assert_eq!(ls[1].local.ip, "127.0.0.53");
    assert_eq!(ls[1].local.raw, "127.0.0.53%lo:53");
    assert_eq!(ls[1].backlog, Some(4096));
    assert_eq!(ls[2].local.raw, "[::]:22");
    assert_eq!(
        ls[3].processes,
        vec![proc_("node", 1234), proc_("node", 1235)]
    );

    let tw = l.client_by_local(TcpState::TimeWait);
    assert_eq!(tw.into_iter().collect::<Vec<_>>(), vec![("10.0.2.15", 3)]);
    let est = l.client_by_local(TcpState::Established);
    assert_eq!(
        est.into_iter().collect::<Vec<_>>(),
        vec![("10.0.2.15", 10), ("2001:db8:0:2::15", 1)]
    );
    let dests = l.client_by_destination(TcpState::TimeWait, None);
    assert_eq!(dests.len(), 1);
    assert_eq!(
        (dests[0].0.as_str(), dests[0].1, dests[0].2.line),
        ("10.0.4.17:5432", 3, 19)
    );
    let v6 = l.client_by_destination(TcpState::Established, Some("2001:db8:0:2::15"));
    assert_eq!(v6[0].0, "[2001:db8:0:9::7]:443");
    // Server side: the mapped v4 connection on the 8080 listener and the link-local ssh session.
    let server: Vec<(&str, &str, TcpState)> = l
        .server
        .keys()
        .map(|k| (k.local.as_str(), k.peer_ip.as_str(), k.state))
        .collect();
    assert!(server.contains(&("10.0.2.15:8080", "10.0.1.11", TcpState::Established)));
    assert!(server.contains(&(
        "[fe80::5054:ff:fe12:3456]:22",
        "fe80::1",
        TcpState::Established
    )));
    assert!(server.contains(&("10.0.2.15:3000", "10.0.1.10", TcpState::CloseWait)));
}

#[test]
fn ss_lntp_listener_queues() {
    let r = read("ss/ss-lntp-saturated.txt");
    assert_eq!(r.source.format, "ss-lntp");
    let ls = &r.facts.ss.lists[0].listeners;
    assert_eq!(ls.len(), 4);
    assert_eq!((ls[0].recv_q, ls[0].backlog), (512, Some(511)));
    assert_eq!(ls[0].local.port, "3000");
    let r = read("ss/ss-lntp-healthy.txt");
    let ls = &r.facts.ss.lists[0].listeners;
    assert_eq!((ls[0].recv_q, ls[0].backlog), (3, Some(4096)));
}

#[test]
fn ss_peaonmi_netids_and_continuation_lines() {
    let r = read("ss/ss-peaonmi.txt");
    assert_eq!(r.source.kind, SourceKind::Ss);
    assert_eq!(r.source.format, "ss-nap");
    let l = &r.facts.ss.lists[0];
    let netids: Vec<(&str, u64)> = l.by_netid.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        netids,
        vec![
            ("nl", 2),
            ("tcp", 7),
            ("u_dgr", 1),
            ("u_str", 1),
            ("udp", 1)
        ]
    );
    assert_eq!(l.count(TcpState::Listen), 3);
    assert_eq!(l.count(TcpState::Established), 2);
    assert_eq!(l.count(TcpState::TimeWait), 2);
    let ssh = l
        .server
        .keys()
        .find(|k| k.local == "10.0.2.15:22")
        .expect("ssh session");
    assert_eq!(ssh.process, Some(proc_("sshd", 3301)));
    assert_eq!(
        r.source.diagnostics.len(),
        1,
        "only the continuation-line note: {:?}",
        r.source.diagnostics
    );
    assert!(r.source.diagnostics[0]
        .message
        .starts_with("8 continuation"));
}

#[test]
fn ss_headerless_grep() {
    let r = read("ss/ss-tan-grep.txt");
    assert_eq!(r.source.kind, SourceKind::Ss);
    assert_eq!(r.source.format, "ss-tan-headerless");
    let l = &r.facts.ss.lists[0];
    assert_eq!(l.count(TcpState::Established), 1);
    assert_eq!(l.count(TcpState::TimeWait), 2);
}

fn counter(facts: &Facts, name: &str) -> (i64, u64, String) {
    let c = facts
        .netstat
        .counter(name)
        .unwrap_or_else(|| panic!("{name}"));
    (c.value, c.row.line, c.row.text.trim().to_string())
}

#[test]
fn netstat_s_new_wording() {
    let rel = "netstat/netstat-s.txt";
    let r = read(rel);
    assert_eq!(r.source.kind, SourceKind::Netstat);
    assert_eq!(r.source.format, "netstat-s");
    let f = &r.facts;
    assert_eq!(
        counter(f, "TcpExtListenOverflows"),
        (
            1523,
            52,
            "1523 times the listen queue of a socket overflowed".into()
        )
    );
    assert_eq!(
        counter(f, "TcpExtListenDrops"),
        (1523, 53, "1523 SYNs to LISTEN sockets dropped".into())
    );
    assert_eq!(counter(f, "TcpExtEmbryonicRsts").0, 12);
    assert_eq!(counter(f, "TcpExtTW").0, 2210001);
    assert_eq!(
        counter(f, "TcpExtTCPReqQFullDoCookies"),
        (211, 58, "TCPReqQFullDoCookies: 211".into())
    );
    assert_eq!(counter(f, "TcpActiveOpens").0, 2210443);
    assert_eq!(counter(f, "TcpOutSegs").0, 45823410);
    assert_eq!(counter(f, "TcpRetransSegs").0, 9811);
    assert_eq!(counter(f, "TcpExtTCPAbortOnTimeout").0, 41);
    assert_eq!(counter(f, "IpForwarding").0, 1);
    assert_eq!(counter(f, "IcmpMsgInType3").0, 1310);
    assert_eq!(counter(f, "IpExtInOctets").0, 30011223344);
    assert_eq!(f.netstat.counter("TcpExtTCPReqQFullDrop"), None);
    assert_eq!(
        line_text(rel, 52).trim(),
        "1523 times the listen queue of a socket overflowed"
    );
}

#[test]
fn netstat_s_old_wording() {
    let r = read("netstat/netstat-s-old.txt");
    assert_eq!(r.source.format, "netstat-s");
    let f = &r.facts;
    assert_eq!(counter(f, "TcpActiveOpens").0, 401122);
    assert_eq!(counter(f, "TcpOutSegs").0, 9611022);
    assert_eq!(counter(f, "TcpRetransSegs").0, 1822);
    assert_eq!(counter(f, "TcpInErrs").0, 0);
    assert_eq!(
        counter(f, "TcpExtListenDrops"),
        (77, 38, "77 SYNs to LISTEN sockets ignored".into())
    );
    assert_eq!(counter(f, "TcpExtListenOverflows").0, 77);
}

#[test]
fn nstat_az() {
    let r = read("netstat/nstat-az.txt");
    assert_eq!(r.source.format, "nstat");
    let f = &r.facts;
    assert_eq!(f.netstat.counter_sets[0].counters.len(), 29);
    assert_eq!(counter(f, "TcpExtListenOverflows").0, 1523);
    assert_eq!(counter(f, "TcpExtListenOverflows").1, 24);
    assert_eq!(counter(f, "TcpExtTCPReqQFullDrop").0, 0);
    assert_eq!(counter(f, "TcpExtTCPReqQFullDoCookies").0, 211);
    assert_eq!(counter(f, "IpExtInOctets").0, 30011223344);
}

#[test]
fn proc_net_netstat_and_snmp() {
    let r = read("netstat/proc-net-netstat.txt");
    assert_eq!(r.source.format, "proc-net-netstat");
    let f = &r.facts;
    assert_eq!(counter(f, "TcpExtListenOverflows").0, 0);
    assert_eq!(counter(f, "TcpExtListenOverflows").1, 2);
    assert_eq!(counter(f, "TcpExtTW").0, 88120);
    assert_eq!(counter(f, "TcpExtTCPTimeWaitOverflow").0, 0);
    assert_eq!(
        counter(f, "IpExtInOctets"),
        (5011223344, 4, line_text("netstat/proc-net-netstat.txt", 4))
    );
    let r = read("netstat/proc-net-snmp.txt");
    assert_eq!(r.source.format, "proc-net-snmp");
    let f = &r.facts;
    assert_eq!(counter(f, "TcpMaxConn").0, -1);
    assert_eq!(counter(f, "TcpActiveOpens").0, 401122);
    assert_eq!(counter(f, "UdpInDatagrams").0, 12233);
    assert_eq!(counter(f, "IpForwarding").0, 1);
    assert_eq!(counter(f, "IcmpMsgOutType3").0, 90);
}

#[test]
fn netstat_tanp_state_list() {
    let r = read("netstat/netstat-tanp.txt");
    assert_eq!(r.source.kind, SourceKind::Netstat);
    assert_eq!(r.source.format, "netstat-tanp");
    assert!(
        r.source.diagnostics.is_empty(),
        "{:?}",
        r.source.diagnostics
    );
    let l = &r.facts.netstat.lists[0];
    assert_eq!(l.by_netid.get("tcp"), Some(&15));
    assert_eq!(l.by_netid.get("udp"), Some(&2));
    assert_eq!(l.count(TcpState::Listen), 4);
    assert_eq!(l.count(TcpState::TimeWait), 4);
    assert_eq!(l.count(TcpState::Established), 4);
    assert_eq!(l.count(TcpState::SynSent), 1);
    assert_eq!(l.count(TcpState::CloseWait), 1);
    assert_eq!(l.count(TcpState::FinWait2), 1);
    // netstat prints Send-Q 0 for listeners: the backlog is unknown.
    assert!(l.listeners.iter().all(|x| x.backlog.is_none()));
    assert_eq!(l.listeners[2].processes, vec![proc_("sshd", 901)]);
    let tw = l.client_by_destination(TcpState::TimeWait, Some("10.0.2.15"));
    assert_eq!(
        tw.iter().map(|t| (t.0.as_str(), t.1)).collect::<Vec<_>>(),
        vec![("10.0.4.17:5432", 3), ("10.0.4.22:6379", 1)]
    );
    assert_eq!(tw[0].2.line, 6);
    let mapped = l
        .server
        .keys()
        .find(|k| k.local == "10.0.2.15:3000" && k.state == TcpState::Established)
        .expect("tcp6 mapped connection");
    assert_eq!(mapped.peer_ip, "10.0.1.10");
}

#[test]
fn sysctl_a_values_tabs_and_refusals() {
    let rel = "sysctl/sysctl-a.txt";
    let r = read(rel);
    assert_eq!(r.source.kind, SourceKind::Sysctl);
    assert_eq!(r.source.format, "sysctl-a");
    let f = &r.facts.sysctl;
    assert_eq!(f.values.len(), 25);
    assert_eq!(f.int("net.core.somaxconn"), Some(4096));
    assert_eq!(f.get("net.core.somaxconn").map(|v| v.row.line), Some(7));
    let range = f.get("net.ipv4.ip_local_port_range").expect("range");
    assert_eq!(range.raw, "32768\t60999");
    assert_eq!(range.numbers(), Some(vec![32768, 60999]));
    assert_eq!(range.row.line, 11);
    assert_eq!(range.row.text, line_text(rel, 11));
    assert_eq!(f.int("net.ipv4.tcp_tw_reuse"), Some(2));
    assert_eq!(f.int("net.netfilter.nf_conntrack_count"), Some(261900));
    assert_eq!(f.int("net.netfilter.nf_conntrack_max"), Some(262144));
    assert_eq!(
        f.get("net.ipv4.ip_local_reserved_ports")
            .map(|v| v.raw.as_str()),
        Some("")
    );
    assert_eq!(f.int("net.ipv4.conf.eth0/100.rp_filter"), Some(2));
    assert_eq!(
        f.get("net.ipv4.tcp_mem").and_then(|v| v.numbers()),
        Some(vec![91854, 122474, 183708])
    );
    let d: Vec<(Level, Option<u64>)> = r
        .source
        .diagnostics
        .iter()
        .map(|d| (d.level, d.line))
        .collect();
    assert_eq!(d, vec![(Level::Info, Some(22)), (Level::Info, Some(23))]);
}

#[test]
fn sysctl_proc_tree_and_grep_listing() {
    let r = read("sysctl/proc-tree/proc/sys/net/ipv4/ip_local_port_range");
    assert_eq!(r.source.kind, SourceKind::Sysctl);
    let v = r
        .facts
        .sysctl
        .get("net.ipv4.ip_local_port_range")
        .expect("key from path");
    assert_eq!(v.numbers(), Some(vec![32768, 60999]));
    let r = read("sysctl/proc-tree/proc/sys/net/ipv4/tcp_tw_reuse");
    assert_eq!(r.facts.sysctl.int("net.ipv4.tcp_tw_reuse"), Some(2));
    let r = read("sysctl/proc-tree/proc/sys/net/core/somaxconn");
    assert_eq!(r.facts.sysctl.int("net.core.somaxconn"), Some(4096));
    let r = read("sysctl/proc-sys-grep.txt");
    assert_eq!(r.source.format, "proc-sys-grep");
    let f = &r.facts.sysctl;
    assert_eq!(f.int("net.ipv4.tcp_tw_recycle"), Some(1));
    assert_eq!(f.int("net.ipv4.tcp_tw_reuse"), Some(0));
    assert_eq!(f.int("net.ipv4.tcp_max_syn_backlog"), Some(512));
    assert_eq!(
        f.get("net.ipv4.tcp_tw_recycle").map(|v| v.row.line),
        Some(4)
    );
}

/// Every fixture is detected as its kind, from content (the path only for proc/sys files).
#[test]
fn fixtures_detected_by_content() {
    for (rel, kind) in [
        ("ss/ss-s.txt", SourceKind::Ss),
        ("ss/ss-s-old.txt", SourceKind::Ss),
        ("ss/ss-tanp.txt", SourceKind::Ss),
        ("ss/ss-tanp-pool-cap.txt", SourceKind::Ss),
        ("ss/ss-tanp-close-wait.txt", SourceKind::Ss),
        ("ss/ss-lntp-saturated.txt", SourceKind::Ss),
        ("ss/ss-lntp-healthy.txt", SourceKind::Ss),
        ("ss/ss-peaonmi.txt", SourceKind::Ss),
        ("ss/ss-tan-grep.txt", SourceKind::Ss),
        ("ss/ss-tan-few-timewait.txt", SourceKind::Ss),
        ("netstat/netstat-s.txt", SourceKind::Netstat),
        ("netstat/netstat-s-old.txt", SourceKind::Netstat),
        ("netstat/nstat-az.txt", SourceKind::Netstat),
        ("netstat/proc-net-netstat.txt", SourceKind::Netstat),
        ("netstat/proc-net-snmp.txt", SourceKind::Netstat),
        ("netstat/netstat-tanp.txt", SourceKind::Netstat),
        ("sysctl/sysctl-a.txt", SourceKind::Sysctl),
        ("sysctl/sysctl-healthy.txt", SourceKind::Sysctl),
        ("sysctl/proc-sys-grep.txt", SourceKind::Sysctl),
    ] {
        let head = fixture(rel);
        assert_eq!(
            ingest::sniff(&head, "renamed.out"),
            ingest::Sniff::Text(kind),
            "{rel}"
        );
    }
}

fn parse_as(
    kind: SourceKind,
    bytes: &[u8],
) -> (u64, String, Vec<coroner::model::Diagnostic>, Facts) {
    let ctx = ParseCtx {
        source: 0,
        path: "input".into(),
        max_line_bytes: 1 << 20,
    };
    let mut facts = Facts::default();
    let mut reader = bytes;
    let (lines, format, diags) = ingest::parse_snapshot(kind, &mut reader, &ctx, &mut facts);
    (lines, format, diags, facts)
}

#[test]
fn bad_input_gives_diagnostics_not_panics() {
    let garbage: &[u8] =
        b"\x00\xff\xfe garbage \xc3\x28\n:::: :: :\n[[[]]]:]\nusers:((\"\n-1 -2 -3\n";
    let wrong = fixture("sysctl/sysctl-a.txt");
    let empty: &[u8] = b"";
    for kind in [SourceKind::Ss, SourceKind::Netstat, SourceKind::Sysctl] {
        for (what, input) in [("garbage", garbage), ("empty", empty)] {
            let (_, _, diags, _) = parse_as(kind, input);
            assert!(
                diags.iter().any(|d| d.level == Level::Warning),
                "{kind} {what}: {diags:?}"
            );
        }
    }
    for kind in [SourceKind::Ss, SourceKind::Netstat] {
        let (_, _, diags, facts) = parse_as(kind, &wrong);
        assert!(!diags.is_empty(), "{kind} on sysctl output");
        assert!(facts.ss.lists.is_empty() && facts.netstat.lists.is_empty());
        assert!(facts.netstat.counter_sets.is_empty());
    }
    let (_, _, diags, facts) = parse_as(SourceKind::Sysctl, &fixture("ss/ss-tanp.txt"));
    assert!(facts.sysctl.values.is_empty());
    assert!(!diags.is_empty());
}

#[test]
fn truncated_inputs_keep_what_was_read() {
    for (rel, kind) in [
        ("ss/ss-tanp.txt", SourceKind::Ss),
        ("netstat/netstat-tanp.txt", SourceKind::Netstat),
        ("netstat/proc-net-netstat.txt", SourceKind::Netstat),
        ("sysctl/sysctl-a.txt", SourceKind::Sysctl),
    ] {
        let full = fixture(rel);
        for cut in [full.len() / 3, full.len() / 2, full.len() - 7] {
            let (lines, _, _, _) = parse_as(kind, &full[..cut]);
            assert!(lines > 0, "{rel} cut at {cut}");
        }
    }
    // A row cut mid-address is reported, the rows before it are kept.
    let full = fixture("ss/ss-tanp.txt");
    let text = String::from_utf8_lossy(&full);
    let cut: usize = text.lines().take(8).map(|l| l.len() + 1).sum::<usize>() + 30;
    let (_, _, diags, facts) = parse_as(SourceKind::Ss, &full[..cut]);
    assert_eq!(facts.ss.lists[0].tcp_rows, 7);
    assert!(diags.iter().any(|d| d.line == Some(9)), "{diags:?}");
    // proc/net/netstat with the value line cut short.
    let (_, _, diags, facts) = parse_as(
        SourceKind::Netstat,
        b"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 17",
    );
    assert_eq!(
        facts
            .netstat
            .counter("TcpExtListenOverflows")
            .map(|c| c.value),
        Some(17)
    );
    assert_eq!(facts.netstat.counter("TcpExtListenDrops"), None);
    assert!(diags
        .iter()
        .any(|d| d.message.contains("2 values for 3 names")));
}
