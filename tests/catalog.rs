//! The catalog self-test: every built-in signature loads, and each of its examples produces
//! exactly one finding of that signature with the expected field values, through the same
//! pipeline a real file goes through; each counterexample produces none.

use coroner::model::FieldValue;
use coroner::signatures::{self, Catalog};
use coroner::{analyze, AnalyzeOptions};
use std::collections::BTreeSet;

fn run_text(catalog: &Catalog, text: &str) -> coroner::report::Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("input.log");
    std::fs::write(&f, text).expect("write");
    analyze(
        &AnalyzeOptions {
            paths: vec![f],
            ..Default::default()
        },
        catalog,
    )
}

fn expected(v: &toml::Value) -> FieldValue {
    match v {
        toml::Value::Integer(i) => FieldValue::Int(*i),
        toml::Value::String(s) => FieldValue::Text(s.clone()),
        other => FieldValue::Text(other.to_string()),
    }
}

#[test]
fn builtin_catalog_loads_with_unique_ids() {
    let cat = Catalog::load(&[]).expect("built-in catalog is valid");
    let ids: BTreeSet<&str> = cat.signatures.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), cat.signatures.len());
    for id in [
        "net.syn-flood",
        "mem.oom-kill-memcg",
        "mem.oom-kill-global",
        "mem.oom-no-victim",
        "net.conntrack-full",
        "fd.file-max",
        "net.tcp-mem-pressure",
        "net.orphan-sockets",
        "net.neighbour-overflow",
        "net.timewait-overflow",
        "kernel.hung-task",
        "fd.emfile",
        "fd.enfile",
        "net.eaddrnotavail",
        "net.bind-addr-unavailable",
        "net.econnrefused",
        "net.socket-hang-up",
    ] {
        assert!(ids.contains(id), "public signature id {id} missing");
    }
}

#[test]
fn every_builtin_regex_compiles() {
    // Built-in regexes compile on first use (start-up cost); this compiles them all now.
    let cat = Catalog::load(&[]).expect("valid");
    for sig in &cat.signatures {
        for (i, p) in sig.patterns.iter().enumerate() {
            assert!(
                p.regex().is_some(),
                "{} pattern {} does not compile",
                sig.id,
                i + 1
            );
            let compiled: Vec<String> = p
                .regex()
                .map(|r| r.capture_names().flatten().map(str::to_string).collect())
                .unwrap_or_default();
            assert_eq!(
                p.names,
                compiled,
                "{} pattern {} capture names",
                sig.id,
                i + 1
            );
        }
    }
}

#[test]
fn every_catalog_file_is_embedded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/signatures/catalog");
    let mut on_disk = Vec::new();
    for dir in std::fs::read_dir(&root).expect("catalog dir") {
        let dir = dir.expect("entry").path();
        for f in std::fs::read_dir(&dir).expect("subdir") {
            let f = f.expect("entry").path();
            let rel = f
                .strip_prefix(&root)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            on_disk.push(rel);
        }
    }
    on_disk.sort();
    let mut embedded: Vec<String> = signatures::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(
        on_disk, embedded,
        "list every catalog file in signatures::BUILTIN"
    );
}

#[test]
fn examples_fire_once_with_expected_fields_and_counterexamples_do_not() {
    let cat = Catalog::load(&[]).expect("valid");
    let mut failures = Vec::new();
    for sig in &cat.signatures {
        for (i, ex) in sig.examples.iter().enumerate() {
            let r = run_text(&cat, &ex.text);
            let mine: Vec<_> = r
                .findings
                .iter()
                .filter(|f| f.signature == sig.id)
                .collect();
            if mine.len() != 1 {
                failures.push(format!(
                    "{} example {}: {} findings, want 1",
                    sig.id,
                    i + 1,
                    mine.len()
                ));
                continue;
            }
            for (k, v) in &ex.fields {
                let got = mine[0].fields.get(k);
                if got != Some(&expected(v)) {
                    failures.push(format!(
                        "{} example {}: field {k} = {:?}, want {:?}",
                        sig.id,
                        i + 1,
                        got,
                        expected(v)
                    ));
                }
            }
        }
        for (i, ex) in sig.counterexamples.iter().enumerate() {
            let r = run_text(&cat, &ex.text);
            if r.findings.iter().any(|f| f.signature == sig.id) {
                failures.push(format!("{} counterexample {} fired", sig.id, i + 1));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "catalog self-test:\n{}",
        failures.join("\n")
    );
}
