//! The view of a resolved provider that the `nango` template prints: entries of Nango's
//! `providers.yaml`.
//!
//! Nango builds URLs by interpolating `${connectionConfig.NAME}` into a string. A data center
//! whose authorization server is on another domain (Zoho Canada: `accounts.zohocloud.ca`, not
//! `accounts.zoho.ca`) cannot be reached by interpolating a domain extension into a fixed host,
//! so this view interpolates the whole origin instead: a connection-config field `issuer` whose
//! `enum` is exactly the issuer origins of the enabled data centers, and endpoint URLs of the
//! form `${connectionConfig.issuer}/path`. The path is split off the resolved URL (never
//! rebuilt), and the split is refused unless every data center's URL is exactly its issuer
//! origin followed by the same path, so substituting any allowed origin gives back that data
//! center's resolved URL.
//!
//! Connection values become `connection_config` fields and `${connectionConfig.NAME}` (the
//! access token in API headers: `${accessToken}`), through the same template expansion the
//! engine fills them with. Nango has no default for a connection value inside a URL; its
//! fallback is `A || B` (B when interpolating A changed nothing), so a value using an optional
//! parameter with a default is written `T || T'`, T' being T with the default in place.
//!
//! A Nango integration has one client id, so a provider whose data centers are separate app
//! registrations (`client_id: per_data_center`) becomes one entry per data center: the default
//! one keyed by the provider id, the others by `ID-CODE`.

use indexmap::IndexMap;
use serde::Serialize;

use crate::definition::types::{
    AuthMode, HttpMethod, TokenAuthMethod, TokenBody, ValueKind, VerifyMethod,
};
use crate::resolve::connection::ACCESS_TOKEN;
use crate::resolve::table::{ResolvedDataCenter, ResolvedProvider};
use crate::resolve::template::{self, CREDENTIALS_PREFIX, PlaceholderValues};

/// Connection-config field holding the chosen data center's issuer origin.
pub const ISSUER_FIELD: &str = "issuer";
/// Connection-config field holding the chosen API base URL (data center × environment).
pub const API_BASE_URL_FIELD: &str = "api_base_url";

/// One Nango provider entry, with URLs either literal (one data center) or interpolated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenderedNangoEntry {
    /// The providers.yaml key: the provider id (`ID-CODE` for a data center's own entry).
    pub key: String,
    /// `display_name`.
    pub display_name: String,
    /// `docs` (required by Nango's schema): the provider's docs URL, or empty.
    pub docs: String,
    /// `authorization_url`.
    pub authorization_url: String,
    /// `token_url`.
    pub token_url: String,
    /// `refresh_url`, only when it differs from the token URL.
    pub refresh_url: Option<String>,
    /// `scope_separator`, only when it is not Nango's default (a space).
    pub scope_separator: Option<String>,
    /// `default_scopes`.
    pub default_scopes: Vec<String>,
    /// `authorization_params`: text, except `true` and `false`, which are booleans (see
    /// `query_flags`).
    pub authorization_params: IndexMap<String, serde_json::Value>,
    /// `disable_pkce: true` when the provider sends no PKCE challenge (Nango's default is on).
    pub disable_pkce: bool,
    /// `token_params`.
    pub token_params: IndexMap<String, String>,
    /// `refresh_params`.
    pub refresh_params: IndexMap<String, String>,
    /// `body_format`, only for JSON token requests.
    pub body_format: Option<String>,
    /// `token_request_auth_method` (`basic` for client_secret_basic; absent means form body).
    pub token_request_auth_method: Option<String>,
    /// `token_response_metadata`.
    pub token_response_metadata: Vec<String>,
    /// `redirect_uri_metadata`: the callback's location and issuer parameters, and runtime
    /// values learnt from the callback.
    pub redirect_uri_metadata: Vec<String>,
    /// `proxy.base_url`, when the provider has an API section.
    pub proxy_base_url: Option<String>,
    /// `proxy.headers`.
    pub proxy_headers: IndexMap<String, String>,
    /// `connection_config` fields.
    pub connection_config: Vec<NangoField>,
    /// `auth_mode`: `OAUTH2`, `API_KEY`, `BASIC`, `OAUTH2_CC` or `TWO_STEP`.
    pub auth_mode: &'static str,
    /// `credentials`: the fields the end user fills in.
    pub credentials: Vec<NangoCredential>,
    /// `proxy.query`.
    pub proxy_query: IndexMap<String, String>,
    /// `proxy.verification`.
    pub verification: Option<NangoVerification>,
    /// `token_request_method`, only for a `GET` token request (Nango's default is POST).
    pub token_request_method: Option<String>,
    /// `token_headers` of a token request.
    pub token_headers: IndexMap<String, String>,
    /// `token_response` of a token request.
    pub token_response: Option<NangoTokenResponse>,
    /// `token_expires_in_ms`: the lifetime of a token whose answer names none.
    pub token_expires_in_ms: Option<u64>,
    /// `refresh_token_params` of a token request.
    pub refresh_token_params: IndexMap<String, String>,
    /// `refresh_token_headers` of a token request.
    pub refresh_token_headers: IndexMap<String, String>,
}

