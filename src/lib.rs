//! coroner: post-incident forensics for Linux and Kubernetes hosts.
//!
//! The flow (docs/ARCHITECTURE.md): bundle opening (files, directories, archives, stdin;
//! `bundle::open` streams each source to a sink) → per-source sniff and scan (ingest +
//! signature engine) → clock resolution and timeline → findings, checks, incidents → report
//! (text, JSON, HTML). `batch` runs it over many bundles.

pub mod batch;
pub mod bundle;
pub mod checks;
pub mod cli;
pub mod incidents;
pub mod ingest;
pub mod model;
pub mod report;
pub mod scan;
pub mod signatures;
pub mod timeline;

use crate::ingest::{Facts, ParseCtx, Sniff};
use crate::model::{Diagnostic, Hit, Level, Source, SourceId, SourceKind};
use crate::report::{Report, REPORT_VERSION};
use crate::signatures::Catalog;
use crate::timeline::observe::ClockObservations;
use crate::timeline::ClockOptions;
use std::collections::{BTreeMap, BTreeSet};
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
    /// `--year` / `--tz`.
    pub clock: ClockOptions,
    /// `--threads`: threads that scan log sources while the bundle is walked. 0: one per core;
    /// 1: everything on the calling thread. The report is the same bytes either way.
    pub threads: usize,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            paths: Vec::new(),
            max_line_bytes: ingest::lines::DEFAULT_MAX_LINE_BYTES,
            limits: bundle::limits::Limits::default(),
            as_kinds: Vec::new(),
            clock: ClockOptions::default(),
            threads: 0,
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
        span: Default::default(),
    }
}

/// What reading one source produced.
pub struct SourceResult {
    pub source: Source,
    pub hits: Vec<Hit>,
    pub facts: Facts,
    pub clock: ClockObservations,
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
    match sniff_source(display, reader, forced) {
        Ok(kind) => read_sniffed(display, reader, kind, id, catalog, opts),
        Err(why) => not_read(display, why),
    }
}

/// The kind of a source from its first bytes (one `fill_buf`, nothing consumed), or why it is
/// not read (unreadable, empty, binary).
fn sniff_source(
    display: &str,
    reader: &mut dyn BufRead,
    forced: Option<SourceKind>,
) -> Result<SourceKind, String> {
    let head = reader.fill_buf().map_err(|e| format!("unreadable: {e}"))?;
    match ingest::sniff(head, display) {
        Sniff::Empty => Err("empty file".into()),
        Sniff::Binary(why) => Err(why),
        Sniff::Text(k) => Ok(forced.unwrap_or(k)),
    }
}

/// A source that is not read, and why.
fn not_read(display: &str, why: String) -> SourceResult {
    SourceResult {
        source: skipped_source(display.to_string(), SourceKind::Unknown, why),
        hits: Vec::new(),
        facts: Facts::default(),
        clock: ClockObservations::default(),
    }
}

/// Read a source whose kind is known: scan it (logs) or parse it (snapshots).
fn read_sniffed(
    display: &str,
    reader: &mut dyn BufRead,
    kind: SourceKind,
    id: SourceId,
    catalog: &Catalog,
    opts: &AnalyzeOptions,
) -> SourceResult {
    let mut facts = Facts::default();
    if kind == SourceKind::Log {
        let scan = scan::scan_log(reader, id, catalog, opts.max_line_bytes);
        let source = Source {
            path: display.to_string(),
            kind,
            format: scan.format_name(),
            lines: scan.lines,
            skipped: None,
            diagnostics: scan.diagnostics,
            span: Default::default(),
        };
        return SourceResult {
            source,
            hits: scan.hits,
            facts,
            clock: scan.clock,
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
            span: Default::default(),
        },
        hits: Vec::new(),
        facts,
        clock: ClockObservations::default(),
    }
}

