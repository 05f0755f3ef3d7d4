//! One Nango OAUTH2 entry mapped onto a provider definition, or the Nango feature that stops it.
//!
//! The mapping carries over what decides the OAuth flow and the API calls: endpoints,
//! authorization/token/refresh parameters, scope separator and default scopes, PKCE, client
//! authentication, the token body encoding, the API base URL and headers, and every
//! `${connectionConfig.NAME}` as a connection parameter (a value the connection supplies) or a
//! runtime value (learnt from the token response or the callback). A field that changes the flow
//! and has no equivalent in our format makes the entry a [`Skip`] naming that field; a field that
//! does not change the flow (documentation links, categories, webhooks, proxy pagination and
//! retries, ...) is listed in `not_carried_over`. Every field of the entry ends in one of the
//! two, so nothing is dropped unnoticed.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};

use super::template::{self, Context, Position, Unconvertible};
use crate::definition::types::{
    Api, Authorization, Callback, Connection, ConnectionParam, ProviderDefinition, RuntimeSource,
    RuntimeValue, Scope, Scopes, Token, TokenAuthMethod, TokenBody, ValueKind,
};
use crate::nango::NangoEntry;

/// The redirect URI written into every imported definition: Nango's own callback, which is
/// what an app registered for Nango already allows.
const NANGO_CALLBACK: &str = "https://api.nango.dev/oauth/callback";

/// Entries whose token exchange Nango runs in provider-specific code rather than from the
/// YAML (`shouldUseProviderClient` in packages/shared/lib/clients/provider.client.ts, at the
/// commit of the anchored providers.yaml). Their YAML alone does not describe the flow.
const PROVIDER_CLIENTS: &[&str] = &[
    "agiloft",
    "braintree",
    "braintree-sandbox",
    "bullhorn",
    "coros",
    "coros-sandbox",
    "figma",
    "figjam",
    "facebook",
    "followupboss",
    "instagram",
    "jobber",
    "microsoft-admin",
    "microsoft-teams-bot",
    "one-drive",
    "sharepoint-online",
    "tiktok-ads",
    "tiktok-accounts",
    "tiktok-personal",
    "sentry-oauth",
    "stripe-app",
    "stripe-app-sandbox",
    "workday-oauth",
    "fanvue",
    "heygen",
    "mercury",
    "clover",
    "absorb-lms",
    "posthog-oauth",
    "walmart",
    "slack",
    "attio-mcp",
    "revolut-business",
    "shopline-oauth",
    "threads",
];

/// Fields that change the authorization or token request in a way our format cannot say.
const UNSUPPORTED_FIELDS: &[&str] = &[
    "authorization_url_replacements",
    "authorization_url_fragment",
    "authorization_url_skip_encode",
    "authorization_url_skip_empty",
    "authorization_code_param_in_callback",
    "authorization_code_param_in_webhook",
    "alternate_access_token_response_path",
    "decode_url",
    "token_url_skip_encode",
    "require_client_certificate",
    "installation",
];

/// Top-level fields the mapping reads (whatever it does with them).
const READ_FIELDS: &[&str] = &[
    "auth_mode",
    "display_name",
    "docs",
    "authorization_url",
    "token_url",
    "refresh_url",
    "authorization_params",
    "token_params",
    "refresh_params",
    "scope_separator",
    "default_scopes",
    "disable_pkce",
    "token_request_auth_method",
    "authorization_method",
    "body_format",
    "token_response_metadata",
    "redirect_uri_metadata",
    "proxy",
    "connection_config",
];

/// Attributes of a `connection_config` field the mapping carries over.
const READ_FIELD_ATTRIBUTES: &[&str] = &["type", "description", "example", "pattern", "enum"];

/// Why an entry is not imported: the Nango feature with no equivalent, and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The Nango feature, as its field name where there is one (`post_connection_script`).
    pub feature: String,
    /// What exactly in this entry needs it.
    pub detail: String,
}

fn skip(feature: impl Into<String>, detail: impl Into<String>) -> Skip {
    Skip {
        feature: feature.into(),
        detail: detail.into(),
    }
}

