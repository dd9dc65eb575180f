//! The per-source scan of a log: physical lines → logical lines (wrapped continuations joined,
//! glued records split) → prefilter → record assembly and signature matching → hits.
//!
//! This is where ingest (pure parsing) meets the catalog; neither knows the other. It streams:
//! memory is the current logical line plus open records, whatever the file's size.

use crate::ingest::kernel_report::{Assembler, Record, RecordKind};
use crate::ingest::lines::LineReader;
use crate::ingest::log::{self, LineFormat, MarkerKind, ParsedLine};
use crate::model::{Diagnostic, Hit, SourceId, Stamp};
use crate::signatures::engine::{self, Scratch};
use crate::signatures::Catalog;
use std::collections::BTreeMap;
use std::io::BufRead;

/// A wrapped record is rejoined from at most this many continuation lines: an `oom-kill:`
/// summary with two Kubernetes cgroup paths (~600 bytes) takes 8 rows of an 80-column terminal.
const MAX_CONTINUATIONS: u32 = 8;
/// And never past this many bytes, so a paste of unprefixed text cannot grow one line forever.
const MAX_LOGICAL_BYTES: usize = 16 * 1024;
/// Terminals are at least this wide; mail clients wrap at 72–78 columns. Physical lines of one
/// equal width of at least this many characters are a terminal's hard wrap, split mid-word.
const MIN_TERMINAL_COLUMNS: usize = 80;

#[derive(Debug, Default)]
pub struct LogScan {
    pub lines: u64,
    pub bytes: u64,
    /// Logical lines per detected prefix format.
    pub formats: BTreeMap<LineFormat, u64>,
    pub hits: Vec<Hit>,
    pub diagnostics: Vec<Diagnostic>,
    /// Boot separators seen: (line, boot id when printed).
    pub boots: Vec<(u64, Option<String>)>,
    /// What the source says about its clocks, for the timeline.
    pub clock: crate::timeline::observe::ClockObservations,
}

impl LogScan {
    /// `dmesg`, `syslog+app`, `plain+json-lines`: the formats that make up at least 1% of the
    /// file's non-blank logical lines, most frequent first. Untimed lines that follow a
    /// timestamped application line (stack traces) count as `app`; other untimed lines as `plain`.
    pub fn format_name(&self) -> String {
        let total: u64 = self
            .formats
            .iter()
            .filter(|(f, _)| !matches!(f, LineFormat::Marker))
            .map(|(_, n)| n)
            .sum();
        let mut v: Vec<(LineFormat, u64)> = self
            .formats
            .iter()
            .filter(|(f, _)| !matches!(f, LineFormat::Marker))
            .map(|(f, n)| (*f, *n))
            .filter(|(_, n)| *n * 100 >= total.max(1))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if v.is_empty() {
            return "plain".into();
        }
        v.iter()
            .map(|(f, _)| f.name())
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// A logical line with owned, reused buffers (no allocation per line once warm).
#[derive(Default)]
struct Logical {
    active: bool,
    first: u64,
    last: u64,
    format: Option<LineFormat>,
    stamp: Stamp,
    mono_us: Option<u64>,
    kernel: bool,
    host: Option<String>,
    program: Option<String>,
    boot_id: Option<String>,
    marker: Option<MarkerKind>,
    message: String,
    /// The message with continuations joined without a space (terminal hard wraps split words).
    message_nospace: String,
    raw: String,
    raw_conts: Vec<(u64, String)>,
    conts: u32,
    /// Characters of the first physical line, counted when the first continuation arrives.
    first_width: usize,
    /// Whether every physical line but the last has `first_width` characters so far.
    equal_widths: bool,
    last_width: usize,
}

fn set_opt(slot: &mut Option<String>, v: Option<&str>) {
    match (slot.as_mut(), v) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (None, Some(v)) => *slot = Some(v.to_string()),
        (_, None) => *slot = None,
    }
}

impl Logical {
    fn start(&mut self, line_no: u64, raw: &str, p: &ParsedLine<'_>) {
        self.active = true;
        self.first = line_no;
        self.last = line_no;
        self.format = Some(p.format);
        self.stamp = p.stamp;
        self.mono_us = p.mono_us;
        self.kernel = p.is_kernel() || p.format == LineFormat::Plain;
        set_opt(&mut self.host, p.host.as_deref());
        set_opt(&mut self.program, p.program.as_deref());
        if self.boot_id.as_deref() != p.boot_id.as_deref() {
            self.boot_id = p.boot_id.clone();
        }
        self.marker = p.marker.clone();
        self.message.clear();
        self.message.push_str(&p.message);
        self.raw.clear();
        self.raw.push_str(raw);
        self.raw_conts.clear();
        self.conts = 0;
    }

