//! Host-resource checks: `fd.near-limit`, `fd.low-soft-limit`, `mem.cgroup-near-limit`, on both
//! sides of every threshold, on fixtures, and end to end on the fd-exhaustion bundle.

use coroner::checks::{self, CheckContext, CheckReport, CheckStatus};
use coroner::ingest::lsof::{Process, SourceLine};
use coroner::ingest::memory_stat::{Amount, Cgroup, Entry};
use coroner::ingest::proc_limits::{FileNr, LimitRow, LimitValue, Limits, LimitsOrigin};
use coroner::ingest::Facts;
use coroner::model::{Evidence, FieldValue, Fields, Finding, Severity, Source, SourceKind};
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn source(path: &str, kind: SourceKind) -> Source {
    Source {
        path: path.into(),
        kind,
        format: String::new(),
        lines: 0,
        skipped: None,
        diagnostics: Vec::new(),
        span: Default::default(),
    }
}

fn sources() -> Vec<Source> {
    vec![
        source("lsof.txt", SourceKind::Lsof),
        source("proc/4242/limits", SourceKind::ProcLimits),
        source("memory.current", SourceKind::MemoryStat),
        source("app.log", SourceKind::Log),
    ]
}

fn at(source: usize, line: u64, text: &str) -> SourceLine {
    SourceLine {
        source,
        line,
        text: text.into(),
    }
}

fn process(pid: u32, command: &str, open: u64, typ: &str) -> Process {
    let mut by_type = BTreeMap::new();
    by_type.insert(typ.to_string(), open);
    let row = at(0, 2, &format!("{command} {pid} app 3u {typ} 1 0t0 TCP x"));
    let mut type_samples = BTreeMap::new();
    type_samples.insert(typ.to_string(), row.clone());
    Process {
        pid,
        command: command.into(),
        open_fds: open,
        by_type,
        first: Some(row),
        type_samples,
        ..Default::default()
    }
}

fn limits(pid: Option<u32>, soft: u64, hard: u64) -> Limits {
    Limits {
        pid,
        origin: LimitsOrigin::ProcLimits,
        rows: BTreeMap::new(),
        open_files: Some(LimitRow {
            soft: LimitValue::Value(soft),
            hard: Some(LimitValue::Value(hard)),
            units: "files".into(),
            at: at(
                1,
                9,
                &format!("Max open files            {soft:<20} {hard:<20} files     "),
            ),
        }),
    }
}

fn fd_facts(open: u64, soft: u64, typ: &str) -> Facts {
    let mut f = Facts::default();
    f.lsof
        .processes
        .insert(4242, process(4242, "node", open, typ));
    f.proc_limits.limits.push(limits(Some(4242), soft, 4096));
    f
}

fn run(check: &str, facts: &Facts, log_findings: &[Finding]) -> CheckReport {
    let sources = sources();
    let ctx = CheckContext {
        facts,
        log_findings,
        sources: &sources,
    };
    let c = checks::ALL
        .iter()
        .find(|c| c.id == check)
        .expect("check registered");
    (c.run)(&ctx)
}

fn log_finding(signature: &str, fields: Fields, lines: &[&str]) -> Finding {
    Finding {
        signature: signature.into(),
        severity: Severity::Critical,
        title: String::new(),
        summary: String::new(),
        count: lines.len() as u64,
        first: None,
        last: None,
        fields,
        evidence: lines
            .iter()
            .enumerate()
            .map(|(i, t)| Evidence {
                path: "app.log".into(),
                line: i as u64 + 1,
                text: t.to_string(),
            })
            .collect(),
        evidence_omitted: 0,
        fixes: Vec::new(),
    }
}

fn severity_of(r: &CheckReport) -> Option<Severity> {
    r.findings.iter().map(|f| f.severity).max()
}

// ---------------------------------------------------------------- fd.near-limit

