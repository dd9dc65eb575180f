//! The binary as users and scheduled jobs run it: exit codes, `--fail-on`, output files and
//! formats, the JSON shape, determinism, a closed pipe, and the `signatures` command.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coroner"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> PathBuf {
    root().join("fixtures/bundles/oom-api-node")
}

fn log_fixture(rel: &str) -> PathBuf {
    root().join("fixtures/logs").join(rel)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run coroner")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("stdout is JSON")
}

#[test]
fn completed_analysis_exits_0_with_or_without_findings() {
    let o = run(&["analyze", p(&demo())]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    assert!(
        text.starts_with(
            "coroner: 8 finding(s) in 3 source(s) read (3 critical, 5 warning, 0 info)"
        ),
        "{text}"
    );
    let o = run(&["analyze", p(&log_fixture("negatives/clean-boot.txt"))]);
    assert_eq!(code(&o), 0);
}

#[test]
fn fail_on_exits_1_at_or_above_the_worst_severity_and_0_below() {
    // syn-flood-3x.log holds only warnings; the demo bundle has a critical OOM kill.
    let warn_only = log_fixture("signatures/syn-flood-3x.log");
    for (path, level, want) in [
        (warn_only.clone(), "info", 1),
        (warn_only.clone(), "warning", 1),
        (warn_only, "critical", 0),
        (demo(), "critical", 1),
        (demo(), "warning", 1),
        (log_fixture("negatives/clean-boot.txt"), "info", 0),
    ] {
        let o = run(&["analyze", p(&path), "--fail-on", level]);
        assert_eq!(code(&o), want, "{} --fail-on {level}", path.display());
        assert!(!o.stdout.is_empty(), "the report is still printed");
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![],
        vec!["analyze"],
        vec!["frobnicate", "x"],
        vec!["analyze", "--format", "yaml", "x"],
        vec!["analyze", "--fail-on", "sometimes", "x"],
        vec!["analyze", "--bogus-flag", "x"],
    ] {
        let o = run(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?} explains itself");
    }
    assert_eq!(code(&run(&["--help"])), 0);
    assert_eq!(code(&run(&["--version"])), 0);
}

#[test]
fn nothing_readable_exits_2_but_one_bad_path_among_good_ones_does_not() {
    let missing = root().join("fixtures/does-not-exist");
    let o = run(&["analyze", p(&missing)]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("does-not-exist"), "{e}");
    assert!(e.contains("nothing could be read"), "{e}");

    let o = run(&[
        "analyze",
        p(&missing),
        p(&log_fixture("formats/dmesg.txt")),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json_of(&o);
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["level"], "error");
    assert_eq!(diags[0]["path"], p(&missing));
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(2));
}

#[test]
fn a_bad_signatures_file_exits_2_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("broken.toml");
    std::fs::write(
        &bad,
        r#"id = "site.broken"
title = "t"
severity = "warning"
summary = "s"
what = "w"
why = "y"
[[pattern]]
literals = ["broken thing"]
regex = 'broken (thing'
[[fix]]
title = "f"
text = "t"
[[example]]
text = "broken thing"
[[counterexample]]
text = "fine"
"#,
    )
    .expect("write");
    let o = run(&["analyze", p(&demo()), "--signatures", p(&bad)]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("broken.toml"), "{e}");
    assert!(e.contains("regex does not compile"), "{e}");
    assert!(
        o.stdout.is_empty(),
        "no report from a run that could not start"
    );

    let o = run(&[
        "signatures",
        "--signatures",
        p(&dir.path().join("nope.toml")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.toml"));
}

#[test]
fn output_file_and_format_from_its_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    let o = run(&["analyze", p(&demo()), "-o", p(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "-o writes the file, not stdout");
    let v: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("JSON by extension");
    assert_eq!(v["version"], 1);

    let txt = dir.path().join("report.txt");
    let o = run(&["analyze", p(&demo()), "--output", p(&txt)]);
    assert_eq!(code(&o), 0);
    let text = std::fs::read_to_string(&txt).expect("written");
    assert!(text.starts_with("coroner: "), "{text}");

    // An explicit --format wins over the extension.
    let forced = dir.path().join("report.json");
    let o = run(&["analyze", p(&demo()), "-o", p(&forced), "--format", "text"]);
    assert_eq!(code(&o), 0);
    assert!(std::fs::read_to_string(&forced)
        .expect("written")
        .starts_with("coroner: "));

    // An output that cannot be written is an error.
    let o = run(&[
        "analyze",
        p(&demo()),
        "-o",
        p(&dir.path().join("no/such/dir/r.json")),
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot write"));
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn json_shape_is_the_documented_one() {
    let o = run(&["analyze", p(&demo()), "--format", "json"]);
    assert_eq!(code(&o), 0);
    let v = json_of(&o);
    assert_eq!(
        keys(&v),
        vec![
            "checks",
            "clock",
            "diagnostics",
            "findings",
            "incidents",
            "missing",
            "sources",
            "timeline",
            "version"
        ]
    );
    assert_eq!(v["version"], 1);
    let sources = v["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 3);
    for s in sources {
        assert_eq!(
            keys(s),
            vec![
                "diagnostics",
                "first",
                "format",
                "kind",
                "last",
                "lines",
                "path",
                "skipped",
                "unresolved"
            ]
        );
        assert!(s["lines"].is_u64());
        assert!(s["skipped"].is_null());
    }
    assert_eq!(sources[0]["path"], "describe-api-7f9c8d6b5-lq2xz.txt");
    assert_eq!(sources[0]["kind"], "kubectl-describe");
    assert_eq!(sources[1]["path"], "gateway.log");
    assert_eq!(sources[1]["kind"], "log");
    assert_eq!(sources[2]["path"], "kern.log");
    assert_eq!(sources[2]["first"], "2026-11-21T14:02:11Z");
    let findings = v["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(
            keys(f),
            vec![
                "count",
                "evidence",
                "fields",
                "first",
                "fixes",
                "last",
                "severity",
                "signature",
                "summary",
                "title"
            ]
        );
        assert!(f["count"].as_u64().is_some_and(|c| c >= 1));
        assert!(matches!(
            f["severity"].as_str(),
            Some("info" | "warning" | "critical")
        ));
        assert!(f["first"].is_null() || f["first"].is_string());
        assert!(f["fields"].is_object());
        for e in f["evidence"].as_array().expect("evidence") {
            assert_eq!(keys(e), vec!["line", "path", "text"]);
            assert!(e["line"].as_u64().is_some_and(|l| l >= 1));
        }
        for x in f["fixes"].as_array().expect("fixes") {
            assert_eq!(keys(x), vec!["text", "title"]);
        }
    }
    // Integers stay integers.
    let oom = findings
        .iter()
        .find(|f| f["signature"] == "mem.oom-kill-memcg")
        .expect("oom finding");
    assert_eq!(oom["fields"]["pid"], 48213);
    assert_eq!(oom["fields"]["anon_rss_kb"], 1003412);
    assert!(v["checks"].is_array() && v["missing"].is_array() && v["diagnostics"].is_array());
}

#[test]
fn output_is_deterministic() {
    for format in ["json", "text"] {
        let a = run(&["analyze", p(&root().join("fixtures")), "--format", format]);
        let b = run(&["analyze", p(&root().join("fixtures")), "--format", format]);
        assert_eq!(code(&a), 0);
        assert!(a.stdout == b.stdout, "{format} output differs between runs");
    }
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    // Enough distinct findings that the report is far larger than a pipe buffer.
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("dmesg.txt");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&f).expect("create"));
    for port in 1000..4000 {
        writeln!(
            w,
            "[ {port}.000001] TCP: request_sock_TCP: Possible SYN flooding on port {port}. Sending cookies.  Check SNMP counters."
        )
        .expect("write");
    }
    drop(w);
    let mut child = bin()
        .args(["analyze", p(&f)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

const ALL_IDS: [&str; 17] = [
    "fd.emfile",
    "fd.enfile",
    "fd.file-max",
    "kernel.hung-task",
    "mem.oom-kill-global",
    "mem.oom-kill-memcg",
    "mem.oom-no-victim",
    "net.bind-addr-unavailable",
    "net.conntrack-full",
    "net.eaddrnotavail",
    "net.econnrefused",
    "net.neighbour-overflow",
    "net.orphan-sockets",
    "net.socket-hang-up",
    "net.syn-flood",
    "net.tcp-mem-pressure",
    "net.timewait-overflow",
];

#[test]
fn signatures_lists_the_catalog() {
    let o = run(&["signatures"]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).expect("utf-8");
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ALL_IDS.to_vec());
    let syn = text
        .lines()
        .find(|l| l.starts_with("net.syn-flood "))
        .expect("syn flood row");
    assert!(syn.contains("warning"), "{syn}");
}

#[test]
fn signatures_id_documents_one_signature() {
    let o = run(&["signatures", "net.syn-flood"]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).expect("utf-8");
    assert!(text.starts_with("net.syn-flood  (warning)\n"), "{text}");
    for section in ["What it detects\n", "Why it matters\n", "Fix\n"] {
        assert!(text.contains(section), "missing {section:?} in {text}");
    }
    assert!(text.contains("net.core.somaxconn"), "{text}");
    let o = run(&["signatures", "net.no-such-thing"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("net.no-such-thing"));
}

#[test]
fn user_signatures_from_a_directory_fire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sigs = dir.path().join("sigs");
    std::fs::create_dir(&sigs).expect("mkdir");
    std::fs::write(
        sigs.join("disk.toml"),
        r#"id = "site.disk-full"
title = "A filesystem ran out of space"
severity = "critical"
group_by = ["device"]
summary = "{device} was full {count} time(s)."
what = "ext4 `No space left on device` errors."
why = "Writes fail."
[[pattern]]
literals = ["No space left on device"]
regex = 'EXT4-fs warning \(device (?P<device>\w+)\): .*No space left on device'
[[fix]]
title = "Free space on {device}"
text = "df -h; du -xh / | sort -h | tail"
[[example]]
text = "[ 9.1] EXT4-fs warning (device nvme1n1): ext4_dx_add_entry:2356: No space left on device"
fields = { device = "nvme1n1" }
[[counterexample]]
text = "[ 9.1] EXT4-fs (nvme1n1): mounted filesystem"
"#,
    )
    .expect("write");
    let log = dir.path().join("dmesg.txt");
    std::fs::write(
        &log,
        "[ 9121.000001] EXT4-fs warning (device nvme1n1): ext4_dx_add_entry:2356: No space left on device\n",
    )
    .expect("write");
    let o = run(&[
        "analyze",
        p(&log),
        "--signatures",
        p(&sigs),
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v = json_of(&o);
    let f = &v["findings"][0];
    assert_eq!(f["signature"], "site.disk-full");
    assert_eq!(f["fields"]["device"], "nvme1n1");
    assert_eq!(f["fixes"][0]["title"], "Free space on nvme1n1");
    assert_eq!(f["evidence"][0]["path"], "dmesg.txt");
    assert_eq!(f["evidence"][0]["line"], 1);
    let o = run(&["signatures", "--signatures", p(&sigs)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("site.disk-full"));
}

#[test]
fn max_line_bytes_cuts_long_lines_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("app.log");
    std::fs::write(
        &f,
        format!(
            "{}\n[ 7001.200000] VFS: file-max limit 1048576 reached\n",
            "z".repeat(300)
        ),
    )
    .expect("write");
    let o = run(&[
        "analyze",
        p(&f),
        "--max-line-bytes",
        "200",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    let v = json_of(&o);
    let d = &v["sources"][0]["diagnostics"][0];
    assert_eq!(d["level"], "warning");
    assert_eq!(d["line"], 1);
    assert_eq!(
        d["message"],
        "1 line(s) longer than 200 bytes were cut to that length: line 1 (300 bytes)"
    );
    assert_eq!(v["findings"][0]["signature"], "fd.file-max");
    assert_eq!(v["findings"][0]["evidence"][0]["line"], 2);
}
