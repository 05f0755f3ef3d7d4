//! The resolved endpoint table: every concrete URL of a provider, per data center and
//! environment.
//!
//! This is the one place a provider's URLs exist in concrete form. `render` prints it (its JSON
//! shape is `schemas/rendered.schema.json`) and the OAuth engine reads it; neither formats a
//! URL of its own, so what `render` shows is exactly what the engine calls.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::definition::types::{
    AuthMode, ClientSecretMode, ConnectionParam, HttpMethod, ParameterPlacement, RetryHeaders,
    RuntimeValue, Scope, TokenAuthMethod, TokenBody, TokenResponse, VerifyMethod,
};

/// Code of the single pseudo data center of a provider that defines none.
pub const SINGLE_DATA_CENTER: &str = "default";

/// A provider with every placeholder resolved, ready for output or for the OAuth engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "provider-forge rendered provider")]
pub struct ResolvedProvider {
    /// Provider identifier (e.g. `zoho-crm`).
    pub id: String,
    /// Human-readable provider name.
    pub display_name: String,
    /// Link to the provider's OAuth documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// How connections authenticate (`oauth2_code`, `api_key`, `basic`, `client_credentials`,
    /// `token_request`): it decides which of the parts below are present.
    pub auth_mode: AuthMode,
    /// Whether one client serves several data centers and learns the user's from the callback.
    pub multi_dc: bool,
    /// The data center used when nothing else says which one applies.
    pub default_data_center: String,
    /// Whether the client secret is shared by all data centers or one per data center.
    pub client_secret: ClientSecretMode,
    /// Credential fields each connection supplies (`api_key`, `basic`, `token_request`), with
    /// their effective settings and where each is used. `basic` always has `username` and
    /// `password`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub credentials: IndexMap<String, ResolvedCredential>,
    /// Parameters of the authorization request (`oauth2_code` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationRequest>,
    /// How tokens are obtained, refreshed and revoked (token modes only: `oauth2_code`,
    /// `client_credentials`, `token_request`).
    #[serde(flatten)]
    pub token: Option<TokenExchange>,
    /// The token request's method, headers and where its answer holds the token
    /// (`token_request` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_request: Option<TokenRequestSpec>,
    /// The redirect back from the provider (`oauth2_code` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSpec>,
    /// Exactly how a connection's credentials reach the API, when the provider has an API
    /// section: every header and query parameter, the implied `Authorization` header included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_auth: Option<ApiAuth>,
    /// The request that proves a connection's credentials work, when the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyRequest>,
    /// Values each connection supplies or learns, and where they are used. URLs and parameters
    /// that use them keep their `<name>` placeholders in this table until
    /// [`crate::resolve::connection::fill`] fills them for one connection.
    #[serde(default, skip_serializing_if = "ConnectionInputs::is_empty")]
    pub connection: ConnectionInputs,
    /// Scopes requested when the user names none.
    pub default_scopes: Vec<String>,
    /// Every scope the provider offers.
    pub scopes: Vec<Scope>,
    /// Concrete endpoints of every enabled data center, in definition order. A provider that
    /// defines no data centers has exactly one, with code `default`.
    pub data_centers: Vec<ResolvedDataCenter>,
}

fn is_form(body: &TokenBody) -> bool {
    *body == TokenBody::Form
}

/// How a token mode obtains, refreshes and revokes tokens: the provider-wide part (the URLs are
/// per data center, in [`TokenEndpoints`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenExchange {
    /// How the client authenticates at the token endpoint (`oauth2_code`,
    /// `client_credentials`); absent for `token_request`, whose request carries the
    /// credentials as its headers and params say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_auth_method: Option<TokenAuthMethod>,
    /// Extra token-response fields kept with a connection (Zoho: `api_domain`).
    pub token_response_metadata: Vec<String>,
    /// Extra parameters of the token request (may hold `<name>` connection values and
    /// `<credentials.NAME>`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub token_params: IndexMap<String, String>,
    /// Extra parameters of the refresh request (may hold `<name>` connection values).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub refresh_params: IndexMap<String, String>,
    /// Body encoding of token and refresh requests.
    #[serde(default, skip_serializing_if = "is_form")]
    pub token_body: TokenBody,
    /// How a token is revoked, when the provider supports revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<RevokeRequest>,
}

