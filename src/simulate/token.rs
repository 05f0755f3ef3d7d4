//! The token side: code exchange, refresh and revocation (RFC 7009), each as the definition
//! describes it (client authentication method and the DC's client id, PKCE, body encoding,
//! extra token and refresh parameters, where the revoked token travels), and answered in the
//! provider's dialect: the declared response metadata (`api_domain` is the DC's production API
//! base), the runtime values a token answer carries (Salesforce's `instance_url`, see
//! [`super::connection`]), `scope`, `expires_in`.
//!
//! A code or token is only good at the data center that issued it: presented to another DC's
//! endpoint it is unknown there (`invalid_grant`), exactly as real multi-DC servers behave.
//! Errors are RFC 6749's (HTTP 400/401, `invalid_grant`, `invalid_client`) unless the
//! `error-with-200` fault asks for Zoho's dialect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper::StatusCode;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Shared;
use super::routes::{Endpoint, RouteTarget};
use super::server::{Answer, Received, json as json_reply, raw_json, text};
use super::state::{ServerState, TokenGrant, find};
use crate::definition::types::{ParameterPlacement, TokenAuthMethod, TokenBody};
use crate::oauth::secret::constant_time_eq;
use crate::resolve::table::ResolvedProvider;

/// How long a code can be redeemed (Zoho documents one to three minutes).
pub const CODE_LIFETIME_SECS: u64 = 120;
/// The window of the `rate-limit-after:N` fault (Zoho: ten refreshes per ten minutes).
pub const REFRESH_WINDOW_SECS: u64 = 600;
/// Lifetime of an issued access token.
pub const ACCESS_TOKEN_LIFETIME_SECS: u64 = 3600;

/// A failed token-side request.
#[derive(Debug, Clone)]
enum TokenFailure {
    /// Wrong or missing client id, or the wrong authentication method.
    Client(&'static str),
    /// Wrong client secret.
    Secret,
    /// Unknown, used, expired, foreign or revoked code or token.
    Grant(&'static str),
    /// The redirect URI differs from the authorization request's.
    RedirectUri,
    /// A grant type this endpoint does not serve.
    GrantType,
    /// The request is not as the definition describes it (body encoding, extra parameters).
    Request(String),
}

impl TokenFailure {
    /// HTTP status and `error` name: RFC 6749's, or Zoho's with `error-with-200`.
    fn dialect(&self, zoho: bool) -> (StatusCode, &'static str) {
        let (status, rfc, zoho_name) = match self {
            TokenFailure::Client(_) => {
                (StatusCode::UNAUTHORIZED, "invalid_client", "invalid_client")
            }
            TokenFailure::Secret => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "invalid_client_secret",
            ),
            TokenFailure::Grant(_) => (StatusCode::BAD_REQUEST, "invalid_grant", "invalid_code"),
            TokenFailure::RedirectUri => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "invalid_redirect_uri",
            ),
            TokenFailure::GrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "unsupported_grant_type",
            ),
            TokenFailure::Request(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "invalid_request",
            ),
        };
        if zoho {
            (StatusCode::OK, zoho_name)
        } else {
            (status, rfc)
        }
    }

    fn reason(&self) -> &str {
        match self {
            TokenFailure::Client(reason) | TokenFailure::Grant(reason) => reason,
            TokenFailure::Request(reason) => reason,
            TokenFailure::Secret => "wrong client secret",
            TokenFailure::RedirectUri => "redirect_uri differs from the authorization request's",
            TokenFailure::GrantType => "unsupported grant_type",
        }
    }

    fn answer(self, state: &ServerState) -> Answer {
        let (status, name) = self.dialect(state.faults.error_with_200);
        Answer::new(
            json_reply(status, &json!({ "error": name })),
            format!("error {name}: {}", self.reason()),
        )
    }
}

/// Whether `targets` serve `endpoint` for this provider's DC.
fn serves(targets: &[RouteTarget], endpoint: Endpoint, provider: usize, dc: usize) -> bool {
    targets
        .iter()
        .any(|t| t.endpoint == endpoint && t.provider == provider && t.dc == dc)
}

