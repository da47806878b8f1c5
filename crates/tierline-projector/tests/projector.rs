//! The projector and relay on both store backends (the real PostgreSQL server and an
//! SQLite file) with librdkafka's mock cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{append, project};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::{Offset, TopicPartitionList};
use tierline_clock::FixedClock;
use tierline_events::{Codec, Record, Timestamp, sample};
use tierline_projections::Projections;
use tierline_projector::{Projector, Role};
use tierline_relay::Relay;
use tierline_scoring::{Level, Policy, alert_id};
use tierline_store::Store;
use tierline_store::testing::{Backend, fresh};

const ALERTS: &str = "srm.supplier-alerts.v1";

fn inspection(n: u128, at: &str, critical: i32) -> Record {
    common::inspection_of("SUP-7", n, at, critical)
}

/// (value, headers) of one message.
type Published = (Vec<u8>, Vec<(String, String)>);

fn read_topic(brokers: &str) -> Vec<Published> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "reader")
        .create()
        .unwrap();
    let (_, high) = c
        .fetch_watermarks(ALERTS, 0, Duration::from_secs(5))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(ALERTS, 0, Offset::Beginning)
        .unwrap();
    c.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while (out.len() as i64) < high && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let headers = m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|x| {
                            (
                                x.key.to_owned(),
                                String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((m.payload().unwrap_or_default().to_vec(), headers));
        }
    }
    out
}

use tierline_store::on_both_backends;

