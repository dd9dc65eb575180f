//! The Kubernetes checks through the full pipeline: exact fields per fixture, negative
//! fixtures, threshold edges on both sides, and the `missing` evidence they ask for.

use coroner::checks::{CheckReport, CheckStatus};
use coroner::model::{FieldValue, Finding, Severity};
use coroner::report::Report;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).expect("fixture")
}

fn run(paths: Vec<PathBuf>) -> Report {
    let catalog = Catalog::load(&[]).expect("catalog");
    analyze(
        &AnalyzeOptions {
            paths,
            ..Default::default()
        },
        &catalog,
    )
}

fn run_fixtures(rels: &[&str]) -> Report {
    run(rels.iter().map(|r| fixture(r)).collect())
}

/// Analyse text written to a temporary file (for edited fixtures).
fn run_text(name: &str, text: &str) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join(name);
    std::fs::write(&f, text).expect("write");
    run(vec![f])
}

fn check<'a>(r: &'a Report, id: &str) -> &'a CheckReport {
    r.checks.iter().find(|c| c.id == id).expect("check ran")
}

fn findings<'a>(r: &'a Report, id: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.signature == id).collect()
}

fn field<'a>(f: &'a Finding, k: &str) -> Option<&'a FieldValue> {
    f.fields.get(k)
}

fn int(i: i64) -> Option<&'static FieldValue> {
    Some(Box::leak(Box::new(FieldValue::Int(i))))
}

fn txt(s: &str) -> Option<&'static FieldValue> {
    Some(Box::leak(Box::new(FieldValue::Text(s.to_string()))))
}

const DEMO_DESCRIBE: &str = "bundles/oom-api-node/describe-api-7f9c8d6b5-lq2xz.txt";

#[test]
fn all_check_ids_are_registered() {
    let ids: Vec<&str> = coroner::checks::ALL.iter().map(|c| c.id).collect();
    for id in [
        "k8s.oomkilled",
        "k8s.sigkill-137",
        "k8s.crashloop",
        "k8s.node-memory-pressure",
        "k8s.eviction",
        "k8s.system-oom",
        "k8s.runtime-heap-vs-limit",
        "k8s.no-memory-limit",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
}

#[test]
fn oomkilled_on_the_demo_bundle_is_confirmed_by_the_kernel_log() {
    let r = run(vec![fixture("bundles/oom-api-node")]);
    let src = r
        .sources
        .iter()
        .find(|s| s.path == "describe-api-7f9c8d6b5-lq2xz.txt")
        .expect("describe source");
    assert_eq!(src.kind.as_str(), "kubectl-describe");
    assert_eq!(src.format, "describe-pod");
    let c = check(&r, "k8s.oomkilled");
    assert_eq!(c.status, CheckStatus::Fired);
    let f = findings(&r, "k8s.oomkilled");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(field(f, "pod"), txt("api-7f9c8d6b5-lq2xz"));
    assert_eq!(field(f, "namespace"), txt("shop"));
    assert_eq!(field(f, "container"), txt("api"));
    assert_eq!(
        field(f, "container_id"),
        txt("containerd://8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6")
    );
    assert_eq!(field(f, "exit_code"), int(137));
    assert_eq!(field(f, "restart_count"), int(3));
    assert_eq!(field(f, "limit_bytes"), int(1_073_741_824));
    assert_eq!(field(f, "finished"), txt("Sat, 21 Nov 2026 14:23:07 +0000"));
    assert_eq!(f.first.as_deref(), Some("2026-11-21T14:23:07Z"));
    assert!(
        f.summary
            .contains("The kernel log confirms it (kern.log:5)"),
        "{}",
        f.summary
    );
    let lines: Vec<u64> = f.evidence.iter().map(|e| e.line).collect();
    assert_eq!(lines, [17, 24, 25, 26, 28, 30, 33]);
    assert_eq!(f.evidence[2].text, "      Reason:       OOMKilled");
    assert_eq!(f.evidence[2].path, "describe-api-7f9c8d6b5-lq2xz.txt");
    assert!(f.fixes[0].text.contains("memory: 1536Mi"));
    // The kernel log is there: nothing missing for this check.
    assert!(!r.missing.iter().any(|m| m.check == "k8s.oomkilled"));

    // The heap flag above the limit is the root cause.
    let h = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].severity, Severity::Critical);
    assert_eq!(field(h[0], "heap_bytes"), int(2_147_483_648));
    assert_eq!(field(h[0], "heap_percent_of_limit"), int(200));
    assert_eq!(
        field(h[0], "recommended_flag"),
        txt("--max-old-space-size=768")
    );
    assert!(h[0].fixes[0]
        .text
        .contains("env:\n  - name: NODE_OPTIONS\n    value: \"--max-old-space-size=768\""));
    // The metrics sidecar has no memory limit.
    let n = findings(&r, "k8s.no-memory-limit");
    assert_eq!(n.len(), 1);
    assert_eq!(field(n[0], "container"), txt("metrics"));
    // Back-off events.
    let cl = findings(&r, "k8s.crashloop");
    assert_eq!(cl.len(), 1);
    assert_eq!(field(cl[0], "backoff_events"), int(3));
    assert_eq!(field(cl[0], "last_reason"), txt("OOMKilled"));
}

