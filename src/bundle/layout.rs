//! Known bundle layouts: a path inside the bundle → the kind of its content, decided before
//! content sniffing, and the paths that are known noise. Paths match at any depth (a
//! sosreport usually sits under `sosreport-<host>-<date>/`, or inside a support bundle).
//!
//! Order of decision for one entry: `--as KIND=GLOB` overrides, then `NOISE` (skipped), then
//! `LAYOUT`, then content sniffing (`ingest::sniff`).

use crate::model::SourceKind;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Path globs (relative to any directory of the bundle) → kind. First match wins.
/// `*` stays inside one path component, `**` crosses them.
const LAYOUT: &[(&str, SourceKind)] = &[
    // sosreport (sos_commands/<plugin>/<command with spaces as _>)
    ("sos_commands/kernel/dmesg*", SourceKind::Log),
    ("sos_commands/logs/journalctl_*", SourceKind::Log),
    ("sos_commands/networking/ss_*", SourceKind::Ss),
    ("sos_commands/networking/netstat_*", SourceKind::Netstat),
    ("sos_commands/process/lsof_*", SourceKind::Lsof),
    ("sos_commands/kernel/sysctl_-a", SourceKind::Sysctl),
    ("proc/[0-9]*/limits", SourceKind::ProcLimits),
    ("proc/self/limits", SourceKind::ProcLimits),
    ("proc/sys/**", SourceKind::Sysctl),
    ("sys/fs/cgroup/**/memory.stat", SourceKind::MemoryStat),
    ("var/log/messages*", SourceKind::Log),
    ("var/log/kern.log*", SourceKind::Log),
    ("var/log/syslog*", SourceKind::Log),
    ("var/log/dmesg*", SourceKind::Log),
    // Kubernetes support bundles (troubleshoot.sh): cluster resources as JSON lists, pod
    // logs, host collectors' journald output.
    ("cluster-resources/pods/logs/**", SourceKind::Log),
    ("cluster-resources/**/*.json", SourceKind::K8sObject),
    ("host-collectors/journald/**", SourceKind::Log),
    ("host-collectors/run-host/journalctl*", SourceKind::Log),
    // `kubectl cluster-info dump --output-directory DIR`: DIR/<ns>/{pods,events,…}.json and
    // DIR/<ns>/<pod>/logs.txt.
    ("*/pods.json", SourceKind::K8sObject),
    ("*/events.json", SourceKind::K8sObject),
    ("*/replicasets.json", SourceKind::K8sObject),
    ("*/deployments.json", SourceKind::K8sObject),
    ("*/daemonsets.json", SourceKind::K8sObject),
    ("*/services.json", SourceKind::K8sObject),
    ("nodes.json", SourceKind::K8sObject),
    ("*/*/logs.txt", SourceKind::Log),
];

/// Known noise: path glob → why it is skipped.
const NOISE: &[(&str, &str)] = &[
    (
        "sos_reports/**",
        "sosreport's own report of what it collected, not evidence",
    ),
    ("sos_logs/**", "sosreport's own run log, not evidence"),
    (
        "var/log/journal/**",
        "binary systemd journal files (sosreport also ships them exported under sos_commands/logs)",
    ),
    (
        "*.journal",
        "a binary systemd journal file (export it with `journalctl --file FILE -o json`)",
    ),
    (
        "*.journal~",
        "a binary systemd journal file (export it with `journalctl --file FILE -o json`)",
    ),
];

/// Compression suffixes stripped before matching (`messages-20261115.gz` is still `messages*`).
const COMPRESSED_SUFFIXES: &[&str] = &[".gz", ".xz", ".zst"];

/// A `--as KIND=GLOB` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub kind: SourceKind,
    pub glob: String,
}

/// Parse `KIND=GLOB` (for the `--as` flag). KIND is a public kind name other than `unknown`.
pub fn parse_override(spec: &str) -> Result<Override, String> {
    let (kind, glob) = spec
        .split_once('=')
        .ok_or_else(|| format!("`{spec}`: expected KIND=GLOB"))?;
    let kind = match SourceKind::parse(kind.trim()) {
        Some(SourceKind::Unknown) | None => {
            let names: Vec<&str> = SourceKind::ALL
                .iter()
                .filter(|k| **k != SourceKind::Unknown)
                .map(|k| k.as_str())
                .collect();
            return Err(format!(
                "unknown kind `{kind}` (one of: {})",
                names.join(", ")
            ));
        }
        Some(k) => k,
    };
    glob_matcher(glob).map_err(|e| format!("`{glob}`: {e}"))?;
    Ok(Override {
        kind,
        glob: glob.to_string(),
    })
}

fn glob_matcher(glob: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(glob).literal_separator(true).build()
}

fn anywhere(glob: &str) -> Result<Glob, globset::Error> {
    glob_matcher(&format!("{{{glob},**/{glob}}}"))
}

/// The compiled table plus the user's overrides.
#[derive(Debug, Clone)]
pub struct Layout {
    overrides: GlobSet,
    override_kinds: Vec<SourceKind>,
    layout: GlobSet,
    noise: GlobSet,
}

fn build(globs: impl Iterator<Item = Result<Glob, globset::Error>>) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(g.map_err(|e| e.to_string())?);
    }
    b.build().map_err(|e| e.to_string())
}

