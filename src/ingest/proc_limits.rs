//! `/proc/<pid>/limits`, `/proc/sys/fs/file-nr` and `ulimit -a` output (bash, dash, busybox
//! ash, zsh), alone or concatenated (`for p in /proc/[0-9]*; do echo "== $p"; cat $p/limits; done`,
//! `head /proc/*/limits`, `grep 'open files' /proc/*/limits`).

use super::lines::LineReader;
use super::lsof::SourceLine;
use super::{ParseCtx, Parsed};
use crate::model::Diagnostic;
use regex::Regex;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::OnceLock;

/// A limit value: a number or `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LimitValue {
    Value(u64),
    Unlimited,
}

impl LimitValue {
    pub fn parse(s: &str) -> Option<LimitValue> {
        match s {
            "unlimited" | "infinity" => Some(LimitValue::Unlimited),
            _ => s.parse().ok().map(LimitValue::Value),
        }
    }
    pub fn value(self) -> Option<u64> {
        match self {
            LimitValue::Value(v) => Some(v),
            LimitValue::Unlimited => None,
        }
    }
}

impl std::fmt::Display for LimitValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitValue::Value(v) => write!(f, "{v}"),
            LimitValue::Unlimited => f.write_str("unlimited"),
        }
    }
}

/// One row of a limits table (`Max open files  1024  524288  files`).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitRow {
    pub soft: LimitValue,
    /// `ulimit -a` prints one value (the soft limit unless `-H`): no hard limit.
    pub hard: Option<LimitValue>,
    pub units: String,
    pub at: SourceLine,
}

/// Where a set of limits came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitsOrigin {
    /// `/proc/<pid>/limits`.
    ProcLimits,
    /// `ulimit -a` of some shell: the limits new processes of that shell inherit.
    Ulimit,
}

/// The limits of one process (or one shell's `ulimit -a`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// From the path (`proc/4242/limits`, `limits-4242.txt`) or a header (`==> /proc/4242/limits <==`).
    pub pid: Option<u32>,
    pub origin: LimitsOrigin,
    /// Rows by their name as printed (`Max open files`, `open files`, `nofiles` ...).
    pub rows: BTreeMap<String, LimitRow>,
    /// The open-files row, whatever its wording.
    pub open_files: Option<LimitRow>,
}

/// `/proc/sys/fs/file-nr`: system-wide file handles.
#[derive(Debug, Clone, PartialEq)]
pub struct FileNr {
    pub allocated: u64,
    pub unused: u64,
    pub max: u64,
    pub at: SourceLine,
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub limits: Vec<Limits>,
    pub file_nr: Vec<FileNr>,
}

impl Facts {
    /// Fold another source's facts into these (sources are parsed independently).
    pub fn merge(&mut self, other: Facts) {
        self.limits.extend(other.limits);
        self.file_nr.extend(other.file_nr);
    }

    /// The soft/hard open-files limits of a pid (from `/proc/<pid>/limits`).
    pub fn open_files_of(&self, pid: u32) -> Option<&LimitRow> {
        self.limits
            .iter()
            .filter(|l| l.pid == Some(pid) && l.origin == LimitsOrigin::ProcLimits)
            .find_map(|l| l.open_files.as_ref())
    }
}

const HEADER_WORDS: [&str; 3] = ["Limit", "Soft Limit", "Hard Limit"];

fn is_limits_header(line: &str) -> bool {
    line.trim_start().starts_with("Limit") && HEADER_WORDS.iter().all(|w| line.contains(w))
}

fn pid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // `proc/4242/limits`, `proc_4242_limits`, `limits-4242.txt`, `limits.4242`, `== /proc/4242`.
    RE.get_or_init(|| {
        Regex::new(r"(?:proc[/_](\d+)(?:[/_]|$|\s)|limits[-_.](\d+)\b|(?:^|/)(\d+)/limits\b)")
            .expect("static regex")
    })
}

