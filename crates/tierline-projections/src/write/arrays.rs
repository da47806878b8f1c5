//! PostgreSQL's fast path for a supplier's rows: one statement of arrays per table.

use sqlx::{Postgres, Transaction};
use tierline_events::{Date, Timestamp};
use tierline_scoring::{Agg, Indicator};

use super::Result;
use crate::column::{float8_array_literal, pg_date, pg_ts};
use crate::rows::{DayBucket, EpisodeRow};

/// PostgreSQL: a supplier's changed buckets as two statements of arrays.
pub(super) async fn pg_write_days(
    tx: &mut Transaction<'static, Postgres>,
    supplier: &str,
    upserts: &[DayBucket],
    emptied: &[(Indicator, Date)],
) -> Result<()> {
    if !emptied.is_empty() {
        sqlx::query(
            "DELETE FROM indicator_daily d USING UNNEST($2::text[], $3::date[]) AS k (indicator, day)
             WHERE d.supplier_id = $1 AND d.indicator = k.indicator AND d.day = k.day",
        )
        .bind(supplier)
        .bind(emptied.iter().map(|(i, _)| i.name()).collect::<Vec<_>>())
        .bind(emptied.iter().map(|(_, d)| pg_date(*d)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if upserts.is_empty() {
        return Ok(());
    }
    // Partials as text array literals: UNNEST cannot take an array of arrays of varying
    // length.
    let parts =
        |f: fn(&Agg) -> String| -> Vec<String> { upserts.iter().map(|b| f(&b.total)).collect() };
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
    .bind(upserts.iter().map(|b| b.indicator.name()).collect::<Vec<_>>())
    .bind(upserts.iter().map(|b| pg_date(b.day)).collect::<Vec<_>>())
    .bind(upserts.iter().map(|b| b.total.numerator()).collect::<Vec<_>>())
    .bind(upserts.iter().map(|b| b.total.denominator()).collect::<Vec<_>>())
    .bind(upserts.iter().map(|b| b.total.samples as i64).collect::<Vec<_>>())
    .bind(parts(|a| float8_array_literal(&a.num.canonical_parts())))
    .bind(parts(|a| float8_array_literal(&a.den.canonical_parts())))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// PostgreSQL: a supplier's episodes as one statement of arrays.
pub(super) async fn pg_upsert_episodes(
    tx: &mut Transaction<'static, Postgres>,
    rows: &[EpisodeRow],
) -> Result<()> {
    let at = |f: &dyn Fn(&EpisodeRow) -> Option<Timestamp>| -> Vec<_> {
        rows.iter().map(|r| f(r).map(pg_ts)).collect()
    };
    sqlx::query(
        "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start,
                                     ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
         SELECT id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end,
                published_state, announced, raised_at, resolved_at, NULL
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::int4[], $7::date[], $8::float8[],
                     $9::date[], $10::float8[], $11::text[], $12::int4[], $13::timestamptz[], $14::timestamptz[])
              AS e (id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on,
                    value_at_end, published_state, announced, raised_at, resolved_at)
         ON CONFLICT (alert_id) DO UPDATE SET ended_on = EXCLUDED.ended_on, value_at_end = EXCLUDED.value_at_end,
             value_at_start = EXCLUDED.value_at_start, threshold = EXCLUDED.threshold,
             published_state = EXCLUDED.published_state, announced = EXCLUDED.announced,
             raised_at = EXCLUDED.raised_at, resolved_at = EXCLUDED.resolved_at, retracted_at = NULL",
    )
    .bind(rows.iter().map(|r| r.alert_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.supplier_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.level.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.threshold).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.window_days).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| pg_date(r.started_on)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.value_at_start).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.ended_on.map(pg_date)).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.value_at_end).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.publication.state.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.publication.announced).collect::<Vec<_>>())
    .bind(at(&|r| r.publication.raised_at))
    .bind(at(&|r| r.publication.resolved_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
