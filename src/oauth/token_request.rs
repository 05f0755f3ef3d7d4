//! Token requests (Nango's `TWO_STEP`): the connection's credentials are traded for a
//! short-lived token by a request the definition describes (method, URL, headers, parameters
//! and body encoding, all filled by
//! [`crate::resolve::connection::fill_token_request`]), and the token, its lifetime and a
//! refresh token are read at the paths `token.response` names.
//!
//! When the token expires: with a refresh token (the definition names where the answer holds
//! one, and the provider sent it), the refresh request is made (`refresh_url`,
//! `refresh_params`, `refresh_headers`, the refresh token as `refresh_token` unless the
//! parameters place it); without one, or when the refresh is refused, the token request is
//! simply made again with the stored credentials.

use indexmap::IndexMap;
use serde_json::Value;

use super::authorize::select_data_center;
use super::error::OAuthError;
use super::filled_request::{origin, send_filled};
use super::summary::summarise;
use super::token::{TokenSet, unix_now};
use super::token_answer::{self, IssuedToken};
use crate::resolve::connection::{ConnectionValues, CredentialValues, fill_token_request};
use crate::resolve::table::ResolvedProvider;

/// Obtains a token with `credentials` at data center `data_center` (the default one when
/// `None`).
pub async fn obtain(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    data_center: Option<&str>,
    values: &ConnectionValues,
    credentials: &CredentialValues,
) -> Result<TokenSet, OAuthError> {
    let dc = select_data_center(provider, data_center)?;
    let request = fill_token_request(provider, &dc.code, values, credentials, false)?;
    let answer = send(http, "token request", &request, Vec::new(), credentials).await?;
    token_set(
        provider,
        &dc.code,
        origin(request.url.expose()),
        answer,
        None,
    )
}

/// A new token for a connection whose token expired (or was refused): the refresh request
/// when the connection has a refresh token, else (or when that is refused) the token request
/// again.
pub async fn refresh(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    values: &ConnectionValues,
    credentials: &CredentialValues,
    tokens: &TokenSet,
) -> Result<TokenSet, OAuthError> {
    let spec = provider.require(provider.token_request.as_ref(), "token request")?;
    if let (Some(_), Some(refresh_token)) = (&spec.response.refresh_token, &tokens.refresh_token) {
        let request = fill_token_request(provider, &tokens.data_center, values, credentials, true)?;
        let extra = vec![(
            "refresh_token".to_owned(),
            refresh_token.expose().to_owned(),
        )];
        match send(http, "refresh request", &request, extra, credentials).await {
            Ok(answer) => {
                return token_set(
                    provider,
                    &tokens.data_center,
                    tokens.issuer.clone(),
                    answer,
                    Some(tokens),
                );
            }
            Err(OAuthError::Refused { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    obtain(
        http,
        provider,
        Some(&tokens.data_center),
        values,
        credentials,
    )
    .await
}

/// What a token request answered: a 2xx answer's JSON (or its text, for a provider that
/// answers the bare token); a refusal summarised without the credentials sent.
async fn send(
    http: &reqwest::Client,
    endpoint: &'static str,
    request: &crate::resolve::connection::TokenRequest,
    extra: Vec<(String, String)>,
    credentials: &CredentialValues,
) -> Result<Value, OAuthError> {
    let secrets: Vec<String> = credentials
        .names()
        .filter_map(|name| credentials.get(name))
        .map(str::to_owned)
        .chain(extra.iter().map(|(_, value)| value.clone()))
        .collect();
    let (status, body) = send_filled(http, endpoint, request, extra, |builder| builder).await?;
    if status >= 500 {
        return Err(OAuthError::ServerError { endpoint, status });
    }
    if status == 429 {
        return Err(OAuthError::RateLimited {
            endpoint,
            description: None,
        });
    }
    if !(200..300).contains(&status) {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let summary = summarise(&body, &secrets);
        return Err(OAuthError::Refused {
            endpoint,
            status,
            summary: (!summary.is_empty()).then_some(summary),
        });
    }
    Ok(serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).trim().to_owned())))
}

/// The token set of an answer, read at the definition's paths. With `previous`, a refresh
/// token the answer omits is kept.
fn token_set(
    provider: &ResolvedProvider,
    data_center: &str,
    issuer: String,
    answer: Value,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, OAuthError> {
    let spec = provider.require(provider.token_request.as_ref(), "token request")?;
    let IssuedToken {
        access_token,
        refresh_token,
        expires_at,
    } = token_answer::token_request("token request", &answer, &spec.response, unix_now())?;
    let metadata: IndexMap<String, Value> = provider
        .token
        .iter()
        .flat_map(|exchange| &exchange.token_response_metadata)
        .filter_map(|name| Some((name.clone(), token_answer::lookup(&answer, name)?.clone())))
        .collect();
    Ok(TokenSet {
        access_token,
        refresh_token: refresh_token.or_else(|| previous?.refresh_token.clone()),
        token_type: None,
        scope: None,
        expires_at,
        data_center: data_center.to_owned(),
        issuer,
        metadata,
    })
}
