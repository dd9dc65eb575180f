//! Exact-value tests of the `kubectl-describe` and `k8s-object` parsers over the fixtures, and
//! bad input (truncated, garbage, wrong kind, syntax errors): a diagnostic, never a panic.

use coroner::ingest::k8s::{Objects, Pod, Time};
use coroner::ingest::{k8s_object, kubectl_describe, sniff, ParseCtx, Parsed, Sniff};
use coroner::model::{Level, SourceKind};
use std::path::Path;

fn fixture(rel: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ctx() -> ParseCtx {
    ParseCtx {
        source: 0,
        path: "x".into(),
        max_line_bytes: 1 << 20,
    }
}

fn describe(bytes: &[u8]) -> Parsed<Objects> {
    kubectl_describe::parse(&mut &bytes[..], &ctx())
}

fn object(bytes: &[u8]) -> Parsed<Objects> {
    k8s_object::parse(&mut &bytes[..], &ctx())
}

fn rfc(t: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    Some(chrono::DateTime::parse_from_rfc3339(t).expect("test time"))
}

fn only_pod(p: &Parsed<Objects>) -> &Pod {
    assert_eq!(p.facts.pods.len(), 1, "{:?}", p.diagnostics);
    &p.facts.pods[0]
}

#[test]
fn every_fixture_is_sniffed_as_its_kind() {
    let cases = [
        (
            "bundles/oom-api-node/describe-api-7f9c8d6b5-lq2xz.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-oomkilled.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-healthy.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-exit137-error.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-crashloop.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-sidecar.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-evicted.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pod-wrapped.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-pods-legacy.txt",
            SourceKind::KubectlDescribe,
        ),
        (
            "kubectl/describe-node-memory-pressure.txt",
            SourceKind::KubectlDescribe,
        ),
        ("k8s/pod-oomkilled.json", SourceKind::K8sObject),
        ("k8s/pods-list.yaml", SourceKind::K8sObject),
        ("k8s/get-pods-wide.txt", SourceKind::K8sObject),
    ];
    for (rel, kind) in cases {
        assert_eq!(sniff(&fixture(rel), rel), Sniff::Text(kind), "{rel}");
    }
    // journalctl -o json starts with `{` too, and may mention kinds in its messages.
    let journal = br#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1795270987102000","MESSAGE":"apiVersion: v1 kind: Pod","_HOSTNAME":"n"}"#;
    assert_eq!(sniff(journal, "j.json"), Sniff::Text(SourceKind::Log));
}

#[test]
fn demo_describe_pod_exact_values() {
    let p = describe(&fixture(
        "bundles/oom-api-node/describe-api-7f9c8d6b5-lq2xz.txt",
    ));
    assert_eq!(p.format, "describe-pod");
    assert_eq!(p.lines, 90);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let pod = only_pod(&p);
    assert_eq!(pod.name.value, "api-7f9c8d6b5-lq2xz");
    assert_eq!(pod.name.line, 1);
    assert_eq!(
        pod.namespace.as_ref().map(|n| n.value.as_str()),
        Some("shop")
    );
    assert_eq!(
        pod.node.as_ref().map(|n| n.value.as_str()),
        Some("ip-10-42-7-19.eu-west-1.compute.internal")
    );
    assert_eq!(
        pod.status.as_ref().map(|n| n.value.as_str()),
        Some("Running")
    );
    assert_eq!(
        pod.qos_class.as_ref().map(|q| (q.value.as_str(), q.line)),
        Some(("Burstable", 80))
    );
    assert!(pod.uid.is_none());
    assert_eq!(pod.containers.len(), 2);
    let api = &pod.containers[0];
    assert_eq!(api.name.value, "api");
    let id = api.container_id.as_ref().expect("id");
    assert_eq!(
        id.value,
        "containerd://8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"
    );
    assert_eq!(id.line, 17);
    assert_eq!(
        id.text,
        "    Container ID:   containerd://8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6"
    );
    assert_eq!(
        api.bare_id(),
        Some("8d2b6c51f3a0e4b7c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6")
    );
    let state = api.state.as_ref().expect("state");
    assert_eq!((state.state.as_str(), state.line), ("Running", 22));
    let last = api.last_state.as_ref().expect("last state");
    assert_eq!(last.state, "Terminated");
    assert_eq!(
        last.reason.as_ref().map(|r| (r.value.as_str(), r.line)),
        Some(("OOMKilled", 25))
    );
    assert_eq!(
        last.exit_code.as_ref().map(|e| (e.value, e.line)),
        Some((137, 26))
    );
    assert!(last.signal.is_none());
    let started = &last.started.as_ref().expect("started").value;
    assert_eq!(
        started,
        &Time {
            text: "Sat, 21 Nov 2026 13:10:02 +0000".into(),
            parsed: rfc("2026-11-21T13:10:02+00:00"),
        }
    );
    let finished = last.finished.as_ref().expect("finished");
    assert_eq!(finished.value.text, "Sat, 21 Nov 2026 14:23:07 +0000");
    assert_eq!(finished.value.parsed, rfc("2026-11-21T14:23:07+00:00"));
    assert_eq!(finished.line, 28);
    assert_eq!(api.ready.as_ref().map(|r| r.value), Some(true));
    assert_eq!(
        api.restart_count.as_ref().map(|r| (r.value, r.line)),
        Some((3, 30))
    );
    assert_eq!(
        api.limits.memory_bytes.as_ref().map(|m| (m.value, m.line)),
        Some((1_073_741_824, 33))
    );
    assert_eq!(api.limits.memory_text.as_deref(), Some("1Gi"));
    assert_eq!(api.limits.cpu_millis.as_ref().map(|m| m.value), Some(1000));
    assert_eq!(
        api.requests.memory_bytes.as_ref().map(|m| m.value),
        Some(536_870_912)
    );
    assert_eq!(api.requests.cpu_millis.as_ref().map(|m| m.value), Some(250));
    let env: Vec<_> = api
        .env
        .iter()
        .map(|e| (e.value.0.as_str(), e.value.1.as_str(), e.line))
        .collect();
    assert_eq!(env, [("NODE_OPTIONS", "--max-old-space-size=2048", 44)]);
    let flags = api.heap_flags();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].flag, "--max-old-space-size=2048");
    assert_eq!(flags[0].bytes, Some(2_147_483_648));
    let metrics = &pod.containers[1];
    assert_eq!(metrics.name.value, "metrics");
    assert!(metrics.limits.memory_bytes.is_none());
    assert_eq!(
        metrics.requests.cpu_millis.as_ref().map(|m| m.value),
        Some(50)
    );
    assert_eq!(
        metrics
            .args
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>(),
        ["--statsd.listen-udp=:9125", "--web.listen-address=:9102"]
    );
    assert!(metrics.last_state.is_none());
    assert_eq!(pod.events.len(), 4);
    let backoff = &pod.events[0];
    assert_eq!(
        (
            backoff.kind.as_str(),
            backoff.reason.as_str(),
            backoff.from.as_str(),
            backoff.line
        ),
        ("Warning", "BackOff", "kubelet", 87)
    );
    assert_eq!(backoff.age.text, "84s (x3 over 72m)");
    assert_eq!(
        (
            backoff.age.last_seen_secs,
            backoff.age.count,
            backoff.age.first_seen_secs
        ),
        (Some(84), 3, Some(4320))
    );
    assert!(backoff
        .message
        .starts_with("Back-off restarting failed container api in pod"));
}

