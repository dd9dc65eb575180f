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
