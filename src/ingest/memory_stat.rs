//! cgroup v1/v2 `memory.stat` and its sibling files (v2 `memory.max`, `memory.current`,
//! `memory.peak`, `memory.high`, `memory.events`; v1 `memory.limit_in_bytes`,
//! `memory.usage_in_bytes`, `memory.max_usage_in_bytes`, `memory.failcnt`, `memory.oom_control`),
//! each read as its own source and joined by directory; and "cgroup dump" texts that
//! concatenate such files with their names (`head`/`tail` `==> … <==` headers, `# cat memory.max`
//! prompts, `grep -r . memory.*` output).
//!
//! A bare number (`1073741824`) says nothing by itself, so the file name decides what it is.

use super::lines::LineReader;
use super::lsof::SourceLine;
use super::{ParseCtx, Parsed};
use crate::model::Diagnostic;
use crate::signatures::derive::parse_k8s_cgroup;
use std::collections::BTreeMap;
use std::io::BufRead;

/// v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages,
/// other values with other page sizes): anything this large is no limit.
pub const V1_UNLIMITED_FROM: u64 = 1 << 62;

/// A byte count or `max` (unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Bytes(u64),
    Max,
}

impl Amount {
    pub fn parse(s: &str) -> Option<Amount> {
        match s {
            "max" => Some(Amount::Max),
            _ => match s.parse::<u64>() {
                Ok(v) if v >= V1_UNLIMITED_FROM => Some(Amount::Max),
                Ok(v) => Some(Amount::Bytes(v)),
                Err(_) => None,
            },
        }
    }
    pub fn bytes(self) -> Option<u64> {
        match self {
            Amount::Bytes(b) => Some(b),
            Amount::Max => None,
        }
    }
}

/// One value with the line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub amount: Amount,
    pub at: SourceLine,
}

impl Entry {
    pub fn bytes(&self) -> Option<u64> {
        self.amount.bytes()
    }
}

/// Everything read about one cgroup directory.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cgroup {
    /// The cgroup path (`/kubepods.slice/…/cri-containerd-<id>.scope`) when the path or a header
    /// shows it below `/sys/fs/cgroup` (the v1 `memory/` controller directory removed), else the
    /// directory inside the bundle.
    pub key: String,
    /// The cgroup path, when known.
    pub cgroup_path: Option<String>,
    /// 1 or 2, from file names and `memory.stat` keys.
    pub version: Option<u8>,
    /// `memory.stat` fields in bytes (counters such as `pgfault` as read).
    pub stat: BTreeMap<String, Entry>,
    /// Single-value files by name: `memory.max`, `memory.current`, `memory.limit_in_bytes` …
    pub files: BTreeMap<String, Entry>,
    /// `memory.events` (v2) and `memory.oom_control` (v1) counters: `oom`, `oom_kill`, `max`, `under_oom` …
    pub events: BTreeMap<String, Entry>,
    pub pod_uid: Option<String>,
    pub container_id: Option<String>,
}

impl Cgroup {
    fn file(&self, names: &[&str]) -> Option<&Entry> {
        names.iter().find_map(|n| self.files.get(*n))
    }
    /// The limit: v2 `memory.max`, v1 `memory.limit_in_bytes`, else v1 `hierarchical_memory_limit`.
    pub fn limit(&self) -> Option<&Entry> {
        let direct = self.file(&["memory.max", "memory.limit_in_bytes"]);
        match direct {
            Some(e) if e.amount != Amount::Max => Some(e),
            _ => self.stat.get("hierarchical_memory_limit").or(direct),
        }
    }
    /// Current usage: v2 `memory.current`, v1 `memory.usage_in_bytes`.
    pub fn usage(&self) -> Option<&Entry> {
        self.file(&["memory.current", "memory.usage_in_bytes"])
    }
    /// Peak usage: v2 `memory.peak`, v1 `memory.max_usage_in_bytes`.
    pub fn peak(&self) -> Option<&Entry> {
        self.file(&["memory.peak", "memory.max_usage_in_bytes"])
    }
    /// OOM kills in this cgroup (v2 `memory.events`, v1 `memory.oom_control` on 4.13+).
    pub fn oom_kills(&self) -> Option<&Entry> {
        self.events.get("oom_kill")
    }
    /// A `memory.stat` field, trying names in order (v2 name first, then v1 `total_*`, then v1 local).
    pub fn stat_of(&self, names: &[&str]) -> Option<&Entry> {
        names.iter().find_map(|n| self.stat.get(*n))
    }
}

