//! Three Apache Kafka brokers (one KRaft quorum, replication factor 3,
//! `min.insync.replicas` 2, producers with `acks=all` and idempotence) losing a node:
//! the leader of the inbound partitions killed mid-stream and restarted, the leader of
//! the alerts topic killed while the relay publishes, and a rolling restart of all
//! three under load. Each: produced, stored, lost (0), doubled (0), alerts published
//! exactly once by id, recovery time. One cluster start for all three.
//!
//! Needs what `e2e.rs` needs (scripts/test provides it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use e2e_world::cluster::{Node, leader_of, start_cluster, wait_cluster, wait_in_sync};
use e2e_world::*;
use tierline_events::{Date, Record};

const ALERTS: &str = "srm.supplier-alerts.v1";

/// `days` simulated days for 20 suppliers ending 2026-06-14 (seeded), in `parts` parts.
fn stream(seed: u64, parts: usize) -> (Vec<Vec<Record>>, HashSet<(String, uuid::Uuid)>) {
    let today = Date::from_ymd(2026, 6, 14).unwrap();
    let mut sim =
        tierline_sim::Simulator::new(tierline_sim::SimConfig::ending(today, 30, 20, seed));
    let all: Vec<Record> = (sim.config().start.0..=today.0)
        .flat_map(|d| sim.emit_day(Date(d)))
        .collect();
    let distinct = all
        .iter()
        .filter_map(|r| r.envelope().map(|e| (e.source.to_owned(), e.event_id)))
        .collect();
    let size = all.len().div_ceil(parts);
    (all.chunks(size).map(<[Record]>::to_vec).collect(), distinct)
}

/// Alert messages on the topic by id: any id seen twice is a double.
fn doubled_alerts(brokers: &str) -> (usize, usize) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (id, t) in read_topic(brokers, ALERTS) {
        if t.ends_with("SupplierAlertRaised") || t.ends_with("SupplierAlertResolved") {
            *seen.entry(id).or_default() += 1;
        }
    }
    let doubled = seen.values().filter(|n| **n > 1).count();
    (seen.len(), doubled)
}

fn node(nodes: &mut [Node], id: i32) -> &mut Node {
    nodes.iter_mut().find(|n| n.id == id).unwrap()
}

/// Waits until the store holds `expected` events and every announced alert is on the
/// topic; prints and checks the scenario's line.
async fn settle(
    name: &str,
    w: &ClusterParts,
    produced: usize,
    distinct: &HashSet<(String, uuid::Uuid)>,
    expected: i64,
    started: Instant,
) {
    let stored = wait_count(&w.db.store, expected).await;
    assert_eq!(stored, expected, "{name}: stored = distinct produced");
    let recovered = started.elapsed();
    let ids: HashSet<(String, uuid::Uuid)> =
        sqlx::query_as::<_, (String, uuid::Uuid)>("SELECT source, event_id FROM events")
            .fetch_all(w.db.store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost = distinct.difference(&ids).count();
    assert_eq!(lost, 0, "{name}: produced events missing from the store");
    let announced: HashSet<String> = sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT alert_id FROM alert_episodes WHERE raised_at IS NOT NULL",
    )
    .fetch_all(w.db.store.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|u| u.to_string())
    .collect();
    let on_topic: HashSet<String> =
        until(&format!("{name}: every alert on the topic"), 120, || {
            let ids: HashSet<String> = read_topic(&w.brokers, ALERTS)
                .into_iter()
                .filter(|(_, t)| t.ends_with("SupplierAlertRaised"))
                .map(|(id, _)| id)
                .collect();
            announced.is_subset(&ids).then_some(ids)
        });
    let (messages, doubled) = doubled_alerts(&w.brokers);
    assert_eq!(doubled, 0, "{name}: an alert message published twice");
    eprintln!(
        "{name}: {produced} messages produced ({} distinct events), all stored ({stored} in the store so far), lost 0, doubled 0; {} alerts raised so far, {messages} alert messages on the topic, each id once; stored everything {:.1} s after the fault",
        distinct.len(),
        on_topic.len(),
        recovered.as_secs_f64()
    );
}