#[test]
fn fd_near_limit_threshold_edges() {
    for (open, expected) in [
        (69, None),
        (70, Some(Severity::Warning)),
        (84, Some(Severity::Warning)),
        (85, Some(Severity::Critical)),
        (100, Some(Severity::Critical)),
    ] {
        let r = run("fd.near-limit", &fd_facts(open, 100, "IPv4"), &[]);
        assert_eq!(severity_of(&r), expected, "{open} of 100");
        let status = if expected.is_some() {
            CheckStatus::Fired
        } else {
            CheckStatus::Healthy
        };
        assert_eq!(r.status, status, "{open} of 100");
        assert!(r
            .facts
            .iter()
            .any(|f| f.name == "open fds of pid 4242 (node)"
                && f.value == open.to_string()
                && f.path.as_deref() == Some("lsof.txt")
                && f.line == Some(2)));
    }
}

#[test]
fn fd_near_limit_finding_has_evidence_fields_and_computed_fix() {
    let r = run("fd.near-limit", &fd_facts(900, 1024, "IPv4"), &[]);
    let f = &r.findings[0];
    assert_eq!(f.signature, "fd.near-limit");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.fields["open_fds"], FieldValue::Int(900));
    assert_eq!(f.fields["soft_limit"], FieldValue::Int(1024));
    assert_eq!(f.fields["hard_limit"], FieldValue::Int(4096));
    assert_eq!(f.fields["used_pct"], FieldValue::Int(87));
    assert_eq!(f.fields["recommended_nofile"], FieldValue::Int(16384));
    assert_eq!(f.fields["ipv4_fds"], FieldValue::Int(900));
    assert_eq!(f.evidence[0].path, "proc/4242/limits");
    assert_eq!(f.evidence[0].line, 9);
    assert_eq!(f.evidence[1].path, "lsof.txt");
    assert!(f
        .summary
        .contains("900 open file descriptors against a soft limit of 1024 (87.9%)"));
    assert!(f.summary.contains("mostly sockets"), "{}", f.summary);
    assert_eq!(f.fixes[0].title, "Raise the open-files limit to 16384");
    assert!(f.fixes[0].text.contains("LimitNOFILE=16384"));
    assert!(f.fixes[0].text.contains("ulimit -n 16384"));
    // The hard limit (4096) is below the recommendation: say both must rise.
    assert!(f.fixes[0].text.contains("hard limit (4096) is below 16384"));

    // Above 4096 descriptors the recommendation is 4 x the peak.
    let r = run("fd.near-limit", &fd_facts(9000, 10000, "REG"), &[]);
    let f = &r.findings[0];
    assert_eq!(f.fields["recommended_nofile"], FieldValue::Int(36000));
    assert!(f.summary.contains("mostly regular files"), "{}", f.summary);
}

#[test]
fn fd_near_limit_is_critical_when_the_process_logged_emfile() {
    let emfile = log_finding(
        "fd.emfile",
        Fields::new(),
        &["Nov 21 14:23:07 api-1 node[4242]: Error: EMFILE: too many open files, open '/srv/x'"],
    );
    let r = run("fd.near-limit", &fd_facts(10, 100, "REG"), &[emfile]);
    assert_eq!(severity_of(&r), Some(Severity::Critical));
    let f = &r.findings[0];
    assert_eq!(f.fields["emfile_count"], FieldValue::Int(1));
    assert!(f
        .evidence
        .iter()
        .any(|e| e.path == "app.log" && e.line == 1));
    assert!(r.missing.is_empty());

    // Matched by program name when the log line names no pid (lsof cuts COMMAND at 9 characters).
    let mut facts = Facts::default();
    facts
        .lsof
        .processes
        .insert(77, process(77, "orders-ap", 10, "IPv4"));
    facts.proc_limits.limits.push(limits(Some(77), 100, 100));
    let emfile = log_finding(
        "fd.emfile",
        Fields::new(),
        &["Nov 21 14:23:07 api-1 orders-api: accept4: too many open files; retrying in 5ms"],
    );
    let r = run("fd.near-limit", &facts, &[emfile]);
    assert_eq!(severity_of(&r), Some(Severity::Critical));
}

