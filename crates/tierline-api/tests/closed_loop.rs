//! The closed loop through the API (docs/api.md "Plans", "Status", "Credit", "The
//! gate") on both store backends: plans opened, progressed and closed by role, derived
//! plans, status decisions by admins only, the credit record; the gate for a supplier
//! never seen, one seen later than `as_of`, a suspended one (BLOCK for a PO, WARN for an
//! RFQ), an open CRITICAL alert, a FAILED plan; the board's columns and a plan's
//! baseline and series.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::http::{StatusCode, header};
use common::*;
use serde_json::{Value, json};
use tierline_api::testing::project;
use tierline_store::on_both_backends;
use tierline_store::testing::Backend;

fn codes(gate: &Value) -> Vec<&str> {
    gate["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

async fn gate(router: &Router, uri: &str) -> Value {
    let (s, g) = get(router, VIEWER, uri).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {g}");
    g
}

async fn plans(router: &Router, key: &str, query: &str) -> Vec<String> {
    let (s, list) = get(router, key, &format!("/v1/plans{query}")).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["supplier_id"].as_str().unwrap(),
                p["state"].as_str().unwrap()
            )
        })
        .collect()
}

on_both_backends!(the_gate_answers_every_supplier_with_its_reasons);
async fn the_gate_answers_every_supplier_with_its_reasons(backend: Backend) {
    let Fixture {
        db,
        router,
        policy,
        clock,
        ..
    } = fixture(backend).await;

    // Never seen: WARN not_evaluated, APPROVED, no tier, no credit.
    let g = gate(&router, "/v1/suppliers/GHOST-1/gate?action=po").await;
    assert_eq!(
        (g["decision"].as_str(), codes(&g), g["status"].as_str()),
        (Some("WARN"), vec!["not_evaluated"], Some("APPROVED"))
    );
    assert_eq!((&g["tier"], &g["credit"]), (&Value::Null, &Value::Null));
    assert_eq!(g["policy_version"], "scoring-v2-default");
    // Seen, but not yet on as_of: evaluated as new, credit 100.
    let g = gate(
        &router,
        "/v1/suppliers/ACME-01/gate?action=po&as_of=2026-01-01",
    )
    .await;
    assert_eq!(
        (
            g["decision"].as_str(),
            codes(&g).len(),
            g["credit"].as_f64()
        ),
        (Some("ALLOW"), 0, Some(100.0))
    );
    assert_eq!(g["tier"], Value::Null);
    // A good supplier: ALLOW without reasons (the action defaults to a PO).
    let g = gate(&router, "/v1/suppliers/ACME-01/gate").await;
    assert_eq!(
        (g["decision"].as_str(), codes(&g).len()),
        (Some("ALLOW"), 0),
        "{g}"
    );
    assert!(g["tier"].is_string(), "{g}");
    // Bad requests are 400s, never 5xx.
    for uri in [
        "/v1/suppliers/ACME-01/gate?action=invoice",
        "/v1/suppliers/has%20space/gate",
        "/v1/suppliers/ACME-01/gate?as_of=2030-01-01",
    ] {
        let (s, p) = get(&router, VIEWER, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {p}");
    }

    // QUAL-01's defects: a CRITICAL alert is open.
    let g = gate(&router, "/v1/suppliers/QUAL-01/gate?action=rfq").await;
    assert_eq!(g["decision"], "WARN", "{g}");
    assert!(codes(&g).contains(&"critical_alert_open"), "{g}");

    // A plan on QUAL-01's defects due 2026-06-10 with target 0 ppm fails: plan_failed,
    // and FAILED on the board.
    let plan = json!({"plan_id": "FIX-1", "indicator": "defect_ppm", "window_days": 30,
        "target": 0.0, "due_date": "2026-06-10", "owner": "P-7",
        "occurred_at": "2026-06-01T08:00:00Z"});
    let (s, _, b) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/QUAL-01/plans",
        None,
        plan.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Today's gate reads the standing the projector keeps: the plan counts once projected.
    project(&db.store, policy.clone(), &clock, 1).await.unwrap();
    let g = until(&router, "/v1/suppliers/QUAL-01/gate", |g| {
        codes(g).contains(&"plan_failed")
    })
    .await;
    assert!(codes(&g).contains(&"plan_failed"), "{g}");
    let before = gate(&router, "/v1/suppliers/QUAL-01/gate?as_of=2026-06-09").await;
    assert!(!codes(&before).contains(&"plan_failed"), "{before}");

    // ACME-02 suspended from 2026-06-01 by an admin: BLOCK for a PO, WARN for an RFQ;
    // the day before, nothing.
    let decision = json!({"status": "SUSPENDED", "reason": "two failed plans",
        "decided_by": "P-0001", "occurred_at": "2026-06-01T08:00:00Z"});
    let (s, _, b) = post(
        &router,
        Some(ADMIN),
        "/v1/suppliers/ACME-02/status",
        None,
        decision.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let po = gate(&router, "/v1/suppliers/ACME-02/gate?action=po").await;
    assert_eq!(
        (po["decision"].as_str(), codes(&po), po["status"].as_str()),
        (Some("BLOCK"), vec!["status_suspended"], Some("SUSPENDED"))
    );
    assert!(
        po["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("two failed plans")
    );
    let rfq = gate(&router, "/v1/suppliers/ACME-02/gate?action=rfq").await;
    assert_eq!(rfq["decision"], "WARN");
    let earlier = gate(
        &router,
        "/v1/suppliers/ACME-02/gate?action=po&as_of=2026-05-31",
    )
    .await;
    assert_eq!(earlier["decision"], "ALLOW", "{earlier}");
    // Status on the scorecard at once (from the store), in lists once projected.
    let (_, sc) = get(&router, VIEWER, "/v1/suppliers/ACME-02/scorecard").await;
    assert_eq!(sc["status"], "SUSPENDED", "{sc}");
    project(&db.store, policy.clone(), &clock, 1).await.unwrap();
    let list = until(&router, "/v1/suppliers?status=SUSPENDED", |l| {
        l["items"].as_array().is_some_and(|i| !i.is_empty())
    })
    .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["supplier_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["ACME-02"], "{list}");
    assert_eq!(list["items"][0]["status"], "SUSPENDED");
    // Filtered pages of one: every approved supplier once, each page full but the last.
    let mut seen = Vec::new();
    let mut uri = "/v1/suppliers?status=APPROVED&page_size=1".to_owned();
    loop {
        let (_, page) = get(&router, VIEWER, &uri).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{page}");
        seen.extend(
            items
                .iter()
                .map(|i| i["supplier_id"].as_str().unwrap().to_owned()),
        );
        match page["next_page_token"].as_str() {
            Some(t) => uri = format!("/v1/suppliers?status=APPROVED&page_size=1&page_token={t}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        vec!["ACME-01", "DEAR-01", "LATE-01", "QUAL-01", "SPARSE-01"]
    );

    // The projector's standing and the record computed from the events agree.
    for id in [
        "ACME-01",
        "ACME-02",
        "LATE-01",
        "QUAL-01",
        "DEAR-01",
        "SPARSE-01",
    ] {
        let g = gate(&router, &format!("/v1/suppliers/{id}/gate")).await;
        let (_, c) = get(&router, VIEWER, &format!("/v1/suppliers/{id}/credit")).await;
        assert_eq!(g["credit"], c["score"], "{id}: {g} {c}");
    }
    // The supplier's own key asks its own gate, not another's.
    let (s, _) = get(&router, SUPPLIER, "/v1/suppliers/ACME-01/gate").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get(&router, SUPPLIER, "/v1/suppliers/ACME-02/gate").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The board: FIX-1 failed; QUAL-01's derived plans (one per rule with a CRITICAL
    // episode) are open; owners filter.
    assert_eq!(
        plans(&router, VIEWER, "?status=failed").await,
        vec!["QUAL-01/FAILED"]
    );
    assert_eq!(
        plans(&router, VIEWER, "?owner=P-7").await,
        vec!["QUAL-01/FAILED"]
    );
    let open = plans(&router, VIEWER, "?status=open&supplier_id=QUAL-01").await;
    assert!(
        !open.is_empty() && open.iter().all(|p| p == "QUAL-01/OPEN"),
        "{open:?}"
    );
    let (_, unassigned) = get(
        &router,
        VIEWER,
        "/v1/plans?owner=unassigned&supplier_id=QUAL-01",
    )
    .await;
    assert_eq!(unassigned["items"].as_array().unwrap().len(), open.len());
    assert!(
        plans(&router, SUPPLIER, "").await.is_empty(),
        "ACME-01 has no plans"
    );
    let (s, _) = get(&router, VIEWER, "/v1/plans?status=late").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // FIX-1's page: baseline on 2026-06-01, one point a day to the review date, the
    // value at review being the series' last.
    let (s, p) = get(&router, VIEWER, "/v1/suppliers/QUAL-01/plans/FIX-1").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let series = p["series"].as_array().unwrap();
    assert_eq!(series.len(), 10, "{p}");
    assert_eq!(series[0]["date"], "2026-06-01");
    assert_eq!(series[9]["date"], "2026-06-10");
    assert_eq!(p["baseline"], series[0]["value"]);
    assert_eq!(p["value_at_review"], series[9]["value"]);
    assert!(p["value_at_review"].as_f64().unwrap() > 0.0, "{p}");
    db.cleanup().await;
}

on_both_backends!(plans_status_and_credit_are_written_and_read_back);
async fn plans_status_and_credit_are_written_and_read_back(backend: Backend) {
    let Fixture { db, router, .. } = fixture(backend).await;
    // NEWCO's first event: a MAJOR violation (its credit record's one delta).
    let (s, _, _) = post(&router, Some(EDITOR), "/v1/suppliers/NEWCO/violations", None,
        json!({"violation_id": "V-1", "severity": "MAJOR", "regulation": "REACH", "description": "SVHC", "occurred_at": "2026-06-01T10:00:00Z"}).to_string()).await;
    assert_eq!(s, StatusCode::CREATED);
    // Plans: opened by an editor (id generated), progress by the supplier's own key,
    // a 404 for a plan that exists nowhere, closing by an editor only.
    let plan = json!({"indicator": "otif_rate", "window_days": 30, "target": 0.95, "due_date": "2026-08-15",
        "owner": "P-2231", "measures": ["second shift", "weekly call"]}).to_string();
    let (s, h, b) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/ACME-01/plans",
        None,
        plan,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let plan_id = b["payload"]["plan_id"].as_str().unwrap().to_owned();
    assert_eq!(
        h[header::LOCATION],
        format!("/v1/suppliers/ACME-01/plans/{plan_id}")
    );
    let progress = json!({"percent_complete": 40, "note": "second shift started"}).to_string();
    let (s, _, b) = post(
        &router,
        Some(SUPPLIER),
        &format!("/v1/suppliers/ACME-01/plans/{plan_id}/progress"),
        None,
        progress.clone(),
    )
    .await;
    assert_eq!(
        (s, b["source"].as_str()),
        (StatusCode::CREATED, Some("api:acme")),
        "{b}"
    );
    let (s, _, _) = post(
        &router,
        Some(SUPPLIER),
        "/v1/suppliers/ACME-01/plans/NO-SUCH-PLAN/progress",
        None,
        progress.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = post(
        &router,
        Some(SUPPLIER),
        &format!("/v1/suppliers/ACME-02/plans/{plan_id}/progress"),
        None,
        progress.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another supplier's plan");
    let close = json!({"reason": "COMPLETED"}).to_string();
    let (s, _, _) = post(
        &router,
        Some(SUPPLIER),
        &format!("/v1/suppliers/ACME-01/plans/{plan_id}/close"),
        None,
        close.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = post(
        &router,
        Some(EDITOR),
        &format!("/v1/suppliers/ACME-01/plans/{plan_id}/close"),
        None,
        close,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // A derived plan (UUIDv5 of `{alert_id}|PLAN` of a CRITICAL episode) exists too.
    let (_, critical) = get(
        &router,
        VIEWER,
        "/v1/alerts?supplier_id=QUAL-01&level=CRITICAL",
    )
    .await;
    let alert_id = critical["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "defect_ppm")
        .unwrap()["alert_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let derived = tierline_scoring::derived_plan_id(uuid::Uuid::parse_str(&alert_id).unwrap());
    let (s, _, b) = post(
        &router,
        Some(EDITOR),
        &format!("/v1/suppliers/QUAL-01/plans/{derived}/progress"),
        None,
        progress,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // The plans read back: the stored one completed today and reviewed at once, the
    // derived one with its episode's rule, target and due date.
    let (s, list) = get(&router, SUPPLIER, "/v1/suppliers/ACME-01/plans").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mine = &list["items"][0];
    assert_eq!(
        (mine["plan_id"].as_str(), mine["derived"].as_bool()),
        (Some(plan_id.as_str()), Some(false))
    );
    assert_eq!(
        (
            mine["state"].as_str(),
            mine["close_reason"].as_str(),
            mine["review_date"].as_str()
        ),
        (Some("VERIFIED"), Some("COMPLETED"), Some("2026-06-15")),
        "{mine}"
    );
    assert_eq!(mine["progress"][0]["source"], "api:acme");
    assert_eq!(mine["measures"], json!(["second shift", "weekly call"]));
    assert_eq!(
        get(&router, SUPPLIER, "/v1/suppliers/QUAL-01/plans")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, q) = get(
        &router,
        VIEWER,
        &format!("/v1/suppliers/QUAL-01/plans/{derived}"),
    )
    .await;
    assert_eq!(
        (
            q["derived"].as_bool(),
            q["indicator"].as_str(),
            q["owner"].as_str(),
            q["target"].as_f64()
        ),
        (
            Some(true),
            Some("defect_ppm"),
            Some("unassigned"),
            Some(4500.0)
        ),
        "{q}"
    );
    assert_eq!(q["trigger_alert_id"].as_str(), Some(alert_id.as_str()));
    assert_eq!(q["progress"].as_array().unwrap().len(), 1);
    let bad = json!({"indicator": "OTIF", "window_days": 60, "target": 0.9, "due_date": "2026-08-15", "owner": "P"}).to_string();
    let (s, _, p) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/ACME-01/plans",
        None,
        bad,
    )
    .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("indicator"))
    );

    // Only an admin decides a status; it is in force from its date.
    let decision =
        json!({"status": "SUSPENDED", "reason": "two failed plans", "decided_by": "P-0001",
        "occurred_at": "2026-06-01T08:00:00Z"})
        .to_string();
    let (s, _, _) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/ACME-02/status",
        None,
        decision.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, h, b) = post(
        &router,
        Some(ADMIN),
        "/v1/suppliers/ACME-02/status",
        None,
        decision,
    )
    .await;
    assert_eq!(
        (s, h[header::LOCATION].to_str().unwrap()),
        (StatusCode::CREATED, "/v1/suppliers/ACME-02/status"),
        "{b}"
    );
    let (s, st) = get(&router, VIEWER, "/v1/suppliers/ACME-02/status").await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(
        (
            st["status"].as_str(),
            st["since"].as_str(),
            st["reason"].as_str()
        ),
        (
            Some("SUSPENDED"),
            Some("2026-06-01"),
            Some("two failed plans")
        )
    );
    assert_eq!(
        (
            st["decisions"][0]["decided_by"].as_str(),
            st["decisions"][0]["source"].as_str()
        ),
        (Some("P-0001"), Some("api:root"))
    );
    let (_, before) = get(
        &router,
        VIEWER,
        "/v1/suppliers/ACME-02/status?as_of=2026-05-31",
    )
    .await;
    assert_eq!(before["status"], "APPROVED");
    // Credit: NEWCO's MAJOR violation costs 5; QUAL-01's episodes cost 3 (WARNING) and
    // 7 for a CRITICAL starting while a WARNING of its rule is open (10 otherwise).
    let (s, c) = get(&router, VIEWER, "/v1/suppliers/NEWCO/credit").await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (c["score"].as_f64(), c["class"].as_str()),
        (Some(95.0), Some("A")),
        "{c}"
    );
    assert_eq!(
        (
            c["deltas"][0]["cause"].as_str(),
            c["deltas"][0]["ref"].as_str()
        ),
        (Some("violation"), Some("V-1"))
    );
    let (_, q) = get(&router, VIEWER, "/v1/suppliers/QUAL-01/credit").await;
    let deltas = q["deltas"].as_array().unwrap();
    assert!(
        deltas.iter().any(|d| d["delta"] == -3.0) && deltas.iter().any(|d| d["delta"] == -7.0),
        "{q}"
    );
    let sum: f64 = deltas
        .iter()
        .filter(|d| d["withdrawn"] == false)
        .map(|d| d["delta"].as_f64().unwrap())
        .sum();
    assert_eq!(q["score"].as_f64(), Some((100.0 + sum).clamp(0.0, 100.0)));

    db.cleanup().await;
}
