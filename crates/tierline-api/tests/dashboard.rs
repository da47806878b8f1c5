//! The built-in dashboard in real headless Chromium (Debian's `chromium`) against a
//! database seeded through the real store and projector: what it renders, and a
//! screenshot of each page under `target/test-artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use tierline_api::testing::{append, noon, population_records, project};
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app};
use tierline_events::{Codec, Date};
use tierline_scoring::{Policy, Tier};

fn today() -> Date {
    Date::from_ymd(2026, 6, 15).unwrap()
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the dashboard test needs Debian's chromium (scripts/test installs it; or set CHROMIUM)",
        path.display()
    );
    path
}

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads `url` in headless Chromium, lets its scripts run, returns the DOM and saves a
/// screenshot to `png`.
async fn render(url: &str, png: &PathBuf) -> String {
    let profile = tempdir();
    let common = |cmd: &mut tokio::process::Command| {
        cmd.arg("--headless=new")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--hide-scrollbars")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--window-size=1400,1100")
            .arg("--virtual-time-budget=8000");
    };
    let mut dump = tokio::process::Command::new(chromium());
    common(&mut dump);
    let out = dump.arg("--dump-dom").arg(url).output().await.unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut shot = tokio::process::Command::new(chromium());
    common(&mut shot);
    let status = shot
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .await
        .unwrap();
    assert!(status.status.success(), "chromium screenshot failed");
    let bytes = std::fs::read(png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "{} is not a real screenshot",
        png.display()
    );
    let _ = std::fs::remove_dir_all(&profile);
    String::from_utf8(out.stdout).unwrap()
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tierline-chromium-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How many whole UUIDs (8-4-4-4-12 hex digits) follow an `event-id` cell.
fn whole_event_ids(dom: &str) -> usize {
    dom.split(r#"class="muted event-id">"#)
        .skip(1)
        .filter(|rest| {
            rest.get(..36)
                .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok())
        })
        .count()
}

