//! The bundle flags on the command line: `--as`, limits, archives and stdin, exit codes.

mod archive_util;

use archive_util::*;
use std::fs;
use std::process::Command;

fn coroner(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(args)
        .output()
        .expect("run coroner")
}

#[test]
fn bad_as_specs_are_usage_errors() {
    let dir = fixture("oom-api-node");
    let d = dir.to_str().expect("utf-8");
    for spec in ["nope=*", "unknown=*", "ss", "ss=["] {
        let o = coroner(&["analyze", d, "--as", spec]);
        assert_eq!(o.status.code(), Some(2), "--as {spec}");
    }
    let o = coroner(&["analyze", d, "--as", "log=*.log", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn archive_argument_reports_entry_paths_and_limits_reach_stderr() {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("b.tar.zst");
    fs::write(&p, zst(&tar_dir(&fixture("oom-api-node"), "node-7"))).expect("write");
    let path = p.to_str().expect("utf-8");
    let o = coroner(&["analyze", path, "--format", "json", "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["findings"][0]["evidence"][0]["path"], "node-7/kern.log");
    // A tiny total budget: the limit is reported, the run still completes.
    let o = coroner(&["analyze", path, "--max-total-bytes", "2048"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--max-total-bytes"), "{err}");
    let o = coroner(&["analyze", path, "--max-entries", "1", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .any(|d| d["message"]
            .as_str()
            .unwrap_or("")
            .contains("--max-entries")));
}

#[test]
fn unreadable_archive_alone_is_exit_2() {
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("broken.tar.gz");
    fs::write(&p, b"\x1f\x8b\x08\x00garbage").expect("write");
    let o = coroner(&["analyze", p.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
}
