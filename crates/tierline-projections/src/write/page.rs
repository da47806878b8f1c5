//! A projector step's rows, every touched supplier's together: on PostgreSQL one
//! statement of arrays per table and kind of change, on SQLite (in the same process,
//! no round trips) one prepared statement per row, in the same transaction.

use tierline_events::{Date, Timestamp};
use tierline_scoring::{Indicator, TierDay};
use uuid::Uuid;

use super::{Result, WriteTx, arrays};
use crate::column::{Day, Instant, JsonText, Parts};
use crate::rows::{
    DayBucket, EpisodeRow, OutboxMessage, PublishedState, ScorecardRow, StandingRow,
};

/// What one step writes.
#[derive(Debug, Default)]
pub struct PageRows {
    /// Daily buckets to upsert, by supplier.
    pub days: Vec<(String, DayBucket)>,
    /// Daily buckets emptied: deleted.
    pub emptied: Vec<(String, Indicator, Date)>,
    /// Tier-history days that no longer exist: deleted.
    pub tiers_gone: Vec<(String, Date)>,
    /// Tier-history days written (new or changed).
    pub tiers: Vec<(String, TierDay)>,
    /// Current scorecards, by supplier.
    pub scorecards: Vec<(String, ScorecardRow)>,
    /// Episodes with their publication state (a retraction cleared).
    pub episodes: Vec<EpisodeRow>,
    /// Announced episodes retracted: (id, state, when); each then ends where it starts.
    pub retracted: Vec<(Uuid, String, Option<Timestamp>)>,
    /// Episodes never announced that no longer exist: deleted.
    pub forgotten: Vec<Uuid>,
    /// Tiers published: (supplier, tier, effective date).
    pub published_tiers: Vec<(String, String, Date)>,
    /// Plan outcomes and statuses published (upserted by supplier and subject).
    pub published_states: Vec<PublishedState>,
    /// Standings of the suppliers written (upserted).
    pub standings: Vec<StandingRow>,
    /// Messages for the relay.
    pub messages: Vec<OutboxMessage>,
}

impl PageRows {
    /// Appends another page's rows.
    pub fn extend(&mut self, other: PageRows) {
        self.days.extend(other.days);
        self.emptied.extend(other.emptied);
        self.tiers_gone.extend(other.tiers_gone);
        self.tiers.extend(other.tiers);
        self.scorecards.extend(other.scorecards);
        self.episodes.extend(other.episodes);
        self.retracted.extend(other.retracted);
        self.forgotten.extend(other.forgotten);
        self.published_tiers.extend(other.published_tiers);
        self.published_states.extend(other.published_states);
        self.standings.extend(other.standings);
        self.messages.extend(other.messages);
    }
}

const UPSERT_DAY: &str = "INSERT INTO indicator_daily (supplier_id, indicator, day, numerator, denominator, samples,
                                              numerator_parts, denominator_parts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (supplier_id, indicator, day) DO UPDATE
     SET numerator = excluded.numerator, denominator = excluded.denominator, samples = excluded.samples,
         numerator_parts = excluded.numerator_parts, denominator_parts = excluded.denominator_parts";

const UPSERT_SCORECARD: &str = "INSERT INTO scorecards (supplier_id, window_days, as_of, policy_version, composite, coverage, tier, dimensions, indicators, first_day)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (supplier_id, window_days) DO UPDATE SET as_of = excluded.as_of, policy_version = excluded.policy_version,
         composite = excluded.composite, coverage = excluded.coverage, tier = excluded.tier,
         dimensions = excluded.dimensions, indicators = excluded.indicators, first_day = excluded.first_day";

const UPSERT_EPISODE: &str = "INSERT INTO alert_episodes (alert_id, supplier_id, rule, level, threshold, window_days, started_on,
         value_at_start, ended_on, value_at_end, published_state, announced, raised_at, resolved_at, retracted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)
     ON CONFLICT (alert_id) DO UPDATE SET ended_on = excluded.ended_on, value_at_end = excluded.value_at_end,
         value_at_start = excluded.value_at_start, threshold = excluded.threshold,
         published_state = excluded.published_state, announced = excluded.announced,
         raised_at = excluded.raised_at, resolved_at = excluded.resolved_at, retracted_at = NULL";

const RETRACT_EPISODE: &str =
    "UPDATE alert_episodes SET published_state = $2, resolved_at = $3, retracted_at = $3,
         ended_on = started_on, value_at_end = NULL WHERE alert_id = $1";

const UPSERT_PUBLISHED_STATE: &str = "INSERT INTO published_states (supplier_id, subject, state, announced) VALUES ($1, $2, $3, $4)
     ON CONFLICT (supplier_id, subject) DO UPDATE SET state = excluded.state, announced = excluded.announced";

const UPSERT_STANDING: &str = "INSERT INTO supplier_standing (supplier_id, as_of, status, tier, credit, critical_open, failed_plans)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (supplier_id) DO UPDATE SET as_of = excluded.as_of, status = excluded.status, tier = excluded.tier,
         credit = excluded.credit, critical_open = excluded.critical_open, failed_plans = excluded.failed_plans";

