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

use indexmap::IndexMap;
use serde_yaml::Value;

use super::fields::{Skip, retry_headers, scalar, skip, string_list};
use super::template::Context;
use super::values::{self, Uses};
use crate::definition::types::{
    Api, Authorization, Callback, ProviderDefinition, Scope, Scopes, Token, TokenAuthMethod,
    TokenBody,
};
use crate::nango::NangoEntry;
use crate::resolve::connection::Stage;

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

/// Maps one entry. `scopes` is the entry's list from Nango's providers.scopes.yaml, if any.
pub(crate) fn map(entry: &NangoEntry, scopes: Option<&[String]>) -> Result<Mapped, Skip> {
    let fields = &entry.fields;
    let get = |key: &str| fields.get(key);
    let text = |key: &str| get(key).and_then(Value::as_str);
    let mut notes = Vec::new();
    let mut not_carried_over = Vec::new();

    if !crate::nango::import::is_valid_id(&entry.id) {
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
        && text("authorization_url")
            .is_some_and(|u| u.contains("zoho.${connectionConfig.extension}"))
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
            return Err(skip(
                *field,
                format!("`{field}` changes the request in a way our format cannot express"),
            ));
        }
    }
    let Some(authorization_url) = text("authorization_url") else {
        return Err(skip(
            "authorization_url",
            "the entry has no authorization URL",
        ));
    };
    let Some(token_url) = text("token_url") else {
        return Err(skip("token_url", "the token URL is not a single string"));
    };
    let token_params = get("token_params").and_then(Value::as_mapping);
    let grant = token_params
        .and_then(|p| p.get("grant_type"))
        .and_then(scalar);
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

    // Endpoints and parameters, recording every connection value they use.
    let mut uses = Uses::default();
    let authorization_url = uses.convert(
        authorization_url,
        "authorization_url",
        Context::Url,
        Stage::Authorization,
    )?;
    let token_url = uses.convert(token_url, "token_url", Context::Url, Stage::TokenExchange)?;
    let refresh_url = text("refresh_url")
        .map(|url| uses.convert(url, "refresh_url", Context::Url, Stage::AfterToken))
        .transpose()?;
    let authorization_params = params(
        &mut uses,
        get("authorization_params"),
        "authorization_params",
        Stage::Authorization,
    )?;
    let mut token = params(
        &mut uses,
        get("token_params"),
        "token_params",
        Stage::TokenExchange,
    )?;
    if token.shift_remove("grant_type").is_some() {
        notes.push(
            "token_params.grant_type: the exchange sends grant_type=authorization_code itself \
             (Nango's client overrides the field too)"
                .to_owned(),
        );
    }
    let mut refresh = match get("refresh_params") {
        Some(value) => params(&mut uses, Some(value), "refresh_params", Stage::AfterToken)?,
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
        .map(|scope| {
            uses.convert(
                scope,
                "default_scopes",
                Context::Value,
                Stage::Authorization,
            )
        })
        .collect::<Result<_, _>>()?;

    // The API.
    let mut api = None;
    if let Some(proxy) = proxy {
        let base = proxy
            .get("base_url")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty());
        let mut carried = |field: &str| -> Result<IndexMap<String, String>, Skip> {
            let mut out = IndexMap::new();
            for (name, value) in proxy
                .get(field)
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(value)) = (name.as_str(), scalar(value)) else {
                    return Err(skip(
                        format!("proxy.{field}"),
                        format!("a value of `proxy.{field}` that is not text"),
                    ));
                };
                let place = format!("proxy.{field}.{name}");
                out.insert(
                    name.to_owned(),
                    uses.convert(&value, &place, Context::Header, Stage::AfterToken)?,
                );
            }
            Ok(out)
        };
        let headers = carried("headers")?;
        let query = carried("query")?;
        match base {
            Some(base) => {
                let base = uses.convert(base, "proxy.base_url", Context::Url, Stage::AfterToken)?;
                api = Some(Api {
                    auth_scheme: "Bearer".to_owned(),
                    environments: IndexMap::from([("production".to_owned(), base)]),
                    headers,
                    query,
                    verify: None,
                    retry: retry_headers(proxy, &mut not_carried_over),
                });
            }
            None => {
                if proxy.contains_key("retry") {
                    not_carried_over.push("proxy.retry".to_owned());
                }
                if !headers.is_empty() {
                    not_carried_over.push("proxy.headers".to_owned());
                }
                if !query.is_empty() {
                    not_carried_over.push("proxy.query".to_owned());
                }
            }
        }
        for (key, _) in proxy {
            let key = key.as_str().unwrap_or_default();
            if !matches!(key, "base_url" | "headers" | "query" | "retry") {
                not_carried_over.push(format!("proxy.{key}"));
            }
        }
    }

    // Connection values.
    let connection = values::connection(entry, &uses, &mut not_carried_over, &mut notes)?;
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
        auth: None,
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
            method: None,
            headers: IndexMap::new(),
            response: None,
            refresh_headers: IndexMap::new(),
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
            return Err(skip(
                field,
                format!("`{place}` is not a string, number or boolean"),
            ));
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
        let end = authorization_url
            .find('>')
            .map_or(authorization_url.len(), |i| i + 1);
        authorization_url[..end].to_owned()
    } else {
        authorization_url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_where_the_authorization_url_starts() {
        assert_eq!(
            issuer_of("https://<sub>.x.com/oauth?a=b"),
            "https://<sub>.x.com"
        );
        assert_eq!(issuer_of("<instance_url>/oauth"), "<instance_url>");
    }
}