/// The text inside the first element carrying `marker` (an attribute or id), tags stripped.
fn text_after(dom: &str, marker: &str) -> String {
    let start = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not rendered"));
    let rest = &dom[start..];
    let rest = &rest[rest.find('>').map_or(0, |i| i + 1)..];
    let end = ["</tr>", "</div>"]
        .iter()
        .filter_map(|t| rest.find(t))
        .min()
        .unwrap_or(rest.len());
    let mut out = String::new();
    let mut in_tag = false;
    for c in rest[..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An inspection of FEED-01 from `wms-east` (three a day).
fn feed_inspection(d: u128, at: tierline_events::Timestamp) -> tierline_events::Record {
    tierline_events::InspectionCompleted {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_f000 | d),
        source: "wms-east".into(),
        occurred_at: at,
        supplier_id: "FEED-01".into(),
        inspection_id: format!("FEED-{d}"),
        receipt_id: None,
        po_number: None,
        line_number: None,
        item_id: "I".into(),
        inspected_quantity: 10.0,
        defective_quantity: 0.0,
        critical_defects: 0,
        disposition: tierline_events::Disposition::Accepted,
        posting_date: None,
    }
    .into()
}

/// QUAL-01's audit (valid for 30 more days) and two certificates, one expiring in 40
/// days, one expired.
fn profile_records() -> Vec<tierline_events::Record> {
    use tierline_events::*;
    let at =
        |days_ago: i32| Timestamp((i64::from(today().0 - days_ago) * 86_400 + 9 * 3600) * 1000);
    let id = |n: u128| uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n);
    let c = |name: &str, score: f64| CriterionScore {
        criterion: name.into(),
        score,
        min_score: 0.0,
        max_score: 5.0,
    };
    let cert = |n, cid: &str, std: &str, from: Date, until: Date| -> Record {
        SupplierCertificateRecorded {
            event_id: id(n),
            source: "qms".into(),
            occurred_at: at(100),
            supplier_id: "QUAL-01".into(),
            certificate_id: cid.into(),
            standard: std.into(),
            status: CertificateStatus::Valid,
            valid_from: from,
            valid_until: until,
            issuer: None,
        }
        .into()
    };
    vec![
        SupplierAssessmentCompleted {
            event_id: id(9001),
            source: "qms".into(),
            occurred_at: at(30),
            supplier_id: "QUAL-01".into(),
            assessment_id: "AUD-Q1".into(),
            kind: AssessmentKind::OnsiteAudit,
            assessor: "P-7".into(),
            criteria: vec![
                c("rnd_strength", 3.0),
                c("cooperation", 4.0),
                c("risk_resilience", 2.5),
                c("technical_support", 4.5),
                c("regional_advantage", 5.0),
            ],
            valid_until: Some(Date(today().0 + 30)),
            comment: None,
        }
        .into(),
        cert(
            9002,
            "CERT-9001",
            "ISO 9001:2015",
            Date::from_ymd(2025, 7, 1).unwrap(),
            Date(today().0 + 40),
        ),
        cert(
            9003,
            "CERT-14001",
            "ISO14001",
            Date::from_ymd(2023, 1, 1).unwrap(),
            Date(today().0 - 5),
        ),
        // The closed loop: DEAR-01 blacklisted by an admin.
        SupplierStatusDecided {
            event_id: id(9004),
            source: "api:root".into(),
            occurred_at: at(10),
            supplier_id: "DEAR-01".into(),
            status: SupplierStatus::Blacklisted,
            reason: "forged certificates".into(),
            decided_by: "P-0001".into(),
            valid_until: None,
        }
        .into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_real_data_in_chromium() {
    let db = tierline_store::testing::fresh(tierline_store::testing::Backend::Postgres)
        .await
        .unwrap();
    let mut records = population_records(today(), 120);
    records.extend(profile_records());
    append(&db.store, &records).await.unwrap();
    // A WMS feed that stopped on 3 June: the banner says so on every page.
    for d in 1..=3 {
        let at =
            tierline_events::Timestamp::parse_rfc3339(&format!("2026-06-0{d}T08:00:00Z")).unwrap();
        let feed: Vec<_> = (0..3).map(|k| feed_inspection(d * 10 + k, at)).collect();
        tierline_api::testing::append_at(&db.store, &feed, Some(at))
            .await
            .unwrap();
        records.extend(feed);
    }
    let policy = Arc::new(Policy::default());
    project(&db.store, policy.clone(), &noon(today()), records.len())
        .await
        .unwrap();
    let ledgers = tierline_api::testing::ledgers(&records, &policy);
    let (router, _) = app(
        Reader::new(db.store.clone(), policy.clone(), Codec::default()),
        Arc::new(noon(today())),
        &ApiConfig::new(ApiKeys::disabled()),
        Arc::new(HttpMetrics::default()),
    );
    // Who P-0001 (DEAR-01's decision) is.
    tierline_people::People::new(db.store.clone(), None)
        .set(
            "P-0001",
            Some("Ines Roth"),
            None,
            tierline_events::Timestamp(0),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    // Overview: tier distribution, supplier table, live alert feed.
    let dom = render(
        &format!("http://{addr}/"),
        &artifacts().join("dashboard-overview.png"),
    )
    .await;
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the page did not finish loading:\n{dom}"
    );
    assert!(
        dom.contains(r#"id="sources-banner" class="banner" role="status" data-status="stale""#),
        "no stale-feed banner"
    );
    assert_eq!(
        text_after(&dom, r#"id="sources-banner""#),
        "A data feed has stopped. no InspectionCompleted from wms-east for 12 days; it usually \
         pauses at most 4 days. Deliveries and inspections it should have sent are missing: \
         late or unrated suppliers may not be late."
    );
    for t in Tier::ALL {
        let n = ledgers.values().filter(|l| l.tier_on(today()) == t).count();
        let bar = text_after(&dom, &format!(r#"data-tier="{}""#, t.name()));
        assert!(
            bar.ends_with(&format!(" {n}")),
            "tier bar {}: {bar:?}, want {n}",
            t.name()
        );
    }
    for (id, l) in &ledgers {
        let row = text_after(&dom, &format!(r#"data-supplier="{id}""#));
        let score = l
            .scorecard(today(), 90)
            .composite
            .map_or("–".to_owned(), |s| format!("{s:.1}"));
        assert!(
            row.starts_with(&format!("{id} {score} {}", l.tier_on(today()).name())),
            "row {row:?}"
        );
    }
    let open: Vec<String> = ledgers
        .values()
        .flat_map(|l| l.alert_episodes(today()))
        .map(|e| e.alert_id.to_string())
        .collect();
    assert!(!open.is_empty());
    assert!(
        open.iter()
            .any(|id| dom.contains(&format!(r#"data-alert="{id}""#))),
        "no alert in the feed"
    );

    // A supplier page: score, tier, indicators, open alerts, history, events.
    let id = "QUAL-01";
    let l = &ledgers[id];
    let dom = render(
        &format!("http://{addr}/#/supplier/{id}"),
        &artifacts().join("dashboard-supplier.png"),
    )
    .await;
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the supplier page did not finish loading:\n{dom}"
    );
    let sc = l.scorecard(today(), 90);
    let score = text_after(&dom, r#"id="supplier-score""#);
    // The score, then the tier and status badges.
    assert_eq!(
        score,
        format!(
            "{:.1} {} APPROVED",
            sc.composite.unwrap(),
            l.tier_on(today()).name()
        )
    );
    // Each indicator says whether it has enough data and which alert is open on it
    // (the most severe), so "ok" never sits unexplained next to an open CRITICAL alert.
    let open: Vec<_> = l
        .alert_episodes(today())
        .into_iter()
        .filter(|e| e.ended_on.is_none())
        .collect();
    let mut alert_cells = 0;
    for (i, v) in &sc.indicators {
        let row = text_after(&dom, &format!(r#"data-indicator="{}""#, i.name()));
        let data = if v.value.is_some() {
            "enough data"
        } else {
            "too little data"
        };
        let on_it: Vec<_> = open.iter().filter(|e| e.rule == i.name()).collect();
        let alert = match on_it
            .iter()
            .find(|e| e.level == tierline_scoring::Level::Critical)
            .or(on_it.first())
        {
            Some(e) => {
                alert_cells += 1;
                format!("{} since {}", e.level.name(), e.started_on)
            }
            None => "none".to_owned(),
        };
        assert!(
            row.ends_with(&format!(" {} {data} {alert}", v.samples)),
            "{row:?}"
        );
    }
    assert!(alert_cells > 0, "QUAL-01 has alerts open on its indicators");
    let defect = text_after(&dom, r#"data-indicator="defect_ppm""#);
    assert!(defect.starts_with("defect_ppm 80000 0.0"), "{defect:?}");
    let open_here = l
        .announced_episodes(today())
        .into_iter()
        .filter(|e| e.ended_on.is_none())
        .count();
    assert!(open_here > 0);
    // QUAL-01's two automatic plans failed on the same day: a status proposal (an
    // alert of its own, on no indicator) is open too, listed but on no indicator.
    let proposals = dom.matches(" status_proposal:failed_plans_2 ").count();
    assert_eq!(proposals, 1, "the proposal to suspend is listed");
    assert_eq!(dom.matches("data-alert=").count(), open_here + alert_cells);
    assert!(dom.contains("uplot"), "no history chart");
    assert!(
        dom.contains("InspectionCompleted"),
        "no events (lineage) table"
    );
    // Newest first, with whole event ids.
    let newest = records
        .iter()
        .filter_map(|r| r.envelope())
        .filter(|e| e.supplier_id == id)
        .map(|e| e.occurred_at)
        .max()
        .unwrap();
    let table = &dom[dom.find(r#"id="event-table""#).unwrap()..];
    let first_event = text_after(&table[table.find("<tbody").unwrap()..], "<tr");
    let shown = newest.to_string().replace('T', " ");
    assert!(
        first_event.contains(&shown[..19]),
        "the first event row is not the newest ({shown}): {first_event:?}"
    );
    // The criteria panel: each criterion's value and the assessment it comes from;
    // re-assessments due; certificates with expiry badges; the form (no-auth: an admin).
    let coop = text_after(&dom, r#"data-criterion="cooperation""#);
    assert_eq!(
        coop,
        format!(
            "cooperation 80% from AUD-Q1 (ONSITE_AUDIT, {} – {})",
            Date(today().0 - 30),
            Date(today().0 + 30)
        ),
        "{coop:?}"
    );
    let due = text_after(&dom, r#"data-due="cooperation""#);
    // (The list's items run on to the next ones: one `li` each.)
    let want = format!(
        "30 days cooperation: valid through {} 30 days",
        Date(today().0 + 30)
    );
    assert!(due.starts_with(&want), "{due:?}");
    let cert = text_after(&dom, r#"data-certificate="CERT-9001""#);
    assert!(
        cert.ends_with("VALID 2025-07-01 – 2026-07-25 40 days left"),
        "{cert:?}"
    );
    let old = text_after(&dom, r#"data-certificate="CERT-14001""#);
    assert!(old.ends_with("expired"), "{old:?}");
    assert!(
        !dom.contains(r#"id="assessment-card" hidden"#),
        "the form is shown to an admin"
    );
    assert!(dom.contains(r#"name="c_rnd_strength""#));
    let ids = dom.matches(r#"class="muted event-id">"#).count();
    assert!(ids > 0);
    let full = whole_event_ids(&dom);
    assert!(full >= ids, "whole event ids: {full} uuids for {ids} rows");
    closed_loop_pages(addr, &dom).await;
    db.cleanup().await;
}

/// The closed loop's parts of the supplier page (QUAL-01, rendered in `dom`), the plans
/// board, a plan page and the blacklist.
async fn closed_loop_pages(addr: std::net::SocketAddr, dom: &str) {
    // QUAL-01's CRITICAL alerts imply plans; its credit and status are shown; an admin
    // (no-auth) may open a plan from an alert and decide the status.
    let status = text_after(dom, r#"id="status-now""#);
    assert!(
        status.starts_with("APPROVED since the beginning"),
        "{status:?}"
    );
    let credit = text_after(dom, r#"id="credit-now""#);
    assert!(credit.contains("· class"), "{credit:?}");
    let plan_rows = dom.matches(r#"<tr data-plan=""#).count();
    assert!(plan_rows > 0, "QUAL-01's derived plans are listed");
    assert!(dom.contains(">open a plan</button>"));
    assert!(!dom.contains(r#"id="status-form" class="inline-form" hidden"#));
    assert!(dom.contains(r#"data-delta=""#), "credit deltas listed");
    let plan_id = {
        let at = dom.find(r#"<tr data-plan=""#).unwrap() + r#"<tr data-plan=""#.len();
        dom[at..at + 36].to_owned()
    };
    // The board lists the outcomes (QUAL-01's plans, due 60 days after its alerts of
    // 2026-03-02, failed).
    let board = render(
        &format!("http://{addr}/#/plans"),
        &artifacts().join("dashboard-plans.png"),
    )
    .await;
    assert!(board.contains(r#"data-ready="true""#), "{board}");
    let outcomes = text_after(&board, r#"id="board-outcomes""#);
    assert!(
        outcomes.contains("FAILED QUAL-01 · defect_ppm target 4500, due 2026-05-01"),
        "{outcomes:?}"
    );
    // A plan page: facts (baseline, target, due), the chart with its target line.
    let page = render(
        &format!("http://{addr}/#/supplier/QUAL-01/plan/{plan_id}"),
        &artifacts().join("dashboard-plan.png"),
    )
    .await;
    assert!(page.contains(r#"data-ready="true""#), "{page}");
    let facts = text_after(&page, r#"data-fact="plan""#);
    assert!(facts.contains("automatic"), "{facts:?}");
    let baseline = text_after(&page, r#"data-fact="baseline""#);
    assert!(
        baseline.starts_with("baseline ") && !baseline.ends_with('–'),
        "{baseline:?}"
    );
    assert!(page.contains("uplot"), "no plan chart");
    // Reviewed: no more progress or closing.
    assert!(page.contains(r#"id="progress-form" class="inline-form" hidden"#));
    // DEAR-01's page names who decided, from the people directory.
    let dear = render(
        &format!("http://{addr}/#/supplier/DEAR-01"),
        &artifacts().join("dashboard-decision.png"),
    )
    .await;
    let decision = text_after(&dear, r#"data-decision=""#);
    assert!(
        decision.contains("by Ines Roth (P-0001): forged certificates"),
        "{decision:?}"
    );
    // The blacklist: DEAR-01 with its reason and history; its row in the overview.
    let black = render(
        &format!("http://{addr}/#/blacklist"),
        &artifacts().join("dashboard-blacklist.png"),
    )
    .await;
    let row = text_after(&black, r#"data-supplier="DEAR-01""#);
    assert!(
        row.starts_with(&format!(
            "DEAR-01 BLACKLISTED {} forged certificates",
            Date(today().0 - 10)
        )),
        "{row:?}"
    );
}