/// An entry mapped onto a definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapped {
    /// The definition.
    pub definition: ProviderDefinition,
    /// Nango fields (dotted paths) with no place in the definition.
    pub not_carried_over: Vec<String>,
    /// How some fields were carried over, where that is not one-to-one.
    pub notes: Vec<String>,
}

/// Where in the entry a connection value is used, which decides what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Authorization URL and parameters: before the callback.
    Authorization,
    /// Token URL and parameters: after the callback, before the token response.
    Exchange,
    /// Refresh, API: after the token response.
    Later,
}

#[derive(Debug, Default)]
struct Usage {
    positions: Vec<Position>,
    earliest: Option<Stage>,
    places: Vec<String>,
    fallback: Option<String>,
    /// Places where the value is used without Nango's `||` fallback.
    without_fallback: Vec<String>,
}

/// Everything the entry's templates say about connection values.
#[derive(Debug, Default)]
struct Uses {
    by_name: IndexMap<String, Usage>,
}

impl Uses {
    /// Converts `text` found at `place`, recording the values it uses.
    fn convert(
        &mut self,
        text: &str,
        place: &str,
        context: Context,
        stage: Stage,
    ) -> Result<String, Skip> {
        let converted = template::convert(text, context).map_err(|error| match error {
            Unconvertible::Interpolation(name) => skip(
                format!("${{{name}}}"),
                format!(
                    "{place} uses Nango's `${{{name}}}`, which our format has no value for"
                ),
            ),
            Unconvertible::Fallback(text) => skip(
                "|| fallback",
                format!(
                    "{place} is `{text}`: a fallback that is not the same template with a \
                     default value"
                ),
            ),
            Unconvertible::AngleBracket(text) => skip(
                "literal < or >",
                format!("{place} is `{text}`; `<` and `>` delimit placeholders in our format"),
            ),
        })?;
        for use_ in &converted.uses {
            let usage = self.by_name.entry(use_.name.clone()).or_default();
            usage.positions.push(use_.position);
            usage.earliest = Some(usage.earliest.map_or(stage, |s| s.min(stage)));
            if !usage.places.iter().any(|p| p == place) {
                usage.places.push(place.to_owned());
            }
            match &converted.fallback {
                Some((name, literal)) if name == &use_.name => {
                    if usage.fallback.as_ref().is_some_and(|l| l != literal) {
                        return Err(skip(
                            "|| fallback",
                            format!("`{name}` falls back to two different values"),
                        ));
                    }
                    usage.fallback = Some(literal.clone());
                }
                _ => usage.without_fallback.push(place.to_owned()),
            }
        }
        Ok(converted.text)
    }
}

/// A Nango field's value as the string Nango sends (numbers and booleans stringified as
/// JavaScript would).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

