//! The signature catalog: one TOML file per log signature, embedded in the binary, validated
//! on load, extendable at run time with `--signatures FILE_OR_DIR`.
//!
//! A signature is data: which lines it reads (scope), the literals that make a line worth a
//! regex (prefilter), the regexes with named captures, how hits group into findings, and the
//! text of the conclusion and the fix with `{capture}` placeholders.

pub mod derive;
pub mod engine;
pub mod findings;
pub mod template;

use crate::ingest::kernel_report::RecordKind;
use crate::model::{Severity, SourceKind};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The built-in catalog, embedded at compile time. `build.rs`-free: the list is explicit so a
/// file that is added but not listed fails the `every_catalog_file_is_embedded` test.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "net/syn_flood.toml",
        include_str!("catalog/net/syn_flood.toml"),
    ),
    (
        "net/conntrack_full.toml",
        include_str!("catalog/net/conntrack_full.toml"),
    ),
    (
        "net/tcp_mem_pressure.toml",
        include_str!("catalog/net/tcp_mem_pressure.toml"),
    ),
    (
        "net/orphan_sockets.toml",
        include_str!("catalog/net/orphan_sockets.toml"),
    ),
    (
        "net/neighbour_overflow.toml",
        include_str!("catalog/net/neighbour_overflow.toml"),
    ),
    (
        "net/timewait_overflow.toml",
        include_str!("catalog/net/timewait_overflow.toml"),
    ),
    (
        "net/eaddrnotavail.toml",
        include_str!("catalog/net/eaddrnotavail.toml"),
    ),
    (
        "net/bind_addr_unavailable.toml",
        include_str!("catalog/net/bind_addr_unavailable.toml"),
    ),
    (
        "net/econnrefused.toml",
        include_str!("catalog/net/econnrefused.toml"),
    ),
    (
        "net/socket_hang_up.toml",
        include_str!("catalog/net/socket_hang_up.toml"),
    ),
    (
        "mem/oom_kill_memcg.toml",
        include_str!("catalog/mem/oom_kill_memcg.toml"),
    ),
    (
        "mem/oom_kill_global.toml",
        include_str!("catalog/mem/oom_kill_global.toml"),
    ),
    (
        "mem/oom_no_victim.toml",
        include_str!("catalog/mem/oom_no_victim.toml"),
    ),
    ("fd/emfile.toml", include_str!("catalog/fd/emfile.toml")),
    ("fd/enfile.toml", include_str!("catalog/fd/enfile.toml")),
    ("fd/file_max.toml", include_str!("catalog/fd/file_max.toml")),
    (
        "kernel/hung_task.toml",
        include_str!("catalog/kernel/hung_task.toml"),
    ),
];

/// Which lines a signature reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Each logical line on its own.
    Line,
    /// A multi-line kernel record assembled by `ingest::kernel_report`.
    Record(RecordKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Int,
    Text,
}

/// The TOML form, as written by people.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    id: String,
    title: String,
    severity: String,
    #[serde(default = "default_scope")]
    scope: String,
    #[serde(default)]
    kernel_only: bool,
    #[serde(default)]
    group_by: Vec<String>,
    summary: String,
    what: String,
    why: String,
    #[serde(default)]
    derive: Vec<String>,
    #[serde(default)]
    record_any: Vec<String>,
    #[serde(default)]
    record_none: Vec<String>,
    #[serde(default)]
    fields: BTreeMap<String, FieldType>,
    #[serde(default)]
    pattern: Vec<RawPattern>,
    #[serde(default)]
    fix: Vec<RawFix>,
    #[serde(default)]
    example: Vec<RawExample>,
    #[serde(default)]
    counterexample: Vec<RawExample>,
}

fn default_scope() -> String {
    "line".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    literals: Vec<String>,
    regex: String,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    title: String,
    text: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExample {
    /// One or more lines, read as a file would be.
    pub text: String,
    /// Expected field values of the single finding it must produce (a subset of its fields).
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
}

#[derive(Debug)]
pub struct Pattern {
    /// Any of these (ASCII case-insensitive) in a line makes the regex worth running.
    pub literals: Vec<String>,
    /// The regex as written; compiled on first use (`regex()`), because compiling every
    /// pattern up front was three quarters of start-up and most runs use a few of them.
    pub source: String,
    compiled: std::sync::OnceLock<Option<Regex>>,
    /// Named captures, in the order the regex names them.
    pub names: Vec<String>,
    /// Case-sensitive literals that veto this pattern on a line that holds them.
    pub exclude: Vec<String>,
    /// Record scope: the record only counts when this pattern matched one of its lines.
    pub required: bool,
}

impl Pattern {
    /// The compiled regex. Syntax was checked at load; `None` only if compiling failed anyway
    /// (a size limit), in which case the pattern never matches. The built-in catalog is
    /// compiled whole by `tests/catalog.rs` and user files at load, so neither can hit it.
    pub fn regex(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source).ok())
            .as_ref()
    }
}

