//! The callback service a platform runs (`provider-forge serve`): it starts authorization
//! sessions, is the redirect URI that completes them, keeps every connection's tokens
//! encrypted in a database, and hands out fresh access tokens, refreshed once across every
//! instance that shares the database.
//!
//! It drives the OAuth engine only through the library's public API ([`crate::oauth`]:
//! [`authorization_request`], [`complete_authorization`], [`refresh_tokens`], [`revoke()`]) and
//! the resolved tables of [`crate::catalog`], exactly as an embedding platform would. The parts
//! are private modules with one job each, and what they offer is re-exported here, once:
//! `config` (clients file, keys: [`load_clients`], [`keys_from_env`]), `crypto` (AES-256-GCM at
//! rest: [`Cipher`]), `keys` (the keys checked against stored rows, re-sealing: [`check_keys`],
//! [`reseal`]), [`store`] (SQLite and PostgreSQL behind one trait, the one public namespace:
//! the database port and its records), `refresh` (cross-process single refresh that no caller
//! can cancel), `direct` (connections of the modes without a browser: API keys, Basic, token
//! requests, client credentials), `authorization` (the ready headers and query parameters of a
//! connection's API calls), `fields` (refused request fields), `api` (the HTTP routes and their
//! OpenAPI description: [`router`], [`openapi`]; `error_code`, the one list of error codes;
//! `json_errors`, axum's refusals in the same JSON shape; `shared_responses`, errors many
//! routes describe alike), `listener` (serving them with connection
//! limits: [`serve`]), `webhooks` (signed connection events, sent at least once from the
//! store's outbox: [`Webhooks`]), `proxy` (API calls made with a connection's credentials:
//! [`ProxySettings`]), `listing` (connections a page at a time, behind a sealed cursor:
//! [`PageRequest`]), `connect_page` (the HTML page an end user connects on: [`ConnectPages`]).
//! [`Service`] ties them together and is usable without HTTP.

mod api;
mod authorization;
mod config;
mod connect_page;
mod crypto;
mod direct;
mod error_code;
mod fields;
mod json_errors;
mod keys;
mod listener;
mod listing;
mod metrics;
mod outside_text;
mod proxy;
mod refresh;
mod shared_responses;
pub mod store;
mod tokens;
mod webhooks;

pub use api::{openapi, router};
pub use config::{
    ApiKey, ENCRYPTION_KEY_ENV, METRICS_KEY_ENV, MIN_SECRET_KEY_LEN, PREVIOUS_ENCRYPTION_KEYS_ENV,
    ProviderClient, SECRET_KEY_ENV, keys_from_env, load_clients, metrics_key_from_env,
};
pub use connect_page::{ConnectPages, ReturnOrigins};
pub use crypto::{Cipher, CryptoError, EncryptionKey, Sealed};
pub use error_code::ErrorCode;
pub use fields::FieldError;
pub use keys::{KeyCheckError, Resealed, check as check_keys, reseal};
pub use listener::{
    DEFAULT_HEADER_READ_TIMEOUT_SECS, DEFAULT_IDLE_TIMEOUT_SECS, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SHUTDOWN_TIMEOUT_SECS, Limits, serve,
};
pub use listing::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};
pub use proxy::{
    DEFAULT_MAX_BODY_MIB as DEFAULT_PROXY_MAX_BODY_MIB, DEFAULT_RETRIES as DEFAULT_PROXY_RETRIES,
    DEFAULT_RETRY_SECS as DEFAULT_PROXY_RETRY_SECS,
    DEFAULT_TIMEOUT_SECS as DEFAULT_PROXY_TIMEOUT_SECS, ENVIRONMENT_HEADER, ProxySettings,
    RETRY_HEADER,
};
pub use refresh::TokenError;
pub use webhooks::{
    Delivery as WebhookDelivery, EventType, SECRET_ENV as WEBHOOK_SECRET_ENV, SIGNATURE_HEADER,
    Webhooks,
};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::definition::types::AuthMode;
use crate::oauth::authorize::{checked_scopes, select_data_center};
use crate::oauth::http::HttpOptions;
use crate::oauth::renew::renew;
use crate::oauth::revoke::RevokedToken;
use crate::oauth::token::unix_now;
use crate::oauth::{
    AuthorizationOptions, Credentials, OAuthError, PendingAuthorization, RetryPolicy, TokenSet,
    authorization_request, complete_authorization, connection_table, refresh_tokens, revoke,
};
use crate::resolve::connection::{ConnectionError, ConnectionValues, check_param};
use crate::resolve::host_shape::is_local_host;
use crate::resolve::table::ResolvedProvider;
use outside_text::Known;
use refresh::{Refresher, Renew};
use store::{ConnectionRecord, ConnectionStatus, DatabaseError, OutboxEvent, PendingRecord, Store};
use tokio::sync::Notify;