/// The target at this host and path that authenticates a request for `endpoint`: the one of
/// the grant's provider when there is one (its DC here, which for a foreign grant is not the
/// grant's DC), else the first.
fn local(targets: &[RouteTarget], endpoint: Endpoint, provider: Option<usize>) -> RouteTarget {
    let serving = || targets.iter().filter(|t| t.endpoint == endpoint);
    *serving()
        .find(|t| Some(t.provider) == provider)
        .or_else(|| serving().next())
        .unwrap_or(&targets[0])
}

/// Checks client authentication by the provider's method: `client_secret_post` wants the id
/// and secret in the form and no Basic header; `client_secret_basic` the reverse.
fn authenticate(
    shared: &Shared,
    request: &Received,
    provider: usize,
    dc: usize,
) -> Result<(), TokenFailure> {
    let provider = &shared.providers[provider];
    let dc = &provider.data_centers[dc];
    let form_secret = request.param("client_secret");
    let method = provider
        .token
        .as_ref()
        .and_then(|token| token.token_auth_method)
        .unwrap_or_default();
    let (id, secret) = match method {
        TokenAuthMethod::ClientSecretPost => {
            if request.basic_auth.is_some() {
                return Err(TokenFailure::Client(
                    "Basic authentication, but the method is client_secret_post",
                ));
            }
            (request.param("client_id"), form_secret)
        }
        TokenAuthMethod::ClientSecretBasic => {
            if form_secret.is_some() {
                return Err(TokenFailure::Client(
                    "client_secret in the form, but the method is client_secret_basic",
                ));
            }
            match &request.basic_auth {
                Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
                None => return Err(TokenFailure::Client("no Basic authentication")),
            }
        }
    };
    if id.is_none() || id != shared.credentials.client_id_for(dc).ok() {
        return Err(TokenFailure::Client("unknown client_id"));
    }
    let expected = shared
        .credentials
        .secret_for(dc)
        .map_err(|_| TokenFailure::Secret)?;
    match secret {
        Some(secret) if constant_time_eq(secret, expected.expose()) => Ok(()),
        _ => Err(TokenFailure::Secret),
    }
}

/// Checks what the definition says of a token or refresh request beyond OAuth itself: the
/// body encoding (`token.body`) and the extra parameters (`token.params`,
/// `token.refresh_params`, with the connection's values filled in), when it declares them.
fn as_described(
    shared: &Shared,
    request: &Received,
    here: RouteTarget,
    endpoint: Endpoint,
) -> Result<(), TokenFailure> {
    let provider = &shared.providers[here.provider];
    if request.unreadable_json {
        return Err(TokenFailure::Request(
            "the JSON body is not an object of parameters".to_owned(),
        ));
    }
    let token_body = provider
        .token
        .as_ref()
        .map(|token| token.token_body)
        .unwrap_or_default();
    if request.body.is_some_and(|body| body != token_body) {
        let expected = match token_body {
            TokenBody::Form => "form-encoded (application/x-www-form-urlencoded)",
            TokenBody::Json => "JSON (application/json)",
            TokenBody::Query => "empty, with the parameters in the query string",
        };
        return Err(TokenFailure::Request(format!(
            "the definition says the body is {expected}"
        )));
    }
    let served = &shared.served[here.provider][here.dc];
    let extra = match endpoint {
        Endpoint::Refresh => &served.refresh_params,
        _ => &served.token_params,
    };
    for (name, value) in extra {
        if request.param(name) != Some(value.as_str()) {
            return Err(TokenFailure::Request(format!("expected {name}={value}")));
        }
    }
    Ok(())
}

