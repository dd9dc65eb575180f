//! Every fixture under `fixtures/logs/`, analysed through the whole pipeline: the detected
//! format and line count of the source, and each finding's signature, count, fields, evidence
//! lines and times, exactly. For every finding, the same fixture without its evidence lines
//! must not produce it (the key lines are what makes it fire, not the surroundings).

use coroner::model::SourceKind;
use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One expected finding.
struct F {
    sig: &'static str,
    count: u64,
    fields: Value,
    evidence: &'static [u64],
    first: Option<&'static str>,
    last: Option<&'static str>,
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(rel)
}

/// Loaded once: compiling the catalog's regexes per analysis would dominate the test time.
fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&[]).expect("built-in catalog"))
}

fn analyze_paths(paths: Vec<PathBuf>) -> Report {
    analyze(
        &AnalyzeOptions {
            paths,
            ..Default::default()
        },
        catalog(),
    )
}

/// The fixture's physical lines, as the evidence must quote them.
fn physical_lines(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("fixture");
    let text = String::from_utf8(bytes).expect("fixtures are UTF-8");
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

/// Analyse the fixture with some 1-based lines removed (written to a temp file of the same name).
fn analyze_without(rel: &str, drop: &[u64]) -> Report {
    let src = fixture(rel);
    let text = std::fs::read_to_string(&src).expect("fixture");
    let kept: Vec<&str> = text
        .split_inclusive('\n')
        .enumerate()
        .filter(|(i, _)| !drop.contains(&(*i as u64 + 1)))
        .map(|(_, l)| l)
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let name = src.file_name().expect("file name");
    let p = dir.path().join(name);
    std::fs::write(&p, kept.concat()).expect("write");
    analyze_paths(vec![p])
}

/// A finding as compared: signature, count, fields, evidence lines, first, last.
type Row = (String, u64, Value, Vec<u64>, Option<String>, Option<String>);

/// A finding's fields without `host` and `program`, which say where the line came from
/// rather than what it captured (`host_and_program_come_from_the_line_prefix` covers them).
fn captured_fields(f: &coroner::model::Finding) -> Value {
    let mut fields = f.fields.clone();
    fields.remove("host");
    fields.remove("program");
    serde_json::to_value(&fields).expect("fields")
}

fn check(rel: &str, format: &str, lines: u64, expected: &[F]) {
    let path = fixture(rel);
    let r = analyze_paths(vec![path.clone()]);
    assert_eq!(r.sources.len(), 1, "{rel}");
    let s = &r.sources[0];
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    assert_eq!(s.path, name, "{rel}: source path");
    assert_eq!(s.kind, SourceKind::Log, "{rel}: kind");
    assert_eq!(s.format, format, "{rel}: format");
    assert_eq!(s.lines, lines, "{rel}: lines");
    assert_eq!(s.skipped, None, "{rel}: skipped");
    assert!(s.diagnostics.is_empty(), "{rel}: {:?}", s.diagnostics);

    // Log signatures only: analytic checks that a log finding triggers on its own (such as
    // net.ephemeral-port-exhaustion after EADDRNOTAVAIL) have their own tests.
    let catalog = coroner::signatures::Catalog::load(&[]).expect("catalog");
    let got: Vec<Row> = r
        .findings
        .iter()
        .filter(|f| catalog.get(&f.signature).is_some())
        .map(|f| {
            (
                f.signature.clone(),
                f.count,
                captured_fields(f),
                f.evidence.iter().map(|e| e.line).collect(),
                f.first.clone(),
                f.last.clone(),
            )
        })
        .collect();
    let want: Vec<Row> = expected
        .iter()
        .map(|f| {
            (
                f.sig.to_string(),
                f.count,
                f.fields.clone(),
                f.evidence.to_vec(),
                f.first.map(str::to_string),
                f.last.map(str::to_string),
            )
        })
        .collect();
    assert_eq!(got, want, "{rel}: findings");

    // Evidence quotes the file exactly, at the right line, with the right path.
    let file_lines = physical_lines(&path);
    for f in &r.findings {
        for e in &f.evidence {
            assert_eq!(e.path, name, "{rel}");
            let at = usize::try_from(e.line - 1).expect("line");
            assert_eq!(
                Some(&e.text),
                file_lines.get(at),
                "{rel}: evidence text of line {}",
                e.line
            );
        }
    }

    // Without its evidence lines, each finding disappears (one fewer finding of that signature
    // with those fields: two programs may report the same fields).
    let same = |r: &Report, f: &coroner::model::Finding| {
        r.findings
            .iter()
            .filter(|g| g.signature == f.signature && g.fields == f.fields)
            .count()
    };
    for f in &r.findings {
        let drop: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
        let without = analyze_without(rel, &drop);
        assert!(
            same(&without, f) < same(&r, f),
            "{rel}: {} {:?} still fires without lines {drop:?}",
            f.signature,
            f.fields
        );
    }
}

#[test]
fn apps_go_log() {
    check(
        "apps/go.log",
        "app",
        7,
        &[
            F {
                sig: "fd.emfile",
                count: 3,
                fields: json!({"syscall": "accept4"}),
                evidence: &[2, 3, 4],
                first: Some("2026-11-21T14:23:07Z"),
                last: Some("2026-11-21T14:23:07Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 2,
                fields: json!({"destination": "10.26.2.1:3306"}),
                evidence: &[5, 6],
                first: Some("2026-11-21T14:23:08Z"),
                last: Some("2026-11-21T14:23:08Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({"destination": "10.26.4.9:6379"}),
                evidence: &[7],
                first: Some("2026-11-21T14:23:09Z"),
                last: Some("2026-11-21T14:23:09Z"),
            },
        ],
    );
}

#[test]
fn apps_java_logback_log() {
    check(
        "apps/java-logback.log",
        "app",
        23,
        &[
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[3],
                first: Some("2026-11-21T14:23:07.123Z"),
                last: Some("2026-11-21T14:23:07.123Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 1,
                fields: json!({"destination": "10.26.3.40:8081"}),
                evidence: &[12],
                first: Some("2026-11-21T14:23:09.580Z"),
                last: Some("2026-11-21T14:23:09.580Z"),
            },
        ],
    );
}

#[test]
fn apps_nginx_error_log() {
    check(
        "apps/nginx-error.log",
        "app",
        9,
        &[
            F {
                sig: "fd.emfile",
                count: 3,
                fields: json!({"syscall": "accept4"}),
                evidence: &[3, 4, 5],
                first: Some("2026-11-21T14:23:07Z"),
                last: Some("2026-11-21T14:23:07Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 1,
                fields: json!({"destination": "10.42.7.61:3000"}),
                evidence: &[9],
                first: Some("2026-11-21T14:23:11Z"),
                last: Some("2026-11-21T14:23:11Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 2,
                fields: json!({"destination": "10.42.7.61:3000"}),
                evidence: &[6, 7],
                first: Some("2026-11-21T14:23:09Z"),
                last: Some("2026-11-21T14:23:09Z"),
            },
        ],
    );
}

#[test]
fn apps_node_stderr_log() {
    check(
        "apps/node-stderr.log",
        "plain+json-lines",
        21,
        &[F {
            sig: "net.eaddrnotavail",
            count: 1,
            fields: json!({"destination": "10.0.4.17:5432", "local": "0.0.0.0:0"}),
            evidence: &[9],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn apps_pino_jsonl() {
    check(
        "apps/pino.jsonl",
        "json-lines",
        4,
        &[
            F {
                sig: "net.socket-hang-up",
                count: 1,
                fields: json!({}),
                evidence: &[2],
                first: Some("2026-11-21T14:23:07.102Z"),
                last: Some("2026-11-21T14:23:07.102Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({"destination": "10.42.8.15:8443"}),
                evidence: &[3],
                first: Some("2026-11-21T14:23:08.530Z"),
                last: Some("2026-11-21T14:23:08.530Z"),
            },
        ],
    );
}

#[test]
fn apps_python_traceback_log() {
    check(
        "apps/python-traceback.log",
        "app",
        15,
        &[
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[7],
                first: Some("2026-11-21T14:23:07.344Z"),
                last: Some("2026-11-21T14:23:07.344Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 1,
                fields: json!({}),
                evidence: &[14],
                first: Some("2026-11-21T14:23:08.019Z"),
                last: Some("2026-11-21T14:23:08.019Z"),
            },
        ],
    );
}

#[test]
fn apps_zap_jsonl() {
    check(
        "apps/zap.jsonl",
        "json-lines",
        4,
        &[F {
            sig: "net.eaddrnotavail",
            count: 2,
            fields: json!({"destination": "10.26.2.1:5432"}),
            evidence: &[2, 3],
            first: Some("2026-11-21T14:24:07.503Z"),
            last: Some("2026-11-21T14:24:07.610Z"),
        }],
    );
}

#[test]
fn formats_dmesg_t_txt() {
    check(
        "formats/dmesg-T.txt",
        "dmesg-T",
        17,
        &[F {
            sig: "kernel.hung-task",
            count: 1,
            fields: json!({"pid": 771, "process": "jbd2/sdb1-8", "seconds": 120}),
            evidence: &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
            first: Some("2023-12-22T12:26:24Z"),
            last: Some("2023-12-22T12:26:24Z"),
        }],
    );
}

#[test]
fn formats_dmesg_x_txt() {
    check(
        "formats/dmesg-x.txt",
        "dmesg-x",
        7,
        &[
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "address": "0.0.0.0", "port": 7070}),
                evidence: &[5],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Dropping request", "address": "[2001:db8:4:1::10]", "port": 8443}),
                evidence: &[6],
                first: None,
                last: None,
            },
            F {
                sig: "net.timewait-overflow",
                count: 1,
                fields: json!({}),
                evidence: &[7],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn formats_dmesg_txt() {
    check(
        "formats/dmesg.txt",
        "dmesg",
        7,
        &[
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Dropping request", "address": "[::]", "port": 443}),
                evidence: &[5],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "address": "0.0.0.0", "port": 7070}),
                evidence: &[6],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn formats_journalctl_json_jsonl() {
    check(
        "formats/journalctl-json.jsonl",
        "journalctl-json",
        6,
        &[
            F {
                sig: "net.conntrack-full",
                count: 2,
                fields: json!({"netns": "4026532345", "table": "nf"}),
                evidence: &[2, 3],
                first: Some("2026-11-21T14:21:55Z"),
                last: Some("2026-11-21T14:21:55.000012Z"),
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({"path": "/data/uploads/r\u{fffd}sum\u{fffd}.pdf", "syscall": "open"}),
                evidence: &[5],
                first: Some("2026-11-21T14:21:58Z"),
                last: Some("2026-11-21T14:21:58Z"),
            },
            F {
                sig: "net.conntrack-full",
                count: 1,
                fields: json!({"table": "nf"}),
                evidence: &[6],
                first: Some("2026-11-21T14:21:59Z"),
                last: Some("2026-11-21T14:21:59Z"),
            },
        ],
    );
}

#[test]
fn formats_journalctl_short_full_txt() {
    check(
        "formats/journalctl-short-full.txt",
        "journalctl-short-full",
        13,
        &[F {
            sig: "mem.oom-kill-global",
            count: 1,
            fields: json!({"anon_rss_kb": 15604488, "constraint": "CONSTRAINT_NONE", "file_rss_kb": 0, "gfp_mask": "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)", "invoker": "python3", "memcg": "/user.slice/user-1001.slice/session-44.scope", "oom_score_adj": 0, "order": 0, "pid": 90211, "process": "python3", "shmem_rss_kb": 0, "total_vm_kb": 16493824, "uid": 1001}),
            evidence: &[2, 10, 11, 12],
            first: Some("2026-11-17T14:23:05Z"),
            last: Some("2026-11-17T14:23:05Z"),
        }],
    );
}

#[test]
fn formats_journalctl_short_iso_old_txt() {
    check(
        "formats/journalctl-short-iso-old.txt",
        "journalctl-short-iso",
        5,
        &[F {
            sig: "net.neighbour-overflow",
            count: 2,
            fields: json!({"table": "ndisc_cache"}),
            evidence: &[3, 4],
            first: Some("2020-02-13T16:41:02Z"),
            last: Some("2020-02-13T16:41:09Z"),
        }],
    );
}

#[test]
fn formats_journalctl_short_iso_precise_txt() {
    check(
        "formats/journalctl-short-iso-precise.txt",
        "journalctl-short-iso-precise",
        4,
        &[
            F {
                sig: "net.tcp-mem-pressure",
                count: 1,
                fields: json!({}),
                evidence: &[2],
                first: Some("2026-09-02T09:08:50.123456Z"),
                last: Some("2026-09-02T09:08:50.123456Z"),
            },
            F {
                sig: "net.orphan-sockets",
                count: 1,
                fields: json!({}),
                evidence: &[3],
                first: Some("2026-09-02T09:08:50.131870Z"),
                last: Some("2026-09-02T09:08:50.131870Z"),
            },
        ],
    );
}

#[test]
fn formats_journalctl_short_iso_txt() {
    check(
        "formats/journalctl-short-iso.txt",
        "journalctl-short-iso",
        7,
        &[F {
            sig: "net.neighbour-overflow",
            count: 3,
            fields: json!({"table": "arp_cache"}),
            evidence: &[3, 4, 6],
            first: Some("2026-09-02T09:08:50Z"),
            last: Some("2026-09-02T09:08:55Z"),
        }],
    );
}

#[test]
fn formats_journalctl_short_monotonic_txt() {
    check(
        "formats/journalctl-short-monotonic.txt",
        "journalctl-short-monotonic",
        6,
        &[
            F {
                sig: "fd.file-max",
                count: 2,
                fields: json!({"file_max": 1048576}),
                evidence: &[4, 5],
                first: None,
                last: None,
            },
            F {
                sig: "fd.enfile",
                count: 1,
                fields: json!({}),
                evidence: &[6],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn formats_journalctl_short_precise_txt() {
    check(
        "formats/journalctl-short-precise.txt",
        "journalctl-short-precise",
        4,
        &[F {
            sig: "net.orphan-sockets",
            count: 2,
            fields: json!({}),
            evidence: &[2, 3],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn formats_journalctl_short_txt() {
    check(
        "formats/journalctl-short.txt",
        "syslog",
        16,
        &[F {
            sig: "net.conntrack-full",
            count: 3,
            fields: json!({"table": "nf"}),
            evidence: &[12, 13, 15],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn formats_rfc5424_log() {
    check(
        "formats/rfc5424.log",
        "rfc5424",
        5,
        &[
            F {
                sig: "net.conntrack-full",
                count: 2,
                fields: json!({"table": "nf"}),
                evidence: &[2, 3],
                first: Some("2026-11-21T14:23:07.123Z"),
                last: Some("2026-11-21T14:23:07.125Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({"destination": "10.42.9.12:6379"}),
                evidence: &[4],
                first: Some("2026-11-21T14:23:09.402Z"),
                last: Some("2026-11-21T14:23:09.402Z"),
            },
        ],
    );
}

#[test]
fn formats_syslog_kern_log() {
    check(
        "formats/syslog-kern.log",
        "syslog",
        12,
        &[
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 8443}),
                evidence: &[7],
                first: None,
                last: None,
            },
            F {
                sig: "net.tcp-mem-pressure",
                count: 2,
                fields: json!({}),
                evidence: &[8, 9],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn mixed_grep_context_txt() {
    check(
        "mixed/grep-context.txt",
        "syslog",
        12,
        &[
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 1003412, "constraint": "CONSTRAINT_MEMCG", "container_id": "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6", "container_runtime": "containerd", "file_rss_kb": 31352, "memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "oom_memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "pid": 48213, "pod_qos": "burstable", "pod_uid": "2c7713fd-2aed-4fa2-a60f-f006ab94b3df", "process": "node", "shmem_rss_kb": 0, "total_vm_kb": 4938268, "uid": 1000}),
                evidence: &[6, 7, 8],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 2,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[2, 12],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn mixed_mixed_paste_txt() {
    check(
        "mixed/mixed-paste.txt",
        "dmesg+syslog+journalctl-short-iso+app+json-lines",
        8,
        &[
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 1003412, "constraint": "CONSTRAINT_MEMCG", "container_id": "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6", "container_runtime": "containerd", "failcnt": 2231, "file_rss_kb": 31352, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "node", "limit_kb": 1048576, "memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "oom_memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "oom_score_adj": 996, "order": 0, "pid": 48213, "pod_qos": "burstable", "pod_uid": "2c7713fd-2aed-4fa2-a60f-f006ab94b3df", "process": "node", "shmem_rss_kb": 0, "total_vm_kb": 4938268, "uid": 1000, "usage_kb": 1048576}),
                evidence: &[2, 3, 4, 5],
                first: Some("2026-11-21T14:23:06.525218Z"),
                last: Some("2026-11-21T14:23:06.525218Z"),
            },
            F {
                sig: "net.conntrack-full",
                count: 1,
                fields: json!({"table": "nf"}),
                evidence: &[6],
                first: Some("2026-11-21T14:23:09Z"),
                last: Some("2026-11-21T14:23:09Z"),
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[1],
                first: Some("2026-11-21T14:17:30Z"),
                last: Some("2026-11-21T14:17:30Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({"destination": "10.42.7.61:3000"}),
                evidence: &[7],
                first: Some("2026-11-21T14:23:09.102Z"),
                last: Some("2026-11-21T14:23:09.102Z"),
            },
            F {
                sig: "net.socket-hang-up",
                count: 1,
                fields: json!({}),
                evidence: &[8],
                first: Some("2026-11-21T14:23:07.311Z"),
                last: Some("2026-11-21T14:23:07.311Z"),
            },
        ],
    );
}

#[test]
fn negatives_clean_boot_txt() {
    check("negatives/clean-boot.txt", "dmesg", 26, &[]);
}

#[test]
fn negatives_docs_mentions_md() {
    check("negatives/docs-mentions.md", "plain", 16, &[]);
}

#[test]
fn negatives_lookalikes_log() {
    check(
        "negatives/lookalikes.log",
        "syslog",
        11,
        &[F {
            sig: "net.bind-addr-unavailable",
            count: 1,
            fields: json!({"address": "10.9.9.9:80"}),
            evidence: &[11],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_bind_lookalikes_log() {
    check(
        "signatures/bind-lookalikes.log",
        "app",
        15,
        &[
            F {
                sig: "net.bind-addr-unavailable",
                count: 1,
                fields: json!({"address": "10.9.9.9:80"}),
                evidence: &[1],
                first: Some("2026-11-21T14:23:07Z"),
                last: Some("2026-11-21T14:23:07Z"),
            },
            F {
                sig: "net.bind-addr-unavailable",
                count: 1,
                fields: json!({"address": "10.9.9.9:8080"}),
                evidence: &[2],
                first: Some("2026-11-21T14:23:07Z"),
                last: Some("2026-11-21T14:23:07Z"),
            },
            F {
                sig: "net.bind-addr-unavailable",
                count: 1,
                fields: json!({"address": "10.9.9.9:3000"}),
                evidence: &[3],
                first: Some("2026-11-21T14:23:07Z"),
                last: Some("2026-11-21T14:23:07Z"),
            },
            F {
                sig: "net.bind-addr-unavailable",
                count: 1,
                fields: json!({}),
                evidence: &[15],
                first: Some("2026-11-21T14:23:08.002Z"),
                last: Some("2026-11-21T14:23:08.002Z"),
            },
        ],
    );
}

#[test]
fn signatures_conntrack_legacy_log() {
    check(
        "signatures/conntrack-legacy.log",
        "syslog",
        5,
        &[F {
            sig: "net.conntrack-full",
            count: 3,
            fields: json!({"table": "ip"}),
            evidence: &[2, 3, 5],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_conntrack_log() {
    check(
        "signatures/conntrack.log",
        "syslog",
        7,
        &[
            F {
                sig: "net.conntrack-full",
                count: 3,
                fields: json!({"table": "nf"}),
                evidence: &[2, 3, 6],
                first: None,
                last: None,
            },
            F {
                sig: "net.conntrack-full",
                count: 1,
                fields: json!({"netns": "4026532345", "table": "nf"}),
                evidence: &[5],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_eaddrnotavail_log() {
    check(
        "signatures/eaddrnotavail.log",
        "app",
        9,
        &[
            F {
                sig: "net.eaddrnotavail",
                count: 2,
                fields: json!({"destination": "10.0.4.17:5432", "local": "0.0.0.0:0"}),
                evidence: &[2, 3],
                first: Some("2026-11-21T14:23:07.101Z"),
                last: Some("2026-11-21T14:23:07.188Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 1,
                fields: json!({"destination": "10.26.2.1:3306"}),
                evidence: &[4],
                first: Some("2026-11-21T14:23:07.402Z"),
                last: Some("2026-11-21T14:23:07.402Z"),
            },
            F {
                sig: "net.eaddrnotavail",
                count: 4,
                fields: json!({}),
                evidence: &[5, 6, 7, 8],
                first: Some("2026-11-21T14:23:08.011Z"),
                last: Some("2026-11-21T14:23:09.244Z"),
            },
        ],
    );
}

#[test]
fn signatures_econnrefused_log() {
    check(
        "signatures/econnrefused.log",
        "app",
        6,
        &[
            F {
                sig: "net.econnrefused",
                count: 2,
                fields: json!({"destination": "10.42.7.61:3000"}),
                evidence: &[2, 4],
                first: Some("2026-11-21T14:23:09.102Z"),
                last: Some("2026-11-21T14:23:09.512Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({"destination": "10.42.9.12:6379"}),
                evidence: &[5],
                first: Some("2026-11-21T14:23:10.001Z"),
                last: Some("2026-11-21T14:23:10.001Z"),
            },
            F {
                sig: "net.econnrefused",
                count: 1,
                fields: json!({}),
                evidence: &[6],
                first: Some("2026-11-21T14:23:10.310Z"),
                last: Some("2026-11-21T14:23:10.310Z"),
            },
        ],
    );
}

#[test]
fn signatures_emfile_variants_log() {
    check(
        "signatures/emfile-variants.log",
        "syslog",
        9,
        &[
            F {
                sig: "fd.emfile",
                count: 2,
                fields: json!({"path": "/srv/app/templates/index.html", "syscall": "open"}),
                evidence: &[1, 2],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({"syscall": "accept4"}),
                evidence: &[3],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[4],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[5],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({"syscall": "accept4"}),
                evidence: &[6],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[7],
                first: None,
                last: None,
            },
            F {
                sig: "fd.emfile",
                count: 1,
                fields: json!({}),
                evidence: &[8],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_enfile_log() {
    check(
        "signatures/enfile.log",
        "syslog",
        6,
        &[
            F {
                sig: "fd.enfile",
                count: 2,
                fields: json!({}),
                evidence: &[2, 5],
                first: None,
                last: None,
            },
            F {
                sig: "fd.enfile",
                count: 1,
                fields: json!({}),
                evidence: &[3],
                first: None,
                last: None,
            },
            F {
                sig: "fd.enfile",
                count: 1,
                fields: json!({}),
                evidence: &[4],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_hung_task_log() {
    check(
        "signatures/hung-task.log",
        "syslog",
        22,
        &[F {
            sig: "kernel.hung-task",
            count: 1,
            fields: json!({"pid": 14022, "process": "postgres", "seconds": 120}),
            evidence: &[
                2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            ],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_kernel_misc_log() {
    check(
        "signatures/kernel-misc.log",
        "syslog",
        6,
        &[
            F {
                sig: "fd.file-max",
                count: 2,
                fields: json!({"file_max": 1048576}),
                evidence: &[2, 6],
                first: None,
                last: None,
            },
            F {
                sig: "net.tcp-mem-pressure",
                count: 1,
                fields: json!({}),
                evidence: &[3],
                first: None,
                last: None,
            },
            F {
                sig: "net.orphan-sockets",
                count: 2,
                fields: json!({}),
                evidence: &[4, 5],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_neighbour_overflow_log() {
    check(
        "signatures/neighbour-overflow.log",
        "syslog",
        6,
        &[
            F {
                sig: "net.neighbour-overflow",
                count: 2,
                fields: json!({"table": "arp_cache"}),
                evidence: &[1, 2],
                first: None,
                last: None,
            },
            F {
                sig: "net.neighbour-overflow",
                count: 1,
                fields: json!({"table": "ndisc_cache"}),
                evidence: &[4],
                first: None,
                last: None,
            },
            F {
                sig: "net.neighbour-overflow",
                count: 1,
                fields: json!({}),
                evidence: &[5],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_oom_global_log() {
    check(
        "signatures/oom-global.log",
        "dmesg",
        11,
        &[F {
            sig: "mem.oom-kill-global",
            count: 1,
            fields: json!({"anon_rss_kb": 1003412, "constraint": "CONSTRAINT_NONE", "file_rss_kb": 31244, "gfp_mask": "0x100cca(GFP_HIGHUSER_MOVABLE)", "invoker": "node", "memcg": "/system.slice/app.service", "oom_score_adj": 0, "order": 0, "pid": 4242, "process": "node", "shmem_rss_kb": 0, "total_vm_kb": 4938268, "uid": 1000}),
            evidence: &[1, 9, 10, 11],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_oom_memcg_cgroupfs_docker_log() {
    check(
        "signatures/oom-memcg-cgroupfs-docker.log",
        "syslog",
        24,
        &[F {
            sig: "mem.oom-kill-memcg",
            count: 1,
            fields: json!({"anon_rss_kb": 2066184, "constraint": "CONSTRAINT_MEMCG", "container_id": "5e0d4f2a9c1b8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e", "failcnt": 4012, "file_rss_kb": 16736, "gfp_mask": "0x6000c0(GFP_KERNEL)", "invoker": "java", "limit_kb": 2097152, "memcg": "/kubepods/burstable/pod7d3c9a21-6b4e-4f0a-9c2d-1e8b7a6f5d40/5e0d4f2a9c1b8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e", "oom_memcg": "/kubepods/burstable/pod7d3c9a21-6b4e-4f0a-9c2d-1e8b7a6f5d40/5e0d4f2a9c1b8e7d6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e", "oom_score_adj": 969, "order": 0, "pid": 22871, "pod_qos": "burstable", "pod_uid": "7d3c9a21-6b4e-4f0a-9c2d-1e8b7a6f5d40", "process": "java", "shmem_rss_kb": 0, "total_vm_kb": 6732964, "uid": 1000, "usage_kb": 2097152}),
            evidence: &[1, 13, 21, 22, 23],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_oom_memcg_crio_log() {
    check(
        "signatures/oom-memcg-crio.log",
        "journalctl-short-iso",
        13,
        &[F {
            sig: "mem.oom-kill-memcg",
            count: 1,
            fields: json!({"anon_rss_kb": 520192, "constraint": "CONSTRAINT_MEMCG", "container_id": "b71f0c2e93d84a5f6e1d0c9b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e4d", "container_runtime": "cri-o", "failcnt": 1377, "file_rss_kb": 2384, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "python3.11", "limit_kb": 524288, "memcg": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_4a7b_8c9d_0e1f2a3b4c5d.slice/crio-b71f0c2e93d84a5f6e1d0c9b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e4d.scope", "oom_memcg": "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_4a7b_8c9d_0e1f2a3b4c5d.slice/crio-b71f0c2e93d84a5f6e1d0c9b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e4d.scope", "oom_score_adj": 1000, "order": 0, "pid": 318806, "pod_qos": "besteffort", "pod_uid": "0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d", "process": "python3.11", "shmem_rss_kb": 0, "total_vm_kb": 644812, "uid": 1000650000, "usage_kb": 524288}),
            evidence: &[1, 3, 11, 12],
            first: Some("2026-10-03T11:07:44Z"),
            last: Some("2026-10-03T11:07:44Z"),
        }],
    );
}

#[test]
fn signatures_oom_memcg_docker_systemd_log() {
    check(
        "signatures/oom-memcg-docker-systemd.log",
        "dmesg",
        20,
        &[F {
            sig: "mem.oom-kill-memcg",
            count: 1,
            fields: json!({"anon_rss_kb": 258900, "constraint": "CONSTRAINT_MEMCG", "container_id": "3f9e8d7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a493827160f5e4d3c2b1a0", "container_runtime": "docker", "failcnt": 93, "file_rss_kb": 9412, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "ruby", "limit_kb": 262144, "memcg": "/kubepods.slice/kubepods-pod9e8d7c6b_5a49_4382_8716_f5e4d3c2b1a0.slice/docker-3f9e8d7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a493827160f5e4d3c2b1a0.scope", "oom_memcg": "/kubepods.slice/kubepods-pod9e8d7c6b_5a49_4382_8716_f5e4d3c2b1a0.slice/docker-3f9e8d7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a493827160f5e4d3c2b1a0.scope", "oom_score_adj": -997, "order": 0, "pid": 7781, "pod_qos": "guaranteed", "pod_uid": "9e8d7c6b-5a49-4382-8716-f5e4d3c2b1a0", "process": "ruby", "shmem_rss_kb": 4, "total_vm_kb": 412304, "uid": 0, "usage_kb": 262144}),
            evidence: &[1, 10, 17, 18, 19],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_oom_memcg_legacy_log() {
    check(
        "signatures/oom-memcg-legacy.log",
        "syslog",
        14,
        &[F {
            sig: "mem.oom-kill-memcg",
            count: 1,
            fields: json!({"anon_rss_kb": 2091008, "container_id": "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6", "failcnt": 52, "file_rss_kb": 17620, "gfp_mask": "0x24000c0", "invoker": "java", "limit_kb": 2097152, "memcg": "/kubepods/burstable/pod4c2e1a90-7d6b-11e9-8f9e-0a58ac1f0b7c/8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6", "oom_memcg": "/kubepods/burstable/pod4c2e1a90-7d6b-11e9-8f9e-0a58ac1f0b7c", "oom_score_adj": -998, "order": 0, "pid": 3001, "pod_qos": "burstable", "pod_uid": "4c2e1a90-7d6b-11e9-8f9e-0a58ac1f0b7c", "process": "java", "shmem_rss_kb": 0, "total_vm_kb": 3203456, "usage_kb": 2097152}),
            evidence: &[1, 4, 5, 12, 13, 14],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_oom_no_victim_log() {
    check(
        "signatures/oom-no-victim.log",
        "dmesg",
        8,
        &[F {
            sig: "mem.oom-no-victim",
            count: 1,
            fields: json!({"gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "kworker/0:2"}),
            evidence: &[1, 7],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn signatures_socket_hang_up_log() {
    check(
        "signatures/socket-hang-up.log",
        "app",
        14,
        &[F {
            sig: "net.socket-hang-up",
            count: 2,
            fields: json!({}),
            evidence: &[2, 10],
            first: Some("2026-11-21T14:23:07.102Z"),
            last: Some("2026-11-21T14:23:07.102Z"),
        }],
    );
}

#[test]
fn signatures_syn_flood_2_6_log() {
    check(
        "signatures/syn-flood-2.6.log",
        "syslog",
        5,
        &[
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 80}),
                evidence: &[2],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 2,
                fields: json!({"action": "Sending cookies", "port": 443}),
                evidence: &[3, 4],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_syn_flood_2022_log() {
    check(
        "signatures/syn-flood-2022.log",
        "dmesg",
        5,
        &[
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "address": "0.0.0.0", "port": 7070}),
                evidence: &[2],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Dropping request", "address": "[::]", "port": 443}),
                evidence: &[3],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "address": "[2001:db8:4:1::10]", "port": 8443}),
                evidence: &[4],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Dropping request", "address": "10.42.7.61", "port": 9090}),
                evidence: &[5],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_syn_flood_3x_log() {
    check(
        "signatures/syn-flood-3x.log",
        "dmesg",
        7,
        &[
            F {
                sig: "net.syn-flood",
                count: 2,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[3, 6],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 8443}),
                evidence: &[4],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Dropping request", "port": 9000}),
                evidence: &[5],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_timewait_overflow_log() {
    check(
        "signatures/timewait-overflow.log",
        "syslog",
        5,
        &[F {
            sig: "net.timewait-overflow",
            count: 3,
            fields: json!({}),
            evidence: &[2, 3, 5],
            first: None,
            last: None,
        }],
    );
}

#[test]
fn wrapped_glued_records_txt() {
    check(
        "wrapped/glued-records.txt",
        "dmesg+syslog",
        4,
        &[
            F {
                sig: "net.conntrack-full",
                count: 2,
                fields: json!({"table": "nf"}),
                evidence: &[2, 3],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[2],
                first: None,
                last: None,
            },
            F {
                sig: "net.orphan-sockets",
                count: 1,
                fields: json!({}),
                evidence: &[3],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn wrapped_mail_wrap_txt() {
    check(
        "wrapped/mail-wrap.txt",
        "plain+syslog",
        15,
        &[
            F {
                sig: "net.conntrack-full",
                count: 1,
                fields: json!({"table": "nf"}),
                evidence: &[7, 8],
                first: None,
                last: None,
            },
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 1003412, "file_rss_kb": 31352, "pid": 48213, "process": "node", "shmem_rss_kb": 0, "total_vm_kb": 4938268}),
                evidence: &[9, 10, 11, 12],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[5, 6],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn wrapped_terminal_wrap_txt() {
    check(
        "wrapped/terminal-wrap.txt",
        "syslog",
        28,
        &[
            F {
                sig: "net.conntrack-full",
                count: 1,
                fields: json!({"table": "nf"}),
                evidence: &[5, 6],
                first: None,
                last: None,
            },
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 1003412, "constraint": "CONSTRAINT_MEMCG", "container_id": "8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6", "container_runtime": "containerd", "failcnt": 2231, "file_rss_kb": 31352, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "node", "limit_kb": 1048576, "memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "oom_memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope", "oom_score_adj": 996, "order": 0, "pid": 48213, "pod_qos": "burstable", "pod_uid": "2c7713fd-2aed-4fa2-a60f-f006ab94b3df", "process": "node", "shmem_rss_kb": 0, "total_vm_kb": 4938268, "uid": 1000, "usage_kb": 1048576}),
                evidence: &[
                    9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
                ],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[3, 4],
                first: None,
                last: None,
            },
            F {
                sig: "net.neighbour-overflow",
                count: 1,
                fields: json!({"table": "arp_cache"}),
                evidence: &[7, 8],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn signatures_oom_memcg_systemd_containerd_log() {
    check(
        "signatures/oom-memcg-systemd-containerd.log",
        "journalctl-short-precise",
        30,
        &[
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 776104, "constraint": "CONSTRAINT_MEMCG", "container_id": "e4c1a7b29f3d48e6a0b5c9d2f7e1a3b8c6d4e2f0a9b7c5d3e1f2a4b6c8d0e9f7", "container_runtime": "containerd", "failcnt": 311, "file_rss_kb": 1580, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "worker", "limit_kb": 786432, "memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1e2d3c_4b5a_4978_8695_a4b3c2d1e0f9.slice/cri-containerd-e4c1a7b29f3d48e6a0b5c9d2f7e1a3b8c6d4e2f0a9b7c5d3e1f2a4b6c8d0e9f7.scope", "oom_memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1e2d3c_4b5a_4978_8695_a4b3c2d1e0f9.slice/cri-containerd-e4c1a7b29f3d48e6a0b5c9d2f7e1a3b8c6d4e2f0a9b7c5d3e1f2a4b6c8d0e9f7.scope", "oom_score_adj": 985, "order": 0, "pid": 61877, "pod_qos": "burstable", "pod_uid": "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "process": "worker", "shmem_rss_kb": 0, "total_vm_kb": 2050936, "uid": 1001, "usage_kb": 786432}),
                evidence: &[1, 13, 22, 23, 24],
                first: None,
                last: None,
            },
            F {
                sig: "mem.oom-kill-memcg",
                count: 1,
                fields: json!({"anon_rss_kb": 775880, "constraint": "CONSTRAINT_MEMCG", "container_id": "1d9a3c5e7f2b4d6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4c", "container_runtime": "containerd", "failcnt": 702, "file_rss_kb": 1612, "gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "worker", "limit_kb": 786432, "memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1e2d3c_4b5a_4978_8695_a4b3c2d1e0f9.slice/cri-containerd-1d9a3c5e7f2b4d6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4c.scope", "oom_memcg": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1e2d3c_4b5a_4978_8695_a4b3c2d1e0f9.slice/cri-containerd-1d9a3c5e7f2b4d6a8c0e2f4a6b8d0c2e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4c.scope", "oom_score_adj": 985, "order": 0, "pid": 63012, "pod_qos": "burstable", "pod_uid": "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "process": "worker", "shmem_rss_kb": 0, "total_vm_kb": 2049980, "uid": 1001, "usage_kb": 786432}),
                evidence: &[26, 27, 28, 29, 30],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn mixed_grep_multi_file_txt() {
    check(
        "mixed/grep-multi-file.txt",
        "syslog",
        8,
        &[
            F {
                sig: "net.conntrack-full",
                count: 2,
                fields: json!({"table": "nf"}),
                evidence: &[6, 7],
                first: None,
                last: None,
            },
            F {
                sig: "net.syn-flood",
                count: 1,
                fields: json!({"action": "Sending cookies", "port": 3000}),
                evidence: &[2],
                first: None,
                last: None,
            },
        ],
    );
}

#[test]
fn apps_docker_json_log() {
    // docker json-file: one object per stderr line; the error-object dump's `code:` line is not a second event.
    check(
        "apps/docker-json.log",
        "json-lines",
        11,
        &[F {
            sig: "net.eaddrnotavail",
            count: 1,
            fields: json!({"destination": "10.0.4.17:5432", "local": "0.0.0.0:0"}),
            evidence: &[2],
            first: Some("2026-11-21T14:23:07.402113Z"),
            last: Some("2026-11-21T14:23:07.402113Z"),
        }],
    );
}

#[test]
fn signatures_oom_global_legacy_log() {
    // CentOS 7 (3.10): no `oom-kill:` summary, so no constraint or memcg; `Out of memory: Kill process`
    // is what says host-wide.
    check(
        "signatures/oom-global-legacy.log",
        "syslog",
        11,
        &[F {
            sig: "mem.oom-kill-global",
            count: 1,
            fields: json!({"anon_rss_kb": 7340032, "file_rss_kb": 0, "gfp_mask": "0x201da", "invoker": "mysqld", "oom_score_adj": 0, "order": 0, "pid": 881, "process": "mysqld", "shmem_rss_kb": 0, "total_vm_kb": 9034112}),
            evidence: &[1, 9, 10],
            first: None,
            last: None,
        }],
    );
}

// ------------------------------------------------------------ single key lines

fn sigs(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.signature.as_str()).collect()
}

#[test]
fn oom_report_without_its_kill_line_is_a_no_victim_report_cut_short() {
    // Line 12 of the CRI-O report is `Memory cgroup out of memory: Killed process 318806 …`.
    let r = analyze_without("signatures/oom-memcg-crio.log", &[12]);
    assert_eq!(sigs(&r), vec!["mem.oom-no-victim"]);
    let f = &r.findings[0];
    assert_eq!(
        captured_fields(f),
        json!({"gfp_mask": "0xcc0(GFP_KERNEL)", "invoker": "python3.11"})
    );
    let d = &r.sources[0].diagnostics;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].line, Some(1));
    assert!(d[0].message.contains("cut short"), "{}", d[0].message);
}

#[test]
fn global_oom_without_its_kill_line_does_not_name_a_victim() {
    let r = analyze_without("signatures/oom-global.log", &[10]);
    assert_eq!(sigs(&r), vec!["mem.oom-no-victim"]);
}

#[test]
fn legacy_memcg_oom_reads_pod_and_container_from_the_task_in_line() {
    let r = analyze_without("signatures/oom-memcg-legacy.log", &[4]);
    assert_eq!(sigs(&r), vec!["mem.oom-kill-memcg"]);
    let fields = &r.findings[0].fields;
    for gone in ["memcg", "oom_memcg", "pod_uid", "container_id", "pod_qos"] {
        assert!(
            !fields.contains_key(gone),
            "{gone} without the Task in line"
        );
    }
    assert_eq!(
        fields.get("pid").map(|v| v.to_string()),
        Some("3001".to_string())
    );
}

#[test]
fn hung_task_needs_its_info_line() {
    assert!(analyze_without("signatures/hung-task.log", &[2])
        .findings
        .is_empty());
    assert!(analyze_without("formats/dmesg-T.txt", &[2])
        .findings
        .is_empty());
}

#[test]
fn hard_wrapped_lines_need_their_continuations() {
    // Line 4 is `ible SYN flooding on port 3000. Sending cookies.  Check SNMP counters.`.
    let r = analyze_without("wrapped/terminal-wrap.txt", &[4]);
    assert!(!sigs(&r).contains(&"net.syn-flood"), "{:?}", sigs(&r));
    // Line 19 is the row of the `oom-kill:` summary that holds the pod in the task memcg path:
    // without it the pod and container are gone, the victim is still read from its kill line.
    let r = analyze_without("wrapped/terminal-wrap.txt", &[19]);
    let oom = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("still a memcg kill");
    assert_eq!(
        oom.fields.get("pid").map(|v| v.to_string()).as_deref(),
        Some("48213")
    );
    assert!(!oom.fields.contains_key("pod_uid"));
    assert!(!oom.fields.contains_key("container_id"));
}

#[test]
fn glued_second_record_is_its_own_event() {
    // The glued line 3 holds a conntrack drop and an orphan-socket record; the first record
    // of line 2 (SYN flood) and its glued conntrack drop are counted separately too.
    let r = analyze_paths(vec![fixture("wrapped/glued-records.txt")]);
    let conntrack = r
        .findings
        .iter()
        .find(|f| f.signature == "net.conntrack-full")
        .expect("conntrack");
    assert_eq!(conntrack.count, 2);
    let r = analyze_without("wrapped/glued-records.txt", &[2]);
    assert_eq!(sigs(&r), vec!["net.conntrack-full", "net.orphan-sockets"]);
    assert_eq!(r.findings[0].count, 1);
}

#[test]
fn bind_failures_are_never_port_exhaustion() {
    for rel in ["signatures/bind-lookalikes.log", "negatives/lookalikes.log"] {
        let r = analyze_paths(vec![fixture(rel)]);
        assert!(
            r.findings
                .iter()
                .all(|f| f.signature == "net.bind-addr-unavailable"),
            "{rel}: {:?}",
            sigs(&r)
        );
    }
}

#[test]
fn a_directory_of_all_log_fixtures_is_read_in_path_order() {
    let r = analyze_paths(vec![fixture("")]);
    let paths: Vec<&str> = r.sources.iter().map(|s| s.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(paths.len(), 53);
    assert!(paths.contains(&"formats/journalctl-json.jsonl"));
    assert!(r.sources.iter().all(|s| s.skipped.is_none()));
}

#[test]
fn a_reboot_closes_an_open_oom_report() {
    // The first boot's report is cut by a panic; the next boot's kill line has its own victim.
    let text = "\
-- Boot 0a1b2c3d4e5f60718293a4b5c6d7e8f9 --
Nov 21 14:23:07 node-7 kernel: node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=996
Nov 21 14:23:07 node-7 kernel: memory: usage 1048576kB, limit 1048576kB, failcnt 12
Nov 21 14:23:07 node-7 kernel: Kernel panic - not syncing: Out of memory: compulsory panic_on_oom is enabled
-- Boot 1b2c3d4e5f60718293a4b5c6d7e8f901 --
Nov 21 14:31:40 node-7 kernel: Memory cgroup out of memory: Killed process 5120 (java) total-vm:3203456kB, anon-rss:2091008kB, file-rss:17620kB, shmem-rss:0kB, UID:1000 pgtables:4580kB oom_score_adj:969
";
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("journal.txt");
    std::fs::write(&p, text).expect("write");
    let r = analyze_paths(vec![p]);
    let s = &r.sources[0];
    assert_eq!(s.format, "syslog");
    assert_eq!(s.diagnostics.len(), 1, "{:?}", s.diagnostics);
    assert_eq!(s.diagnostics[0].line, Some(2));
    let got: Vec<(&str, Vec<u64>)> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.signature.as_str(),
                f.evidence.iter().map(|e| e.line).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("mem.oom-no-victim", vec![2, 4]),
            ("mem.oom-kill-memcg", vec![6]),
        ]
    );
    let memcg = &r.findings[1];
    assert_eq!(
        memcg.fields.get("pid").map(|v| v.to_string()).as_deref(),
        Some("5120")
    );
    assert!(
        !memcg.fields.contains_key("usage_kb"),
        "not the first boot's usage"
    );
}

#[test]
fn summaries_and_fixes_leave_out_what_the_evidence_did_not_say() {
    let r = analyze_paths(vec![fixture("signatures/eaddrnotavail.log")]);
    let unknown = r
        .findings
        .iter()
        .find(|f| f.fields.is_empty())
        .expect("the finding without a destination");
    assert_eq!(
        unknown.summary,
        "Outbound connects failed with EADDRNOTAVAIL 4 time(s): no free local (ephemeral) port was left for the destination."
    );
    assert_eq!(
        unknown.fixes[0].title,
        "Reuse connections (keep-alive / pooling) before touching sysctls"
    );
    let known = &r.findings[0];
    assert_eq!(
        known.fixes[0].title,
        "Reuse connections to 10.0.4.17:5432 (keep-alive / pooling) before touching sysctls"
    );
    let r = analyze_paths(vec![fixture("signatures/neighbour-overflow.log")]);
    let summaries: Vec<&str> = r.findings.iter().map(|f| f.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "The kernel's arp_cache neighbour table overflowed: packets to new neighbours were dropped.",
            "The kernel's ndisc_cache neighbour table overflowed: packets to new neighbours were dropped.",
            "The kernel's neighbour table overflowed: packets to new neighbours were dropped.",
        ]
    );
    for f in &r.findings {
        assert!(
            !f.summary.contains("unknown") && !f.fixes.iter().any(|x| x.title.contains("unknown"))
        );
    }
}

#[test]
fn no_fixture_renders_a_missing_field_as_unknown() {
    let r = analyze_paths(vec![fixture("")]);
    for f in &r.findings {
        let texts = std::iter::once(&f.summary)
            .chain(f.fixes.iter().map(|x| &x.title))
            .chain(f.fixes.iter().map(|x| &x.text));
        for t in texts {
            assert!(
                !t.contains("unknown"),
                "{} ({}): {t}",
                f.signature,
                f.evidence[0].path
            );
        }
    }
}

#[test]
fn host_and_program_come_from_the_line_prefix() {
    let r = analyze_paths(vec![fixture("formats/syslog-kern.log")]);
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "net.syn-flood")
        .expect("syn flood");
    assert_eq!(
        f.fields.get("host").map(|v| v.to_string()),
        Some("web-3".into())
    );
    assert_eq!(
        f.fields.get("program").map(|v| v.to_string()),
        Some("kernel".into())
    );
}
