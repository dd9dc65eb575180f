//! `lsof` output (`lsof`, `lsof -n`, `lsof -nP`, `lsof -p PID`; with and without the TID/TASKCMD
//! columns that lsof 4.90+ prints on Linux) and `ls -l /proc/<pid>/fd` listings: open
//! descriptors per pid, per TYPE, and socket peers/states per pid.
//!
//! Columns are located from the header: lsof pads every column to the widest value of the
//! whole listing, right-aligning some (PID, TID, SIZE/OFF, NODE, the FD number) and
//! left-aligning others (COMMAND, USER, TYPE, NAME), so a value always overlaps its header
//! word. Thread rows (a TID) repeat the process's descriptors: each fd counts once per pid.

use super::lines::LineReader;
use super::{ParseCtx, Parsed};
use crate::model::{Diagnostic, SourceId};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::OnceLock;

/// One physical line of a source, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLine {
    pub source: SourceId,
    /// 1-based.
    pub line: u64,
    /// The line as written in the file.
    pub text: String,
}

/// Where a process's descriptor count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FdOrigin {
    #[default]
    Lsof,
    /// `ls -l /proc/<pid>/fd`: a count and the link targets' kinds, no TYPE column.
    ProcFdListing,
}

/// Open descriptors of one process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Process {
    pub pid: u32,
    /// COMMAND as printed (lsof truncates it to 9 characters by default; `\x20` for spaces).
    pub command: String,
    pub user: String,
    /// Distinct numeric descriptors (`0u`, `23r`, `124w`); `cwd`, `rtd`, `txt`, `mem`, `DEL` are not descriptors.
    pub open_fds: u64,
    /// Descriptors per TYPE (`IPv4`, `IPv6`, `REG`, `FIFO`, `unix`, `sock`, `a_inode` ...).
    pub by_type: BTreeMap<String, u64>,
    /// IPv4/IPv6 descriptors per TCP state from NAME (`ESTABLISHED`, `LISTEN`, `CLOSE_WAIT` ...).
    pub socket_states: BTreeMap<String, u64>,
    /// IPv4/IPv6 descriptors per remote `address:port` (the part after `->` in NAME).
    pub peers: BTreeMap<String, u64>,
    /// Descriptors whose NAME ends in `(deleted)`: files removed but still held open.
    pub deleted: u64,
    /// Rows that repeated the process's descriptors for one of its threads.
    pub thread_rows: u64,
    pub origin: FdOrigin,
    /// The process's first row.
    pub first: Option<SourceLine>,
    /// The first row of each TYPE.
    pub type_samples: BTreeMap<String, SourceLine>,
    /// The first row of each peer (the first `PEER_SAMPLES` peers).
    pub peer_samples: BTreeMap<String, SourceLine>,
}

impl Process {
    /// Descriptors that are network sockets (`IPv4`, `IPv6`, `sock`).
    pub fn network_sockets(&self) -> u64 {
        ["IPv4", "IPv6", "sock", "socket"]
            .iter()
            .map(|t| self.by_type.get(*t).copied().unwrap_or(0))
            .sum()
    }
    /// Descriptors of the given TYPE.
    pub fn of_type(&self, t: &str) -> u64 {
        self.by_type.get(t).copied().unwrap_or(0)
    }
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub processes: BTreeMap<u32, Process>,
}

impl Facts {
    /// Fold another source's facts into these. The same pid seen in several snapshots keeps the
    /// snapshot with the most descriptors (the observed peak).
    pub fn merge(&mut self, other: Facts) {
        for (pid, mut p) in other.processes {
            match self.processes.get_mut(&pid) {
                Some(old) if old.open_fds >= p.open_fds => {
                    if old.command.is_empty() {
                        old.command = p.command;
                        old.user = p.user;
                    }
                }
                Some(old) => {
                    // A /proc/<pid>/fd listing has no COMMAND: keep lsof's.
                    if p.command.is_empty() {
                        p.command = std::mem::take(&mut old.command);
                        p.user = std::mem::take(&mut old.user);
                    }
                    *old = p;
                }
                None => {
                    self.processes.insert(pid, p);
                }
            }
        }
    }
}

