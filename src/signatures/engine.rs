//! The matching engine: one Aho-Corasick scan per line over every signature's literals (and
//! the record assembler's), so regexes run only on candidate lines and cost tracks bytes read,
//! not bytes × signatures.

use super::{Scope, Signature};
use crate::ingest::kernel_report::{self, Record, RecordKind};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::memmem;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
enum Owner {
    /// Literal of pattern `pat` of signature `sig`.
    Pattern { sig: usize, pat: usize },
    /// Literal the record assembler reacts to.
    Structural,
}

/// Up to this many bytes of distinct literals the prefilter is always a DFA (memory: about
/// literal bytes × byte classes × 4, a few MiB at most). aho-corasick's own choice switches to
/// a contiguous NFA past 100 entries, which scans about 30% slower (docs/PERFORMANCE.md): a
/// catalog with a few dozen user signatures would pay that on every byte read.
const DFA_MAX_LITERAL_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub struct Matcher {
    ac: AhoCorasick,
    /// Who owns each automaton entry (a distinct literal): one or more patterns, or the
    /// record assembler.
    owners: Vec<Vec<Owner>>,
    /// Line-scope (sig, pat) pairs, flattened, for the candidate bitmap.
    n_patterns: usize,
    pattern_base: Vec<usize>,
}

/// Reusable per-thread scratch for `Matcher::candidates`.
#[derive(Default)]
pub struct Scratch {
    seen: Vec<bool>,
    list: Vec<(usize, usize)>,
}

/// Captures of one match, in the order the regex names them.
pub type Captures = Vec<(String, String)>;

impl Matcher {
    pub fn build(sigs: &[Signature]) -> Result<Matcher, String> {
        // One automaton entry per distinct literal (ASCII case folded, as the automaton
        // matches), listing every pattern that owns it: catalogs repeat literals
        // (`cannot assign requested address` guards four patterns), and fewer entries keep
        // the automaton a DFA.
        let mut lits: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut by_folded: BTreeMap<String, usize> = BTreeMap::new();
        let mut add = |lit: &str, owner: Owner| {
            let i = *by_folded
                .entry(lit.to_ascii_lowercase())
                .or_insert_with(|| {
                    lits.push(lit.to_string());
                    owners.push(Vec::new());
                    lits.len() - 1
                });
            if let Some(o) = owners.get_mut(i) {
                o.push(owner);
            }
        };
        let mut pattern_base = Vec::new();
        let mut n = 0;
        for (si, s) in sigs.iter().enumerate() {
            pattern_base.push(n);
            n += s.patterns.len();
            for (pi, p) in s.patterns.iter().enumerate() {
                for l in &p.literals {
                    add(l, Owner::Pattern { sig: si, pat: pi });
                }
            }
        }
        for l in kernel_report::structural_literals() {
            add(l, Owner::Structural);
        }
        let build = |kind: Option<AhoCorasickKind>| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&lits)
        };
        let literal_bytes: usize = lits.iter().map(String::len).sum();
        let ac = if literal_bytes <= DFA_MAX_LITERAL_BYTES {
            build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None))
        } else {
            build(None)
        }
        .map_err(|e| e.to_string())?;
        Ok(Matcher {
            ac,
            owners,
            n_patterns: n,
            pattern_base,
        })
    }

    /// Scan `text` once. Returns whether any literal (signature or structural) is present;
    /// fills `scratch` with the (signature, pattern) pairs worth running.
    pub fn candidates(&self, text: &str, scratch: &mut Scratch) -> bool {
        scratch.list.clear();
        if scratch.seen.len() != self.n_patterns {
            scratch.seen = vec![false; self.n_patterns];
        }
        let mut any = false;
        for m in self.ac.find_overlapping_iter(text) {
            any = true;
            for owner in &self.owners[m.pattern().as_usize()] {
                if let Owner::Pattern { sig, pat } = *owner {
                    let flat = self.pattern_base[sig] + pat;
                    if !scratch.seen[flat] {
                        scratch.seen[flat] = true;
                        scratch.list.push((sig, pat));
                    }
                }
            }
        }
        for &(sig, pat) in &scratch.list {
            scratch.seen[self.pattern_base[sig] + pat] = false;
        }
        scratch.list.sort_unstable();
        any
    }

    /// Line-scope matches on `text`: at most one per signature, its first matching pattern.
    pub fn match_line(
        &self,
        sigs: &[Signature],
        text: &str,
        is_kernel: bool,
        scratch: &Scratch,
        out: &mut Vec<(usize, Captures)>,
    ) {
        let mut last_sig = usize::MAX;
        for &(si, pi) in &scratch.list {
            if si == last_sig {
                continue;
            }
            let s = &sigs[si];
            if s.scope != Scope::Line || (s.kernel_only && !is_kernel) {
                continue;
            }
            if let Some(c) = try_pattern(&s.patterns[pi], text) {
                out.push((si, c));
                last_sig = si;
            }
        }
    }
}

fn contains(hay: &str, needle: &str) -> bool {
    memmem::find(hay.as_bytes(), needle.as_bytes()).is_some()
}

