//! Hostile bundles, built by the tests themselves: bombs, path traversal, links out of the
//! bundle and in loops, truncated archives, duplicate names, device entries, huge sparse
//! files. Each is read safely, reported, and never stops the rest of the analysis.

mod archive_util;

use archive_util::*;
use coroner::bundle::limits::Limits;
use coroner::AnalyzeOptions;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use tar::EntryType;

const LINE: &[u8] = b"Nov 21 14:17:30 h kernel: [ 4021.551902] TCP: request_sock_TCP: Possible SYN flooding on port 3000. Sending cookies.  Check SNMP counters.\n";

/// Text that compresses ~1000:1 (4 KiB lines of one letter), as a bomb's payload; text so
/// that it is not refused as binary at the first bytes and the ratio limit is what stops it.
fn bomb_text(len: usize) -> Vec<u8> {
    let mut line = vec![b'A'; 4095];
    line.push(b'\n');
    line.into_iter().cycle().take(len).collect()
}

/// A multi-member gzip of `members` × 8 MiB of bomb text, built fast by compressing one
/// member once.
fn gzip_bomb(members: usize) -> Vec<u8> {
    let chunk = bomb_text(8 << 20);
    let member = gz(&chunk);
    let mut out = Vec::with_capacity(member.len() * members);
    for _ in 0..members {
        out.extend_from_slice(&member);
    }
    out
}

fn kern() -> Vec<u8> {
    fs::read(fixture("oom-api-node/kern.log")).expect("read")
}

fn has_diag(r: &coroner::report::Report, needle: &str) -> bool {
    r.diagnostics.iter().any(|d| d.message.contains(needle))
}

#[test]
fn gzip_bomb_of_one_gib_stops_at_the_ratio_and_the_rest_is_analysed() {
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("b");
    fs::create_dir_all(&b).expect("mkdir");
    // 128 × 8 MiB = 1 GiB decompressed.
    fs::write(b.join("bomb.log.gz"), gzip_bomb(128)).expect("write");
    fs::write(b.join("kern.log"), kern()).expect("write");
    let start = Instant::now();
    let r = run_paths(&[&b]);
    assert!(start.elapsed() < Duration::from_secs(30), "stopped early");
    let bomb = source(&r, "bomb.log.gz");
    assert!(bomb
        .diagnostics
        .iter()
        .any(|d| d.message.contains("--max-ratio")));
    assert!(bomb.lines < 1_000_000, "only the first MiBs were read");
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path.as_deref() == Some("bomb.log.gz") && d.message.contains("--max-ratio")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg"));
}

#[test]
fn bomb_entry_inside_a_tar_gz_stops_only_that_entry() {
    // A text bomb as a tar entry: the tar stream itself is compressed.
    let bomb = bomb_text(16 << 20);
    let mut raw = Vec::new();
    raw.extend(raw_entry(b"a-bomb.log", EntryType::Regular, b"", &bomb));
    raw.extend(raw_entry(b"b/kern.log", EntryType::Regular, b"", &kern()));
    let tgz = gz(&end_tar(raw));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("x.tar.gz");
    fs::write(&p, tgz).expect("write");
    let r = run_paths(&[&p]);
    assert!(source(&r, "a-bomb.log")
        .diagnostics
        .iter()
        .any(|d| d.message.contains("--max-ratio")));
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg" && f.evidence[0].path == "b/kern.log"));
}

