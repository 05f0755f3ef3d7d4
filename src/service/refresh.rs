//! Refresh coordination: however many tasks and processes ask for one connection's token at
//! once, the provider sees one refresh, every caller gets the token it produced, and the token
//! set the provider answered with is never thrown away while the process lives.
//!
//! The steps, for a caller that found the stored token expiring (or was asked to force a
//! refresh):
//! 1. Join this process's flight for the connection, or start one. A flight is a task of its
//!    own (`tokio::spawn`): callers only wait for its outcome, so a caller that hangs up, or
//!    a request that times out, cancels nothing.
//! 2. The flight re-reads the row. If its generation moved since the caller's first read,
//!    someone refreshed meanwhile: that token is the outcome. A still-valid token is returned
//!    without refreshing as well.
//! 3. Otherwise it claims the row's lease ([`Store::claim_refresh`], a compare-and-set on the
//!    generation; other instances wait for the generation to move or the lease to expire). No
//!    database lock or transaction is held while the provider is asked; the lease is renewed
//!    meanwhile, so a slow provider does not lose it and a dead holder's lease runs out.
//! 4. The new token set, a rotated refresh token included, is sealed and committed with a
//!    compare-and-set on generation and holder. If the commit fails (database down, disk
//!    full), the set is kept in memory: callers of this process are handed it, and the
//!    flight's task keeps retrying the commit, with backoff, until it lands or the row is
//!    replaced (a reconnect) or deleted.
//! 5. `invalid_grant` marks the row `reauthorization_required` (committed, never deleted), and
//!    so does `invalid_client` or a 401 at the token endpoint for what the connection supplied
//!    itself (a `token_request` connection's credentials, a `client_credentials` connection's
//!    own client);
//!    other failures release the lease and leave the row as it was. An `oauth2_code`
//!    connection without a refresh token is never sent to the provider and never marked: its
//!    access token is handed out while it is valid, and once it expired the caller is told to
//!    connect again. `client_credentials` and `token_request` connections need no refresh
//!    token: their renewal asks again with the client or credentials sealed in the row,
//!    through the same single flight.
//!
//! The one window left: the process dies (or is killed) after the provider answered and
//! before the commit landed. A provider that rotates refresh tokens has then retired the
//! stored one, and the connection needs reauthorization. The same holds for a lease that
//! expired while the database was unreachable and was claimed by another instance before
//! this one's retried commit landed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::crypto::{Cipher, CryptoError};
use super::metrics::{Metrics, RefreshOutcome};
use super::outside_text::for_log;
use super::store::{ConnectionRecord, ConnectionStatus, DatabaseError, Lease, Store};
use super::tokens::{ConnectionSecrets, open, open_tokens, seal};
use super::webhooks::{self, EventType};
use crate::definition::types::AuthMode;
use crate::oauth::token::unix_now;
use crate::oauth::{OAuthError, TokenSet};

/// Why no token could be handed out.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// No such connection.
    #[error("no connection `{connection_id}` for provider `{provider}`")]
    NotFound {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
    },
    /// The provider refused the refresh token, or the credentials the connection was made
    /// with; the user must connect again.
    #[error(
        "connection `{connection_id}` of `{provider}` needs reauthorization: the provider refused its refresh token or credentials; start a new connect session"
    )]
    ReauthorizationRequired {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
    },
    /// The access token expired and the provider issued no refresh token: nothing can be
    /// refreshed (nothing was sent to the provider, and the row is left as it is).
    #[error(
        "the access token of connection `{connection_id}` of `{provider}` expired and the provider issued no refresh token; start a new connect session"
    )]
    Expired {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
    },
    /// The connection holds no token (an `api_key` or `basic` connection) while its
    /// provider's definition now uses a token mode.
    #[error(
        "connection `{connection_id}` of `{provider}` was made as a `{mode}` connection, which holds no token, and the provider's definition now uses another mode; connect again"
    )]
    NoToken {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
        /// The connection's mode.
        mode: &'static str,
    },
    /// The refresh failed for another reason (after the bounded retries); nothing changed.
    #[error("refresh failed: {0}")]
    Refresh(#[from] OAuthError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] DatabaseError),
    /// A sealed row could not be opened.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// When a token is renewed before it is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Renew {
    /// When it expires within the refresh margin.
    IfExpiring,
    /// Always (the token route's `force_refresh`).
    Always,
    /// When the stored token is still the one of this generation, which the provider's API
    /// refused; a token stored since is handed out as it is. However many callers (here or in
    /// other instances) saw the same token refused, the provider sees one refresh.
    Refused(i64),
}

