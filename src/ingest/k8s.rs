//! The Kubernetes pod and node model shared by `kubectl_describe` and `k8s_object`, and the
//! value grammars both need: resource quantities, kubectl ages, event ages, heap flags.
//!
//! Every extracted value keeps the 1-based line it came from and that line's text, so checks
//! can cite it as evidence.

use crate::ingest::lines::LineReader;
use crate::model::{Diagnostic, SourceId};
use chrono::{DateTime, FixedOffset};
use std::io::BufRead;

/// A value with the physical line that states it.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    /// 1-based physical line.
    pub line: u64,
    /// That line as written in the file.
    pub text: String,
}

impl<T> At<T> {
    pub fn new(value: T, line: u64, text: &str) -> Self {
        At {
            value,
            line,
            text: text.to_string(),
        }
    }
}

/// A time as printed (`Sat, 21 Nov 2026 14:23:07 +0000` in describe, RFC 3339 in objects) and
/// parsed when the text is a full time with a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Time {
    pub text: String,
    pub parsed: Option<DateTime<FixedOffset>>,
}

impl Time {
    pub fn parse(text: &str) -> Time {
        let t = text.trim();
        let parsed = DateTime::parse_from_rfc2822(t)
            .or_else(|_| DateTime::parse_from_rfc3339(t))
            .ok();
        Time {
            text: t.to_string(),
            parsed,
        }
    }
}

/// A container state (`State:` or `Last State:`, `state`/`lastState` in objects).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerState {
    /// `Running`, `Waiting`, `Terminated` (describe wording; objects are mapped to it).
    pub state: String,
    pub line: u64,
    pub text: String,
    pub reason: Option<At<String>>,
    pub message: Option<At<String>>,
    pub exit_code: Option<At<i64>>,
    pub signal: Option<At<i64>>,
    pub started: Option<At<Time>>,
    pub finished: Option<At<Time>>,
}

impl ContainerState {
    pub fn is_terminated(&self) -> bool {
        self.state.eq_ignore_ascii_case("terminated")
    }
    pub fn reason_is(&self, reason: &str) -> bool {
        self.reason.as_ref().is_some_and(|r| r.value == reason)
    }
}

/// Memory and CPU of `Limits:`/`Requests:` (`resources.limits`/`requests`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    /// Bytes, exact (quantities round up to a whole byte, as Kubernetes does).
    pub memory_bytes: Option<At<u64>>,
    pub memory_text: Option<String>,
    /// Millicores.
    pub cpu_millis: Option<At<u64>>,
    pub cpu_text: Option<String>,
}

/// The environment variables that bound a runtime's heap.
pub const HEAP_ENV_VARS: &[&str] = &[
    "NODE_OPTIONS",
    "JAVA_OPTS",
    "JAVA_TOOL_OPTIONS",
    "GOMEMLIMIT",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Runtime {
    Node,
    Java,
    Go,
}

impl Runtime {
    pub fn as_str(&self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Java => "java",
            Runtime::Go => "go",
        }
    }
}

/// A heap cap found in the environment or the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct HeapFlag {
    pub runtime: Runtime,
    /// The flag as written (`--max-old-space-size=2048`, `-Xmx768m`, `GOMEMLIMIT=768MiB`).
    pub flag: String,
    /// Its value in bytes (`None` for `GOMEMLIMIT=off` or an unreadable value).
    pub bytes: Option<u64>,
    /// Where it was set: `NODE_OPTIONS`, `JAVA_OPTS`, `args`, `command` ...
    pub origin: String,
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Container {
    pub name: At<String>,
    pub init: bool,
    /// As printed: `containerd://<64 hex>`, `cri-o://…`, `docker://…`.
    pub container_id: Option<At<String>>,
    pub image: Option<At<String>>,
    pub state: Option<ContainerState>,
    pub last_state: Option<ContainerState>,
    pub ready: Option<At<bool>>,
    pub restart_count: Option<At<u64>>,
    pub limits: Resources,
    pub requests: Resources,
    /// Only the heap-related variables (`HEAP_ENV_VARS`).
    pub env: Vec<At<(String, String)>>,
    /// `Command:` and `Args:` items, in order.
    pub command: Vec<At<String>>,
    pub args: Vec<At<String>>,
}

