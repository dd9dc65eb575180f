//! Structural tests of the HTML report: render real bundles, parse the page with an HTML
//! parser, and assert on what a reader (and a browser) gets.

use base64::Engine;
use coroner::model::{Evidence, Finding, Fix, Severity, Source, SourceKind};
use coroner::report::{html, json, Report};
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("valid selector")
}

fn bundle(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bundles")
        .join(name)
}

fn analyze_paths(paths: Vec<PathBuf>) -> Report {
    let catalog = Catalog::load(&[]).expect("built-in catalog");
    analyze(
        &AnalyzeOptions {
            paths,
            ..Default::default()
        },
        &catalog,
    )
}

fn text_of(doc: &Html, selector: &str) -> Vec<String> {
    doc.select(&sel(selector))
        .map(|e| e.text().collect::<String>())
        .collect()
}

/// Physical line count of a file, as coroner counts it (a last line without newline counts).
fn line_count(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("read bundle file");
    let newlines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

#[test]
fn demo_bundle_has_one_card_per_finding_and_real_evidence_labels() {
    let dir = bundle("oom-api-node");
    let report = analyze_paths(vec![dir.clone()]);
    assert!(!report.findings.is_empty(), "the demo bundle has findings");
    let doc = Html::parse_document(&html::render(&report));

    let cards: Vec<_> = doc.select(&sel("article.card")).collect();
    assert_eq!(cards.len(), report.findings.len());
    // Each verdict line links to a card that exists.
    let ids: Vec<String> = cards
        .iter()
        .filter_map(|c| c.value().attr("id").map(str::to_string))
        .collect();
    let links: Vec<String> = doc
        .select(&sel("#verdict ol.verdict a"))
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert_eq!(links.len(), report.findings.len());
    for l in &links {
        assert!(ids.contains(&l.trim_start_matches('#').to_string()), "{l}");
    }

    // Every `path:line` label names a file of the bundle and a line inside it.
    let labels = text_of(&doc, ".loc");
    assert!(labels.len() >= report.findings.len());
    let mut counts = BTreeMap::new();
    for label in &labels {
        let (path, line) = label.rsplit_once(':').expect("label is path:line");
        let line: u64 = line.parse().expect("line number");
        let n = *counts
            .entry(path.to_string())
            .or_insert_with(|| line_count(&dir.join(path)));
        assert!(
            line >= 1 && line <= n,
            "{label} is outside {path} ({n} lines)"
        );
    }
    // And every evidence line of the model is shown (the demo's findings are under the cap).
    for f in &report.findings {
        for e in &f.evidence {
            assert!(labels.contains(&format!("{}:{}", e.path, e.line)));
        }
    }
    // The OOM card's numbers are formatted with units.
    let numbers = text_of(&doc, "#finding-1 .number").join(" | ");
    assert!(numbers.contains("980 MiB"), "{numbers}");
    assert!(numbers.contains("96 % of the 1 GiB limit"), "{numbers}");
    assert!(numbers.contains("2,231"), "{numbers}");
    // The killed pid is highlighted in its evidence.
    let marks = text_of(&doc, "#finding-1 .excerpt mark");
    assert!(marks.iter().any(|m| m == "48213"), "{marks:?}");
}

#[test]
fn fix_snippets_are_present_verbatim_with_a_copy_button() {
    let report = analyze_paths(vec![bundle("oom-api-node")]);
    let doc = Html::parse_document(&html::render(&report));
    let snippets = text_of(&doc, "article.card .code-block pre code");
    let fixes: Vec<&Fix> = report.findings.iter().flat_map(|f| &f.fixes).collect();
    assert_eq!(snippets.len(), fixes.len());
    for fix in fixes {
        let expected = format!("{}\n", fix.text.trim_end_matches('\n'));
        assert!(
            snippets.contains(&expected),
            "missing fix snippet: {expected}"
        );
    }
    assert_eq!(
        doc.select(&sel("article.card .code-block button.copy"))
            .count(),
        snippets.len()
    );
}

const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "</textarea><textarea>",
    "\"><img src=x onerror=alert(2)>",
    "<a href=\"javascript:alert(3)\">click</a>",
    "' onmouseover='alert(4)",
    "<svg onload=alert(5)>",
    "]]><!-- -->&amp;",
];

