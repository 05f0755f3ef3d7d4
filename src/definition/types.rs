//! The Rust types of a provider definition file.
//!
//! These types are the single source of truth for the format: serde reads them, schemars turns
//! their doc comments into `schemas/provider.schema.json`, so an editor's hover text and the
//! loader can never disagree. Every struct denies unknown fields, so a typo in a key is an
//! error instead of a silently ignored setting.

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::patterns::{
    NAME_PATTERN, PARAMETER_VALUE_PATTERN, TOKEN_URL_TEMPLATE_PATTERN, URL_PATTERN,
    URL_TEMPLATE_PATTERN, VALUE_PATTERN,
};

/// A URL or host template. `<name>` placeholders are replaced per data center, e.g.
/// `https://<accounts_host>/oauth/v2/auth` or `https://www.zohoapis.<dc>`, or per connection
/// (`https://<subdomain>.myshopify.com`, see `connection`).
pub type Template = String;

/// One OAuth 2.0 integration provider, described once for every data center it runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "provider-forge provider definition", transform = mode_rules)]
pub struct ProviderDefinition {
    /// Stable identifier of the provider, used in rendered output and file names
    /// (lowercase letters, digits and dashes, e.g. `zoho-crm`).
    #[schemars(transform = identifier)]
    pub id: String,
    /// Human-readable name shown in generated documentation (e.g. `Zoho CRM`).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Link to the provider's own OAuth documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = full_url)]
    pub docs_url: Option<String>,
    /// How a connection authenticates: the mode, and the credential fields the end user
    /// supplies. Omit for the OAuth 2.0 authorization-code flow (`mode: oauth2_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// The data centers the provider runs in and the per-DC values of URL placeholders.
    /// Omit for a plain OAuth 2.0 server that has one set of endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_centers: Option<DataCenters>,
    /// How one OAuth client serves several data centers. Needs `data_centers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_dc: Option<MultiDc>,
    /// Values that differ per connection rather than per data center: supplied by whoever
    /// connects (a shop's subdomain, a tenant) or learnt during the flow (Salesforce's
    /// `instance_url`). Used as `<name>` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    /// Issuer identifier of the authorization server: its origin (Zoho: the accounts server),
    /// or an https URL with a path for OIDC issuers
    /// (`https://login.microsoftonline.com/<tenant>/v2.0`). The issuer parameter of the callback
    /// (`accounts-server`, RFC 9207 `iss`) must equal it exactly.
    /// Required unless the data-center set gives it under `provider_defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = url_template)]
    pub issuer: Option<Template>,
    /// The authorization endpoint and the parameters of the authorization request.
    /// Required unless the data-center set gives it under `provider_defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Token, refresh and revocation endpoints and how the client authenticates to them.
    /// Required unless the data-center set gives it under `provider_defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// Where the provider redirects the user back to, and what it appends to that redirect.
    /// Required unless the data-center set gives it under `provider_defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    /// The provider's API: base URL per environment and how credentials reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    /// Every scope the provider offers, and the ones requested when the user names none.
    /// Used by `oauth2_code` (left out when the provider has none) and `client_credentials`;
    /// not used by the other modes.
    #[serde(default, skip_serializing_if = "Scopes::is_empty")]
    pub scopes: Scopes,
}

impl ProviderDefinition {
    /// The auth mode: as written under `auth.mode`, else `oauth2_code`.
    pub fn mode(&self) -> AuthMode {
        self.auth.as_ref().map(|auth| auth.mode).unwrap_or_default()
    }
}

/// How a provider authenticates connections.
///
/// The mode decides which sections apply: `oauth2_code` uses `authorization`, `token`,
/// `callback` and `scopes`; `client_credentials` and `token_request` use `token` (without
/// `authorization` or `callback`); `api_key` and `basic` use neither, only `api`. Every mode
/// uses `api` and `connection`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The authentication mode.
    #[serde(default)]
    pub mode: AuthMode,
    /// Credential fields each connection supplies, keyed by name (Nango's names: `apiKey`,
    /// `username`, `password`, `appId`). Used as `<credentials.NAME>` in `api.headers`,
    /// `api.query`, `api.verify` and the token request's headers, params and body, never in a
    /// host or path. `basic` always has `username` and `password` (declare them to give a
    /// title, or to hide one with a default); `api_key` and `token_request` need at least one.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = credential_names)]
    pub credentials: IndexMap<String, CredentialField>,
}