fn is_header(line: &str) -> bool {
    let mut t = line.split_whitespace();
    t.next() == Some("COMMAND") && {
        let rest: Vec<&str> = t.collect();
        ["PID", "FD", "TYPE", "NAME"]
            .iter()
            .all(|w| rest.contains(w))
    }
}

fn fd_listing_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^l[rwxsStT-]{9}\S?\s+\d+\s+\S+\s+\S+\s+\d+\s+.*?\s(\d+) -> (.*)$")
            .expect("static regex")
    })
}

fn proc_pid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:^|[/_\s-])proc[/_-](\d+)[/_-]fd").expect("static regex"))
}

/// Whether `head` (the first bytes, lossily decoded) with `path` (the display path, a hint only) is this kind.
pub fn detect(head: &str, path: &str) -> bool {
    let mut listing_rows = 0usize;
    let mut headerless_rows = 0usize;
    let mut other_rows = 0usize;
    let mut fd_targets = false;
    for line in head.lines().take(200) {
        if is_header(line) {
            return true;
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with("total ") || t.ends_with("/fd:") {
            continue;
        }
        if fd_listing_re().is_match(t) {
            listing_rows += 1;
            fd_targets |=
                t.contains("socket:[") || t.contains("pipe:[") || t.contains("anon_inode:");
        } else if headerless_re().is_match(line) {
            headerless_rows += 1;
        } else {
            other_rows += 1;
        }
    }
    // An `ls -l` of symlinks is an fd listing only when its targets say so or the path does.
    let listing = listing_rows > 0
        && listing_rows >= 4 * other_rows
        && (fd_targets || proc_pid_re().is_match(path));
    // `lsof … | grep x` loses the header: rows alone, all of them, and a few.
    let headerless = headerless_rows >= 3 && other_rows == 0;
    listing || headerless
}

/// An lsof row without its header (`lsof -nP | grep 4242`): COMMAND PID [TID TASKCMD] USER FD
/// TYPE, then DEVICE SIZE/OFF NODE NAME (some of which may be empty).
fn headerless_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?P<command>\S+)\s+(?P<pid>\d+)\s+(?:(?P<tid>\d+)\s+(?P<taskcmd>\S+)\s+)?(?P<user>\S+)\s+(?P<fd>cwd|rtd|txt|mem|DEL|NOFD|mmap|\d+[rwu -]?[A-Za-z]?)\s+(?P<type>IPv4|IPv6|REG|DIR|CHR|BLK|FIFO|LINK|unix|sock|a_inode|netlink|PACK|raw6?|unknown|0000)(?:\s+(?P<rest>.*))?$",
        )
        .expect("static regex")
    })
}

/// NAME of a headerless row: after the TCP/UDP NODE of an IP row, else the last field.
fn headerless_name<'a>(typ: &str, rest: &'a str) -> &'a str {
    if typ == "IPv4" || typ == "IPv6" {
        for proto in [" TCP ", " UDP "] {
            if let Some(i) = rest.find(proto) {
                return rest[i + proto.len()..].trim();
            }
        }
    }
    rest.rsplit_once(char::is_whitespace)
        .map(|(_, n)| n)
        .unwrap_or(rest)
        .trim()
}

/// A header column: its name and byte span.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    start: usize,
    end: usize,
}

fn header_columns(line: &str) -> Vec<Column> {
    let mut cols = Vec::new();
    for (start, word) in tokens(line) {
        cols.push(Column {
            name: word.to_string(),
            start,
            end: start + word.len(),
        });
    }
    cols
}

fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// One row split into columns: each column's span of text, and NAME.
struct Row<'a> {
    row: &'a str,
    /// Per header column: the span from its first token's start to its last token's end.
    spans: Vec<Option<(usize, usize)>>,
    name: &'a str,
}

impl<'a> Row<'a> {
    fn get(&self, cols: &[Column], column: &str) -> Option<&'a str> {
        let i = cols.iter().position(|c| c.name == column)?;
        let (s, e) = (*self.spans.get(i)?)?;
        self.row.get(s..e)
    }
}

