//! The report model (one for every output format) and its renderers. Renderers know nothing
//! of parsing: they read this model only.

pub mod html;
pub mod json;
pub mod text;

use crate::checks::{CheckReport, Missing};
use crate::incidents::Incident;
use crate::model::{Diagnostic, Finding, Severity, Source};
use crate::timeline::events::TimelineEvent;
use crate::timeline::ClockNote;
use serde::Serialize;

/// JSON format version. Bumped only when a field changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub sources: Vec<Source>,
    /// How the bundle's clocks were resolved (capture time, zone, year, boot anchors) and from where.
    pub clock: Vec<ClockNote>,
    /// Notable events (signature hits, boots) in time order, copies across files merged.
    pub timeline: Vec<TimelineEvent>,
    /// Findings from different sources that describe one failure, with a narrative.
    pub incidents: Vec<Incident>,
    /// Lines per resolved minute for each source with resolved times, for charts.
    /// Not part of the JSON interface.
    #[serde(skip)]
    pub volume: Vec<SourceVolume>,
    /// Lines around evidence lines (path → line → text), read again for the HTML excerpts.
    /// Empty unless a renderer asked for it. Not part of the JSON interface.
    #[serde(skip)]
    pub context: std::collections::BTreeMap<String, std::collections::BTreeMap<u64, String>>,
    pub findings: Vec<Finding>,
    /// Every analytic check that ran, with its status and the facts it read.
    pub checks: Vec<CheckReport>,
    /// Evidence that would settle an open question, with the command that collects it.
    pub missing: Vec<Missing>,
    /// Problems not tied to one source (a PATH that does not exist).
    pub diagnostics: Vec<Diagnostic>,
}

/// Event volume of one source over time.
#[derive(Debug, Clone, Default)]
pub struct SourceVolume {
    pub path: String,
    pub minutes: Vec<(chrono::DateTime<chrono::Utc>, u64)>,
}

impl Report {
    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Whether anything at all was read (a source that was not skipped).
    pub fn read_anything(&self) -> bool {
        self.sources.iter().any(|s| s.skipped.is_none())
    }
}
