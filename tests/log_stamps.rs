//! What each format states about time, read from the fixtures' own lines with
//! `coroner::ingest::log::parse_line`: the stamp exactly as written (no year, no zone, seconds
//! since boot), the monotonic seconds a wall-clock line also carries, and what it says about
//! host and program. Resolution is the timeline's job; nothing here may be lost before it.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use coroner::ingest::log::{parse_line, LineFormat, MarkerKind};
use coroner::model::Stamp;
use std::path::Path;

/// Line `n` (1-based) of a fixture. Leaked so a `ParsedLine` can borrow it for the whole test.
fn line(rel: &str, n: usize) -> &'static str {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(rel);
    let text = std::fs::read_to_string(p).expect("fixture");
    let l = text.lines().nth(n - 1).expect("line exists").to_string();
    Box::leak(l.into_boxed_str())
}

fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|x| x.and_hms_nano_opt(h, mi, s, nanos))
        .expect("valid date")
}

fn wall(s: &str) -> Stamp {
    Stamp::Wall(DateTime::parse_from_rfc3339(s).expect("rfc3339"))
}

fn no_year(month: u32, day: u32, hour: u32, minute: u32, second: u32, nanos: u32) -> Stamp {
    Stamp::NoYear {
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    }
}

#[test]
fn syslog_file_states_month_day_time_and_kernel_seconds() {
    let p = parse_line(line("formats/syslog-kern.log", 7));
    assert_eq!(p.format, LineFormat::Syslog);
    assert_eq!(p.stamp, no_year(5, 6, 10, 49, 21, 0));
    assert_eq!(p.mono_us, Some(13_502_680_515_977));
    assert_eq!(p.host.as_deref(), Some("web-3"));
    assert_eq!(p.program.as_deref(), Some("kernel"));
    assert!(p.message.starts_with("TCP: request_sock_TCP: Possible SYN"));
    // rsyslog without the kernel's [secs]: no monotonic time.
    let p = parse_line(line("signatures/syn-flood-2.6.log", 2));
    assert_eq!(p.stamp, no_year(3, 14, 3, 15, 2, 0));
    assert_eq!(p.mono_us, None);
    assert_eq!(
        p.message,
        "possible SYN flooding on port 80. Sending cookies."
    );
}

#[test]
fn journalctl_short_and_its_separators() {
    let p = parse_line(line("formats/journalctl-short.txt", 12));
    assert_eq!(p.format, LineFormat::Syslog);
    assert_eq!(p.stamp, no_year(11, 21, 14, 21, 55, 0));
    assert_eq!(p.host.as_deref(), Some("node-7"));
    assert_eq!(p.mono_us, None);
    let head = parse_line(line("formats/journalctl-short.txt", 1));
    assert_eq!(head.marker, Some(MarkerKind::Head));
    let boot = parse_line(line("formats/journalctl-short.txt", 6));
    assert_eq!(boot.format, LineFormat::Marker);
    assert_eq!(
        boot.marker,
        Some(MarkerKind::Boot(Some(
            "1b2c3d4e5f60718293a4b5c6d7e8f901".to_string()
        )))
    );
    // Indented continuation printed by the kernel itself keeps its prefix.
    let p = parse_line(line("formats/journalctl-short.txt", 10));
    assert_eq!(p.message, "  Intel GenuineIntel");
}

#[test]
fn short_iso_in_both_offset_spellings() {
    let p = parse_line(line("formats/journalctl-short-iso.txt", 3));
    assert_eq!(p.format, LineFormat::ShortIso);
    assert_eq!(p.stamp, wall("2026-09-02T09:08:50+00:00"));
    assert_eq!(p.host.as_deref(), Some("gpu-node-2"));
    let p = parse_line(line("formats/journalctl-short-iso-old.txt", 3));
    assert_eq!(p.format, LineFormat::ShortIso);
    assert_eq!(p.stamp, wall("2020-02-13T16:41:02+00:00"));
    assert_eq!(
        p.message,
        "neighbour: ndisc_cache: neighbor table overflow!"
    );
    let p = parse_line(line("signatures/oom-memcg-crio.log", 1));
    assert_eq!(p.stamp, wall("2026-10-03T11:07:44+00:00"));
}

#[test]
fn short_iso_precise_keeps_microseconds() {
    let p = parse_line(line("formats/journalctl-short-iso-precise.txt", 2));
    assert_eq!(p.format, LineFormat::ShortIsoPrecise);
    assert_eq!(p.stamp, wall("2026-09-02T09:08:50.123456+00:00"));
    assert_eq!(p.message, "TCP: out of memory -- consider tuning tcp_mem");
}

