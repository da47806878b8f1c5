//! The write path and roles (docs/api.md "Writes", "Keys and roles") on both store
//! backends: records posted through the API are validated like Kafka messages, stored
//! with `source` = `api:{key name}`, idempotent by `Idempotency-Key`, projected like any
//! event; every key gets exactly what its role allows (401/403/404).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::http::{StatusCode, header};
use common::*;
use serde_json::{Value, json};
use tierline_api::testing::{noon, project};
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app, hash_key};
use tierline_events::Codec;
use tierline_scoring::Policy;
use tierline_store::EventStore;
use tierline_store::on_both_backends;
use tierline_store::testing::{Backend, fresh};

fn audit(id: &str, scores: [f64; 5]) -> Value {
    let names = [
        "rnd_strength",
        "cooperation",
        "risk_resilience",
        "technical_support",
        "regional_advantage",
    ];
    json!({
        "assessment_id": id,
        "kind": "ONSITE_AUDIT",
        "assessor": "P-1187",
        "criteria": names.iter().zip(scores).map(|(n, s)| json!({"criterion": n, "score": s, "max_score": 5.0})).collect::<Vec<_>>(),
        "comment": "plant 2",
        "occurred_at": "2026-06-10T09:00:00Z",
    })
}

on_both_backends!(writes_validate_store_and_project_with_the_audit_trail);