#[test]
fn oomkilled_without_kernel_log_asks_for_it() {
    let r = run_fixtures(&["kubectl/describe-pod-oomkilled.txt"]);
    let f = findings(&r, "k8s.oomkilled");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "pod"), txt("invoice-worker-5c8d9f7b6-9qvzt"));
    assert_eq!(field(f[0], "restart_count"), int(2));
    assert_eq!(field(f[0], "limit_bytes"), int(2_147_483_648));
    assert_eq!(f[0].first.as_deref(), Some("2026-05-25T14:23:07Z"));
    let m: Vec<_> = r
        .missing
        .iter()
        .filter(|m| m.check == "k8s.oomkilled")
        .collect();
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].command,
        "journalctl -k --since \"2026-05-25 14:13:07 UTC\" --until \"2026-05-25 14:33:07 UTC\" | \
         grep -i -e oom -e 'killed process' -e b7e4c1a9d3f5   # or: dmesg -T | grep -i -e oom -e 'killed process' -e b7e4c1a9d3f5"
    );
    assert!(m[0]
        .what
        .contains("node ip-10-42-9-201.eu-west-1.compute.internal"));
}

#[test]
fn healthy_pod_fires_nothing() {
    let r = run_fixtures(&["kubectl/describe-pod-healthy.txt"]);
    for id in [
        "k8s.oomkilled",
        "k8s.sigkill-137",
        "k8s.crashloop",
        "k8s.runtime-heap-vs-limit",
        "k8s.no-memory-limit",
        "k8s.eviction",
    ] {
        assert_eq!(check(&r, id).status, CheckStatus::Healthy, "{id}");
        assert!(findings(&r, id).is_empty(), "{id}");
    }
    assert!(r.missing.is_empty());
    // No node description: node checks have nothing to read.
    assert_eq!(
        check(&r, "k8s.system-oom").status,
        CheckStatus::NotApplicable
    );
    assert_eq!(
        check(&r, "k8s.node-memory-pressure").status,
        CheckStatus::NotApplicable
    );
    // The same pod with its OOMKilled line removed does not fire either.
    let text = fixture_text("kubectl/describe-pod-oomkilled.txt")
        .replace("      Reason:       OOMKilled\n", "");
    let r = run_text("d.txt", &text);
    assert!(findings(&r, "k8s.oomkilled").is_empty());
}

#[test]
fn nothing_kubernetes_means_not_applicable() {
    let r = run_text("kern.log", "Nov 21 14:23:07 h kernel: hello\n");
    for c in r.checks.iter().filter(|c| c.id.starts_with("k8s.")) {
        assert_eq!(c.status, CheckStatus::NotApplicable, "{}", c.id);
    }
}

