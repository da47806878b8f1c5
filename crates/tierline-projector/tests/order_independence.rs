//! Results never depend on arrival order (docs/scoring.md): random streams delivered in
//! several random orders and batchings to a live projector that steps between batches
//! (the clock moving forward), against a rebuild of the complete store on a fresh
//! database with nothing announced before. Real PostgreSQL, one database per run. The
//! live projectors keep ledger caches of one, two or many suppliers, and the truth is
//! rebuilt a few suppliers at a time: results never depend on the cache either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{append, project};
use proptest::prelude::*;
use sqlx::{PgPool, Row};
use tierline_clock::FixedClock;
use tierline_events::{
    Codec, Date, Disposition, InspectionCompleted, Record, ResolutionReason, Timestamp,
};
use tierline_projector::Projector;
use tierline_scoring::Policy;
use tierline_store::Store;

/// 2026-03-01: the streams' first day.
const D0: i32 = 20_513;
/// Days the streams span.
const SPAN: i32 = 90;

static RETRACTIONS: AtomicUsize = AtomicUsize::new(0);
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// (supplier 0..3, day, inspected, defective per mille, critical defects)
type Spec = (u8, i32, u8, u16, i32);

/// The inspections of `specs`; `corrected`: some re-posted under an earlier one's
/// inspection id (the latest counts) and some dated by a plant's posting day.
fn stream(specs: &[Spec], corrected: bool) -> Vec<Record> {
    specs
        .iter()
        .enumerate()
        .map(|(n, &(s, day, inspected, per_mille, critical))| {
            let inspected = f64::from(inspected) * 10.0;
            InspectionCompleted {
                event_id: uuid::Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0000 | n as u128,
                ),
                source: "qms".into(),
                occurred_at: Timestamp(i64::from(D0 + day) * 86_400_000 + 9 * 3_600_000),
                supplier_id: format!("SUP-{s}"),
                inspection_id: format!("IN-{}", if corrected { n % 13 } else { n }),
                receipt_id: None,
                po_number: None,
                line_number: None,
                item_id: "I".into(),
                inspected_quantity: inspected,
                defective_quantity: inspected * f64::from(per_mille) / 1000.0,
                critical_defects: critical,
                disposition: if per_mille > 20 {
                    Disposition::Rejected
                } else {
                    Disposition::Accepted
                },
                posting_date: (corrected && n.is_multiple_of(3)).then_some(Date(D0 + day - 1)),
            }
            .into()
        })
        .collect()
}

fn clock(day: i32) -> FixedClock {
    FixedClock(Timestamp(i64::from(day) * 86_400_000 + 12 * 3_600_000))
}

/// (alert_id, supplier, rule, level, started_on, ended_on) of the non-retracted episodes.
type EpisodeRow = (
    uuid::Uuid,
    String,
    String,
    String,
    chrono::NaiveDate,
    Option<chrono::NaiveDate>,
);

async fn episodes(pool: &PgPool) -> Vec<EpisodeRow> {
    sqlx::query_as(
        "SELECT alert_id, supplier_id, rule, level, started_on, ended_on FROM alert_episodes
         WHERE retracted_at IS NULL ORDER BY alert_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The rest of the read model, as text rows: daily buckets, tier history, scorecards.
async fn model(pool: &PgPool) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT concat_ws('|', supplier_id, indicator, day, numerator, denominator, samples, numerator_parts::text, denominator_parts::text)
         FROM indicator_daily ORDER BY 1",
        "SELECT concat_ws('|', supplier_id, day, score, tier) FROM tier_history ORDER BY 1",
        "SELECT concat_ws('|', supplier_id, window_days, as_of, composite, coverage, tier, dimensions::text, indicators::text, first_day)
         FROM scorecards ORDER BY 1",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
        out.extend(rows);
    }
    out
}

