//! The benchmark generator (src/bin/gen-bundle.rs): same seed and size give the same bytes, a
//! different seed gives different bytes, and coroner's findings on a small generated bundle
//! match the ground truth written beside it (counts, key fields, first evidence line, time).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const GEN: &str = env!("CARGO_BIN_EXE_gen-bundle");
const CORONER: &str = env!("CARGO_BIN_EXE_coroner");
/// Small enough for debug builds (well under a second to write and analyse), large enough to
/// hold every incident among thousands of noise lines.
const SIZE: &str = "2MiB";
const SIZE_BYTES: u64 = 2 << 20;

fn generate(out: &Path, seed: u64) {
    let st = Command::new(GEN)
        .arg(out)
        .args(["--size", SIZE, "--seed", &seed.to_string()])
        .status()
        .expect("run gen-bundle");
    assert!(st.success(), "gen-bundle failed");
}

/// Every file of a directory, relative path → bytes, in path order.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn truth(out: &Path) -> serde_json::Value {
    let mut p = out.as_os_str().to_owned();
    p.push(".truth.json");
    serde_json::from_str(&std::fs::read_to_string(PathBuf::from(p)).expect("truth file"))
        .expect("truth json")
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    generate(&a, 7);
    generate(&b, 7);
    generate(&c, 8);
    let (sa, sb, sc) = (snapshot(&a), snapshot(&b), snapshot(&c));
    assert!(
        sa.len() >= 10,
        "expected the logs and snapshots: {:?}",
        sa.keys()
    );
    assert_eq!(sa, sb, "same seed and size must give identical bundles");
    assert_eq!(truth(&a), truth(&b), "and identical truth");
    assert_ne!(sa, sc, "another seed must give other noise");
    // Size within a few % of the request.
    let total: u64 = sa.values().map(|v| v.len() as u64).sum();
    assert_eq!(truth(&a)["bytes_written"].as_u64(), Some(total));
    let dev = (total as f64 - SIZE_BYTES as f64).abs() / SIZE_BYTES as f64;
    assert!(dev < 0.03, "{total} bytes for a {SIZE} request");
}

#[test]
fn findings_match_ground_truth() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("bundle");
    generate(&out, 7);
    let t = truth(&out);
    // The truth holds every planned incident kind.
    let counts = &t["signature_counts"];
    assert_eq!(counts["mem.oom-kill-memcg"], 3);
    assert_eq!(counts["net.syn-flood"], 7);
    assert_eq!(counts["net.conntrack-full"], 70);
    assert_eq!(counts["fd.emfile"], 65);
    assert_eq!(counts["net.eaddrnotavail"], 150);

    let report = tmp.path().join("report.json");
    let st = Command::new(CORONER)
        .arg("analyze")
        .arg(&out)
        .args(["--format", "json", "-o"])
        .arg(&report)
        .status()
        .expect("run coroner");
    assert!(st.success(), "coroner analyze failed");
    let mut truth_path = out.as_os_str().to_owned();
    truth_path.push(".truth.json");
    let v = Command::new(GEN)
        .arg("--verify")
        .arg(PathBuf::from(&truth_path))
        .arg(&report)
        .output()
        .expect("run gen-bundle --verify");
    assert!(
        v.status.success(),
        "findings differ from the ground truth:\n{}",
        String::from_utf8_lossy(&v.stderr)
    );

    // The verifier itself must catch a wrong answer: drop one finding and change a count.
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let findings = r["findings"].as_array_mut().expect("findings");
    let oom = findings
        .iter()
        .position(|f| f["signature"] == "mem.oom-kill-memcg")
        .expect("an OOM finding");
    findings.remove(oom);
    let conntrack = findings
        .iter_mut()
        .find(|f| f["signature"] == "net.conntrack-full")
        .expect("a conntrack finding");
    conntrack["count"] = serde_json::json!(1);
    let wrong = tmp.path().join("wrong.json");
    std::fs::write(&wrong, r.to_string()).expect("write");
    let v = Command::new(GEN)
        .arg("--verify")
        .arg(PathBuf::from(&truth_path))
        .arg(&wrong)
        .output()
        .expect("run gen-bundle --verify");
    assert!(!v.status.success(), "a wrong report must fail the check");
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(err.contains("missing finding mem.oom-kill-memcg"), "{err}");
    assert!(
        err.contains("net.conntrack-full") && err.contains("count 1"),
        "{err}"
    );
}

#[test]
fn user_signatures_are_valid_and_quiet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("sigs");
    let st = Command::new(GEN)
        .arg("--user-signatures")
        .arg(&dir)
        .status()
        .expect("run gen-bundle");
    assert!(st.success());
    let n = std::fs::read_dir(&dir).expect("dir").count();
    assert_eq!(n, 20);
    // They load with the built-ins (schema, examples and counterexamples valid).
    let out = Command::new(CORONER)
        .args(["signatures", "--signatures"])
        .arg(&dir)
        .output()
        .expect("run coroner");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.matches("user.bench-").count(), 20);
}

#[test]
fn literal_set_lists_catalog_and_structural_literals() {
    let out = Command::new(CORONER)
        .args(["signatures", "--literals"])
        .output()
        .expect("run coroner");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lits: Vec<&str> = text.lines().collect();
    for want in [
        "SYN flooding on port",
        "table full",
        "Killed process",
        "invoked oom-killer",
        "oom_reaper: reaped process",
        "EMFILE",
    ] {
        assert!(lits.contains(&want), "missing {want}: {lits:?}");
    }
    let mut sorted = lits.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, lits, "sorted and deduplicated");
}