/// A `credentials` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoCredential {
    /// Field name (`apiKey`, `username`).
    pub key: String,
    /// `title` (required by Nango's schema).
    pub title: String,
    /// `description` (required by Nango's schema).
    pub description: String,
    /// `example`.
    pub example: Option<String>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `secret`, written when it differs from what Nango's form assumes for the name.
    pub secret: Option<bool>,
    /// `optional`.
    pub optional: bool,
    /// `hidden`.
    pub hidden: bool,
    /// `default_value`.
    pub default_value: Option<String>,
}

/// `proxy.verification`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoVerification {
    /// `method`: `GET` or `POST`.
    pub method: String,
    /// `endpoints`.
    pub endpoints: Vec<String>,
    /// `headers`.
    pub headers: IndexMap<String, String>,
}

/// `token_response` of a token request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoTokenResponse {
    /// `token`: the path of the token.
    pub token: String,
    /// `token_expiration`: the path of its lifetime or expiry.
    pub token_expiration: Option<String>,
    /// `token_expiration_strategy`: `expireIn` (seconds) or `expireAt` (a date).
    pub token_expiration_strategy: Option<String>,
    /// `refresh_token`: the path of a refresh token.
    pub refresh_token: Option<String>,
}

/// A `connection_config` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NangoField {
    /// Field name, used as `${connectionConfig.KEY}`.
    pub key: String,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: String,
    /// `enum`: the only values allowed (empty: any value).
    pub values: Vec<String>,
    /// `example`.
    pub example: Option<String>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `format`: `hostname` or `uri` for whole-host and whole-URL values.
    pub format: Option<String>,
    /// `optional`.
    pub optional: bool,
    /// `default_value`.
    pub default_value: Option<String>,
    /// `automated`: the value is learnt during the flow, not typed by the user.
    pub automated: bool,
}

impl NangoField {
    /// A required field the user types, with nothing but its name and text.
    fn plain(key: &str, title: String, description: String) -> Self {
        NangoField {
            key: key.to_owned(),
            title,
            description,
            values: Vec::new(),
            example: None,
            pattern: None,
            format: None,
            optional: false,
            default_value: None,
            automated: false,
        }
    }

    fn choice(key: &str, title: &str, description: String, values: Vec<String>) -> Self {
        NangoField {
            values,
            ..NangoField::plain(key, title.to_owned(), description)
        }
    }
}

/// Why a provider cannot be written as a Nango entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("provider `{provider}` cannot be written as a Nango entry: {reason}; {why}")]
pub struct NangoRenderError {
    /// The provider id.
    pub provider: String,
    /// Which part of the entry.
    pub endpoint: &'static str,
    /// What is wrong.
    pub reason: String,
    /// What Nango cannot express.
    why: &'static str,
}

const ONE_ORIGIN: &str = "Nango can only interpolate one origin per URL, so every data center's URL must be its issuer origin followed by the same path";

/// The Nango entries of a resolved provider: one, or one per data center when each data
/// center has its own client id.
pub fn entries(provider: &ResolvedProvider) -> Result<Vec<RenderedNangoEntry>, NangoRenderError> {
    let per_data_center = provider.data_centers.len() > 1
        && provider
            .data_centers
            .iter()
            .any(|dc| dc.client_id_key.is_some());
    if !per_data_center {
        return Ok(vec![entry(provider)?]);
    }
    provider
        .data_centers
        .iter()
        .map(|dc| {
            let mut single = provider.clone();
            single.data_centers = vec![dc.clone()];
            single.default_data_center = dc.code.clone();
            let mut entry = entry(&single)?;
            if dc.code != provider.default_data_center {
                entry.key = format!("{}-{}", provider.id, dc.code);
                entry.display_name = format!("{} ({})", provider.display_name, dc.name);
            }
            Ok(entry)
        })
        .collect()
}

