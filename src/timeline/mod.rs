//! Clock resolution: every stamp to UTC with how it was resolved, from the best anchor the
//! bundle offers; and recognition of one kernel record copied into several files.
//!
//! Trust order for seconds-since-boot: a line printing both clocks (syslog `kernel: [secs]`,
//! journal JSON realtime + monotonic), the same record seen in a timed file, `/proc/stat`
//! `btime`, `uptime` + `date`. A boot segment without its own anchor stays unresolved: times
//! are never carried across a reboot.

pub mod events;
pub mod kubernetes;
pub mod observe;
pub mod view;

use crate::model::{rfc3339, Hit, Stamp};
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use observe::{ClockAnchor, ClockObservations};
use serde::Serialize;
use std::collections::BTreeMap;

/// Two copies of one kernel record in different files are the same event when their resolved
/// times differ by at most this much: syslog and journal stamp the same record within a
/// second, and boot-anchored times carry the anchor's own sub-second error.
pub const COPY_WINDOW_SECS: i64 = 2;
/// `dmesg -T` times can drift by minutes after suspend; copies are matched more loosely.
pub const APPROXIMATE_COPY_WINDOW_SECS: i64 = 120;
/// A year-less stamp up to this far past the capture date still belongs to the capture year
/// (zone differences between the log and the `date` file).
const FUTURE_SLACK: Duration = Duration::days(1);
/// A boot anchor from `btime`/`uptime` applies only if the file's last monotonic stamp falls
/// before the capture time plus this slack (else the file is from an older boot).
const BOOT_ANCHOR_SLACK: Duration = Duration::minutes(5);

/// How a time was obtained. Serialised as `stated`, `year-inferred`, `zone-assumed`,
/// `boot-anchored:<anchor>`, `approximate`, `unresolved` (public values).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimeSource {
    Stated,
    YearInferred,
    ZoneAssumed,
    BootAnchored(String),
    Approximate,
    Unresolved,
}

impl TimeSource {
    pub fn as_string(&self) -> String {
        match self {
            TimeSource::Stated => "stated".into(),
            TimeSource::YearInferred => "year-inferred".into(),
            TimeSource::ZoneAssumed => "zone-assumed".into(),
            TimeSource::BootAnchored(a) => format!("boot-anchored:{a}"),
            TimeSource::Approximate => "approximate".into(),
            TimeSource::Unresolved => "unresolved".into(),
        }
    }
}

impl Serialize for TimeSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

/// A zone for zone-less stamps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `Europe/Berlin`, `UTC`, `+01:00`, `-0530`.
    pub fn parse(s: &str) -> Option<Zone> {
        let s = s.trim();
        if let Ok(tz) = s.parse::<chrono_tz::Tz>() {
            return Some(Zone::Named(tz));
        }
        let b = s.as_bytes();
        let sign = match b.first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 && digits.len() != 2 {
            return None;
        }
        let h: i32 = digits.get(0..2)?.parse().ok()?;
        let m: i32 = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
        FixedOffset::east_opt(sign * (h * 3600 + m * 60)).map(Zone::Fixed)
    }

    fn to_utc(self, t: &NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            // An ambiguous local time (DST fall-back) takes the earlier instant.
            Zone::Fixed(o) => o
                .from_local_datetime(t)
                .earliest()
                .map(|x| x.with_timezone(&Utc)),
            Zone::Named(z) => z
                .from_local_datetime(t)
                .earliest()
                .map(|x| x.with_timezone(&Utc)),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Fixed(o) => o.to_string(),
            Zone::Named(z) => z.name().to_string(),
        }
    }
}

/// `--year` and `--tz`.
#[derive(Clone, Debug, Default)]
pub struct ClockOptions {
    pub year: Option<i32>,
    pub tz: Option<Zone>,
}

/// One statement of how the bundle's clocks were set, for the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClockNote {
    pub what: String,
    pub value: String,
    /// `path:line` of the anchor, or `--year`/`--tz`, or `assumed`.
    pub from: String,
}

/// The bundle-wide clock facts and per-source boot anchors.
#[derive(Clone, Debug, Default)]
pub struct BundleClock {
    pub capture: Option<NaiveDateTime>,
    pub capture_utc: Option<DateTime<Utc>>,
    pub zone: Option<Zone>,
    pub zone_assumed: bool,
    pub year: Option<i32>,
    pub boot_from_btime: Option<DateTime<Utc>>,
    pub boot_from_uptime: Option<DateTime<Utc>>,
    pub notes: Vec<ClockNote>,
}