#[test]
fn sigkill_137_is_not_called_an_oom() {
    let r = run_fixtures(&["kubectl/describe-pod-exit137-error.txt"]);
    assert!(findings(&r, "k8s.oomkilled").is_empty());
    let f = findings(&r, "k8s.sigkill-137");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(field(f, "reason"), txt("Error"));
    assert_eq!(field(f, "exit_code"), int(137));
    assert_eq!(field(f, "liveness_failures"), int(3));
    assert!(
        f.summary.contains("A SIGKILL is not proof of an OOM kill"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("3 failed liveness probe(s)"));
    let titles: Vec<&str> = f.fixes.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Rule an OOM kill in or out",
            "Check liveness probe kills",
            "Check shutdown handling"
        ]
    );
    assert!(f.fixes[0].text.contains("grep 4f2a9c7e1b3d"));
    assert!(f
        .evidence
        .iter()
        .any(|e| e.line == 63 && e.text.contains("Liveness probe failed")));
    assert!(r.missing.iter().any(|m| m.check == "k8s.sigkill-137"));
    // GOMEMLIMIT=768MiB under 1Gi is exactly 75%: fits.
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );

    // The YAML list: a crash-looping consumer killed with 137 / Error.
    let r = run_fixtures(&["k8s/pods-list.yaml"]);
    let f = findings(&r, "k8s.sigkill-137");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "pod"), txt("queue-consumer-7b5d9c6f8-4hk2x"));
    assert_eq!(
        f[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [110, 113, 116, 117, 118]
    );

    // An evicted pod's synthetic 137 (ContainerStatusUnknown) is not a kill.
    let r = run_fixtures(&["kubectl/describe-pod-evicted.txt"]);
    assert!(findings(&r, "k8s.sigkill-137").is_empty());
    // The same exit as OOMKilled is k8s.oomkilled's, not this check's.
    let r = run_fixtures(&["kubectl/describe-pod-oomkilled.txt"]);
    assert!(findings(&r, "k8s.sigkill-137").is_empty());
}

#[test]
fn crashloop_counts_restarts_and_backoffs() {
    let r = run_fixtures(&["kubectl/describe-pod-crashloop.txt"]);
    let f = findings(&r, "k8s.crashloop");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(field(f, "container"), txt("checkout"));
    assert_eq!(field(f, "restart_count"), int(17));
    assert_eq!(field(f, "backoff_events"), int(70));
    assert_eq!(field(f, "last_exit_code"), int(1));
    assert_eq!(field(f, "last_reason"), txt("Error"));
    assert_eq!(field(f, "last_run_secs"), int(2));
    assert!(f.summary.contains("33s (x70 over 15m)"), "{}", f.summary);
    assert!(f.summary.contains("dies during startup"));
    assert_eq!(
        f.fixes[0].text.lines().next(),
        Some("kubectl logs checkout-8594b7d6c-tq7wn -n shop -c checkout --previous")
    );
    assert_eq!(
        f.evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [44, 45, 48, 52, 86]
    );

    // Negative: the same pod running, the back-off event gone.
    let text = fixture_text("kubectl/describe-pod-crashloop.txt")
        .replace("Waiting\n      Reason:       CrashLoopBackOff", "Running")
        .lines()
        .filter(|l| !l.contains("BackOff "))
        .collect::<Vec<_>>()
        .join("\n");
    let r = run_text("d.txt", &text);
    assert_eq!(check(&r, "k8s.crashloop").status, CheckStatus::Healthy);

    // Legacy events name the container by SubObjectPath.
    let r = run_fixtures(&["kubectl/describe-pods-legacy.txt"]);
    let f = findings(&r, "k8s.crashloop");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "backoff_events"), int(9));
    assert_eq!(field(f[0], "pod"), txt("legacy-api-3012345678-8dfgk"));

    // Table rows.
    let r = run_fixtures(&["k8s/get-pods-wide.txt"]);
    let pods: Vec<_> = findings(&r, "k8s.crashloop")
        .iter()
        .map(|f| field(f, "pod").cloned())
        .collect();
    assert_eq!(
        pods,
        [
            txt("queue-consumer-7b5d9c6f8-4hk2x").cloned(),
            txt("checkout-8594b7d6c-tq7wn").cloned()
        ]
    );
}

