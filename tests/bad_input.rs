//! Bad input never panics and never stops the run: each bad file yields a diagnostic or a
//! partial result, and a good file beside it in the same directory is still analysed.

use coroner::model::{Level, SourceKind};
use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

const GOOD_NAME: &str = "good.log";
const GOOD: &str = "Nov 21 14:21:55 node-7 kernel: [ 8123.440001] nf_conntrack: nf_conntrack: table full, dropping packet\n";

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&[]).expect("built-in catalog"))
}

fn analyze_dir(dir: &Path) -> Report {
    analyze(
        &AnalyzeOptions {
            paths: vec![dir.to_path_buf()],
            ..Default::default()
        },
        catalog(),
    )
}

/// A directory with the bad file and a good one; analysed; the good one must still fire.
fn with_good_neighbour(name: &str, bytes: &[u8]) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), bytes).expect("write bad");
    std::fs::write(dir.path().join(GOOD_NAME), GOOD).expect("write good");
    let r = analyze_dir(dir.path());
    let good = source(&r, GOOD_NAME);
    assert_eq!((good.skipped.as_deref(), good.lines), (None, 1));
    // Its hit is in a conntrack finding (possibly grouped with the bad file's own hits).
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "net.conntrack-full"));
    r
}

fn source<'a>(r: &'a Report, name: &str) -> &'a coroner::model::Source {
    r.sources
        .iter()
        .find(|s| s.path == name)
        .expect("source listed")
}

#[test]
fn empty_file_is_skipped_with_its_reason() {
    let r = with_good_neighbour("empty.log", b"");
    let s = source(&r, "empty.log");
    assert_eq!(s.skipped.as_deref(), Some("empty file"));
    assert_eq!(s.lines, 0);
}

#[test]
fn binary_files_are_skipped_and_say_what_they_are() {
    let r = with_good_neighbour("core.bin", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00");
    let s = source(&r, "core.bin");
    assert_eq!(s.skipped.as_deref(), Some("binary: an ELF executable"));
    // A rotated log is decompressed on the fly; a gzip cut after its header is reported.
    let r = with_good_neighbour("kern.log.1.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
    assert_eq!(
        source(&r, "kern.log.1.gz").skipped.as_deref(),
        Some("corrupt compressed data: incomplete deflate stream")
    );
    let mut nul = b"Nov 21 14:21:55 node-7 kernel: hello\n".to_vec();
    nul.extend_from_slice(&[0u8; 64]);
    let r = with_good_neighbour("messages.partial", &nul);
    assert!(source(&r, "messages.partial")
        .skipped
        .as_deref()
        .is_some_and(|w| w.contains("NUL")));
    // A journal file is known by name before its bytes are looked at.
    let r = with_good_neighbour("system.journal~", &nul);
    assert!(source(&r, "system.journal~")
        .skipped
        .as_deref()
        .is_some_and(|w| w.contains("binary systemd journal")));
}

#[test]
fn non_utf8_bytes_in_a_kernel_line_still_match() {
    let mut bytes = b"Nov 21 14:21:55 n\xe9ode-7 kernel: [ 8123.440001] nf_conntrack: nf_conntrack: table full in netns 4026532345, dropping packet \xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"Nov 21 14:21:56 node-7 kernel: [ 8124.000000] eth0: link up\n");
    let r = with_good_neighbour("latin1.log", &bytes);
    let s = source(&r, "latin1.log");
    assert_eq!(s.kind, SourceKind::Log);
    assert_eq!(s.lines, 2);
    assert_eq!(s.diagnostics.len(), 1, "{:?}", s.diagnostics);
    assert_eq!(s.diagnostics[0].level, Level::Info);
    assert_eq!(s.diagnostics[0].line, Some(1));
    assert!(s.diagnostics[0].message.contains("not UTF-8"));
    let f = r
        .findings
        .iter()
        .find(|f| f.evidence.iter().any(|e| e.path == "latin1.log"))
        .expect("matched despite the bytes");
    assert_eq!(f.signature, "net.conntrack-full");
    assert_eq!(
        f.fields.get("netns").map(|v| v.to_string()).as_deref(),
        Some("4026532345")
    );
    assert_eq!(f.evidence[0].line, 1);
    assert!(f.evidence[0].text.contains("n\u{fffd}ode-7"));
    assert!(f.evidence[0].text.ends_with("packet \u{fffd}\u{fffd}"));
}

#[test]
fn a_50_mb_line_is_cut_and_the_next_line_still_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("minified.log");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let chunk = [b'a'; 1 << 16];
        for _ in 0..800 {
            w.write_all(&chunk).expect("write");
        }
        w.write_all(b"\n[ 7001.200000] VFS: file-max limit 1048576 reached\n")
            .expect("write");
    }
    std::fs::write(dir.path().join(GOOD_NAME), GOOD).expect("write good");
    let r = analyze_dir(dir.path());
    let s = source(&r, "minified.log");
    assert_eq!(s.lines, 2);
    assert_eq!(s.diagnostics.len(), 1, "{:?}", s.diagnostics);
    assert_eq!(s.diagnostics[0].line, Some(1));
    assert!(
        s.diagnostics[0].message.contains("52428800 bytes"),
        "{}",
        s.diagnostics[0].message
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "fd.file-max")
        .expect("line after the long one");
    assert_eq!(f.evidence[0].line, 2);
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "net.conntrack-full"));
}