impl Default for At<String> {
    fn default() -> Self {
        At::new(String::new(), 0, "")
    }
}

impl Container {
    /// The id without its runtime scheme: what the kernel's cgroup path names.
    pub fn bare_id(&self) -> Option<&str> {
        let id = &self.container_id.as_ref()?.value;
        let bare = id.split_once("://").map_or(id.as_str(), |(_, b)| b);
        (!bare.is_empty()).then_some(bare)
    }

    /// Heap caps set for this container, in the order found (env first, then command, args).
    pub fn heap_flags(&self) -> Vec<HeapFlag> {
        let mut out = Vec::new();
        for e in &self.env {
            let (name, value) = &e.value;
            if name == "GOMEMLIMIT" {
                out.push(HeapFlag {
                    runtime: Runtime::Go,
                    flag: format!("GOMEMLIMIT={value}"),
                    bytes: parse_go_memlimit(value),
                    origin: name.clone(),
                    line: e.line,
                    text: e.text.clone(),
                });
            } else {
                heap_flags_in(value, name, e.line, &e.text, &mut out);
            }
        }
        for (origin, items) in [("command", &self.command), ("args", &self.args)] {
            for a in items {
                heap_flags_in(&a.value, origin, a.line, &a.text, &mut out);
            }
        }
        out
    }

    /// The runtime this container runs, when its image, command or env say so.
    pub fn runtime_hint(&self) -> Option<Runtime> {
        if let Some(f) = self.heap_flags().first() {
            return Some(f.runtime.clone());
        }
        let env_names: Vec<&str> = self.env.iter().map(|e| e.value.0.as_str()).collect();
        if env_names.contains(&"NODE_OPTIONS") {
            return Some(Runtime::Node);
        }
        if env_names.contains(&"JAVA_OPTS") || env_names.contains(&"JAVA_TOOL_OPTIONS") {
            return Some(Runtime::Java);
        }
        let first_cmd = self
            .command
            .first()
            .map(|c| c.value.rsplit('/').next().unwrap_or("").to_string());
        match first_cmd.as_deref() {
            Some("node" | "npm" | "yarn" | "npx") => return Some(Runtime::Node),
            Some("java") => return Some(Runtime::Java),
            _ => {}
        }
        let image = self.image.as_ref()?.value.to_ascii_lowercase();
        // The repository name, without registry, tag or digest.
        let repo = image.split(['@', ':']).next().unwrap_or("");
        let last = repo.rsplit('/').next().unwrap_or("");
        if last == "node" || last.starts_with("node-") || repo.contains("nodejs") {
            Some(Runtime::Node)
        } else if [
            "openjdk",
            "eclipse-temurin",
            "amazoncorretto",
            "java",
            "jre",
            "jdk",
        ]
        .iter()
        .any(|j| last == *j || last.starts_with(&format!("{j}-")))
        {
            Some(Runtime::Java)
        } else {
            None
        }
    }
}

/// Find `--max-old-space-size=N` (MiB) and `-Xmx<size>` in one command-line or env value.
fn heap_flags_in(value: &str, origin: &str, line: u64, text: &str, out: &mut Vec<HeapFlag>) {
    for word in value.split_whitespace() {
        let word = word.trim_matches(|c| c == '"' || c == '\'' || c == ',');
        if let Some(v) = word
            .strip_prefix("--max-old-space-size=")
            .or_else(|| word.strip_prefix("--max_old_space_size="))
        {
            out.push(HeapFlag {
                runtime: Runtime::Node,
                flag: word.to_string(),
                bytes: v.parse::<u64>().ok().and_then(|m| m.checked_mul(MIB)),
                origin: origin.to_string(),
                line,
                text: text.to_string(),
            });
        } else if let Some(v) = word.strip_prefix("-Xmx") {
            out.push(HeapFlag {
                runtime: Runtime::Java,
                flag: word.to_string(),
                bytes: parse_java_size(v),
                origin: origin.to_string(),
                line,
                text: text.to_string(),
            });
        }
    }
}

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * 1024;
pub const GIB: u64 = 1024 * 1024 * 1024;