impl Renew {
    /// [`Renew::Always`] when `force`, else [`Renew::IfExpiring`].
    pub(crate) fn forced(force: bool) -> Renew {
        if force {
            Renew::Always
        } else {
            Renew::IfExpiring
        }
    }
}

/// A record with its opened tokens.
pub(super) type Live = (ConnectionRecord, TokenSet);

/// What a flight hands every caller that waited for it.
type Outcome = Result<Live, TokenError>;

/// (provider, connection id).
type Key = (String, String);

/// Whether `invalid_grant` (or Zoho's `invalid_code` on a refresh) says the refresh token is
/// dead for good. Only an answer from the provider can say so.
pub(super) fn needs_reauthorization(error: &OAuthError) -> bool {
    match error {
        OAuthError::Rejected { error, .. } => error == "invalid_grant" || error == "invalid_code",
        _ => false,
    }
}

/// Whether the token endpoint refused what the connection itself supplied (`invalid_client`,
/// or HTTP 401): the credentials of a `token_request` connection, the own client of a
/// `client_credentials` one. Like a dead refresh token, only new credentials mend that. A
/// `client_credentials` connection on the platform's client (`--clients`) is not judged by
/// it: the refused client is then the platform's, which no user can mend by connecting again,
/// and marking would strand every connection of the provider at once.
fn credentials_refused(mode: AuthMode, own_client: bool, error: &OAuthError) -> bool {
    let supplied_by_the_connection = match mode {
        AuthMode::TokenRequest => true,
        AuthMode::ClientCredentials => own_client,
        _ => false,
    };
    supplied_by_the_connection
        && match error {
            OAuthError::Rejected { error, status, .. } => {
                error == "invalid_client" || *status == 401
            }
            OAuthError::Refused { status, .. } | OAuthError::UnexpectedStatus { status, .. } => {
                *status == 401
            }
            _ => false,
        }
}

/// Whether a renewal's failure means the connection needs reauthorization: the refresh token
/// or the connection's own credentials were refused.
fn refused_for_good(
    record: &ConnectionRecord,
    secrets: &ConnectionSecrets,
    error: &OAuthError,
) -> bool {
    needs_reauthorization(error)
        || credentials_refused(record.auth_mode, secrets.client.is_some(), error)
}

/// How long leases last and how patiently commits are retried.
#[derive(Debug, Clone)]
pub(crate) struct Timing {
    /// How long a claimed lease lasts without renewal; renewed every third of it.
    pub(crate) lease: Duration,
    /// First wait before polling another instance's lease again (doubles up to a second).
    pub(crate) poll: Duration,
    /// How long to wait for another instance's refresh before giving up (503).
    pub(crate) wait_limit: Duration,
    /// First wait before retrying a failed commit (doubles up to `commit_retry_max`).
    pub(crate) commit_retry: Duration,
    /// Longest wait between commit retries.
    pub(crate) commit_retry_max: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15),
            poll: Duration::from_millis(50),
            wait_limit: Duration::from_secs(110),
            commit_retry: Duration::from_millis(250),
            commit_retry_max: Duration::from_secs(5),
        }
    }
}

/// One connection's state in this process.
#[derive(Default)]
struct Slot {
    /// The refresh in flight, which callers join.
    flight: Option<watch::Receiver<Option<Outcome>>>,
    /// A token set the provider issued whose commit has not landed yet.
    unsaved: Option<Live>,
}

