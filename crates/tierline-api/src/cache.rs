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
use tierline_projector::{Clock, PROJECTIONS_CHANNEL};

use crate::http_metrics::{CacheLabel, HttpMetrics};

/// Entries kept before the cache is emptied (a crude but safe bound).
const MAX_ENTRIES: usize = 50_000;
/// Largest response body cached.
const MAX_BODY: usize = 4 << 20;

#[derive(Clone)]
struct Entry {
    generation: u64,
    content_type: HeaderValue,
    body: Bytes,
}

/// The cache and its invalidation state.
#[derive(Default)]
pub(crate) struct ResponseCache {
    generation: AtomicU64,
    live: AtomicBool,
    entries: RwLock<HashMap<String, Entry>>,
}

impl ResponseCache {
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut map) = self.entries.write() {
            map.clear();
        }
    }

    fn get(&self, key: &str) -> Option<Entry> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let map = self.entries.read().ok()?;
        map.get(key).filter(|e| e.generation == generation).cloned()
    }

    fn put(&self, key: String, entry: Entry) {
        if !self.live.load(Ordering::SeqCst)
            || entry.generation != self.generation.load(Ordering::SeqCst)
        {
            return;
        }
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, entry);
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
    if req.method() != Method::GET || req.uri().path().ends_with("/events") {
        return next.run(req).await;
    }
    // The default `as_of` is today: the key carries it.
    let key = format!("{}|{}", s.clock.today(&s.policy), req.uri());
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