/// `-Xmx` sizes: bytes, or `k`/`m`/`g`/`t` (either case), binary multiples.
pub fn parse_java_size(v: &str) -> Option<u64> {
    let (digits, mult) = match v.chars().last()? {
        'k' | 'K' => (&v[..v.len() - 1], KIB),
        'm' | 'M' => (&v[..v.len() - 1], MIB),
        'g' | 'G' => (&v[..v.len() - 1], GIB),
        't' | 'T' => (&v[..v.len() - 1], GIB * 1024),
        c if c.is_ascii_digit() => (v, 1),
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// `GOMEMLIMIT`: a byte count with an optional `B`, `KiB`, `MiB`, `GiB`, `TiB` suffix; `off` is none.
pub fn parse_go_memlimit(v: &str) -> Option<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let mult = match unit {
        "" | "B" => 1,
        "KiB" => KIB,
        "MiB" => MIB,
        "GiB" => GIB,
        "TiB" => GIB * 1024,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// A Kubernetes resource quantity (`1Gi`, `512Mi`, `1G`, `500m`, `1e9`, `0.5`, `129M`) times
/// `scale`, rounded up to an integer: `scale` 1 gives bytes, 1000 gives millicores.
/// Exact integer arithmetic; `None` for anything that is not a quantity or overflows.
pub fn parse_quantity(text: &str, scale: u64) -> Option<u64> {
    let s = text.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return None;
    }
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(num_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits: String = format!("{int_part}{frac_part}");
    let mut num: u128 = digits.parse().ok()?;
    let mut den: u128 = 10u128.checked_pow(frac_part.len() as u32)?;
    // Binary suffixes multiply by powers of 1024; decimal ones by powers of ten.
    let (bin_pow, dec_pow): (u32, i32) = match suffix {
        "" => (0, 0),
        "Ki" => (1, 0),
        "Mi" => (2, 0),
        "Gi" => (3, 0),
        "Ti" => (4, 0),
        "Pi" => (5, 0),
        "Ei" => (6, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().ok()?;
            if exp.abs() > 30 {
                return None;
            }
            (0, exp)
        }
        _ => return None,
    };
    num = num.checked_mul(1024u128.checked_pow(bin_pow)?)?;
    if dec_pow >= 0 {
        num = num.checked_mul(10u128.checked_pow(dec_pow as u32)?)?;
    } else {
        den = den.checked_mul(10u128.checked_pow((-dec_pow) as u32)?)?;
    }
    num = num.checked_mul(scale as u128)?;
    let value = num.div_ceil(den);
    u64::try_from(value).ok()
}

/// Bytes of a memory quantity.
pub fn quantity_bytes(text: &str) -> Option<u64> {
    parse_quantity(text, 1)
}

/// Millicores of a CPU quantity.
pub fn quantity_millis(text: &str) -> Option<u64> {
    parse_quantity(text, 1000)
}

/// Seconds of a kubectl human duration (`33s`, `15m`, `2m30s`, `5d`, `3h4m`, `2y45d`);
/// `None` for `<unknown>`, `<invalid>` and anything else.
pub fn parse_age(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d as u64)?);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'y' => 365 * 86_400,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if num.is_some() {
        return None;
    }
    Some(total)
}

/// An event's age cell: `33s`, `33s (x70 over 15m)`, `<unknown>`, `<invalid>`; legacy tables
/// give the same three values in separate columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventAge {
    pub text: String,
    /// Seconds since the event was last seen, before the command ran.
    pub last_seen_secs: Option<u64>,
    /// How many times it was seen (1 when not stated).
    pub count: u64,
    /// Seconds since it was first seen (the `over 15m` part), when stated.
    pub first_seen_secs: Option<u64>,
}