/// The way a connection authenticates at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// OAuth 2.0 authorization-code flow (RFC 6749 section 4.1): the user consents at the
    /// provider; tokens are refreshed with the refresh token. Nango's `OAUTH2`.
    #[default]
    Oauth2Code,
    /// A key the user pastes, sent as a header or query parameter as `api` says. Nango's
    /// `API_KEY`.
    ApiKey,
    /// HTTP Basic authentication (RFC 7617) with `username` and `password`: the
    /// `Authorization: Basic` header is implied. Nango's `BASIC`.
    Basic,
    /// OAuth 2.0 client credentials (RFC 6749 section 4.4): the client id and secret buy a token
    /// at `token.url`; a token without `expires_in` lasts 55 minutes. Nango's `OAUTH2_CC`.
    ClientCredentials,
    /// Credentials traded for a short-lived token by a request the provider defines
    /// (`token.method`, `token.headers`, `token.params`, `token.response`). Nango's `TWO_STEP`.
    TokenRequest,
}

impl AuthMode {
    /// The name written in definitions (`oauth2_code`, `api_key`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Oauth2Code => "oauth2_code",
            AuthMode::ApiKey => "api_key",
            AuthMode::Basic => "basic",
            AuthMode::ClientCredentials => "client_credentials",
            AuthMode::TokenRequest => "token_request",
        }
    }

    /// Whether connections of this mode hold a token obtained from `token.url`.
    pub fn has_token(self) -> bool {
        matches!(
            self,
            AuthMode::Oauth2Code | AuthMode::ClientCredentials | AuthMode::TokenRequest
        )
    }
}

/// A credential field the end user supplies (an API key, a username, a password).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = hidden_needs_default)]
pub struct CredentialField {
    /// Label shown in forms (e.g. `API Key`). Defaults to the field's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the value is and where the user finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An example shown as a form placeholder. Display only: it need not match `pattern`
    /// (providers often show a masked key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// Regular expression (Rust `regex` syntax) every value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Whether the value is a secret: hidden in forms, sealed at rest, redacted everywhere.
    /// Defaults to true for names like `apiKey`, `password`, `client_secret`, `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    /// Whether a connection may leave the value out. A header that names an absent optional
    /// value is omitted, not sent empty.
    #[serde(default, skip_serializing_if = "is_default")]
    pub optional: bool,
    /// Whether the field is kept out of forms; it then takes `default` (Basic auth that takes
    /// the key as username and `X` or `""` as password).
    #[serde(default, skip_serializing_if = "is_default")]
    pub hidden: bool,
    /// Value used when the connection gives none. Required for a hidden field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl CredentialField {
    /// Whether the field is a secret: as declared, else by its name.
    pub fn is_secret(&self, name: &str) -> bool {
        self.secret.unwrap_or_else(|| secret_by_name(name))
    }
}

/// Whether a credential named `name` is a secret unless declared otherwise: keys, passwords,
/// client secrets and tokens are.
pub fn secret_by_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["key", "password", "secret", "token"]
        .iter()
        .any(|word| lower.contains(word))
}

/// Data centers: either defined here (`list`) or taken from a shared data-center set (`set`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCenters {
    /// Name of a shared data-center set, loaded from `data-centers/NAME.yaml` beside the
    /// provider file (e.g. `zoho`). Mutually exclusive with `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Default values of placeholders, used for every data center that does not give its own.
    /// A default may itself use placeholders: `accounts_host: accounts.zoho.<dc>`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = placeholder_map)]
    pub placeholders: IndexMap<String, Template>,
    /// The data centers, when they are defined in this file rather than in a shared set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list: Vec<DataCenter>,
    /// Per-DC placeholder values that replace the shared set's, keyed by DC code: the place
    /// for a product's own exception, e.g. `ca: { mail_host: mail.zohocloud.ca }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = placeholder_maps)]
    pub overrides: IndexMap<String, IndexMap<String, Template>>,
}