/// How long a started session waits for its callback.
pub const SESSION_LIFETIME_SECS: u64 = 600;
/// Default `--refresh-margin`: tokens expiring within five minutes are refreshed first.
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;
/// Longest accepted connection id.
pub const MAX_CONNECTION_ID_LEN: usize = 255;

/// Everything the service needs, already loaded and checked.
pub struct Service {
    store: Arc<dyn Store>,
    cipher: Cipher,
    providers: HashMap<String, Arc<ResolvedProvider>>,
    clients: BTreeMap<String, ProviderClient>,
    http: reqwest::Client,
    refresh_margin_secs: u64,
    retry: RetryPolicy,
    refresher: Arc<Refresher>,
    /// When webhooks are on: where they go, and what wakes their delivery.
    webhooks: Option<(Webhooks, Arc<Notify>)>,
    /// When connect pages are served: where, and where they may return to.
    connect: Option<ConnectPages>,
    /// The API proxy's settings and hot connections.
    proxy: proxy::Proxy,
    /// What `/metrics` reports.
    metrics: Arc<metrics::Metrics>,
    /// The scrape-only key that opens `/metrics` besides the API key.
    metrics_key: Option<config::ApiKey>,
}

/// A request to start connecting a user.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest {
    /// Provider id.
    pub provider: String,
    /// The platform's id for the connection.
    pub connection_id: String,
    /// Data center, when the platform knows the user's.
    pub data_center: Option<String>,
    /// Scopes; empty means the provider's defaults.
    pub scopes: Vec<String>,
    /// Connection parameters, stored with the connection.
    pub params: BTreeMap<String, String>,
    /// The API environment the connection is for; the definition's first when `None` (the
    /// connect page asks when the definition has several).
    pub environment: Option<String>,
    /// Where the browser lands at the end (on an origin of `--return-origin`).
    pub return_to: Option<String>,
}

/// A started session: where to send the user, and until when it can be completed.
#[derive(Debug, Clone)]
pub struct Session {
    /// The provider's authorization URL, for an OAuth provider whose connection values are
    /// all given: the user's browser may open it directly.
    pub authorization_url: Option<String>,
    /// The connect page, when the service serves them: it asks the user what the session
    /// left open and goes on from there.
    pub connect_url: Option<String>,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Whose connection a pending authorization makes, and what its callback stores with it.
pub(crate) struct PendingSession<'a> {
    /// Provider id.
    pub(crate) provider: &'a str,
    /// The connection's id.
    pub(crate) connection_id: &'a str,
    /// Connection parameters.
    pub(crate) params: &'a BTreeMap<String, String>,
    /// The API environment.
    pub(crate) environment: Option<String>,
    /// Where the browser lands at the end.
    pub(crate) return_to: Option<String>,
    /// Unix seconds after which the callback is refused.
    pub(crate) expires_at: u64,
}

/// Where a callback's session sends the browser at the end.
#[derive(Debug, Clone)]
pub(crate) struct Landing {
    /// The session's `return_to`.
    pub(crate) return_to: String,
    /// Provider id.
    pub(crate) provider: String,
    /// The connection's id.
    pub(crate) connection_id: String,
}

/// A connection's access token, as handed to API callers.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The row (metadata).
    pub record: ConnectionRecord,
    /// The tokens.
    pub tokens: TokenSet,
    /// The API base URL of the connection's data center in its environment, when the
    /// provider has an API section.
    pub api_base_url: Option<String>,
}

