//! Connections made without the user's browser (`POST /connections`): `api_key` and `basic`
//! (the user's credentials, sent on every call), `token_request` (credentials traded for a
//! token) and `client_credentials` (a client id and secret buy the token: the connection's
//! own, or the platform's from the clients file).
//!
//! The order is the one `connect` follows on the command line, so nothing is stored that does
//! not work: every value is checked against its declaration before anything is sent (a typed
//! [`FieldError`] naming the field), the token is obtained, the definition's verification runs
//! (`api.verify`, with the token when there is one), and only then is the connection stored,
//! its credentials and client secret sealed with its tokens ([`super::tokens`]), its
//! `connection.created` event in the same transaction. A provider that refuses the credentials,
//! at its token endpoint or its verification, is a [`ServiceError::VerificationFailed`] with
//! the provider's status, and nothing is stored.
//!
//! The tokens of `client_credentials` and `token_request` connections are renewed like OAuth
//! refreshes, through the service's single flight ([`Service::token`]).

use std::collections::BTreeMap;

use super::authorization::choose_environment;
use super::fields::FieldError;
use super::outside_text::Known;
use super::refresh::apply_tokens;
use super::store::{ConnectionRecord, ConnectionStatus};
use super::tokens::{ConnectionSecrets, OwnClient, seal};
use super::webhooks::EventType;
use super::{Service, ServiceError, local_host_url, valid_connection_id, values_of};
use crate::definition::types::AuthMode;
use crate::oauth::authorize::select_data_center;
use crate::oauth::token::unix_now;
use crate::oauth::{
    self, OAuthError, TokenSet, client_credentials, connection_table, token_request,
};
use crate::resolve::connection::{
    ConnectionError, CredentialValues, fill_api_request, fill_token_request, fill_verify_request,
};
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};

/// The credential name of a `client_credentials` connection's own client id (the form field
/// a connect page shows for it).
pub(crate) const CLIENT_ID: &str = "client_id";
/// The credential name of a `client_credentials` connection's own client secret.
pub(crate) const CLIENT_SECRET: &str = "client_secret";

/// A request to store a connection made from credentials. `Debug` shows credential names,
/// never values.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionRequest {
    /// Provider id.
    pub(crate) provider: String,
    /// The platform's id for the connection; an existing one is replaced.
    pub(crate) connection_id: String,
    /// The credentials, by declared name (`client_id` and `client_secret` for
    /// `client_credentials`).
    pub(crate) credentials: CredentialValues,
    /// Connection parameters (`connection.params`).
    pub(crate) params: BTreeMap<String, String>,
    /// The API environment; default: the definition's first.
    pub(crate) environment: Option<String>,
    /// The data center; default: the definition's default.
    pub(crate) data_center: Option<String>,
}

/// A refusal of the resolved table: a field of the request when it names one, else the
/// definition cannot build the request (409 `connection_values_refused`).
fn refused(error: ConnectionError) -> ServiceError {
    match FieldError::from_connection(&error) {
        Some(field) => ServiceError::Field(field),
        None => ServiceError::Provider(OAuthError::Connection(error)),
    }
}

/// An answer of the provider that refuses the credentials (its token endpoint or its
/// verification): 422 with its status; anything else (unreachable, 5xx, throttled) is the
/// provider failing.
fn provider_refusal(error: OAuthError) -> ServiceError {
    match error {
        OAuthError::Refused { status, .. }
        | OAuthError::Rejected { status, .. }
        | OAuthError::UnexpectedStatus { status, .. } => ServiceError::VerificationFailed {
            provider_status: status,
            message: error.to_string(),
        },
        other => ServiceError::Provider(other),
    }
}

/// The OAuth client of a connection that brought its own: one id and secret for the data
/// center it was made in, however the definition keys them.
pub(crate) fn own_client(dc: &ResolvedDataCenter, client: &OwnClient) -> oauth::Credentials {
    let credentials = oauth::Credentials::per_data_center(
        client.client_id.clone(),
        [(dc.client_secret_key.clone(), client.client_secret.clone())],
    );
    match &dc.client_id_key {
        Some(key) => credentials.with_client_id_for(key.clone(), client.client_id.clone()),
        None => credentials,
    }
}

