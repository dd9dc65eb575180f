//! Golden test: the JSON report of the demo bundle, byte for byte. The report is a public
//! interface, so any change to it shows up here as a diff to review.
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test --test golden`, then review the diff
//! of `tests/golden/oom-api-node.json` by eye before committing it.

use coroner::signatures::Catalog;
use coroner::{analyze, report, AnalyzeOptions};
use std::path::Path;

#[test]
fn demo_bundle_json_report_matches_the_golden_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::load(&[]).expect("built-in catalog");
    let r = analyze(
        &AnalyzeOptions {
            paths: vec![root.join("fixtures/bundles/oom-api-node")],
            ..Default::default()
        },
        &catalog,
    );
    let got = report::json::render(&r);
    let golden = root.join("tests/golden/oom-api-node.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&golden, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&golden)
        .expect("tests/golden/oom-api-node.json (create it with UPDATE_GOLDEN=1)");
    if got != want {
        let first_diff = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "the demo bundle's JSON report differs from tests/golden/oom-api-node.json from line {}:\n  got:  {}\n  want: {}\n(if intended: UPDATE_GOLDEN=1 cargo test --test golden, then review the diff)",
            first_diff + 1,
            got.lines().nth(first_diff).unwrap_or("<end>"),
            want.lines().nth(first_diff).unwrap_or("<end>")
        );
    }
}