#[test]
fn fd_near_limit_ties_an_anonymous_emfile_log_to_the_only_process() {
    // A bare Go log names neither pid nor program.
    let line = "2026/11/21 14:23:07 http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 5ms";
    let emfile = log_finding("fd.emfile", Fields::new(), &[line]);
    let r = run(
        "fd.near-limit",
        &fd_facts(10, 100, "IPv4"),
        std::slice::from_ref(&emfile),
    );
    assert_eq!(severity_of(&r), Some(Severity::Critical));
    assert!(r.missing.is_empty());
    // Two candidate processes: no guessing, and the missing evidence is asked for.
    let mut facts = fd_facts(10, 100, "IPv4");
    facts
        .lsof
        .processes
        .insert(5, process(5, "java", 10, "IPv4"));
    facts.proc_limits.limits.push(limits(Some(5), 100, 100));
    let r = run("fd.near-limit", &facts, &[emfile]);
    assert_eq!(severity_of(&r), None);
    assert_eq!(r.missing.len(), 1);
    assert!(r.missing[0].command.starts_with("cat /proc/<pid>/limits"));
}

#[test]
fn zero_limits_do_not_divide_by_zero() {
    let emfile = log_finding(
        "fd.emfile",
        Fields::new(),
        &["Nov 21 14:23:07 api-1 node[4242]: Error: EMFILE: too many open files"],
    );
    let r = run("fd.near-limit", &fd_facts(10, 0, "IPv4"), &[emfile]);
    assert_eq!(severity_of(&r), Some(Severity::Critical));
    let r = run(
        "mem.cgroup-near-limit",
        &cgroup(10, Amount::Bytes(0), &[], Some(1)),
        &[],
    );
    assert_eq!(severity_of(&r), Some(Severity::Critical));
}

#[test]
fn fd_near_limit_missing_evidence_for_emfile() {
    let emfile = log_finding(
        "fd.emfile",
        Fields::new(),
        &["Nov 21 14:23:07 api-1 node[4242]: Error: EMFILE: too many open files, open '/srv/x'"],
    );
    let r = run("fd.near-limit", &Facts::default(), &[emfile]);
    assert_eq!(r.status, CheckStatus::NotApplicable);
    assert_eq!(r.missing.len(), 1);
    assert_eq!(
        r.missing[0].command,
        "cat /proc/4242/limits; ls /proc/4242/fd | wc -l; lsof -p 4242 -nP"
    );
    assert_eq!(r.missing[0].check, "fd.near-limit");
}

#[test]
fn fd_near_limit_healthy_and_unlimited() {
    let r = run("fd.near-limit", &fd_facts(127, 1048576, "IPv4"), &[]);
    assert_eq!(r.status, CheckStatus::Healthy);
    assert!(r.findings.is_empty());
    assert!(r.note.contains("127 of 1048576"), "{}", r.note);
    let r = run("fd.near-limit", &Facts::default(), &[]);
    assert_eq!(r.status, CheckStatus::NotApplicable);
}

#[test]
fn fd_near_limit_system_file_nr_edges() {
    for (allocated, expected) in [
        (699, None),
        (700, Some(Severity::Warning)),
        (849, Some(Severity::Warning)),
        (850, Some(Severity::Critical)),
    ] {
        let mut f = Facts::default();
        f.proc_limits.file_nr.push(FileNr {
            allocated,
            unused: 0,
            max: 1000,
            at: at(1, 1, &format!("{allocated}\t0\t1000")),
        });
        let r = run("fd.near-limit", &f, &[]);
        assert_eq!(severity_of(&r), expected, "{allocated}");
        if let Some(f) = r.findings.first() {
            assert_eq!(
                f.fields["recommended_file_max"],
                FieldValue::Int(2000i64.max(allocated as i64 * 4))
            );
            assert_eq!(f.evidence[0].line, 1);
        }
    }
}

#[test]
fn fd_near_limit_pairs_a_pidless_limits_file_with_the_only_process() {
    let mut f = Facts::default();
    f.lsof.processes.insert(9, process(9, "java", 950, "IPv6"));
    f.proc_limits.limits.push(limits(None, 1000, 1000));
    let r = run("fd.near-limit", &f, &[]);
    assert_eq!(severity_of(&r), Some(Severity::Critical));
    assert!(r
        .facts
        .iter()
        .any(|x| x.name.contains("only process assumed")));
    // Two processes: no guessing.
    f.lsof
        .processes
        .insert(10, process(10, "java", 950, "IPv6"));
    let r = run("fd.near-limit", &f, &[]);
    assert!(r.findings.is_empty());
}

// ---------------------------------------------------------------- fd.low-soft-limit

