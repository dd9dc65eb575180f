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
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
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

fn parse_zone(s: &str) -> Result<Zone, String> {
    Zone::parse(s).ok_or_else(|| {
        format!("`{s}` is neither an IANA zone name (Europe/Berlin) nor an offset (+01:00)")
    })
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

fn run_analyze(args: AnalyzeArgs) -> u8 {
    let catalog = match load_catalog(&args.signatures) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = AnalyzeOptions {
        paths: args.paths.clone(),
        max_line_bytes: args.max_line_bytes,
        clock: args.clock.options(),
    };
    let report = analyze(&opts, &catalog);
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