/// Builds the Nango view of a resolved provider as one entry.
pub fn entry(provider: &ResolvedProvider) -> Result<RenderedNangoEntry, NangoRenderError> {
    let (Some(request), Some(callback), Some(exchange)) = (
        provider.authorization.as_ref(),
        provider.callback.as_ref(),
        provider.token.as_ref(),
    ) else {
        return mode_entry(provider);
    };
    let dcs = &provider.data_centers;
    let nango = Interpolation::new(provider);
    let endpoint = |name: &'static str, url: fn(&ResolvedDataCenter) -> &str| {
        under_issuer(provider, name, url).map(|url| nango.value(&url))
    };
    let authorization_url = endpoint("authorization URL", dc_authorization_url)?;
    let token_url = endpoint("token URL", dc_token_url)?;
    let refresh_url = if dcs.iter().all(|dc| dc_refresh_url(dc) == dc_token_url(dc)) {
        None
    } else {
        Some(endpoint("refresh URL", dc_refresh_url)?)
    };

    let mut connection_config = Vec::new();
    if dcs.len() > 1 {
        let listing: Vec<String> = dcs
            .iter()
            .map(|dc| format!("{}: {}", dc.name, origin(dc_issuer(dc))))
            .collect();
        connection_config.push(NangoField::choice(
            ISSUER_FIELD,
            "Data center",
            format!(
                "The {} of the data center your {} account is in. {}.",
                server_noun(provider),
                provider.display_name,
                listing.join("; ")
            ),
            dcs.iter()
                .map(|dc| origin(dc_issuer(dc)).to_owned())
                .collect(),
        ));
    }
    let proxy_base_url = proxy_base_url(provider, &nango, &mut connection_config);
    connection_config.extend(connection_fields(provider));

    let mut redirect_uri_metadata: Vec<String> = [&callback.location_param, &callback.issuer_param]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    for (name, runtime) in &provider.connection.runtime {
        if runtime.declared.from == crate::definition::types::RuntimeSource::Callback {
            redirect_uri_metadata.push(name.clone());
        }
    }

    Ok(RenderedNangoEntry {
        key: provider.id.clone(),
        display_name: provider.display_name.clone(),
        docs: provider.docs_url.clone().unwrap_or_default(),
        authorization_url,
        token_url,
        refresh_url,
        scope_separator: (request.scope_separator != " ").then(|| request.scope_separator.clone()),
        default_scopes: default_scopes(provider, &nango)?,
        authorization_params: query_flags(nango.values(&request.params)),
        disable_pkce: !request.pkce,
        token_params: nango.values(&exchange.token_params),
        refresh_params: nango.values(&exchange.refresh_params),
        body_format: (exchange.token_body == TokenBody::Json).then(|| "json".to_owned()),
        token_request_auth_method: match exchange.token_auth_method.unwrap_or_default() {
            TokenAuthMethod::ClientSecretBasic => Some("basic".to_owned()),
            TokenAuthMethod::ClientSecretPost => None,
        },
        token_response_metadata: exchange.token_response_metadata.clone(),
        redirect_uri_metadata,
        proxy_base_url,
        auth_mode: "OAUTH2",
        credentials: Vec::new(),
        proxy_query: provider
            .api_auth
            .iter()
            .flat_map(|api| &api.query)
            .map(|(name, value)| (name.clone(), nango.value(value)))
            .collect(),
        verification: None,
        token_request_method: None,
        token_headers: IndexMap::new(),
        token_response: None,
        token_expires_in_ms: None,
        refresh_token_params: IndexMap::new(),
        refresh_token_headers: IndexMap::new(),
        // Nango's proxy sends the token's `Authorization` header itself.
        proxy_headers: provider
            .api_auth
            .iter()
            .flat_map(|api| &api.headers)
            .filter(|(name, value)| {
                !(name.as_str() == "Authorization" && value.ends_with("<access_token>"))
            })
            .map(|(name, value)| (name.to_ascii_lowercase(), nango.value(value)))
            .collect(),
        connection_config,
    })
}