/// A failure of a service operation, classified for the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is wrong (unknown scope or data center, bad connection id, ...).
    #[error("{0}")]
    BadRequest(String),
    /// A listing's cursor is not one the service handed out for that listing.
    #[error("{0}")]
    InvalidCursor(String),
    /// A field of the request is refused (a credential, a parameter, the environment).
    #[error(transparent)]
    Field(#[from] fields::FieldError),
    /// Unknown provider or connection.
    #[error("{0}")]
    NotFound(String),
    /// The connection changed under the operation (a newer one was stored meanwhile).
    #[error("{0}")]
    Changed(String),
    /// A token could not be issued.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The callback was refused; nothing was stored.
    #[error("{0}")]
    Callback(CallbackError),
    /// The provider failed (revocation).
    #[error(transparent)]
    Provider(OAuthError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] DatabaseError),
    /// A stored value could not be opened.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The provider refused the credentials a connection was made with (at its token endpoint
    /// or its verification); nothing was stored.
    #[error("the provider refused the credentials; nothing was stored: {message}")]
    VerificationFailed {
        /// The provider's HTTP status.
        provider_status: u16,
        /// What it said, secrets cut out.
        message: String,
    },
    /// The connection was made in another auth mode than the provider's definition now uses.
    #[error(
        "connection `{connection_id}` of `{provider}` was made as a `{stored}` connection, and the provider's definition now uses `{now}`; connect again"
    )]
    ModeChanged {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
        /// The connection's mode.
        stored: &'static str,
        /// The definition's mode.
        now: &'static str,
    },
}

/// Why a callback stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// No `state`, or one no session has (forged, or already used).
    #[error(
        "this authorization link is unknown or was already used; start connecting again from the application"
    )]
    UnknownState,
    /// The session is older than ten minutes.
    #[error("this authorization took longer than ten minutes and expired; start connecting again")]
    Expired,
    /// The engine refused the callback or the code exchange failed.
    #[error("{0}")]
    Refused(OAuthError),
}

/// The SHA-256 of a `state`, hex: what the store keys sessions by, so the database never
/// holds a value that could complete someone's authorization.
fn state_hash(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A stored connection's parameters as the engine takes them.
fn values_of(params: &BTreeMap<String, String>) -> ConnectionValues {
    params.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The raw value of a callback query's parameter `name` (`state`, `code`).
fn callback_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.into_owned())
}

/// The raw `state` of a callback query.
fn callback_state(query: &str) -> Option<String> {
    callback_param(query, "state")
}

/// The first URL of a table filled with an end user's connection values whose host is a
/// loopback name or an IP address. Definitions may point at such hosts (tests do), but a
/// value must not turn the code exchange, client secret included, towards the service's own
/// machine or a bare address.
fn local_host_url(table: &ResolvedProvider) -> Option<&str> {
    table.data_centers.iter().find_map(|dc| {
        let authorization = dc
            .authorization
            .iter()
            .flat_map(|a| [&a.authorization_url, &a.issuer]);
        let token = dc.token.iter().flat_map(|t| {
            [&t.token_url, &t.refresh_url]
                .into_iter()
                .chain(&t.revoke_url)
        });
        authorization
            .chain(token)
            .chain(dc.api_base_urls.values())
            .map(String::as_str)
            .find(|url| url::Url::parse(url).is_ok_and(|url| is_local_host(&url)))
    })
}

/// Checks a session's connection values: each one given (declared, pattern, kind), then the
/// whole table they fill (every URL rechecked, never a loopback or IP host). The inner error
/// is a value the provider needs and nobody gave yet; any other problem is a bad request.
fn checked_values<'p>(
    provider: &'p ResolvedProvider,
    params: &BTreeMap<String, String>,
) -> Result<Result<std::borrow::Cow<'p, ResolvedProvider>, ConnectionError>, ServiceError> {
    // Each declared value on its own first, so a refused one is named even while another is
    // still missing; anything else is the whole table's to judge.
    for (name, value) in params {
        if provider.connection.params.contains_key(name) {
            check_param(provider, name, Some(value))
                .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        }
    }
    let table = match connection_table(provider, &values_of(params), None) {
        Ok(table) => table,
        Err(missing @ ConnectionError::Missing { .. }) => return Ok(Err(missing)),
        Err(error) => return Err(ServiceError::BadRequest(error.to_string())),
    };
    if !params.is_empty() {
        if let Some(url) = local_host_url(&table) {
            return Err(ServiceError::BadRequest(format!(
                "the connection values are refused: they make `{url}`, a loopback or IP host; give the provider's DNS host names"
            )));
        }
    }
    Ok(Ok(table))
}

/// The authorization request of a connection's filled table, with the client id of the data
/// center the user is sent to (a provider registered separately per data center has one per
/// data center).
fn authorization(
    table: &ResolvedProvider,
    client: &ProviderClient,
    data_center: Option<String>,
    scopes: Vec<String>,
) -> Result<PendingAuthorization, ServiceError> {
    let options = AuthorizationOptions {
        data_center,
        scopes,
        redirect_uri: Some(client.redirect_uri.clone()),
    };
    let client_id = select_data_center(table, options.data_center.as_deref())
        .and_then(|dc| client.credentials.client_id_for(dc))
        .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    authorization_request(table, client_id, &options)
        .map_err(|e| ServiceError::BadRequest(e.to_string()))
}

