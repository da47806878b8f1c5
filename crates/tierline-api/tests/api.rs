//! Every endpoint of docs/api.md on both store backends (the real PostgreSQL server and
//! an SQLite file), seeded through the real store and projector; expected numbers come
//! from the scoring crate's ledger fed the same events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tierline_api::testing::{append, noon, population_records, project};
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app};
use tierline_events::{Codec, Date, Record};
use tierline_scoring::{Indicator, Policy, SupplierLedger, Tier};
use tierline_store::testing::{Backend, TestStore, fresh};

const KEY: &str = "test-key-1";

fn today() -> Date {
    Date::from_ymd(2026, 6, 15).unwrap()
}

struct Fixture {
    db: TestStore,
    router: Router,
    records: Vec<Record>,
    ledgers: BTreeMap<String, SupplierLedger>,
}

use tierline_store::on_both_backends;

async fn fixture_with(backend: Backend, config: ApiConfig) -> Fixture {
    let db = fresh(backend).await.unwrap();
    let records = population_records(today(), 120);
    append(&db.store, &records).await.unwrap();
    let policy = Arc::new(Policy::default());
    project(&db.store, policy.clone(), &noon(today()), records.len())
        .await
        .unwrap();
    let reader = Reader::new(db.store.clone(), policy.clone(), Codec::default());
    let (router, _) = app(
        reader,
        Arc::new(noon(today())),
        &config,
        Arc::new(HttpMetrics::default()),
    );
    let ledgers = tierline_api::testing::ledgers(&records, &policy);
    Fixture {
        db,
        router,
        records,
        ledgers,
    }
}

async fn fixture(backend: Backend) -> Fixture {
    fixture_with(backend, ApiConfig::new(ApiKeys::from_keys([KEY]))).await
}

async fn call(router: &Router, req: Request<Body>) -> (StatusCode, header::HeaderMap, Value) {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let (s, _, b) = call(router, req).await;
    (s, b)
}

async fn ok(router: &Router, uri: &str) -> Value {
    let (s, b) = get(router, uri).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {b}");
    b
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Every page of a list, following next_page_token.
async fn all_pages(router: &Router, base: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let sep = if base.contains('?') { '&' } else { '?' };
        let uri = match &token {
            Some(t) => format!("{base}{sep}page_token={t}"),
            None => base.to_owned(),
        };
        let b = ok(router, &uri).await;
        pages += 1;
        items.extend(b["items"].as_array().unwrap().iter().cloned());
        match b["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return (items, pages),
        }
        assert!(pages < 1000);
    }
}

fn check_scorecard(body: &Value, l: &SupplierLedger, as_of: Date, window: u32) {
    let sc = l.scorecard(as_of, window);
    assert_eq!(body["as_of"], as_of.to_string());
    assert_eq!(body["window"], window);
    assert_eq!(num(&body["score"]), sc.composite, "{}", l.supplier_id());
    assert_eq!(body["tier"], l.tier_on(as_of).name(), "{}", l.supplier_id());
    let ind = body["indicators"].as_object().unwrap();
    assert_eq!(
        ind.len(),
        l.policy().indicators_all().len(),
        "every indicator of the specs and every criterion of the policy"
    );
    assert_eq!(ind.len(), 20);
    for (i, v) in &sc.indicators {
        let got = &ind[i.name()];
        assert_eq!(
            num(&got["value"]),
            v.value,
            "{} {}",
            l.supplier_id(),
            i.name()
        );
        assert_eq!(num(&got["subscore"]), v.subscore);
        assert_eq!(got["numerator"].as_f64().unwrap(), v.numerator);
        assert_eq!(got["denominator"].as_f64().unwrap(), v.denominator);
        assert_eq!(got["samples"].as_u64().unwrap(), v.samples);
        assert_eq!(got["status"], v.status());
    }
    assert!(ind["critical_defects"]["subscore"].is_null());
    for (d, v) in &sc.dimensions {
        assert_eq!(num(&body["dimensions"][d.name()]), *v);
    }
}

