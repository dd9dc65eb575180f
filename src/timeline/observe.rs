//! What a log source says about its clocks, collected during the scan at a cost of a few
//! comparisons per line: where boots happen, where a year-less file rolls over into January,
//! lines that print two clocks at once, zones stated, capture-time anchors (`date`, `btime`,
//! `uptime`, `timedatectl`), and a run-length histogram of stamps for the event-volume chart.

use crate::ingest::log::{LineFormat, MarkerKind, ParsedLine};
use crate::model::Stamp;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Timelike};
use std::collections::BTreeMap;

/// Lines that print both a wall clock and seconds since boot, kept per boot segment: enough
/// to take a robust median, few enough to stay small on a multi-GB file.
const PAIRS_PER_SEGMENT: usize = 64;
/// Capture-time anchors are tiny files (`date`, `uptime`, `/proc/stat`); only their first lines are looked at.
const ANCHOR_LINES: u64 = 400;

/// Why a new boot segment starts at a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootReason {
    /// `-- Boot <id> --` / `-- Reboot --`.
    Separator(Option<String>),
    /// Journal `_BOOT_ID` changed.
    BootId(String),
    /// Seconds since boot went backwards.
    MonotonicReset,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootMark {
    pub line: u64,
    pub reason: BootReason,
}

/// A line stating both clocks: wall (possibly year- or zone-less) and seconds since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonoPair {
    pub line: u64,
    pub segment: usize,
    pub mono_us: u64,
    pub wall: Stamp,
}

/// A statement of the capture time or boot time found in a small file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockAnchor {
    /// `date`, `date -R`, `date --iso-8601=seconds`, `timedatectl` "Local time": a full time
    /// with an offset (or a zone name: `UTC`/`GMT` are offsets, others kept by name).
    CaptureTime {
        line: u64,
        at: NaiveDateTime,
        offset: Option<FixedOffset>,
        zone_name: Option<String>,
    },
    /// `timedatectl`: `Time zone: Europe/Berlin (CET, +0100)`.
    TimeZone { line: u64, name: String },
    /// `/proc/stat`: `btime 1763712000` (epoch seconds of the current boot).
    BootTime { line: u64, epoch: i64 },
    /// `/proc/uptime` (`4358.12 8000.50`) or `uptime` (` 14:30:02 up 1:12, …`): seconds since boot at capture.
    Uptime { line: u64, secs: u64 },
}

/// Minute-resolution key of the event-volume histogram, still in the source's own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub segment: usize,
    /// The line's stamp truncated to the minute.
    pub stamp: Stamp,
    pub first_line: u64,
    pub lines: u64,
}

/// Counts of what lines state about time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StampCounts {
    pub wall: u64,
    pub wall_no_zone: u64,
    pub no_year: u64,
    pub since_boot: u64,
    pub approximate: u64,
    pub missing: u64,
}

#[derive(Clone, Debug, Default)]
pub struct ClockObservations {
    pub first: Option<(u64, Stamp)>,
    pub last: Option<(u64, Stamp)>,
    pub counts: StampCounts,
    /// Lines where a year-less stamp's month went backwards (December → January).
    pub rollovers: Vec<u64>,
    pub boots: Vec<BootMark>,
    pub pairs: Vec<MonoPair>,
    /// Offsets of fully zoned stamps (seconds east of UTC) and how often each was seen.
    pub offsets: BTreeMap<i32, u64>,
    /// Zone names printed without offsets (`short-full` with `CET`).
    pub zone_names: BTreeMap<String, u64>,
    pub anchors: Vec<ClockAnchor>,
    pub histogram: Vec<Bucket>,
    last_month: Option<u32>,
    last_mono: Option<u64>,
    last_boot_id: Option<String>,
    pairs_in_segment: usize,
}

fn minute(stamp: &Stamp) -> Stamp {
    match *stamp {
        Stamp::Wall(t) => Stamp::Wall(
            t.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t),
        ),
        Stamp::WallNoZone(t) => Stamp::WallNoZone(
            t.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t),
        ),
        Stamp::Approximate(t) => Stamp::Approximate(
            t.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t),
        ),
        Stamp::NoYear {
            month,
            day,
            hour,
            minute,
            ..
        } => Stamp::NoYear {
            month,
            day,
            hour,
            minute,
            second: 0,
            nanos: 0,
        },
        Stamp::SinceBoot(us) => Stamp::SinceBoot(us / 60_000_000 * 60_000_000),
        Stamp::Missing => Stamp::Missing,
    }
}

