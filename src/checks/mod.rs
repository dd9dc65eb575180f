//! Analytic checks: small modules over Facts (and the catalog's log findings), one job each,
//! thresholds as named constants with the reason. Each check reports whether it fired, was
//! healthy, or had nothing to look at, with the facts it read, so a reader can rule causes out.

pub mod fd_low_soft_limit;
pub mod fd_near_limit;
pub mod k8s;
pub mod mem_cgroup_near_limit;
pub mod net_accept_queue;
pub mod net_client_pool;
pub mod net_close_wait;
pub mod net_common;
pub mod net_ephemeral_ports;
pub mod net_sysctl_review;

use crate::ingest::Facts;
use crate::model::{Evidence, Finding, Source};
use serde::Serialize;

/// `fired`: it produced findings; `healthy`: it looked and found headroom;
/// `not-applicable`: the bundle lacks what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    Fired,
    Healthy,
    NotApplicable,
}

impl CheckStatus {
    /// Fired when it produced findings, healthy when it assessed something, else not applicable.
    pub fn of(fired: bool, assessed: bool) -> CheckStatus {
        match (fired, assessed) {
            (true, _) => CheckStatus::Fired,
            (false, true) => CheckStatus::Healthy,
            (false, false) => CheckStatus::NotApplicable,
        }
    }
}

/// One value a check looked at, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedFact {
    /// What the value is, e.g. `net.core.somaxconn` or `open fds of pid 4242`.
    pub name: String,
    pub value: String,
    pub path: Option<String>,
    pub line: Option<u64>,
}

/// Evidence that would settle an open question, and how to collect it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Missing {
    /// The check (or signature) that wants it.
    pub check: String,
    /// What to collect, e.g. `memory.stat of the OOM-killed container's cgroup`.
    pub what: String,
    /// Why it matters here.
    pub why: String,
    /// The command that collects it.
    pub command: String,
}

/// What one check concluded.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    pub facts: Vec<CheckedFact>,
    /// One line on what was concluded (the healthy case included: "127 of 1024 fds in use").
    pub note: String,
    #[serde(skip)]
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub missing: Vec<Missing>,
}

impl CheckReport {
    pub fn new(id: &str, title: &str) -> Self {
        CheckReport {
            id: id.to_string(),
            title: title.to_string(),
            status: CheckStatus::NotApplicable,
            facts: Vec::new(),
            note: String::new(),
            findings: Vec::new(),
            missing: Vec::new(),
        }
    }
}

/// What a check may read.
pub struct CheckContext<'a> {
    pub facts: &'a Facts,
    /// Findings of the log signature catalog (e.g. `fd.emfile` makes `fd.near-limit` critical).
    pub log_findings: &'a [Finding],
    pub sources: &'a [Source],
}

impl CheckContext<'_> {
    /// Display path of a source id.
    pub fn path(&self, source: crate::model::SourceId) -> String {
        self.sources
            .get(source)
            .map(|s| s.path.clone())
            .unwrap_or_default()
    }

    pub fn evidence(&self, source: crate::model::SourceId, line: u64, text: &str) -> Evidence {
        Evidence {
            path: self.path(source),
            line,
            text: text.to_string(),
        }
    }

    pub fn log_findings_of<'b>(
        &'b self,
        signature: &'b str,
    ) -> impl Iterator<Item = &'b Finding> + 'b {
        self.log_findings
            .iter()
            .filter(move |f| f.signature == signature)
    }
}

/// A check: a stable public id and a pure function of the context.
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub run: fn(&CheckContext) -> CheckReport,
}

/// Every check, in the order they run and are listed.
pub const ALL: &[Check] = &[
    Check {
        id: net_ephemeral_ports::ID,
        title: "Ephemeral port exhaustion",
        run: net_ephemeral_ports::run,
    },
    Check {
        id: net_accept_queue::ID,
        title: "Accept queue overflow",
        run: net_accept_queue::run,
    },
    Check {
        id: net_client_pool::ID,
        title: "Client pool capped at a default",
        run: net_client_pool::run,
    },
    Check {
        id: net_close_wait::ID,
        title: "CLOSE-WAIT leak",
        run: net_close_wait::run,
    },
    Check {
        id: net_sysctl_review::ID,
        title: "Network sysctl review",
        run: net_sysctl_review::run,
    },
    Check {
        id: fd_near_limit::ID,
        title: fd_near_limit::TITLE,
        run: fd_near_limit::run,
    },
    Check {
        id: fd_low_soft_limit::ID,
        title: fd_low_soft_limit::TITLE,
        run: fd_low_soft_limit::run,
    },
    Check {
        id: mem_cgroup_near_limit::ID,
        title: mem_cgroup_near_limit::TITLE,
        run: mem_cgroup_near_limit::run,
    },
    Check {
        id: k8s::oomkilled::ID,
        title: k8s::oomkilled::TITLE,
        run: k8s::oomkilled::run,
    },
    Check {
        id: k8s::sigkill::ID,
        title: k8s::sigkill::TITLE,
        run: k8s::sigkill::run,
    },
    Check {
        id: k8s::crashloop::ID,
        title: k8s::crashloop::TITLE,
        run: k8s::crashloop::run,
    },
    Check {
        id: k8s::node_memory_pressure::ID,
        title: k8s::node_memory_pressure::TITLE,
        run: k8s::node_memory_pressure::run,
    },
    Check {
        id: k8s::eviction::ID,
        title: k8s::eviction::TITLE,
        run: k8s::eviction::run,
    },
    Check {
        id: k8s::system_oom::ID,
        title: k8s::system_oom::TITLE,
        run: k8s::system_oom::run,
    },
    Check {
        id: k8s::runtime_heap::ID,
        title: k8s::runtime_heap::TITLE,
        run: k8s::runtime_heap::run,
    },
    Check {
        id: k8s::no_memory_limit::ID,
        title: k8s::no_memory_limit::TITLE,
        run: k8s::no_memory_limit::run,
    },
];

/// Run every check.
pub fn run_all(ctx: &CheckContext) -> Vec<CheckReport> {
    ALL.iter().map(|c| (c.run)(ctx)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_findings_then_assessment() {
        assert_eq!(CheckStatus::of(true, false), CheckStatus::Fired);
        assert_eq!(CheckStatus::of(true, true), CheckStatus::Fired);
        assert_eq!(CheckStatus::of(false, true), CheckStatus::Healthy);
        assert_eq!(CheckStatus::of(false, false), CheckStatus::NotApplicable);
    }
}