on_both_backends!(an_alert_crossing_reaches_the_topic_exactly_once_with_its_deterministic_id);
async fn an_alert_crossing_reaches_the_topic_exactly_once_with_its_deterministic_id(
    backend: Backend,
) {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(ALERTS, 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let db = fresh(backend).await.unwrap();
    let policy = Arc::new(Policy::default());
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap());
    // Clean inspections for two weeks, then three critical defects today.
    let mut events: Vec<Record> = (0..10)
        .map(|n| inspection(n, &format!("2026-06-{:02}T09:00:00Z", n + 1), 0))
        .collect();
    append(&db.store, &events).await;
    let mut projector = Projector::open(db.store.clone(), Codec::default(), policy.clone(), "main")
        .await
        .unwrap();
    assert_eq!(project(&mut projector, &clock, 1000, 10).await, 10);
    let projections = Projections::of(&db.store);
    assert_eq!(
        projections.pending_count().await.unwrap(),
        0,
        "nothing to announce yet"
    );

    events = vec![inspection(100, "2026-06-15T10:00:00Z", 3)];
    append(&db.store, &events).await;
    assert_eq!(project(&mut projector, &clock, 1000, 1).await, 1);
    let relay = Relay::new(
        projections.clone(),
        ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .clone(),
        ALERTS,
        Arc::new(clock),
    )
    .unwrap();
    assert_eq!(
        relay.publish_pending(100).await.unwrap(),
        2,
        "WARNING (> 0) and CRITICAL (> 2)"
    );
    // Projecting and relaying again, or a restarted projector, announces nothing new.
    assert_eq!(projector.step(&clock, 1000).await.unwrap(), 0);
    projector.release().await;
    let mut restarted = Projector::open(db.store.clone(), Codec::default(), policy, "main")
        .await
        .unwrap();
    assert_eq!(restarted.catch_up(&clock, 1000).await.unwrap(), 0);
    assert_eq!(relay.publish_pending(100).await.unwrap(), 0);

    let messages = read_topic(&brokers);
    assert_eq!(messages.len(), 2, "exactly once");
    let pm = projector.metrics().encode();
    assert!(pm.contains("tierline_events_projected_total 11"), "{pm}");
    assert!(
        pm.contains("tierline_alerts_enqueued_total{record=\"SupplierAlertRaised\"} 2"),
        "{pm}"
    );
    assert!(pm.contains("tierline_projection_lag_events 0"), "{pm}");
    let rm = relay.metrics().encode();
    assert!(rm.contains("tierline_alerts_published_total 2"), "{rm}");
    // Each process exports only what it moves (a constant 0 from the projector made
    // the outbox-stuck alert fire).
    assert!(
        !pm.contains("alerts_published") && !pm.contains("outbox_pending"),
        "{pm}"
    );
    assert!(!rm.contains("events_projected"), "{rm}");
    assert!(rm.contains("tierline_outbox_pending 0"), "{rm}");
    let codec = Codec::default();
    let today = clock.0.date().unwrap();
    for (value, headers) in &messages {
        let Record::SupplierAlertRaised(a) = codec.decode(value).unwrap().record else {
            panic!("not an alert")
        };
        let level = if a.level == tierline_events::AlertLevel::Warning {
            Level::Warning
        } else {
            Level::Critical
        };
        assert_eq!(
            a.alert_id,
            alert_id("SUP-7", "critical_defects", level, today)
        );
        assert_eq!(
            (a.rule.as_str(), a.value, a.window_days, a.as_of),
            ("critical_defects", 3.0, 30, today)
        );
        assert_eq!(a.policy_version, Policy::default().version);
        let h = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(h("ce_id"), Some(a.alert_id.to_string()));
        assert_eq!(
            h("ce_type").as_deref(),
            Some("io.tierline.v1.SupplierAlertRaised")
        );
        assert_eq!(h("ce_subject").as_deref(), Some("SUP-7"));
        assert_eq!(h("ce_specversion").as_deref(), Some("1.0"));
    }
    // With no inspection in the window the count is insufficient: nothing changes.
    let later = FixedClock(Timestamp::parse_rfc3339("2026-07-20T12:00:00Z").unwrap());
    restarted.step(&later, 1000).await.unwrap();
    assert_eq!(relay.publish_pending(100).await.unwrap(), 0);
    // A clean inspection once the defects have left the window: both resolve, once.
    append(&db.store, &[inspection(101, "2026-07-16T09:00:00Z", 0)]).await;
    assert_eq!(project(&mut restarted, &later, 1000, 1).await, 1);
    assert_eq!(relay.publish_pending(100).await.unwrap(), 2);
    restarted.step(&later, 1000).await.unwrap();
    assert_eq!(relay.publish_pending(100).await.unwrap(), 0);
    let messages = read_topic(&brokers);
    let resolved: Vec<_> = messages
        .iter()
        .filter_map(|(v, headers)| match codec.decode(v).unwrap().record {
            Record::SupplierAlertResolved(r) => Some((r, headers)),
            _ => None,
        })
        .collect();
    assert_eq!(resolved.len(), 2);
    for (r, headers) in &resolved {
        // Its own message id, not the raise's: UUIDv5 of `{alert_id}|RESOLVED`.
        let id = uuid::Uuid::new_v5(
            &tierline_scoring::ID_NAMESPACE,
            format!("{}|RESOLVED", r.alert_id).as_bytes(),
        );
        let ce_id = headers.iter().find(|(k, _)| k == "ce_id").map(|(_, v)| v);
        assert_eq!(ce_id, Some(&id.to_string()));
        assert_eq!(r.reason, tierline_events::ResolutionReason::Cleared);
    }
    let resolved: Vec<_> = resolved.into_iter().map(|(r, _)| r).collect();
    assert!(
        resolved
            .iter()
            .all(|r| r.as_of == tierline_events::Date::from_ymd(2026, 7, 16).unwrap()),
        "{resolved:?}"
    );
    assert!(resolved.iter().all(|r| r.value == 0.0));
    db.cleanup().await;
}

