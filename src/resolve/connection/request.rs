//! One request, filled at run time: an API call ([`fill_api_request`]), the verification that
//! proves credentials work ([`fill_verify_request`]) and the token request
//! ([`fill_token_request`]).
//!
//! These are the one place a connection's credentials, its access token and its values enter
//! a request; the engine, the simulator and the service call them and decide no placement of
//! their own. Each starts from the resolved table (placeholders kept), checks the connection's
//! values as [`super::fill()`] does and its credentials (declared, given or defaulted, matching
//! their pattern, no line breaks), expands every template once (a value is data, never a
//! template), re-checks every URL it built against the host the definition fixes, computes
//! `<base64(...)>`, and omits a header or query parameter that names an absent optional value
//! rather than sending it empty. Values that came from a secret (a secret credential, the
//! access token) are marked, so `Debug` never prints them.

use std::fmt;

use indexmap::IndexMap;
use url::Url;

use super::declare::ACCESS_TOKEN;
use super::fill::{ConnectionError, ConnectionScope, ConnectionValues, connection_scope, recheck};
use crate::definition::types::{AuthMode, HttpMethod, TokenBody, VerifyMethod};
use crate::resolve::credentials;
use crate::resolve::table::{ResolvedCredential, ResolvedDataCenter, ResolvedProvider};
use crate::resolve::template::{self, PlaceholderValues};
use crate::resolve::url_rules::UrlRole;

/// The credential values of one connection, by field name (`apiKey`, `username`). `Debug`
/// shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialValues(IndexMap<String, String>);

impl CredentialValues {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value of the credential `name`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// The value of the credential `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The names given, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for CredentialValues {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        CredentialValues(
            iter.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for CredentialValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|name| (name, "[redacted]")))
            .finish()
    }
}

/// A filled header, query parameter, body parameter or URL, and whether a secret went into it.
#[derive(Clone, PartialEq, Eq)]
pub struct Filled {
    value: String,
    secret: bool,
}

impl Filled {
    /// The value, to send.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether a secret credential or the access token went into it.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Filled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("[redacted]")
        } else {
            fmt::Debug::fmt(&self.value, f)
        }
    }
}

/// How one API call carries a connection's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// The API base URL of the data center and environment; the call's path goes after it.
    pub base_url: String,
    /// Headers to send, the implied `Authorization` header included.
    pub headers: IndexMap<String, Filled>,
    /// Query parameters to add.
    pub query: IndexMap<String, Filled>,
}

/// The verification request: tried at each URL in order until one answers 2xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyCall {
    /// HTTP method.
    pub method: VerifyMethod,
    /// Each endpoint under the API base URL.
    pub urls: Vec<String>,
    /// The API call's headers, then the verification's own.
    pub headers: IndexMap<String, Filled>,
    /// The API call's query parameters.
    pub query: IndexMap<String, Filled>,
}

/// A token request (or its refresh) with the connection's values and credentials in it. Client
/// authentication (`client_credentials`, `oauth2_code`) is the engine's to add, as
/// `token_auth_method` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The token (or refresh) URL, its query string filled and encoded.
    pub url: Filled,
    /// HTTP method: `POST`, or a `token_request`'s own.
    pub method: HttpMethod,
    /// Headers (`token_request` only).
    pub headers: IndexMap<String, Filled>,
    /// How `params` are sent: form or JSON body, or the query string.
    pub body: TokenBody,
    /// Parameters of the request.
    pub params: IndexMap<String, Filled>,
}

/// Fills the credentials, the access token and the connection's values into one API call of
/// data center `data_center` (its code) and `environment` (the first one defined when `None`).
pub fn fill_api_request(
    provider: &ResolvedProvider,
    data_center: &str,
    environment: Option<&str>,
    values: &ConnectionValues,
    credentials: &CredentialValues,
    access_token: Option<&str>,
) -> Result<ApiRequest, ConnectionError> {
    let scope = RequestScope::new(provider, values, credentials, access_token)?;
    let dc = data_center_of(provider, data_center)?;
    let api = provider.require(provider.api_auth.as_ref(), "API section")?;
    let (name, template) = match environment {
        Some(name) => dc.api_base_urls.get_key_value(name).ok_or_else(|| {
            ConnectionError::UnknownEnvironment {
                provider: provider.id.clone(),
                environment: name.to_owned(),
                known: join(dc.api_base_urls.keys()),
            }
        })?,
        None => dc
            .api_base_urls
            .first()
            .ok_or_else(|| ConnectionError::UnknownEnvironment {
                provider: provider.id.clone(),
                environment: "(any)".to_owned(),
                known: "none".to_owned(),
            })?,
    };
    let entry = format!("`api_base_urls.{name}` of data center `{}`", dc.code);
    let base_url = scope.url(&entry, template)?.value;
    Ok(ApiRequest {
        base_url,
        headers: scope.map("api_auth.headers", &api.headers, true)?,
        query: scope.map("api_auth.query", &api.query, false)?,
    })
}

