//! The provider's API, played at every API base URL of every served data center and
//! environment: a call is answered 200 with a small JSON body only when it carries the
//! credentials exactly as the definition places them ([`super::expected`]): the right header,
//! the right query parameter, the right Basic pair, a token this simulator issued for that
//! provider and data center. Anything else is 401, with the names (never the values) of what
//! was wrong. The `api-*` faults come first, in the order they were armed.
//!
//! A path ending in `_simulate/NAME`, under any API base path, is what a test of a proxy
//! needs, behind the same credential check:
//! - `_simulate/echo` answers what arrived: method, path, query and headers (a credential's
//!   value shown as `[credential]`), and the body as text;
//! - `_simulate/upload` reads the body as it arrives, counting its bytes where a test sees them
//!   before the upload ends ([`super::Simulator::uploaded_bytes`]), and answers the count;
//! - `_simulate/download?bytes=N[&hold=M]` streams N bytes (byte `i` is `i % 251`), waiting
//!   after M of them until a test releases it ([`super::Simulator::release`]).

use std::time::{Duration, SystemTime};

use http_body_util::BodyExt;
use hyper::StatusCode;
use hyper::body::{Bytes, Incoming};
use serde_json::json;

use super::Shared;
use super::expected::{Expected, ExpectedApi};
use super::fault::ApiFailure;
use super::reply::{Answer, Channel, Received, Streamed, json as json_reply, streamed};
use super::routes::Endpoint;
use super::server::Reset;
use super::state::{ServerState, find};
use crate::oauth::secret::constant_time_eq;

/// Seconds the `api-429-once` and `api-503-once` faults ask the client to wait.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Seconds ahead of now the `api-429-date-once` fault's `Retry-After` date is.
const RETRY_AT_SECS: u64 = 2;

/// Longest a held call or download waits for its release.
const HOLD_LIMIT: Duration = Duration::from_secs(600);

/// Largest body the echo endpoint reads.
const ECHO_BYTES: usize = 64 * 1024;

/// The segment before a test endpoint's name.
const TEST_SEGMENT: &str = "/_simulate/";

/// Bytes of one download chunk: a whole number of the pattern's 251-byte periods, so every
/// chunk is the same.
const CHUNK: usize = 251 * 256;

/// Whether some API is served at this host and path.
pub(crate) fn serves(shared: &Shared, host: &str, path: &str) -> bool {
    shared.expected.api.iter().any(|api| api.serves(host, path))
}

/// An API call's body: read whole already (a path other endpoints serve too), or not yet.
pub(crate) enum CallBody {
    Whole(Bytes),
    Stream(Incoming),
}

impl CallBody {
    /// Reads at most `limit` bytes of it (the echo); the rest is left unread.
    async fn read(self, limit: usize) -> Bytes {
        match self {
            CallBody::Whole(bytes) => bytes.slice(..bytes.len().min(limit)),
            CallBody::Stream(mut body) => {
                let mut read = Vec::new();
                while read.len() < limit {
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                read.extend_from_slice(&data);
                            }
                        }
                        _ => break,
                    }
                }
                read.truncate(limit);
                Bytes::from(read)
            }
        }
    }
}