impl Service {
    /// Makes and stores a connection from credentials: checks every field, obtains the token
    /// (`client_credentials`, `token_request`), runs the definition's verification, and stores
    /// the connection sealed, with its `connection.created` event. Nothing is stored when any
    /// step fails.
    pub(crate) async fn create_connection(
        &self,
        request: ConnectionRequest,
    ) -> Result<ConnectionRecord, ServiceError> {
        let provider = std::sync::Arc::clone(self.provider_table(&request.provider)?);
        let mode = provider.auth_mode;
        if mode == AuthMode::Oauth2Code {
            return Err(ServiceError::BadRequest(format!(
                "provider `{}` connects through the user's consent (oauth2_code): start a session with POST /connect/sessions",
                provider.id
            )));
        }
        if !valid_connection_id(&request.connection_id) {
            return Err(FieldError::ConnectionId.into());
        }
        let dc = select_data_center(&provider, request.data_center.as_deref()).map_err(|e| {
            FieldError::UnknownDataCenter {
                code: request.data_center.clone().unwrap_or_default(),
                message: e.to_string(),
            }
        })?;
        let environment = choose_environment(&provider, request.environment.as_deref(), None)?;
        let (credentials, client) = self.split_client(&provider, request.credentials)?;
        let values = values_of(&request.params);
        // The values are checked (pattern, host safety) before anything is sent.
        let table = connection_table(&provider, &values, None).map_err(refused)?;
        if !request.params.is_empty() {
            if let Some(url) = local_host_url(&table) {
                return Err(FieldError::Param {
                    name: None,
                    code: super::error_code::ErrorCode::InvalidParam,
                    message: format!(
                        "the connection values are refused: they make `{url}`, a loopback or IP host; give the provider's DNS host names"
                    ),
                }
                .into());
            }
        }
        if provider.api_auth.is_some() {
            let token = mode.has_token().then_some("not-yet-known");
            fill_api_request(
                &provider,
                &dc.code,
                environment.as_deref(),
                &values,
                &credentials,
                token,
            )
            .map_err(refused)?;
        }
        if mode.has_token() {
            fill_token_request(&provider, &dc.code, &values, &credentials, false)
                .map_err(refused)?;
        }

        // What the provider answers is scrubbed of every secret this request holds.
        let oauth_client = match (mode, &client) {
            (AuthMode::ClientCredentials, Some(own)) => Some(own_client(dc, own)),
            (AuthMode::ClientCredentials, None) => Some(self.platform_client(&provider.id)?),
            _ => None,
        };
        let mut known = oauth_client
            .as_ref()
            .map(|client| Known::client_secrets(&table, client))
            .unwrap_or_default();
        for name in credentials.names() {
            known = known.with(credentials.get(name).unwrap_or_default());
        }
        let tokens: Option<TokenSet> = match (mode, &oauth_client) {
            (AuthMode::ClientCredentials, Some(client)) => Some(
                client_credentials::obtain(
                    &self.http,
                    &provider,
                    client,
                    Some(&dc.code),
                    &values,
                    &[],
                )
                .await
                .map_err(|e| provider_refusal(known.scrub_error(e)))?,
            ),
            (AuthMode::TokenRequest, _) => Some(
                token_request::obtain(&self.http, &provider, Some(&dc.code), &values, &credentials)
                    .await
                    .map_err(|e| provider_refusal(known.scrub_error(e)))?,
            ),
            _ => None,
        };
        let access_token = tokens.as_ref().map(|t| t.access_token.expose());
        if let Some(call) = fill_verify_request(
            &provider,
            &dc.code,
            environment.as_deref(),
            &values,
            &credentials,
            access_token,
        )
        .map_err(refused)?
        {
            let secrets: Vec<&str> = credentials
                .names()
                .filter_map(|name| credentials.get(name))
                .chain(access_token)
                .collect();
            oauth::api::verify(&self.http, &call, &secrets)
                .await
                .map_err(|e| provider_refusal(known.scrub_error(e)))?;
        }

        let secrets = ConnectionSecrets {
            credentials: credentials_of(&credentials),
            client,
        };
        let sealed = seal(
            &self.cipher,
            &provider.id,
            &request.connection_id,
            None,
            &secrets,
        );
        let now = unix_now() as i64;
        let mut record = ConnectionRecord {
            provider: provider.id.clone(),
            connection_id: request.connection_id,
            data_center: dc.code.clone(),
            // A token sets it (the token endpoint's origin); the other modes have no server
            // that issues anything.
            issuer: String::new(),
            // A client-credentials token is asked for the provider's default scopes.
            scopes: match mode {
                AuthMode::ClientCredentials => provider.default_scopes.clone(),
                _ => Vec::new(),
            },
            granted_scope: None,
            token_type: None,
            metadata: Default::default(),
            params: request.params,
            expires_at: None,
            status: ConnectionStatus::Active,
            tokens: sealed,
            generation: 0,
            created_at: now,
            updated_at: now,
            auth_mode: mode,
            environment,
        };
        if let Some(tokens) = &tokens {
            apply_tokens(&self.cipher, &mut record, tokens, &secrets);
        }
        let event = self.event(EventType::Created, &record);
        self.store
            .upsert_connection(&record, event.as_ref())
            .await?;
        self.wake_delivery();
        self.refresher
            .forget(&record.provider, &record.connection_id);
        tracing::info!(provider = %record.provider, connection_id = %record.connection_id, auth_mode = mode.as_str(), data_center = %record.data_center, "connection stored");
        Ok(record)
    }

