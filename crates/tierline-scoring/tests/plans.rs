//! Hand-worked rectification plans (docs/scoring.md "Plans, status and credit"): met, missed,
//! insufficient, completed early, withdrawn before the due date, an amended target, an
//! amendment after the due date ignored, a plan withdrawn and never reviewed, a derived
//! plan that opens on its episode's start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::{d, t};
use tierline_events::{Date, PlanCloseReason, PlanOutcome};
use tierline_scoring::*;

fn fields(target: f64, due: &str) -> PlanFields {
    PlanFields {
        indicator: "otif_rate".into(),
        window_days: 30,
        target,
        due_date: d(due),
        trigger_alert_id: None,
        owner: "P-1".into(),
        measures: vec![],
    }
}

fn key(at: &str, n: u128) -> OrderingKey {
    (t(at), uuid::Uuid::from_u128(n), "api:alice".into())
}

fn day_of(ts: tierline_events::Timestamp) -> Date {
    Policy::default().day_of(ts)
}

fn plan(records: PlanRecords) -> Plan {
    records.plan(day_of).unwrap()
}

#[test]
fn met_missed_and_insufficient_on_the_due_date() {
    let p = Policy::default();
    let plan = plan(PlanRecords {
        opened: vec![(key("2026-03-01", 1), fields(0.92, "2026-04-30"))],
        ..PlanRecords::default()
    });
    assert_eq!(plan.opened_on, d("2026-03-01"));
    assert_eq!(plan.review_date(), Some(d("2026-04-30")));
    assert_eq!(
        plan.state_on(d("2026-02-28"), &p, || None),
        PlanState::NotYet
    );
    assert_eq!(
        plan.state_on(d("2026-04-29"), &p, || unreachable!()),
        PlanState::Open
    );
    // otif_rate: higher is better, the target itself meets it.
    assert_eq!(
        plan.state_on(d("2026-04-30"), &p, || Some(0.92)),
        PlanState::Reviewed(PlanOutcome::Verified, Some(0.92))
    );
    assert_eq!(
        plan.state_on(d("2026-05-10"), &p, || Some(0.9199)),
        PlanState::Reviewed(PlanOutcome::Failed, Some(0.9199))
    );
    assert_eq!(
        plan.state_on(d("2026-04-30"), &p, || None),
        PlanState::Reviewed(PlanOutcome::Unverifiable, None)
    );
    // Lower is better for defect_ppm; an indicator the policy does not define is
    // UNVERIFIABLE whatever the value.
    let mut ppm = plan.clone();
    ppm.fields.indicator = "defect_ppm".into();
    ppm.fields.target = 4500.0;
    assert_eq!(ppm.verdict(&p, Some(4500.0)), PlanOutcome::Verified);
    assert_eq!(ppm.verdict(&p, Some(4500.5)), PlanOutcome::Failed);
    ppm.fields.indicator = "made_up".into();
    assert_eq!(ppm.verdict(&p, Some(1.0)), PlanOutcome::Unverifiable);
}

#[test]
fn completed_early_withdrawn_amended_and_late_amendments() {
    let p = Policy::default();
    // Completed early: the review moves to the closing's date.
    let completed = plan(PlanRecords {
        opened: vec![(key("2026-03-01", 1), fields(0.92, "2026-04-30"))],
        closed: vec![(key("2026-04-10", 2), PlanCloseReason::Completed)],
        ..PlanRecords::default()
    });
    assert_eq!(completed.review_date(), Some(d("2026-04-10")));
    assert_eq!(
        completed.state_on(d("2026-04-10"), &p, || Some(0.95)),
        PlanState::Reviewed(PlanOutcome::Verified, Some(0.95))
    );
    // Withdrawn before the due date: closed from that day, never reviewed.
    let withdrawn = plan(PlanRecords {
        opened: vec![(key("2026-03-01", 1), fields(0.92, "2026-04-30"))],
        closed: vec![
            (key("2026-03-20", 3), PlanCloseReason::Withdrawn),
            (key("2026-03-25", 4), PlanCloseReason::Completed),
        ],
        ..PlanRecords::default()
    });
    assert_eq!(withdrawn.review_date(), None, "the earliest closing counts");
    assert_eq!(
        withdrawn.state_on(d("2026-03-19"), &p, || None),
        PlanState::Open
    );
    assert_eq!(
        withdrawn.state_on(d("2026-06-01"), &p, || unreachable!("never reviewed")),
        PlanState::Closed(PlanCloseReason::Withdrawn)
    );
    // A closing after the due date does not count; one of reason UNKNOWN is ignored.
    let late_close = plan(PlanRecords {
        opened: vec![(key("2026-03-01", 1), fields(0.92, "2026-04-30"))],
        closed: vec![
            (key("2026-03-10", 5), PlanCloseReason::Unknown),
            (key("2026-05-02", 6), PlanCloseReason::Withdrawn),
        ],
        ..PlanRecords::default()
    });
    assert_eq!(late_close.closed, None);
    assert_eq!(late_close.review_date(), Some(d("2026-04-30")));
    // An amended target and due date count; an amendment dated after the due date as it
    // stood is ignored (and every field comes from the amendment in force).
    let amended = plan(PlanRecords {
        opened: vec![
            (key("2026-05-20", 9), fields(0.80, "2026-09-30")),
            (key("2026-03-01", 1), fields(0.92, "2026-04-30")),
            (key("2026-04-15", 7), fields(0.90, "2026-05-15")),
        ],
        ..PlanRecords::default()
    });
    assert_eq!(amended.fields.target, 0.90);
    assert_eq!(
        amended.fields.due_date,
        d("2026-05-15"),
        "the 05-20 amendment came after it"
    );
    assert_eq!(amended.opened_on, d("2026-03-01"));
}

