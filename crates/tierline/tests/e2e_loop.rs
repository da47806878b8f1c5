//! The closed loop end to end on a real broker and PostgreSQL, the services as separate
//! processes: a CRITICAL alert implies a rectification plan, the supplier's own key
//! reports progress, the due date passes (the services restarted on a later pinned
//! date), the outcome is published on the alerts topic with its deterministic id, and
//! the order gate answers accordingly.
//!
//! Needs what `e2e.rs` needs (scripts/test provides it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod e2e_world;

use common::{free_port, http_call, http_get};
use e2e_world::*;

use tierline_events::{Date, Disposition, InspectionCompleted, Record, Timestamp};
use tierline_scoring::{ID_NAMESPACE, Level, alert_id, derived_plan_id};

const SUPPLIER: &str = "E2E-P";
const SUPPLIER_KEY: &str = "e2e-p-portal-key";
const BUYER_KEY: &str = "e2e-buyer-key";
/// The day after the derived plans' due date (2026-06-10 + 60 days = 2026-08-09).
const LATER: &str = "2026-08-10";

fn inspection(n: u128, day: &str, defective: f64, disposition: Disposition) -> Record {
    InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_5000 | n),
        source: "qms".into(),
        occurred_at: Timestamp::parse_rfc3339(&format!("{day}T08:00:00Z")).unwrap(),
        supplier_id: SUPPLIER.into(),
        inspection_id: format!("IN-P-{n}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "ITEM-7".into(),
        inspected_quantity: 100.0,
        defective_quantity: defective,
        critical_defects: 0,
        disposition,
        posting_date: None,
    }
    .into()
}

fn json(port: u16, key: Option<&str>, path: &str) -> Option<serde_json::Value> {
    let (s, b) = http_call(port, "GET", path, key, None)?;
    (s == 200).then(|| serde_json::from_str(&b).unwrap())
}

/// A second API process with keys: a buyer (admin) and the supplier's own portal key.
fn keyed_serve(w: &World, port: u16) -> Proc {
    let keys = w.dir.join("keys");
    std::fs::write(
        &keys,
        format!(
            "buyer admin {}\nportal supplier {SUPPLIER} {}\n",
            tierline_api::hash_key(BUYER_KEY),
            tierline_api::hash_key(SUPPLIER_KEY)
        ),
    )
    .unwrap();
    let args = [
        "serve".to_owned(),
        "--api-http".into(),
        format!("127.0.0.1:{port}"),
        "--api-keys-file".into(),
        keys.to_str().unwrap().to_owned(),
    ];
    let p = Proc::start(
        "serve-keys",
        env!("CARGO_BIN_EXE_tierline"),
        &args,
        &w.common,
    );
    wait_status(port, 200, 60, "the keyed API to be ready");
    p
}

