//! CSV import: every error by file and line, nothing valid lost, re-import adds nothing
//! (appended to a real store).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use tierline_events::{Codec, Record, RecordKind};
use tierline_import::{ImportError, kind_for_file, read_csv};
use tierline_store::{AppendBatch, EventStore, NewEvent};

const RECEIPTS: &str = "\
source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site,delivery_note
wms-7,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,100,plant-7,DN-1
wms-7,2026-03-02T09:00:00Z,SUP-1,GR-2,PO-1,2,50.5,plant-7,
wms-7,2026-03-03T09:00:00Z,SUP-1,GR-3,PO-1,3,-4,plant-7,
wms-7,2026-03-04T09:00:00Z,SUP-2,GR-4,PO-2,1,ten,plant-7,
wms-7,2026-03-32T09:00:00Z,SUP-2,GR-5,PO-2,2,10,plant-7,
wms-7,2026-03-05T09:00:00Z,,GR-6,PO-2,3,10,plant-7,
wms-7,2026-03-06T09:00:00Z,SUP-3,GR-7,PO-3,1,10,plant-7,DN-7
\"wms-7\",2026-03-07T09:00:00Z,SUP-3,\"GR-8, split\",PO-3,2,10,plant-7,
";

fn store_events(records: &[Record]) -> Vec<NewEvent> {
    let codec = Codec::default();
    records
        .iter()
        .map(|r| {
            let b = codec
                .to_bytes(r, tierline_events::Framing::Confluent)
                .unwrap();
            NewEvent::from_decoded(codec.decode(&b).unwrap(), b).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn errors_name_file_and_line_and_every_valid_row_is_kept_once() {
    let codec = Codec::default();
    let kind = kind_for_file(Path::new("data/GoodsReceived.csv")).unwrap();
    assert_eq!(kind, RecordKind::GoodsReceived);
    let out = read_csv(&codec, kind, "GoodsReceived.csv", RECEIPTS.as_bytes(), None).unwrap();
    assert_eq!(out.rows, 8);
    let lines: Vec<(u64, String)> = out
        .errors
        .iter()
        .map(|e| match e {
            ImportError::Row {
                file,
                line,
                problem,
            } => {
                assert_eq!(file, "GoodsReceived.csv");
                (*line, problem.clone())
            }
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(
        lines.iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    assert!(lines[0].1.contains("quantity"), "{}", lines[0].1);
    assert!(
        lines[1].1.contains("quantity") && lines[1].1.contains("ten"),
        "{}",
        lines[1].1
    );
    assert!(lines[2].1.contains("2026-03-32"), "{}", lines[2].1);
    assert!(lines[3].1.contains("supplier_id"), "{}", lines[3].1);
    assert!(
        out.errors[0]
            .to_string()
            .starts_with("GoodsReceived.csv:4: ")
    );
    // The valid rows, as written.
    assert_eq!(out.records.len(), 4);
    let Record::GoodsReceived(g) = &out.records[1] else {
        panic!()
    };
    assert_eq!((g.quantity, g.delivery_note.as_deref()), (50.5, None));
    let Record::GoodsReceived(g) = &out.records[3] else {
        panic!()
    };
    assert_eq!(g.receipt_id, "GR-8, split");

    // Into a real store; the same file again adds nothing (same derived ids).
    let db = tierline_store::testing::sqlite().await.unwrap();
    let first = db
        .store
        .append(&AppendBatch {
            events: store_events(&out.records),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(first.new_count(), 4);
    let again = read_csv(&codec, kind, "GoodsReceived.csv", RECEIPTS.as_bytes(), None).unwrap();
    let ids = |v: &[Record]| {
        v.iter()
            .map(|r| r.envelope().unwrap().event_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&again.records), ids(&out.records));
    let second = db
        .store
        .append(&AppendBatch {
            events: store_events(&again.records),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((second.new_count(), second.duplicate_count()), (0, 4));
    assert_eq!(db.store.count().await.unwrap(), 4);
    db.cleanup().await;
}

#[test]
fn headers_and_file_names_are_checked() {
    let codec = Codec::default();
    let kind = RecordKind::GoodsReceived;
    let e = read_csv(
        &codec,
        kind,
        "r.csv",
        "source,colour\nx,y\n".as_bytes(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown column(s) colour"), "{e}");
    let e = read_csv(
        &codec,
        kind,
        "r.csv",
        "source,supplier_id\nx,y\n".as_bytes(),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("r.csv:1: missing column(s) occurred_at"),
        "{e}"
    );
    // A column given twice is refused (which one would count?).
    let e = read_csv(
        &codec,
        kind,
        "r.csv",
        "source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site,quantity\n"
            .as_bytes(),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("quantity appear more than once"),
        "{e}"
    );
    // A value of the wrong form names its field.
    let csv = "source,occurred_at,supplier_id,inspection_id,item_id,inspected_quantity,defective_quantity,critical_defects,disposition\n\
               q,2026-03-01T09:00:00Z,S,I1,X,10,1,0,FINE\n\
               q,yesterday,S,I2,X,10,1,0,ACCEPTED\n";
    let out = read_csv(
        &codec,
        RecordKind::InspectionCompleted,
        "i.csv",
        csv.as_bytes(),
        None,
    )
    .unwrap();
    let problems: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("disposition"), "{problems:?}");
    assert!(problems[1].contains("occurred_at"), "{problems:?}");
    // A default source fills a missing column; an explicit event_id is kept.
    let csv = "event_id,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site\n\
               0190a6f2-0000-7000-8000-000000000001,2026-03-01T09:00:00Z,S,G,P,1,1,s\n";
    let out = read_csv(&codec, kind, "r.csv", csv.as_bytes(), Some("legacy-erp")).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let env = out.records[0].envelope().unwrap();
    assert_eq!(
        (env.source, env.event_id.to_string().as_str()),
        ("legacy-erp", "0190a6f2-0000-7000-8000-000000000001")
    );
    for (name, want) in [
        (
            "purchase_order_line_placed.csv",
            Some(RecordKind::PurchaseOrderLinePlaced),
        ),
        (
            "inspection-completed.CSV",
            Some(RecordKind::InspectionCompleted),
        ),
        (
            "AfterSalesCaseOpened.csv",
            Some(RecordKind::AfterSalesCaseOpened),
        ),
        ("SupplierAlertRaised.csv", None),
        ("orders.csv", None),
    ] {
        assert_eq!(kind_for_file(Path::new(name)), want, "{name}");
    }
}

#[tokio::test]
async fn a_row_with_a_nul_or_an_empty_date_is_refused_by_name_and_its_neighbours_are_stored() {
    let codec = Codec::default();
    let csv = "\
source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site,delivery_note
wms-7,2026-03-01T09:00:00Z,SUP-1,GR-1,PO-1,1,100,plant-7,
wms\0-7,2026-03-02T09:00:00Z,SUP-1,GR-2,PO-1,2,50,plant-7,
wms-7,0001-01-01T00:00:00Z,SUP-1,GR-3,PO-1,3,10,plant-7,
wms-7,2026-03-04T09:00:00Z,SUP-1,GR-4,PO-1,4,10,plant-7,
";
    let out = read_csv(
        &codec,
        RecordKind::GoodsReceived,
        "GoodsReceived.csv",
        csv.as_bytes(),
        None,
    )
    .unwrap();
    let problems: Vec<(u64, String)> = out
        .errors
        .iter()
        .map(|e| match e {
            ImportError::Row { line, problem, .. } => (*line, problem.clone()),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, 3);
    assert!(
        problems[0].1.contains("source") && problems[0].1.contains("NUL"),
        "{problems:?}"
    );
    assert_eq!(problems[1].0, 4);
    assert!(
        problems[1].1.contains("occurred_at") && problems[1].1.contains("1990"),
        "{problems:?}"
    );
    // The good rows around them reach the store.
    let db = tierline_store::testing::pg().await.unwrap();
    let outcome = db
        .store
        .append(&AppendBatch {
            events: store_events(&out.records),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(outcome.new_count(), 2, "{outcome:?}");
    db.drop_db().await.unwrap();
}

/// Assessments with their criteria as one JSON cell; the v2 records' rules apply.
const ASSESSMENTS: &str = r#"source,occurred_at,supplier_id,assessment_id,kind,assessor,criteria,valid_until,comment
qms,2026-03-01T09:00:00Z,SUP-1,AUD-1,ONSITE_AUDIT,P-1,"[{""criterion"":""cooperation"",""score"":4,""max_score"":5},{""criterion"":""rnd_strength"",""score"":3.5,""min_score"":1,""max_score"":5}]",2027-02-28,plant 2
qms,2026-03-02T09:00:00Z,SUP-1,AUD-2,BUYER_REVIEW,P-2,"[{""criterion"":""cooperation"",""score"":6,""max_score"":5}]",,
qms,2026-03-03T09:00:00Z,SUP-1,AUD-3,ONSITE_AUDIT,P-3,not json,,
qms,2026-03-04T09:00:00Z,SUP-1,AUD-4,ONSITE_AUDIT,P-4,"[{""criterion"":""cooperation"",""score"":4,""max_score"":5,""weight"":2}]",,
"#;

#[test]
fn assessments_take_their_criteria_from_a_json_cell() {
    let codec = Codec::default();
    let kind = kind_for_file(Path::new("supplier_assessment_completed.csv")).unwrap();
    assert_eq!(kind, RecordKind::SupplierAssessmentCompleted);
    let out = read_csv(&codec, kind, "a.csv", ASSESSMENTS.as_bytes(), None).unwrap();
    assert_eq!(out.records.len(), 1, "{:?}", out.errors);
    let Record::SupplierAssessmentCompleted(a) = &out.records[0] else {
        panic!()
    };
    assert_eq!(a.criteria.len(), 2);
    assert_eq!(
        (a.criteria[0].min_score, a.criteria[1].min_score),
        (0.0, 1.0)
    );
    assert_eq!(a.comment.as_deref(), Some("plant 2"));
    let problems: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert!(
        problems[0].starts_with("a.csv:3: ") && problems[0].contains("criteria"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("a.csv:4: ") && problems[1].contains("not JSON"),
        "{problems:?}"
    );
    assert!(
        problems[2].starts_with("a.csv:5: ") && problems[2].contains("weight"),
        "{problems:?}"
    );
    // Every v2 record type is importable.
    for k in [
        RecordKind::SupplierAssessmentRetracted,
        RecordKind::SupplierCertificateRecorded,
        RecordKind::SupplierComplianceViolationRecorded,
        RecordKind::SupplierComplianceViolationRetracted,
        RecordKind::SupplierRiskSignalRecorded,
    ] {
        assert_eq!(
            kind_for_file(Path::new(&format!("{}.csv", k.name()))),
            Some(k)
        );
    }
    let certs = "occurred_at,supplier_id,certificate_id,standard,status,valid_from,valid_until\n\
                 2026-01-02T08:00:00Z,SUP-1,C-1,ISO 9001:2015,VALID,2026-01-01,2028-12-31\n\
                 2026-01-02T08:00:00Z,SUP-1,C-2,ISO 9001:2015,VALID,2026-01-01,2025-12-31\n";
    let out = read_csv(
        &codec,
        RecordKind::SupplierCertificateRecorded,
        "c.csv",
        certs.as_bytes(),
        Some("import"),
    )
    .unwrap();
    assert_eq!(out.records.len(), 1);
    assert!(
        out.errors[0].to_string().contains("valid_until"),
        "{}",
        out.errors[0]
    );
}

const POSTED: &str = "\
source,occurred_at,supplier_id,receipt_id,po_number,line_number,quantity,site,posting_date
sap-ewm,2026-03-01T02:00:00Z,SUP-1,GR-1,PO-1,1,100,plant-cn,2026-02-28
sap-ewm,2026-03-01T09:00:00Z,SUP-1,GR-2,PO-1,1,10,plant-de,
sap-ewm,2026-03-01T09:00:00Z,SUP-1,GR-3,PO-1,1,10,plant-de,2026-02-30
";

#[test]
fn posting_dates_and_reversals_import() {
    let codec = Codec::default();
    let out = read_csv(
        &codec,
        RecordKind::GoodsReceived,
        "GoodsReceived.csv",
        POSTED.as_bytes(),
        None,
    )
    .unwrap();
    let posted: Vec<_> = out
        .records
        .iter()
        .map(|r| match r {
            Record::GoodsReceived(g) => g.posting_date,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        posted,
        [tierline_events::Date::from_ymd(2026, 2, 28), None],
        "an empty cell is no posting date"
    );
    let problem = out.errors[0].to_string();
    assert!(
        problem.starts_with("GoodsReceived.csv:4: ") && problem.contains("posting_date"),
        "{problem}"
    );
    let kind = kind_for_file(Path::new("GoodsReceiptReversed.csv")).unwrap();
    assert_eq!(kind, RecordKind::GoodsReceiptReversed);
    let csv = "source,occurred_at,supplier_id,receipt_id,reason\n\
               sap-ewm,2026-03-02T08:00:00Z,SUP-1,GR-1,movement type 102\n";
    let out = read_csv(&codec, kind, "r.csv", csv.as_bytes(), None).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    match &out.records[..] {
        [Record::GoodsReceiptReversed(r)] => assert_eq!(r.receipt_id, "GR-1"),
        other => panic!("{other:?}"),
    }
}
