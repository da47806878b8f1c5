//! PostgreSQL's path for a step's rows: each table's rows as arrays, one statement per
//! table and kind of change (`UNNEST`), whatever the number of suppliers.

use sqlx::{Postgres, Transaction};
use tierline_events::Timestamp;
use tierline_scoring::Agg;

use super::Result;
use super::page::PageRows;
use crate::column::{float8_array_literal, pg_date, pg_ts};
use crate::rows::EpisodeRow;

type Tx = Transaction<'static, Postgres>;

/// Every table's rows of a step.
pub(super) async fn write_page(tx: &mut Tx, rows: &PageRows) -> Result<()> {
    write_days(tx, rows).await?;
    write_tiers(tx, rows).await?;
    write_scorecards(tx, rows).await?;
    upsert_episodes(tx, &rows.episodes).await?;
    if !rows.retracted.is_empty() {
        let r = &rows.retracted;
        sqlx::query(
            "UPDATE alert_episodes a SET published_state = r.state, resolved_at = r.at, retracted_at = r.at,
                 ended_on = a.started_on, value_at_end = NULL
             FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[]) AS r (id, state, at)
             WHERE a.alert_id = r.id",
        )
        .bind(r.iter().map(|(id, _, _)| *id).collect::<Vec<_>>())
        .bind(r.iter().map(|(_, s, _)| s.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|(_, _, at)| at.map(pg_ts)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !rows.forgotten.is_empty() {
        sqlx::query("DELETE FROM alert_episodes WHERE alert_id = ANY($1)")
            .bind(&rows.forgotten)
            .execute(&mut **tx)
            .await?;
    }
    if !rows.published_tiers.is_empty() {
        let p = &rows.published_tiers;
        sqlx::query(
            "INSERT INTO published_tiers (supplier_id, tier, effective_date)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::date[])
             ON CONFLICT (supplier_id) DO UPDATE SET tier = EXCLUDED.tier, effective_date = EXCLUDED.effective_date",
        )
        .bind(p.iter().map(|(s, _, _)| s.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|(_, t, _)| t.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|(_, _, d)| pg_date(*d)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !rows.published_states.is_empty() {
        let p = &rows.published_states;
        sqlx::query(
            "INSERT INTO published_states (supplier_id, subject, state, announced)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[])
             ON CONFLICT (supplier_id, subject) DO UPDATE SET state = EXCLUDED.state, announced = EXCLUDED.announced",
        )
        .bind(p.iter().map(|x| x.supplier_id.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|x| x.subject.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|x| x.state.as_str()).collect::<Vec<_>>())
        .bind(p.iter().map(|x| x.announced).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !rows.standings.is_empty() {
        let r = &rows.standings;
        sqlx::query(
            "INSERT INTO supplier_standing (supplier_id, as_of, status, tier, credit, critical_open, failed_plans)
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[])
             ON CONFLICT (supplier_id) DO UPDATE SET as_of = EXCLUDED.as_of, status = EXCLUDED.status,
                 tier = EXCLUDED.tier, credit = EXCLUDED.credit, critical_open = EXCLUDED.critical_open,
                 failed_plans = EXCLUDED.failed_plans",
        )
        .bind(r.iter().map(|x| x.supplier_id.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| pg_date(x.as_of)).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.status.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.tier.as_deref()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.credit).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.critical_open.as_str()).collect::<Vec<_>>())
        .bind(r.iter().map(|x| x.failed_plans.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    enqueue(tx, rows).await
}

async fn write_days(tx: &mut Tx, rows: &PageRows) -> Result<()> {
    if !rows.emptied.is_empty() {
        let e = &rows.emptied;
        sqlx::query(
            "DELETE FROM indicator_daily d USING UNNEST($1::text[], $2::text[], $3::date[]) AS k (supplier_id, indicator, day)
             WHERE d.supplier_id = k.supplier_id AND d.indicator = k.indicator AND d.day = k.day",
        )
        .bind(e.iter().map(|(s, _, _)| s.as_str()).collect::<Vec<_>>())
        .bind(e.iter().map(|(_, i, _)| i.name()).collect::<Vec<_>>())
        .bind(e.iter().map(|(_, _, d)| pg_date(*d)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if rows.days.is_empty() {
        return Ok(());
    }
    let days = &rows.days;
    // Partials as text array literals: UNNEST cannot take an array of arrays of varying
    // length.
    let parts =
        |f: fn(&Agg) -> String| -> Vec<String> { days.iter().map(|(_, b)| f(&b.total)).collect() };
    sqlx::query(
        "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                      numerator_parts, denominator_parts)
         SELECT s, i, d, n, den, c, np::float8[], dp::float8[]
         FROM UNNEST($1::text[], $2::text[], $3::date[], $4::float8[], $5::float8[], $6::int8[], $7::text[], $8::text[])
              AS u (s, i, d, n, den, c, np, dp)
         ON CONFLICT (supplier_id, indicator, day) DO UPDATE
         SET numerator = EXCLUDED.numerator, denominator = EXCLUDED.denominator, samples = EXCLUDED.samples,
             numerator_parts = EXCLUDED.numerator_parts, denominator_parts = EXCLUDED.denominator_parts",
    )
    .bind(days.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>())
    .bind(days.iter().map(|(_, b)| b.indicator.name()).collect::<Vec<_>>())
    .bind(days.iter().map(|(_, b)| pg_date(b.day)).collect::<Vec<_>>())
    .bind(days.iter().map(|(_, b)| b.total.numerator()).collect::<Vec<_>>())
    .bind(days.iter().map(|(_, b)| b.total.denominator()).collect::<Vec<_>>())
    .bind(days.iter().map(|(_, b)| b.total.samples as i64).collect::<Vec<_>>())
    .bind(parts(|a| float8_array_literal(&a.num.canonical_parts())))
    .bind(parts(|a| float8_array_literal(&a.den.canonical_parts())))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn write_tiers(tx: &mut Tx, rows: &PageRows) -> Result<()> {
    if !rows.tiers_gone.is_empty() {
        let g = &rows.tiers_gone;
        sqlx::query(
            "DELETE FROM tier_history t USING UNNEST($1::text[], $2::date[]) AS k (supplier_id, day)
             WHERE t.supplier_id = k.supplier_id AND t.day = k.day",
        )
        .bind(g.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>())
        .bind(g.iter().map(|(_, d)| pg_date(*d)).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    if !rows.tiers.is_empty() {
        let t = &rows.tiers;
        sqlx::query(
            "INSERT INTO tier_history (supplier_id, day, score, tier)
             SELECT * FROM UNNEST($1::text[], $2::date[], $3::float8[], $4::text[])
             ON CONFLICT (supplier_id, day) DO UPDATE SET score = EXCLUDED.score, tier = EXCLUDED.tier",
        )
        .bind(t.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, d)| pg_date(d.date)).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, d)| d.score).collect::<Vec<_>>())
        .bind(t.iter().map(|(_, d)| d.tier.name()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn write_scorecards(tx: &mut Tx, rows: &PageRows) -> Result<()> {
    if rows.scorecards.is_empty() {
        return Ok(());
    }
    let r = &rows.scorecards;
    sqlx::query(
        "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier,
                                 dimensions, indicators, first_day)
         SELECT s, w, a, p, c, cov, t, dim, ind, f
         FROM UNNEST($1::text[], $2::int4[], $3::date[], $4::text[], $5::float8[], $6::float8[], $7::text[],
                     $8::text[], $9::text[], $10::date[]) AS u (s, w, a, p, c, cov, t, dim, ind, f)
         ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = EXCLUDED.as_of, policy_version = EXCLUDED.policy_version,
             composite = EXCLUDED.composite, coverage = EXCLUDED.coverage, tier = EXCLUDED.tier,
             dimensions = EXCLUDED.dimensions, indicators = EXCLUDED.indicators, first_day = EXCLUDED.first_day",
    )
    .bind(r.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.window_days as i32).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| pg_date(sc.as_of)).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.policy_version.as_str()).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.composite).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.coverage).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.tier.as_str()).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.dimensions.as_str()).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.indicators.as_str()).collect::<Vec<_>>())
    .bind(r.iter().map(|(_, sc)| sc.first_day.map(pg_date)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Episodes as one statement of arrays.
async fn upsert_episodes(tx: &mut Tx, rows: &[EpisodeRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
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

/// Outbox rows, their ids (the relay's order) following the messages' order.
async fn enqueue(tx: &mut Tx, rows: &PageRows) -> Result<()> {
    if rows.messages.is_empty() {
        return Ok(());
    }
    let m = &rows.messages;
    sqlx::query(
        "INSERT INTO outbox (message_id, supplier_id, record_name, value, headers, created_at)
         SELECT id, s, r, v, h::jsonb, c
         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[])
              WITH ORDINALITY AS m (id, s, r, v, h, c, n)
         ORDER BY n",
    )
    .bind(m.iter().map(|x| x.message_id).collect::<Vec<_>>())
    .bind(m.iter().map(|x| x.supplier_id.as_str()).collect::<Vec<_>>())
    .bind(m.iter().map(|x| x.record_name.as_str()).collect::<Vec<_>>())
    .bind(m.iter().map(|x| x.value.as_slice()).collect::<Vec<_>>())
    .bind(m.iter().map(|x| x.headers.as_str()).collect::<Vec<_>>())
    .bind(m.iter().map(|x| pg_ts(x.created_at)).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
