//! Tierline's read API (`docs/api.md`) and built-in web dashboard.
//!
//! Everything is read from the read model the projector keeps (`tierline-projections`,
//! on PostgreSQL or SQLite) and, for lineage, from the event store. A past `as_of` is finished from the daily buckets with the
//! scoring crate, summing days in the same order as the ledger, so the numbers are
//! the ones the projector would have written on that day.

mod auth;
mod cache;
mod dashboard;
mod http_metrics;
mod keys;
mod model;
mod params;
mod problem;
mod read;
mod routes;
#[cfg(feature = "testing")]
pub mod testing;
mod unseal;
mod write;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tierline_clock::Clock;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use http_metrics::HttpMetrics;
pub use keys::{ApiKeys, BadKeyHash, BadKeyLine, Identity, Role, hash_key};
pub use model::*;
pub use problem::{Fault, Problem};
pub use read::Reader;

/// Limits and authentication of the API service.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Who may call `/v1/*`.
    pub keys: ApiKeys,
    /// Largest page a list returns (larger `page_size`s are lowered to it).
    pub max_page_size: usize,
    /// Requests taking longer get a 503.
    pub request_timeout: Duration,
    /// Largest request body accepted (the API reads none; this keeps uploads out).
    pub body_limit: usize,
    /// Cache responses until the projector next commits (see the `cache` module).
    pub cache: bool,
    /// Bytes of responses the cache holds at most.
    pub cache_max_bytes: usize,
    /// The master key wrapping the people directory's keys (`--secrets-key-file`).
    pub secrets_key: Option<tierline_people::Key>,
}

impl ApiConfig {
    /// Defaults with the given keys: pages of at most 500, 10 s timeout, 16 KiB bodies.
    pub fn new(keys: ApiKeys) -> ApiConfig {
        ApiConfig {
            keys,
            max_page_size: 500,
            request_timeout: Duration::from_secs(10),
            body_limit: 16 * 1024,
            cache: true,
            cache_max_bytes: cache::DEFAULT_MAX_BYTES,
            secrets_key: None,
        }
    }
}

/// What every handler sees.
#[derive(Clone)]
pub(crate) struct AppState {
    reader: Reader,
    keys: Arc<ApiKeys>,
    clock: Arc<dyn Clock>,
    max_page_size: usize,
    /// The people directory: seals free text on writes.
    people: tierline_people::People,
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tierline read API",
        description = "Supplier scores, tiers, alerts and their lineage (docs/api.md).",
        version = "1"
    ),
    modifiers(&BearerScheme),
    components(schemas(Problem))
)]
struct ApiDoc;

/// Process up.
#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200, description = "ok")))]
async fn livez() -> &'static str {
    "ok"
}

/// Database reachable: 200, else 503.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "ready"), (status = 503, description = "database unreachable")))]
async fn readyz(State(s): State<AppState>) -> Response {
    tierline_http::Readiness::database(s.reader.ping().await).into_response()
}

async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => Problem::timeout().into_response(),
    }
}

/// Reads take no body: one announced larger than the configured limit is a 413 (writes
/// are limited per endpoint, up to `write::limits::MAX`).
async fn read_body_limit(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if req.method() != axum::http::Method::POST && announced.is_some_and(|n| n > limit) {
        return Problem::too_large(limit).into_response();
    }
    next.run(req).await
}

/// The body limit's 413 as a problem document, like every other error.
async fn too_large_as_problem(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let problem_json = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/problem+json");
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !problem_json {
        return Problem::too_large(limit).into_response();
    }
    res
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(uri.path())
}

async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}