fn valid_connection_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().nth(MAX_CONNECTION_ID_LEN).is_none()
        && !id.chars().any(char::is_control)
}

impl Service {
    /// A service over a store, with the providers' resolved tables and their clients. `http`
    /// says how the service reaches providers (trust, fixed addresses, timeout); its token
    /// requests and its proxied calls both follow it. Fails only on `http`: a root certificate
    /// that cannot be read, or no usable TLS verification.
    pub fn new(
        store: Arc<dyn Store>,
        cipher: Cipher,
        providers: impl IntoIterator<Item = ResolvedProvider>,
        clients: BTreeMap<String, ProviderClient>,
        http: &HttpOptions,
    ) -> Result<Self, OAuthError> {
        let proxy_client = proxy::ProxyClient::new(http).map_err(OAuthError::HttpSetup)?;
        let http = crate::oauth::http::client(http)?;
        let metrics = Arc::new(metrics::Metrics::default());
        let mut refresher = Refresher::new(store.clone(), cipher.clone());
        refresher.count_into(Arc::clone(&metrics));
        Ok(Self {
            refresher: Arc::new(refresher),
            store,
            cipher,
            providers: providers
                .into_iter()
                .map(|p| (p.id.clone(), Arc::new(p)))
                .collect(),
            clients,
            http,
            refresh_margin_secs: DEFAULT_REFRESH_MARGIN_SECS,
            retry: RetryPolicy::default(),
            webhooks: None,
            connect: None,
            proxy: proxy::Proxy::new(proxy::ProxySettings::default(), proxy_client),
            metrics,
            metrics_key: None,
        })
    }

    /// Serves connect pages: sessions answer a `connect_url` on `pages.public_url`, and may
    /// name a `return_to` on one of `pages.return_origins`.
    pub fn with_connect_pages(mut self, pages: ConnectPages) -> Self {
        self.connect = Some(pages);
        self
    }

    /// Sets the API proxy's retries, timeout and body limit.
    pub fn with_proxy(mut self, settings: proxy::ProxySettings) -> Self {
        self.proxy = proxy::Proxy::new(settings, self.proxy.client().clone());
        self
    }

