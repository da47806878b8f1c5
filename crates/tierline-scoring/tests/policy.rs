//! The shipped policy file equals docs/scoring.md's defaults; bad files name the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tierline_scoring::*;

const SHIPPED: &str = include_str!("../../../deploy/policy/default.toml");

#[test]
fn the_shipped_policy_is_the_default() {
    let p = Policy::from_toml(SHIPPED).unwrap();
    assert_eq!(p, Policy::default());
    assert_eq!(p.indicators.len(), 9);
    assert_eq!(p.alerts.len(), 5);
    assert_eq!(p.bound(Tier::Key), 65.0);
}

#[test]
fn bad_policies_are_rejected_naming_the_key() {
    let cases = [
        (
            SHIPPED.replace("grace_days = 0", "grace_days = -1"),
            "grace_days",
        ),
        (
            SHIPPED.replace("KEY = 65.0", "KEY = 90.0"),
            "tiers.STRATEGIC",
        ),
        (
            SHIPPED.replace(
                "[indicators.avg_days_late]\nworst = 10.0",
                "[indicators.avg_days_late]\nworst = 0.0",
            ),
            "indicators.avg_days_late",
        ),
        (
            SHIPPED.replace("rule = \"defect_ppm\"", "rule = \"defects\""),
            "alerts[1].rule",
        ),
        (
            SHIPPED.replace("responsiveness = 0.05", ""),
            "dimensions.responsiveness",
        ),
        (
            SHIPPED.replace("cost = 0.1", "cost = -0.1"),
            "dimensions.cost",
        ),
        (
            SHIPPED.replace("min_coverage = 0.5", "min_coverage = 1.5"),
            "min_coverage",
        ),
        (
            SHIPPED
                .replace("delivery = 0.35", "delivery = 0.0")
                .replace("quality = 0.35", "quality = 0.0")
                .replace("service = 0.15", "service = 0.0")
                .replace("cost = 0.1", "cost = 0.0")
                .replace("responsiveness = 0.05", "responsiveness = 0.0"),
            "dimensions",
        ),
        (
            SHIPPED.replace(
                "warning = 5000.0\ncritical = 10000.0",
                "warning = 10000.0\ncritical = 5000.0",
            ),
            "alerts[1].critical",
        ),
        (
            SHIPPED.replace(
                "warning = 0.9\ncritical = 0.8",
                "warning = 0.8\ncritical = 0.9",
            ),
            "alerts[0].critical",
        ),
    ];
    for (text, key) in cases {
        let err = Policy::from_toml(&text).expect_err(key).to_string();
        assert!(err.contains(key), "expected `{key}` in: {err}");
    }
    let err = Policy::from_toml(&format!("{SHIPPED}\nsurprise = 1\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("surprise"), "{err}");
    let err = Policy::from_toml(&SHIPPED.replace("tier_margin = 2.5", "tier_margin = \"wide\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tier_margin"), "{err}");
}