/// One data center: where a user's account and data live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCenter {
    /// Short code used on the command line and in rendered output (e.g. `eu`).
    #[schemars(transform = data_center_code)]
    pub code: String,
    /// Human-readable name (e.g. `Europe`).
    pub name: String,
    /// The value the provider sends in the callback's location parameter for users of this DC
    /// (Zoho: `location=eu`). Defaults to `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Values of URL placeholders for this DC, e.g. `dc: com.au`. A value here wins over the
    /// default in `placeholders`; that is how an exception such as Canada's
    /// `accounts_host: accounts.zohocloud.ca` is written.
    #[serde(default)]
    #[schemars(transform = placeholder_map)]
    pub values: IndexMap<String, Template>,
}

/// How one OAuth client serves users of several data centers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiDc {
    /// `true`: the authorization request starts at the entry accounts server and the callback
    /// tells which DC the user belongs to (Zoho's "Multi DC" client setting). `false`: the DC
    /// must be known before the flow starts.
    pub enabled: bool,
    /// Codes of the data centers this client is enabled for. Defaults to every defined DC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_centers: Option<Vec<String>>,
    /// The DC used when nothing else tells which one applies. Defaults to the first enabled DC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether one client secret serves every DC or each DC has its own.
    #[serde(default)]
    pub client_secret: ClientSecretMode,
    /// Whether one client id serves every DC or each DC has its own (national clouds are
    /// separate app registrations).
    #[serde(default, skip_serializing_if = "is_default")]
    pub client_id: ClientIdMode,
    /// Which DC's authorization endpoint starts the flow when the user's DC is not known yet.
    /// Defaults to the data-center set's `provider_defaults.entry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<EntryPoint>,
}

/// Whether the client secret is shared by all data centers or different per data center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientSecretMode {
    /// One secret for every data center.
    #[default]
    Shared,
    /// A different secret per data center (Zoho's console shows one per enabled DC).
    PerDataCenter,
}

/// Whether the client id is shared by all data centers or different per data center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientIdMode {
    /// One client id (one app registration) for every data center.
    #[default]
    Shared,
    /// A different client id per data center, e.g. one app registration per national cloud.
    PerDataCenter,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Values that differ per connection. Each is used as a `<name>` placeholder; a name may not
/// also be a data-center placeholder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Values each connection supplies, keyed by name. Name them as Nango's `connectionConfig`
    /// keys for the same provider (`subdomain`, `hostname`, `tenantId`), so imported and native
    /// definitions agree. Usable in URLs, authorization and token parameters, API base URLs,
    /// API headers and scope names.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = placeholder_names)]
    pub params: IndexMap<String, ConnectionParam>,
    /// Values learnt during the flow, keyed by name: from the token response (`instance_url`)
    /// or the callback. Usable only where they exist: never in the issuer or the authorization
    /// request.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = placeholder_names)]
    pub runtime: IndexMap<String, RuntimeValue>,
}

/// A value each connection supplies, e.g. a shop's subdomain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionParam {
    /// What the value is and where the user finds it.
    #[schemars(length(min = 1))]
    pub description: String,
    /// A valid value, shown in documentation and forms (must match `pattern`).
    #[schemars(length(min = 1))]
    pub example: String,
    /// Regular expression (Rust `regex` syntax) every value must match, anchored with `^` and
    /// `$`. It is what keeps a value from moving a request to another host.
    pub pattern: String,
    /// What the value is inside a URL: part of a host label or path segment (default), a whole
    /// host name, or a whole URL.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: ValueKind,
    /// Value used when the connection gives none (the fallback, e.g. Salesforce's
    /// `login.salesforce.com`). Must match `pattern`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether a connection may leave the value out. Without a `default`, an absent value
    /// expands to the empty string.
    #[serde(default, skip_serializing_if = "is_default")]
    pub optional: bool,
    /// The values allowed, when there are few (Amazon's marketplace domains: `[com, co.uk,
    /// de]`). Each must match `pattern` too. A value that stands where it could choose the
    /// registrable domain of a host (right of a fixed label, `api.amazon.<extension>`, or glued
    /// to fixed text, `api<region>.example.com`) must be listed this way; every URL each
    /// allowed value builds is checked when the definition is validated.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub allowed: Option<Vec<String>>,
}

