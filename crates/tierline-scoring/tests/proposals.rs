//! Status proposals worked by hand (docs/scoring.md "Plans, status and credit"): each
//! opens on the first day its condition holds while the status is less severe than
//! SUSPENDED, and closes on the first day either fails.

#![allow(clippy::unwrap_used)]

use tierline_events::{Date, SupplierStatus, Timestamp};
use tierline_scoring::{
    AT_RISK_60, Decision, FAILED_PLANS_2, Level, StatusLine, Tier, TierDay, alert_id, proposals,
};
use uuid::Uuid;

fn d(n: i32) -> Date {
    Date(20_000 + n)
}

fn tiers(runs: &[(Tier, i32)]) -> Vec<TierDay> {
    let mut out = Vec::new();
    for (tier, n) in runs {
        for _ in 0..*n {
            out.push(TierDay {
                date: d(out.len() as i32),
                score: None,
                tier: *tier,
            });
        }
    }
    out
}

fn decided(day: i32, status: SupplierStatus) -> Decision {
    Decision {
        occurred_at: Timestamp(i64::from(d(day).0) * 86_400_000 + 3_600_000),
        event_id: Uuid::from_u128(day as u128),
        source: "api:root".into(),
        status,
        reason: "r".into(),
        valid_until: None,
    }
}

fn line(decisions: Vec<Decision>) -> StatusLine {
    StatusLine::new(decisions, |t| Date(t.0.div_euclid(86_400_000) as i32))
}

#[test]
fn at_risk_60_opens_on_the_sixtieth_day_and_closes_when_suspended() {
    // Days 0..9 RESERVE, then AT_RISK from day 10: the 60th AT_RISK day is day 69.
    let walk = tiers(&[(Tier::Reserve, 10), (Tier::AtRisk, 80)]);
    let eps = proposals("S", &walk, &line(vec![]), &[], d(89));
    assert_eq!(eps.len(), 1, "{eps:?}");
    let e = &eps[0];
    assert_eq!(
        (
            e.rule.as_str(),
            e.level,
            e.started_on,
            e.value_at_start,
            e.threshold,
            e.window_days
        ),
        (AT_RISK_60, Level::Warning, d(69), 60.0, 60.0, 60)
    );
    assert_eq!(e.alert_id, alert_id("S", AT_RISK_60, Level::Warning, d(69)));
    assert_eq!(e.ended_on, None, "still AT_RISK and approved");
    // Suspended on day 75: the status is no longer less severe, the proposal closes
    // that day (value 66, the run's length then).
    let eps = proposals(
        "S",
        &walk,
        &line(vec![decided(75, SupplierStatus::Suspended)]),
        &[],
        d(89),
    );
    assert_eq!(
        (eps[0].ended_on, eps[0].value_at_end),
        (Some(d(75)), Some(66.0))
    );
    // CONDITIONAL is less severe than SUSPENDED: no effect.
    let eps = proposals(
        "S",
        &walk,
        &line(vec![decided(75, SupplierStatus::Conditional)]),
        &[],
        d(89),
    );
    assert_eq!(eps[0].ended_on, None);
    // 59 days of AT_RISK then KEY: nothing.
    let short = tiers(&[(Tier::AtRisk, 59), (Tier::Key, 30)]);
    assert!(proposals("S", &short, &line(vec![]), &[], d(88)).is_empty());
}

#[test]
fn failed_plans_2_counts_reviews_of_the_last_365_days() {
    let walk = tiers(&[(Tier::Key, 500)]);
    // FAILED reviews on days 10 and 100: open on day 100 (count 2), closed on day 375
    // when day 10 leaves the 365 days (count 1).
    let eps = proposals("S", &walk, &line(vec![]), &[d(100), d(10)], d(499));
    assert_eq!(eps.len(), 1, "{eps:?}");
    let e = &eps[0];
    assert_eq!(
        (
            e.rule.as_str(),
            e.started_on,
            e.value_at_start,
            e.threshold,
            e.window_days
        ),
        (FAILED_PLANS_2, d(100), 2.0, 2.0, 365)
    );
    assert_eq!((e.ended_on, e.value_at_end), (Some(d(375)), Some(1.0)));
    // One FAILED plan proposes nothing; a blacklisted supplier is never proposed.
    assert!(proposals("S", &walk, &line(vec![]), &[d(100)], d(499)).is_empty());
    let black = line(vec![decided(0, SupplierStatus::Blacklisted)]);
    assert!(proposals("S", &walk, &black, &[d(10), d(100)], d(499)).is_empty());
}
