//! The timeline chart's view-model: times in, SVG geometry out (as ready-to-print strings).
//!
//! Built from the resolved timeline: notable events on the lane of their source, each
//! source's line volume per minute, incident spans and boots. Everything is aggregated into `BUCKETS`
//! columns, so 100,000 events cost the same SVG size as 100.

use super::format;
use crate::model::Severity;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Columns the time axis is divided into: fine enough to separate seconds in a minute-long
/// incident, coarse enough that the SVG stays a few hundred shapes whatever the input.
pub const BUCKETS: usize = 120;
/// Span bars (first → last of one finding) drawn at most; findings beyond still get marks.
const MAX_SPANS: usize = 300;
/// Titles listed in one mark's tooltip before "and N more".
const TOOLTIP_TITLES: usize = 4;

// Geometry of the SVG (user units; the SVG scales to the page width).
const WIDTH: f64 = 1000.0;
const LABEL_W: f64 = 170.0;
const PLOT_X0: f64 = 180.0;
const PLOT_X1: f64 = 985.0;
const TOP: f64 = 10.0;
const LANE_H: f64 = 34.0;
const AXIS_H: f64 = 26.0;

/// One source's row in the chart.
#[derive(Debug, Clone, Default)]
pub struct LaneInput {
    pub label: String,
    /// Lines per resolved time in the source (minute buckets from the timeline stage), for
    /// the volume histogram.
    pub volume: Vec<(DateTime<Utc>, u64)>,
}

/// A signature hit (today: a finding's first..last) on a lane.
#[derive(Debug, Clone)]
pub struct HitInput {
    pub lane: usize,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub severity: Severity,
    pub title: String,
    /// Fragment link to the finding's card, e.g. `#finding-1`.
    pub href: String,
}

/// A span drawn across every lane (an incident; a later change provides them).
#[derive(Debug, Clone)]
pub struct IncidentInput {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub title: String,
}

/// A vertical rule across every lane (a boot; a later change provides them).
#[derive(Debug, Clone)]
pub struct BootInput {
    pub at: DateTime<Utc>,
    pub title: String,
}

#[derive(Debug, Clone, Default)]
pub struct TimelineInput {
    pub lanes: Vec<LaneInput>,
    pub hits: Vec<HitInput>,
    pub incidents: Vec<IncidentInput>,
    pub boots: Vec<BootInput>,
}

/// A rectangle (histogram bar, span, incident band).
#[derive(Debug, Clone)]
pub struct RectView {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub class: String,
    pub title: String,
}

/// A signature-hit mark, linked to its card.
#[derive(Debug, Clone)]
pub struct MarkView {
    pub cx: String,
    pub cy: String,
    pub r: String,
    pub class: String,
    pub title: String,
    pub href: String,
    /// Hit count shown beside the mark when it aggregates several.
    pub count: String,
    pub count_x: String,
    pub count_y: String,
}

#[derive(Debug, Clone)]
pub struct LaneView {
    pub label: String,
    pub title: String,
    pub label_y: String,
    /// The lane's background band.
    pub band: RectView,
    pub volume: Vec<RectView>,
    pub spans: Vec<RectView>,
    pub marks: Vec<MarkView>,
}

#[derive(Debug, Clone)]
pub struct TickView {
    pub x: String,
    pub y1: String,
    pub y2: String,
    pub label_y: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct LegendItem {
    pub class: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct ChartView {
    pub view_box: String,
    pub width: String,
    pub height: String,
    pub label_w: String,
    pub aria_label: String,
    pub lanes: Vec<LaneView>,
    pub ticks: Vec<TickView>,
    pub incidents: Vec<RectView>,
    pub boots: Vec<TickView>,
    pub legend: Vec<LegendItem>,
}

/// Axis steps (milliseconds) tried in order; the first giving at most `MAX_TICKS` ticks wins.
const TICK_STEPS_MS: &[i64] = &[
    1,
    2,
    5,
    10,
    20,
    50,
    100,
    200,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    21_600_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    2_592_000_000,
    7_776_000_000,
    31_536_000_000,
];
const MAX_TICKS: i64 = 8;

fn num(v: f64) -> String {
    // One decimal is sub-pixel at any plausible width; fixed precision keeps output stable.
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "sev-critical",
        Severity::Warning => "sev-warning",
        Severity::Info => "sev-info",
    }
}

struct Scale {
    start: DateTime<Utc>,
    ms: i64,
}

impl Scale {
    fn x(&self, t: &DateTime<Utc>) -> f64 {
        let off = (*t - self.start).num_milliseconds().clamp(0, self.ms) as f64;
        PLOT_X0 + off / self.ms as f64 * (PLOT_X1 - PLOT_X0)
    }
    fn bucket(&self, t: &DateTime<Utc>) -> usize {
        let off = (*t - self.start).num_milliseconds().clamp(0, self.ms) as f64;
        ((off / self.ms as f64 * BUCKETS as f64) as usize).min(BUCKETS - 1)
    }
    fn bucket_start(&self, b: usize) -> DateTime<Utc> {
        self.start + Duration::milliseconds(self.ms * b as i64 / BUCKETS as i64)
    }
    fn bucket_x(&self, b: usize) -> f64 {
        PLOT_X0 + b as f64 / BUCKETS as f64 * (PLOT_X1 - PLOT_X0)
    }
}

/// The range every time falls in, or `None` when nothing has a resolved time.
pub fn span(input: &TimelineInput) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let times = input
        .lanes
        .iter()
        .flat_map(|l| l.volume.iter().map(|v| v.0))
        .chain(input.hits.iter().flat_map(|h| [h.first, h.last]))
        .chain(input.incidents.iter().flat_map(|i| [i.start, i.end]))
        .chain(input.boots.iter().map(|b| b.at));
    let mut range: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for t in times {
        range = Some(match range {
            None => (t, t),
            Some((a, b)) => (a.min(t), b.max(t)),
        });
    }
    range
}

