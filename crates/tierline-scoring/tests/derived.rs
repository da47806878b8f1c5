//! Derived plans and the credit record worked by hand (docs/scoring.md "Plans, status and
//! credit"): a CRITICAL episode implies a plan unless another on its indicator is open
//! on its start; the policy's `[rectification]` decides which rules and when they are
//! due; every credit delta with its cause.

#![allow(clippy::unwrap_used, clippy::float_cmp)]

mod common;

use std::collections::BTreeMap;

use common::{d, t};
use tierline_events::{PlanOutcome, ViolationSeverity};
use tierline_scoring::*;
use uuid::Uuid;

fn episode(n: u128, rule: &'static str, start: &str) -> CriticalEpisode<'static> {
    CriticalEpisode {
        alert_id: Uuid::from_u128(n),
        rule,
        started_on: d(start),
    }
}

fn stored(plan_id: &str, opened: &str, due: &str) -> SupplierActions {
    let mut a = SupplierActions::default();
    a.plans.insert(
        plan_id.to_owned(),
        PlanRecords {
            opened: vec![(
                (t(opened), Uuid::from_u128(99), "api:alice".into()),
                PlanFields {
                    indicator: "otif_rate".into(),
                    window_days: 30,
                    target: 0.95,
                    due_date: d(due),
                    trigger_alert_id: None,
                    owner: "P-1".into(),
                    measures: vec![],
                },
            )],
            closed: vec![],
            derived: None,
        },
    );
    a
}

#[test]
fn critical_episodes_imply_plans_unless_one_is_open_on_their_start() {
    let p = Policy::default();
    // otif_rate CRITICAL from 2026-03-05: a plan due 60 days later, target warning 0.90
    // + margin 0.02, owner unassigned, id UUIDv5 of `{alert_id}|PLAN`.
    let e1 = episode(1, "otif_rate", "2026-03-05");
    let plans = SupplierActions::default().plans(&[e1], &p);
    let id = derived_plan_id(e1.alert_id);
    let plan = &plans[&id];
    assert!(plan.derived);
    assert_eq!(
        (
            plan.opened_on,
            plan.fields.due_date,
            plan.fields.target,
            plan.fields.owner.as_str(),
            plan.fields.trigger_alert_id
        ),
        (
            d("2026-03-05"),
            d("2026-05-04"),
            0.92,
            "unassigned",
            Some(e1.alert_id)
        )
    );
    // A second episode while the first plan is open is suppressed; one after its due
    // date gets its own plan.
    let e2 = episode(2, "otif_rate", "2026-04-01");
    let e3 = episode(3, "otif_rate", "2026-05-04");
    let plans = SupplierActions::default().plans(&[e3, e2, e1], &p);
    assert_eq!(plans.len(), 2, "{:?}", plans.keys());
    assert!(plans.contains_key(&derived_plan_id(e3.alert_id)));
    // A stored plan on the indicator open on the episode's start suppresses it; one
    // on another rule's indicator does not.
    let actions = stored("MINE", "2026-03-01T09:00", "2026-04-30");
    let plans = actions.plans(&[e1], &p);
    assert_eq!(plans.keys().collect::<Vec<_>>(), vec!["MINE"]);
    let defects = episode(4, "defect_ppm", "2026-03-05");
    assert_eq!(actions.plans(&[defects], &p).len(), 2);
    // A WARNING-only rule or a rule the policy leaves out implies nothing.
    let risk = episode(5, "external_risk", "2026-03-05");
    assert!(SupplierActions::default().plans(&[risk], &p).is_empty());
}

#[test]
fn the_rectification_policy_decides_rules_and_due_days() {
    let mut p = Policy::default();
    p.rectification.due_days_by_rule = BTreeMap::from([("defect_ppm".to_owned(), 30)]);
    let e = episode(1, "defect_ppm", "2026-03-05");
    let plans = SupplierActions::default().plans(&[e], &p);
    let plan = &plans[&derived_plan_id(e.alert_id)];
    // defect_ppm: above, warning 5,000 - margin 500; due 30 days later.
    assert_eq!(
        (plan.fields.target, plan.fields.due_date),
        (4500.0, d("2026-04-04"))
    );
    p.rectification.auto_open = false;
    assert!(SupplierActions::default().plans(&[e], &p).is_empty());
    p.rectification.auto_open = true;
    p.rectification.rules = vec!["otif_rate".into()];
    assert!(SupplierActions::default().plans(&[e], &p).is_empty());
}

#[test]
fn every_credit_delta_with_its_cause() {
    let p = Policy::default();
    let ep = |n: u128, rule: &'static str, level, start: &str, end: Option<&str>, withdrawn| {
        EpisodeFact {
            alert_id: Uuid::from_u128(n),
            rule,
            level,
            started_on: d(start),
            ended_on: end.map(d),
            withdrawn,
        }
    };
    let episodes = [
        // A breach: WARNING -3, then CRITICAL while it is open -7 (-10 in all).
        ep(1, "otif_rate", Level::Warning, "2026-02-01", None, false),
        ep(2, "otif_rate", Level::Critical, "2026-02-03", None, false),
        // CRITICAL with the WARNING starting the same day: -7.
        ep(3, "defect_ppm", Level::Warning, "2026-02-05", None, false),
        ep(4, "defect_ppm", Level::Critical, "2026-02-05", None, false),
        // CRITICAL alone: -10.
        ep(
            5,
            "critical_defects",
            Level::Critical,
            "2026-02-07",
            None,
            false,
        ),
        // Retracted: listed as withdrawn, counts nothing.
        ep(
            6,
            "return_rate_ppm",
            Level::Warning,
            "2026-02-09",
            None,
            true,
        ),
        // Not a credit rule: no delta at all.
        ep(
            7,
            "external_risk",
            Level::Warning,
            "2026-02-09",
            None,
            false,
        ),
    ];
    let review = |date: &str, outcome| Review {
        date: d(date),
        outcome,
        value: None,
    };
    let reviews = [
        (
            "P-1",
            "otif_rate",
            review("2026-03-01", PlanOutcome::Verified),
        ),
        (
            "P-2",
            "defect_ppm",
            review("2026-03-02", PlanOutcome::Failed),
        ),
        (
            "P-3",
            "criterion_x",
            review("2026-03-03", PlanOutcome::Unverifiable),
        ),
    ];
    let violation = |id: &str, severity, void| ViolationFact {
        violation_id: id.into(),
        date: d("2026-03-10"),
        severity,
        regulation: "REACH".into(),
        void,
    };
    let violations = [
        violation("V-1", ViolationSeverity::Minor, false),
        violation("V-2", ViolationSeverity::Major, false),
        violation("V-3", ViolationSeverity::Critical, true),
        violation("V-4", ViolationSeverity::Unknown, false),
    ];
    let record = credit_record(&p, &episodes, &reviews, &violations);
    let got: Vec<(&str, f64, &str, bool)> = record
        .iter()
        .map(|x| (x.cause.name(), x.delta, x.reference.as_str(), x.withdrawn))
        .collect();
    let u = |n: u128| Uuid::from_u128(n).to_string();
    let (u1, u2, u3, u4, u5, u6) = (u(1), u(2), u(3), u(4), u(5), u(6));
    assert_eq!(
        got,
        vec![
            ("episode", -3.0, u1.as_str(), false),
            ("episode", -7.0, u2.as_str(), false),
            ("episode", -3.0, u3.as_str(), false),
            ("episode", -7.0, u4.as_str(), false),
            ("episode", -10.0, u5.as_str(), false),
            ("episode", -3.0, u6.as_str(), true),
            ("plan", 5.0, "P-1", false),
            ("plan", -10.0, "P-2", false),
            ("plan", 0.0, "P-3", false),
            ("violation", -2.0, "V-1", false),
            ("violation", -5.0, "V-2", false),
            ("violation", -20.0, "V-3", true),
        ]
    );
    // 100 - 3 - 7 - 3 - 7 - 10 + 5 - 10 - 2 - 5 = 58: class D.
    let score = credit_score(&record, d("2026-03-31"));
    assert_eq!((score, credit_class(score)), (58.0, "D"));
    assert_eq!(credit_score(&record, d("2026-01-31")), 100.0);
}