impl ClockObservations {
    /// The boot segment a line belongs to (0 before the first boot mark).
    pub fn segment_of(&self, line: u64) -> usize {
        self.boots.partition_point(|b| b.line <= line)
    }

    fn new_segment(&mut self, line: u64, reason: BootReason) {
        self.boots.push(BootMark { line, reason });
        self.last_mono = None;
        self.pairs_in_segment = 0;
    }

    /// Observe one physical line (after parsing its prefix).
    pub fn observe(&mut self, line_no: u64, p: &ParsedLine<'_>, raw: &str) {
        if let Some(MarkerKind::Boot(id)) = &p.marker {
            self.new_segment(line_no, BootReason::Separator(id.clone()));
            return;
        }
        if p.format == LineFormat::Marker {
            return;
        }
        if let Some(id) = &p.boot_id {
            if self.last_boot_id.as_deref() != Some(id.as_str()) {
                if self.last_boot_id.is_some() {
                    self.new_segment(line_no, BootReason::BootId(id.clone()));
                }
                self.last_boot_id = Some(id.clone());
            }
        }
        let mono = match p.stamp {
            Stamp::SinceBoot(us) => Some(us),
            _ => p.mono_us,
        };
        if let Some(us) = mono {
            // Kernel timestamps within a boot never go backwards by more than reordering jitter.
            if self.last_mono.is_some_and(|prev| us + 1_000_000 < prev) {
                self.new_segment(line_no, BootReason::MonotonicReset);
            }
            self.last_mono = Some(us);
        }
        let stamp = p.stamp;
        match stamp {
            Stamp::Wall(t) => {
                self.counts.wall += 1;
                *self
                    .offsets
                    .entry(t.offset().local_minus_utc())
                    .or_insert(0) += 1;
            }
            Stamp::WallNoZone(_) => {
                self.counts.wall_no_zone += 1;
                if let Some(z) = p.zone_name {
                    *self.zone_names.entry(z.to_string()).or_insert(0) += 1;
                }
            }
            Stamp::NoYear { month, .. } => {
                self.counts.no_year += 1;
                // December → January (a drop of more than six months) is a new year; smaller
                // drops are out-of-order lines, not a rollover.
                if let Some(prev) = self.last_month {
                    if month + 6 < prev {
                        self.rollovers.push(line_no);
                    }
                }
                self.last_month = Some(month);
            }
            Stamp::SinceBoot(_) => self.counts.since_boot += 1,
            Stamp::Approximate(_) => self.counts.approximate += 1,
            Stamp::Missing => self.counts.missing += 1,
        }
        if stamp != Stamp::Missing {
            if self.first.is_none() {
                self.first = Some((line_no, stamp));
            }
            self.last = Some((line_no, stamp));
            let segment = self.boots.len();
            if let (Some(us), false) = (p.mono_us, matches!(stamp, Stamp::SinceBoot(_))) {
                if self.pairs_in_segment < PAIRS_PER_SEGMENT {
                    self.pairs.push(MonoPair {
                        line: line_no,
                        segment,
                        mono_us: us,
                        wall: stamp,
                    });
                    self.pairs_in_segment += 1;
                }
            }
            let key = minute(&stamp);
            match self.histogram.last_mut() {
                Some(b) if b.stamp == key && b.segment == segment => b.lines += 1,
                _ => self.histogram.push(Bucket {
                    segment,
                    stamp: key,
                    first_line: line_no,
                    lines: 1,
                }),
            }
        }
        if line_no <= ANCHOR_LINES {
            if let Some(a) = parse_anchor(line_no, raw) {
                self.anchors.push(a);
            }
        }
    }
}

