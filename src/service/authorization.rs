//! What a caller needs to call a connection's API itself: the upstream base URL (the
//! connection's data center in the chosen environment) and the headers and query parameters
//! that carry its credentials, exactly as the definition places them (Zoho's
//! `Authorization: Zoho-oauthtoken …`, an `x-api-key`, a `?key=`).
//!
//! It is the one place the service applies a connection's credentials: the token route hands
//! its headers and query out, and the proxy applies them. Nothing here places a credential
//! itself: [`fill_api_request`] fills the resolved table's `api_auth` with the connection's
//! values, the credentials sealed with it and its access token. A token comes from
//! [`Service::token`], so a token that expires soon is renewed first, once across every
//! instance, and `force_refresh` forces one renewal through the same single flight (after a
//! 401 from the provider); a refused refresh marks the connection `reauthorization_required`
//! there. `api_key` and `basic` connections have no token: their credentials are opened from
//! the row as they were stored.

use std::sync::Arc;

use indexmap::IndexMap;

use super::fields::FieldError;
use super::refresh::{Renew, TokenError};
use super::store::ConnectionRecord;
use super::tokens::open;
use super::{Service, ServiceError, values_of};
use crate::definition::types::AuthMode;
use crate::oauth::{OAuthError, TokenSet, connection_table};
use crate::resolve::connection::{
    ConnectionError, ConnectionValues, CredentialValues, Filled, fill_api_request,
};
use crate::resolve::table::ResolvedProvider;

/// How to call one connection's API: where, and with which headers and query parameters.
/// `Debug` shows every name but no secret value.
#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    /// The API base URL of the connection's data center in [`Self::environment`]; a call's
    /// path goes after it.
    pub(crate) base_url: String,
    /// The environment the base URL belongs to (`production`, `sandbox`, ...).
    pub(crate) environment: String,
    /// Headers to set, the credentials' among them.
    pub(crate) headers: IndexMap<String, Filled>,
    /// Query parameters to add.
    pub(crate) query: IndexMap<String, Filled>,
    /// The connection row's generation: it moves with every token or credential write, so a
    /// caller caching this can tell that it changed.
    pub(crate) generation: i64,
    /// How the connection authenticates.
    pub(crate) auth_mode: AuthMode,
    /// When the access token in the headers expires (unix seconds), for token connections
    /// whose token has an expiry.
    pub(crate) expires_at: Option<u64>,
}

/// A connection ready to be called: its row, its tokens (token modes), and how to call its API
/// (`None` when the definition has no API section).
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    /// The row (metadata).
    pub(crate) record: ConnectionRecord,
    /// The tokens, for connections that hold some.
    pub(crate) tokens: Option<TokenSet>,
    /// How to call the API.
    pub(crate) authorization: Option<Authorization>,
}

