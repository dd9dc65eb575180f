//! coroner: post-incident forensics for Linux and Kubernetes hosts.
//!
//! The flow (docs/ARCHITECTURE.md): bundle discovery → per-source sniff and scan (ingest +
//! signature engine) → findings → report (text, JSON).

pub mod bundle;
pub mod cli;
pub mod ingest;
pub mod model;
pub mod report;
pub mod scan;
pub mod signatures;

use crate::ingest::Sniff;
use crate::model::{Diagnostic, Hit, Level, Source, SourceKind};
use crate::report::{Report, REPORT_VERSION};
use crate::signatures::Catalog;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

/// What `analyze` needs besides the catalog.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub paths: Vec<PathBuf>,
    pub max_line_bytes: usize,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            paths: Vec::new(),
            max_line_bytes: ingest::lines::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// Read capacity per source: large enough that the sniffer sees its 8 KiB in one fill.
const READ_BUFFER: usize = 256 * 1024;

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

/// Read one source: sniff it, scan it, return its description and its hits.
fn read_source(
    input: &bundle::Input,
    id: usize,
    catalog: &Catalog,
    opts: &AnalyzeOptions,
) -> (Source, Vec<Hit>) {
    let file = match File::open(&input.path) {
        Ok(f) => f,
        Err(e) => {
            return (
                skipped_source(
                    input.display.clone(),
                    SourceKind::Unknown,
                    format!("unreadable: {e}"),
                ),
                Vec::new(),
            )
        }
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, file);
    let head = match reader.fill_buf() {
        Ok(h) => h,
        Err(e) => {
            return (
                skipped_source(
                    input.display.clone(),
                    SourceKind::Unknown,
                    format!("unreadable: {e}"),
                ),
                Vec::new(),
            )
        }
    };
    let kind = match ingest::sniff(head) {
        Sniff::Empty => {
            return (
                skipped_source(
                    input.display.clone(),
                    SourceKind::Unknown,
                    "empty file".into(),
                ),
                Vec::new(),
            )
        }
        Sniff::Binary(why) => {
            return (
                skipped_source(input.display.clone(), SourceKind::Unknown, why),
                Vec::new(),
            )
        }
        Sniff::Text(k) => k,
    };
    let scan = scan::scan_log(reader, id, catalog, opts.max_line_bytes);
    let source = Source {
        path: input.display.clone(),
        kind,
        format: scan.format_name(),
        lines: scan.lines,
        skipped: None,
        diagnostics: scan.diagnostics,
    };
    (source, scan.hits)
}

/// Analyse the PATH arguments into a report. Never fails on input: what cannot be read is
/// described in the report.
pub fn analyze(opts: &AnalyzeOptions, catalog: &Catalog) -> Report {
    let found = bundle::discover(&opts.paths);
    let mut sources = Vec::new();
    let mut hits = Vec::new();
    let mut inputs = found.inputs.clone();
    inputs.sort_by(|a, b| a.display.cmp(&b.display));
    for (i, input) in inputs.iter().enumerate() {
        let (s, h) = read_source(input, i, catalog, opts);
        sources.push(s);
        hits.extend(h);
    }
    // Skipped entries are listed after the read ones, sorted, so source ids stay dense.
    let mut skipped: Vec<Source> = found
        .skipped
        .iter()
        .map(|s| skipped_source(s.display.clone(), SourceKind::Unknown, s.reason.clone()))
        .collect();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let findings = signatures::findings::build(catalog, &sources, &hits);
    sources.extend(skipped);
    // Findings refer to sources by path, so the list can now be shown in path order.
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    let diagnostics = found
        .errors
        .iter()
        .map(|(p, e)| Diagnostic {
            level: Level::Error,
            path: Some(p.clone()),
            line: None,
            message: format!("cannot read: {e}"),
        })
        .collect();
    Report {
        version: REPORT_VERSION,
        sources,
        findings,
        diagnostics,
    }
}