/// Recognise a capture-time or boot-time statement on a line of its own.
pub fn parse_anchor(line_no: u64, raw: &str) -> Option<ClockAnchor> {
    let t = raw.trim();
    if let Some(rest) = t.strip_prefix("btime ") {
        return rest
            .trim()
            .parse::<i64>()
            .ok()
            .map(|epoch| ClockAnchor::BootTime {
                line: line_no,
                epoch,
            });
    }
    if let Some(rest) = t.strip_prefix("Time zone:") {
        let name = rest.split_whitespace().next()?;
        return Some(ClockAnchor::TimeZone {
            line: line_no,
            name: name.to_string(),
        });
    }
    if let Some(rest) = t.strip_prefix("Local time:") {
        return capture_from(line_no, rest.trim());
    }
    if let Some(secs) = uptime_secs(t) {
        return Some(ClockAnchor::Uptime {
            line: line_no,
            secs,
        });
    }
    capture_from(line_no, t)
}

/// `date` outputs: `Sat Nov 21 14:30:02 UTC 2026`, `Sat 21 Nov 2026 02:30:02 PM CET`,
/// `Sat, 21 Nov 2026 14:30:02 +0000` (`-R`), `2026-11-21T14:30:02+00:00` (`--iso-8601`),
/// `Sat 2026-11-21 14:30:02 CET` (timedatectl).
fn capture_from(line_no: u64, t: &str) -> Option<ClockAnchor> {
    if t.len() > 64 || t.len() < 19 {
        return None;
    }
    let mk = |at: NaiveDateTime, offset: Option<FixedOffset>, zone: Option<&str>| {
        let (offset, zone_name) = match (offset, zone) {
            (Some(o), _) => (Some(o), None),
            (None, Some("UTC" | "GMT" | "Z")) => (FixedOffset::east_opt(0), None),
            (None, z) => (None, z.map(str::to_string)),
        };
        Some(ClockAnchor::CaptureTime {
            line: line_no,
            at,
            offset,
            zone_name,
        })
    };
    if let Ok(dt) = DateTime::parse_from_rfc2822(t) {
        return mk(dt.naive_local(), Some(*dt.offset()), None);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return mk(dt.naive_local(), Some(*dt.offset()), None);
    }
    // Every form below has at most 7 words; the array avoids an allocation per line (this
    // runs on the first ANCHOR_LINES lines of every file, and bundles hold thousands of files).
    let mut words = [""; 8];
    let mut n_words = 0;
    for w in t.split_whitespace() {
        if let Some(slot) = words.get_mut(n_words) {
            *slot = w;
        }
        n_words += 1;
    }
    let words = &words[..n_words.min(8)];
    // `Sat Nov 21 14:30:02 UTC 2026` (C locale `date`).
    if n_words == 6 {
        let s = format!("{} {} {} {}", words[1], words[2], words[3], words[5]);
        if let Ok(at) = NaiveDateTime::parse_from_str(&s, "%b %d %H:%M:%S %Y") {
            return mk(at, None, Some(words[4]));
        }
    }
    // `Sat 21 Nov 2026 02:30:02 PM CET` (en_US locale).
    if n_words == 7 {
        let s = format!(
            "{} {} {} {} {}",
            words[1], words[2], words[3], words[4], words[5]
        );
        if let Ok(at) = NaiveDateTime::parse_from_str(&s, "%d %b %Y %I:%M:%S %p") {
            return mk(at, None, Some(words[6]));
        }
    }
    // `Sat 2026-11-21 14:30:02 CET` (timedatectl, journalctl short-full style).
    if n_words == 4 {
        let s = format!("{} {}", words[1], words[2]);
        if let Ok(at) = NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S") {
            return mk(at, None, Some(words[3]));
        }
    }
    None
}

/// `/proc/uptime` (`4358.12 8000.50`) or `uptime` (` 14:30:02 up 3 days,  1:12,  2 users, …`).
fn uptime_secs(t: &str) -> Option<u64> {
    let mut words = t.split_whitespace();
    if let (Some(up), Some(idle), None) = (words.next(), words.next(), words.next()) {
        if let (Ok(secs), Ok(_)) = (up.parse::<f64>(), idle.parse::<f64>()) {
            return (0.0..1e10).contains(&secs).then_some(secs as u64);
        }
    }
    let up = t.find(" up ")?;
    let rest = &t[up + 4..];
    let mut secs: u64 = 0;
    for part in rest.split(',').map(str::trim) {
        if let Some(d) = part
            .strip_suffix(" days")
            .or_else(|| part.strip_suffix(" day"))
        {
            secs += d.trim().parse::<u64>().ok()? * 86_400;
        } else if let Some(m) = part.strip_suffix(" min") {
            secs += m.trim().parse::<u64>().ok()? * 60;
            break;
        } else if let Some((h, m)) = part.split_once(':') {
            secs += h.trim().parse::<u64>().ok()? * 3600 + m.trim().parse::<u64>().ok()? * 60;
            break;
        } else {
            break;
        }
    }
    (secs > 0).then_some(secs)
}

