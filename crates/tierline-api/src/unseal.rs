//! People's free text is stored sealed under its author's key (`tierline-people`);
//! this layer opens it in every JSON response on the way out, or shows `[erased]` once
//! the author was erased. It sits outside the response cache, so an erasure shows at
//! once, cached or not.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tierline_events::SEALED_PREFIX;
use tierline_people::People;

use crate::problem::Problem;

/// Responses larger than this are passed through as they are (no list is near it).
const MAX_BODY: usize = 64 * 1024 * 1024;

pub(crate) async fn unseal(State(people): State<People>, req: Request, next: Next) -> Response {
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
    if !contains(&bytes, SEALED_PREFIX.as_bytes()) {
        return Response::from_parts(parts, Body::from(bytes));
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
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