/// What a connection value stands for inside a URL, which decides the characters it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Part of a host label or path segment: `/ ? # @ :`, `%`, `\` and whitespace are refused,
    /// so the value cannot change the URL's structure.
    #[default]
    Segment,
    /// A whole host name (`acme.my.salesforce.com`), checked as a DNS name and bounded by the
    /// pattern.
    Host,
    /// A whole URL (`https://acme.my.salesforce.com`), checked as an https URL and bounded by
    /// the pattern.
    Url,
}

/// A value learnt during the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeValue {
    /// Where the value comes from.
    pub from: RuntimeSource,
    /// What the value is.
    #[schemars(length(min = 1))]
    pub description: String,
    /// What the value is inside a URL.
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: ValueKind,
    /// Optional regular expression the value must match, anchored with `^` and `$`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

/// Where a runtime value is learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeSource {
    /// A field of the token response (code exchange): usable in refresh, revoke and API calls.
    TokenResponse,
    /// A parameter of the callback: usable in the token exchange and everything after it.
    Callback,
}

/// Where an authorization request starts when the user's data center is not known yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryPoint {
    /// The DC whose authorization endpoint is the global entry (Zoho: `us`, accounts.zoho.com).
    pub default: String,
    /// DCs that start somewhere else, keyed by DC code, valued by the entry DC's code
    /// (Zoho: `cn: cn`, China starts at its own accounts server).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub exceptions: IndexMap<String, String>,
}

/// The authorization endpoint and request parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// URL template of the authorization endpoint.
    #[schemars(transform = url_template)]
    pub url: Template,
    /// Separator placed between scopes in the `scope` parameter: `" "` (RFC 6749) or `","`
    /// (Zoho).
    #[serde(default = "default_scope_separator")]
    pub scope_separator: String,
    /// Send a PKCE S256 code challenge (RFC 7636).
    #[serde(default)]
    pub pkce: bool,
    /// Extra query parameters added to every authorization request, e.g.
    /// `access_type: offline` and `prompt: consent`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, String>,
}

fn default_scope_separator() -> String {
    " ".to_owned()
}

/// Token, refresh and revocation endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// URL template of the token endpoint (authorization-code exchange, client credentials, or
    /// the token request). Its query string may hold `<credentials.NAME>`.
    #[schemars(transform = token_url_template)]
    pub url: Template,
    /// URL template of the refresh endpoint, when it is not the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = url_template)]
    pub refresh_url: Option<Template>,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub auth_method: TokenAuthMethod,
    /// Token-response fields to keep with the connection besides the standard ones
    /// (Zoho: `api_domain`, the API host of the user's data center).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_metadata: Vec<String>,
    /// Token revocation (RFC 7009), when the provider supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Revoke>,
    /// Extra parameters of the code-exchange request, e.g. `expiring: "1"`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub params: IndexMap<String, String>,
    /// Extra parameters of the refresh request.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub refresh_params: IndexMap<String, String>,
    /// How token and refresh requests encode their body: a form (RFC 6749) or JSON.
    #[serde(default, skip_serializing_if = "is_default")]
    pub body: TokenBody,
    /// HTTP method of a `token_request` (default `POST`). Other modes always POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Headers of a `token_request`, e.g.
    /// `authorization: "Basic <base64(<credentials.username>:<credentials.password>)>"`.
    /// Values may hold `<credentials.NAME>`, connection values and `<base64(...)>`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub headers: IndexMap<String, Template>,
    /// Where a `token_request`'s answer holds the token and its lifetime. Required by
    /// `token_request`; `client_credentials` reads the standard `access_token` and
    /// `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<TokenResponse>,
    /// Headers of a `token_request`'s refresh request (with `refresh_url` and
    /// `refresh_params`). A `token_request` without a refresh (`response.refresh_token`
    /// absent) runs the token request again when the token expires.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub refresh_headers: IndexMap<String, Template>,
}

/// HTTP method of a request the definition describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    #[default]
    Post,
}

