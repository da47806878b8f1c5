//! A transaction left open on the database hides every later commit from the
//! projector's snapshot-safe reads. The projector shows it (the oldest transaction's
//! age, events and seconds behind), projects everything once it ends, and Tierline's
//! own sessions end an idle transaction after ten minutes. Real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{append, inspection_of};
use tierline_clock::FixedClock;
use tierline_events::{Codec, Timestamp};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::Store;
use tierline_store::testing::{Backend, fresh};

/// The value of an unlabelled metric in the projector's exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_shows_as_a_stall_and_projection_resumes_after_it() {
    let db = fresh(Backend::Postgres).await.unwrap();
    let Store::Postgres(pg) = &db.store else {
        panic!("PostgreSQL")
    };
    // Tierline's own sessions end a transaction left idle after ten minutes.
    let timeout: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "10min");

    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap());
    let mut projector = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    append(
        &db.store,
        &[inspection_of("SUP-1", 1, "2026-06-10T09:00:00Z", 0)],
    )
    .await;
    assert_eq!(projector.step(&clock, 100).await.unwrap(), 1);

    // Another client opens a transaction (it has a transaction id) and leaves it open.
    let mut other = pg.pool().acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *other).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *other)
        .await
        .unwrap();
    // Events committed after it stay invisible to the projector while it is open.
    append(
        &db.store,
        &[inspection_of("SUP-1", 2, "2026-06-11T09:00:00Z", 0)],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(projector.step(&clock, 100).await.unwrap(), 0, "held back");
    let text = projector.metrics().encode();
    assert!(
        metric(&text, "tierline_oldest_transaction_seconds") >= 2.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tierline_projection_lag_events"),
        1.0,
        "{text}"
    );
    assert!(
        metric(&text, "tierline_projection_lag_seconds") >= 2.0,
        "{text}"
    );

    // Once it ends, the projector takes the event and the gauges fall back.
    sqlx::query("COMMIT").execute(&mut *other).await.unwrap();
    drop(other);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(projector.step(&clock, 100).await.unwrap(), 1);
    let text = projector.metrics().encode();
    assert_eq!(
        metric(&text, "tierline_projection_lag_events"),
        0.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, "tierline_projection_lag_seconds"),
        0.0,
        "{text}"
    );
    assert!(
        metric(&text, "tierline_oldest_transaction_seconds") < 2.0,
        "{text}"
    );
}