#[test]
fn java_worker_oomkilled_and_healthy_variant() {
    let p = describe(&fixture("kubectl/describe-pod-oomkilled.txt"));
    let c = &only_pod(&p).containers[0];
    let last = c.last_state.as_ref().expect("last");
    assert_eq!(
        last.reason.as_ref().map(|r| r.value.as_str()),
        Some("OOMKilled")
    );
    assert_eq!(
        last.finished.as_ref().and_then(|f| f.value.parsed),
        rfc("2026-05-25T14:23:07+00:00")
    );
    assert_eq!(c.restart_count.as_ref().map(|r| r.value), Some(2));
    assert_eq!(
        c.limits.memory_bytes.as_ref().map(|m| m.value),
        Some(2_147_483_648)
    );
    let flags = c.heap_flags();
    assert_eq!(
        (
            flags[0].flag.as_str(),
            flags[0].bytes,
            flags[0].origin.as_str()
        ),
        ("-Xmx1800m", Some(1800 * 1024 * 1024), "JAVA_TOOL_OPTIONS")
    );

    let p = describe(&fixture("kubectl/describe-pod-healthy.txt"));
    let pod = only_pod(&p);
    assert!(pod.events.is_empty());
    let c = &pod.containers[0];
    assert!(c.last_state.is_none());
    assert_eq!(c.restart_count.as_ref().map(|r| r.value), Some(0));
    assert_eq!(c.heap_flags()[0].bytes, Some(1536 * 1024 * 1024));
    assert!(
        p.diagnostics.is_empty(),
        "`Events:  <none>` is a complete describe"
    );
}

