//! The OAuth 2.0 authorization-code engine, driven only by the resolved endpoint table
//! ([`crate::resolve::table::ResolvedProvider`]): it never formats a URL from a template, it
//! only appends query parameters to the table's URLs.
//!
//! The flow: [`authorize::authorization_request`] → the user's browser → the callback,
//! [`callback::parse_callback`] and [`callback::verify_callback`] (state, error, data center,
//! issuer: all checked before any request) → [`token::exchange_code`] at that data center's
//! token URL → [`refresh::RefreshingConnection`] for single-flight refreshes → [`revoke::revoke`].
//! [`complete_authorization`] runs the callback half in one call.
//!
//! The other modes: [`client_credentials::obtain`] (the client's own token),
//! [`token_request::obtain`] and [`token_request::refresh`] (credentials traded for a token),
//! [`renew::renew`] (a new token for a stored connection, whatever its mode) and
//! [`api::call`] / [`api::verify`] (the API with credentials applied as the table's fill
//! functions say). Every request they send is filled by
//! [`crate::resolve::connection::fill_token_request`] or `fill_api_request`.

pub mod api;
pub mod authorize;
pub mod callback;
pub mod client_credentials;
pub mod credentials;
pub mod error;
pub mod filled_request;
pub mod http;
pub mod loopback;
pub mod refresh;
pub mod renew;
pub mod revoke;
pub mod secret;
pub mod summary;
pub mod token;
pub mod token_answer;
pub mod token_request;

pub use authorize::{AuthorizationOptions, PendingAuthorization, authorization_request};
pub use callback::{CallbackParams, VerifiedCallback, parse_callback, verify_callback};
pub use credentials::Credentials;
pub use error::OAuthError;
pub use http::HttpOptions;
pub use refresh::{RefreshingConnection, RetryPolicy, refresh_tokens};
pub use revoke::{RevokedToken, revoke};
pub use secret::{
    AccessToken, AuthorizationCode, ClientSecret, CredentialSecret, PkceVerifier, RefreshToken,
};
pub use token::{TokenSet, exchange_code};

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