/// The parts of a `token_request` that other token modes do not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenRequestSpec {
    /// HTTP method of the token request.
    pub method: HttpMethod,
    /// Headers of the token request (placeholders kept).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Where the answer holds the token and its lifetime.
    pub response: TokenResponse,
    /// Headers of the refresh request (placeholders kept).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub refresh_headers: IndexMap<String, String>,
}

/// A credential field as a connection must supply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResolvedCredential {
    /// Label shown in forms (the field's name when the definition gives none).
    pub title: String,
    /// What the value is and where the user finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An example shown as a form placeholder (display only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// Regular expression every value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Whether the value is a secret (as declared, else by its name).
    pub secret: bool,
    /// Whether a connection may leave the value out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// Whether the field is kept out of forms (it takes `default`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Value used when the connection gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The table entries that use the value, e.g. `api_auth.headers.x-api-key`.
    pub used_in: Vec<String>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// How credentials reach the API: every header and query parameter API calls carry, with
/// placeholders kept (`<credentials.NAME>`, `<access_token>`, `<base64(...)>`, connection
/// values). Filled per call by [`crate::resolve::connection::fill_api_request`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiAuth {
    /// Headers, the implied `Authorization` header first when the mode implies one.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// Query parameters.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, String>,
    /// The rate-limit headers, besides `Retry-After`, that say when a refused call may be
    /// made again (the service's proxy waits for the longest).
    #[serde(default, skip_serializing_if = "RetryHeaders::is_empty")]
    pub retry: RetryHeaders,
}

/// The request that proves credentials work: it carries `api_auth` as every API call does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyRequest {
    /// HTTP method.
    pub method: VerifyMethod,
    /// Paths relative to the API base URL, tried in order until one answers 2xx.
    pub endpoints: Vec<String>,
    /// Headers sent besides the credentials (placeholders kept).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
}

/// The per-connection inputs of a provider, as declared, with the places that use each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionInputs {
    /// Values each connection supplies.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, ConnectionInput>,
    /// Values learnt during the flow (token response or callback).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub runtime: IndexMap<String, RuntimeInput>,
}

impl ConnectionInputs {
    /// True when the provider needs nothing per connection.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty() && self.runtime.is_empty()
    }
}

/// A declared connection parameter and where it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectionInput {
    /// The declaration, as written.
    #[serde(flatten)]
    pub declared: ConnectionParam,
    /// The table entries that need the value, e.g. `authorization_url`, `token_url`,
    /// `api_base_urls.production`, `authorization.params.tenant`, `scopes`.
    pub used_in: Vec<String>,
}

/// A declared runtime value and where it is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuntimeInput {
    /// The declaration, as written.
    #[serde(flatten)]
    pub declared: RuntimeValue,
    /// The table entries that need the value.
    pub used_in: Vec<String>,
}

/// Parameters of the authorization request that do not depend on the data center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuthorizationRequest {
    /// Separator between scopes in the `scope` parameter.
    pub scope_separator: String,
    /// Whether a PKCE S256 challenge is sent.
    pub pkce: bool,
    /// Extra query parameters (e.g. `access_type=offline`, `prompt=consent`).
    pub params: IndexMap<String, String>,
}

/// How the revocation request is made (RFC 7009).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RevokeRequest {
    /// Whether client authentication is sent with the request.
    pub client_auth: bool,
    /// Where the token goes: form body or query string.
    pub token_in: ParameterPlacement,
}

/// The callback (redirect) contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CallbackSpec {
    /// Default redirect URI.
    pub redirect_uri: String,
    /// Callback parameter naming the user's data center (`location`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_param: Option<String>,
    /// Callback parameter naming the issuer (`accounts-server`, `iss`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_param: Option<String>,
}