fn try_pattern(p: &super::Pattern, text: &str) -> Option<Captures> {
    if p.exclude.iter().any(|x| contains(text, x)) {
        return None;
    }
    let caps = p.regex()?.captures(text)?;
    Some(
        p.names
            .iter()
            .filter_map(|name| {
                caps.name(name)
                    .map(|m| (name.clone(), m.as_str().to_string()))
            })
            .collect(),
    )
}

/// A record-scope match: the captures (first match wins per name, patterns in order) and the
/// kept lines that any pattern matched, for evidence.
pub struct RecordMatch {
    pub sig: usize,
    pub captures: Captures,
    pub matched_lines: Vec<usize>,
}

/// Match every record-scope signature of the record's kind against it.
pub fn match_record<T>(sigs: &[Signature], rec: &Record<T>) -> Vec<RecordMatch> {
    let mut out = Vec::new();
    for (si, s) in sigs.iter().enumerate() {
        if s.scope != Scope::Record(rec.kind) {
            continue;
        }
        let any_line = |lit: &str| rec.lines.iter().any(|(_, t, _)| contains(t, lit));
        if !s.record_any.is_empty() && !s.record_any.iter().any(|l| any_line(l)) {
            continue;
        }
        if s.record_none.iter().any(|l| any_line(l)) {
            continue;
        }
        let mut captures: Captures = Vec::new();
        let mut matched_lines = Vec::new();
        let mut required_ok = true;
        for p in &s.patterns {
            let mut hit = false;
            for (li, (_, text, _)) in rec.lines.iter().enumerate() {
                if let Some(c) = try_pattern(p, text) {
                    hit = true;
                    if !matched_lines.contains(&li) {
                        matched_lines.push(li);
                    }
                    for (k, v) in c {
                        if !captures.iter().any(|(n, _)| *n == k) {
                            captures.push((k, v));
                        }
                    }
                    break;
                }
            }
            if p.required && !hit {
                required_ok = false;
                break;
            }
        }
        if required_ok && !matched_lines.is_empty() {
            matched_lines.sort_unstable();
            out.push(RecordMatch {
                sig: si,
                captures,
                matched_lines,
            });
        }
    }
    out
}

/// Record kinds some signature in the catalog reads (no assembler is run for the others).
pub fn record_kinds_in_use(sigs: &[Signature]) -> Vec<RecordKind> {
    let mut v: Vec<RecordKind> = sigs
        .iter()
        .filter_map(|s| match s.scope {
            Scope::Record(k) => Some(k),
            Scope::Line => None,
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signatures::parse_signature;

    fn user_signature(i: usize) -> Signature {
        let text = format!(
            r#"
id = "test.extra-{i}"
title = "T"
severity = "warning"
summary = "s"
what = "w"
why = "y"
[[pattern]]
literals = ["distinct failure wording number {i}"]
regex = 'distinct failure wording number {i}\b'
[[pattern]]
literals = ["Connection Refused"]
regex = 'connection refused by peer {i}'
[[fix]]
title = "f"
text = "t"
[[example]]
text = "distinct failure wording number {i}"
[[counterexample]]
text = "nothing"
"#
        );
        parse_signature("test.toml", &text).expect("valid test signature")
    }

    fn builtins() -> Vec<Signature> {
        crate::signatures::builtin().expect("built-in catalog")
    }

    #[test]
    fn repeated_literals_share_one_entry_and_keep_every_owner() {
        let mut sigs = builtins();
        sigs.push(user_signature(1));
        let m = Matcher::build(&sigs).expect("matcher");
        // `Connection Refused` folds onto the catalog's `connection refused` entry, whose
        // owners now include the user pattern too.
        let mut scratch = Scratch::default();
        assert!(m.candidates("upstream: connection refused by peer 1", &mut scratch));
        let user = sigs.len() - 1;
        assert!(scratch.list.contains(&(user, 1)), "{:?}", scratch.list);
        let refused = sigs
            .iter()
            .position(|s| s.id == "net.econnrefused")
            .expect("econnrefused");
        assert!(scratch.list.iter().any(|&(s, _)| s == refused));
        let mut out = Vec::new();
        m.match_line(
            &sigs,
            "connection refused by peer 1",
            false,
            &scratch,
            &mut out,
        );
        assert!(out.iter().any(|(s, _)| *s == user));
        // A line without any literal is no candidate.
        assert!(!m.candidates("systemd[1]: Started logrotate.", &mut scratch));
        assert!(scratch.list.is_empty());
    }

    #[test]
    fn a_catalog_with_many_user_signatures_stays_a_dfa() {
        let mut sigs = builtins();
        assert_eq!(
            Matcher::build(&sigs).expect("matcher").ac.kind(),
            AhoCorasickKind::DFA
        );
        // Past 100 entries aho-corasick would pick a contiguous NFA on its own.
        sigs.extend((0..120).map(user_signature));
        let m = Matcher::build(&sigs).expect("matcher");
        assert!(m.owners.len() > 100);
        assert_eq!(m.ac.kind(), AhoCorasickKind::DFA);
        let mut scratch = Scratch::default();
        assert!(m.candidates("distinct failure wording number 119", &mut scratch));
        assert!(scratch.list.contains(&(sigs.len() - 1, 0)));
        let mut out = Vec::new();
        let line = "distinct failure wording number 119";
        m.match_line(&sigs, line, false, &scratch, &mut out);
        assert_eq!(out.first().map(|(s, _)| *s), Some(sigs.len() - 1));
    }
}