/// The chart, or `None` when there is no resolved time to place anything on.
pub fn chart(input: &TimelineInput) -> Option<ChartView> {
    let (lo, hi) = span(input)?;
    // Pad the ends so marks at the extremes are not cut, and give an instant a visible width.
    let raw_ms = (hi - lo).num_milliseconds().max(0);
    let pad_ms = if raw_ms == 0 { 30_000 } else { raw_ms / 25 + 1 };
    let scale = Scale {
        start: lo - Duration::milliseconds(pad_ms),
        ms: raw_ms + 2 * pad_ms,
    };
    let lanes_n = input.lanes.len().max(1);
    let plot_h = lanes_n as f64 * LANE_H;
    let height = TOP + plot_h + AXIS_H;
    let axis_y = TOP + plot_h;

    let mut lanes: Vec<LaneView> = input
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| lane_view(i, l, &scale))
        .collect();

    // Marks: one per (lane, bucket), with the worst severity and the hits' titles.
    let mut groups: BTreeMap<(usize, usize), Vec<&HitInput>> = BTreeMap::new();
    for h in &input.hits {
        groups
            .entry((h.lane, scale.bucket(&h.first)))
            .or_default()
            .push(h);
    }
    for ((lane, _), hits) in &groups {
        let Some(view) = lanes.get_mut(*lane) else {
            continue;
        };
        let Some(worst) = hits.iter().max_by_key(|h| h.severity) else {
            continue;
        };
        let first = hits.iter().map(|h| h.first).min().unwrap_or(worst.first);
        let cy = TOP + *lane as f64 * LANE_H + LANE_H / 2.0;
        let cx = scale.x(&first);
        let mut titles: Vec<String> = hits
            .iter()
            .take(TOOLTIP_TITLES)
            .map(|h| h.title.clone())
            .collect();
        if hits.len() > TOOLTIP_TITLES {
            titles.push(format!("and {} more", hits.len() - TOOLTIP_TITLES));
        }
        view.marks.push(MarkView {
            cx: num(cx),
            cy: num(cy),
            r: if hits.len() > 1 { "7" } else { "6" }.to_string(),
            class: format!("mark {}", severity_class(worst.severity)),
            title: format!("{}\n{}", format::instant(&first), titles.join("\n")),
            href: worst.href.clone(),
            count: if hits.len() > 1 {
                format::thousands_u64(hits.len() as u64)
            } else {
                String::new()
            },
            count_x: num(cx + 10.0),
            count_y: num(cy - 7.0),
        });
    }
    for h in input
        .hits
        .iter()
        .filter(|h| h.last > h.first)
        .take(MAX_SPANS)
    {
        let Some(view) = lanes.get_mut(h.lane) else {
            continue;
        };
        let (x0, x1) = (scale.x(&h.first), scale.x(&h.last));
        let y = TOP + h.lane as f64 * LANE_H + LANE_H / 2.0 - 2.0;
        view.spans.push(RectView {
            x: num(x0),
            y: num(y),
            w: num((x1 - x0).max(1.0)),
            h: "4".to_string(),
            class: format!("span {}", severity_class(h.severity)),
            title: format!(
                "{}\n{} → {} ({})",
                h.title,
                format::instant(&h.first),
                format::instant(&h.last),
                format::duration_ms((h.last - h.first).num_milliseconds())
            ),
        });
    }

    let incidents = input
        .incidents
        .iter()
        .map(|inc| {
            let (x0, x1) = (scale.x(&inc.start), scale.x(&inc.end));
            RectView {
                x: num(x0),
                y: num(TOP),
                w: num((x1 - x0).max(2.0)),
                h: num(plot_h),
                class: "incident".to_string(),
                title: format!(
                    "{}\n{} → {}",
                    inc.title,
                    format::instant(&inc.start),
                    format::instant(&inc.end)
                ),
            }
        })
        .collect();
    let boots = input
        .boots
        .iter()
        .map(|b| TickView {
            x: num(scale.x(&b.at)),
            y1: num(TOP),
            y2: num(axis_y),
            label_y: num(TOP + 10.0),
            label: format!("{} {}", b.title, format::instant(&b.at)),
        })
        .collect();

    let mut legend = Vec::new();
    for sev in [Severity::Critical, Severity::Warning, Severity::Info] {
        if input.hits.iter().any(|h| h.severity == sev) {
            legend.push(LegendItem {
                class: format!("mark {}", severity_class(sev)),
                label: format!("{sev} finding"),
            });
        }
    }
    if input.lanes.iter().any(|l| !l.volume.is_empty()) {
        legend.push(LegendItem {
            class: "volume".into(),
            label: "events per interval".into(),
        });
    }
    if !input.incidents.is_empty() {
        legend.push(LegendItem {
            class: "incident".into(),
            label: "incident".into(),
        });
    }
    if !input.boots.is_empty() {
        legend.push(LegendItem {
            class: "boot".into(),
            label: "boot".into(),
        });
    }

    Some(ChartView {
        view_box: format!("0 0 {} {}", num(WIDTH), num(height)),
        width: num(WIDTH),
        height: num(height),
        label_w: num(LABEL_W),
        aria_label: format!(
            "Timeline from {} to {}: {} finding mark(s) on {} source(s)",
            format::instant(&lo),
            format::instant(&hi),
            format::thousands_u64(input.hits.len() as u64),
            lanes_n
        ),
        lanes,
        ticks: ticks(&scale, axis_y),
        incidents,
        boots,
        legend,
    })
}

