//! Number, size and time formatting for the HTML report. Templates print these strings as
//! they are; every unit and separator is decided here.

use chrono::{DateTime, Utc};

pub use crate::signatures::template::{thousands, thousands_u64};

const KIB: f64 = 1024.0;

/// A size in KiB as the unit a reader thinks in: `1003412` → `980 MiB`, `1048576` → `1 GiB`.
/// One decimal below 10 of a unit, none above (980 MiB, 1.5 GiB), so it matches the
/// summaries' `{x|mib}` rounding closely enough to read both side by side.
pub fn size_kib(kib: i64) -> String {
    let sign = if kib < 0 { "-" } else { "" };
    let k = kib.unsigned_abs() as f64;
    let (value, unit) = if k >= KIB * KIB {
        (k / (KIB * KIB), "GiB")
    } else if k >= KIB {
        (k / KIB, "MiB")
    } else {
        return format!("{sign}{} KiB", thousands(kib.abs()));
    };
    let shown = if value < 10.0 && value.fract() >= 0.05 && value.fract() < 0.95 {
        format!("{value:.1}")
    } else {
        thousands(value.round() as i64)
    };
    format!("{sign}{shown} {unit}")
}

/// A size in bytes, via KiB.
pub fn size_bytes(bytes: i64) -> String {
    if bytes.abs() < 1024 {
        return format!("{} B", bytes);
    }
    size_kib(bytes / 1024)
}

/// `part / whole` as a percentage with no decimals (one below 10 %), or `None` for a zero whole.
pub fn percent(part: i64, whole: i64) -> Option<String> {
    if whole <= 0 {
        return None;
    }
    let p = part as f64 * 100.0 / whole as f64;
    Some(if p < 10.0 && p.fract() != 0.0 {
        format!("{p:.1} %")
    } else {
        format!("{} %", p.round() as i64)
    })
}

/// The report's one display form of an instant: `2026-11-21 14:23:07.102 UTC`.
pub fn instant(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
    }
}

/// A compact axis label: the date only when the span covers more than a day, seconds only
/// when ticks are less than a minute apart, milliseconds only when they are under a second.
pub fn axis_label(t: &DateTime<Utc>, span_ms: i64, step_ms: i64) -> String {
    if span_ms > 86_400_000 {
        t.format("%m-%d %H:%M").to_string()
    } else if step_ms < 1_000 && t.timestamp_subsec_millis() != 0 {
        t.format("%H:%M:%S%.3f").to_string()
    } else if step_ms < 60_000 || t.timestamp() % 60 != 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

/// A duration in words for spans: `2.4 s`, `3 min 12 s`, `5 h 2 min`, `3 d 4 h`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        let s = ms as f64 / 1000.0;
        return if s < 10.0 {
            format!("{s:.1} s")
        } else {
            format!("{} s", s.round() as i64)
        };
    }
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {sec} s")
    }
}

/// Cut text to at most `max` characters (on a char boundary), saying how much was left out.
pub fn clip(text: &str, max: usize) -> (String, Option<String>) {
    match text.char_indices().nth(max) {
        None => (text.to_string(), None),
        Some((cut, _)) => {
            let rest = text.len() - cut;
            (
                text[..cut].to_string(),
                Some(format!("… {} more bytes", thousands_u64(rest as u64))),
            )
        }
    }
}

/// A field name as words: `anon_rss_kb` → `anon rss`, `oom_score_adj` → `oom score adj`.
pub fn field_label(name: &str) -> String {
    let base = name
        .strip_suffix("_kb")
        .or_else(|| name.strip_suffix("_bytes"))
        .unwrap_or(name);
    base.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(28232), "28,232");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(thousands_u64(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn sizes_in_the_unit_a_reader_thinks_in() {
        assert_eq!(size_kib(1003412), "980 MiB");
        assert_eq!(size_kib(1048576), "1 GiB");
        assert_eq!(size_kib(1572864), "1.5 GiB");
        assert_eq!(size_kib(31352), "31 MiB");
        assert_eq!(size_kib(512), "512 KiB");
        assert_eq!(size_kib(0), "0 KiB");
        assert!(size_kib(i64::MIN).starts_with('-'));
        assert_eq!(size_bytes(1027485696), "980 MiB");
        assert_eq!(size_bytes(100), "100 B");
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(1003412, 1048576).as_deref(), Some("96 %"));
        assert_eq!(percent(27900, 28232).as_deref(), Some("99 %"));
        assert_eq!(percent(31352, 1048576).as_deref(), Some("3.0 %"));
        assert_eq!(percent(1, 0), None);
    }

    #[test]
    fn instants_and_durations() {
        let t = Utc
            .timestamp_millis_opt(1795270987102)
            .single()
            .expect("valid");
        assert_eq!(instant(&t), "2026-11-21 14:23:07.102 UTC");
        assert_eq!(axis_label(&t, 30_000, 5_000), "14:23:07");
        assert_eq!(axis_label(&t, 900, 100), "14:23:07.102");
        let whole = Utc.timestamp_opt(1795270980, 0).single().expect("valid");
        assert_eq!(axis_label(&whole, 900, 100), "14:23:00");
        assert_eq!(axis_label(&whole, 3_600_000, 600_000), "14:23");
        assert_eq!(
            axis_label(&t, 3_600_000, 600_000),
            "14:23:07",
            "off-step: seconds"
        );
        assert_eq!(axis_label(&t, 200_000_000, 86_400_000), "11-21 14:23");
        assert_eq!(duration_ms(209), "209 ms");
        assert_eq!(duration_ms(2415), "2.4 s");
        assert_eq!(duration_ms(192_000), "3 min 12 s");
        assert_eq!(duration_ms(90_061_000), "1 d 1 h");
    }

    #[test]
    fn clipping_respects_char_boundaries() {
        assert_eq!(clip("abc", 5), ("abc".to_string(), None));
        let (kept, more) = clip("ééé", 2);
        assert_eq!(kept, "éé");
        assert_eq!(more.as_deref(), Some("… 2 more bytes"));
    }

    #[test]
    fn labels() {
        assert_eq!(field_label("anon_rss_kb"), "anon rss");
        assert_eq!(field_label("pid"), "pid");
    }
}