/// `proxy.base_url`: the one API base URL as Nango writes it, or, when data centers or
/// environments have several, `${connectionConfig.api_base_url}` with a field whose `enum` is
/// every one of them.
fn proxy_base_url(
    provider: &ResolvedProvider,
    nango: &Interpolation,
    connection_config: &mut Vec<NangoField>,
) -> Option<String> {
    let dcs = &provider.data_centers;
    let mut api_urls: Vec<String> = Vec::new();
    for dc in dcs {
        for url in dc.api_base_urls.values() {
            if !api_urls.contains(url) {
                api_urls.push(url.clone());
            }
        }
    }
    match api_urls.len() {
        0 => None,
        1 => Some(nango.value(&api_urls[0])),
        _ => {
            let environments: Vec<&str> = dcs.iter().flat_map(|dc| dc.api_base_urls.keys()).fold(
                Vec::new(),
                |mut names, name| {
                    if !names.contains(&name.as_str()) {
                        names.push(name.as_str());
                    }
                    names
                },
            );
            connection_config.push(NangoField::choice(
                API_BASE_URL_FIELD,
                "API base URL",
                format!(
                    "The {} API base URL of your data center and environment ({}); it must be in \
                     the same data center as the {}.",
                    provider.display_name,
                    environments.join(", "),
                    server_noun(provider),
                ),
                api_urls,
            ));
            Some(interpolation(API_BASE_URL_FIELD))
        }
    }
}

/// Parameters of a URL's query string with the flags `true` and `false` as booleans. Nango
/// turns every value of the query into text, so a boolean sends the same bytes; its schema
/// types such flags (Twitch's `force_verify`) as booleans and refuses the whole file when one is
/// a string.
fn query_flags(params: IndexMap<String, String>) -> IndexMap<String, serde_json::Value> {
    params
        .into_iter()
        .map(|(name, value)| {
            let value = match value.as_str() {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ => serde_json::Value::String(value),
            };
            (name, value)
        })
        .collect()
}

/// The table's URLs of one data center, for the `oauth2_code` providers `entry` takes (an
/// absent part reads as empty, and `entry` refuses other modes before reading any).
fn dc_issuer(dc: &ResolvedDataCenter) -> &str {
    dc.authorization.as_ref().map_or("", |a| a.issuer.as_str())
}

fn dc_authorization_url(dc: &ResolvedDataCenter) -> &str {
    dc.authorization
        .as_ref()
        .map_or("", |a| a.authorization_url.as_str())
}

fn dc_token_url(dc: &ResolvedDataCenter) -> &str {
    dc.token.as_ref().map_or("", |t| t.token_url.as_str())
}

fn dc_refresh_url(dc: &ResolvedDataCenter) -> &str {
    dc.token.as_ref().map_or("", |t| t.refresh_url.as_str())
}

/// Nango's `auth_mode` of a mode.
fn nango_mode(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Oauth2Code => "OAUTH2",
        AuthMode::ApiKey => "API_KEY",
        AuthMode::Basic => "BASIC",
        AuthMode::ClientCredentials => "OAUTH2_CC",
        AuthMode::TokenRequest => "TWO_STEP",
    }
}

/// The `Authorization` header Nango's proxy sends itself for `mode`, as the table writes it:
/// Basic for `BASIC`, Bearer for the token modes. Written out, it would be the same request.
fn implied_authorization(mode: AuthMode) -> Option<String> {
    match mode {
        AuthMode::Basic => {
            Some("Basic <base64(<credentials.username>:<credentials.password>)>".to_owned())
        }
        AuthMode::ClientCredentials | AuthMode::TokenRequest => {
            Some(format!("Bearer <{ACCESS_TOKEN}>"))
        }
        _ => None,
    }
}

