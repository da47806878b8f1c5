//! End to end on a real broker (Apache Kafka, a separate process; tansu with
//! `TIERLINE_E2E_BROKER=tansu`) and the real
//! PostgreSQL: `tierline ingest`, `project`, `relay` and `serve` as separate processes,
//! fed by a producer we did not write (Python confluent-kafka + fastavro, from the .avsc
//! files: `tests/e2e/produce.py`), checked through the HTTP API, the store and the
//! alerts and dead-letter topics, and hurt on purpose.
//!
//! Needs the broker's jars (`scripts/kafka install`, which scripts/test runs) and
//! `TIERLINE_PYTHON` with confluent-kafka and fastavro (scripts/test sets it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use common::{free_port, http_get};
use e2e_world::*;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use tierline_events::{Date, Disposition, InspectionCompleted, Record, Timestamp};
use tierline_scoring::{Level, alert_id};

/// The end-to-end tests each run a broker, a PostgreSQL server and the services: one
/// at a time on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn inspection(n: u128, day: &str, defective: f64, disposition: Disposition) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_e000 | n),
        source: "qms-e2e".into(),
        occurred_at: Timestamp::parse_rfc3339(&format!("{day}T10:00:00Z")).unwrap(),
        supplier_id: "E2E-A".into(),
        inspection_id: format!("IN-E2E-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM".into(),
        inspected_quantity: 100.0,
        defective_quantity: defective,
        critical_defects: 0,
        disposition,
        posting_date: None,
    }
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_stream_faults_and_poison_on_a_real_broker() {
    let _serial = SERIAL.lock().await;
    let mut w = world().await;
    let api = w.ports[3];

    // 1. A stream worked out by hand: six inspections of 100 units, 5 defective each,
    // three rejected, on 2026-06-10. Window 30 as of 2026-06-15: defect_ppm =
    // 30 / 600 x 1e6 = 50,000 (subscore 0), lot_acceptance_rate = 3 / 6 = 0.5
    // (subscore 0): quality 0; no other dimension has data: coverage 0.35 < 0.5, so no
    // composite and the tier is UNRATED. Alerts open on 2026-06-10 and still open:
    // defect_ppm WARNING (> 5,000) and CRITICAL (> 10,000), lot_acceptance_rate WARNING
    // (< 0.95) and CRITICAL (< 0.90); critical_defects stays closed (0 is not > 0).
    let known: Vec<Record> = (0..6)
        .map(|n| {
            let d = if n % 2 == 0 {
                Disposition::Accepted
            } else {
                Disposition::Rejected
            };
            inspection(n, "2026-06-10", 5.0, d)
        })
        .collect();
    // 2. Poison mixed in: 10 messages that break the contract.
    let poison = 10;
    produce(&w.brokers, &w.dir, &known, poison, false);
    let card: serde_json::Value = until("the hand-worked scorecard", 60, || {
        let (s, b) = http_get(api, "/v1/suppliers/E2E-A/scorecard?window=30")?;
        (s == 200).then(|| serde_json::from_str(&b).unwrap())
    });
    let ind = &card["indicators"];
    assert_eq!(ind["defect_ppm"]["value"].as_f64(), Some(50_000.0));
    assert_eq!(ind["defect_ppm"]["numerator"].as_f64(), Some(30.0));
    assert_eq!(ind["defect_ppm"]["denominator"].as_f64(), Some(600.0));
    assert_eq!(ind["defect_ppm"]["subscore"].as_f64(), Some(0.0));
    assert_eq!(ind["lot_acceptance_rate"]["value"].as_f64(), Some(0.5));
    assert_eq!(ind["lot_acceptance_rate"]["samples"].as_u64(), Some(6));
    assert_eq!(ind["critical_defects"]["value"].as_f64(), Some(0.0));
    assert_eq!(card["dimensions"]["quality"].as_f64(), Some(0.0));
    assert!(card["dimensions"]["delivery"].is_null() && card["score"].is_null());
    assert_eq!(card["tier"], "UNRATED");
    let day = Date::from_ymd(2026, 6, 10).unwrap();
    let want: HashSet<String> = [
        ("defect_ppm", Level::Warning),
        ("defect_ppm", Level::Critical),
        ("lot_acceptance_rate", Level::Warning),
        ("lot_acceptance_rate", Level::Critical),
    ]
    .iter()
    .map(|(r, l)| alert_id("E2E-A", r, *l, day).to_string())
    .collect();
    let listed: HashSet<String> = until("four open alerts in the API", 60, || {
        let (_, b) = http_get(api, "/v1/alerts?supplier_id=E2E-A&status=open")?;
        let v: serde_json::Value = serde_json::from_str(&b).ok()?;
        let ids: HashSet<String> = v["items"]
            .as_array()?
            .iter()
            .map(|a| a["alert_id"].as_str().unwrap().to_owned())
            .collect();
        (ids.len() == 4).then_some(ids)
    });
    assert_eq!(listed, want);
    let on_topic: HashSet<String> = until("the four alerts on srm.supplier-alerts.v1", 60, || {
        let ids: HashSet<String> = read_topic(&w.brokers, "srm.supplier-alerts.v1")
            .into_iter()
            .filter(|(_, t)| t.ends_with("SupplierAlertRaised"))
            .map(|(id, _)| id)
            .collect();
        want.is_subset(&ids).then_some(ids)
    });
    assert_eq!(on_topic.len(), 4, "each alert exactly once: {on_topic:?}");
    let dead = until("the dead letters", 60, || {
        let n = read_topic(&w.brokers, "srm.dead-letter.v1").len();
        (n >= poison).then_some(n)
    });
    assert_eq!(dead, poison, "dead letters = injected poison messages");
    eprintln!(
        "known stream: 6 produced, scorecard and 4 alerts as worked out; {poison} poison -> {dead} dead letters"
    );

    // 3. Under load, SIGKILL ingest, the projector and the relay at moments spread over
    // the stream; each restarted. Nothing lost, nothing doubled.
    let sim_today = Date::from_ymd(2026, 6, 14).unwrap();
    let mut sim =
        tierline_sim::Simulator::new(tierline_sim::SimConfig::ending(sim_today, 60, 20, 11));
    let stream: Vec<Record> = (sim.config().start.0..=sim_today.0)
        .flat_map(|d| sim.emit_day(Date(d)))
        .collect();
    let distinct: HashSet<(String, uuid::Uuid)> = stream
        .iter()
        .filter_map(|r| r.envelope().map(|e| (e.source.to_owned(), e.event_id)))
        .collect();
    let chunks: Vec<&[Record]> = stream.chunks(stream.len() / 6 + 1).collect();
    let started = Instant::now();
    for (k, chunk) in chunks.iter().enumerate() {
        produce(&w.brokers, &w.dir, chunk, 0, false);
        match k % 3 {
            0 => w.ingest.restart(),
            1 => w.project.restart(),
            _ => w.relay.restart(),
        }
    }
    let store = w.db.store.clone();
    let expected = distinct.len() as i64 + known.len() as i64;
    let stored = wait_count(&store, expected).await;
    assert_eq!(stored, expected, "stored = distinct produced");
    let ids: HashSet<(String, uuid::Uuid)> =
        sqlx::query_as::<_, (String, uuid::Uuid)>("SELECT source, event_id FROM events")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert!(
        distinct.is_subset(&ids),
        "{} produced events are missing",
        distinct.difference(&ids).count()
    );
    eprintln!(
        "kills under load: {} messages ({} distinct) produced, {stored} stored (incl. the 6 known), lost 0, doubled 0, {:.1} s",
        stream.len(),
        distinct.len(),
        started.elapsed().as_secs_f64()
    );

    // Projections equal a rebuild: wait for the projector, snapshot, rebuild, compare.
    let snapshot = |pool: sqlx::PgPool| async move {
        let q = "SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM (
                   SELECT supplier_id, indicator, day, numerator, denominator, samples, numerator_parts, denominator_parts
                   FROM indicator_daily) t";
        let daily: Option<String> = sqlx::query_scalar(q).fetch_one(&pool).await.unwrap();
        let tiers: Option<String> = sqlx::query_scalar("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM (SELECT supplier_id, day, score, tier FROM tier_history) t")
            .fetch_one(&pool)
            .await
            .unwrap();
        let alerts: Option<String> = sqlx::query_scalar("SELECT string_agg(t::text, E'\\n' ORDER BY t::text) FROM (SELECT alert_id, started_on, ended_on, value_at_start, value_at_end, retracted_at IS NOT NULL FROM alert_episodes) t")
            .fetch_one(&pool)
            .await
            .unwrap();
        (daily, tiers, alerts)
    };
    wait_projected(&store).await;
    let pool = store.pool().clone();
    assert!(w.project.term(), "the projector did not stop cleanly");
    let live = snapshot(pool.clone()).await;
    let out = Command::new(env!("CARGO_BIN_EXE_tierline"))
        .args([
            "rebuild",
            "--store",
            &w.db.url,
            "--pin-date",
            PIN,
            "--log",
            "warn",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rebuilt = snapshot(pool.clone()).await;
    for (name, a, b) in [
        ("indicator_daily", &live.0, &rebuilt.0),
        ("tier_history", &live.1, &rebuilt.1),
        ("alert_episodes", &live.2, &rebuilt.2),
    ] {
        let (a, b) = (a.as_deref().unwrap_or(""), b.as_deref().unwrap_or(""));
        let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
        assert!(
            a == b,
            "{name} differs from a rebuild: {} vs {} rows; first difference (live, rebuilt): {first:?}",
            a.lines().count(),
            b.lines().count()
        );
    }
    w.project.spawn();

    // Every announced alert is on the topic with its id.
    let announced: HashSet<String> = sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT alert_id FROM alert_episodes WHERE raised_at IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .map(|u| u.to_string())
    .collect();
    let raised: HashSet<String> = until("every announced alert on the topic", 60, || {
        let ids: HashSet<String> = read_topic(&w.brokers, "srm.supplier-alerts.v1")
            .into_iter()
            .filter(|(_, t)| t.ends_with("SupplierAlertRaised"))
            .map(|(id, _)| id)
            .collect();
        announced.is_subset(&ids).then_some(ids)
    });
    eprintln!(
        "alerts: {} announced, all {} on the topic; projections equal a rebuild",
        announced.len(),
        raised.len()
    );

    // 4. The broker killed (SIGKILL) and restarted mid-stream: ingest's readiness
    // drops, then recovers by itself; nothing lost.
    let more: Vec<Record> = (0..200)
        .map(|n| inspection(1000 + n, "2026-06-12", 0.0, Disposition::Accepted))
        .collect();
    produce(&w.brokers, &w.dir, &more[..100], 0, false);
    let t0 = Instant::now();
    w.broker.kill9();
    wait_status(
        w.ports[0],
        503,
        60,
        "ingest readiness to drop with the broker",
    );
    w.broker.spawn();
    wait_status(w.ports[0], 200, 120, "ingest readiness to come back");
    let recovered = t0.elapsed();
    produce(&w.brokers, &w.dir, &more[100..], 0, false);
    let expected = expected + 200;
    let stored = wait_count(&store, expected).await;
    assert_eq!(stored, expected);
    eprintln!(
        "broker restart: readiness 503 then 200 after {:.1} s; {stored} stored, lost 0",
        recovered.as_secs_f64()
    );

    // 5. PostgreSQL restarted mid-stream: every service's readiness drops, then
    // recovers by itself; nothing lost.
    let batch: Vec<Record> = (0..300)
        .map(|n| inspection(3000 + n, "2026-06-13", 1.0, Disposition::Accepted))
        .collect();
    produce(&w.brokers, &w.dir, &batch[..150], 0, false);
    let t0 = Instant::now();
    w.db.stop();
    for p in w.ports {
        wait_status(
            p,
            503,
            60,
            &format!("readiness on {p} to drop with the database"),
        );
    }
    produce(&w.brokers, &w.dir, &batch[150..], 0, false);
    std::thread::sleep(Duration::from_secs(2));
    w.db.start();
    for p in w.ports {
        wait_status(p, 200, 120, &format!("readiness on {p} to come back"));
    }
    let recovered = t0.elapsed();
    let expected = expected + 300;
    let stored = wait_count(&store, expected).await;
    assert_eq!(stored, expected);
    eprintln!(
        "database restart: readiness 503 then 200 on all four services, {:.1} s down to recovered; {stored} stored, lost 0",
        recovered.as_secs_f64()
    );

    for p in [&mut w.ingest, &mut w.project, &mut w.relay, &mut w.serve] {
        assert!(p.term(), "{} did not stop cleanly on SIGTERM", p.name);
    }
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One simulated stream of `days` days for 20 suppliers ending 2026-06-14 (seeded), and
/// its distinct (source, event id) pairs.
fn sim_stream(days: i32, seed: u64) -> (Vec<Record>, HashSet<(String, uuid::Uuid)>) {
    let today = Date::from_ymd(2026, 6, 14).unwrap();
    let mut sim =
        tierline_sim::Simulator::new(tierline_sim::SimConfig::ending(today, days, 20, seed));
    let stream: Vec<Record> = (sim.config().start.0..=today.0)
        .flat_map(|d| sim.emit_day(Date(d)))
        .collect();
    let distinct = stream
        .iter()
        .filter_map(|r| r.envelope().map(|e| (e.source.to_owned(), e.event_id)))
        .collect();
    (stream, distinct)
}

/// (stored rows, distinct stored, produced events missing) of the store against `produced`.
async fn audit(
    store: &tierline_store::PgStore,
    produced: &HashSet<(String, uuid::Uuid)>,
) -> (usize, usize, usize) {
    let ids: Vec<(String, uuid::Uuid)> =
        sqlx::query_as::<_, (String, uuid::Uuid)>("SELECT source, event_id FROM events")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let unique: HashSet<(String, uuid::Uuid)> = ids.iter().cloned().collect();
    (
        ids.len(),
        unique.len(),
        produced.difference(&unique).count(),
    )
}

/// The inbound topics' partitions: six topics of three.
const PARTITIONS: u64 = 18;

/// Two ingest instances in one group. The second is stopped (SIGTERM) while it works
/// through its share of a stream: the first takes over its partitions, and the store
/// holds every produced event exactly once. Then the second, back in the group, is
/// SIGKILLed mid-stream: after the session timeout the first takes over its partitions,
/// and again nothing is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingest_instances_one_stopped_or_killed() {
    let _serial = SERIAL.lock().await;
    let mut w = world().await;
    let store = w.db.store.clone();
    let port_b = free_port();
    let mut b = ingest_proc("ingest-b", port_b, &w.common, 6000);
    let both_hold_partitions = |what: &str| {
        until(what, 90, || {
            let (a, bb) = (assigned(w.ports[0])?, assigned(port_b)?);
            (a > 0 && bb > 0 && a + bb == PARTITIONS).then_some((a, bb))
        })
    };
    let split = both_hold_partitions("both ingest instances to hold partitions (18 in all)");

    // 1. SIGTERM of the second instance mid-stream: it leaves the group; the first takes over.
    let (stream, mut produced) = sim_stream(45, 23);
    let half = stream.len() / 2;
    produce(&w.brokers, &w.dir, &stream[..half], 0, false);
    let b_stored = until("the second instance to store events", 60, || {
        appended(port_b).filter(|n| *n > 0)
    });
    let stopped_at = Instant::now();
    assert!(
        b.term(),
        "the second instance did not stop cleanly on SIGTERM"
    );
    produce(&w.brokers, &w.dir, &stream[half..], 0, false);
    until("the first instance to hold all 18 partitions", 60, || {
        (assigned(w.ports[0])? == PARTITIONS).then_some(())
    });
    let takeover = stopped_at.elapsed();
    let stored = wait_count(&store, produced.len() as i64).await;
    let (rows, unique, missing) = audit(&store, &produced).await;
    eprintln!(
        "two ingest instances ({}+{} partitions), the second stopped (SIGTERM) after storing {b_stored} events: {} messages ({} distinct) produced, {stored} stored, lost {missing}, doubled {}; all 18 partitions on the first {:.1} s after the stop",
        split.0,
        split.1,
        stream.len(),
        produced.len(),
        rows - unique,
        takeover.as_secs_f64()
    );
    assert_eq!((missing, rows - unique), (0, 0), "lost, doubled");
    assert_eq!(stored, produced.len() as i64, "stored = distinct produced");

    // 2. The second instance back, then SIGKILLed mid-stream.
    b.spawn();
    both_hold_partitions("the restarted instance to rejoin the group");
    let (more, more_ids) = sim_stream(30, 29);
    assert!(
        produced.is_disjoint(&more_ids),
        "a second stream of new events"
    );
    produced.extend(more_ids);
    let half = more.len() / 2;
    let b_before = appended(port_b).unwrap_or(0);
    produce(&w.brokers, &w.dir, &more[..half], 0, false);
    let b_stored = until("the second instance to store events again", 60, || {
        appended(port_b).filter(|n| *n > b_before)
    });
    let killed_at = Instant::now();
    b.kill9();
    produce(&w.brokers, &w.dir, &more[half..], 0, false);
    // The session timeout here is 6 s: the coordinator drops the dead member after it
    // and the survivor takes its partitions.
    until(
        "the survivor to hold all 18 partitions after the kill",
        60,
        || (assigned(w.ports[0])? == PARTITIONS).then_some(()),
    );
    let takeover = killed_at.elapsed();
    let stored = wait_count(&store, produced.len() as i64).await;
    let (rows, unique, missing) = audit(&store, &produced).await;
    eprintln!(
        "the second instance SIGKILLed after storing {} more events: all 18 partitions on the first {:.1} s after the kill; {} more messages produced, {stored} stored in all, lost {missing}, doubled {}",
        b_stored - b_before,
        takeover.as_secs_f64(),
        more.len(),
        rows - unique
    );
    assert_eq!((missing, rows - unique), (0, 0), "lost, doubled");
    assert_eq!(stored, produced.len() as i64, "stored = distinct produced");
    // The killed instance comes back and rejoins without disturbing anything.
    b.spawn();
    both_hold_partitions("the killed instance to rejoin the group");
    assert_eq!(
        tierline_store::EventStore::count(&store).await.unwrap(),
        stored,
        "nothing new, nothing doubled"
    );
    for p in [&mut w.ingest, &mut b] {
        assert!(p.term(), "{} did not stop cleanly on SIGTERM", p.name);
    }
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}

/// (started_on, ended_on) of an episode in the API.
type Span = (String, Option<String>);

/// Waits (up to 2 minutes) until the projector's checkpoint holds the store's last
/// event. (Its lag metric is only refreshed by a step that projected something, so it
/// reads 0 for a moment after new events are stored.)
async fn wait_projected(store: &tierline_store::PgStore) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let behind: Option<bool> = sqlx::query_scalar(
            "SELECT (SELECT max(position) FROM events) > (SELECT max(position) FROM projection_checkpoint)",
        )
        .fetch_one(store.pool())
        .await
        .ok()
        .flatten();
        if behind == Some(false) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the projector did not catch up in 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every alert of `/v1/alerts?status=all`, page by page.
fn all_alerts(api: u16) -> Vec<serde_json::Value> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/alerts?status=all&page_size=500&page_token={t}"),
            None => "/v1/alerts?status=all&page_size=500".to_owned(),
        };
        let (status, body) = http_get(api, &path).expect("the API answers");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        items.extend(v["items"].as_array().unwrap().iter().cloned());
        match v["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return items,
        }
    }
}

