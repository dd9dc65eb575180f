//! Command line: arguments → validated options → run → exit code.
//!
//! Exit codes (public): 0 analysis completed; 1 a finding at or above `--fail-on`;
//! 2 usage error, bad `--signatures` file, or nothing at all could be read.

use crate::model::Severity;
use crate::report;
use crate::signatures::{template, Catalog};
use crate::timeline::{ClockOptions, Zone};
use crate::{analyze, AnalyzeOptions};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "coroner",
    version,
    about = "Post-incident forensics for Linux and Kubernetes hosts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse log files and directories; print findings with evidence and fixes.
    Analyze(AnalyzeArgs),
    /// List the signature catalog, or document one signature.
    Signatures(SignaturesArgs),
    /// Analyse every bundle directly under DIR (directories and archives) into OUTDIR.
    Batch(BatchArgs),
    /// Print the merged timeline: notable events (or every line with --all), times in UTC.
    Timeline(TimelineArgs),
}

#[derive(clap::Args, Debug)]
pub struct TimelineArgs {
    /// Files and directories to read.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Only events at or after this time (RFC 3339, or `2026-11-21 14:00` in UTC).
    #[arg(long, value_name = "TIME", value_parser = crate::timeline::view::parse_time)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events at or before this time.
    #[arg(long, value_name = "TIME", value_parser = crate::timeline::view::parse_time)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only hits of these signatures (repeatable; not with --all).
    #[arg(long = "signature", value_name = "ID", conflicts_with = "all")]
    pub signature: Vec<String>,
    /// Every line of every log, not only notable events.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Text)]
    pub format: TimelineFormat,
    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Extra signature files or directories of them.
    #[arg(long = "signatures", value_name = "FILE_OR_DIR")]
    pub signatures: Vec<PathBuf>,
    #[arg(long, value_name = "BYTES", default_value_t = crate::ingest::lines::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub bundle: BundleArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
}

/// `timeline` prints text or JSON (the HTML report has its own timeline).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineFormat {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Info,
    Warning,
    Critical,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Critical => Severity::Critical,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Files and directories to analyse (directories are walked recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format (default: from the -o extension, else text).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when any finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Extra signature files or directories of them (TOML, same format as the built-ins).
    #[arg(long = "signatures", value_name = "FILE_OR_DIR")]
    pub signatures: Vec<PathBuf>,
    /// Longest line read in full; longer lines are cut and reported.
    #[arg(long, value_name = "BYTES", default_value_t = crate::ingest::lines::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    #[command(flatten)]
    pub clock: ClockArgs,
    #[command(flatten)]
    pub bundle: BundleArgs,
}

/// How year-less and zone-less stamps are resolved when the bundle does not say.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ClockArgs {
    /// Year of year-less stamps (syslog, journalctl short), overriding the bundle's capture date.
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
    /// Zone of zone-less stamps: an IANA name (Europe/Berlin) or an offset (+01:00).
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub tz: Option<Zone>,
}

impl ClockArgs {
    pub fn options(&self) -> ClockOptions {
        ClockOptions {
            year: self.year,
            tz: self.tz,
        }
    }
}

/// How bundles are opened: limits and kind overrides (shared by `analyze` and `batch`).
#[derive(clap::Args, Debug, Clone)]
pub struct BundleArgs {
    /// Stop reading after this many decompressed bytes in total (the rest is listed as not read).
    #[arg(long, value_name = "BYTES", default_value_t = crate::bundle::limits::DEFAULT_MAX_TOTAL_BYTES)]
    pub max_total_bytes: u64,
    /// Stop an entry whose decompressed size exceeds this many times its compressed size.
    #[arg(long, value_name = "RATIO", default_value_t = crate::bundle::limits::DEFAULT_MAX_RATIO)]
    pub max_ratio: u64,
    /// Stop reading a bundle after this many entries.
    #[arg(long, value_name = "N", default_value_t = crate::bundle::limits::DEFAULT_MAX_ENTRIES)]
    pub max_entries: u64,
    /// Read paths matching GLOB (inside the bundle) as KIND, without sniffing (repeatable).
    #[arg(long = "as", value_name = "KIND=GLOB", value_parser = crate::bundle::layout::parse_override)]
    pub as_kinds: Vec<crate::bundle::layout::Override>,
    /// Threads that read and scan log sources side by side (0: one per core; 1: no extra
    /// threads). The report is the same bytes whatever the number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

impl BundleArgs {
    pub fn limits(&self) -> crate::bundle::limits::Limits {
        crate::bundle::limits::Limits {
            max_total_bytes: self.max_total_bytes,
            max_ratio: self.max_ratio.max(1),
            max_entries: self.max_entries,
            ..Default::default()
        }
    }
}

fn parse_zone(s: &str) -> Result<Zone, String> {
    Zone::parse(s).ok_or_else(|| {
        format!("`{s}` is neither an IANA zone name (Europe/Berlin) nor an offset (+01:00)")
    })
}

#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// Directory whose entries (directories and archives) are bundles.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Output directory: OUTDIR/<bundle>/report.{json,txt}, index.html, findings.ndjson.
    #[arg(short = 'o', long = "output", value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Re-analyse every bundle, even those unchanged since the last run.
    #[arg(long)]
    pub force: bool,
    /// Exit 1 when any finding of any bundle is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Extra signature files or directories of them.
    #[arg(long = "signatures", value_name = "FILE_OR_DIR")]
    pub signatures: Vec<PathBuf>,
    /// Longest line read in full.
    #[arg(long, value_name = "BYTES", default_value_t = crate::ingest::lines::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    #[command(flatten)]
    pub bundle: BundleArgs,
    /// Print nothing on standard error but fatal errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// One line per bundle on standard error (analysed, unchanged or error).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(flatten)]
    pub clock: ClockArgs,
}