/// Fills the verification request: the API call of [`fill_api_request`] at each of the
/// definition's endpoints, with the verification's own headers. `None` when the definition
/// has no verification.
pub fn fill_verify_request(
    provider: &ResolvedProvider,
    data_center: &str,
    environment: Option<&str>,
    values: &ConnectionValues,
    credentials: &CredentialValues,
    access_token: Option<&str>,
) -> Result<Option<VerifyCall>, ConnectionError> {
    let Some(verify) = &provider.verify else {
        return Ok(None);
    };
    let api = fill_api_request(
        provider,
        data_center,
        environment,
        values,
        credentials,
        access_token,
    )?;
    let scope = RequestScope::new(provider, values, credentials, access_token)?;
    let mut headers = api.headers;
    headers.extend(scope.map("verify.headers", &verify.headers, true)?);
    let base = api.base_url.trim_end_matches('/');
    let base_host = Url::parse(base)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned));
    let mut urls = Vec::new();
    for endpoint in &verify.endpoints {
        let url = format!("{base}/{}", endpoint.trim_start_matches('/'));
        // The endpoint follows the base URL's own path, so it cannot name another host; the
        // parse confirms it.
        let host = Url::parse(&url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned));
        if host.is_none() || host != base_host {
            return Err(ConnectionError::Url {
                entry: format!("verification endpoint `{endpoint}`"),
                reason: format!("`{url}` does not stay on the API's host"),
            });
        }
        urls.push(url);
    }
    Ok(Some(VerifyCall {
        method: verify.method,
        urls,
        headers,
        query: api.query,
    }))
}

/// Fills the token request of data center `data_center` (its code), or its refresh request
/// when `refresh`: URL, method, headers and parameters with the connection's values and
/// credentials in them.
pub fn fill_token_request(
    provider: &ResolvedProvider,
    data_center: &str,
    values: &ConnectionValues,
    credentials: &CredentialValues,
    refresh: bool,
) -> Result<TokenRequest, ConnectionError> {
    let scope = RequestScope::new(provider, values, credentials, None)?;
    let dc = data_center_of(provider, data_center)?;
    let exchange = provider.require(provider.token.as_ref(), "token endpoint")?;
    let endpoints = provider.require(dc.token.as_ref(), "token endpoint")?;
    let (field, url, params) = if refresh {
        (
            "refresh_url",
            &endpoints.refresh_url,
            &exchange.refresh_params,
        )
    } else {
        ("token_url", &endpoints.token_url, &exchange.token_params)
    };
    let entry = format!("`{field}` of data center `{}`", dc.code);
    let spec = provider
        .token_request
        .as_ref()
        .filter(|_| provider.auth_mode == AuthMode::TokenRequest);
    let no_headers = IndexMap::new();
    let (method, headers) = match spec {
        Some(spec) if refresh => (spec.method, &spec.refresh_headers),
        Some(spec) => (spec.method, &spec.headers),
        None => (HttpMethod::Post, &no_headers),
    };
    let headers_entry = if refresh {
        "token_request.refresh_headers"
    } else {
        "token_request.headers"
    };
    Ok(TokenRequest {
        url: scope.url_with_query(&entry, url)?,
        method,
        headers: scope.map(headers_entry, headers, true)?,
        body: exchange.token_body,
        params: scope.map(
            if refresh {
                "refresh_params"
            } else {
                "token_params"
            },
            params,
            false,
        )?,
    })
}

fn data_center_of<'p>(
    provider: &'p ResolvedProvider,
    code: &str,
) -> Result<&'p ResolvedDataCenter, ConnectionError> {
    provider
        .data_center(code)
        .ok_or_else(|| ConnectionError::UnknownDataCenter {
            provider: provider.id.clone(),
            code: code.to_owned(),
            enabled: provider.data_center_codes().join(", "),
        })
}

