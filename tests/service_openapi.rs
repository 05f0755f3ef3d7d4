//! What a generated client of `serve` relies on: every error answer is JSON whose `error` is a
//! code of the one `ErrorCode` enum the description documents, including the requests axum
//! refuses before a handler runs (sent here raw, as curl would); the description names every
//! route the router serves and no other, every status each can answer, its servers and
//! examples; it passes a real validator (`openapi-spec-validator`); and the checked-in copy in
//! `schemas/openapi.json` is exactly what the code generates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use provider_forge::service::{self, ApiKey, Cipher, EncryptionKey, Service};

use crate::support::load_provider;
use crate::support::service::{API_KEY, Instance, World};

/// The documented codes and the one status each answers with: the contract a generated client
/// is written against, spelt out here rather than read from the code under test.
const CODES: &[(&str, u16)] = &[
    ("bad_request", 400),
    ("invalid_cursor", 400),
    ("invalid_connection_id", 400),
    ("missing_credential", 400),
    ("unknown_credential", 400),
    ("invalid_credential", 400),
    ("missing_param", 400),
    ("unknown_param", 400),
    ("invalid_param", 400),
    ("unknown_environment", 400),
    ("unknown_data_center", 400),
    ("callback_refused", 400),
    ("access_denied", 400),
    ("session_expired", 400),
    ("path_refused", 400),
    ("unauthorized", 401),
    ("not_found", 404),
    ("method_not_allowed", 405),
    ("body_timeout", 408),
    ("connection_changed", 409),
    ("connection_mode_changed", 409),
    ("token_expired", 409),
    ("reauthorization_required", 409),
    ("connection_values_refused", 409),
    ("body_too_large", 413),
    ("unsupported_media_type", 415),
    ("verification_failed", 422),
    ("provider_rate_limited", 429),
    ("internal", 500),
    ("cannot_decrypt", 500),
    ("database_error", 500),
    ("provider_error", 502),
    ("upstream_unreachable", 502),
    ("request_timeout", 503),
    ("database_unavailable", 503),
    ("upstream_timeout", 504),
];

fn status_of(code: &str) -> Option<u16> {
    CODES
        .iter()
        .find(|(name, _)| *name == code)
        .map(|(_, status)| *status)
}