impl EventAge {
    pub fn parse(text: &str) -> EventAge {
        let t = text.trim();
        let mut age = EventAge {
            text: t.to_string(),
            last_seen_secs: None,
            count: 1,
            first_seen_secs: None,
        };
        let (last, rest) = match t.split_once('(') {
            Some((l, r)) => (l.trim(), Some(r.trim_end_matches(')').trim())),
            None => (t, None),
        };
        age.last_seen_secs = parse_age(last);
        if let Some(rest) = rest {
            // `x70 over 15m`
            let mut words = rest.split_whitespace();
            if let Some(n) = words.next().and_then(|w| w.strip_prefix('x')) {
                age.count = n.parse().unwrap_or(1);
            }
            if words.next() == Some("over") {
                age.first_seen_secs = words.next().and_then(parse_age);
            }
        }
        age
    }
}

/// One row of an `Events:` table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    /// `Normal` / `Warning` (empty in the oldest layouts).
    pub kind: String,
    pub reason: String,
    pub age: EventAge,
    pub from: String,
    /// Legacy `SubObjectPath` (`spec.containers{api}`).
    pub sub_object: String,
    pub message: String,
    pub line: u64,
    pub text: String,
}

/// A pod, from describe, an object, or a `kubectl get pods` row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pod {
    pub source: SourceId,
    pub name: At<String>,
    pub namespace: Option<At<String>>,
    pub uid: Option<At<String>>,
    /// Node name (describe's `Node:` without its `/IP` part).
    pub node: Option<At<String>>,
    /// Phase (`Running`, `Failed` …) or, from a table, the STATUS column (`OOMKilled`, `Evicted` …).
    pub status: Option<At<String>>,
    /// Pod-level reason (`Evicted`) and message.
    pub reason: Option<At<String>>,
    pub message: Option<At<String>>,
    pub qos_class: Option<At<String>>,
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub events: Vec<Event>,
    /// From a `kubectl get pods` row: `READY`, total `RESTARTS` and how long ago the last one was.
    pub ready: Option<At<String>>,
    pub restarts: Option<At<u64>>,
    pub last_restart_ago: Option<String>,
}

impl Pod {
    pub fn namespace_str(&self) -> &str {
        self.namespace.as_ref().map_or("", |n| n.value.as_str())
    }
    /// `namespace/name`, or the name alone.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.value.is_empty() => format!("{}/{}", ns.value, self.name.value),
            _ => self.name.value.clone(),
        }
    }
    pub fn all_containers(&self) -> impl Iterator<Item = &Container> {
        self.init_containers.iter().chain(self.containers.iter())
    }
}

/// A node condition row (`MemoryPressure True … KubeletHasInsufficientMemory …`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeCondition {
    pub kind: String,
    pub status: String,
    pub last_heartbeat: Option<Time>,
    pub last_transition: Option<Time>,
    pub reason: String,
    pub message: String,
    pub line: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub source: SourceId,
    pub name: At<String>,
    pub conditions: Vec<NodeCondition>,
    pub capacity: Resources,
    pub allocatable: Resources,
    pub events: Vec<Event>,
}

/// Pods and nodes read from one or more sources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Objects {
    pub pods: Vec<Pod>,
    pub nodes: Vec<Node>,
}

impl Objects {
    pub fn merge(&mut self, other: Objects) {
        self.pods.extend(other.pods);
        self.nodes.extend(other.nodes);
    }
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.nodes.is_empty()
    }
}

/// Columns of a table whose header cells are separated by two or more spaces (tabwriter
/// output: `kubectl get`, describe's tables). Tabs are expanded first (legacy describe pads
/// with tabs). Returns (start column, header name) in order.
pub fn header_columns(header: &str) -> Vec<(usize, String)> {
    if header.contains('\t') {
        return tab_header_columns(header);
    }
    let chars: Vec<char> = header.chars().collect();
    let mut cols = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        // A cell ends at two spaces in a row (single spaces are inside names: `NOMINATED NODE`).
        while i < chars.len() && !(chars[i] == ' ' && chars.get(i + 1).is_none_or(|c| *c == ' ')) {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect();
        cols.push((start, name.trim().to_string()));
    }
    cols
}