fn lane_view(i: usize, lane: &LaneInput, scale: &Scale) -> LaneView {
    let y0 = TOP + i as f64 * LANE_H;
    let (label, _) = format::clip(&lane.label, 20);
    let label = if label.len() < lane.label.len() {
        format!("{label}…")
    } else {
        label
    };
    let mut counts = [0u64; BUCKETS];
    for (t, n) in &lane.volume {
        if let Some(c) = counts.get_mut(scale.bucket(t)) {
            *c += n;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    let bucket_w = (PLOT_X1 - PLOT_X0) / BUCKETS as f64;
    let volume = if max == 0 {
        Vec::new()
    } else {
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(b, c)| {
                // At least 2 units tall so a single event is visible next to a burst.
                let h = (*c as f64 / max as f64 * (LANE_H - 8.0)).max(2.0);
                let from = scale.bucket_start(b);
                let to = scale.bucket_start(b + 1);
                RectView {
                    x: num(scale.bucket_x(b)),
                    y: num(y0 + LANE_H - 4.0 - h),
                    w: num((bucket_w - 0.6).max(0.5)),
                    h: num(h),
                    class: "volume".to_string(),
                    title: format!(
                        "{} event(s), {} → {}",
                        format::thousands_u64(*c),
                        format::instant(&from),
                        format::instant(&to)
                    ),
                }
            })
            .collect()
    };
    LaneView {
        label,
        title: lane.label.clone(),
        label_y: num(y0 + LANE_H / 2.0 + 4.0),
        band: RectView {
            x: num(PLOT_X0),
            y: num(y0 + 2.0),
            w: num(PLOT_X1 - PLOT_X0),
            h: num(LANE_H - 4.0),
            class: if i.is_multiple_of(2) {
                "band"
            } else {
                "band alt"
            }
            .to_string(),
            title: lane.label.clone(),
        },
        volume,
        spans: Vec::new(),
        marks: Vec::new(),
    }
}

fn ticks(scale: &Scale, axis_y: f64) -> Vec<TickView> {
    let span_ms = scale.ms.max(1);
    let step = TICK_STEPS_MS
        .iter()
        .copied()
        .find(|s| span_ms / s <= MAX_TICKS)
        // Spans of decades (a clock reset in the bundle): no round step, but still few ticks.
        .unwrap_or(span_ms / MAX_TICKS + 1);
    // First multiple of the step at or after the start (UTC-aligned, so labels are round).
    let start_ms = scale.start.timestamp_millis();
    let mut t = start_ms + (step - start_ms.rem_euclid(step)) % step;
    let end_ms = start_ms + scale.ms;
    let mut out = Vec::new();
    while t <= end_ms && out.len() <= MAX_TICKS as usize {
        let Some(at) = DateTime::<Utc>::from_timestamp_millis(t) else {
            break;
        };
        out.push(TickView {
            x: num(scale.x(&at)),
            y1: num(TOP),
            y2: num(axis_y + 4.0),
            label_y: num(axis_y + 18.0),
            label: format::axis_label(&at, span_ms, step),
        });
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_795_270_000_000 + ms)
            .single()
            .expect("valid")
    }

    fn hit(lane: usize, ms: i64, sev: Severity) -> HitInput {
        HitInput {
            lane,
            first: at(ms),
            last: at(ms),
            severity: sev,
            title: format!("hit at {ms}"),
            href: "#finding-1".into(),
        }
    }

    #[test]
    fn no_times_no_chart() {
        let input = TimelineInput {
            lanes: vec![LaneInput {
                label: "kern.log".into(),
                volume: Vec::new(),
            }],
            ..Default::default()
        };
        assert!(chart(&input).is_none());
    }

    #[test]
    fn marks_are_placed_in_time_order_and_linked() {
        let input = TimelineInput {
            lanes: vec![
                LaneInput {
                    label: "a.log".into(),
                    volume: Vec::new(),
                },
                LaneInput {
                    label: "b.log".into(),
                    volume: Vec::new(),
                },
            ],
            hits: vec![
                hit(0, 0, Severity::Warning),
                hit(1, 60_000, Severity::Critical),
            ],
            ..Default::default()
        };
        let c = chart(&input).expect("chart");
        let x0: f64 = c.lanes[0].marks[0].cx.parse().expect("num");
        let x1: f64 = c.lanes[1].marks[0].cx.parse().expect("num");
        assert!(PLOT_X0 < x0 && x0 < x1 && x1 < PLOT_X1);
        assert_eq!(c.lanes[1].marks[0].class, "mark sev-critical");
        assert_eq!(c.lanes[1].marks[0].href, "#finding-1");
        assert!(!c.ticks.is_empty() && c.ticks.len() <= MAX_TICKS as usize + 2);
        assert_eq!(c.legend.len(), 2);
    }

    #[test]
    fn a_hundred_thousand_events_stay_bucketed() {
        let volume: Vec<(DateTime<Utc>, u64)> = (0..100_000).map(|i| (at(i * 37), 1)).collect();
        let hits: Vec<HitInput> = (0..100_000)
            .map(|i| hit(0, i * 37, Severity::Warning))
            .collect();
        let input = TimelineInput {
            lanes: vec![LaneInput {
                label: "big.log".into(),
                volume,
            }],
            hits,
            ..Default::default()
        };
        let c = chart(&input).expect("chart");
        assert!(c.lanes[0].volume.len() <= BUCKETS);
        assert!(c.lanes[0].marks.len() <= BUCKETS);
        assert!(c.lanes[0].spans.len() <= MAX_SPANS);
        let total: u64 = c.lanes[0]
            .volume
            .iter()
            .map(|r| {
                r.title
                    .split(' ')
                    .next()
                    .unwrap_or("0")
                    .replace(',', "")
                    .parse::<u64>()
                    .expect("count")
            })
            .sum();
        assert_eq!(total, 100_000, "every event is counted in some bucket");
    }

    #[test]
    fn ticks_stay_few_over_any_span() {
        for span_ms in [
            10,
            1_000,
            59_000,
            3_600_000,
            86_400_000 * 40,
            86_400_000 * 365 * 30,
        ] {
            let input = TimelineInput {
                lanes: vec![LaneInput {
                    label: "a.log".into(),
                    volume: Vec::new(),
                }],
                hits: vec![hit(0, 0, Severity::Info), hit(0, span_ms, Severity::Info)],
                ..Default::default()
            };
            let c = chart(&input).expect("chart");
            assert!(
                (2..=MAX_TICKS as usize + 1).contains(&c.ticks.len()),
                "{span_ms} ms: {} ticks",
                c.ticks.len()
            );
        }
    }

    #[test]
    fn one_instant_gets_a_visible_span() {
        let input = TimelineInput {
            lanes: vec![LaneInput {
                label: "a.log".into(),
                volume: Vec::new(),
            }],
            hits: vec![hit(0, 0, Severity::Info)],
            ..Default::default()
        };
        let c = chart(&input).expect("chart");
        let x: f64 = c.lanes[0].marks[0].cx.parse().expect("num");
        assert!((x - (PLOT_X0 + PLOT_X1) / 2.0).abs() < 1.0);
    }
}
