//! Correlation on whole bundles: which findings become one incident, and which must not.

use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(paths: Vec<PathBuf>) -> Report {
    let cat = Catalog::load(&[]).expect("catalog");
    analyze(
        &AnalyzeOptions {
            paths,
            ..Default::default()
        },
        &cat,
    )
}

fn bundle(name: &str) -> Report {
    run(vec![root().join("fixtures/bundles").join(name)])
}

/// Each incident as (title, member signatures in report order).
fn incidents(r: &Report) -> Vec<(String, Vec<String>)> {
    r.incidents
        .iter()
        .map(|i| {
            (
                i.title.clone(),
                i.findings.iter().map(|f| f.signature.clone()).collect(),
            )
        })
        .collect()
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn oom_kill_joins_the_oomkilled_container_its_heap_flag_and_crash_loop() {
    let r = bundle("oom-api-node");
    assert_eq!(
        incidents(&r),
        vec![(
            "OOM kill of node in api-7f9c8d6b5-lq2xz/api".to_string(),
            owned(&[
                "mem.oom-kill-memcg",
                "k8s.oomkilled",
                "k8s.runtime-heap-vs-limit",
                "k8s.crashloop"
            ])
        )]
    );
    let i = &r.incidents[0];
    assert_eq!(i.id, "I1");
    assert_eq!(i.start.as_deref(), Some("2026-11-21T14:23:07Z"));
    for f in &i.findings {
        assert_eq!(
            r.findings[f.index].signature, f.signature,
            "index points at the finding"
        );
    }
    for needle in [
        "killed node (pid 48213)",
        "980 MiB (95% of the 1024 MiB cgroup limit)",
        "shop/api-7f9c8d6b5-lq2xz, container api as OOMKilled (exit code 137)",
        "restarted 3 time(s)",
        "--max-old-space-size=2048",
    ] {
        assert!(i.narrative.contains(needle), "{needle}: {}", i.narrative);
    }
    // The sidecar's missing limit is a different problem: not part of the incident.
    assert!(!i
        .findings
        .iter()
        .any(|f| f.signature == "k8s.no-memory-limit"));
}

#[test]
fn emfile_joins_the_same_process_limits_and_descriptors() {
    let r = bundle("fd-exhaustion");
    assert_eq!(
        incidents(&r),
        vec![(
            "File descriptor exhaustion in orders-api".to_string(),
            owned(&["fd.emfile", "fd.near-limit", "fd.low-soft-limit"])
        )]
    );
    assert!(r.incidents[0]
        .narrative
        .contains("1021 open file descriptors against a soft limit of 1024"));
}

#[test]
fn eaddrnotavail_joins_the_time_wait_pile_up_to_the_same_destination() {
    let r = bundle("port-exhaustion");
    assert_eq!(
        incidents(&r),
        vec![(
            "Ephemeral port exhaustion towards 10.0.4.17:5432".to_string(),
            owned(&["net.eaddrnotavail", "net.ephemeral-port-exhaustion"])
        )]
    );
    assert!(r.incidents[0]
        .narrative
        .contains("26,310 of the TIME-WAIT sockets go to 10.0.4.17:5432"));
}

#[test]
fn syn_flood_joins_the_listener_on_its_port() {
    let r = bundle("sosreport-web-1");
    let inc = incidents(&r);
    assert!(
        inc.contains(&(
            "Listen queue overflow on port 443".to_string(),
            owned(&["net.accept-queue-overflow", "net.syn-flood"])
        )),
        "{inc:?}"
    );
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy fixture");
}

#[test]
fn two_oom_kills_in_different_pods_are_not_joined() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = root().join("fixtures/bundles/oom-api-node");
    copy(&demo.join("kern.log"), &dir.path().join("kern.log"));
    copy(
        &demo.join("describe-api-7f9c8d6b5-lq2xz.txt"),
        &dir.path().join("describe-api.txt"),
    );
    // A second node's kernel log: a CRI-O container of another pod killed too.
    copy(
        &root().join("fixtures/logs/signatures/oom-memcg-crio.log"),
        &dir.path().join("node-2-kern.log"),
    );
    let r = run(vec![dir.path().to_path_buf()]);
    let inc = incidents(&r);
    assert_eq!(inc.len(), 2, "{inc:?}");
    let api = inc
        .iter()
        .find(|(t, _)| t.contains("api-7f9c8d6b5-lq2xz"))
        .expect("api incident");
    assert_eq!(
        api.1.iter().filter(|s| *s == "mem.oom-kill-memcg").count(),
        1
    );
    assert!(api.1.contains(&"k8s.oomkilled".to_string()));
    let other = inc
        .iter()
        .find(|(t, _)| !t.contains("api-7f9c8d6b5-lq2xz"))
        .expect("other incident");
    assert_eq!(
        other.1,
        owned(&["mem.oom-kill-memcg"]),
        "nothing of the api pod joins it"
    );
    let narrative = &r
        .incidents
        .iter()
        .find(|i| !i.title.contains("api-7f9c8d6b5-lq2xz"))
        .expect("other")
        .narrative;
    assert!(narrative.contains("No container"), "{narrative}");
}