fn join<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Checks one credential's value (or its absence) as the request fillers do: a required
/// credential must be given unless it has a default, and a value must match its pattern and
/// hold no line break or other control character. For forms that report every field at once;
/// the fillers still check every credential of the request. The value is never part of the
/// error.
pub fn check_credential(
    provider: &ResolvedProvider,
    name: &str,
    value: Option<&str>,
) -> Result<(), ConnectionError> {
    let declared = provider
        .credentials
        .get(name)
        .ok_or_else(|| unknown_credential(provider, name))?;
    credential_value(provider, name, declared, value).map(drop)
}

/// The value a credential takes (given, or its default), checked; `None` when it is optional
/// and absent.
fn credential_value<'v>(
    provider: &ResolvedProvider,
    name: &str,
    declared: &'v ResolvedCredential,
    given: Option<&'v str>,
) -> Result<Option<&'v str>, ConnectionError> {
    let value = match given.or(declared.default.as_deref()) {
        Some(value) => value,
        None if declared.optional => return Ok(None),
        None => {
            return Err(ConnectionError::MissingCredential {
                provider: provider.id.clone(),
                name: name.to_owned(),
                title: declared.title.clone(),
            });
        }
    };
    let invalid = |reason: String| ConnectionError::InvalidCredential {
        name: name.to_owned(),
        reason,
    };
    if let Some(pattern) = &declared.pattern {
        let regex = credentials::compile(pattern).map_err(invalid)?;
        if !regex.is_match(value) {
            return Err(invalid(format!(
                "it does not match the pattern `{pattern}`"
            )));
        }
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            "it holds a line break or another control character".to_owned(),
        ));
    }
    Ok(Some(value))
}

/// A credential the provider does not declare, with what it declares.
fn unknown_credential(provider: &ResolvedProvider, name: &str) -> ConnectionError {
    let declared: Vec<&str> = provider.credentials.keys().map(String::as_str).collect();
    ConnectionError::UnknownCredential {
        provider: provider.id.clone(),
        name: name.to_owned(),
        declared: if declared.is_empty() {
            "it takes no credentials".to_owned()
        } else {
            format!("it declares: {}", declared.join(", "))
        },
    }
}

/// Every late name of one request: connection values, credentials and the access token, with
/// the ones left out and the ones that are secrets.
struct RequestScope {
    late: IndexMap<String, Option<String>>,
    /// Late names of optional values the connection left out.
    absent: Vec<String>,
    /// Late names whose value is a secret.
    secret: Vec<String>,
}

impl RequestScope {
    fn new(
        provider: &ResolvedProvider,
        values: &ConnectionValues,
        given: &CredentialValues,
        access_token: Option<&str>,
    ) -> Result<Self, ConnectionError> {
        let ConnectionScope {
            mut late, absent, ..
        } = connection_scope(provider, values)?;
        let mut scope = RequestScope {
            late: IndexMap::new(),
            absent,
            secret: Vec::new(),
        };
        if let Some(unknown) = given
            .names()
            .find(|name| !provider.credentials.contains_key(*name))
        {
            return Err(unknown_credential(provider, unknown));
        }
        for (name, declared) in &provider.credentials {
            let key = credentials::late_name(name);
            if declared.secret {
                scope.secret.push(key.clone());
            }
            let value = credential_value(provider, name, declared, given.get(name))?;
            if value.is_none() {
                scope.absent.push(key.clone());
            }
            late.insert(key, Some(value.unwrap_or_default().to_owned()));
        }
        if let Some(token) = access_token {
            late.insert(ACCESS_TOKEN.to_owned(), Some(token.to_owned()));
            scope.secret.push(ACCESS_TOKEN.to_owned());
        }
        scope.late = late;
        Ok(scope)
    }

    /// Fills one template of the table; `None` when it names an absent optional value.
    fn value(&self, entry: &str, template: &str) -> Result<Option<Filled>, ConnectionError> {
        let names = template::placeholders(template).map_err(|_| ConnectionError::Url {
            entry: entry.to_owned(),
            reason: format!("`{template}` is not a well-formed template"),
        })?;
        if names
            .iter()
            .any(|name| self.absent.iter().any(|a| a == name))
        {
            return Ok(None);
        }
        if let Some(name) = names
            .iter()
            .find(|name| !matches!(self.late.get(**name), Some(Some(_))))
        {
            return Err(ConnectionError::NotKnownYet {
                entry: entry.to_owned(),
                name: (*name).to_owned(),
            });
        }
        let value = template::expand(template, PlaceholderValues::late_only(&self.late))
            .expect("every name the template uses has a value");
        let secret = names
            .iter()
            .any(|name| self.secret.iter().any(|s| s == name));
        Ok(Some(Filled { value, secret }))
    }