on_both_backends!(scorecards_today_and_in_the_past_equal_the_ledger);
async fn scorecards_today_and_in_the_past_equal_the_ledger(backend: Backend) {
    let f = fixture(backend).await;
    assert!(f.ledgers.len() >= 6);
    let tiers: Vec<Tier> = f.ledgers.values().map(|l| l.tier_on(today())).collect();
    assert!(
        tiers.contains(&Tier::Unrated)
            && tiers.iter().filter(|t| **t != Tier::Unrated).count() >= 4
    );
    for (id, l) in &f.ledgers {
        // Today: straight from the projected scorecards.
        let b = ok(&f.router, &format!("/v1/suppliers/{id}/scorecard")).await;
        assert_eq!(b["supplier_id"], id.as_str());
        assert_eq!(b["policy_version"], l.policy().version.as_str());
        check_scorecard(&b, l, today(), 90);
        // Other windows and past dates: computed from the daily buckets.
        for (days_back, window) in [(0, 30), (0, 365), (17, 90), (45, 30), (200, 90)] {
            let as_of = Date(today().0 - days_back);
            let b = ok(
                &f.router,
                &format!("/v1/suppliers/{id}/scorecard?as_of={as_of}&window={window}"),
            )
            .await;
            check_scorecard(&b, l, as_of, window);
        }
    }
    let (s, b) = get(&f.router, "/v1/suppliers/NOPE/scorecard").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["status"], 404);
    f.db.cleanup().await;
}