/// What this parser extracted from one source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// By `Cgroup::key`.
    pub cgroups: BTreeMap<String, Cgroup>,
}

impl Facts {
    /// Fold another source's facts into these: files of the same directory join one cgroup.
    pub fn merge(&mut self, other: Facts) {
        for (k, cg) in other.cgroups {
            match self.cgroups.get_mut(&k) {
                None => {
                    self.cgroups.insert(k, cg);
                }
                Some(mine) => {
                    mine.version = mine.version.or(cg.version);
                    mine.cgroup_path = mine.cgroup_path.take().or(cg.cgroup_path);
                    mine.pod_uid = mine.pod_uid.take().or(cg.pod_uid);
                    mine.container_id = mine.container_id.take().or(cg.container_id);
                    for (n, e) in cg.stat {
                        mine.stat.entry(n).or_insert(e);
                    }
                    for (n, e) in cg.files {
                        mine.files.entry(n).or_insert(e);
                    }
                    for (n, e) in cg.events {
                        mine.events.entry(n).or_insert(e);
                    }
                }
            }
        }
    }
}

/// Files of `key value` lines.
const KEYED_FILES: &[&str] = &["memory.stat", "memory.events", "memory.oom_control"];

/// Files holding one value.
const VALUE_FILES: &[&str] = &[
    "memory.max",
    "memory.high",
    "memory.low",
    "memory.min",
    "memory.current",
    "memory.peak",
    "memory.swap.max",
    "memory.swap.current",
    "memory.swap.peak",
    "memory.limit_in_bytes",
    "memory.soft_limit_in_bytes",
    "memory.usage_in_bytes",
    "memory.max_usage_in_bytes",
    "memory.failcnt",
    "memory.memsw.limit_in_bytes",
    "memory.memsw.usage_in_bytes",
    "memory.memsw.max_usage_in_bytes",
    "memory.memsw.failcnt",
];

const V2_FILES: &[&str] = &[
    "memory.max",
    "memory.high",
    "memory.low",
    "memory.min",
    "memory.current",
    "memory.peak",
    "memory.events",
];

/// `memory.events` keys (v2) and `memory.oom_control` keys (v1): told apart from `memory.stat`
/// keys in a `cat` of several files.
const EVENT_KEYS: &[&str] = &[
    "low",
    "high",
    "max",
    "oom",
    "oom_kill",
    "oom_group_kill",
    "oom_kill_disable",
    "under_oom",
];

fn split_path(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("", p),
    }
}

fn known_file(base: &str) -> bool {
    KEYED_FILES.contains(&base) || VALUE_FILES.contains(&base)
}

/// The cgroup path of a directory below `sys/fs/cgroup` (v1: below its controller directory).
fn cgroup_path_of(dir: &str) -> Option<String> {
    let i = dir.find("sys/fs/cgroup")?;
    let mut rest = dir[i + "sys/fs/cgroup".len()..].trim_start_matches('/');
    for controller in ["memory,memsw/", "memory/", "unified/"] {
        if let Some(r) = rest.strip_prefix(controller) {
            rest = r;
        }
    }
    if matches!(rest, "memory" | "memory,memsw" | "unified") {
        rest = "";
    }
    Some(format!("/{}", rest.trim_end_matches('/')))
}

