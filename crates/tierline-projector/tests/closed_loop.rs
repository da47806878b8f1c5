//! Plan outcomes and status changes published by the projector (docs/scoring.md "Plans,
//! status and credit"), on both store backends, worked by hand: an outcome is published
//! the day after its review date, once; a late event that flips it publishes the new
//! one; a late withdrawal retracts it; a rebuild publishes nothing again; a status
//! decision publishes `SupplierStatusChanged`, and its expiry another.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{append, project};
use tierline_clock::FixedClock;
use tierline_events::{
    Codec, Date, PlanCloseReason, PlanOutcome, Record, RectificationPlanClosed,
    RectificationPlanOpened, SupplierStatus, SupplierStatusDecided, Timestamp,
};
use tierline_projections::Projections;
use tierline_projector::Projector;
use tierline_scoring::{ID_NAMESPACE, Policy};
use tierline_store::on_both_backends;
use tierline_store::testing::{Backend, fresh};
use uuid::Uuid;

const SUPPLIER: &str = "SUP-9";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

fn inspection(n: u128, when: &str, critical: i32) -> Record {
    common::inspection_of(SUPPLIER, n, when, critical)
}

/// A plan on `critical_defects` over 30 days, target 0, due 2026-03-10.
fn plan() -> Record {
    RectificationPlanOpened {
        event_id: id(100),
        source: "api:alice".into(),
        occurred_at: at("2026-03-01T09:00:00Z"),
        supplier_id: SUPPLIER.into(),
        plan_id: "PLAN-1".into(),
        indicator: "critical_defects".into(),
        window_days: 30,
        target: 0.0,
        due_date: day(2026, 3, 10),
        trigger_alert_id: None,
        owner: "P-1".into(),
        measures: vec!["100% inspection".into()],
    }
    .into()
}

fn noon(d: Date) -> FixedClock {
    FixedClock::noon(d)
}

/// Every message in the outbox, decoded, in order.
async fn outbox(projections: &Projections) -> Vec<Record> {
    let codec = Codec::default();
    projections
        .pending_messages(10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| codec.decode(&m.value).unwrap().record)
        .filter(|r| {
            matches!(
                r,
                Record::RectificationPlanReviewed(_) | Record::SupplierStatusChanged(_)
            )
        })
        .collect()
}

fn reviewed(r: &Record) -> (Uuid, PlanOutcome, Option<f64>) {
    match r {
        Record::RectificationPlanReviewed(p) => (p.event_id, p.outcome, p.value),
        other => panic!("not a review: {other:?}"),
    }
}

fn outcome_id(review: &str, outcome: &str, k: u32) -> Uuid {
    let name = format!("{SUPPLIER}|PLAN|PLAN-1|{review}|{outcome}|{k}");
    Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
}

/// A fresh store of `backend`, a projector on it and its read model.
async fn setup(backend: Backend) -> (tierline_store::testing::TestStore, Projector, Projections) {
    let db = fresh(backend).await.unwrap();
    let policy = Arc::new(Policy::default());
    let p = Projector::open(db.store.clone(), Codec::default(), policy, "main")
        .await
        .unwrap();
    let projections = Projections::of(&db.store);
    (db, p, projections)
}

