//! `coroner batch DIR -o OUTDIR`: analyse every bundle directly under DIR (directories and
//! archives), in parallel, into `OUTDIR/<bundle>/`, plus `OUTDIR/index.html` and
//! `OUTDIR/findings.ndjson`. Bundles whose content (and coroner version and options) did not
//! change since the last run are not analysed again (`OUTDIR/.coroner-batch.json`).
//!
//! One broken bundle never stops the batch: it becomes an error row. The index and the NDJSON
//! are built from the reports on disk, so they are the same bytes whether a bundle was
//! analysed now or in an earlier run.

use crate::model::Severity;
use crate::report::{self, Report};
use crate::signatures::Catalog;
use crate::{analyze, AnalyzeOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};

/// The state file in OUTDIR: bundle name → content hash of its last successful analysis.
pub const STATE_FILE: &str = ".coroner-batch.json";
pub const INDEX_FILE: &str = "index.html";
pub const NDJSON_FILE: &str = "findings.ndjson";
/// The report each index row links to. The lead switches this to `report.html` when the
/// HTML renderer lands (see `write_bundle_outputs`).
pub const REPORT_LINK: &str = "report.html";
/// Findings shown per bundle in the index (the rest are in its report).
const INDEX_TOP_FINDINGS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

impl Verbosity {
    pub fn from_count(v: u8) -> Verbosity {
        if v == 0 {
            Verbosity::Normal
        } else {
            Verbosity::Verbose
        }
    }
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub force: bool,
    /// Options for each bundle (`paths` is ignored).
    pub analyze: AnalyzeOptions,
    pub verbosity: Verbosity,
}

/// What the batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub bundles: usize,
    pub analysed: usize,
    pub unchanged: usize,
    pub errors: usize,
    /// Worst severity over every bundle (analysed now or unchanged), for `--fail-on`.
    pub worst_severity: Option<Severity>,
}

/// One bundle under DIR.
#[derive(Debug, Clone)]
struct Bundle {
    name: String,
    path: PathBuf,
    bytes: u64,
}

/// The result row of one bundle: its report as JSON, or why there is none.
type Outcome = Result<Value, String>;

/// Write one bundle's outputs into `dir` (created if needed): `report.html`, `report.json`, `report.txt`.
/// The HTML report (`report.html`) is to be added here once `report::html` is merged.
pub fn write_bundle_outputs(dir: &Path, report: &Report) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join("report.html"), report::html::render(report))?;
    fs::write(dir.join("report.json"), report::json::render(report))?;
    fs::write(dir.join("report.txt"), report::text::render(report))?;
    Ok(())
}

