//! People's free text is stored sealed under its author's key and shown in clear until
//! the author is erased; then it reads `[erased]` everywhere the API shows it, nothing
//! in the event table changes, and a rebuild projects the same. Both backends, with a
//! master key wrapping the directory's keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{ADMIN, EDITOR, VIEWER, get, keys, post, today, until};
use serde_json::{Value, json};
use tierline_api::testing::{append, noon, population_records, project};
use tierline_api::{ApiConfig, HttpMetrics, Reader, app};
use tierline_events::Codec;
use tierline_people::{ERASED, Key, People};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::testing::Backend;
use tierline_store::{Store, on_both_backends};

const COMMENT: &str = "Walked the line with Jan Novak (quality lead), +420 601 555 123";
const REASON: &str = "Forged certificates, reported by Eva Bauer";

/// Every stored event's bytes, in order.
async fn event_table(store: &Store) -> Vec<(i64, Vec<u8>)> {
    let sql = "SELECT position, datum FROM events ORDER BY position";
    match store {
        Store::Postgres(s) => sqlx::query_as(sql).fetch_all(s.pool()).await.unwrap(),
        Store::Sqlite(s) => sqlx::query_as(sql).fetch_all(s.pool()).await.unwrap(),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

on_both_backends!(erasing_a_person_makes_their_text_unreadable_and_nothing_else_changes);

async fn erasing_a_person_makes_their_text_unreadable_and_nothing_else_changes(backend: Backend) {
    let db = tierline_store::testing::fresh(backend).await.unwrap();
    let records = population_records(today(), 30);
    append(&db.store, &records).await.unwrap();
    let policy = Arc::new(Policy::default());
    let clock = noon(today());
    let master = Key::random().unwrap();
    let mut config = ApiConfig::new(keys());
    config.secrets_key = Some(master.clone());
    let (router, _) = app(
        Reader::new(db.store.clone(), policy.clone(), Codec::default()),
        Arc::new(clock),
        &config,
        Arc::new(HttpMetrics::default()),
    );

    // P-7's audit comment (typed by alice on P-7's behalf: sealed under P-7, the record's
    // assessor), and an admin's status decision by P-0001.
    let audit = json!({
        "assessment_id": "AUD-7", "kind": "ONSITE_AUDIT", "assessor": "P-7",
        "criteria": [{"criterion": "cooperation", "score": 4.0, "max_score": 5.0}],
        "comment": COMMENT, "occurred_at": "2026-06-10T09:00:00Z"})
    .to_string();
    let idem = "0190a3c2-7d4e-7c11-9a5b-3f2e1d0c0777";
    let uri = "/v1/suppliers/ACME-01/assessments";
    let (s, _, written) = post(&router, Some(EDITOR), uri, Some(idem), audit.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{written}");
    assert_eq!(
        written["payload"]["comment"], COMMENT,
        "the response shows it in clear"
    );
    let decision = json!({"status": "CONDITIONAL", "reason": REASON, "decided_by": "P-0001",
        "occurred_at": "2026-06-11T08:00:00Z"});
    let (s, _, b) = post(
        &router,
        Some(ADMIN),
        "/v1/suppliers/ACME-01/status",
        None,
        decision.to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // The same request again is recognised (sealing is deterministic).
    let (s, _, again) = post(&router, Some(EDITOR), uri, Some(idem), audit).await;
    assert_eq!(
        (s, &again["position"]),
        (StatusCode::OK, &written["position"])
    );

    // Stored sealed: no event holds the text.
    let table = event_table(&db.store).await;
    assert!(
        !table
            .iter()
            .any(|(_, d)| contains(d, "Jan Novak") || contains(d, "Eva Bauer")),
        "free text stored in clear"
    );
    assert!(
        table
            .iter()
            .any(|(_, d)| contains(d, "tierline:sealed:v1:"))
    );
    // The directory holds a wrapped key for each author, not the key itself.
    let people = People::new(db.store.clone(), Some(master));
    let rows = db.store.people(&["P-7", "P-0001"]).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.key_wrapped && r.key_material.len() == 12 + 32 + 16)
    );
    let comment = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["assessment_id"] == "AUD-7")
            .map(|a| a["comment"].clone())
            .unwrap()
    };
    let (_, list) = get(&router, VIEWER, "/v1/suppliers/ACME-01/assessments").await;
    assert_eq!(comment(&list), COMMENT);

    project(&db.store, policy.clone(), &clock, records.len() + 2)
        .await
        .unwrap();
    let (_, board_before) = get(&router, VIEWER, "/v1/suppliers?page_size=500").await;

    // The directory names P-7 until the erasure.
    people
        .set("P-7", Some("Jan Novák"), Some("jan@example.com"), clock.0)
        .await
        .unwrap();
    let (_, dir) = get(&router, VIEWER, "/v1/people").await;
    assert_eq!(
        dir["items"],
        json!([
            {"person_id": "P-0001", "name": null, "contact": null, "erased": false},
            {"person_id": "P-7", "name": "Jan Novák", "contact": "jan@example.com", "erased": false},
        ])
    );
    assert_eq!(
        get(&router, common::SUPPLIER, "/v1/people").await.0,
        StatusCode::FORBIDDEN
    );

    // Erase P-7.
    assert!(
        people
            .erase("P-7", "dpo@example.com", clock.0)
            .await
            .unwrap()
    );
    // The API remembers keys for at most a second.
    let list = until(&router, "/v1/suppliers/ACME-01/assessments", |v| {
        comment(v) == ERASED
    })
    .await;
    assert_eq!(comment(&list), ERASED);
    // In the lineage too, and P-0001's text is untouched.
    let (_, events) = get(
        &router,
        VIEWER,
        "/v1/suppliers/ACME-01/events?type=SupplierAssessmentCompleted&order=desc&page_size=5",
    )
    .await;
    assert_eq!(events["items"][0]["payload"]["comment"], ERASED, "{events}");
    let (_, status) = get(&router, VIEWER, "/v1/suppliers/ACME-01/status").await;
    assert_eq!(status["decisions"][0]["reason"], REASON, "{status}");
    let (_, dir) = get(&router, VIEWER, "/v1/people").await;
    assert_eq!(
        dir["items"][1],
        json!({"person_id": "P-7", "name": ERASED, "contact": null, "erased": true})
    );
    let erasures = people.erasures().await.unwrap();
    assert_eq!(
        (
            erasures.len(),
            erasures[0].erased_by.as_str(),
            erasures[0].had_entry
        ),
        (1, "dpo@example.com", true)
    );

    // Nothing in the event table changed; a rebuild projects the same board.
    assert_eq!(event_table(&db.store).await, table);
    let mut p = Projector::open(db.store.clone(), Codec::default(), policy, "main")
        .await
        .unwrap();
    p.rebuild(&clock).await.unwrap();
    p.release().await;
    let (_, board_after) = get(&router, VIEWER, "/v1/suppliers?page_size=500").await;
    assert_eq!(board_after, board_before);

    // A service without the master key cannot read the wrapped keys: it says so.
    let id = uuid::Uuid::parse_str(b["event_id"].as_str().unwrap()).unwrap();
    let stored = db.store.event("api:root", id).await.unwrap().unwrap();
    let tierline_events::Record::SupplierStatusDecided(r) =
        stored.decode(&Codec::default()).unwrap()
    else {
        panic!("a status decision")
    };
    assert!(r.reason.starts_with("tierline:sealed:v1:") && r.reason.ends_with(":P-0001"));
    let blind = People::new(db.store.clone(), None);
    let err = blind
        .unseal_json(&mut json!({"reason": r.reason}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, tierline_people::PeopleError::WrongMasterKey),
        "{err}"
    );
}
