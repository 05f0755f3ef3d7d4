//! The token endpoints of the modes without a user at the provider: client credentials (the
//! client authenticated as `token.auth_method` says, the definition's parameters in its body
//! encoding) and token requests (the method, headers and parameters the definition fills from
//! the accepted credentials; the refresh request with a refresh token this simulator issued).
//! What is expected comes from [`super::expected`], filled by the engine's own functions.
//!
//! A success issues an access token the API then accepts; a token request's answer puts it
//! (and its lifetime, and a refresh token) at the paths `token.response` names. A refusal is
//! 401 for wrong credentials or client authentication, 400 for a request not shaped as the
//! definition says; it names what was wrong, never a value.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::Shared;
use super::reply::{Answer, Received, json as json_reply, text};
use super::routes::{Endpoint, RouteTarget};
use super::state::{ServerState, TokenGrant, find};
use super::token::{ACCESS_TOKEN_LIFETIME_SECS, authenticate};
use crate::definition::types::{AuthMode, HttpMethod, TokenBody};
use crate::oauth::secret::constant_time_eq;
use crate::resolve::connection::TokenRequest;

/// The first target at this host and path serving `endpoint` for a provider of `mode`.
pub(crate) fn target(
    shared: &Shared,
    targets: &[RouteTarget],
    endpoint: Endpoint,
    mode: AuthMode,
) -> Option<RouteTarget> {
    targets
        .iter()
        .find(|t| t.endpoint == endpoint && shared.providers[t.provider].auth_mode == mode)
        .copied()
}

fn refuse(status: StatusCode, error: &str, reason: String) -> Answer {
    Answer::new(
        json_reply(status, &json!({ "error": error, "message": reason })),
        format!("error {error}: {reason}"),
    )
}

/// The answer while the `credentials-refused` fault is in force.
fn revoked(state: &ServerState) -> Option<Answer> {
    state.faults.credentials_refused.then(|| {
        refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client or credentials were revoked (fault credentials-refused)".into(),
        )
    })
}

/// A client-credentials token request.
pub(crate) fn client_credentials(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    here: RouteTarget,
) -> Answer {
    if let Some(refused) = revoked(state) {
        return refused;
    }
    if let Err(failure) = authenticate(shared, request, here.provider, here.dc) {
        return failure.answer(state);
    }
    let Some(expected) = &shared.expected.token[here.provider][here.dc] else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no token request here".into(),
        );
    };
    if let Err(reason) = as_described(request, &expected.token, &["client_id", "client_secret"]) {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request", reason);
    }
    let scope = request.param("scope").unwrap_or_default().to_owned();
    let access = issue(state, here, &scope);
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
    });
    if !scope.is_empty() {
        body["scope"] = json!(scope);
    }
    Answer::new(
        json_reply(StatusCode::OK, &body),
        format!(
            "client-credentials token issued for {}",
            shared.providers[here.provider].id
        ),
    )
}