/// Answers one API call (recorded on receipt, logged once answered). `Err` closes the
/// connection without an answer.
pub(crate) async fn call(
    shared: &Shared,
    request: Received,
    body: CallBody,
) -> Result<Streamed, Reset> {
    let (index, delay) = shared.record(&request, Endpoint::Api);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let finish = |outcome: &str| shared.finish(index, &request, Endpoint::Api, outcome);
    loop {
        let failure = shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .faults
            .api_failures
            .pop_front();
        match failure {
            None => break,
            Some(ApiFailure::Hang) => hold(&shared.gate).await,
            Some(ApiFailure::Reset) => {
                finish("fault: api-reset-once");
                return Err(Reset);
            }
            Some(failure) => {
                let answer = fault(failure);
                finish(&answer.outcome);
                return Ok(streamed(answer.reply));
            }
        }
    }
    let checked = {
        let state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        authorized(shared, &state, &request)
    };
    let api = match checked {
        Ok(api) => api,
        Err(reason) => {
            let answer = Answer::new(
                json_reply(
                    StatusCode::UNAUTHORIZED,
                    &json!({ "error": "unauthorized", "message": reason }),
                ),
                format!("api 401: {reason}"),
            );
            finish(&answer.outcome);
            return Ok(streamed(answer.reply));
        }
    };
    let provider = &shared.providers[api.provider];
    let dc = &provider.data_centers[api.dc];
    let test = request.path.rsplit_once(TEST_SEGMENT).map(|(_, name)| name);
    let (reply, outcome) = match test {
        Some("echo") => {
            let body = body.read(ECHO_BYTES).await;
            (streamed(echo(api, &request, &body)), "api echo".to_owned())
        }
        Some("upload") => {
            let bytes = upload(shared, body).await;
            let reply = json_reply(StatusCode::OK, &json!({ "bytes": bytes }));
            (streamed(reply), format!("api upload of {bytes} bytes"))
        }
        Some("download") => {
            let number = |name| find(&request.query, name).and_then(|n| n.parse::<u64>().ok());
            let size = number("bytes").unwrap_or(0);
            (
                download(shared, size, number("hold")),
                format!("api download of {size} bytes"),
            )
        }
        _ => {
            let answer = json!({
                "ok": true,
                "provider": provider.id,
                "data_center": dc.code,
                "environment": api.environment,
                "method": request.method.as_str(),
                "path": request.path,
            });
            (
                streamed(json_reply(StatusCode::OK, &answer)),
                format!(
                    "api call for {} at data center {} ({})",
                    provider.id, dc.code, api.environment
                ),
            )
        }
    };
    finish(&outcome);
    Ok(reply)
}

/// Waits for a release (or for the hold limit).
async fn hold(gate: &tokio::sync::Semaphore) {
    tokio::select! {
        permit = gate.acquire() => {
            if let Ok(permit) = permit {
                permit.forget();
            }
        }
        () = tokio::time::sleep(HOLD_LIMIT) => {}
    }
}

/// The API that accepts `request`'s credentials; the reasons each candidate refused otherwise.
fn authorized<'s>(
    shared: &'s Shared,
    state: &ServerState,
    request: &Received,
) -> Result<&'s ExpectedApi, String> {
    let mut refusals = Vec::new();
    for api in shared
        .expected
        .api
        .iter()
        .filter(|api| api.serves(&request.host, &request.path))
    {
        match check(state, api, request) {
            Ok(()) => return Ok(api),
            Err(reason) => refusals.push(reason),
        }
    }
    refusals.dedup();
    Err(refusals.join("; or "))
}

/// What arrived, a credential's value masked.
fn echo(api: &ExpectedApi, request: &Received, body: &[u8]) -> super::reply::Reply {
    let credential_header = |name: &str| api.headers.iter().any(|(set, _)| set == name);
    let credential_query = |name: &str| api.query.iter().any(|(set, _)| set == name);
    let mask = |credential: bool, value: &str| {
        if credential {
            "[credential]".to_owned()
        } else {
            value.to_owned()
        }
    };
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), mask(credential_header(name), value)))
        .collect();
    let query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(name, value)| (name.clone(), mask(credential_query(name), value)))
        .collect();
    json_reply(
        StatusCode::OK,
        &json!({
            "method": request.method.as_str(),
            "path": request.path,
            "query": query,
            "headers": headers,
            "body": String::from_utf8_lossy(body),
        }),
    )
}