    /// Fills a header or parameter map, leaving out entries that name an absent optional
    /// value. Header values may hold no control character (a connection value with a line
    /// break would add a header).
    fn map(
        &self,
        entry: &str,
        templates: &IndexMap<String, String>,
        header: bool,
    ) -> Result<IndexMap<String, Filled>, ConnectionError> {
        let mut out = IndexMap::new();
        for (name, template) in templates {
            let entry = format!("{entry}.{name}");
            let Some(filled) = self.value(&entry, template)? else {
                continue;
            };
            if header && filled.value.chars().any(char::is_control) {
                return Err(ConnectionError::Invalid {
                    name: entry,
                    reason: "the value holds a line break or another control character".to_owned(),
                });
            }
            out.insert(name.clone(), filled);
        }
        Ok(out)
    }

    /// Fills a URL whose every placeholder is a connection value, and re-checks it.
    fn url(&self, entry: &str, template: &str) -> Result<Filled, ConnectionError> {
        let filled = self
            .value(entry, template)?
            .ok_or_else(|| ConnectionError::Url {
                entry: entry.to_owned(),
                reason: "it names an optional value the connection left out".to_owned(),
            })?;
        if filled.value != template {
            recheck(entry, template, &filled.value, UrlRole::Endpoint)?;
        }
        Ok(filled)
    }

