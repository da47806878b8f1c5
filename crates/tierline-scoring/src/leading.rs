//! The leading indicators of docs/scoring.md "Leading indicators", per PO line: `late_promise_rate`
//! (the line's part of each day it is open and due within 14 days) and
//! `promise_slip_days` (how far each re-confirmation moved the promise).

use std::collections::BTreeSet;

use tierline_events::Date;

use crate::entity::{Contributions, EventKey, LineEvents, Placed, due_date_upto, push};
use crate::exact::fsum;
use crate::indicator::Indicator;
use crate::policy::Policy;

/// Days ahead `late_promise_rate` looks: lines due in d+1 ..= d+14.
const HORIZON: i32 = 14;

/// Adds the line's parts of both leading indicators.
pub(crate) fn leading_contributions(line: &LineEvents, policy: &Policy, c: &mut Contributions) {
    let Some((placed_key, placed)) = line.placed.first() else {
        return;
    };
    slips(line, placed_key, placed, policy, c);
    late_promises(line, placed_key, placed, policy, c);
}

/// Every `Confirmed` with an earlier promise contributes, on its own date, how many days
/// later it promises than the promise before it (the Placed promise
/// and the confirmations merged by ordering key).
fn slips(
    line: &LineEvents,
    placed_key: &EventKey,
    placed: &Placed,
    policy: &Policy,
    c: &mut Contributions,
) {
    let mut promises: Vec<(&EventKey, Date, bool)> =
        line.confirmed.iter().map(|(k, d)| (k, *d, true)).collect();
    if let Some(p) = placed.promised_date {
        promises.push((placed_key, p, false));
    }
    promises.sort_by(|a, b| a.0.cmp(b.0));
    for pair in promises.windows(2) {
        let ((_, before, _), (k, now, confirmed)) = (pair[0], pair[1]);
        if confirmed {
            let slip = f64::from((now.0 - before.0).max(0));
            push(
                c,
                Indicator::PromiseSlipDays,
                policy.day_of(k.at),
                slip,
                1.0,
                1,
            );
        }
    }
}

/// The line's state as known at the end of each day its events change it, and the
/// days of each state on which the line is open and due within the horizon.
fn late_promises(
    line: &LineEvents,
    placed_key: &EventKey,
    placed: &Placed,
    policy: &Policy,
    c: &mut Contributions,
) {
    let day = |k: &EventKey| policy.day_of(k.at);
    let exists_from = day(placed_key);
    let mut changes: BTreeSet<Date> = BTreeSet::from([exists_from]);
    changes.extend(line.confirmed.iter().map(|(k, _)| day(k)));
    changes.extend(line.changed.iter().map(|(k, _)| day(k)));
    changes.extend(line.cancelled.iter().map(|(k, _)| day(k)));
    changes.extend(line.received.values().map(|r| r.date));
    let changes: Vec<Date> = changes.into_iter().filter(|d| *d >= exists_from).collect();
    for (n, &from) in changes.iter().enumerate() {
        let until = changes.get(n + 1).map_or(Date(i32::MAX), |d| Date(d.0 - 1));
        // Cancelled by the end of `from`: cancelled for this whole state.
        if line.cancelled.first().is_some_and(|(k, _)| day(k) <= from) {
            break;
        }
        let ordered = line
            .changed
            .iter()
            .rev()
            .filter(|(k, _)| day(k) <= from)
            .find_map(|(_, ch)| ch.quantity)
            .unwrap_or(placed.quantity);
        let received = fsum(
            line.received
                .values()
                .filter(|r| r.date <= from)
                .map(|r| r.quantity),
        );
        if received >= ordered * (1.0 - policy.in_full_tolerance) {
            continue;
        }
        let due = due_date_upto(line, placed_key, placed, |k| day(k) <= from);
        let latest_promise = line
            .confirmed
            .iter()
            .rev()
            .find(|(k, _)| day(k) <= from)
            .map(|(_, d)| *d);
        let late = latest_promise.is_some_and(|p| p > due);
        let first = from.0.max(due.0 - HORIZON);
        let last = until.0.min(due.0 - 1);
        for d in first..=last {
            push(
                c,
                Indicator::LatePromiseRate,
                Date(d),
                if late { 1.0 } else { 0.0 },
                1.0,
                1,
            );
        }
    }
}