/// Legacy tab-padded headers: cells are the runs between tabs (a tab may expand to a single
/// space, so blanks cannot separate them); starts are columns after tab expansion.
fn tab_header_columns(header: &str) -> Vec<(usize, String)> {
    let mut cols = Vec::new();
    let mut col = 0;
    let mut cell = String::new();
    let mut cell_start: Option<usize> = None;
    let mut flush = |cell: &mut String, start: &mut Option<usize>| {
        if let Some(s) = start.take() {
            cols.push((s, cell.trim().to_string()));
        }
        cell.clear();
    };
    for c in header.chars() {
        if c == '\t' {
            flush(&mut cell, &mut cell_start);
            col += 8 - col % 8;
            continue;
        }
        if c != ' ' && cell_start.is_none() {
            cell_start = Some(col);
        }
        if cell_start.is_some() {
            cell.push(c);
        }
        col += 1;
    }
    flush(&mut cell, &mut cell_start);
    cols
}

/// Cut a row at the header's column starts. When the row does not line up with the header
/// (hand-edited, re-spaced), fall back to splitting on runs of two or more blanks.
pub fn cut_row(row: &str, cols: &[(usize, String)]) -> Vec<String> {
    let expanded = expand_tabs(row);
    let chars: Vec<char> = expanded.chars().collect();
    let aligned = cols.iter().skip(1).all(|(start, _)| {
        *start >= chars.len() || (*start > 0 && chars.get(start - 1) == Some(&' '))
    });
    if aligned {
        let mut out = Vec::with_capacity(cols.len());
        for (i, (start, _)) in cols.iter().enumerate() {
            let end = cols
                .get(i + 1)
                .map_or(chars.len(), |c| c.0)
                .min(chars.len());
            let cell: String = if *start < end {
                chars[*start..end].iter().collect()
            } else {
                String::new()
            };
            out.push(cell.trim().to_string());
        }
        return out;
    }
    let mut out: Vec<String> = split_wide(&expanded);
    // The last column (a message) keeps whatever is left.
    if out.len() > cols.len() && !cols.is_empty() {
        let tail = out.split_off(cols.len() - 1).join("  ");
        out.push(tail);
    }
    out.resize(cols.len(), String::new());
    out
}

/// Split on runs of two or more blanks.
pub fn split_wide(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut spaces = 0;
    for c in s.trim().chars() {
        if c == ' ' || c == '\t' {
            spaces += if c == '\t' { 2 } else { 1 };
            continue;
        }
        if spaces >= 2 {
            out.push(std::mem::take(&mut cur));
        } else if spaces == 1 {
            cur.push(' ');
        }
        spaces = 0;
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Expand tabs to 8-column stops, as a terminal shows them.
pub fn expand_tabs(s: &str) -> String {
    if !s.contains('\t') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut col = 0;
    for c in s.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += 1;
        }
    }
    out
}

/// Human form of a byte count in binary units, exact when it can be (`1Gi`, `768Mi`, `1536Ki`).
pub fn human_bytes(b: u64) -> String {
    for (unit, m) in [("Ti", GIB * 1024), ("Gi", GIB), ("Mi", MIB), ("Ki", KIB)] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{unit}", b / m);
        }
    }
    format!("{b}")
}

/// A shell prompt echoing the command that produced the output (`$ kubectl describe pod api`),
/// as hand-made bundles often start: not part of the output.
pub fn is_command_echo(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("$ ") || t.starts_with("# ") || t.starts_with("> ")) && t.contains("kubectl")
}

/// The first line that is neither blank nor a command echo.
pub fn first_content_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty() && !is_command_echo(l))
        .unwrap_or("")
}

/// Most lines a snapshot parser keeps in memory: describe and object dumps are small, a
/// bigger one is not what it claims to be.
pub const MAX_SNAPSHOT_LINES: usize = 2_000_000;

