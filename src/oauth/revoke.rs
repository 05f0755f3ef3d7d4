//! Token revocation (RFC 7009): the token and its type hint, in the form body or the query
//! string as the definition says (Zoho documents `?token=`), with client authentication only
//! when the definition says the server needs it.

use super::authorize::parse_endpoint;
use super::authorize::select_data_center;
use super::credentials::{Credentials, authenticate};
use super::error::OAuthError;
use super::http::send;
use super::token::{TokenSet, read_answer};
use crate::definition::types::ParameterPlacement;
use crate::resolve::table::ResolvedProvider;

/// Which token was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedToken {
    /// The refresh token (and with it, at most providers, its access tokens).
    Refresh,
    /// The access token (the connection had no refresh token).
    Access,
}

/// Revokes the connection's refresh token, or its access token when it has none.
pub async fn revoke(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &Credentials,
    tokens: &TokenSet,
) -> Result<RevokedToken, OAuthError> {
    let exchange = provider.require(provider.token.as_ref(), "token endpoint")?;
    let spec = exchange
        .revoke
        .as_ref()
        .ok_or_else(|| OAuthError::RevocationUnsupported(provider.id.clone()))?;
    let dc = select_data_center(provider, Some(&tokens.data_center))?;
    let revoke_url = provider
        .require(dc.token.as_ref(), "token endpoint")?
        .revoke_url
        .as_deref()
        .ok_or_else(|| OAuthError::RevocationUnsupported(provider.id.clone()))?;
    let (kind, token, hint) = match &tokens.refresh_token {
        Some(token) => (RevokedToken::Refresh, token.expose(), "refresh_token"),
        None => (
            RevokedToken::Access,
            tokens.access_token.expose(),
            "access_token",
        ),
    };
    let mut url = parse_endpoint(revoke_url)?;
    let mut form: Vec<(&'static str, String)> = Vec::new();
    match spec.token_in {
        ParameterPlacement::Query => {
            url.query_pairs_mut()
                .append_pair("token", token)
                .append_pair("token_type_hint", hint);
        }
        ParameterPlacement::Form => {
            form.push(("token", token.to_owned()));
            form.push(("token_type_hint", hint.to_owned()));
        }
    }
    let mut request = http.post(url.clone());
    if spec.client_auth {
        let secret = credentials.secret_for(dc)?;
        request = authenticate(
            request,
            &mut form,
            exchange.token_auth_method.unwrap_or_default(),
            credentials.client_id_for(dc)?,
            secret,
        );
    }
    if !form.is_empty() {
        request = request.form(&form);
    }
    let (status, body) = send(request, "revoke", &url).await?;
    match read_answer("revoke", status, &body) {
        Ok(_) => Ok(kind),
        // RFC 7009: success is HTTP 200, and the body need not be JSON (often empty).
        Err(OAuthError::MalformedResponse { .. }) => Ok(kind),
        Err(error) => Err(error),
    }
}
