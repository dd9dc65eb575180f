//! The net.* checks through the whole pipeline (files in a directory → analyze → report):
//! both sides of every threshold, the negative fixtures, the ties to log findings, and the
//! `missing` entries.

use coroner::checks::{CheckReport, CheckStatus};
use coroner::model::{FieldValue, Finding, Severity};
use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::Path;

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&[]).expect("catalog"))
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel),
    )
    .expect("fixture")
}

fn run(files: &[(&str, String)]) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    analyze(
        &AnalyzeOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        catalog(),
    )
}

fn check<'a>(r: &'a Report, id: &str) -> &'a CheckReport {
    r.checks.iter().find(|c| c.id == id).expect(id)
}

fn findings<'a>(r: &'a Report, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.signature == id).collect()
}

fn int(f: &Finding, k: &str) -> i64 {
    match f.fields.get(k) {
        Some(FieldValue::Int(i)) => *i,
        other => panic!("{k}: {other:?}"),
    }
}

fn text(f: &Finding, k: &str) -> String {
    match f.fields.get(k) {
        Some(v) => v.to_string(),
        None => panic!("{k} missing"),
    }
}

const HEADER: &str =
    "State      Recv-Q Send-Q       Local Address:Port        Peer Address:Port Process";

fn row(state: &str, rq: u64, sq: u64, local: &str, peer: &str, users: &str) -> String {
    format!("{state:<10} {rq:<6} {sq:<6} {local:>25} {peer:>25} {users}")
}

/// `n` client sockets in `state` from `local_ip` to `dest`, ports counting up from `first_port`.
fn clients(
    state: &str,
    n: u64,
    local_ip: &str,
    first_port: u64,
    dest: &str,
    users: &str,
) -> Vec<String> {
    (0..n)
        .map(|i| {
            row(
                state,
                0,
                0,
                &format!("{local_ip}:{}", first_port + i),
                dest,
                users,
            )
        })
        .collect()
}

fn ss(rows: Vec<String>) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(&r);
        s.push('\n');
    }
    s
}

/// A 100-port range keeps the threshold edges small.
const RANGE_100: &str = "net.ipv4.ip_local_port_range = 32768\t32867\nnet.ipv4.tcp_tw_reuse = 0\n";

const EADDR_LOG: &str =
    "2026-11-21T14:23:07.118Z error query failed: Error: connect EADDRNOTAVAIL 10.0.4.17:5432 - Local (0.0.0.0:0)\n";

mod ephemeral_ports {
    use super::*;
    const ID: &str = "net.ephemeral-port-exhaustion";

    fn with_tw(n: u64) -> Report {
        run(&[
            (
                "ss.txt",
                ss(clients(
                    "TIME-WAIT",
                    n,
                    "10.0.2.15",
                    32768,
                    "10.0.4.17:5432",
                    "",
                )),
            ),
            ("sysctl.txt", RANGE_100.into()),
        ])
    }

    #[test]
    fn half_the_range_fires_just_below_does_not() {
        let r = with_tw(49);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        assert!(findings(&r, ID).is_empty());
        let r = with_tw(50);
        assert_eq!(check(&r, ID).status, CheckStatus::Fired);
        let f = findings(&r, ID)[0];
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(int(f, "ports_used"), 50);
        assert_eq!(int(f, "port_range_width"), 100);
        assert_eq!(text(f, "port_range_source"), "sysctl");
        assert_eq!(int(f, "tcp_tw_reuse"), 0);
        assert!(
            f.summary
                .starts_with("50 of 100 local ports of 10.0.2.15 in use"),
            "{}",
            f.summary
        );
        // Evidence: the first TIME-WAIT row to the destination and the sysctl lines.
        assert!(f.evidence.iter().any(|e| e.path == "ss.txt" && e.line == 2));
        assert!(f.evidence.iter().any(|e| e.path == "sysctl.txt"
            && e.line == 1
            && e.text == "net.ipv4.ip_local_port_range = 32768\t32867"));
        assert!(f.fixes[1]
            .text
            .contains("net.ipv4.tcp_tw_reuse = 1   # now 0 (off)"));
    }