/// All physical lines of a small snapshot source, with the reader's diagnostics (long
/// lines cut, invalid UTF-8, I/O errors part-way, too many lines).
pub fn read_all_lines(
    reader: &mut dyn BufRead,
    max_line_bytes: usize,
) -> (Vec<(u64, String)>, Vec<Diagnostic>) {
    let mut lines = Vec::new();
    let mut diags = Vec::new();
    let mut r = LineReader::new(reader, max_line_bytes);
    while let Some(l) = r.next_or_stop() {
        if lines.len() >= MAX_SNAPSHOT_LINES {
            diags.push(Diagnostic::warning(
                Some(l.number),
                format!("stopped reading after {MAX_SNAPSHOT_LINES} lines"),
            ));
            break;
        }
        lines.push((l.number, l.text.into_owned()));
    }
    diags.extend(r.diagnostics());
    (lines, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact() {
        assert_eq!(quantity_bytes("1Gi"), Some(1_073_741_824));
        assert_eq!(quantity_bytes("512Mi"), Some(536_870_912));
        assert_eq!(quantity_bytes("1G"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("1e9"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("1E9"), Some(1_000_000_000));
        assert_eq!(quantity_bytes("129M"), Some(129_000_000));
        assert_eq!(quantity_bytes("123456789"), Some(123_456_789));
        assert_eq!(quantity_bytes("1.5Gi"), Some(1_610_612_736));
        assert_eq!(quantity_bytes("7934456Ki"), Some(8_124_882_944));
        assert_eq!(quantity_millis("500m"), Some(500));
        assert_eq!(quantity_millis("1"), Some(1000));
        assert_eq!(quantity_millis("0.25"), Some(250));
        assert_eq!(quantity_millis("1930m"), Some(1930));
        // Kubernetes rounds fractional bytes up.
        assert_eq!(quantity_bytes("1500m"), Some(2));
        for bad in [
            "",
            "Gi",
            "1.2.3",
            "-1Gi",
            "1Zi",
            "abc",
            "1e99",
            "99999999999999999999Ei",
        ] {
            assert_eq!(quantity_bytes(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages_and_event_ages() {
        assert_eq!(parse_age("33s"), Some(33));
        assert_eq!(parse_age("2m30s"), Some(150));
        assert_eq!(parse_age("3h4m"), Some(11_040));
        assert_eq!(parse_age("5d"), Some(432_000));
        assert_eq!(parse_age("<unknown>"), None);
        assert_eq!(parse_age("<invalid>"), None);
        assert_eq!(parse_age("12"), None);
        let a = EventAge::parse("33s (x70 over 15m)");
        assert_eq!(
            (a.last_seen_secs, a.count, a.first_seen_secs),
            (Some(33), 70, Some(900))
        );
        let a = EventAge::parse("<invalid>");
        assert_eq!(
            (a.last_seen_secs, a.count, a.first_seen_secs),
            (None, 1, None)
        );
    }

    #[test]
    fn heap_sizes() {
        assert_eq!(parse_java_size("768m"), Some(768 * MIB));
        assert_eq!(parse_java_size("2G"), Some(2 * GIB));
        assert_eq!(parse_java_size("1048576"), Some(1_048_576));
        assert_eq!(parse_java_size("x"), None);
        assert_eq!(parse_go_memlimit("768MiB"), Some(768 * MIB));
        assert_eq!(parse_go_memlimit("off"), None);
    }

    #[test]
    fn tables_cut_at_header_columns() {
        let cols =
            header_columns("NAME        READY   STATUS    RESTARTS      AGE   NOMINATED NODE");
        let names: Vec<&str> = cols.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(
            names,
            [
                "NAME",
                "READY",
                "STATUS",
                "RESTARTS",
                "AGE",
                "NOMINATED NODE"
            ]
        );
        let row = cut_row(
            "api-1       1/2     Running   5 (2m ago)    85m   <none>",
            &cols,
        );
        assert_eq!(
            row,
            ["api-1", "1/2", "Running", "5 (2m ago)", "85m", "<none>"]
        );
        assert_eq!(human_bytes(GIB), "1Gi");
        assert_eq!(human_bytes(768 * MIB), "768Mi");
    }
}