#[test]
fn fd_low_soft_limit_edges() {
    for (soft, typ, expected) in [
        (1024, "IPv4", CheckStatus::Fired),
        (512, "IPv6", CheckStatus::Fired),
        (1024, "sock", CheckStatus::Fired),
        (1025, "IPv4", CheckStatus::Healthy),
        (1048576, "IPv4", CheckStatus::Healthy),
        (1024, "REG", CheckStatus::NotApplicable),
    ] {
        let r = run("fd.low-soft-limit", &fd_facts(3, soft, typ), &[]);
        assert_eq!(r.status, expected, "soft {soft} {typ}");
        if let Some(f) = r.findings.first() {
            assert_eq!(f.severity, Severity::Warning);
            assert_eq!(f.fields["soft_limit"], FieldValue::Int(soft as i64));
            assert_eq!(f.fields["network_sockets"], FieldValue::Int(3));
            assert_eq!(f.fields["recommended_nofile"], FieldValue::Int(16384));
            assert_eq!(f.evidence[0].path, "proc/4242/limits");
            assert_eq!(f.evidence[1].path, "lsof.txt");
        }
    }
}

// ---------------------------------------------------------------- mem.cgroup-near-limit

fn cgroup(usage: u64, limit: Amount, stat: &[(&str, u64)], oom_kill: Option<u64>) -> Facts {
    let mut cg = Cgroup {
        key: "/app.slice".into(),
        cgroup_path: Some("/app.slice".into()),
        version: Some(2),
        ..Default::default()
    };
    cg.files.insert(
        "memory.current".into(),
        Entry {
            amount: Amount::Bytes(usage),
            at: at(2, 1, &usage.to_string()),
        },
    );
    cg.files.insert(
        "memory.max".into(),
        Entry {
            amount: limit,
            at: at(2, 1, "limit"),
        },
    );
    for (i, (k, v)) in stat.iter().enumerate() {
        cg.stat.insert(
            k.to_string(),
            Entry {
                amount: Amount::Bytes(*v),
                at: at(2, i as u64 + 1, &format!("{k} {v}")),
            },
        );
    }
    if let Some(o) = oom_kill {
        cg.events.insert(
            "oom_kill".into(),
            Entry {
                amount: Amount::Bytes(o),
                at: at(2, 5, &format!("oom_kill {o}")),
            },
        );
    }
    let mut f = Facts::default();
    f.memory_stat.cgroups.insert(cg.key.clone(), cg);
    f
}

#[test]
fn mem_cgroup_threshold_edges() {
    for (usage, expected) in [
        (749, None),
        (750, Some(Severity::Warning)),
        (899, Some(Severity::Warning)),
        (900, Some(Severity::Critical)),
    ] {
        let r = run(
            "mem.cgroup-near-limit",
            &cgroup(usage, Amount::Bytes(1000), &[], None),
            &[],
        );
        assert_eq!(severity_of(&r), expected, "{usage} of 1000");
    }
    // OOM kills counted: critical even at low usage after the kill.
    let r = run(
        "mem.cgroup-near-limit",
        &cgroup(100, Amount::Bytes(1000), &[], Some(3)),
        &[],
    );
    assert_eq!(severity_of(&r), Some(Severity::Critical));
    assert_eq!(r.findings[0].fields["oom_kill"], FieldValue::Int(3));
    // No limit: checked, healthy.
    let r = run(
        "mem.cgroup-near-limit",
        &cgroup(100, Amount::Max, &[], None),
        &[],
    );
    assert_eq!(r.status, CheckStatus::Healthy);
    assert!(r.note.contains("no memory limit"), "{}", r.note);
}

#[test]
fn mem_cgroup_extreme_values_do_not_overflow() {
    let max = u64::MAX - 1;
    let r = run(
        "mem.cgroup-near-limit",
        &cgroup(
            max,
            Amount::Bytes(max),
            &[
                ("anon", max),
                ("file", max),
                ("kernel_stack", max),
                ("pagetables", max),
                ("slab_reclaimable", max),
                ("slab_unreclaimable", max),
            ],
            Some(max),
        ),
        &[],
    );
    assert_eq!(severity_of(&r), Some(Severity::Critical));
}