#[test]
fn hostile_log_text_is_shown_as_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        log.push_str(&format!(
            "Nov 21 14:23:{:02} h kernel: nf_conntrack: table full, dropping packet {h}\n",
            i
        ));
        log.push_str(&format!(
            "2026-11-21T14:24:{:02}+00:00 h app[7]: connect ECONNREFUSED 10.0.0.{i}:80 {h}\n",
            i
        ));
    }
    // A hostile file name too: it is shown as a path label and a lane name.
    let name = "x\"><img src=y onerror=alert(6)><script>.log";
    std::fs::write(dir.path().join(name), &log).expect("write");
    let report = analyze_paths(vec![dir.path().to_path_buf()]);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.signature == "net.conntrack-full"),
        "the hostile lines match: {:?}",
        report
            .findings
            .iter()
            .map(|f| &f.signature)
            .collect::<Vec<_>>()
    );
    let page = html::render(&report);
    let doc = Html::parse_document(&page);

    // The only script is ours; nothing hostile became an element or an attribute.
    assert_eq!(doc.select(&sel("script")).count(), 1);
    for bad in [
        "img", "textarea", "iframe", "object", "embed", "link", "base", "form",
    ] {
        assert_eq!(
            doc.select(&sel(bad)).count(),
            0,
            "a <{bad}> element appeared"
        );
    }
    for el in doc.select(&sel("*")) {
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "event handler attribute {attr}");
            assert!(
                !value.to_ascii_lowercase().contains("javascript:"),
                "{attr}={value}"
            );
        }
    }
    assert_eq!(doc.select(&sel("svg[onload]")).count(), 0);
    // The text survives, byte for byte, in evidence and in the events table.
    let evidence = text_of(&doc, ".excerpt code").join("\n");
    let table = text_of(&doc, "table.events td.logtext").join("\n");
    for h in HOSTILE {
        assert!(evidence.contains(h), "evidence lost {h}");
    }
    assert!(table.contains(HOSTILE[0]));
    assert!(text_of(&doc, ".loc").iter().any(|l| l.starts_with(name)));
    assert!(text_of(&doc, "svg.timeline .lane-label title")
        .iter()
        .any(|l| l == name));
    // The raw page never holds a hostile tag unescaped.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(!page.contains("<img"));
    assert!(!page.contains("</textarea>"));
}

#[test]
fn rendering_is_deterministic() {
    let a = html::render(&analyze_paths(vec![bundle("oom-api-node")]));
    let b = html::render(&analyze_paths(vec![bundle("oom-api-node")]));
    assert_eq!(a, b);
}

#[test]
fn page_is_self_contained_under_a_strict_csp() {
    let report = analyze_paths(vec![bundle("oom-api-node")]);
    let doc = Html::parse_document(&html::render(&report));
    let csp = doc
        .select(&sel(r#"meta[http-equiv="Content-Security-Policy"]"#))
        .next()
        .and_then(|m| m.value().attr("content").map(str::to_string))
        .expect("CSP meta tag");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("img-src data:"));
    assert!(!csp.contains("script-src 'unsafe-inline'"));

    // The script-src hash is the hash of the one inline script, as rendered.
    let script: String = doc
        .select(&sel("script"))
        .next()
        .expect("copy script")
        .text()
        .collect();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "update html::CSP to script-src 'sha256-{hash}'"
    );

    // Nothing is fetched: no resource element, links only to fragments of the page itself.
    for el in doc.select(&sel("*")) {
        for (attr, value) in el.value().attrs() {
            if matches!(
                attr,
                "src" | "href" | "xlink:href" | "action" | "data" | "poster" | "srcset"
            ) {
                assert!(
                    value.starts_with('#') || value.starts_with("data:"),
                    "{} {attr}={value}",
                    el.value().name()
                );
                assert!(!value.contains("http://") && !value.contains("https://"));
            }
        }
    }
    for bad in [
        "link", "img", "iframe", "object", "embed", "audio", "video", "source",
    ] {
        assert_eq!(doc.select(&sel(bad)).count(), 0, "<{bad}> in the page");
    }
    let style: String = doc.select(&sel("style")).flat_map(|s| s.text()).collect();
    assert!(!style.contains("url(") && !style.contains("@import"));
    assert!(style.contains("prefers-color-scheme: dark"));
    assert!(style.contains("@media print"));
}

