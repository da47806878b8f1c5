//! Source health, computed without I/O: is each source still sending each record type
//! as it usually does? A dead feed (a WMS that stopped sending receipts) otherwise looks
//! exactly like late suppliers.
//!
//! The rule (docs/operations.md "Source health"): the baseline is a source's mean daily
//! volume of a record type over the [`BASELINE_DAYS`] full days before today (from its
//! first day, if newer). A pair is **stale** when it has been silent for longer than the
//! greatest of a day, its longest pause in that window (a run of n empty days: n + 2
//! days, so a source that rests at weekends is not stale on Monday), and three times its
//! usual gap between events. It is **quiet** when yesterday brought less than a quarter
//! of what the same weekday usually brings in the window (only where that is at least 20:
//! small numbers vary too much; a source that rests on Sundays is not quiet on Monday).

use std::collections::BTreeMap;

use serde::Serialize;
use tierline_events::{Date, Timestamp};

/// Full days before today the baseline is measured over.
pub const BASELINE_DAYS: i32 = 28;

const DAY_MS: i64 = 86_400_000;

/// One source's events of one record type on one day (by when the store recorded them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDay {
    /// The CloudEvents `source` (or API caller's source) the events came from.
    pub source: String,
    /// Record full name.
    pub record_name: String,
    /// UTC day.
    pub day: Date,
    /// Events stored that day.
    pub events: i64,
    /// When the last of them was stored.
    pub last_recorded_at: Timestamp,
}

/// Whether a source sends as usual; ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// Silent for longer than it has ever paused lately.
    Stale,
    /// Yesterday brought far less than usual.
    Quiet,
    /// Sending as usual (or too new to tell).
    Ok,
}

impl SourceStatus {
    /// Its JSON and metric form.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::Quiet => "quiet",
            SourceStatus::Stale => "stale",
        }
    }
}

/// One (source, record type)'s health as of an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceHealth {
    /// The source.
    pub source: String,
    /// Record full name.
    pub record_name: String,
    /// When its last event was stored.
    pub last_event_at: Timestamp,
    /// Seconds since then.
    pub silent_seconds: i64,
    /// Events stored today (UTC) so far.
    pub today: i64,
    /// Events stored yesterday.
    pub yesterday: i64,
    /// Mean events per day over the baseline window (`None`: no full day yet).
    pub baseline_daily: Option<f64>,
    /// Silence longer than this many seconds makes it stale.
    pub stale_after_seconds: i64,
    /// The verdict.
    pub status: SourceStatus,
    /// Why, in a sentence a buyer understands.
    pub reason: String,
}

/// What the read model holds about one (source, record type): its days in the baseline
/// window and today, and its first and last event ever.
#[derive(Debug, Clone, Default)]
pub struct SourceSeries {
    /// Events per day, on days with any (the window and today).
    pub days: BTreeMap<Date, i64>,
    /// Its first day ever.
    pub first_day: Option<Date>,
    /// Its last event ever.
    pub last_recorded_at: Option<Timestamp>,
}

/// Groups rows by (source, record name): `recent` are the rows of the window and today,
/// `lifetime` one row per pair with its first day and last event.
pub fn series(
    recent: &[SourceDay],
    lifetime: &[SourceDay],
) -> BTreeMap<(String, String), SourceSeries> {
    let mut out: BTreeMap<(String, String), SourceSeries> = BTreeMap::new();
    for r in lifetime {
        let s = out
            .entry((r.source.clone(), r.record_name.clone()))
            .or_default();
        s.first_day = Some(r.day);
        s.last_recorded_at = Some(r.last_recorded_at);
    }
    for r in recent {
        let s = out
            .entry((r.source.clone(), r.record_name.clone()))
            .or_default();
        *s.days.entry(r.day).or_default() += r.events;
        s.first_day = Some(s.first_day.map_or(r.day, |d| d.min(r.day)));
        s.last_recorded_at = Some(
            s.last_recorded_at
                .map_or(r.last_recorded_at, |t| t.max(r.last_recorded_at)),
        );
    }
    out
}

/// The `source` of acts people write through the API (`api:{key name}`): not a feed,
/// so not judged (a buyer who writes no assessment for a week is not a dead system).
pub const API_SOURCE_PREFIX: &str = "api:";