/// Everything read from a bundle, before conclusions. Index i of `sources`, `clocks` is the
/// source id hits refer to.
#[derive(Default)]
pub struct Collected {
    pub sources: Vec<Source>,
    pub hits: Vec<Hit>,
    pub facts: Facts,
    pub clocks: Vec<ClockObservations>,
    /// Entries not read at all (listed in sources after the read ones).
    pub skipped: Vec<Source>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Collected {
    /// Add one read source; its id is its position.
    pub fn push(&mut self, r: SourceResult) {
        self.sources.push(r.source);
        self.hits.extend(r.hits);
        self.facts.merge(r.facts);
        self.clocks.push(r.clock);
    }
}

/// From read sources to the report: resolve clocks, catalog findings, then checks over facts
/// and findings.
pub fn conclude(catalog: &Catalog, collected: Collected, clock_opts: &ClockOptions) -> Report {
    conclude_detailed(catalog, collected, clock_opts).report
}

/// A report with the clock resolution behind it (to resolve further lines, as
/// `timeline --all` does). `source_paths[i]` is the path of source id `i`.
pub struct Analysis {
    pub report: Report,
    pub resolution: timeline::Resolution,
    pub source_paths: Vec<String>,
}

pub fn conclude_detailed(
    catalog: &Catalog,
    collected: Collected,
    clock_opts: &ClockOptions,
) -> Analysis {
    let Collected {
        mut sources,
        hits,
        facts,
        clocks,
        skipped,
        diagnostics,
    } = collected;
    let source_paths: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
    let snapshot_times = timeline::kubernetes::stated_times(&facts, &sources);
    let resolution = timeline::resolve(&clocks, &source_paths, &hits, clock_opts, &snapshot_times);
    for (s, span) in sources.iter_mut().zip(&resolution.spans) {
        s.span = span.clone();
    }
    let volume = sources
        .iter()
        .zip(&resolution.volume)
        .filter(|(_, v)| !v.is_empty())
        .map(|(s, v)| report::SourceVolume {
            path: s.path.clone(),
            minutes: v.clone(),
        })
        .collect();
    let k8s_events = timeline::kubernetes::events(&facts, &sources, &resolution.clock);
    let timeline =
        timeline::events::notable(catalog, &sources, &hits, &clocks, &resolution, k8s_events);
    let facts = &facts;
    let hits = &hits[..];
    let mut findings = signatures::findings::build(catalog, &sources, hits, &resolution);
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
    let incidents = incidents::correlate(&findings);
    let report = Report {
        context: Default::default(),
        version: REPORT_VERSION,
        sources,
        clock: resolution.clock.notes.clone(),
        timeline,
        incidents,
        volume,
        findings,
        checks,
        missing,
        diagnostics,
    };
    Analysis {
        report,
        resolution,
        source_paths,
    }
}

/// Analyse the PATH arguments into a report. Never fails on input: what cannot be read is
/// described in the report.
pub fn analyze(opts: &AnalyzeOptions, catalog: &Catalog) -> Report {
    analyze_detailed(opts, catalog).report
}

/// Hands every source the bundle reader opens to `read_source_as`, in reading order: the
/// source id is the position (path order for directories and zips, archive order for tar).
/// With a worker pool (`bundle/pool.rs`), log sources are scanned on the workers while the walk
/// goes on; results are put back in id order, so the output does not depend on the threads.
struct Collector<'a, 'p> {
    catalog: &'a Catalog,
    opts: &'a AnalyzeOptions,
    collected: Collected,
    /// Results of sources read on this thread, by id (workers' results join them at the end).
    results: Vec<(SourceId, SourceResult)>,
    next_id: SourceId,
    pool: Option<&'p bundle::pool::Pool>,
}

impl<'a, 'p> Collector<'a, 'p> {
    fn new(
        catalog: &'a Catalog,
        opts: &'a AnalyzeOptions,
        collected: Collected,
        pool: Option<&'p bundle::pool::Pool>,
    ) -> Self {
        Collector {
            catalog,
            opts,
            collected,
            results: Vec::new(),
            next_id: 0,
            pool,
        }
    }