/// Maps one entry. `scopes` is the entry's list from Nango's providers.scopes.yaml, if any.
pub(crate) fn map(entry: &NangoEntry, scopes: Option<&[String]>) -> Result<Mapped, Skip> {
    let fields = &entry.fields;
    let get = |key: &str| fields.get(key);
    let text = |key: &str| get(key).and_then(Value::as_str);
    let mut notes = Vec::new();
    let mut not_carried_over = Vec::new();

    if !crate::import::is_valid_id(&entry.id) {
        return Err(skip(
            "key",
            format!(
                "`{}` is not a valid provider id (lowercase letters, digits and dashes)",
                entry.id
            ),
        ));
    }
    let connection_config = get("connection_config").and_then(Value::as_mapping);
    if connection_config.is_some_and(|c| c.contains_key("extension"))
        && text("authorization_url").is_some_and(|u| u.contains("zoho.${connectionConfig.extension}"))
    {
        return Err(skip(
            "connection_config.extension (Zoho multi-DC)",
            "Zoho's data centers chosen by a domain extension: provider-forge describes the Zoho \
             family on one shared data-center set (providers/data-centers/zoho.yaml, with the \
             definitions providers/zoho-*.yaml), which also covers the DCs whose accounts server \
             is not accounts.zoho.<extension> (Canada)",
        ));
    }
    if PROVIDER_CLIENTS.contains(&entry.id.as_str()) {
        return Err(skip(
            "provider client",
            format!(
                "Nango exchanges `{}`'s tokens in provider-specific code \
                 (shouldUseProviderClient), not from its YAML",
                entry.id
            ),
        ));
    }
    for field in UNSUPPORTED_FIELDS {
        if get(field).is_some() {
            return Err(skip(*field, format!("`{field}` changes the request in a way our format cannot express")));
        }
    }
    let Some(authorization_url) = text("authorization_url") else {
        return Err(skip("authorization_url", "the entry has no authorization URL"));
    };
    let Some(token_url) = text("token_url") else {
        return Err(skip("token_url", "the token URL is not a single string"));
    };
    let token_params = get("token_params").and_then(Value::as_mapping);
    let grant = token_params.and_then(|p| p.get("grant_type")).and_then(scalar);
    if let Some(grant) = grant.filter(|g| g != "authorization_code") {
        return Err(skip(
            "token_params.grant_type",
            format!("grant type `{grant}`: Nango runs no authorization-code flow for it"),
        ));
    }
    let basic = match text("token_request_auth_method") {
        None => false,
        Some("basic") => true,
        Some(other) => {
            return Err(skip(
                "token_request_auth_method",
                format!("client authentication `{other}`"),
            ));
        }
    } || text("authorization_method") == Some("header");
    let body = match text("body_format") {
        None | Some("form") => TokenBody::Form,
        Some("json") => TokenBody::Json,
        Some(other) => return Err(skip("body_format", format!("token body `{other}`"))),
    };
    let proxy = get("proxy").and_then(Value::as_mapping);
    if proxy.is_some_and(|p| p.contains_key("query")) {
        return Err(skip(
            "proxy.query",
            "query parameters added to every API call",
        ));
    }

    // Endpoints and parameters, recording every connection value they use.
    let mut uses = Uses::default();
    let authorization_url =
        uses.convert(authorization_url, "authorization_url", Context::Url, Stage::Authorization)?;
    let token_url = uses.convert(token_url, "token_url", Context::Url, Stage::Exchange)?;
    let refresh_url = text("refresh_url")
        .map(|url| uses.convert(url, "refresh_url", Context::Url, Stage::Later))
        .transpose()?;
    let authorization_params = params(
        &mut uses,
        get("authorization_params"),
        "authorization_params",
        Stage::Authorization,
    )?;
    let mut token = params(&mut uses, get("token_params"), "token_params", Stage::Exchange)?;
    if token.shift_remove("grant_type").is_some() {
        notes.push(
            "token_params.grant_type: the exchange sends grant_type=authorization_code itself \
             (Nango's client overrides the field too)"
                .to_owned(),
        );
    }
    let mut refresh = match get("refresh_params") {
        Some(value) => params(&mut uses, Some(value), "refresh_params", Stage::Later)?,
        None if !token.is_empty() => {
            notes.push(
                "refresh_params: Nango sends token_params on refresh when refresh_params is \
                 absent, so they are written as refresh_params too"
                    .to_owned(),
            );
            let mut copy = IndexMap::new();
            for (name, value) in &token {
                copy.insert(name.clone(), value.clone());
            }
            copy
        }
        None => IndexMap::new(),
    };
    if refresh.shift_remove("grant_type").is_some() {
        notes.push(
            "refresh_params.grant_type: the refresh sends grant_type=refresh_token itself \
             (Nango's client overrides the field too)"
                .to_owned(),
        );
    }
    let default_scopes: Vec<String> = string_list(get("default_scopes"))
        .iter()
        .map(|scope| uses.convert(scope, "default_scopes", Context::Value, Stage::Authorization))
        .collect::<Result<_, _>>()?;

    // The API.
    let mut api = None;
    if let Some(proxy) = proxy {
        let base = proxy.get("base_url").and_then(Value::as_str).filter(|b| !b.is_empty());
        let mut headers = IndexMap::new();
        for (name, value) in proxy
            .get("headers")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(value)) = (name.as_str(), scalar(value)) else {
                return Err(skip("proxy.headers", "a header that is not a string"));
            };
            let place = format!("proxy.headers.{name}");
            headers.insert(
                name.to_owned(),
                uses.convert(&value, &place, Context::Header, Stage::Later)?,
            );
        }
        match base {
            Some(base) => {
                let base = uses.convert(base, "proxy.base_url", Context::Url, Stage::Later)?;
                api = Some(Api {
                    auth_scheme: "Bearer".to_owned(),
                    environments: IndexMap::from([("production".to_owned(), base)]),
                    headers,
                });
            }
            None => {
                if !headers.is_empty() {
                    not_carried_over.push("proxy.headers".to_owned());
                }
            }
        }
        for (key, _) in proxy {
            let key = key.as_str().unwrap_or_default();
            if !matches!(key, "base_url" | "headers") {
                not_carried_over.push(format!("proxy.{key}"));
            }
        }
    }

    // Connection values.
    let connection = connection(entry, &uses, &mut not_carried_over, &mut notes)?;
    let token_metadata = string_list(get("token_response_metadata"));
    let response_metadata: Vec<String> = token_metadata
        .iter()
        .filter(|name| !connection.runtime.contains_key(name.as_str()))
        .cloned()
        .collect();
    for name in string_list(get("redirect_uri_metadata")) {
        if !connection.runtime.contains_key(name.as_str()) {
            not_carried_over.push(format!("redirect_uri_metadata.{name}"));
        }
    }

    // Scopes: the catalog is Nango's scope list for the entry, plus the default scopes.
    let mut names: Vec<String> = Vec::new();
    let mut catalog = Vec::new();
    for name in scopes.unwrap_or_default() {
        if name.contains('<') || name.contains('>') || name.contains("${") {
            // A scope template of Nango's scope list (`session:role-encoded:<role_name>`):
            // our format would read it as a placeholder, and the list only documents scopes.
            not_carried_over.push(format!("providers.scopes.yaml: {name}"));
            continue;
        }
        let name = name.clone();
        if !names.contains(&name) {
            names.push(name.clone());
            catalog.push(Scope {
                name,
                module: None,
                operation: None,
                description: "Listed for this provider in Nango's providers.scopes.yaml."
                    .to_owned(),
            });
        }
    }
    for name in &default_scopes {
        if !names.contains(name) {
            names.push(name.clone());
            catalog.push(Scope {
                name: name.clone(),
                module: None,
                operation: None,
                description: "Requested by default in Nango's providers.yaml entry.".to_owned(),
            });
        }
    }

    let issuer = issuer_of(&authorization_url);
    for (key, _) in fields {
        let key = key.as_str().unwrap_or_default();
        if !READ_FIELDS.contains(&key) {
            not_carried_over.push(key.to_owned());
        }
    }
    let definition = ProviderDefinition {
        id: entry.id.clone(),
        display_name: text("display_name").unwrap_or(&entry.id).to_owned(),
        docs_url: text("docs").map(str::to_owned),
        data_centers: None,
        multi_dc: None,
        connection: (!connection.params.is_empty() || !connection.runtime.is_empty())
            .then_some(connection),
        issuer: Some(issuer),
        authorization: Some(Authorization {
            url: authorization_url,
            scope_separator: text("scope_separator").unwrap_or(" ").to_owned(),
            pkce: get("disable_pkce").and_then(Value::as_bool) != Some(true),
            params: authorization_params,
        }),
        token: Some(Token {
            url: token_url,
            refresh_url,
            auth_method: if basic {
                TokenAuthMethod::ClientSecretBasic
            } else {
                TokenAuthMethod::ClientSecretPost
            },
            response_metadata,
            revoke: None,
            params: token,
            refresh_params: refresh,
            body,
        }),
        callback: Some(Callback {
            redirect_uri: NANGO_CALLBACK.to_owned(),
            location_param: None,
            issuer_param: None,
        }),
        api,
        scopes: Scopes {
            default: default_scopes,
            catalog,
        },
    };
    Ok(Mapped {
        definition,
        not_carried_over,
        notes,
    })
}

