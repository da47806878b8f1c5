//! Writing one supplier's projections: changed daily buckets, tier history from the
//! first changed day, scorecards (and, through `alerts`, its episodes and
//! announcements).

use std::collections::{BTreeSet, HashMap};

use tierline_clock::Clock;
use tierline_events::Date;
use tierline_projections::{DayBucket, ScorecardRow, WriteTx};
use tierline_scoring::{Episode, Indicator, SupplierLedger, Tier, TierDay, WINDOWS};

use super::{Projector, ProjectorError};

impl Projector {
    /// The buckets of the days that changed: emptied ones deleted, the rest upserted.
    pub(super) async fn write_days(
        &self,
        tx: &mut WriteTx,
        l: &SupplierLedger,
        days: &BTreeSet<Date>,
    ) -> Result<(), ProjectorError> {
        let (mut upserts, mut emptied) = (Vec::new(), Vec::new());
        for day in days {
            for i in Indicator::ALL {
                let total = l.day(i, *day);
                if total.is_empty() {
                    emptied.push((i, *day));
                } else {
                    upserts.push(DayBucket {
                        indicator: i,
                        day: *day,
                        total,
                    });
                }
            }
        }
        tx.write_days(l.supplier_id(), &upserts, &emptied).await?;
        Ok(())
    }

    /// Tier history from the first day that differs from what is stored.
    pub(super) async fn write_tier_history(
        &self,
        tx: &mut WriteTx,
        l: &SupplierLedger,
        history: &[TierDay],
    ) -> Result<(), ProjectorError> {
        let written = self.written_tiers.get(l.supplier_id());
        let same = written.map_or(0, |w| {
            w.iter().zip(history).take_while(|(a, b)| a == b).count()
        });
        if written.is_none_or(|w| same < w.len() || same < history.len()) {
            let kept_until = same.checked_sub(1).map(|i| history[i].date);
            tx.replace_tiers(l.supplier_id(), kept_until, &history[same..])
                .await?;
        }
        Ok(())
    }

    /// The scorecards, episodes and announcements of one supplier (its buckets and tier
    /// history are written by the caller); returns the tier history it was given.
    pub(super) async fn project_supplier(
        &self,
        tx: &mut WriteTx,
        l: &SupplierLedger,
        walk: Walk,
        clock: &dyn Clock,
    ) -> Result<Vec<TierDay>, ProjectorError> {
        let today = clock.today(&self.policy);
        let now = clock.now();
        let Walk { history, episodes } = walk;
        let tier = history.last().map_or(Tier::Unrated, |t| t.tier);
        let rows: Vec<ScorecardRow> = WINDOWS
            .iter()
            .map(|w| scorecard_row(l, today, *w, tier, &self.policy.version))
            .collect();
        tx.upsert_scorecards(l.supplier_id(), &rows).await?;
        self.project_alerts(tx, l, episodes, today, now).await?;
        self.project_tier(tx, l, &history, now).await?;
        Ok(history)
    }
}

/// A supplier's scorecard on one window as stored.
fn scorecard_row(
    l: &SupplierLedger,
    today: Date,
    window: u32,
    tier: Tier,
    policy_version: &str,
) -> ScorecardRow {
    let sc = l.scorecard(today, window);
    let indicators: serde_json::Map<String, serde_json::Value> = sc
        .indicators
        .iter()
        .map(|(i, v)| {
            (
                i.name().to_owned(),
                serde_json::json!({"value": v.value, "status": v.status(), "subscore": v.subscore,
                    "numerator": v.numerator, "denominator": v.denominator, "samples": v.samples}),
            )
        })
        .collect();
    let dimensions: serde_json::Map<String, serde_json::Value> = sc
        .dimensions
        .iter()
        .map(|(d, v)| (d.name().to_owned(), serde_json::json!(v)))
        .collect();
    ScorecardRow {
        window_days: window,
        as_of: today,
        policy_version: policy_version.to_owned(),
        composite: sc.composite,
        coverage: sc.coverage,
        tier: tier.name().to_owned(),
        dimensions: serde_json::Value::Object(dimensions).to_string(),
        indicators: serde_json::Value::Object(indicators).to_string(),
        first_day: l.first_day(),
    }
}

/// A supplier's day-by-day walks: tier history and alert episodes.
pub(super) struct Walk {
    pub(super) history: Vec<TierDay>,
    episodes: Vec<Episode>,
}

impl Walk {
    pub(super) fn of(l: &SupplierLedger, today: Date) -> Walk {
        Walk {
            history: l.tier_history(today),
            episodes: l.alert_episodes(today),
        }
    }
}

/// Every supplier's walks, spread over the machine's cores (pure CPU work).
pub(super) fn walk_all(
    ledgers: &HashMap<String, SupplierLedger>,
    today: Date,
) -> HashMap<&str, Walk> {
    let all: Vec<(&String, &SupplierLedger)> = ledgers.iter().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = all.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = all
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(s, l)| (s.as_str(), Walk::of(l, today)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            // A panicking walk is a bug: it propagates as it would on one thread.
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