async fn writes_validate_store_and_project_with_the_audit_trail(backend: Backend) {
    let Fixture {
        db,
        router,
        doc,
        policy,
        clock,
    } = fixture(backend).await;
    let stored_before = db.store.count().await.unwrap();

    // NEWCO has no transactions: an audit is its first event.
    let uri = "/v1/suppliers/NEWCO/assessments";
    let body = audit("AUD-1", [4.5, 4.0, 3.5, 4.0, 3.0]).to_string();
    let idem = "0190A3C2-7D4E-7C11-9A5B-3F2E1D0C0099";
    let (s, h, b) = post(&router, Some(EDITOR), uri, Some(idem), body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(h[header::LOCATION], "/v1/suppliers/NEWCO/assessments");
    assert_eq!(
        b["event_id"],
        idem.to_lowercase(),
        "stored in lower-case canonical form"
    );
    assert_eq!(b["source"], "api:alice", "the audit trail names the key");
    assert_eq!(b["type"], "SupplierAssessmentCompleted");
    assert_eq!(b["occurred_at"], "2026-06-10T09:00:00.000Z");
    assert_eq!(b["payload"]["criteria"][0]["min_score"], 0.0);
    let position = b["position"].as_i64().unwrap();
    // The same request again: 200 with the stored event; the key reused otherwise: 409.
    let (s, _, again) = post(&router, Some(EDITOR), uri, Some(idem), body.clone()).await;
    assert_eq!(
        (s, again["position"].as_i64()),
        (StatusCode::OK, Some(position))
    );
    let other = audit("AUD-1", [1.0, 4.0, 3.5, 4.0, 3.0]).to_string();
    let (s, _, p) = post(&router, Some(EDITOR), uri, Some(idem), other.clone()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    // Keys are scoped to the API key: the same Idempotency-Key from another key is new.
    let (s, _, by_root) = post(&router, Some(ADMIN), uri, Some(idem), other).await;
    assert_eq!(
        (s, &by_root["source"]),
        (StatusCode::CREATED, &json!("api:root"))
    );
    // Without an Idempotency-Key: a fresh UUIDv7 each time.
    let (s, _, b7) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/NEWCO/certificates",
        None,
        json!({"certificate_id": "C-1", "standard": "ISO 9001:2015", "status": "VALID",
               "valid_from": "2026-01-01", "valid_until": "2028-12-31"})
        .to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b7}");
    let v7 = uuid::Uuid::parse_str(b7["event_id"].as_str().unwrap()).unwrap();
    assert_eq!(v7.get_version_num(), 7);
    assert_eq!(b7["payload"]["issuer"], Value::Null);

    // The objects written read back at once (from the store), before any projection.
    let (s, list) = get(&router, VIEWER, "/v1/suppliers/NEWCO/assessments").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let a = &list["items"][0];
    assert_eq!(
        (
            a["assessment_id"].as_str(),
            a["kind"].as_str(),
            a["assessor"].as_str()
        ),
        (Some("AUD-1"), Some("ONSITE_AUDIT"), Some("P-1187"))
    );
    assert_eq!(a["assessed_on"], "2026-06-10");
    assert_eq!(
        a["event_ids"].as_array().unwrap().len(),
        2,
        "alice's and root's records of AUD-1"
    );
    assert_eq!(
        a["criteria"][0]["valid_through"], "2027-06-09",
        "365 days from its date"
    );
    assert_eq!(list["sources"]["cooperation"], json!(["AUD-1"]));
    let (_, certs) = get(&router, VIEWER, "/v1/suppliers/NEWCO/certificates").await;
    assert_eq!(certs["items"][0]["covers_today"], true, "{certs}");
    assert_eq!(certs["items"][0]["days_to_expiry"], 930);
    let (_, soon) = get(
        &router,
        VIEWER,
        "/v1/certificates/expiring?within_days=1000",
    )
    .await;
    assert_eq!(soon["items"].as_array().unwrap().len(), 1, "{soon}");
    let (_, none) = get(&router, VIEWER, "/v1/certificates/expiring").await;
    assert_eq!(
        none["items"].as_array().unwrap().len(),
        0,
        "not within 60 days"
    );
    let (s, p) = get(&router, VIEWER, "/v1/certificates/expiring?within_days=-1").await;
    assert_eq!(
        (s, p["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("within_days"))
    );
    let (s, _, _) = post(&router, Some(EDITOR), "/v1/suppliers/NEWCO/violations", None,
        json!({"violation_id": "V-1", "severity": "MAJOR", "regulation": "REACH", "description": "SVHC", "occurred_at": "2026-06-01T10:00:00Z"}).to_string()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = post(&router, Some(EDITOR), "/v1/suppliers/NEWCO/risk-signals", None,
        json!({"signal_id": "R-1", "kind": "FINANCIAL", "risk_score": 72.5, "valid_until": "2026-07-01", "feed": "cw", "summary": "late payments"}).to_string()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, v) = get(&router, VIEWER, "/v1/suppliers/NEWCO/violations").await;
    assert_eq!(
        (
            v["items"][0]["points"].as_f64(),
            v["items"][0]["occurred_on"].as_str(),
            v["items"][0]["void"].as_bool()
        ),
        (Some(3.0), Some("2026-06-01"), Some(false))
    );
    let (_, r) = get(&router, VIEWER, "/v1/suppliers/NEWCO/risk-signals").await;
    assert_eq!(
        (
            r["items"][0]["risk_score"].as_f64(),
            r["items"][0]["valid_today"].as_bool()
        ),
        (Some(72.5), Some(true))
    );
    assert_eq!(
        get(&router, VIEWER, "/v1/suppliers/NOBODY/assessments")
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Bad bodies: named field and rule, nothing stored.
    let count = db.store.count().await.unwrap();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}], "colour": "red"}),
            "colour",
            "unknown-field",
        ),
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}]}),
            "assessor",
            "required",
        ),
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 3, "max_score": 2}]}),
            "criteria",
            "between-fields",
        ),
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2, "weight": 1}]}),
            "weight",
            "unknown-field",
        ),
        (
            json!({"assessment_id": "A B", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}]}),
            "assessment_id",
            "charset",
        ),
        (
            json!({"assessment_id": "A", "kind": "SELF_CHECK", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}]}),
            "kind",
            "type",
        ),
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}], "occurred_at": "2026-06-17T12:00:00Z"}),
            "occurred_at",
            "future",
        ),
        (
            json!({"assessment_id": "A", "kind": "ONSITE_AUDIT", "assessor": "P", "criteria": [{"criterion": "x", "score": 1, "max_score": 2}], "valid_until": "2026-01-01", "occurred_at": "2026-06-01T00:00:00Z"}),
            "valid_until",
            "before-occurred-at",
        ),
    ];
    for (body, field, rule) in cases {
        let (s, _, p) = post(&router, Some(EDITOR), uri, None, body.to_string()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {p}");
        assert_eq!(
            (p["field"].as_str(), p["rule"].as_str()),
            (Some(field), Some(rule)),
            "{p}"
        );
    }
    let (s, _, p) = post(&router, Some(EDITOR), uri, None, "{not json".into()).await;
    assert_eq!(
        (s, p["rule"].as_str()),
        (StatusCode::BAD_REQUEST, Some("json"))
    );
    let huge = json!({"reason": "x".repeat(40_000)}).to_string();
    let (s, _, p) = post(
        &router,
        Some(EDITOR),
        "/v1/suppliers/NEWCO/violations/V-1/retract",
        None,
        huge,
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    // The largest valid assessment fits its endpoint.
    let big = json!({"assessment_id": "A".repeat(64), "kind": "BUYER_REVIEW", "assessor": "p".repeat(128),
        "criteria": (0..64).map(|i| json!({"criterion": format!("c{i:063}"), "score": 1.0, "min_score": 0.0, "max_score": 2.0})).collect::<Vec<_>>(),
        "comment": "é".repeat(4000), "occurred_at": "2026-06-01T00:00:00Z"});
    let (s, _, p) = post(&router, Some(EDITOR), uri, None, big.to_string()).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        db.store.count().await.unwrap(),
        count + 1,
        "only the valid one stored"
    );

    // Roles: no key 401, viewer 403, supplier 403 on writes; unknown key 401.
    let (s, _, _) = post(&router, None, uri, None, body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = post(&router, Some("nobody"), uri, None, body.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, p) = post(&router, Some(VIEWER), uri, None, body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{p}");
    let (s, _, _) = post(
        &router,
        Some(SUPPLIER),
        "/v1/suppliers/ACME-01/assessments",
        None,
        body.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A supplier key sees its own scorecard, never another supplier (404, not 403).
    assert_eq!(
        get(&router, SUPPLIER, "/v1/suppliers/ACME-01/scorecard")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/suppliers/ACME-02/scorecard")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/suppliers/ACME-02/events")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/suppliers").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/tiers").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, alerts) = get(&router, SUPPLIER, "/v1/alerts?status=all").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["supplier_id"] == "ACME-01")
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/alerts?supplier_id=QUAL-01")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // A supplier sees the lineage of only the events its own key wrote (none yet).
    let (s, own) = get(&router, SUPPLIER, "/v1/suppliers/ACME-01/events").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        own["items"].as_array().unwrap().len(),
        0,
        "ERP events are not its own"
    );
    let (_, all) = get(&router, VIEWER, "/v1/suppliers/ACME-01/events").await;
    assert!(!all["items"].as_array().unwrap().is_empty());
    // Who am I; the key list is for admins and never shows digests.
    assert_eq!(
        get(&router, VIEWER, "/v1/me").await.1,
        json!({"name": "key-1", "role": "viewer"})
    );
    assert_eq!(
        get(&router, SUPPLIER, "/v1/me").await.1["supplier_id"],
        "ACME-01"
    );
    assert_eq!(
        get(&router, EDITOR, "/v1/keys").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, list) = get(&router, ADMIN, "/v1/keys").await;
    assert_eq!(
        (s, list["items"].as_array().unwrap().len()),
        (StatusCode::OK, 4)
    );
    assert!(!list.to_string().contains(&hash_key(EDITOR)));

    // The writes project like any event: NEWCO shows capability (and no composite:
    // coverage 0.10 < 0.5 under the default policy), each criterion naming its source.
    let written = db.store.count().await.unwrap() - stored_before;
    project(&db.store, policy.clone(), &clock, written as usize)
        .await
        .unwrap();
    let (s, sc) = get(&router, VIEWER, "/v1/suppliers/NEWCO/scorecard").await;
    assert_eq!(s, StatusCode::OK, "{sc}");
    assert!(sc["dimensions"]["capability"].as_f64().is_some(), "{sc}");
    assert_eq!(sc["indicators"]["cooperation"]["status"], "ok");
    assert_eq!(
        sc["indicators"]["cooperation"]["assessment_ids"],
        json!(["AUD-1"])
    );
    assert_eq!(sc["indicators"]["violation_points"]["value"], 3.0);
    assert_eq!(sc["indicators"]["external_risk"]["value"], 72.5);
    assert_eq!(sc["tier"], "UNRATED");
    // Every event the API stored names its key.
    let (_, events) = get(&router, VIEWER, "/v1/suppliers/NEWCO/events").await;
    let sources: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len() as i64, written);
    assert!(
        sources
            .iter()
            .all(|s| *s == "api:alice" || *s == "api:root"),
        "{sources:?}"
    );
    // A retraction voids the audits of the key that retracts... every one named.
    for id in ["AUD-1", &"A".repeat(64)] {
        let (s, _, p) = post(
            &router,
            Some(EDITOR),
            &format!("/v1/suppliers/NEWCO/assessments/{id}/retract"),
            None,
            json!({"reason": "wrong plant"}).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
    }
    project(&db.store, policy, &clock, 2).await.unwrap();
    // On PostgreSQL the response cache follows the projector's commit by NOTIFY, a
    // moment after it: read until the scorecard has moved on.
    let sc = until(&router, "/v1/suppliers/NEWCO/scorecard", |sc| {
        sc["dimensions"]["capability"].is_null()
    })
    .await;
    assert_eq!(sc["dimensions"]["capability"], Value::Null, "{sc}");
    // The OpenAPI document lists the writes.
    let paths = serde_json::to_value(&doc).unwrap()["paths"].clone();
    for p in [
        "/v1/suppliers/{supplier_id}/assessments",
        "/v1/suppliers/{supplier_id}/assessments/{assessment_id}/retract",
        "/v1/suppliers/{supplier_id}/certificates",
        "/v1/suppliers/{supplier_id}/violations",
        "/v1/suppliers/{supplier_id}/violations/{violation_id}/retract",
        "/v1/suppliers/{supplier_id}/risk-signals",
        "/v1/suppliers/{supplier_id}/status",
        "/v1/suppliers/{supplier_id}/plans",
        "/v1/suppliers/{supplier_id}/plans/{plan_id}/progress",
        "/v1/suppliers/{supplier_id}/plans/{plan_id}/close",
    ] {
        assert!(
            paths[p]["post"].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    db.cleanup().await;
}

on_both_backends!(no_auth_writes_as_anonymous);

async fn no_auth_writes_as_anonymous(backend: Backend) {
    let db = fresh(backend).await.unwrap();
    let reader = Reader::new(
        db.store.clone(),
        Arc::new(Policy::default()),
        Codec::default(),
    );
    let (router, _) = app(
        reader,
        Arc::new(noon(today())),
        &ApiConfig::new(ApiKeys::disabled()),
        Arc::new(HttpMetrics::default()),
    );
    let (s, _, b) = post(&router, None, "/v1/suppliers/S-1/violations", None,
        json!({"violation_id": "V-1", "severity": "MAJOR", "regulation": "REACH", "description": "SVHC"}).to_string()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["source"], "api:anonymous");
    // Without occurred_at: the service clock's date (pinned) at the current time of day.
    assert!(
        b["occurred_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-06-15T"),
        "{b}"
    );
    db.cleanup().await;
}