#[test]
fn mem_cgroup_split_says_what_is_heavy() {
    let gib = 1u64 << 30;
    let r = run(
        "mem.cgroup-near-limit",
        &cgroup(
            900 << 20,
            Amount::Bytes(gib),
            &[
                ("anon", 100 << 20),
                ("file", 780 << 20),
                ("kernel", 20 << 20),
            ],
            None,
        ),
        &[],
    );
    let f = &r.findings[0];
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.fields["heavy"], FieldValue::Text("file".into()));
    assert!(
        f.summary.contains("file (page cache) 780 MiB (76%)"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("page cache (file) fills most of it"));
}

#[test]
fn mem_cgroup_on_the_v2_fixture() {
    let report = analyze_fixture("cgroup/v2");
    let c = check(&report, "mem.cgroup-near-limit");
    assert_eq!(c.status, CheckStatus::Fired);
    let f = report
        .findings
        .iter()
        .find(|f| f.signature == "mem.cgroup-near-limit")
        .expect("finding");
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.summary
            .contains("uses 1005 MiB of its 1024 MiB limit (98.1%); anon 958 MiB (94%) of 1024 MiB, file (page cache) 30 MiB (3%), kernel 15 MiB (1%), sock 1 MiB (0%)"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("counted 2 OOM kill(s)"));
    assert_eq!(f.fields["heavy"], FieldValue::Text("anon".into()));
    assert_eq!(f.fields["anon_bytes"], FieldValue::Int(1004535808));
    assert_eq!(f.fields["usage_bytes"], FieldValue::Int(1053315072));
    assert_eq!(f.fields["limit_bytes"], FieldValue::Int(1073741824));
    assert_eq!(f.fields["oom_kill"], FieldValue::Int(2));
    assert_eq!(
        f.fields["pod_uid"],
        FieldValue::Text("2c7713fd-2aed-4fa2-a60f-f006ab94b3df".into())
    );
    // peak 1024 MiB / 0.75 = 1365.3 MiB, rounded up to 64 MiB.
    assert_eq!(
        f.fields["recommended_limit_bytes"],
        FieldValue::Int(1408 << 20)
    );
    assert!(f.fixes[0].text.contains("--max-old-space-size=768"));
    assert!(f
        .evidence
        .iter()
        .any(|e| e.path.ends_with("/memory.current") && e.line == 1 && e.text == "1053315072"));
    assert!(f
        .evidence
        .iter()
        .any(|e| e.path.ends_with("/memory.events") && e.text == "oom_kill 2"));
}

#[test]
fn mem_cgroup_on_the_v1_fixture_is_cache_heavy() {
    let report = analyze_fixture("cgroup/v1");
    let f = report
        .findings
        .iter()
        .find(|f| f.signature == "mem.cgroup-near-limit")
        .expect("finding");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.fields["heavy"], FieldValue::Text("file".into()));
    assert_eq!(f.fields["file_bytes"], FieldValue::Int(1288437760));
    assert_eq!(f.fields["anon_bytes"], FieldValue::Int(398458880));
}

#[test]
fn mem_cgroup_negative_fixtures_are_healthy() {
    for dir in [
        "cgroup/dump-head-v2.txt",
        "cgroup/dump-grep-v1.txt",
        "cgroup/v2-unlimited",
    ] {
        let report = analyze_fixture(dir);
        let c = check(&report, "mem.cgroup-near-limit");
        assert_eq!(c.status, CheckStatus::Healthy, "{dir}: {}", c.note);
        assert!(!report
            .findings
            .iter()
            .any(|f| f.signature == "mem.cgroup-near-limit"));
    }
    let report = analyze_fixture("cgroup/dump-head-v2.txt");
    let c = check(&report, "mem.cgroup-near-limit");
    assert!(c.note.contains("154 of 512 MiB (30.0%)"), "{}", c.note);
}

#[test]
fn mem_cgroup_with_only_memory_stat_asks_for_usage_and_limit() {
    let (facts, _) = {
        let text = b"anon 1000\nfile 20\n";
        let catalog = Catalog::load(&[]).expect("catalog");
        let r = coroner::read_source(
            "sys/fs/cgroup/app.slice/memory.stat",
            &mut &text[..],
            2,
            &catalog,
            &AnalyzeOptions::default(),
        );
        (r.facts, r.source)
    };
    let r = run("mem.cgroup-near-limit", &facts, &[]);
    assert_eq!(r.status, CheckStatus::NotApplicable);
    assert_eq!(r.missing.len(), 1);
    assert_eq!(
        r.missing[0].command,
        "cd /sys/fs/cgroup/app.slice && cat memory.current memory.max"
    );
}