/// Run the batch. Errors only when DIR cannot be listed or OUTDIR cannot be written.
pub fn run(opts: &BatchOptions, catalog: &Catalog) -> Result<Summary, String> {
    let bundles = list_bundles(&opts.dir, &opts.out)?;
    fs::create_dir_all(&opts.out)
        .map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    let previous = if opts.force {
        BTreeMap::new()
    } else {
        load_state(&opts.out)
    };
    let fingerprint = options_fingerprint(&opts.analyze, catalog);
    let progress = progress_bar(opts.verbosity, bundles.iter().map(|b| b.bytes).sum());
    let done = std::sync::atomic::AtomicUsize::new(0);
    progress.set_message(format!("0/{} bundles", bundles.len()));
    let results: Vec<(String, Option<String>, Outcome, bool)> = bundles
        .par_iter()
        .map(|b| {
            let (hash, outcome, fresh) = process(b, opts, catalog, &fingerprint, &previous);
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress.set_message(format!("{n}/{} bundles", bundles.len()));
            progress.inc(b.bytes);
            if opts.verbosity >= Verbosity::Verbose {
                say(&progress, &status_line(&b.name, &outcome, fresh));
            } else if let (Err(e), Verbosity::Normal) = (&outcome, opts.verbosity) {
                say(&progress, &format!("coroner: {}: {e}", b.name));
            }
            (b.name.clone(), hash, outcome, fresh)
        })
        .collect();
    progress.finish_and_clear();
    let mut state = BTreeMap::new();
    let mut summary = Summary {
        bundles: results.len(),
        ..Summary::default()
    };
    for (name, hash, outcome, fresh) in &results {
        match outcome {
            Ok(report) => {
                if let Some(h) = hash {
                    state.insert(name.clone(), h.clone());
                }
                if *fresh {
                    summary.analysed += 1;
                } else {
                    summary.unchanged += 1;
                }
                summary.worst_severity = summary.worst_severity.max(worst(report));
            }
            Err(_) => summary.errors += 1,
        }
    }
    let rows: Vec<(&str, &Outcome)> = results.iter().map(|r| (r.0.as_str(), &r.2)).collect();
    write(&opts.out.join(INDEX_FILE), &render_index(&rows))?;
    write(&opts.out.join(NDJSON_FILE), &render_ndjson(&rows))?;
    save_state(&opts.out, &state)?;
    Ok(summary)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn say(progress: &ProgressBar, line: &str) {
    if progress.is_hidden() {
        eprintln!("{line}");
    } else {
        progress.println(line);
    }
}

fn status_line(name: &str, outcome: &Outcome, fresh: bool) -> String {
    match outcome {
        Err(e) => format!("{name}: error: {e}"),
        Ok(r) => format!(
            "{name}: {}, {} finding(s), worst {}",
            if fresh { "analysed" } else { "unchanged" },
            findings_of(r).len(),
            worst(r).map(|s| s.as_str()).unwrap_or("none")
        ),
    }
}

/// A bar on stderr when it is a terminal and the user did not ask for quiet.
fn progress_bar(verbosity: Verbosity, total_bytes: u64) -> ProgressBar {
    if verbosity == Verbosity::Quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr()).with_style(style)
}

/// Directories and archives directly under `dir`, by name; hidden entries and OUTDIR skipped.
fn list_bundles(dir: &Path, out: &Path) -> Result<Vec<Bundle>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let out_canon = fs::canonicalize(out).ok();
    let mut bundles = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with('.') || fs::canonicalize(&path).ok() == out_canon && out_canon.is_some()
        {
            continue;
        }
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() || (meta.is_file() && is_archive(&path)) {
            let bytes = if meta.is_dir() {
                dir_bytes(&path)
            } else {
                meta.len()
            };
            bundles.push(Bundle { name, path, bytes });
        }
    }
    bundles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(bundles)
}

fn is_archive(path: &Path) -> bool {
    let mut head = Vec::new();
    let read = fs::File::open(path).and_then(|f| f.take(512).read_to_end(&mut head));
    use crate::bundle::archive::{container, Container};
    read.is_ok() && !matches!(container(&head), Container::Plain)
}

fn dir_bytes(path: &Path) -> u64 {
    let d = crate::bundle::discover(&[path.to_path_buf()]);
    d.inputs
        .iter()
        .filter_map(|i| fs::metadata(&i.path).ok())
        .map(|m| m.len())
        .sum()
}

/// What changes a bundle's result besides its content: the version and the options.
fn options_fingerprint(opts: &AnalyzeOptions, catalog: &Catalog) -> String {
    let ids: Vec<&str> = catalog.signatures.iter().map(|s| s.id.as_str()).collect();
    format!(
        "coroner {} limits={:?} max_line_bytes={} as={:?} clock={:?} signatures={}",
        env!("CARGO_PKG_VERSION"),
        opts.limits,
        opts.max_line_bytes,
        opts.as_kinds,
        opts.clock,
        ids.join(",")
    )
}

