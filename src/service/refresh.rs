//! Refresh coordination: however many tasks and processes ask for one connection's token at
//! once, the provider sees one refresh, and every caller gets the token it produced.
//!
//! The steps, for a caller that found the stored token expiring (or was asked to force a
//! refresh):
//! 1. Wait for this process's gate for the connection, so only one task per process queues
//!    on the database lock (the others would only hold pool connections while waiting).
//! 2. Take the database lock ([`Store::lock_connection`]) and re-read the row under it. If
//!    its generation moved since the caller's first read, someone refreshed meanwhile: release
//!    and return that token. A still-valid token is returned without refreshing as well.
//! 3. Otherwise refresh at the provider (transient failures retried within bounds by the
//!    engine), seal the new token set, a rotated refresh token included, and commit it. Only
//!    after the commit does any caller see the new access token, so a crash before the commit
//!    leaves the old, still-valid refresh token in place, and a crash after it loses nothing.
//! 4. `invalid_grant` marks the row `reauthorization_required` (committed, never deleted);
//!    other failures release the lock and leave the row as it was.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::crypto::{Cipher, CryptoError};
use super::store::{ConnectionRecord, ConnectionStatus, DatabaseError, Store};
use super::tokens::{open_tokens, seal_tokens};
use crate::oauth::token::unix_now;
use crate::oauth::{OAuthError, TokenSet};

/// Why no token could be handed out.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No such connection.
    #[error("no connection `{connection_id}` for provider `{provider}`")]
    NotFound {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
    },
    /// The provider refused the refresh token; the user must connect again.
    #[error(
        "connection `{connection_id}` of `{provider}` needs reauthorization: the provider refused its refresh token; start a new connect session"
    )]
    ReauthorizationRequired {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
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

/// One connection's gate: held by the task of this process that refreshes it.
type Gate = Arc<tokio::sync::Mutex<()>>;

/// Per-process gates, one per connection being refreshed, keyed by (provider, connection id).
#[derive(Debug, Default)]
pub struct Gates {
    gates: Mutex<HashMap<(String, String), Gate>>,
}

impl Gates {
    fn gate(&self, provider: &str, connection_id: &str) -> Gate {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry((provider.to_owned(), connection_id.to_owned()))
            .or_default()
            .clone()
    }

    /// Forgets a gate nobody else holds (the map would otherwise grow with every connection
    /// ever refreshed). A task that races this only creates a fresh gate; the database lock
    /// still keeps the refresh single.
    fn forget(&self, provider: &str, connection_id: &str, gate: Arc<tokio::sync::Mutex<()>>) {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        let key = (provider.to_owned(), connection_id.to_owned());
        if Arc::strong_count(&gate) == 2 {
            gates.remove(&key);
        }
    }
}

/// A record with its opened tokens.
pub type Live = (ConnectionRecord, TokenSet);

/// Whether `invalid_grant` (or Zoho's `invalid_code` on a refresh) says the refresh token is
/// dead for good.
pub fn needs_reauthorization(error: &OAuthError) -> bool {
    match error {
        OAuthError::Rejected { error, .. } => error == "invalid_grant" || error == "invalid_code",
        OAuthError::NoRefreshToken => true,
        _ => false,
    }
}

/// The connection's tokens, refreshed first when they expire within `margin_secs` (or when
/// `force`), with `refresh` called at most once across every process sharing the store.
pub async fn fresh_tokens<F, Fut>(
    store: &dyn Store,
    cipher: &Cipher,
    gates: &Gates,
    (provider, connection_id): (&str, &str),
    margin_secs: u64,
    force: bool,
    refresh: F,
) -> Result<Live, TokenError>
where
    F: FnOnce(ConnectionRecord, TokenSet) -> Fut,
    Fut: Future<Output = Result<TokenSet, OAuthError>>,
{
    let not_found = || TokenError::NotFound {
        provider: provider.to_owned(),
        connection_id: connection_id.to_owned(),
    };
    let reauthorize = || TokenError::ReauthorizationRequired {
        provider: provider.to_owned(),
        connection_id: connection_id.to_owned(),
    };
    let seen = store
        .connection(provider, connection_id)
        .await?
        .ok_or_else(not_found)?;
    if seen.status == ConnectionStatus::ReauthorizationRequired {
        return Err(reauthorize());
    }
    let tokens = open_tokens(cipher, &seen)?;
    if !force && !tokens.expires_within(unix_now(), margin_secs) {
        return Ok((seen, tokens));
    }

    let gate = gates.gate(provider, connection_id);
    let result = async {
        let _turn = gate.lock().await;
        let lock = store
            .lock_connection(provider, connection_id)
            .await?
            .ok_or_else(not_found)?;
        let current = lock.record().clone();
        if current.status == ConnectionStatus::ReauthorizationRequired {
            lock.release().await?;
            return Err(reauthorize());
        }
        let tokens = match open_tokens(cipher, &current) {
            Ok(tokens) => tokens,
            Err(error) => {
                lock.release().await?;
                return Err(error.into());
            }
        };
        let refreshed_meanwhile = current.generation != seen.generation;
        if refreshed_meanwhile || (!force && !tokens.expires_within(unix_now(), margin_secs)) {
            lock.release().await?;
            return Ok((current, tokens));
        }
        match refresh(current.clone(), tokens).await {
            Ok(new_tokens) => {
                let mut record = current;
                apply_tokens(cipher, &mut record, &new_tokens);
                lock.commit(&record).await?;
                record.generation += 1;
                tracing::info!(provider, connection_id, "refreshed");
                Ok((record, new_tokens))
            }
            Err(error) if needs_reauthorization(&error) => {
                let mut record = current;
                record.status = ConnectionStatus::ReauthorizationRequired;
                lock.commit(&record).await?;
                tracing::warn!(provider, connection_id, %error, "refresh token refused; reauthorization required");
                Err(reauthorize())
            }
            Err(error) => {
                lock.release().await?;
                tracing::warn!(provider, connection_id, %error, "refresh failed");
                Err(error.into())
            }
        }
    }
    .await;
    gates.forget(provider, connection_id, gate);
    result
}

/// Writes a new token set into a record (sealed; metadata in clear).
pub fn apply_tokens(cipher: &Cipher, record: &mut ConnectionRecord, tokens: &TokenSet) {
    record.tokens = seal_tokens(cipher, &record.provider, &record.connection_id, tokens);
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