#[test]
fn exit_137_error_on_cri_o() {
    let p = describe(&fixture("kubectl/describe-pod-exit137-error.txt"));
    let pod = only_pod(&p);
    let c = &pod.containers[0];
    assert_eq!(
        c.container_id.as_ref().map(|i| i.value.as_str()),
        Some("cri-o://4f2a9c7e1b3d5f8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f6a")
    );
    let last = c.last_state.as_ref().expect("last");
    assert_eq!(
        last.reason.as_ref().map(|r| r.value.as_str()),
        Some("Error")
    );
    assert_eq!(last.exit_code.as_ref().map(|e| e.value), Some(137));
    assert_eq!(
        c.env[0].value,
        ("GOMEMLIMIT".to_string(), "768MiB".to_string())
    );
    let unhealthy = &pod.events[0];
    assert_eq!(unhealthy.reason, "Unhealthy");
    assert_eq!(
        (
            unhealthy.age.last_seen_secs,
            unhealthy.age.count,
            unhealthy.age.first_seen_secs
        ),
        (Some(252), 3, Some(272))
    );
}

#[test]
fn crashloop_with_init_container_and_odd_ages() {
    let p = describe(&fixture("kubectl/describe-pod-crashloop.txt"));
    let pod = only_pod(&p);
    assert_eq!(pod.init_containers.len(), 1);
    let init = &pod.init_containers[0];
    assert!(init.init);
    assert_eq!(init.name.value, "wait-for-db");
    let s = init.state.as_ref().expect("state");
    assert_eq!(
        (s.state.as_str(), s.exit_code.as_ref().map(|e| e.value)),
        ("Terminated", Some(0))
    );
    assert_eq!(init.command.len(), 3);
    let c = &pod.containers[0];
    let w = c.state.as_ref().expect("state");
    assert_eq!(
        (
            w.state.as_str(),
            w.reason.as_ref().map(|r| r.value.as_str())
        ),
        ("Waiting", Some("CrashLoopBackOff"))
    );
    assert_eq!(c.restart_count.as_ref().map(|r| r.value), Some(17));
    assert_eq!(c.ready.as_ref().map(|r| r.value), Some(false));
    assert_eq!(
        c.last_state
            .as_ref()
            .and_then(|l| l.exit_code.as_ref())
            .map(|e| e.value),
        Some(1)
    );
    let ages: Vec<_> = pod
        .events
        .iter()
        .map(|e| {
            (
                e.reason.as_str(),
                e.age.last_seen_secs,
                e.age.count,
                e.age.first_seen_secs,
            )
        })
        .collect();
    assert_eq!(
        ages,
        [
            ("Scheduled", Some(900), 1, None),
            ("Pulled", Some(900), 1, None),
            ("Pulled", Some(780), 5, Some(900)),
            ("BackOff", Some(33), 70, Some(900)),
            ("FailedMount", None, 1, None),
        ]
    );
    assert_eq!(pod.events[3].age.text, "33s (x70 over 15m)");
    assert_eq!(pod.events[4].age.text, "<invalid>");
    assert_eq!(pod.events[3].line, 86);
}

