//! `sysctl -a` output, `proc/sys/...` value files in a bundle, and `grep -r . /proc/sys/net`
//! listings (`/proc/sys/net/ipv4/tcp_fin_timeout:60`).
//!
//! Values are kept as written (multi-number values like `ip_local_port_range` are separated
//! by a tab in the kernel's output); `SysctlValue::numbers` splits them.

use super::sockets::{self, BadLines, RowRef};
use super::{ParseCtx, Parsed};
use crate::model::Diagnostic;
use std::collections::BTreeMap;
use std::io::BufRead;

/// One key's value and the line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct SysctlValue {
    /// As written after `key = ` (tabs kept).
    pub raw: String,
    pub row: RowRef,
}

impl SysctlValue {
    /// The whitespace-separated integers of the value (`32768\t60999` → [32768, 60999]);
    /// `None` when any part is not an integer.
    pub fn numbers(&self) -> Option<Vec<i64>> {
        let v: Option<Vec<i64>> = self
            .raw
            .split_whitespace()
            .map(|p| p.parse().ok())
            .collect();
        v.filter(|v| !v.is_empty())
    }

    /// The value as one integer.
    pub fn int(&self) -> Option<i64> {
        match self.numbers()?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Key (`net.core.somaxconn`) → value. Across sources the first (in path order) wins.
    pub values: BTreeMap<String, SysctlValue>,
}

impl Facts {
    /// Fold another source's facts into these (sources are parsed independently).
    pub fn merge(&mut self, other: Facts) {
        for (k, v) in other.values {
            self.values.entry(k).or_insert(v);
        }
    }

    pub fn get(&self, key: &str) -> Option<&SysctlValue> {
        self.values.get(key)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key)?.int()
    }
}

/// Top-level sysctl namespaces (`ls /proc/sys`).
const ROOTS: &[&str] = &[
    "abi", "crypto", "debug", "dev", "fs", "fscache", "kernel", "net", "sunrpc", "user", "vm",
    "xen",
];

fn is_key(k: &str) -> bool {
    let Some((root, rest)) = k.split_once('.') else {
        return false;
    };
    ROOTS.contains(&root)
        && !rest.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '@' | ':'))
}

/// `net.core.somaxconn = 4096` → (key, value).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(" = ").or_else(|| {
        // `kernel.domainname = ` with an empty value ends in " =".
        line.strip_suffix(" =").map(|k| (k, ""))
    })?;
    is_key(k.trim()).then(|| (k.trim(), v))
}

/// `/proc/sys/net/ipv4/tcp_fin_timeout:60` → (key, value).
fn grep_line(line: &str) -> Option<(String, &str)> {
    let i = line.find("proc/sys/")?;
    let rest = &line[i + "proc/sys/".len()..];
    let (path, v) = rest.split_once(':')?;
    let key = path.replace('/', ".");
    is_key(&key).then_some((key, v))
}

/// The key a `proc/sys/...` file holds, from its display path.
fn key_from_path(path: &str) -> Option<String> {
    let i = path.find("proc/sys/")?;
    let key = path[i + "proc/sys/".len()..]
        .trim_matches('/')
        .replace('/', ".");
    is_key(&key).then_some(key)
}

/// Whether `head` with `path` is sysctl output. A file under `proc/sys/` holds a bare value,
/// which content alone cannot tell from anything else: the path decides.
pub fn detect(head: &str, path: &str) -> bool {
    if key_from_path(path).is_some() && head.lines().count() <= 4 {
        return true;
    }
    let mut keys = 0usize;
    let mut others = 0usize;
    for line in head.lines().take(200) {
        let t = line.trim();
        if t.is_empty() || t.starts_with("sysctl: ") {
            continue;
        }
        if key_value(t).is_some() || grep_line(t).is_some() {
            keys += 1;
        } else {
            others += 1;
        }
    }
    keys >= 2 && keys >= others
}