/// `grant_type=authorization_code` (or any other but refresh).
pub(crate) fn exchange(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    targets: &[RouteTarget],
) -> Answer {
    let code = request.param("code").unwrap_or_default();
    let issued = state.codes.get(code).map(|g| (g.provider, g.dc));
    let here = local(targets, Endpoint::Token, issued.map(|(p, _)| p));
    if let Err(failure) = authenticate(shared, request, here.provider, here.dc) {
        return failure.answer(state);
    }
    if request.param("grant_type") != Some("authorization_code") {
        return TokenFailure::GrantType.answer(state);
    }
    if let Err(failure) = as_described(shared, request, here, Endpoint::Token) {
        return failure.answer(state);
    }
    let now = state.clock.now();
    let Some(grant) = state.codes.get_mut(code) else {
        return TokenFailure::Grant("unknown code").answer(state);
    };
    let (provider, dc) = (grant.provider, grant.dc);
    let failure = if !serves(targets, Endpoint::Token, provider, dc) {
        Some(TokenFailure::Grant("code issued by another data center"))
    } else if grant.used {
        Some(TokenFailure::Grant("code already used"))
    } else if now > grant.issued_at + CODE_LIFETIME_SECS {
        Some(TokenFailure::Grant("code expired"))
    } else if request.param("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        Some(TokenFailure::RedirectUri)
    } else if let Some(challenge) = &grant.challenge {
        let verifier = request.param("code_verifier").unwrap_or_default();
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        (!constant_time_eq(&computed, challenge)).then_some(TokenFailure::Grant(
            "PKCE code_verifier does not match the challenge",
        ))
    } else {
        None
    };
    if let Some(failure) = failure {
        return failure.answer(state);
    }
    grant.used = true;
    let scope = grant.scope.clone();
    if let Some(answer) = body_fault(state) {
        return answer;
    }
    let refresh = (!state.faults.no_refresh_token).then(|| {
        let token = state.issue("sim-rt");
        state
            .refresh_tokens
            .insert(token.clone(), TokenGrant::new(provider, dc, &scope));
        token
    });
    let body = token_answer(shared, state, provider, dc, &scope, refresh);
    Answer::new(
        json_reply(StatusCode::OK, &body),
        format!(
            "tokens issued for {} at data center {}",
            shared.providers[provider].id, shared.providers[provider].data_centers[dc].code
        ),
    )
}

/// `grant_type=refresh_token`.
pub(crate) fn refresh(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    targets: &[RouteTarget],
) -> Answer {
    let token = request.param("refresh_token").unwrap_or_default();
    let issued_to = state.refresh_tokens.get(token).map(|g| g.provider);
    let here = local(targets, Endpoint::Refresh, issued_to);
    if let Err(failure) = authenticate(shared, request, here.provider, here.dc) {
        return failure.answer(state);
    }
    if let Err(failure) = as_described(shared, request, here, Endpoint::Refresh) {
        return failure.answer(state);
    }
    let now = state.clock.now();
    let limit = state.faults.rate_limit_after;
    let Some(grant) = state.refresh_tokens.get_mut(token) else {
        return TokenFailure::Grant("unknown refresh token").answer(state);
    };
    let (provider, dc) = (grant.provider, grant.dc);
    if grant.revoked {
        return TokenFailure::Grant("refresh token revoked").answer(state);
    }
    if !serves(targets, Endpoint::Refresh, provider, dc) {
        return TokenFailure::Grant("refresh token of another data center").answer(state);
    }
    grant.refreshes.retain(|t| now < t + REFRESH_WINDOW_SECS);
    if let Some(limit) = limit {
        if grant.refreshes.len() >= limit as usize {
            return Answer::new(
                json_reply(
                    StatusCode::OK,
                    &json!({
                        "error_description": "You have made too many requests continuously. Please try again after some time.",
                        "error": "Access Denied",
                        "status": "failure",
                    }),
                ),
                format!("fault: rate-limit-after:{limit}"),
            );
        }
    }
    grant.refreshes.push(now);
    let scope = grant.scope.clone();
    if let Some(answer) = body_fault(state) {
        return answer;
    }
    let rotated = state.faults.rotate_refresh_token.then(|| {
        if let Some(old) = state.refresh_tokens.get_mut(token) {
            old.revoked = true;
        }
        let token = state.issue("sim-rt");
        state
            .refresh_tokens
            .insert(token.clone(), TokenGrant::new(provider, dc, &scope));
        token
    });
    let outcome = if rotated.is_some() {
        "refreshed (refresh token rotated)"
    } else {
        "refreshed"
    };
    let body = token_answer(shared, state, provider, dc, &scope, rotated);
    Answer::new(json_reply(StatusCode::OK, &body), outcome)
}