#[test]
fn legacy_layout_two_pods_tab_padded() {
    let p = describe(&fixture("kubectl/describe-pods-legacy.txt"));
    assert_eq!(p.format, "describe-pod-legacy");
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.facts.pods.len(), 2);
    let a = &p.facts.pods[0];
    assert_eq!(a.name.value, "legacy-api-3012345678-8dfgk");
    assert_eq!(
        a.node.as_ref().map(|n| n.value.as_str()),
        Some("ip-10-0-1-5.ec2.internal")
    );
    let c = &a.containers[0];
    assert_eq!(
        c.container_id.as_ref().map(|i| i.value.as_str()),
        Some("docker://6c8e0f2a4b6d8c0e5f0c2e8a1b7d3c9e4f6a8b0d2c4e6f8a0b2d4c6e8f0a2b4d")
    );
    assert_eq!(
        c.limits.memory_bytes.as_ref().map(|m| (m.value, m.line)),
        Some((536_870_912, 18))
    );
    assert_eq!(
        c.requests.memory_bytes.as_ref().map(|m| m.value),
        Some(268_435_456)
    );
    let last = c.last_state.as_ref().expect("last");
    assert_eq!(
        last.reason.as_ref().map(|r| r.value.as_str()),
        Some("OOMKilled")
    );
    assert_eq!(last.exit_code.as_ref().map(|e| e.value), Some(137));
    assert_eq!(c.restart_count.as_ref().map(|r| r.value), Some(4));
    assert_eq!(c.env[0].value.1, "--max-old-space-size=384");
    let ev: Vec<_> = a
        .events
        .iter()
        .map(|e| {
            (
                e.reason.as_str(),
                e.kind.as_str(),
                e.age.last_seen_secs,
                e.age.count,
                e.age.first_seen_secs,
                e.from.as_str(),
                e.sub_object.as_str(),
            )
        })
        .collect();
    assert_eq!(
        ev,
        [
            (
                "Scheduled",
                "Normal",
                Some(1980),
                1,
                Some(1980),
                "{default-scheduler }",
                ""
            ),
            (
                "Pulled",
                "Normal",
                Some(15),
                5,
                Some(1980),
                "{kubelet ip-10-0-1-5.ec2.internal}",
                "spec.containers{api}"
            ),
            (
                "BackOff",
                "Warning",
                Some(20),
                9,
                Some(1260),
                "{kubelet ip-10-0-1-5.ec2.internal}",
                "spec.containers{api}"
            ),
            (
                "FailedSync",
                "Warning",
                Some(20),
                9,
                Some(1260),
                "{kubelet ip-10-0-1-5.ec2.internal}",
                ""
            ),
        ]
    );
    assert_eq!(
        a.events[2].message,
        "Back-off restarting failed docker container"
    );
    let b = &p.facts.pods[1];
    assert_eq!(b.name.value, "legacy-api-3012345678-q2w9x");
    assert_eq!(b.name.line, 56);
    assert!(b.containers[0].last_state.is_none());
    assert!(b.events.is_empty());
}

#[test]
fn terminal_wrapped_lines_are_rejoined() {
    let p = describe(&fixture("kubectl/describe-pod-wrapped.txt"));
    let pod = only_pod(&p);
    assert_eq!(
        p.diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect::<Vec<_>>(),
        ["10 line(s) wrapped by a terminal were rejoined"]
    );
    let c = &pod.containers[0];
    let id = c.container_id.as_ref().expect("id");
    assert_eq!(
        id.value,
        "containerd://f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
    );
    // Evidence is the first physical line, as written.
    assert_eq!(id.line, 17);
    assert_eq!(id.text.len(), 80);
    assert_eq!(
        c.env[0].value.1,
        "--enable-source-maps --max-old-space-size=1152 --heapsnapshot-near-heap-limit=1"
    );
    assert_eq!(c.heap_flags()[0].bytes, Some(1152 * 1024 * 1024));
    assert_eq!(
        c.limits.memory_bytes.as_ref().map(|m| m.value),
        Some(1536 * 1024 * 1024)
    );
    assert_eq!(pod.events.len(), 2);
    assert_eq!(
        pod.events[1].message,
        "Back-off restarting failed container gateway in pod gateway-5d7f8c9b4-zr6pn_edge(9a8b7c6d-5e4f-43a2-b1c0-d9e8f7a6b5c4)"
    );
    assert_eq!(pod.events[1].line, 71);
}

#[test]
fn describe_node_conditions_capacity_events() {
    let p = describe(&fixture("kubectl/describe-node-memory-pressure.txt"));
    assert_eq!(p.format, "describe-node");
    assert!(p.facts.pods.is_empty());
    assert_eq!(p.facts.nodes.len(), 1);
    let n = &p.facts.nodes[0];
    assert_eq!(n.name.value, "ip-10-42-7-19.eu-west-1.compute.internal");
    let conds: Vec<_> = n
        .conditions
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.status.as_str(),
                c.reason.as_str(),
                c.line,
            )
        })
        .collect();
    assert_eq!(
        conds,
        [
            ("MemoryPressure", "True", "KubeletHasInsufficientMemory", 20),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", 21),
            ("PIDPressure", "False", "KubeletHasSufficientPID", 22),
            ("Ready", "True", "KubeletReady", 23),
        ]
    );
    let mp = &n.conditions[0];
    assert_eq!(mp.message, "kubelet has insufficient memory available");
    assert_eq!(
        mp.last_transition.as_ref().and_then(|t| t.parsed),
        rfc("2026-11-21T14:22:40+00:00")
    );
    assert_eq!(
        n.capacity.memory_bytes.as_ref().map(|m| m.value),
        Some(7_934_456 * 1024)
    );
    assert_eq!(
        n.allocatable.memory_bytes.as_ref().map(|m| m.value),
        Some(7_244_280 * 1024)
    );
    assert_eq!(n.capacity.cpu_millis.as_ref().map(|m| m.value), Some(2000));
    assert_eq!(
        n.allocatable.cpu_millis.as_ref().map(|m| m.value),
        Some(1930)
    );
    let ev: Vec<_> = n
        .events
        .iter()
        .map(|e| (e.reason.as_str(), e.age.count, e.line))
        .collect();
    assert_eq!(
        ev,
        [
            ("SystemOOM", 2, 73),
            ("NodeHasInsufficientMemory", 2, 74),
            ("EvictionThresholdMet", 4, 75),
            ("NodeHasSufficientMemory", 1, 76),
        ]
    );
    assert_eq!(
        n.events[0].message,
        "System OOM encountered, victim process: node, pid: 48213"
    );
}