#[test]
fn mem_oom_kill_without_memory_stat_asks_for_it() {
    let memcg = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c7713fd_2aed_4fa2_a60f_f006ab94b3df.slice/cri-containerd-8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6.scope";
    let mut fields = Fields::new();
    fields.insert("memcg".into(), FieldValue::Text(memcg.into()));
    fields.insert("process".into(), FieldValue::Text("node".into()));
    let oom = log_finding("mem.oom-kill-memcg", fields, &["oom"]);
    let r = run(
        "mem.cgroup-near-limit",
        &Facts::default(),
        std::slice::from_ref(&oom),
    );
    assert_eq!(r.missing.len(), 1);
    assert_eq!(
        r.missing[0].command,
        format!("cat /sys/fs/cgroup{memcg}/memory.stat /sys/fs/cgroup{memcg}/memory.events")
    );
    // With that cgroup's memory.stat in the bundle, nothing is missing.
    let (facts, sources) = read_dir_facts("cgroup/v2");
    let ctx = CheckContext {
        facts: &facts,
        log_findings: &[oom],
        sources: &sources,
    };
    let r = coroner::checks::mem_cgroup_near_limit::run(&ctx);
    assert!(r.missing.is_empty(), "{:?}", r.missing);
    // ... and the cgroup's finding names the kill and carries its kernel line.
    let f = &r.findings[0];
    assert!(
        f.summary
            .contains("The kernel log shows the OOM kill of node (pid ?)"),
        "{}",
        f.summary
    );
    assert!(f
        .evidence
        .iter()
        .any(|e| e.path == "app.log" && e.text == "oom"));
}

#[test]
fn oom_bundle_without_memory_stat_lists_the_missing_command() {
    let report = analyze_fixture("bundles/oom-api-node");
    assert!(
        report
            .missing
            .iter()
            .any(|m| m.check == "mem.cgroup-near-limit"
                && m.command.starts_with("cat /sys/fs/cgroup/kubepods")
                && m.command.contains("/memory.stat ")
                && m.command.ends_with("/memory.events")),
        "{:?}",
        report.missing
    );
}

// ---------------------------------------------------------------- end to end

fn analyze_fixture(rel: &str) -> coroner::report::Report {
    let catalog = Catalog::load(&[]).expect("catalog");
    analyze(
        &AnalyzeOptions {
            paths: vec![Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel)],
            ..Default::default()
        },
        &catalog,
    )
}

fn check<'a>(report: &'a coroner::report::Report, id: &str) -> &'a CheckReport {
    report
        .checks
        .iter()
        .find(|c| c.id == id)
        .expect("check ran")
}

fn read_dir_facts(rel: &str) -> (Facts, Vec<Source>) {
    let catalog = Catalog::load(&[]).expect("catalog");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).expect("dir") {
                stack.push(e.expect("entry").path());
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    let mut facts = Facts::default();
    let mut sources = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let display = f.strip_prefix(&root).expect("under").display().to_string();
        let bytes = std::fs::read(f).expect("read");
        let r = coroner::read_source(
            &display,
            &mut bytes.as_slice(),
            i,
            &catalog,
            &AnalyzeOptions::default(),
        );
        facts.merge(r.facts);
        sources.push(r.source);
    }
    (facts, sources)
}