/// The resolved time of every hit, and which hits are copies of another.
#[derive(Clone, Debug, Default)]
pub struct Resolution {
    pub times: Vec<Option<DateTime<Utc>>>,
    pub sources: Vec<TimeSource>,
    /// `copy_of[i] = Some(j)`: hit i is the same event as hit j (in another file).
    pub copy_of: Vec<Option<usize>>,
    pub clock: BundleClock,
    /// Per source: (first, last, unresolved stamp count).
    pub spans: Vec<SourceSpan>,
    /// Per source: how to resolve any of its lines (for `timeline --all`).
    pub per_source: Vec<SourceClock>,
    /// Per source: lines per resolved minute, in time order (the event-volume chart).
    pub volume: Vec<Vec<(DateTime<Utc>, u64)>>,
}

impl Resolution {
    /// Resolve a stamp on `line` of source `source` with the anchors found for the bundle.
    pub fn resolve_line(
        &self,
        source: usize,
        stamp: &Stamp,
        line: u64,
    ) -> (Option<DateTime<Utc>>, TimeSource) {
        match self.per_source.get(source) {
            Some(sc) => sc.resolve(&self.clock, stamp, line),
            None => (None, TimeSource::Unresolved),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceSpan {
    pub first: Option<String>,
    pub last: Option<String>,
    /// Lines whose stamps could not be resolved to UTC.
    pub unresolved: u64,
}

fn label(paths: &[String], source: usize, line: u64) -> String {
    format!(
        "{}:{line}",
        paths.get(source).map(String::as_str).unwrap_or("?")
    )
}

/// Gather the bundle-wide facts: capture time, zone, year, boot anchors.
pub fn bundle_clock(
    obs: &[ClockObservations],
    paths: &[String],
    opts: &ClockOptions,
    snapshot_times: &[(DateTime<Utc>, String)],
) -> BundleClock {
    let mut c = BundleClock::default();
    let mut capture_offset: Option<FixedOffset> = None;
    let mut uptime: Option<(u64, String)> = None;
    let mut tz_named: Option<(Zone, String)> = None;
    for (si, o) in obs.iter().enumerate() {
        for a in &o.anchors {
            match a {
                ClockAnchor::CaptureTime {
                    line,
                    at,
                    offset,
                    zone_name,
                } => {
                    if c.capture.is_none() || (capture_offset.is_none() && offset.is_some()) {
                        c.capture = Some(*at);
                        capture_offset = *offset;
                        let z = offset
                            .map(|o| o.to_string())
                            .or_else(|| zone_name.clone())
                            .unwrap_or_default();
                        c.notes.retain(|n| n.what != "capture time");
                        c.notes.push(ClockNote {
                            what: "capture time".into(),
                            value: format!("{} {z}", at.format("%Y-%m-%d %H:%M:%S")),
                            from: label(paths, si, *line),
                        });
                        if offset.is_none() {
                            if let Some(zn) = zone_name.as_deref().and_then(Zone::parse) {
                                tz_named.get_or_insert((zn, label(paths, si, *line)));
                            }
                        }
                    }
                }
                ClockAnchor::TimeZone { line, name } => {
                    if let Some(z) = Zone::parse(name) {
                        tz_named = Some((z, label(paths, si, *line)));
                    }
                }
                ClockAnchor::BootTime { line, epoch } => {
                    if let Some(t) = Utc.timestamp_opt(*epoch, 0).single() {
                        c.boot_from_btime = Some(t);
                        c.notes.push(ClockNote {
                            what: "boot time (btime)".into(),
                            value: rfc3339(&t),
                            from: label(paths, si, *line),
                        });
                    }
                }
                ClockAnchor::Uptime { line, secs } => {
                    uptime = Some((*secs, label(paths, si, *line)));
                }
            }
        }
    }
    // Zone for zone-less stamps: flag, timedatectl/IANA name, the capture's offset, the
    // offset most zoned lines print, else UTC (recorded as an assumption).
    let most_common_offset = {
        let mut all: BTreeMap<i32, u64> = BTreeMap::new();
        for o in obs {
            for (k, v) in &o.offsets {
                *all.entry(*k).or_insert(0) += v;
            }
        }
        all.into_iter()
            .max_by_key(|(k, v)| (*v, -k))
            .map(|(k, _)| k)
    };
    let (zone, from) = if let Some(z) = opts.tz {
        (z, "--tz".to_string())
    } else if let Some((z, from)) = tz_named {
        (z, from)
    } else if let Some(o) = capture_offset {
        (
            Zone::Fixed(o),
            c.notes
                .iter()
                .find(|n| n.what == "capture time")
                .map(|n| n.from.clone())
                .unwrap_or_default(),
        )
    } else if let Some(off) = most_common_offset.and_then(FixedOffset::east_opt) {
        (
            Zone::Fixed(off),
            "offsets printed by zoned log lines".to_string(),
        )
    } else {
        c.zone_assumed = true;
        (
            Zone::Fixed(Utc.fix()),
            "assumed UTC: no zone is stated anywhere in the bundle (pass --tz)".to_string(),
        )
    };
    c.zone = Some(zone);
    c.notes.push(ClockNote {
        what: "zone for zone-less stamps".into(),
        value: zone.name(),
        from,
    });
    c.capture_utc = c
        .capture
        .and_then(|t| zone_or(capture_offset, zone).to_utc(&t));
    // Year for year-less stamps: flag, capture date, else the newest fully dated stamp.
    if let Some(y) = opts.year {
        c.year = Some(y);
        c.notes.push(ClockNote {
            what: "year for year-less stamps".into(),
            value: y.to_string(),
            from: "--year".into(),
        });
    }
    if c.capture.is_none() {
        // No `date` in the bundle: the newest fully dated stamp of any log, or a time a
        // snapshot states (kubectl Started/Finished), bounds the capture time from below.
        let newest = obs
            .iter()
            .enumerate()
            .filter_map(|(si, o)| match o.last {
                Some((line, Stamp::Wall(t))) => {
                    Some((t.with_timezone(&Utc), label(paths, si, line)))
                }
                Some((line, Stamp::WallNoZone(t))) => {
                    zone.to_utc(&t).map(|u| (u, label(paths, si, line)))
                }
                _ => None,
            })
            .chain(snapshot_times.iter().cloned())
            .max();
        if let Some((t, from)) = newest {
            c.capture = Some(t.naive_utc());
            c.capture_utc = Some(t);
            c.notes.push(ClockNote {
                what: "capture time".into(),
                value: format!("{} (newest fully dated stamp)", rfc3339(&t)),
                from,
            });
        }
    }
    if let (Some(cap), Some((secs, from))) = (c.capture_utc, uptime) {
        let boot = cap - Duration::seconds(secs as i64);
        c.boot_from_uptime = Some(boot);
        c.notes.push(ClockNote {
            what: "boot time (capture time − uptime)".into(),
            value: rfc3339(&boot),
            from,
        });
    }
    c
}

fn zone_or(offset: Option<FixedOffset>, zone: Zone) -> Zone {
    offset.map(Zone::Fixed).unwrap_or(zone)
}

/// The year of the LAST year-less stamp of a source: the capture year, or the year before
/// when that month/day lies after the capture date.
fn base_year(o: &ClockObservations, clock: &BundleClock) -> Option<i32> {
    if clock.year.is_some() {
        return clock.year;
    }
    let cap = clock.capture?;
    let last_no_year = o.last.and_then(|(_, s)| match s {
        Stamp::NoYear { month, day, .. } => Some((month, day)),
        _ => None,
    });
    let y = cap.year();
    Some(match last_no_year {
        Some((m, d)) => {
            let candidate =
                NaiveDate::from_ymd_opt(y, m, d.min(28)).map(|x| x.and_hms_opt(0, 0, 0));
            match candidate.flatten() {
                Some(t) if t > cap + FUTURE_SLACK => y - 1,
                _ => y,
            }
        }
        None => y,
    })
}

/// Year-less stamp → naive datetime, with a Feb 29 that falls in a common year moved to the
/// nearest earlier leap year.
fn with_year(
    year: i32,
    month: u32,
    day: u32,
    h: u32,
    mi: u32,
    s: u32,
    nanos: u32,
) -> Option<NaiveDateTime> {
    let mut y = year;
    for _ in 0..8 {
        if let Some(d) = NaiveDate::from_ymd_opt(y, month, day) {
            return d.and_hms_nano_opt(h, mi, s.min(59), nanos);
        }
        if !(month == 2 && day == 29) {
            return None;
        }
        y -= 1;
    }
    None
}

/// What it takes to resolve any line of one source, once the bundle's anchors are known.
#[derive(Clone, Debug, Default)]
pub struct SourceClock {
    base_year: Option<i32>,
    rollovers: Vec<u64>,
    boot_lines: Vec<u64>,
    /// Per boot segment: boot instant and the anchor's name.
    boots: Vec<Option<(DateTime<Utc>, String)>>,
}

impl SourceClock {
    fn segment_of(&self, line: u64) -> usize {
        self.boot_lines.partition_point(|&b| b <= line)
    }

    /// Wall-clock part only (no boot anchoring).
    fn wall(
        &self,
        clock: &BundleClock,
        stamp: &Stamp,
        line: u64,
    ) -> (Option<DateTime<Utc>>, TimeSource) {
        let zone = clock.zone.unwrap_or(Zone::Fixed(Utc.fix()));
        match *stamp {
            Stamp::Wall(t) => (Some(t.with_timezone(&Utc)), TimeSource::Stated),
            // The line has no zone: whichever zone applies was taken from elsewhere.
            Stamp::WallNoZone(t) => (zone.to_utc(&t), TimeSource::ZoneAssumed),
            Stamp::Approximate(t) => (zone.to_utc(&t), TimeSource::Approximate),
            Stamp::NoYear {
                month,
                day,
                hour,
                minute,
                second,
                nanos,
            } => {
                let Some(base) = self.base_year else {
                    return (None, TimeSource::Unresolved);
                };
                let later_rollovers =
                    self.rollovers.len() - self.rollovers.partition_point(|&l| l <= line);
                let t = with_year(
                    base - later_rollovers as i32,
                    month,
                    day,
                    hour,
                    minute,
                    second,
                    nanos,
                )
                .and_then(|n| zone.to_utc(&n));
                let src = if clock.zone_assumed {
                    TimeSource::ZoneAssumed
                } else {
                    TimeSource::YearInferred
                };
                match t {
                    Some(_) => (t, src),
                    None => (None, TimeSource::Unresolved),
                }
            }
            Stamp::SinceBoot(_) | Stamp::Missing => (None, TimeSource::Unresolved),
        }
    }

    /// Any stamp of this source at `line`.
    pub fn resolve(
        &self,
        clock: &BundleClock,
        stamp: &Stamp,
        line: u64,
    ) -> (Option<DateTime<Utc>>, TimeSource) {
        if let Stamp::SinceBoot(us) = stamp {
            return match self.boots.get(self.segment_of(line)).cloned().flatten() {
                Some((boot, name)) => (
                    Some(boot + Duration::microseconds(*us as i64)),
                    TimeSource::BootAnchored(name),
                ),
                None => (None, TimeSource::Unresolved),
            };
        }
        self.wall(clock, stamp, line)
    }
}

/// Per-source resolver state while anchors are being found.
struct SourceResolver<'a> {
    obs: &'a ClockObservations,
    clock: &'a BundleClock,
    sc: SourceClock,
}

impl<'a> SourceResolver<'a> {
    fn new(obs: &'a ClockObservations, clock: &'a BundleClock) -> Self {
        let mut r = SourceResolver {
            obs,
            clock,
            sc: SourceClock {
                base_year: base_year(obs, clock),
                rollovers: obs.rollovers.clone(),
                boot_lines: obs.boots.iter().map(|b| b.line).collect(),
                boots: vec![None; obs.boots.len() + 1],
            },
        };
        r.anchor_from_pairs();
        r
    }

    fn wall(&self, stamp: &Stamp, line: u64) -> (Option<DateTime<Utc>>, TimeSource) {
        self.sc.wall(self.clock, stamp, line)
    }

    fn resolve(&self, stamp: &Stamp, line: u64) -> (Option<DateTime<Utc>>, TimeSource) {
        self.sc.resolve(self.clock, stamp, line)
    }

    /// Lines printing both clocks anchor their own segment (median of wall − mono).
    fn anchor_from_pairs(&mut self) {
        let mut per_seg: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
        let mut journal = BTreeMap::new();
        for p in &self.obs.pairs {
            if let (Some(t), _) = self.wall(&p.wall, p.line) {
                let boot_us = t.timestamp_micros() - p.mono_us as i64;
                per_seg.entry(p.segment).or_default().push(boot_us);
                journal.insert(p.segment, matches!(p.wall, Stamp::Wall(_)));
            }
        }
        for (seg, mut v) in per_seg {
            v.sort_unstable();
            let mid = v[v.len() / 2];
            if let (Some(slot), Some(t)) = (
                self.sc.boots.get_mut(seg),
                Utc.timestamp_micros(mid).single(),
            ) {
                let name = if journal.get(&seg) == Some(&true) {
                    "journal-monotonic"
                } else {
                    "same-line"
                };
                *slot = Some((t, name.to_string()));
            }
        }
    }

    /// `btime` or `uptime`+`date` anchor the last segment of a purely monotonic file
    /// (dmesg), if its last stamp fits before the capture time.
    fn anchor_from_bundle(&mut self) {
        let last_seg = self.sc.boots.len() - 1;
        if self.sc.boots[last_seg].is_some() || self.obs.counts.since_boot == 0 {
            return;
        }
        let last_mono = match self.obs.last {
            Some((_, Stamp::SinceBoot(us))) => us,
            _ => return,
        };
        let candidates = [
            (self.clock.boot_from_btime, "btime"),
            (self.clock.boot_from_uptime, "uptime"),
        ];
        for (boot, name) in candidates {
            let Some(boot) = boot else { continue };
            let fits = match self.clock.capture_utc {
                Some(cap) => {
                    boot + Duration::microseconds(last_mono as i64) <= cap + BOOT_ANCHOR_SLACK
                }
                None => true,
            };
            if fits {
                self.sc.boots[last_seg] = Some((boot, name.to_string()));
                return;
            }
        }
    }
}

/// Identity of a hit for copy detection: same signature and same captured values.
type CopyKey = (usize, Vec<(String, String)>);

fn copy_key(h: &Hit) -> CopyKey {
    let mut c = h.captures.clone();
    c.sort();
    (h.signature, c)
}

/// Resolve every hit's time and find copies of the same record across files.
/// `snapshot_times`: fully dated times stated by snapshots (kubectl Started/Finished), with
/// their `path:line`, as a fallback source of the capture time.
pub fn resolve(
    obs: &[ClockObservations],
    paths: &[String],
    hits: &[Hit],
    opts: &ClockOptions,
    snapshot_times: &[(DateTime<Utc>, String)],
) -> Resolution {
    let clock = bundle_clock(obs, paths, opts, snapshot_times);
    let empty = ClockObservations::default();
    let mut resolvers: Vec<SourceResolver> = (0..paths.len())
        .map(|i| SourceResolver::new(obs.get(i).unwrap_or(&empty), &clock))
        .collect();
    let mut times = vec![None; hits.len()];
    let mut sources = vec![TimeSource::Unresolved; hits.len()];
    let resolve_all = |resolvers: &Vec<SourceResolver>,
                       times: &mut Vec<Option<DateTime<Utc>>>,
                       sources: &mut Vec<TimeSource>| {
        for (i, h) in hits.iter().enumerate() {
            if let Some(r) = resolvers.get(h.source) {
                let (t, s) = r.resolve(&h.stamp, h.first_line);
                times[i] = t;
                sources[i] = s;
            }
        }
    };
    resolve_all(&resolvers, &mut times, &mut sources);
    // Second trust level: a dmesg record whose copy in a timed file is resolved anchors the
    // dmesg file's boot segment (wall of the copy − seconds since boot of the original).
    let mut by_key: BTreeMap<CopyKey, Vec<usize>> = BTreeMap::new();
    for (i, h) in hits.iter().enumerate() {
        by_key.entry(copy_key(h)).or_default().push(i);
    }
    for group in by_key.values() {
        for &i in group {
            let h = &hits[i];
            let Stamp::SinceBoot(us) = h.stamp else {
                continue;
            };
            if times[i].is_some() {
                continue;
            }
            let Some(r) = resolvers.get(h.source) else {
                continue;
            };
            let seg = r.obs.segment_of(h.first_line);
            if r.sc.boots.get(seg).is_some_and(|b| b.is_some()) {
                continue;
            }
            let anchor = group.iter().find_map(|&j| {
                let other = &hits[j];
                (other.source != h.source && !matches!(sources[j], TimeSource::BootAnchored(_)))
                    .then_some(times[j])
                    .flatten()
                    .map(|t| (t, other.source))
            });
            if let Some((t, other_src)) = anchor {
                let boot = t - Duration::microseconds(us as i64);
                let name = format!(
                    "copy-in:{}",
                    paths.get(other_src).map(String::as_str).unwrap_or("?")
                );
                if let Some(r) = resolvers.get_mut(h.source) {
                    if let Some(slot) = r.sc.boots.get_mut(seg) {
                        *slot = Some((boot, name));
                    }
                }
            }
        }
    }
    for r in &mut resolvers {
        r.anchor_from_bundle();
    }
    resolve_all(&resolvers, &mut times, &mut sources);
    let copy_of = find_copies(hits, &times, &sources);
    let spans = resolvers
        .iter()
        .map(|r| {
            let end = |x: Option<(u64, Stamp)>| {
                x.and_then(|(line, s)| r.resolve(&s, line).0)
                    .map(|t| rfc3339(&t))
            };
            let unresolved = r
                .obs
                .histogram
                .iter()
                .filter(|b| r.resolve(&b.stamp, b.first_line).0.is_none())
                .map(|b| b.lines)
                .sum::<u64>();
            SourceSpan {
                first: end(r.obs.first),
                last: end(r.obs.last),
                unresolved,
            }
        })
        .collect();
    let per_source = resolvers.iter().map(|r| r.sc.clone()).collect();
    let volume = resolvers.iter().map(volume_of).collect();
    drop(resolvers);
    Resolution {
        times,
        sources,
        copy_of,
        clock,
        spans,
        per_source,
        volume,
    }
}

/// Lines per resolved minute of one source, merged and sorted.
fn volume_of(r: &SourceResolver) -> Vec<(DateTime<Utc>, u64)> {
    let mut m: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
    for b in &r.obs.histogram {
        if let (Some(t), _) = r.resolve(&b.stamp, b.first_line) {
            let minute = t
                - Duration::seconds(t.timestamp().rem_euclid(60))
                - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
            *m.entry(minute).or_insert(0) += b.lines;
        }
    }
    m.into_iter().collect()
}

/// Lower is more trusted: a time the line states beats one inferred, which beats one anchored.
fn trust_rank(s: &TimeSource) -> u8 {
    match s {
        TimeSource::Stated => 0,
        TimeSource::YearInferred => 1,
        TimeSource::ZoneAssumed => 2,
        TimeSource::BootAnchored(_) => 3,
        TimeSource::Approximate => 4,
        TimeSource::Unresolved => 5,
    }
}

/// Hits with the same identity in different sources, with times within the copy window of
/// the first one, are one event.
fn find_copies(
    hits: &[Hit],
    times: &[Option<DateTime<Utc>>],
    sources: &[TimeSource],
) -> Vec<Option<usize>> {
    let mut copy_of = vec![None; hits.len()];
    let mut by_key: BTreeMap<CopyKey, Vec<usize>> = BTreeMap::new();
    for (i, h) in hits.iter().enumerate() {
        if times[i].is_some() {
            by_key.entry(copy_key(h)).or_default().push(i);
        }
    }
    for mut group in by_key.into_values() {
        group.sort_by_key(|&i| (times[i], hits[i].source, hits[i].first_line));
        // Clusters of copies: hits within the window of the cluster's first, one per source.
        // A source's hit joins the earliest open cluster that lacks that source. Clusters only
        // gain members, so a cluster holding source S never becomes usable for S again: a
        // per-source cursor that only moves forward keeps this linear in the number of hits
        // even for bursts of identical lines.
        let mut clusters: Vec<Vec<usize>> = Vec::new();
        let mut cursor: BTreeMap<usize, usize> = BTreeMap::new();
        let mut lo = 0;
        for &i in &group {
            let Some(t) = times[i] else { continue };
            let window = if sources[i] == TimeSource::Approximate {
                APPROXIMATE_COPY_WINDOW_SECS
            } else {
                COPY_WINDOW_SECS
            };
            let src = hits[i].source;
            while lo < clusters.len()
                && times[clusters[lo][0]]
                    .is_some_and(|ft| (t - ft).num_seconds() > APPROXIMATE_COPY_WINDOW_SECS)
            {
                lo += 1;
            }
            let mut c = cursor.get(&src).copied().unwrap_or(0).max(lo);
            while c < clusters.len() && clusters[c].iter().any(|&m| hits[m].source == src) {
                c += 1;
            }
            let fits = c < clusters.len()
                && times[clusters[c][0]].is_some_and(|ft| (t - ft).num_seconds().abs() <= window);
            if fits {
                clusters[c].push(i);
            } else {
                clusters.push(vec![i]);
                c = clusters.len() - 1;
            }
            cursor.insert(src, c + 1);
        }
        // The copy whose own text states the time best is the event; the others point to it.
        for members in clusters {
            let Some(&primary) = members.iter().min_by_key(|&&i| {
                (
                    trust_rank(&sources[i]),
                    times[i],
                    hits[i].source,
                    hits[i].first_line,
                )
            }) else {
                continue;
            };
            for &m in &members {
                if m != primary {
                    copy_of[m] = Some(primary);
                }
            }
        }
    }
    copy_of
}

#[cfg(test)]
mod tests;
