//! Parallel ingestion (`--threads`, `AnalyzeOptions::threads`) changes nothing in the output:
//! every demo bundle, in every form (directory, tar.gz, zip), and a generated multi-file
//! bundle give byte-identical JSON reports on one thread and on several, also when a
//! `--max-total-bytes` limit stops the reading part-way. The demo bundles' files are smaller
//! than `bundle::pool::MIN_HANDOFF_BYTES`, so they are read on the walking thread; the
//! generated bundle's logs (hundreds of KiB each) are the ones handed to workers.

mod archive_util;

use archive_util::{fixture, gz, tar_dir, zip_dir};
use coroner::bundle::limits::Limits;
use coroner::report::json;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const DEMOS: &[&str] = &[
    "fd-exhaustion",
    "oom-api-node",
    "port-exhaustion",
    "sosreport-web-1",
];

fn report_json(paths: &[PathBuf], threads: usize, limits: Limits) -> String {
    let catalog = Catalog::load(&[]).expect("catalog");
    let opts = AnalyzeOptions {
        paths: paths.to_vec(),
        threads,
        limits,
        ..Default::default()
    };
    json::render(&analyze(&opts, &catalog))
}

/// One thread against 2 and 4 workers (more than this machine's cores: order must not matter).
fn assert_same_on_any_threads(paths: &[PathBuf], limits: Limits) -> String {
    let one = report_json(paths, 1, limits);
    for threads in [2, 4] {
        let many = report_json(paths, threads, limits);
        assert!(
            one == many,
            "{paths:?}: the report on {threads} threads differs from the one-thread report"
        );
    }
    one
}

fn generated_bundle(dir: &Path) -> PathBuf {
    let out = dir.join("gen");
    let st = Command::new(env!("CARGO_BIN_EXE_gen-bundle"))
        .arg(&out)
        .args(["--size", "3MiB", "--seed", "11"])
        .status()
        .expect("run gen-bundle");
    assert!(st.success(), "gen-bundle failed");
    out
}

#[test]
fn demo_bundles_report_the_same_bytes_on_one_thread_and_many() {
    let t = tempfile::tempdir().expect("tempdir");
    for name in DEMOS {
        let dir = fixture(name);
        let from_dir = assert_same_on_any_threads(std::slice::from_ref(&dir), Limits::default());
        assert!(from_dir.contains("\"findings\""));
        let tgz = fixture(&format!("{name}.tar.gz"));
        assert_same_on_any_threads(&[tgz], Limits::default());
        let zip = t.path().join(format!("{name}.zip"));
        std::fs::write(&zip, zip_dir(&dir)).expect("write zip");
        assert_same_on_any_threads(&[zip], Limits::default());
    }
    // Several PATH arguments: ids run on across them.
    let all: Vec<PathBuf> = DEMOS.iter().map(|n| fixture(n)).collect();
    assert_same_on_any_threads(&all, Limits::default());
}

#[test]
fn a_generated_bundle_reports_the_same_bytes_on_one_thread_and_many() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = generated_bundle(t.path());
    let report = assert_same_on_any_threads(std::slice::from_ref(&dir), Limits::default());
    // The generator's incidents are there (the comparison is not between two empty reports).
    for sig in ["mem.oom-kill-memcg", "net.syn-flood", "fd.emfile"] {
        assert!(report.contains(sig), "{sig} missing");
    }
    let tgz = t.path().join("gen.tar.gz");
    std::fs::write(&tgz, gz(&tar_dir(&dir, "gen"))).expect("write tar.gz");
    assert_same_on_any_threads(&[tgz], Limits::default());
    let zip = t.path().join("gen.zip");
    std::fs::write(&zip, zip_dir(&dir)).expect("write zip");
    assert_same_on_any_threads(&[zip], Limits::default());
}

#[test]
fn a_total_bytes_limit_stops_at_the_same_byte_on_one_thread_and_many() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = generated_bundle(t.path());
    // Limits that fall inside the first file, between files, and inside a later file: files
    // handed whole to a worker are charged up front, the one the limit cuts is read in place.
    for max_total_bytes in [100_000, 700_000, 1_500_000, 2_900_000] {
        let limits = Limits {
            max_total_bytes,
            ..Limits::default()
        };
        let report = assert_same_on_any_threads(std::slice::from_ref(&dir), limits);
        assert!(
            report.contains("--max-total-bytes"),
            "limit {max_total_bytes} not reached"
        );
    }
}
