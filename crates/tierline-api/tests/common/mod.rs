//! Helpers shared by the API's tests: keys of every role, and requests through the
//! router.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;

use tierline_api::testing::{append, noon, population_records, project};
use tierline_api::{ApiConfig, ApiKeys, HttpMetrics, Reader, app, hash_key};
use tierline_clock::FixedClock;
use tierline_events::{Codec, Date};
use tierline_scoring::Policy;
use tierline_store::testing::{Backend, TestStore, fresh};

pub fn today() -> Date {
    Date::from_ymd(2026, 6, 15).unwrap()
}

pub const VIEWER: &str = "v1-viewer-key";
pub const EDITOR: &str = "alice-key";
pub const ADMIN: &str = "root-key";
pub const SUPPLIER: &str = "acme-key";

pub fn keys() -> ApiKeys {
    let file = format!(
        "alice editor {}\nroot admin {}\nacme supplier ACME-01 {}\n",
        hash_key(EDITOR),
        hash_key(ADMIN),
        hash_key(SUPPLIER)
    );
    let mut keys = ApiKeys::from_keys([VIEWER]);
    keys.extend(ApiKeys::from_file(&file).unwrap());
    keys
}

pub async fn call(router: &Router, req: Request<Body>) -> (StatusCode, header::HeaderMap, Value) {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

pub async fn get(router: &Router, key: &str, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let (s, _, b) = call(router, req).await;
    (s, b)
}

pub async fn post(
    router: &Router,
    key: Option<&str>,
    uri: &str,
    idempotency: Option<&str>,
    body: String,
) -> (StatusCode, header::HeaderMap, Value) {
    let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    if let Some(i) = idempotency {
        req = req.header("Idempotency-Key", i);
    }
    call(router, req.body(Body::from(body)).unwrap()).await
}

/// GETs `uri` (as the viewer) until `done` holds for the body, for at most 10 s.
pub async fn until(router: &Router, uri: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = get(router, VIEWER, uri).await;
        if done(&body) || std::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A fresh store with 60 days of the fixture population, projected, and the API on it.
pub struct Fixture {
    /// The store.
    pub db: TestStore,
    /// The API with [`keys`].
    pub router: Router,
    /// Its OpenAPI document.
    pub doc: utoipa::openapi::OpenApi,
    /// The policy.
    pub policy: Arc<Policy>,
    /// The pinned clock (noon of [`today`]).
    pub clock: FixedClock,
}

/// The [`Fixture`] on `backend`.
pub async fn fixture(backend: Backend) -> Fixture {
    let db = fresh(backend).await.unwrap();
    let records = population_records(today(), 60);
    append(&db.store, &records).await.unwrap();
    let policy = Arc::new(Policy::default());
    let clock = noon(today());
    project(&db.store, policy.clone(), &clock, records.len())
        .await
        .unwrap();
    let reader = Reader::new(db.store.clone(), policy.clone(), Codec::default());
    let (router, doc) = app(
        reader,
        Arc::new(clock),
        &ApiConfig::new(keys()),
        Arc::new(HttpMetrics::default()),
    );
    Fixture {
        db,
        router,
        doc,
        policy,
        clock,
    }
}
