//! The report model (one for every output format) and its renderers. Renderers know nothing
//! of parsing: they read this model only.

pub mod html;
pub mod json;
pub mod text;

use crate::checks::{CheckReport, Missing};
use crate::model::{Diagnostic, Finding, Severity, Source};
use serde::Serialize;

/// JSON format version. Bumped only when a field changes meaning or goes away.
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub sources: Vec<Source>,
    pub findings: Vec<Finding>,
    /// Every analytic check that ran, with its status and the facts it read.
    pub checks: Vec<CheckReport>,
    /// Evidence that would settle an open question, with the command that collects it.
    pub missing: Vec<Missing>,
    /// Problems not tied to one source (a PATH that does not exist).
    pub diagnostics: Vec<Diagnostic>,
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