/// Where the answer of a `token_request` holds the token and its lifetime. Paths are
/// dot-separated keys into the JSON answer (`data.accessToken`); an empty path is the whole
/// body (a provider that answers the bare token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    /// Path of the token (e.g. `access_token`, `data.token`).
    pub token: String,
    /// Path of the token's lifetime in seconds (e.g. `expires_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    /// Path of the token's expiry as a date (RFC 3339) or a Unix time in seconds or
    /// milliseconds (e.g. `expires_at`). Not with `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Lifetime in seconds when the answer gives none. Without it, a token whose answer names
    /// no lifetime is used until the API refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_secs: Option<u64>,
    /// Path of a refresh token, when the provider issues one for `refresh_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The body encoding of token and refresh requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    #[default]
    Form,
    /// `application/json`, for providers that accept only JSON.
    Json,
    /// The parameters in the URL's query string and no body (some `client_credentials`
    /// providers).
    Query,
}

/// Client authentication at the token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// `client_id` and `client_secret` in the form body.
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication with the client id and secret.
    ClientSecretBasic,
}

/// Token revocation endpoint (RFC 7009).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// URL template of the revocation endpoint.
    #[schemars(transform = url_template)]
    pub url: Template,
    /// Whether the revocation request must carry client authentication. Zoho needs only the
    /// token.
    #[serde(default)]
    pub client_auth: bool,
    /// Where the token goes: the form body (RFC 7009) or the query string (Zoho documents
    /// `?token=`).
    #[serde(default)]
    pub token_in: ParameterPlacement,
}

/// Where a request parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParameterPlacement {
    /// `application/x-www-form-urlencoded` body.
    #[default]
    Form,
    /// URL query string.
    Query,
}

/// The redirect back from the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// Default redirect URI registered with the provider, e.g.
    /// `https://api.nango.dev/oauth/callback`. Each deployment may replace it.
    #[schemars(transform = full_url)]
    pub redirect_uri: String,
    /// Callback parameter that names the user's data center (Zoho: `location`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_param: Option<String>,
    /// Callback parameter that names the issuing authorization server (Zoho:
    /// `accounts-server`; RFC 9207: `iss`). Checked against `issuer` before any secret is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_param: Option<String>,
}

/// The provider's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Scheme of the `Authorization` header on API calls: `Bearer`, or Zoho's
    /// `Zoho-oauthtoken`.
    #[serde(default = "default_auth_scheme")]
    pub auth_scheme: String,
    /// API base URL template per environment, e.g. `production: https://www.zohoapis.<dc>`.
    #[schemars(length(min = 1), transform = url_template_map)]
    pub environments: IndexMap<String, Template>,
    /// Headers sent on API calls, e.g. Shopify's `x-shopify-access-token: "<access_token>"`
    /// or Anthropic's `x-api-key: "<credentials.apiKey>"`. Token modes send
    /// `Authorization: <auth_scheme> <access_token>` unless a header here uses
    /// `<access_token>`; `basic` sends `Authorization: Basic ...` unless a header here sets
    /// `authorization`. A header naming an absent optional value is omitted.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub headers: IndexMap<String, Template>,
    /// Query parameters added to every API call, e.g. `key: "<credentials.apiKey>"`. A
    /// parameter naming an absent optional value is omitted.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub query: IndexMap<String, Template>,
    /// A request that proves a connection's credentials work, run before anything is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    /// Rate-limit headers the API answers with besides the standard `Retry-After`: the
    /// service's proxy waits as long as the longest of them says before it retries a 429 or
    /// 503 (Nango's `proxy.retry.after` and `.at`).
    #[serde(default, skip_serializing_if = "RetryHeaders::is_empty")]
    pub retry: RetryHeaders,
}

/// The headers that say when a refused API call may be made again, besides `Retry-After`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryHeaders {
    /// Headers that give the seconds to wait, as `Retry-After` does (e.g.
    /// `x-ratelimit-retry-after`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Headers that give the time the limit resets: Unix seconds, Unix milliseconds or an HTTP
    /// date (e.g. `x-ratelimit-reset`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at: Vec<String>,
}