#[test]
fn evicted_pod_reason_and_message() {
    let p = describe(&fixture("kubectl/describe-pod-evicted.txt"));
    let pod = only_pod(&p);
    assert_eq!(
        pod.status.as_ref().map(|s| s.value.as_str()),
        Some("Failed")
    );
    assert_eq!(
        pod.reason.as_ref().map(|s| (s.value.as_str(), s.line)),
        Some(("Evicted", 11))
    );
    assert!(pod
        .message
        .as_ref()
        .is_some_and(|m| m.value.contains("Container report was using 1157468Ki")));
    assert!(pod.containers[0].container_id.is_none());
}

#[test]
fn pod_json_values_and_lines() {
    let p = object(&fixture("k8s/pod-oomkilled.json"));
    assert_eq!(p.format, "pod-json");
    let pod = only_pod(&p);
    assert_eq!(pod.name.value, "cart-6f8b9c7d5-j4k8s");
    assert_eq!(
        pod.namespace.as_ref().map(|n| n.value.as_str()),
        Some("shop")
    );
    assert_eq!(
        pod.uid.as_ref().map(|u| (u.value.as_str(), u.line)),
        Some(("5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", 24))
    );
    assert_eq!(
        pod.node.as_ref().map(|n| n.value.as_str()),
        Some("ip-10-42-9-201.eu-west-1.compute.internal")
    );
    assert_eq!(
        pod.qos_class.as_ref().map(|q| q.value.as_str()),
        Some("Guaranteed")
    );
    let c = &pod.containers[0];
    assert_eq!(
        c.container_id.as_ref().map(|i| (i.value.as_str(), i.line)),
        Some((
            "containerd://a3c5e7b9d2f4a6c8e0b1d3f53e1f9a7c5b2d8e4f6a0c1b3d5e7f9a2c4b6d8e0f",
            168
        ))
    );
    assert_eq!(c.restart_count.as_ref().map(|r| r.value), Some(1));
    let last = c.last_state.as_ref().expect("last");
    assert_eq!(last.state, "Terminated");
    let reason = last.reason.as_ref().expect("reason");
    assert_eq!((reason.value.as_str(), reason.line), ("OOMKilled", 176));
    assert_eq!(
        reason.text,
        "                        \"reason\": \"OOMKilled\","
    );
    assert_eq!(
        last.exit_code.as_ref().map(|e| (e.value, e.line)),
        Some((137, 174))
    );
    assert_eq!(
        last.finished.as_ref().and_then(|f| f.value.parsed),
        rfc("2026-11-21T14:05:31Z")
    );
    assert_eq!(c.state.as_ref().map(|s| s.state.as_str()), Some("Running"));
    assert_eq!(
        c.limits.memory_bytes.as_ref().map(|m| (m.value, m.line)),
        Some((1_073_741_824, 55))
    );
    assert_eq!(c.requests.cpu_millis.as_ref().map(|m| m.value), Some(200));
    assert_eq!(
        c.args
            .iter()
            .map(|a| (a.value.as_str(), a.line))
            .collect::<Vec<_>>(),
        [("--max-old-space-size=1024", 30), ("dist/main.js", 31)]
    );
    assert_eq!(c.heap_flags()[0].origin, "args");
}