/// Hands out fresh tokens, refreshing each connection once however many callers ask.
pub(super) struct Refresher {
    store: Arc<dyn Store>,
    cipher: Cipher,
    /// This process's lease holder id.
    holder: String,
    timing: Timing,
    slots: Mutex<HashMap<Key, Slot>>,
    /// When webhooks are on: what wakes their delivery after an event is written.
    events: Option<Arc<Notify>>,
    /// Where the provider's answers are counted.
    metrics: Arc<Metrics>,
}

impl Refresher {
    /// A refresher over `store`, sealing with `cipher`.
    pub(super) fn new(store: Arc<dyn Store>, cipher: Cipher) -> Self {
        Self::with_timing(store, cipher, Timing::default())
    }

    /// A refresher with other lease and retry timing (tests).
    pub(crate) fn with_timing(store: Arc<dyn Store>, cipher: Cipher, timing: Timing) -> Self {
        Self {
            store,
            cipher,
            holder: format!("{:016x}", rand::random::<u64>()),
            timing,
            slots: Mutex::new(HashMap::new()),
            events: None,
            metrics: Arc::default(),
        }
    }

    /// Counts the refreshes the provider is asked for into `metrics` (the service's).
    pub(crate) fn count_into(&mut self, metrics: Arc<Metrics>) {
        self.metrics = metrics;
    }