#[test]
fn fd_exhaustion_bundle_end_to_end() {
    let report = analyze_fixture("bundles/fd-exhaustion");
    let sigs: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.signature.as_str())
        .collect();
    assert_eq!(
        sigs,
        vec!["fd.emfile", "fd.near-limit", "fd.low-soft-limit"]
    );

    let emfile = &report.findings[0];
    assert_eq!(emfile.count, 64);
    assert_eq!(emfile.evidence[0].path, "app/orders-api.journal.txt");
    assert_eq!(emfile.evidence[0].line, 35);

    let near = &report.findings[1];
    assert_eq!(near.severity, Severity::Critical);
    assert_eq!(near.fields["pid"], FieldValue::Int(4242));
    assert_eq!(near.fields["open_fds"], FieldValue::Int(1021));
    assert_eq!(near.fields["soft_limit"], FieldValue::Int(1024));
    assert_eq!(near.fields["hard_limit"], FieldValue::Int(524288));
    assert_eq!(near.fields["emfile_count"], FieldValue::Int(64));
    assert_eq!(near.fields["recommended_nofile"], FieldValue::Int(16384));
    assert_eq!(near.fields["ipv4_fds"], FieldValue::Int(972));
    assert_eq!(near.fields["ipv6_fds"], FieldValue::Int(41));
    assert_eq!(
        near.fields["top_peer"],
        FieldValue::Text("10.0.4.17:5432".into())
    );
    assert_eq!(near.fields["top_peer_fds"], FieldValue::Int(972));
    assert!(near
        .summary
        .contains("holds 1021 open file descriptors against a soft limit of 1024 (99.7%) and logged EMFILE 64 time(s)"));
    assert!(near
        .summary
        .contains("972 of them go to one destination, 10.0.4.17:5432"));
    assert!(near.fixes[0].text.contains("LimitNOFILE=16384"));
    assert_eq!(near.evidence[0].path, "proc/4242/limits");
    assert_eq!(near.evidence[0].line, 9);
    assert_eq!(
        near.evidence[0].text,
        "Max open files            1024                 524288               files     "
    );
    assert!(near.evidence.iter().any(|e| e.path == "lsof-nP-p4242.txt"
        && e.line == 14
        && e.text.contains("10.0.4.17:5432 (ESTABLISHED)")));

    let low = &report.findings[2];
    assert_eq!(low.severity, Severity::Warning);
    assert_eq!(low.fields["network_sockets"], FieldValue::Int(1013));

    assert_eq!(check(&report, "fd.near-limit").status, CheckStatus::Fired);
    assert_eq!(
        check(&report, "fd.low-soft-limit").status,
        CheckStatus::Fired
    );
    assert_eq!(
        check(&report, "mem.cgroup-near-limit").status,
        CheckStatus::NotApplicable
    );
    assert!(report.missing.is_empty(), "{:?}", report.missing);

    // Negative: the same bundle with the healthy 1048576 limits is not near any limit.
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles/fd-exhaustion");
    std::fs::copy(
        bundle.join("lsof-nP-p4242.txt"),
        dir.path().join("lsof-nP-p4242.txt"),
    )
    .expect("copy");
    std::fs::create_dir_all(dir.path().join("proc/4242")).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/proc/7311/limits"),
        dir.path().join("proc/4242/limits"),
    )
    .expect("copy");
    let catalog = Catalog::load(&[]).expect("catalog");
    let report = analyze(
        &AnalyzeOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        &catalog,
    );
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(check(&report, "fd.near-limit").status, CheckStatus::Healthy);
    assert_eq!(
        check(&report, "fd.low-soft-limit").status,
        CheckStatus::Healthy
    );
}

#[test]
fn fd_exhaustion_bundle_without_limits_asks_for_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles/fd-exhaustion");
    std::fs::create_dir_all(dir.path().join("app")).expect("mkdir");
    for f in ["lsof-nP-p4242.txt", "app/orders-api.journal.txt"] {
        std::fs::copy(bundle.join(f), dir.path().join(f)).expect("copy");
    }
    let catalog = Catalog::load(&[]).expect("catalog");
    let report = analyze(
        &AnalyzeOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        &catalog,
    );
    let sigs: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.signature.as_str())
        .collect();
    assert_eq!(sigs, vec!["fd.emfile"]);
    assert_eq!(
        check(&report, "fd.near-limit").status,
        CheckStatus::NotApplicable
    );
    assert_eq!(report.missing.len(), 1);
    assert_eq!(
        report.missing[0].command,
        "cat /proc/4242/limits; ls /proc/4242/fd | wc -l; lsof -p 4242 -nP"
    );
    assert!(report.missing[0].what.contains("orders-api (pid 4242)"));
}

#[test]
fn fd_exhaustion_bundle_output_is_deterministic() {
    let a = coroner::report::json::render(&analyze_fixture("bundles/fd-exhaustion"));
    let b = coroner::report::json::render(&analyze_fixture("bundles/fd-exhaustion"));
    assert_eq!(a, b);
}
