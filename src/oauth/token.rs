//! The token set, the authorization-code exchange, and the reading of token-endpoint answers
//! (shared with refresh and revoke).
//!
//! Reading an answer is strict: any `error` field is a failure whatever the HTTP status (Zoho
//! answers HTTP 200 with `{"error":"invalid_code"}`), a 5xx is a server error, a body that is
//! not the expected JSON is a malformed response. A code exchange is never retried: codes are
//! single use, and a retry after a lost answer would only burn the code.

use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::authorize::{PendingAuthorization, parse_endpoint};
use super::callback::VerifiedCallback;
use super::credentials::{Credentials, authenticate};
use super::error::OAuthError;
use super::http::send;
use super::secret::{AccessToken, RefreshToken};
use crate::definition::types::TokenBody;
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

/// The tokens of one connection, with where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<RefreshToken>,
    /// `token_type` as returned (usually `Bearer`).
    pub token_type: Option<String>,
    /// `scope` as returned (the granted scopes, in the provider's own format).
    pub scope: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch (from `expires_in`).
    pub expires_at: Option<u64>,
    /// The data center the tokens belong to (its code in the resolved table).
    pub data_center: String,
    /// That data center's authorization server (issuer); every later request goes there.
    pub issuer: String,
    /// The response fields the provider declares worth keeping (Zoho: `api_domain`).
    pub metadata: IndexMap<String, Value>,
}

impl TokenSet {
    /// Whether the access token expires within `margin_secs` of `now` (seconds since the
    /// epoch). A token without an expiry is taken as valid.
    pub fn expires_within(&self, now: u64, margin_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now.saturating_add(margin_secs))
    }
}

/// The current time in seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Exchanges a verified callback's code for tokens at its data center's token URL.
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &Credentials,
    pending: &PendingAuthorization,
    callback: VerifiedCallback,
) -> Result<TokenSet, OAuthError> {
    // Callback values (checked by `verify_callback`) go into this request's parameters too.
    let filled;
    let provider = if callback.runtime.is_empty() {
        provider
    } else {
        filled = crate::resolve::connection::fill(provider, &callback.runtime)
            .map_err(|error| OAuthError::InvalidCallback(error.to_string()))?;
        &filled
    };
    let dc = &callback.data_center;
    let mut form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", callback.code.expose().to_owned()),
        ("redirect_uri", pending.redirect_uri.clone()),
    ];
    if let Some(verifier) = &pending.pkce_verifier {
        form.push(("code_verifier", verifier.expose().to_owned()));
    }
    let body = post_token_request(
        http,
        provider,
        credentials,
        dc,
        TokenEndpoint {
            url: &provider
                .require(dc.token.as_ref(), "token endpoint")?
                .token_url,
            name: "token",
            extra: &provider
                .require(provider.token.as_ref(), "token endpoint")?
                .token_params,
        },
        form,
    )
    .await?;
    let mut tokens = token_set_from("token", provider, dc, body, None)?;
    // Kept with the connection, so later requests (refresh, revoke) can be filled again.
    for (name, value) in &callback.runtime {
        tokens
            .metadata
            .insert(name.clone(), Value::String(value.clone()));
    }
    Ok(tokens)
}

/// A token-type endpoint (token or refresh) and the provider's extra parameters for it.
pub(crate) struct TokenEndpoint<'a> {
    /// The endpoint URL from the resolved table.
    pub(crate) url: &'a str,
    /// `token` or `refresh`, for errors.
    pub(crate) name: &'static str,
    /// The provider's extra parameters (`token_params` or `refresh_params`). They never
    /// replace a parameter the engine sends itself.
    pub(crate) extra: &'a IndexMap<String, String>,
}

