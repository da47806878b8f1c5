//! The shipped policy file equals docs/scoring.md's defaults; bad files name the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tierline_scoring::*;

const SHIPPED: &str = include_str!("../../../deploy/policy/default.toml");
const V1: &str = include_str!("../../../deploy/policy/v1.toml");

#[test]
fn the_shipped_policy_is_the_default() {
    let p = Policy::from_toml(SHIPPED).unwrap();
    assert_eq!(p, Policy::default());
    assert_eq!(p.version, "scoring-v2-default");
    assert_eq!(p.indicators.len(), 9);
    assert_eq!(p.criteria.len(), 5);
    assert_eq!(p.alerts.len(), 9, "nine rules");
    assert_eq!(p.bound(Tier::Key), 65.0);
    // The v1 file (no v2 keys) still loads, as the v1 default.
    let v1 = Policy::from_toml(V1).unwrap();
    assert_eq!(v1, Policy::v1());
    assert_eq!(v1.dimension_weight(Dimension::Capability), 0.0);
    // Every indicator of the specs appears in the order of docs/scoring.md.
    let names: Vec<&str> = p.indicators_all().iter().map(|i| i.name()).collect();
    assert_eq!(
        names[9..16],
        [
            "critical_defects",
            "rnd_strength",
            "cooperation",
            "risk_resilience",
            "technical_support",
            "regional_advantage",
            "certificate_coverage"
        ]
    );
    assert_eq!(names.len(), 20);
}

#[test]
fn v2_keys_are_checked_naming_the_key() {
    let cases = [
        (SHIPPED.replace("name = \"cooperation\"", "name = \"otif_rate\""), "criteria[1].name"),
        (SHIPPED.replace("name = \"cooperation\"", "name = \"rnd_strength\""), "criteria[1].name"),
        (SHIPPED.replace("name = \"cooperation\"", "name = \"Co-op\""), "criteria[1].name"),
        (SHIPPED.replacen("validity_days = 365", "validity_days = 0", 1), "criteria[0].validity_days"),
        (SHIPPED.replace("\"QUESTIONNAIRE\"]", "\"UNKNOWN\"]"), "assessments.precedence"),
        (SHIPPED.replace("compliance_window_days = 365", "compliance_window_days = 0"), "compliance_window_days"),
        (SHIPPED.replace("MAJOR = 3.0", "MAJOR = -3.0"), "violation_points.MAJOR"),
        (SHIPPED.replace("required_certificates = []", "required_certificates = [\" \"]"), "required_certificates[0]"),
        (SHIPPED.replace("rule = \"late_promise_rate\"", "rule = \"late_promises\""), "alerts[8].rule"),
        (SHIPPED.replace("[indicators.otif_rate]", "[indicators.rnd_strength]\nworst = 0.1\ntarget = 0.2\nweight = 1.0\n\n[indicators.otif_rate]"), "indicators.rnd_strength"),
    ];
    for (text, key) in cases {
        match Policy::from_toml(&text) {
            Err(PolicyError::Invalid { key: k, problem }) => assert_eq!(k, key, "{problem}"),
            other => panic!("{key}: {other:?}"),
        }
    }
    // A rule on a criterion the policy lists is fine.
    let ok = SHIPPED.replace("rule = \"late_promise_rate\"", "rule = \"cooperation\"");
    assert!(Policy::from_toml(&ok).is_ok());
}

#[test]
fn bad_policies_are_rejected_naming_the_key() {
    let cases = [
        (
            V1.replace("grace_days = 0", "grace_days = -1"),
            "grace_days",
        ),
        (V1.replace("KEY = 65.0", "KEY = 90.0"), "tiers.STRATEGIC"),
        (
            V1.replace(
                "[indicators.avg_days_late]\nworst = 10.0",
                "[indicators.avg_days_late]\nworst = 0.0",
            ),
            "indicators.avg_days_late",
        ),
        (
            V1.replace("rule = \"defect_ppm\"", "rule = \"defects\""),
            "alerts[1].rule",
        ),
        (
            V1.replace("responsiveness = 0.05", ""),
            "dimensions.responsiveness",
        ),
        (V1.replace("cost = 0.1", "cost = -0.1"), "dimensions.cost"),
        (
            V1.replace("min_coverage = 0.5", "min_coverage = 1.5"),
            "min_coverage",
        ),
        (
            V1.replace("delivery = 0.35", "delivery = 0.0")
                .replace("quality = 0.35", "quality = 0.0")
                .replace("service = 0.15", "service = 0.0")
                .replace("cost = 0.1", "cost = 0.0")
                .replace("responsiveness = 0.05", "responsiveness = 0.0"),
            "dimensions",
        ),
        (
            V1.replace(
                "warning = 5000.0\ncritical = 10000.0",
                "warning = 10000.0\ncritical = 5000.0",
            ),
            "alerts[1].critical",
        ),
        (
            V1.replace(
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
    let err = Policy::from_toml(&format!("{V1}\nsurprise = 1\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("surprise"), "{err}");
    let err = Policy::from_toml(&V1.replace("tier_margin = 2.5", "tier_margin = \"wide\""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("tier_margin"), "{err}");
}