/// The API's router and its OpenAPI document (also served at `/openapi.json`).
/// Call it inside a Tokio runtime: with the cache on, it starts the task that listens
/// for projection changes.
pub fn app(
    reader: Reader,
    clock: Arc<dyn Clock>,
    config: &ApiConfig,
    metrics: Arc<HttpMetrics>,
) -> (Router, OpenApiDoc) {
    // The response cache follows the projector's NOTIFY (PostgreSQL); on SQLite, in the
    // same process or on the same disk, reads are local and nothing is cached.
    let pg_pool = reader.projections().pg_pool().cloned();
    let use_cache = config.cache && pg_pool.is_some();
    let people = tierline_people::People::new(reader.store().clone(), config.secrets_key.clone());
    let state = AppState {
        people: people.clone(),
        reader,
        keys: Arc::new(config.keys.clone()),
        clock,
        max_page_size: config.max_page_size.max(1),
    };
    let cache = Arc::new(cache::ResponseCache::new(config.cache_max_bytes));
    if let (true, Some(pool)) = (use_cache, pg_pool) {
        tokio::spawn(cache::watch(cache.clone(), pool));
    }
    let cache_state = cache::CacheState {
        cache,
        clock: state.clock.clone(),
        policy: state.reader.policy().clone(),
        metrics: metrics.clone(),
    };
    let mut v1 = OpenApiRouter::new()
        .routes(routes!(routes::list_suppliers))
        .routes(routes!(routes::scorecard))
        .routes(routes!(routes::history))
        .routes(routes!(routes::events))
        .routes(routes!(routes::alerts))
        .routes(routes!(routes::tiers))
        .routes(routes!(routes::policy))
        .routes(routes!(routes::sources::sources))
        .routes(routes!(routes::people::people))
        .routes(routes!(routes::profile::assessments))
        .routes(routes!(routes::profile::certificates))
        .routes(routes!(routes::profile::violations))
        .routes(routes!(routes::profile::risk_signals))
        .routes(routes!(routes::profile::expiring))
        .routes(routes!(routes::profile::status, write::post_status))
        .routes(routes!(routes::me))
        .routes(routes!(routes::keys))
        .routes(routes!(write::post_assessment))
        .routes(routes!(write::retract_assessment))
        .routes(routes!(write::post_certificate))
        .routes(routes!(write::post_violation))
        .routes(routes!(write::retract_violation))
        .routes(routes!(write::post_risk_signal))
        .routes(routes!(routes::profile::plans, write::post_plan))
        .routes(routes!(routes::profile::plan))
        .routes(routes!(routes::profile::credit))
        .routes(routes!(routes::closed_loop::gate))
        .routes(routes!(routes::closed_loop::all_plans))
        .routes(routes!(write::post_progress))
        .routes(routes!(write::post_close));
    if use_cache {
        v1 = v1.route_layer(middleware::from_fn_with_state(cache_state, cache::cached));
    }
    let (v1, v1_doc) = v1
        .route_layer(middleware::from_fn_with_state(
            (people, Arc::new(unseal::Opened::default())),
            unseal::unseal,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(config.keys.clone()),
            auth::require_key,
        ))
        .with_state(state.clone())
        .split_for_parts();
    let (ops, ops_doc) = OpenApiRouter::new()
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .with_state(state)
        .split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(v1_doc);
    doc.merge(ops_doc);
    let served = doc.clone();
    // Reads take no body; writes take up to their endpoint's limit (`write::limits`).
    let body_limit = config.body_limit.max(write::limits::MAX);
    let text_metrics = metrics.clone();
    let router = Router::new()
        .merge(v1)
        .merge(ops)
        .route(
            "/metrics",
            get(move || {
                let text = text_metrics.encode();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                }
            }),
        )
        .route(
            "/openapi.json",
            get(move || {
                let doc = served.clone();
                async move { axum::Json(doc) }
            }),
        )
        .merge(dashboard::router())
        .route_layer(middleware::from_fn_with_state(metrics, http_metrics::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(
            config.body_limit,
            read_body_limit,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(middleware::from_fn_with_state(
            body_limit,
            too_large_as_problem,
        ));
    (router, doc)
}

/// Serves `router` on `listener` within `limits` (see `tierline-http`) until
/// `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: tierline_http::HttpLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tierline_http::serve(listener, router, limits, shutdown).await
}