    /// Fills a URL whose query string may hold credentials: the part before `?` as [`url`],
    /// then each query parameter filled and percent-encoded (a value is never URL syntax).
    fn url_with_query(&self, entry: &str, template: &str) -> Result<Filled, ConnectionError> {
        let Some((before, query)) = template.split_once('?') else {
            return self.url(entry, template);
        };
        let base = self.url(entry, before)?;
        let mut url = Url::parse(&base.value).map_err(|error| ConnectionError::Url {
            entry: entry.to_owned(),
            reason: error.to_string(),
        })?;
        let mut secret = base.secret;
        let mut pairs = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if let Some(filled) = self.value(&format!("{entry} parameter `{name}`"), &value)? {
                secret |= filled.secret;
                pairs.push((name.into_owned(), filled.value));
            }
        }
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(Filled {
            value: url.into(),
            secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::types::ProviderDefinition;
    use crate::resolve::resolve;

    fn provider(yaml: &str) -> ResolvedProvider {
        let definition: ProviderDefinition = serde_yaml::from_str(yaml).unwrap();
        resolve(&definition, None).unwrap()
    }

    fn exposed(map: &IndexMap<String, Filled>) -> Vec<(&str, &str)> {
        map.iter()
            .map(|(name, value)| (name.as_str(), value.expose()))
            .collect()
    }

    const ANTHROPIC: &str = r#"
id: anthropic
display_name: Anthropic
auth:
  mode: api_key
  credentials:
    apiKey: { title: API Key, pattern: '^sk-ant-[A-Za-z0-9_-]+$' }
    beta: { title: Beta features, optional: true, secret: false }
api:
  environments: { production: https://api.anthropic.com }
  headers:
    x-api-key: "<credentials.apiKey>"
    anthropic-version: "2023-06-01"
    anthropic-beta: "<credentials.beta>"
  verify: { endpoints: [v1/models] }
"#;

    #[test]
    fn an_api_key_goes_where_the_definition_says_and_an_absent_optional_header_is_omitted() {
        let anthropic = provider(ANTHROPIC);
        let credentials = CredentialValues::from_iter([("apiKey", "sk-ant-abc")]);
        let request = fill_api_request(
            &anthropic,
            "default",
            None,
            &ConnectionValues::new(),
            &credentials,
            None,
        )
        .unwrap();
        assert_eq!(request.base_url, "https://api.anthropic.com");
        assert_eq!(
            exposed(&request.headers),
            [
                ("x-api-key", "sk-ant-abc"),
                ("anthropic-version", "2023-06-01")
            ]
        );
        assert!(request.headers["x-api-key"].is_secret());
        assert!(
            !format!("{request:?}").contains("sk-ant-abc"),
            "{request:?}"
        );

        let with_beta =
            CredentialValues::from_iter([("apiKey", "sk-ant-abc"), ("beta", "tools-2024")]);
        let request = fill_api_request(
            &anthropic,
            "default",
            Some("production"),
            &ConnectionValues::new(),
            &with_beta,
            None,
        )
        .unwrap();
        assert_eq!(request.headers["anthropic-beta"].expose(), "tools-2024");
        assert!(
            format!("{request:?}").contains("tools-2024"),
            "not a secret"
        );

        let verify = fill_verify_request(
            &anthropic,
            "default",
            None,
            &ConnectionValues::new(),
            &credentials,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(verify.urls, ["https://api.anthropic.com/v1/models"]);
        assert_eq!(verify.headers["x-api-key"].expose(), "sk-ant-abc");
    }

    #[test]
    fn one_credential_is_checked_alone_as_the_fillers_check_it() {
        let anthropic = provider(ANTHROPIC);
        let check = |name: &str, value: Option<&str>| check_credential(&anthropic, name, value);
        assert_eq!(check("apiKey", Some("sk-ant-abc")), Ok(()));
        assert_eq!(check("beta", None), Ok(()), "optional");
        assert!(matches!(
            check("apiKey", None),
            Err(ConnectionError::MissingCredential { ref name, .. }) if name == "apiKey"
        ));
        let wrong = check("apiKey", Some("pk-live-123")).unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "credential `apiKey` is refused: it does not match the pattern `^sk-ant-[A-Za-z0-9_-]+$`"
        );
        assert!(matches!(
            check("beta", Some("a\nb")),
            Err(ConnectionError::InvalidCredential { ref name, .. }) if name == "beta"
        ));
        assert!(matches!(
            check("api_key", Some("sk-ant-abc")),
            Err(ConnectionError::UnknownCredential { ref name, .. }) if name == "api_key"
        ));
    }

    #[test]
    fn credentials_are_checked_without_showing_their_value() {
        let anthropic = provider(ANTHROPIC);
        let fill = |credentials: CredentialValues| {
            fill_api_request(
                &anthropic,
                "default",
                None,
                &ConnectionValues::new(),
                &credentials,
                None,
            )
            .unwrap_err()
        };
        assert!(matches!(
            fill(CredentialValues::new()),
            ConnectionError::MissingCredential { ref name, .. } if name == "apiKey"
        ));
        let wrong = fill(CredentialValues::from_iter([("apiKey", "pk-live-123")]));
        assert!(matches!(wrong, ConnectionError::InvalidCredential { .. }));
        assert!(!wrong.to_string().contains("pk-live-123"), "{wrong}");
        let injected = fill(CredentialValues::from_iter([(
            "apiKey",
            "sk-ant-a\r\nx: y",
        )]));
        assert!(matches!(
            injected,
            ConnectionError::InvalidCredential { .. }
        ));
        let unknown = fill(CredentialValues::from_iter([
            ("apiKey", "sk-ant-a"),
            ("api_key", "x"),
        ]));
        assert!(
            matches!(unknown, ConnectionError::UnknownCredential { ref name, .. } if name == "api_key")
        );
        let error = fill_api_request(
            &anthropic,
            "eu",
            None,
            &ConnectionValues::new(),
            &CredentialValues::from_iter([("apiKey", "sk-ant-a")]),
            None,
        )
        .unwrap_err();
        assert!(matches!(error, ConnectionError::UnknownDataCenter { .. }));
    }

    #[test]
    fn basic_sends_the_base64_pair_with_a_hidden_default_and_a_connection_host() {
        let freshdesk = provider(
            r#"
id: freshdesk
display_name: Freshdesk
auth:
  mode: basic
  credentials:
    username: { title: API Key, secret: true }
    password: { hidden: true, default: X }
connection:
  params:
    domain: { description: D., example: acme, pattern: '^[a-z0-9-]+$' }
api:
  environments: { production: "https://<domain>.freshdesk.com/api/v2" }
"#,
        );
        assert_eq!(
            freshdesk.api_auth.as_ref().unwrap().headers["Authorization"],
            "Basic <base64(<credentials.username>:<credentials.password>)>"
        );
        let values = ConnectionValues::from([("domain".to_owned(), "acme".to_owned())]);
        let request = fill_api_request(
            &freshdesk,
            "default",
            None,
            &values,
            &CredentialValues::from_iter([("username", "key123")]),
            None,
        )
        .unwrap();
        assert_eq!(request.base_url, "https://acme.freshdesk.com/api/v2");
        // base64("key123:X")
        assert_eq!(
            request.headers["Authorization"].expose(),
            "Basic a2V5MTIzOlg="
        );
        assert!(request.headers["Authorization"].is_secret());

        let moved = ConnectionValues::from([("domain".to_owned(), "evil.com#".to_owned())]);
        assert!(
            fill_api_request(
                &freshdesk,
                "default",
                None,
                &moved,
                &CredentialValues::from_iter([("username", "k")]),
                None,
            )
            .is_err()
        );
    }

    const TOKEN_REQUEST: &str = r#"
id: altrata
display_name: Altrata
auth:
  mode: token_request
  credentials:
    apiKey: { title: API Key }
    username: { title: Username }
    password: { title: Password }
token:
  url: "https://api-auth.altrata.com/oauth2/token?grant_type=client_credentials&key=<credentials.apiKey>"
  method: POST
  headers:
    authorization: "Basic <base64(<credentials.username>:<credentials.password>)>"
  params: { scope: read }
  response: { token: access_token, expires_in: expires_in }
api:
  environments: { production: https://api.altrata.com }
  headers: { x-api-key: "<credentials.apiKey>" }
"#;

    #[test]
    fn a_token_request_fills_its_url_query_headers_and_params() {
        let altrata = provider(TOKEN_REQUEST);
        let credentials = CredentialValues::from_iter([
            ("apiKey", "k&y=1"),
            ("username", "Aladdin"),
            ("password", "open sesame"),
        ]);
        let request = fill_token_request(
            &altrata,
            "default",
            &ConnectionValues::new(),
            &credentials,
            false,
        )
        .unwrap();
        assert_eq!(
            request.url.expose(),
            "https://api-auth.altrata.com/oauth2/token?grant_type=client_credentials&key=k%26y%3D1",
            "a credential in the query is encoded, never URL syntax"
        );
        assert!(request.url.is_secret());
        assert_eq!(request.method, HttpMethod::Post);
        assert_eq!(
            request.headers["authorization"].expose(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(request.params["scope"].expose(), "read");
        assert_eq!(request.body, TokenBody::Form);

        // API calls carry the token as Bearer besides the key, once there is a token.
        let before = fill_api_request(
            &altrata,
            "default",
            None,
            &ConnectionValues::new(),
            &credentials,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(before, ConnectionError::NotKnownYet { ref name, .. } if name == "access_token")
        );
        let api = fill_api_request(
            &altrata,
            "default",
            None,
            &ConnectionValues::new(),
            &credentials,
            Some("tok"),
        )
        .unwrap();
        assert_eq!(
            exposed(&api.headers),
            [("Authorization", "Bearer tok"), ("x-api-key", "k&y=1")]
        );
    }

    #[test]
    fn modes_without_a_token_have_no_token_request() {
        let anthropic = provider(ANTHROPIC);
        let error = fill_token_request(
            &anthropic,
            "default",
            &ConnectionValues::new(),
            &CredentialValues::from_iter([("apiKey", "sk-ant-a")]),
            false,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "provider `anthropic` authenticates with `api_key`, which has no token endpoint"
        );
    }

    #[test]
    fn client_credentials_posts_its_params_to_the_token_url() {
        let auth0 = provider(
            r#"
id: auth0-m2m
display_name: Auth0
auth: { mode: client_credentials }
connection:
  params:
    tenant: { description: T., example: acme, pattern: '^[a-z0-9-]+$' }
token:
  url: "https://<tenant>.us.auth0.com/oauth/token"
  params: { grant_type: client_credentials, audience: "https://<tenant>.us.auth0.com/api/v2/" }
  body: json
api:
  environments: { production: "https://<tenant>.us.auth0.com/api/v2" }
"#,
        );
        let values = ConnectionValues::from([("tenant".to_owned(), "acme".to_owned())]);
        let request =
            fill_token_request(&auth0, "default", &values, &CredentialValues::new(), false)
                .unwrap();
        assert_eq!(
            request.url.expose(),
            "https://acme.us.auth0.com/oauth/token"
        );
        assert!(!request.url.is_secret());
        assert_eq!(request.body, TokenBody::Json);
        assert_eq!(
            exposed(&request.params),
            [
                ("grant_type", "client_credentials"),
                ("audience", "https://acme.us.auth0.com/api/v2/")
            ]
        );
        assert!(request.headers.is_empty());
    }
}