/// The Nango entry of a provider that authenticates with an API key, Basic auth, client
/// credentials or a token request: Nango's `auth_mode`, the credential fields, the proxy (base
/// URL, headers, query, verification) and the token request.
fn mode_entry(provider: &ResolvedProvider) -> Result<RenderedNangoEntry, NangoRenderError> {
    let mode = provider.auth_mode;
    let error = |endpoint: &'static str, reason: String, why: &'static str| NangoRenderError {
        provider: provider.id.clone(),
        endpoint,
        reason,
        why,
    };
    let nango = Interpolation::new(provider);
    // Nango's API_KEY and BASIC entries name their fields bare (`${apiKey}`).
    let bare = matches!(mode, AuthMode::ApiKey | AuthMode::Basic);
    let text = |value: &str| nango.text(value, bare);
    let texts = |map: &IndexMap<String, String>| -> IndexMap<String, String> {
        map.iter()
            .map(|(name, value)| (name.clone(), text(value)))
            .collect()
    };
    let headers = |map: &IndexMap<String, String>| -> IndexMap<String, String> {
        map.iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), text(value)))
            .collect()
    };

    let mut connection_config = Vec::new();
    let proxy_base_url = proxy_base_url(provider, &nango, &mut connection_config);
    connection_config.extend(connection_fields(provider));
    let implied = implied_authorization(mode);
    let api_auth = provider.api_auth.clone().unwrap_or_default();
    let proxy_headers = api_auth
        .headers
        .iter()
        .filter(|(name, value)| {
            !(name.eq_ignore_ascii_case("authorization") && Some(*value) == implied.as_ref())
        })
        .map(|(name, value)| (name.to_ascii_lowercase(), text(value)))
        .collect();
    let verification = match &provider.verify {
        None => None,
        Some(verify) => Some(NangoVerification {
            method: match verify.method {
                VerifyMethod::Get => "GET".to_owned(),
                VerifyMethod::Post => "POST".to_owned(),
                VerifyMethod::Head => {
                    return Err(error(
                        "verification",
                        "the verification request is a HEAD request".to_owned(),
                        "Nango verifies credentials with GET or POST only",
                    ));
                }
            },
            endpoints: verify.endpoints.iter().map(|e| text(e)).collect(),
            headers: headers(&verify.headers),
        }),
    };
    let credentials = provider
        .credentials
        .iter()
        .map(|(key, field)| NangoCredential {
            key: key.clone(),
            title: field.title.clone(),
            description: field.description.clone().unwrap_or_default(),
            example: field.example.clone(),
            pattern: field.pattern.clone(),
            secret: Some(field.secret),
            optional: field.optional,
            hidden: field.hidden,
            default_value: field.default.clone(),
        })
        .collect();

    let mut entry = RenderedNangoEntry {
        key: provider.id.clone(),
        display_name: provider.display_name.clone(),
        docs: provider.docs_url.clone().unwrap_or_default(),
        authorization_url: String::new(),
        token_url: String::new(),
        refresh_url: None,
        scope_separator: None,
        default_scopes: Vec::new(),
        authorization_params: IndexMap::new(),
        disable_pkce: false,
        token_params: IndexMap::new(),
        refresh_params: IndexMap::new(),
        body_format: None,
        token_request_auth_method: None,
        token_response_metadata: Vec::new(),
        redirect_uri_metadata: Vec::new(),
        proxy_base_url,
        proxy_headers,
        connection_config,
        auth_mode: nango_mode(mode),
        credentials,
        proxy_query: texts(&api_auth.query),
        verification,
        token_request_method: None,
        token_headers: IndexMap::new(),
        token_response: None,
        token_expires_in_ms: None,
        refresh_token_params: IndexMap::new(),
        refresh_token_headers: IndexMap::new(),
    };
    let Some(exchange) = &provider.token else {
        return Ok(entry);
    };
    let dcs = &provider.data_centers;
    let first = dcs.first().and_then(|dc| dc.token.as_ref());
    let Some(endpoints) =
        first.filter(|first| dcs.iter().all(|dc| dc.token.as_ref() == Some(*first)))
    else {
        return Err(error(
            "token URL",
            "its data centers have different token endpoints".to_owned(),
            "Nango's client-credentials and token-request entries have one token URL",
        ));
    };
    entry.token_url = text(&endpoints.token_url);
    entry.token_params = texts(&exchange.token_params);
    entry.token_response_metadata = exchange.token_response_metadata.clone();
    match mode {
        AuthMode::ClientCredentials => {
            entry.default_scopes = default_scopes(provider, &nango)?;
            entry.body_format = match exchange.token_body {
                TokenBody::Form => None,
                TokenBody::Json => Some("json".to_owned()),
                TokenBody::Query => Some("query".to_owned()),
            };
            entry.token_request_auth_method = match exchange.token_auth_method.unwrap_or_default() {
                TokenAuthMethod::ClientSecretBasic => Some("basic".to_owned()),
                TokenAuthMethod::ClientSecretPost => None,
            };
        }
        _ => {
            entry.body_format = Some(
                match exchange.token_body {
                    TokenBody::Form => "form",
                    TokenBody::Json => "json",
                    TokenBody::Query => {
                        return Err(error(
                            "token request",
                            "the token request sends its parameters in the query string".to_owned(),
                            "Nango's token requests send a JSON or form body",
                        ));
                    }
                }
                .to_owned(),
            );
            if endpoints.refresh_url != endpoints.token_url {
                entry.refresh_url = Some(text(&endpoints.refresh_url));
            }
            entry.refresh_token_params = texts(&exchange.refresh_params);
            if let Some(request) = &provider.token_request {
                entry.token_request_method =
                    (request.method == HttpMethod::Get).then(|| "GET".to_owned());
                entry.token_headers = headers(&request.headers);
                entry.refresh_token_headers = headers(&request.refresh_headers);
                let response = &request.response;
                let (expiration, strategy) = match (&response.expires_in, &response.expires_at) {
                    (Some(path), _) => (Some(path.clone()), Some("expireIn".to_owned())),
                    (None, Some(path)) => (Some(path.clone()), Some("expireAt".to_owned())),
                    (None, None) => (None, None),
                };
                entry.token_response = Some(NangoTokenResponse {
                    token: response.token.clone(),
                    token_expiration: expiration,
                    token_expiration_strategy: strategy,
                    refresh_token: response.refresh_token.clone(),
                });
                entry.token_expires_in_ms = response.lifetime_secs.map(|secs| secs * 1000);
            }
        }
    }
    Ok(entry)
}