/// Converts a parameter mapping (authorization, token or refresh parameters).
fn params(
    uses: &mut Uses,
    value: Option<&Value>,
    field: &str,
    stage: Stage,
) -> Result<IndexMap<String, String>, Skip> {
    let mut out = IndexMap::new();
    for (name, value) in value.and_then(Value::as_mapping).into_iter().flatten() {
        let name = scalar(name).unwrap_or_default();
        let place = format!("{field}.{name}");
        let Some(value) = scalar(value) else {
            return Err(skip(field, format!("`{place}` is not a string, number or boolean")));
        };
        let value = uses.convert(&value, &place, Context::Value, stage)?;
        out.insert(name, value);
    }
    Ok(out)
}

/// The issuer written for an imported entry: the authorization URL's scheme and host (a
/// connection value that is a whole URL stands for itself). Nango has no issuer; this is the
/// origin the flow starts at.
fn issuer_of(authorization_url: &str) -> String {
    if let Some((scheme, rest)) = authorization_url.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        format!("{scheme}://{}", &rest[..end])
    } else if authorization_url.starts_with('<') {
        let end = authorization_url.find('>').map_or(authorization_url.len(), |i| i + 1);
        authorization_url[..end].to_owned()
    } else {
        authorization_url.to_owned()
    }
}

