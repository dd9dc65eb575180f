//! The data every stage shares: sources, locations, stamps, evidence, findings, diagnostics.
//!
//! Parsers produce these, the signature engine and checks consume them, the report
//! renders them. Nothing here knows how it was parsed or how it will be shown.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::fmt;

/// What kind of input a source is. The kebab-case names are the public JSON `kind` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Log,
    KubectlDescribe,
    K8sObject,
    Ss,
    Netstat,
    Lsof,
    ProcLimits,
    MemoryStat,
    Sysctl,
    Unknown,
}

impl SourceKind {
    pub const ALL: [SourceKind; 10] = [
        SourceKind::Log,
        SourceKind::KubectlDescribe,
        SourceKind::K8sObject,
        SourceKind::Ss,
        SourceKind::Netstat,
        SourceKind::Lsof,
        SourceKind::ProcLimits,
        SourceKind::MemoryStat,
        SourceKind::Sysctl,
        SourceKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Log => "log",
            SourceKind::KubectlDescribe => "kubectl-describe",
            SourceKind::K8sObject => "k8s-object",
            SourceKind::Ss => "ss",
            SourceKind::Netstat => "netstat",
            SourceKind::Lsof => "lsof",
            SourceKind::ProcLimits => "proc-limits",
            SourceKind::MemoryStat => "memory-stat",
            SourceKind::Sysctl => "sysctl",
            SourceKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index of a source in the analysis' source list.
pub type SourceId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// Something that could not be read, parsed or trusted. Shown in the report, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    /// The input path it is about, for diagnostics not attached to a source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line the diagnostic is about, when it is about one.
    pub line: Option<u64>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(level: Level, line: Option<u64>, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            path: None,
            line,
            message: message.into(),
        }
    }
    pub fn warning(line: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, line, message)
    }
    pub fn info(line: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(Level::Info, line, message)
    }
}

/// One input file after reading: what it was, how much of it was read, and what went wrong.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// Path relative to the PATH argument that contained it (the file name for a single file).
    pub path: String,
    pub kind: SourceKind,
    /// The detected format within the kind (e.g. `dmesg`, `journalctl-short-iso`, `mixed`).
    pub format: String,
    /// Physical lines read.
    pub lines: u64,
    /// Why the whole source was skipped (binary, hidden, empty, unreadable), or null.
    pub skipped: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// First and last resolved time, and how many stamps could not be resolved.
    #[serde(flatten)]
    pub span: crate::timeline::SourceSpan,
}

/// What the text says about when something happened, before any resolution.
/// Parsers record exactly this; only the timeline turns it into UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Stamp {
    /// A full date, time and zone (`short-iso`, RFC 5424, journal JSON, `short-full` with a zone).
    Wall(DateTime<FixedOffset>),
    /// A full date and time with no zone (nginx, Go's `log`, Java/Python default layouts).
    WallNoZone(NaiveDateTime),
    /// Month, day and time with no year and no zone (syslog files, journalctl `short`, klog).
    NoYear {
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        nanos: u32,
    },
    /// Microseconds since boot (`dmesg`, `short-monotonic`).
    SinceBoot(u64),
    /// `dmesg -T`: a wall clock the kernel computed from boot time, known to drift after suspend.
    Approximate(NaiveDateTime),
    #[default]
    Missing,
}

impl Stamp {
    /// The UTC instant when the text alone states it fully; `None` when the timeline must resolve it.
    pub fn stated_utc(&self) -> Option<DateTime<Utc>> {
        match self {
            Stamp::Wall(t) => Some(t.with_timezone(&Utc)),
            _ => None,
        }
    }

    /// A short text form of what the source stated, for the report.
    pub fn describe(&self) -> String {
        match self {
            Stamp::Wall(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            Stamp::WallNoZone(t) | Stamp::Approximate(t) => {
                t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
            }
            Stamp::NoYear {
                month,
                day,
                hour,
                minute,
                second,
                nanos,
            } => {
                let mut s = format!("--{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
                if *nanos > 0 {
                    s.push_str(&format!(".{:06}", nanos / 1000));
                }
                s
            }
            Stamp::SinceBoot(us) => {
                format!("+{}.{:06}s since boot", us / 1_000_000, us % 1_000_000)
            }
            Stamp::Missing => String::new(),
        }
    }
}

/// RFC 3339 in UTC, the one time format of the JSON output.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// One line of evidence: where it is and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: String,
    /// 1-based physical line.
    pub line: u64,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A remedy, with numbers filled in from the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    pub text: String,
}

/// A typed field value in a finding. Integers stay integers in JSON.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    Int(i64),
    Text(String),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Text(s) => f.write_str(s),
        }
    }
}

pub type Fields = std::collections::BTreeMap<String, FieldValue>;

/// A conclusion: one signature or check that fired, with everything that backs it.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub signature: String,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    /// How many events (hits) the finding groups.
    pub count: u64,
    /// First and last time, RFC 3339 UTC, when known.
    pub first: Option<String>,
    pub last: Option<String>,
    pub fields: Fields,
    pub evidence: Vec<Evidence>,
    /// Evidence lines beyond the cap that were counted but not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub evidence_omitted: u64,
    pub fixes: Vec<Fix>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One signature match: a line or a multi-line record, with what it captured.
/// The engine produces hits; `signatures::findings` groups them into findings.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Index of the signature in the catalog in use.
    pub signature: usize,
    pub source: SourceId,
    pub first_line: u64,
    pub last_line: u64,
    pub stamp: Stamp,
    pub mono_us: Option<u64>,
    pub boot_id: Option<String>,
    pub host: Option<String>,
    pub program: Option<String>,
    /// Named captures in regex order.
    pub captures: Vec<(String, String)>,
    /// Physical lines that back the hit: (line, text as written in the file).
    pub evidence: Vec<(u64, String)>,
}
