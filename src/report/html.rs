//! HTML output: one self-contained page (inline CSS and a small copy-button script, no network
//! resources, a restrictive Content-Security-Policy), rendered with askama from the same
//! `Report` as the JSON.
//!
//! `view` turns the report into ready-to-print strings; the templates in `templates/` hold only
//! `if`/`for`/`include`. Askama escapes every expression for HTML, and the templates never mark
//! anything safe, so log text can only ever appear as text. The one pre-rendered value is
//! `Page::body`, the output of the (itself escaping) `ReportBody` template.

pub mod format;
pub mod timeline;
pub mod view;

use super::Report;
use askama::filters::HtmlSafeOutput;
use askama::Template;

/// The page's Content-Security-Policy: nothing may load from anywhere (`default-src 'none'`);
/// inline CSS is allowed, and exactly one script runs: the copy-button script whose SHA-256
/// is given (a test recomputes it from the rendered page, so an edit to
/// `templates/partials/copy.js` that forgets this constant fails the build's tests).
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    script-src 'sha256-P20njXMTvQvX935fu7MAnlwe2JT+D8TWItD/lZ8EUWQ='; img-src data:; base-uri 'none'; form-action 'none'";

/// The document shell: head, CSP, inline style and script.
#[derive(Template)]
#[template(path = "base.html")]
struct Page<'a> {
    title: &'a str,
    csp: &'a str,
    version: &'a str,
    body: HtmlSafeOutput<String>,
}

/// The report itself (its sections are partials included by `report.html`).
#[derive(Template)]
#[template(path = "report.html")]
struct ReportBody<'a> {
    v: &'a view::ReportView,
}

pub fn render(report: &Report) -> String {
    let v = view::build(report);
    let page = ReportBody { v: &v }.render().and_then(|body| {
        Page {
            title: &v.title,
            csp: CSP,
            version: &v.version,
            body: HtmlSafeOutput(body),
        }
        .render()
    });
    match page {
        Ok(html) => html,
        // Rendering into a String fails only if a formatter does; say so in a valid page.
        Err(e) => format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>coroner</title></head>\
             <body><p>coroner could not render the HTML report: {}</p></body></html>\n",
            askama::filters::escape(e.to_string(), askama::filters::Html)
                .map(|s| s.to_string())
                .unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::timeline::{BootInput, HitInput, IncidentInput, LaneInput, TimelineInput};
    use super::*;
    use crate::model::Severity;
    use chrono::{DateTime, TimeZone, Utc};

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_795_270_000 + s, 0)
            .single()
            .expect("valid")
    }

    /// The fields the resolved timeline will fill (volume, incidents, boots) already render.
    #[test]
    fn volume_incidents_and_boots_render_when_provided() {
        let catalog = crate::signatures::Catalog::new(Vec::new()).expect("empty catalog");
        let report = crate::conclude(
            &catalog,
            crate::Collected::default(),
            &crate::timeline::ClockOptions::default(),
        );
        let mut v = view::build(&report);
        let input = TimelineInput {
            lanes: vec![
                LaneInput {
                    label: "kern.log".into(),
                    volume: (0..5_000).map(|i| (at(i % 600 + i / 50), 1)).collect(),
                },
                LaneInput {
                    label: "gateway.log".into(),
                    volume: (0..300).map(|i| (at(300 + i), 1)).collect(),
                },
            ],
            hits: vec![HitInput {
                lane: 0,
                first: at(420),
                last: at(480),
                severity: Severity::Critical,
                title: "OOM kill".into(),
                href: "#finding-1".into(),
            }],
            incidents: vec![IncidentInput {
                start: at(400),
                end: at(520),
                title: "api OOM loop".into(),
            }],
            boots: vec![BootInput {
                at: at(10),
                title: "boot".into(),
            }],
        };
        v.timeline.chart = timeline::chart(&input);
        let body = ReportBody { v: &v }.render().expect("render");
        // `CORONER_HTML_PREVIEW=file.html cargo test volume_incidents` writes the page to look at.
        if let Ok(path) = std::env::var("CORONER_HTML_PREVIEW") {
            let page = Page {
                title: "timeline preview",
                csp: CSP,
                version: "test",
                body: HtmlSafeOutput(body.clone()),
            };
            std::fs::write(path, page.render().expect("render page")).expect("write preview");
        }
        assert!(body.matches("class=\"volume\"").count() > 10);
        assert!(body.matches("class=\"volume\"").count() <= 2 * timeline::BUCKETS + 1);
        assert_eq!(body.matches("class=\"incident\"").count(), 1);
        assert_eq!(body.matches("class=\"boot\"").count(), 1);
        assert!(body.contains("events per interval"));
        assert!(body.contains("api OOM loop"));
    }
}
