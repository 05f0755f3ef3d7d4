//! What the simulated provider expects of each call, computed once at start through the same
//! run-time fill functions the engine uses
//! ([`crate::resolve::connection::fill_api_request`], `fill_token_request`), with the
//! credentials the simulator accepts and the connection's values: the headers and query
//! parameters of an API call per data center and environment, and the token request (and its
//! refresh) of the token modes. The simulator decides no placement of its own, so a call
//! passes exactly when the definition's placement was followed with the right values.
//!
//! An API call carries a token the simulator issued, not a value known at start: the
//! expectation is filled with a marker for `<access_token>` and kept as the text around it
//! ([`Expected::Token`]), and the token in between must be one issued for that provider and
//! data center.

use super::SimulateError;
use super::connection::Served;
use crate::definition::types::AuthMode;
use crate::resolve::connection::{
    ConnectionValues, CredentialValues, Filled, TokenRequest, fill_api_request, fill_token_request,
};
use crate::resolve::table::ResolvedProvider;

/// Stands for the access token while expectations are filled.
const ACCESS_TOKEN_MARKER: &str = "sim-access-token-marker";

/// An expected header or query value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expected {
    /// Exactly this text.
    Exact(String),
    /// A token the simulator issued, between this prefix and suffix (`Bearer `, ``).
    Token { prefix: String, suffix: String },
}

impl Expected {
    fn of(filled: &Filled) -> Expected {
        match filled.expose().split_once(ACCESS_TOKEN_MARKER) {
            Some((prefix, suffix)) => Expected::Token {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            },
            None => Expected::Exact(filled.expose().to_owned()),
        }
    }
}

/// The API of one provider's data center in one environment.
#[derive(Debug, Clone)]
pub(crate) struct ExpectedApi {
    pub(crate) provider: usize,
    pub(crate) dc: usize,
    pub(crate) environment: String,
    /// Host of the base URL (lower case).
    pub(crate) host: String,
    /// Path of the base URL without its trailing `/` (empty for the root).
    pub(crate) path_prefix: String,
    /// Headers, names in lower case.
    pub(crate) headers: Vec<(String, Expected)>,
    pub(crate) query: Vec<(String, Expected)>,
}

impl ExpectedApi {
    /// Whether `path` is under this API's base path.
    pub(crate) fn serves(&self, host: &str, path: &str) -> bool {
        host == self.host
            && (path == self.path_prefix
                || path
                    .strip_prefix(&self.path_prefix)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

/// The token requests of one token-mode provider's data center.
#[derive(Debug, Clone)]
pub(crate) struct ExpectedToken {
    pub(crate) token: TokenRequest,
    /// The refresh request (`token_request` with a refresh token path only).
    pub(crate) refresh: Option<TokenRequest>,
}

/// Everything expected, per provider and data center.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    pub(crate) api: Vec<ExpectedApi>,
    /// `[provider][dc]`, for `client_credentials` and `token_request`.
    pub(crate) token: Vec<Vec<Option<ExpectedToken>>>,
}

impl Expectations {
    /// Every API host, for the certificate and the `--resolve` lines.
    pub(crate) fn hosts(&self) -> impl Iterator<Item = &str> {
        self.api.iter().map(|api| api.host.as_str())
    }
}

/// Fills every expectation. A provider whose credentials the simulator was not given (or
/// whose values do not fill) cannot be served: the error names what is missing.
pub(crate) fn expect(
    providers: &[ResolvedProvider],
    values: &ConnectionValues,
    served: &Served,
    credentials: &CredentialValues,
) -> Result<Expectations, SimulateError> {
    let mut expectations = Expectations::default();
    for (p, provider) in providers.iter().enumerate() {
        let declared = |name: &str| {
            provider.connection.params.contains_key(name)
                || provider.connection.runtime.contains_key(name)
        };
        let mine: CredentialValues = credentials
            .names()
            .filter(|name| provider.credentials.contains_key(*name))
            .filter_map(|name| Some((name.to_owned(), credentials.get(name)?.to_owned())))
            .collect();
        let refuse =
            |error: crate::resolve::connection::ConnectionError| SimulateError::Credentials {
                provider: provider.id.clone(),
                reason: error.to_string(),
            };
        let mut tokens = Vec::new();
        for (d, dc) in provider.data_centers.iter().enumerate() {
            let mut dc_values: ConnectionValues = values
                .iter()
                .filter(|(name, _)| declared(name))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let chosen = &served.data_centers[p][d];
            for (name, value) in chosen.callback.iter().chain(&chosen.token_response) {
                dc_values.insert(name.clone(), value.clone());
            }
            if provider.api_auth.is_some() {
                for environment in dc.api_base_urls.keys() {
                    let api = fill_api_request(
                        provider,
                        &dc.code,
                        Some(environment),
                        &dc_values,
                        &mine,
                        Some(ACCESS_TOKEN_MARKER),
                    )
                    .map_err(refuse)?;
                    let base = url::Url::parse(&api.base_url).map_err(|e| {
                        SimulateError::Setup(format!("{}: `{}`: {e}", provider.id, api.base_url))
                    })?;
                    expectations.api.push(ExpectedApi {
                        provider: p,
                        dc: d,
                        environment: environment.clone(),
                        host: base.host_str().unwrap_or_default().to_ascii_lowercase(),
                        path_prefix: base.path().trim_end_matches('/').to_owned(),
                        headers: api
                            .headers
                            .iter()
                            .map(|(name, value)| (name.to_ascii_lowercase(), Expected::of(value)))
                            .collect(),
                        query: api
                            .query
                            .iter()
                            .map(|(name, value)| (name.clone(), Expected::of(value)))
                            .collect(),
                    });
                }
            }
            let token = match provider.auth_mode {
                AuthMode::ClientCredentials | AuthMode::TokenRequest => {
                    let token = fill_token_request(provider, &dc.code, &dc_values, &mine, false)
                        .map_err(refuse)?;
                    let refresh = provider
                        .token_request
                        .as_ref()
                        .filter(|spec| spec.response.refresh_token.is_some())
                        .map(|_| fill_token_request(provider, &dc.code, &dc_values, &mine, true))
                        .transpose()
                        .map_err(refuse)?;
                    Some(ExpectedToken { token, refresh })
                }
                _ => None,
            };
            tokens.push(token);
        }
        expectations.token.push(tokens);
    }
    // The longest base path first, so a call goes to the most specific API.
    expectations
        .api
        .sort_by_key(|api| std::cmp::Reverse(api.path_prefix.len()));
    Ok(expectations)
}
