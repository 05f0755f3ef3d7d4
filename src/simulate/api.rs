//! The provider's API, played at every API base URL of every served data center and
//! environment: a call is answered 200 with a small JSON body only when it carries the
//! credentials exactly as the definition places them ([`super::expected`]): the right header,
//! the right query parameter, the right Basic pair, a token this simulator issued for that
//! provider and data center. Anything else is 401, with the names (never the values) of what
//! was wrong. The `api-401-once`, `api-429-once` and `api-500-once` faults come first.

use hyper::StatusCode;
use serde_json::json;

use super::Shared;
use super::expected::{Expected, ExpectedApi};
use super::fault::ApiFailure;
use super::reply::{Answer, Received, json as json_reply};
use super::state::{ServerState, find};
use crate::oauth::secret::constant_time_eq;

/// Seconds the `api-429-once` fault asks the client to wait.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Whether some API is served at this host and path.
pub(crate) fn serves(shared: &Shared, host: &str, path: &str) -> bool {
    shared.expected.api.iter().any(|api| api.serves(host, path))
}

/// Answers one API call.
pub(crate) fn call(shared: &Shared, state: &mut ServerState, request: &Received) -> Answer {
    if let Some(failure) = state.faults.api_failures.pop_front() {
        return fault(failure);
    }
    let candidates: Vec<&ExpectedApi> = shared
        .expected
        .api
        .iter()
        .filter(|api| api.serves(&request.host, &request.path))
        .collect();
    let mut refusals = Vec::new();
    for api in &candidates {
        match check(state, api, request) {
            Ok(()) => {
                let provider = &shared.providers[api.provider];
                let dc = &provider.data_centers[api.dc];
                let body = json!({
                    "ok": true,
                    "provider": provider.id,
                    "data_center": dc.code,
                    "environment": api.environment,
                    "method": request.method.as_str(),
                    "path": request.path,
                });
                return Answer::new(
                    json_reply(StatusCode::OK, &body),
                    format!(
                        "api call for {} at data center {} ({})",
                        provider.id, dc.code, api.environment
                    ),
                );
            }
            Err(reason) => refusals.push(reason),
        }
    }
    refusals.dedup();
    let reason = refusals.join("; or ");
    Answer::new(
        json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "unauthorized", "message": reason }),
        ),
        format!("api 401: {reason}"),
    )
}

fn fault(failure: ApiFailure) -> Answer {
    let (status, name) = match failure {
        ApiFailure::Unauthorized => (StatusCode::UNAUTHORIZED, "api-401-once"),
        ApiFailure::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "api-429-once"),
        ApiFailure::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "api-500-once"),
    };
    let mut reply = json_reply(
        status,
        &json!({ "error": status.canonical_reason().unwrap_or("error"), "fault": name }),
    );
    if failure == ApiFailure::RateLimited {
        reply.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from(RETRY_AFTER_SECS),
        );
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