    fn accepts_continuation(&self, p: &ParsedLine<'_>, raw: &str) -> bool {
        self.active
            && p.format == LineFormat::Plain
            && !raw.trim().is_empty()
            && self.format.is_some_and(|f| f.wraps_continuations())
            && self.conts < MAX_CONTINUATIONS
            && self.message.len() + raw.len() <= MAX_LOGICAL_BYTES
    }

    fn continue_with(&mut self, line_no: u64, raw: &str) {
        if self.conts == 0 {
            self.message_nospace.clear();
            self.message_nospace.push_str(&self.message);
            self.first_width = self.raw.chars().count();
            self.equal_widths = true;
        } else {
            self.equal_widths &= self.last_width == self.first_width;
        }
        self.last_width = raw.chars().count();
        self.message.push(' ');
        self.message.push_str(raw.trim_start());
        // A hard wrap split the text at a column: the exact concatenation is the original line.
        self.message_nospace.push_str(raw);
        self.raw_conts.push((line_no, raw.to_string()));
        self.conts += 1;
        self.last = line_no;
    }

    /// Whether the wrap looks like a terminal's (rows of one width of at least 80 columns).
    fn terminal_wrapped(&self) -> bool {
        self.conts > 0 && self.equal_widths && self.first_width >= MIN_TERMINAL_COLUMNS
    }

    fn evidence(&self) -> Vec<(u64, String)> {
        let mut v = vec![(self.first, self.raw.clone())];
        v.extend(self.raw_conts.iter().cloned());
        v
    }
}

/// What a record keeps per line for evidence and time.
#[derive(Clone)]
struct LineInfo {
    stamp: Stamp,
    mono_us: Option<u64>,
    /// The physical lines of the logical line (more than one when it was wrapped).
    raw: Vec<(u64, String)>,
}

struct Scanner<'c> {
    catalog: &'c Catalog,
    source: SourceId,
    scratch: Scratch,
    matches: Vec<(usize, engine::Captures)>,
    assemblers: Vec<Assembler<LineInfo>>,
    records: Vec<Record<LineInfo>>,
    out: LogScan,
    /// The last stamp of a timestamped application line: an untimed line after it (a stack
    /// trace) belongs to that record.
    app_stamp: Option<Stamp>,
}

impl<'c> Scanner<'c> {
    fn new(catalog: &'c Catalog, source: SourceId) -> Self {
        Scanner {
            catalog,
            source,
            scratch: Scratch::default(),
            matches: Vec::new(),
            assemblers: engine::record_kinds_in_use(&catalog.signatures)
                .into_iter()
                .map(Assembler::new)
                .collect(),
            records: Vec::new(),
            out: LogScan::default(),
            app_stamp: None,
        }
    }