#[test]
fn a_truncated_oom_report_gives_a_diagnostic_and_no_victim() {
    let report = "\
Nov 21 14:23:07 ip-10-42-7-19 kernel: [ 4358.077120] node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=996
Nov 21 14:23:07 ip-10-42-7-19 kernel: [ 4358.077128] CPU: 1 PID: 48213 Comm: node Not tainted 5.15.0-1019-aws #23-Ubuntu
Nov 21 14:23:07 ip-10-42-7-19 kernel: [ 4358.077180] memory: usage 1048576kB, limit 1048576kB, failcnt 2231
Nov 21 14:23:07 ip-10-42-7-19 kernel: [ 4358.077204] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
Nov 21 14:23:07 ip-10-42-7-19 kernel: [ 4358.077213] [  48213]  1000 48213  1234567   258691  2666496        0           996 no";
    let r = with_good_neighbour("kern.log", report.as_bytes());
    let s = source(&r, "kern.log");
    assert_eq!(s.lines, 5);
    assert_eq!(s.diagnostics.len(), 1, "{:?}", s.diagnostics);
    assert_eq!(s.diagnostics[0].level, Level::Warning);
    assert_eq!(s.diagnostics[0].line, Some(1));
    assert!(s.diagnostics[0].message.contains("cut short"));
    let sigs: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.evidence.iter().any(|e| e.path == "kern.log"))
        .map(|f| f.signature.as_str())
        .collect();
    assert_eq!(sigs, vec!["mem.oom-no-victim"]);
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-no-victim")
        .expect("no-victim finding");
    assert_eq!(
        f.fields.get("invoker").map(|v| v.to_string()).as_deref(),
        Some("node")
    );
    let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 3]);
}

#[test]
fn crlf_line_endings_are_read_as_lines() {
    let text = "May  6 10:49:20 web-3 kernel: [13502679.000001] eth0: link up\r\n\
May  6 10:49:21 web-3 kernel: [13502680.515977] TCP: request_sock_TCP: Possible SYN flooding on port 8443. Sending cookies.  Check SNMP counters.\r\n\
May  6 10:49:22 web-3 kernel: [13502681.000001] TCP: out of memory -- consider tuning tcp_mem\r\n";
    let r = with_good_neighbour("kern-windows.log", text.as_bytes());
    let s = source(&r, "kern-windows.log");
    assert_eq!(s.format, "syslog");
    assert_eq!(s.lines, 3);
    assert!(s.diagnostics.is_empty());
    let syn = r
        .findings
        .iter()
        .find(|f| f.signature == "net.syn-flood")
        .expect("syn flood");
    assert_eq!(
        syn.fields.get("port").map(|v| v.to_string()).as_deref(),
        Some("8443")
    );
    assert_eq!(syn.evidence[0].line, 2);
    assert!(!syn.evidence[0].text.ends_with('\r'));
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "net.tcp-mem-pressure" && f.evidence[0].line == 3));
}