    #[test]
    fn ninety_percent_is_critical() {
        assert_eq!(findings(&with_tw(89), ID)[0].severity, Severity::Warning);
        assert_eq!(findings(&with_tw(90), ID)[0].severity, Severity::Critical);
    }

    #[test]
    fn established_counts_with_time_wait_per_local_address() {
        let mut rows = clients("TIME-WAIT", 30, "10.0.2.15", 32768, "10.0.4.17:5432", "");
        rows.extend(clients(
            "ESTAB",
            20,
            "10.0.2.15",
            33000,
            "10.0.4.22:6379",
            "",
        ));
        // Another local address does not add to 10.0.2.15's usage.
        rows.extend(clients(
            "TIME-WAIT",
            40,
            "10.0.3.15",
            32768,
            "10.0.4.17:5432",
            "",
        ));
        let r = run(&[("ss.txt", ss(rows)), ("sysctl.txt", RANGE_100.into())]);
        let f = findings(&r, ID)[0];
        assert_eq!(text(f, "local_address"), "10.0.2.15");
        assert_eq!(
            (
                int(f, "time_wait"),
                int(f, "established"),
                int(f, "ports_used")
            ),
            (30, 20, 50)
        );
    }

    #[test]
    fn eaddrnotavail_fires_at_any_usage_and_is_critical() {
        let r = run(&[
            (
                "ss.txt",
                ss(clients(
                    "TIME-WAIT",
                    1,
                    "10.0.2.15",
                    40000,
                    "10.0.4.17:5432",
                    "",
                )),
            ),
            ("app.log", EADDR_LOG.into()),
        ]);
        let f = findings(&r, ID)[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(int(f, "eaddrnotavail_count"), 1);
        // No range in the bundle: the default was used, and the report says so.
        assert_eq!(text(f, "port_range_source"), "default");
        assert_eq!(int(f, "port_range_width"), 28232);
        assert!(f.summary.contains("(kernel default, not in the bundle)"));
        assert!(f
            .evidence
            .iter()
            .any(|e| e.path == "app.log" && e.line == 1));
        assert!(r
            .missing
            .iter()
            .any(|m| m.check == ID && m.command == "sysctl net.ipv4.ip_local_port_range"));
    }

    #[test]
    fn eaddrnotavail_without_socket_list_asks_for_one() {
        let r = run(&[("app.log", EADDR_LOG.into())]);
        assert_eq!(check(&r, ID).status, CheckStatus::Fired);
        assert!(r
            .missing
            .iter()
            .any(|m| m.check == ID && m.command == "ss -tan state time-wait"));
    }

    #[test]
    fn dominant_destination_and_tw_recycle() {
        let mut rows = clients("TIME-WAIT", 30, "10.0.2.15", 32768, "10.0.4.17:5432", "");
        rows.extend(clients(
            "TIME-WAIT",
            30,
            "10.0.2.15",
            32800,
            "10.0.4.22:6379",
            "",
        ));
        let sysctl = format!("{RANGE_100}net.ipv4.tcp_tw_recycle = 1\n");
        let r = run(&[("ss.txt", ss(rows)), ("sysctl.txt", sysctl.clone())]);
        let f = findings(&r, ID)[0];
        // 30 of 60 = 50%: at the share that counts as dominating.
        assert!(
            f.fixes[0].text.contains("one destination dominating"),
            "{}",
            f.fixes[0].text
        );
        assert!(f
            .fixes
            .iter()
            .any(|x| x.title == "Remove net.ipv4.tcp_tw_recycle"));
        let mut rows = clients("TIME-WAIT", 29, "10.0.2.15", 32768, "10.0.4.17:5432", "");
        rows.extend(clients(
            "TIME-WAIT",
            16,
            "10.0.2.15",
            32800,
            "10.0.4.22:6379",
            "",
        ));
        rows.extend(clients(
            "TIME-WAIT",
            15,
            "10.0.2.15",
            32830,
            "10.0.5.9:443",
            "",
        ));
        let r = run(&[("ss.txt", ss(rows)), ("sysctl.txt", RANGE_100.into())]);
        let f = findings(&r, ID)[0];
        assert!(!f.fixes[0].text.contains("dominating"));
        assert!(!f.fixes.iter().any(|x| x.title.contains("tcp_tw_recycle")));
    }

    #[test]
    fn more_sockets_than_ports_is_explained() {
        let mut rows = clients("TIME-WAIT", 60, "10.0.2.15", 32768, "10.0.4.17:5432", "");
        rows.extend(clients(
            "TIME-WAIT",
            60,
            "10.0.2.15",
            32768,
            "10.0.4.22:6379",
            "",
        ));
        let r = run(&[("ss.txt", ss(rows)), ("sysctl.txt", RANGE_100.into())]);
        let f = findings(&r, ID)[0];
        assert_eq!(int(f, "ports_used"), 120);
        assert!(
            f.summary.contains("more sockets than ports"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn negative_fixture_is_healthy() {
        let r = run(&[("ss.txt", fixture("ss/ss-tan-few-timewait.txt"))]);
        let c = check(&r, ID);
        assert_eq!(c.status, CheckStatus::Healthy);
        assert!(c.note.contains("13 of 28,232 ports"), "{}", c.note);
        let r = run(&[
            ("sysctl.txt", RANGE_100.into()),
            ("ss-s.txt", fixture("ss/ss-s.txt")),
        ]);
        let c = check(&r, ID);
        assert_eq!(c.status, CheckStatus::NotApplicable);
        let tw = c
            .facts
            .iter()
            .find(|f| f.name.starts_with("TIME-WAIT sockets, all addresses"))
            .expect("ss -s fact");
        assert_eq!(
            (tw.value.as_str(), tw.path.as_deref(), tw.line),
            ("43,990", Some("ss-s.txt"), Some(2))
        );
    }
}

mod accept_queue {
    use super::*;
    const ID: &str = "net.accept-queue-overflow";
    const SYN_FLOOD: &str = "Nov 21 14:23:07 web-1 kernel: [ 8812.310042] TCP: request_sock_TCP: Possible SYN flooding on port 3000. Sending cookies.  Check SNMP counters.\n";

    fn listener(rq: u64, sq: u64) -> String {
        ss(vec![
            row(
                "LISTEN",
                rq,
                sq,
                "0.0.0.0:3000",
                "0.0.0.0:*",
                r#"users:(("node",pid=1234,fd=21))"#,
            ),
            row(
                "LISTEN",
                0,
                128,
                "0.0.0.0:22",
                "0.0.0.0:*",
                r#"users:(("sshd",pid=901,fd=3))"#,
            ),
        ])
    }

    #[test]
    fn recv_q_reaching_send_q_fires() {
        let r = run(&[("ss.txt", listener(510, 511))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        let r = run(&[("ss.txt", listener(511, 511))]);
        let f = findings(&r, ID);
        assert_eq!(
            f.len(),
            1,
            "only the full listener, not the default-backlog sshd"
        );
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(
            (int(f[0], "port"), int(f[0], "recv_q"), int(f[0], "backlog")),
            (3000, 511, 511)
        );
        assert_eq!(
            (text(f[0], "process"), int(f[0], "pid")),
            ("node".into(), 1234)
        );
        assert_eq!(f[0].evidence[0].line, 2);
        assert!(f[0].fixes.iter().any(|x| x
            .text
            .contains("server.listen({ port: 3000, backlog: 4096 })")));
    }

    #[test]
    fn saturated_fixture_and_healthy_fixture() {
        let r = run(&[("ss.txt", fixture("ss/ss-lntp-saturated.txt"))]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert!(f[0]
            .summary
            .contains("512 connection(s) waiting to be accepted with a backlog of 511"));
        let r = run(&[("ss.txt", fixture("ss/ss-lntp-healthy.txt"))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        assert!(findings(&r, ID).is_empty());
    }

    #[test]
    fn counters_above_zero_fire_zero_does_not() {
        let nstat = |v: u64| {
            format!("#kernel\nTcpExtListenOverflows           {v}                  0.0\nTcpExtListenDrops               {v}                  0.0\n")
        };
        let r = run(&[("nstat.txt", nstat(0))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        let r = run(&[("nstat.txt", nstat(1))]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (int(f[0], "listen_overflows"), int(f[0], "listen_drops")),
            (1, 1)
        );
        assert_eq!(f[0].evidence[0].line, 2);
        assert!(r
            .missing
            .iter()
            .any(|m| m.check == ID && m.command == "ss -lntp"));
    }

    #[test]
    fn netstat_s_wording_with_default_backlog_suspects() {
        let r = run(&[
            ("netstat-s.txt", fixture("netstat/netstat-s-old.txt")),
            ("ss.txt", fixture("ss/ss-lntp-healthy.txt")),
            (
                "sysctl.txt",
                "net.core.somaxconn = 4096\nnet.ipv4.tcp_max_syn_backlog = 512\n".into(),
            ),
        ]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(int(f[0], "listen_overflows"), 77);
        assert_eq!(int(f[0], "listen_drops"), 77);
        assert!(
            f[0].summary.contains(
                "listeners at a default backlog: 0.0.0.0:3000 (backlog 4096, node (pid 1234))"
            ),
            "{}",
            f[0].summary
        );
        assert!(
            f[0].fixes[0]
                .text
                .contains("net.core.somaxconn = 8192   # now 4096"),
            "{}",
            f[0].fixes[0].text
        );
        assert!(f[0].fixes[0]
            .text
            .contains("net.ipv4.tcp_max_syn_backlog = 8192   # now 512"));
    }

    #[test]
    fn syn_flood_on_the_same_port_is_tied_in() {
        let r = run(&[
            ("kern.log", SYN_FLOOD.into()),
            ("ss.txt", listener(12, 511)),
        ]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(int(f[0], "port"), 3000);
        assert!(f[0].summary.contains("net.syn-flood"));
        assert!(f[0]
            .evidence
            .iter()
            .any(|e| e.path == "kern.log" && e.line == 1));
        assert!(f[0]
            .evidence
            .iter()
            .any(|e| e.path == "ss.txt" && e.line == 2));
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!((int(f[0], "recv_q"), int(f[0], "backlog")), (12, 511));
        assert_eq!(
            findings(&r, "net.syn-flood").len(),
            1,
            "the catalog finding stays"
        );
    }

    #[test]
    fn syn_flood_without_listeners_or_counters_asks_for_them() {
        let r = run(&[("kern.log", SYN_FLOOD.into())]);
        assert_eq!(check(&r, ID).status, CheckStatus::NotApplicable);
        let cmds: Vec<&str> = r
            .missing
            .iter()
            .filter(|m| m.check == ID)
            .map(|m| m.command.as_str())
            .collect();
        assert_eq!(
            cmds,
            vec![
                "nstat -az TcpExtListenOverflows TcpExtListenDrops",
                "ss -lnt"
            ]
        );
    }
}

mod client_pool {
    use super::*;
    const ID: &str = "net.client-pool-cap";
    const NODE: &str = r#"users:(("node",pid=1234,fd=40))"#;

    fn pool(estab: u64, tw: u64) -> Report {
        let mut rows = clients("ESTAB", estab, "10.0.2.15", 41000, "10.0.4.17:5432", NODE);
        rows.extend(clients(
            "TIME-WAIT",
            tw,
            "10.0.2.15",
            50000,
            "10.0.4.17:5432",
            "",
        ));
        run(&[("ss.txt", ss(rows))])
    }

    #[test]
    fn fixture_fires_with_computed_pool_size() {
        let r = run(&[("ss.txt", fixture("ss/ss-tanp-pool-cap.txt"))]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (text(f[0], "process"), int(f[0], "pid")),
            ("node".into(), 1234)
        );
        assert_eq!(text(f[0], "destination"), "10.0.4.17:5432");
        assert_eq!(
            (int(f[0], "established"), int(f[0], "time_wait")),
            (10, 120)
        );
        assert_eq!(int(f[0], "proposed_pool_size"), 15);
        assert!(f[0].fixes[0]
            .text
            .contains("new Pool({ max: 15, idleTimeoutMillis: 30000 })"));
        assert_eq!(f[0].evidence[0].line, 3);
    }

    #[test]
    fn time_wait_pileup_threshold() {
        assert!(findings(&pool(10, 99), ID).is_empty());
        assert_eq!(check(&pool(10, 99), ID).status, CheckStatus::Healthy);
        assert_eq!(findings(&pool(10, 100), ID).len(), 1);
        assert_eq!(int(findings(&pool(6, 100), ID)[0], "proposed_pool_size"), 9);
    }

    #[test]
    fn a_count_that_is_not_a_default_does_not_fire() {
        assert!(findings(&pool(9, 500), ID).is_empty());
        assert!(findings(&pool(11, 500), ID).is_empty());
    }

    #[test]
    fn eaddrnotavail_to_the_destination_counts_as_pressure() {
        let rows = clients("ESTAB", 10, "10.0.2.15", 41000, "10.0.4.17:5432", NODE);
        let r = run(&[("ss.txt", ss(rows)), ("app.log", EADDR_LOG.into())]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert!(f[0].summary.contains("net.eaddrnotavail logged 1 time(s)"));
    }

    #[test]
    fn negative_and_not_applicable() {
        // 10 ESTAB to postgres, 3 TIME-WAIT: a pool at its default but nothing queues.
        let r = run(&[("ss.txt", fixture("ss/ss-tanp.txt"))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        assert!(check(&r, ID)
            .facts
            .iter()
            .any(|f| f.name == "ESTAB from node (pid 1234) to 10.0.4.17:5432"));
        let r = run(&[("ss.txt", fixture("ss/ss-tan-few-timewait.txt"))]);
        assert_eq!(check(&r, ID).status, CheckStatus::NotApplicable);
    }
}

mod close_wait {
    use super::*;
    const ID: &str = "net.close-wait-leak";

    fn leak(n: u64) -> Report {
        run(&[(
            "ss.txt",
            ss(clients(
                "CLOSE-WAIT",
                n,
                "10.0.2.20",
                38000,
                "10.0.6.5:8443",
                r#"users:(("java",pid=2200,fd=200))"#,
            )),
        )])
    }

    #[test]
    fn threshold_edges() {
        assert_eq!(check(&leak(49), ID).status, CheckStatus::Healthy);
        let r = leak(50);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(int(f[0], "close_wait"), 50);
    }

    #[test]
    fn fixture_names_process_and_peers() {
        let r = run(&[("ss.txt", fixture("ss/ss-tanp-close-wait.txt"))]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1, "java leaks, python3 (4) does not");
        assert_eq!(
            (
                text(f[0], "process"),
                int(f[0], "pid"),
                int(f[0], "close_wait")
            ),
            ("java".into(), 2200, 60)
        );
        assert_eq!(text(f[0], "top_peer"), "10.0.6.5:8443");
        assert!(
            f[0].summary
                .contains("top peers: 45 to 10.0.6.5:8443, 15 to 10.0.6.6:8443"),
            "{}",
            f[0].summary
        );
        assert_eq!(
            f[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![3, 48]
        );
        assert!(f[0].fixes[0].text.contains("/proc/2200/limits"));
    }

    #[test]
    fn healthy_fixture() {
        let r = run(&[("ss.txt", fixture("ss/ss-tanp.txt"))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
    }
}

mod sysctl_review {
    use super::*;
    const ID: &str = "net.sysctl-review";
    const CONNTRACK_FULL: &str =
        "Nov 21 14:23:07 node-3 kernel: [90211.1] nf_conntrack: table full, dropping packet\n";

    fn conntrack(count: u64) -> String {
        format!(
            "net.netfilter.nf_conntrack_count = {count}\nnet.netfilter.nf_conntrack_max = 262144\n"
        )
    }

    #[test]
    fn conntrack_near_full_with_the_kernel_line_fires() {
        let r = run(&[
            ("sysctl.txt", fixture("sysctl/sysctl-a.txt")),
            ("kern.log", CONNTRACK_FULL.into()),
        ]);
        let f = findings(&r, ID);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(
            (
                int(f[0], "nf_conntrack_count"),
                int(f[0], "nf_conntrack_max")
            ),
            (261900, 262144)
        );
        assert_eq!(int(f[0], "proposed_nf_conntrack_max"), 524288);
        assert!(f[0]
            .summary
            .contains("261,900 of nf_conntrack_max 262,144 (99.9%)"));
        assert!(f[0].evidence.iter().any(|e| e.path == "kern.log"));
        assert!(f[0]
            .evidence
            .iter()
            .any(|e| e.path == "sysctl.txt" && e.line == 25));
    }

    #[test]
    fn ninety_percent_edge() {
        // 90% of 262,144 is 235,929.6
        let r = run(&[
            ("s.txt", conntrack(235929)),
            ("kern.log", CONNTRACK_FULL.into()),
        ]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
        let r = run(&[
            ("s.txt", conntrack(235930)),
            ("kern.log", CONNTRACK_FULL.into()),
        ]);
        assert_eq!(check(&r, ID).status, CheckStatus::Fired);
    }

    #[test]
    fn values_without_a_failure_are_only_listed() {
        let r = run(&[("sysctl.txt", fixture("sysctl/sysctl-a.txt"))]);
        let c = check(&r, ID);
        assert_eq!(c.status, CheckStatus::Healthy);
        assert!(findings(&r, ID).is_empty());
        let keep = c
            .facts
            .iter()
            .find(|f| f.name == "net.ipv4.tcp_keepalive_time")
            .expect("keepalive");
        assert!(keep.value.contains("2-hour default"));
        assert_eq!(
            (keep.path.as_deref(), keep.line),
            (Some("sysctl.txt"), Some(14))
        );
        assert_eq!(c.facts.len(), 12);
        let r = run(&[("sysctl.txt", fixture("sysctl/sysctl-healthy.txt"))]);
        assert_eq!(check(&r, ID).status, CheckStatus::Healthy);
    }

    #[test]
    fn conntrack_full_without_values_asks_for_them() {
        let r = run(&[("kern.log", CONNTRACK_FULL.into())]);
        assert_eq!(check(&r, ID).status, CheckStatus::NotApplicable);
        assert!(r.missing.iter().any(|m| m.check == ID
            && m.command
                == "sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max"));
    }
}

#[test]
fn proc_sys_tree_feeds_the_checks() {
    let r = run(&[
        (
            "proc/sys/net/ipv4/ip_local_port_range",
            "32768\t32867\n".into(),
        ),
        (
            "ss.txt",
            ss(clients(
                "TIME-WAIT",
                60,
                "10.0.2.15",
                32768,
                "10.0.4.17:5432",
                "",
            )),
        ),
    ]);
    let f = findings(&r, "net.ephemeral-port-exhaustion");
    assert_eq!(int(f[0], "port_range_width"), 100);
    assert_eq!(text(f[0], "port_range_source"), "sysctl");
    assert!(f[0]
        .evidence
        .iter()
        .any(|e| e.path == "proc/sys/net/ipv4/ip_local_port_range" && e.line == 1));
}