/// The cluster, the private database and the services.
struct ClusterParts {
    dir: std::path::PathBuf,
    db: PrivatePg,
    brokers: String,
    nodes: Vec<Node>,
    services: Services,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_broker_cluster_loses_a_node_and_nothing_else() {
    let dir = std::env::temp_dir().join(format!(
        "tierline-cluster-{}-{}",
        std::process::id(),
        common::free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = PrivatePg::new(&dir).await;
    let (nodes, brokers) = start_cluster(&dir);
    produce(&brokers, &dir, &[], 0, true);
    let services = start_services(&db.url, &brokers, 6000);
    let mut w = ClusterParts {
        dir,
        db,
        brokers,
        nodes,
        services,
    };
    let mut expected = 0i64;

    // 1. The leader of the inbound partitions killed mid-stream, then restarted.
    let (parts, distinct) = stream(21, 3);
    let produced: usize = parts.iter().map(Vec::len).sum();
    produce(&w.brokers, &w.dir, &parts[0], 0, false);
    let leader = leader_of(&w.brokers, "srm.inspections.v1");
    let t0 = Instant::now();
    node(&mut w.nodes, leader).proc.kill9();
    produce(&w.brokers, &w.dir, &parts[1], 0, false);
    node(&mut w.nodes, leader).proc.spawn();
    produce(&w.brokers, &w.dir, &parts[2], 0, false);
    expected += distinct.len() as i64;
    settle(
        "inbound leader killed",
        &w,
        produced,
        &distinct,
        expected,
        t0,
    )
    .await;
    wait_cluster(&w.brokers, 3);
    wait_in_sync(&w.brokers, "srm.inspections.v1", 3);

    // 2. The leader of the alerts topic killed while the relay publishes.
    let (parts, distinct) = stream(22, 2);
    let produced: usize = parts.iter().map(Vec::len).sum();
    produce(&w.brokers, &w.dir, &parts[0], 0, false);
    let leader = leader_of(&w.brokers, ALERTS);
    let t0 = Instant::now();
    // Wait for the relay to be publishing (the outbox has work), then kill.
    std::thread::sleep(Duration::from_millis(500));
    node(&mut w.nodes, leader).proc.kill9();
    produce(&w.brokers, &w.dir, &parts[1], 0, false);
    std::thread::sleep(Duration::from_secs(3));
    node(&mut w.nodes, leader).proc.spawn();
    expected += distinct.len() as i64;
    settle(
        "alerts leader killed",
        &w,
        produced,
        &distinct,
        expected,
        t0,
    )
    .await;
    wait_cluster(&w.brokers, 3);
    wait_in_sync(&w.brokers, ALERTS, 3);

    // 3. A rolling restart of all three under load.
    let (parts, distinct) = stream(23, 4);
    let produced: usize = parts.iter().map(Vec::len).sum();
    let t0 = Instant::now();
    for (k, part) in parts.iter().enumerate() {
        produce(&w.brokers, &w.dir, part, 0, false);
        if let Some(n) = w.nodes.get_mut(k) {
            // SIGTERM: a controlled shutdown hands leadership over first (the JVM's
            // exit status on a signal is not 0, so it is not checked).
            let _ = n.proc.term();
            n.proc.spawn();
            wait_cluster(&w.brokers, 3);
            wait_in_sync(&w.brokers, "srm.inspections.v1", 3);
        }
    }
    expected += distinct.len() as i64;
    settle("rolling restart", &w, produced, &distinct, expected, t0).await;

    let s = &mut w.services;
    for p in [&mut s.ingest, &mut s.project, &mut s.relay, &mut s.serve] {
        assert!(p.term(), "{} did not stop cleanly on SIGTERM", p.name);
    }
    for n in &mut w.nodes {
        n.proc.kill9();
    }
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}