/// A simulated stream shuffled (late receipts, events before their orders, re-sent
/// duplicates), produced in batches that the projector follows one by one: the alert
/// list the API gives equals the current evaluation of the complete stream, episodes
/// announced on partial data and erased later are listed as retracted, and no two
/// episodes of one (supplier, rule, level) overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shuffled_stream_lists_the_alerts_of_the_complete_history() {
    let _serial = SERIAL.lock().await;
    let w = world().await;
    let api = w.ports[3];
    let (stream, distinct) = sim_stream(120, 41);
    let mut delivery = tierline_events::sample::shuffled(&stream, 0x9e37_79b9_7f4a_7c15);
    delivery.extend(delivery.iter().step_by(9).cloned().collect::<Vec<_>>());
    let mut seen = HashSet::new();
    for chunk in delivery.chunks(delivery.len() / 8 + 1) {
        produce(&w.brokers, &w.dir, chunk, 0, false);
        seen.extend(
            chunk
                .iter()
                .filter_map(|r| r.envelope().map(|e| (e.source.to_owned(), e.event_id))),
        );
        let stored = wait_count(&w.db.store, seen.len() as i64).await;
        assert_eq!(
            stored,
            seen.len() as i64,
            "stored = distinct produced so far"
        );
        wait_projected(&w.db.store).await;
    }
    assert_eq!(seen, distinct);

    // The truth: the scoring engine over the complete stream, as of the pinned date.
    let policy = std::sync::Arc::new(tierline_scoring::Policy::default());
    let mut ledgers: std::collections::BTreeMap<String, tierline_scoring::SupplierLedger> =
        Default::default();
    for r in &stream {
        ledgers
            .entry(r.supplier_id().to_owned())
            .or_insert_with(|| {
                tierline_scoring::SupplierLedger::new(r.supplier_id(), policy.clone())
            })
            .apply(r);
    }
    let pin = Date::from_naive(PIN.parse().unwrap());
    let truth: HashSet<(String, String, Option<String>)> = ledgers
        .values()
        .flat_map(|l| l.announced_episodes(pin))
        .map(|e| {
            (
                e.alert_id.to_string(),
                e.started_on.to_string(),
                e.ended_on.map(|d| d.to_string()),
            )
        })
        .collect();
    let items = all_alerts(api);
    let key = |a: &serde_json::Value| {
        (
            a["alert_id"].as_str().unwrap().to_owned(),
            a["started_on"].as_str().unwrap().to_owned(),
            a["ended_on"].as_str().map(str::to_owned),
        )
    };
    let (retracted, listed): (Vec<_>, Vec<_>) =
        items.iter().partition(|a| a["status"] == "retracted");
    let listed: HashSet<_> = listed.into_iter().map(key).collect();
    assert!(
        listed == truth,
        "the API's alerts differ from the complete history: only in the API {:?}, only in the history {:?}",
        listed.difference(&truth).collect::<Vec<_>>(),
        truth.difference(&listed).collect::<Vec<_>>()
    );
    for a in &retracted {
        assert_eq!(
            a["ended_on"], a["started_on"],
            "a retracted episode was never open"
        );
        assert!(a["retracted_at"].is_string());
    }
    // No two non-retracted episodes of one (supplier, rule, level) overlap.
    let mut spans: std::collections::BTreeMap<(String, String, String), Vec<Span>> =
        Default::default();
    for a in items.iter().filter(|a| a["status"] != "retracted") {
        spans
            .entry((
                a["supplier_id"].as_str().unwrap().to_owned(),
                a["rule"].as_str().unwrap().to_owned(),
                a["level"].as_str().unwrap().to_owned(),
            ))
            .or_default()
            .push((key(a).1, key(a).2));
    }
    for (k, mut s) in spans {
        s.sort();
        for pair in s.windows(2) {
            assert!(
                pair[0].1.as_ref().is_some_and(|end| *end <= pair[1].0),
                "{k:?}: overlapping episodes {pair:?}"
            );
        }
    }
    // Open alerts in the API are exactly the open ones of the complete history.
    let (_, body) = http_get(api, "/v1/alerts?status=open&page_size=500").unwrap();
    let open: serde_json::Value = serde_json::from_str(&body).unwrap();
    let open_ids: HashSet<String> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap().to_owned())
        .collect();
    let truth_open: HashSet<String> = truth
        .iter()
        .filter(|t| t.2.is_none())
        .map(|t| t.0.clone())
        .collect();
    assert_eq!(open_ids, truth_open);
    eprintln!(
        "shuffled stream: {} messages ({} distinct) in 9 batches; {} episodes equal the complete history's ({} open), {} retracted",
        delivery.len(),
        distinct.len(),
        listed.len(),
        truth_open.len(),
        retracted.len()
    );
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}