/// A deterministic byte generator (no dependency, same bytes every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 56) as u8
    }
}

#[test]
fn garbage_bytes_never_panic() {
    // High bytes and punctuation: text to the sniffer (no NUL, few controls), nonsense to the parsers.
    let mut g = Lcg(42);
    let mut bytes = Vec::new();
    for _ in 0..20_000 {
        let b = g.next();
        bytes.push(match b % 7 {
            0 => b'\n',
            1 => b'[',
            2 => b' ',
            _ => b | 0x80,
        });
    }
    let r = with_good_neighbour("garbage.log", &bytes);
    let s = source(&r, "garbage.log");
    assert!(s.skipped.is_none());
    assert!(s.lines > 1000);
    assert!(s
        .diagnostics
        .iter()
        .any(|d| d.message.contains("not UTF-8")));

    // Mostly control bytes: skipped as binary.
    let ctrl: Vec<u8> = (0..4096).map(|i| (i % 8) as u8 + 1).collect();
    let r = with_good_neighbour("ctrl.log", &ctrl);
    assert!(source(&r, "ctrl.log")
        .skipped
        .as_deref()
        .is_some_and(|w| w.starts_with("binary")));
}

#[test]
fn fragments_of_every_prefix_never_panic() {
    // Lines cut at every byte offset of real prefixes (and glued to each other), through the
    // whole scan: the parsers index into lines by position, so every cut is an edge case.
    let samples = [
        "May  6 10:49:21 web-3 kernel: [13502680.515977] TCP: request_sock_TCP: Possible SYN flooding on port [::]:443. Dropping request.",
        "2026-09-02T09:08:50.123456+0000 db-1 kernel: TCP: out of memory -- consider tuning tcp_mem",
        "Tue 2026-11-17 14:23:05 UTC batch-9 kernel: Out of memory: Killed process 90211 (python3) total-vm:1kB, anon-rss:1kB, file-rss:0kB",
        "[  601.749973] files-2 kernel: VFS: file-max limit 1048576 reached",
        "[Fri Dec 22 12:26:24 2023] INFO: task jbd2/sdb1-8:771 blocked for more than 120 seconds.",
        "kern  :info  : [ 7201.552310] nf_conntrack: table full in netns 1, dropping packet",
        "<4>1 2026-11-21T14:23:07.123Z node-7 kernel - [a b=\"c\\]\"] nf_conntrack: table full, dropping packet",
        r#"{"__REALTIME_TIMESTAMP":"1795270915000000","_TRANSPORT":"kernel","MESSAGE":[110,102,255]}"#,
        "I1121 14:23:07.123456    1234 server.go:12] dial tcp 10.0.0.1:80: connect: connection refused",
        "-- Boot 1b2c3d --",
    ];
    let mut text = String::new();
    for s in samples {
        for cut in 0..=s.len() {
            if let (Some(a), Some(b)) = (s.get(..cut), s.get(cut..)) {
                text.push_str(a);
                text.push('\n');
                text.push_str(b);
                text.push_str(a);
                text.push('\n');
            }
        }
    }
    let r = with_good_neighbour("fragments.log", text.as_bytes());
    assert!(source(&r, "fragments.log").lines > 1000);
}

#[test]
fn a_byte_order_mark_does_not_hide_the_first_line_prefix() {
    let text = "\u{feff}May  6 10:49:21 web-3 kernel: [13502680.515977] TCP: out of memory -- consider tuning tcp_mem\r\n";
    let r = with_good_neighbour("notepad.log", text.as_bytes());
    let s = source(&r, "notepad.log");
    assert_eq!(s.format, "syslog");
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "net.tcp-mem-pressure")
        .expect("first line matched");
    assert_eq!(f.evidence[0].line, 1);
    assert!(f.evidence[0].text.starts_with("May  6"));
}