#[test]
fn timeline_is_drawn_from_resolved_times_and_explains_the_rest() {
    let report = analyze_paths(vec![bundle("oom-api-node")]);
    let doc = Html::parse_document(&html::render(&report));
    // pino times are stated; the syslog year comes from them (the newest fully dated stamp).
    assert_eq!(doc.select(&sel("svg.timeline")).count(), 1);
    let lanes = text_of(&doc, "svg.timeline .lane-label title");
    assert_eq!(
        lanes,
        vec![
            "describe-api-7f9c8d6b5-lq2xz.txt",
            "gateway.log",
            "kern.log"
        ]
    );
    assert!(doc.select(&sel("svg.timeline circle.mark")).count() >= 3);
    assert_eq!(
        doc.select(&sel("svg.timeline rect.incident")).count(),
        report.incidents.len()
    );
    let note = text_of(&doc, "#timeline .note").join(" ");
    assert!(note.is_empty(), "every event is resolved: {note}");
    let rows = doc.select(&sel("table.events tbody tr")).count();
    assert_eq!(rows, report.timeline.len());
    let first_row = text_of(&doc, "table.events tbody tr:first-child td").join("|");
    assert!(
        first_row.starts_with(
            "2026-11-21 12:58:44 UTC|stated in the line|describe-api-7f9c8d6b5-lq2xz.txt:58|pod-state"
        ),
        "{first_row}"
    );
    // Incidents lead the verdict, linking to their findings' cards.
    let incident = text_of(&doc, "#verdict .incident-card h3").join("|");
    assert_eq!(incident, "OOM kill of node in api-7f9c8d6b5-lq2xz/api");
    for a in doc.select(&sel("#verdict .incident-card .members a")) {
        let href = a.value().attr("href").unwrap_or_default();
        assert_eq!(doc.select(&sel(href)).count(), 1, "{href} exists");
    }
}

#[test]
fn no_resolved_time_means_no_chart_but_a_sentence() {
    let report = analyze_paths(vec![bundle("oom-api-node").join("kern.log")]);
    let doc = Html::parse_document(&html::render(&report));
    assert_eq!(doc.select(&sel("svg.timeline")).count(), 0);
    let note = text_of(&doc, "#timeline .note").join(" ");
    assert!(note.starts_with("No chart:"), "{note}");
}

#[test]
fn an_empty_report_still_renders_every_section() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("quiet.log"),
        "Nov 21 14:00:00 h systemd[1]: Started x.\n",
    )
    .expect("write");
    let report = analyze_paths(vec![dir.path().to_path_buf()]);
    let doc = Html::parse_document(&html::render(&report));
    for id in [
        "verdict", "timeline", "findings", "checked", "missing", "sources",
    ] {
        assert_eq!(
            doc.select(&sel(&format!("section#{id}"))).count(),
            1,
            "{id}"
        );
    }
    assert_eq!(doc.select(&sel("article.card")).count(), 0);
    assert!(text_of(&doc, "h1")[0].starts_with("No known failure signature matched in 1 source"));
}

/// A report analysed from files written to a temp dir; tests then replace parts of it, so
/// they keep compiling when the model gains fields.
fn analyzed(files: &[(&str, &str)]) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    analyze_paths(vec![dir.path().to_path_buf()])
}

