//! People's free text is stored sealed under its author's key (`tierline-people`);
//! this layer opens it in every JSON response on the way out, or shows `[erased]` once
//! the author was erased. It sits outside the response cache; keys and opened
//! responses are remembered for at most [`KEY_CACHE`] (a second), so an erasure shows
//! everywhere within it, cached or not.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tierline_events::SEALED_PREFIX;
use tierline_people::{KEY_CACHE, People};

use crate::problem::Problem;

/// Responses larger than this are passed through as they are (no list is near it).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Responses opened lately: the same bytes (a cached response, a popular page) are
/// answered from here for at most [`KEY_CACHE`], as long as the keys they were opened
/// with are remembered, so an erasure still shows within it.
#[derive(Default)]
pub(crate) struct Opened {
    entries: Mutex<HashMap<u64, (Bytes, Bytes, Instant)>>,
}

/// Responses remembered at most.
const OPENED_MAX: usize = 256;

impl Opened {
    fn get(&self, key: u64, sealed: &Bytes) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&key)
            .filter(|(s, _, at)| s == sealed && at.elapsed() < KEY_CACHE)
            .map(|(_, open, _)| open.clone())
    }

    fn put(&self, key: u64, sealed: Bytes, open: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= OPENED_MAX {
            entries.retain(|_, (_, _, at)| at.elapsed() < KEY_CACHE);
            if entries.len() >= OPENED_MAX {
                entries.clear();
            }
        }
        entries.insert(key, (sealed, open, Instant::now()));
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

pub(crate) async fn unseal(
    State((people, opened)): State<(People, Arc<Opened>)>,
    req: Request,
    next: Next,
) -> Response {
    let res = next.run(req).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return Problem::internal().into_response();
    };
    // Most responses hold no free text: a byte search decides.
    if memchr::memmem::find(&bytes, SEALED_PREFIX.as_bytes()).is_none() {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let key = hash(&bytes);
    if let Some(open) = opened.get(key, &bytes) {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(open));
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Err(e) = people.unseal_json(&mut value).await {
        return crate::problem::people(e).into_response();
    }
    let Ok(out) = serde_json::to_vec(&value) else {
        return Problem::internal().into_response();
    };
    let out = Bytes::from(out);
    opened.put(key, bytes, out.clone());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}