/// What the provider calls its authorization server: "accounts server" where its callback
/// says so (Zoho's `accounts-server` parameter), the neutral "sign-in server" otherwise.
fn server_noun(provider: &ResolvedProvider) -> &'static str {
    let issuer_param = provider
        .callback
        .as_ref()
        .and_then(|c| c.issuer_param.as_deref());
    if issuer_param == Some("accounts-server") {
        "accounts server"
    } else {
        "sign-in server"
    }
}

/// The `connection_config` fields of the provider's own connection values: the parameters a
/// user types, then the runtime values the flow learns (`automated`).
fn connection_fields(provider: &ResolvedProvider) -> Vec<NangoField> {
    let field = |name: &str, description: &str, kind: ValueKind| NangoField {
        format: match kind {
            ValueKind::Segment => None,
            ValueKind::Host => Some("hostname".to_owned()),
            ValueKind::Url => Some("uri".to_owned()),
        },
        ..NangoField::plain(name, title(name), description.to_owned())
    };
    let params = provider.connection.params.iter().map(|(name, input)| {
        let declared = &input.declared;
        NangoField {
            example: Some(declared.example.clone()),
            pattern: Some(declared.pattern.clone()),
            optional: declared.optional,
            default_value: declared.default.clone(),
            ..field(name, &declared.description, declared.kind)
        }
    });
    let runtime = provider.connection.runtime.iter().map(|(name, input)| {
        let declared = &input.declared;
        NangoField {
            pattern: declared.pattern.clone(),
            automated: true,
            ..field(name, &declared.description, declared.kind)
        }
    });
    params.chain(runtime).collect()
}

/// A field title from its key: `instance_url` → `Instance url`, `tenantId` → `Tenant id`.
fn title(key: &str) -> String {
    let mut words = String::new();
    for (index, c) in key.chars().enumerate() {
        match c {
            '_' | '-' | '.' => words.push(' '),
            c if c.is_ascii_uppercase() && index > 0 => {
                words.push(' ');
                words.push(c.to_ascii_lowercase());
            }
            c if index == 0 => words.push(c.to_ascii_uppercase()),
            c => words.push(c),
        }
    }
    words
}

/// Default scopes as Nango sends them: expanded for the data center, with connection values
/// interpolated. A scope name that differs between the data centers of one entry cannot be
/// written (Nango's scopes are literal), and is refused rather than written wrong.
fn default_scopes(
    provider: &ResolvedProvider,
    nango: &Interpolation,
) -> Result<Vec<String>, NangoRenderError> {
    let mut scopes = Vec::new();
    for name in &provider.default_scopes {
        let mut sent: Option<&str> = None;
        for dc in &provider.data_centers {
            let here = dc
                .scope_names
                .get(name)
                .map_or(name.as_str(), String::as_str);
            match sent {
                None => sent = Some(here),
                Some(first) if first == here => {}
                Some(first) => {
                    return Err(NangoRenderError {
                        provider: provider.id.clone(),
                        endpoint: "default scopes",
                        reason: format!(
                            "scope `{name}` is `{first}` in one data center and `{here}` in another"
                        ),
                        why: "Nango's scopes are literal and cannot differ per data center",
                    });
                }
            }
        }
        scopes.push(nango.value(sent.unwrap_or(name)));
    }
    Ok(scopes)
}

/// Writes connection values the way Nango interpolates them.
struct Interpolation {
    /// Every connection value as `${connectionConfig.NAME}`, the access token as
    /// `${accessToken}`.
    interpolated: IndexMap<String, Option<String>>,
    /// The same with each default in place of its parameter: the right side of `||`.
    fallback: IndexMap<String, Option<String>>,
    /// Whether any parameter has a default.
    has_defaults: bool,
}