/// An answer read off the wire.
struct Raw {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {:?} {}",
                self.headers,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the JSON error shape with `code`, at the code's documented status.
    fn assert_error(&self, code: &str) -> Value {
        assert_eq!(
            self.headers.get("content-type").map(String::as_str),
            Some("application/json"),
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["error"], code, "{body}");
        assert_eq!(Some(self.status), status_of(code), "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body
    }
}

/// Sends `head` (request line and headers, without the blank line; `Host` and
/// `Connection: close` are added) and then `body` as they are, and reads the whole answer.
/// The body is written in pieces and a refusal may close the connection before it is all
/// sent: the answer is read either way.
async fn raw(serve: &Instance, head: &str, body: &[u8]) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(serve.address())
        .await
        .unwrap();
    let head = format!(
        "{head}\r\nHost: {}\r\nConnection: close\r\n\r\n",
        serve.address()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for piece in body.chunks(16 * 1024) {
        if stream.write_all(piece).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    parse_answer(&answer)
}

fn parse_answer(answer: &[u8]) -> Raw {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head: {:?}", String::from_utf8_lossy(answer)));
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = answer[split + 4..].to_vec();
    if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        body = dechunk(&body);
    }
    Raw {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
}

fn bearer() -> String {
    format!("Authorization: Bearer {API_KEY}")
}

/// A world and an instance for one refusal.
async fn serving() -> (World, Instance) {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    (world, serve)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_over_the_limit_is_413_body_too_large() {
    let (world, serve) = serving().await;
    let big = format!(
        r#"{{"provider":"zoho-crm","connection_id":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    // Declared up front: refused before it is read.
    let declared = raw(
        &serve,
        &format!(
            "POST /connect/sessions HTTP/1.1\r\n{}\r\nContent-Type: application/json\r\nContent-Length: {}",
            bearer(),
            big.len()
        ),
        big.as_bytes(),
    )
    .await;
    declared.assert_error("body_too_large");
    // Sent in chunks without a length: refused once the limit is crossed.
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(8 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let streamed = raw(
        &serve,
        &format!(
            "POST /connections HTTP/1.1\r\n{}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
            bearer()
        ),
        &chunked,
    )
    .await;
    streamed.assert_error("body_too_large");
    // The connect page's form too, though its other answers are pages.
    let form = format!("csrf=x&credential.apiKey={}", "k".repeat(70 * 1024));
    let page = raw(
        &serve,
        &format!(
            "POST /connect/some-token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
            form.len()
        ),
        form.as_bytes(),
    )
    .await;
    page.assert_error("body_too_large");
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_415_unsupported_media_type() {
    let (world, serve) = serving().await;
    let body = r#"{"provider":"zoho-crm","connection_id":"acme-1"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let header = content_type.map_or(String::new(), |t| format!("\r\nContent-Type: {t}"));
        let answer = raw(
            &serve,
            &format!(
                "POST /connect/sessions HTTP/1.1\r\n{}{header}\r\nContent-Length: {}",
                bearer(),
                body.len()
            ),
            body.as_bytes(),
        )
        .await;
        answer.assert_error("unsupported_media_type");
    }
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400_bad_request_saying_where() {
    let (world, serve) = serving().await;
    for (body, says) in [
        // Not JSON at all.
        (r#"{"provider": "zoho-crm","#, "EOF while parsing"),
        // JSON of the wrong shape: a missing field, an unknown one, a wrong type.
        (
            r#"{"provider": "zoho-crm"}"#,
            "missing field `connection_id`",
        ),
        (
            r#"{"provider": "zoho-crm", "connection_id": "a", "scope": []}"#,
            "unknown field `scope`",
        ),
        (
            r#"{"provider": "zoho-crm", "connection_id": "a", "scopes": "all"}"#,
            "invalid type",
        ),
    ] {
        let answer = raw(
            &serve,
            &format!(
                "POST /connect/sessions HTTP/1.1\r\n{}\r\nContent-Type: application/json\r\nContent-Length: {}",
                bearer(),
                body.len()
            ),
            body.as_bytes(),
        )
        .await;
        let error = answer.assert_error("bad_request");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{body}: {error}"
        );
    }
    drop(serve);
    world.finish().await;
}

/// GETs each target with the key; each must be refused with `code`. The errors, in order.
async fn refused_gets(serve: &Instance, targets: &[&str], code: &str) -> Vec<Value> {
    let mut errors = Vec::new();
    for target in targets {
        let answer = raw(
            serve,
            &format!("GET {target} HTTP/1.1\r\n{}", bearer()),
            b"",
        )
        .await;
        errors.push(answer.assert_error(code));
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_value_of_the_wrong_type_is_400_bad_request() {
    let (world, serve) = serving().await;
    let targets = [
        "/connections?limit=many",
        "/connections?status=asleep",
        "/connections?colour=blue",
        "/connections/zoho-crm/acme-1/token?force_refresh=maybe",
    ];
    for (target, error) in targets
        .iter()
        .zip(refused_gets(&serve, &targets, "bad_request").await)
    {
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("Failed to deserialize query string"),
            "{target}: {error}"
        );
    }
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_segment_that_is_not_utf8_is_400_bad_request() {
    let (world, serve) = serving().await;
    let targets = [
        "/connections/zoho-crm/acme%FF",
        "/connections/zoho%C3/acme-1/token",
        "/proxy/zoho%FF/acme-1/crm/v8/Leads",
    ];
    refused_gets(&serve, &targets, "bad_request").await;
    // Without the key, the key is what is wrong.
    let unkeyed = raw(&serve, "GET /proxy/zoho%FF/acme-1/x HTTP/1.1", b"").await;
    unkeyed.assert_error("unauthorized");
    assert_eq!(unkeyed.headers["www-authenticate"], "Bearer");
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_methods_answer_json() {
    let (world, serve) = serving().await;
    raw(&serve, "GET /nowhere HTTP/1.1", b"")
        .await
        .assert_error("not_found");
    raw(
        &serve,
        &format!("PATCH /connections HTTP/1.1\r\n{}", bearer()),
        b"",
    )
    .await
    .assert_error("method_not_allowed");
    raw(
        &serve,
        &format!("TRACE /proxy/zoho-crm/acme-1/crm HTTP/1.1\r\n{}", bearer()),
        b"",
    )
    .await
    .assert_error("method_not_allowed");
    drop(serve);
    world.finish().await;
}

/// The served description.
async fn description(serve: &Instance) -> Value {
    let (status, description) = serve.get("/openapi.json").await;
    assert_eq!(status, 200);
    description
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_documents_every_error_code_with_its_status() {
    let (world, serve) = serving().await;
    let description = description(&serve).await;
    let schemas = &description["components"]["schemas"];
    let codes = &schemas["ErrorCode"];
    assert_eq!(codes["type"], "string", "{codes}");
    let listed: BTreeSet<&str> = codes["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let documented: BTreeSet<&str> = CODES.iter().map(|(code, _)| *code).collect();
    assert_eq!(listed, documented);
    let meanings = codes["description"].as_str().unwrap();
    for (code, status) in CODES {
        assert!(
            meanings.contains(&format!("- `{code}` ({status}): ")),
            "{code} is not explained with its status: {meanings}"
        );
    }
    assert_eq!(
        schemas["ErrorBody"]["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorCode"
    );

    // Every error response of every route is the error shape, with an example whose code is
    // documented and answers with that response's status.
    let mut checked = 0;
    for (path, operations) in description["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let status: u16 = status.parse().unwrap();
                let Some(json) = response["content"].get("application/json") else {
                    continue;
                };
                if status < 400 || json["schema"]["$ref"] == "#/components/schemas/Health" {
                    continue;
                }
                let at = format!("{method} {path} {status}");
                assert_eq!(
                    json["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{at}"
                );
                let code = json["example"]["error"].as_str().unwrap_or_else(|| {
                    panic!("{at} has no example: {response}");
                });
                assert_eq!(status_of(code), Some(status), "{at}: example `{code}`");
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "only {checked} error responses");
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_database_route_documents_503_and_every_keyed_route_401() {
    let (world, serve) = serving().await;
    let description = description(&serve).await;
    let paths = &description["paths"];
    let database_routes = [
        ("post", "/connect/sessions"),
        ("get", "/oauth/callback"),
        ("get", "/connect/{token}"),
        ("post", "/connect/{token}"),
        ("get", "/connections"),
        ("post", "/connections"),
        ("get", "/connections/{provider}/{connection_id}"),
        ("delete", "/connections/{provider}/{connection_id}"),
        ("get", "/connections/{provider}/{connection_id}/token"),
        ("get", "/proxy/{provider}/{connection_id}/{path}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
    ];
    for (method, path) in database_routes {
        assert!(
            paths[path][method]["responses"]["503"].is_object(),
            "{method} {path} does not document 503"
        );
    }
    for (path, operations) in paths.as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let keyed = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            assert_eq!(
                operation["responses"]["401"].is_object(),
                keyed,
                "{method} {path}: 401 documented exactly where the key is asked"
            );
        }
    }
    for (method, path) in [("post", "/connect/sessions"), ("post", "/connections")] {
        let responses = &paths[path][method]["responses"];
        for status in ["400", "413", "415"] {
            assert!(responses[status].is_object(), "{method} {path} {status}");
        }
        let request = &paths[path][method]["requestBody"]["content"]["application/json"];
        let example = request["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map(|name| &description["components"]["schemas"][name]["example"]);
        assert!(
            example.is_some_and(|e| e.is_object()),
            "{method} {path}: no request example"
        );
    }
    let token = &paths["/connections/{provider}/{connection_id}/token"]["get"]["responses"];
    for status in ["400", "404", "409", "429", "502"] {
        assert!(token[status].is_object(), "token route {status}");
    }
    let proxy = &paths["/proxy/{provider}/{connection_id}/{path}"]["post"]["responses"];
    for status in ["400", "408", "409", "413", "502", "504"] {
        assert!(proxy[status].is_object(), "proxy {status}");
    }
    assert!(paths["/connect/{token}"]["get"]["responses"]["410"].is_object());
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_description_names_the_public_url_as_its_server() {
    let world = World::start(None).await;
    let public = world.instance(&["--public-url", "https://forge.example.com/integrations/"]);
    let servers = &description(&public).await["servers"];
    assert_eq!(servers.as_array().map(Vec::len), Some(1), "{servers}");
    assert_eq!(servers[0]["url"], "https://forge.example.com/integrations");
    drop(public);
    // Without one, where it listens.
    let local = world.instance(&[]);
    let servers = &description(&local).await["servers"];
    assert_eq!(servers[0]["url"], local.base.as_str());
    drop(local);
    // The checked-in copy has the default listen address, described as a placeholder.
    let checked_in: Value = serde_json::from_str(&checked_in_text()).unwrap();
    assert_eq!(checked_in["servers"][0]["url"], "http://127.0.0.1:3003");
    assert!(
        checked_in["servers"][0]["description"]
            .as_str()
            .is_some_and(|d| d.contains("--public-url")),
        "{}",
        checked_in["servers"]
    );
    world.finish().await;
}

fn checked_in_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/openapi.json")
}

fn checked_in_text() -> String {
    std::fs::read_to_string(checked_in_path()).unwrap_or_default()
}

#[test]
fn the_checked_in_description_is_fresh() {
    let generated = serde_json::to_value(service::openapi()).unwrap();
    assert!(
        checked_in_text() == provider_forge::schema::to_pretty_json(&generated),
        "schemas/openapi.json is stale; regenerate it with:\n  cargo run -- schema --kind openapi > schemas/openapi.json"
    );
}

/// `openapi-spec-validator` (pip), the validator client generators' users reach for: `None`
/// after a loud SKIPPED line when it is not installed outside CI; under CI=true a missing
/// validator fails the test.
fn validate_with_openapi_spec_validator(file: &Path) -> Option<(bool, String)> {
    if !crate::support::python_module(
        "openapi_spec_validator",
        "the OpenAPI description was NOT validated (`pip install openapi-spec-validator`)",
    ) {
        return None;
    }
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_spec_validator_accepts_the_description() {
    // The checked-in copy, and the one a running service serves.
    let Some((ok, text)) = validate_with_openapi_spec_validator(&checked_in_path()) else {
        return;
    };
    assert!(ok, "schemas/openapi.json: {text}");
    assert!(text.contains("OK"), "{text}");
    let (world, serve) = serving().await;
    let served = world.dir.path().join("served-openapi.json");
    std::fs::write(&served, description(&serve).await.to_string()).unwrap();
    let (ok, text) = validate_with_openapi_spec_validator(&served).unwrap();
    assert!(ok, "served: {text}");
    // The validator is not a rubber stamp: a response without its description is refused.
    let mut broken = description(&serve).await;
    broken["paths"]["/healthz"]["get"]["responses"]["200"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    let refused = world.dir.path().join("broken-openapi.json");
    std::fs::write(&refused, broken.to_string()).unwrap();
    let (ok, text) = validate_with_openapi_spec_validator(&refused).unwrap();
    assert!(!ok, "a broken description passed: {text}");
    drop(serve);
    world.finish().await;
}

/// The path templates the router was built with, read from its debug view (axum keeps no
/// other public list); the wildcard's `{*path}` is OpenAPI's `{path}`.
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    // The routes' router comes first; the fallback's (`/`) after it.
    let (routes, _) = debug
        .split_once("fallback_router")
        .expect("axum's debug view names its fallback router");
    let mut paths = BTreeSet::new();
    let mut rest = routes;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at..];
        let Some(quote) = rest.find(": \"") else {
            break;
        };
        let after = &rest[quote + 3..];
        let end = after.find('"').unwrap();
        let path = &after[..end];
        if path.starts_with('/') && !path.contains("__private__") {
            paths.insert(path.replace("{*", "{"));
        }
        rest = &after[end..];
    }
    paths
}

/// A request as the route walk sends it: every path parameter filled, the key presented.
fn probe_path(template: &str) -> String {
    template
        .replace("{provider}", "zoho-crm")
        .replace("{connection_id}", "nobody")
        .replace("{token}", "no-such-page")
        .replace("{path}", "crm/v8/Leads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_and_the_description_name_the_same_routes() {
    let dir = tempfile::tempdir().unwrap();
    let store = provider_forge::service::store::open(&format!(
        "sqlite://{}",
        dir.path().join("walk.db").display()
    ))
    .await
    .unwrap();
    let service = Arc::new(
        Service::new(
            store,
            Cipher::new(EncryptionKey::from_bytes([7; 32]), vec![]),
            [load_provider("providers/zoho-crm.yaml")],
            BTreeMap::new(),
            &provider_forge::oauth::HttpOptions::default(),
        )
        .unwrap(),
    );
    let router = service::router(Arc::clone(&service), ApiKey::new(API_KEY).unwrap());
    let description = serde_json::to_value(service::openapi()).unwrap();
    let described: BTreeMap<String, BTreeSet<String>> = description["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, operations)| {
            let methods = operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| !matches!(key.as_str(), "parameters" | "summary" | "description"))
                .map(|method| method.to_ascii_uppercase())
                .collect();
            (path.clone(), methods)
        })
        .collect();

    // Paths: the router's and the description's, both ways.
    let routed = router_paths(&router);
    assert!(
        routed.len() >= 10,
        "the router's paths were not read: {routed:?}"
    );
    assert_eq!(
        routed,
        described.keys().cloned().collect::<BTreeSet<_>>(),
        "routes served but not described, or described but not served"
    );

    // Methods: each path asked with every method; a method the router does not route answers
    // the method fallback's 405, and exactly those must be the undescribed ones. (HEAD is
    // answered wherever GET is, by HTTP's rule, so it is checked only where it is described.)
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let client = reqwest::Client::new();
    for (path, methods) in &described {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] {
            let response = client
                .request(
                    method.parse().unwrap(),
                    format!("http://{address}{}", probe_path(path)),
                )
                .bearer_auth(API_KEY)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let unrouted = status == 405 && body["error"] == "method_not_allowed";
            assert!(
                !(status == 404 && body["message"] == "no such route"),
                "{method} {path}: the path is not routed"
            );
            if method == "HEAD" && !methods.contains(method) {
                continue;
            }
            assert_eq!(
                !unrouted,
                methods.contains(method),
                "{method} {path}: routed {} but described {}",
                !unrouted,
                methods.contains(method)
            );
        }
    }
}

/// A key as a JSON pointer segment (RFC 6901) inside a URI fragment (braces percent-encoded).
fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// What keeps `example` from fitting the schema at `pointer` inside the description (its
/// `$ref`s resolved there), by JSON Schema 2020-12, the dialect of OpenAPI 3.1.
fn misfits(description: &Value, pointer: &str, example: &Value) -> Vec<String> {
    let mut root = description.clone();
    root["$ref"] = Value::from(pointer);
    let validator = jsonschema::validator_for(&root).unwrap();
    validator
        .iter_errors(example)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_fits(description: &Value, pointer: &str, example: &Value) {
    let errors = misfits(description, pointer, example);
    assert!(errors.is_empty(), "{pointer}: {example}\n{errors:#?}");
}

#[test]
fn every_example_fits_its_schema() {
    let description = serde_json::to_value(service::openapi()).unwrap();
    let mut checked = 0;
    for (name, schema) in description["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            assert_fits(
                &description,
                &format!("#/components/schemas/{name}"),
                example,
            );
            checked += 1;
        }
    }
    for (path, operations) in description["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let Some(json) = response["content"].get("application/json") else {
                    continue;
                };
                if let Some(example) = json.get("example") {
                    let pointer = format!(
                        "#/paths/{}/{method}/responses/{status}/content/application~1json/schema",
                        pointer_segment(path)
                    );
                    assert_fits(&description, &pointer, example);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} examples");
    // The check can fail: an example of the wrong shape is refused.
    assert!(
        !misfits(
            &description,
            "#/components/schemas/ErrorBody",
            &serde_json::json!({"error": "no_such_code", "message": "x"})
        )
        .is_empty()
    );
}
