//! Input kinds: each module is a pure function from bytes (or lines) to typed records.
//! This module sniffs which kind a source is from its first bytes.

pub mod kernel_report;
pub mod lines;
pub mod log;

use crate::model::SourceKind;

/// How many leading bytes the sniffer looks at.
pub const SNIFF_BYTES: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniff {
    Empty,
    /// Not text: the reason, for the sources section.
    Binary(String),
    Text(SourceKind),
}

/// Classify a source from its first bytes. Content decides; names are not consulted.
pub fn sniff(head: &[u8]) -> Sniff {
    if head.is_empty() {
        return Sniff::Empty;
    }
    if let Some(reason) = binary_reason(head) {
        return Sniff::Binary(reason);
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
        assert_eq!(sniff(b""), Sniff::Empty);
        assert_eq!(
            sniff(b"Nov 21 14:23:07 h kernel: x\n"),
            Sniff::Text(SourceKind::Log)
        );
        assert!(matches!(sniff(b"ab\x00cd"), Sniff::Binary(_)));
        assert!(matches!(sniff(b"\x1f\x8b\x08\x00"), Sniff::Binary(r) if r.contains("gzip")));
        assert!(matches!(sniff(b"LPKSHHRH\x00\x00"), Sniff::Binary(r) if r.contains("journal")));
        assert!(matches!(sniff(&[1u8; 100]), Sniff::Binary(_)));
        assert_eq!(
            sniff("caf\u{e9} \u{1f600}\n".as_bytes()),
            Sniff::Text(SourceKind::Log)
        );
    }
}