#[test]
fn big_reports_are_capped() {
    let mut report = analyzed(&[(
        "a.log",
        "2026-11-21T14:00:00+00:00 h kernel: nf_conntrack: table full, dropping packet\n",
    )]);
    assert_eq!(report.findings.len(), 1);
    report.sources[0].lines = 100_000;
    let template: Finding = report.findings[0].clone();
    report.findings = (0..500usize)
        .map(|i| {
            let mut f = template.clone();
            f.severity = if i.is_multiple_of(3) {
                Severity::Critical
            } else {
                Severity::Warning
            };
            f.title = format!("finding {i}");
            f.first = Some(format!("2026-11-21T14:{:02}:{:02}Z", i / 60 % 60, i % 60));
            f.last = None;
            f.evidence = (0..25)
                .map(|l| {
                    let mut e: Evidence = template.evidence[0].clone();
                    e.line = l + 1;
                    e.text = "x".repeat(3000);
                    e
                })
                .collect();
            f.evidence_omitted = 1000;
            f
        })
        .collect();
    let event = report.timeline[0].clone();
    report.timeline = (0..100_000u64)
        .map(|i| {
            let mut e = event.clone();
            e.line = i + 1;
            e.time = Some(format!(
                "2026-11-21T{:02}:{:02}:{:02}Z",
                10 + i / 3600 % 10,
                i / 60 % 60,
                i % 60
            ));
            e
        })
        .collect();
    let page = html::render(&report);
    let doc = Html::parse_document(&page);
    assert_eq!(doc.select(&sel("article.card")).count(), 500);
    assert_eq!(
        doc.select(&sel("table.events tbody tr")).count(),
        html::view::MAX_EVENT_ROWS
    );
    assert_eq!(
        doc.select(&sel("#verdict li")).count(),
        html::view::MAX_VERDICT_ITEMS
    );
    assert!(doc.select(&sel("svg.timeline circle")).count() <= html::timeline::BUCKETS);
    let first_card = doc.select(&sel("article.card")).next().expect("card");
    assert_eq!(
        first_card.select(&sel(".ev")).count(),
        html::view::EXCERPTS_PER_FINDING
    );
    let more = first_card
        .select(&sel(".more"))
        .map(|m| m.text().collect::<String>())
        .collect::<String>();
    assert!(more.starts_with("and 1,017 more line(s)"), "{more}");
    let clipped = first_card
        .select(&sel(".clipped"))
        .next()
        .map(|m| m.text().collect::<String>())
        .expect("long lines are clipped");
    assert_eq!(clipped, "… 1,500 more bytes");
    // 500 findings × 8 excerpts of 1,500 bytes, plus markup: well under 10 MB.
    assert!(page.len() < 10_000_000, "{} bytes", page.len());
}

#[test]
fn html_and_json_come_from_one_model() {
    let report = analyze_paths(vec![bundle("oom-api-node")]);
    let j: serde_json::Value = serde_json::from_str(&json::render(&report)).expect("json");
    let doc = Html::parse_document(&html::render(&report));
    let titles = text_of(&doc, "article.card h3");
    let sigs = text_of(&doc, "article.card code.sig");
    let findings = j["findings"].as_array().expect("findings");
    assert_eq!(titles.len(), findings.len());
    for (i, f) in findings.iter().enumerate() {
        assert_eq!(titles[i], f["title"].as_str().expect("title"));
        assert_eq!(sigs[i], f["signature"].as_str().expect("signature"));
    }
}

