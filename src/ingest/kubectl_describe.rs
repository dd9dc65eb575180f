//! `kubectl describe pod` / `kubectl describe node` output: several objects per file, current
//! and legacy layouts (tab-padded tables, `FirstSeen LastSeen Count …` events,
//! `Environment Variables:`), and lines a terminal wrapped (continuations at column 0).
//!
//! The output is indented `Key:  value` blocks; tables (`Events:`, node `Conditions:`) are
//! tabwriter columns, cut at the header's column starts.

use super::k8s::{
    cut_row, expand_tabs, header_columns, quantity_bytes, quantity_millis, read_all_lines, At,
    Container, ContainerState, Event, EventAge, Node, NodeCondition, Objects, Pod, Resources, Time,
    HEAP_ENV_VARS,
};
use super::{ParseCtx, Parsed};
use crate::model::Diagnostic;
use std::io::BufRead;

/// What this parser extracted from one source: pods and nodes.
pub type Facts = Objects;

/// Describe output starts with `Name:` and has pod (`Namespace:`, `Containers:`) or node
/// (`Roles:`, `Conditions:`) keys at column 0.
pub fn detect(head: &str, _path: &str) -> bool {
    if !super::k8s::first_content_line(head).starts_with("Name:") {
        return false;
    }
    head.lines().any(|l| {
        [
            "Namespace:",
            "Containers:",
            "Roles:",
            "Role:",
            "Conditions:",
        ]
        .iter()
        .any(|k| l.starts_with(k))
    })
}

/// A line after rejoining terminal wraps: its content, and the first physical line for evidence.
struct Logical {
    line: u64,
    raw: String,
    content: String,
}

/// A column-0 `Key:` line (`Name:`, `QoS Class:`, `Node-Selectors:`, `Non-terminated Pods:`).
fn is_top_level_key(s: &str) -> bool {
    let Some((key, _)) = key_value(s) else {
        return false;
    };
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && key.len() <= 40
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '(' | ')'))
}

/// Split `Key:  value` at the first colon followed by a blank or the end of the line.
fn key_value(s: &str) -> Option<(&str, &str)> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find(':').map(|i| i + from) {
        let next = bytes.get(i + 1);
        if next.is_none() || matches!(next, Some(b' ' | b'\t')) {
            let key = s[..i].trim();
            if key.is_empty() {
                return None;
            }
            return Some((key, s[i + 1..].trim()));
        }
        from = i + 1;
    }
    None
}

/// Rejoin lines a terminal wrapped: a continuation starts at column 0 but is not a top-level
/// key (inside `Events:`, anything but the next object's `Name:`).
fn logical_lines(physical: &[(u64, String)]) -> (Vec<Logical>, u64) {
    let mut out: Vec<Logical> = Vec::new();
    let mut in_events = false;
    // Indent of the events table header: a row never starts elsewhere, a wrapped remainder may.
    let mut events_indent: Option<usize> = None;
    let mut joined = 0;
    for (no, text) in physical {
        let starts_at_col0 = text.chars().next().is_some_and(|c| !c.is_whitespace());
        let indent = text.len() - text.trim_start().len();
        let misaligned_row = in_events
            && !starts_at_col0
            && !text.trim().is_empty()
            && *events_indent.get_or_insert(indent) != indent;
        if starts_at_col0 || misaligned_row {
            let continuation = if misaligned_row {
                true
            } else if in_events {
                !text.starts_with("Name:")
            } else {
                !is_top_level_key(text) && !text.starts_with("No events")
            };
            if continuation {
                if let Some(prev) = out.last_mut() {
                    if !prev.content.trim().is_empty() {
                        // A terminal breaks at a character, dropping nothing: join without a blank.
                        prev.content.push_str(text);
                        joined += 1;
                        continue;
                    }
                }
            } else if text.starts_with("Events:") {
                in_events = true;
                events_indent = None;
            } else if text.starts_with("Name:") {
                in_events = false;
            }
        }
        out.push(Logical {
            line: *no,
            raw: text.clone(),
            content: expand_tabs(text),
        });
    }
    (out, joined)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Containers { init: bool },
    Conditions,
    Capacity,
    Allocatable,
    Events,
    Other,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    State,
    LastState,
    Limits,
    Requests,
    Env,
    Command,
    Args,
    Other,
}