    fn process(&mut self, l: &mut Logical) {
        let Some(mut format) = l.format else {
            return;
        };
        if let Some(MarkerKind::Boot(id)) = &l.marker {
            *self.out.formats.entry(format).or_insert(0) += 1;
            self.out.boots.push((l.first, id.clone()));
            // A kernel report never spans a reboot: what is open was cut by it (a panic on OOM),
            // and the next boot's lines must not be read as its victim.
            for a in &mut self.assemblers {
                if let Some(r) = a.finish() {
                    self.records.push(r);
                }
            }
            self.flush_records();
            return;
        }
        match format {
            // Text loggers print a stack trace as untimed lines after the record that owns it.
            // JSON loggers keep their traces inside the object, so an untimed line after one
            // (a crash on stderr) is not part of it.
            LineFormat::App => {
                self.app_stamp = (l.stamp != Stamp::Missing).then_some(l.stamp);
            }
            LineFormat::Plain => {
                if let Some(s) = self.app_stamp {
                    l.stamp = s;
                    l.kernel = false;
                    format = LineFormat::App;
                }
            }
            _ => self.app_stamp = None,
        }
        if !(format == LineFormat::Plain && l.message.trim().is_empty()) {
            *self.out.formats.entry(format).or_insert(0) += 1;
        }
        let m = self
            .catalog
            .matcher
            .candidates(&l.message, &mut self.scratch);
        // A wrapped line is rejoined two ways: with a space (mail clients and terminals that
        // wrap at a blank) and without (terminals that hard-wrap mid-word). The spaced form wins
        // unless only the unspaced one reads as a signature line.
        let use_nospace = l.conts > 0 && (l.terminal_wrapped() || self.nospace_reads_better(l, m));
        let interesting = if l.conts == 0 {
            m
        } else if use_nospace {
            self.catalog
                .matcher
                .candidates(&l.message_nospace, &mut self.scratch)
        } else {
            self.catalog
                .matcher
                .candidates(&l.message, &mut self.scratch)
        };
        if !interesting && !self.assemblers.iter().any(|a| a.is_open()) {
            return;
        }
        let text = if use_nospace {
            std::mem::take(&mut l.message_nospace)
        } else {
            std::mem::take(&mut l.message)
        };
        let glued = if interesting {
            log::glued_record_starts(&text)
        } else {
            Vec::new()
        };
        if glued.is_empty() {
            self.process_text(l, &text, interesting, l.stamp, l.mono_us);
        } else {
            let mut bounds = vec![0];
            bounds.extend(glued);
            bounds.push(text.len());
            for w in bounds.windows(2) {
                let part = &text[w[0]..w[1]];
                if w[0] == 0 {
                    let hit = self.catalog.matcher.candidates(part, &mut self.scratch);
                    self.process_text(l, part, hit, l.stamp, l.mono_us);
                } else {
                    let p = log::parse_line(part);
                    let hit = self
                        .catalog
                        .matcher
                        .candidates(&p.message, &mut self.scratch);
                    let (stamp, mono) = (p.stamp, p.mono_us);
                    self.process_text(l, &p.message, hit, stamp, mono);
                }
            }
        }
        if use_nospace {
            l.message_nospace = text;
        } else {
            l.message = text;
        }
    }

    /// Whether the unspaced join of a wrapped line should be matched instead of the spaced one:
    /// its prefilter hits and either the spaced join's does not, or no pattern (line or
    /// record scope) reads the spaced join while one reads the unspaced one. Runs only for
    /// wrapped lines that hold a literal, which are rare.
    fn nospace_reads_better(&mut self, l: &Logical, spaced_candidates: bool) -> bool {
        if spaced_candidates && self.any_pattern_reads(&l.message) {
            return false;
        }
        if !self
            .catalog
            .matcher
            .candidates(&l.message_nospace, &mut self.scratch)
        {
            return false;
        }
        !spaced_candidates || self.any_pattern_reads(&l.message_nospace)
    }

    /// Whether any pattern of the catalog matches `text` (its excludes respected).
    fn any_pattern_reads(&self, text: &str) -> bool {
        self.catalog
            .signatures
            .iter()
            .flat_map(|s| &s.patterns)
            .any(|p| {
                !p.exclude.iter().any(|x| text.contains(x.as_str()))
                    && p.regex().is_some_and(|r| r.is_match(text))
            })
    }

    /// One record's text (a whole logical line, or one glued part of it); the scratch holds
    /// its prefilter candidates.
    fn process_text(
        &mut self,
        l: &Logical,
        text: &str,
        interesting: bool,
        stamp: Stamp,
        mono_us: Option<u64>,
    ) {
        if l.kernel {
            for a in &mut self.assemblers {
                if interesting || a.is_open() {
                    a.push(
                        l.first,
                        text,
                        interesting,
                        || LineInfo {
                            stamp,
                            mono_us,
                            raw: l.evidence(),
                        },
                        &mut self.records,
                    );
                }
            }
            self.flush_records();
        }
        if !interesting {
            return;
        }
        self.matches.clear();
        self.catalog.matcher.match_line(
            &self.catalog.signatures,
            text,
            l.kernel,
            &self.scratch,
            &mut self.matches,
        );
        for (sig, captures) in self.matches.drain(..) {
            self.out.hits.push(Hit {
                signature: sig,
                source: self.source,
                first_line: l.first,
                last_line: l.last,
                stamp,
                mono_us,
                boot_id: l.boot_id.clone(),
                host: l.host.clone(),
                program: l.program.clone(),
                captures,
                evidence: l.evidence(),
            });
        }
    }