impl RetryHeaders {
    /// True when the definition names no header.
    pub fn is_empty(&self) -> bool {
        self.after.is_empty() && self.at.is_empty()
    }
}

/// An API request that proves credentials work: any 2xx answer from one of its endpoints
/// passes. It carries the credentials as every API call does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// HTTP method (default `GET`).
    #[serde(default, skip_serializing_if = "is_get")]
    pub method: VerifyMethod,
    /// Paths relative to the API base URL, tried in order until one answers 2xx (e.g.
    /// `v1/models`).
    #[schemars(length(min = 1))]
    pub endpoints: Vec<String>,
    /// Headers sent besides the credentials (e.g. `content-type: application/json`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = parameter_map)]
    pub headers: IndexMap<String, Template>,
}

/// HTTP method of a verification request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerifyMethod {
    /// `GET`.
    #[default]
    Get,
    /// `POST`.
    Post,
    /// `HEAD`.
    Head,
}

fn is_get(method: &VerifyMethod) -> bool {
    *method == VerifyMethod::Get
}

fn default_auth_scheme() -> String {
    "Bearer".to_owned()
}

/// The scope catalog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    /// Scopes requested when the user asks for none. Each must be in `catalog`.
    #[serde(default)]
    pub default: Vec<String>,
    /// Every scope the provider offers.
    pub catalog: Vec<Scope>,
}

impl Scopes {
    /// True when the definition names no scope at all (modes without scopes).
    pub fn is_empty(&self) -> bool {
        self.default.is_empty() && self.catalog.is_empty()
    }
}

/// One scope of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The scope string sent to the provider (e.g. `ZohoCRM.modules.leads.ALL`).
    #[schemars(length(min = 1))]
    pub name: String,
    /// The API module or resource the scope covers (e.g. `Leads`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The operation the scope allows (e.g. `ALL`, `READ`, `CREATE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// What the scope lets an integration do, for documentation and consent screens.
    #[schemars(length(min = 1))]
    pub description: String,
}

/// A data-center set shared by several providers (e.g. every Zoho product), in its own file
/// `data-centers/NAME.yaml`. Adding a data center to the set adds it to every provider that
/// uses the set and does not narrow its list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "provider-forge data-center set")]
pub struct DataCenterSet {
    /// Name providers use to refer to the set; must match the file name (`zoho` for
    /// `data-centers/zoho.yaml`).
    #[schemars(transform = identifier)]
    pub name: String,
    /// What the set is and where its facts come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default placeholder values for every data center of the set.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(transform = placeholder_map)]
    pub placeholders: IndexMap<String, Template>,
    /// The data centers.
    #[schemars(length(min = 1))]
    pub data_centers: Vec<DataCenter>,
    /// Sections every provider using the set shares unless it writes its own: one
    /// authorization server (Zoho Accounts) serves every product of a family, so its endpoints
    /// are written once here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_defaults: Option<ProviderDefaults>,
}

/// Provider sections shared through a data-center set. A provider that writes a section
/// itself replaces the set's section as a whole (no merging inside a section).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderDefaults {
    /// Default `issuer` (the authorization server's origin), e.g. `https://<accounts_host>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = url_template)]
    pub issuer: Option<Template>,
    /// Default `authorization` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Default `token` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// Default `callback` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<Callback>,
    /// Default `multi_dc.entry`: where authorization starts when the user's DC is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<EntryPoint>,
}

/// Schema of a map of placeholder values: its keys are placeholder names and its values follow
/// the placeholder syntax, so schema-only editors flag `${host}` and `<host` too.
fn placeholder_map(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        constrain_placeholder_map(object);
    }
}

/// Schema of `overrides`: a placeholder map per data-center code.
fn placeholder_maps(schema: &mut Schema) {
    let inner = schema
        .get_mut("additionalProperties")
        .and_then(Value::as_object_mut);
    if let Some(inner) = inner {
        constrain_placeholder_map(inner);
    }
}

fn constrain_placeholder_map(object: &mut serde_json::Map<String, Value>) {
    object.insert(
        "propertyNames".into(),
        json!({ "pattern": NAME_PATTERN, "patternErrorMessage": NAME_MESSAGE }),
    );
    if let Some(values) = object
        .get_mut("additionalProperties")
        .and_then(Value::as_object_mut)
    {
        with_pattern(values, VALUE_PATTERN, VALUE_MESSAGE);
    }
}

