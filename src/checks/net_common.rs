//! Helpers shared by the `net.*` checks: socket lists of every kind, evidence from rows,
//! numbers formatted for people, findings assembled the same way.

use super::{CheckContext, CheckedFact};
use crate::ingest::sockets::{RowRef, SocketList};
use crate::model::{Evidence, Fields, Finding, Fix, Severity};
use crate::signatures::findings::EVIDENCE_CAP;

/// Every socket list of the bundle: `ss` lists, then `netstat` state lists.
pub fn socket_lists<'a>(ctx: &'a CheckContext) -> Vec<&'a SocketList> {
    ctx.facts
        .ss
        .lists
        .iter()
        .chain(ctx.facts.netstat.lists.iter())
        .collect()
}

pub fn evidence(ctx: &CheckContext, row: &RowRef) -> Evidence {
    ctx.evidence(row.source, row.line, &row.text)
}

pub fn fact(
    ctx: &CheckContext,
    name: &str,
    value: impl Into<String>,
    row: Option<&RowRef>,
) -> CheckedFact {
    CheckedFact {
        name: name.to_string(),
        value: value.into(),
        path: row.map(|r| ctx.path(r.source)),
        line: row.map(|r| r.line),
    }
}

/// A fact computed over a whole source (an aggregate), located by its path only.
pub fn fact_in(
    ctx: &CheckContext,
    name: &str,
    value: impl Into<String>,
    source: crate::model::SourceId,
) -> CheckedFact {
    CheckedFact {
        name: name.to_string(),
        value: value.into(),
        path: Some(ctx.path(source)),
        line: None,
    }
}

/// `27900` → `27,900`.
pub use crate::signatures::template::thousands_u64 as thousands;

/// `0.9882` → `98.8%`.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// A check's finding: one event, evidence deduplicated in order and capped like the catalog's.
pub fn finding(
    id: &str,
    severity: Severity,
    title: &str,
    summary: String,
    fields: Fields,
    evidence: Vec<Evidence>,
    fixes: Vec<Fix>,
) -> Finding {
    let mut kept: Vec<Evidence> = Vec::new();
    let mut omitted = 0u64;
    for e in evidence {
        if kept.contains(&e) {
            continue;
        }
        if kept.len() < EVIDENCE_CAP {
            kept.push(e);
        } else {
            omitted += 1;
        }
    }
    Finding {
        signature: id.to_string(),
        severity,
        title: title.to_string(),
        summary,
        count: 1,
        first: None,
        last: None,
        fields,
        evidence: kept,
        evidence_omitted: omitted,
        fixes,
    }
}

/// Evidence of the first few lines of a log finding.
pub fn log_evidence(f: &Finding, max: usize) -> impl Iterator<Item = Evidence> + '_ {
    f.evidence.iter().take(max).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(28232), "28,232");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