#[derive(clap::Args, Debug)]
pub struct SignaturesArgs {
    /// Signature id to document (omit to list all).
    pub id: Option<String>,
    /// Extra signature files or directories to include.
    #[arg(long = "signatures", value_name = "FILE_OR_DIR")]
    pub signatures: Vec<PathBuf>,
    /// Print the prefilter's literal set (one per line, sorted, deduplicated): every pattern
    /// literal plus the record assembler's. Used by scripts/bench.sh to run `rg` on the same set.
    #[arg(long, conflicts_with = "id")]
    pub literals: bool,
}

/// Parse the process arguments and run. A closed stdout pipe is success.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(run(cli))
}

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Analyze(a) => run_analyze(a),
        Command::Signatures(s) => run_signatures(s),
        Command::Timeline(t) => run_timeline(t),
        Command::Batch(b) => run_batch(b),
    }
}

fn load_catalog(paths: &[PathBuf]) -> Result<Catalog, u8> {
    Catalog::load(paths).map_err(|e| {
        eprintln!("coroner: bad signature file {e}");
        EXIT_USAGE
    })
}

fn format_for(args: &AnalyzeArgs) -> Format {
    if let Some(f) = args.format {
        return f;
    }
    match args
        .output
        .as_deref()
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
    {
        Some("json") => Format::Json,
        Some("html" | "htm") => Format::Html,
        _ => Format::Text,
    }
}

/// Write to stdout; a reader that went away (`| head`) is not an error.
fn emit(output: Option<&Path>, text: &str) -> Result<(), String> {
    match output {
        Some(p) => {
            std::fs::write(p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
        }
        None => {
            let mut out = io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(format!("cannot write to standard output: {e}")),
            }
        }
    }
}

/// The one place command-line input flags become `AnalyzeOptions` (analyze, timeline, batch).
fn analyze_options(
    paths: Vec<PathBuf>,
    max_line_bytes: usize,
    clock: &ClockArgs,
    bundle: &BundleArgs,
) -> AnalyzeOptions {
    AnalyzeOptions {
        paths,
        max_line_bytes,
        clock: clock.options(),
        limits: bundle.limits(),
        as_kinds: bundle.as_kinds.clone(),
        threads: bundle.threads,
    }
}

fn run_analyze(args: AnalyzeArgs) -> u8 {
    let catalog = match load_catalog(&args.signatures) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = analyze_options(
        args.paths.clone(),
        args.max_line_bytes,
        &args.clock,
        &args.bundle,
    );
    let mut report = analyze(&opts, &catalog);
    for d in &report.diagnostics {
        eprintln!(
            "coroner: {}: {}",
            d.path.as_deref().unwrap_or("input"),
            d.message
        );
    }
    let text = match format_for(&args) {
        Format::Text => report::text::render(&report),
        Format::Json => report::json::render(&report),
        Format::Html => {
            // Excerpts show the lines around each evidence line: a second, targeted read.
            report.context =
                crate::evidence_context(&opts, &report, report::html::view::CONTEXT_LINES);
            report::html::render(&report)
        }
    };
    if let Err(e) = emit(args.output.as_deref(), &text) {
        eprintln!("coroner: {e}");
        return EXIT_USAGE;
    }
    if !report.read_anything() {
        eprintln!("coroner: nothing could be read from the given paths");
        return EXIT_USAGE;
    }
    match (args.fail_on, report.worst_severity()) {
        (Some(t), Some(w)) if w >= t.severity() => EXIT_FINDINGS,
        _ => EXIT_OK,
    }
}