/// Schema of a header or request-parameter map: values follow the placeholder syntax with
/// `<credentials.NAME>` and `<base64(...)>`, so schema-only editors flag `${apiKey}` too.
fn parameter_map(schema: &mut Schema) {
    let values = schema
        .get_mut("additionalProperties")
        .and_then(Value::as_object_mut);
    if let Some(values) = values {
        with_pattern(values, PARAMETER_VALUE_PATTERN, PARAMETER_VALUE_MESSAGE);
    }
}

/// The sections each auth mode requires or refuses, as an `if`/`then` per mode: editors that
/// only read the schema flag `authorization` in an `api_key` provider as they do a typo. The
/// semantic checks (`resolve::modes`) give the same verdicts. Sections a data-center set may
/// share (`issuer`, `authorization`, `token`, `callback`) are not required here.
fn mode_rules(schema: &mut Schema) {
    let mode_is = |mode: &str| match mode {
        // The default: `auth` or its `mode` left out.
        "oauth2_code" => {
            json!({ "properties": { "auth": { "properties": { "mode": { "const": mode } } } } })
        }
        _ => json!({
            "required": ["auth"],
            "properties": { "auth": { "required": ["mode"], "properties": { "mode": { "const": mode } } } }
        }),
    };
    let refuse = |names: &[&str]| -> serde_json::Map<String, Value> {
        names
            .iter()
            .map(|name| ((*name).to_owned(), Value::Bool(false)))
            .collect()
    };
    let oauth_only = ["issuer", "authorization", "callback"];
    let token_request_only = json!({ "properties": {
        "method": false, "headers": false, "response": false, "refresh_headers": false
    } });
    let no_entry = json!({ "properties": { "entry": false } });
    let some_credentials = json!({
        "required": ["credentials"],
        "properties": { "credentials": { "minProperties": 1 } }
    });
    let no_credentials = json!({ "properties": { "credentials": false } });
    let mut rules = Vec::new();
    // oauth2_code may list no scopes: many providers need none, and a definition without
    // scopes is written without the section.
    let mut properties = serde_json::Map::new();
    properties.insert("auth".into(), no_credentials.clone());
    properties.insert("token".into(), token_request_only.clone());
    rules.push(json!({ "if": mode_is("oauth2_code"), "then": { "properties": properties } }));
    for mode in ["api_key", "basic"] {
        let mut properties = refuse(&oauth_only);
        properties.extend(refuse(&["token", "scopes"]));
        properties.insert("multi_dc".into(), no_entry.clone());
        properties.insert(
            "auth".into(),
            if mode == "basic" {
                json!({ "properties": { "credentials": { "propertyNames": { "enum": ["username", "password"] } } } })
            } else {
                some_credentials.clone()
            },
        );
        rules.push(json!({ "if": mode_is(mode), "then": { "required": ["api"], "properties": properties } }));
    }
    let mut properties = refuse(&oauth_only);
    properties.insert("multi_dc".into(), no_entry.clone());
    properties.insert("auth".into(), no_credentials);
    properties.insert("token".into(), token_request_only);
    rules
        .push(json!({ "if": mode_is("client_credentials"), "then": { "properties": properties } }));
    let mut properties = refuse(&oauth_only);
    properties.extend(refuse(&["scopes"]));
    properties.insert("multi_dc".into(), no_entry);
    properties.insert("auth".into(), some_credentials);
    properties.insert(
        "token".into(),
        json!({
            "required": ["response"],
            "properties": { "response": { "properties": { "token": { "minLength": 1 } } } }
        }),
    );
    rules.push(json!({ "if": mode_is("token_request"), "then": { "properties": properties } }));
    schema.insert("allOf".into(), Value::Array(rules));
}

/// Schema of a credential field: a hidden one needs a `default`, since it is never asked for.
fn hidden_needs_default(schema: &mut Schema) {
    schema.insert(
        "if".into(),
        json!({ "required": ["hidden"], "properties": { "hidden": { "const": true } } }),
    );
    schema.insert("then".into(), json!({ "required": ["default"] }));
}