#[test]
fn node_memory_pressure_system_oom_and_eviction_threshold() {
    let node = "kubectl/describe-node-memory-pressure.txt";
    let r = run_fixtures(&[node]);
    let p = findings(&r, "k8s.node-memory-pressure");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].severity, Severity::Critical);
    assert_eq!(
        field(p[0], "node"),
        txt("ip-10-42-7-19.eu-west-1.compute.internal")
    );
    assert_eq!(field(p[0], "reason"), txt("KubeletHasInsufficientMemory"));
    assert_eq!(field(p[0], "since"), txt("Sat, 21 Nov 2026 14:22:40 +0000"));
    assert_eq!(field(p[0], "insufficient_memory_events"), int(2));
    assert_eq!(field(p[0], "reserved_bytes"), int(706_740_224));
    assert_eq!(
        p[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [20, 74]
    );

    let s = findings(&r, "k8s.system-oom");
    assert_eq!(s.len(), 1);
    assert_eq!(field(s[0], "count"), int(2));
    assert_eq!(field(s[0], "victim"), txt("node"));
    assert_eq!(field(s[0], "pid"), int(48213));
    assert!(r.missing.iter().any(|m| m.check == "k8s.system-oom"));

    let e = findings(&r, "k8s.eviction");
    assert_eq!(e.len(), 1);
    assert_eq!(field(e[0], "count"), int(4));
    assert_eq!(e[0].evidence[0].line, 75);

    // With the node's kernel log the SystemOOM victim is tied to the kernel's kill (pid 48213).
    let r = run(vec![
        fixture(node),
        fixture("bundles/oom-api-node/kern.log"),
    ]);
    let s = findings(&r, "k8s.system-oom");
    assert!(
        s[0].summary
            .contains("The kernel log has the kill (kern.log:5, mem.oom-kill-memcg)"),
        "{}",
        s[0].summary
    );
    assert!(!r.missing.iter().any(|m| m.check == "k8s.system-oom"));

    // Negative: pressure over, events gone.
    let healthy = fixture_text(node)
        .replace("MemoryPressure   True ", "MemoryPressure   False")
        .lines()
        .filter(|l| {
            !l.contains("SystemOOM")
                && !l.contains("NodeHasInsufficientMemory")
                && !l.contains("EvictionThresholdMet")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let r = run_text("node.txt", &healthy);
    assert_eq!(
        check(&r, "k8s.node-memory-pressure").status,
        CheckStatus::Healthy
    );
    assert_eq!(check(&r, "k8s.system-oom").status, CheckStatus::Healthy);
    assert_eq!(check(&r, "k8s.eviction").status, CheckStatus::Healthy);
}

#[test]
fn evicted_pod_gets_a_request_from_its_usage() {
    let r = run_fixtures(&["kubectl/describe-pod-evicted.txt"]);
    let e = findings(&r, "k8s.eviction");
    assert_eq!(e.len(), 1);
    let e = e[0];
    assert_eq!(field(e, "pod"), txt("report-28861440-7xq9d"));
    assert_eq!(field(e, "container"), txt("report"));
    assert_eq!(field(e, "usage_bytes"), int(1_185_247_232));
    assert_eq!(field(e, "request_bytes"), int(268_435_456));
    // 1157468Ki = 1130.3Mi, rounded up to a 64Mi step.
    assert!(
        e.fixes[0].text.contains("requests:\n    memory: 1152Mi"),
        "{}",
        e.fixes[0].text
    );
    // The table shows the same pod as `Evicted`.
    let r = run_fixtures(&["k8s/get-pods-wide.txt"]);
    let e = findings(&r, "k8s.eviction");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].evidence[0].line, 2);
}

/// A pod with one Node.js container: limit `limit`, NODE_OPTIONS `opts`.
fn node_pod(limit: &str, opts: &str) -> String {
    let demo = fixture_text(DEMO_DESCRIBE);
    demo.replace("      memory:  1Gi", &format!("      memory:  {limit}"))
        .replace("--max-old-space-size=2048", opts)
}

