//! OAuth 2.0 client credentials (RFC 6749 section 4.4): the client's own id and secret buy a
//! token at the data center's token URL. The request is the one the resolved table fills
//! (parameters such as `grant_type` and `audience` as the definition writes them, its body
//! encoding), with the client authenticated as `token.auth_method` says and the scopes asked
//! for. There is no refresh token: a new token is obtained the same way. A token whose answer
//! names no lifetime lasts 55 minutes.

use indexmap::IndexMap;
use serde_json::Value;

use super::authorize::{checked_scopes, select_data_center};
use super::credentials::{Credentials, authenticate};
use super::error::OAuthError;
use super::filled_request::{origin, send_filled};
use super::token::{TokenSet, read_answer, unix_now};
use super::token_answer;
use crate::definition::types::TokenAuthMethod;
use crate::resolve::connection::{ConnectionValues, CredentialValues, fill_token_request};
use crate::resolve::table::ResolvedProvider;

/// Obtains a token for `client` at data center `data_center` (the default one when `None`),
/// with the connection's `values` and the `scopes` asked for (the provider's defaults when
/// empty).
pub async fn obtain(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    client: &Credentials,
    data_center: Option<&str>,
    values: &ConnectionValues,
    scopes: &[String],
) -> Result<TokenSet, OAuthError> {
    let dc = select_data_center(provider, data_center)?;
    let exchange = provider.require(provider.token.as_ref(), "token endpoint")?;
    let request = fill_token_request(provider, &dc.code, values, &CredentialValues::new(), false)?;
    let scopes = checked_scopes(provider, scopes)?;
    let mut extra = Vec::new();
    if !scopes.is_empty() {
        extra.push(("scope".to_owned(), scopes.join(" ")));
    }
    let client_id = client.client_id_for(dc)?;
    let secret = client.secret_for(dc)?;
    let method = exchange.token_auth_method.unwrap_or_default();
    if method == TokenAuthMethod::ClientSecretPost {
        extra.push(("client_id".to_owned(), client_id.to_owned()));
        extra.push(("client_secret".to_owned(), secret.expose().to_owned()));
    }
    let (status, body) = send_filled(http, "token", &request, extra, |builder| match method {
        TokenAuthMethod::ClientSecretBasic => {
            authenticate(builder, &mut Vec::new(), method, client_id, secret)
        }
        TokenAuthMethod::ClientSecretPost => builder,
    })
    .await?;
    let answer = read_answer("token", status, &body)?;
    let now = unix_now();
    let issued = token_answer::client_credentials("token", &Value::Object(answer.clone()), now)?;
    let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_owned);
    let metadata: IndexMap<String, Value> = exchange
        .token_response_metadata
        .iter()
        .filter_map(|name| Some((name.clone(), answer.get(name)?.clone())))
        .collect();
    Ok(TokenSet {
        access_token: issued.access_token,
        refresh_token: None,
        token_type: text("token_type"),
        scope: text("scope"),
        expires_at: issued.expires_at,
        data_center: dc.code.clone(),
        issuer: origin(request.url.expose()),
        metadata,
    })
}
