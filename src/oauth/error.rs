//! Everything that can go wrong in the OAuth flow, as one typed enum.
//!
//! Messages say what happened and, where the user can act, what to do. They never contain a
//! secret: no client secret, code, verifier or token is ever a field here, and transport errors
//! are recorded without their URL (a revocation URL can carry a token in its query string).
//! Whatever came from outside (a callback's query, a provider's answer, a caller's scope or
//! data-center code) is displayed [`visible`]: a line break or escape sequence in it can
//! neither forge a log line nor drive a terminal.

use crate::diagnostics::visible;

/// An OAuth flow failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A requested scope is not in the provider's catalog.
    #[error("unknown scope `{}` for provider `{provider}`; known scopes: {known}", visible(.scope))]
    UnknownScope {
        /// The scope asked for.
        scope: String,
        /// The provider id.
        provider: String,
        /// The catalog, comma-separated.
        known: String,
    },
    /// The provider needs per-connection values that were not filled in
    /// ([`crate::resolve::connection::fill`]).
    #[error(
        "provider `{provider}` needs connection values that were not given: {names}; fill them in first (`connect --param NAME=VALUE`)"
    )]
    UnfilledConnection {
        /// The provider id.
        provider: String,
        /// The parameter names, comma-separated.
        names: String,
    },
    /// A connection's values do not fill the provider's table (missing, unknown, or failing
    /// their pattern), so no request was made.
    #[error(transparent)]
    Connection(#[from] crate::resolve::connection::ConnectionError),
    /// The provider's auth mode has no such step (an authorization request for `api_key`).
    #[error(transparent)]
    NotInMode(#[from] crate::resolve::table::NotInMode),
    /// The provider has a client id per data center and none was given for this one.
    #[error("no client id for data center `{data_center}` (key `{key}`); give one per data center")]
    MissingClientId {
        /// The `client_id_key`.
        key: String,
        /// The data center.
        data_center: String,
    },
    /// A data center was named that the provider does not enable.
    #[error("unknown data center `{}`; enabled data centers: {enabled}", visible(.code))]
    UnknownDataCenter {
        /// The code given.
        code: String,
        /// The enabled codes, comma-separated.
        enabled: String,
    },
    /// The redirect URI is not a valid absolute URL.
    #[error("invalid redirect URI `{}`: {reason}", visible(.uri))]
    InvalidRedirectUri {
        /// The URI.
        uri: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A resolved endpoint URL could not be parsed (the resolved table is broken).
    #[error("invalid endpoint URL `{}` in the resolved table: {reason}", visible(.url))]
    InvalidEndpoint {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The callback URL or query could not be parsed, or lacks a required parameter.
    #[error("invalid callback: {}", visible(.0))]
    InvalidCallback(String),
    /// The callback's `state` does not match the one sent: possible CSRF, or a stale tab.
    #[error(
        "the callback's state does not match the authorization request (possible cross-site request forgery); start the flow again"
    )]
    StateMismatch,
    /// The user refused consent (`error=access_denied`).
    #[error("the user denied access{}", describe(.description))]
    UserDenied {
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// The provider redirected back with another `error`.
    #[error("the authorization server returned error `{}`{}", visible(.error), describe(.description))]
    AuthorizationFailed {
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The callback names a location that is not an enabled data center.
    #[error(
        "the callback names location `{}`, which is not an enabled data center; enabled: {enabled}",
        visible(.location)
    )]
    UnknownLocation {
        /// The location received.
        location: String,
        /// The enabled data centers as `code (location)`, comma-separated.
        enabled: String,
    },
    /// The callback's issuer parameter is not the data center's authorization server: a
    /// mix-up attack or a misconfigured definition. Nothing was sent anywhere.
    #[error(
        "refusing the callback: its `{param}` is `{}`, but data center `{data_center}` is served by `{expected}`; no request was made",
        visible(.received)
    )]
    IssuerMismatch {
        /// The callback parameter name (`accounts-server`, `iss`).
        param: String,
        /// The value received (attacker-controlled, not a secret).
        received: String,
        /// The data center the callback resolved to.
        data_center: String,
        /// Its issuer from the resolved table.
        expected: String,
    },
    /// No client secret was supplied for the key a data center uses.
    #[error(
        "no client secret for `{key}` (data center `{data_center}`); supply the secret for this data center"
    )]
    MissingClientSecret {
        /// The secret key (`shared` or a DC code).
        key: String,
        /// The data center.
        data_center: String,
    },
    /// The server answered with an OAuth `error` (whatever the HTTP status).
    #[error("the {endpoint} endpoint rejected the request: `{}`{}", visible(.error), describe(.description))]
    Rejected {
        /// Which endpoint (`token`, `refresh`, `revoke`).
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
    /// The server throttled the client (HTTP 429, or Zoho's HTTP 200 "Access Denied").
    #[error("the {endpoint} endpoint is rate limiting this client{}; wait before retrying", describe(.description))]
    RateLimited {
        /// Which endpoint.
        endpoint: &'static str,
        /// The server's explanation, if any.
        description: Option<String>,
    },
    /// The server failed (HTTP 5xx).
    #[error("the {endpoint} endpoint failed with HTTP {status}")]
    ServerError {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
    },
    /// A status that is neither success, an OAuth error body, nor a server error.
    #[error("the {endpoint} endpoint answered HTTP {status} without an OAuth error")]
    UnexpectedStatus {
        /// Which endpoint.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
    },
    /// A token request, a verification or an API call was refused (a non-2xx answer outside
    /// OAuth's error format): the provider's own words, secrets cut out
    /// (a summary of the body).
    #[error("the {endpoint} answered HTTP {status}{}", describe(.summary))]
    Refused {
        /// What was called (`token request`, `verification`, `API`).
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// The provider's explanation without secrets, if it gave one.
        summary: Option<String>,
    },
    /// The server did not answer in time.
    #[error("the {endpoint} endpoint at {host} did not answer in time")]
    Timeout {
        /// Which endpoint.
        endpoint: &'static str,
        /// Host contacted.
        host: String,
    },
    /// The answer was larger than any token answer can be: refused, not buffered.
    #[error(
        "the {endpoint} endpoint at {host} sent an answer larger than {limit} bytes; refused (a token answer is a few kilobytes)"
    )]
    AnswerTooLarge {
        /// Which endpoint.
        endpoint: &'static str,
        /// Host contacted.
        host: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request could not be sent (DNS, connection, TLS).
    #[error("could not reach the {endpoint} endpoint at {host}: {}", visible(.reason))]
    Network {
        /// Which endpoint.
        endpoint: &'static str,
        /// Host contacted.
        host: String,
        /// The transport error, without URL.
        reason: String,
    },
    /// The response body is not the JSON the endpoint should return.
    #[error("the {endpoint} endpoint returned an unparseable response: {}", visible(.reason))]
    MalformedResponse {
        /// Which endpoint.
        endpoint: &'static str,
        /// What was wrong (never the body itself: it may hold a token).
        reason: String,
    },
    /// The connection has no refresh token, so it cannot be refreshed.
    #[error("the connection has no refresh token; connect again")]
    NoRefreshToken,
    /// The provider has no revocation endpoint.
    #[error("provider `{0}` does not support token revocation")]
    RevocationUnsupported(String),
    /// The HTTP client could not be built (bad extra root certificate, ...).
    #[error("cannot set up the HTTP client: {0}")]
    HttpSetup(String),
}

