//! The HTTPS listener: TLS with the simulator's own CA, one HTTP/1.1 connection task per
//! client, and the dispatch of each request by host and path (see [`super::routes`]) to the
//! authorization or token-side handlers. Every request is recorded before it is answered (so a
//! test that timed out still sees it counted) and logged once answered.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::Shared;
use super::reply::{Answer, Received, Reply, text};
use super::routes::{Endpoint, RouteTarget};
use super::state::RecordedRequest;
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
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    let Some(request) = read(request).await else {
        return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let targets = shared.routes.lookup(&request.host, &request.path);
    let endpoint = classify(shared, &request, targets)
        .or_else(|| api::serves(shared, &request.host, &request.path).then_some(Endpoint::Api));
    let Some(endpoint) = endpoint else {
        let answer = Answer::new(
            text(StatusCode::NOT_FOUND, "no such endpoint at this host"),
            "not found",
        );
        shared.log(&request, None, &answer.outcome);
        return answer.reply;
    };
    let (index, delay) = {
        let mut state = shared.state.lock().unwrap();
        state.requests.push(RecordedRequest {
            host: request.host.clone(),
            path: request.path.clone(),
            endpoint,
            grant_type: request.param("grant_type").map(str::to_owned),
            query: request.query.clone(),
            form: request.form.clone(),
            body: request.body,
            basic_auth: request.basic_auth.clone(),
            outcome: None,
        });
        let delay = match endpoint {
            Endpoint::Authorize => None,
            _ => state.faults.slow,
        };
        (state.requests.len() - 1, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = {
        let mut state = shared.state.lock().unwrap();
        let token_side = !matches!(endpoint, Endpoint::Authorize | Endpoint::Api);
        let answer = if token_side && state.faults.server_errors > 0 {
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
                Endpoint::Api => api::call(shared, &mut state, &request),
            }
        };
        if let Some(recorded) = state.requests.get_mut(index) {
            recorded.outcome = Some(answer.outcome.clone());
        }
        answer
    };
    shared.log(&request, Some(endpoint), &answer.outcome);
    answer.reply
}

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

/// Reads a request whole; `None` when its body is larger than [`MAX_BODY_BYTES`].
async fn read(request: Request<Incoming>) -> Option<Received> {
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
        .or_else(|| request.uri().host())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let query = pairs(request.uri().query().unwrap_or_default().as_bytes());
    let json = request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.trim_start().starts_with("application/json"));
    let basic_auth = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_basic);
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = Limited::new(request.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .ok()?
        .to_bytes();
    let (form, encoding, unreadable_json) = if body.is_empty() {
        (Vec::new(), None, false)
    } else if json {
        match json_pairs(&body) {
            Some(pairs) => (pairs, Some(TokenBody::Json), false),
            None => (Vec::new(), Some(TokenBody::Json), true),
        }
    } else {
        (pairs(&body), Some(TokenBody::Form), false)
    };
    Some(Received {
        host,
        path,
        method,
        query,
        form,
        body: encoding,
        unreadable_json,
        basic_auth,
        headers,
    })
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
