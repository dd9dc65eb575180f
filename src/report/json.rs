//! JSON output: the public, versioned interface documented in README.md.

use super::Report;

/// Pretty-printed, newline-terminated, deterministic (every map is ordered).
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise report: {e}\"}}"));
    s.push('\n');
    s
}