    fn take_id(&mut self) -> SourceId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// What was read on this thread, with the ids the workers' results will fill in.
    fn finish(self) -> Walked {
        Walked {
            collected: self.collected,
            results: self.results,
        }
    }
}

/// The walk's outcome before results are put in order.
struct Walked {
    /// Skipped entries and diagnostics, in walk order.
    collected: Collected,
    results: Vec<(SourceId, SourceResult)>,
}

/// Every source result in id order into `collected`: the order a sequential run pushes them.
fn merge_by_id(walked: Walked, from_workers: Vec<(SourceId, SourceResult)>) -> Collected {
    let Walked {
        mut collected,
        mut results,
    } = walked;
    results.extend(from_workers);
    results.sort_by_key(|(id, _)| *id);
    for (_, r) in results {
        collected.push(r);
    }
    collected
}

impl bundle::Sink for Collector<'_, '_> {
    fn source(&mut self, display: &str, reader: &mut dyn BufRead, forced: Option<SourceKind>) {
        let id = self.take_id();
        let Some(pool) = self.pool else {
            let r = read_source_as(display, reader, id, self.catalog, self.opts, forced);
            self.results.push((id, r));
            return;
        };
        let r = match sniff_source(display, reader, forced) {
            Err(why) => not_read(display, why),
            // A log is scanned to its end (or first read error), so streaming its bytes to a
            // worker reads exactly what reading it here would: the limits see the same bytes.
            Ok(SourceKind::Log) => match pool.stream(id, display, reader) {
                bundle::pool::Streamed::HandedOff => return,
                bundle::pool::Streamed::Small(mut bytes) => read_sniffed(
                    display,
                    &mut bytes,
                    SourceKind::Log,
                    id,
                    self.catalog,
                    self.opts,
                ),
            },
            // Snapshots are small, and a parser may stop before the end: read here.
            Ok(kind) => read_sniffed(display, reader, kind, id, self.catalog, self.opts),
        };
        self.results.push((id, r));
    }

    fn file(
        &mut self,
        display: &str,
        mut reader: bundle::FileReader,
        forced: Option<SourceKind>,
    ) -> Result<(), bundle::FileReader> {
        let Some(pool) = self.pool else {
            return Err(reader);
        };
        // Only logs, which are read to their end: the file's size charged up front is then
        // what reading it would have charged.
        match sniff_source(display, &mut reader, forced) {
            Ok(SourceKind::Log) => {}
            _ => return Err(reader),
        }
        let id = self.take_id();
        pool.file(id, display, reader)
            .inspect_err(|_| self.next_id -= 1)
    }

    fn skip(&mut self, display: &str, reason: String) {
        self.collected.skipped.push(skipped_source(
            display.to_string(),
            SourceKind::Unknown,
            reason,
        ));
    }

    fn diagnostic(&mut self, d: Diagnostic) {
        self.collected.diagnostics.push(d);
    }
}

fn open_options(opts: &AnalyzeOptions, diagnostics: &mut Vec<Diagnostic>) -> bundle::OpenOptions {
    let layout = match bundle::layout::Layout::new(&opts.as_kinds) {
        Ok(l) => l,
        Err(e) => {
            diagnostics.push(Diagnostic {
                level: Level::Error,
                path: None,
                line: None,
                message: format!("--as ignored: {e}"),
            });
            bundle::layout::Layout::default()
        }
    };
    bundle::OpenOptions {
        limits: opts.limits,
        layout,
    }
}

/// `analyze`, keeping the clock resolution.
pub fn analyze_detailed(opts: &AnalyzeOptions, catalog: &Catalog) -> Analysis {
    let mut collected = Collected::default();
    let open = open_options(opts, &mut collected.diagnostics);
    let workers = bundle::pool::workers(opts.threads);
    let collected = if workers == 0 {
        let mut c = Collector::new(catalog, opts, collected, None);
        bundle::open(&opts.paths, &open, &mut c);
        merge_by_id(c.finish(), Vec::new())
    } else {
        // Workers only ever get log sources (see `Collector`).
        let scan = |id: SourceId, display: &str, reader: &mut dyn BufRead| {
            read_sniffed(display, reader, SourceKind::Log, id, catalog, opts)
        };
        let (walked, from_workers) = bundle::pool::run(workers, &scan, |pool| {
            let mut c = Collector::new(catalog, opts, collected, Some(pool));
            bundle::open(&opts.paths, &open, &mut c);
            c.finish()
        });
        merge_by_id(walked, from_workers)
    };
    conclude_detailed(catalog, collected, &opts.clock)
}

/// Re-reads the bundle for `visit_log_lines`, numbering sources exactly as the analysis did.
struct LineVisitor<'a, 'v> {
    analysis: &'a Analysis,
    max_line_bytes: usize,
    next_id: SourceId,
    visit: &'v mut dyn FnMut(SourceId, u64, &str),
}

impl bundle::Sink for LineVisitor<'_, '_> {
    fn source(&mut self, display: &str, reader: &mut dyn BufRead, _forced: Option<SourceKind>) {
        let id = self.next_id;
        self.next_id += 1;
        if self.analysis.source_paths.get(id).map(String::as_str) != Some(display) {
            return;
        }
        let is_log = self
            .analysis
            .report
            .sources
            .iter()
            .any(|s| s.path == display && s.kind == SourceKind::Log && s.skipped.is_none());
        if !is_log {
            return;
        }
        let mut lines = ingest::lines::LineReader::new(reader, self.max_line_bytes);
        while let Ok(Some(l)) = lines.next_line() {
            (self.visit)(id, l.number, &l.text);
        }
    }