#[test]
fn a_derived_plan_opens_on_its_episode_start_and_takes_amendments() {
    let p = Policy::default();
    let derived = plan(PlanRecords {
        derived: Some((d("2026-03-05"), fields(0.92, "2026-05-04"))),
        // A stored Opened dated before the episode amends it; the opening stays.
        opened: vec![(key("2026-03-01", 1), fields(0.95, "2026-05-10"))],
        closed: vec![],
    });
    assert!(derived.derived);
    assert_eq!(derived.opened_on, d("2026-03-05"));
    assert_eq!(
        (derived.fields.target, derived.fields.due_date),
        (0.95, d("2026-05-10"))
    );
    assert_eq!(
        derived.state_on(d("2026-05-10"), &p, || Some(0.93)),
        PlanState::Reviewed(PlanOutcome::Failed, Some(0.93))
    );
    // No opening at all: no plan.
    assert!(PlanRecords::default().plan(day_of).is_none());
}

#[test]
fn credit_adds_a_year_of_deltas_and_clamps() {
    use tierline_events::ViolationSeverity;
    assert_eq!(episode_delta(Level::Warning, false), -3.0);
    assert_eq!(episode_delta(Level::Critical, false), -10.0);
    assert_eq!(
        episode_delta(Level::Critical, true),
        -7.0,
        "a breach costs -10 in all"
    );
    assert_eq!(
        (
            plan_delta(PlanOutcome::Verified),
            plan_delta(PlanOutcome::Failed),
            plan_delta(PlanOutcome::Unverifiable)
        ),
        (5.0, -10.0, 0.0)
    );
    assert_eq!(violation_delta(ViolationSeverity::Critical), Some(-20.0));
    assert_eq!(violation_delta(ViolationSeverity::Unknown), None);
    let deltas = [
        (d("2026-01-10"), -3.0),
        (d("2026-01-10"), -7.0),
        (d("2026-03-01"), 5.0),
        (d("2026-04-01"), -20.0),
    ];
    assert_eq!(credit_on(&deltas, d("2026-01-09")), 100.0);
    assert_eq!(credit_on(&deltas, d("2026-01-10")), 90.0);
    assert_eq!(credit_on(&deltas, d("2026-03-01")), 95.0);
    assert_eq!(credit_on(&deltas, d("2026-04-01")), 75.0);
    // The January deltas leave the 365-day window on 2027-01-10.
    assert_eq!(credit_on(&deltas, d("2027-01-09")), 75.0);
    assert_eq!(credit_on(&deltas, d("2027-01-10")), 85.0);
    // A credit never exceeds 100 nor falls below 0.
    assert_eq!(credit_on(&[(d("2026-01-01"), 5.0)], d("2026-01-01")), 100.0);
    assert_eq!(
        credit_on(&[(d("2026-01-01"), -20.0); 6], d("2026-01-01")),
        0.0
    );
    assert_eq!(
        [
            credit_class(90.0),
            credit_class(89.9),
            credit_class(75.0),
            credit_class(60.0),
            credit_class(59.9)
        ],
        ["A", "B", "B", "C", "D"]
    );
}
