//! Writing one supplier's projections: daily buckets, tier history, scorecards (and,
//! through `alerts`, its episodes and announcements); the rows a rebuild copies in bulk.

use std::collections::{BTreeSet, HashMap};

use sqlx::{Postgres, Transaction};
use tierline_events::Date;
use tierline_scoring::{Episode, Indicator, SupplierLedger, Tier, TierDay, WINDOWS};
use tierline_store::CopyBuf;

use super::{Clock, Projector, ProjectorError, pg_date};

impl Projector {
    pub(super) async fn project_supplier(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        supplier: &str,
        days: &BTreeSet<Date>,
        clock: &dyn Clock,
        mut bulk: Option<&mut BulkRows>,
        walk: Option<Walk>,
    ) -> Result<Option<Vec<TierDay>>, ProjectorError> {
        let Some(l) = self.ledgers.get(supplier) else {
            return Ok(None);
        };
        let today = clock.today(&self.policy);
        let Walk { history, episodes } = walk.unwrap_or_else(|| Walk::of(l, today));
        let now = clock.now();
        if let Some(b) = bulk.as_deref_mut() {
            // A rebuild starts from empty tables: every non-empty total is copied.
            for (i, day, a) in l.daily_totals() {
                if a.is_empty() {
                    continue;
                }
                let r = &mut b.daily;
                r.fields(8);
                r.bytes(supplier.as_bytes());
                r.bytes(i.name().as_bytes());
                r.date(day.0);
                r.f64(a.numerator());
                r.f64(a.denominator());
                r.i64(a.samples as i64);
                r.f64_array(&a.num.canonical_parts());
                r.f64_array(&a.den.canonical_parts());
            }
        }
        // Daily buckets of the days that changed: emptied ones deleted, the rest upserted.
        let days = if bulk.is_some() {
            &BTreeSet::new()
        } else {
            days
        };
        let (mut up_i, mut up_d, mut up_n, mut up_den, mut up_s) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Partials as text array literals: UNNEST cannot take an array of arrays of
        // varying length.
        let (mut up_np, mut up_dp) = (Vec::new(), Vec::new());
        let (mut del_i, mut del_d) = (Vec::new(), Vec::new());
        for day in days {
            for i in Indicator::ALL {
                let a = l.day(i, *day);
                if a.is_empty() {
                    del_i.push(i.name().to_owned());
                    del_d.push(pg_date(*day));
                } else {
                    up_i.push(i.name().to_owned());
                    up_d.push(pg_date(*day));
                    up_n.push(a.numerator());
                    up_den.push(a.denominator());
                    up_s.push(a.samples as i64);
                    up_np.push(float8_array_literal(&a.num.canonical_parts()));
                    up_dp.push(float8_array_literal(&a.den.canonical_parts()));
                }
            }
        }
        if !del_i.is_empty() {
            sqlx::query(
                "DELETE FROM indicator_daily d USING UNNEST($2::text[], $3::date[]) AS k (indicator, day)
                 WHERE d.supplier_id = $1 AND d.indicator = k.indicator AND d.day = k.day",
            )
            .bind(supplier)
            .bind(&del_i)
            .bind(&del_d)
            .execute(&mut **tx)
            .await?;
        }
        if !up_i.is_empty() {
            sqlx::query(
                "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                              numerator_parts, denominator_parts)
                 SELECT $1, i, d, n, den, s, np::float8[], dp::float8[]
                 FROM UNNEST($2::text[], $3::date[], $4::float8[], $5::float8[], $6::int8[], $7::text[], $8::text[])
                      AS u (i, d, n, den, s, np, dp)
                 ON CONFLICT (supplier_id, indicator, day) DO UPDATE
                 SET numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator, samples = EXCLUDED.samples,
                     numerator_parts = EXCLUDED.numerator_parts, denominator_parts = EXCLUDED.denominator_parts",
            )
            .bind(supplier)
            .bind(&up_i)
            .bind(&up_d)
            .bind(&up_n)
            .bind(&up_den)
            .bind(&up_s)
            .bind(&up_np)
            .bind(&up_dp)
            .execute(&mut **tx)
            .await?;
        }
        // Tier walk, then the scorecards that show its result.
        let tier = history.last().map_or(Tier::Unrated, |t| t.tier);
        if let Some(b) = bulk {
            for t in &history {
                let r = &mut b.tiers;
                r.fields(4);
                r.bytes(supplier.as_bytes());
                r.date(t.date.0);
                match t.score {
                    Some(v) => r.f64(v),
                    None => r.null(),
                }
                r.bytes(t.tier.name().as_bytes());
            }
        } else {
            // Only the days from the first that differs from what is stored.
            let written = self.written_tiers.get(supplier);
            let same = written.map_or(0, |w| {
                w.iter().zip(&history).take_while(|(a, b)| a == b).count()
            });
            if written.is_none_or(|w| same < w.len() || same < history.len()) {
                let kept_until = same.checked_sub(1).map(|i| pg_date(history[i].date));
                sqlx::query(
                    "DELETE FROM tier_history WHERE supplier_id = $1 AND ($2::date IS NULL OR day > $2)",
                )
                .bind(supplier)
                .bind(kept_until)
                .execute(&mut **tx)
                .await?;
                let fresh = &history[same..];
                sqlx::query(
                    "INSERT INTO tier_history (supplier_id, day, score, tier)
                 SELECT $1, * FROM UNNEST($2::date[], $3::float8[], $4::text[])",
                )
                .bind(supplier)
                .bind(fresh.iter().map(|t| pg_date(t.date)).collect::<Vec<_>>())
                .bind(fresh.iter().map(|t| t.score).collect::<Vec<_>>())
                .bind(
                    fresh
                        .iter()
                        .map(|t| t.tier.name().to_owned())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut **tx)
                .await?;
            }
        }
        for w in WINDOWS {
            let sc = l.scorecard(today, w);
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
            sqlx::query(
                "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
                 ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = EXCLUDED.as_of, policy_version = EXCLUDED.policy_version,
                     composite = EXCLUDED.composite, coverage = EXCLUDED.coverage, tier = EXCLUDED.tier,
                     dimensions = EXCLUDED.dimensions, indicators = EXCLUDED.indicators, first_day = EXCLUDED.first_day",
            )
            .bind(supplier)
            .bind(w as i32)
            .bind(pg_date(today))
            .bind(&self.policy.version)
            .bind(sc.composite)
            .bind(sc.coverage)
            .bind(tier.name())
            .bind(serde_json::Value::Object(dimensions).to_string())
            .bind(serde_json::Value::Object(indicators).to_string())
            .bind(l.first_day().map(pg_date))
            .execute(&mut **tx)
            .await?;
        }
        self.project_alerts(tx, l, episodes, today, now).await?;
        self.project_tier(tx, l, &history, now).await?;
        Ok(Some(history))
    }
}

/// A `float8[]` literal whose values read back bit for bit (Rust prints the shortest
/// representation that round-trips, and PostgreSQL's float8 input is exact).
fn float8_array_literal(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("{{{}}}", items.join(","))
}

/// A supplier's day-by-day walks: tier history and alert episodes.
pub(super) struct Walk {
    history: Vec<TierDay>,
    episodes: Vec<Episode>,
}

impl Walk {
    fn of(l: &SupplierLedger, today: Date) -> Walk {
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

/// Rows a rebuild copies in one go (PostgreSQL binary COPY format).
pub(super) struct BulkRows {
    pub(super) daily: CopyBuf,
    pub(super) tiers: CopyBuf,
}

impl Default for BulkRows {
    fn default() -> Self {
        BulkRows {
            daily: CopyBuf::new(0),
            tiers: CopyBuf::new(0),
        }
    }
}
