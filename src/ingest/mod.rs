//! Input kinds: each module is a pure function from bytes (or lines) to typed records.
//! This module sniffs which kind a source is from its first bytes.

pub mod k8s;
pub mod k8s_object;
pub mod kernel_report;
pub mod kubectl_describe;
pub mod lines;
pub mod log;
pub mod lsof;
pub mod memory_stat;
pub mod netstat;
pub mod proc_limits;
pub mod sockets;
pub mod ss;
pub mod sysctl;

use crate::model::{Diagnostic, SourceId, SourceKind};
use std::io::BufRead;

/// What a snapshot parser knows about the source it reads.
#[derive(Debug, Clone)]
pub struct ParseCtx {
    pub source: SourceId,
    /// Display path inside the bundle (`proc/4242/limits`): a hint for pids and cgroup dirs.
    pub path: String,
    pub max_line_bytes: usize,
}

/// A snapshot parser's result for one source.
#[derive(Debug, Clone, Default)]
pub struct Parsed<T> {
    pub facts: T,
    /// Physical lines read.
    pub lines: u64,
    /// The detected variant (`ss-tanp`, `describe-pod`, `cgroup-v2` ...), shown as `sources[].format`.
    pub format: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Everything the snapshot parsers extracted from the bundle, one field per input kind.
/// Each module owns its `Facts` type; checks read them here.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub kubectl_describe: kubectl_describe::Facts,
    pub k8s_object: k8s_object::Facts,
    pub ss: ss::Facts,
    pub netstat: netstat::Facts,
    pub lsof: lsof::Facts,
    pub proc_limits: proc_limits::Facts,
    pub memory_stat: memory_stat::Facts,
    pub sysctl: sysctl::Facts,
}

impl Facts {
    /// Fold one source's facts into the bundle's.
    pub fn merge(&mut self, other: Facts) {
        self.kubectl_describe.merge(other.kubectl_describe);
        self.k8s_object.merge(other.k8s_object);
        self.ss.merge(other.ss);
        self.netstat.merge(other.netstat);
        self.lsof.merge(other.lsof);
        self.proc_limits.merge(other.proc_limits);
        self.memory_stat.merge(other.memory_stat);
        self.sysctl.merge(other.sysctl);
    }
}

/// Content detectors, most specific first. Logs are the fallback for any other text.
/// `detect(head, path)`: whether a source is of a kind.
type Detector = fn(&str, &str) -> bool;

const DETECTORS: &[(SourceKind, Detector)] = &[
    (SourceKind::KubectlDescribe, kubectl_describe::detect),
    (SourceKind::K8sObject, k8s_object::detect),
    (SourceKind::ProcLimits, proc_limits::detect),
    (SourceKind::MemoryStat, memory_stat::detect),
    (SourceKind::Ss, ss::detect),
    (SourceKind::Netstat, netstat::detect),
    (SourceKind::Lsof, lsof::detect),
    (SourceKind::Sysctl, sysctl::detect),
];

/// Parse a snapshot source of `kind` into `facts`. Returns (lines, format, diagnostics).
/// Logs are not parsed here: they are scanned (`scan.rs`).
pub fn parse_snapshot(
    kind: SourceKind,
    reader: &mut dyn BufRead,
    ctx: &ParseCtx,
    facts: &mut Facts,
) -> (u64, String, Vec<Diagnostic>) {
    macro_rules! run {
        ($m:ident) => {{
            let p = $m::parse(reader, ctx);
            facts.$m.merge(p.facts);
            (p.lines, p.format, p.diagnostics)
        }};
    }
    match kind {
        SourceKind::KubectlDescribe => run!(kubectl_describe),
        SourceKind::K8sObject => run!(k8s_object),
        SourceKind::Ss => run!(ss),
        SourceKind::Netstat => run!(netstat),
        SourceKind::Lsof => run!(lsof),
        SourceKind::ProcLimits => run!(proc_limits),
        SourceKind::MemoryStat => run!(memory_stat),
        SourceKind::Sysctl => run!(sysctl),
        SourceKind::Log | SourceKind::Unknown => (0, String::new(), Vec::new()),
    }
}

/// How many leading bytes the sniffer looks at.
pub const SNIFF_BYTES: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniff {
    Empty,
    /// Not text: the reason, for the sources section.
    Binary(String),
    Text(SourceKind),
}

/// Classify a source from its first bytes. Content decides; the path is only a hint that
/// detectors may use for files whose content alone is ambiguous (a bare `1073741824` in
/// `memory.max`, `4096` in `proc/sys/net/core/somaxconn`).
pub fn sniff(head: &[u8], path: &str) -> Sniff {
    if head.is_empty() {
        return Sniff::Empty;
    }
    if let Some(reason) = binary_reason(head) {
        return Sniff::Binary(reason);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(SNIFF_BYTES)]);
    for (kind, detect) in DETECTORS {
        if detect(&text, path) {
            return Sniff::Text(*kind);
        }
    }
    Sniff::Text(SourceKind::Log)
}

fn binary_reason(head: &[u8]) -> Option<String> {
    let magic: &[(&[u8], &str)] = &[
        (
            b"LPKSHHRH",
            "a binary systemd journal file (export it with `journalctl --file FILE -o json`)",
        ),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"\xfd7zXZ\x00", "xz-compressed data"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
        (b"PK\x03\x04", "a zip archive"),
        (b"BZh", "bzip2-compressed data"),
        (b"\x7fELF", "an ELF executable"),
    ];
    for (m, what) in magic {
        if head.starts_with(m) {
            return Some(format!("binary: {what}"));
        }
    }
    if head.len() > 262 && &head[257..262] == b"ustar" {
        return Some("binary: a tar archive".into());
    }
    let sample = &head[..head.len().min(SNIFF_BYTES)];
    if memchr::memchr(0, sample).is_some() {
        return Some("binary: NUL bytes in the first 8 KiB".into());
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    if control * 10 > sample.len() {
        return Some("binary: mostly control bytes".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_text_binary_and_empty() {
        assert_eq!(sniff(b"", "x"), Sniff::Empty);
        assert_eq!(
            sniff(b"Nov 21 14:23:07 h kernel: x\n", "x"),
            Sniff::Text(SourceKind::Log)
        );
        assert!(matches!(sniff(b"ab\x00cd", "x"), Sniff::Binary(_)));
        assert!(matches!(sniff(b"\x1f\x8b\x08\x00", "x"), Sniff::Binary(r) if r.contains("gzip")));
        assert!(
            matches!(sniff(b"LPKSHHRH\x00\x00", "x"), Sniff::Binary(r) if r.contains("journal"))
        );
        assert!(matches!(sniff(&[1u8; 100], "x"), Sniff::Binary(_)));
        assert_eq!(
            sniff("caf\u{e9} \u{1f600}\n".as_bytes(), "x"),
            Sniff::Text(SourceKind::Log)
        );
    }
}
