//! The OAuth 2.0 authorization-code engine, driven only by the resolved endpoint table
//! ([`crate::resolve::ResolvedProvider`]): it never formats a URL from a template, it
//! only appends query parameters to the table's URLs.
//!
//! The flow: [`authorization_request`] → the user's browser → the callback,
//! [`parse_callback`] and [`verify_callback`] (state, error, data center,
//! issuer: all checked before any request) → [`exchange_code`] at that data center's
//! token URL → [`RefreshingConnection`] for single-flight refreshes → [`revoke()`].
//! [`complete_authorization`] runs the callback half in one call.
//!
//! The other modes: [`client_credentials_token`] (the client's own token),
//! [`request_token`] and [`refresh_requested_token`] (credentials traded for a token),
//! [`renew()`] (a new token for a stored connection, whatever its mode) and
//! [`call_api`] / [`verify_credentials`] (the API with credentials applied as the table's fill
//! functions say). Every request they send is filled by
//! [`crate::resolve::fill_token_request`] or `fill_api_request`.

pub(crate) mod api;
pub(crate) mod authorize;
pub(crate) mod callback;
pub(crate) mod client_credentials;
pub(crate) mod credentials;
pub(crate) mod error;
pub(crate) mod filled_request;
pub(crate) mod http;
pub(crate) mod loopback;
pub(crate) mod refresh;
pub(crate) mod renew;
pub(crate) mod revoke;
pub(crate) mod secret;
pub(crate) mod summary;
pub(crate) mod token;
pub(crate) mod token_answer;
pub(crate) mod token_request;

pub use api::{ApiAnswer, MAX_API_ANSWER_BYTES, call as call_api, verify as verify_credentials};
pub use authorize::{AuthorizationOptions, PendingAuthorization, authorization_request};
pub use callback::{CallbackParams, VerifiedCallback, parse_callback, verify_callback};
pub use client_credentials::obtain as client_credentials_token;
pub use credentials::Credentials;
pub use error::OAuthError;
pub use http::{
    DEFAULT_TIMEOUT, HttpOptions, MAX_ANSWER_BYTES, client as http_client, parse_resolve,
};
pub use loopback::{
    Arrival, BrowserCallback, LoopbackListener, MAX_HEAD_BYTES, is_loopback_redirect,
};
pub use refresh::{RefreshingConnection, RetryPolicy, refresh_tokens};
pub use renew::renew;
pub use revoke::{RevokedToken, revoke};
pub use secret::{
    AccessToken, AuthorizationCode, ClientSecret, CredentialSecret, PkceVerifier, RefreshToken,
};
pub use token::{TokenSet, exchange_code, unix_now};
pub use token_request::{obtain as request_token, refresh as refresh_requested_token};

use std::borrow::Cow;

use indexmap::IndexMap;

use crate::resolve::connection::{self, ConnectionError, ConnectionValues};
use crate::resolve::table::ResolvedProvider;

/// The provider's table filled with one connection's values: the parameters its user gave
/// (`params`) and, once it has tokens, the runtime values their token response carried (e.g.
/// Salesforce's `instance_url`, kept in [`TokenSet::metadata`], passed as `learnt`). A value given in `params`
/// wins over the same name in the tokens. Every front end (the CLI commands, the service) fills
/// through here, so a connection's requests go where its values say and nowhere else: a
/// missing or pattern-failing value is an error naming the parameter and its pattern.
///
/// A provider that needs nothing per connection is returned as it is, without a copy.
pub fn connection_table<'a>(
    provider: &'a ResolvedProvider,
    params: &ConnectionValues,
    learnt: Option<&IndexMap<String, serde_json::Value>>,
) -> Result<Cow<'a, ResolvedProvider>, ConnectionError> {
    if provider.connection.is_empty() && params.is_empty() {
        return Ok(Cow::Borrowed(provider));
    }
    let mut values = params.clone();
    if let Some(learnt) = learnt {
        for name in provider.connection.runtime.keys() {
            if let Some(serde_json::Value::String(value)) = learnt.get(name) {
                values.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    connection::fill(provider, &values).map(Cow::Owned)
}

/// Parses and verifies a callback (a URL or query string), then exchanges its code: the
/// second half of the flow, after the user came back.
pub async fn complete_authorization(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &Credentials,
    pending: &PendingAuthorization,
    callback: &str,
) -> Result<TokenSet, OAuthError> {
    let params = parse_callback(provider, callback)?;
    let verified = verify_callback(provider, pending, params)?;
    exchange_code(http, provider, credentials, pending, verified).await
}