/// Parse one sysctl source.
pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut diagnostics = Vec::new();
    let mut bad = BadLines::default();
    let mut values: BTreeMap<String, SysctlValue> = BTreeMap::new();
    let path_key = key_from_path(&ctx.path);
    let mut refused: Vec<(u64, String)> = Vec::new();
    let mut refused_total = 0u64;
    let mut format = "";
    let src = ctx.source;

    let lines = sockets::for_each_line(reader, ctx.max_line_bytes, &mut diagnostics, |n, text| {
        let row = || RowRef {
            source: src,
            line: n,
            text: text.to_string(),
        };
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            return;
        }
        if let Some(msg) = t.strip_prefix("sysctl: ") {
            // `sysctl: permission denied on key 'fs.protected_hardlinks'`,
            // `sysctl: reading key "net.ipv6.conf.all.stable_secret"`.
            refused_total += 1;
            if refused.len() < 5 {
                refused.push((n, msg.to_string()));
            }
            return;
        }
        if let Some((k, v)) = key_value(text) {
            values.entry(k.to_string()).or_insert(SysctlValue {
                raw: v.to_string(),
                row: row(),
            });
            format = "sysctl-a";
            return;
        }
        if let Some((k, v)) = grep_line(t) {
            values.entry(k).or_insert(SysctlValue {
                raw: v.to_string(),
                row: row(),
            });
            format = "proc-sys-grep";
            return;
        }
        if let Some(k) = &path_key {
            if n == 1 {
                values.insert(
                    k.clone(),
                    SysctlValue {
                        raw: text.trim_end().to_string(),
                        row: row(),
                    },
                );
                format = "proc-sys-file";
                return;
            }
        }
        bad.add(n, "not a sysctl line");
    });

    for (n, msg) in &refused {
        diagnostics.push(Diagnostic::info(Some(*n), format!("sysctl: {msg}")));
    }
    if refused_total > refused.len() as u64 {
        diagnostics.push(Diagnostic::info(
            None,
            format!(
                "{} more `sysctl:` error line(s) not listed",
                refused_total - refused.len() as u64
            ),
        ));
    }
    bad.finish(&mut diagnostics);
    if values.is_empty() {
        diagnostics.push(Diagnostic::warning(None, "no sysctl value recognised"));
    }
    Parsed {
        facts: Facts { values },
        lines,
        format: format.to_string(),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, path: &str) -> Parsed<Facts> {
        let ctx = ParseCtx {
            source: 0,
            path: path.into(),
            max_line_bytes: 1 << 20,
        };
        parse(&mut text.as_bytes(), &ctx)
    }

    #[test]
    fn detects_sysctl_a_proc_files_and_grep_listings() {
        assert!(detect(
            "net.core.somaxconn = 4096\nnet.ipv4.tcp_fin_timeout = 60\n",
            "x"
        ));
        assert!(detect(
            "32768\t60999\n",
            "proc/sys/net/ipv4/ip_local_port_range"
        ));
        assert!(detect(
            "/proc/sys/net/core/somaxconn:4096\n/proc/sys/net/ipv4/tcp_tw_reuse:2\n",
            "x"
        ));
        assert!(!detect("32768\t60999\n", "sys/fs/cgroup/memory.max"));
        assert!(!detect(
            "Nov 21 14:23:07 host kernel: net.core.somaxconn = 1\n",
            "x"
        ));
    }

    #[test]
    fn proc_sys_file_value_keeps_the_tab() {
        let p = run(
            "32768\t60999\n",
            "bundle/proc/sys/net/ipv4/ip_local_port_range",
        );
        let v = p.facts.get("net.ipv4.ip_local_port_range").expect("key");
        assert_eq!(v.raw, "32768\t60999");
        assert_eq!(v.numbers(), Some(vec![32768, 60999]));
        assert_eq!(v.row.line, 1);
        assert_eq!(p.format, "proc-sys-file");
    }

    #[test]
    fn garbage_is_a_diagnostic() {
        let p = run("hello world\n\u{fffd}\u{fffd}\n", "x");
        assert!(p.facts.values.is_empty());
        assert_eq!(p.diagnostics.len(), 3, "{:?}", p.diagnostics);
        let p = run("net.core.somaxconn = \n", "x");
        assert_eq!(p.facts.int("net.core.somaxconn"), None);
    }
}
