//! Clock resolution on fixtures for each anchor kind: exact UTC times and `time_source`.

use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::timeline::{ClockOptions, Zone};
use coroner::{analyze, AnalyzeOptions};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/timeline")
        .join(name)
}

fn run(name: &str, clock: ClockOptions) -> Report {
    let cat = Catalog::load(&[]).expect("catalog");
    analyze(
        &AnalyzeOptions {
            paths: vec![fixture(name)],
            clock,
            ..Default::default()
        },
        &cat,
    )
}

/// (signature, path, line) → (time, time_source) of the timeline's signature events.
fn events(r: &Report) -> Vec<(String, String, u64, Option<String>, String)> {
    r.timeline
        .iter()
        .filter(|e| e.kind == "signature")
        .map(|e| {
            (
                e.signature.clone().unwrap_or_default(),
                e.path.clone(),
                e.line,
                e.time.clone(),
                e.time_source.as_string(),
            )
        })
        .collect()
}

fn ev(
    sig: &str,
    path: &str,
    line: u64,
    time: Option<&str>,
    src: &str,
) -> (String, String, u64, Option<String>, String) {
    (
        sig.into(),
        path.into(),
        line,
        time.map(str::to_string),
        src.into(),
    )
}

#[test]
fn dmesg_is_anchored_by_its_copy_in_a_timed_log_and_copies_merge() {
    let r = run("dmesg-syslog-overlap", ClockOptions::default());
    assert_eq!(
        events(&r),
        vec![
            // The OOM report is one event found in both files; the timed copy comes first.
            ev(
                "mem.oom-kill-memcg",
                "messages",
                2,
                Some("2026-11-21T14:23:07Z"),
                "year-inferred"
            ),
            ev(
                "net.conntrack-full",
                "dmesg",
                8,
                Some("2026-11-21T14:23:49.422880Z"),
                "boot-anchored:copy-in:messages"
            ),
        ]
    );
    let oom = &r.timeline[0];
    assert_eq!(oom.copies.len(), 1);
    assert_eq!(
        (oom.copies[0].path.as_str(), oom.copies[0].line),
        ("dmesg", 4)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("oom finding");
    assert_eq!(f.count, 1, "copies are one event");
    assert!(f.evidence.iter().any(|e| e.path == "dmesg"));
    assert!(f.evidence.iter().any(|e| e.path == "messages"));
    assert_eq!(f.first.as_deref(), Some("2026-11-21T14:23:07Z"));
    let note = r
        .clock
        .iter()
        .find(|n| n.what == "capture time")
        .expect("capture note");
    assert_eq!(note.from, "sos_commands/date/date:1");
}

#[test]
fn a_reboot_is_never_crossed() {
    let r = run("reboot", ClockOptions::default());
    assert_eq!(
        events(&r),
        vec![
            ev(
                "net.syn-flood",
                "journal-monotonic.txt",
                7,
                Some("2026-11-21T14:20:07.500Z"),
                "boot-anchored:uptime"
            ),
            // Before the reboot: no anchor for that boot, so no time rather than a wrong one.
            ev(
                "net.conntrack-full",
                "journal-monotonic.txt",
                3,
                None,
                "unresolved"
            ),
        ]
    );
    let boots: Vec<u64> = r
        .timeline
        .iter()
        .filter(|e| e.kind == "boot")
        .map(|e| e.line)
        .collect();
    assert_eq!(boots, vec![5]);
    let src = r
        .sources
        .iter()
        .find(|s| s.path == "journal-monotonic.txt")
        .expect("source");
    assert_eq!(
        src.span.unresolved, 3,
        "the three stamped lines of the first boot"
    );
}

#[test]
fn new_year_rollover_gives_each_side_its_year() {
    let r = run("new-year", ClockOptions::default());
    let times: Vec<Option<String>> = events(&r).into_iter().map(|e| e.3).collect();
    assert_eq!(
        times,
        vec![
            Some("2026-12-31T23:59:41Z".to_string()),
            Some("2026-12-31T23:59:59Z".to_string()),
            Some("2027-01-01T00:00:03Z".to_string()),
            Some("2027-01-01T00:04:12Z".to_string()),
        ]
    );
}

#[test]
fn february_29_of_a_leap_year() {
    let r = run("feb29", ClockOptions::default());
    assert_eq!(
        events(&r)[1],
        ev(
            "net.orphan-sockets",
            "messages",
            2,
            Some("2028-02-29T00:00:02Z"),
            "year-inferred"
        )
    );
}

#[test]
fn year_flag_overrides_the_capture_date() {
    let orphans = |r: &Report| {
        events(r)
            .into_iter()
            .find(|e| e.0 == "net.orphan-sockets")
            .and_then(|e| e.3)
    };
    let r = run(
        "feb29",
        ClockOptions {
            year: Some(2024),
            tz: None,
        },
    );
    assert_eq!(orphans(&r).as_deref(), Some("2024-02-29T00:00:02Z"));
    // 2023 has no Feb 29: the stamp falls back to the nearest earlier leap year.
    let r = run(
        "feb29",
        ClockOptions {
            year: Some(2023),
            tz: None,
        },
    );
    assert_eq!(orphans(&r).as_deref(), Some("2020-02-29T00:00:02Z"));
}

#[test]
fn zone_from_timedatectl_applies_to_zone_less_lines() {
    let r = run("non-utc-date", ClockOptions::default());
    let first = &events(&r)[0];
    assert_eq!(first.3.as_deref(), Some("2026-11-21T14:23:07Z"));
    let zone = r
        .clock
        .iter()
        .find(|n| n.what == "zone for zone-less stamps")
        .expect("zone");
    assert_eq!(zone.value, "Europe/Berlin");
    assert_eq!(zone.from, "timedatectl:4");
    let f = &r.findings[0];
    assert_eq!(
        (f.first.as_deref(), f.last.as_deref()),
        (Some("2026-11-21T14:23:07Z"), Some("2026-11-21T14:23:09Z"))
    );
}

#[test]
fn tz_flag_overrides_the_bundle() {
    let r = run(
        "non-utc-date",
        ClockOptions {
            year: None,
            tz: Zone::parse("-05:00"),
        },
    );
    assert_eq!(events(&r)[0].3.as_deref(), Some("2026-11-21T20:23:07Z"));
}

#[test]
fn btime_anchors_dmesg() {
    let r = run("btime", ClockOptions::default());
    assert_eq!(
        events(&r),
        vec![ev(
            "net.syn-flood",
            "dmesg",
            2,
            Some("2026-11-21T14:17:01.551902Z"),
            "boot-anchored:btime"
        )]
    );
}

#[test]
fn without_any_anchor_times_stay_null_and_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kern.log"),
        "Nov 21 14:23:07 h kernel: nf_conntrack: table full, dropping packet\n[ 12.0] TCP: too many orphaned sockets\n",
    )
    .expect("write");
    let cat = Catalog::load(&[]).expect("catalog");
    let r = analyze(
        &AnalyzeOptions {
            paths: vec![dir.path().to_path_buf()],
            ..Default::default()
        },
        &cat,
    );
    assert!(events(&r)
        .iter()
        .all(|e| e.3.is_none() && e.4 == "unresolved"));
    let zone = r
        .clock
        .iter()
        .find(|n| n.what == "zone for zone-less stamps")
        .expect("zone");
    assert!(zone.from.starts_with("assumed"));
}