/// Every feed's health as of `now`, ordered stale first, then quiet, then by name.
/// People's acts through the API ([`API_SOURCE_PREFIX`]) are left out.
pub fn source_health(
    series: &BTreeMap<(String, String), SourceSeries>,
    now: Timestamp,
) -> Vec<SourceHealth> {
    let mut out: Vec<SourceHealth> = series
        .iter()
        .filter(|((source, _), _)| !source.starts_with(API_SOURCE_PREFIX))
        .filter_map(|((source, record), s)| assess(source, record, s, now))
        .collect();
    out.sort_by(|a, b| {
        (a.status, &a.source, &a.record_name).cmp(&(b.status, &b.source, &b.record_name))
    });
    out
}

fn assess(source: &str, record: &str, s: &SourceSeries, now: Timestamp) -> Option<SourceHealth> {
    let last = s.last_recorded_at?;
    let first = s.first_day?;
    let today = now.date()?;
    let yesterday = Date(today.0 - 1);
    let start = Date(today.0 - BASELINE_DAYS).max(first);
    let count = |d: Date| s.days.get(&d).copied().unwrap_or(0);
    let window: Vec<i64> = (start.0..today.0).map(|d| count(Date(d))).collect();
    let baseline =
        (!window.is_empty()).then(|| window.iter().sum::<i64>() as f64 / window.len() as f64);
    let longest_pause = longest_zero_run(&window);
    let usual_gap_ms = baseline
        .filter(|b| *b > 0.0)
        .map_or(0, |b| (3.0 * DAY_MS as f64 / b) as i64);
    // A pause of n empty days can separate two events by up to n + 2 days (the last
    // event early on the day before, the next late on the day after).
    let pause_ms = if longest_pause > 0 {
        (longest_pause + 2) * DAY_MS
    } else {
        0
    };
    let stale_after = DAY_MS.max(pause_ms).max(usual_gap_ms);
    let silent = (now.0 - last.0).max(0);
    let (today_n, yesterday_n) = (count(today), count(yesterday));
    let short = short_name(record);
    let (status, reason) = if silent > stale_after {
        (
            SourceStatus::Stale,
            format!(
                "no {short} from {source} for {}; it usually pauses at most {}",
                span(silent),
                span(stale_after)
            ),
        )
    } else if let Some(usual) = usual_on(yesterday, start, today, count)
        .filter(|u| *u >= 20.0 && (yesterday_n as f64) < u / 4.0)
    {
        (
            SourceStatus::Quiet,
            format!(
                "{yesterday_n} {short} from {source} yesterday, usually {usual:.0} on a {}",
                weekday(yesterday)
            ),
        )
    } else {
        (SourceStatus::Ok, format!("{short} from {source} as usual"))
    };
    Some(SourceHealth {
        source: source.to_owned(),
        record_name: record.to_owned(),
        last_event_at: last,
        silent_seconds: silent / 1000,
        today: today_n,
        yesterday: yesterday_n,
        baseline_daily: baseline,
        stale_after_seconds: stale_after / 1000,
        status,
        reason,
    })
}

/// The mean count on `day`'s weekday over the window `start..today`, `day` itself left
/// out (`None`: no other such day in it).
fn usual_on(day: Date, start: Date, today: Date, count: impl Fn(Date) -> i64) -> Option<f64> {
    let same: Vec<i64> = (start.0..today.0)
        .filter(|d| *d != day.0 && (d - day.0).rem_euclid(7) == 0)
        .map(|d| count(Date(d)))
        .collect();
    (!same.is_empty()).then(|| same.iter().sum::<i64>() as f64 / same.len() as f64)
}

/// `Monday`, `Tuesday`, …
fn weekday(day: Date) -> String {
    day.to_naive()
        .map_or_else(String::new, |d| d.format("%A").to_string())
}

/// The longest run of days without events that ended (the current silence is what is
/// being judged, not a precedent).
fn longest_zero_run(days: &[i64]) -> i64 {
    let (mut best, mut run) = (0, 0);
    for &n in days {
        if n == 0 {
            run += 1;
        } else {
            best = best.max(run);
            run = 0;
        }
    }
    best
}

/// A record's short name: `io.tierline.v1.GoodsReceived` -> `GoodsReceived`.
pub fn short_name(record: &str) -> &str {
    record.rsplit('.').next().unwrap_or(record)
}

/// A duration in whole days or hours, as a person says it.
fn span(ms: i64) -> String {
    let hours = ms / 3_600_000;
    match hours {
        h if h >= 48 => format!("{} days", h / 24),
        1 => "1 hour".to_owned(),
        h => format!("{h} hours"),
    }
}