fn pid_in(s: &str) -> Option<u32> {
    let c = pid_re().captures(s)?;
    c.get(1)
        .or_else(|| c.get(2))
        .or_else(|| c.get(3))?
        .as_str()
        .parse()
        .ok()
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn note(f: &'static str, formats: &mut Vec<&'static str>) {
    if !formats.contains(&f) {
        formats.push(f);
    }
}

fn is_file_nr_line(line: &str) -> bool {
    let f: Vec<&str> = line.split_whitespace().collect();
    f.len() == 3 && f.iter().all(|x| x.bytes().all(|b| b.is_ascii_digit()))
}

/// The open-files row name in each shell's `ulimit -a`.
fn ulimit_row(line: &str) -> Option<(String, String, bool)> {
    let t = line.trim_end();
    // bash: `open files                      (-n) 1024`; the others: `-n: file descriptors  1024`.
    if let Some(i) = t.find(") ") {
        let (label, value) = (&t[..i + 1], t[i + 2..].trim());
        if let Some(open) = label.find('(') {
            let name = label[..open].trim().to_string();
            let flags = &label[open..];
            if flags.contains(", -") || flags.starts_with("(-") {
                let is_nofile = flags.contains("-n)");
                return Some((name, value.to_string(), is_nofile));
            }
        }
    }
    if let Some(rest) = t.strip_prefix('-') {
        if let Some((flag, rest)) = rest.split_once(':') {
            let rest = rest.trim();
            let (name, value) = rest.rsplit_once(char::is_whitespace)?;
            return Some((name.trim().to_string(), value.to_string(), flag == "n"));
        }
    }
    // dash: `nofiles              1024`.
    let (name, value) = t.rsplit_once(char::is_whitespace)?;
    let name = name.trim();
    if LimitValue::parse(value).is_some() && !name.is_empty() && !name.contains("  ") {
        let known = [
            "time(seconds)",
            "file(blocks)",
            "data(kb)",
            "data(kbytes)",
            "stack(kb)",
            "stack(kbytes)",
            "coredump(blocks)",
            "memory(kb)",
            "memory(kbytes)",
            "locked memory(kb)",
            "locked memory(kbytes)",
            "process",
            "nofiles",
            "vmemory(kb)",
            "vmemory(kbytes)",
            "locks",
            "rtprio",
            "sbsize(bytes)",
            // zsh's `limit` (and old zsh `ulimit -a`) names.
            "cputime",
            "filesize",
            "datasize",
            "stacksize",
            "coredumpsize",
            "memoryuse",
            "maxproc",
            "descriptors",
            "memorylocked",
            "addressspace",
            "maxfilelocks",
            "sigpending",
            "msgqueue",
        ];
        if known.contains(&name) {
            let nofile = name == "nofiles" || name == "descriptors";
            return Some((name.to_string(), value.to_string(), nofile));
        }
    }
    None
}

fn looks_like_ulimit(head: &str) -> bool {
    let mut rows = 0;
    let mut nofile = false;
    for l in head.lines().take(40) {
        if let Some((_, v, n)) = ulimit_row(l) {
            if LimitValue::parse(&v).is_some() {
                rows += 1;
                nofile |= n;
            }
        }
    }
    nofile && rows >= 3
}

/// Whether `head` (the first bytes, lossily decoded) with `path` (the display path, a hint only) is this kind.
pub fn detect(head: &str, path: &str) -> bool {
    if head.lines().take(50).any(is_limits_header) {
        return true;
    }
    let base = basename(path);
    if base == "file-nr" || base.starts_with("file-nr.") {
        return head.lines().next().is_some_and(is_file_nr_line);
    }
    looks_like_ulimit(head)
}

/// A limits table row: name, then soft, hard and units located from the header's columns.
fn limits_row(line: &str, soft_col: usize) -> Option<(String, LimitValue, LimitValue, String)> {
    // The name has spaces, the values do not: read the name up to the soft column when the row
    // is aligned, else up to the first value-looking token.
    let (name, rest) = match (line.get(..soft_col), line.get(soft_col..)) {
        (Some(n), Some(r)) if n.ends_with(' ') && !r.starts_with(' ') => (n.trim(), r),
        _ => {
            let toks: Vec<&str> = line.split_whitespace().collect();
            let i = toks.iter().position(|t| LimitValue::parse(t).is_some())?;
            let name_end = line.find(toks.get(i)?)?;
            (line.get(..name_end)?.trim(), line.get(name_end..)?)
        }
    };
    let mut vals = rest.split_whitespace();
    let soft = LimitValue::parse(vals.next()?)?;
    let hard = LimitValue::parse(vals.next()?)?;
    let units = vals.collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), soft, hard, units))
}

pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut out = Parsed::<Facts>::default();
    let mut lr = LineReader::new(reader, ctx.max_line_bytes);
    let path_pid = pid_in(&ctx.path);
    let path_is_file_nr = basename(&ctx.path).starts_with("file-nr");
    // The table being read, with the column where `Soft Limit` starts.
    let mut current: Option<(Limits, usize)> = None;
    let mut ulimit: Option<Limits> = None;
    // The pid the next table belongs to, from a `==> /proc/4242/limits <==` style header.
    let mut header_pid: Option<u32> = None;
    let mut header_file_nr = path_is_file_nr;
    let mut skipped = 0u64;
    let mut first_skipped: Option<u64> = None;
    let mut formats: Vec<&'static str> = Vec::new();
    let finish = |cur: Option<(Limits, usize)>, facts: &mut Facts| {
        if let Some((l, _)) = cur {
            if !l.rows.is_empty() {
                facts.limits.push(l);
            }
        }
    };
    while let Some(line) = lr.next_or_stop() {
        let n = line.number;
        let text: &str = &line.text;
        let at = || SourceLine {
            source: ctx.source,
            line: n,
            text: text.to_string(),
        };
        if text.trim().is_empty() {
            continue;
        }
        if is_limits_header(text) {
            finish(current.take(), &mut out.facts);
            let soft_col = text.find("Soft Limit").unwrap_or(0);
            let pid = header_pid.take().or(path_pid);
            current = Some((
                Limits {
                    pid,
                    origin: LimitsOrigin::ProcLimits,
                    rows: BTreeMap::new(),
                    open_files: None,
                },
                soft_col,
            ));
            note("proc-limits", &mut formats);
            continue;
        }
        // `grep 'open files' /proc/*/limits`: `/proc/4242/limits:Max open files  1024  4096  files`.
        if let Some((prefix, row)) = text.split_once("limits:") {
            if let (Some(pid), Some((name, soft, hard, units))) = (
                pid_in(&format!("{prefix}limits")),
                limits_row(row, usize::MAX),
            ) {
                let r = LimitRow {
                    soft,
                    hard: Some(hard),
                    units,
                    at: at(),
                };
                let mut l = Limits {
                    pid: Some(pid),
                    origin: LimitsOrigin::ProcLimits,
                    rows: BTreeMap::new(),
                    open_files: None,
                };
                if name == "Max open files" {
                    l.open_files = Some(r.clone());
                }
                l.rows.insert(name, r);
                out.facts.limits.push(l);
                note("proc-limits-grep", &mut formats);
                continue;
            }
        }
        if let Some((cur, soft_col)) = current.as_mut() {
            if let Some((name, soft, hard, units)) = limits_row(text, *soft_col) {
                let r = LimitRow {
                    soft,
                    hard: Some(hard),
                    units,
                    at: at(),
                };
                if name == "Max open files" {
                    cur.open_files = Some(r.clone());
                }
                cur.rows.insert(name, r);
                continue;
            }
        }
        if header_file_nr && is_file_nr_line(text) {
            let v: Vec<u64> = text
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if let [allocated, unused, max] = v[..] {
                out.facts.file_nr.push(FileNr {
                    allocated,
                    unused,
                    max,
                    at: at(),
                });
                note("file-nr", &mut formats);
                header_file_nr = false;
                continue;
            }
        }
        if let Some((name, value, is_nofile)) = ulimit_row(text) {
            if let Some(v) = LimitValue::parse(&value) {
                finish(current.take(), &mut out.facts);
                let u = ulimit.get_or_insert_with(|| Limits {
                    pid: path_pid,
                    origin: LimitsOrigin::Ulimit,
                    rows: BTreeMap::new(),
                    open_files: None,
                });
                let r = LimitRow {
                    soft: v,
                    hard: None,
                    units: String::new(),
                    at: at(),
                };
                if is_nofile {
                    u.open_files = Some(r.clone());
                }
                u.rows.insert(name, r);
                note("ulimit", &mut formats);
                continue;
            }
        }
        // Anything else ends the table; a line naming a /proc/<pid> is the next table's header.
        finish(current.take(), &mut out.facts);
        if let Some(u) = ulimit.take() {
            out.facts.limits.push(u);
        }
        if let Some(pid) = pid_in(text) {
            header_pid = Some(pid);
            header_file_nr = false;
            continue;
        }
        if text.contains("file-nr") {
            header_file_nr = true;
            continue;
        }
        skipped += 1;
        first_skipped.get_or_insert(n);
    }
    finish(current.take(), &mut out.facts);
    if let Some(u) = ulimit.take() {
        out.facts.limits.push(u);
    }
    out.lines = lr.lines_read();
    if skipped > 0 {
        out.diagnostics.push(Diagnostic::info(
            first_skipped,
            format!(
                "{skipped} line(s) are not limits, file-nr or ulimit rows (first at line {}); skipped",
                first_skipped.unwrap_or(0)
            ),
        ));
    }
    out.diagnostics.extend(lr.diagnostics());
    for l in &out.facts.limits {
        if l.origin == LimitsOrigin::ProcLimits && l.pid.is_none() {
            out.diagnostics.push(Diagnostic::info(
                l.rows.values().map(|r| r.at.line).min(),
                "limits table without a pid (neither the path nor a header names /proc/<pid>)",
            ));
        }
        if l.open_files.is_none() {
            out.diagnostics.push(Diagnostic::warning(
                l.rows.values().map(|r| r.at.line).min(),
                "limits without an open-files row (truncated?)",
            ));
        }
    }
    if out.facts.limits.is_empty() && out.facts.file_nr.is_empty() {
        out.diagnostics.push(Diagnostic::warning(
            None,
            "no limits table, file-nr or ulimit -a rows found",
        ));
    }
    out.format = if formats.is_empty() {
        "unrecognized".into()
    } else {
        formats.join("+")
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulimit_rows_in_each_shell() {
        assert_eq!(
            ulimit_row("open files                      (-n) 1024"),
            Some(("open files".into(), "1024".into(), true))
        );
        assert_eq!(
            ulimit_row("core file size          (blocks, -c) 0"),
            Some(("core file size".into(), "0".into(), false))
        );
        assert_eq!(
            ulimit_row("-n: file descriptors               1024"),
            Some(("file descriptors".into(), "1024".into(), true))
        );
        assert_eq!(
            ulimit_row("nofiles              1048576"),
            Some(("nofiles".into(), "1048576".into(), true))
        );
        assert_eq!(
            ulimit_row("descriptors     1024"),
            Some(("descriptors".into(), "1024".into(), true))
        );
        assert_eq!(ulimit_row("hello world"), None);
    }

    #[test]
    fn pids_from_paths() {
        assert_eq!(pid_in("proc/4242/limits"), Some(4242));
        assert_eq!(pid_in("sos_commands/process/proc_4242_limits"), Some(4242));
        assert_eq!(pid_in("limits-4242.txt"), Some(4242));
        assert_eq!(pid_in("== /proc/17"), Some(17));
        assert_eq!(pid_in("limits.txt"), None);
        assert_eq!(pid_in("4242/limits"), Some(4242));
    }
}