/// The row's values by column: each token goes to the column it overlaps most (or the nearest
/// one), so empty TID/TASKCMD/DEVICE/SIZE columns do not shift the others.
fn assign<'a>(cols: &[Column], row: &'a str) -> Row<'a> {
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; cols.len()];
    let name_start = cols
        .iter()
        .find(|c| c.name == "NAME")
        .map(|c| c.start)
        .unwrap_or(usize::MAX);
    let (before, name) = match row.get(..name_start) {
        Some(b) if name_start < row.len() => (b, row.get(name_start..).unwrap_or("")),
        _ => (row, ""),
    };
    // A row whose NAME column starts mid-token (a misaligned paste): split at that token.
    let (before, name): (&'a str, &'a str) = if !name.is_empty()
        && !before.ends_with(char::is_whitespace)
        && !name.starts_with(char::is_whitespace)
    {
        match before.rfind(char::is_whitespace) {
            Some(i) => (&row[..i], &row[i..]),
            None => (before, name),
        }
    } else {
        (before, name)
    };
    for (start, tok) in tokens(before) {
        let end = start + tok.len();
        let mut best: Option<(usize, i64)> = None;
        for (ci, c) in cols.iter().enumerate() {
            if c.name == "NAME" {
                continue;
            }
            let overlap = end.min(c.end) as i64 - start.max(c.start) as i64;
            let score = if overlap > 0 {
                overlap
            } else {
                // Distance as a negative score: the nearest column wins.
                overlap.min(0) - 1
            };
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((ci, score));
            }
        }
        if let Some((ci, _)) = best {
            if let Some(slot) = spans.get_mut(ci) {
                *slot = Some(match *slot {
                    Some((s, _)) => (s, end),
                    None => (start, end),
                });
            }
        }
    }
    Row {
        row,
        spans,
        name: name.trim(),
    }
}

/// The descriptor number of an FD value (`23u` → 23); `None` for `cwd`, `txt`, `mem`, `DEL` ...
pub fn fd_number(fd: &str) -> Option<u32> {
    let digits: &str = &fd[..fd.bytes().take_while(|b| b.is_ascii_digit()).count()];
    let rest = &fd[digits.len()..];
    // Mode (r w u space -) then an optional lock character.
    if rest.len() > 2 || !rest.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
        return None;
    }
    digits.parse().ok()
}

/// TCP state and remote endpoint from an IPv4/IPv6 NAME:
/// `10.0.0.5:43210->10.0.4.17:5432 (ESTABLISHED)`, `*:3000 (LISTEN)`.
pub fn socket_name(name: &str) -> (Option<&str>, Option<&str>) {
    let (endpoints, state) = match name.rfind(" (") {
        Some(i) if name.ends_with(')') => (&name[..i], Some(&name[i + 2..name.len() - 1])),
        _ => (name, None),
    };
    let peer = endpoints
        .split_once("->")
        .map(|(_, p)| p.trim())
        .filter(|p| !p.is_empty());
    (state, peer)
}

/// Evidence rows kept per process for distinct peers: a server's clients each have their own
/// address:port, and one row per client would keep the whole listing in memory.
pub const PEER_SAMPLES: usize = 256;

#[derive(Default)]
struct Acc {
    proc: Process,
    fds: BTreeSet<u32>,
}

impl Acc {
    fn add_fd(&mut self, fd: u32, typ: &str, at: &dyn Fn() -> SourceLine, name: &str) -> bool {
        if !self.fds.insert(fd) {
            return false;
        }
        let p = &mut self.proc;
        p.open_fds += 1;
        let typ = if typ.is_empty() { "?" } else { typ };
        match p.by_type.get_mut(typ) {
            Some(n) => *n += 1,
            None => {
                p.by_type.insert(typ.to_string(), 1);
            }
        }
        if !p.type_samples.contains_key(typ) {
            p.type_samples.insert(typ.to_string(), at());
        }
        if name.ends_with("(deleted)") {
            p.deleted += 1;
        }
        if typ == "IPv4" || typ == "IPv6" {
            let (state, peer) = socket_name(name);
            if let Some(s) = state {
                match p.socket_states.get_mut(s) {
                    Some(n) => *n += 1,
                    None => {
                        p.socket_states.insert(s.to_string(), 1);
                    }
                }
            }
            if let Some(peer) = peer {
                match p.peers.get_mut(peer) {
                    Some(n) => *n += 1,
                    None => {
                        p.peers.insert(peer.to_string(), 1);
                        if p.peer_samples.len() < PEER_SAMPLES {
                            p.peer_samples.insert(peer.to_string(), at());
                        }
                    }
                }
            }
        }
        true
    }
}

