//! End to end on the port-exhaustion demo bundle: the application's EADDRNOTAVAIL errors
//! and the ss dump of ~28k TIME-WAIT sockets give exactly two findings, with the numbers
//! computed from the dump and the sysctl excerpt.

use coroner::checks::CheckStatus;
use coroner::model::{FieldValue, Severity, SourceKind};
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::Path;

fn bundle() -> coroner::report::Report {
    let catalog = Catalog::load(&[]).expect("catalog");
    analyze(
        &AnalyzeOptions {
            paths: vec![
                Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles/port-exhaustion")
            ],
            ..Default::default()
        },
        &catalog,
    )
}

fn int(v: Option<&FieldValue>) -> i64 {
    match v {
        Some(FieldValue::Int(i)) => *i,
        other => panic!("{other:?}"),
    }
}

#[test]
fn port_exhaustion_bundle() {
    let r = bundle();
    let kinds: Vec<(&str, SourceKind, &str)> = r
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.kind, s.format.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("README.md", SourceKind::Log, "plain"),
            ("app.log", SourceKind::Log, "app"),
            ("migrator.log", SourceKind::Log, "app"),
            ("ss-tan.txt", SourceKind::Ss, "ss-tan"),
            ("sysctl-a.txt", SourceKind::Sysctl, "sysctl-a"),
        ]
    );
    let ss = r
        .sources
        .iter()
        .find(|s| s.path == "ss-tan.txt")
        .expect("ss");
    assert_eq!(ss.lines, 27937);
    assert!(ss.diagnostics.is_empty(), "{:?}", ss.diagnostics);

    let ids: Vec<(&str, Severity)> = r
        .findings
        .iter()
        .map(|f| (f.signature.as_str(), f.severity))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("net.eaddrnotavail", Severity::Critical),
            ("net.ephemeral-port-exhaustion", Severity::Critical),
        ]
    );
    let eaddr = &r.findings[0];
    assert_eq!(eaddr.count, 13, "11 Node.js lines + 2 Go lines");
    assert_eq!(
        eaddr
            .fields
            .get("destination")
            .map(|d| d.to_string())
            .as_deref(),
        Some("10.0.4.17:5432")
    );

    let f = &r.findings[1];
    assert_eq!(int(f.fields.get("ports_used")), 27912);
    assert_eq!(int(f.fields.get("time_wait")), 27900);
    assert_eq!(int(f.fields.get("established")), 12);
    assert_eq!(int(f.fields.get("port_range_width")), 28232);
    assert_eq!(int(f.fields.get("top_destination_time_wait")), 26310);
    assert_eq!(int(f.fields.get("tcp_tw_reuse")), 2);
    assert_eq!(int(f.fields.get("eaddrnotavail_count")), 13);
    assert_eq!(
        f.fields
            .get("top_destination")
            .map(|d| d.to_string())
            .as_deref(),
        Some("10.0.4.17:5432")
    );
    assert_eq!(
        f.fields
            .get("local_address")
            .map(|d| d.to_string())
            .as_deref(),
        Some("10.0.2.15")
    );
    assert_eq!(
        f.fields
            .get("port_range_source")
            .map(|d| d.to_string())
            .as_deref(),
        Some("sysctl")
    );
    assert_eq!(
        f.summary,
        "27,912 of 28,232 local ports of 10.0.2.15 in use (27,900 TIME-WAIT, 12 ESTAB; 98.9% of \
         net.ipv4.ip_local_port_range 32768 60999); 26,310 of the TIME-WAIT sockets go to 10.0.4.17:5432; \
         EADDRNOTAVAIL logged 13 time(s) for 10.0.4.17:5432."
    );
    // Evidence: the log, the first TIME-WAIT row of each top destination, the sysctl lines.
    let ev: Vec<(&str, u64)> = f
        .evidence
        .iter()
        .map(|e| (e.path.as_str(), e.line))
        .collect();
    assert!(ev.contains(&("app.log", 3)));
    assert!(ev.contains(&("ss-tan.txt", 6)));
    assert!(ev.contains(&("sysctl-a.txt", 11)));
    assert!(ev.contains(&("sysctl-a.txt", 22)));
    let tw_row = f
        .evidence
        .iter()
        .find(|e| e.path == "ss-tan.txt" && e.line == 6)
        .expect("row");
    assert_eq!(
        tw_row.text.split_whitespace().collect::<Vec<_>>(),
        vec!["TIME-WAIT", "0", "0", "10.0.2.15:47003", "10.0.4.17:5432"]
    );
    // Fixes: pooling first with the computed rate, then the kernel knobs.
    assert!(f.fixes[0]
        .title
        .starts_with("Reuse connections to 10.0.4.17:5432"));
    assert!(f.fixes[0].text.contains(
        "26,310 sockets in TIME-WAIT to 10.0.4.17:5432 = about 438 new connections per second"
    ));
    assert!(f.fixes[0].text.contains("(94.3% of all TIME-WAIT)"));
    assert!(f.fixes[1]
        .text
        .contains("net.ipv4.ip_local_port_range = 10240 65535   # 55,296 ports instead of 28,232"));
    assert!(f.fixes[1]
        .text
        .contains("net.ipv4.tcp_tw_reuse = 1   # now 2"));

    let status = |id: &str| r.checks.iter().find(|c| c.id == id).map(|c| c.status);
    assert_eq!(
        status("net.ephemeral-port-exhaustion"),
        Some(CheckStatus::Fired)
    );
    assert_eq!(
        status("net.accept-queue-overflow"),
        Some(CheckStatus::Healthy)
    );
    assert_eq!(
        status("net.client-pool-cap"),
        Some(CheckStatus::NotApplicable)
    );
    assert_eq!(status("net.close-wait-leak"), Some(CheckStatus::Healthy));
    assert_eq!(status("net.sysctl-review"), Some(CheckStatus::Healthy));
    assert!(r.missing.is_empty(), "{:?}", r.missing);
}

/// The committed dump is what the generator writes (spot checks of its documented counts).
#[test]
fn generated_dump_matches_its_generator_doc() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles/port-exhaustion/ss-tan.txt"),
    )
    .expect("dump");
    let tw = text.lines().filter(|l| l.starts_with("TIME-WAIT")).count();
    let to_pg = text
        .lines()
        .filter(|l| l.starts_with("TIME-WAIT") && l.trim_end().ends_with("10.0.4.17:5432"))
        .count();
    assert_eq!((tw, to_pg), (27900, 26310));
}
