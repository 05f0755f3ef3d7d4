//! The Rust types of a provider definition file.
//!
//! These types are the single source of truth for the format: serde reads them, schemars turns
//! their doc comments into `schemas/provider.schema.json`, so an editor's hover text and the
//! loader can never disagree. Every struct denies unknown fields, so a typo in a key is an
//! error instead of a silently ignored setting.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A URL or host template. `<name>` placeholders are replaced per data center, e.g.
/// `https://<accounts_host>/oauth/v2/auth` or `https://www.zohoapis.<dc>`.
pub type Template = String;

/// One OAuth 2.0 integration provider, described once for every data center it runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "provider-forge provider definition")]
pub struct ProviderDefinition {
    /// Stable identifier of the provider, used in rendered output and file names
    /// (lowercase letters, digits and dashes, e.g. `zoho-crm`).
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub id: String,
    /// Human-readable name shown in generated documentation (e.g. `Zoho CRM`).
    #[schemars(length(min = 1))]
    pub display_name: String,
    /// Link to the provider's own OAuth documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// The data centers the provider runs in and the per-DC values of URL placeholders.
    /// Omit for a plain OAuth 2.0 server that has one set of endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_centers: Option<DataCenters>,
    /// How one OAuth client serves several data centers. Needs `data_centers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_dc: Option<MultiDc>,
    /// Origin of the authorization server (Zoho: the accounts server). The issuer parameter of
    /// the callback (`accounts-server`, RFC 9207 `iss`) must equal it exactly, and secrets are
    /// only ever sent to this origin's endpoints.
    /// Required unless the data-center set gives it under `provider_defaults`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// The provider's API: base URL per environment and the Authorization header scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    /// Every scope the provider offers, and the ones requested when the user names none.
    pub scopes: Scopes,
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
    pub placeholders: IndexMap<String, Template>,
    /// The data centers, when they are defined in this file rather than in a shared set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list: Vec<DataCenter>,
    /// Per-DC placeholder values that replace the shared set's, keyed by DC code: the place
    /// for a product's own exception, e.g. `ca: { mail_host: mail.zohocloud.ca }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub overrides: IndexMap<String, IndexMap<String, Template>>,
}

/// One data center: where a user's account and data live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCenter {
    /// Short code used on the command line and in rendered output (e.g. `eu`).
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_-]*$"))]
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
    /// URL template of the token endpoint (authorization-code exchange).
    pub url: Template,
    /// URL template of the refresh endpoint, when it is not the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[schemars(length(min = 1))]
    pub environments: IndexMap<String, Template>,
}

fn default_auth_scheme() -> String {
    "Bearer".to_owned()
}

/// The scope catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    /// Scopes requested when the user asks for none. Each must be in `catalog`.
    #[serde(default)]
    pub default: Vec<String>,
    /// Every scope the provider offers.
    pub catalog: Vec<Scope>,
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
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub name: String,
    /// What the set is and where its facts come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default placeholder values for every data center of the set.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
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
