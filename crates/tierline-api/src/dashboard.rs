//! The built-in dashboard: static files compiled into the binary, no build step.

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::problem::Problem;

const INDEX: &str = include_str!("../static/index.html");

fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "app.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../static/app.js"),
        ),
        "loop.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../static/loop.js"),
        ),
        "style.css" => (
            "text/css; charset=utf-8",
            include_str!("../static/style.css"),
        ),
        "uPlot.iife.min.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../static/vendor/uPlot.iife.min.js"),
        ),
        "uPlot.min.css" => (
            "text/css; charset=utf-8",
            include_str!("../static/vendor/uPlot.min.css"),
        ),
        _ => return None,
    })
}

/// The page loads only its own scripts, styles and data, and may not be framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers of every dashboard response.
fn headers(kind: &'static str) -> [(header::HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, kind),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ]
}

async fn index() -> Response {
    (headers("text/html; charset=utf-8"), INDEX).into_response()
}

async fn assets(Path(name): Path<String>) -> Response {
    match asset(&name) {
        Some((kind, body)) => (headers(kind), body).into_response(),
        None => Problem::not_found(&format!("/assets/{}", name.escape_default())).into_response(),
    }
}

/// `/` and `/assets/*`.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(assets))
}
