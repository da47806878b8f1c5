//! Request counts and latency histograms by route.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template, e.g. `/v1/suppliers/{supplier_id}/scorecard`.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status code.
    pub status: u16,
}

/// Labels of a latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The route template.
    pub route: String,
}

/// Labels of a cache lookup.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabel {
    /// `hit` or `miss`.
    pub result: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The API's metrics.
#[derive(Debug)]
pub struct HttpMetrics {
    /// Requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Latency by route, in seconds.
    pub latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    /// Response cache lookups by result.
    pub cache: Family<CacheLabel, Counter>,
    registry: Registry,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let mut m = HttpMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            cache: Family::default(),
            registry: Registry::with_prefix("tierline_api"),
        };
        m.registry.register(
            "requests",
            "HTTP requests by route, method and status",
            m.requests.clone(),
        );
        m.registry.register(
            "request_duration_seconds",
            "HTTP request latency by route",
            m.latency.clone(),
        );
        m.registry.register(
            "cache_lookups",
            "Response cache lookups by result",
            m.cache.clone(),
        );
        m
    }
}

impl HttpMetrics {
    /// OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware: counts and times each request under its route template.
pub(crate) async fn track(State(m): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    m.latency
        .get_or_create(&RouteLabel {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: res.status().as_u16(),
        })
        .inc();
    res
}