/// The connection parameters and runtime values of the entry.
fn connection(
    entry: &NangoEntry,
    uses: &Uses,
    not_carried_over: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Connection, Skip> {
    let fields = &entry.fields;
    let config = fields
        .get("connection_config")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    let token_metadata: BTreeSet<String> = string_list(fields.get("token_response_metadata"))
        .into_iter()
        .collect();
    let callback_metadata: BTreeSet<String> = string_list(fields.get("redirect_uri_metadata"))
        .into_iter()
        .collect();
    let has_script = fields.contains_key("post_connection_script");
    let mut connection = Connection::default();
    for (name, usage) in &uses.by_name {
        let places = usage.places.join(", ");
        if !is_placeholder_name(name) {
            return Err(skip(
                "connection_config key",
                format!("`{name}` (used in {places}) is not a placeholder name ([A-Za-z_][A-Za-z0-9_]*)"),
            ));
        }
        let declared = config.get(name.as_str()).and_then(Value::as_mapping);
        let attribute = |key: &str| declared.and_then(|d| d.get(key));
        let described = attribute("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .or_else(|| attribute("title").and_then(Value::as_str).filter(|t| !t.is_empty()))
            .map(str::to_owned);
        let kind = kind_of(name, usage)?;
        let runtime_source = if token_metadata.contains(name) {
            Some(RuntimeSource::TokenResponse)
        } else if callback_metadata.contains(name) {
            Some(RuntimeSource::Callback)
        } else {
            None
        };
        if let Some(from) = runtime_source {
            let (field, too_early) = match from {
                RuntimeSource::TokenResponse => ("token_response_metadata", Stage::Exchange),
                RuntimeSource::Callback => ("redirect_uri_metadata", Stage::Authorization),
            };
            if usage.earliest.is_some_and(|stage| stage <= too_early) {
                return Err(skip(
                    field,
                    format!("`{name}` is learnt during the flow but used in {places}, before it is known"),
                ));
            }
            if usage.fallback.is_some() {
                return Err(skip(
                    "|| fallback",
                    format!("runtime value `{name}` has a fallback in {places}"),
                ));
            }
            let pattern = match attribute("pattern").and_then(Value::as_str) {
                Some(pattern) => Some(rust_pattern(name, pattern, notes)?),
                None => None,
            };
            connection.runtime.insert(
                name.clone(),
                RuntimeValue {
                    from,
                    description: described.unwrap_or_else(|| match from {
                        RuntimeSource::TokenResponse => {
                            format!("Field `{name}` of the token response.")
                        }
                        RuntimeSource::Callback => {
                            format!("Parameter `{name}` of the callback.")
                        }
                    }),
                    kind,
                    pattern,
                },
            );
            note_unread_attributes(name, declared, &["automated"], not_carried_over);
            continue;
        }
        let automated = attribute("automated").and_then(Value::as_bool) == Some(true);
        if has_script && (declared.is_none() || automated) {
            return Err(skip(
                "post_connection_script",
                format!("`{name}` (used in {places}) is filled in by Nango's post-connection script"),
            ));
        }
        if usage.fallback.is_some() && !usage.without_fallback.is_empty() {
            return Err(skip(
                "|| fallback",
                format!(
                    "`{name}` falls back to a default in some places but not in {}",
                    usage.without_fallback.join(", ")
                ),
            ));
        }
        let enumeration: Vec<String> = attribute("enum")
            .and_then(Value::as_sequence)
            .map(|items| items.iter().filter_map(scalar).collect())
            .unwrap_or_default();
        let pattern = match attribute("pattern").and_then(Value::as_str) {
            Some(pattern) => rust_pattern(name, pattern, notes)?,
            None if !enumeration.is_empty() => {
                let alternatives: Vec<String> =
                    enumeration.iter().map(|v| regex::escape(v)).collect();
                format!("^(?:{})$", alternatives.join("|"))
            }
            None => {
                notes.push(format!(
                    "connection_config.{name}: Nango gives no pattern; the importer wrote the \
                     pattern of a {} value",
                    kind_label(kind)
                ));
                default_pattern(kind).to_owned()
            }
        };
        let matcher = regex::Regex::new(&pattern).map_err(|error| {
            skip(
                "connection_config pattern",
                format!("the pattern of `{name}` is not a Rust regular expression: {error}"),
            )
        })?;
        if let Some(default) = usage.fallback.as_ref().filter(|d| !matcher.is_match(d)) {
            return Err(skip(
                "|| fallback",
                format!("the fallback `{default}` of `{name}` does not match its pattern `{pattern}`"),
            ));
        }
        let nango_example = attribute("example").and_then(scalar);
        let fits = |value: &str| matcher.is_match(value) && fits_kind(value, kind);
        let candidates = nango_example
            .iter()
            .chain(enumeration.first())
            .chain(usage.fallback.as_ref())
            .cloned()
            .chain(GENERIC_EXAMPLES.iter().map(|e| (*e).to_owned()));
        let Some(example) = candidates.into_iter().find(|c| fits(c)) else {
            return Err(skip(
                "connection_config example",
                format!(
                    "no example of `{name}` matches its pattern `{pattern}` as a {} value",
                    kind_label(kind)
                ),
            ));
        };
        if nango_example.as_deref() != Some(example.as_str()) {
            notes.push(format!(
                "connection_config.{name}.example: `{example}` (Nango gives {})",
                match &nango_example {
                    Some(e) => format!(
                        "`{e}`, which is not a valid {} value matching the pattern",
                        kind_label(kind)
                    ),
                    None => "none".to_owned(),
                }
            ));
        }
        let optional =
            attribute("optional").and_then(Value::as_bool) == Some(true) || usage.fallback.is_some();
        if let Some(default) = &usage.fallback {
            notes.push(format!(
                "connection_config.{name}: Nango's `||` fallback written as the default `{default}`"
            ));
        }
        connection.params.insert(
            name.clone(),
            ConnectionParam {
                description: described
                    .unwrap_or_else(|| format!("The connection's `{name}` value.")),
                example,
                pattern,
                kind,
                default: usage.fallback.clone(),
                optional,
            },
        );
        note_unread_attributes(name, declared, &["optional"], not_carried_over);
    }
    for (key, _) in &config {
        let key = key.as_str().unwrap_or_default();
        if !uses.by_name.contains_key(key) {
            not_carried_over.push(format!("connection_config.{key}"));
        }
    }
    Ok(connection)
}

/// Lists the attributes of a connection_config field the mapping did not read.
fn note_unread_attributes(
    name: &str,
    declared: Option<&Mapping>,
    also_read: &[&str],
    not_carried_over: &mut Vec<String>,
) {
    for (key, _) in declared.into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if !READ_FIELD_ATTRIBUTES.contains(&key) && !also_read.contains(&key) {
            not_carried_over.push(format!("connection_config.{name}.{key}"));
        }
    }
}

fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The kind of a value from where it stands in the templates.
fn kind_of(name: &str, usage: &Usage) -> Result<ValueKind, Skip> {
    let all = |p: Position| usage.positions.iter().all(|&q| q == p);
    if all(Position::WholeUrl) {
        Ok(ValueKind::Url)
    } else if usage.positions.contains(&Position::WholeUrl) {
        Err(skip(
            "connection_config key",
            format!(
                "`{name}` is a whole URL in one place and part of a value in another ({})",
                usage.places.join(", ")
            ),
        ))
    } else if all(Position::WholeHost) {
        Ok(ValueKind::Host)
    } else {
        Ok(ValueKind::Segment)
    }
}

fn kind_label(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Segment => "segment",
        ValueKind::Host => "host",
        ValueKind::Url => "url",
    }
}