    /// Turns webhooks on: every connection created, deleted or marked
    /// `reauthorization_required` from now on writes its event to the outbox in the same
    /// transaction, for [`Service::webhook_delivery`] to send.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        let wake = Arc::new(Notify::new());
        Arc::get_mut(&mut self.refresher)
            .expect("webhooks are configured before the service is used")
            .emit_events(Arc::clone(&wake));
        self.webhooks = Some((webhooks, wake));
        self
    }

    /// The task that sends the outbox, when webhooks are on; run it (one per process) for as
    /// long as the service runs.
    pub fn webhook_delivery(&self) -> Option<webhooks::Delivery> {
        self.webhooks.as_ref().map(|(webhooks, wake)| {
            webhooks::Delivery::new(
                Arc::clone(&self.store),
                webhooks.clone(),
                self.http.clone(),
                Arc::clone(wake),
                Arc::clone(&self.metrics),
            )
        })
    }

    /// The outbox row of an event about `record`, when webhooks are on.
    fn event(&self, kind: EventType, record: &ConnectionRecord) -> Option<OutboxEvent> {
        self.webhooks
            .as_ref()
            .map(|_| webhooks::event(kind, record, unix_now() as i64))
    }

    /// Wakes the delivery after an event was written.
    fn wake_delivery(&self) {
        if let Some((_, wake)) = &self.webhooks {
            wake.notify_one();
        }
    }

    /// Sets the refresh margin (seconds before expiry at which a token is refreshed first).
    pub fn with_refresh_margin(mut self, secs: u64) -> Self {
        self.refresh_margin_secs = secs;
        self
    }

    /// Sets the retry policy for transient refresh failures.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Resolves once no refresh is in flight and every refreshed token set is stored: a
    /// shutdown waits for this (bounded) so a provider's answer is not thrown away.
    pub async fn settle(&self) {
        self.refresher.settle().await;
    }

    /// Lets `key` open `GET /metrics` (and nothing else), besides the API key: a scraper
    /// then needs no key that hands out tokens.
    pub fn with_metrics_key(mut self, key: config::ApiKey) -> Self {
        self.metrics_key = Some(key);
        self
    }

    /// The service's metrics (what `/metrics` reports).
    pub(crate) fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// Whether `presented` is the scrape-only key of `/metrics`.
    pub(crate) fn opens_metrics(&self, presented: &str) -> bool {
        self.metrics_key
            .as_ref()
            .is_some_and(|key| key.matches(presented))
    }

    /// The store (for health checks).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A provider's resolved table.
    fn provider_table(&self, id: &str) -> Result<&Arc<ResolvedProvider>, ServiceError> {
        self.providers
            .get(id)
            .ok_or_else(|| ServiceError::NotFound(format!("unknown provider `{id}`")))
    }

    /// A provider's resolved table and its client from the clients file.
    fn provider(
        &self,
        id: &str,
    ) -> Result<(&Arc<ResolvedProvider>, &ProviderClient), ServiceError> {
        let provider = self.provider_table(id)?;
        let client = self.clients.get(id).ok_or_else(|| {
            ServiceError::NotFound(format!(
                "provider `{id}` has no OAuth client in the clients file"
            ))
        })?;
        Ok((provider, client))
    }

    /// Starts a session: checks what the platform gave, builds the authorization request
    /// when nothing is left to ask and stores it (sealed) until its callback, and opens the
    /// connect page, for at most [`SESSION_LIFETIME_SECS`].
    pub async fn start_session(&self, request: SessionRequest) -> Result<Session, ServiceError> {
        let provider = self.providers.get(&request.provider).ok_or_else(|| {
            ServiceError::NotFound(format!("unknown provider `{}`", request.provider))
        })?;
        let bad = |error: &dyn std::fmt::Display| ServiceError::BadRequest(error.to_string());
        let client = match provider.auth_mode {
            AuthMode::Oauth2Code => Some(self.provider(&request.provider)?.1),
            AuthMode::ApiKey | AuthMode::Basic | AuthMode::TokenRequest => {
                if self.connect.is_none() {
                    return Err(ServiceError::BadRequest(format!(
                        "provider `{}` connects with credentials ({}), not the user's consent: make the connection with POST /connections (this service serves no connect page)",
                        provider.id,
                        provider.auth_mode.as_str()
                    )));
                }
                None
            }
            AuthMode::ClientCredentials => {
                return Err(ServiceError::BadRequest(format!(
                    "provider `{}` connects with credentials (client_credentials), not the user's consent: make the connection with POST /connections",
                    provider.id
                )));
            }
        };
        if !valid_connection_id(&request.connection_id) {
            return Err(fields::FieldError::ConnectionId.into());
        }
        let return_to = match &request.return_to {
            Some(return_to) => Some(self.check_return_to(return_to)?),
            None => None,
        };
        let environment =
            authorization::choose_environment(provider, request.environment.as_deref(), None)?;
        if let Some(code) = &request.data_center {
            select_data_center(provider, Some(code)).map_err(|e| bad(&e))?;
        }
        if client.is_some() {
            checked_scopes(provider, &request.scopes).map_err(|e| bad(&e))?;
        } else if !request.scopes.is_empty() {
            return Err(ServiceError::BadRequest(format!(
                "provider `{}` authenticates with `{}`, which has no scopes",
                provider.id,
                provider.auth_mode.as_str()
            )));
        }
        // The values given are checked now; one the provider needs and the platform left out
        // is asked on the connect page.
        let table = match checked_values(provider, &request.params)? {
            Ok(table) => Some(table),
            Err(missing) if self.connect.is_none() => return Err(bad(&missing)),
            Err(_) => None,
        };
        let expires_at = unix_now() + SESSION_LIFETIME_SECS;
        let mut authorization_url = None;
        let mut state_hash = None;
        if let (Some(client), Some(table)) = (client, &table) {
            let pending = authorization(
                table,
                client,
                request.data_center.clone(),
                request.scopes.clone(),
            )?;
            state_hash = Some(
                self.keep_pending(
                    &pending,
                    PendingSession {
                        provider: &request.provider,
                        connection_id: &request.connection_id,
                        params: &request.params,
                        environment,
                        return_to: return_to.clone(),
                        expires_at,
                    },
                )
                .await?,
            );
            authorization_url = Some(pending.url.to_string());
        }
        let connect_url = match &self.connect {
            Some(pages) => Some(
                self.open_page(pages, &request, state_hash, return_to, expires_at)
                    .await?,
            ),
            None => None,
        };
        // Sessions nobody finished are swept as new ones start.
        let purged = self.store.purge_expired_pending(unix_now() as i64).await?;
        tracing::info!(provider = %request.provider, connection_id = %request.connection_id, purged, "session started");
        Ok(Session {
            authorization_url,
            connect_url,
            expires_at,
        })
    }

    /// Keeps a pending authorization (sealed, keyed by its state's hash) until its callback;
    /// returns the hash.
    async fn keep_pending(
        &self,
        pending: &PendingAuthorization,
        session: PendingSession<'_>,
    ) -> Result<String, ServiceError> {
        let hash = state_hash(&pending.state);
        let plaintext = serde_json::to_vec(pending).expect("a pending authorization serialises");
        self.store
            .insert_pending(&PendingRecord {
                sealed: self
                    .cipher
                    .seal(&tokens::pending_context(&hash), &plaintext),
                state_hash: hash.clone(),
                provider: session.provider.to_owned(),
                connection_id: session.connection_id.to_owned(),
                params: session.params.clone(),
                expires_at: session.expires_at as i64,
                environment: session.environment,
                return_to: session.return_to,
            })
            .await?;
        Ok(hash)
    }

    /// Completes a session from the callback's query string: consumes the session (single
    /// use, also when the callback then fails), verifies the callback as the engine does
    /// (state, error, data center, issuer), exchanges the code and stores the connection.
    pub async fn complete_callback(&self, query: &str) -> Result<ConnectionRecord, ServiceError> {
        self.finish_callback(query).await.1
    }

    /// [`Service::complete_callback`], with where the session sends the browser at the end
    /// (when the callback found a session that has a `return_to`).
    pub(crate) async fn finish_callback(
        &self,
        query: &str,
    ) -> (Option<Landing>, Result<ConnectionRecord, ServiceError>) {
        let pending_row = match self.take_callback_session(query).await {
            Ok(row) => row,
            Err(error) => return (None, Err(error)),
        };
        let landing = pending_row.return_to.clone().map(|return_to| Landing {
            return_to,
            provider: pending_row.provider.clone(),
            connection_id: pending_row.connection_id.clone(),
        });
        (landing, self.complete_pending(query, pending_row).await)
    }

    /// Consumes the session a callback names by its state (single use, also when the
    /// callback then fails).
    async fn take_callback_session(&self, query: &str) -> Result<PendingRecord, ServiceError> {
        let unknown = || ServiceError::Callback(CallbackError::UnknownState);
        let state = callback_state(query).ok_or_else(unknown)?;
        self.store
            .take_pending(&state_hash(&state))
            .await?
            .ok_or_else(unknown)
    }

    /// Verifies a callback against its consumed session, exchanges the code and stores the
    /// connection.
    async fn complete_pending(
        &self,
        query: &str,
        pending_row: PendingRecord,
    ) -> Result<ConnectionRecord, ServiceError> {
        let refused = ServiceError::Callback;
        let hash = pending_row.state_hash.clone();
        if pending_row.expires_at < unix_now() as i64 {
            return Err(refused(CallbackError::Expired));
        }
        let plaintext = self
            .cipher
            .open(&tokens::pending_context(&hash), &pending_row.sealed)?;
        let pending: PendingAuthorization =
            serde_json::from_slice(&plaintext).map_err(|_| CryptoError::Tampered)?;
        let (provider, client) = self.provider(&pending_row.provider)?;
        let table = connection_table(provider, &values_of(&pending_row.params), None)
            .map_err(|e| refused(CallbackError::Refused(e.into())))?;
        // What the provider or the callback says is scrubbed of what this flow holds secret.
        let known = Known::client_secrets(&table, &client.credentials)
            .with(&callback_param(query, "code").unwrap_or_default())
            .with(pending.pkce_verifier.as_ref().map_or("", |v| v.expose()));
        let tokens =
            complete_authorization(&self.http, &table, &client.credentials, &pending, query)
                .await
                .map_err(|e| refused(CallbackError::Refused(known.scrub_error(e))))?;
        let now = unix_now() as i64;
        let mut record = ConnectionRecord {
            provider: pending_row.provider.clone(),
            connection_id: pending_row.connection_id.clone(),
            data_center: tokens.data_center.clone(),
            issuer: tokens.issuer.clone(),
            scopes: pending.scopes.clone(),
            granted_scope: None,
            token_type: None,
            metadata: Default::default(),
            params: pending_row.params.clone(),
            expires_at: None,
            status: ConnectionStatus::Active,
            tokens: crypto::Sealed {
                key_id: String::new(),
                bytes: Vec::new(),
            },
            generation: 0,
            created_at: now,
            updated_at: now,
            auth_mode: AuthMode::Oauth2Code,
            environment: pending_row.environment.clone(),
        };
        refresh::apply_tokens(&self.cipher, &mut record, &tokens, &Default::default());
        let event = self.event(EventType::Created, &record);
        self.store
            .upsert_connection(&record, event.as_ref())
            .await?;
        self.wake_delivery();
        // A refreshed set of the replaced connection still waiting for its commit is stale.
        self.refresher
            .forget(&record.provider, &record.connection_id);
        tracing::info!(provider = %record.provider, connection_id = %record.connection_id, data_center = %record.data_center, "connection stored");
        Ok(record)
    }

    /// One page of connections (metadata only), filtered by provider and status, in
    /// (provider, connection_id) order; see [`PageRequest`].
    pub async fn connections(
        &self,
        request: &listing::PageRequest,
    ) -> Result<listing::Page, ServiceError> {
        listing::page(self.store.as_ref(), &self.cipher, request).await
    }

    /// One connection (metadata only).
    pub async fn connection(
        &self,
        provider: &str,
        connection_id: &str,
    ) -> Result<ConnectionRecord, ServiceError> {
        self.store
            .connection(provider, connection_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no connection `{connection_id}` for provider `{provider}`"
                ))
            })
    }

    /// The API base URL of a connection's data center in its environment, with the
    /// connection's values filled in (a shop's host, Salesforce's `instance_url`); `None` when
    /// the provider has no API section or the values no longer fill its definition.
    pub fn api_base_url(&self, record: &ConnectionRecord) -> Option<String> {
        let provider = self.providers.get(&record.provider)?;
        let environment = self.environment(record)?;
        let table =
            connection_table(provider, &values_of(&record.params), Some(&record.metadata)).ok()?;
        let dc = table.data_center(&record.data_center)?;
        dc.api_base_urls.get(&environment).cloned()
    }

    /// The API environment a connection uses: the one it was made for, else the definition's
    /// first; `None` when the provider has no API section (or no longer defines it).
    pub fn environment(&self, record: &ConnectionRecord) -> Option<String> {
        let provider = self.providers.get(&record.provider)?;
        authorization::choose_environment(provider, None, record.environment.as_deref())
            .ok()
            .flatten()
    }

    /// The client a provider's connections use unless they brought their own: the platform's,
    /// from the clients file.
    fn platform_client(&self, id: &str) -> Result<Credentials, ServiceError> {
        self.provider(id)
            .map(|(_, client)| client.credentials.clone())
    }

    /// A valid access token: the stored one while it is outside the refresh margin, else
    /// (or with `force`) a renewed one, renewed once however many callers ask. An
    /// `oauth2_code` connection is refreshed with its refresh token and the platform's client;
    /// a `client_credentials` one asks again with its own client or the platform's; a
    /// `token_request` one makes its refresh request, or its token request again.
    pub async fn token(
        &self,
        provider_id: &str,
        connection_id: &str,
        force: bool,
    ) -> Result<IssuedToken, ServiceError> {
        self.renewed_token(provider_id, connection_id, Renew::forced(force))
            .await
    }

    /// An access token, renewed first as `renew` says, once however many callers ask.
    pub(crate) async fn renewed_token(
        &self,
        provider_id: &str,
        connection_id: &str,
        when: Renew,
    ) -> Result<IssuedToken, ServiceError> {
        let provider = Arc::clone(self.provider_table(provider_id)?);
        let platform = match provider.auth_mode {
            AuthMode::Oauth2Code => Some(self.platform_client(provider_id)?),
            _ => self
                .clients
                .get(provider_id)
                .map(|client| client.credentials.clone()),
        };
        let (http, retry) = (self.http.clone(), self.retry.clone());
        let (record, tokens) = self
            .refresher
            .renewed(
                (provider_id, connection_id),
                self.refresh_margin_secs,
                when,
                move |record, tokens, secrets| async move {
                    let table = connection_table(
                        &provider,
                        &values_of(&record.params),
                        Some(&tokens.metadata),
                    )?;
                    let client = match &secrets.client {
                        Some(own) => Some(direct::own_client(
                            select_data_center(&table, Some(&tokens.data_center))?,
                            own,
                        )),
                        None => platform,
                    };
                    let mut known = client
                        .as_ref()
                        .map(|client| Known::client_secrets(&table, client))
                        .unwrap_or_default()
                        .with(tokens.access_token.expose())
                        .with(tokens.refresh_token.as_ref().map_or("", |t| t.expose()));
                    for secret in secrets.values() {
                        known = known.with(secret);
                    }
                    let renewed = match (record.auth_mode, &client) {
                        (AuthMode::Oauth2Code, Some(client)) => {
                            refresh_tokens(&http, &table, client, &tokens, &retry).await
                        }
                        _ => {
                            renew(
                                &http,
                                &table,
                                client.as_ref(),
                                &ConnectionValues::new(),
                                &secrets.credential_values(),
                                &tokens,
                            )
                            .await
                        }
                    };
                    renewed.map_err(|e| known.scrub_error(e))
                },
            )
            .await?;
        Ok(IssuedToken {
            api_base_url: self.api_base_url(&record),
            record,
            tokens,
        })
    }

    /// Revokes a connection at the provider when its definition can, then deletes it. A
    /// provider that already considers the token invalid does not block the deletion; one
    /// that cannot be reached does (the caller retries, nothing is left un-revoked silently).
    pub async fn delete(
        &self,
        provider_id: &str,
        connection_id: &str,
    ) -> Result<Option<RevokedToken>, ServiceError> {
        let record = self.connection(provider_id, connection_id).await?;
        let provider = self.provider_table(provider_id)?;
        let revokes = provider
            .token
            .as_ref()
            .is_some_and(|token| token.revoke.is_some());
        let revoked = if revokes && record.auth_mode.has_token() {
            let (tokens, secrets) = tokens::open(&self.cipher, &record)?;
            let tokens = tokens.ok_or(CryptoError::Tampered)?;
            let table =
                connection_table(provider, &values_of(&record.params), Some(&tokens.metadata))
                    .map_err(|e| ServiceError::Provider(e.into()))?;
            let client = match &secrets.client {
                Some(own) => direct::own_client(
                    select_data_center(&table, Some(&tokens.data_center))
                        .map_err(ServiceError::Provider)?,
                    own,
                ),
                None => self.platform_client(provider_id)?,
            };
            let known = Known::client_secrets(&table, &client)
                .with(tokens.access_token.expose())
                .with(tokens.refresh_token.as_ref().map_or("", |t| t.expose()));
            match revoke(&self.http, &table, &client, &tokens).await {
                Ok(kind) => Some(kind),
                Err(OAuthError::Rejected { .. }) => None,
                Err(error) => return Err(ServiceError::Provider(known.scrub_error(error))),
            }
        } else {
            None
        };
        // Only the generation whose tokens were revoked is deleted: a reconnect (or a refresh)
        // that landed meanwhile wrote a newer one, which is kept with its live tokens.
        if !self
            .store
            .delete_connection(
                provider_id,
                connection_id,
                record.generation,
                self.event(EventType::Deleted, &record).as_ref(),
            )
            .await?
        {
            return Err(ServiceError::Changed(format!(
                "connection `{connection_id}` of `{provider_id}` changed while it was being deleted (reconnected or refreshed); nothing was deleted: DELETE again to revoke and delete the current one"
            )));
        }
        self.refresher.forget(provider_id, connection_id);
        self.wake_delivery();
        tracing::info!(
            provider = provider_id,
            connection_id,
            revoked = revoked.is_some(),
            "connection deleted"
        );
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_found_in_a_callback_query_and_hashed() {
        assert_eq!(
            callback_state("?code=c&state=a%2Bb&location=eu").as_deref(),
            Some("a+b")
        );
        assert_eq!(callback_state("code=c"), None);
        assert_eq!(
            state_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn connection_ids_are_bounded() {
        assert!(valid_connection_id("user-42@acme"));
        assert!(!valid_connection_id(""));
        assert!(!valid_connection_id("a\nb"));
        assert!(!valid_connection_id(&"x".repeat(MAX_CONNECTION_ID_LEN + 1)));
    }

    #[test]
    fn connection_ids_are_bounded_in_characters_as_the_message_says() {
        assert!(valid_connection_id(&"ü".repeat(MAX_CONNECTION_ID_LEN)));
        assert!(!valid_connection_id(&"ü".repeat(MAX_CONNECTION_ID_LEN + 1)));
    }
}
