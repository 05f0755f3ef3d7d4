//! What the service does at each step of a connect page: open it when the session starts,
//! show it, take its submission, and say where the browser goes next.
//!
//! A submission is checked completely before anything is consumed: the form's fields
//! ([`super::form`]), then the whole table the values fill (every URL rechecked, never a
//! loopback or IP host) and the authorization request. Only then is the page taken (single
//! use), with the session's own pending authorization, and the new pending authorization
//! stored with the session's expiry, so the page never outlives its session.

use std::sync::Arc;

use super::form::Answers;
use super::headers::origin_of;
use super::model::{CREDENTIAL_PREFIX, ConnectForm, DATA_CENTER_FIELD, PARAM_PREFIX, Refusals};
use super::return_to::{Outcome, landing_url};
use super::{ConnectPages, ConnectSettings};
use crate::definition::types::AuthMode;
use crate::oauth::authorize::random_token;
use crate::oauth::connection_table;
use crate::oauth::token::unix_now;
use crate::resolve::connection::ConnectionError;
use crate::resolve::table::ResolvedProvider;
use crate::service::authorization::choose_environment;
use crate::service::direct::ConnectionRequest;
use crate::service::fields::FieldError;
use crate::service::store::{ConnectPageRecord, DatabaseError};
use crate::service::{
    PendingSession, Service, ServiceError, SessionRequest, authorization, local_host_url,
    state_hash, values_of,
};

/// Random bytes in a page token.
const PAGE_TOKEN_BYTES: usize = 32;

/// A connect page opened from its URL.
#[derive(Debug)]
pub(crate) struct OpenPage {
    /// The token from the URL (keys the CSRF token).
    pub(crate) token: String,
    /// The stored row.
    pub(crate) record: ConnectPageRecord,
    /// What the platform fixed.
    pub(crate) settings: ConnectSettings,
    /// The provider's unfilled table.
    pub(crate) provider: Arc<ResolvedProvider>,
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub(crate) enum PageRefusal {
    /// No such page: a wrong link, or one already used.
    Unknown,
    /// The session expired.
    Expired,
    /// The service failed (database, a provider no longer configured).
    Failed(ServiceError),
}

/// Where the browser goes after a submission.
#[derive(Debug)]
pub(crate) enum Next {
    /// Redirect there (the provider's authorization URL, or `return_to`).
    Redirect(String),
    /// The provider's authorization URL on a host the page's `form-action` could not name
    /// (it depends on a value the user typed): offered as a link instead.
    Continue(String),
    /// Connected, and the session has no `return_to`.
    Connected,
    /// The page again, with these messages; nothing was stored or consumed.
    Refused(Refusals),
    /// The page was used meanwhile (or its session was completed another way).
    Used,
}

impl Service {
    /// `return_to`, checked against the allowed origins.
    pub(crate) fn check_return_to(&self, return_to: &str) -> Result<String, ServiceError> {
        let pages = self.connect.as_ref().ok_or_else(|| {
            ServiceError::BadRequest(
                "return_to needs connect pages, which this service does not serve".to_owned(),
            )
        })?;
        pages
            .return_origins
            .check(return_to)
            .map(String::from)
            .map_err(ServiceError::BadRequest)
    }

    /// Stores a session's connect page; returns its URL.
    pub(crate) async fn open_page(
        &self,
        pages: &ConnectPages,
        request: &SessionRequest,
        state_hash_of_session: Option<String>,
        return_to: Option<String>,
        expires_at: u64,
    ) -> Result<String, ServiceError> {
        let token = random_token(PAGE_TOKEN_BYTES);
        let settings = ConnectSettings {
            data_center: request.data_center.clone(),
            environment: request.environment.clone(),
            scopes: request.scopes.clone(),
            params: request.params.clone(),
        };
        self.store
            .insert_connect_page(&ConnectPageRecord {
                page_hash: state_hash(&token),
                state_hash: state_hash_of_session,
                provider: request.provider.clone(),
                connection_id: request.connection_id.clone(),
                settings: serde_json::to_string(&settings).expect("settings serialise"),
                return_to,
                expires_at: expires_at as i64,
            })
            .await?;
        Ok(pages.connect_url(&token))
    }