/// Analyse one bundle unless its hash matches the previous run's and its report is there.
/// Returns (hash, outcome, analysed now).
fn process(
    b: &Bundle,
    opts: &BatchOptions,
    catalog: &Catalog,
    fingerprint: &str,
    previous: &BTreeMap<String, String>,
) -> (Option<String>, Outcome, bool) {
    if [INDEX_FILE, NDJSON_FILE].contains(&b.name.as_str()) {
        let why = format!("the name clashes with OUTDIR/{}: rename the bundle", b.name);
        return (None, Err(why), true);
    }
    let hash = match content_hash(&b.path, fingerprint) {
        Ok(h) => h,
        Err(e) => return (None, Err(format!("cannot read: {e}")), true),
    };
    let out = opts.out.join(&b.name);
    if previous.get(&b.name) == Some(&hash) {
        if let Some(report) = read_report(&out) {
            return (Some(hash), Ok(report), false);
        }
    }
    let analyze_opts = AnalyzeOptions {
        paths: vec![b.path.clone()],
        ..opts.analyze.clone()
    };
    let report = match std::panic::catch_unwind(|| {
        let mut r = analyze(&analyze_opts, catalog);
        r.context =
            crate::evidence_context(&analyze_opts, &r, crate::report::html::view::CONTEXT_LINES);
        r
    }) {
        Ok(r) => r,
        Err(_) => return (None, Err("internal error while analysing".into()), true),
    };
    if let Err(e) = write_bundle_outputs(&out, &report) {
        return (None, Err(format!("cannot write report: {e}")), true);
    }
    if !report.read_anything() {
        let why = report
            .diagnostics
            .first()
            .map(|d| d.message.clone())
            .or_else(|| report.sources.iter().find_map(|s| s.skipped.clone()))
            .map(|w| format!("nothing could be read: {w}"))
            .unwrap_or_else(|| "nothing could be read".into());
        return (None, Err(why), true);
    }
    match read_report(&out) {
        Some(v) => (Some(hash), Ok(v), true),
        None => (None, Err("report could not be read back".into()), true),
    }
}