/// Schema of `auth.credentials`: keys are credential names (Nango's `apiKey`, `username`).
fn credential_names(schema: &mut Schema) {
    schema.insert(
        "propertyNames".into(),
        json!({ "pattern": NAME_PATTERN, "patternErrorMessage": NAME_MESSAGE }),
    );
}

/// Schema of a map keyed by placeholder names (`connection.params`, `connection.runtime`).
fn placeholder_names(schema: &mut Schema) {
    schema.insert(
        "propertyNames".into(),
        json!({ "pattern": NAME_PATTERN, "patternErrorMessage": NAME_MESSAGE }),
    );
}

/// Schema of a URL template field.
fn url_template(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        with_pattern(object, URL_TEMPLATE_PATTERN, URL_TEMPLATE_MESSAGE);
    }
}

/// Schema of `token.url`: a URL template whose query string may hold credentials.
fn token_url_template(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        with_pattern(object, TOKEN_URL_TEMPLATE_PATTERN, URL_TEMPLATE_MESSAGE);
    }
}

/// Schema of a URL written out in full (`docs_url`, `callback.redirect_uri`).
fn full_url(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        with_pattern(object, URL_PATTERN, URL_MESSAGE);
    }
}

/// Adds `pattern` with a `patternErrorMessage`: yaml-language-server (and VS Code's JSON
/// support) shows that sentence instead of "String does not match the pattern of" and a regex
/// nobody can read in a tooltip. Validators that do not know the keyword ignore it.
fn with_pattern(object: &mut serde_json::Map<String, Value>, pattern: &str, message: &str) {
    object.insert("pattern".into(), pattern.into());
    object.insert("patternErrorMessage".into(), message.into());
}

/// Schema of a provider id or a set name: what file names and rendered output can carry.
fn identifier(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        with_pattern(
            object,
            "^[a-z0-9]+(-[a-z0-9]+)*$",
            "Lowercase letters, digits and single dashes between them (e.g. `zoho-crm`).",
        );
    }
}

/// Schema of a data-center code: what the command line and rendered output can carry.
fn data_center_code(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        with_pattern(
            object,
            "^[a-z][a-z0-9_-]*$",
            "A lowercase letter, then lowercase letters, digits, `_` or `-` (e.g. `eu`).",
        );
    }
}

/// What a schema-only editor says when a placeholder name breaks [`NAME_PATTERN`].
const NAME_MESSAGE: &str =
    "A placeholder name: letters, digits and `_`, starting with a letter or `_` (e.g. `api_host`).";
/// What a schema-only editor says when a placeholder value breaks [`VALUE_PATTERN`].
const VALUE_MESSAGE: &str = "Placeholders are written `<name>` (not `${name}`, `{{name}}` or `{name}`), with a name of letters, digits and `_`.";
/// What a schema-only editor says when a header or parameter value breaks
/// [`PARAMETER_VALUE_PATTERN`].
const PARAMETER_VALUE_MESSAGE: &str = "Placeholders are written `<name>`, `<credentials.NAME>` or `<base64(TEXT)>` (not `${name}`, `{{name}}` or `{name}`), with names of letters, digits and `_`.";
/// What a schema-only editor says when a URL template breaks [`URL_TEMPLATE_PATTERN`].
const URL_TEMPLATE_MESSAGE: &str = "An https URL (http only to localhost, 127.0.0.1 or [::1]) in printable ASCII, or a template starting with a whole-URL placeholder; placeholders are written `<name>` (not `${name}`, `{{name}}` or `{name}`).";
/// What a schema-only editor says when a URL breaks [`URL_PATTERN`].
const URL_MESSAGE: &str = "An https URL (http only to localhost, 127.0.0.1 or [::1]) in printable ASCII, written out in full: no placeholders here.";

/// Schema of a map whose values are URL templates (`api.environments`).
fn url_template_map(schema: &mut Schema) {
    let values = schema
        .get_mut("additionalProperties")
        .and_then(Value::as_object_mut);
    if let Some(values) = values {
        with_pattern(values, URL_TEMPLATE_PATTERN, URL_TEMPLATE_MESSAGE);
    }
}
