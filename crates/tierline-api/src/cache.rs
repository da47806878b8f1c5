//! A read-through cache of `/v1` responses, dropped whenever the projector commits.
//!
//! The projector sends `NOTIFY tierline_projections` in each projection transaction;
//! a listener here bumps a generation on every notification. An entry is served only
//! if it was computed in the current generation, and nothing is cached while the
//! listener is not connected, so a response is never staler than a read made just
//! before the projector's last commit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tierline_clock::Clock;
use tierline_projections::PROJECTIONS_CHANNEL;

use crate::http_metrics::{CacheLabel, HttpMetrics};

/// Entries kept before the cache is emptied (a crude but safe bound).
const MAX_ENTRIES: usize = 50_000;
/// Largest response body cached.
const MAX_BODY: usize = 4 << 20;
/// Bytes of keys and bodies held by default (`ApiConfig::cache_max_bytes`).
pub(crate) const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// Query parameters whose values are numbers: `090` and `90` are one request.
const NUMERIC_PARAMS: [&str; 2] = ["window", "page_size"];

/// The cache key of a request: today, the path and its query parameters decoded,
/// sorted, without empty values (which count as absent), numbers without leading zeros.
/// Requests that mean the same share one entry.
pub(crate) fn normalised_key(today: impl std::fmt::Display, uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return format!("{today}|{}?", uri.path());
    };
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_else(|_| {
        // Not decodable: the handler answers 400; key on the raw text.
        vec![(String::new(), query.to_owned())]
    });
    pairs.retain(|(_, v)| !v.is_empty());
    for (k, v) in &mut pairs {
        if NUMERIC_PARAMS.contains(&k.as_str()) && v.bytes().all(|b| b.is_ascii_digit()) {
            let trimmed = v.trim_start_matches('0');
            *v = if trimmed.is_empty() { "0" } else { trimmed }.to_owned();
        }
    }
    pairs.sort();
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{today}|{}?{query}", uri.path())
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    content_type: HeaderValue,
    body: Bytes,
}

/// The entries and the bytes they hold.
#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    bytes: usize,
}

/// The cache and its invalidation state.
pub(crate) struct ResponseCache {
    generation: AtomicU64,
    live: AtomicBool,
    entries: RwLock<Entries>,
    max_bytes: usize,
}

impl ResponseCache {
    /// An empty cache holding at most `max_bytes` of keys and bodies.
    pub(crate) fn new(max_bytes: usize) -> ResponseCache {
        ResponseCache {
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
            entries: RwLock::default(),
            max_bytes,
        }
    }

    /// Bytes of keys and bodies held now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.entries.read().map_or(0, |e| e.bytes)
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut e) = self.entries.write() {
            e.map.clear();
            e.bytes = 0;
        }
    }

    fn get(&self, key: &str) -> Option<Entry> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let e = self.entries.read().ok()?;
        e.map
            .get(key)
            .filter(|e| e.generation == generation)
            .cloned()
    }

    fn put(&self, key: String, entry: Entry) {
        if !self.live.load(Ordering::SeqCst)
            || entry.generation != self.generation.load(Ordering::SeqCst)
        {
            return;
        }
        let size = key.len() + entry.body.len();
        if size > self.max_bytes {
            return;
        }
        if let Ok(mut e) = self.entries.write() {
            // Over a bound: start afresh (entries live until the next commit anyway).
            if e.map.len() >= MAX_ENTRIES || e.bytes + size > self.max_bytes {
                e.map.clear();
                e.bytes = 0;
            }
            let body_len = entry.body.len();
            match e.map.insert(key, entry) {
                // The key was counted already: swap the bodies' sizes.
                Some(old) => e.bytes = e.bytes - old.body.len() + body_len,
                None => e.bytes += size,
            }
        }
    }
}