/// Restarts a service with the pinned date moved to `day`.
fn repin(p: &mut Proc, day: &str) {
    for (k, v) in &mut p.envs {
        if k == "TIERLINE_PIN_DATE" {
            *v = day.to_owned();
        }
    }
    p.restart();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_alert_leads_to_a_plan_its_outcome_and_the_gate() {
    let mut w = world().await;
    let api = w.ports[3];
    let keyed_port = free_port();
    let mut keyed = keyed_serve(&w, keyed_port);

    // 1. Six lots on 2026-06-10, 5 % defective, three rejected: defect_ppm 50,000 and
    // lot acceptance 0.5, CRITICAL for both from that day, so each implies a plan
    // (UUIDv5 of `{alert_id}|PLAN`), due 60 days later.
    let june: Vec<Record> = (0..6)
        .map(|n| {
            let d = if n % 2 == 0 {
                Disposition::Accepted
            } else {
                Disposition::Rejected
            };
            inspection(n, "2026-06-10", 5.0, d)
        })
        .collect();
    produce(&w.brokers, &w.dir, &june, 0, false);
    let start = Date::from_ymd(2026, 6, 10).unwrap();
    let defect_alert = alert_id(SUPPLIER, "defect_ppm", Level::Critical, start);
    let lot_alert = alert_id(SUPPLIER, "lot_acceptance_rate", Level::Critical, start);
    let defect_plan = derived_plan_id(defect_alert);
    let lot_plan = derived_plan_id(lot_alert);
    let plan: serde_json::Value = until("the derived plan of the CRITICAL alert", 90, || {
        json(
            api,
            None,
            &format!("/v1/suppliers/{SUPPLIER}/plans/{defect_plan}"),
        )
    });
    assert_eq!(
        (
            plan["derived"].as_bool(),
            plan["state"].as_str(),
            plan["due_date"].as_str(),
            plan["owner"].as_str()
        ),
        (
            Some(true),
            Some("OPEN"),
            Some("2026-08-09"),
            Some("unassigned")
        ),
        "{plan}"
    );
    assert_eq!(plan["trigger_alert_id"], defect_alert.to_string());
    assert_eq!(
        plan["target"].as_f64(),
        Some(4500.0),
        "warning 5,000 - margin 500"
    );
    let gate = json(
        api,
        None,
        &format!("/v1/suppliers/{SUPPLIER}/gate?action=po"),
    )
    .unwrap();
    assert_eq!(gate["decision"], "WARN", "a CRITICAL alert is open: {gate}");

    // 2. The supplier reports progress with its own key; it cannot touch another's.
    let progress = r#"{"percent_complete": 60, "note": "100% inspection on the second shift"}"#;
    let path = format!("/v1/suppliers/{SUPPLIER}/plans/{defect_plan}/progress");
    let (s, b) = http_call(
        keyed_port,
        "POST",
        &path,
        Some(SUPPLIER_KEY),
        Some(progress),
    )
    .unwrap();
    assert_eq!(s, 201, "{b}");
    let other = format!("/v1/suppliers/E2E-A/plans/{defect_plan}/progress");
    let (s, _) = http_call(
        keyed_port,
        "POST",
        &other,
        Some(SUPPLIER_KEY),
        Some(progress),
    )
    .unwrap();
    assert_eq!(s, 404);
    let plan = json(
        keyed_port,
        Some(SUPPLIER_KEY),
        &format!("/v1/suppliers/{SUPPLIER}/plans/{defect_plan}"),
    )
    .unwrap();
    assert_eq!(plan["progress"][0]["percent_complete"], 60, "{plan}");
    assert_eq!(plan["progress"][0]["source"], "api:portal");

    // 3. August: six good lots, 1 % defective: defect_ppm 10,000 misses the 4,500
    // target, lot acceptance 1.0 meets its 0.96.
    let august: Vec<Record> = (10..16)
        .map(|n| inspection(n, "2026-08-01", 1.0, Disposition::Accepted))
        .collect();
    produce(&w.brokers, &w.dir, &august, 0, false);
    // Twelve lots and the progress report.
    let stored = wait_count(&w.db.store, 13).await;
    assert_eq!(stored, 13);
    // 4. The due date passes: the services wake on 2026-08-10.
    for p in [&mut w.project, &mut w.serve, &mut keyed] {
        repin(p, LATER);
    }
    wait_status(api, 200, 60, "the API on the later date");
    let outcome = |plan: &str, verdict: &str| {
        let name = format!("{SUPPLIER}|PLAN|{plan}|2026-08-09|{verdict}|1");
        uuid::Uuid::new_v5(&ID_NAMESPACE, name.as_bytes()).to_string()
    };
    let want = [
        outcome(&defect_plan, "FAILED"),
        outcome(&lot_plan, "VERIFIED"),
    ];
    let reviews: Vec<String> = until("both outcomes on srm.supplier-alerts.v1", 90, || {
        let ids: Vec<String> = read_topic(&w.brokers, "srm.supplier-alerts.v1")
            .into_iter()
            .filter(|(_, t)| t.ends_with("RectificationPlanReviewed"))
            .map(|(id, _)| id)
            .collect();
        want.iter().all(|x| ids.contains(x)).then_some(ids)
    });
    assert_eq!(reviews.len(), 2, "each outcome exactly once: {reviews:?}");
    let plan = json(
        api,
        None,
        &format!("/v1/suppliers/{SUPPLIER}/plans/{defect_plan}"),
    )
    .unwrap();
    assert_eq!(
        (plan["state"].as_str(), plan["value_at_review"].as_f64()),
        (Some("FAILED"), Some(10_000.0)),
        "{plan}"
    );

    // 5. The gate answers accordingly: the FAILED plan is a reason, and its credit is
    // the credit record's (the VERIFIED plan +5, the FAILED one -10).
    let gate: serde_json::Value = until("the gate to see the failed plan", 60, || {
        let g = json(
            api,
            None,
            &format!("/v1/suppliers/{SUPPLIER}/gate?action=po"),
        )?;
        g["reasons"]
            .as_array()?
            .iter()
            .any(|r| r["code"] == "plan_failed")
            .then_some(g)
    });
    assert_eq!(gate["decision"], "WARN", "{gate}");
    assert_eq!(gate["as_of"], LATER);
    let credit = json(api, None, &format!("/v1/suppliers/{SUPPLIER}/credit")).unwrap();
    assert_eq!(gate["credit"], credit["score"], "{gate} {credit}");
    let deltas: Vec<(String, f64)> = credit["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["cause"] == "plan")
        .map(|d| {
            (
                d["ref"].as_str().unwrap().to_owned(),
                d["delta"].as_f64().unwrap(),
            )
        })
        .collect();
    assert!(deltas.contains(&(defect_plan.clone(), -10.0)), "{credit}");
    assert!(deltas.contains(&(lot_plan.clone(), 5.0)), "{credit}");
    // The supplier sees its own gate; a never-seen supplier is not evaluated.
    let own = json(
        keyed_port,
        Some(SUPPLIER_KEY),
        &format!("/v1/suppliers/{SUPPLIER}/gate"),
    )
    .unwrap();
    assert_eq!(own["decision"], gate["decision"]);
    let ghost = json(api, None, "/v1/suppliers/NEVER-SEEN/gate?action=rfq").unwrap();
    assert_eq!(
        (
            ghost["decision"].as_str(),
            ghost["reasons"][0]["code"].as_str()
        ),
        (Some("WARN"), Some("not_evaluated"))
    );
    let (s, _) = http_get(api, "/v1/plans?status=failed").unwrap();
    assert_eq!(s, 200);
    eprintln!(
        "closed loop: CRITICAL on 2026-06-10 -> plans {defect_plan} and {lot_plan}; progress by the supplier's key; on {LATER} FAILED and VERIFIED published once each; gate {} with {}",
        gate["decision"], gate["reasons"]
    );
    for p in [
        &mut w.ingest,
        &mut w.project,
        &mut w.relay,
        &mut w.serve,
        &mut keyed,
    ] {
        assert!(p.term(), "{} did not stop cleanly on SIGTERM", p.name);
    }
    let dir = w.dir.clone();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
}
