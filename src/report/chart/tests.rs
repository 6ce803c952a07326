//! Tests of the charts on synthetic analyses; `dump_for_review` (ignored) writes them all to
//! /tmp/charts/ for people to look at.

use super::fixtures;
use super::*;

/// Every fixture, by name.
fn all_fixtures() -> Vec<(&'static str, Analysis)> {
    vec![
        ("study", fixtures::study()),
        ("single", fixtures::single()),
        ("sweep", fixtures::sweep()),
        ("many", fixtures::many()),
        ("odd", fixtures::odd()),
    ]
}

#[test]
#[ignore = "writes PNGs to /tmp/charts for review"]
fn dump_for_review() {
    for (name, a) in all_fixtures() {
        let dir = Path::new("/tmp/charts").join(name);
        let written = write_charts(&dir, &a).expect("charts");
        assert!(!written.is_empty());
    }
}
