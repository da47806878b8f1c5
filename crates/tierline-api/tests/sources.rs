//! `GET /v1/sources`: a feed that stopped shows as stale, with its numbers and a reason,
//! for every role but supplier keys. Real PostgreSQL, real projector.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{ADMIN, SUPPLIER, VIEWER, fixture, get, today};
use tierline_api::testing::{append_at, project};
use tierline_events::{Disposition, InspectionCompleted, Record, Timestamp};
use tierline_store::testing::Backend;

/// Three inspections a day from `wms-east` on 1-3 June, recorded then.
fn stale_feed() -> Vec<(Timestamp, Vec<Record>)> {
    (1..=3)
        .map(|d| {
            let at = Timestamp::parse_rfc3339(&format!("2026-06-0{d}T08:00:00Z")).unwrap();
            let records = (0..3)
                .map(|k| {
                    InspectionCompleted {
                        event_id: uuid::Uuid::from_u128(
                            0x0190_0000_0000_7000_8000_0000_0000_0000 | (d * 10 + k),
                        ),
                        source: "wms-east".into(),
                        occurred_at: at,
                        supplier_id: "FEED-01".into(),
                        inspection_id: format!("FEED-{d}-{k}"),
                        receipt_id: None,
                        po_number: None,
                        line_number: None,
                        item_id: "I".into(),
                        inspected_quantity: 10.0,
                        defective_quantity: 0.0,
                        critical_defects: 0,
                        disposition: Disposition::Accepted,
                        posting_date: None,
                    }
                    .into()
                })
                .collect();
            (at, records)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_feed_is_stale_for_everyone_but_suppliers() {
    let f = fixture(Backend::Postgres).await;
    let mut n = 0;
    for (at, records) in stale_feed() {
        append_at(&f.db.store, &records, Some(at)).await.unwrap();
        n += records.len();
    }
    project(&f.db.store, f.policy.clone(), &f.clock, n)
        .await
        .unwrap();

    let (status, body) = get(&f.router, VIEWER, "/v1/sources").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["as_of"],
        format!("{today}T12:00:00.000Z", today = today())
    );
    assert_eq!(body["stale"], 1, "{body}");
    let first = &body["items"][0];
    assert_eq!(first["source"], "wms-east");
    assert_eq!(first["record_name"], "io.tierline.v1.InspectionCompleted");
    assert_eq!(first["status"], "stale");
    assert_eq!(first["last_event_at"], "2026-06-03T08:00:00.000Z");
    assert_eq!(first["silent_seconds"], 12 * 86_400 + 4 * 3600);
    assert_eq!(
        (first["today"].as_i64(), first["yesterday"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(first["baseline_daily"], 9.0 / 14.0);
    assert_eq!(
        first["reason"],
        "no InspectionCompleted from wms-east for 12 days; it usually pauses at most 4 days"
    );
    // The fixture's other feeds were recorded after the pinned clock: nothing to judge.
    let rest = body["items"].as_array().unwrap();
    assert!(rest.len() > 1);
    assert!(rest[1..].iter().all(|s| s["status"] == "ok"), "{body}");

    assert_eq!(get(&f.router, ADMIN, "/v1/sources").await.0, StatusCode::OK);
    let (status, body) = get(&f.router, SUPPLIER, "/v1/sources").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}