/// Whether `head` (the first bytes, lossily decoded) with `path` (the display path, a hint only) is this kind.
pub fn detect(head: &str, path: &str) -> bool {
    let (_, base) = split_path(path);
    if known_file(base) {
        return true;
    }
    let lines = head.lines().filter(|l| !l.trim().is_empty());
    if let Some(first) = lines.clone().next() {
        // memory.stat under another name: v2 always starts with `anon`, v1 with `cache`.
        let mut t = first.split_whitespace();
        if matches!(t.next(), Some("anon" | "cache"))
            && t.next().is_some_and(|v| v.parse::<u64>().is_ok())
            && t.next().is_none()
            && lines
                .clone()
                .take(8)
                .all(|l| l.split_whitespace().count() == 2)
        {
            return true;
        }
    }
    // A dump: `==> …/memory.stat <==` headers, `cat …memory.max` prompts, `grep` prefixes.
    // One `==>` header or `cat` prompt naming a memory file is specific enough; `grep` prefixes
    // (`memory.max:…`) need two.
    let mut headers = 0;
    let mut grepped = 0;
    for l in lines.take(200) {
        if let Some(f) = header_file(l) {
            if known_file(split_path(f).1)
                || cat_files(l).iter().any(|c| known_file(split_path(c).1))
            {
                headers += 1;
            }
        } else if let Some((f, _)) = grep_prefix(l) {
            if known_file(split_path(f).1) {
                grepped += 1;
            }
        }
    }
    headers >= 1 || grepped >= 2
}

/// `==> /sys/fs/cgroup/x/memory.stat <==` (head/tail), `# cat memory.max`, `$ cat /sys/…/memory.events`.
fn header_file(line: &str) -> Option<&str> {
    let t = line.trim();
    if let Some(r) = t.strip_prefix("==> ") {
        return r.strip_suffix(" <==").map(str::trim);
    }
    // Only a command line: `cat …` or a prompt, not a log line that mentions a cat command.
    if !(t.starts_with("cat ") || is_prompt(t)) {
        return None;
    }
    let (_, after) = t.split_once("cat ")?;
    let last = after.split_whitespace().last()?;
    let base = split_path(last).1;
    base.starts_with("memory.").then_some(last)
}

/// Files named by a `cat` with several arguments (their content must be told apart by key).
fn cat_files(line: &str) -> Vec<&str> {
    match line.split_once("cat ") {
        Some((_, after)) => after
            .split_whitespace()
            .filter(|a| split_path(a).1.starts_with("memory."))
            .collect(),
        None => Vec::new(),
    }
}

/// `memory.max:1073741824`, `/sys/fs/cgroup/x/memory.stat:anon 123` (grep -r . output).
fn grep_prefix(line: &str) -> Option<(&str, &str)> {
    let (f, rest) = line.split_once(':')?;
    let base = split_path(f).1;
    (base.starts_with("memory.") && !f.contains(' ')).then_some((f, rest))
}

fn prompt_re() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^(?:\[[^\]]*\]|[\w.@:~/,-]*)[#$](?: |$)").expect("static regex")
    })
}

/// A shell prompt line (`root@node-7:/sys/fs/cgroup/x# head …`, `[root@db-2 ~]# grep …`, `$ `):
/// the command's output follows; the prompt itself holds no value.
fn is_prompt(line: &str) -> bool {
    prompt_re().is_match(line)
}

/// The directory a shell prompt shows: `root@node:/sys/fs/cgroup/x# cat memory.max`.
fn prompt_dir(line: &str) -> Option<&str> {
    let (before, _) = line.split_once("cat ")?;
    let (_, dir) = before.split_once(':')?;
    let dir = dir.trim_end().trim_end_matches(['#', '$']).trim_end();
    dir.starts_with('/').then_some(dir)
}

struct State<'c> {
    ctx: &'c ParseCtx,
    dir: String,
    file: Option<String>,
    /// Files of a `cat a b c`: contents are routed by key.
    multi: bool,
    cgroups: BTreeMap<String, Cgroup>,
    values: u64,
}