impl Interpolation {
    fn new(provider: &ResolvedProvider) -> Self {
        let mut interpolated = IndexMap::new();
        let mut fallback = IndexMap::new();
        let mut has_defaults = false;
        let inputs = &provider.connection;
        let names = inputs.params.keys().chain(inputs.runtime.keys());
        for name in names {
            interpolated.insert(name.clone(), Some(interpolation(name)));
            let default = inputs
                .params
                .get(name)
                .and_then(|input| input.declared.default.clone());
            has_defaults |= default.is_some();
            fallback.insert(
                name.clone(),
                Some(default.unwrap_or_else(|| interpolation(name))),
            );
        }
        interpolated.insert(ACCESS_TOKEN.to_owned(), Some("${accessToken}".to_owned()));
        fallback.insert(ACCESS_TOKEN.to_owned(), Some("${accessToken}".to_owned()));
        Interpolation {
            interpolated,
            fallback,
            has_defaults,
        }
    }

    /// One value (URL, parameter, header, scope) as Nango writes it.
    fn value(&self, text: &str) -> String {
        let expand = |late| {
            template::expand(text, PlaceholderValues::late_only(late))
                .expect("a resolved table holds only connection placeholders")
        };
        let primary = expand(&self.interpolated);
        if !self.has_defaults {
            return primary;
        }
        let fallback = expand(&self.fallback);
        if fallback == primary {
            primary
        } else {
            format!("{primary} || {fallback}")
        }
    }

    /// A value of the other modes, which may hold credentials and `<base64(...)>`: written with
    /// [`nango_text`], the fallback the same way.
    fn text(&self, text: &str, bare: bool) -> String {
        let primary = nango_text(text, bare, &self.interpolated);
        if !self.has_defaults {
            return primary;
        }
        let fallback = nango_text(text, bare, &self.fallback);
        if fallback == primary {
            primary
        } else {
            format!("{primary} || {fallback}")
        }
    }

    fn values(&self, map: &IndexMap<String, String>) -> IndexMap<String, String> {
        map.iter()
            .map(|(name, value)| (name.clone(), self.value(value)))
            .collect()
    }
}

