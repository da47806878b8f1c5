//! `tierline demo` on a fresh data directory for a bounded time: its API serves live
//! data, the store holds every produced event, and a second run resumes.

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

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let child = run("25");
    // The API answers with scored suppliers, tiers and alerts while it runs.
    let deadline = Instant::now() + Duration::from_secs(25);
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
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
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