/// Reads an upload to its end, counting as it arrives; the bytes read.
async fn upload(shared: &Shared, body: CallBody) -> u64 {
    use std::sync::atomic::Ordering;
    match body {
        CallBody::Whole(bytes) => {
            shared
                .uploaded
                .fetch_add(bytes.len() as u64, Ordering::SeqCst);
            bytes.len() as u64
        }
        CallBody::Stream(mut body) => {
            let mut total = 0u64;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    total += data.len() as u64;
                    shared
                        .uploaded
                        .fetch_add(data.len() as u64, Ordering::SeqCst);
                }
            }
            total
        }
    }
}

/// Streams `size` bytes of the pattern, waiting for a release once `hold` were sent.
fn download(shared: &Shared, size: u64, hold_at: Option<u64>) -> Streamed {
    let chunk = Bytes::from_iter((0..CHUNK).map(|i| (i % 251) as u8));
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let gate = std::sync::Arc::clone(&shared.gate);
    tokio::spawn(async move {
        let mut sent = 0u64;
        let mut held = hold_at.is_none();
        while sent < size {
            if !held && sent >= hold_at.unwrap_or(0) {
                held = true;
                hold(&gate).await;
            }
            let len = (size - sent).min(CHUNK as u64) as usize;
            if sender.send(chunk.slice(..len)).await.is_err() {
                return;
            }
            sent += len as u64;
        }
    });
    let body = Channel {
        receiver,
        length: Some(size),
    };
    hyper::Response::builder()
        .status(StatusCode::OK)
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .body(body.boxed_unsync())
        .expect("a download is a valid response")
}

fn fault(failure: ApiFailure) -> Answer {
    let (status, name) = match failure {
        ApiFailure::Unauthorized => (StatusCode::UNAUTHORIZED, "api-401-once"),
        ApiFailure::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "api-429-once"),
        ApiFailure::RateLimitedUntil => (StatusCode::TOO_MANY_REQUESTS, "api-429-date-once"),
        ApiFailure::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "api-500-once"),
        ApiFailure::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "api-503-once"),
        ApiFailure::Hang | ApiFailure::Reset => unreachable!("held and reset calls get no answer"),
    };
    let mut reply = json_reply(
        status,
        &json!({ "error": status.canonical_reason().unwrap_or("error"), "fault": name }),
    );
    let retry_after = match failure {
        ApiFailure::RateLimited | ApiFailure::Unavailable => {
            Some(hyper::header::HeaderValue::from(RETRY_AFTER_SECS))
        }
        ApiFailure::RateLimitedUntil => {
            let at = SystemTime::now() + Duration::from_secs(RETRY_AT_SECS);
            hyper::header::HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()
        }
        _ => None,
    };
    if let Some(value) = retry_after {
        reply
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, value);
    }
    Answer::new(reply, format!("fault: {name}"))
}

/// Whether `request` carries every header and query parameter `api` expects; the reason,
/// naming them, when not.
fn check(state: &ServerState, api: &ExpectedApi, request: &Received) -> Result<(), String> {
    for (name, expected) in &api.headers {
        let value = request.header(name);
        if !matches(state, api, expected, value) {
            return Err(format!(
                "header `{name}` is {}",
                if value.is_some() {
                    "not the expected one"
                } else {
                    "missing"
                }
            ));
        }
    }
    for (name, expected) in &api.query {
        let value = find(&request.query, name);
        if !matches(state, api, expected, value) {
            return Err(format!(
                "query parameter `{name}` is {}",
                if value.is_some() {
                    "not the expected one"
                } else {
                    "missing"
                }
            ));
        }
    }
    Ok(())
}

fn matches(
    state: &ServerState,
    api: &ExpectedApi,
    expected: &Expected,
    value: Option<&str>,
) -> bool {
    let Some(value) = value else { return false };
    match expected {
        Expected::Exact(text) => constant_time_eq(value, text),
        Expected::Token { prefix, suffix } => {
            let Some(token) = value
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
            else {
                return false;
            };
            state.access_tokens.get(token).is_some_and(|grant| {
                grant.provider == api.provider && grant.dc == api.dc && !grant.revoked
            })
        }
    }
}