    /// Writes a `connection.reauthorization_required` event with the row that marks a
    /// connection, and wakes `wake` after it.
    pub(crate) fn emit_events(&mut self, wake: Arc<Notify>) {
        self.events = Some(wake);
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Resolves once no refresh is in flight and every refreshed set is stored (or dropped
    /// because its connection changed): what a shutdown waits for, within its own bound.
    pub(super) async fn settle(&self) {
        while !self.slots().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Forgets a token set kept in memory for a connection that was replaced or deleted.
    pub(crate) fn forget(&self, provider: &str, connection_id: &str) {
        let key = (provider.to_owned(), connection_id.to_owned());
        if let Some(slot) = self.slots().get_mut(&key) {
            slot.unsaved = None;
        }
    }

    /// The connection's tokens, renewed first as `renew` says, with `refresh` called at most
    /// once across every process sharing the store. It is given the row, its tokens and what
    /// the connection supplied itself (credentials, its own client), which a renewal sends
    /// again.
    pub(crate) async fn renewed<F, Fut>(
        self: &Arc<Self>,
        (provider, connection_id): (&str, &str),
        margin_secs: u64,
        renew: Renew,
        refresh: F,
    ) -> Result<Live, TokenError>
    where
        F: FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Fut + Send + 'static,
        Fut: Future<Output = Result<TokenSet, OAuthError>> + Send + 'static,
    {
        let key = (provider.to_owned(), connection_id.to_owned());
        // A refreshed set not yet stored is the newest there is: hand it out while it lasts.
        let unsaved = self.slots().get(&key).and_then(|slot| slot.unsaved.clone());
        if let Some((record, tokens)) = unsaved {
            if !tokens.expires_within(unix_now(), 0) {
                return Ok((record, tokens));
            }
        }
        let seen = self
            .store
            .connection(provider, connection_id)
            .await?
            .ok_or_else(|| not_found(&key))?;
        if seen.status == ConnectionStatus::ReauthorizationRequired {
            return Err(reauthorize(&key));
        }
        if !seen.auth_mode.has_token() {
            return Err(no_token(&key, seen.auth_mode));
        }
        let tokens = open_tokens(&self.cipher, &seen)?;
        if tokens.refresh_token.is_none() && !renews_without_refresh_token(seen.auth_mode) {
            // Nothing to send: the access token serves until it expires.
            return if tokens.expires_within(unix_now(), 0) {
                Err(TokenError::Expired {
                    provider: key.0,
                    connection_id: key.1,
                })
            } else {
                Ok((seen, tokens))
            };
        }
        let force = match renew {
            Renew::IfExpiring => false,
            Renew::Always => true,
            // Refreshed (or replaced) since the refused token was handed out: the stored one
            // is newer, and is what the caller needs.
            Renew::Refused(generation) if generation != seen.generation => {
                return Ok((seen, tokens));
            }
            Renew::Refused(_) => true,
        };
        if !force && !tokens.expires_within(unix_now(), margin_secs) {
            return Ok((seen, tokens));
        }

        let mut flight = {
            let mut slots = self.slots();
            let slot = slots.entry(key.clone()).or_default();
            match &slot.flight {
                // A flight whose task ended without an answer (it panicked) is replaced.
                Some(flight) if flight.has_changed().is_ok() => flight.clone(),
                _ => {
                    let (sender, receiver) = watch::channel(None);
                    slot.flight = Some(receiver.clone());
                    let this = Arc::clone(self);
                    let run = Flight {
                        key: key.clone(),
                        seen_generation: seen.generation,
                        margin_secs,
                        force,
                    };
                    tokio::spawn(async move { this.fly(run, refresh, sender).await });
                    receiver
                }
            }
        };
        match flight.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().expect("waited for an outcome"),
            Err(_) => Err(TokenError::Store(DatabaseError::Unavailable(
                "the refresh task ended without an answer".into(),
            ))),
        }
    }

    /// The flight's task: runs the refresh to its end whoever still waits, publishes the
    /// outcome, then retries an unlanded commit until it lands.
    async fn fly<F, Fut>(
        self: Arc<Self>,
        run: Flight,
        refresh: F,
        sender: watch::Sender<Option<Outcome>>,
    ) where
        F: FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Fut + Send + 'static,
        Fut: Future<Output = Result<TokenSet, OAuthError>> + Send + 'static,
    {
        let (outcome, unsaved) = self.refresh_once(&run, refresh).await;
        {
            let mut slots = self.slots();
            let slot = slots.entry(run.key.clone()).or_default();
            slot.flight = None;
            if let (Some(record), Ok(live)) = (&unsaved, &outcome) {
                slot.unsaved = Some((record.clone(), live.1.clone()));
            }
        }
        let _ = sender.send(Some(outcome));
        if let Some(record) = unsaved {
            self.commit_until_landed(&run.key, record).await;
        }
        let mut slots = self.slots();
        if slots
            .get(&run.key)
            .is_some_and(|slot| slot.flight.is_none() && slot.unsaved.is_none())
        {
            slots.remove(&run.key);
        }
    }

    /// Claims (or waits for) the lease, refreshes, and makes the first commit attempt. The
    /// second value is the record to keep committing when that attempt failed.
    async fn refresh_once<F, Fut>(
        &self,
        run: &Flight,
        refresh: F,
    ) -> (Outcome, Option<ConnectionRecord>)
    where
        F: FnOnce(ConnectionRecord, TokenSet, ConnectionSecrets) -> Fut,
        Fut: Future<Output = Result<TokenSet, OAuthError>>,
    {
        let (current, tokens, secrets) = match self.claim(run).await {
            Ok(Claim::Claimed(current, tokens, secrets)) => (current, tokens, secrets),
            Ok(Claim::Done(live)) => return (Ok(live), None),
            Err(error) => return (Err(error), None),
        };
        let (provider, connection_id) = (&run.key.0, &run.key.1);
        let answer = tokio::select! {
            answer = refresh(current.clone(), tokens, secrets.clone()) => answer,
            never = self.keep_lease(&run.key) => match never {},
        };
        let refused = answer
            .as_ref()
            .is_err_and(|error| refused_for_good(&current, &secrets, error));
        self.metrics.refresh(
            provider,
            match &answer {
                Ok(_) => RefreshOutcome::Ok,
                Err(_) if refused => RefreshOutcome::Refused,
                Err(_) => RefreshOutcome::Failed,
            },
        );
        match answer {
            Ok(new_tokens) => {
                let mut record = current;
                apply_tokens(&self.cipher, &mut record, &new_tokens, &secrets);
                match self.store.commit_refresh(&record, &self.holder, None).await {
                    Ok(true) => {
                        tracing::info!(provider, connection_id, "refreshed");
                        let mut stored = record;
                        stored.generation += 1;
                        (Ok((stored, new_tokens)), None)
                    }
                    Ok(false) => {
                        tracing::warn!(
                            provider,
                            connection_id,
                            "refreshed, but the connection was replaced or deleted meanwhile; the new tokens are not stored"
                        );
                        (
                            Err(TokenError::Store(DatabaseError::Unavailable(
                                "the connection changed during its refresh; ask again".into(),
                            ))),
                            None,
                        )
                    }
                    Err(error) => {
                        tracing::warn!(provider, connection_id, %error, "refreshed, but the commit failed; the new tokens are kept in memory and the commit retried");
                        (Ok((record.clone(), new_tokens)), Some(record))
                    }
                }
            }
            Err(error) if refused => {
                let mut record = current;
                record.status = ConnectionStatus::ReauthorizationRequired;
                let event = self.events.as_ref().map(|_| {
                    webhooks::event(
                        EventType::ReauthorizationRequired,
                        &record,
                        unix_now() as i64,
                    )
                });
                match self
                    .store
                    .commit_refresh(&record, &self.holder, event.as_ref())
                    .await
                {
                    Ok(true) => {
                        if let Some(wake) = &self.events {
                            wake.notify_one();
                        }
                    }
                    Ok(false) => {}
                    Err(db) => {
                        tracing::warn!(provider, connection_id, error = %db, "could not mark the connection; the next refresh will ask again");
                    }
                }
                tracing::warn!(provider, connection_id, error = %for_log(&error.to_string()), "refresh token or credentials refused; reauthorization required");
                (Err(reauthorize(&run.key)), None)
            }
            Err(error) => {
                let _ = self
                    .store
                    .release_refresh(provider, connection_id, &self.holder)
                    .await;
                tracing::warn!(provider, connection_id, error = %for_log(&error.to_string()), "refresh failed");
                (Err(error.into()), None)
            }
        }
    }

    /// Re-reads the row until this process holds its lease, or until someone else's refresh
    /// (or a still-valid token) makes one unnecessary.
    async fn claim(&self, run: &Flight) -> Result<Claim, TokenError> {
        let (provider, connection_id) = (&run.key.0, &run.key.1);
        let deadline = tokio::time::Instant::now() + self.timing.wait_limit;
        let mut poll = self.timing.poll;
        loop {
            let current = self
                .store
                .connection(provider, connection_id)
                .await?
                .ok_or_else(|| not_found(&run.key))?;
            if current.status == ConnectionStatus::ReauthorizationRequired {
                return Err(reauthorize(&run.key));
            }
            let (tokens, secrets) = open(&self.cipher, &current)?;
            let Some(tokens) = tokens else {
                return Err(no_token(&run.key, current.auth_mode));
            };
            let refreshed_meanwhile = current.generation != run.seen_generation;
            if refreshed_meanwhile
                || (!run.force && !tokens.expires_within(unix_now(), run.margin_secs))
            {
                return Ok(Claim::Done((current, tokens)));
            }
            let claimed = self
                .store
                .claim_refresh(provider, connection_id, current.generation, &self.lease())
                .await?;
            if claimed {
                return Ok(Claim::Claimed(current, tokens, secrets));
            }
            // Another instance holds the lease: wait for its commit or for its lease to end.
            if tokio::time::Instant::now() >= deadline {
                return Err(TokenError::Store(DatabaseError::Unavailable(format!(
                    "another instance has been refreshing connection `{connection_id}` of `{provider}` for too long; try again"
                ))));
            }
            tokio::time::sleep(poll).await;
            poll = (poll * 2).min(Duration::from_secs(1));
        }
    }

    /// Renews the lease every third of its length, for as long as it is polled.
    async fn keep_lease(&self, (provider, connection_id): &Key) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(self.timing.lease / 3).await;
            if let Err(error) = self
                .store
                .renew_refresh(provider, connection_id, &self.lease())
                .await
            {
                tracing::warn!(provider, connection_id, %error, "could not renew the refresh lease");
            }
        }
    }