/// Capture names of a regex, in order, from its syntax tree (no compilation).
fn capture_names(ast: &regex_syntax::ast::Ast, out: &mut Vec<String>) {
    use regex_syntax::ast::{Ast, GroupKind};
    match ast {
        Ast::Group(g) => {
            if let GroupKind::CaptureName { name, .. } = &g.kind {
                out.push(name.name.clone());
            }
            capture_names(&g.ast, out);
        }
        Ast::Concat(c) => c.asts.iter().for_each(|a| capture_names(a, out)),
        Ast::Alternation(a) => a.asts.iter().for_each(|a| capture_names(a, out)),
        Ast::Repetition(r) => capture_names(&r.ast, out),
        _ => {}
    }
}

#[derive(Debug)]
pub struct FixSpec {
    pub title: String,
    pub text: String,
}

#[derive(Debug)]
pub struct Signature {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub scope: Scope,
    pub kernel_only: bool,
    pub group_by: Vec<String>,
    pub summary: String,
    pub what: String,
    pub why: String,
    pub derive: Vec<derive::Derivation>,
    pub record_any: Vec<String>,
    pub record_none: Vec<String>,
    pub field_types: BTreeMap<String, FieldType>,
    pub patterns: Vec<Pattern>,
    pub fixes: Vec<FixSpec>,
    pub examples: Vec<RawExample>,
    pub counterexamples: Vec<RawExample>,
    /// Where it came from: `builtin:net/syn_flood.toml` or a user file path.
    pub origin: String,
}

impl Signature {
    /// Every name a placeholder or `group_by` may use: captures, derived fields, built-ins.
    pub fn known_fields(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self
            .patterns
            .iter()
            .flat_map(|p| p.names.iter().cloned())
            .collect();
        for d in &self.derive {
            names.extend(d.outputs().iter().map(|s| s.to_string()));
        }
        names.extend(template::BUILTIN_FIELDS.iter().map(|s| s.to_string()));
        names
    }

    pub fn field_type(&self, name: &str) -> FieldType {
        self.field_types
            .get(name)
            .copied()
            .unwrap_or(FieldType::Text)
    }
}

/// A catalog problem, naming the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub origin: String,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

impl std::error::Error for CatalogError {}

fn err(origin: &str, message: impl Into<String>) -> CatalogError {
    CatalogError {
        origin: origin.to_string(),
        message: message.into(),
    }
}

/// Ids are public: lowercase dotted words with dashes, like `net.syn-flood`.
fn valid_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    };
    parts.clone().count() >= 2 && parts.all(ok_part)
}

