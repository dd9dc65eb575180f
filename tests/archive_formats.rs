//! A bundle gives identical findings as a directory and as every archive format, and paths
//! inside archives are the entry paths (issue 5 "Done when").

mod archive_util;

use archive_util::*;
use std::fs;

fn check_all_formats(name: &str) {
    let dir = fixture(name);
    let expected = run_paths(&[&dir]);
    assert!(!expected.findings.is_empty(), "{name} has findings");
    let tar = tar_dir(&dir, "");
    let t = tempfile::tempdir().expect("tempdir");
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("tar", tar.clone()),
        ("tar.gz", gz(&tar)),
        ("tgz", gz(&tar)),
        ("tar.xz", xz(&tar)),
        ("tar.zst", zst(&tar)),
        ("zip", zip_dir(&dir)),
        // The container is sniffed from magic bytes, not the extension.
        ("misnamed.txt", xz(&tar)),
    ];
    for (ext, bytes) in forms {
        let p = t.path().join(format!("{name}.{ext}"));
        fs::write(&p, bytes).expect("write");
        let got = run_paths(&[&p]);
        assert_eq!(
            findings_json(&got),
            findings_json(&expected),
            "{name} as .{ext} gives the directory's findings"
        );
        let paths = |r: &coroner::report::Report| -> Vec<(String, Option<String>)> {
            r.sources
                .iter()
                .map(|s| (s.path.clone(), s.skipped.clone().map(|_| "skipped".into())))
                .collect()
        };
        assert_eq!(
            paths(&got),
            paths(&expected),
            "{name} as .{ext}: same sources"
        );
    }
}

#[test]
fn oom_api_node_is_the_same_as_directory_and_every_archive_format() {
    check_all_formats("oom-api-node");
}

#[test]
fn sosreport_with_symlinks_is_the_same_as_directory_and_every_archive_format() {
    check_all_formats("sosreport-web-1");
}

#[test]
fn sosreport_findings_and_aliases() {
    let r = run_paths(&[&fixture("sosreport-web-1")]);
    assert_eq!(
        signatures(&r),
        vec![
            "net.conntrack-full",
            "net.accept-queue-overflow",
            "net.sysctl-review",
            "net.syn-flood"
        ]
    );
    let conntrack = &r.findings[0];
    // 6 records, each in dmesg and in messages: copies are one event, and the top-level
    // `dmesg` link is not read a third time.
    assert_eq!(conntrack.count, 6);
    assert_eq!(conntrack.evidence[0].path, "sos_commands/kernel/dmesg");
    assert_eq!(conntrack.evidence[0].line, 9);
    assert_eq!(
        conntrack.evidence[0].text,
        "[1203642.090114] nf_conntrack: nf_conntrack: table full, dropping packet"
    );
    assert_eq!(
        r.findings[3].count, 1,
        "the SYN flood line is in dmesg and messages"
    );
    let dmesg = source(&r, "dmesg");
    assert_eq!(
        dmesg.skipped.as_deref(),
        Some("alias of sos_commands/kernel/dmesg (link), analysed under that path")
    );
    // Layout table: kinds by path, before sniffing.
    assert_eq!(source(&r, "sos_commands/kernel/dmesg").kind.as_str(), "log");
    assert_eq!(
        source(&r, "sos_commands/networking/ss_-peaonmi")
            .kind
            .as_str(),
        "ss"
    );
    assert_eq!(
        source(&r, "sos_commands/networking/netstat_-s")
            .kind
            .as_str(),
        "netstat"
    );
    assert_eq!(
        source(&r, "sos_commands/kernel/sysctl_-a").kind.as_str(),
        "sysctl"
    );
    assert_eq!(
        source(&r, "proc/sys/net/netfilter/nf_conntrack_max")
            .kind
            .as_str(),
        "sysctl"
    );
    // Noise.
    assert!(source(&r, "sos_logs/sos.log")
        .skipped
        .as_deref()
        .is_some_and(|s| s.starts_with("known noise")));
    assert!(source(&r, "sos_reports/manifest.json").skipped.is_some());
}

