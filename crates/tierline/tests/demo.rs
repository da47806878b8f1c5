//! `tierline demo` on a fresh data directory for a bounded time: its API serves live
//! data, its relay publishes alerts and tier changes to the mock cluster (consumed here
//! with their deterministic ids), the store holds every produced event, and a second
//! run resumes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::free_port;

fn get(port: u16, path: &str) -> Option<(u16, serde_json::Value)> {
    let (status, body) = common::http_get(port, path)?;
    Some((
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    ))
}

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use tierline_events::{Codec, Record};

/// Every message on the demo's alerts topic so far: (record, ce_id).
fn consume_alerts(brokers: &str) -> Vec<(Record, String)> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "demo-test")
        .create()
        .unwrap();
    // Every partition from its beginning, up to the high watermarks of now.
    let topic = "srm.supplier-alerts.v1";
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut want = 0;
    for p in 0..3 {
        let (_, high) = c
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        want += high;
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    let codec = Codec::default();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while (out.len() as i64) < want && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let ce_id = m
                .headers()
                .and_then(|h| h.iter().find(|x| x.key == "ce_id"))
                .and_then(|x| x.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            out.push((codec.decode(m.payload().unwrap()).unwrap().record, ce_id));
        }
    }
    assert_eq!(out.len() as i64, want, "read the whole topic");
    out
}

#[test]
fn the_demo_serves_live_data_loses_nothing_and_resumes() {
    let dir = std::env::temp_dir().join(format!("tierline-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let run = |secs: &str| {
        Command::new(env!("CARGO_BIN_EXE_tierline"))
            .args([
                "demo",
                "--suppliers",
                "24",
                "--days",
                "120",
                "--log",
                "warn",
                "--run-for",
                secs,
            ])
            .arg("--data-dir")
            .arg(&dir)
            .args(["--http", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = run("45");
    // The mock cluster's address, from the demo's banner.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap_or_default());
        }
    });
    let mut brokers = None;
    let mut stdout_lines = Vec::new();
    while brokers.is_none() {
        let line = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        brokers = line
            .strip_prefix("Kafka (in-process mock cluster): ")
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned);
        stdout_lines.push(line);
    }
    let brokers = brokers.unwrap();
    // The API answers with scored suppliers, tiers and alerts while it runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = false;
    while Instant::now() < deadline {
        if let (Some((200, tiers)), Some((200, alerts))) =
            (get(port, "/v1/tiers"), get(port, "/v1/alerts?page_size=5"))
        {
            let counts = tiers["counts"].as_object().unwrap();
            let rated: u64 = ["STRATEGIC", "KEY", "RESERVE", "AT_RISK"]
                .iter()
                .map(|t| counts[*t].as_u64().unwrap())
                .sum();
            if rated >= 20 && !alerts["items"].as_array().unwrap().is_empty() {
                let (status, list) = get(port, "/v1/suppliers?page_size=500").unwrap();
                assert_eq!(status, 200);
                assert_eq!(list["items"].as_array().unwrap().len(), 24);
                let id = list["items"][0]["supplier_id"].as_str().unwrap().to_owned();
                let (status, card) = get(port, &format!("/v1/suppliers/{id}/scorecard")).unwrap();
                assert_eq!(status, 200);
                assert!(card["score"].is_number(), "{card}");
                let (status, events) =
                    get(port, &format!("/v1/suppliers/{id}/events?page_size=3")).unwrap();
                assert_eq!(status, 200);
                assert_eq!(events["items"].as_array().unwrap().len(), 3);
                assert_eq!(get(port, "/").unwrap().0, 200);
                seen = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(seen, "the demo never served rated suppliers with alerts");
    // Its own alerts, from the mock cluster: each raise carries its alert id as ce_id,
    // ids are unique, and every raised alert is the API's.
    // The relay publishes what the projector committed a moment later: read until the
    // topic holds raises and tier changes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let published = loop {
        let got = consume_alerts(&brokers);
        let has = |f: fn(&Record) -> bool| got.iter().any(|(r, _)| f(r));
        if (has(|r| matches!(r, Record::SupplierAlertRaised(_)))
            && has(|r| matches!(r, Record::SupplierTierChanged(_))))
            || Instant::now() > deadline
        {
            break got;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let (status, listed) = get(port, "/v1/alerts?status=all&page_size=500").unwrap();
    assert_eq!(status, 200);
    let listed: std::collections::HashSet<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    let mut raised = 0;
    let mut tiers = 0;
    let mut ids = std::collections::HashSet::new();
    for (record, ce_id) in &published {
        assert!(ids.insert(ce_id.clone()), "ce_id {ce_id} published twice");
        match record {
            Record::SupplierAlertRaised(a) => {
                raised += 1;
                assert!(listed.contains(a.alert_id.to_string().as_str()), "{a:?}");
                // The first raise's id is the alert id; a later cycle k's is
                // UUIDv5(`{alert_id}|RAISED|{k}`) (docs/scoring.md).
                let cycle = |k: i32| {
                    uuid::Uuid::new_v5(
                        &tierline_scoring::ID_NAMESPACE,
                        format!("{}|RAISED|{k}", a.alert_id).as_bytes(),
                    )
                    .to_string()
                };
                assert!(
                    *ce_id == a.alert_id.to_string() || (2..50).any(|k| *ce_id == cycle(k)),
                    "{ce_id} is not an id of {a:?}"
                );
            }
            Record::SupplierTierChanged(t) => {
                tiers += 1;
                assert_eq!(*ce_id, t.event_id.to_string());
            }
            _ => {}
        }
    }
    assert!(
        raised > 0 && tiers > 0,
        "raised {raised}, tier changes {tiers}"
    );
    eprintln!(
        "the demo published {} messages: {raised} raises, {tiers} tier changes",
        published.len()
    );
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    stdout_lines.extend(lines.try_iter());
    let stdout = stdout_lines.join("\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("dashboard http://127.0.0.1:"), "{stdout}");
    assert!(stderr.contains("history loaded in"), "{stderr}");
    assert!(stdout.contains(" 0 missing"), "{stdout}");

    // Again on the same directory: resumes, produces no history twice.
    let out = run("4").wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("resuming the demo") && stderr.contains("history already loaded"),
        "{stderr}"
    );
    assert!(stdout.contains(" 0 missing"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