fn run_timeline(args: TimelineArgs) -> u8 {
    use crate::timeline::view::{self, AllLines, Filter};
    let catalog = match load_catalog(&args.signatures) {
        Ok(c) => c,
        Err(code) => return code,
    };
    for id in &args.signature {
        if catalog.get(id).is_none() {
            eprintln!("coroner: no signature `{id}` (run `coroner signatures` for the list)");
            return EXIT_USAGE;
        }
    }
    let opts = analyze_options(
        args.paths.clone(),
        args.max_line_bytes,
        &args.clock,
        &args.bundle,
    );
    let analysis = crate::analyze_detailed(&opts, &catalog);
    for d in &analysis.report.diagnostics {
        eprintln!(
            "coroner: {}: {}",
            d.path.as_deref().unwrap_or("input"),
            d.message
        );
    }
    if !analysis.report.read_anything() {
        eprintln!("coroner: nothing could be read from the given paths");
        return EXIT_USAGE;
    }
    let filter = Filter {
        since: args.since,
        until: args.until,
        signatures: args.signature.clone(),
    };
    let text = if args.all {
        let mut all = AllLines::default();
        crate::visit_log_lines(&opts, &analysis, &mut |source, line, text| {
            let p = crate::ingest::log::parse_line(text);
            let (t, ts) = analysis.resolution.resolve_line(source, &p.stamp, line);
            let path = analysis
                .source_paths
                .get(source)
                .map(String::as_str)
                .unwrap_or("?");
            let row = view::TimedLine {
                time: None,
                time_source: ts,
                path: path.to_string(),
                line,
                text: text.to_string(),
            };
            all.push(&filter, source, t, row);
        });
        let lines = all.finish();
        match args.format {
            TimelineFormat::Text => view::lines_text(&lines),
            TimelineFormat::Json => view::to_json(&lines),
        }
    } else {
        let events = view::select(&analysis.report.timeline, &filter);
        match args.format {
            TimelineFormat::Text => view::events_text(&events),
            TimelineFormat::Json => view::to_json(&events),
        }
    };
    match emit(args.output.as_deref(), &text) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("coroner: {e}");
            EXIT_USAGE
        }
    }
}

fn run_batch(args: BatchArgs) -> u8 {
    let catalog = match load_catalog(&args.signatures) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = crate::batch::BatchOptions {
        dir: args.dir.clone(),
        out: args.output.clone(),
        force: args.force,
        analyze: analyze_options(Vec::new(), args.max_line_bytes, &args.clock, &args.bundle),
        verbosity: if args.quiet {
            crate::batch::Verbosity::Quiet
        } else {
            crate::batch::Verbosity::from_count(args.verbose)
        },
    };
    let summary = match crate::batch::run(&opts, &catalog) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("coroner: {e}");
            return EXIT_USAGE;
        }
    };
    match (args.fail_on, summary.worst_severity) {
        (Some(t), Some(w)) if w >= t.severity() => EXIT_FINDINGS,
        _ => EXIT_OK,
    }
}

fn run_signatures(args: SignaturesArgs) -> u8 {
    let catalog = match load_catalog(&args.signatures) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let text = match &args.id {
        None if args.literals => literal_set(&catalog),
        None => {
            let mut v: Vec<_> = catalog.signatures.iter().collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            let w = v.iter().map(|s| s.id.len()).max().unwrap_or(0);
            v.iter()
                .map(|s| format!("{:<w$}  {:<8}  {}\n", s.id, s.severity.as_str(), s.title))
                .collect::<String>()
        }
        Some(id) => match catalog.get(id) {
            Some(s) => document(s),
            None => {
                eprintln!("coroner: no signature `{id}` (run `coroner signatures` for the list)");
                return EXIT_USAGE;
            }
        },
    };
    match emit(None, &text) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("coroner: {e}");
            EXIT_USAGE
        }
    }
}

/// The prefilter's literals, one per line: what `rg -F -i -f` needs to scan for the same set.
fn literal_set(catalog: &Catalog) -> String {
    let mut lits: Vec<&str> = catalog
        .signatures
        .iter()
        .flat_map(|s| s.patterns.iter())
        .flat_map(|p| p.literals.iter().map(String::as_str))
        .chain(crate::ingest::kernel_report::structural_literals())
        .collect();
    lits.sort_unstable();
    lits.dedup();
    lits.iter().map(|l| format!("{l}\n")).collect()
}

/// One signature's documentation: what it detects, why it matters, the fix.
fn document(s: &crate::signatures::Signature) -> String {
    let mut o = format!(
        "{}  ({})\n{}\n\nWhat it detects\n  {}\n\nWhy it matters\n  {}\n\nFix\n",
        s.id,
        s.severity,
        s.title,
        s.what.trim().replace('\n', "\n  "),
        s.why.trim().replace('\n', "\n  ")
    );
    for f in &s.fixes {
        o.push_str(&format!("  {}\n", f.title));
        for l in f.text.trim_end().lines() {
            o.push_str(&format!("    {l}\n"));
        }
    }
    o.push_str("\nExample\n");
    for ex in s.examples.iter().take(1) {
        for l in ex.text.trim_end().lines() {
            o.push_str(&format!("  {l}\n"));
        }
    }
    o.push_str(&format!("\nSource: {}\n", s.origin));
    let _ = template::FILTERS;
    o
}