/// Sends a POST (form or JSON, as the provider says) with client authentication to a
/// token-style endpoint and returns the parsed JSON object of a successful answer.
pub(crate) async fn post_token_request(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &Credentials,
    dc: &ResolvedDataCenter,
    target: TokenEndpoint<'_>,
    mut form: Vec<(&'static str, String)>,
) -> Result<Map<String, Value>, OAuthError> {
    let endpoint = target.name;
    let exchange = provider.require(provider.token.as_ref(), "token endpoint")?;
    let url = parse_endpoint(target.url)?;
    let secret = credentials.secret_for(dc)?;
    let request = http.post(url.clone());
    let request = authenticate(
        request,
        &mut form,
        exchange.token_auth_method.unwrap_or_default(),
        credentials.client_id_for(dc)?,
        secret,
    );
    let mut fields: IndexMap<String, String> = form
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    for (name, value) in target.extra {
        fields.entry(name.clone()).or_insert_with(|| value.clone());
    }
    let request = match exchange.token_body {
        TokenBody::Form => request.form(&fields),
        TokenBody::Json => request.json(&fields),
        TokenBody::Query => request.query(&fields),
    };
    let request = request.header(reqwest::header::ACCEPT, "application/json");
    let (status, body) = send(request, endpoint, &url).await?;
    read_answer(endpoint, status, &body)
}

/// Classifies an endpoint's answer: server error, OAuth error (whatever the status), rate
/// limit, other non-success status, malformed body, or the JSON object of a success.
pub(crate) fn read_answer(
    endpoint: &'static str,
    status: u16,
    body: &[u8],
) -> Result<Map<String, Value>, OAuthError> {
    if status >= 500 {
        return Err(OAuthError::ServerError { endpoint, status });
    }
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    if let Some(object) = &parsed {
        if let Some(error) = object.get("error") {
            let error = match error {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let description = object
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            return Err(if is_rate_limit(status, &error) {
                OAuthError::RateLimited {
                    endpoint,
                    description,
                }
            } else {
                OAuthError::Rejected {
                    endpoint,
                    status,
                    error,
                    description,
                }
            });
        }
    }
    if status == 429 {
        return Err(OAuthError::RateLimited {
            endpoint,
            description: None,
        });
    }
    if !(200..300).contains(&status) {
        return Err(OAuthError::UnexpectedStatus { endpoint, status });
    }
    parsed.ok_or_else(|| OAuthError::MalformedResponse {
        endpoint,
        reason: "the body is not a JSON object".into(),
    })
}

/// Throttling: HTTP 429, or Zoho's `"error":"Access Denied"` (sent with HTTP 200 once a
/// client passes its refresh or grant limits).
fn is_rate_limit(status: u16, error: &str) -> bool {
    status == 429 || error.eq_ignore_ascii_case("access denied")
}

/// Builds a token set from a successful token answer. With `previous`, fields the answer
/// omits (refresh token, scope, metadata) are kept from it: Zoho's refresh answer has no
/// refresh token.
pub(crate) fn token_set_from(
    endpoint: &'static str,
    provider: &ResolvedProvider,
    dc: &ResolvedDataCenter,
    mut body: Map<String, Value>,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, OAuthError> {
    let malformed = |reason: &str| OAuthError::MalformedResponse {
        endpoint,
        reason: reason.to_owned(),
    };
    let access_token = match body.remove("access_token") {
        Some(Value::String(token)) if !token.is_empty() => AccessToken::new(token),
        Some(_) => return Err(malformed("`access_token` is not a non-empty string")),
        None => return Err(malformed("no `access_token` in the answer")),
    };
    let refresh_token = match body.remove("refresh_token") {
        Some(Value::String(token)) if !token.is_empty() => Some(RefreshToken::new(token)),
        None | Some(Value::Null) => previous.and_then(|p| p.refresh_token.clone()),
        Some(_) => return Err(malformed("`refresh_token` is not a string")),
    };
    let expires_at = expires_in(&body)
        .map_err(|reason| malformed(&reason))?
        .map(|secs| unix_now().saturating_add(secs));
    let text = |body: &Map<String, Value>, name: &str| {
        body.get(name).and_then(Value::as_str).map(str::to_owned)
    };
    let mut metadata = previous.map(|p| p.metadata.clone()).unwrap_or_default();
    let exchange = provider.require(provider.token.as_ref(), "token endpoint")?;
    for name in &exchange.token_response_metadata {
        if let Some(value) = body.get(name) {
            metadata.insert(name.clone(), value.clone());
        }
    }
    Ok(TokenSet {
        access_token,
        refresh_token,
        token_type: text(&body, "token_type").or_else(|| previous?.token_type.clone()),
        scope: text(&body, "scope").or_else(|| previous?.scope.clone()),
        expires_at,
        data_center: dc.code.clone(),
        issuer: provider
            .require(dc.authorization.as_ref(), "issuer")?
            .issuer
            .clone(),
        metadata,
    })
}

/// The answer's `expires_in` in seconds: a non-negative integer, or the same written as a string
/// (several providers send `"3600"`). Anything else (`-5`, `1e30`, `3600.5`, `"abc"`) is an
/// error naming the field: dropping it would make the token look as if it never expired.
fn expires_in(body: &Map<String, Value>) -> Result<Option<u64>, String> {
    let invalid = |shown: String| {
        format!("`expires_in` is {shown}, expected a whole number of seconds such as 3600")
    };
    match body.get("expires_in") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(number.to_string())),
        Some(Value::String(text)) => {
            let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
            match text.parse::<u64>() {
                Ok(secs) if digits => Ok(Some(secs)),
                // Never quote the text itself: the field is untrusted and could be anything.
                _ => Err(invalid("a string that is not a whole number".to_owned())),
            }
        }
        Some(other) => Err(invalid(format!("a JSON {}", json_kind(other)))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_field_fails_whatever_the_status() {
        let error = read_answer("token", 200, br#"{"error":"invalid_code"}"#).unwrap_err();
        assert!(matches!(
            error,
            OAuthError::Rejected { status: 200, ref error, .. } if error == "invalid_code"
        ));
        let error = read_answer(
            "token",
            400,
            br#"{"error":"invalid_grant","error_description":"expired"}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the token endpoint rejected the request: `invalid_grant`: expired"
        );
    }

    #[test]
    fn statuses_and_bodies_map_to_distinct_errors() {
        assert!(matches!(
            read_answer("token", 503, b"{}"),
            Err(OAuthError::ServerError { status: 503, .. })
        ));
        assert!(matches!(
            read_answer("token", 200, b"<html>"),
            Err(OAuthError::MalformedResponse { .. })
        ));
        assert!(matches!(
            read_answer("token", 404, b"not found"),
            Err(OAuthError::UnexpectedStatus { status: 404, .. })
        ));
        assert!(matches!(
            read_answer("refresh", 200, br#"{"error":"Access Denied"}"#),
            Err(OAuthError::RateLimited { .. })
        ));
        assert!(read_answer("token", 200, br#"{"access_token":"x"}"#).is_ok());
    }

    fn expiry_of(expires_in: Value) -> Result<Option<u64>, OAuthError> {
        let mut body = Map::new();
        body.insert("access_token".into(), Value::String("at".into()));
        body.insert("expires_in".into(), expires_in);
        let provider: ResolvedProvider =
            crate::catalog::load(&[
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/gitlab.yaml")
            ])
            .unwrap()
            .providers
            .remove(0)
            .resolved;
        let dc = provider.data_centers[0].clone();
        token_set_from("token", &provider, &dc, body, None).map(|set| set.expires_at)
    }

    #[test]
    fn expires_in_as_an_integer_or_an_integer_string_sets_the_expiry() {
        let before = unix_now();
        for value in [serde_json::json!(3600), serde_json::json!("3600")] {
            let at = expiry_of(value.clone()).unwrap().expect("an expiry");
            assert!(
                (before + 3600..=unix_now() + 3600).contains(&at),
                "{value}: {at}"
            );
        }
    }

    #[test]
    fn any_other_expires_in_is_an_error_naming_the_field_never_no_expiry() {
        for value in [
            serde_json::json!(-5),
            serde_json::json!(1e30),
            serde_json::json!(3600.5),
            serde_json::json!("abc"),
            serde_json::json!("-5"),
            serde_json::json!("+5"),
            serde_json::json!(""),
            serde_json::json!(true),
            serde_json::json!([3600]),
        ] {
            match expiry_of(value.clone()) {
                Err(OAuthError::MalformedResponse { reason, .. }) => {
                    assert!(reason.contains("`expires_in`"), "{value}: {reason}")
                }
                other => panic!("{value}: expected an error, got {other:?}"),
            }
        }
    }
}