fn read_report(out: &Path) -> Option<Value> {
    let text = fs::read_to_string(out.join("report.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// SHA-256 over the fingerprint and the bundle's bytes, streamed: a file's contents, or a
/// directory's paths and contents in walk order (links by what they point to).
pub fn content_hash(path: &Path, fingerprint: &str) -> io::Result<String> {
    let mut h = Sha256::new();
    h.update(fingerprint.as_bytes());
    h.update([0]);
    if fs::metadata(path)?.is_dir() {
        let d = crate::bundle::discover(&[path.to_path_buf()]);
        for s in &d.skipped {
            h.update(format!("skip\0{}\0{}\0", s.display, s.reason).as_bytes());
        }
        for i in &d.inputs {
            h.update(format!("file\0{}\0", i.display).as_bytes());
            hash_file(&mut h, &i.path)?;
        }
    } else {
        hash_file(&mut h, path)?;
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn hash_file(h: &mut Sha256, path: &Path) -> io::Result<()> {
    let mut f = fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut len: u64 = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        h.update(&buf[..n]);
    }
    h.update(len.to_le_bytes());
    Ok(())
}

fn load_state(out: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(out.join(STATE_FILE)).unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if v.get("version").and_then(Value::as_str) != Some(env!("CARGO_PKG_VERSION")) {
        return BTreeMap::new();
    }
    v.get("bundles")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|h| (k.clone(), h.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn save_state(out: &Path, state: &BTreeMap<String, String>) -> Result<(), String> {
    let v = json!({"version": env!("CARGO_PKG_VERSION"), "bundles": state});
    let tmp = out.join(format!("{STATE_FILE}.tmp"));
    let text = serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    write(&tmp, &text)?;
    fs::rename(&tmp, out.join(STATE_FILE))
        .map_err(|e| format!("cannot write {}: {e}", out.join(STATE_FILE).display()))
}

fn findings_of(report: &Value) -> &[Value] {
    report
        .get("findings")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn worst(report: &Value) -> Option<Severity> {
    findings_of(report)
        .iter()
        .filter_map(|f| f.get("severity").and_then(Value::as_str))
        .filter_map(Severity::parse)
        .max()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// One JSON object per finding, with the bundle name; an error object per broken bundle.
pub fn render_ndjson(rows: &[(&str, &Outcome)]) -> String {
    let mut out = String::new();
    for (name, outcome) in rows {
        let objects: Vec<Value> = match outcome {
            Err(e) => vec![json!({"bundle": name, "error": e})],
            Ok(r) => findings_of(r)
                .iter()
                .map(|f| {
                    let mut m = f.as_object().cloned().unwrap_or_else(Map::new);
                    m.insert("bundle".into(), Value::String(name.to_string()));
                    Value::Object(m)
                })
                .collect(),
        };
        for o in objects {
            out.push_str(&o.to_string());
            out.push('\n');
        }
    }
    out
}

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Percent-encode a path component for an href (bundle names are arbitrary file names).
fn encode_href(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

const INDEX_STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
.critical{color:#b00020;font-weight:bold}.warning{color:#a15c00}.info{color:#245}\
.error{color:#b00020}ul{margin:0;padding-left:1.2em}";

/// The batch index: bundles × worst severity × top findings, self-contained, deterministic.
pub fn render_index(rows: &[(&str, &Outcome)]) -> String {
    let mut o = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>coroner batch index</title>\n",
    );
    o.push_str(&format!("<style>{INDEX_STYLE}</style>\n</head>\n<body>\n"));
    o.push_str(&format!(
        "<h1>coroner batch index</h1>\n<p>{} bundle(s)</p>\n<table>\n\
         <thead><tr><th>bundle</th><th>worst severity</th><th>findings</th>\
         <th>top findings</th></tr></thead>\n<tbody>\n",
        rows.len()
    ));
    for (name, outcome) in rows {
        let href = format!("{}/{REPORT_LINK}", encode_href(name));
        let json_href = format!("{}/report.json", encode_href(name));
        let cell = format!(
            "<a href=\"{}\">{}</a> (<a href=\"{}\">json</a>)",
            escape_html(&href),
            escape_html(name),
            escape_html(&json_href)
        );
        match outcome {
            Err(e) => o.push_str(&format!(
                "<tr><td>{}</td><td class=\"error\">error</td><td></td><td class=\"error\">{}</td></tr>\n",
                escape_html(name),
                escape_html(e)
            )),
            Ok(r) => {
                let fs = findings_of(r);
                let sev = worst(r).map(|s| s.as_str()).unwrap_or("none");
                let mut top = String::from("<ul>");
                for f in fs.iter().take(INDEX_TOP_FINDINGS) {
                    let s = str_of(f, "severity");
                    top.push_str(&format!(
                        "<li><span class=\"{}\">{}</span> {} <code>{}</code></li>",
                        escape_html(s),
                        escape_html(s),
                        escape_html(str_of(f, "title")),
                        escape_html(str_of(f, "signature"))
                    ));
                }
                top.push_str("</ul>");
                o.push_str(&format!(
                    "<tr><td>{cell}</td><td class=\"{sev}\">{sev}</td><td>{}</td><td>{top}</td></tr>\n",
                    fs.len()
                ));
            }
        }
    }
    o.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_escapes_everything_and_is_deterministic() {
        let report = json!({"findings": [
            {"severity": "critical", "title": "<script>alert(1)</script>", "signature": "a&b"}
        ]});
        let ok: Outcome = Ok(report);
        let bad: Outcome = Err("bad <gz>".into());
        let rows = vec![("we\"ird <name>", &ok), ("broken", &bad)];
        let html = render_index(&rows);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a&amp;b"));
        assert!(html.contains("we%22ird%20%3Cname%3E/report.html"));
        assert!(html.contains("bad &lt;gz&gt;"));
        assert_eq!(html, render_index(&rows));
        let nd = render_ndjson(&rows);
        let lines: Vec<Value> = nd
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["bundle"], "we\"ird <name>");
        assert_eq!(lines[0]["signature"], "a&b");
        assert_eq!(lines[1]["error"], "bad <gz>");
    }
}
