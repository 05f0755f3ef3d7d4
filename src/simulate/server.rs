//! The HTTPS listener: TLS with the simulator's own CA, one HTTP/1.1 connection task per
//! client, and the dispatch of each request by host and path (see [`super::routes`]) to the
//! authorization, token-side or API handlers. A request to a path only the API serves goes to
//! the API with its body unread (the API streams what it needs); any other is read whole
//! first. Every request is recorded before it is answered (so a test that timed out still sees
//! it counted) and logged once answered.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::Shared;
use super::reply::{Answer, Received, Streamed, streamed, text};
use super::routes::{Endpoint, RouteTarget};
use super::{api, authorize, token, token_modes};
use crate::definition::types::{AuthMode, TokenBody};

/// Largest request body read (a token request is a few hundred bytes).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Accepts connections until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of file descriptors or similar: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            // An error (the `api-reset-once` fault) closes the connection without an answer.
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { handle(&shared, request).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Result<Streamed, Reset> {
    let (parts, body) = request.into_parts();
    let mut request = head(&parts);
    let targets = shared.routes.lookup(&request.host, &request.path);
    // A path only the API serves streams its body: nothing is read before the API looks.
    if targets.is_empty() && api::serves(shared, &request.host, &request.path) {
        return api::call(shared, request, api::CallBody::Stream(body)).await;
    }
    let Some(bytes) = read_body(body).await else {
        return Ok(streamed(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        )));
    };
    read_form(&mut request, &bytes, &parts);
    let endpoint = classify(shared, &request, targets)
        .or_else(|| api::serves(shared, &request.host, &request.path).then_some(Endpoint::Api));
    let Some(endpoint) = endpoint else {
        let answer = Answer::new(
            text(StatusCode::NOT_FOUND, "no such endpoint at this host"),
            "not found",
        );
        shared.log(&request, None, &answer.outcome);
        return Ok(streamed(answer.reply));
    };
    if endpoint == Endpoint::Api {
        return api::call(shared, request, api::CallBody::Whole(bytes)).await;
    }
    let (index, delay) = shared.record(&request, endpoint);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = {
        let mut state = shared.state.lock().unwrap();
        let token_side = endpoint != Endpoint::Authorize;
        if token_side && state.faults.server_errors > 0 {
            state.faults.server_errors -= 1;
            Answer::new(
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<html><body>Internal Server Error</body></html>",
                ),
                "fault: server-error-once",
            )
        } else {
            let mode_target = |mode| token_modes::target(shared, targets, endpoint, mode);
            match endpoint {
                Endpoint::Authorize => authorize::authorize(shared, &mut state, &request, targets),
                Endpoint::Token | Endpoint::Refresh => {
                    if let Some(here) = mode_target(AuthMode::ClientCredentials) {
                        token_modes::client_credentials(shared, &mut state, &request, here)
                    } else if let Some(here) = mode_target(AuthMode::TokenRequest) {
                        token_modes::token_request(shared, &mut state, &request, here, endpoint)
                    } else if endpoint == Endpoint::Token {
                        token::exchange(shared, &mut state, &request, targets)
                    } else {
                        token::refresh(shared, &mut state, &request, targets)
                    }
                }
                Endpoint::Revoke => token::revoke(shared, &mut state, &request, targets),
                Endpoint::Api => unreachable!("API calls are answered above"),
            }
        }
    };
    shared.finish(index, &request, endpoint, &answer.outcome);
    Ok(streamed(answer.reply))
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
pub(crate) struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset on purpose (api-reset-once)")
    }
}

impl std::error::Error for Reset {}

/// Which endpoint a request is for: the token endpoint of a `token_request` or
/// `client_credentials` provider takes any method (its refresh endpoint, a request with a
/// `refresh_token`); the authorization endpoint takes GET; a POST with a `grant_type` goes to a
/// token or refresh endpoint at that path; another POST to a revocation endpoint.
fn classify(shared: &Shared, request: &Received, targets: &[RouteTarget]) -> Option<Endpoint> {
    let serves = |endpoint: Endpoint| targets.iter().any(|t| t.endpoint == endpoint);
    let without_user = |endpoint: Endpoint| {
        targets.iter().any(|t| {
            t.endpoint == endpoint
                && matches!(
                    shared.providers[t.provider].auth_mode,
                    AuthMode::ClientCredentials | AuthMode::TokenRequest
                )
        })
    };
    if request.param("refresh_token").is_some() && without_user(Endpoint::Refresh) {
        return Some(Endpoint::Refresh);
    }
    if without_user(Endpoint::Token) {
        return Some(Endpoint::Token);
    }
    if request.method == Method::GET {
        return serves(Endpoint::Authorize).then_some(Endpoint::Authorize);
    }
    if request.method != Method::POST {
        return None;
    }
    match request.param("grant_type") {
        Some("refresh_token") if serves(Endpoint::Refresh) => Some(Endpoint::Refresh),
        Some(_) if serves(Endpoint::Token) || serves(Endpoint::Refresh) => Some(Endpoint::Token),
        _ if serves(Endpoint::Revoke) => Some(Endpoint::Revoke),
        _ => None,
    }
}

/// A request's head: everything but its body.
fn head(parts: &hyper::http::request::Parts) -> Received {
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
        .or_else(|| parts.uri.host())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let basic_auth = parts
        .headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_basic);
    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    Received {
        host,
        path: parts.uri.path().to_owned(),
        method: parts.method.clone(),
        query: pairs(parts.uri.query().unwrap_or_default().as_bytes()),
        form: Vec::new(),
        body: None,
        unreadable_json: false,
        basic_auth,
        headers,
    }
}

/// Reads a body whole; `None` when it is larger than [`MAX_BODY_BYTES`].
async fn read_body(body: Incoming) -> Option<Bytes> {
    Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .ok()
        .map(|collected| collected.to_bytes())
}

/// Reads the parameters of a body read whole: form-encoded, or a JSON object by its type.
fn read_form(request: &mut Received, body: &[u8], parts: &hyper::http::request::Parts) {
    let json = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.trim_start().starts_with("application/json"));
    if body.is_empty() {
        return;
    }
    if json {
        request.body = Some(TokenBody::Json);
        match json_pairs(body) {
            Some(pairs) => request.form = pairs,
            None => request.unreadable_json = true,
        }
    } else {
        request.body = Some(TokenBody::Form);
        request.form = pairs(body);
    }
}

/// Client id and secret from `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 2.3.1).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The fields of a JSON object body, scalars as text; `None` when it is not such an object.
fn json_pairs(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    fields
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Some((name, text)),
            Value::Number(_) | Value::Bool(_) => Some((name, value.to_string())),
            _ => None,
        })
        .collect()
}

fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