/// Parse and validate one signature file.
pub fn parse_signature(origin: &str, text: &str) -> Result<Signature, CatalogError> {
    let raw: RawSignature = toml::from_str(text).map_err(|e| err(origin, e.to_string()))?;
    if !valid_id(&raw.id) {
        return Err(err(
            origin,
            format!(
                "id `{}` must be dotted lowercase words such as `net.syn-flood`",
                raw.id
            ),
        ));
    }
    let severity = Severity::parse(&raw.severity).ok_or_else(|| {
        err(
            origin,
            format!(
                "severity `{}` must be info, warning or critical",
                raw.severity
            ),
        )
    })?;
    let scope = if raw.scope == "line" {
        Scope::Line
    } else {
        Scope::Record(RecordKind::from_scope(&raw.scope).ok_or_else(|| {
            err(
                origin,
                format!(
                    "scope `{}` must be line, oom-report or hung-task",
                    raw.scope
                ),
            )
        })?)
    };
    if raw.pattern.is_empty() {
        return Err(err(origin, "a signature needs at least one [[pattern]]"));
    }
    let mut patterns = Vec::new();
    for (i, p) in raw.pattern.into_iter().enumerate() {
        let does_not_compile = |e: &dyn std::fmt::Display| {
            err(
                origin,
                format!("pattern {} regex does not compile: {e}", i + 1),
            )
        };
        // Syntax (and capture names) now; full compilation on first use for the built-ins,
        // which tests/catalog.rs compiles whole. User files are compiled here, so a bad one is
        // an error at load naming the file, as promised.
        let ast = regex_syntax::ast::parse::Parser::new()
            .parse(&p.regex)
            .map_err(|e| does_not_compile(&e))?;
        regex_syntax::hir::translate::Translator::new()
            .translate(&p.regex, &ast)
            .map_err(|e| does_not_compile(&e))?;
        let mut names = Vec::new();
        capture_names(&ast, &mut names);
        let compiled = std::sync::OnceLock::new();
        if !origin.starts_with("builtin:") {
            let re = Regex::new(&p.regex).map_err(|e| does_not_compile(&e))?;
            let _ = compiled.set(Some(re));
        }
        if p.literals.is_empty() || p.literals.iter().any(|l| l.trim().len() < 3) {
            return Err(err(
                origin,
                format!(
                    "pattern {} needs prefilter literals of at least 3 characters",
                    i + 1
                ),
            ));
        }
        patterns.push(Pattern {
            literals: p.literals,
            source: p.regex,
            compiled,
            names,
            exclude: p.exclude,
            required: p.required,
        });
    }
    let derive = raw
        .derive
        .iter()
        .map(|d| derive::Derivation::parse(d).map_err(|m| err(origin, m)))
        .collect::<Result<Vec<_>, _>>()?;
    let sig = Signature {
        id: raw.id,
        title: raw.title,
        severity,
        scope,
        kernel_only: raw.kernel_only,
        group_by: raw.group_by,
        summary: raw.summary,
        what: raw.what,
        why: raw.why,
        derive,
        record_any: raw.record_any,
        record_none: raw.record_none,
        field_types: raw.fields,
        patterns,
        fixes: raw
            .fix
            .into_iter()
            .map(|f| FixSpec {
                title: f.title,
                text: f.text,
            })
            .collect(),
        examples: raw.example,
        counterexamples: raw.counterexample,
        origin: origin.to_string(),
    };
    validate(&sig)?;
    Ok(sig)
}

fn validate(sig: &Signature) -> Result<(), CatalogError> {
    let o = &sig.origin;
    let known = sig.known_fields();
    for d in &sig.derive {
        if !known.contains(d.input()) {
            return Err(err(
                o,
                format!(
                    "derive `{}` reads `{}`, which no pattern captures",
                    d.spec(),
                    d.input()
                ),
            ));
        }
    }
    for g in &sig.group_by {
        if !known.contains(g) {
            return Err(err(
                o,
                format!("group_by `{g}` is not a capture or built-in field"),
            ));
        }
    }
    for name in sig.field_types.keys() {
        if !known.contains(name) {
            return Err(err(
                o,
                format!("[fields] names `{name}`, which is not a capture"),
            ));
        }
    }
    let mut texts = vec![("summary", sig.summary.as_str())];
    for f in &sig.fixes {
        texts.push(("fix", f.title.as_str()));
        texts.push(("fix", f.text.as_str()));
    }
    for (what, t) in texts {
        for ph in template::placeholders(t).map_err(|m| err(o, format!("{what}: {m}")))? {
            if !known.contains(&ph.name) {
                return Err(err(
                    o,
                    format!(
                        "{what} uses placeholder `{{{}}}`, which is not a capture of any pattern",
                        ph.name
                    ),
                ));
            }
        }
    }
    if sig.examples.is_empty() || sig.counterexamples.is_empty() {
        return Err(err(
            o,
            "a signature needs at least one [[example]] and one [[counterexample]]",
        ));
    }
    for ex in &sig.examples {
        for name in ex.fields.keys() {
            if !known.contains(name) {
                return Err(err(
                    o,
                    format!("example expects field `{name}`, which is not a capture"),
                ));
            }
        }
    }
    if sig.fixes.is_empty() {
        return Err(err(o, "a signature needs at least one [[fix]]"));
    }
    Ok(())
}

/// Load the built-in catalog. Its validity is a test, so a failure here is a build defect;
/// it is still returned as an error rather than a panic.
pub fn builtin() -> Result<Vec<Signature>, CatalogError> {
    BUILTIN
        .iter()
        .map(|(name, text)| parse_signature(&format!("builtin:{name}"), text))
        .collect()
}