/// The environments a provider's API defines, in definition order (the first is the
/// default); every data center defines the same ones.
pub(crate) fn environments(provider: &ResolvedProvider) -> Vec<&str> {
    provider
        .data_centers
        .first()
        .map(|dc| dc.api_base_urls.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The environment a connection uses: `asked`, else the one it was made with, else the
/// definition's first. An unknown one is refused, naming the known ones.
pub(crate) fn choose_environment(
    provider: &ResolvedProvider,
    asked: Option<&str>,
    stored: Option<&str>,
) -> Result<Option<String>, FieldError> {
    let known = environments(provider);
    match asked.or(stored) {
        Some(name) if known.contains(&name) => Ok(Some(name.to_owned())),
        Some(name) => Err(FieldError::UnknownEnvironment {
            provider: provider.id.clone(),
            environment: name.to_owned(),
            known: if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            },
        }),
        None => Ok(known.first().map(|name| (*name).to_owned())),
    }
}

/// A refusal of the resolved table while filling a stored connection's call: an environment
/// asked for is the caller's to fix (400); anything else means the stored values no longer
/// fit a changed definition (409 `connection_values_refused`).
fn refused(error: ConnectionError) -> ServiceError {
    match error {
        ConnectionError::UnknownEnvironment { .. } => match FieldError::from_connection(&error) {
            Some(field) => ServiceError::Field(field),
            None => ServiceError::Provider(OAuthError::Connection(error)),
        },
        other => ServiceError::Provider(OAuthError::Connection(other)),
    }
}

impl Service {
    /// How to call a connection's API: its base URL in `environment` (the connection's own
    /// when `None`), and its credentials as headers and query parameters. A token
    /// connection's token is renewed first as `renew` says (once, however many callers ask):
    /// after the provider answered 401, [`Renew::Refused`] with the refused authorization's
    /// generation, so that a token renewed meanwhile (here or on another instance) is used as
    /// it is rather than renewed again.
    pub(crate) async fn authorization(
        &self,
        provider: &str,
        connection_id: &str,
        environment: Option<&str>,
        renew: Renew,
    ) -> Result<Authorization, ServiceError> {
        self.authorize(provider, connection_id, environment, renew)
            .await?
            .authorization
            .ok_or_else(|| {
                ServiceError::BadRequest(format!(
                    "provider `{provider}` has no API section: its definition does not say how to call its API"
                ))
            })
    }

    /// The connection with its tokens and how to call its API: what the token route hands
    /// out.
    pub(crate) async fn authorize(
        &self,
        provider_id: &str,
        connection_id: &str,
        environment: Option<&str>,
        renew: Renew,
    ) -> Result<Authorized, ServiceError> {
        let provider = Arc::clone(self.provider_table(provider_id)?);
        let (record, tokens) = if provider.auth_mode.has_token() {
            let issued = self
                .renewed_token(provider_id, connection_id, renew)
                .await
                .map_err(|error| match error {
                    ServiceError::Token(TokenError::NoToken { mode, .. }) => {
                        mode_changed(&provider, connection_id, mode)
                    }
                    other => other,
                })?;
            (issued.record, Some(issued.tokens))
        } else {
            // The credentials are the authorization: nothing to refresh.
            (self.connection(provider_id, connection_id).await?, None)
        };
        if record.auth_mode != provider.auth_mode {
            return Err(mode_changed(
                &provider,
                connection_id,
                record.auth_mode.as_str(),
            ));
        }
        let authorization = match &provider.api_auth {
            Some(_) => {
                Some(self.fill_authorization(&provider, &record, tokens.as_ref(), environment)?)
            }
            None => None,
        };
        Ok(Authorized {
            record,
            tokens,
            authorization,
        })
    }

    /// Fills the connection's API call: its values, the credentials sealed with it, its access
    /// token, in the environment asked for (else its own).
    fn fill_authorization(
        &self,
        provider: &ResolvedProvider,
        record: &ConnectionRecord,
        tokens: Option<&TokenSet>,
        environment: Option<&str>,
    ) -> Result<Authorization, ServiceError> {
        let credentials = match record.auth_mode {
            // An OAuth connection holds no credentials of its own: nothing more to open.
            AuthMode::Oauth2Code => CredentialValues::new(),
            _ => open(&self.cipher, record)?.1.credential_values(),
        };
        let table = connection_table(
            provider,
            &values_of(&record.params),
            tokens.map(|tokens| &tokens.metadata),
        )
        .map_err(refused)?;
        let environment = choose_environment(provider, environment, record.environment.as_deref())
            .map_err(|error| match environment {
                Some(_) => ServiceError::Field(error),
                // The connection's own environment is no longer defined.
                None => ServiceError::Provider(OAuthError::Connection(
                    ConnectionError::UnknownEnvironment {
                        provider: provider.id.clone(),
                        environment: record.environment.clone().unwrap_or_default(),
                        known: environments(provider).join(", "),
                    },
                )),
            })?;
        let request = fill_api_request(
            &table,
            &record.data_center,
            environment.as_deref(),
            &ConnectionValues::new(),
            &credentials,
            tokens.map(|tokens| tokens.access_token.expose()),
        )
        .map_err(refused)?;
        Ok(Authorization {
            base_url: request.base_url,
            environment: environment.unwrap_or_default(),
            headers: request.headers,
            query: request.query,
            generation: record.generation,
            auth_mode: record.auth_mode,
            expires_at: tokens.and_then(|tokens| tokens.expires_at),
        })
    }
}

fn mode_changed(
    provider: &ResolvedProvider,
    connection_id: &str,
    stored: &'static str,
) -> ServiceError {
    ServiceError::ModeChanged {
        provider: provider.id.clone(),
        connection_id: connection_id.to_owned(),
        stored,
        now: provider.auth_mode.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::oauth::token::unix_now;
    use crate::oauth::{AccessToken, ClientSecret, Credentials, RefreshToken};
    use crate::service::config::ProviderClient;
    use crate::service::crypto::{Cipher, EncryptionKey};
    use crate::service::refresh::apply_tokens;
    use crate::service::store::tests::{TestStore, record};

    fn load(relative: &str) -> ResolvedProvider {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        let text = std::fs::read_to_string(&path).unwrap();
        match crate::catalog::load_one(&path, &text).unwrap() {
            crate::catalog::Verdict::Valid(provider) => provider.resolved,
            crate::catalog::Verdict::Invalid(problems) => panic!("{problems:?}"),
        }
    }

    #[test]
    fn the_environment_is_the_one_asked_for_else_the_stored_one_else_the_first() {
        let zoho = load("providers/zoho-crm.yaml");
        assert_eq!(environments(&zoho), ["production", "sandbox", "developer"]);
        let choose = |asked, stored| choose_environment(&zoho, asked, stored);
        assert_eq!(choose(None, None).unwrap().as_deref(), Some("production"));
        assert_eq!(
            choose(None, Some("sandbox")).unwrap().as_deref(),
            Some("sandbox")
        );
        assert_eq!(
            choose(Some("developer"), Some("sandbox"))
                .unwrap()
                .as_deref(),
            Some("developer")
        );
        let refused = choose(Some("staging"), None).unwrap_err();
        assert_eq!(refused.code().as_str(), "unknown_environment");
        assert!(
            refused.to_string().contains(
                "no API environment `staging`; it defines: production, sandbox, developer"
            ),
            "{refused}"
        );
    }

    #[test]
    fn a_provider_without_an_api_section_has_no_environment_to_choose() {
        let bare = load("tests/fixtures/generic-idp.yaml");
        assert!(bare.api_auth.is_none());
        assert_eq!(choose_environment(&bare, None, None), Ok(None));
        let refused = choose_environment(&bare, Some("sandbox"), None).unwrap_err();
        assert!(
            refused.to_string().ends_with("it defines: none"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_zoho_connection_is_called_at_its_data_center_with_its_token_in_zoho_s_scheme() {
        let test = TestStore::sqlite().await;
        let cipher = Cipher::new(EncryptionKey::from_bytes([5; 32]), vec![]);
        let client = ProviderClient {
            credentials: Credentials::shared("1000.ID", ClientSecret::new("client-secret")),
            redirect_uri: "https://forge.example.com/oauth/callback".into(),
        };
        let service = Service::new(
            Arc::clone(&test.store),
            cipher.clone(),
            [load("providers/zoho-crm.yaml")],
            BTreeMap::from([("zoho-crm".to_owned(), client)]),
            &crate::oauth::http::HttpOptions::default(),
        )
        .unwrap();
        let mut row = record("zoho-crm", "c1");
        row.params.clear();
        // Made before environments were stored: the definition's first applies.
        row.environment = None;
        let expires_at = unix_now() + 3600;
        apply_tokens(
            &cipher,
            &mut row,
            &TokenSet {
                access_token: AccessToken::new("at-zoho-1"),
                refresh_token: Some(RefreshToken::new("rt-zoho-1")),
                token_type: Some("Bearer".into()),
                scope: None,
                expires_at: Some(expires_at),
                data_center: "eu".into(),
                issuer: "https://accounts.zoho.eu".into(),
                metadata: Default::default(),
            },
            &Default::default(),
        );
        test.store.upsert_connection(&row, None).await.unwrap();

        let call = service
            .authorization("zoho-crm", "c1", None, Renew::IfExpiring)
            .await
            .unwrap();
        assert_eq!(call.base_url, "https://www.zohoapis.eu");
        assert_eq!(call.environment, "production");
        assert_eq!(
            call.headers["Authorization"].expose(),
            "Zoho-oauthtoken at-zoho-1"
        );
        assert!(call.query.is_empty());
        assert_eq!(call.generation, 0);
        assert_eq!(call.auth_mode, AuthMode::Oauth2Code);
        assert_eq!(call.expires_at, Some(expires_at));
        assert!(!format!("{call:?}").contains("at-zoho-1"), "{call:?}");

        let sandbox = service
            .authorization("zoho-crm", "c1", Some("sandbox"), Renew::IfExpiring)
            .await
            .unwrap();
        assert_eq!(sandbox.base_url, "https://sandbox.zohoapis.eu");
        let refused = service
            .authorization("zoho-crm", "c1", Some("staging"), Renew::IfExpiring)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                ServiceError::Field(FieldError::UnknownEnvironment { .. })
            ),
            "{refused:?}"
        );
        assert!(matches!(
            service
                .authorization("zoho-crm", "nope", None, Renew::IfExpiring)
                .await,
            Err(ServiceError::Token(TokenError::NotFound { .. }))
        ));
        test.finish().await;
    }
}