#[test]
fn traversal_absolute_devices_and_links_out_are_never_read() {
    let mut raw = Vec::new();
    raw.extend(raw_entry(
        b"../../etc/passwd",
        EntryType::Regular,
        b"",
        b"root:x:0:0\n",
    ));
    raw.extend(raw_entry(
        b"/etc/shadow",
        EntryType::Regular,
        b"",
        b"root:*:1\n",
    ));
    raw.extend(raw_entry(b"ok/kern.log", EntryType::Regular, b"", &kern()));
    raw.extend(raw_entry(
        b"ok/shadow",
        EntryType::Symlink,
        b"/etc/shadow",
        b"",
    ));
    raw.extend(raw_entry(
        b"ok/up",
        EntryType::Symlink,
        b"../../../etc/passwd",
        b"",
    ));
    raw.extend(raw_entry(b"ok/loop-a", EntryType::Symlink, b"loop-b", b""));
    raw.extend(raw_entry(b"ok/loop-b", EntryType::Symlink, b"loop-a", b""));
    raw.extend(raw_entry(
        b"ok/kern-link",
        EntryType::Symlink,
        b"kern.log",
        b"",
    ));
    raw.extend(raw_entry(b"ok/hard", EntryType::Link, b"ok/kern.log", b""));
    raw.extend(raw_entry(
        b"ok/dangling",
        EntryType::Symlink,
        b"nothere",
        b"",
    ));
    raw.extend(raw_entry(b"dev/sda", EntryType::Block, b"", b""));
    raw.extend(raw_entry(b"dev/null", EntryType::Char, b"", b""));
    raw.extend(raw_entry(b"run/fifo", EntryType::Fifo, b"", b""));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("evil.tar");
    fs::write(&p, end_tar(raw)).expect("write");
    let r = run_paths(&[&p]);
    let skip = |path: &str| source(&r, path).skipped.clone().unwrap_or_default();
    assert!(skip("../../etc/passwd").contains("`..`"));
    assert!(skip("/etc/shadow").contains("absolute"));
    assert!(skip("ok/shadow").contains("outside the bundle"));
    assert!(skip("ok/up").contains("outside the bundle"));
    assert!(skip("ok/loop-a").contains("loop"));
    assert!(skip("ok/loop-b").contains("loop"));
    assert!(skip("ok/kern-link").starts_with("alias of ok/kern.log"));
    assert!(skip("ok/hard").starts_with("alias of ok/kern.log"));
    assert!(skip("ok/dangling").contains("broken link"));
    assert!(skip("dev/sda").contains("device"));
    assert!(skip("dev/null").contains("device"));
    assert!(skip("run/fifo").contains("FIFO"));
    // The one real entry is read once (the links are not analysed again).
    let oom = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("oom");
    assert_eq!(oom.count, 1);
    assert_eq!(oom.evidence[0].path, "ok/kern.log");
    // Nothing was read from the host.
    assert!(r
        .sources
        .iter()
        .all(|s| s.lines == 0 || s.path == "ok/kern.log"));
}

#[cfg(unix)]
#[test]
fn directory_links_out_and_loops_are_not_followed() {
    use std::os::unix::fs::symlink;
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("b");
    fs::create_dir_all(b.join("logs")).expect("mkdir");
    fs::write(b.join("logs/kern.log"), kern()).expect("write");
    symlink("/etc/shadow", b.join("shadow")).expect("symlink");
    symlink("loop-b", b.join("loop-a")).expect("symlink");
    symlink("loop-a", b.join("loop-b")).expect("symlink");
    symlink("..", b.join("logs/parent")).expect("symlink");
    symlink("logs/kern.log", b.join("kern")).expect("symlink");
    let r = run_paths(&[&b]);
    let skip = |path: &str| source(&r, path).skipped.clone().unwrap_or_default();
    assert!(
        skip("shadow").contains("outside the bundle"),
        "{}",
        skip("shadow")
    );
    assert!(skip("loop-a").contains("loop"), "{}", skip("loop-a"));
    assert!(skip("logs/parent").starts_with("alias of directory"));
    assert!(skip("kern").starts_with("alias of logs/kern.log"));
    let oom = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("oom");
    assert_eq!(oom.count, 1);
}

#[test]
fn truncated_tar_gz_keeps_what_came_before() {
    let mut raw = Vec::new();
    raw.extend(raw_entry(b"a/kern.log", EntryType::Regular, b"", &kern()));
    let filler: Vec<u8> = (0..400_000u32)
        .flat_map(|i| format!("{i} noise line {}\n", i * 7919).into_bytes())
        .collect();
    raw.extend(raw_entry(b"b/app.log", EntryType::Regular, b"", &filler));
    raw.extend(raw_entry(b"c/late.log", EntryType::Regular, b"", LINE));
    let tgz = gz(&end_tar(raw));
    let cut = &tgz[..tgz.len() * 2 / 3];
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("cut.tar.gz");
    fs::write(&p, cut).expect("write");
    let r = run_paths(&[&p]);
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg"));
    let app = source(&r, "b/app.log");
    assert!(
        app.diagnostics
            .iter()
            .any(|d| d.message.contains("read error")),
        "{:?}",
        app.diagnostics
    );
    assert!(
        has_diag(&r, "truncated or corrupt tar"),
        "{:?}",
        r.diagnostics
    );
    assert!(r.sources.iter().all(|s| s.path != "c/late.log"));
}