/// What a consumer of the outbox believes is open: each raise opens, each resolution
/// closes. Also counts the retractions.
async fn consumer_view(pool: &PgPool) -> (HashSet<uuid::Uuid>, usize) {
    let codec = Codec::default();
    let rows = sqlx::query("SELECT value FROM outbox ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    let (mut open, mut retracted) = (HashSet::new(), 0);
    for r in rows {
        let value: Vec<u8> = r.get(0);
        match codec.decode(&value).unwrap().record {
            Record::SupplierAlertRaised(a) => {
                open.insert(a.alert_id);
            }
            Record::SupplierAlertResolved(a) => {
                open.remove(&a.alert_id);
                retracted += usize::from(a.reason == ResolutionReason::Retracted);
            }
            _ => {}
        }
    }
    (open, retracted)
}

/// (started_on, ended_on).
type Span = (chrono::NaiveDate, Option<chrono::NaiveDate>);

/// The non-retracted episodes of each (supplier, rule, level) never overlap.
fn assert_no_overlap(rows: &[EpisodeRow]) {
    let mut by_key: BTreeMap<(&str, &str, &str), Vec<Span>> = BTreeMap::new();
    for (_, s, rule, level, start, end) in rows {
        by_key
            .entry((s, rule, level))
            .or_default()
            .push((*start, *end));
    }
    for (key, mut spans) in by_key {
        spans.sort();
        for pair in spans.windows(2) {
            let ((_, end), (next_start, _)) = (pair[0], pair[1]);
            assert!(
                end.is_some_and(|e| e <= next_start),
                "{key:?}: overlapping episodes {pair:?}"
            );
        }
    }
}

async fn run(specs: Vec<Spec>, orders: Vec<(u64, usize, usize)>) {
    run_events(stream(&specs, true), orders).await;
}

/// Assessments (amended, retracted, of every kind), certificates (suspended, expiring,
/// renewed), violations (amended, retracted) and risk signals of the 12 suppliers.
fn profile_records() -> Vec<Record> {
    use tierline_events::*;
    let mut out = Vec::new();
    let mut n: u128 = 0;
    let mut id = || {
        n += 1;
        uuid::Uuid::from_u128(0x0190_0000_0000_7000_9000_0000_0000_0000 | n)
    };
    let at = |day: i32, h: i64| Timestamp(i64::from(D0 + day) * 86_400_000 + h * 3_600_000);
    for k in 0..12i32 {
        let supplier = format!("SUP-{k:05}");
        let kinds = [
            AssessmentKind::OnsiteAudit,
            AssessmentKind::BuyerReview,
            AssessmentKind::Questionnaire,
            AssessmentKind::BuyerReview,
        ];
        for (j, kind) in kinds.into_iter().enumerate() {
            let j = j as i32;
            let day = -40 + 25 * j + k;
            let score = f64::from((k * 7 + j * 3) % 10) / 2.0;
            let criteria = vec![
                CriterionScore {
                    criterion: "cooperation".into(),
                    score,
                    min_score: 0.0,
                    max_score: 5.0,
                },
                CriterionScore {
                    criterion: "rnd_strength".into(),
                    score: 5.0 - score,
                    min_score: 0.0,
                    max_score: 5.0,
                },
            ];
            let valid_until = (j % 2 == 1).then_some(Date(D0 + day + 30));
            let record = |event_id, occurred_at, criteria| -> Record {
                SupplierAssessmentCompleted {
                    event_id,
                    source: "qms".into(),
                    occurred_at,
                    supplier_id: supplier.clone(),
                    assessment_id: format!("A-{j}"),
                    kind,
                    assessor: "P-1".into(),
                    criteria,
                    valid_until,
                    comment: None,
                }
                .into()
            };
            out.push(record(id(), at(day, 9), criteria.clone()));
            if (k + j) % 3 == 0 {
                // An amendment a week later.
                out.push(record(id(), at(day + 7, 9), criteria[..1].to_vec()));
            }
            if (k + j) % 5 == 0 {
                out.push(
                    SupplierAssessmentRetracted {
                        event_id: id(),
                        source: "qms".into(),
                        occurred_at: at(day + 40, 10),
                        supplier_id: supplier.clone(),
                        assessment_id: format!("A-{j}"),
                        reason: "void".into(),
                    }
                    .into(),
                );
            }
        }
        for (c, (status, day, until)) in [
            (CertificateStatus::Valid, -60, 40 + k),
            (CertificateStatus::Suspended, 20 + k, 60),
            (CertificateStatus::Valid, 45 + k, 400),
        ]
        .into_iter()
        .enumerate()
        {
            out.push(
                SupplierCertificateRecorded {
                    event_id: id(),
                    source: "qms".into(),
                    occurred_at: at(day, 8),
                    supplier_id: supplier.clone(),
                    certificate_id: format!("C-{}", c % 2),
                    standard: "ISO 9001:2015".into(),
                    status,
                    valid_from: Date(D0 - 60),
                    valid_until: Date(D0 + until),
                    issuer: None,
                }
                .into(),
            );
        }
        for v in 0..(k % 4) {
            let severity = [
                ViolationSeverity::Minor,
                ViolationSeverity::Major,
                ViolationSeverity::Critical,
            ][(v % 3) as usize];
            out.push(
                SupplierComplianceViolationRecorded {
                    event_id: id(),
                    source: "c".into(),
                    occurred_at: at(10 * v + k, 13),
                    supplier_id: supplier.clone(),
                    violation_id: format!("V-{v}"),
                    severity,
                    regulation: "R".into(),
                    description: "d".into(),
                }
                .into(),
            );
            if v == 2 {
                out.push(
                    SupplierComplianceViolationRetracted {
                        event_id: id(),
                        source: "c".into(),
                        occurred_at: at(10 * v + k + 3, 9),
                        supplier_id: supplier.clone(),
                        violation_id: format!("V-{v}"),
                        reason: "r".into(),
                    }
                    .into(),
                );
            }
        }
        out.push(
            SupplierRiskSignalRecorded {
                event_id: id(),
                source: "r".into(),
                occurred_at: at(k * 5, 6),
                supplier_id: supplier.clone(),
                signal_id: "S-1".into(),
                kind: RiskKind::Financial,
                risk_score: f64::from(40 + 4 * k),
                valid_until: Date(D0 + k * 5 + 20),
                feed: "f".into(),
                summary: "s".into(),
            }
            .into(),
        );
    }
    out
}

/// `orders`: (shuffle seed, batches, ledger cache size) of each live delivery.
async fn run_events(events: Vec<Record>, orders: Vec<(u64, usize, usize)>) {
    // Certificates are required, so coverage is scored and alerted on.
    let policy = Arc::new(Policy {
        required_certificates: vec!["ISO9001".into()],
        ..Policy::default()
    });
    let end = clock(D0 + SPAN + 1);

    // The truth: a rebuild of the complete store on a fresh database.
    let fresh = tierline_store::testing::pg().await.unwrap();
    append(&fresh.store, &events).await;
    let mut rebuilt = Projector::open(
        Store::Postgres(fresh.store.clone()),
        Codec::default(),
        policy.clone(),
        "p",
    )
    .await
    .unwrap();
    // A few suppliers at a time (the bounded rebuild's path).
    rebuilt.set_ledger_cache(2);
    let n = rebuilt.rebuild(&end).await.unwrap();
    project(&mut rebuilt, &end, 100_000, events.len() - n).await;
    let truth = episodes(fresh.store.pool()).await;
    let truth_model = model(fresh.store.pool()).await;
    let truth_open: HashSet<uuid::Uuid> = truth
        .iter()
        .filter(|e| e.5.is_none())
        .map(|e| e.0)
        .collect();
    assert_eq!(consumer_view(fresh.store.pool()).await.0, truth_open);
    fresh.drop_db().await.unwrap();

    for (seed, batches, cache) in orders {
        let db = tierline_store::testing::pg().await.unwrap();
        let mut live = Projector::open(
            Store::Postgres(db.store.clone()),
            Codec::default(),
            policy.clone(),
            "p",
        )
        .await
        .unwrap();
        live.set_ledger_cache(cache);
        // Some events are delivered twice (a redelivery stores nothing new).
        let mut delivery = tierline_events::sample::shuffled(&events, seed);
        delivery.extend(delivery.iter().step_by(7).cloned().collect::<Vec<_>>());
        let delivery = tierline_events::sample::shuffled(&delivery, seed.rotate_left(17));
        let size = delivery.len().div_ceil(batches);
        let mut stored = HashSet::new();
        for (k, batch) in delivery.chunks(size).enumerate() {
            append(&db.store, batch).await;
            let new = batch
                .iter()
                .filter(|r| stored.insert(r.envelope().map(|e| e.event_id)))
                .count();
            // The clock moves forward with the batches, to the day after the stream.
            let today = clock(D0 + 30 + (k as i32 + 1) * (SPAN - 29) / batches as i32);
            assert_eq!(project(&mut live, &today, 100_000, new).await, new);
            live.step(&today, 100_000).await.unwrap();
        }
        live.step(&end, 100_000).await.unwrap();
        let got = episodes(db.store.pool()).await;
        assert_no_overlap(&got);
        assert_eq!(
            got, truth,
            "order seed {seed}, {batches} batches, cache {cache}"
        );
        let got_model = model(db.store.pool()).await;
        assert_eq!(got_model.len(), truth_model.len(), "cache {cache}");
        for (a, b) in got_model.iter().zip(&truth_model) {
            assert_eq!(a, b, "order seed {seed}, {batches} batches, cache {cache}");
        }
        // Consumers of the topic end up believing exactly what is open today.
        let (open, retracted) = consumer_view(db.store.pool()).await;
        assert_eq!(open, truth_open, "order seed {seed}");
        // A retracted episode was never open: it ends where it starts.
        let bad: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM alert_episodes WHERE retracted_at IS NOT NULL AND ended_on IS DISTINCT FROM started_on",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        assert_eq!(bad, 0);
        RETRACTIONS.fetch_add(retracted, Ordering::Relaxed);
        RUNS.fetch_add(1, Ordering::Relaxed);
        db.drop_db().await.unwrap();
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..3,
        0..SPAN,
        1u8..20,
        prop_oneof![3 => 0u16..4, 2 => 4u16..30],
        prop_oneof![6 => Just(0), 1 => 1i32..4],
    )
}

proptest! {
    // Each case creates four databases: a bounded number of cases.
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 20, ..ProptestConfig::default() })]

    #[test]
    fn the_live_episodes_equal_a_fresh_rebuild_whatever_the_arrival_order(
        specs in prop::collection::vec(spec(), 40..120),
        orders in prop::collection::vec((any::<u64>(), 2usize..7, prop_oneof![Just(1usize), Just(2), Just(10_000)]), 3),
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(specs, orders));
        eprintln!(
            "order independence: {} deliveries checked, {} retractions announced so far",
            RUNS.load(Ordering::Relaxed),
            RETRACTIONS.load(Ordering::Relaxed)
        );
    }
}

