//! `coroner batch`: every bundle under DIR analysed into OUTDIR, index and NDJSON built,
//! unchanged bundles skipped on re-runs, broken bundles as error rows, `--fail-on` across.

mod archive_util;

use archive_util::*;
use coroner::batch::{self, BatchOptions, Summary, Verbosity};
use coroner::signatures::Catalog;
use std::fs;
use std::path::Path;
use std::process::Command;

fn setup(dir: &Path) {
    fs::create_dir_all(dir).expect("mkdir");
    let oom = tar_dir(&fixture("oom-api-node"), "oom-api-node");
    fs::write(dir.join("node-7.tar.gz"), gz(&oom)).expect("write");
    let sos = tar_dir(&fixture("sosreport-web-1"), "sosreport-web-1-2026-11-21");
    fs::write(dir.join("sosreport-web-1.tar.xz"), xz(&sos)).expect("write");
    // A directory bundle.
    let d = dir.join("gateway-dir");
    fs::create_dir_all(&d).expect("mkdir");
    fs::copy(fixture("oom-api-node/gateway.log"), d.join("gateway.log")).expect("copy");
    // Broken: gzip magic, then garbage.
    fs::write(dir.join("broken.tgz"), b"\x1f\x8b\x08\x00 not really gzip").expect("write");
    // Not bundles: a plain text file and a hidden entry.
    fs::write(dir.join("README.txt"), "nightly drop\n").expect("write");
    fs::write(dir.join(".partial.tar.gz"), b"\x1f\x8b").expect("write");
}

fn opts(dir: &Path, out: &Path, force: bool) -> BatchOptions {
    BatchOptions {
        dir: dir.to_path_buf(),
        out: out.to_path_buf(),
        force,
        analyze: Default::default(),
        verbosity: Verbosity::Quiet,
    }
}

fn run_batch(o: &BatchOptions) -> Summary {
    batch::run(o, &Catalog::load(&[]).expect("catalog")).expect("batch runs")
}

#[test]
fn batch_writes_reports_index_and_ndjson_and_skips_unchanged() {
    let t = tempfile::tempdir().expect("tempdir");
    let (dir, out) = (t.path().join("drop"), t.path().join("out"));
    setup(&dir);
    let s = run_batch(&opts(&dir, &out, false));
    assert_eq!(
        s,
        Summary {
            bundles: 4,
            analysed: 3,
            unchanged: 0,
            errors: 1,
            worst_severity: Some(coroner::model::Severity::Critical),
        }
    );
    for b in ["node-7.tar.gz", "sosreport-web-1.tar.xz", "gateway-dir"] {
        assert!(out.join(b).join("report.json").is_file(), "{b}");
        assert!(out.join(b).join("report.txt").is_file(), "{b}");
        assert!(out.join(b).join("report.html").is_file(), "{b}");
    }
    let nd = fs::read_to_string(out.join("findings.ndjson")).expect("ndjson");
    let rows: Vec<serde_json::Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["bundle"].as_str().unwrap_or("").to_string(),
                r["signature"]
                    .as_str()
                    .or(r["error"].as_str().map(|_| "error"))
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let expect = |b: &str, s: &str| (b.to_string(), s.to_string());
    assert_eq!(
        pairs,
        vec![
            expect("broken.tgz", "error"),
            expect("gateway-dir", "net.socket-hang-up"),
            expect("gateway-dir", "net.econnrefused"),
            expect("node-7.tar.gz", "mem.oom-kill-memcg"),
            expect("node-7.tar.gz", "k8s.oomkilled"),
            expect("node-7.tar.gz", "k8s.runtime-heap-vs-limit"),
            expect("node-7.tar.gz", "net.socket-hang-up"),
            expect("node-7.tar.gz", "net.econnrefused"),
            expect("node-7.tar.gz", "net.syn-flood"),
            expect("node-7.tar.gz", "k8s.crashloop"),
            expect("node-7.tar.gz", "k8s.no-memory-limit"),
            expect("sosreport-web-1.tar.xz", "net.conntrack-full"),
            expect("sosreport-web-1.tar.xz", "net.accept-queue-overflow"),
            expect("sosreport-web-1.tar.xz", "net.sysctl-review"),
            expect("sosreport-web-1.tar.xz", "net.syn-flood"),
        ]
    );
    // Evidence paths inside an archive bundle keep its top directory.
    assert_eq!(rows[3]["evidence"][0]["path"], "oom-api-node/kern.log");
    let index = fs::read_to_string(out.join("index.html")).expect("index");
    assert!(index.contains("<a href=\"node-7.tar.gz/report.html\">node-7.tar.gz</a>"));
    assert!(index.contains("class=\"error\">error</td>"));
    assert!(index.contains("net.conntrack-full"));
    assert!(!index.contains("README.txt") && !index.contains("partial"));

    // Second run: nothing changed, nothing analysed, same bytes out.
    let s2 = run_batch(&opts(&dir, &out, false));
    assert_eq!((s2.analysed, s2.unchanged, s2.errors), (0, 3, 1));
    assert_eq!(s2.worst_severity, s.worst_severity);
    assert_eq!(
        fs::read_to_string(out.join("findings.ndjson")).expect("nd"),
        nd
    );
    assert_eq!(
        fs::read_to_string(out.join("index.html")).expect("idx"),
        index
    );

    // A changed directory bundle is analysed again; the others are not.
    fs::write(dir.join("gateway-dir/extra.log"), "nothing here\n").expect("write");
    let s3 = run_batch(&opts(&dir, &out, false));
    assert_eq!((s3.analysed, s3.unchanged), (1, 2));
    // --force re-analyses all.
    let s4 = run_batch(&opts(&dir, &out, true));
    assert_eq!((s4.analysed, s4.unchanged), (3, 0));
}

#[test]
fn content_hash_follows_content_not_mtime() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path().join("b");
    fs::create_dir_all(&d).expect("mkdir");
    fs::write(d.join("a.log"), "one\n").expect("write");
    let h1 = batch::content_hash(&d, "v").expect("hash");
    fs::write(d.join("a.log"), "one\n").expect("rewrite");
    assert_eq!(batch::content_hash(&d, "v").expect("hash"), h1);
    fs::write(d.join("a.log"), "two\n").expect("write");
    assert_ne!(batch::content_hash(&d, "v").expect("hash"), h1);
    assert_ne!(batch::content_hash(&d, "w").expect("hash"), h1);
}

#[test]
fn cli_batch_fail_on_applies_across_bundles_and_stays_quiet_off_a_terminal() {
    let t = tempfile::tempdir().expect("tempdir");
    let (dir, out) = (t.path().join("drop"), t.path().join("out"));
    setup(&dir);
    let bin = env!("CARGO_BIN_EXE_coroner");
    let o = Command::new(bin)
        .args(["batch"])
        .arg(&dir)
        .arg("-o")
        .arg(&out)
        .args(["--fail-on", "critical", "--quiet"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Unchanged bundles still count for --fail-on on the next run.
    let o = Command::new(bin)
        .args(["batch"])
        .arg(&dir)
        .arg("-o")
        .arg(&out)
        .args(["--fail-on", "critical", "-v"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("node-7.tar.gz: unchanged"), "{err}");
    assert!(err.contains("broken.tgz: error"), "{err}");
    // Without --fail-on: 0, and the broken bundle is reported on stderr.
    let o = Command::new(bin)
        .args(["batch"])
        .arg(&dir)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.tgz"));
    // A missing DIR is a usage error.
    let o = Command::new(bin)
        .args(["batch", "/nonexistent/drop", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
}
