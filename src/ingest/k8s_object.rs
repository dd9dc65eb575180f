//! `kubectl get pod(s) -o json` / `-o yaml` (one object, a `List`/`PodList`, several YAML
//! documents; `Node` objects too) and the plain `kubectl get pods` table (`-o wide`, `-A`).
//!
//! Objects are deserialised whole (serde loses positions), then each value's line is found
//! again by scanning the text near its anchor (the pod's `uid`, the container's
//! `containerID`): best effort, always a line that states the value when one is found.

use super::k8s::{
    cut_row, header_columns, parse_age, quantity_bytes, quantity_millis, read_all_lines, At,
    Container, ContainerState, Node, NodeCondition, Objects, Pod, Resources, Time, HEAP_ENV_VARS,
};
use super::{ParseCtx, Parsed};
use crate::model::Diagnostic;
use serde::Deserialize;
use serde_json::Value;
use std::io::BufRead;

/// What this parser extracted from one source: pods and nodes.
pub type Facts = Objects;

/// JSON or YAML with `apiVersion` and `kind` (a journal export also starts with `{` but has
/// `__REALTIME_TIMESTAMP`), or the `NAME … READY … STATUS … RESTARTS` table header.
pub fn detect(head: &str, _path: &str) -> bool {
    let first = super::k8s::first_content_line(head);
    if is_table_header(first) {
        return true;
    }
    if head.contains("__REALTIME_TIMESTAMP") {
        return false;
    }
    if first.trim_start().starts_with(['{', '[']) {
        return head.contains("\"apiVersion\"") && head.contains("\"kind\"");
    }
    let yaml_key = |k: &str| head.lines().any(|l| l.starts_with(k));
    (yaml_key("apiVersion:") || yaml_key("kind:"))
        && (yaml_key("kind:") || yaml_key("items:") || yaml_key("metadata:"))
}

fn is_table_header(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let pos = |w: &str| words.iter().position(|x| *x == w);
    match (pos("NAME"), pos("READY"), pos("STATUS"), pos("RESTARTS")) {
        (Some(n), Some(r), Some(s), Some(x)) => n < r && r < s && s < x,
        _ => false,
    }
}

/// Finds the lines that state values, since the deserialiser forgets them.
struct Locator<'a> {
    lines: &'a [(u64, String)],
    /// Each line reduced by `normalized`, computed once: every lookup compares against these.
    keys: Vec<String>,
}

/// A line reduced to `key: value` whether it was JSON (`"key": "value",`) or YAML (`- key: value`).
fn normalized(line: &str) -> String {
    let t = line.trim().trim_start_matches("- ").trim_end_matches(',');
    t.replace('"', "")
}

impl<'a> Locator<'a> {
    fn new(lines: &'a [(u64, String)]) -> Self {
        let keys = lines.iter().map(|l| normalized(&l.1)).collect();
        Locator { lines, keys }
    }

    /// First index in `from..to` whose line is `key: value`.
    fn find_kv(&self, from: usize, to: usize, key: &str, value: &str) -> Option<usize> {
        let want = format!("{key}: {value}");
        let to = to.min(self.lines.len());
        (from.min(to)..to).find(|&i| self.keys[i] == want)
    }

    /// The index in `from..to` closest to `anchor` whose line is `key: value`.
    fn nearest_kv(
        &self,
        anchor: usize,
        from: usize,
        to: usize,
        key: &str,
        value: &str,
    ) -> Option<usize> {
        let want = format!("{key}: {value}");
        let to = to.min(self.lines.len());
        (from.min(to)..to)
            .filter(|&i| self.keys[i] == want)
            .min_by_key(|&i| i.abs_diff(anchor))
    }

    /// The index in `from..to` closest to `anchor` that opens the mapping `key` (`key:`, `"key": {`).
    fn nearest_key(&self, anchor: usize, from: usize, to: usize, key: &str) -> Option<usize> {
        let (bare, open) = (format!("{key}:"), format!("{key}: {{"));
        let to = to.min(self.lines.len());
        (from.min(to)..to)
            .filter(|&i| self.keys[i] == bare || self.keys[i] == open)
            .min_by_key(|&i| i.abs_diff(anchor))
    }

    /// First index in `from..to` whose line contains `needle`.
    fn find_containing(&self, from: usize, to: usize, needle: &str) -> Option<usize> {
        let to = to.min(self.lines.len());
        (from.min(to)..to).find(|&i| self.lines[i].1.contains(needle))
    }