#[test]
fn heap_threshold_edges() {
    // Exactly 75% of 1Gi is fine.
    let r = run_text("d.txt", &node_pod("1Gi", "--max-old-space-size=768"));
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );
    // 75% + 1 MiB fires, as a warning (below the limit itself).
    let r = run_text("d.txt", &node_pod("1Gi", "--max-old-space-size=769"));
    let f = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(field(f[0], "heap_bytes"), int(769 * 1024 * 1024));
    assert_eq!(field(f[0], "max_heap_bytes"), int(768 * 1024 * 1024));
    // Non-binary limits: 1G = 10^9 bytes, 75% = 715.2 MiB → 715.
    let r = run_text("d.txt", &node_pod("1G", "--max-old-space-size=716"));
    let f = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(
        field(f[0], "recommended_flag"),
        txt("--max-old-space-size=715")
    );
    let r = run_text("d.txt", &node_pod("1G", "--max-old-space-size=715"));
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );
    // No flag for a Node.js container: asks for one, computed from the limit.
    let r = run_fixtures(&["kubectl/describe-pod-crashloop.txt"]);
    let f = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(f.len(), 1);
    assert!(field(f[0], "heap_bytes").is_none());
    assert_eq!(
        field(f[0], "recommended_flag"),
        txt("--max-old-space-size=384")
    );
}

#[test]
fn java_and_args_heap_flags() {
    // -Xmx1800m under 2Gi: above 1536m.
    let r = run_fixtures(&["kubectl/describe-pod-oomkilled.txt"]);
    let f = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "runtime"), txt("java"));
    assert_eq!(field(f[0], "recommended_flag"), txt("-Xmx1536m"));
    assert!(f[0].fixes[0].text.contains(
        "env:\n  - name: JAVA_TOOL_OPTIONS\n    value: \"-XX:+UseG1GC -Xmx1536m -XX:+ExitOnOutOfMemoryError\""
    ));
    // -Xmx1536m exactly: healthy (the negative fixture).
    let r = run_fixtures(&["kubectl/describe-pod-healthy.txt"]);
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );
    // 1152 MiB of a 1536Mi limit, in a wrapped NODE_OPTIONS with other flags: exactly 75%.
    let r = run_fixtures(&["kubectl/describe-pod-wrapped.txt"]);
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );
    // The flag in args of a JSON pod: 1024 MiB of 1Gi.
    let r = run_fixtures(&["k8s/pod-oomkilled.json"]);
    let f = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].fixes[0]
        .text
        .contains("args:\n  - \"--max-old-space-size=768\"\n  - \"dist/main.js\""));
    assert_eq!(
        f[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [30, 42, 55]
    );
    let o = findings(&r, "k8s.oomkilled");
    assert_eq!(
        o[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [55, 168, 171, 174, 175, 176, 182]
    );
}

#[test]
fn sidecar_without_memory_limit() {
    let r = run_fixtures(&["kubectl/describe-pod-sidecar.txt"]);
    let f = findings(&r, "k8s.no-memory-limit");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "container"), txt("log-shipper"));
    assert_eq!(field(f[0], "request_bytes"), int(33_554_432));
    assert_eq!(field(f[0], "qos_class"), txt("Burstable"));
    assert!(f[0]
        .summary
        .contains("while orders in the same pod has one"));
    assert_eq!(
        f[0].evidence.iter().map(|e| e.line).collect::<Vec<_>>(),
        [36, 46]
    );
    // -Xmx576m of 768Mi is exactly 75%.
    assert_eq!(
        check(&r, "k8s.runtime-heap-vs-limit").status,
        CheckStatus::Healthy
    );
}

#[test]
fn one_pod_in_describe_and_table_is_one_finding() {
    let r = run_fixtures(&[DEMO_DESCRIBE, "k8s/get-pods-wide.txt"]);
    let f = findings(&r, "k8s.oomkilled");
    assert_eq!(f.len(), 1);
    assert_eq!(field(f[0], "container"), txt("api"));
}

#[test]
fn extreme_values_do_not_overflow() {
    let text = node_pod("15Ei", "--max-old-space-size=17592186044415")
        .replace("84s (x3 over 72m)", "84s (x18446744073709551615 over 72m)")
        .replace("83s (x4 over 85m)", "83s (x18446744073709551615 over 85m)")
        .replace(
            "Back-off restarting failed container api in pod",
            "Back-off restarting failed container api x",
        );
    let r = run_text(
        "d.txt",
        &text.replace("Normal   Pulled ", "Warning  BackOff"),
    );
    let h = findings(&r, "k8s.runtime-heap-vs-limit");
    assert_eq!(field(h[0], "heap_percent_of_limit"), int(106));
    let f = findings(&r, "k8s.crashloop");
    assert_eq!(field(f[0], "backoff_events"), int(i64::MAX));
}
