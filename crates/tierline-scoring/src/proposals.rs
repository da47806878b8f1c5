//! Status proposals (docs/scoring.md "Plans, status and credit"): two-state machines per
//! (supplier, rule), walked like alerts, each proposing SUSPENDED. `at_risk_60`: the
//! tier was AT_RISK on each of the last 60 days; `failed_plans_2`: at least two plans
//! FAILED with their review date in the last 365 days. Open while the condition holds
//! and the status is less severe than SUSPENDED. Pure.

use tierline_events::{Date, SupplierStatus};

use crate::status::StatusLine;
use crate::tier::Tier;
use crate::walk::{Episode, Level, TierDay, alert_id};

/// The rule name of the AT_RISK proposal.
pub const AT_RISK_60: &str = "status_proposal:at_risk_60";
/// The rule name of the failed-plans proposal.
pub const FAILED_PLANS_2: &str = "status_proposal:failed_plans_2";

/// Whether a status is less severe than SUSPENDED (a proposal can open).
fn below_suspended(s: SupplierStatus) -> bool {
    matches!(s, SupplierStatus::Approved | SupplierStatus::Conditional)
}

/// The proposal episodes of a supplier up to `today`: from its tier walk (`tiers`, one
/// day each from its first day), its status line and the review dates of its FAILED
/// plans.
pub fn proposals(
    supplier: &str,
    tiers: &[TierDay],
    status: &StatusLine,
    failed_reviews: &[Date],
    today: Date,
) -> Vec<Episode> {
    let mut out = Vec::new();
    // AT_RISK runs: the value on a day is the length of the run ending that day.
    let longest = tiers
        .iter()
        .fold((0u32, 0u32), |(run, best), t| {
            let run = if t.tier == Tier::AtRisk { run + 1 } else { 0 };
            (run, best.max(run))
        })
        .1;
    if longest >= 60 {
        let mut run = 0u32;
        let values = tiers.iter().filter(|t| t.date <= today).map(|t| {
            run = if t.tier == Tier::AtRisk { run + 1 } else { 0 };
            (t.date, f64::from(run))
        });
        walk(supplier, AT_RISK_60, 60.0, 60, values, status, &mut out);
    }
    if failed_reviews.len() >= 2 {
        let mut dates: Vec<Date> = failed_reviews.to_vec();
        dates.sort_unstable();
        let first = dates[0];
        let values = (first.0..=today.0).map(Date).map(|d| {
            let n = dates.iter().filter(|r| r.0 > d.0 - 365 && **r <= d).count();
            (d, n as f64)
        });
        walk(supplier, FAILED_PLANS_2, 2.0, 365, values, status, &mut out);
    }
    out
}

/// Walks one proposal rule over `(day, value)` in date order: open on the first day the
/// value reaches `threshold` while the status is below SUSPENDED, closed on the first
/// day either fails.
fn walk(
    supplier: &str,
    rule: &str,
    threshold: f64,
    window_days: u32,
    values: impl Iterator<Item = (Date, f64)>,
    status: &StatusLine,
    out: &mut Vec<Episode>,
) {
    let mut open: Option<Episode> = None;
    for (d, value) in values {
        let holds = value >= threshold && below_suspended(status.on(d).status);
        match (&mut open, holds) {
            (None, true) => {
                open = Some(Episode {
                    alert_id: alert_id(supplier, rule, Level::Warning, d),
                    rule: rule.to_owned(),
                    level: Level::Warning,
                    threshold,
                    window_days,
                    started_on: d,
                    value_at_start: value,
                    ended_on: None,
                    value_at_end: None,
                });
            }
            (Some(e), false) => {
                e.ended_on = Some(d);
                e.value_at_end = Some(value);
                out.extend(open.take());
            }
            _ => {}
        }
    }
    out.extend(open);
}