/// Every projection row as text, in key order (each backend's own JSON).
async fn snapshot(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    match store {
        Store::Postgres(pg) => {
            for sql in [
                "SELECT row_to_json(t)::text FROM (SELECT supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts FROM indicator_daily ORDER BY 1, 2, 3) t",
                "SELECT row_to_json(t)::text FROM (SELECT supplier_id, window_days, as_of, composite, coverage, tier, dimensions, indicators, first_day FROM scorecards ORDER BY 1, 2) t",
                "SELECT row_to_json(t)::text FROM (SELECT supplier_id, day, score, tier FROM tier_history ORDER BY 1, 2) t",
                "SELECT row_to_json(t)::text FROM (SELECT alert_id, supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end, retracted_at IS NOT NULL AS retracted FROM alert_episodes ORDER BY 1) t",
                "SELECT row_to_json(t)::text FROM (SELECT supplier_id, as_of, status, tier, credit, critical_open, failed_plans FROM supplier_standing ORDER BY 1) t",
            ] {
                out.extend(
                    sqlx::query_scalar::<_, String>(sql)
                        .fetch_all(pg.pool())
                        .await
                        .unwrap(),
                );
            }
        }
        Store::Sqlite(lite) => {
            for sql in [
                "SELECT json_array(supplier_id, indicator, day, numerator, denominator, samples, hex(numerator_parts), hex(denominator_parts)) FROM indicator_daily ORDER BY 1",
                "SELECT json_array(supplier_id, window_days, as_of, composite, coverage, tier, dimensions, indicators, first_day) FROM scorecards ORDER BY supplier_id, window_days",
                "SELECT json_array(supplier_id, day, score, tier) FROM tier_history ORDER BY supplier_id, day",
                "SELECT json_array(hex(alert_id), supplier_id, rule, level, threshold, window_days, started_on, value_at_start, ended_on, value_at_end, retracted_at IS NOT NULL) FROM alert_episodes ORDER BY alert_id",
                "SELECT json_array(supplier_id, as_of, status, tier, credit, critical_open, failed_plans) FROM supplier_standing ORDER BY supplier_id",
            ] {
                out.extend(
                    sqlx::query_scalar::<_, String>(sql)
                        .fetch_all(lite.pool())
                        .await
                        .unwrap(),
                );
            }
        }
    }
    out
}