#[test]
fn short_precise_has_no_year_but_microseconds() {
    let p = parse_line(line("formats/journalctl-short-precise.txt", 2));
    assert_eq!(p.format, LineFormat::ShortPrecise);
    assert_eq!(p.stamp, no_year(6, 19, 10, 33, 53, 477_371_000));
    assert_eq!(p.host.as_deref(), Some("lb-4"));
}

#[test]
fn short_monotonic_states_only_seconds_since_boot() {
    let p = parse_line(line("formats/journalctl-short-monotonic.txt", 4));
    assert_eq!(p.format, LineFormat::ShortMonotonic);
    assert_eq!(p.stamp, Stamp::SinceBoot(601_749_973));
    assert_eq!(p.host.as_deref(), Some("files-2"));
    assert!(p.is_kernel());
    assert_eq!(p.message, "VFS: file-max limit 1048576 reached");
    let p = parse_line(line("formats/journalctl-short-monotonic.txt", 3));
    assert_eq!(p.program.as_deref(), Some("systemd"));
    assert_eq!(p.pid, Some(1));
    assert_eq!(p.stamp, Stamp::SinceBoot(2_101_833));
}

#[test]
fn short_full_states_weekday_date_time_and_zone() {
    let p = parse_line(line("formats/journalctl-short-full.txt", 11));
    assert_eq!(p.format, LineFormat::ShortFull);
    assert_eq!(p.stamp, wall("2026-11-17T14:23:05+00:00"));
    assert_eq!(p.zone_name, None);
    assert_eq!(p.host.as_deref(), Some("batch-9"));
    assert!(p.message.starts_with("Out of memory: Killed process 90211"));
}

#[test]
fn journal_json_states_realtime_monotonic_and_boot() {
    let p = parse_line(line("formats/journalctl-json.jsonl", 2));
    assert_eq!(p.format, LineFormat::JournalJson);
    assert_eq!(p.stamp, wall("2026-11-21T14:21:55+00:00"));
    assert_eq!(p.mono_us, Some(8_123_440_001));
    assert_eq!(
        p.boot_id.as_deref(),
        Some("6f3e2a1c9b8d4e7fa0b1c2d3e4f50617")
    );
    assert_eq!(p.host.as_deref(), Some("node-7"));
    assert!(p.is_kernel());
    assert_eq!(
        p.message,
        "nf_conntrack: nf_conntrack: table full in netns 4026532345, dropping packet"
    );
    // MESSAGE as an array of bytes (not UTF-8): decoded with U+FFFD, identifier kept.
    let p = parse_line(line("formats/journalctl-json.jsonl", 5));
    assert_eq!(p.program.as_deref(), Some("node"));
    assert_eq!(p.pid, Some(4242));
    assert!(!p.is_kernel());
    assert_eq!(
        p.message,
        "Error: EMFILE: too many open files, open '/data/uploads/r\u{fffd}sum\u{fffd}.pdf'"
    );
}

#[test]
fn dmesg_raw_t_and_x() {
    let p = parse_line(line("formats/dmesg.txt", 5));
    assert_eq!(p.format, LineFormat::DmesgRaw);
    assert_eq!(p.stamp, Stamp::SinceBoot(9_121_000_001));
    assert_eq!(p.host, None);
    let p = parse_line(line("formats/dmesg.txt", 1));
    assert_eq!(p.stamp, Stamp::SinceBoot(0));
    let p = parse_line(line("formats/dmesg-T.txt", 2));
    assert_eq!(p.format, LineFormat::DmesgCtime);
    assert_eq!(
        p.stamp,
        Stamp::Approximate(naive(2023, 12, 22, 12, 26, 24, 0))
    );
    assert_eq!(
        p.message,
        "INFO: task jbd2/sdb1-8:771 blocked for more than 120 seconds."
    );
    let p = parse_line(line("formats/dmesg-x.txt", 5));
    assert_eq!(p.format, LineFormat::DmesgDecoded);
    assert_eq!(p.stamp, Stamp::SinceBoot(7_201_552_310));
    assert!(p.is_kernel());
    let p = parse_line(line("formats/dmesg-x.txt", 4));
    assert_eq!(p.format, LineFormat::DmesgDecoded);
    assert!(!p.is_kernel(), "daemon facility is not the kernel");
}