impl Layout {
    /// The built-in table with `overrides` (matched against the whole path inside the bundle).
    pub fn new(overrides: &[Override]) -> Result<Layout, String> {
        Ok(Layout {
            overrides: build(overrides.iter().map(|o| glob_matcher(&o.glob)))?,
            override_kinds: overrides.iter().map(|o| o.kind).collect(),
            layout: build(LAYOUT.iter().map(|(g, _)| anywhere(g)))?,
            noise: build(NOISE.iter().map(|(g, _)| anywhere(g)))?,
        })
    }

    /// The kind a path is known to hold, if any: `--as` first, then the layout table.
    pub fn kind_for(&self, path: &str) -> Option<SourceKind> {
        if let Some(i) = self.overrides.matches(path).into_iter().min() {
            return self.override_kinds.get(i).copied();
        }
        let stem = strip_compression(path);
        let i = self
            .layout
            .matches(path)
            .into_iter()
            .chain(self.layout.matches(stem))
            .min()?;
        LAYOUT.get(i).map(|(_, k)| *k)
    }

    /// Why a path is skipped as known noise, if it is (never for a path the user forced).
    pub fn noise(&self, path: &str) -> Option<&'static str> {
        if self.overrides.is_match(path) {
            return None;
        }
        let i = self.noise.matches(path).into_iter().min()?;
        NOISE.get(i).map(|(_, why)| *why)
    }
}

impl Default for Layout {
    fn default() -> Self {
        // The built-in tables are constants covered by tests; an empty set is the safe fallback.
        Layout::new(&[]).unwrap_or(Layout {
            overrides: GlobSet::empty(),
            override_kinds: Vec::new(),
            layout: GlobSet::empty(),
            noise: GlobSet::empty(),
        })
    }
}

fn strip_compression(path: &str) -> &str {
    COMPRESSED_SUFFIXES
        .iter()
        .find_map(|s| path.strip_suffix(s))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_compile() {
        Layout::new(&[]).expect("layout table compiles");
    }

    #[test]
    fn sosreport_paths_map_to_kinds_at_any_depth() {
        let l = Layout::default();
        let k = |p: &str| l.kind_for(p);
        assert_eq!(
            k("sosreport-web-1-2026-11-21/sos_commands/kernel/dmesg"),
            Some(SourceKind::Log)
        );
        assert_eq!(
            k("sos_commands/networking/ss_-peaonmi"),
            Some(SourceKind::Ss)
        );
        assert_eq!(
            k("x/sos_commands/networking/netstat_-s"),
            Some(SourceKind::Netstat)
        );
        assert_eq!(
            k("sos_commands/process/lsof_M_-n_-l_-c"),
            Some(SourceKind::Lsof)
        );
        assert_eq!(k("sos_commands/kernel/sysctl_-a"), Some(SourceKind::Sysctl));
        assert_eq!(k("proc/4242/limits"), Some(SourceKind::ProcLimits));
        assert_eq!(k("s/proc/sys/net/core/somaxconn"), Some(SourceKind::Sysctl));
        assert_eq!(
            k("sys/fs/cgroup/kubepods.slice/memory.stat"),
            Some(SourceKind::MemoryStat)
        );
        assert_eq!(k("var/log/messages-20261115.gz"), Some(SourceKind::Log));
        assert_eq!(k("var/log/kern.log.2.gz"), Some(SourceKind::Log));
        assert_eq!(
            k("bundle/cluster-resources/pods/kube-system.json"),
            Some(SourceKind::K8sObject)
        );
        assert_eq!(
            k("bundle/cluster-resources/pods/logs/default/api-7f9/api.log"),
            Some(SourceKind::Log)
        );
        assert_eq!(k("dump/default/pods.json"), Some(SourceKind::K8sObject));
        assert_eq!(k("dump/default/api-7f9/logs.txt"), Some(SourceKind::Log));
        // Not in the table: sniffed by content.
        assert_eq!(k("proc/meminfo"), None);
        assert_eq!(k("notes/ss.out"), None);
        assert_eq!(k("sos_commands/kernel/dmesg_extra/x"), None);
    }

    #[test]
    fn noise_is_skipped_with_a_reason() {
        let l = Layout::default();
        assert!(l.noise("sosreport-x/sos_logs/sos.log").is_some());
        assert!(l.noise("sos_reports/sos.html").is_some());
        assert!(l
            .noise("var/log/journal/0123/system.journal")
            .is_some_and(|r| r.contains("journal")));
        assert!(l.noise("var/log/messages").is_none());
    }

    #[test]
    fn overrides_win_and_bad_specs_are_refused() {
        let o = parse_override("ss=notes/*.out").expect("valid");
        assert_eq!(o.kind, SourceKind::Ss);
        let l =
            Layout::new(&[o, parse_override("log=var/log/**").expect("valid")]).expect("compiles");
        assert_eq!(l.kind_for("notes/ss.out"), Some(SourceKind::Ss));
        // `*` does not cross `/`.
        assert_eq!(l.kind_for("notes/deep/ss.out"), None);
        assert_eq!(
            l.kind_for("sos_commands/networking/ss_-s"),
            Some(SourceKind::Ss)
        );
        assert!(l.noise("var/log/journal/x.journal").is_none());
        assert!(parse_override("nope=*").is_err());
        assert!(parse_override("unknown=*").is_err());
        assert!(parse_override("ss").is_err());
        assert!(parse_override("ss=[").is_err());
    }
}
