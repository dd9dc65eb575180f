//! Multi-line kernel reports assembled into one record with a line range: the OOM killer's
//! report (from `invoked oom-killer` through the task table to `Killed process` and the
//! `oom_reaper` line) and a hung-task report with its call trace.
//!
//! The assembler is fed logical lines in order. It keeps only the lines a signature can use
//! (the caller says which, from its prefilter) plus the lines that open and close the record,
//! so a 50,000-row task table costs a counter, not memory.

use memchr::memmem;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// The OOM killer's report. Catalog `scope = "oom-report"`.
    OomReport,
    /// `INFO: task … blocked for more than N seconds.` with its call trace. `scope = "hung-task"`.
    HungTask,
}

impl RecordKind {
    pub const ALL: [RecordKind; 2] = [RecordKind::OomReport, RecordKind::HungTask];

    pub fn scope_name(self) -> &'static str {
        match self {
            RecordKind::OomReport => "oom-report",
            RecordKind::HungTask => "hung-task",
        }
    }

    pub fn from_scope(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.scope_name() == s)
    }

    fn spec(self) -> &'static Spec {
        match self {
            RecordKind::OomReport => &OOM,
            RecordKind::HungTask => &HUNG,
        }
    }
}

struct Spec {
    /// A line containing one of these always starts a new record (closing an open one).
    hard_start: &'static [&'static str],
    /// These start a record only when none is open (a grep that kept the summary or kill
    /// line but not `invoked oom-killer`); inside an open record they are body lines.
    soft_start: &'static [&'static str],
    /// The line that concludes the body (the victim, or the statement that there is none).
    end: &'static [&'static str],
    /// Lines accepted after the end, for at most `tail_lines` kernel lines.
    tail: &'static [&'static str],
    tail_lines: u32,
    /// A record still open after this many physical lines is closed as it is.
    max_lines: u64,
    /// Keep every line (a call trace is short and is the evidence) up to this many.
    keep_all_up_to: usize,
    /// For reports without a closing line on some kernels: whether a line still belongs to the
    /// open record (`false` closes it before that line). Arguments: the line, whether the
    /// `Call Trace:` line was seen, how many lines the record has.
    continues: Option<fn(&str, bool, usize) -> bool>,
}

/// Why these: mm/oom_kill.c prints `invoked oom-killer` first; the summary (`oom-kill:`) and the
/// kill line come last; pre-4.19 kernels print `Task in … killed as a result of limit of …`
/// and `Kill process … or sacrifice child` before `Killed process`.
static OOM: Spec = Spec {
    hard_start: &["invoked oom-killer"],
    soft_start: &[
        "oom-kill:constraint=",
        "Memory cgroup out of memory",
        "Out of memory",
        "killed as a result of limit of",
    ],
    end: &["Killed process", "Out of memory and no killable processes"],
    tail: &["oom_reaper: reaped process"],
    tail_lines: 10,
    max_lines: 100_000,
    keep_all_up_to: 0,
    continues: None,
};

static HUNG: Spec = Spec {
    hard_start: &["blocked for more than"],
    soft_start: &[],
    end: &["</TASK>"],
    tail: &[],
    tail_lines: 0,
    max_lines: 60,
    keep_all_up_to: 60,
    continues: Some(hung_task_continues),
};

/// Header lines a hung-task report prints before `Call Trace:` (`Not tainted …`, the
/// `echo 0 > …hung_task_timeout_secs` hint, the `task:… state:D` line).
const HUNG_TASK_HEADER_LINES: usize = 5;

/// Kernels before 5.13 print no `</TASK>`: the trace ends at the first line that is not a frame
/// (` __schedule+0x2e3/0x740`, ` ? foo+0x1/0x2`), a register dump line (`RIP: 0033:…`) or a marker.
fn hung_task_continues(text: &str, seen_trace: bool, lines: usize) -> bool {
    if text.contains("Call Trace:") {
        return true;
    }
    if !seen_trace {
        return lines < HUNG_TASK_HEADER_LINES;
    }
    let b = text.as_bytes();
    let register = b.len() > 4
        && b.iter()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            .count()
            .checked_sub(2)
            .is_some_and(|extra| extra <= 1 && text[2 + extra..].starts_with(": "));
    text.starts_with(' ')
        || text.starts_with('\t')
        || text.starts_with("<TASK>")
        || text.starts_with("</TASK>")
        || register
}

/// Literals the assembler reacts to; the caller's prefilter must include them so that a line
/// holding one is always passed as `interesting`.
pub fn structural_literals() -> Vec<&'static str> {
    let mut v = Vec::new();
    for k in RecordKind::ALL {
        let s = k.spec();
        v.extend_from_slice(s.hard_start);
        v.extend_from_slice(s.soft_start);
        v.extend_from_slice(s.end);
        v.extend_from_slice(s.tail);
    }
    v
}