/// Keeps a LISTEN connection; every notification (and every reconnect) invalidates.
pub(crate) async fn watch(cache: Arc<ResponseCache>, pool: PgPool) {
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen(PROJECTIONS_CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(mut l) => {
                cache.invalidate();
                cache.live.store(true, Ordering::SeqCst);
                tracing::debug!("response cache live");
                loop {
                    match l.try_recv().await {
                        Ok(Some(_)) => cache.invalidate(),
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "projection notifications lost; caching paused");
                            break;
                        }
                    }
                }
                cache.live.store(false, Ordering::SeqCst);
                cache.invalidate();
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for projection changes; caching paused")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What the cache middleware needs.
#[derive(Clone)]
pub(crate) struct CacheState {
    pub(crate) cache: Arc<ResponseCache>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Whose calendar `today` is.
    pub(crate) policy: Arc<tierline_scoring::Policy>,
    pub(crate) metrics: Arc<HttpMetrics>,
}

/// Middleware: serve successful GETs from the cache (lineage reads the store directly,
/// which changes before the projections do, so it is never cached).
pub(crate) async fn cached(State(s): State<CacheState>, req: Request, next: Next) -> Response {
    // Lineage reads the store; who-am-I and the key list depend on the caller; source
    // health on the clock; the people directory changes outside the projections.
    let path = req.uri().path();
    if req.method() == Method::POST {
        // A write changes what reads of the store answer (status, plans, the gate):
        // this process drops its entries at once; others follow the projector's commit.
        let res = next.run(req).await;
        if res.status().is_success() {
            s.cache.invalidate();
        }
        return res;
    }
    if req.method() != Method::GET
        || path.ends_with("/events")
        || matches!(path, "/v1/me" | "/v1/keys" | "/v1/sources" | "/v1/people")
    {
        return next.run(req).await;
    }
    // The default `as_of` is today: the key carries it.
    let key = normalised_key(s.clock.today(&s.policy), req.uri());
    let count = |result: &str| {
        s.metrics
            .cache
            .get_or_create(&CacheLabel {
                result: result.to_owned(),
            })
            .inc();
    };
    if let Some(hit) = s.cache.get(&key) {
        count("hit");
        return ([(header::CONTENT_TYPE, hit.content_type)], hit.body).into_response();
    }
    count("miss");
    let generation = s.cache.generation.load(Ordering::SeqCst);
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return crate::Problem::internal().into_response();
    };
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        s.cache.put(
            key,
            Entry {
                generation,
                content_type: ct.clone(),
                body: bytes.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn uri(s: &str) -> axum::http::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn requests_that_mean_the_same_share_one_key() {
        let a = normalised_key(
            "2026-06-15",
            &uri("/v1/suppliers/S/history?window=90&to=2026-06-01"),
        );
        for other in [
            "/v1/suppliers/S/history?window=090&to=2026-06-01",
            "/v1/suppliers/S/history?to=2026-06-01&window=0000090",
            "/v1/suppliers/S/history?to=2026%2D06%2D01&window=90&from=",
        ] {
            assert_eq!(normalised_key("2026-06-15", &uri(other)), a, "{other}");
        }
        assert_ne!(
            normalised_key(
                "2026-06-16",
                &uri("/v1/suppliers/S/history?window=90&to=2026-06-01")
            ),
            a
        );
        // Ids are text: their zeros matter.
        assert_ne!(
            normalised_key("d", &uri("/v1/alerts?supplier_id=007")),
            normalised_key("d", &uri("/v1/alerts?supplier_id=7"))
        );
    }

    #[test]
    fn the_cache_never_holds_more_than_its_byte_bound() {
        let cache = ResponseCache::new(10_000);
        cache.live.store(true, Ordering::SeqCst);
        let body = Bytes::from(vec![b'x'; 900]);
        for n in 0..400 {
            cache.put(
                format!("key-{n}"),
                Entry {
                    generation: 0,
                    content_type: HeaderValue::from_static("application/json"),
                    body: body.clone(),
                },
            );
            assert!(cache.bytes() <= 10_000, "{} bytes after {n}", cache.bytes());
        }
        assert!(cache.get("key-399").is_some(), "the latest entry is kept");
        // A body over the whole bound is never kept.
        cache.put(
            "huge".into(),
            Entry {
                generation: 0,
                content_type: HeaderValue::from_static("application/json"),
                body: Bytes::from(vec![b'x'; 20_000]),
            },
        );
        assert!(cache.get("huge").is_none());
    }
}