#[test]
fn cli_picks_html_from_the_output_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.html");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
        .arg("analyze")
        .arg(bundle("oom-api-node"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run coroner");
    assert!(status.success());
    let page = std::fs::read_to_string(&out).expect("report written");
    assert!(page.starts_with("<!DOCTYPE html>"));
    let explicit = std::process::Command::new(env!("CARGO_BIN_EXE_coroner"))
        .args(["analyze", "--format", "html"])
        .arg(bundle("oom-api-node"))
        .output()
        .expect("run coroner");
    assert_eq!(String::from_utf8_lossy(&explicit.stdout), page);
}

fn report_with_checks() -> Report {
    use coroner::checks::{CheckReport, CheckStatus, CheckedFact, Missing};
    use coroner::model::{Diagnostic, Level};
    let mut healthy = CheckReport::new("fd.near-limit", "Open file descriptors against the limit");
    healthy.status = CheckStatus::Healthy;
    healthy.note = "127 of 1,024 fds in use".into();
    healthy.facts = vec![
        CheckedFact {
            name: "Max open files (soft) of pid 4242".into(),
            value: "1024".into(),
            path: Some("proc/4242/limits".into()),
            line: Some(9),
        },
        CheckedFact {
            name: "open fds of pid 4242".into(),
            value: "127".into(),
            path: Some("lsof.txt".into()),
            line: None,
        },
    ];
    let na = CheckReport::new("net.somaxconn", "Listen backlog against net.core.somaxconn");
    let mut report = analyzed(&[("quiet.log", "Nov 21 14:00:00 h systemd[1]: Started x.\n")]);
    let mut limits: Source = report.sources[0].clone();
    limits.path = "proc/4242/limits".into();
    limits.kind = SourceKind::ProcLimits;
    limits.format = "proc-limits".into();
    limits.lines = 17;
    limits.diagnostics = vec![Diagnostic::warning(
        Some(3),
        "unparsable limit row <b>x</b>",
    )];
    let mut core = report.sources[0].clone();
    core.path = "core.bin".into();
    core.kind = SourceKind::Unknown;
    core.format = String::new();
    core.lines = 0;
    core.skipped = Some("binary (ELF core)".into());
    report.sources = vec![core, limits];
    report.sources.sort_by(|a, b| a.path.cmp(&b.path));
    report.findings.clear();
    report.checks = vec![healthy, na];
    report.missing = vec![Missing {
        check: "mem.oom-kill-memcg".into(),
        what: "memory.stat of the OOM-killed container's cgroup".into(),
        why: "Splits anon from file memory at the time of the kill.".into(),
        command: "cat /sys/fs/cgroup/kubepods.slice/memory.stat".into(),
    }];
    let mut unreadable =
        Diagnostic::new(Level::Error, None, "cannot read: No such file or directory");
    unreadable.path = Some("missing/dir".into());
    report.diagnostics = vec![unreadable];
    report
}

#[test]
fn checks_missing_evidence_and_sources_are_listed() {
    let report = report_with_checks();
    let page = html::render(&report);
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("checks-report.html"),
        &page,
    )
    .expect("write for inspection");
    let doc = Html::parse_document(&page);
    let healthy = text_of(&doc, "#checked .check.status-healthy").join(" ");
    assert!(healthy.contains("127 of 1,024 fds in use"), "{healthy}");
    assert!(healthy.contains("Max open files (soft) of pid 4242"));
    assert!(text_of(&doc, "#checked .loc").contains(&"proc/4242/limits:9".to_string()));
    assert_eq!(doc.select(&sel("#checked .check.status-na")).count(), 1);
    let command = text_of(&doc, "#missing pre code");
    assert_eq!(
        command,
        vec!["cat /sys/fs/cgroup/kubepods.slice/memory.stat".to_string()]
    );
    assert_eq!(doc.select(&sel("#missing button.copy")).count(), 1);
    let sources = text_of(&doc, "#sources tbody").join(" ");
    assert!(sources.contains("skipped: binary (ELF core)"));
    assert!(
        sources.contains("unparsable limit row <b>x</b>"),
        "{sources}"
    );
    assert!(text_of(&doc, "#sources .loc").contains(&"proc/4242/limits:3".to_string()));
    assert_eq!(doc.select(&sel("#sources b")).count(), 0);
    let diags = text_of(&doc, "#sources .diagnostics li").join(" ");
    assert!(diags.contains("missing/dir") && diags.contains("cannot read"));
}

