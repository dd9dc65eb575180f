//! Log line prefixes: syslog files, every journalctl text output, journal JSON, dmesg raw/-T/-x,
//! RFC 5424, and application logs with or without timestamps.
//!
//! `parse_line` never fails: a line whose prefix it does not recognise is `Plain`, and the whole
//! line is the message. It records what the text states about time (`Stamp`) and nothing more;
//! years, zones and seconds-since-boot are resolved later by the timeline.

use crate::model::Stamp;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use serde::Deserialize;
use std::borrow::Cow;

/// The shape of a line's prefix. `name()` values appear in the JSON `sources[].format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineFormat {
    /// `Nov 21 14:23:07 host ident[pid]: msg`: syslog files and `journalctl -o short`.
    Syslog,
    /// `Jun 19 10:33:53.477371 host ident: msg`: `journalctl -o short-precise`.
    ShortPrecise,
    /// `2026-09-02T09:08:50+00:00 host ident: msg`: `journalctl -o short-iso`.
    ShortIso,
    /// `2026-09-02T09:08:50.123456+00:00 host ident: msg`: `short-iso-precise`, rsyslog high precision.
    ShortIsoPrecise,
    /// `Tue 2026-11-17 14:23:07 UTC host ident: msg`: `journalctl -o short-full`.
    ShortFull,
    /// `[  601.749973] host ident: msg`: `journalctl -o short-monotonic`.
    ShortMonotonic,
    /// One JSON object per line with `__REALTIME_TIMESTAMP`/`MESSAGE`: `journalctl -o json`.
    JournalJson,
    /// `[  601.749973] msg`: `dmesg`.
    DmesgRaw,
    /// `[Fri Dec 22 12:26:24 2023] msg`: `dmesg -T`.
    DmesgCtime,
    /// `kern  :notice: [    0.000000] msg`: `dmesg -x`.
    DmesgDecoded,
    /// `<6>1 2026-11-21T14:23:07.123Z host app procid msgid sd msg`.
    Rfc5424,
    /// An application line that starts with a timestamp (ISO 8601, `2026/11/21 14:23:07`, klog, CRI).
    App,
    /// A JSON object per line from an application logger (pino, zap, logrus, docker json-file).
    JsonLines,
    /// No recognised prefix: untimed application output, stack traces, pasted fragments.
    Plain,
    /// Journal separators and heads: `-- Boot … --`, `-- Reboot --`, `-- Logs begin at … --`, and grep's `--`.
    Marker,
}

impl LineFormat {
    pub fn name(self) -> &'static str {
        match self {
            LineFormat::Syslog => "syslog",
            LineFormat::ShortPrecise => "journalctl-short-precise",
            LineFormat::ShortIso => "journalctl-short-iso",
            LineFormat::ShortIsoPrecise => "journalctl-short-iso-precise",
            LineFormat::ShortFull => "journalctl-short-full",
            LineFormat::ShortMonotonic => "journalctl-short-monotonic",
            LineFormat::JournalJson => "journalctl-json",
            LineFormat::DmesgRaw => "dmesg",
            LineFormat::DmesgCtime => "dmesg-T",
            LineFormat::DmesgDecoded => "dmesg-x",
            LineFormat::Rfc5424 => "rfc5424",
            LineFormat::App => "app",
            LineFormat::JsonLines => "json-lines",
            LineFormat::Plain => "plain",
            LineFormat::Marker => "marker",
        }
    }

    /// Formats whose lines each carry their own record prefix, so an unprefixed line that
    /// follows is a wrapped continuation of the previous record (mail clients, terminals,
    /// journald's indented multi-line messages).
    pub fn wraps_continuations(self) -> bool {
        matches!(
            self,
            LineFormat::Syslog
                | LineFormat::ShortPrecise
                | LineFormat::ShortIso
                | LineFormat::ShortIsoPrecise
                | LineFormat::ShortFull
                | LineFormat::ShortMonotonic
                | LineFormat::DmesgRaw
                | LineFormat::DmesgCtime
                | LineFormat::DmesgDecoded
                | LineFormat::Rfc5424
        )
    }
}

/// What a journal separator says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// `-- Boot 1b2c… --` (the id when printed) or the older `-- Reboot --`.
    Boot(Option<String>),
    /// `-- Logs begin at … --`, `-- Journal begins at …`, `-- No entries --`.
    Head,
    /// grep's context separator `--`.
    Separator,
}

/// One parsed line. Borrowed from the input wherever possible.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedLine<'a> {
    pub format: LineFormat,
    pub stamp: Stamp,
    /// Seconds since boot stated beside a wall clock (syslog `kernel: [secs]`, journal JSON), in µs.
    pub mono_us: Option<u64>,
    /// Zone name printed without an offset (`short-full` with `CET`), for the timeline to resolve.
    pub zone_name: Option<&'a str>,
    pub host: Option<Cow<'a, str>>,
    pub program: Option<Cow<'a, str>>,
    pub pid: Option<u32>,
    /// Journal `_BOOT_ID`.
    pub boot_id: Option<String>,
    pub marker: Option<MarkerKind>,
    pub message: Cow<'a, str>,
}

impl<'a> ParsedLine<'a> {
    fn plain(line: &'a str) -> Self {
        ParsedLine {
            format: LineFormat::Plain,
            stamp: Stamp::Missing,
            mono_us: None,
            zone_name: None,
            host: None,
            program: None,
            pid: None,
            boot_id: None,
            marker: None,
            message: Cow::Borrowed(line),
        }
    }

    fn with(format: LineFormat, stamp: Stamp, message: &'a str) -> Self {
        ParsedLine {
            format,
            stamp,
            message: Cow::Borrowed(message),
            ..ParsedLine::plain(message)
        }
    }