/// Load user signature files: a `.toml` file, or every `.toml` under a directory (sorted).
pub fn load_user(path: &Path) -> Result<Vec<Signature>, CatalogError> {
    let origin = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| err(&origin, format!("cannot read: {e}")))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        collect_toml(path, &mut files).map_err(|e| err(&origin, format!("cannot read: {e}")))?;
        files.sort();
        if files.is_empty() {
            return Err(err(&origin, "no .toml signature files in this directory"));
        }
    } else {
        files.push(path.to_path_buf());
    }
    files
        .iter()
        .map(|f| {
            let o = f.display().to_string();
            let text =
                std::fs::read_to_string(f).map_err(|e| err(&o, format!("cannot read: {e}")))?;
            parse_signature(&o, &text)
        })
        .collect()
}

fn collect_toml(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            collect_toml(&p, out)?;
        } else if ft.is_file() && p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// The catalog in use: built-ins plus user files, ids unique, with its prefilter built.
pub struct Catalog {
    pub signatures: Vec<Signature>,
    pub matcher: engine::Matcher,
}

impl Catalog {
    pub fn new(signatures: Vec<Signature>) -> Result<Catalog, CatalogError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for s in &signatures {
            if let Some(prev) = seen.insert(&s.id, &s.origin) {
                return Err(err(
                    &s.origin,
                    format!("duplicate signature id `{}` (also in {prev})", s.id),
                ));
            }
        }
        let matcher = engine::Matcher::build(&signatures)
            .map_err(|m| err("catalog", format!("cannot build the prefilter: {m}")))?;
        Ok(Catalog {
            signatures,
            matcher,
        })
    }

    /// Built-ins plus the user paths given with `--signatures`.
    pub fn load(user_paths: &[std::path::PathBuf]) -> Result<Catalog, CatalogError> {
        let mut sigs = builtin()?;
        for p in user_paths {
            sigs.extend(load_user(p)?);
        }
        Catalog::new(sigs)
    }

    pub fn get(&self, id: &str) -> Option<&Signature> {
        self.signatures.iter().find(|s| s.id == id)
    }

    /// Which source kinds signatures read. All of today's catalog reads logs.
    pub fn reads(&self, kind: SourceKind) -> bool {
        kind == SourceKind::Log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "test.thing"
title = "T"
severity = "warning"
summary = "port {port}"
what = "w"
why = "y"
[[pattern]]
literals = ["thing on"]
regex = 'thing on (?P<port>\d+)'
[[fix]]
title = "f"
text = "fix {port}"
[[example]]
text = "thing on 80"
[[counterexample]]
text = "nothing"
"#;

    #[test]
    fn minimal_signature_parses() {
        let s = parse_signature("t.toml", MINIMAL).expect("valid");
        assert_eq!(s.id, "test.thing");
        assert_eq!(s.scope, Scope::Line);
    }

    #[test]
    fn rejects_bad_regex_unknown_placeholder_missing_cases_and_bad_id() {
        let cases = [
            (
                MINIMAL.replace(r"(?P<port>\d+)", r"(?P<port>\d+"),
                "does not compile",
            ),
            (
                MINIMAL.replace("port {port}", "port {prot}"),
                "placeholder `{prot}`",
            ),
            (
                MINIMAL.replace("[[counterexample]]\ntext = \"nothing\"", ""),
                "counterexample",
            ),
            (
                MINIMAL.replace("test.thing", "Test Thing"),
                "dotted lowercase",
            ),
            (MINIMAL.replace("warning", "loud"), "severity"),
            (
                MINIMAL.replace("literals = [\"thing on\"]", "literals = [\"th\"]"),
                "literals",
            ),
            (format!("{MINIMAL}\nbogus = 1\n"), "unknown field"),
        ];
        for (text, needle) in cases {
            let e = parse_signature("bad.toml", &text).expect_err(needle);
            assert!(e.message.contains(needle), "{needle}: {e}");
            assert_eq!(e.origin, "bad.toml");
        }
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let a = parse_signature("a.toml", MINIMAL).expect("valid");
        let b = parse_signature("b.toml", MINIMAL).expect("valid");
        let e = Catalog::new(vec![a, b]).err().expect("duplicate");
        assert!(e
            .to_string()
            .contains("duplicate signature id `test.thing`"));
    }
}