#[test]
fn pod_list_yaml_values() {
    let p = object(&fixture("k8s/pods-list.yaml"));
    assert_eq!(p.format, "pod-list-yaml");
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.facts.pods.len(), 2);
    let a = &p.facts.pods[0];
    assert_eq!(a.name.value, "queue-consumer-7b5d9c6f8-4hk2x");
    let c = &a.containers[0];
    let w = c.state.as_ref().expect("state");
    assert_eq!(
        (
            w.state.as_str(),
            w.reason.as_ref().map(|r| (r.value.as_str(), r.line))
        ),
        ("Waiting", Some(("CrashLoopBackOff", 127)))
    );
    let last = c.last_state.as_ref().expect("last");
    assert_eq!(
        last.reason.as_ref().map(|r| (r.value.as_str(), r.line)),
        Some(("Error", 118))
    );
    assert_eq!(
        last.exit_code.as_ref().map(|e| (e.value, e.line)),
        Some((137, 116))
    );
    assert_eq!(
        c.restart_count.as_ref().map(|r| (r.value, r.line)),
        Some((6, 122))
    );
    assert_eq!(
        c.limits.memory_bytes.as_ref().map(|m| m.value),
        Some(1_073_741_824)
    );
    assert!(c.limits.cpu_millis.is_none());
    assert_eq!(c.heap_flags()[0].flag, "-Xmx512m");
    assert_eq!(c.heap_flags()[0].line, 26);
    let b = &p.facts.pods[1];
    assert_eq!(b.name.value, "queue-consumer-7b5d9c6f8-n7w5p");
    assert_eq!(b.uid.as_ref().map(|u| u.line), Some(153));
    assert!(
        b.containers[0].last_state.is_none(),
        "`lastState: {{}}` is no state"
    );
    assert_eq!(
        b.containers[0]
            .restart_count
            .as_ref()
            .map(|r| (r.value, r.line)),
        Some((0, 248))
    );
}

#[test]
fn get_pods_wide_table() {
    let p = object(&fixture("k8s/get-pods-wide.txt"));
    assert_eq!(p.format, "get-pods-wide");
    let rows: Vec<_> = p
        .facts
        .pods
        .iter()
        .map(|pod| {
            (
                pod.namespace_str(),
                pod.name.value.as_str(),
                pod.status.as_ref().map_or("", |s| s.value.as_str()),
                pod.restarts.as_ref().map(|r| r.value),
                pod.last_restart_ago.as_deref(),
                pod.name.line,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "batch",
                "report-28861440-7xq9d",
                "Evicted",
                Some(0),
                None,
                2
            ),
            (
                "batch",
                "report-28861380-m2c8v",
                "Completed",
                Some(0),
                None,
                3
            ),
            (
                "jobs",
                "queue-consumer-7b5d9c6f8-4hk2x",
                "CrashLoopBackOff",
                Some(6),
                Some("2m27s"),
                4
            ),
            (
                "jobs",
                "queue-consumer-7b5d9c6f8-n7w5p",
                "Running",
                Some(0),
                None,
                5
            ),
            ("kube-system", "aws-node-7hx2k", "Running", Some(0), None, 6),
            (
                "shop",
                "api-7f9c8d6b5-lq2xz",
                "OOMKilled",
                Some(3),
                Some("2s"),
                7
            ),
            (
                "shop",
                "checkout-8594b7d6c-tq7wn",
                "CrashLoopBackOff",
                Some(17),
                Some("33s"),
                8
            ),
            ("shop", "migrate-schema-5xk9q", "Error", Some(0), None, 9),
        ]
    );
    let api = &p.facts.pods[5];
    assert_eq!(api.ready.as_ref().map(|r| r.value.as_str()), Some("1/2"));
    assert_eq!(
        api.node.as_ref().map(|n| n.value.as_str()),
        Some("ip-10-42-7-19.eu-west-1.compute.internal")
    );
    // Without -o wide and -A.
    let plain = "NAME                       READY   STATUS      RESTARTS      AGE\napi-7f9c8d6b5-lq2xz        1/2     OOMKilled   3 (2s ago)    86m\n";
    let p = object(plain.as_bytes());
    assert_eq!(p.format, "get-pods");
    assert_eq!(p.facts.pods[0].restarts.as_ref().map(|r| r.value), Some(3));
    assert!(p.facts.pods[0].namespace.is_none());
}

fn has_warning(p: &Parsed<Objects>, needle: &str) -> bool {
    p.diagnostics
        .iter()
        .any(|d| d.level >= Level::Warning && d.message.contains(needle))
}