impl State<'_> {
    fn cgroup(&mut self, dir: &str) -> &mut Cgroup {
        let cgroup_path = cgroup_path_of(dir);
        let key = match &cgroup_path {
            Some(p) => p.clone(),
            None if dir.is_empty() => ".".to_string(),
            None => dir.to_string(),
        };
        self.cgroups.entry(key.clone()).or_insert_with(|| {
            let k = parse_k8s_cgroup(cgroup_path.as_deref().unwrap_or(dir));
            Cgroup {
                key,
                cgroup_path,
                pod_uid: k.pod_uid,
                container_id: k.container_id,
                ..Default::default()
            }
        })
    }

    /// One content line of `file` in `dir`. Returns whether it was understood.
    fn content(&mut self, dir: &str, file: Option<&str>, line: &str, at: SourceLine) -> bool {
        let toks: Vec<&str> = line.split_whitespace().collect();
        // `cat memory.stat memory.events`: the content is routed by key, whatever file came last.
        let multi = self.multi;
        let base = file.map(|f| split_path(f).1.to_string());
        match toks[..] {
            [key, value] => {
                let Ok(v) = value.parse::<u64>() else {
                    return false;
                };
                let which = match base.as_deref() {
                    _ if multi => {
                        if EVENT_KEYS.contains(&key) {
                            "memory.events"
                        } else {
                            "memory.stat"
                        }
                    }
                    Some(b @ ("memory.stat" | "memory.events" | "memory.oom_control")) => b,
                    _ => return false,
                };
                let entry = Entry {
                    amount: Amount::Bytes(v),
                    at,
                };
                let cg = self.cgroup(dir);
                if which == "memory.stat" {
                    if cg.version.is_none() {
                        cg.version = match key {
                            "anon" | "file" | "kernel" => Some(2),
                            "cache" | "rss" | "hierarchical_memory_limit" => Some(1),
                            _ => None,
                        };
                    }
                    // hierarchical_memory_limit is a limit: keep its "unlimited" meaning.
                    let entry = if key.starts_with("hierarchical_") {
                        Entry {
                            amount: Amount::parse(value).unwrap_or(Amount::Bytes(v)),
                            at: entry.at,
                        }
                    } else {
                        entry
                    };
                    cg.stat.entry(key.to_string()).or_insert(entry);
                } else {
                    if which == "memory.events" {
                        cg.version.get_or_insert(2);
                    } else {
                        cg.version.get_or_insert(1);
                    }
                    cg.events.entry(key.to_string()).or_insert(entry);
                }
                self.values += 1;
                true
            }
            [value] => {
                let Some(b) = base.filter(|b| VALUE_FILES.contains(&b.as_str())) else {
                    return false;
                };
                if multi {
                    return false;
                }
                let Some(amount) = Amount::parse(value) else {
                    return false;
                };
                let cg = self.cgroup(dir);
                if cg.version.is_none() {
                    cg.version = Some(if V2_FILES.contains(&b.as_str()) { 2 } else { 1 });
                }
                cg.files.entry(b).or_insert(Entry { amount, at });
                self.values += 1;
                true
            }
            _ => false,
        }
    }
}

pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let mut out = Parsed::<Facts>::default();
    let mut lr = LineReader::new(reader, ctx.max_line_bytes);
    let (path_dir, path_base) = split_path(&ctx.path);
    let single_file = known_file(path_base);
    let mut st = State {
        ctx,
        dir: path_dir.to_string(),
        file: single_file.then(|| path_base.to_string()),
        multi: false,
        cgroups: BTreeMap::new(),
        values: 0,
    };
    let mut dump = false;
    let mut skipped = 0u64;
    let mut first_skipped: Option<u64> = None;
    while let Some(line) = lr.next_or_stop() {
        let n = line.number;
        let text: &str = &line.text;
        if text.trim().is_empty() {
            continue;
        }
        let at = SourceLine {
            source: st.ctx.source,
            line: n,
            text: text.to_string(),
        };
        if !single_file {
            if let Some(f) = header_file(text) {
                dump = true;
                let files = cat_files(text);
                st.multi = files.len() > 1;
                let (d, _) = split_path(f);
                if !d.is_empty() {
                    st.dir = d.to_string();
                } else if let Some(pd) = prompt_dir(text) {
                    st.dir = pd.to_string();
                }
                st.file = Some(f.to_string());
                continue;
            }
            if let Some(dir) = text.trim().strip_prefix("cd ").or_else(|| {
                text.split_once("# cd ")
                    .or_else(|| text.split_once("$ cd "))
                    .map(|(_, d)| d)
            }) {
                st.dir = dir.trim().to_string();
                continue;
            }
            if is_prompt(text) {
                continue;
            }
            if let Some((f, rest)) = grep_prefix(text) {
                dump = true;
                let (d, b) = split_path(f);
                let dir = if d.is_empty() {
                    st.dir.clone()
                } else {
                    d.to_string()
                };
                let saved = st.multi;
                st.multi = false;
                let ok = st.content(&dir, Some(b), rest, at);
                st.multi = saved;
                if !ok {
                    skipped += 1;
                    first_skipped.get_or_insert(n);
                }
                continue;
            }
        }
        let dir = st.dir.clone();
        let file = st.file.clone();
        if !st.content(&dir, file.as_deref(), text, at) {
            skipped += 1;
            first_skipped.get_or_insert(n);
        }
    }
    out.lines = lr.lines_read();
    if skipped > 0 {
        out.diagnostics.push(Diagnostic::info(
            first_skipped,
            format!(
                "{skipped} line(s) are not cgroup memory values (first at line {}); skipped",
                first_skipped.unwrap_or(0)
            ),
        ));
    }
    out.diagnostics.extend(lr.diagnostics());
    if st.values == 0 {
        out.diagnostics
            .push(Diagnostic::warning(None, "no cgroup memory values found"));
    }
    let versions: Vec<u8> = st.cgroups.values().filter_map(|c| c.version).collect();
    out.format = if dump {
        "cgroup-dump".into()
    } else if st.values == 0 {
        "unrecognized".into()
    } else {
        match versions.first() {
            Some(2) => format!("cgroup-v2 {path_base}"),
            Some(_) => format!("cgroup-v1 {path_base}"),
            None => path_base.to_string(),
        }
    };
    out.facts.cgroups = st.cgroups;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths() {
        assert_eq!(
            cgroup_path_of("sys/fs/cgroup/kubepods.slice/x.scope").as_deref(),
            Some("/kubepods.slice/x.scope")
        );
        assert_eq!(
            cgroup_path_of("/sys/fs/cgroup/memory/kubepods/burstable/podabc").as_deref(),
            Some("/kubepods/burstable/podabc")
        );
        assert_eq!(cgroup_path_of("sys/fs/cgroup").as_deref(), Some("/"));
        assert_eq!(cgroup_path_of("cgroup/v2"), None);
    }

    #[test]
    fn amounts() {
        assert_eq!(Amount::parse("max"), Some(Amount::Max));
        assert_eq!(Amount::parse("9223372036854771712"), Some(Amount::Max));
        assert_eq!(Amount::parse("1073741824"), Some(Amount::Bytes(1 << 30)));
        assert_eq!(Amount::parse("-1"), None);
    }

    #[test]
    fn headers() {
        assert_eq!(
            header_file("==> /sys/fs/cgroup/a/memory.stat <=="),
            Some("/sys/fs/cgroup/a/memory.stat")
        );
        assert_eq!(
            header_file("root@node-7:/sys/fs/cgroup/a# cat memory.max"),
            Some("memory.max")
        );
        assert_eq!(
            prompt_dir("root@node-7:/sys/fs/cgroup/a# cat memory.max"),
            Some("/sys/fs/cgroup/a")
        );
        assert_eq!(
            grep_prefix("memory.max:1073741824"),
            Some(("memory.max", "1073741824"))
        );
        assert_eq!(grep_prefix("anon 123"), None);
        assert!(is_prompt("[root@db-2 ~]# grep . memory.*"));
        assert!(is_prompt(
            "root@node-7:/sys/fs/cgroup/a# head -n 5 memory.max"
        ));
        assert!(is_prompt("root@node-7:/sys/fs/cgroup/a# "));
        assert!(is_prompt("$ ls"));
        assert!(!is_prompt("anon 123"));
        assert!(!is_prompt("memory.max:1073741824"));
    }
}