    /// True when the line comes from the kernel ring buffer (dmesg formats, `kernel:` ident,
    /// journal `_TRANSPORT=kernel`/`SYSLOG_IDENTIFIER=kernel`).
    pub fn is_kernel(&self) -> bool {
        match self.format {
            LineFormat::DmesgRaw | LineFormat::DmesgCtime => true,
            _ => self.program.as_deref() == Some("kernel"),
        }
    }
}

/// Parse one physical line. Never fails: unrecognised prefixes give `Plain`.
pub fn parse_line(line: &str) -> ParsedLine<'_> {
    parse_prefix(line)
        .or_else(|| parse_after_grep_prefix(line, MAX_GREP_PREFIXES))
        .unwrap_or_else(|| ParsedLine::plain(line))
}

/// `grep -H`, `-n` and `-C` put `file:`/`file-` and `123:`/`123-` before each line (`--`
/// between hunks); a paste of grep over several files is common in tickets. Look through at
/// most two such prefixes (`kern.log:123:`), within the first token of the line.
const MAX_GREP_PREFIXES: usize = 2;
/// Separators tried per line, so a long dashed token (a UUID, base64) costs a bounded amount.
const MAX_GREP_SEPARATORS: usize = 6;
/// A file path plus a line number fits in this many bytes; real prefixes are far shorter.
const MAX_GREP_PREFIX_BYTES: usize = 512;

fn parse_after_grep_prefix(line: &str, depth: usize) -> Option<ParsedLine<'_>> {
    if depth == 0 {
        return None;
    }
    // Only the start of the line can hold a prefix: a long unbroken line (minified JSON,
    // base64) must not be scanned to its end.
    let mut head_end = line.len().min(MAX_GREP_PREFIX_BYTES);
    while !line.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let head = line.get(..head_end)?;
    let token_end = head.find(|c: char| c.is_whitespace()).unwrap_or(head.len());
    let token = head.get(..token_end)?;
    for (i, _) in token
        .char_indices()
        .filter(|&(i, c)| i > 0 && (c == ':' || c == '-'))
        .take(MAX_GREP_SEPARATORS)
    {
        let Some(rest) = line.get(i + 1..) else {
            continue;
        };
        if let Some(p) = parse_prefix(rest).filter(|p| p.format != LineFormat::Marker) {
            return Some(p);
        }
        if let Some(p) = parse_after_grep_prefix(rest, depth - 1) {
            return Some(p);
        }
    }
    None
}

/// The recognised prefixes, dispatched on the first byte; `None` when none fits.
fn parse_prefix(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    let first = *b.first()?;
    match first {
        b'<' => parse_pri(line),
        b'[' => parse_bracket(line),
        b'{' => parse_json(line),
        b'-' => parse_marker(line),
        b'A'..=b'Z' => parse_month_first(line)
            .or_else(|| parse_short_full(line))
            .or_else(|| parse_klog(line)),
        b'0'..=b'9' => parse_digit_first(line),
        b'a'..=b'z' => parse_dmesg_decoded(line),
        _ => None,
    }
}

// ---------------------------------------------------------------- small byte helpers

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Digits of a fraction after a `.` or `,` at `at`: (nanoseconds, bytes consumed including the dot).
fn fraction(b: &[u8], at: usize) -> (u32, usize) {
    if !matches!(b.get(at), Some(b'.') | Some(b',')) {
        return (0, 0);
    }
    let mut i = at + 1;
    let mut nanos: u64 = 0;
    let mut n = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 9 {
            nanos = nanos * 10 + u64::from(c - b'0');
            n += 1;
        }
        i += 1;
    }
    if i == at + 1 {
        return (0, 0);
    }
    for _ in n..9 {
        nanos *= 10;
    }
    (nanos as u32, i - at)
}

fn month_from(b: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let m = b.get(0..3)?;
    MONTHS
        .iter()
        .position(|x| &x[..] == m)
        .map(|i| i as u32 + 1)
}