    fn at<T>(&self, i: usize, value: T) -> At<T> {
        match self.lines.get(i) {
            Some((no, text)) => At::new(value, *no, text),
            None => At::new(value, 0, ""),
        }
    }
}

/// A scalar as text (quantities may be YAML numbers).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

struct Mapper<'a> {
    loc: Locator<'a>,
    ctx: &'a ParseCtx,
    out: Objects,
    diags: Vec<Diagnostic>,
    /// Index just past the previous object's anchor: where the next object's search starts.
    cursor: usize,
    /// The next objects' anchors, to bound each object's search range.
    anchors: Vec<usize>,
}

impl Mapper<'_> {
    fn collect(&mut self, v: &Value) {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        // A bare array of objects (some bundle collectors write one), or a List's items.
        if let Some(items) = v
            .as_array()
            .or_else(|| v.get("items").and_then(Value::as_array))
        {
            for item in items {
                self.collect(item);
            }
            return;
        }
        let has_containers = str_at(v, &["spec", "containers"]).is_some();
        match kind {
            "Pod" => self.pod(v),
            "" if has_containers => self.pod(v),
            "Node" => self.node(v),
            other => {
                let what = if other.is_empty() {
                    "an object without `kind`".to_string()
                } else {
                    format!("kind `{other}`")
                };
                self.diags.push(Diagnostic::warning(
                    None,
                    format!("{what} is not a Pod, Node or List: skipped"),
                ));
            }
        }
    }

    /// Where this object's metadata search starts (after the previous object's anchor), its
    /// anchor (its `uid`, else its `name`: spec and status follow it), and the next anchor.
    fn range(&mut self, v: &Value) -> (usize, usize, usize) {
        let meta = |k: &str| str_at(v, &["metadata", k]).and_then(Value::as_str);
        let anchor = meta("uid")
            .and_then(|u| self.loc.find_kv(self.cursor, usize::MAX, "uid", u))
            .or_else(|| {
                meta("name").and_then(|n| self.loc.find_kv(self.cursor, usize::MAX, "name", n))
            })
            .unwrap_or(self.cursor);
        // Anchors are in line order.
        let next = self.anchors.partition_point(|a| *a <= anchor);
        let end = self.anchors.get(next).copied().unwrap_or(usize::MAX);
        let meta_start = self.cursor;
        self.cursor = anchor + 1;
        (meta_start, anchor, end)
    }

    fn pod(&mut self, v: &Value) {
        let (meta_start, start, end) = self.range(v);
        let loc = &self.loc;
        let meta_at = |k: &str| -> Option<At<String>> {
            let val = str_at(v, &["metadata", k]).and_then(Value::as_str)?;
            let i = loc.find_kv(meta_start, end, k, val).unwrap_or(start);
            Some(loc.at(i, val.to_string()))
        };
        let field_at = |path: &[&str], key: &str| -> Option<At<String>> {
            let val = str_at(v, path).and_then(text_of)?;
            let i = loc.find_kv(start, end, key, &val).unwrap_or(start);
            Some(loc.at(i, val))
        };
        let mut pod = Pod {
            source: self.ctx.source,
            name: meta_at("name").unwrap_or_default(),
            namespace: meta_at("namespace"),
            uid: meta_at("uid"),
            node: field_at(&["spec", "nodeName"], "nodeName"),
            status: field_at(&["status", "phase"], "phase"),
            reason: field_at(&["status", "reason"], "reason"),
            message: field_at(&["status", "message"], "message"),
            qos_class: field_at(&["status", "qosClass"], "qosClass"),
            ..Default::default()
        };
        for (spec_key, status_key, init) in [
            ("initContainers", "initContainerStatuses", true),
            ("containers", "containerStatuses", false),
        ] {
            let specs = str_at(v, &["spec", spec_key])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let statuses = str_at(v, &["status", status_key])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            // Keys sort before and after `name`: search each entry from the end of the previous one.
            let mut entry_start = start;
            for spec in &specs {
                let (c, name_i) = self.container(spec, &statuses, init, entry_start, end);
                entry_start = name_i + 1;
                if init {
                    pod.init_containers.push(c);
                } else {
                    pod.containers.push(c);
                }
            }
        }
        self.out.pods.push(pod);
    }

    fn container(
        &mut self,
        spec: &Value,
        statuses: &[Value],
        init: bool,
        start: usize,
        end: usize,
    ) -> (Container, usize) {
        let loc = &self.loc;
        let name = spec.get("name").and_then(Value::as_str).unwrap_or("");
        let spec_i = loc.find_kv(start, end, "name", name).unwrap_or(start);
        // Keys that sort before `name` (args, command, env, image) sit between `start` and it.
        let entry = start;
        let mut c = Container {
            name: loc.at(spec_i, name.to_string()),
            init,
            ..Default::default()
        };
        if let Some(image) = spec.get("image").and_then(Value::as_str) {
            let i = loc.find_kv(entry, end, "image", image).unwrap_or(spec_i);
            c.image = Some(loc.at(i, image.to_string()));
        }
        for (which, res) in [("limits", &mut c.limits), ("requests", &mut c.requests)] {
            let Some(r) = str_at(spec, &["resources", which]) else {
                continue;
            };
            let block = loc.find_containing(entry, end, which).unwrap_or(spec_i);
            if let Some(m) = r.get("memory").and_then(text_of) {
                let i = loc.find_kv(block, end, "memory", &m).unwrap_or(block);
                res.memory_text = Some(m.clone());
                match quantity_bytes(&m) {
                    Some(b) => res.memory_bytes = Some(loc.at(i, b)),
                    None => self.diags.push(Diagnostic::warning(
                        Some(loc.at(i, ()).line),
                        format!("unreadable memory quantity `{m}`"),
                    )),
                }
            }
            if let Some(m) = r.get("cpu").and_then(text_of) {
                let i = loc.find_kv(block, end, "cpu", &m).unwrap_or(block);
                res.cpu_text = Some(m.clone());
                if let Some(milli) = quantity_millis(&m) {
                    res.cpu_millis = Some(loc.at(i, milli));
                }
            }
        }
        for e in spec
            .get("env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(n), Some(val)) = (
                e.get("name").and_then(Value::as_str),
                e.get("value").and_then(text_of),
            ) else {
                continue;
            };
            if !HEAP_ENV_VARS.contains(&n) {
                continue;
            }
            let i = loc
                .find_kv(entry, end, "name", n)
                .and_then(|ni| loc.find_kv(ni.saturating_sub(2), ni + 3, "value", &val))
                .or_else(|| loc.find_kv(entry, end, "name", n))
                .unwrap_or(spec_i);
            c.env.push(loc.at(i, (n.to_string(), val)));
        }
        for (key, list) in [("command", &mut c.command), ("args", &mut c.args)] {
            for a in spec
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(a) = a.as_str() else { continue };
                let i = loc.find_containing(entry, end, a).unwrap_or(spec_i);
                list.push(loc.at(i, a.to_string()));
            }
        }
        let Some(status) = statuses
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
        else {
            return (c, spec_i);
        };
        // The status entry's anchor: its containerID (unique), else the last `name:` of it.
        let id = status.get("containerID").and_then(Value::as_str);
        let anchor = id
            .and_then(|id| loc.find_kv(start, end, "containerID", id))
            .or_else(|| {
                (spec_i + 1..end.min(loc.lines.len()))
                    .rev()
                    .find(|&i| loc.keys[i] == format!("name: {name}"))
            })
            .unwrap_or(spec_i);
        if let Some(id) = id.filter(|s| !s.is_empty()) {
            c.container_id = Some(loc.at(anchor, id.to_string()));
        }
        let near = |key: &str, value: &str| {
            let i = loc
                .nearest_kv(anchor, start, end, key, value)
                .unwrap_or(anchor);
            loc.at(i, ())
        };
        if let Some(n) = status.get("restartCount").and_then(Value::as_u64) {
            let a = near("restartCount", &n.to_string());
            c.restart_count = Some(At::new(n, a.line, &a.text));
        }
        if let Some(r) = status.get("ready").and_then(Value::as_bool) {
            let a = near("ready", &r.to_string());
            c.ready = Some(At::new(r, a.line, &a.text));
        }
        for key in ["state", "lastState"] {
            // Values of a state are searched near its own `state:`/`lastState:` line.
            let block = loc.nearest_key(anchor, start, end, key).unwrap_or(anchor);
            let near_block = |k: &str, v: &str| {
                let i = loc.nearest_kv(block, start, end, k, v).unwrap_or(block);
                loc.at(i, ())
            };
            let state = status
                .get(key)
                .and_then(|s| state_of(s, &near_block, loc.at(block, ())));
            if key == "state" {
                c.state = state;
            } else {
                c.last_state = state;
            }
        }
        (c, spec_i)
    }

    fn node(&mut self, v: &Value) {
        let (meta_start, start, end) = self.range(v);
        let loc = &self.loc;
        let name = str_at(v, &["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or("");
        let name_i = loc.find_kv(meta_start, end, "name", name).unwrap_or(start);
        let mut node = Node {
            source: self.ctx.source,
            name: loc.at(name_i, name.to_string()),
            ..Default::default()
        };
        for c in str_at(v, &["status", "conditions"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| c.get(k).and_then(text_of).unwrap_or_default();
            let kind = s("type");
            let i = loc.find_kv(start, end, "type", &kind).unwrap_or(name_i);
            let (line, text) = loc.lines.get(i).cloned().unwrap_or_default();
            let time = |k: &str| c.get(k).and_then(Value::as_str).map(Time::parse);
            node.conditions.push(NodeCondition {
                status: s("status"),
                reason: s("reason"),
                message: s("message"),
                last_heartbeat: time("lastHeartbeatTime"),
                last_transition: time("lastTransitionTime"),
                kind,
                line,
                text,
            });
        }
        for (key, res) in [
            ("capacity", &mut node.capacity),
            ("allocatable", &mut node.allocatable),
        ] {
            let Some(r) = str_at(v, &["status", key]) else {
                continue;
            };
            let block = loc.find_containing(start, end, key).unwrap_or(start);
            fill(res, r, loc, block, end);
        }
        self.out.nodes.push(node);
    }
}

fn fill(res: &mut Resources, r: &Value, loc: &Locator, block: usize, end: usize) {
    if let Some(m) = r.get("memory").and_then(text_of) {
        let i = loc.find_kv(block, end, "memory", &m).unwrap_or(block);
        res.memory_bytes = quantity_bytes(&m).map(|b| loc.at(i, b));
        res.memory_text = Some(m);
    }
    if let Some(m) = r.get("cpu").and_then(text_of) {
        let i = loc.find_kv(block, end, "cpu", &m).unwrap_or(block);
        res.cpu_millis = quantity_millis(&m).map(|b| loc.at(i, b));
        res.cpu_text = Some(m);
    }
}

/// `{running: {…}}`, `{waiting: {…}}`, `{terminated: {…}}` in describe's wording; `{}` is none.
fn state_of(
    s: &Value,
    near: &dyn Fn(&str, &str) -> At<()>,
    block: At<()>,
) -> Option<ContainerState> {
    let (state, body) = [
        ("Terminated", "terminated"),
        ("Waiting", "waiting"),
        ("Running", "running"),
    ]
    .into_iter()
    .find_map(|(label, key)| s.get(key).map(|b| (label, b)))?;
    let text = |k: &str| body.get(k).and_then(text_of);
    let located = |k: &str| -> Option<At<String>> {
        let v = text(k)?;
        let a = near(k, &v);
        Some(At::new(v, a.line, &a.text))
    };
    let int = |k: &str| -> Option<At<i64>> {
        let v = body.get(k).and_then(Value::as_i64)?;
        let a = near(k, &v.to_string());
        Some(At::new(v, a.line, &a.text))
    };
    let time = |k: &str| -> Option<At<Time>> {
        let v = text(k)?;
        let a = near(k, &v);
        Some(At::new(Time::parse(&v), a.line, &a.text))
    };
    Some(ContainerState {
        state: state.to_string(),
        line: block.line,
        text: block.text,
        reason: located("reason"),
        message: located("message"),
        exit_code: int("exitCode"),
        signal: int("signal"),
        started: time("startedAt"),
        finished: time("finishedAt"),
    })
}

/// The `kubectl get pods` table, with `-o wide` and `-A` columns.
fn parse_table(lines: &[(u64, String)], ctx: &ParseCtx, diags: &mut Vec<Diagnostic>) -> Objects {
    let mut out = Objects::default();
    let mut cols: Option<Vec<(usize, String)>> = None;
    for (no, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        if is_table_header(text) {
            cols = Some(header_columns(text));
            continue;
        }
        let Some(cols) = cols.as_ref() else {
            continue;
        };
        let cells = cut_row(text, cols);
        let cell = |name: &str| -> Option<String> {
            let i = cols.iter().position(|c| c.1 == name)?;
            cells.get(i).filter(|s| !s.is_empty()).cloned()
        };
        let Some(name) = cell("NAME") else {
            diags.push(Diagnostic::warning(Some(*no), "table row without a NAME"));
            continue;
        };
        let at = |v: String| At::new(v, *no, text);
        let name = name.strip_prefix("pod/").unwrap_or(&name).to_string();
        let mut pod = Pod {
            source: ctx.source,
            name: at(name),
            namespace: cell("NAMESPACE").map(at),
            node: cell("NODE").filter(|n| n != "<none>").map(at),
            status: cell("STATUS").map(at),
            ready: cell("READY").map(at),
            ..Default::default()
        };
        if let Some(r) = cell("RESTARTS") {
            // `5` or `5 (2m ago)`
            let (count, ago) = match r.split_once(' ') {
                Some((n, rest)) => (n, Some(rest)),
                None => (r.as_str(), None),
            };
            match count.parse::<u64>() {
                Ok(n) => pod.restarts = Some(At::new(n, *no, text)),
                Err(_) => diags.push(Diagnostic::warning(
                    Some(*no),
                    format!("unreadable RESTARTS `{r}`"),
                )),
            }
            pod.last_restart_ago = ago
                .map(|a| a.trim_matches(|c| c == '(' || c == ')'))
                .and_then(|a| a.strip_suffix(" ago"))
                .filter(|a| parse_age(a).is_some())
                .map(str::to_string);
        }
        out.pods.push(pod);
    }
    out
}

pub fn parse(reader: &mut dyn BufRead, ctx: &ParseCtx) -> Parsed<Facts> {
    let (lines, mut diagnostics) = read_all_lines(reader, ctx.max_line_bytes);
    let count = lines.last().map_or(0, |l| l.0);
    // Output starts after any echoed command line; serde sees only the output, so its error
    // lines are shifted back by `skipped`.
    let skipped = lines
        .iter()
        .take_while(|l| l.1.trim().is_empty() || super::k8s::is_command_echo(&l.1))
        .count();
    let first = lines.get(skipped).map(|l| l.1.as_str()).unwrap_or("");
    if is_table_header(first) {
        let facts = parse_table(&lines, ctx, &mut diagnostics);
        let format = if first.contains("NOMINATED NODE") || first.contains(" IP ") {
            "get-pods-wide"
        } else {
            "get-pods"
        };
        if facts.is_empty() {
            diagnostics.push(Diagnostic::warning(
                None,
                "no pod rows under the table header",
            ));
        }
        return Parsed {
            facts,
            lines: count,
            format: format.into(),
            diagnostics,
        };
    }
    let text = lines
        .iter()
        .skip(skipped)
        .map(|l| l.1.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let json = first.trim_start().starts_with(['{', '[']);
    let mut docs: Vec<Value> = Vec::new();
    if json {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => docs.push(v),
            Err(e) => diagnostics.push(Diagnostic::warning(
                Some(e.line() as u64 + skipped as u64),
                format!("not valid JSON: {e}"),
            )),
        }
    } else {
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            match Value::deserialize(doc) {
                Ok(Value::Null) => {}
                Ok(v) => docs.push(v),
                Err(e) => {
                    diagnostics.push(Diagnostic::warning(
                        e.location().map(|l| l.line() as u64 + skipped as u64),
                        format!("not valid YAML: {e}"),
                    ));
                    break;
                }
            }
        }
    }
    // Anchors of every object (uids), so each object's line search stops at the next one's.
    let anchors: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| normalized(&l.1).starts_with("uid: "))
        .map(|(i, _)| i)
        .collect();
    let mut m = Mapper {
        loc: Locator::new(&lines),
        ctx,
        out: Objects::default(),
        diags: Vec::new(),
        cursor: 0,
        anchors,
    };
    for d in &docs {
        m.collect(d);
    }
    diagnostics.extend(m.diags);
    let list = if docs.iter().any(|d| d.get("items").is_some()) {
        "list-"
    } else {
        ""
    };
    let what = if m.out.pods.is_empty() && !m.out.nodes.is_empty() {
        "node"
    } else {
        "pod"
    };
    let format = format!("{what}-{list}{}", if json { "json" } else { "yaml" });
    if m.out.is_empty() && !docs.is_empty() {
        diagnostics.push(Diagnostic::warning(None, "no Pod or Node object found"));
    }
    Parsed {
        facts: m.out,
        lines: count,
        format,
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_objects_and_tables_not_journal_json() {
        assert!(detect(
            "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n",
            "x"
        ));
        assert!(detect(
            "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n",
            "x"
        ));
        assert!(detect("NAME    READY   STATUS    RESTARTS   AGE\n", "x"));
        assert!(!detect(
            "{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"apiVersion kind\"}\n",
            "x"
        ));
        assert!(!detect("{\"level\":30,\"msg\":\"kind\"}\n", "x"));
        assert!(detect(
            "$ kubectl get pods -A\nNAMESPACE   NAME   READY   STATUS   RESTARTS   AGE\n",
            "x"
        ));
        assert!(detect(
            "[\n  {\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n]\n",
            "x"
        ));
        assert!(!detect("Nov 21 14:23:07 host kernel: x\n", "x"));
    }
}