/// A table value as Nango writes it: each connection value or the access token as `names`
/// gives it, `<credentials.NAME>` as `${credentials.NAME}`, or `${NAME}` when `bare` (the
/// spelling of Nango's API_KEY and BASIC entries, whose proxy reads the fields flat), and
/// `<base64(TEXT)>` as `${base64(TEXT)}`. The table holds no other `<`: the format has no
/// literal angle brackets.
fn nango_text(text: &str, bare: bool, names: &IndexMap<String, Option<String>>) -> String {
    const BASE64: &str = "<base64(";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(inner_and_rest) = after.strip_prefix(BASE64) {
            let end = base64_end(inner_and_rest).unwrap_or(inner_and_rest.len());
            out.push_str("${base64(");
            out.push_str(&nango_text(&inner_and_rest[..end], bare, names));
            out.push_str(")}");
            rest = inner_and_rest.get(end + 2..).unwrap_or_default();
            continue;
        }
        let Some(end) = after.find('>') else {
            break;
        };
        let name = &after[1..end];
        match name.strip_prefix(CREDENTIALS_PREFIX) {
            Some(field) if bare => out.push_str(&format!("${{{field}}}")),
            Some(_) => out.push_str(&format!("${{{name}}}")),
            None => match names.get(name) {
                Some(Some(value)) => out.push_str(value),
                _ => out.push_str(&after[..=end]),
            },
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Where the TEXT of `<base64(TEXT)>` ends in `after` (the text after `<base64(`): the index of
/// the `)` followed by `>` that closes it, nested `<base64(...)>` included.
fn base64_end(after: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 && after[i + 1..].starts_with('>') => return Some(i),
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// `${connectionConfig.FIELD}`, Nango's interpolation syntax.
fn interpolation(field: &str) -> String {
    format!("${{connectionConfig.{field}}}")
}

/// The origin (scheme and host) of an issuer, which may have a path (OIDC).
fn origin(issuer: &str) -> &str {
    let start = issuer.find("://").map_or(0, |at| at + 3);
    match issuer[start..].find('/') {
        Some(slash) => &issuer[..start + slash],
        None => issuer,
    }
}

/// The endpoint as Nango writes it: the literal URL for a single data center, otherwise
/// `${connectionConfig.issuer}` followed by the path every data center shares.
fn under_issuer(
    provider: &ResolvedProvider,
    endpoint: &'static str,
    url: fn(&ResolvedDataCenter) -> &str,
) -> Result<String, NangoRenderError> {
    let error = |reason: String| NangoRenderError {
        provider: provider.id.clone(),
        endpoint,
        reason,
        why: ONE_ORIGIN,
    };
    let dcs = &provider.data_centers;
    if dcs.len() == 1 {
        return Ok(url(&dcs[0]).to_owned());
    }
    let mut shared: Option<&str> = None;
    for dc in dcs {
        let issuer = origin(dc_issuer(dc));
        let not_under = || {
            error(format!(
                "the {endpoint} of data center `{}` ({}) is not under its issuer {issuer}",
                dc.code,
                url(dc),
            ))
        };
        let path = url(dc).strip_prefix(issuer).ok_or_else(not_under)?;
        if !path.is_empty() && !path.starts_with('/') {
            return Err(not_under());
        }
        match shared {
            None => shared = Some(path),
            Some(first) if first == path => {}
            Some(first) => {
                return Err(error(format!(
                    "data center `{}` uses path `{path}` but `{}` uses `{first}`",
                    dc.code, dcs[0].code
                )));
            }
        }
    }
    Ok(format!(
        "{}{}",
        interpolation(ISSUER_FIELD),
        shared.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn zoho_crm() -> ResolvedProvider {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers/zoho-crm.yaml");
        let catalog = crate::catalog::load(&[path]).expect("readable");
        assert!(catalog.is_valid(), "{:#?}", catalog.diagnostics);
        catalog.providers[0].resolved.clone()
    }

    #[test]
    fn credentials_and_base64_are_written_as_nango_interpolates_them() {
        let names = IndexMap::from([
            ("org".to_owned(), Some("${connectionConfig.org}".to_owned())),
            (ACCESS_TOKEN.to_owned(), Some("${accessToken}".to_owned())),
        ]);
        assert_eq!(
            nango_text("Bearer <credentials.apiKey>", true, &names),
            "Bearer ${apiKey}"
        );
        assert_eq!(
            nango_text(
                "Basic <base64(<org>:<credentials.password>)>",
                false,
                &names
            ),
            "Basic ${base64(${connectionConfig.org}:${credentials.password})}"
        );
        assert_eq!(
            nango_text("<access_token> <base64(<credentials.k>)>-x", false, &names),
            "${accessToken} ${base64(${credentials.k})}-x"
        );
    }

    #[test]
    fn substituting_each_allowed_origin_gives_that_data_centers_resolved_urls() {
        let provider = zoho_crm();
        let entry = entry(&provider).unwrap();
        let issuer = &entry.connection_config[0];
        assert_eq!(issuer.title, "Data center");
        assert_eq!(issuer.key, ISSUER_FIELD);
        for (dc, origin) in provider.data_centers.iter().zip(&issuer.values) {
            let substitute = |url: &str| url.replace("${connectionConfig.issuer}", origin);
            assert_eq!(
                substitute(&entry.authorization_url),
                dc.authorization.as_ref().unwrap().authorization_url
            );
            assert_eq!(
                substitute(&entry.token_url),
                dc.token.as_ref().unwrap().token_url
            );
        }
    }

    #[test]
    fn a_data_center_with_a_different_path_cannot_be_a_nango_entry() {
        let mut provider = zoho_crm();
        let ca = provider
            .data_centers
            .iter_mut()
            .find(|dc| dc.code == "ca")
            .unwrap();
        let issuer = ca.authorization.as_ref().unwrap().issuer.clone();
        ca.token.as_mut().unwrap().token_url = format!("{issuer}/oauth/v3/token");
        let error = entry(&provider).unwrap_err();
        assert_eq!(error.endpoint, "token URL");
        assert!(error.reason.contains("`ca`"), "{}", error.reason);
    }

    #[test]
    fn a_url_outside_its_issuer_cannot_be_a_nango_entry() {
        let mut provider = zoho_crm();
        provider.data_centers[1]
            .authorization
            .as_mut()
            .unwrap()
            .authorization_url = provider.data_centers[0]
            .authorization
            .as_ref()
            .unwrap()
            .authorization_url
            .clone();
        let error = entry(&provider).unwrap_err();
        assert!(
            error.reason.contains("not under its issuer"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn a_single_data_center_keeps_literal_urls_and_needs_no_connection_config() {
        let mut provider = zoho_crm();
        provider.data_centers.retain(|dc| dc.code == "ca");
        for dc in &mut provider.data_centers {
            dc.api_base_urls.retain(|name, _| name == "production");
        }
        let entry = entry(&provider).unwrap();
        assert_eq!(
            entry.token_url,
            "https://accounts.zohocloud.ca/oauth/v2/token"
        );
        assert_eq!(
            entry.proxy_base_url.as_deref(),
            Some("https://www.zohoapis.ca")
        );
        assert!(entry.connection_config.is_empty());
    }
}