on_both_backends!(plan_outcomes_are_published_once_flipped_and_retracted);
async fn plan_outcomes_are_published_once_flipped_and_retracted(backend: Backend) {
    let (db, mut p, projections) = setup(backend).await;
    append(
        &db.store,
        &[plan(), inspection(1, "2026-03-02T08:00:00Z", 0)],
    )
    .await;

    // On the due date nothing is published yet: the day is not over.
    project(&mut p, &noon(day(2026, 3, 10)), 100, 2).await;
    assert!(outbox(&projections).await.is_empty());

    // The day after: VERIFIED (0 critical defects <= target 0), k = 1.
    p.step(&noon(day(2026, 3, 11)), 100).await.unwrap();
    let out = outbox(&projections).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        reviewed(&out[0]),
        (
            outcome_id("2026-03-10", "VERIFIED", 1),
            PlanOutcome::Verified,
            Some(0.0)
        )
    );
    let Record::RectificationPlanReviewed(r) = &out[0] else {
        unreachable!()
    };
    assert_eq!(
        (
            r.plan_id.as_str(),
            r.indicator.as_str(),
            r.window_days,
            r.target,
            r.due_date
        ),
        ("PLAN-1", "critical_defects", 30, 0.0, day(2026, 3, 10))
    );

    // Stepping again, or the next day, publishes nothing more.
    p.step(&noon(day(2026, 3, 12)), 100).await.unwrap();
    assert_eq!(outbox(&projections).await.len(), 1);

    // A late inspection dated before the review date flips the outcome: FAILED, k = 2.
    append(&db.store, &[inspection(2, "2026-03-05T08:00:00Z", 1)]).await;
    project(&mut p, &noon(day(2026, 3, 12)), 100, 1).await;
    let out = outbox(&projections).await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        reviewed(&out[1]),
        (
            outcome_id("2026-03-10", "FAILED", 2),
            PlanOutcome::Failed,
            Some(1.0)
        )
    );

    // A rebuild publishes nothing again.
    p.rebuild(&noon(day(2026, 3, 12))).await.unwrap();
    assert_eq!(outbox(&projections).await.len(), 2);

    // A late withdrawal dated before the due date: the plan is never reviewed, its
    // published outcome is retracted (k = 3, the last review date), with no value.
    let close: Record = RectificationPlanClosed {
        event_id: id(101),
        source: "api:alice".into(),
        occurred_at: at("2026-03-08T10:00:00Z"),
        supplier_id: SUPPLIER.into(),
        plan_id: "PLAN-1".into(),
        reason: PlanCloseReason::Withdrawn,
        note: None,
    }
    .into();
    append(&db.store, &[close]).await;
    project(&mut p, &noon(day(2026, 3, 12)), 100, 1).await;
    let out = outbox(&projections).await;
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(
        reviewed(&out[2]),
        (
            outcome_id("2026-03-10", "RETRACTED", 3),
            PlanOutcome::Retracted,
            None
        )
    );
    p.step(&noon(day(2026, 3, 13)), 100).await.unwrap();
    assert_eq!(outbox(&projections).await.len(), 3);
}

fn decision(n: u128, when: &str, status: SupplierStatus, valid_until: Option<Date>) -> Record {
    SupplierStatusDecided {
        event_id: id(n),
        source: "api:root".into(),
        occurred_at: at(when),
        supplier_id: SUPPLIER.into(),
        status,
        reason: "three late deliveries".into(),
        decided_by: "P-0001".into(),
        valid_until,
    }
    .into()
}

on_both_backends!(status_changes_are_published_with_their_effective_dates);
async fn status_changes_are_published_with_their_effective_dates(backend: Backend) {
    let (db, mut p, projections) = setup(backend).await;
    // Suspended from 2026-04-02 to 2026-04-05 inclusive.
    let suspend = decision(
        200,
        "2026-04-02T07:00:00Z",
        SupplierStatus::Suspended,
        Some(day(2026, 4, 5)),
    );
    append(
        &db.store,
        &[inspection(1, "2026-04-01T08:00:00Z", 0), suspend],
    )
    .await;
    project(&mut p, &noon(day(2026, 4, 1)), 100, 2).await;
    assert!(outbox(&projections).await.is_empty(), "not in force yet");

    p.step(&noon(day(2026, 4, 3)), 100).await.unwrap();
    let out = outbox(&projections).await;
    let name = format!("{SUPPLIER}|STATUS|SUSPENDED|2026-04-02|1");
    match out.as_slice() {
        [Record::SupplierStatusChanged(c)] => {
            assert_eq!(c.event_id, Uuid::new_v5(&ID_NAMESPACE, name.as_bytes()));
            assert_eq!(c.from_status, Some(SupplierStatus::Approved));
            assert_eq!(c.to_status, SupplierStatus::Suspended);
            assert_eq!(c.effective_date, day(2026, 4, 2));
            assert_eq!(c.reason, "three late deliveries");
        }
        other => panic!("{other:?}"),
    }

    // The day after `valid_until`: back to APPROVED, the reason names the expiry.
    p.step(&noon(day(2026, 4, 6)), 100).await.unwrap();
    let out = outbox(&projections).await;
    assert_eq!(out.len(), 2, "{out:?}");
    let name = format!("{SUPPLIER}|STATUS|APPROVED|2026-04-06|2");
    match &out[1] {
        Record::SupplierStatusChanged(c) => {
            assert_eq!(c.event_id, Uuid::new_v5(&ID_NAMESPACE, name.as_bytes()));
            assert_eq!(c.from_status, Some(SupplierStatus::Suspended));
            assert_eq!(c.to_status, SupplierStatus::Approved);
            assert_eq!(c.effective_date, day(2026, 4, 6));
            assert_eq!(c.reason, format!("expired:{}", id(200)));
        }
        other => panic!("{other:?}"),
    }
    p.rebuild(&noon(day(2026, 4, 7))).await.unwrap();
    assert_eq!(outbox(&projections).await.len(), 2);
}