on_both_backends!(projector_and_relay_run_as_services_until_stopped);
async fn projector_and_relay_run_as_services_until_stopped(backend: Backend) {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(ALERTS, 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let db = fresh(backend).await.unwrap();
    let clock: Arc<FixedClock> = Arc::new(FixedClock(
        Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap(),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut projector = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    let relay = Relay::new(
        Projections::of(&db.store),
        ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .clone(),
        ALERTS,
        clock.clone(),
    )
    .unwrap();
    let relay_metrics = relay.metrics();
    let projecting = {
        let (clock, stopped) = (clock.clone(), stopped.clone());
        tokio::spawn(async move {
            projector
                .run(clock.as_ref(), 1000, Duration::from_millis(10), stopped)
                .await
        })
    };
    let relaying =
        tokio::spawn(async move { relay.run(100, Duration::from_millis(10), stopped).await });
    // Three critical defects today: a WARNING and a CRITICAL alert, published by the
    // services on their own.
    append(&db.store, &[inspection(1, "2026-06-15T10:00:00Z", 3)]).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while relay_metrics.messages_published.get() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was published"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    projecting.await.unwrap().unwrap();
    relaying.await.unwrap();
    let messages = read_topic(&brokers);
    assert_eq!(messages.len(), 2);
    // A clean stop released the lease: a new projector takes over at once.
    let next = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    assert_eq!(next.role(), Role::Active);
    db.cleanup().await;
}

on_both_backends!(an_idle_projector_wakes_when_events_are_appended);
async fn an_idle_projector_wakes_when_events_are_appended(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let clock = Arc::new(FixedClock(
        Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap(),
    ));
    let mut projector = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    let metrics = projector.metrics();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Polling only every ten minutes: only the wake-up can project the events in time.
    let running = {
        let clock = clock.clone();
        tokio::spawn(async move {
            projector
                .run(clock.as_ref(), 1000, Duration::from_secs(600), stopped)
                .await
        })
    };
    // Let it take its first (empty) step and go idle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    // PostgreSQL: an older transaction still open hides the new events from the global
    // cursor when the wake-up arrives; the projector must look again once it ends.
    let older = match backend {
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("SELECT pg_current_xact_id()")
                .execute(&mut c)
                .await
                .unwrap();
            Some(c)
        }
        Backend::Sqlite => None,
    };
    append(&db.store, &[inspection(1, "2026-06-15T10:00:00Z", 0)]).await;
    if let Some(mut c) = older {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            metrics.events_projected.get(),
            0,
            "hidden by the older transaction"
        );
        sqlx::query("COMMIT").execute(&mut c).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while metrics.events_projected.get() < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle projector was not woken by the append"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    db.cleanup().await;
}

on_both_backends!(rebuild_equals_the_live_projections);
async fn rebuild_equals_the_live_projections(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    // The live projector sees the day roll over twice midway (tier history grows by the
    // new days; only changed days are rewritten); the rebuild runs on the last day.
    let days = [
        FixedClock(Timestamp::parse_rfc3339("2026-12-28T12:00:00Z").unwrap()),
        FixedClock(Timestamp::parse_rfc3339("2026-12-29T08:00:00Z").unwrap()),
        FixedClock(Timestamp::parse_rfc3339("2026-12-31T12:00:00Z").unwrap()),
    ];
    let clock = &days[2];
    let mut live = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    // Events arrive in several appends, out of business-time order; the projector
    // follows along in small steps, so late events correct days already projected.
    let events: Vec<Record> = sample::mix(3000, 5)
        .into_iter()
        .filter(|r| r.supplier_id() < "SUP-00012")
        .collect();
    assert!(events.len() > 80, "{}", events.len());
    let mut projected = 0;
    let chunks: Vec<&[Record]> = events.chunks(17).collect();
    for (k, chunk) in chunks.iter().enumerate() {
        append(&db.store, chunk).await;
        let today = &days[k * days.len() / chunks.len()];
        projected += live.step(today, 7).await.unwrap();
    }
    projected += project(&mut live, clock, 7, events.len() - projected).await;
    assert_eq!(projected, events.len());
    let live_view = snapshot(&db.store).await;
    assert!(live_view.len() > 1000, "{}", live_view.len());
    live.release().await;
    let mut rebuilt = Projector::open(
        db.store.clone(),
        Codec::default(),
        Arc::new(Policy::default()),
        "main",
    )
    .await
    .unwrap();
    let n = rebuilt.rebuild(clock).await.unwrap();
    let n = n + project(&mut rebuilt, clock, 1000, events.len() - n).await;
    assert_eq!(n, events.len());
    let rebuilt_view = snapshot(&db.store).await;
    assert_eq!(live_view.len(), rebuilt_view.len());
    for (a, b) in live_view.iter().zip(&rebuilt_view) {
        assert_eq!(a, b);
    }
    db.cleanup().await;
}

on_both_backends!(a_policy_changed_under_the_same_version_rebuilds_the_projections);
async fn a_policy_changed_under_the_same_version_rebuilds_the_projections(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap());
    let events: Vec<Record> = (0..5)
        .map(|n| inspection(n, &format!("2026-06-{:02}T09:00:00Z", n + 1), 0))
        .collect();
    append(&db.store, &events).await;
    let policy = Arc::new(Policy::default());
    let open = |policy: Arc<Policy>| {
        let store = db.store.clone();
        async move {
            Projector::open(store, Codec::default(), policy, "main")
                .await
                .unwrap()
        }
    };
    let mut p = open(policy.clone()).await;
    assert_eq!(project(&mut p, &clock, 1000, 5).await, 5);
    p.release().await;
    // The same policy again: it resumes from its checkpoint.
    let mut same = open(policy.clone()).await;
    let head = same.cursor();
    assert_ne!(head, tierline_store::Cursor::START);
    let before = same
        .projections()
        .checkpoint("main")
        .await
        .unwrap()
        .unwrap();
    same.release().await;
    // Another threshold under the same version string: it rebuilds on opening, in one
    // transaction, and has nothing left to project.
    let mut changed = (*policy).clone();
    changed.alerts[0].warning = 0.5;
    assert_eq!(changed.version, policy.version);
    let mut rebuilt = open(Arc::new(changed)).await;
    let after = rebuilt
        .projections()
        .checkpoint("main")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(after.policy_digest, before.policy_digest);
    assert_eq!(after.cursor, head);
    assert_eq!(rebuilt.cursor(), head);
    assert_eq!(rebuilt.step(&clock, 1000).await.unwrap(), 0);
    db.cleanup().await;
}

on_both_backends!(a_second_projector_stands_by_and_takes_over_when_the_first_dies);
async fn a_second_projector_stands_by_and_takes_over_when_the_first_dies(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let clock = Arc::new(FixedClock(
        Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap(),
    ));
    let events: Vec<Record> = (0..6)
        .map(|n| inspection(n, &format!("2026-06-{:02}T09:00:00Z", n + 1), 0))
        .collect();
    append(&db.store, &events[..3]).await;
    let ttl = Duration::from_millis(600);
    let start = |stop| {
        let (store, clock) = (db.store.clone(), clock.clone());
        async move {
            let mut p = Projector::open_with_lease(
                store,
                Codec::default(),
                Arc::new(Policy::default()),
                "main",
                ttl,
            )
            .await
            .unwrap();
            let metrics = p.metrics();
            let task = tokio::spawn(async move {
                p.run(clock.as_ref(), 1000, Duration::from_millis(20), stop)
                    .await
            });
            (metrics, task)
        }
    };
    let (_stop_a, stop_rx_a) = tokio::sync::watch::channel(false);
    let (_stop_b, stop_rx_b) = tokio::sync::watch::channel(false);
    let (a, task_a) = start(stop_rx_a).await;
    let (b, task_b) = start(stop_rx_b).await;
    // Exactly one projects.
    let projections = Projections::of(&db.store);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while projections
        .checkpoint("main")
        .await
        .unwrap()
        .map(|c| c.cursor.position)
        != Some(3)
    {
        assert!(std::time::Instant::now() < deadline, "nothing projected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let roles = (a.active.get(), b.active.get());
    assert!(
        roles == (1, 0) || roles == (0, 1),
        "one active, one standby: {roles:?}"
    );
    let (active_task, standby) = if roles.0 == 1 {
        (task_a, &b)
    } else {
        (task_b, &a)
    };
    // The active one dies without releasing its lease (a crash).
    active_task.abort();
    let killed = std::time::Instant::now();
    while standby.active.get() != 1 {
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the standby never took over"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "{backend:?}: the standby took over {} ms after the active projector died (lease {} ms)",
        killed.elapsed().as_millis(),
        ttl.as_millis()
    );
    // It continues from the checkpoint: later events are projected once.
    append(&db.store, &events[3..]).await;
    while projections
        .checkpoint("main")
        .await
        .unwrap()
        .map(|c| c.cursor.position)
        != Some(6)
    {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the new projector does not project"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        standby.events_projected.get(),
        3,
        "only the events after the takeover"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_whose_lease_was_taken_over_stands_by_and_cannot_step() {
    let db = fresh(Backend::Sqlite).await.unwrap();
    let clock = FixedClock(Timestamp::parse_rfc3339("2026-06-15T12:00:00Z").unwrap());
    append(&db.store, &[inspection(1, "2026-06-01T09:00:00Z", 0)]).await;
    let open = |ttl| {
        Projector::open_with_lease(
            db.store.clone(),
            Codec::default(),
            Arc::new(Policy::default()),
            "main",
            ttl,
        )
    };
    let mut first = open(Duration::from_millis(50)).await.unwrap();
    assert_eq!(first.role(), Role::Active);
    let mut second = open(tierline_projector::LEASE_TTL).await.unwrap();
    assert_eq!(second.role(), Role::Standby);
    assert!(matches!(
        second.step(&clock, 10).await,
        Err(tierline_projector::ProjectorError::Standby(_))
    ));
    // The first stalls past its lease; the second takes it and projects.
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(second.step(&clock, 10).await.unwrap(), 1);
    assert_eq!(second.role(), Role::Active);
    // The first wakes up: it may not write, and says why.
    let err = first.step(&clock, 10).await.unwrap_err();
    assert!(
        matches!(err, tierline_projector::ProjectorError::Standby(_)),
        "{err}"
    );
    assert_eq!(first.role(), Role::Standby);
    db.cleanup().await;
}
