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

use super::patterns::{NAME_PATTERN, URL_PATTERN, URL_TEMPLATE_PATTERN, VALUE_PATTERN};

/// A URL or host template. `<name>` placeholders are replaced per data center, e.g.
/// `https://<accounts_host>/oauth/v2/auth` or `https://www.zohoapis.<dc>`, or per connection
/// (`https://<subdomain>.myshopify.com`, see `connection`).
pub type Template = String;

/// One OAuth 2.0 integration provider, described once for every data center it runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "provider-forge provider definition")]
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
    /// URL template of the token endpoint (authorization-code exchange).
    #[schemars(transform = url_template)]
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
    pub params: IndexMap<String, String>,
    /// Extra parameters of the refresh request.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub refresh_params: IndexMap<String, String>,
    /// How token and refresh requests encode their body: a form (RFC 6749) or JSON.
    #[serde(default, skip_serializing_if = "is_default")]
    pub body: TokenBody,
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
    /// Headers sent on API calls besides `Authorization`, e.g. Shopify's
    /// `x-shopify-access-token: "<access_token>"` (`<access_token>` is the connection's access
    /// token).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, Template>,
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