    /// Retries a failed commit until it lands or the row changed under it, keeping the lease.
    async fn commit_until_landed(&self, key: &Key, record: ConnectionRecord) {
        let (provider, connection_id) = (&key.0, &key.1);
        let mut wait = self.timing.commit_retry;
        let mut attempts = 1u32;
        let landed = tokio::select! {
            landed = async {
                loop {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.timing.commit_retry_max);
                    attempts += 1;
                    // Stop when the connection was replaced or deleted in this process.
                    let still_kept = self
                        .slots()
                        .get(key)
                        .is_some_and(|slot| slot.unsaved.is_some());
                    if !still_kept {
                        break false;
                    }
                    match self.store.commit_refresh(&record, &self.holder, None).await {
                        Ok(landed) => break landed,
                        Err(error) => {
                            tracing::warn!(provider, connection_id, attempts, %error, "the refreshed tokens are still not stored; retrying");
                        }
                    }
                }
            } => landed,
            never = self.keep_lease(key) => match never {},
        };
        if let Some(slot) = self.slots().get_mut(key) {
            slot.unsaved = None;
        }
        if landed {
            tracing::info!(provider, connection_id, attempts, "refreshed tokens stored");
        } else {
            tracing::warn!(
                provider,
                connection_id,
                "refreshed tokens dropped: the connection was replaced or deleted meanwhile"
            );
        }
    }

    fn lease(&self) -> Lease {
        let now = unix_now() as i64;
        Lease {
            holder: self.holder.clone(),
            now,
            until: now + self.timing.lease.as_secs().max(1) as i64,
        }
    }
}

