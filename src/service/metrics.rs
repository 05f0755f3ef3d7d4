//! What `GET /metrics` reports, in the Prometheus text format (0.0.4): requests by route and
//! status class, their latency per route, token refreshes by outcome, webhook deliveries by
//! outcome. One [`Metrics`] per [`super::Service`], not a process-wide registry, so services
//! side by side (tests, a platform embedding two) count apart.
//!
//! Every label value comes from a closed set: the route *template* the router matched
//! (`/connections/{provider}/{connection_id}`, never the path a caller sent), the method, the
//! status class, the outcome, and the provider ids of the loaded definitions. So no connection
//! id, query string, credential or token can reach a label, and the number of series is
//! bounded whatever callers send. The recording functions below are the only way in, and
//! they take those closed values, not free text.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of the Prometheus text format the scrape answers in.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The `route` label of a request no route matched (the fallback's 404).
const UNMATCHED: &str = "unmatched";

/// A request, as counted.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The matched route template, or [`UNMATCHED`].
    route: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    status: &'static str,
}

/// A route, for its latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// A refresh the provider was asked for.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    /// A provider id of a loaded definition.
    provider: String,
    outcome: &'static str,
}

/// A webhook delivery attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    outcome: &'static str,
}

/// How a refresh the provider was asked for ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// New tokens.
    Ok,
    /// The provider refused the refresh token (`invalid_grant`): reauthorization required.
    Refused,
    /// Anything else: the provider failed or could not be reached, the connection no longer
    /// fits its definition.
    Failed,
}

impl RefreshOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The service's counters and histograms, and the registry that encodes them.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: DurationFamily,
    refreshes: Family<RefreshLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Latency buckets: 5 ms to about 41 s, doubling (a refresh waits up to the engine's timeout
/// and retries; the request timeout is 120 s).
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: DurationFamily = Family::new_with_constructor(duration_histogram);
        let refreshes = Family::<RefreshLabels, Counter>::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let mut registry = Registry::with_prefix("provider_forge");
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response head, by method and route template",
            durations.clone(),
        );
        registry.register(
            "token_refreshes",
            "Token renewals the provider was asked for, by provider and outcome (ok, refused: reauthorization required, failed)",
            refreshes.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered: a 2xx answer; failed: retried later)",
            deliveries.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            refreshes,
            deliveries,
        }
    }
}

impl Metrics {
    /// Counts an answered request. `route` is the template the router matched, `None` when no
    /// route did.
    pub(crate) fn request(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED).to_owned();
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status_class(status),
            })
            .inc();
    }

    /// Counts a refresh the provider was asked for.
    pub(crate) fn refresh(&self, provider: &str, outcome: RefreshOutcome) {
        self.refreshes
            .get_or_create(&RefreshLabels {
                provider: provider.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// Counts a webhook delivery attempt.
    pub(crate) fn webhook_delivery(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .get_or_create(&DeliveryLabels { outcome })
            .inc();
    }

    /// Everything, in the Prometheus text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The method as a label: the ones the API routes, anything else as `other`, so a caller's
/// invented methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invented_method_is_one_label_value() {
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
    }

    #[test]
    fn a_request_no_route_matched_is_counted_without_its_path() {
        let metrics = Metrics::default();
        metrics.request(
            &Method::GET,
            None,
            StatusCode::NOT_FOUND,
            Duration::from_millis(3),
        );
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"provider_forge_http_requests_total{method="GET",route="unmatched",status="4xx"} 1"#
            ),
            "{text}"
        );
    }
}