/// An object being read: a pod or a node, decided by the keys it has.
#[derive(Default)]
struct Object {
    pod: Pod,
    node: Node,
    looks_like_node: bool,
    saw_events: bool,
}

struct Reader<'a> {
    ctx: &'a ParseCtx,
    out: Objects,
    diags: Vec<Diagnostic>,
    obj: Option<Object>,
    section: Section,
    table: Option<Vec<(usize, String)>>,
    container_indent: Option<usize>,
    key_indent: Option<usize>,
    block: Block,
    legacy: bool,
}

impl Reader<'_> {
    fn finish_object(&mut self) {
        let Some(obj) = self.obj.take() else {
            return;
        };
        let name = obj.pod.name.clone();
        if !obj.saw_events {
            self.diags.push(Diagnostic::warning(
                Some(name.line),
                format!(
                    "the describe output of {} ends before its Events section (truncated, or run with --show-events=false)",
                    name.value
                ),
            ));
        }
        if obj.looks_like_node && obj.pod.namespace.is_none() {
            let mut node = obj.node;
            node.name = name;
            node.source = self.ctx.source;
            self.out.nodes.push(node);
        } else {
            let mut pod = obj.pod;
            pod.source = self.ctx.source;
            if pod.containers.is_empty() {
                self.diags.push(Diagnostic::warning(
                    Some(pod.name.line),
                    format!("pod {} lists no containers", pod.name.value),
                ));
            }
            self.out.pods.push(pod);
        }
    }

    fn container(&mut self) -> Option<&mut Container> {
        let init = matches!(self.section, Section::Containers { init: true });
        let pod = &mut self.obj.as_mut()?.pod;
        if init {
            pod.init_containers.last_mut()
        } else {
            pod.containers.last_mut()
        }
    }

    fn top_level(&mut self, l: &Logical) {
        self.section = Section::Other;
        self.table = None;
        self.container_indent = None;
        self.key_indent = None;
        self.block = Block::None;
        if l.content.starts_with("No events") {
            // Legacy describe says so instead of an empty `Events:` table.
            if let Some(obj) = self.obj.as_mut() {
                obj.saw_events = true;
            }
            return;
        }
        let Some((key, value)) = key_value(&l.content) else {
            return;
        };
        if l.raw.contains(":\t") {
            self.legacy = true;
        }
        let at = |v: &str| Some(At::new(v.to_string(), l.line, &l.raw));
        let none_if_empty = |v: &str| !(v.is_empty() || v == "<none>");
        if key == "Name" {
            self.finish_object();
            let mut obj = Object::default();
            obj.pod.name = At::new(value.to_string(), l.line, &l.raw);
            self.obj = Some(obj);
            return;
        }
        let Some(obj) = self.obj.as_mut() else {
            return;
        };
        match key {
            "Namespace" => obj.pod.namespace = at(value),
            "UID" => obj.pod.uid = at(value),
            "Node" if none_if_empty(value) => {
                // `ip-10-42-7-19.eu-west-1.compute.internal/10.42.7.19`
                obj.pod.node = at(value.split('/').next().unwrap_or(value));
            }
            "Status" => obj.pod.status = at(value),
            "Reason" if !value.is_empty() => obj.pod.reason = at(value),
            "Message" if !value.is_empty() => obj.pod.message = at(value),
            "QoS Class" => obj.pod.qos_class = at(value),
            "Roles" | "Role" | "Taints" | "Unschedulable" | "System Info" | "PodCIDR"
            | "ProviderID" => obj.looks_like_node = true,
            "Containers" => self.section = Section::Containers { init: false },
            "Init Containers" => self.section = Section::Containers { init: true },
            "Conditions" => self.section = Section::Conditions,
            "Capacity" => {
                obj.looks_like_node = true;
                self.section = Section::Capacity;
            }
            "Allocatable" => {
                obj.looks_like_node = true;
                self.section = Section::Allocatable;
            }
            "Events" => {
                obj.saw_events = true;
                self.section = Section::Events;
            }
            _ => {}
        }
    }

    fn resource(&mut self, res_of: fn(&mut Object) -> &mut Resources, l: &Logical) {
        let Some((key, value)) = key_value(l.content.trim()) else {
            return;
        };
        let mut diag = None;
        if let Some(obj) = self.obj.as_mut() {
            let res = res_of(obj);
            fill_resource(res, key, value, l, &mut diag);
        }
        self.diags.extend(diag);
    }

    fn container_line(&mut self, l: &Logical, indent: usize) {
        let content = l.content.trim();
        let ci = *self.container_indent.get_or_insert(indent);
        let init = matches!(self.section, Section::Containers { init: true });
        if indent <= ci {
            // `  api:` starts a container.
            if let Some((name, "")) = key_value(content) {
                if let Some(obj) = self.obj.as_mut() {
                    let c = Container {
                        name: At::new(name.to_string(), l.line, &l.raw),
                        init,
                        ..Default::default()
                    };
                    if init {
                        obj.pod.init_containers.push(c);
                    } else {
                        obj.pod.containers.push(c);
                    }
                }
                self.key_indent = None;
                self.block = Block::None;
            }
            return;
        }
        let ki = *self.key_indent.get_or_insert(indent);
        if indent <= ki {
            self.container_key(l, content);
        } else {
            self.block_line(l, content);
        }
    }

    fn container_key(&mut self, l: &Logical, content: &str) {
        self.block = Block::Other;
        let (key, value) = key_value(content).unwrap_or((content, ""));
        let at = |v: &str| At::new(v.to_string(), l.line, &l.raw);
        let mut diag = None;
        let mut block = Block::Other;
        let Some(c) = self.container() else {
            return;
        };
        match key {
            "Container ID" if !value.is_empty() => c.container_id = Some(at(value)),
            "Image" => c.image = Some(at(value)),
            "State" | "Last State" => {
                let state = ContainerState {
                    state: value.to_string(),
                    line: l.line,
                    text: l.raw.clone(),
                    ..Default::default()
                };
                if key == "State" {
                    c.state = Some(state);
                    block = Block::State;
                } else {
                    c.last_state = Some(state);
                    block = Block::LastState;
                }
            }
            "Ready" => c.ready = Some(At::new(value == "True", l.line, &l.raw)),
            "Restart Count" => match value.parse::<u64>() {
                Ok(n) => c.restart_count = Some(At::new(n, l.line, &l.raw)),
                Err(_) => {
                    diag = Some(Diagnostic::warning(
                        Some(l.line),
                        format!("unreadable restart count `{value}`"),
                    ))
                }
            },
            "Limits" => block = Block::Limits,
            "Requests" => block = Block::Requests,
            "Environment" | "Environment Variables" => block = Block::Env,
            "Command" => block = Block::Command,
            "Args" => block = Block::Args,
            _ => {}
        }
        self.block = block;
        self.diags.extend(diag);
    }

    fn block_line(&mut self, l: &Logical, content: &str) {
        let block = self.block;
        let mut diag = None;
        let Some(c) = self.container() else {
            return;
        };
        let at = |v: &str| At::new(v.to_string(), l.line, &l.raw);
        match block {
            Block::State | Block::LastState => {
                let state = if block == Block::State {
                    c.state.as_mut()
                } else {
                    c.last_state.as_mut()
                };
                let (Some(s), Some((key, value))) = (state, key_value(content)) else {
                    return;
                };
                match key {
                    "Reason" => s.reason = Some(at(value)),
                    "Message" => s.message = Some(at(value)),
                    "Exit Code" => {
                        s.exit_code = value.parse().ok().map(|v| At::new(v, l.line, &l.raw))
                    }
                    "Signal" => s.signal = value.parse().ok().map(|v| At::new(v, l.line, &l.raw)),
                    "Started" => s.started = Some(At::new(Time::parse(value), l.line, &l.raw)),
                    "Finished" => s.finished = Some(At::new(Time::parse(value), l.line, &l.raw)),
                    _ => {}
                }
            }
            Block::Limits | Block::Requests => {
                if let Some((key, value)) = key_value(content) {
                    let res = if block == Block::Limits {
                        &mut c.limits
                    } else {
                        &mut c.requests
                    };
                    fill_resource(res, key, value, l, &mut diag);
                }
            }
            Block::Env => {
                if let Some((key, value)) = key_value(content) {
                    if HEAP_ENV_VARS.contains(&key) {
                        c.env.push(At::new(
                            (key.to_string(), value.to_string()),
                            l.line,
                            &l.raw,
                        ));
                    }
                }
            }
            Block::Command => c.command.push(at(content)),
            Block::Args => c.args.push(at(content)),
            Block::None | Block::Other => {}
        }
        self.diags.extend(diag);
    }

    fn table_line(&mut self, l: &Logical) {
        let content = l.content.trim();
        if content.is_empty() || content.chars().all(|c| c == '-' || c == ' ') {
            return;
        }
        let Some(cols) = self.table.clone() else {
            if content.contains("FirstSeen") {
                self.legacy = true;
            }
            self.table = Some(header_columns(&l.content));
            return;
        };
        let cells = cut_row(&l.content, &cols);
        let cell = |name: &str| -> String {
            cols.iter()
                .position(|c| c.1 == name)
                .and_then(|i| cells.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let section = self.section;
        let Some(obj) = self.obj.as_mut() else {
            return;
        };
        match section {
            Section::Events => {
                let age = if cols.iter().any(|c| c.1 == "LastSeen") {
                    // Legacy columns: the same three values, separately.
                    let last = cell("LastSeen");
                    let mut age = EventAge::parse(&last);
                    age.count = cell("Count").parse().unwrap_or(1);
                    age.first_seen_secs = super::k8s::parse_age(&cell("FirstSeen"));
                    age.text = format!("{last} (x{} over {})", age.count, cell("FirstSeen"));
                    age
                } else {
                    EventAge::parse(&cell("Age"))
                };
                let event = Event {
                    kind: cell("Type"),
                    reason: cell("Reason"),
                    age,
                    from: cell("From"),
                    sub_object: cell("SubObjectPath"),
                    message: cell("Message"),
                    line: l.line,
                    text: l.raw.clone(),
                };
                if event.reason.is_empty() {
                    return;
                }
                obj.pod.events.push(event.clone());
                obj.node.events.push(event);
            }
            Section::Conditions => {
                let kind = cell("Type");
                if matches!(
                    kind.as_str(),
                    "MemoryPressure" | "DiskPressure" | "PIDPressure" | "OutOfDisk"
                ) {
                    obj.looks_like_node = true;
                }
                let time = |s: String| (!s.is_empty()).then(|| Time::parse(&s));
                obj.node.conditions.push(NodeCondition {
                    kind,
                    status: cell("Status"),
                    last_heartbeat: time(cell("LastHeartbeatTime")),
                    last_transition: time(cell("LastTransitionTime")),
                    reason: cell("Reason"),
                    message: cell("Message"),
                    line: l.line,
                    text: l.raw.clone(),
                });
            }
            _ => {}
        }
    }

    fn line(&mut self, l: &Logical) {
        let indent = l.content.len() - l.content.trim_start().len();
        if l.content.trim().is_empty() {
            return;
        }
        if indent == 0 {
            self.top_level(l);
            return;
        }
        match self.section {
            Section::Containers { .. } => self.container_line(l, indent),
            Section::Events | Section::Conditions => self.table_line(l),
            Section::Capacity => self.resource(|o| &mut o.node.capacity, l),
            Section::Allocatable => self.resource(|o| &mut o.node.allocatable, l),
            Section::None | Section::Other => {}
        }
    }
}

fn fill_resource(
    res: &mut Resources,
    key: &str,
    value: &str,
    l: &Logical,
    diag: &mut Option<Diagnostic>,
) {
    match key {
        "memory" => {
            res.memory_text = Some(value.to_string());
            match quantity_bytes(value) {
                Some(b) => res.memory_bytes = Some(At::new(b, l.line, &l.raw)),
                None => {
                    *diag = Some(Diagnostic::warning(
                        Some(l.line),
                        format!("unreadable memory quantity `{value}`"),
                    ))
                }
            }
        }
        "cpu" => {
            res.cpu_text = Some(value.to_string());
            match quantity_millis(value) {
                Some(m) => res.cpu_millis = Some(At::new(m, l.line, &l.raw)),
                None => {
                    *diag = Some(Diagnostic::warning(
                        Some(l.line),
                        format!("unreadable cpu quantity `{value}`"),
                    ))
                }
            }
        }
        _ => {}
    }
}

pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let (physical, mut diagnostics) = read_all_lines(reader, ctx.max_line_bytes);
    let lines = physical.last().map_or(0, |l| l.0);
    let (logical, joined) = logical_lines(&physical);
    let mut r = Reader {
        ctx,
        out: Objects::default(),
        diags: Vec::new(),
        obj: None,
        section: Section::None,
        table: None,
        container_indent: None,
        key_indent: None,
        block: Block::None,
        legacy: false,
    };
    for l in &logical {
        r.line(l);
    }
    r.finish_object();
    diagnostics.extend(r.diags);
    if joined > 0 {
        diagnostics.push(Diagnostic::info(
            None,
            format!("{joined} line(s) wrapped by a terminal were rejoined"),
        ));
    }
    let mut parts = Vec::new();
    let suffix = if r.legacy { "-legacy" } else { "" };
    if !r.out.pods.is_empty() {
        parts.push(format!("describe-pod{suffix}"));
    }
    if !r.out.nodes.is_empty() {
        parts.push(format!("describe-node{suffix}"));
    }
    if r.out.is_empty() {
        diagnostics.push(Diagnostic::warning(
            None,
            "no pod or node found in this describe output",
        ));
    }
    Parsed {
        facts: r.out,
        lines,
        format: parts.join("+"),
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Parsed<Facts> {
        let ctx = ParseCtx {
            source: 0,
            path: "d.txt".into(),
            max_line_bytes: 1 << 20,
        };
        parse(&mut s.as_bytes(), &ctx)
    }

    #[test]
    fn key_values_split_at_the_first_colon_blank() {
        assert_eq!(
            key_value("Container ID:   containerd://abc"),
            Some(("Container ID", "containerd://abc"))
        );
        assert_eq!(key_value("  api:"), Some(("api", "")));
        assert_eq!(key_value("--max-old-space-size=2048"), None);
        assert_eq!(
            key_value("Image:  registry:5000/api:1 x"),
            Some(("Image", "registry:5000/api:1 x"))
        );
    }

    #[test]
    fn detects_pods_and_nodes_only() {
        assert!(detect("Name:         api\nNamespace:    shop\n", "x"));
        assert!(detect(
            "Name:               ip-1\nRoles:              <none>\n",
            "x"
        ));
        assert!(!detect("Name: x\nsomething\n", "x"));
        assert!(!detect("Nov 21 14:23:07 h kernel: Name:\n", "x"));
        assert!(detect(
            "$ kubectl describe pod api -n shop\nName:         api\nNamespace:    shop\n",
            "x"
        ));
    }

    #[test]
    fn signal_and_message_of_a_terminated_state() {
        let text = "Name:         w\nNamespace:    n\nContainers:\n  w:\n    State:          Terminated\n      Reason:       Error\n      Message:      killed\n      Exit Code:    137\n      Signal:       9\n      Started:      Thu, 01 Jan 1970 00:00:00 +0000\n      Finished:     Mon, 25 May 2026 14:23:07 -0700\n    Ready:          False\nEvents:  <none>\n";
        let p = parse_str(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let s = p.facts.pods[0].containers[0].state.clone().expect("state");
        assert_eq!(s.signal.map(|x| (x.value, x.line)), Some((9, 9)));
        assert_eq!(s.message.map(|x| x.value), Some("killed".to_string()));
        let finished = s.finished.expect("finished").value;
        assert_eq!(
            finished.parsed.map(|t| t.to_rfc3339()),
            Some("2026-05-25T14:23:07-07:00".to_string())
        );
    }

    #[test]
    fn garbage_gives_a_diagnostic() {
        let p = parse_str("Name: \x01\x02\nContainers:\n  :\n    State: ::\n");
        assert_eq!(p.facts.pods.len(), 1);
        assert!(!p.diagnostics.is_empty());
        let p = parse_str("");
        assert!(p.facts.is_empty());
        assert!(!p.diagnostics.is_empty());
    }
}