    /// The page a token names, while its session lasts.
    pub(crate) async fn open_connect_page(&self, token: &str) -> Result<OpenPage, PageRefusal> {
        let record = self
            .store
            .connect_page(&state_hash(token))
            .await
            .map_err(|e| PageRefusal::Failed(e.into()))?
            .ok_or(PageRefusal::Unknown)?;
        if record.expires_at < unix_now() as i64 {
            return Err(PageRefusal::Expired);
        }
        let settings = serde_json::from_str(&record.settings).map_err(|e| {
            PageRefusal::Failed(
                DatabaseError::Corrupt(format!("connect page settings: {e}")).into(),
            )
        })?;
        let provider = self
            .providers
            .get(&record.provider)
            .cloned()
            .ok_or_else(|| {
                PageRefusal::Failed(ServiceError::NotFound(format!(
                    "provider `{}` is no longer served",
                    record.provider
                )))
            })?;
        Ok(OpenPage {
            token: token.to_owned(),
            record,
            settings,
            provider,
        })
    }

    /// The questions of a page.
    pub(crate) fn connect_form<'a>(&'a self, page: &'a OpenPage) -> ConnectForm<'a> {
        ConnectForm::new(
            &page.provider,
            self.clients.get(&page.record.provider),
            &page.settings,
        )
    }

    /// The origins a page's form may lead to (its CSP `form-action` besides `'self'`): the
    /// provider's authorization servers whose hosts do not wait for a value the user types,
    /// the registered redirect URI, and `return_to`.
    pub(crate) fn form_action(&self, page: &OpenPage) -> Vec<String> {
        let provider = page.provider.as_ref();
        // Hosts that depend on values the platform fixed are known with them filled in.
        let filled = connection_table(provider, &values_of(&page.settings.params), None).ok();
        let table = filled.as_deref().unwrap_or(provider);
        let client = self.clients.get(&page.record.provider);
        // Only the data centers the platform's client is registered in can be reached.
        let mut urls: Vec<&str> = table
            .data_centers
            .iter()
            .filter(|dc| client.is_some_and(|c| c.credentials.client_id_for(dc).is_ok()))
            .filter_map(|dc| dc.authorization.as_ref())
            .flat_map(|a| [a.authorization_url.as_str(), &a.entry_authorization_url])
            .collect();
        if let Some(client) = client {
            urls.push(&client.redirect_uri);
        }
        urls.extend(page.record.return_to.as_deref());
        let mut origins = Vec::new();
        for origin in urls.into_iter().filter_map(origin_of) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }

    /// Takes a checked submission: sends an OAuth user on to the provider, or stores a
    /// credential connection once the provider accepted it; a value the whole table or the
    /// provider refuses comes back as [`Next::Refused`] with nothing stored.
    pub(crate) async fn submit_connect_page(
        &self,
        page: &OpenPage,
        answers: Answers,
    ) -> Result<Next, ServiceError> {
        let record = &page.record;
        let mut params = page.settings.params.clone();
        params.extend(answers.params);
        let data_center = page.settings.data_center.clone().or(answers.data_center);
        let environment = page.settings.environment.clone().or(answers.environment);
        if page.provider.auth_mode != AuthMode::Oauth2Code {
            return self
                .store_credentials(
                    record,
                    ConnectionRequest {
                        provider: record.provider.clone(),
                        connection_id: record.connection_id.clone(),
                        credentials: answers.credentials,
                        params,
                        environment,
                        data_center,
                    },
                )
                .await;
        }
        let (provider, client) = self.provider(&record.provider)?;
        let environment = match choose_environment(provider, environment.as_deref(), None) {
            Ok(environment) => environment,
            Err(field) => return Ok(Next::Refused(field_refusal(&field))),
        };
        let table = match connection_table(provider, &values_of(&params), None) {
            Ok(table) => table,
            Err(error) => return Ok(Next::Refused(refusal(&error))),
        };
        if let Some(url) = local_host_url(&table) {
            return Ok(Next::Refused(Refusals::form(format!(
                "These values make `{url}`, a loopback or IP address; give the provider's host names."
            ))));
        }
        let pending = match authorization(&table, client, data_center, page.settings.scopes.clone())
        {
            Ok(pending) => pending,
            Err(ServiceError::BadRequest(message)) => {
                return Ok(Next::Refused(Refusals::form(message)));
            }
            Err(other) => return Err(other),
        };
        if !self.take_page(record).await? {
            return Ok(Next::Used);
        }
        self.keep_pending(
            &pending,
            PendingSession {
                provider: &record.provider,
                connection_id: &record.connection_id,
                params: &params,
                environment,
                return_to: record.return_to.clone(),
                expires_at: record.expires_at.max(0) as u64,
            },
        )
        .await?;
        tracing::info!(provider = %record.provider, connection_id = %record.connection_id, "connect page sent the user to the provider");
        let url = pending.url.to_string();
        let listed = origin_of(&url).is_some_and(|o| self.form_action(page).contains(&o));
        Ok(if listed {
            Next::Redirect(url)
        } else {
            Next::Continue(url)
        })
    }