#[test]
fn every_record_kind_shuffled_equals_a_fresh_rebuild() {
    // Placements, confirmations, changes, cancellations, receipts, inspections and
    // cases of 12 suppliers over a year, in three delivery orders.
    let mut events: Vec<Record> = tierline_events::sample::mix(4000, 5)
        .into_iter()
        .filter(|r| r.supplier_id() < "SUP-00012")
        .collect();
    events.extend(profile_records());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run_events(
            events,
            vec![(1, 3, 1), (2, 5, 4), (3, 8, 10_000)],
        ));
}

#[test]
fn the_example_of_the_issue_retracts_the_erased_episode() {
    // A breach seen from 2026-03-06 is announced; a late inspection dated 2026-03-01
    // moves the start of the breach: the first episode is retracted, the real one raised.
    let specs: Vec<Spec> = (1..=8).map(|d| (0, d + 5, 10, 8, 0)).collect();
    let late: Spec = (0, 0, 10, 8, 0);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let db = tierline_store::testing::pg().await.unwrap();
            let policy = Arc::new(Policy::default());
            let mut live = Projector::open(Store::Postgres(db.store.clone()), Codec::default(), policy, "p")
                .await
                .unwrap();
            let today = clock(D0 + 20);
            let mut all = specs.clone();
            all.push(late);
            let events = stream(&all, false);
            let (first, rest) = events.split_at(specs.len());
            append(&db.store, first).await;
            project(&mut live, &today, 1000, first.len()).await;
            let before = episodes(db.store.pool()).await;
            assert!(before.iter().any(|e| e.2 == "defect_ppm" && e.4 == date(D0 + 10)), "{before:?}");
            append(&db.store, rest).await;
            project(&mut live, &today, 1000, 1).await;
            let rows: Vec<(String, chrono::NaiveDate, Option<chrono::NaiveDate>, bool)> = sqlx::query_as(
                "SELECT level, started_on, ended_on, retracted_at IS NOT NULL FROM alert_episodes
                 WHERE rule = 'defect_ppm' ORDER BY level, started_on",
            )
            .fetch_all(db.store.pool())
            .await
            .unwrap();
            // Five inspections make it sufficient: the breach starts on the fifth day
            // with data, which the late one moves from 03-10 to 03-09.
            assert!(
                rows.iter().any(|r| r.1 == date(D0 + 10) && r.3 && r.2 == Some(r.1)),
                "the erased episode is retracted and never open: {rows:?}"
            );
            assert!(
                rows.iter().any(|r| r.1 == date(D0 + 9) && !r.3 && r.2.is_none()),
                "the real episode is open: {rows:?}"
            );
            let (open, retracted) = consumer_view(db.store.pool()).await;
            assert!(retracted >= 1);
            let truth: HashMap<_, _> = episodes(db.store.pool())
                .await
                .into_iter()
                .filter(|e| e.5.is_none())
                .map(|e| (e.0, ()))
                .collect();
            assert_eq!(open, truth.keys().copied().collect());
            db.drop_db().await.unwrap();
        });
}

fn date(day: i32) -> chrono::NaiveDate {
    Date(day).to_naive().unwrap()
}