    fn skip(&mut self, _display: &str, _reason: String) {}

    fn diagnostic(&mut self, _d: Diagnostic) {}
}

/// Visit every line of every log source again, in reading order: (source id, line number,
/// text). Used by `timeline --all` after `analyze_detailed` resolved the clocks. Standard
/// input cannot be read twice, so `-` yields nothing here.
pub fn visit_log_lines(
    opts: &AnalyzeOptions,
    analysis: &Analysis,
    visit: &mut dyn FnMut(SourceId, u64, &str),
) {
    let mut v = LineVisitor {
        analysis,
        max_line_bytes: opts.max_line_bytes,
        next_id: 0,
        visit,
    };
    let open = open_options(opts, &mut Vec::new());
    let paths: Vec<PathBuf> = opts
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    bundle::open(&paths, &open, &mut v);
}

/// Longest context line kept: the HTML excerpt clips long lines anyway.
const CONTEXT_LINE_BYTES: usize = 2048;

/// Reads the lines the evidence context needs, source by source, stopping after the last.
struct ContextSink {
    needed: BTreeMap<String, BTreeSet<u64>>,
    max_line_bytes: usize,
    out: BTreeMap<String, BTreeMap<u64, String>>,
}

impl bundle::Sink for ContextSink {
    fn source(&mut self, display: &str, reader: &mut dyn BufRead, _forced: Option<SourceKind>) {
        let Some(lines) = self.needed.get(display) else {
            return;
        };
        let Some(&last) = lines.iter().next_back() else {
            return;
        };
        let mut got = BTreeMap::new();
        let mut r = ingest::lines::LineReader::new(reader, self.max_line_bytes);
        while let Ok(Some(l)) = r.next_line() {
            if lines.contains(&l.number) {
                let mut t = l.text.into_owned();
                if t.len() > CONTEXT_LINE_BYTES {
                    let mut cut = CONTEXT_LINE_BYTES;
                    while !t.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    t.truncate(cut);
                }
                got.insert(l.number, t);
            }
            if l.number >= last {
                break;
            }
        }
        self.out.insert(display.to_string(), got);
    }

    fn skip(&mut self, _display: &str, _reason: String) {}

    fn diagnostic(&mut self, _d: Diagnostic) {}
}

/// The `radius` lines before and after every evidence line of the report's findings, read
/// again from the bundle (files and archives; standard input cannot be read twice), for the
/// HTML report's excerpts. Only sources with evidence are read, each up to its last needed line.
pub fn evidence_context(
    opts: &AnalyzeOptions,
    report: &Report,
    radius: u64,
) -> BTreeMap<String, BTreeMap<u64, String>> {
    let mut needed: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for f in &report.findings {
        for e in &f.evidence {
            let set = needed.entry(e.path.clone()).or_default();
            for l in e.line.saturating_sub(radius).max(1)..=e.line + radius {
                if l != e.line {
                    set.insert(l);
                }
            }
        }
    }
    let mut sink = ContextSink {
        needed,
        max_line_bytes: opts.max_line_bytes,
        out: BTreeMap::new(),
    };
    let open = open_options(opts, &mut Vec::new());
    let paths: Vec<PathBuf> = opts
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    bundle::open(&paths, &open, &mut sink);
    sink.out
}
