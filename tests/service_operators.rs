//! What an operator of `serve` relies on beyond the API itself: `/metrics` counts requests by
//! route template (never a connection id), refreshes by outcome, behind the API key or the
//! scrape-only key, in a format the Prometheus project's own Python parser reads.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::service_api::revoke_everything_at_the_provider;
use crate::support;
use crate::support::Fault;
use crate::support::service::{API_KEY, Instance, METRICS_KEY, World};

/// `GET /metrics` with `key`: status, content type, body.
async fn scrape_with(serve: &Instance, key: Option<&str>) -> (u16, String, String) {
    let mut request = serve.api.get(serve.url("/metrics"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// The exposition as a scraper holding only the metrics key reads it.
pub(crate) async fn scrape(serve: &Instance) -> String {
    let (status, content_type, text) = scrape_with(serve, Some(METRICS_KEY)).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    text
}

/// The value of the sample `name{labels}` (labels as the exposition writes them, in order),
/// 0 when the series does not exist yet.
pub(crate) fn sample(text: &str, name: &str, labels: &str) -> f64 {
    let series = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

const TOKEN_ROUTE: &str = "/connections/{provider}/{connection_id}/token";

fn requests(text: &str, method: &str, route: &str, status: &str) -> f64 {
    sample(
        text,
        "provider_forge_http_requests_total",
        &format!(r#"method="{method}",route="{route}",status="{status}""#),
    )
}

fn refreshes(text: &str, outcome: &str) -> f64 {
    sample(
        text,
        "provider_forge_token_refreshes_total",
        &format!(r#"provider="zoho-crm",outcome="{outcome}""#),
    )
}

/// Every sample of the exposition as Prometheus's Python client parses it (`prometheus_client`,
/// the project's reference parser): `None` after a loud SKIPPED line when it is not installed
/// outside CI; under CI=true a missing parser fails the test.
fn parsed_by_prometheus_client(text: &str) -> Option<Vec<Value>> {
    const PARSE: &str = "import json, sys\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        print(json.dumps([{'name': s.name, 'labels': s.labels, 'value': s.value}\n\
            for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))";
    if !crate::support::python_module(
        "prometheus_client",
        "/metrics was NOT read with Prometheus's parser (`pip install prometheus-client`)",
    ) {
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "Prometheus's parser refuses the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routes_and_refreshes_and_never_name_a_connection() {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    let connection = "metered-7f3a";
    serve.connect(&world, "zoho-crm", connection).await;
    let token = format!("/connections/zoho-crm/{connection}/token");

    // A handed-out token, a refresh the provider answers, one it fails, one it refuses.
    assert_eq!(serve.get(&token).await.0, 200);
    let forced = format!("{token}?force_refresh=true");
    assert_eq!(serve.get(&forced).await.0, 200);
    world.sim.inject(Fault::MalformedJson);
    let (status, body) = serve.get(&forced).await;
    assert_eq!(status, 502, "{body}");
    world.sim.clear_faults();
    world.sim.inject(Fault::ErrorWith200);
    revoke_everything_at_the_provider(&world).await;
    let (status, body) = serve.get(&forced).await;
    assert_eq!(status, 409, "{body}");
    // A path no route has, holding the connection id.
    assert_eq!(
        serve.get(&format!("/no-such-route/{connection}")).await.0,
        404
    );

    let text = scrape(&serve).await;
    assert_eq!(requests(&text, "GET", TOKEN_ROUTE, "2xx"), 2.0, "{text}");
    assert_eq!(requests(&text, "GET", TOKEN_ROUTE, "4xx"), 1.0, "{text}");
    assert_eq!(requests(&text, "GET", TOKEN_ROUTE, "5xx"), 1.0, "{text}");
    assert_eq!(requests(&text, "POST", "/connect/sessions", "2xx"), 1.0);
    assert_eq!(requests(&text, "GET", "/oauth/callback", "2xx"), 1.0);
    assert_eq!(requests(&text, "GET", "unmatched", "4xx"), 1.0, "{text}");
    assert_eq!(
        sample(
            &text,
            "provider_forge_http_request_duration_seconds_count",
            &format!(r#"method="GET",route="{TOKEN_ROUTE}""#),
        ),
        4.0,
        "every token request is timed: {text}"
    );
    assert_eq!(refreshes(&text, "ok"), 1.0, "{text}");
    assert_eq!(refreshes(&text, "failed"), 1.0, "{text}");
    assert_eq!(refreshes(&text, "refused"), 1.0, "{text}");

    // Nothing a caller sent beyond the route, and nothing secret.
    for leaked in [
        connection,
        "force_refresh",
        "no-such-route",
        API_KEY,
        METRICS_KEY,
    ] {
        assert!(!text.contains(leaked), "`{leaked}` in the metrics:\n{text}");
    }
    support::assert_no_secret("the metrics", &text, &world.secrets());

    // The scrape counted before it answered is in the next one: counters only grow.
    let again = scrape(&serve).await;
    assert_eq!(requests(&again, "GET", "/metrics", "2xx"), 1.0, "{again}");
    assert_eq!(requests(&again, "GET", TOKEN_ROUTE, "2xx"), 2.0);

    // Prometheus's own parser reads the exposition to the same values.
    if let Some(samples) = parsed_by_prometheus_client(&again) {
        let refused = samples.iter().find(|s| {
            s["name"] == "provider_forge_token_refreshes_total"
                && s["labels"]["outcome"] == "refused"
        });
        assert_eq!(refused.and_then(|s| s["value"].as_f64()), Some(1.0));
        let token_ok = samples.iter().find(|s| {
            s["name"] == "provider_forge_http_requests_total"
                && s["labels"]["route"] == TOKEN_ROUTE
                && s["labels"]["status"] == "2xx"
        });
        assert_eq!(token_ok.and_then(|s| s["value"].as_f64()), Some(2.0));
    }
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_open_with_the_api_key_or_the_metrics_key_only() {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    assert_eq!(scrape_with(&serve, Some(API_KEY)).await.0, 200);
    assert_eq!(scrape_with(&serve, Some(METRICS_KEY)).await.0, 200);
    for key in [None, Some("wrong-key-wrong-key-wrong")] {
        let (status, _, body) = scrape_with(&serve, key).await;
        assert_eq!(status, 401, "{key:?}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
    // The metrics key opens nothing else.
    let response = serve
        .api
        .get(serve.url("/connections"))
        .bearer_auth(METRICS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_answers_json_with_its_code() {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    let response = serve
        .api
        .put(serve.url("/connections"))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed", "{body}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_an_object_of_any_values_in_the_description() {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    let (status, openapi) = serve.get("/openapi.json").await;
    assert_eq!(status, 200);
    let schemas = &openapi["components"]["schemas"];
    for schema in ["TokenView", "ConnectionView"] {
        let metadata = &schemas[schema]["properties"]["metadata"];
        assert_eq!(metadata["type"], "object", "{schema}: {metadata}");
        // Any JSON value per key (`{}` or `true`), not a map of nothing.
        let values = &metadata["additionalProperties"];
        assert!(
            values == &Value::Bool(true) || values.as_object().is_some_and(|o| o.is_empty()),
            "{schema}: {metadata}"
        );
    }
    world.finish().await;
}