impl OAuthError {
    /// Whether a retry may succeed: server errors, timeouts and network failures. Rejections
    /// and rate limits are final (retrying a throttled refresh only extends the throttle).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ServerError { .. } | Self::Timeout { .. } | Self::Network { .. }
        )
    }
}

fn describe(description: &Option<String>) -> String {
    match description {
        Some(text) if !text.is_empty() => format!(": {}", visible(text)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_a_callback_or_a_provider_is_displayed_escaped() {
        let hostile = || "x\n2026-01-01 INFO forged\r\u{1b}[2J\u{9b}\u{202e}".to_owned();
        let errors = [
            OAuthError::UserDenied {
                description: Some(hostile()),
            },
            OAuthError::AuthorizationFailed {
                error: hostile(),
                description: Some(hostile()),
            },
            OAuthError::Rejected {
                endpoint: "token",
                status: 400,
                error: hostile(),
                description: Some(hostile()),
            },
            OAuthError::RateLimited {
                endpoint: "token",
                description: Some(hostile()),
            },
            OAuthError::UnknownLocation {
                location: hostile(),
                enabled: "eu".into(),
            },
            OAuthError::IssuerMismatch {
                param: "iss".into(),
                received: hostile(),
                data_center: "eu".into(),
                expected: "https://a.example".into(),
            },
            OAuthError::InvalidCallback(hostile()),
            OAuthError::UnknownScope {
                scope: hostile(),
                provider: "p".into(),
                known: "a".into(),
            },
            OAuthError::UnknownDataCenter {
                code: hostile(),
                enabled: "eu".into(),
            },
            OAuthError::MalformedResponse {
                endpoint: "token",
                reason: hostile(),
            },
            OAuthError::Network {
                endpoint: "token",
                host: "a.example".into(),
                reason: hostile(),
            },
        ];
        for error in errors {
            let shown = error.to_string();
            for c in ['\n', '\r', '\u{1b}', '\u{9b}', '\u{202e}'] {
                assert!(!shown.contains(c), "{c:?} displayed raw: {shown:?}");
            }
            assert!(shown.contains("x\\n2026-01-01 INFO forged\\r"), "{shown}");
        }
    }
}