fn is_weekday(b: &[u8]) -> bool {
    matches!(
        b.get(0..3),
        Some(b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun")
    )
}

/// `HH:MM:SS` at `at`.
fn hms(b: &[u8], at: usize) -> Option<(u32, u32, u32)> {
    let h = digits(b, at, 2)?;
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let m = digits(b, at + 3, 2)?;
    let s = digits(b, at + 6, 2)?;
    (h < 24 && m < 60 && s < 61).then_some((h, m, s))
}

fn naive(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Option<NaiveDateTime> {
    // A leap second (`:60`) is folded into the last second rather than rejected.
    let s = s.min(59);
    NaiveDate::from_ymd_opt(y, mo, d)?
        .and_time(NaiveTime::from_hms_nano_opt(h, mi, s, nanos)?)
        .into()
}

/// A zone at `at`: `Z`, `+00:00`, `+0000`, `+00`. Returns (offset, bytes consumed).
fn zone(b: &[u8], at: usize) -> Option<(FixedOffset, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((FixedOffset::east_opt(0)?, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let h = digits(b, at + 1, 2)?;
            let (m, used) = if b.get(at + 3) == Some(&b':') {
                (digits(b, at + 4, 2)?, 6)
            } else if let Some(m) = digits(b, at + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            Some((
                FixedOffset::east_opt(sign * (h as i32 * 3600 + m as i32 * 60))?,
                used,
            ))
        }
        _ => None,
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac][zone]` at 0. Returns (stamp, bytes consumed, had fraction).
fn iso_datetime(b: &[u8]) -> Option<(Stamp, usize, bool)> {
    let y = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let mo = digits(b, 5, 2)?;
    if b.get(7) != Some(&sep) {
        return None;
    }
    let d = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T') | Some(b' ')) {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    let (nanos, flen) = fraction(b, 19);
    let mut end = 19 + flen;
    let dt = naive(y as i32, mo, d, h, mi, s, nanos)?;
    let stamp = match zone(b, end) {
        Some((off, used)) => {
            end += used;
            Stamp::Wall(off.from_local_datetime(&dt).single()?)
        }
        None => {
            // ` UTC` written after the time by some loggers.
            if b.get(end..end + 4) == Some(b" UTC") {
                end += 4;
                Stamp::Wall(
                    FixedOffset::east_opt(0)?
                        .from_local_datetime(&dt)
                        .single()?,
                )
            } else {
                Stamp::WallNoZone(dt)
            }
        }
    };
    Some((stamp, end, flen > 0))
}

/// After the timestamp of a syslog-like line: ` host ident[pid]: message`.
/// Returns (host, program, pid, message). The ident must end with `:` to count as one.
fn host_ident_msg(rest: &str) -> Option<(&str, Option<&str>, Option<u32>, &str)> {
    let rest = rest.strip_prefix(' ')?;
    let rest = rest.trim_start_matches(' ');
    let sp = rest.find(' ')?;
    let host = &rest[..sp];
    if host.is_empty() || host.ends_with(':') {
        return None;
    }
    let after = &rest[sp + 1..];
    let (program, pid, message) = split_ident(after);
    Some((host, program, pid, message))
}

/// `ident[pid]: message` or `ident: message` at the start of `s`; otherwise no ident.
fn split_ident(s: &str) -> (Option<&str>, Option<u32>, &str) {
    let Some(sp) = s.find(' ') else {
        return match s.strip_suffix(':') {
            Some(id) if plausible_ident(id) => (Some(id), None, ""),
            _ => (None, None, s),
        };
    };
    let tok = &s[..sp];
    let Some(tok) = tok.strip_suffix(':') else {
        return (None, None, s);
    };
    let msg = &s[sp + 1..];
    if let Some(open) = tok.find('[') {
        if let Some(inner) = tok[open + 1..].strip_suffix(']') {
            if let Ok(pid) = inner.parse::<u32>() {
                let id = &tok[..open];
                if plausible_ident(id) {
                    return (Some(id), Some(pid), msg);
                }
            }
        }
        return (None, None, s);
    }
    if plausible_ident(tok) {
        (Some(tok), None, msg)
    } else {
        (None, None, s)
    }
}

fn plausible_ident(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/' | b'@'))
}

/// `[  601.749973]` at the start of `b`: (µs since boot, bytes consumed including `]`).
fn since_boot_bracket(b: &[u8]) -> Option<(u64, usize)> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let start = i;
    let mut secs: u64 = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        secs = secs.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
        i += 1;
    }
    if i == start || b.get(i) != Some(&b'.') {
        return None;
    }
    i += 1;
    let fstart = i;
    let mut frac: u64 = 0;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        if i - fstart < 6 {
            frac = frac * 10 + u64::from(c - b'0');
        }
        i += 1;
    }
    let flen = i - fstart;
    if flen == 0 || b.get(i) != Some(&b']') {
        return None;
    }
    for _ in flen.min(6)..6 {
        frac *= 10;
    }
    Some((secs.checked_mul(1_000_000)?.checked_add(frac)?, i + 1))
}

/// Strip a kernel `[secs] ` inside a syslog message, returning (µs, rest).
fn strip_inner_since_boot(msg: &str) -> (Option<u64>, &str) {
    match since_boot_bracket(msg.as_bytes()) {
        Some((us, used)) => (
            Some(us),
            msg[used..].strip_prefix(' ').unwrap_or(&msg[used..]),
        ),
        None => (None, msg),
    }
}

/// Fill host/program/pid/message from ` host ident: msg`, moving a kernel `[secs]` to `mono_us`.
fn syslog_tail<'a>(format: LineFormat, stamp: Stamp, rest: &'a str) -> Option<ParsedLine<'a>> {
    let (host, program, pid, msg) = host_ident_msg(rest)?;
    let (mono_us, msg) = if program == Some("kernel") {
        strip_inner_since_boot(msg)
    } else {
        (None, msg)
    };
    Some(ParsedLine {
        host: Some(Cow::Borrowed(host)),
        program: program.map(Cow::Borrowed),
        pid,
        mono_us,
        ..ParsedLine::with(format, stamp, msg)
    })
}

// ---------------------------------------------------------------- per-shape parsers

/// `Nov 21 14:23:07[.477371] host ident: msg` (syslog, journalctl short / short-precise).
fn parse_month_first(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    let month = month_from(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    // Day is space-padded (`May  6`), zero-padded by some daemons (`May 06`), or single-spaced
    // when a paste through a web form collapsed the double blank (`May 6`).
    let (day, time_at) = if b.get(4) == Some(&b' ') {
        (digits(b, 5, 1)?, 7)
    } else if b.get(5) == Some(&b' ') {
        (digits(b, 4, 1)?, 6)
    } else {
        (digits(b, 4, 2)?, 7)
    };
    if !(1..=31).contains(&day) || b.get(time_at - 1) != Some(&b' ') {
        return None;
    }
    let (hour, minute, second) = hms(b, time_at)?;
    let (nanos, flen) = fraction(b, time_at + 8);
    let stamp = Stamp::NoYear {
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    let format = if flen > 0 {
        LineFormat::ShortPrecise
    } else {
        LineFormat::Syslog
    };
    let rest = line.get(time_at + 8 + flen..)?;
    syslog_tail(format, stamp, rest).or_else(|| {
        // A time with no host: keep the stamp, the rest is the message.
        Some(ParsedLine::with(format, stamp, rest.trim_start()))
    })
}

/// `Tue 2026-11-17 14:23:07 UTC host ident: msg` (journalctl -o short-full).
fn parse_short_full(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    if !is_weekday(b) || b.get(3) != Some(&b' ') {
        return None;
    }
    let (stamp, used, _) = iso_datetime(&b[4..])?;
    let mut end = 4 + used;
    let (stamp, zone_name) = match stamp {
        Stamp::WallNoZone(dt) => {
            // The zone is printed as a name: ` UTC`, ` CET`, ` America/New_York` is not used here.
            let rest = line.get(end..)?.strip_prefix(' ')?;
            let zlen = rest.find(' ').unwrap_or(rest.len());
            let name = &rest[..zlen];
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-')
            {
                return None;
            }
            end += 1 + zlen;
            if name == "UTC" || name == "GMT" {
                let z = FixedOffset::east_opt(0)?;
                (Stamp::Wall(z.from_local_datetime(&dt).single()?), None)
            } else {
                (Stamp::WallNoZone(dt), Some(name))
            }
        }
        other => (other, None),
    };
    let mut p = syslog_tail(LineFormat::ShortFull, stamp, &line[end..])?;
    p.zone_name = zone_name;
    Some(p)
}

/// klog/glog: `I1121 14:23:07.123456    1234 file.go:12] msg` (no year).
fn parse_klog(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    if !matches!(b.first()?, b'I' | b'W' | b'E' | b'F') {
        return None;
    }
    let month = digits(b, 1, 2)?;
    let day = digits(b, 3, 2)?;
    if b.get(5) != Some(&b' ') || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (hour, minute, second) = hms(b, 6)?;
    let (nanos, flen) = fraction(b, 14);
    let rest = line[14 + flen..].trim_start();
    let (pid, rest) = match rest.find(' ') {
        Some(sp) => match rest[..sp].parse::<u32>() {
            Ok(pid) => (Some(pid), rest[sp + 1..].trim_start()),
            Err(_) => (None, rest),
        },
        None => (None, rest),
    };
    let msg = match rest.find("] ") {
        Some(i) if i < 80 => &rest[i + 2..],
        _ => rest,
    };
    let mut p = ParsedLine::with(
        LineFormat::App,
        Stamp::NoYear {
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        },
        msg,
    );
    p.pid = pid;
    Some(p)
}

/// Lines starting with a digit: ISO journal lines, application ISO or slash dates, CRI logs.
fn parse_digit_first(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    let (stamp, used, precise) = iso_datetime(b)?;
    let rest = &line[used..];
    if let Stamp::Wall(_) = stamp {
        if b.get(4) == Some(&b'-') && b.get(10) == Some(&b'T') {
            let format = if precise {
                LineFormat::ShortIsoPrecise
            } else {
                LineFormat::ShortIso
            };
            if let Some(p) = syslog_tail(format, stamp, rest) {
                if p.program.is_some() {
                    return Some(p);
                }
            }
            // CRI container log: `2026-11-21T14:23:07.123456789Z stdout F message`.
            for stream in [" stdout ", " stderr "] {
                if let Some(after) = rest.strip_prefix(stream) {
                    let msg = after
                        .strip_prefix("F ")
                        .or_else(|| after.strip_prefix("P "))
                        .unwrap_or(after);
                    return Some(ParsedLine::with(LineFormat::App, stamp, msg));
                }
            }
        }
    }
    let msg = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('\t'))
        .unwrap_or(rest);
    Some(ParsedLine::with(LineFormat::App, stamp, msg))
}

/// `<PRI>`: RFC 5424 (`<6>1 …`), RFC 3164 with PRI (`<6>Nov 21 …`), or `dmesg -r` (`<6>[ 1.0] …`).
fn parse_pri(line: &str) -> Option<ParsedLine<'_>> {
    let close = line
        .get(..6)?
        .find('>')
        .or_else(|| line.find('>').filter(|&i| i <= 4))?;
    let pri: u32 = line[1..close].parse().ok()?;
    if pri > 191 {
        return None;
    }
    let rest = &line[close + 1..];
    if let Some(after_ver) = rest.strip_prefix("1 ") {
        return parse_rfc5424_body(after_ver);
    }
    if rest.starts_with('[') {
        return parse_bracket(rest);
    }
    parse_month_first(rest)
}

/// `TIMESTAMP HOST APP PROCID MSGID SD MSG` after `<PRI>1 `.
fn parse_rfc5424_body(s: &str) -> Option<ParsedLine<'_>> {
    let mut parts = s.splitn(6, ' ');
    let ts = parts.next()?;
    let host = parts.next()?;
    let app = parts.next()?;
    let procid = parts.next()?;
    let _msgid = parts.next()?;
    let rest = parts.next().unwrap_or("");
    let stamp = if ts == "-" {
        Stamp::Missing
    } else {
        iso_datetime(ts.as_bytes())?.0
    };
    // Structured data is `-` or one or more `[id k="v" …]` elements; values may hold `]` escaped as `\]`.
    let msg = if let Some(m) = rest.strip_prefix("- ") {
        m
    } else if rest == "-" {
        ""
    } else if rest.starts_with('[') {
        let b = rest.as_bytes();
        let mut i = 0;
        let mut depth_end = None;
        let mut in_quotes = false;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes && b.get(i + 1) != Some(&b'[') => {
                    depth_end = Some(i + 1);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let end = depth_end?;
        rest[end..].strip_prefix(' ').unwrap_or(&rest[end..])
    } else {
        rest
    };
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let nil = |v: &'_ str| v != "-";
    let program = Some(app).filter(|a| nil(a));
    let (mono_us, msg) = if program == Some("kernel") {
        strip_inner_since_boot(msg)
    } else {
        (None, msg)
    };
    Some(ParsedLine {
        host: Some(host).filter(|h| nil(h)).map(Cow::Borrowed),
        program: program.map(Cow::Borrowed),
        pid: procid.parse().ok(),
        mono_us,
        ..ParsedLine::with(LineFormat::Rfc5424, stamp, msg)
    })
}

/// Lines starting with `[`: dmesg raw, short-monotonic, dmesg -T, bracketed app timestamps.
fn parse_bracket(line: &str) -> Option<ParsedLine<'_>> {
    let b = line.as_bytes();
    if let Some((us, used)) = since_boot_bracket(b) {
        let rest = &line[used..];
        let stamp = Stamp::SinceBoot(us);
        // short-monotonic prints ` host ident: `; journald always prints `kernel:` or `ident[pid]:`
        // there, which dmesg messages (`TCP: …`, `eth0: …`) never have as their second word.
        if let Some((host, program, pid, msg)) = host_ident_msg(rest) {
            if program == Some("kernel") || pid.is_some() {
                let _ = host;
                return Some(ParsedLine {
                    host: Some(Cow::Borrowed(host)),
                    program: program.map(Cow::Borrowed),
                    pid,
                    ..ParsedLine::with(LineFormat::ShortMonotonic, stamp, msg)
                });
            }
        }
        let msg = rest.strip_prefix(' ').unwrap_or(rest);
        return Some(ParsedLine::with(LineFormat::DmesgRaw, stamp, msg));
    }
    // dmesg -T: `[Fri Dec 22 12:26:24 2023] msg`
    if b.len() > 26 && is_weekday(&b[1..]) && b.get(4) == Some(&b' ') && b.get(25) == Some(&b']') {
        let month = month_from(&b[5..])?;
        let day = if b[9] == b' ' {
            digits(b, 10, 1)?
        } else {
            digits(b, 9, 2)?
        };
        let (h, mi, s) = hms(b, 12)?;
        let y = digits(b, 21, 4)?;
        let dt = naive(y as i32, month, day, h, mi, s, 0)?;
        let msg = &line[26..];
        let msg = msg.strip_prefix(' ').unwrap_or(msg);
        return Some(ParsedLine::with(
            LineFormat::DmesgCtime,
            Stamp::Approximate(dt),
            msg,
        ));
    }
    // Application: `[2026-11-21 14:23:07,123] ERROR …` or `[2026-11-21T14:23:07.123Z] …`
    let (stamp, used, _) = iso_datetime(b.get(1..)?)?;
    let rest = line.get(1 + used..)?.strip_prefix(']')?;
    Some(ParsedLine::with(
        LineFormat::App,
        stamp,
        rest.strip_prefix(' ').unwrap_or(rest),
    ))
}

/// `dmesg -x`: `kern  :notice: [    0.000000] msg` (also with a `-T` time).
fn parse_dmesg_decoded(line: &str) -> Option<ParsedLine<'_>> {
    let colon = line.get(..8)?.find(':')?;
    let facility = line[..colon].trim_end();
    if facility.is_empty() || !facility.bytes().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let rest = &line[colon + 1..];
    let colon2 = rest.get(..8).and_then(|s| s.find(':'))?;
    let level = rest[..colon2].trim_end();
    if level.is_empty() || !level.bytes().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let rest = rest[colon2 + 1..].trim_start();
    let inner = parse_bracket(rest)?;
    if !matches!(inner.format, LineFormat::DmesgRaw | LineFormat::DmesgCtime) {
        return None;
    }
    let program = (facility == "kern").then_some(Cow::Borrowed("kernel"));
    Some(ParsedLine {
        format: LineFormat::DmesgDecoded,
        program,
        ..inner
    })
}

/// Journal separators and grep's `--`.
fn parse_marker(line: &str) -> Option<ParsedLine<'_>> {
    let t = line.trim_end();
    let kind = if t == "--" {
        MarkerKind::Separator
    } else if t == "-- Reboot --" {
        MarkerKind::Boot(None)
    } else if let Some(id) = t
        .strip_prefix("-- Boot ")
        .and_then(|r| r.strip_suffix(" --"))
    {
        MarkerKind::Boot(Some(id.trim().to_string()))
    } else if t.starts_with("-- Logs begin at ")
        || t.starts_with("-- Journal begins at ")
        || t.starts_with("-- No entries --")
    {
        MarkerKind::Head
    } else {
        return None;
    };
    let mut p = ParsedLine::with(LineFormat::Marker, Stamp::Missing, line);
    p.marker = Some(kind);
    Some(p)
}

// ---------------------------------------------------------------- JSON lines

#[derive(Deserialize)]
struct JsonProbe<'a> {
    #[serde(rename = "__REALTIME_TIMESTAMP", borrow)]
    realtime: Option<Cow<'a, str>>,
    #[serde(rename = "__MONOTONIC_TIMESTAMP", borrow)]
    monotonic: Option<Cow<'a, str>>,
    #[serde(rename = "_BOOT_ID", borrow)]
    boot_id: Option<Cow<'a, str>>,
    #[serde(rename = "_HOSTNAME", borrow)]
    hostname: Option<Cow<'a, str>>,
    #[serde(rename = "SYSLOG_IDENTIFIER", borrow)]
    identifier: Option<Cow<'a, str>>,
    #[serde(rename = "_TRANSPORT", borrow)]
    transport: Option<Cow<'a, str>>,
    #[serde(rename = "_PID", borrow)]
    pid: Option<Cow<'a, str>>,
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
    // Application loggers and docker json-file.
    time: Option<serde_json::Value>,
    ts: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
    #[serde(rename = "@timestamp")]
    at_timestamp: Option<serde_json::Value>,
    #[serde(borrow)]
    log: Option<Cow<'a, str>>,
}

fn parse_json(line: &str) -> Option<ParsedLine<'_>> {
    let probe: JsonProbe<'_> = serde_json::from_str(line).ok()?;
    if let Some(rt) = probe.realtime.as_deref() {
        // journalctl -o json
        let us: i64 = rt.parse().ok()?;
        let stamp = chrono::Utc
            .timestamp_micros(us)
            .single()
            .map(|t| Stamp::Wall(t.fixed_offset()))
            .unwrap_or(Stamp::Missing);
        let message = match probe.message {
            Some(serde_json::Value::String(s)) => s,
            // Non-UTF-8 messages are exported as an array of byte values.
            Some(serde_json::Value::Array(bytes)) => {
                let v: Vec<u8> = bytes
                    .iter()
                    .filter_map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
                    .collect();
                String::from_utf8_lossy(&v).into_owned()
            }
            _ => String::new(),
        };
        let is_kernel = probe.transport.as_deref() == Some("kernel");
        let program = if is_kernel {
            Some(Cow::Borrowed("kernel"))
        } else {
            probe.identifier.map(|s| Cow::Owned(s.into_owned()))
        };
        return Some(ParsedLine {
            format: LineFormat::JournalJson,
            stamp,
            mono_us: probe.monotonic.as_deref().and_then(|m| m.parse().ok()),
            zone_name: None,
            host: probe.hostname.map(|s| Cow::Owned(s.into_owned())),
            program,
            pid: probe.pid.as_deref().and_then(|p| p.parse().ok()),
            boot_id: probe.boot_id.map(|s| s.into_owned()),
            marker: None,
            message: Cow::Owned(message),
        });
    }
    let stamp = [probe.time, probe.ts, probe.timestamp, probe.at_timestamp]
        .into_iter()
        .flatten()
        .find_map(|v| json_time(&v))
        .unwrap_or(Stamp::Missing);
    // docker json-file keeps the line in `log`; other loggers are matched on the whole object,
    // since the interesting text may sit in `msg`, `err.message` or `error`.
    let message = match probe.log {
        Some(l) => Cow::Owned(l.trim_end_matches('\n').to_string()),
        None => Cow::Borrowed(line),
    };
    Some(ParsedLine {
        message,
        ..ParsedLine::with(LineFormat::JsonLines, stamp, "")
    })
}

fn json_time(v: &serde_json::Value) -> Option<Stamp> {
    match v {
        serde_json::Value::String(s) => iso_datetime(s.as_bytes()).map(|(st, _, _)| st),
        serde_json::Value::Number(n) => {
            // Epoch seconds (zap, float) or milliseconds (pino, integer > 1e11).
            let f = n.as_f64()?;
            let ms = if f > 1e11 { f } else { f * 1000.0 };
            let t: DateTime<chrono::Utc> = chrono::Utc.timestamp_millis_opt(ms as i64).single()?;
            Some(Stamp::Wall(t.fixed_offset()))
        }
        _ => None,
    }
}

/// Positions inside `message` where a second kernel record was glued onto the line
/// (`…cookies.[  602.1] nf_conntrack: …` or `…packet.Nov 21 14:23:07 host kernel: …`).
/// Returns byte offsets where each glued record starts (not 0).
pub fn glued_record_starts(message: &str) -> Vec<usize> {
    let b = message.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        if c == b'[' {
            if since_boot_bracket(&b[i..]).is_some() {
                out.push(i);
            }
        } else if c.is_ascii_uppercase() && month_from(&b[i..]).is_some() {
            let rest = &message[i..];
            if let Some(p) = parse_month_first(rest) {
                if p.program.is_some() {
                    out.push(i);
                }
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nd(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|x| x.and_hms_micro_opt(h, mi, s, us))
            .expect("valid test date")
    }

    #[test]
    fn syslog_with_kernel_seconds() {
        let p = parse_line(
            "May  6 10:49:21 web-3 kernel: [13502680.515977] TCP: out of memory -- consider tuning tcp_mem",
        );
        assert_eq!(p.format, LineFormat::Syslog);
        assert_eq!(
            p.stamp,
            Stamp::NoYear {
                month: 5,
                day: 6,
                hour: 10,
                minute: 49,
                second: 21,
                nanos: 0
            }
        );
        assert_eq!(p.host.as_deref(), Some("web-3"));
        assert_eq!(p.program.as_deref(), Some("kernel"));
        assert_eq!(p.mono_us, Some(13_502_680_515_977));
        assert_eq!(p.message, "TCP: out of memory -- consider tuning tcp_mem");
        assert!(p.is_kernel());
    }

    #[test]
    fn syslog_day_padding_variants() {
        for (line, day) in [
            ("May  6 10:49:21 h kernel: x", 6),
            ("May 06 10:49:21 h kernel: x", 6),
            ("May 6 10:49:21 h kernel: x", 6),
            ("May 16 10:49:21 h kernel: x", 16),
        ] {
            let p = parse_line(line);
            assert_eq!(p.format, LineFormat::Syslog, "{line}");
            assert_eq!(
                p.stamp,
                Stamp::NoYear {
                    month: 5,
                    day,
                    hour: 10,
                    minute: 49,
                    second: 21,
                    nanos: 0
                },
                "{line}"
            );
            assert_eq!(p.message, "x", "{line}");
        }
        assert_eq!(
            parse_line("May 6x10:49:21 h kernel: x").format,
            LineFormat::Plain
        );
    }

    #[test]
    fn syslog_ident_with_pid() {
        let p = parse_line("Nov 21 14:23:07 api-1 node[4242]: Error: EMFILE: too many open files");
        assert_eq!(p.program.as_deref(), Some("node"));
        assert_eq!(p.pid, Some(4242));
        assert_eq!(p.message, "Error: EMFILE: too many open files");
    }

    #[test]
    fn short_precise() {
        let p = parse_line(
            "Jun 19 10:33:53.477371 node-7 kernel: nf_conntrack: table full, dropping packet",
        );
        assert_eq!(p.format, LineFormat::ShortPrecise);
        assert_eq!(
            p.stamp,
            Stamp::NoYear {
                month: 6,
                day: 19,
                hour: 10,
                minute: 33,
                second: 53,
                nanos: 477_371_000
            }
        );
    }

    #[test]
    fn short_iso_both_offset_spellings() {
        for (line, fmt) in [
            (
                "2026-09-02T09:08:50+00:00 h kernel: x",
                LineFormat::ShortIso,
            ),
            ("2026-09-02T09:08:50+0000 h kernel: x", LineFormat::ShortIso),
            (
                "2026-09-02T09:08:50.123456+02:00 h kernel: x",
                LineFormat::ShortIsoPrecise,
            ),
        ] {
            let p = parse_line(line);
            assert_eq!(p.format, fmt, "{line}");
            assert_eq!(p.message, "x");
            let Stamp::Wall(t) = p.stamp else {
                panic!("expected a wall stamp for {line}")
            };
            assert_eq!(
                t.date_naive(),
                NaiveDate::from_ymd_opt(2026, 9, 2).expect("date")
            );
        }
        let p = parse_line("2026-09-02T09:08:50.123456+02:00 h kernel: x");
        assert_eq!(
            p.stamp.stated_utc().map(|t| crate::model::rfc3339(&t)),
            Some("2026-09-02T07:08:50.123456Z".to_string())
        );
    }

    #[test]
    fn short_full_utc_and_named_zone() {
        let p = parse_line("Tue 2026-11-17 14:23:07 UTC db-2 kernel: oom_reaper: reaped process 7");
        assert_eq!(p.format, LineFormat::ShortFull);
        assert!(matches!(p.stamp, Stamp::Wall(_)));
        assert_eq!(p.message, "oom_reaper: reaped process 7");
        let p = parse_line("Tue 2026-11-17 14:23:07 CET db-2 kernel: x");
        assert_eq!(p.stamp, Stamp::WallNoZone(nd(2026, 11, 17, 14, 23, 7, 0)));
        assert_eq!(p.zone_name, Some("CET"));
    }

    #[test]
    fn monotonic_versus_dmesg() {
        let p = parse_line("[  601.749973] node-7 kernel: TCP: request_sock_TCP: Possible SYN flooding on port 3000. Sending cookies.");
        assert_eq!(p.format, LineFormat::ShortMonotonic);
        assert_eq!(p.stamp, Stamp::SinceBoot(601_749_973));
        assert!(p.message.starts_with("TCP: request_sock_TCP"));
        let p =
            parse_line("[  601.749973] TCP: request_sock_TCP: Possible SYN flooding on port 3000.");
        assert_eq!(p.format, LineFormat::DmesgRaw);
        assert_eq!(
            p.message,
            "TCP: request_sock_TCP: Possible SYN flooding on port 3000."
        );
        let p = parse_line("[    5.1] IPv6 ADDRCONF(NETDEV_UP): eth0: link is not ready");
        assert_eq!(p.format, LineFormat::DmesgRaw);
        assert_eq!(p.stamp, Stamp::SinceBoot(5_100_000));
    }

    #[test]
    fn dmesg_ctime_and_decoded() {
        let p = parse_line("[Fri Dec 22 12:26:24 2023] nf_conntrack: table full, dropping packet");
        assert_eq!(p.format, LineFormat::DmesgCtime);
        assert_eq!(p.stamp, Stamp::Approximate(nd(2023, 12, 22, 12, 26, 24, 0)));
        assert_eq!(p.message, "nf_conntrack: table full, dropping packet");
        let p = parse_line("kern  :notice: [    0.000000] Linux version 6.1.0");
        assert_eq!(p.format, LineFormat::DmesgDecoded);
        assert_eq!(p.stamp, Stamp::SinceBoot(0));
        assert!(p.is_kernel());
        assert_eq!(p.message, "Linux version 6.1.0");
        let p = parse_line("daemon:info  : [   12.5] systemd[1]: Started x");
        assert_eq!(p.format, LineFormat::DmesgDecoded);
        assert!(!p.is_kernel());
    }

    #[test]
    fn rfc5424_with_and_without_structured_data() {
        let p = parse_line("<6>1 2026-11-21T14:23:07.123Z node-7 kernel - - - nf_conntrack: table full, dropping packet");
        assert_eq!(p.format, LineFormat::Rfc5424);
        assert_eq!(p.program.as_deref(), Some("kernel"));
        assert_eq!(p.message, "nf_conntrack: table full, dropping packet");
        let p = parse_line(
            r#"<30>1 2026-11-21T14:23:07+01:00 h app 812 ID47 [x@1 a="b\]c"][y@2 k="v"] hello"#,
        );
        assert_eq!(p.pid, Some(812));
        assert_eq!(p.message, "hello");
    }

    #[test]
    fn journal_json_and_byte_array_message() {
        let p = parse_line(
            r#"{"__REALTIME_TIMESTAMP":"1763734987123456","__MONOTONIC_TIMESTAMP":"601749973","_BOOT_ID":"abc","_HOSTNAME":"n1","_TRANSPORT":"kernel","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"nf_conntrack: table full, dropping packet"}"#,
        );
        assert_eq!(p.format, LineFormat::JournalJson);
        assert_eq!(p.mono_us, Some(601_749_973));
        assert_eq!(p.boot_id.as_deref(), Some("abc"));
        assert!(p.is_kernel());
        assert_eq!(
            p.stamp.stated_utc().map(|t| crate::model::rfc3339(&t)),
            Some("2025-11-21T14:23:07.123456Z".to_string())
        );
        let p = parse_line(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,105,255]}"#);
        assert_eq!(p.message, "hi\u{fffd}");
    }

    #[test]
    fn application_prefixes() {
        let p = parse_line(
            "2026/11/21 14:23:07 [alert] 31#31: *9 accept4() failed (24: Too many open files)",
        );
        assert_eq!(p.format, LineFormat::App);
        assert_eq!(p.stamp, Stamp::WallNoZone(nd(2026, 11, 21, 14, 23, 7, 0)));
        assert!(p.message.starts_with("[alert]"));
        let p = parse_line("2026-11-21 14:23:07,123 ERROR [pool-1] c.e.Db - java.net.SocketException: Too many open files");
        assert_eq!(
            p.stamp,
            Stamp::WallNoZone(nd(2026, 11, 21, 14, 23, 7, 123_000))
        );
        let p = parse_line("I1121 14:23:07.123456    1234 server.go:12] listening");
        assert_eq!(p.pid, Some(1234));
        assert_eq!(p.message, "listening");
        let p = parse_line(
            "2026-11-21T14:23:07.123456789Z stderr F Error: connect EADDRNOTAVAIL 10.0.4.17:5432",
        );
        assert_eq!(p.message, "Error: connect EADDRNOTAVAIL 10.0.4.17:5432");
        let p = parse_line(r#"{"level":50,"time":1763734987000,"msg":"boom"}"#);
        assert_eq!(p.format, LineFormat::JsonLines);
        assert!(matches!(p.stamp, Stamp::Wall(_)));
    }

    #[test]
    fn markers() {
        assert_eq!(
            parse_line("-- Boot 1b2c3d --").marker,
            Some(MarkerKind::Boot(Some("1b2c3d".into())))
        );
        assert_eq!(
            parse_line("-- Reboot --").marker,
            Some(MarkerKind::Boot(None))
        );
        assert_eq!(parse_line("--").marker, Some(MarkerKind::Separator));
        assert_eq!(
            parse_line("-- Logs begin at Mon 2026-11-16 08:00:01 UTC, end at Sat 2026-11-21 14:30:00 UTC. --").marker,
            Some(MarkerKind::Head)
        );
    }

    #[test]
    fn grep_prefixes_are_looked_through() {
        let p = parse_line("kern.log:Nov 21 14:17:30 ip-10-42-7-19 kernel: [ 4021.551902] TCP: x");
        assert_eq!(p.format, LineFormat::Syslog);
        assert_eq!(p.mono_us, Some(4_021_551_902));
        assert_eq!(p.message, "TCP: x");
        let p = parse_line("kern-1.log-Nov 21 14:17:29 h kernel: y");
        assert_eq!((p.format, p.message.as_ref()), (LineFormat::Syslog, "y"));
        let p = parse_line("var/log/kern.log:1812:[ 4021.551902] z");
        assert_eq!((p.format, p.message.as_ref()), (LineFormat::DmesgRaw, "z"));
        let p = parse_line("57-2026-09-02T09:08:50+00:00 db-1 kernel: w");
        assert_eq!(p.format, LineFormat::ShortIso);
        // Not grep: error names, stack frames, a separator inside a file name.
        for plain in [
            "Error: connect EADDRNOTAVAIL 10.0.4.17:5432 - Local (0.0.0.0:0)",
            "java.net.SocketException: Too many open files",
            "    at Object.<anonymous> (/app/x.js:1:1)",
            "kern.log:--",
        ] {
            assert_eq!(parse_line(plain).format, LineFormat::Plain, "{plain}");
        }
    }

    #[test]
    fn garbage_is_plain_and_never_panics() {
        for line in [
            "",
            "[",
            "[ ]",
            "<",
            "<999>",
            "<6>",
            "Nov",
            "Nov 99 99:99:99",
            "2026-13-45T99:00:00",
            "{not json",
            "kern:",
            "\u{fffd}\u{fffd}",
            "[1.]",
            "[99999999999999999999999.1] x",
            "Tue 2026-11-17",
            "I9999 00:00:00",
            // `dmesg -x` levels with nothing after them reached `parse_bracket("")`.
            "kern  :info  :",
            "kern  :info  : ",
            "kern:err:[",
        ] {
            let _ = parse_line(line);
        }
        assert_eq!(
            parse_line("    at Object.<anonymous> (/app/x.js:1:1)").format,
            LineFormat::Plain
        );
    }

    #[test]
    fn finds_glued_records() {
        let m = "Possible SYN flooding on port 3000. Sending cookies.[  602.100000] nf_conntrack: table full, dropping packet";
        let starts = glued_record_starts(m);
        assert_eq!(starts.len(), 1);
        assert!(m[starts[0]..].starts_with("[  602.1"));
        let m =
            "table full, dropping packet.Nov 21 14:23:07 n1 kernel: TCP: too many orphaned sockets";
        assert_eq!(glued_record_starts(m).len(), 1);
        assert!(glued_record_starts("no glue [here] Nov is a month").is_empty());
    }
}