#[test]
fn rfc5424_states_full_time_and_zone() {
    let p = parse_line(line("formats/rfc5424.log", 2));
    assert_eq!(p.format, LineFormat::Rfc5424);
    assert_eq!(p.stamp, wall("2026-11-21T14:23:07.123Z"));
    assert!(p.is_kernel());
    let p = parse_line(line("formats/rfc5424.log", 3));
    assert_eq!(
        p.message,
        "nf_conntrack: nf_conntrack: table full, dropping packet"
    );
    let p = parse_line(line("formats/rfc5424.log", 4));
    assert_eq!(p.stamp, wall("2026-11-21T15:23:09.402+01:00"));
    assert_eq!(
        p.stamp.stated_utc().map(|t| coroner::model::rfc3339(&t)),
        Some("2026-11-21T14:23:09.402Z".to_string())
    );
    assert_eq!(p.program.as_deref(), Some("api"));
    assert_eq!(p.pid, Some(4242));
    assert_eq!(p.message, "Error: connect ECONNREFUSED 10.42.9.12:6379");
}

#[test]
fn application_logs_state_wall_time_without_zone() {
    let cases = [
        ("apps/nginx-error.log", 3, naive(2026, 11, 21, 14, 23, 7, 0)),
        ("apps/go.log", 5, naive(2026, 11, 21, 14, 23, 8, 0)),
        (
            "apps/java-logback.log",
            2,
            naive(2026, 11, 21, 14, 23, 7, 123_000_000),
        ),
        (
            "apps/python-traceback.log",
            2,
            naive(2026, 11, 21, 14, 23, 7, 344_000_000),
        ),
    ];
    for (rel, n, want) in cases {
        let p = parse_line(line(rel, n));
        assert_eq!(p.format, LineFormat::App, "{rel}:{n}");
        assert_eq!(p.stamp, Stamp::WallNoZone(want), "{rel}:{n}");
    }
    // Stack-trace lines state nothing.
    let p = parse_line(line("apps/java-logback.log", 4));
    assert_eq!(p.format, LineFormat::Plain);
    assert_eq!(p.stamp, Stamp::Missing);
    let p = parse_line(line("apps/node-stderr.log", 9));
    assert_eq!(p.stamp, Stamp::Missing);
}

#[test]
fn json_loggers_and_cri_lines_state_utc() {
    // pino: epoch milliseconds; zap: epoch seconds as a float; CRI: RFC 3339 with Z.
    let p = parse_line(line("apps/pino.jsonl", 2));
    assert_eq!(p.format, LineFormat::JsonLines);
    assert_eq!(p.stamp, wall("2026-11-21T14:23:07.102Z"));
    let p = parse_line(line("apps/zap.jsonl", 2));
    assert_eq!(p.format, LineFormat::JsonLines);
    assert_eq!(p.stamp, wall("2026-11-21T14:24:07.503Z"));
    let p = parse_line(line("signatures/eaddrnotavail.log", 2));
    assert_eq!(p.format, LineFormat::App);
    assert_eq!(p.stamp, wall("2026-11-21T14:23:07.101Z"));
    assert_eq!(
        p.message,
        "Error: connect EADDRNOTAVAIL 10.0.4.17:5432 - Local (0.0.0.0:0)"
    );
}

#[test]
fn mixed_and_grep_output_parse_line_by_line() {
    let formats: Vec<LineFormat> = (1..=8)
        .map(|n| parse_line(line("mixed/mixed-paste.txt", n)).format)
        .collect();
    assert_eq!(
        formats,
        vec![
            LineFormat::Syslog,
            LineFormat::DmesgRaw,
            LineFormat::DmesgRaw,
            LineFormat::DmesgRaw,
            LineFormat::DmesgRaw,
            LineFormat::ShortIso,
            LineFormat::App,
            LineFormat::JsonLines,
        ]
    );
    let sep = parse_line(line("mixed/grep-context.txt", 4));
    assert_eq!(sep.marker, Some(MarkerKind::Separator));
}

#[test]
fn grep_file_and_line_prefixes_keep_the_stamp_behind_them() {
    let p = parse_line(line("mixed/grep-multi-file.txt", 6));
    assert_eq!(p.format, LineFormat::Syslog);
    assert_eq!(p.stamp, no_year(11, 20, 23, 58, 41, 0));
    assert_eq!(p.mono_us, Some(3_103_440_001));
    assert_eq!(p.host.as_deref(), Some("ip-10-42-7-19"));
    assert!(p.is_kernel());
    let sep = parse_line(line("mixed/grep-multi-file.txt", 4));
    assert_eq!(sep.marker, Some(MarkerKind::Separator));
}

#[test]
fn dmesg_x_with_ctime_keeps_the_approximate_wall_clock() {
    let p = parse_line(
        "kern  :warn  : [Fri Dec 22 12:26:24 2023] TCP: time wait bucket table overflow",
    );
    assert_eq!(p.format, LineFormat::DmesgDecoded);
    assert_eq!(
        p.stamp,
        Stamp::Approximate(naive(2023, 12, 22, 12, 26, 24, 0))
    );
    assert!(p.is_kernel());
    assert_eq!(p.message, "TCP: time wait bucket table overflow");
}