/// A completed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<T> {
    pub kind: RecordKind,
    pub first_line: u64,
    pub last_line: u64,
    /// Whether the concluding line (`end`) was seen.
    pub concluded: bool,
    /// Whether the record was cut by end of input or `max_lines` rather than concluded.
    pub cut: bool,
    /// Kept lines: (line number, text, caller's payload such as the line's stamp).
    pub lines: Vec<(u64, String, T)>,
}

#[derive(Debug)]
enum State {
    Body,
    Tail(u32),
}

struct Open<T> {
    rec: Record<T>,
    state: State,
    seen_trace: bool,
}

/// One assembler per record kind per source.
pub struct Assembler<T> {
    kind: RecordKind,
    open: Option<Open<T>>,
}

fn contains_any(hay: &str, needles: &[&str]) -> bool {
    needles
        .iter()
        .any(|n| memmem::find(hay.as_bytes(), n.as_bytes()).is_some())
}

impl<T> Assembler<T> {
    pub fn new(kind: RecordKind) -> Self {
        Assembler { kind, open: None }
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Feed one kernel line. `interesting` says a signature literal is in it (keep it).
    /// Returns records completed by this line (at most two: the one it closed and, rarely,
    /// a one-line record it opened and concluded at once is kept open for its tail).
    pub fn push(
        &mut self,
        line_no: u64,
        text: &str,
        interesting: bool,
        payload: impl FnOnce() -> T,
        out: &mut Vec<Record<T>>,
    ) {
        let spec = self.kind.spec();
        let may_matter = interesting || self.open.is_some();
        if !may_matter {
            return;
        }
        let hard = interesting && contains_any(text, spec.hard_start);
        let soft = interesting && !hard && contains_any(text, spec.soft_start);
        let is_end = interesting && contains_any(text, spec.end);
        let is_tail = interesting && contains_any(text, spec.tail);

        if let Some(open) = &mut self.open {
            let ended_before = !hard
                && matches!(open.state, State::Body)
                && spec
                    .continues
                    .is_some_and(|f| !f(text, open.seen_trace, open.rec.lines.len()));
            if ended_before {
                if let Some(mut o) = self.open.take() {
                    o.rec.concluded = true;
                    out.push(o.rec);
                }
            }
        }
        if let Some(open) = &mut self.open {
            if text.contains("Call Trace:") {
                open.seen_trace = true;
            }
            let too_long = line_no.saturating_sub(open.rec.first_line) >= spec.max_lines;
            let restart = hard
                || too_long
                || (matches!(open.state, State::Tail(_)) && (soft || is_end) && !is_tail);
            if restart {
                let mut done = self.open.take().map(|o| o.rec);
                if let Some(r) = done.as_mut() {
                    r.cut = too_long && !r.concluded;
                }
                out.extend(done);
            } else {
                match open.state {
                    State::Body => {
                        if interesting || open.rec.lines.len() < spec.keep_all_up_to {
                            open.rec.lines.push((line_no, text.to_string(), payload()));
                        }
                        open.rec.last_line = line_no;
                        if is_end {
                            open.rec.concluded = true;
                            open.state = State::Tail(0);
                            if spec.tail_lines == 0 {
                                out.extend(self.open.take().map(|o| o.rec));
                            }
                        }
                    }
                    State::Tail(n) => {
                        if is_tail {
                            open.rec.lines.push((line_no, text.to_string(), payload()));
                            open.rec.last_line = line_no;
                            out.extend(self.open.take().map(|o| o.rec));
                        } else if n + 1 >= spec.tail_lines {
                            out.extend(self.open.take().map(|o| o.rec));
                        } else {
                            open.state = State::Tail(n + 1);
                        }
                    }
                }
                return;
            }
        }
        // Nothing open (or just closed): does this line start a record?
        let starts = hard || soft || (is_end && !spec.soft_start.is_empty());
        if starts {
            let concluded = is_end;
            let rec = Record {
                kind: self.kind,
                first_line: line_no,
                last_line: line_no,
                concluded,
                cut: false,
                lines: vec![(line_no, text.to_string(), payload())],
            };
            let state = if concluded {
                State::Tail(0)
            } else {
                State::Body
            };
            self.open = Some(Open {
                rec,
                state,
                seen_trace: false,
            });
        }
    }

    /// End of input: the open record, if any. A body still open here was cut short.
    pub fn finish(&mut self) -> Option<Record<T>> {
        self.open.take().map(|o| {
            let mut r = o.rec;
            if !r.concluded {
                r.cut = true;
            }
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: RecordKind, lines: &[&str]) -> Vec<Record<()>> {
        let lits = structural_literals();
        let mut a = Assembler::new(kind);
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let interesting = lits.iter().any(|x| l.contains(x))
                || l.contains("memory: usage")
                || l.contains("oom-kill:");
            a.push(i as u64 + 1, l, interesting, || (), &mut out);
        }
        out.extend(a.finish());
        out
    }

    const OOM_REPORT: &[&str] = &[
        "node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=996",
        "CPU: 1 PID: 4242 Comm: node Not tainted 5.15.0-1019-aws #23-Ubuntu",
        "memory: usage 1048576kB, limit 1048576kB, failcnt 812",
        "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        "[   4242]  1000  4242  1234567   246913  2359296        0           996 node",
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=x,mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=node,pid=4242,uid=1000",
        "Memory cgroup out of memory: Killed process 4242 (node) total-vm:4938268kB, anon-rss:987652kB, file-rss:1234kB, shmem-rss:0kB",
        "some other kernel line",
        "oom_reaper: reaped process 4242 (node), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
        "eth0: link up",
    ];

    #[test]
    fn one_record_from_invoked_to_reaper() {
        let recs = run(RecordKind::OomReport, OOM_REPORT);
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!((r.first_line, r.last_line), (1, 9));
        assert!(r.concluded && !r.cut);
        let kept: Vec<u64> = r.lines.iter().map(|l| l.0).collect();
        assert_eq!(kept, vec![1, 3, 6, 7, 9]);
    }

    #[test]
    fn truncated_report_is_cut_without_victim() {
        let recs = run(RecordKind::OomReport, &OOM_REPORT[..5]);
        assert_eq!(recs.len(), 1);
        assert!(recs[0].cut && !recs[0].concluded);
        assert_eq!(recs[0].last_line, 5);
    }

    #[test]
    fn grep_of_kill_lines_gives_one_record_each() {
        let recs = run(
            RecordKind::OomReport,
            &[
                "Memory cgroup out of memory: Killed process 1 (a) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
                "Memory cgroup out of memory: Killed process 2 (b) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB",
            ],
        );
        assert_eq!(recs.len(), 2);
        assert!(recs.iter().all(|r| r.concluded));
    }

    #[test]
    fn second_invocation_closes_the_first() {
        let mut lines = OOM_REPORT[..3].to_vec();
        lines.extend_from_slice(OOM_REPORT);
        let recs = run(RecordKind::OomReport, &lines);
        assert_eq!(recs.len(), 2);
        assert!(!recs[0].concluded);
        assert!(recs[1].concluded);
    }

    #[test]
    fn hung_task_keeps_its_trace() {
        let recs = run(
            RecordKind::HungTask,
            &[
                "INFO: task jbd2/sda1-8:312 blocked for more than 120 seconds.",
                "      Not tainted 5.15.0 #1",
                "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                "Call Trace:",
                " <TASK>",
                " __schedule+0x2e5/0x8a0",
                " </TASK>",
                "next",
            ],
        );
        assert_eq!(recs.len(), 1);
        assert_eq!((recs[0].first_line, recs[0].last_line), (1, 7));
        assert_eq!(recs[0].lines.len(), 7);
    }

    #[test]
    fn hung_task_without_task_markers_ends_at_the_first_non_frame_line() {
        let recs = run(
            RecordKind::HungTask,
            &[
                "INFO: task jbd2/sdb1-8:771 blocked for more than 120 seconds.",
                "      Not tainted 5.4.0-169-generic #187-Ubuntu",
                "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                "jbd2/sdb1-8     D    0   771      2 0x80004000",
                "Call Trace:",
                " __schedule+0x2e3/0x740",
                " ? kjournald2+0xbd/0x270",
                "RIP: 0033:0x7f3c5a1e8c2b",
                "RSP: 002b:00007ffd3b1c2d58 EFLAGS: 00000246",
                "R13: 0000000000000000 R14: 0000000000000001",
                " ret_from_fork+0x35/0x40",
                "sd 2:0:0:0: [sdb] tag#17 timing out command, waited 180s",
                " unrelated indented line",
            ],
        );
        assert_eq!(recs.len(), 1);
        assert_eq!((recs[0].first_line, recs[0].last_line), (1, 11));
        assert!(recs[0].concluded && !recs[0].cut);
    }

    #[test]
    fn hung_task_without_a_trace_keeps_only_its_header() {
        let mut lines = vec!["INFO: task postgres:14022 blocked for more than 120 seconds."];
        lines.extend(["unrelated"; 8]);
        let recs = run(RecordKind::HungTask, &lines);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].last_line, HUNG_TASK_HEADER_LINES as u64);
    }
}
