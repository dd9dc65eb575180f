//! coroner: post-incident forensics for Linux and Kubernetes hosts.
//!
//! The flow (docs/ARCHITECTURE.md): bundle opening (files, directories, archives, stdin;
//! `bundle::open` streams each source to a sink) → per-source sniff and scan (ingest +
//! signature engine) → findings → report (text, JSON). `batch` runs it over many bundles.

pub mod batch;
pub mod bundle;
pub mod checks;
pub mod cli;
pub mod ingest;
pub mod model;
pub mod report;
pub mod scan;
pub mod signatures;

use crate::ingest::{Facts, ParseCtx, Sniff};
use crate::model::{Diagnostic, Hit, Level, Source, SourceId, SourceKind};
use crate::report::{Report, REPORT_VERSION};
use crate::signatures::Catalog;
use std::io::BufRead;
use std::path::PathBuf;

/// What `analyze` needs besides the catalog.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Files, directories, archives, compressed files; `-` for standard input.
    pub paths: Vec<PathBuf>,
    pub max_line_bytes: usize,
    /// Bytes, ratio and entry limits (`--max-total-bytes`, `--max-ratio`, `--max-entries`).
    pub limits: bundle::limits::Limits,
    /// `--as KIND=GLOB` overrides of content sniffing.
    pub as_kinds: Vec<bundle::layout::Override>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            paths: Vec::new(),
            max_line_bytes: ingest::lines::DEFAULT_MAX_LINE_BYTES,
            limits: bundle::limits::Limits::default(),
            as_kinds: Vec::new(),
        }
    }
}

fn skipped_source(path: String, kind: SourceKind, reason: String) -> Source {
    Source {
        path,
        kind,
        format: String::new(),
        lines: 0,
        skipped: Some(reason),
        diagnostics: Vec::new(),
    }
}

/// What reading one source produced.
pub struct SourceResult {
    pub source: Source,
    pub hits: Vec<Hit>,
    pub facts: Facts,
}

/// Read one source from any buffered reader (a file, an archive member, stdin): sniff its
/// kind from the first bytes, then scan it (logs) or parse it (snapshots).
pub fn read_source(
    display: &str,
    reader: &mut dyn BufRead,
    id: SourceId,
    catalog: &Catalog,
    opts: &AnalyzeOptions,
) -> SourceResult {
    read_source_as(display, reader, id, catalog, opts, None)
}

/// `read_source` with the kind possibly known in advance (`--as`, a known bundle layout):
/// then the content detectors are skipped, but binary and empty content is still refused.
pub fn read_source_as(
    display: &str,
    reader: &mut dyn BufRead,
    id: SourceId,
    catalog: &Catalog,
    opts: &AnalyzeOptions,
    forced: Option<SourceKind>,
) -> SourceResult {
    let mut facts = Facts::default();
    let skipped = |kind: SourceKind, why: String| SourceResult {
        source: skipped_source(display.to_string(), kind, why),
        hits: Vec::new(),
        facts: Facts::default(),
    };
    let head = match reader.fill_buf() {
        Ok(h) => h,
        Err(e) => return skipped(SourceKind::Unknown, format!("unreadable: {e}")),
    };
    let kind = match ingest::sniff(head, display) {
        Sniff::Empty => return skipped(SourceKind::Unknown, "empty file".into()),
        Sniff::Binary(why) => return skipped(SourceKind::Unknown, why),
        Sniff::Text(k) => forced.unwrap_or(k),
    };
    if kind == SourceKind::Log {
        let scan = scan::scan_log(reader, id, catalog, opts.max_line_bytes);
        let source = Source {
            path: display.to_string(),
            kind,
            format: scan.format_name(),
            lines: scan.lines,
            skipped: None,
            diagnostics: scan.diagnostics,
        };
        return SourceResult {
            source,
            hits: scan.hits,
            facts,
        };
    }
    let ctx = ParseCtx {
        source: id,
        path: display.to_string(),
        max_line_bytes: opts.max_line_bytes,
    };
    let (lines, format, diagnostics) = ingest::parse_snapshot(kind, reader, &ctx, &mut facts);
    SourceResult {
        source: Source {
            path: display.to_string(),
            kind,
            format,
            lines,
            skipped: None,
            diagnostics,
        },
        hits: Vec::new(),
        facts,
    }
}

/// From read sources to the report: catalog findings, then checks over facts and findings.
pub fn conclude(
    catalog: &Catalog,
    mut sources: Vec<Source>,
    hits: &[Hit],
    facts: &Facts,
    skipped: Vec<Source>,
    diagnostics: Vec<Diagnostic>,
) -> Report {
    let mut findings = signatures::findings::build(catalog, &sources, hits);
    let checks = checks::run_all(&checks::CheckContext {
        facts,
        log_findings: &findings,
        sources: &sources,
    });
    let mut missing: Vec<checks::Missing> = Vec::new();
    for c in &checks {
        findings.extend(c.findings.iter().cloned());
        missing.extend(c.missing.iter().cloned());
    }
    missing.sort();
    missing.dedup();
    // Stable: within a severity, catalog findings keep their order, then checks in check order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    sources.extend(skipped);
    // Findings refer to sources by path, so the list can now be shown in path order.
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    Report {
        version: REPORT_VERSION,
        sources,
        findings,
        checks,
        missing,
        diagnostics,
    }
}

/// Collects what the bundle reader hands over into the parts of a report. Source ids are
/// assigned in reading order (path order for directories and zips, archive order for tar).
struct Collector<'a> {
    catalog: &'a Catalog,
    opts: &'a AnalyzeOptions,
    sources: Vec<Source>,
    hits: Vec<Hit>,
    facts: Facts,
    skipped: Vec<Source>,
    diagnostics: Vec<Diagnostic>,
}

impl bundle::Sink for Collector<'_> {
    fn source(&mut self, display: &str, reader: &mut dyn BufRead, forced: Option<SourceKind>) {
        let id = self.sources.len();
        let r = read_source_as(display, reader, id, self.catalog, self.opts, forced);
        self.sources.push(r.source);
        self.hits.extend(r.hits);
        self.facts.merge(r.facts);
    }

    fn skip(&mut self, display: &str, reason: String) {
        self.skipped.push(skipped_source(
            display.to_string(),
            SourceKind::Unknown,
            reason,
        ));
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }
}

/// Analyse the PATH arguments into a report. Never fails on input: what cannot be read is
/// described in the report.
pub fn analyze(opts: &AnalyzeOptions, catalog: &Catalog) -> Report {
    let mut c = Collector {
        catalog,
        opts,
        sources: Vec::new(),
        hits: Vec::new(),
        facts: Facts::default(),
        skipped: Vec::new(),
        diagnostics: Vec::new(),
    };
    let layout = match bundle::layout::Layout::new(&opts.as_kinds) {
        Ok(l) => l,
        Err(e) => {
            c.diagnostics.push(Diagnostic {
                level: Level::Error,
                path: None,
                line: None,
                message: format!("--as ignored: {e}"),
            });
            bundle::layout::Layout::default()
        }
    };
    let open = bundle::OpenOptions {
        limits: opts.limits,
        layout,
    };
    bundle::open(&opts.paths, &open, &mut c);
    conclude(
        catalog,
        c.sources,
        &c.hits,
        &c.facts,
        c.skipped,
        c.diagnostics,
    )
}