on_both_backends!(the_supplier_list_sorts_filters_and_pages);
async fn the_supplier_list_sorts_filters_and_pages(backend: Backend) {
    let f = fixture(backend).await;
    let expect = |as_of: Date, window: u32| -> Vec<(String, Option<f64>, Tier)> {
        f.ledgers
            .iter()
            .map(|(id, l)| {
                (
                    id.clone(),
                    l.scorecard(as_of, window).composite,
                    l.tier_on(as_of),
                )
            })
            .collect()
    };
    let desc = |v: &mut Vec<(String, Option<f64>, Tier)>| {
        v.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(a.0.cmp(&b.0)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.0.cmp(&b.0),
        })
    };
    for (days_back, window) in [(0, 90), (0, 30), (20, 90), (60, 365)] {
        let as_of = Date(today().0 - days_back);
        let mut want = expect(as_of, window);
        desc(&mut want);
        // One page, and the same in pages of 2.
        let base = format!("/v1/suppliers?window={window}&as_of={as_of}");
        let one = ok(&f.router, &base).await;
        let (paged, pages) = all_pages(&f.router, &format!("{base}&page_size=2")).await;
        assert_eq!(pages, want.len().div_ceil(2));
        for items in [one["items"].as_array().unwrap().clone(), paged] {
            let got: Vec<(String, Option<f64>, String)> = items
                .iter()
                .map(|s| {
                    (
                        s["supplier_id"].as_str().unwrap().to_owned(),
                        num(&s["score"]),
                        s["tier"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let w: Vec<(String, Option<f64>, String)> = want
                .iter()
                .map(|(a, b, c)| (a.clone(), *b, c.name().to_owned()))
                .collect();
            assert_eq!(got, w, "as_of {as_of} window {window}");
        }
        // Ascending: rated ones by score then id, the unrated still last.
        let (asc, _) = all_pages(&f.router, &format!("{base}&sort=score&page_size=3")).await;
        let mut rated: Vec<(f64, &str)> = want
            .iter()
            .filter_map(|w| w.1.map(|s| (s, w.0.as_str())))
            .collect();
        rated.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        let rated: Vec<&str> = rated.into_iter().map(|r| r.1).collect();
        let got: Vec<&str> = asc
            .iter()
            .filter(|s| !s["score"].is_null())
            .map(|s| s["supplier_id"].as_str().unwrap())
            .collect();
        assert_eq!(got, rated);
        assert!(asc.iter().skip(rated.len()).all(|s| s["score"].is_null()));
        // By id.
        let (by_id, _) =
            all_pages(&f.router, &format!("{base}&sort=supplier_id&page_size=4")).await;
        let ids: Vec<&str> = by_id
            .iter()
            .map(|s| s["supplier_id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            f.ledgers.keys().map(String::as_str).collect::<Vec<_>>()
        );
        // Tier filter.
        for t in Tier::ALL {
            let (items, _) = all_pages(&f.router, &format!("{base}&tier={}", t.name())).await;
            let got: Vec<&str> = items
                .iter()
                .map(|s| s["supplier_id"].as_str().unwrap())
                .collect();
            let w: Vec<&str> = want
                .iter()
                .filter(|w| w.2 == t)
                .map(|w| w.0.as_str())
                .collect();
            assert_eq!(got, w, "tier {}", t.name());
        }
    }
    // Summary fields: dimensions, open alerts, last event.
    let b = ok(&f.router, "/v1/suppliers?sort=supplier_id").await;
    for s in b["items"].as_array().unwrap() {
        let id = s["supplier_id"].as_str().unwrap();
        let l = &f.ledgers[id];
        let sc = l.scorecard(today(), 90);
        for (d, v) in &sc.dimensions {
            assert_eq!(num(&s["dimensions"][d.name()]), *v);
        }
        let open = l
            .announced_episodes(today())
            .iter()
            .filter(|e| e.ended_on.is_none())
            .count();
        assert_eq!(s["open_alerts"].as_u64().unwrap() as usize, open, "{id}");
        let last = f
            .records
            .iter()
            .filter_map(|r| r.envelope())
            .filter(|e| e.supplier_id == id)
            .map(|e| e.occurred_at)
            .max()
            .unwrap();
        assert_eq!(s["last_event_at"], last.to_string());
    }
    assert!(
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["open_alerts"].as_u64().unwrap() > 0)
    );
    f.db.cleanup().await;
}

on_both_backends!(history_gives_every_day_as_the_ledger_saw_it);
async fn history_gives_every_day_as_the_ledger_saw_it(backend: Backend) {
    let f = fixture(backend).await;
    for (id, l) in &f.ledgers {
        for window in [30, 90] {
            let from = Date(today().0 - 130);
            let b = ok(
                &f.router,
                &format!(
                    "/v1/suppliers/{id}/history?from={from}&to={}&window={window}",
                    today()
                ),
            )
            .await;
            let points = b["points"].as_array().unwrap();
            assert_eq!(points.len(), 131);
            for (k, p) in points.iter().enumerate() {
                let d = Date(from.0 + k as i32);
                let sc = l.scorecard(d, window);
                assert_eq!(p["date"], d.to_string());
                assert_eq!(num(&p["score"]), sc.composite, "{id} {d}");
                assert_eq!(p["tier"], l.tier_on(d).name(), "{id} {d}");
                assert_eq!(
                    num(&p["indicators"]["otif_rate"]),
                    sc.indicators[&Indicator::OtifRate].value
                );
                assert_eq!(p["indicators"].as_object().unwrap().len(), 20);
            }
        }
    }
    // Defaults: 90 days up to today.
    let b = ok(&f.router, "/v1/suppliers/ACME-01/history").await;
    let points = b["points"].as_array().unwrap();
    assert_eq!(points.len(), 90);
    assert_eq!(points.last().unwrap()["date"], today().to_string());
    let (s, _) = get(&f.router, "/v1/suppliers/NOPE/history").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for (uri, param) in [
        (
            "/v1/suppliers/ACME-01/history?from=2026-06-10&to=2026-06-01",
            "from",
        ),
        ("/v1/suppliers/ACME-01/history?to=2026-06-16", "to"),
        ("/v1/suppliers/ACME-01/history?from=2019-01-01", "from"),
        ("/v1/suppliers/ACME-01/history?window=7", "window"),
    ] {
        let (s, b) = get(&f.router, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(b["parameter"], param, "{uri}");
    }
    f.db.cleanup().await;
}

on_both_backends!(events_show_the_lineage_decoded);
async fn events_show_the_lineage_decoded(backend: Backend) {
    let f = fixture(backend).await;
    let id = "QUAL-01";
    let mine: Vec<&Record> = f
        .records
        .iter()
        .filter(|r| r.envelope().unwrap().supplier_id == id)
        .collect();
    let (all, pages) = all_pages(
        &f.router,
        &format!("/v1/suppliers/{id}/events?page_size=100"),
    )
    .await;
    assert_eq!(all.len(), mine.len());
    assert_eq!(pages, mine.len().div_ceil(100));
    // Oldest first, each one decoded to its fields.
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // order=desc: the same events, newest first, across pages.
    let (newest, _) = all_pages(
        &f.router,
        &format!("/v1/suppliers/{id}/events?page_size=100&order=desc"),
    )
    .await;
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(
        newest.iter().map(|e| &e["event_id"]).collect::<Vec<_>>(),
        reversed.iter().map(|e| &e["event_id"]).collect::<Vec<_>>()
    );
    let (s, b) = get(&f.router, &format!("/v1/suppliers/{id}/events?order=up")).await;
    assert_eq!(
        (s, b["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("order"))
    );
    let first = &all[0];
    let rec = mine
        .iter()
        .find(|r| r.envelope().unwrap().event_id.to_string() == first["event_id"].as_str().unwrap())
        .unwrap();
    let mut want = serde_json::to_value(rec).unwrap();
    assert_eq!(first["type"], want["type"]);
    want.as_object_mut().unwrap().remove("type");
    assert_eq!(first["payload"], want);
    assert!(first["position"].as_i64().unwrap() > 0);
    // Filters: a type and a day range (both ends inclusive).
    let (from, to) = (Date(today().0 - 20), Date(today().0 - 10));
    let (got, _) = all_pages(
        &f.router,
        &format!("/v1/suppliers/{id}/events?type=InspectionCompleted&from={from}&to={to}"),
    )
    .await;
    let want = mine
        .iter()
        .filter(|r| matches!(r, Record::InspectionCompleted(_)))
        .filter(|r| {
            let d = r.envelope().unwrap().occurred_at.date().unwrap();
            d >= from && d <= to
        })
        .count();
    assert_eq!(got.len(), want);
    assert!(want > 0 && got.iter().all(|e| e["type"] == "InspectionCompleted"));
    let (s, b) = get(&f.router, "/v1/suppliers/NOPE/events").await;
    assert_eq!(
        (s, b["status"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
    let (s, b) = get(
        &f.router,
        &format!("/v1/suppliers/{id}/events?type=Shipment"),
    )
    .await;
    assert_eq!(
        (s, b["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("type"))
    );
    // A filter that matches nothing on a known supplier: an empty page, not a 404.
    let b = ok(
        &f.router,
        &format!("/v1/suppliers/{id}/events?from=2020-01-01&to=2020-01-02"),
    )
    .await;
    assert!(b["items"].as_array().unwrap().is_empty() && b["next_page_token"].is_null());
    // A page token made by hand, or issued for another query, is refused (it used to
    // restart at the first page).
    let first = ok(&f.router, &format!("/v1/suppliers/{id}/events?page_size=2")).await;
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"t":0,"p":0,"q":"0000000000000000"}"#,
    );
    for uri in [
        format!("/v1/suppliers/{id}/events?page_size=2&page_token={forged}"),
        format!("/v1/suppliers/{id}/events?page_size=2&type=GoodsReceived&page_token={token}"),
        format!("/v1/suppliers/{id}/events?page_size=2&order=desc&page_token={token}"),
    ] {
        let (s, b) = get(&f.router, &uri).await;
        assert_eq!(
            (s, b["parameter"].as_str()),
            (StatusCode::BAD_REQUEST, Some("page_token")),
            "{uri}"
        );
    }
    let next = ok(
        &f.router,
        &format!("/v1/suppliers/{id}/events?page_size=2&page_token={token}"),
    )
    .await;
    assert_ne!(
        next["items"][0], first["items"][0],
        "the next page, not the first"
    );
    f.db.cleanup().await;
}

on_both_backends!(alerts_list_every_episode_with_its_id);
async fn alerts_list_every_episode_with_its_id(backend: Backend) {
    let f = fixture(backend).await;
    let mut want: Vec<(String, String)> = f
        .ledgers
        .values()
        .flat_map(|l| l.announced_episodes(today()))
        .map(|e| {
            (
                e.alert_id.to_string(),
                if e.ended_on.is_some() {
                    "resolved"
                } else {
                    "open"
                }
                .to_owned(),
            )
        })
        .collect();
    want.sort();
    assert!(
        want.iter().any(|w| w.1 == "open"),
        "the fixture raises alerts"
    );
    let (items, _) = all_pages(&f.router, "/v1/alerts?page_size=1").await;
    let mut got: Vec<(String, String)> = items
        .iter()
        .map(|a| {
            (
                a["alert_id"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let starts: Vec<&str> = items
        .iter()
        .map(|a| a["started_on"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");
    got.sort();
    assert_eq!(got, want);
    let a = &items[0];
    let l = &f.ledgers[a["supplier_id"].as_str().unwrap()];
    let e = l
        .announced_episodes(today())
        .into_iter()
        .find(|e| e.alert_id.to_string() == a["alert_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(a["rule"], e.rule.as_str());
    assert_eq!(a["level"], e.level.name());
    assert_eq!(num(&a["value"]), Some(e.value_at_start));
    assert_eq!(num(&a["threshold"]), Some(e.threshold));
    assert_eq!(a["window_days"], e.window_days);
    assert_eq!(a["started_on"], e.started_on.to_string());
    assert_eq!(
        a["ended_on"].as_str().map(str::to_owned),
        e.ended_on.map(|d| d.to_string())
    );
    // Filters.
    for (q, keep) in [
        (
            "status=open",
            Box::new(|a: &Value| a["status"] == "open") as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "status=resolved",
            Box::new(|a: &Value| a["status"] == "resolved"),
        ),
        (
            "level=CRITICAL",
            Box::new(|a: &Value| a["level"] == "CRITICAL"),
        ),
        (
            "supplier_id=QUAL-01",
            Box::new(|a: &Value| a["supplier_id"] == "QUAL-01"),
        ),
    ] {
        let (got, _) = all_pages(&f.router, &format!("/v1/alerts?{q}&page_size=2")).await;
        let want: Vec<&Value> = items.iter().filter(|a| keep(a)).collect();
        assert_eq!(got.len(), want.len(), "{q}");
        assert!(got.iter().all(&keep), "{q}");
    }
    let (s, b) = get(&f.router, "/v1/alerts?status=closed").await;
    assert_eq!(
        (s, b["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("status"))
    );
    f.db.cleanup().await;
}

on_both_backends!(tiers_and_policy);
async fn tiers_and_policy(backend: Backend) {
    let f = fixture(backend).await;
    for days_back in [0, 30, 100] {
        let as_of = Date(today().0 - days_back);
        let b = ok(&f.router, &format!("/v1/tiers?as_of={as_of}")).await;
        assert_eq!(b["as_of"], as_of.to_string());
        for t in Tier::ALL {
            let n = f.ledgers.values().filter(|l| l.tier_on(as_of) == t).count();
            assert_eq!(
                b["counts"][t.name()].as_u64().unwrap() as usize,
                n,
                "{as_of} {}",
                t.name()
            );
        }
    }
    let b = ok(&f.router, "/v1/policy").await;
    assert_eq!(b["version"], Policy::default().version.as_str());
    assert_eq!(b["tier_window_days"], 90);
    f.db.cleanup().await;
}

on_both_backends!(errors_auth_limits_and_operations);
async fn errors_auth_limits_and_operations(backend: Backend) {
    let mut config = ApiConfig::new(ApiKeys::from_keys([KEY]));
    config.max_page_size = 2;
    config.body_limit = 64;
    let f = fixture_with(backend, config).await;
    // Bad parameters name themselves.
    for (uri, param) in [
        ("/v1/suppliers?colour=red", "colour"),
        ("/v1/suppliers?window=60", "window"),
        ("/v1/suppliers?sort=name", "sort"),
        ("/v1/suppliers?tier=GOLD", "tier"),
        ("/v1/suppliers?as_of=2026-13-01", "as_of"),
        ("/v1/suppliers?as_of=2026-06-16", "as_of"),
        ("/v1/suppliers?page_size=0", "page_size"),
        ("/v1/suppliers?page_token=garbage", "page_token"),
        ("/v1/suppliers?window=30&window=90", "window"),
        ("/v1/suppliers/ACME-01/scorecard?window=90&foo=1", "foo"),
        ("/v1/tiers?as_of=yesterday", "as_of"),
        ("/v1/policy?x=1", "x"),
        ("/v1/alerts?level=warning", "level"),
        ("/v1/alerts?supplier_id=SUP%00", "supplier_id"),
        ("/v1/alerts?status=gone", "status"),
        (
            "/v1/suppliers/ACME-01/events?from=2026-06-10&to=2026-06-01",
            "from",
        ),
    ] {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap();
        let (s, h, b) = call(&f.router, req).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{uri}");
        assert_eq!(b["parameter"], param, "{uri}: {b}");
        assert_eq!(b["status"], 400);
        assert!(b["type"].is_string() && b["title"].is_string());
        assert!(b["detail"].as_str().unwrap().contains(param), "{uri}: {b}");
    }
    // The page size is capped (here at 2).
    let b = ok(&f.router, "/v1/suppliers?page_size=400").await;
    assert_eq!(b["items"].as_array().unwrap().len(), 2);
    assert!(b["next_page_token"].is_string());
    // Authentication.
    let unauth = |auth: Option<&str>| {
        let mut r = Request::get("/v1/tiers");
        if let Some(a) = auth {
            r = r.header(header::AUTHORIZATION, a);
        }
        r.body(Body::empty()).unwrap()
    };
    for auth in [None, Some("Bearer wrong"), Some("Basic dGVzdA==")] {
        let (s, h, b) = call(&f.router, unauth(auth)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(h.contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(b["status"], 401);
    }
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (s, _, _) = call(&f.router, unauth(Some(&format!("{scheme} {KEY}")))).await;
        assert_eq!(s, StatusCode::OK, "{scheme}");
    }
    // A path id that breaks the id rule names no supplier: a 404, never a 500.
    for uri in [
        "/v1/suppliers/SUP-001%00/scorecard",
        "/v1/suppliers/a%20b/history",
        "/v1/suppliers/%C3%A9/events",
    ] {
        let req = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap();
        let (s, h, b) = call(&f.router, req).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {b}");
        assert_eq!(h[header::CONTENT_TYPE], "application/problem+json", "{uri}");
    }
    // Not found, wrong method, body too large.
    let (s, h, b) = call(
        &f.router,
        Request::get("/v2/nothing").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["status"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    let req = Request::post("/v1/tiers")
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let (s, _, _) = call(&f.router, req).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let req = Request::get("/v1/tiers")
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .header(header::CONTENT_LENGTH, "1000")
        .body(Body::from(vec![b'x'; 1000]))
        .unwrap();
    let (s, h, b) = call(&f.router, req).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(b["status"], 413);
    let (s, h, _) = call(
        &f.router,
        Request::get("/assets/nothing.js")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    // The dashboard may not be framed, sniffed, or load anything from elsewhere.
    let (_, h, _) = call(&f.router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    // Operations need no key.
    for path in [
        "/livez",
        "/readyz",
        "/",
        "/assets/app.js",
        "/assets/uPlot.iife.min.js",
    ] {
        let (s, _, _) = call(&f.router, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }
    let (_, _, m) = call(
        &f.router,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let m = m.as_str().unwrap();
    assert!(
        m.contains(
            r#"tierline_api_requests_total{route="/v1/suppliers",method="GET",status="400"}"#
        ),
        "{m}"
    );
    assert!(
        m.contains(r#"tierline_api_request_duration_seconds_bucket{le="#),
        "{m}"
    );
    assert!(
        m.contains(r#"route="/v1/suppliers/{supplier_id}/scorecard""#),
        "{m}"
    );
    f.db.cleanup().await;
}

on_both_backends!(openapi_lists_every_route_and_each_answers);
async fn openapi_lists_every_route_and_each_answers(backend: Backend) {
    let f = fixture(backend).await;
    let (s, _, doc) = call(
        &f.router,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    // The endpoints of docs/api.md, exactly as written there.
    for p in [
        "/v1/suppliers",
        "/v1/suppliers/{supplier_id}/scorecard",
        "/v1/suppliers/{supplier_id}/history",
        "/v1/suppliers/{supplier_id}/events",
        "/v1/alerts",
        "/v1/tiers",
        "/v1/policy",
        "/livez",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from /openapi.json");
    }
    // Every documented read is served (to a v1 key, a viewer: the key list is for
    // admins); every other path is a write.
    for (p, item) in paths {
        if !item["get"].is_object() {
            assert!(item["post"].is_object(), "{p}");
            continue;
        }
        let uri = p
            .replace("{supplier_id}", "ACME-01")
            .replace("{plan_id}", "NO-SUCH-PLAN");
        let (s, _) = get(&f.router, &uri).await;
        let want = if p == "/v1/keys" {
            StatusCode::FORBIDDEN
        } else if p.contains("{plan_id}") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(s, want, "{p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    f.db.cleanup().await;
}

on_both_backends!(without_keys_configured_disabled_auth_opens_v1);
async fn without_keys_configured_disabled_auth_opens_v1(backend: Backend) {
    let f = fixture_with(backend, ApiConfig::new(ApiKeys::disabled())).await;
    let (s, _, b) = call(
        &f.router,
        Request::get("/v1/tiers").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["counts"].as_object().unwrap().len(), 5);
    f.db.cleanup().await;
}

on_both_backends!(a_clock_ahead_of_the_projector_continues_the_tier_walk);
async fn a_clock_ahead_of_the_projector_continues_the_tier_walk(backend: Backend) {
    // The projector last ran "today"; the API's clock says two days later (the projector
    // has not rolled over yet): every number is computed for the API's today.
    let f = fixture(backend).await;
    let later = Date(today().0 + 2);
    let (router, _) = app(
        Reader::new(
            f.db.store.clone(),
            Arc::new(Policy::default()),
            Codec::default(),
        ),
        Arc::new(noon(later)),
        &ApiConfig::new(ApiKeys::from_keys([KEY])),
        Arc::new(HttpMetrics::default()),
    );
    for (id, l) in &f.ledgers {
        let b = ok(&router, &format!("/v1/suppliers/{id}/scorecard")).await;
        check_scorecard(&b, l, later, 90);
    }
    let b = ok(&router, "/v1/tiers").await;
    for t in Tier::ALL {
        let n = f.ledgers.values().filter(|l| l.tier_on(later) == t).count();
        assert_eq!(b["counts"][t.name()].as_u64().unwrap() as usize, n);
    }
    let b = ok(&router, "/v1/suppliers?sort=supplier_id").await;
    for s in b["items"].as_array().unwrap() {
        let l = &f.ledgers[s["supplier_id"].as_str().unwrap()];
        assert_eq!(s["tier"], l.tier_on(later).name());
        assert_eq!(num(&s["score"]), l.scorecard(later, 90).composite);
    }
    f.db.cleanup().await;
}

/// The cache follows the projector's NOTIFY: PostgreSQL only (SQLite reads are not cached).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_responses_follow_every_projection_commit() {
    let f = fixture(Backend::Postgres).await;
    let uri = "/v1/suppliers/ACME-01/scorecard";
    let metrics = |router: Router| async move {
        let (_, _, m) = call(
            &router,
            Request::get("/metrics").body(Body::empty()).unwrap(),
        )
        .await;
        m.as_str().unwrap().to_owned()
    };
    // Once the listener is up, a repeated read is a hit with the same body.
    let first = ok(&f.router, uri).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        assert_eq!(ok(&f.router, uri).await, first);
        if metrics(f.router.clone())
            .await
            .contains(r#"tierline_api_cache_lookups_total{result="hit"}"#)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the cache never served a hit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // New events for ACME-01 (bad inspections today), projected: the cached scorecard
    // is dropped and the next read shows them.
    let mut extra = tierline_events::sample::scripted_supplier(
        "ACME-01",
        Date(today().0 - 12),
        13,
        tierline_events::sample::Behaviour {
            days_late: 0,
            defect_rate: 0.5,
            price_premium: 0.0,
        },
    );
    // Different lines from the fixture's (their ids would be duplicates).
    for r in &mut extra {
        if let Record::InspectionCompleted(i) = r {
            i.event_id = uuid::Uuid::from_u128(i.event_id.as_u128() ^ 0xdead_beef);
            i.inspection_id.push_str("-B");
        }
    }
    extra.retain(|r| matches!(r, Record::InspectionCompleted(_)));
    append(&f.db.store, &extra).await.unwrap();
    project(
        &f.db.store,
        Arc::new(Policy::default()),
        &noon(today()),
        extra.len(),
    )
    .await
    .unwrap();
    let mut ledger = f.ledgers["ACME-01"].clone();
    for r in &extra {
        ledger.apply(r);
    }
    assert_ne!(
        ledger.scorecard(today(), 90).composite,
        num(&first["score"])
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let b = ok(&f.router, uri).await;
        if b != first {
            check_scorecard(&b, &ledger, today(), 90);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a stale scorecard was served for 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    f.db.cleanup().await;
}

/// Drops what legitimately differs between two stores: store bookkeeping (when each
/// recorded an event).
fn normalise(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("recorded_at");
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_answers_exactly_as_postgres() {
    let f = fixture(Backend::Postgres).await;
    let lite = fixture(Backend::Sqlite).await;
    let memory = lite.router.clone();
    let mut uris: Vec<String> = vec![
        "/v1/tiers".into(),
        "/v1/tiers?as_of=2026-04-01".into(),
        "/v1/policy".into(),
        "/v1/alerts".into(),
        "/v1/alerts?status=open&page_size=2".into(),
        "/v1/alerts?status=resolved".into(),
        "/v1/alerts?level=CRITICAL&supplier_id=QUAL-01".into(),
    ];
    for q in [
        "",
        "?sort=score",
        "?sort=supplier_id&page_size=2",
        "?window=30&as_of=2026-05-20",
        "?window=365&tier=RESERVE",
        "?as_of=2026-03-01&sort=score&page_size=3",
    ] {
        uris.push(format!("/v1/suppliers{q}"));
    }
    for id in f.ledgers.keys() {
        for q in [
            "",
            "?window=30",
            "?as_of=2026-05-01&window=365",
            "?as_of=2026-02-20",
        ] {
            uris.push(format!("/v1/suppliers/{id}/scorecard{q}"));
        }
        uris.push(format!(
            "/v1/suppliers/{id}/history?from=2026-01-01&window=30"
        ));
        uris.push(format!(
            "/v1/suppliers/{id}/events?page_size=7&type=GoodsReceived"
        ));
    }
    uris.push("/v1/suppliers/NOPE/scorecard".into());
    uris.push("/v1/suppliers/NOPE/events".into());
    uris.push("/v1/suppliers?window=7".into());
    // Follow the pages of each list on both sides too.
    for uri in &uris {
        let (ps, pb) = get(&f.router, uri).await;
        let (ms, mb) = get(&memory, uri).await;
        assert_eq!(ps, ms, "{uri}");
        assert_eq!(normalise(pb.clone()), normalise(mb), "{uri}");
        if let Some(t) = pb["next_page_token"].as_str() {
            let next = format!(
                "{uri}{}page_token={t}",
                if uri.contains('?') { '&' } else { '?' }
            );
            let (_, pb) = get(&f.router, &next).await;
            let (_, mb) = get(&memory, &next).await;
            assert_eq!(normalise(pb), normalise(mb), "{next}");
        }
    }
    lite.db.cleanup().await;
    f.db.cleanup().await;
}

/// PostgreSQL only: another session holds a lock the read waits for, so the request
/// is still running when its time is up (a read alone can finish within the first
/// timer tick).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_time_limit_is_a_503_not_a_408() {
    use sqlx::Connection;
    let backend = Backend::Postgres;
    let mut config = ApiConfig::new(ApiKeys::from_keys([KEY]));
    config.request_timeout = std::time::Duration::from_millis(200);
    config.cache = false;
    let f = fixture_with(backend, config).await;
    let mut blocker = sqlx::PgConnection::connect(&f.db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("LOCK TABLE scorecards IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let req = Request::get("/v1/suppliers")
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let (s, h, b) = call(&f.router, req).await;
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    assert_eq!(h[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(b["status"], 503);
    f.db.cleanup().await;
}