const UPSERT_PUBLISHED_TIER: &str = "INSERT INTO published_tiers (supplier_id, tier, effective_date) VALUES ($1, $2, $3)
     ON CONFLICT (supplier_id) DO UPDATE SET tier = excluded.tier, effective_date = excluded.effective_date";

const ENQUEUE: &str =
    "INSERT INTO outbox (message_id, supplier_id, record_name, value, headers, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)";

impl WriteTx {
    /// Writes a step's rows (in dependency order: cuts before what follows them).
    pub async fn write_page(&mut self, rows: &PageRows) -> Result<()> {
        match self {
            WriteTx::Postgres(tx) => arrays::write_page(tx, rows).await,
            WriteTx::Sqlite(tx) => sqlite_write_page(tx, rows).await,
        }
    }
}

/// SQLite: one prepared statement per row.
async fn sqlite_write_page(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    rows: &PageRows,
) -> Result<()> {
    let c = &mut **tx;
    for (s, i, d) in &rows.emptied {
        sqlx::query(
            "DELETE FROM indicator_daily WHERE supplier_id = $1 AND indicator = $2 AND day = $3",
        )
        .bind(s)
        .bind(i.name())
        .bind(Day(*d))
        .execute(&mut *c)
        .await?;
    }
    for (s, b) in &rows.days {
        sqlx::query(UPSERT_DAY)
            .bind(s)
            .bind(b.indicator.name())
            .bind(Day(b.day))
            .bind(b.total.numerator())
            .bind(b.total.denominator())
            .bind(b.total.samples as i64)
            .bind(Parts::of(&b.total.num))
            .bind(Parts::of(&b.total.den))
            .execute(&mut *c)
            .await?;
    }
    for (s, day) in &rows.tiers_gone {
        sqlx::query("DELETE FROM tier_history WHERE supplier_id = $1 AND day = $2")
            .bind(s)
            .bind(Day(*day))
            .execute(&mut *c)
            .await?;
    }
    for (s, t) in &rows.tiers {
        sqlx::query(
            "INSERT INTO tier_history (supplier_id, day, score, tier) VALUES ($1, $2, $3, $4)
             ON CONFLICT (supplier_id, day) DO UPDATE SET score = excluded.score, tier = excluded.tier",
        )
        .bind(s)
        .bind(Day(t.date))
        .bind(t.score)
        .bind(t.tier.name())
        .execute(&mut *c)
        .await?;
    }
    for (s, sc) in &rows.scorecards {
        sqlx::query(UPSERT_SCORECARD)
            .bind(s)
            .bind(sc.window_days as i32)
            .bind(Day(sc.as_of))
            .bind(&sc.policy_version)
            .bind(sc.composite)
            .bind(sc.coverage)
            .bind(&sc.tier)
            .bind(JsonText(sc.dimensions.clone()))
            .bind(JsonText(sc.indicators.clone()))
            .bind(sc.first_day.map(Day))
            .execute(&mut *c)
            .await?;
    }
    for r in &rows.episodes {
        let p = &r.publication;
        sqlx::query(UPSERT_EPISODE)
            .bind(r.alert_id)
            .bind(&r.supplier_id)
            .bind(&r.rule)
            .bind(&r.level)
            .bind(r.threshold)
            .bind(r.window_days)
            .bind(Day(r.started_on))
            .bind(r.value_at_start)
            .bind(r.ended_on.map(Day))
            .bind(r.value_at_end)
            .bind(p.state.as_deref())
            .bind(p.announced)
            .bind(p.raised_at.map(Instant))
            .bind(p.resolved_at.map(Instant))
            .execute(&mut *c)
            .await?;
    }
    for (id, state, at) in &rows.retracted {
        sqlx::query(RETRACT_EPISODE)
            .bind(id)
            .bind(state)
            .bind(at.map(Instant))
            .execute(&mut *c)
            .await?;
    }
    for id in &rows.forgotten {
        sqlx::query("DELETE FROM alert_episodes WHERE alert_id = $1")
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    for (s, tier, effective) in &rows.published_tiers {
        sqlx::query(UPSERT_PUBLISHED_TIER)
            .bind(s)
            .bind(tier)
            .bind(Day(*effective))
            .execute(&mut *c)
            .await?;
    }
    for p in &rows.published_states {
        sqlx::query(UPSERT_PUBLISHED_STATE)
            .bind(&p.supplier_id)
            .bind(&p.subject)
            .bind(&p.state)
            .bind(p.announced)
            .execute(&mut *c)
            .await?;
    }
    for r in &rows.standings {
        sqlx::query(UPSERT_STANDING)
            .bind(&r.supplier_id)
            .bind(Day(r.as_of))
            .bind(&r.status)
            .bind(&r.tier)
            .bind(r.credit)
            .bind(&r.critical_open)
            .bind(&r.failed_plans)
            .execute(&mut *c)
            .await?;
    }
    for m in &rows.messages {
        sqlx::query(ENQUEUE)
            .bind(m.message_id)
            .bind(&m.supplier_id)
            .bind(&m.record_name)
            .bind(&m.value)
            .bind(JsonText(m.headers.clone()))
            .bind(Instant(m.created_at))
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}