#[test]
fn one_oom_kill_in_five_files_is_one_event() {
    let r = run("five-copies", ClockOptions::default());
    let ooms: Vec<_> = r
        .timeline
        .iter()
        .filter(|e| e.signature.as_deref() == Some("mem.oom-kill-memcg"))
        .collect();
    assert_eq!(ooms.len(), 1, "one event, not five");
    let e = ooms[0];
    // The journal's short-iso-precise copy states its time fully, so it is the event.
    assert_eq!(
        (
            e.path.as_str(),
            e.line,
            e.time.as_deref(),
            e.time_source.as_string().as_str()
        ),
        (
            "sos_commands/logs/journalctl_--no-pager_-o_short-iso-precise",
            2,
            Some("2026-11-21T14:23:07.077120Z"),
            "stated"
        )
    );
    let mut copies: Vec<(String, u64)> =
        e.copies.iter().map(|c| (c.path.clone(), c.line)).collect();
    copies.sort();
    assert_eq!(
        copies,
        vec![
            ("sos_commands/kernel/dmesg".to_string(), 2),
            ("var/log/kern.log".to_string(), 2),
            ("var/log/messages".to_string(), 2),
            ("var/log/syslog".to_string(), 2),
        ]
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("finding");
    assert_eq!(f.count, 1);
    let mut paths: Vec<&str> = f.evidence.iter().map(|e| e.path.as_str()).collect();
    paths.dedup();
    assert_eq!(paths.len(), 5, "evidence from every copy: {paths:?}");
}

#[test]
fn event_volume_is_counted_per_resolved_minute() {
    let r = run("new-year", ClockOptions::default());
    let v = r
        .volume
        .iter()
        .find(|v| v.path == "kern.log")
        .expect("volume");
    let got: Vec<(String, u64)> = v
        .minutes
        .iter()
        .map(|(t, n)| (coroner::model::rfc3339(t), *n))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-12-31T23:59:00Z".to_string(), 2),
            ("2027-01-01T00:00:00Z".to_string(), 1),
            ("2027-01-01T00:04:00Z".to_string(), 1),
        ]
    );
}
