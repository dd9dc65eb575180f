//! Real-browser test of the HTML report: every demo bundle's report is opened in headless
//! Chromium from `file://`. It must render (the DOM holds the verdict and the SVG timeline,
//! and the copy script ran, which proves the CSP hash admits it), no request may leave the
//! page, and a screenshot is saved under `target/screenshots/` for a human to look at.
//!
//! "No request left the page" is checked in Chromium's own network log (`--log-net-log`):
//! every URL request the page starts is logged with the page's `file://` network isolation
//! key, while the browser's own background traffic (update checks, which the flags cannot all
//! switch off) is logged with initiator `not an origin`. A control page that does load a
//! remote image proves the detector sees page requests. `.ci/run` installs Debian's
//! `chromium`; without it the test prints a notice and passes.

use coroner::report::html;
use coroner::signatures::Catalog;
use coroner::{analyze, AnalyzeOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: a cold Chromium start on a loaded 2-core CI machine takes a few seconds.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

fn chromium() -> Option<String> {
    let candidates = [
        std::env::var("CHROMIUM").ok(),
        Some("chromium".to_string()),
        Some("chromium-browser".to_string()),
    ];
    candidates.into_iter().flatten().find(|c| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
}

fn out_dir(name: &str) -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; screenshots go beside it in <target>/screenshots.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join(name);
    std::fs::create_dir_all(&dir).expect("create output dir");
    dir
}

/// Run Chromium headless on `url` with `extra` flags; returns (stdout, net-log text).
fn run_chromium(browser: &str, url: &str, extra: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let netlog = profile.path().join("netlog.json");
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--no-pings",
        "--hide-scrollbars",
        "--net-log-capture-mode=Default",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--log-net-log={}", netlog.display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if start.elapsed() > BROWSER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within {BROWSER_TIMEOUT:?} on {url}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let out = reader.join().unwrap_or_default();
    let log = std::fs::read_to_string(&netlog).unwrap_or_default();
    (out, log)
}

/// URLs of requests the page itself started, from a Chromium net log (JSON; a log cut short
/// at exit is closed before parsing).
fn page_requests(netlog: &str) -> Vec<String> {
    let parsed: serde_json::Value = serde_json::from_str(netlog)
        .or_else(|_| {
            let trimmed = netlog.trim_end().trim_end_matches(',');
            serde_json::from_str(&format!("{trimmed}]}}"))
        })
        .expect("chromium net log is JSON");
    let start_job = parsed["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64();
    let mut urls = Vec::new();
    for e in parsed["events"].as_array().into_iter().flatten() {
        if e["type"].as_u64() != start_job {
            continue;
        }
        let p = &e["params"];
        let url = p["url"].as_str().unwrap_or("");
        let from_page = p["network_isolation_key"]
            .as_str()
            .is_some_and(|k| k.contains("file://"))
            || p["initiator"]
                .as_str()
                .is_some_and(|i| i != "not an origin");
        if from_page && !url.starts_with("file:") && !url.starts_with("data:") {
            urls.push(url.to_string());
        }
    }
    urls
}

#[test]
fn demo_reports_render_in_chromium_without_network() {
    let Some(browser) = chromium() else {
        println!(
            "NOTICE: chromium not found; skipping the real-browser test (.ci/run installs it)"
        );
        return;
    };
    let catalog = Catalog::load(&[]).expect("catalog");
    let reports = out_dir("html-reports");
    let shots = out_dir("screenshots");

    // The detector must see a page request when there is one, or its silence means nothing.
    let control = reports.join("control-leaky.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><p>control</p><img src=\"http://127.0.0.1:9/leak.png\">",
    )
    .expect("write control page");
    let (_, log) = run_chromium(
        &browser,
        &format!("file://{}", control.display()),
        &["--dump-dom".to_string()],
    );
    assert_eq!(
        page_requests(&log),
        vec!["http://127.0.0.1:9/leak.png".to_string()],
        "the net-log detector must see the control page's request"
    );

    let bundles = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles");
    let mut names: Vec<String> = std::fs::read_dir(&bundles)
        .expect("fixtures/bundles")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in &names {
        let report = analyze(
            &AnalyzeOptions {
                paths: vec![bundles.join(name)],
                ..Default::default()
            },
            &catalog,
        );
        let page = reports.join(format!("{name}.html"));
        std::fs::write(&page, html::render(&report)).expect("write report");
        let url = format!("file://{}", page.display());

        let (dom, log) = run_chromium(&browser, &url, &["--dump-dom".to_string()]);
        assert!(
            dom.contains("id=\"verdict\""),
            "{name}: no verdict in the DOM"
        );
        if report.findings.iter().any(|f| f.first.is_some()) {
            assert!(
                dom.contains("<svg class=\"timeline\""),
                "{name}: no SVG timeline"
            );
        }
        assert_eq!(
            dom.matches("class=\"card ").count(),
            report.findings.len(),
            "{name}: finding cards"
        );
        assert!(
            dom.contains("<html lang=\"en\" class=\"js\">"),
            "{name}: the copy script did not run (is html::CSP's hash current?)"
        );
        assert_eq!(page_requests(&log), Vec::<String>::new(), "{name}");

        for (suffix, size, extra) in [
            ("", "1280,2400", None),
            ("-narrow", "420,2400", None),
            ("-dark", "1280,2400", Some("--force-dark-mode")),
        ] {
            let shot = shots.join(format!("{name}{suffix}.png"));
            let mut flags = vec![
                format!("--screenshot={}", shot.display()),
                format!("--window-size={size}"),
            ];
            flags.extend(extra.map(str::to_string));
            let (_, log) = run_chromium(&browser, &url, &flags);
            assert_eq!(page_requests(&log), Vec::<String>::new(), "{name}{suffix}");
            let png = std::fs::read(&shot).expect("screenshot written");
            assert!(png.starts_with(b"\x89PNG"), "{name}{suffix}: not a PNG");
            println!("screenshot: {}", shot.display());
        }
    }
}