/// DESIGN.md: templates hold only `if`/`for`/`include`; formatting lives in Rust. And nothing
/// in a template may switch escaping off.
#[test]
fn templates_hold_only_if_for_include_and_never_mark_text_safe() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("templates dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut files,
    );
    assert!(files.len() >= 3);
    let allowed = ["if", "else", "endif", "for", "endfor", "include"];
    for f in files {
        let text = std::fs::read_to_string(&f).expect("template");
        for tag in text.split("{%").skip(1) {
            let keyword = tag
                .trim_start_matches(['-', '+', '~'])
                .split_whitespace()
                .next()
                .unwrap_or("");
            assert!(
                allowed.contains(&keyword),
                "{}: tag `{keyword}` is not if/for/include",
                f.display()
            );
        }
        for expr in text.split("{{").skip(1) {
            let expr = expr.split("}}").next().unwrap_or("");
            assert!(
                !expr.contains('|'),
                "{}: filter in `{{{{{expr}}}}}`: format in the view-model",
                f.display()
            );
        }
    }
}

#[test]
fn a_hundred_thousand_matching_lines_make_a_small_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::with_capacity(100_000 * 96);
    for i in 0..100_000u32 {
        log.push_str(&format!(
            "2026-11-21T{:02}:{:02}:{:02}+00:00 node-1 kernel: nf_conntrack: table full, dropping packet\n",
            10 + i / 3600 % 12,
            i / 60 % 60,
            i % 60
        ));
    }
    std::fs::write(dir.path().join("kern.log"), &log).expect("write");
    let report = analyze_paths(vec![dir.path().to_path_buf()]);
    let f = report
        .findings
        .iter()
        .find(|f| f.signature == "net.conntrack-full")
        .expect("conntrack finding");
    assert_eq!(f.count, 100_000);
    let page = html::render(&report);
    assert!(page.len() < 200_000, "{} bytes", page.len());
    let doc = Html::parse_document(&page);
    let card = doc.select(&sel("article.card")).next().expect("card");
    assert_eq!(
        card.select(&sel(".ev")).count(),
        html::view::EXCERPTS_PER_FINDING
    );
    let more: String = card.select(&sel(".more")).flat_map(|m| m.text()).collect();
    assert_eq!(
        more,
        "and 99,992 more line(s) not shown (the JSON output lists up to 20)"
    );
    assert!(text_of(&doc, "#verdict .count").contains(&"×100,000".to_string()));
    assert_eq!(doc.select(&sel("svg.timeline")).count(), 1);
}

#[test]
fn excerpts_show_dimmed_context_lines_read_again_from_the_bundle() {
    for path in [bundle("oom-api-node"), bundle("oom-api-node.tar.gz")] {
        let opts = AnalyzeOptions {
            paths: vec![path.clone()],
            ..Default::default()
        };
        let catalog = Catalog::load(&[]).expect("catalog");
        let mut report = analyze(&opts, &catalog);
        let json_before = coroner::report::json::render(&report);
        report.context = coroner::evidence_context(&opts, &report, 2);
        // Context is for the page only: the JSON interface does not change.
        assert_eq!(coroner::report::json::render(&report), json_before);
        let doc = Html::parse_document(&html::render(&report));
        let oom = doc
            .select(&sel("article.card"))
            .find(|c| c.text().any(|t| t.contains("mem.oom-kill-memcg")))
            .expect("OOM card");
        let rows: Vec<(bool, String)> = oom
            .select(&sel(".excerpt .ev"))
            .map(|r| {
                let ctx = r.value().attr("class").unwrap_or_default().contains("ctx");
                let loc = r
                    .select(&sel(".loc"))
                    .flat_map(|l| l.text())
                    .collect::<String>();
                (ctx, loc)
            })
            .collect();
        // kern.log:5 opens the OOM report; lines 3-4 and 6-7 surround it, dimmed.
        let around: Vec<(bool, String)> = rows.iter().take(5).cloned().collect();
        assert_eq!(
            around,
            vec![
                (true, "kern.log:3".to_string()),
                (true, "kern.log:4".to_string()),
                (false, "kern.log:5".to_string()),
                (true, "kern.log:6".to_string()),
                (true, "kern.log:7".to_string()),
            ],
            "{}",
            path.display()
        );
        // Context rows carry no highlight.
        for r in oom.select(&sel(".excerpt .ev.ctx")) {
            assert_eq!(r.select(&sel("mark")).count(), 0);
        }
    }
}