fn default_pattern(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Segment => r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        ValueKind::Host => {
            r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
        }
        ValueKind::Url => r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%/-]*)?$",
    }
}

/// Examples tried, in order, when Nango's own example, enum and fallback do not fit.
const GENERIC_EXAMPLES: &[&str] = &[
    "example",
    "example.com",
    "https://example.com",
    "1234567890",
    "example-1",
    "EXAMPLE",
];

/// Whether `value` is a valid value of `kind` (the pattern aside).
// TODO(format-requests.md #6): call resolve::connection::check_value once it is reachable.
fn fits_kind(value: &str, kind: ValueKind) -> bool {
    match kind {
        ValueKind::Segment => !value
            .chars()
            .any(|c| "/?#@:%\\".contains(c) || c.is_whitespace() || c.is_control()),
        ValueKind::Host => crate::resolve::url_rules::check_dns_name(value).is_ok(),
        ValueKind::Url => {
            crate::resolve::url_rules::check_url(value, crate::resolve::url_rules::UrlRole::Endpoint)
                .is_ok()
        }
    }
}

/// Nango's (JavaScript) pattern as a Rust `regex` pattern anchored with `^` and `$`.
/// Look-around has no Rust equivalent: a leading negative look-ahead (Salesforce's "not a
/// Lightning domain") is dropped and said so; any other look-around stops the import.
fn rust_pattern(name: &str, pattern: &str, notes: &mut Vec<String>) -> Result<String, Skip> {
    let mut pattern = pattern.to_owned();
    let look_ahead = pattern
        .strip_prefix("^(?!")
        .and_then(|rest| closing_parenthesis(rest).map(|end| (rest, end)));
    if let Some((rest, end)) = look_ahead {
        notes.push(format!(
            "connection_config.{name}.pattern: the negative look-ahead `(?!{}` is dropped (Rust \
             regular expressions have no look-around)",
            &rest[..=end]
        ));
        pattern = format!("^{}", &rest[end + 1..]);
    }
    if !pattern.starts_with('^') || !pattern.ends_with('$') {
        notes.push(format!(
            "connection_config.{name}.pattern: anchored as `^(?:...)$` (Nango tests it unanchored)"
        ));
        pattern = format!("^(?:{pattern})$");
    }
    if let Err(error) = regex::Regex::new(&pattern) {
        return Err(skip(
            "connection_config pattern",
            format!("the pattern of `{name}` is not a Rust regular expression: {error}"),
        ));
    }
    Ok(pattern)
}

/// The index in `text` of the `)` closing a group opened just before `text`.
fn closing_parenthesis(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_negative_look_ahead_is_dropped_and_said_so() {
        let mut notes = Vec::new();
        let pattern = rust_pattern("hostname", r"^(?!(?:.*\.)?x\.com$)[a-z.]+$", &mut notes).unwrap();
        assert_eq!(pattern, "^[a-z.]+$");
        assert!(notes[0].contains("(?!(?:.*\\.)?x\\.com$)"), "{notes:?}");
    }

    #[test]
    fn an_unanchored_pattern_is_anchored() {
        let mut notes = Vec::new();
        assert_eq!(rust_pattern("v", "[0-9]+", &mut notes).unwrap(), "^(?:[0-9]+)$");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn the_issuer_is_where_the_authorization_url_starts() {
        assert_eq!(issuer_of("https://<sub>.x.com/oauth?a=b"), "https://<sub>.x.com");
        assert_eq!(issuer_of("<instance_url>/oauth"), "<instance_url>");
    }
}
