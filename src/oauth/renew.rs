//! A new token for a stored connection, whatever its mode: the refresh grant for
//! `oauth2_code` (bounded retries, [`super::refresh_tokens`]), a new client-credentials token
//! for `client_credentials`, the refresh or repeated token request for `token_request`. Modes
//! without a token (`api_key`, `basic`) have nothing to renew.

use super::credentials::Credentials;
use super::error::OAuthError;
use super::refresh::{RetryPolicy, refresh_tokens};
use super::token::TokenSet;
use super::{client_credentials, token_request};
use crate::definition::types::AuthMode;
use crate::resolve::connection::{ConnectionValues, CredentialValues};
use crate::resolve::table::ResolvedProvider;

/// Renews a connection's `tokens`. `client` is needed by the modes with a client
/// (`oauth2_code`, `client_credentials`), `credentials` by `token_request`; `values` are the
/// connection's values.
pub async fn renew(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    client: Option<&Credentials>,
    values: &ConnectionValues,
    credentials: &CredentialValues,
    tokens: &TokenSet,
) -> Result<TokenSet, OAuthError> {
    let no_client = || OAuthError::MissingClientSecret {
        key: "shared".to_owned(),
        data_center: tokens.data_center.clone(),
    };
    match provider.auth_mode {
        AuthMode::Oauth2Code => {
            let client = client.ok_or_else(no_client)?;
            refresh_tokens(http, provider, client, tokens, &RetryPolicy::default()).await
        }
        AuthMode::ClientCredentials => {
            let client = client.ok_or_else(no_client)?;
            // The scopes granted before, as far as the catalog knows them; else the defaults.
            let scopes: Vec<String> = tokens
                .scope
                .as_deref()
                .map(|scope| {
                    scope
                        .split(' ')
                        .filter(|name| provider.has_scope(name))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let mut renewed = client_credentials::obtain(
                http,
                provider,
                client,
                Some(&tokens.data_center),
                values,
                &scopes,
            )
            .await?;
            renewed.scope = renewed.scope.or_else(|| tokens.scope.clone());
            Ok(renewed)
        }
        AuthMode::TokenRequest => {
            token_request::refresh(http, provider, values, credentials, tokens).await
        }
        AuthMode::ApiKey | AuthMode::Basic => {
            Err(OAuthError::NotInMode(crate::resolve::table::NotInMode {
                provider: provider.id.clone(),
                mode: provider.auth_mode.as_str(),
                part: "token to renew",
            }))
        }
    }
}