#[test]
fn truncated_describe_keeps_partial_results_with_a_diagnostic() {
    let full = fixture("bundles/oom-api-node/describe-api-7f9c8d6b5-lq2xz.txt");
    let text = String::from_utf8(full).expect("utf8");
    let cut: String = text.lines().take(26).map(|l| format!("{l}\n")).collect();
    let p = describe(cut.as_bytes());
    let pod = only_pod(&p);
    assert_eq!(
        pod.containers[0]
            .last_state
            .as_ref()
            .and_then(|l| l.exit_code.as_ref())
            .map(|e| e.value),
        Some(137)
    );
    assert!(has_warning(&p, "ends before its Events section"));
    // Cut in the middle of a line and with no trailing newline.
    let p = describe(&text.as_bytes()[..1000]);
    assert_eq!(p.facts.pods.len(), 1);
}

#[test]
fn garbage_and_wrong_kinds_give_diagnostics_not_panics() {
    for junk in [
        &b""[..],
        b"\n\n\n",
        b"Name:\n",
        b"Name: x\nContainers:\n  :\n    State:\n      Exit Code: notanumber\n    Limits:\n      memory: 12Zi\n",
        b"Name:\xff\xfe\x00\nNamespace:\t\xc3\x28\nContainers:\n\t\t\t\n  a:\n    Restart Count:  -1\n",
        b"Name: x\nEvents:\n  Type  Reason\n  ----  ------\n  \xe2\x82\xac\xe2\x82\xac  \xe2\x82\xac\n",
    ] {
        let p = describe(junk);
        assert!(!p.diagnostics.is_empty(), "{junk:?}");
    }
    let p = describe(b"Name: x\nContainers:\n  a:\n    Limits:\n      memory: 12Zi\n");
    assert!(has_warning(&p, "unreadable memory quantity `12Zi`"));

    let deployment = br#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {"replicas": 3}}"#;
    let p = object(deployment);
    assert!(p.facts.is_empty());
    assert!(has_warning(&p, "kind `Deployment` is not a Pod"));

    let p = object(b"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\n");
    assert!(p.facts.is_empty());
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.message.starts_with("not valid JSON")));

    let bad_yaml = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n   namespace: [shop\n";
    let p = object(bad_yaml);
    assert!(p.facts.is_empty());
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.message.starts_with("not valid YAML"))
        .expect("yaml diagnostic");
    assert!(d.line.is_some());

    let p = object(b"NAME   READY   STATUS   RESTARTS   AGE\n");
    assert!(has_warning(&p, "no pod rows"));
    let p = object(b"NAME   READY   STATUS   RESTARTS   AGE\nx   1/1   Running   many   1m\n");
    assert!(has_warning(&p, "unreadable RESTARTS `many`"));

    // A pod whose fields have the wrong types is still read, as far as it goes.
    let odd = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":7},"spec":{"containers":[{"name":"a","resources":{"limits":{"memory":1073741824}}}]},"status":{"containerStatuses":"x"}}"#;
    let p = object(odd);
    assert_eq!(p.facts.pods.len(), 1);
    assert_eq!(
        p.facts.pods[0].containers[0]
            .limits
            .memory_bytes
            .as_ref()
            .map(|m| m.value),
        Some(1_073_741_824)
    );
}

#[test]
fn node_object_and_multi_document_yaml() {
    let node = r#"{
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {
        "name": "ip-10-42-7-19.eu-west-1.compute.internal",
        "uid": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
    },
    "status": {
        "allocatable": {
            "cpu": "1930m",
            "memory": "7244280Ki"
        },
        "capacity": {
            "cpu": "2",
            "memory": "7934456Ki"
        },
        "conditions": [
            {
                "lastHeartbeatTime": "2026-11-21T14:24:51Z",
                "lastTransitionTime": "2026-11-21T14:22:40Z",
                "message": "kubelet has insufficient memory available",
                "reason": "KubeletHasInsufficientMemory",
                "status": "True",
                "type": "MemoryPressure"
            }
        ]
    }
}
"#;
    let p = object(node.as_bytes());
    assert_eq!(p.format, "node-json");
    let n = &p.facts.nodes[0];
    assert_eq!(n.name.value, "ip-10-42-7-19.eu-west-1.compute.internal");
    let c = &n.conditions[0];
    assert_eq!(
        (c.kind.as_str(), c.status.as_str(), c.line),
        ("MemoryPressure", "True", 24)
    );
    assert_eq!(
        c.last_transition.as_ref().and_then(|t| t.parsed),
        rfc("2026-11-21T14:22:40Z")
    );
    assert_eq!(
        n.capacity.memory_bytes.as_ref().map(|m| (m.value, m.line)),
        Some((7_934_456 * 1024, 15))
    );
    assert_eq!(
        n.allocatable
            .memory_bytes
            .as_ref()
            .map(|m| (m.value, m.line)),
        Some((7_244_280 * 1024, 11))
    );

    let docs = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  uid: 11111111-1111-4111-8111-111111111111\nspec:\n  containers:\n  - name: c\n    resources:\n      limits:\n        memory: 256Mi\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n  namespace: x\n  uid: 22222222-2222-4222-8222-222222222222\nspec:\n  containers:\n  - name: c\n    resources:\n      limits:\n        memory: 512Mi\n";
    let p = object(docs.as_bytes());
    assert_eq!(p.format, "pod-yaml");
    let got: Vec<_> = p
        .facts
        .pods
        .iter()
        .map(|pod| {
            let m = pod.containers[0]
                .limits
                .memory_bytes
                .as_ref()
                .expect("limit");
            (pod.name.value.as_str(), pod.name.line, m.value, m.line)
        })
        .collect();
    assert_eq!(got, [("a", 4, 268_435_456, 12), ("b", 17, 536_870_912, 25)]);
}

