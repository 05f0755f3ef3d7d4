//! Refreshing access tokens: one refresh with bounded retries, and a [`RefreshingConnection`] that lets
//! any number of concurrent callers share a single refresh.
//!
//! Zoho allows ten refreshes per refresh token per ten minutes and answers the eleventh with
//! an HTTP 200 "Access Denied"; a runtime that lets every caller refresh on its own is
//! throttled within seconds. Hence the single flight, and retries only on failures that may
//! be transient (5xx, timeouts, network), never on rejections or throttling.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;

use super::authorize::select_data_center;
use super::credentials::Credentials;
use super::error::OAuthError;
use super::secret::AccessToken;
use super::token::{TokenEndpoint, TokenSet, post_token_request, token_set_from, unix_now};
use crate::resolve::table::ResolvedProvider;

/// Seconds before expiry at which a token is already refreshed, so it does not expire in
/// flight.
pub(crate) const DEFAULT_EXPIRY_MARGIN_SECS: u64 = 60;

/// How often and how patiently a refresh is retried after a transient failure.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total (1 means no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled before each further one.
    pub initial_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_millis(500),
        }
    }
}

/// Refreshes `tokens` at their data center's refresh URL. The answer's missing fields (Zoho
/// sends no new refresh token) are kept from `tokens`.
pub async fn refresh_tokens(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &Credentials,
    tokens: &TokenSet,
    retry: &RetryPolicy,
) -> Result<TokenSet, OAuthError> {
    let dc = select_data_center(provider, Some(&tokens.data_center))?;
    let refresh_token = tokens
        .refresh_token
        .as_ref()
        .ok_or(OAuthError::NoRefreshToken)?;
    let mut backoff = retry.initial_backoff;
    let mut attempt = 1;
    loop {
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        match post_token_request(
            http,
            provider,
            credentials,
            dc,
            TokenEndpoint {
                url: &provider
                    .require(dc.token.as_ref(), "token endpoint")?
                    .refresh_url,
                name: "refresh",
                extra: &provider
                    .require(provider.token.as_ref(), "token endpoint")?
                    .refresh_params,
            },
            form,
        )
        .await
        {
            Ok(body) => return token_set_from("refresh", provider, dc, body, Some(tokens)),
            Err(error) if error.is_transient() && attempt < retry.attempts.max(1) => {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// One connection's tokens, shared by every task that calls its provider's API. Callers ask
/// for [`access_token`](RefreshingConnection::access_token); when it is about to expire, the first
/// caller refreshes while the others wait for that same refresh (and share its failure).
pub struct RefreshingConnection {
    http: reqwest::Client,
    provider: Arc<ResolvedProvider>,
    credentials: Credentials,
    retry: RetryPolicy,
    expiry_margin_secs: u64,
    /// Refresh attempts finished so far; a waiter that sees it move knows a refresh ran while
    /// it waited.
    attempts: AtomicU64,
    state: Mutex<State>,
}

struct State {
    tokens: TokenSet,
    last_error: Option<OAuthError>,
}

impl RefreshingConnection {
    /// A connection over `tokens`.
    pub fn new(
        http: reqwest::Client,
        provider: Arc<ResolvedProvider>,
        credentials: Credentials,
        tokens: TokenSet,
    ) -> Self {
        Self {
            http,
            provider,
            credentials,
            retry: RetryPolicy::default(),
            expiry_margin_secs: DEFAULT_EXPIRY_MARGIN_SECS,
            attempts: AtomicU64::new(0),
            state: Mutex::new(State {
                tokens,
                last_error: None,
            }),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A valid access token, refreshing first when the current one expires within the margin.
    pub async fn access_token(&self) -> Result<AccessToken, OAuthError> {
        let seen = self.attempts.load(Ordering::SeqCst);
        let mut state = self.state.lock().await;
        // Re-checked under the lock: another caller may have refreshed while this one waited.
        if !state
            .tokens
            .expires_within(unix_now(), self.expiry_margin_secs)
        {
            return Ok(state.tokens.access_token.clone());
        }
        if self.attempts.load(Ordering::SeqCst) != seen {
            if let Some(error) = &state.last_error {
                return Err(error.clone());
            }
        }
        let result = refresh_tokens(
            &self.http,
            &self.provider,
            &self.credentials,
            &state.tokens,
            &self.retry,
        )
        .await;
        self.attempts.fetch_add(1, Ordering::SeqCst);
        match result {
            Ok(tokens) => {
                state.tokens = tokens;
                state.last_error = None;
                Ok(state.tokens.access_token.clone())
            }
            Err(error) => {
                state.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// A copy of the current tokens (e.g. to persist them).
    pub async fn tokens(&self) -> TokenSet {
        self.state.lock().await.tokens.clone()
    }
}