#[test]
fn zip_with_a_duplicated_name_is_flagged_and_read_once() {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("a.log", opts).expect("a");
    z.write_all(&kern()).expect("write");
    z.start_file("b.log", opts).expect("b");
    z.write_all(&kern()).expect("write");
    let mut bytes = z.finish().expect("zip").into_inner();
    // Rename b.log to a.log in its local header and the central directory.
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(5).position(|w| w == b"b.log") {
        bytes[i + pos] = b'a';
        i += pos + 5;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("dup.zip");
    fs::write(&p, bytes).expect("write");
    let r = run_paths(&[&p]);
    assert!(
        has_diag(&r, "same name more than once"),
        "{:?}",
        r.diagnostics
    );
    let reads: Vec<_> = r.sources.iter().filter(|s| s.path == "a.log").collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(
        r.findings
            .iter()
            .find(|f| f.signature == "mem.oom-kill-memcg")
            .map(|f| f.count),
        Some(1)
    );
}

#[test]
fn duplicate_tar_entries_are_read_once() {
    let mut raw = Vec::new();
    raw.extend(raw_entry(b"kern.log", EntryType::Regular, b"", &kern()));
    raw.extend(raw_entry(b"./kern.log", EntryType::Regular, b"", &kern()));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("dup.tar");
    fs::write(&p, end_tar(raw)).expect("write");
    let r = run_paths(&[&p]);
    let dups: Vec<_> = r.sources.iter().filter(|s| s.path == "kern.log").collect();
    assert_eq!(dups.len(), 2);
    assert!(dups.iter().any(|s| s
        .skipped
        .as_deref()
        .is_some_and(|w| w.starts_with("duplicate entry name"))));
}

fn sparse(path: &Path, head: &[u8]) {
    let mut f = fs::File::create(path).expect("create");
    f.write_all(head).expect("write");
    f.set_len(1 << 30).expect("set_len");
}

#[test]
fn one_gib_sparse_file_of_nuls_is_skipped_as_binary_quickly() {
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("b");
    fs::create_dir_all(&b).expect("mkdir");
    sparse(&b.join("core.img"), b"");
    fs::write(b.join("kern.log"), kern()).expect("write");
    let start = Instant::now();
    let r = run_paths(&[&b]);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(source(&r, "core.img")
        .skipped
        .as_deref()
        .is_some_and(|s| s.contains("NUL")));
    assert!(!r.findings.is_empty());
}

#[test]
fn one_gib_sparse_text_file_is_bounded_by_line_cap_and_total_bytes() {
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("b");
    fs::create_dir_all(&b).expect("mkdir");
    fs::write(b.join("a-kern.log"), kern()).expect("write");
    // 16 KiB of text (past the sniffer's 8 KiB), then NULs up to 1 GiB with no newline:
    // one enormous line.
    let head: Vec<u8> = LINE
        .iter()
        .copied()
        .cycle()
        .take(LINE.len() * 120)
        .collect();
    sparse(&b.join("m-huge.log"), &head);
    fs::write(b.join("z-after.log"), kern()).expect("write");
    let max = 16 << 20;
    let r = run(AnalyzeOptions {
        paths: vec![b.clone()],
        limits: Limits {
            max_total_bytes: max,
            ..Limits::default()
        },
        ..Default::default()
    });
    let huge = source(&r, "m-huge.log");
    assert!(
        huge.diagnostics
            .iter()
            .any(|d| d.message.contains("--max-total-bytes")),
        "{:?}",
        huge.diagnostics
    );
    assert!(has_diag(&r, "--max-total-bytes"));
    // What came before is analysed; the kernel line in the head still matched.
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg"));
    assert!(r.findings.iter().any(
        |f| f.signature == "net.syn-flood" && f.evidence.iter().any(|e| e.path == "m-huge.log")
    ));
}

#[test]
fn entry_limit_stops_the_rest_of_the_archive() {
    let mut raw = Vec::new();
    for i in 0..10 {
        raw.extend(raw_entry(
            format!("f{i}.log").as_bytes(),
            EntryType::Regular,
            b"",
            LINE,
        ));
    }
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("many.tar");
    fs::write(&p, end_tar(raw)).expect("write");
    let r = run(AnalyzeOptions {
        paths: vec![p],
        limits: Limits {
            max_entries: 3,
            ..Limits::default()
        },
        ..Default::default()
    });
    assert_eq!(r.sources.len(), 3);
    assert!(has_diag(&r, "--max-entries"));
}

#[test]
fn nested_archives_open_one_level_only_and_zip_in_tar_is_buffered() {
    let inner_zip = zip_dir(&fixture("oom-api-node"));
    let deepest = gz(&end_tar(raw_entry(
        b"kern.log",
        EntryType::Regular,
        b"",
        &kern(),
    )));
    let level1 = gz(&end_tar(raw_entry(
        b"deeper.tar.gz",
        EntryType::Regular,
        b"",
        &deepest,
    )));
    let mut raw = Vec::new();
    raw.extend(raw_entry(b"api.zip", EntryType::Regular, b"", &inner_zip));
    raw.extend(raw_entry(b"level1.tgz", EntryType::Regular, b"", &level1));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("outer.tar");
    fs::write(&p, end_tar(raw)).expect("write");
    let r = run_paths(&[&p]);
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg" && f.evidence[0].path == "api.zip/kern.log"));
    assert!(source(&r, "level1.tgz/deeper.tar.gz")
        .skipped
        .as_deref()
        .is_some_and(|s| s.contains("nested more than one level")));
    // Over the in-memory cap, a zip inside a tar is skipped with the reason.
    let r = run(AnalyzeOptions {
        paths: vec![p.clone()],
        limits: Limits {
            max_nested_zip_bytes: 100,
            ..Limits::default()
        },
        ..Default::default()
    });
    assert!(source(&r, "api.zip")
        .skipped
        .as_deref()
        .is_some_and(|s| s.contains("in-memory cap")));
}

#[test]
fn garbage_and_empty_archives_do_not_panic() {
    let t = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gz-garbage.gz", b"\x1f\x8b\x08\x00garbage garbage".to_vec()),
        ("xz-garbage.xz", b"\xfd7zXZ\x00garbage".to_vec()),
        ("zst-garbage.zst", b"\x28\xb5\x2f\xfdgarbage".to_vec()),
        ("zip-garbage.zip", b"PK\x03\x04garbage".to_vec()),
        ("empty.tar.gz", gz(b"")),
        ("bz.bz2", b"BZh91AY&SYgarbage".to_vec()),
    ];
    for (name, bytes) in cases {
        let p = t.path().join(name);
        fs::write(&p, bytes).expect("write");
        let r = run_paths(&[&p]);
        assert!(r.findings.is_empty(), "{name}");
        assert!(
            !r.read_anything() || r.sources.iter().all(|s| s.lines == 0),
            "{name}"
        );
    }
}

#[test]
fn hidden_entries_are_skipped_in_archives_as_in_directories() {
    let mut raw = Vec::new();
    raw.extend(raw_entry(b"b/.git/config", EntryType::Regular, b"", LINE));
    raw.extend(raw_entry(b"b/.git/HEAD", EntryType::Regular, b"", LINE));
    raw.extend(raw_entry(b"b/.bash_history", EntryType::Regular, b"", LINE));
    raw.extend(raw_entry(b"b/kern.log", EntryType::Regular, b"", &kern()));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("h.tar");
    fs::write(&p, end_tar(raw)).expect("write");
    let r = run_paths(&[&p]);
    let paths: Vec<(&str, Option<&str>)> = r
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.skipped.as_deref()))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("b/.bash_history", Some("hidden")),
            ("b/.git", Some("hidden")),
            ("b/kern.log", None),
        ]
    );
    assert_eq!(signatures(&r), vec!["mem.oom-kill-memcg", "net.syn-flood"]);
}