    /// Stores a credential connection the way `POST /connections` does (every field checked,
    /// the provider's verification run, nothing stored unless it passes). The page is taken
    /// first, so two submissions cannot both store, and given back when the connection is
    /// refused, so the user can correct it.
    async fn store_credentials(
        &self,
        record: &ConnectPageRecord,
        request: ConnectionRequest,
    ) -> Result<Next, ServiceError> {
        if !self.take_page(record).await? {
            return Ok(Next::Used);
        }
        match self.create_connection(request).await {
            Ok(_) => {
                tracing::info!(provider = %record.provider, connection_id = %record.connection_id, "connect page stored a connection");
                Ok(Next::Connected)
            }
            Err(error) => {
                self.store.insert_connect_page(record).await?;
                match error {
                    ServiceError::Field(field) => Ok(Next::Refused(field_refusal(&field))),
                    ServiceError::VerificationFailed {
                        provider_status, ..
                    } => Ok(Next::Refused(Refusals::form(format!(
                        "{} did not accept these credentials (it answered HTTP {provider_status}). Check them and submit again.",
                        self.providers
                            .get(&record.provider)
                            .map_or(record.provider.as_str(), |p| p.display_name.as_str())
                    )))),
                    other => Err(other),
                }
            }
        }
    }

    /// Consumes a page and its session's own pending authorization; false when either was
    /// already gone (used meanwhile).
    async fn take_page(&self, record: &ConnectPageRecord) -> Result<bool, ServiceError> {
        if self
            .store
            .take_connect_page(&record.page_hash)
            .await?
            .is_none()
        {
            return Ok(false);
        }
        if let Some(hash) = &record.state_hash {
            if self.store.take_pending(hash).await?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Where the browser lands for a finished connection of `record`'s session.
pub(crate) fn landing_for(record: &ConnectPageRecord, outcome: Outcome<'_>) -> Option<String> {
    let return_to = record.return_to.as_deref()?;
    landing_url(return_to, &record.provider, &record.connection_id, outcome)
}

/// A table-level refusal, next to its field when it names one.
fn refusal(error: &ConnectionError) -> Refusals {
    match FieldError::from_connection(error) {
        Some(field) => field_refusal(&field),
        None => Refusals::form(error.to_string()),
    }
}

/// A refused request field, next to the page's field it names (the page shows one it does
/// not have above the form).
fn field_refusal(field: &FieldError) -> Refusals {
    let name = field.field();
    let on_page = if let Some(name) = name.strip_prefix("credentials.") {
        format!("{CREDENTIAL_PREFIX}{name}")
    } else if let Some(name) = name.strip_prefix("params.") {
        format!("{PARAM_PREFIX}{name}")
    } else if name == "dc" {
        DATA_CENTER_FIELD.to_owned()
    } else {
        name
    };
    let mut refused = Refusals::default();
    refused.fields.insert(on_page, field.to_string());
    refused
}