    fn flush_records(&mut self) {
        for rec in std::mem::take(&mut self.records) {
            self.record_done(rec);
        }
    }

    fn record_done(&mut self, rec: Record<LineInfo>) {
        if rec.cut && rec.kind == RecordKind::OomReport {
            self.out.diagnostics.push(Diagnostic::warning(
                Some(rec.first_line),
                format!(
                    "the OOM report starting at line {} is cut short before its `Killed process` line (the file was truncated or filtered, or the host rebooted)",
                    rec.first_line
                ),
            ));
        }
        let Some((_, _, first_info)) = rec.lines.first() else {
            return;
        };
        for m in engine::match_record(&self.catalog.signatures, &rec) {
            let mut evidence: Vec<(u64, String)> = first_info.raw.clone();
            let mut add = |info: &LineInfo| {
                for (n, text) in &info.raw {
                    if !evidence.iter().any(|(e, _)| e == n) {
                        evidence.push((*n, text.clone()));
                    }
                }
            };
            for &li in &m.matched_lines {
                if let Some((_, _, info)) = rec.lines.get(li) {
                    add(info);
                }
            }
            if rec.kind == RecordKind::HungTask {
                // The call trace is the evidence: its top frames name what the task waits on.
                for (_, _, info) in &rec.lines {
                    add(info);
                }
            }
            // The reaper's line closes the story (memory given back) even when no pattern reads it.
            if let Some((_, _, info)) = rec.lines.last() {
                add(info);
            }
            evidence.sort_by_key(|(n, _)| *n);
            self.out.hits.push(Hit {
                signature: m.sig,
                source: self.source,
                first_line: rec.first_line,
                last_line: rec.last_line,
                stamp: first_info.stamp,
                mono_us: first_info.mono_us,
                boot_id: None,
                host: None,
                program: Some("kernel".into()),
                captures: m.captures,
                evidence,
            });
        }
    }
}