/// The kind of an `ls -l /proc/<pid>/fd` link target, named like lsof's TYPE where it can be.
fn listing_type(target: &str) -> &'static str {
    if target.starts_with("socket:[") {
        "socket"
    } else if target.starts_with("pipe:[") {
        "FIFO"
    } else if target.starts_with("anon_inode:") {
        "a_inode"
    } else if target.starts_with("/dev/") {
        "CHR"
    } else {
        "REG"
    }
}

pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut out = Parsed::<Facts>::default();
    let mut lr = LineReader::new(reader, ctx.max_line_bytes);
    let mut cols: Option<Vec<Column>> = None;
    let mut accs: BTreeMap<u32, Acc> = BTreeMap::new();
    let mut listing_pid: Option<u32> = proc_pid_re()
        .captures(&ctx.path)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok());
    let mut saw_lsof = false;
    let mut saw_headerless = false;
    let mut saw_listing = false;
    let mut skipped = 0u64;
    let mut first_skipped: Option<u64> = None;
    let mut has_tid = false;
    while let Some(line) = lr.next_or_stop() {
        let n = line.number;
        let text: &str = &line.text;
        if text.trim().is_empty() {
            continue;
        }
        if is_header(text) {
            let c = header_columns(text);
            has_tid |= c.iter().any(|c| c.name == "TID");
            cols = Some(c);
            saw_lsof = true;
            continue;
        }
        let at = || SourceLine {
            source: ctx.source,
            line: n,
            text: text.to_string(),
        };
        if let Some(c) = fd_listing_re().captures(text.trim_end()) {
            let (Some(fd), Some(target)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let Some(pid) = listing_pid else {
                skipped += 1;
                first_skipped.get_or_insert(n);
                continue;
            };
            saw_listing = true;
            let acc = accs.entry(pid).or_insert_with(|| Acc {
                proc: Process {
                    pid,
                    origin: FdOrigin::ProcFdListing,
                    first: Some(at()),
                    ..Default::default()
                },
                ..Default::default()
            });
            if let Ok(fd) = fd.as_str().parse::<u32>() {
                let target = target.as_str();
                acc.add_fd(fd, listing_type(target), &at, target);
            }
            continue;
        }
        if let Some(c) = proc_pid_re().captures(text) {
            // `/proc/4242/fd:` (ls -l of several dirs) or a `$ ls -l /proc/4242/fd` prompt.
            if text.trim_end().ends_with(':') || text.contains("ls ") {
                listing_pid = c.get(1).and_then(|m| m.as_str().parse().ok());
                continue;
            }
        }
        if text.starts_with("total ") {
            continue;
        }
        let Some(cols) = cols.as_ref() else {
            // No header (yet): a grepped lsof row still says pid, fd and type.
            let caps = headerless_re().captures(text);
            let pid = caps
                .as_ref()
                .and_then(|c| c.name("pid"))
                .and_then(|m| m.as_str().parse::<u32>().ok());
            let (Some(c), Some(pid)) = (caps, pid) else {
                skipped += 1;
                first_skipped.get_or_insert(n);
                continue;
            };
            saw_headerless = true;
            let get = |k: &str| c.name(k).map(|m| m.as_str()).unwrap_or("");
            let typ = get("type");
            let name = headerless_name(typ, get("rest"));
            let acc = accs.entry(pid).or_insert_with(|| Acc {
                proc: Process {
                    pid,
                    command: get("command").to_string(),
                    user: get("user").to_string(),
                    origin: FdOrigin::Lsof,
                    first: Some(at()),
                    ..Default::default()
                },
                ..Default::default()
            });
            if !get("tid").is_empty() {
                acc.proc.thread_rows += 1;
            }
            if let Some(fdn) = fd_number(get("fd")) {
                acc.add_fd(fdn, typ, &at, name);
            }
            continue;
        };
        let v = assign(cols, text);
        let pid = v.get(cols, "PID").and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else {
            // lsof's own warnings (`lsof: WARNING: can't stat() ...`) and their continuation lines.
            skipped += 1;
            first_skipped.get_or_insert(n);
            continue;
        };
        let fd = v.get(cols, "FD").unwrap_or("");
        let typ = v.get(cols, "TYPE").unwrap_or("");
        let name = v.name;
        let is_thread = v.get(cols, "TID").is_some_and(|t| !t.is_empty());
        let acc = accs.entry(pid).or_insert_with(|| Acc {
            proc: Process {
                pid,
                command: v.get(cols, "COMMAND").unwrap_or_default().to_string(),
                user: v.get(cols, "USER").unwrap_or_default().to_string(),
                origin: FdOrigin::Lsof,
                first: Some(at()),
                ..Default::default()
            },
            ..Default::default()
        });
        if is_thread {
            acc.proc.thread_rows += 1;
        }
        if let Some(fdn) = fd_number(fd) {
            acc.add_fd(fdn, typ, &at, name);
        }
    }
    out.lines = lr.lines_read();
    if skipped > 0 {
        out.diagnostics.push(Diagnostic::info(
            first_skipped,
            format!(
                "{skipped} line(s) are neither lsof rows nor /proc/<pid>/fd entries (first at line {}); skipped",
                first_skipped.unwrap_or(0)
            ),
        ));
    }
    out.diagnostics.extend(lr.diagnostics());
    if accs.is_empty() {
        out.diagnostics.push(Diagnostic::warning(
            None,
            "no lsof rows or /proc/<pid>/fd entries found",
        ));
    }
    out.format = match (saw_lsof, saw_listing) {
        (true, false) if has_tid => "lsof-tid".into(),
        (true, false) => "lsof".into(),
        (false, true) => "proc-fd-listing".into(),
        (true, true) => "lsof+proc-fd-listing".into(),
        (false, false) if saw_headerless => "lsof-headerless".into(),
        (false, false) => "unrecognized".into(),
    };
    if saw_headerless {
        out.diagnostics.push(Diagnostic::info(
            None,
            "lsof rows without the header line: columns inferred from their values",
        ));
    }
    for (pid, acc) in accs {
        out.facts.processes.insert(pid, acc.proc);
    }
    out
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
    fn fd_numbers() {
        assert_eq!(fd_number("23u"), Some(23));
        assert_eq!(fd_number("0r"), Some(0));
        assert_eq!(fd_number("124w"), Some(124));
        assert_eq!(fd_number("5uW"), Some(5));
        assert_eq!(fd_number("7"), Some(7));
        assert_eq!(fd_number("cwd"), None);
        assert_eq!(fd_number("mem"), None);
        assert_eq!(fd_number("DEL"), None);
        assert_eq!(fd_number(""), None);
    }

    #[test]
    fn socket_names() {
        assert_eq!(
            socket_name("10.0.0.5:43210->10.0.4.17:5432 (ESTABLISHED)"),
            (Some("ESTABLISHED"), Some("10.0.4.17:5432"))
        );
        assert_eq!(socket_name("*:3000 (LISTEN)"), (Some("LISTEN"), None));
        assert_eq!(
            socket_name("[::1]:5432->[::1]:40000 (CLOSE_WAIT)"),
            (Some("CLOSE_WAIT"), Some("[::1]:40000"))
        );
        assert_eq!(socket_name("*:68"), (None, None));
    }

    #[test]
    fn header_positions_handle_empty_tid_columns() {
        let text = "\
COMMAND     PID   TID TASKCMD   USER   FD      TYPE DEVICE SIZE/OFF    NODE NAME
node       4242             app     cwd       DIR  259,2     4096 1835010 /srv/app
node       4242             app      3u     IPv4 812345      0t0     TCP 10.0.0.5:43210->10.0.4.17:5432 (ESTABLISHED)
node       4242  4250 node  app      3u     IPv4 812345      0t0     TCP 10.0.0.5:43210->10.0.4.17:5432 (ESTABLISHED)
";
        let p = run(text, "lsof.txt");
        let proc = &p.facts.processes[&4242];
        assert_eq!(proc.open_fds, 1);
        assert_eq!(proc.thread_rows, 1);
        assert_eq!(proc.by_type.get("IPv4"), Some(&1));
        assert_eq!(proc.peers.get("10.0.4.17:5432"), Some(&1));
        assert_eq!(p.format, "lsof-tid");
    }

    #[test]
    fn garbage_gives_a_diagnostic() {
        let p = run("hello\nworld\n", "x");
        assert!(p.facts.processes.is_empty());
        assert!(!p.diagnostics.is_empty());
    }
}