/// What a flight was started for.
struct Flight {
    key: Key,
    /// The generation the first caller read.
    seen_generation: i64,
    margin_secs: u64,
    force: bool,
}

/// The result of [`Refresher::claim`].
enum Claim {
    /// This process holds the lease on this row, with these tokens and secrets.
    Claimed(ConnectionRecord, TokenSet, ConnectionSecrets),
    /// No refresh needed: these are the tokens to hand out.
    Done(Live),
}

fn not_found((provider, connection_id): &Key) -> TokenError {
    TokenError::NotFound {
        provider: provider.clone(),
        connection_id: connection_id.clone(),
    }
}

fn no_token((provider, connection_id): &Key, mode: AuthMode) -> TokenError {
    TokenError::NoToken {
        provider: provider.clone(),
        connection_id: connection_id.clone(),
        mode: mode.as_str(),
    }
}

fn reauthorize((provider, connection_id): &Key) -> TokenError {
    TokenError::ReauthorizationRequired {
        provider: provider.clone(),
        connection_id: connection_id.clone(),
    }
}

/// Whether a connection of `mode` gets a new token without a refresh token: by asking again
/// with the client (`client_credentials`) or the credentials (`token_request`) it holds.
pub(crate) fn renews_without_refresh_token(mode: AuthMode) -> bool {
    matches!(mode, AuthMode::ClientCredentials | AuthMode::TokenRequest)
}

/// Writes a new token set into a record, sealed with what the connection supplied itself
/// (`secrets`), its metadata in clear.
pub(crate) fn apply_tokens(
    cipher: &Cipher,
    record: &mut ConnectionRecord,
    tokens: &TokenSet,
    secrets: &ConnectionSecrets,
) {
    record.tokens = seal(
        cipher,
        &record.provider,
        &record.connection_id,
        Some(tokens),
        secrets,
    );
    record.token_type = tokens.token_type.clone();
    record.granted_scope = tokens.scope.clone();
    record.metadata = tokens.metadata.clone();
    record.expires_at = tokens.expires_at.map(|at| at as i64);
    record.data_center = tokens.data_center.clone();
    record.issuer = tokens.issuer.clone();
    record.status = ConnectionStatus::Active;
}

#[cfg(test)]
mod tests;