/// Turn a capture anchor into an instant when its zone is known.
pub fn capture_instant(
    at: &NaiveDateTime,
    offset: Option<FixedOffset>,
) -> Option<DateTime<FixedOffset>> {
    offset.and_then(|o| o.from_local_datetime(at).single())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::log::parse_line;

    fn observe_all(lines: &[&str]) -> ClockObservations {
        let mut o = ClockObservations::default();
        for (i, l) in lines.iter().enumerate() {
            o.observe(i as u64 + 1, &parse_line(l), l);
        }
        o
    }

    #[test]
    fn anchors_of_every_shape() {
        let cases = [
            "Sat Nov 21 14:30:02 UTC 2026",
            "Sat 21 Nov 2026 02:30:02 PM CET",
            "Sat, 21 Nov 2026 14:30:02 +0100",
            "2026-11-21T14:30:02+00:00",
            "      Local time: Sat 2026-11-21 14:30:02 CET",
        ];
        for c in cases {
            assert!(
                matches!(parse_anchor(1, c), Some(ClockAnchor::CaptureTime { .. })),
                "{c}"
            );
        }
        assert_eq!(
            parse_anchor(3, "btime 1763712000"),
            Some(ClockAnchor::BootTime {
                line: 3,
                epoch: 1_763_712_000
            })
        );
        assert_eq!(
            parse_anchor(1, "4358.12 8000.50"),
            Some(ClockAnchor::Uptime {
                line: 1,
                secs: 4358
            })
        );
        assert_eq!(
            parse_anchor(
                1,
                " 14:30:02 up 3 days,  1:12,  2 users,  load average: 0.10, 0.20, 0.30"
            ),
            Some(ClockAnchor::Uptime {
                line: 1,
                secs: 3 * 86_400 + 72 * 60
            })
        );
        assert_eq!(
            parse_anchor(1, " 14:30:02 up 12 min,  1 user,  load average: 0.00"),
            Some(ClockAnchor::Uptime { line: 1, secs: 720 })
        );
        assert_eq!(
            parse_anchor(2, "       Time zone: Europe/Berlin (CET, +0100)"),
            Some(ClockAnchor::TimeZone {
                line: 2,
                name: "Europe/Berlin".into()
            })
        );
        assert_eq!(parse_anchor(1, "hello world"), None);
        let Some(ClockAnchor::CaptureTime {
            offset, zone_name, ..
        }) = parse_anchor(1, "Sat Nov 21 14:30:02 UTC 2026")
        else {
            panic!("capture")
        };
        assert_eq!(offset, FixedOffset::east_opt(0));
        assert_eq!(zone_name, None);
    }

    #[test]
    fn rollover_boots_pairs_and_histogram() {
        let o = observe_all(&[
            "Dec 31 23:59:58 h kernel: [100.000000] a",
            "Dec 31 23:59:59 h kernel: [101.000000] b",
            "Jan  1 00:00:01 h kernel: [103.000000] c",
            "-- Boot 2b3c --",
            "Jan  1 00:05:00 h kernel: [  1.000000] d",
            "Jan  1 00:05:30 h kernel: [ 31.000000] e",
        ]);
        assert_eq!(o.rollovers, vec![3]);
        assert_eq!(o.boots.len(), 1);
        assert_eq!(o.segment_of(3), 0);
        assert_eq!(o.segment_of(5), 1);
        assert_eq!(o.pairs.len(), 5);
        assert_eq!(o.pairs[3].segment, 1);
        assert_eq!(o.counts.no_year, 5);
        let lines: Vec<u64> = o.histogram.iter().map(|b| b.lines).collect();
        assert_eq!(lines, vec![2, 1, 2]);
    }

    #[test]
    fn monotonic_reset_is_a_boot() {
        let o = observe_all(&["[ 500.0] a", "[ 501.0] b", "[   0.5] c"]);
        assert_eq!(o.boots.len(), 1);
        assert_eq!(o.boots[0].reason, BootReason::MonotonicReset);
        assert_eq!(o.segment_of(3), 1);
    }
}