    /// Separates a `client_credentials` connection's own client (`client_id` and
    /// `client_secret`, both or neither) from the credentials; other modes keep them all.
    fn split_client(
        &self,
        provider: &ResolvedProvider,
        credentials: CredentialValues,
    ) -> Result<(CredentialValues, Option<OwnClient>), ServiceError> {
        if provider.auth_mode != AuthMode::ClientCredentials {
            return Ok((credentials, None));
        }
        if let Some(name) = credentials
            .names()
            .find(|name| *name != CLIENT_ID && *name != CLIENT_SECRET)
        {
            return Err(FieldError::UnknownCredential {
                name: name.to_owned(),
                message: format!(
                    "provider `{}` takes no credential `{}`: a client_credentials connection gives `{CLIENT_ID}` and `{CLIENT_SECRET}` (its own client), or neither to use the platform's",
                    provider.id,
                    crate::diagnostics::visible(name)
                ),
            }
            .into());
        }
        let missing = |name: &str, message: String| -> ServiceError {
            FieldError::MissingCredential {
                name: name.to_owned(),
                message,
            }
            .into()
        };
        match (credentials.get(CLIENT_ID), credentials.get(CLIENT_SECRET)) {
            (Some(id), Some(secret)) => {
                for (name, value) in [(CLIENT_ID, id), (CLIENT_SECRET, secret)] {
                    if value.is_empty() || value.chars().any(char::is_control) {
                        return Err(FieldError::InvalidCredential {
                            name: name.to_owned(),
                            message: format!(
                                "credential `{name}` is refused: it is empty or holds a line break or another control character"
                            ),
                        }
                        .into());
                    }
                }
                Ok((
                    CredentialValues::new(),
                    Some(OwnClient {
                        client_id: id.to_owned(),
                        client_secret: oauth::ClientSecret::new(secret),
                    }),
                ))
            }
            (Some(_), None) => Err(missing(
                CLIENT_SECRET,
                format!(
                    "`{CLIENT_ID}` is given without `{CLIENT_SECRET}`: give both, or neither to use the platform's client"
                ),
            )),
            (None, Some(_)) => Err(missing(
                CLIENT_ID,
                format!(
                    "`{CLIENT_SECRET}` is given without `{CLIENT_ID}`: give both, or neither to use the platform's client"
                ),
            )),
            (None, None) if self.clients.contains_key(&provider.id) => {
                Ok((CredentialValues::new(), None))
            }
            (None, None) => Err(missing(
                CLIENT_ID,
                format!(
                    "provider `{}` has no client in the clients file: give the connection's own `{CLIENT_ID}` and `{CLIENT_SECRET}`",
                    provider.id
                ),
            )),
        }
    }
}

/// The credentials as they are sealed.
fn credentials_of(
    credentials: &CredentialValues,
) -> indexmap::IndexMap<String, oauth::CredentialSecret> {
    credentials
        .names()
        .filter_map(|name| {
            let value = credentials.get(name)?;
            Some((name.to_owned(), oauth::CredentialSecret::new(value)))
        })
        .collect()
}