#[test]
fn a_large_pod_list_parses_quickly() {
    let one = String::from_utf8(fixture("k8s/pods-list.yaml")).expect("utf8");
    // Repeat the items (with distinct uids) to 1,000 pods.
    let (head, items) = one.split_once("items:\n").expect("items");
    let (items, tail) = items.split_once("kind: List").expect("tail");
    let mut big = format!("{head}items:\n");
    for i in 0..500 {
        big.push_str(
            &items
                .replace("uid: 7e8f9a0b", &format!("uid: {i:08x}"))
                .replace("uid: 2f3a4b5c", &format!("uid: {:08x}", i + 100_000)),
        );
    }
    big.push_str("kind: List");
    big.push_str(tail);
    let t = std::time::Instant::now();
    let p = object(big.as_bytes());
    assert_eq!(p.facts.pods.len(), 1000);
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    let last = &p.facts.pods[999];
    assert_eq!(
        last.containers[0].restart_count.as_ref().map(|r| r.line),
        Some(248 + 499 * 257)
    );
}

#[test]
fn echoed_command_lines_and_bare_arrays() {
    let json = String::from_utf8(fixture("k8s/pod-oomkilled.json")).expect("utf8");
    let echoed = format!("$ kubectl get pod cart-6f8b9c7d5-j4k8s -n shop -o json\n{json}");
    assert_eq!(
        sniff(echoed.as_bytes(), "x"),
        Sniff::Text(SourceKind::K8sObject)
    );
    let p = object(echoed.as_bytes());
    let c = &only_pod(&p).containers[0];
    // Lines count from the top of the file, echo included.
    assert_eq!(
        c.last_state
            .as_ref()
            .and_then(|s| s.reason.as_ref())
            .map(|r| r.line),
        Some(177)
    );
    let broken = format!("$ kubectl get pod x -o json\n{}", &json[..200]);
    let p = object(broken.as_bytes());
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.message.starts_with("not valid JSON"))
        .expect("diagnostic");
    // The cut is on line 8 of the JSON, line 9 of the file.
    assert_eq!(d.line, Some(9));

    let array = format!("[\n{json}\n]\n");
    let p = object(array.as_bytes());
    assert_eq!(p.facts.pods.len(), 1);

    let describe_text = format!(
        "$ kubectl describe pod api-7f9c8d6b5-lq2xz -n shop\n{}",
        String::from_utf8(fixture(
            "bundles/oom-api-node/describe-api-7f9c8d6b5-lq2xz.txt"
        ))
        .expect("utf8")
    );
    assert_eq!(
        sniff(describe_text.as_bytes(), "x"),
        Sniff::Text(SourceKind::KubectlDescribe)
    );
    let p = describe(describe_text.as_bytes());
    assert_eq!(only_pod(&p).name.line, 2);
}

#[test]
fn wrapped_event_whose_remainder_starts_with_blanks() {
    let text = "Name:         api\nNamespace:    shop\nContainers:\n  api:\n    State:          Running\nEvents:\n  Type     Reason   Age   From     Message\n  ----     ------   ----  ----     -------\n  Warning  BackOff  33s   kubelet  Back-off restarting\n    failed container api in pod api_shop(2c7713fd)\n  Normal   Pulled   1m    kubelet  Container image already present\n";
    let p = describe(text.as_bytes());
    let pod = only_pod(&p);
    assert_eq!(pod.events.len(), 2);
    assert_eq!(
        pod.events[0].message,
        "Back-off restarting    failed container api in pod api_shop(2c7713fd)"
    );
    assert_eq!(pod.events[1].reason, "Pulled");
}