/// RFC 7009 revocation: the token from the query or the form, as the definition places it,
/// with client authentication when the definition asks for it. HTTP 200 whether or not the
/// token was known (RFC 7009 2.2).
pub(crate) fn revoke(
    shared: &Shared,
    state: &mut ServerState,
    request: &Received,
    targets: &[RouteTarget],
) -> Answer {
    let target = local(targets, Endpoint::Revoke, None);
    let provider = &shared.providers[target.provider];
    let Some(spec) = provider
        .token
        .as_ref()
        .and_then(|token| token.revoke.as_ref())
    else {
        return Answer::new(text(StatusCode::NOT_FOUND, "no revocation"), "not found");
    };
    if spec.client_auth {
        if let Err(failure) = authenticate(shared, request, target.provider, target.dc) {
            return failure.answer(state);
        }
    }
    let token = match spec.token_in {
        ParameterPlacement::Query => find(&request.query, "token"),
        ParameterPlacement::Form => find(&request.form, "token"),
    };
    let Some(token) = token else {
        let (status, name) = if state.faults.error_with_200 {
            (StatusCode::OK, "invalid_request")
        } else {
            (StatusCode::BAD_REQUEST, "invalid_request")
        };
        return Answer::new(
            json_reply(status, &json!({ "error": name })),
            format!("error {name}: no token in the {}", placement(spec.token_in)),
        );
    };
    let here = |grant: &TokenGrant| serves(targets, Endpoint::Revoke, grant.provider, grant.dc);
    let outcome = if let Some(grant) = state.refresh_tokens.get_mut(token).filter(|g| here(g)) {
        grant.revoked = true;
        "refresh token revoked"
    } else if let Some(grant) = state.access_tokens.get_mut(token).filter(|g| here(g)) {
        grant.revoked = true;
        "access token revoked"
    } else {
        "unknown token (answered 200 as RFC 7009 asks)"
    };
    Answer::new(text(StatusCode::OK, ""), outcome)
}

fn placement(placement: ParameterPlacement) -> &'static str {
    match placement {
        ParameterPlacement::Query => "query string",
        ParameterPlacement::Form => "form body",
    }
}

/// The `malformed-json` fault's answer, when it is on.
fn body_fault(state: &ServerState) -> Option<Answer> {
    state.faults.malformed_json.then(|| {
        Answer::new(
            raw_json(StatusCode::OK, "{\"access_token\": \"tru".to_owned()),
            "fault: malformed-json",
        )
    })
}

impl TokenGrant {
    fn new(provider: usize, dc: usize, scope: &str) -> TokenGrant {
        TokenGrant {
            provider,
            dc,
            scope: scope.to_owned(),
            refreshes: Vec::new(),
            revoked: false,
        }
    }
}

/// A successful token answer in the provider's dialect.
fn token_answer(
    shared: &Shared,
    state: &mut ServerState,
    provider: usize,
    dc: usize,
    scope: &str,
    refresh_token: Option<String>,
) -> Value {
    let access = state.issue("sim-at");
    state
        .access_tokens
        .insert(access.clone(), TokenGrant::new(provider, dc, scope));
    let resolved = &shared.providers[provider];
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access));
    if let Some(refresh) = refresh_token {
        body.insert("refresh_token".into(), json!(refresh));
    }
    body.insert("token_type".into(), json!("Bearer"));
    body.insert(
        "expires_in".into(),
        if state.faults.expires_in_string {
            json!(ACCESS_TOKEN_LIFETIME_SECS.to_string())
        } else {
            json!(ACCESS_TOKEN_LIFETIME_SECS)
        },
    );
    if !scope.is_empty() {
        body.insert("scope".into(), json!(scope));
    }
    let runtime = &shared.served[provider][dc].token_response;
    for (name, value) in runtime {
        body.insert(name.clone(), json!(value));
    }
    let metadata = resolved
        .token
        .iter()
        .flat_map(|t| &t.token_response_metadata);
    for name in metadata {
        if !body.contains_key(name) {
            body.insert(name.clone(), metadata_value(resolved, dc, name));
        }
    }
    Value::Object(body)
}

/// The value of a declared response-metadata field: `api_domain` is the DC's production API
/// base (as Zoho sends it); a field the simulator knows nothing about gets a recognisable
/// placeholder naming the field and DC.
fn metadata_value(provider: &ResolvedProvider, dc: usize, name: &str) -> Value {
    let dc = &provider.data_centers[dc];
    match name {
        "api_domain" => dc
            .api_base_urls
            .get("production")
            .or_else(|| dc.api_base_urls.values().next())
            .map_or(Value::Null, |url| json!(url)),
        _ => json!(format!("simulated {name} of {}", dc.code)),
    }
}