#[test]
fn archive_paths_keep_the_top_directory_and_nested_archives_their_entry_name() {
    let sos = tar_dir(
        &fixture("sosreport-web-1"),
        "sosreport-web-1-2026-11-21-kqzvtrb",
    );
    let sos_xz = xz(&sos);
    // A support bundle .tar.gz holding the sosreport .tar.xz and the oom bundle.
    let mut outer = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        outer.append_data(&mut h, name, data).expect("append");
    };
    add("hosts/web-1/sosreport-web-1.tar.xz", &sos_xz);
    add(
        "nodes/kern.log",
        &fs::read(fixture("oom-api-node/kern.log")).expect("read"),
    );
    let outer = gz(&outer.into_inner().expect("tar"));
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("support-bundle.tgz");
    fs::write(&p, outer).expect("write");
    let r = run_paths(&[&p]);
    let conntrack = r
        .findings
        .iter()
        .find(|f| f.signature == "net.conntrack-full")
        .expect("conntrack from the nested sosreport");
    assert_eq!(
        conntrack.evidence[0].path,
        "hosts/web-1/sosreport-web-1.tar.xz/sosreport-web-1-2026-11-21-kqzvtrb/sos_commands/kernel/dmesg"
    );
    assert!(r
        .findings
        .iter()
        .any(|f| f.signature == "mem.oom-kill-memcg" && f.evidence[0].path == "nodes/kern.log"));
    // Kinds still come from the layout table under the prefixes.
    assert_eq!(
        source(
            &r,
            "hosts/web-1/sosreport-web-1.tar.xz/sosreport-web-1-2026-11-21-kqzvtrb/sos_commands/networking/ss_-peaonmi"
        )
        .kind
        .as_str(),
        "ss"
    );
}

#[test]
fn compressed_single_files_and_rotated_logs_are_read_on_the_fly() {
    let kern = fs::read(fixture("oom-api-node/kern.log")).expect("read");
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path().join("b/var/log");
    fs::create_dir_all(&d).expect("mkdir");
    fs::write(d.join("kern.log.2.gz"), gz(&kern)).expect("write");
    fs::write(d.join("messages-20261115.xz"), xz(&kern)).expect("write");
    fs::write(d.join("syslog.1.zst"), zst(&kern)).expect("write");
    let r = run_paths(&[&t.path().join("b")]);
    let oom = r
        .findings
        .iter()
        .find(|f| f.signature == "mem.oom-kill-memcg")
        .expect("oom");
    assert_eq!(oom.count, 3);
    let paths: Vec<&str> = oom.evidence.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"var/log/kern.log.2.gz"));
    assert!(paths.contains(&"var/log/messages-20261115.xz"));
    assert!(paths.contains(&"var/log/syslog.1.zst"));
    // A single compressed file as the PATH argument.
    let single = t.path().join("kern.log.gz");
    fs::write(&single, gz(&kern)).expect("write");
    let r = run_paths(&[&single]);
    assert_eq!(signatures(&r), vec!["mem.oom-kill-memcg", "net.syn-flood"]);
    assert_eq!(r.findings[0].evidence[0].path, "kern.log.gz");
    assert_eq!(r.findings[0].evidence[0].line, 5);
}