/// Scan one log source to its hits. Never fails: an I/O error part-way (a truncated archive
/// member) keeps what was read and adds a diagnostic.
pub fn scan_log<R: BufRead>(
    reader: R,
    source: SourceId,
    catalog: &Catalog,
    max_line_bytes: usize,
) -> LogScan {
    let mut lines = LineReader::new(reader, max_line_bytes);
    let mut sc = Scanner::new(catalog, source);
    let mut cur = Logical::default();
    while let Some(line) = lines.next_or_stop() {
        let p = log::parse_line(&line.text);
        sc.out.clock.observe(line.number, &p, &line.text);
        if cur.accepts_continuation(&p, &line.text) {
            cur.continue_with(line.number, &line.text);
            continue;
        }
        if cur.active {
            sc.process(&mut cur);
        }
        cur.start(line.number, &line.text, &p);
    }
    if cur.active {
        sc.process(&mut cur);
    }
    for i in 0..sc.assemblers.len() {
        if let Some(r) = sc.assemblers[i].finish() {
            sc.records.push(r);
        }
    }
    sc.flush_records();
    let mut out = sc.out;
    out.lines = lines.lines_read();
    out.bytes = lines.bytes_read;
    out.diagnostics.extend(lines.diagnostics());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signatures::Catalog;

    fn scan(text: &str) -> LogScan {
        let catalog = Catalog::load(&[]).expect("built-in catalog");
        scan_log(text.as_bytes(), 0, &catalog, 1 << 20)
    }

    fn hit_lines(s: &LogScan) -> Vec<(u64, u64)> {
        s.hits.iter().map(|h| (h.first_line, h.last_line)).collect()
    }

    /// A SYN-flood line wrapped (at blanks) over
    /// `1 + continuations` physical lines.
    fn wrapped(continuations: usize) -> String {
        let words = [
            "TCP:",
            "request_sock_TCP:",
            "Possible",
            "SYN",
            "flooding",
            "on",
            "port",
            "3000.",
            "Sending",
            "cookies.",
        ];
        let n = continuations + 1;
        let lines: Vec<String> = (0..n)
            .map(|k| words[k * words.len() / n..(k + 1) * words.len() / n].join(" "))
            .collect();
        assert_eq!(lines.len(), continuations + 1, "test setup");
        format!("[ 8123.440001] {}\n", lines.join("\n"))
    }

    #[test]
    fn continuations_join_up_to_the_limit_and_no_further() {
        let at_limit = scan(&wrapped(MAX_CONTINUATIONS as usize));
        assert_eq!(
            hit_lines(&at_limit),
            vec![(1, 1 + u64::from(MAX_CONTINUATIONS))]
        );
        let over = scan(&wrapped(MAX_CONTINUATIONS as usize + 1));
        assert!(over.hits.is_empty());
    }

    #[test]
    fn a_hard_wrapped_oom_kill_line_is_read_unspaced() {
        let text = "[ 3712.558322] Out of memory: Killed process 4242 (node) total-vm:49\n38268kB, anon-rss:1003412kB, file-rss:31244kB, shmem-rss:0kB\n";
        let s = scan(text);
        assert_eq!(hit_lines(&s), vec![(1, 1)]);
        let total_vm = s.hits[0]
            .captures
            .iter()
            .find(|(k, _)| k == "total_vm_kb")
            .map(|(_, v)| v.as_str());
        assert_eq!(total_vm, Some("4938268"));
        assert_eq!(s.hits[0].evidence.len(), 2);
    }

    /// A syslog line whose first row is exactly `width` characters, cut inside a port number.
    fn cut_in_port(width: usize) -> String {
        let tail = "Error: connect ECONNREFUSED 10.42.7.61:30";
        let fixed = "Nov 21 14:23:09 ".len() + " node[4242]: ".len() + tail.len();
        let host = "h".repeat(width - fixed);
        let row1 = format!("Nov 21 14:23:09 {host} node[4242]: {tail}");
        assert_eq!(row1.chars().count(), width, "test setup");
        format!("{row1}\n00\n")
    }

    fn destination(s: &LogScan) -> Option<&str> {
        s.hits.first().and_then(|h| {
            h.captures
                .iter()
                .find(|(k, _)| k == "destination")
                .map(|(_, v)| v.as_str())
        })
    }

    #[test]
    fn rows_of_terminal_width_are_joined_exactly_narrower_ones_with_a_blank() {
        // Both joins read as a refused connection; only the terminal's width says which is right.
        let wide = scan(&cut_in_port(MIN_TERMINAL_COLUMNS));
        assert_eq!(destination(&wide), Some("10.42.7.61:3000"));
        let narrow = scan(&cut_in_port(MIN_TERMINAL_COLUMNS - 1));
        assert_eq!(destination(&narrow), Some("10.42.7.61:30"));
    }

    #[test]
    fn continuations_stop_at_the_logical_byte_cap() {
        let long = "x".repeat(MAX_LOGICAL_BYTES);
        let text = format!("[ 1.000000] TCP: too many\n{long}\norphaned sockets\n");
        assert!(scan(&text).hits.is_empty());
        let text = "[ 1.000000] TCP: too many\norphaned sockets\n";
        assert_eq!(hit_lines(&scan(text)), vec![(1, 2)]);
    }

    #[test]
    fn application_formats_do_not_take_continuations() {
        // A JSON logger's next plain line (a crash on stderr) is its own line.
        let text = "{\"level\":30,\"msg\":\"ok\"}\nError: socket hang up\n";
        let s = scan(text);
        assert_eq!(hit_lines(&s), vec![(2, 2)]);
        assert_eq!(s.hits[0].stamp, Stamp::Missing);
        assert_eq!(s.format_name(), "json-lines+plain");
    }

    #[test]
    fn a_stack_trace_takes_the_time_of_the_text_line_before_it() {
        let text = "2026-11-21 14:23:07,123 ERROR [main] c.e.App - failed\njava.net.SocketException: Too many open files\n\tat x.y(Z.java:1)\n";
        let s = scan(text);
        assert_eq!(hit_lines(&s), vec![(2, 2)]);
        assert!(matches!(s.hits[0].stamp, Stamp::WallNoZone(_)));
        assert_eq!(s.format_name(), "app");
    }
}
