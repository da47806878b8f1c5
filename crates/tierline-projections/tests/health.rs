//! The source-health rule, without a database (docs/operations.md "Source health").

#![allow(clippy::unwrap_used)]

use tierline_events::{Date, Timestamp};
use tierline_projections::health::{SourceDay, SourceStatus, series, source_health};

const DAY_MS: i64 = 86_400_000;

/// 2026-06-18, a Thursday, plus `hours`.
fn thursday(hours: i64) -> Timestamp {
    Timestamp(i64::from(Date::from_ymd(2026, 6, 18).unwrap().0) * DAY_MS + hours * 3_600_000)
}

/// `events` a day at 10:00 on each of `days` (days before Thursday).
fn feed(days: impl Iterator<Item = i32>, events: i64) -> Vec<SourceDay> {
    let today = thursday(0).date().unwrap();
    days.map(|back| {
        let day = Date(today.0 - back);
        SourceDay {
            source: "wms".into(),
            record_name: "io.tierline.v1.GoodsReceived".into(),
            day,
            events,
            last_recorded_at: Timestamp(i64::from(day.0) * DAY_MS + 10 * 3_600_000),
        }
    })
    .collect()
}

fn verdict(rows: &[SourceDay], now: Timestamp) -> (SourceStatus, i64) {
    let h = source_health(&series(rows, &[]), now);
    assert_eq!(h.len(), 1);
    (h[0].status, h[0].stale_after_seconds)
}

fn weekday(back: i32) -> bool {
    // 1970-01-01 was a Thursday: day % 7 == 2 is Saturday, 3 Sunday.
    let day = thursday(0).date().unwrap().0 - back;
    !matches!(day.rem_euclid(7), 2 | 3)
}

#[test]
fn a_weekday_feed_that_died_on_monday_is_stale_on_friday_not_before() {
    // Weekdays for four weeks, the last on Monday (3 days before Thursday).
    let rows = feed((3..=28).filter(|b| weekday(*b)), 50);
    // Thursday: Wednesday brought nothing, usually 50: quiet, not stale yet (a weekend's
    // pause allows four days).
    assert_eq!(
        verdict(&rows, thursday(9)),
        (SourceStatus::Quiet, 4 * 86_400)
    );
    let h = source_health(&series(&rows, &[]), thursday(9));
    assert_eq!(
        h[0].reason,
        "0 GoodsReceived from wms yesterday, usually 50 on a Wednesday"
    );
    // Friday 11:00: four days and an hour.
    assert_eq!(verdict(&rows, thursday(24 + 11)).0, SourceStatus::Stale);
}

#[test]
fn a_weekday_feed_is_neither_quiet_nor_stale_on_monday() {
    // Weekdays for four weeks up to last Friday (6 days before Thursday); "now" is the
    // Monday after (3 days before Thursday), 09:00.
    let rows = feed((6..=30).filter(|b| weekday(*b)), 50);
    assert_eq!(verdict(&rows, thursday(-3 * 24 + 9)).0, SourceStatus::Ok);
}

#[test]
fn a_feed_silent_for_the_whole_window_is_stale_and_a_new_one_is_not() {
    // Known from its lifetime row only: silent for 40 days.
    let old = feed(std::iter::once(40), 5);
    let h = source_health(&series(&[], &old), thursday(9));
    assert_eq!(h[0].status, SourceStatus::Stale, "{h:?}");
    assert_eq!(h[0].baseline_daily, Some(0.0));
    assert_eq!(
        h[0].reason,
        "no GoodsReceived from wms for 39 days; it usually pauses at most 24 hours"
    );
    // First seen today: no baseline yet, ok.
    let new = feed(std::iter::once(0), 5);
    let h = source_health(&series(&new, &[]), thursday(12));
    assert_eq!((h[0].status, h[0].baseline_daily), (SourceStatus::Ok, None));
}

#[test]
fn a_small_feed_is_never_quiet_a_large_one_is() {
    let mut small = feed(2..=28, 10);
    small.extend(feed(std::iter::once(1), 1));
    assert_eq!(verdict(&small, thursday(9)).0, SourceStatus::Ok);
    let mut large = feed(2..=28, 100);
    large.extend(feed(std::iter::once(1), 24));
    assert_eq!(verdict(&large, thursday(9)).0, SourceStatus::Quiet);
    let mut fine = feed(2..=28, 100);
    fine.extend(feed(std::iter::once(1), 26));
    assert_eq!(verdict(&fine, thursday(9)).0, SourceStatus::Ok);
}

#[test]
fn people_writing_through_the_api_are_not_a_feed() {
    // An editor who wrote daily for four weeks, then stopped: not judged at all.
    let mut rows = feed(5..=28, 40);
    for r in &mut rows {
        r.source = "api:alice".into();
    }
    assert!(source_health(&series(&rows, &[]), thursday(9)).is_empty());
}