#[test]
fn as_overrides_sniffing_but_still_refuses_binary() {
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("b");
    fs::create_dir_all(b.join("notes")).expect("mkdir");
    fs::write(
        b.join("notes/conntrack.txt"),
        "nf_conntrack: table full, dropping packet\n",
    )
    .expect("write");
    fs::write(b.join("notes/blob.bin"), b"\x00\x01\x02binary").expect("write");
    let opts = |as_kinds| coroner::AnalyzeOptions {
        paths: vec![b.clone()],
        as_kinds,
        ..Default::default()
    };
    let r = run(opts(vec![]));
    assert_eq!(source(&r, "notes/conntrack.txt").kind.as_str(), "log");
    let forced = coroner::bundle::layout::parse_override("sysctl=notes/*").expect("valid");
    let r = run(opts(vec![forced]));
    assert_eq!(source(&r, "notes/conntrack.txt").kind.as_str(), "sysctl");
    assert!(
        r.findings.is_empty(),
        "a sysctl snapshot is not scanned as a log"
    );
    assert!(source(&r, "notes/blob.bin")
        .skipped
        .as_deref()
        .is_some_and(|s| s.starts_with("binary")));
}

#[test]
fn committed_fixture_archives_match_their_directories() {
    for name in ["oom-api-node", "sosreport-web-1"] {
        let archive = fixture(&format!("{name}.tar.gz"));
        if !archive.exists() {
            panic!(
                "{} missing: run scripts/build-fixture-archives.sh",
                archive.display()
            );
        }
        let a = run_paths(&[&archive]);
        let d = run_paths(&[&fixture(name)]);
        assert_eq!(
            findings_json(&a),
            findings_json(&d),
            "{name}.tar.gz is stale"
        );
    }
}

#[test]
fn stdin_is_read_with_its_container_sniffed() {
    let bin = env!("CARGO_BIN_EXE_coroner");
    let tar = tar_dir(&fixture("oom-api-node"), "");
    let mut child = std::process::Command::new(bin)
        .args(["analyze", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&zst(&tar)).expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let expected = run_paths(&[&fixture("oom-api-node")]);
    assert_eq!(v["findings"], findings_json(&expected));
}

#[test]
fn support_bundle_and_cluster_info_dump_layouts_force_kinds() {
    let t = tempfile::tempdir().expect("tempdir");
    let b = t.path().join("support-bundle-2026-11-21T14_40_02");
    let files = [
        ("cluster-resources/pods/default.json", "{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n  \"items\": []\n}\n"),
        ("cluster-resources/events/default.json", "{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"v1\",\n  \"items\": []\n}\n"),
        ("cluster-resources/pods/logs/default/api-7f9c6d8b5-x2x9q/api.log", "2026-11-21T14:23:01.002Z Error: connect ECONNREFUSED 10.42.7.31:5432\n"),
        ("host-collectors/journald/kubelet.txt", "Nov 21 14:23:08 ip-10-42-7-19 kubelet[1203]: I1121 14:23:08.112233    1203 kubelet.go:2457] \"SyncLoop (PLEG): event for pod\"\n"),
        ("dump/default/pods.json", "{\n  \"kind\": \"PodList\",\n  \"apiVersion\": \"v1\",\n  \"items\": []\n}\n"),
        ("dump/default/api-7f9c6d8b5-x2x9q/logs.txt", "==== START logs for container api of pod default/api-7f9c6d8b5-x2x9q ====\n"),
    ];
    for (p, text) in files {
        let full = b.join(p);
        fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        fs::write(full, text).expect("write");
    }
    let r = run_paths(&[&b]);
    let kind = |p: &str| source(&r, p).kind.as_str();
    assert_eq!(kind("cluster-resources/pods/default.json"), "k8s-object");
    assert_eq!(kind("cluster-resources/events/default.json"), "k8s-object");
    assert_eq!(
        kind("cluster-resources/pods/logs/default/api-7f9c6d8b5-x2x9q/api.log"),
        "log"
    );
    assert_eq!(kind("host-collectors/journald/kubelet.txt"), "log");
    assert_eq!(kind("dump/default/pods.json"), "k8s-object");
    assert_eq!(kind("dump/default/api-7f9c6d8b5-x2x9q/logs.txt"), "log");
    assert!(r.findings.iter().any(|f| f.signature == "net.econnrefused"));
}