fn plan_due(n: u128, plan_id: &str, due: Date) -> Record {
    RectificationPlanOpened {
        event_id: id(n),
        source: "api:alice".into(),
        occurred_at: at("2026-05-01T09:00:00Z"),
        supplier_id: SUPPLIER.into(),
        plan_id: plan_id.into(),
        indicator: "critical_defects".into(),
        window_days: 30,
        target: 0.0,
        due_date: due,
        trigger_alert_id: None,
        owner: "P-1".into(),
        measures: Vec::new(),
    }
    .into()
}

on_both_backends!(two_failed_plans_propose_a_suspension_until_one_is_decided);
async fn two_failed_plans_propose_a_suspension_until_one_is_decided(backend: Backend) {
    let (db, mut p, projections) = setup(backend).await;
    // One critical defect on 2026-05-02: both plans (target 0) fail, reviewed on
    // 2026-05-10 and 2026-05-20; the second FAILED review opens the proposal.
    let records = [
        inspection(1, "2026-05-02T08:00:00Z", 1),
        plan_due(300, "PLAN-A", day(2026, 5, 10)),
        plan_due(301, "PLAN-B", day(2026, 5, 20)),
    ];
    append(&db.store, &records).await;
    project(&mut p, &noon(day(2026, 5, 25)), 100, 3).await;
    let rule = "status_proposal:failed_plans_2";
    let proposal = tierline_scoring::alert_id(
        SUPPLIER,
        rule,
        tierline_scoring::Level::Warning,
        day(2026, 5, 20),
    );
    let codec = Codec::default();
    let alerts = || async {
        projections
            .pending_messages(10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|m| codec.decode(&m.value).unwrap().record)
            .filter(|r| {
                matches!(r, Record::SupplierAlertRaised(a) if a.rule == rule)
                    || matches!(r, Record::SupplierAlertResolved(a) if a.rule == rule)
            })
            .collect::<Vec<_>>()
    };
    match alerts().await.as_slice() {
        [Record::SupplierAlertRaised(a)] => {
            assert_eq!(a.alert_id, proposal);
            assert_eq!(a.level, tierline_events::AlertLevel::Warning);
            assert_eq!((a.value, a.threshold, a.window_days), (2.0, 2.0, 365));
        }
        other => panic!("{other:?}"),
    }
    let fails = outbox(&projections)
        .await
        .iter()
        .filter(|r| matches!(r, Record::RectificationPlanReviewed(x) if x.outcome == PlanOutcome::Failed))
        .count();
    assert_eq!(fails, 2);
    // An admin suspends on 2026-05-26: the proposal closes that day.
    let suspend = decision(302, "2026-05-26T07:00:00Z", SupplierStatus::Suspended, None);
    append(&db.store, &[suspend]).await;
    project(&mut p, &noon(day(2026, 5, 27)), 100, 1).await;
    match alerts().await.as_slice() {
        [
            Record::SupplierAlertRaised(_),
            Record::SupplierAlertResolved(r),
        ] => {
            assert_eq!((r.alert_id, r.as_of), (proposal, day(2026, 5, 26)));
        }
        other => panic!("{other:?}"),
    }
}
