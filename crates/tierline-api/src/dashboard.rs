//! The built-in dashboard: static files compiled into the binary, no build step.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../static/index.html");

fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "app.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../static/app.js"),
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

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

async fn assets(Path(name): Path<String>) -> Response {
    match asset(&name) {
        Some((kind, body)) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// `/` and `/assets/*`.
pub(crate) fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(assets))
}