/// A token request, or its refresh request (`endpoint` = [`Endpoint::Refresh`]).
pub(crate) fn token_request(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    here: RouteTarget,
    endpoint: Endpoint,
) -> Answer {
    if let Some(refused) = revoked(state) {
        return refused;
    }
    let provider = &shared.providers[here.provider];
    let (Some(expected), Some(spec)) = (
        &shared.expected.token[here.provider][here.dc],
        &provider.token_request,
    ) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no token request here".into(),
        );
    };
    let refreshing = endpoint == Endpoint::Refresh;
    let described = match (&expected.refresh, refreshing) {
        (Some(refresh), true) => refresh,
        _ => &expected.token,
    };
    if let Err(reason) = as_described(request, described, &["refresh_token"]) {
        let status = if reason.contains("header") || reason.contains("parameter `") {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        return refuse(status, "invalid_credentials", reason);
    }
    if refreshing {
        let token = request.param("refresh_token").unwrap_or_default();
        let known = state.refresh_tokens.get(token).is_some_and(|grant| {
            grant.provider == here.provider && grant.dc == here.dc && !grant.revoked
        });
        if !known {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_grant",
                "unknown refresh token".into(),
            );
        }
    }
    let access = issue(state, here, "");
    let refresh = spec.response.refresh_token.as_ref().map(|path| {
        let token = state.issue("sim-rt");
        state
            .refresh_tokens
            .insert(token.clone(), TokenGrant::new(here.provider, here.dc, ""));
        (path.clone(), token)
    });
    let outcome = format!(
        "{} for {}",
        if refreshing {
            "token refreshed"
        } else {
            "token issued"
        },
        provider.id
    );
    if spec.response.token.is_empty() {
        return Answer::new(text(StatusCode::OK, &access), outcome);
    }
    let mut body = Value::Object(Map::new());
    place(&mut body, &spec.response.token, json!(access));
    if let Some(path) = &spec.response.expires_in {
        place(&mut body, path, json!(ACCESS_TOKEN_LIFETIME_SECS));
    } else if let Some(path) = &spec.response.expires_at {
        place(
            &mut body,
            path,
            json!(state.clock.now() + ACCESS_TOKEN_LIFETIME_SECS),
        );
    }
    if let Some((path, token)) = refresh {
        place(&mut body, &path, json!(token));
    }
    Answer::new(json_reply(StatusCode::OK, &body), outcome)
}

/// A new access token for this provider and data center, remembered as issued.
fn issue(state: &mut ServerState, here: RouteTarget, scope: &str) -> String {
    let access = state.issue("sim-at");
    state.access_tokens.insert(
        access.clone(),
        TokenGrant::new(here.provider, here.dc, scope),
    );
    access
}

/// Sets `value` at a dot-separated path, creating the objects on the way.
fn place(body: &mut Value, path: &str, value: Value) {
    let mut current = body;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let Value::Object(object) = current else {
            return;
        };
        if keys.peek().is_none() {
            object.insert(key.to_owned(), value);
            return;
        }
        current = object
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Whether `request` is `expected`: its method, its URL's query parameters, its headers, and
/// its parameters where the body encoding puts them (`engine_params` are the engine's own,
/// checked elsewhere). The reason names what differs, never a value.
fn as_described(
    request: &Received,
    expected: &TokenRequest,
    engine_params: &[&str],
) -> Result<(), String> {
    let method = match expected.method {
        HttpMethod::Get => hyper::Method::GET,
        HttpMethod::Post => hyper::Method::POST,
    };
    if request.method != method {
        return Err(format!("the definition says the method is {method}"));
    }
    if request.unreadable_json {
        return Err("the JSON body is not an object of parameters".to_owned());
    }
    let in_query = expected.body == TokenBody::Query || expected.method == HttpMethod::Get;
    let encoding = if in_query { None } else { Some(expected.body) };
    if request.body.is_some() && request.body != encoding {
        return Err(format!(
            "the definition says the parameters are {}",
            match encoding {
                None => "in the query string",
                Some(TokenBody::Json) => "a JSON body",
                Some(_) => "a form body",
            }
        ));
    }
    let url = url::Url::parse(expected.url.expose()).map_err(|e| e.to_string())?;
    for (name, value) in url.query_pairs() {
        match find(&request.query, &name) {
            Some(got) if constant_time_eq(got, &value) => {}
            Some(_) => return Err(format!("URL parameter `{name}` is not the expected one")),
            None => return Err(format!("URL parameter `{name}` is missing")),
        }
    }
    for (name, value) in &expected.headers {
        match request.header(name) {
            Some(got) if constant_time_eq(got, value.expose()) => {}
            Some(_) => return Err(format!("header `{name}` is not the expected one")),
            None => return Err(format!("header `{name}` is missing")),
        }
    }
    let params = if in_query {
        &request.query
    } else {
        &request.form
    };
    for (name, value) in &expected.params {
        if engine_params.contains(&name.as_str()) {
            continue;
        }
        match find(params, name) {
            Some(got) if constant_time_eq(got, value.expose()) => {}
            Some(_) => return Err(format!("parameter `{name}` is not the expected one")),
            None => return Err(format!("parameter `{name}` is missing")),
        }
    }
    Ok(())
}