/// Every concrete endpoint of one data center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResolvedDataCenter {
    /// Data-center code (e.g. `eu`, or `default` for a provider without data centers).
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Value of the callback's location parameter for this DC, when the provider sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The authorization server's endpoints in this DC (`oauth2_code` only).
    #[serde(flatten)]
    pub authorization: Option<AuthorizationEndpoints>,
    /// The token endpoints in this DC (token modes only).
    #[serde(flatten)]
    pub token: Option<TokenEndpoints>,
    /// API base URL per environment (e.g. `production`, `sandbox`, `developer`).
    pub api_base_urls: IndexMap<String, String>,
    /// Which client secret this DC uses: `shared`, or the DC code when secrets are per DC.
    pub client_secret_key: String,
    /// Which client id this DC uses, when client ids are per DC: the DC code. Absent when one
    /// client id serves every DC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id_key: Option<String>,
    /// Scope names that differ in this DC: catalog name (with its `<name>` placeholders) →
    /// the name sent to the provider. Scopes without placeholders are sent as written.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub scope_names: IndexMap<String, String>,
}

/// The authorization server of one data center (`oauth2_code`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuthorizationEndpoints {
    /// Origin of this DC's authorization server (Zoho: its accounts server). The callback's
    /// issuer parameter must equal it exactly.
    pub issuer: String,
    /// Authorization endpoint used when the user's DC is known.
    pub authorization_url: String,
    /// The DC whose authorization endpoint starts the flow when the user's DC is not known yet.
    pub entry_data_center: String,
    /// Authorization endpoint that starts the flow when the user's DC is not known yet (Zoho:
    /// the global accounts server, or China's own).
    pub entry_authorization_url: String,
}

/// The token endpoints of one data center (token modes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TokenEndpoints {
    /// Token endpoint (code exchange, client credentials or the token request). For a
    /// `token_request` its query string may hold `<credentials.NAME>`.
    pub token_url: String,
    /// Endpoint used to refresh an access token.
    pub refresh_url: String,
    /// Revocation endpoint, when the provider supports revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<String>,
}

/// A part of the table the provider's auth mode does not have (an authorization endpoint of
/// an `api_key` provider), asked for by code that needs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("provider `{provider}` authenticates with `{mode}`, which has no {part}")]
pub struct NotInMode {
    /// Provider id.
    pub provider: String,
    /// The provider's auth mode.
    pub mode: &'static str,
    /// What was asked for (`token endpoint`, `authorization request`).
    pub part: &'static str,
}

impl ResolvedProvider {
    /// `part` of this provider's table (`provider.token.as_ref()`, `dc.authorization.as_ref()`),
    /// or an error naming the mode that has none: for code that serves some modes only.
    pub fn require<'a, T>(
        &self,
        part: Option<&'a T>,
        what: &'static str,
    ) -> Result<&'a T, NotInMode> {
        part.ok_or_else(|| NotInMode {
            provider: self.id.clone(),
            mode: self.auth_mode.as_str(),
            part: what,
        })
    }

    /// The data center with this code, if it is enabled.
    pub fn data_center(&self, code: &str) -> Option<&ResolvedDataCenter> {
        self.data_centers.iter().find(|dc| dc.code == code)
    }

    /// The enabled data center whose callback location value is `location`.
    pub fn data_center_by_location(&self, location: &str) -> Option<&ResolvedDataCenter> {
        self.data_centers
            .iter()
            .find(|dc| dc.location.as_deref() == Some(location))
    }

    /// The codes of the enabled data centers, for error messages that list them.
    pub fn data_center_codes(&self) -> Vec<&str> {
        self.data_centers
            .iter()
            .map(|dc| dc.code.as_str())
            .collect()
    }

    /// Whether `name` is in the scope catalog.
    pub fn has_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|scope| scope.name == name)
    }
}
