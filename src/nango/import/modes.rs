//! One Nango `API_KEY`, `BASIC`, `OAUTH2_CC` or `TWO_STEP` entry mapped onto a provider
//! definition with an `auth.mode`, or the Nango feature that stops it.
//!
//! Nango's modes map one to one: `API_KEY` → `api_key`, `BASIC` → `basic`, `OAUTH2_CC` →
//! `client_credentials`, `TWO_STEP` → `token_request`. The credential fields keep Nango's names
//! (`apiKey`, `username`, `password`); `proxy.headers` and `proxy.query` become `api.headers` and
//! `api.query`, `proxy.verification` becomes `api.verify`, and the token request's URL, method,
//! headers, params, body and response paths go into `token`. Nango's interpolations are read
//! with the names Nango's server gives each place (its per-mode context): credentials bare or as
//! `${credentials.NAME}` where the mode has them, `${accessToken}` in the API headers of token
//! modes, `${base64(...)}` where credentials are.
//!
//! What has no equivalent makes the entry a [`Skip`] naming the Nango feature (scripts, request
//! signing, client certificates, further login steps, ...). A typed value (a boolean or number)
//! in a JSON body would reach the provider as text in our format, whose parameters are text, so
//! it stops the entry; in a form body or a query string Nango sends it as text too, and it is
//! carried over as that text with a note. Fields a mode never reads, and those that do not change
//! what is sent (documentation, categories, webhooks, proxy retries and pagination), are listed
//! as not carried over.

use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};

use super::fields::{Skip, retry_headers, scalar, skip, string_list};
use super::mapping::Mapped;
use super::template::{self, Context, Vocabulary};
use super::values::{self, Uses, rust_pattern};
use crate::definition::types::{
    Api, Auth, AuthMode, CredentialField, HttpMethod, ProviderDefinition, Scope, Scopes, Token,
    TokenAuthMethod, TokenBody, TokenResponse, Verify, VerifyMethod,
};
use crate::nango::NangoEntry;
use crate::resolve::connection::Stage;

/// The definition's mode for a Nango `auth_mode` this module maps.
pub(crate) fn mode_of(nango_mode: &str) -> Option<AuthMode> {
    match nango_mode {
        "API_KEY" => Some(AuthMode::ApiKey),
        "BASIC" => Some(AuthMode::Basic),
        "OAUTH2_CC" => Some(AuthMode::ClientCredentials),
        "TWO_STEP" => Some(AuthMode::TokenRequest),
        _ => None,
    }
}

/// Entry fields that need code or machinery our format does not have, per mode.
const REFUSED: &[(&str, &str)] = &[
    (
        "credentials_verification_script",
        "Nango checks the credentials with a script of its own, not with a request",
    ),
    (
        "integration_config",
        "values the developer configures per integration, used in the requests",
    ),
    (
        "require_client_certificate",
        "the token endpoint requires a TLS client certificate (mTLS)",
    ),
    (
        "additional_steps",
        "the login takes further requests that use the answers of earlier ones",
    ),
    (
        "assertion",
        "the login sends a signed JWT or SAML assertion",
    ),
    (
        "assertion_option",
        "the login sends a signed JWT or SAML assertion",
    ),
    (
        "signature",
        "the login sends a token the client signs itself",
    ),
    ("token", "the login sends a token the client signs itself"),
    (
        "token_response_headers",
        "the token comes back in response headers or cookies",
    ),
    (
        "expires_in_unit",
        "the token's lifetime is given in milliseconds",
    ),
];

/// Top-level fields read by every mode (whatever is done with them).
const READ_ALWAYS: &[&str] = &[
    "auth_mode",
    "display_name",
    "docs",
    "proxy",
    "connection_config",
    "credentials",
];

/// Top-level fields each mode reads besides [`READ_ALWAYS`].
fn read_fields(mode: AuthMode) -> &'static [&'static str] {
    match mode {
        AuthMode::ClientCredentials => &[
            "token_url",
            "token_params",
            "token_request_auth_method",
            "body_format",
            "default_scopes",
            "token_response_metadata",
        ],
        AuthMode::TokenRequest => &[
            "token_url",
            "token_params",
            "token_headers",
            "token_request_method",
            "body_format",
            "token_response",
            "token_expires_in_ms",
            "refresh_url",
            "refresh_token_params",
            "refresh_token_headers",
            "token_response_metadata",
        ],
        _ => &[],
    }
}

/// Maps one entry whose `auth_mode` is `API_KEY`, `BASIC`, `OAUTH2_CC` or `TWO_STEP`.
pub(crate) fn map(entry: &NangoEntry, mode: AuthMode) -> Result<Mapped, Skip> {
    let fields = &entry.fields;
    let text = |key: &str| fields.get(key).and_then(Value::as_str);
    let mut notes = Vec::new();
    let mut not_carried_over = Vec::new();

    if !super::is_valid_id(&entry.id) {
        return Err(skip(
            "key",
            format!(
                "`{}` is not a valid provider id (lowercase letters, digits and dashes)",
                entry.id
            ),
        ));
    }
    for (field, why) in REFUSED {
        if fields.contains_key(*field) {
            return Err(skip(*field, format!("`{field}`: {why}")));
        }
    }
    let proxy = fields
        .get("proxy")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    if proxy.contains_key("body") {
        return Err(skip(
            "proxy.body",
            "fields merged into the body of every API call",
        ));
    }

    let credentials = credentials(entry, mode, &mut not_carried_over, &mut notes)?;
    let names: Vec<String> = credentials.keys().cloned().collect();
    let with_credentials = |bare: bool, access_token: bool| Vocabulary {
        access_token,
        credentials: true,
        bare_credentials: if bare { names.clone() } else { Vec::new() },
    };
    // Nango's interpolation context of the API headers and query, per mode.
    let api_vocabulary = match mode {
        AuthMode::ApiKey | AuthMode::Basic => with_credentials(true, false),
        AuthMode::TokenRequest => with_credentials(false, true),
        _ => Vocabulary {
            access_token: true,
            ..Vocabulary::default()
        },
    };
    let mut uses = Uses::default();

    let token = match mode {
        AuthMode::ClientCredentials => {
            Some(client_credentials_token(entry, &mut uses, &mut notes)?)
        }
        AuthMode::TokenRequest => Some(token_request(
            entry,
            &mut uses,
            &with_credentials(true, false),
            &mut notes,
        )?),
        _ => None,
    };
    let api = api(&proxy, &mut uses, &api_vocabulary, &mut not_carried_over)?;

    if mode == AuthMode::ApiKey && !uses.credentials.contains_key("apiKey") {
        return Err(skip(
            "apiKey sent nowhere",
            "no header, query parameter or token request of the entry carries the key",
        ));
    }
    // Credentials the requests use must be declared (basic always has username and password).
    for (name, places) in &uses.credentials {
        let implied = mode == AuthMode::Basic && matches!(name.as_str(), "username" | "password");
        if !credentials.contains_key(name) && !implied {
            return Err(skip(
                "undeclared credential",
                format!(
                    "{} use `{name}`, which the entry's credentials do not declare",
                    places.join(", ")
                ),
            ));
        }
    }
    let config = fields.get("connection_config").and_then(Value::as_mapping);
    for name in uses.connection_names() {
        let secret = config
            .and_then(|c| c.get(name.as_str()))
            .and_then(|f| f.get("secret"))
            .and_then(Value::as_bool)
            == Some(true);
        if secret {
            return Err(skip(
                "connection_config secret",
                format!(
                    "`{name}` is a secret connection value; connection values are not sealed \
                     like credentials"
                ),
            ));
        }
    }
    let connection = values::connection(entry, &uses, &mut not_carried_over, &mut notes)?;

    let mut scopes = Scopes::default();
    if mode == AuthMode::ClientCredentials {
        for name in string_list(fields.get("default_scopes")) {
            if !scopes.default.contains(&name) {
                scopes.default.push(name.clone());
                scopes.catalog.push(Scope {
                    name,
                    module: None,
                    operation: None,
                    description: "Requested by default in Nango's providers.yaml entry.".to_owned(),
                });
            }
        }
    }

    let read = read_fields(mode);
    for (key, _) in fields {
        let key = key.as_str().unwrap_or_default();
        if !READ_ALWAYS.contains(&key) && !read.contains(&key) {
            not_carried_over.push(key.to_owned());
        }
    }
    let definition = ProviderDefinition {
        id: entry.id.clone(),
        display_name: text("display_name").unwrap_or(&entry.id).to_owned(),
        docs_url: docs_url(text("docs"), &mut not_carried_over),
        auth: Some(Auth { mode, credentials }),
        data_centers: None,
        multi_dc: None,
        connection: (!connection.params.is_empty() || !connection.runtime.is_empty())
            .then_some(connection),
        issuer: None,
        authorization: None,
        token,
        callback: None,
        api: Some(api),
        scopes,
    };
    Ok(Mapped {
        definition,
        not_carried_over,
        notes,
    })
}

/// Nango's `docs` link, when it is https (an http link is listed as not carried over).
fn docs_url(docs: Option<&str>, not_carried_over: &mut Vec<String>) -> Option<String> {
    let docs = docs?;
    if docs.starts_with("https://") {
        Some(docs.to_owned())
    } else {
        not_carried_over.push("docs (not an https URL)".to_owned());
        None
    }
}

/// The credential fields the end user supplies, with Nango's names.
fn credentials(
    entry: &NangoEntry,
    mode: AuthMode,
    not_carried_over: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<IndexMap<String, CredentialField>, Skip> {
    let declared = entry
        .fields
        .get("credentials")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    let mut out = IndexMap::new();
    for (name, field) in &declared {
        let name = name.as_str().unwrap_or_default();
        let place = format!("credentials.{name}");
        match mode {
            // The platform supplies the client id and secret of client-credentials providers.
            AuthMode::ClientCredentials if matches!(name, "client_id" | "client_secret") => {
                not_carried_over.push(place);
                continue;
            }
            AuthMode::ClientCredentials => {
                return Err(skip(
                    "credentials",
                    format!(
                        "`{place}`: client credentials other than a client id and secret \
                         (certificates, private keys)"
                    ),
                ));
            }
            AuthMode::Basic if !matches!(name, "username" | "password") => {
                return Err(skip(
                    "credentials",
                    format!("`{place}`: Basic auth has a username and a password only"),
                ));
            }
            _ => {}
        }
        if !crate::resolve::template::is_placeholder_name(name) {
            return Err(skip(
                "credentials",
                format!("`{name}` is not a placeholder name ([A-Za-z_][A-Za-z0-9_]*)"),
            ));
        }
        let field = field.as_mapping().cloned().unwrap_or_default();
        out.insert(
            name.to_owned(),
            credential(&place, &field, not_carried_over, notes)?,
        );
    }
    if mode == AuthMode::ApiKey && !out.contains_key("apiKey") {
        // Nango's form always asks for `apiKey`.
        out.insert("apiKey".to_owned(), CredentialField::default());
    }
    Ok(out)
}

/// Attributes of a Nango credential field carried over.
const CREDENTIAL_ATTRIBUTES: &[&str] = &[
    "type",
    "title",
    "description",
    "example",
    "pattern",
    "secret",
    "optional",
    "hidden",
    "default_value",
];

fn credential(
    place: &str,
    field: &Mapping,
    not_carried_over: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<CredentialField, Skip> {
    let text = |key: &str| {
        field
            .get(key)
            .and_then(scalar)
            .filter(|value| !value.is_empty())
    };
    let flag = |key: &str| field.get(key).and_then(Value::as_bool);
    let pattern = match field.get("pattern").and_then(Value::as_str) {
        Some(pattern) => Some(rust_pattern(place, pattern, notes)?),
        None => None,
    };
    for (key, _) in field {
        let key = key.as_str().unwrap_or_default();
        if !CREDENTIAL_ATTRIBUTES.contains(&key) {
            not_carried_over.push(format!("{place}.{key}"));
        }
    }
    let hidden = flag("hidden") == Some(true);
    let default = field.get("default_value").and_then(scalar);
    if hidden && default.is_none() {
        return Err(skip(
            "credentials hidden",
            format!("`{place}` is hidden and has no default value"),
        ));
    }
    Ok(CredentialField {
        title: text("title"),
        description: text("description"),
        example: text("example"),
        pattern,
        secret: flag("secret"),
        optional: flag("optional") == Some(true),
        hidden,
        default,
    })
}

/// The API section: base URL, the headers and query parameters that carry the credentials,
/// and the verification request.
fn api(
    proxy: &Mapping,
    uses: &mut Uses,
    vocabulary: &Vocabulary,
    not_carried_over: &mut Vec<String>,
) -> Result<Api, Skip> {
    let Some(base) = proxy
        .get("base_url")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
    else {
        return Err(skip("proxy.base_url", "the entry has no API base URL"));
    };
    let base = uses.convert_with(
        base,
        "proxy.base_url",
        Context::Url,
        Stage::AfterToken,
        Some(vocabulary),
    )?;
    let headers = text_map(proxy.get("headers"), "proxy.headers", uses, vocabulary)?;
    let query = text_map(proxy.get("query"), "proxy.query", uses, vocabulary)?;
    let verify = match proxy.get("verification").and_then(Value::as_mapping) {
        Some(verification) => Some(verify(verification, uses, vocabulary)?),
        None => None,
    };
    let retry = retry_headers(proxy, not_carried_over);
    for (key, _) in proxy {
        let key = key.as_str().unwrap_or_default();
        if !matches!(
            key,
            "base_url" | "headers" | "query" | "verification" | "retry"
        ) {
            not_carried_over.push(format!("proxy.{key}"));
        }
    }
    Ok(Api {
        auth_scheme: "Bearer".to_owned(),
        environments: IndexMap::from([("production".to_owned(), base)]),
        headers,
        query,
        verify,
        retry,
    })
}

/// `proxy.verification` as `api.verify`.
fn verify(
    verification: &Mapping,
    uses: &mut Uses,
    vocabulary: &Vocabulary,
) -> Result<Verify, Skip> {
    for (key, what) in [
        (
            "base_url_override",
            "is sent to another base URL than the API's",
        ),
        ("data", "sends a body"),
    ] {
        if verification.contains_key(key) {
            return Err(skip(
                format!("proxy.verification.{key}"),
                format!("the verification request {what}"),
            ));
        }
    }
    let method = match verification.get("method").and_then(Value::as_str) {
        None | Some("GET") => VerifyMethod::Get,
        Some("POST") => VerifyMethod::Post,
        Some(other) => {
            return Err(skip(
                "proxy.verification.method",
                format!("verification method `{other}`"),
            ));
        }
    };
    let endpoints = string_list(verification.get("endpoints"));
    if endpoints.is_empty() {
        return Err(skip(
            "proxy.verification.endpoints",
            "the verification names no endpoint",
        ));
    }
    // The endpoints are paths: connection values may stand in them, credentials may not.
    let paths = Vocabulary {
        access_token: false,
        ..Vocabulary::default()
    };
    let endpoints = endpoints
        .iter()
        .map(|endpoint| {
            let carries_credential = template::convert_with(endpoint, Context::Value, vocabulary)
                .is_ok_and(|converted| !converted.credentials.is_empty());
            if carries_credential {
                return Err(skip(
                    "credential in a URL host or path",
                    format!(
                        "the verification endpoint `{endpoint}` carries a credential in its path \
                         or query; credentials reach the API in headers or api.query"
                    ),
                ));
            }
            uses.convert_with(
                endpoint,
                "proxy.verification.endpoints",
                Context::Value,
                Stage::AfterToken,
                Some(&paths),
            )
        })
        .collect::<Result<Vec<String>, _>>()?;
    if let Some(endpoint) = endpoints.iter().find(|e| e.contains('<')) {
        return Err(skip(
            "proxy.verification.endpoints with a placeholder",
            format!(
                "the verification endpoint `{endpoint}` is built from the connection's values; \
                 our verification endpoints are literal paths"
            ),
        ));
    }
    let headers = text_map(
        verification.get("headers"),
        "proxy.verification.headers",
        uses,
        vocabulary,
    )?;
    Ok(Verify {
        method,
        endpoints,
        headers,
    })
}

/// A Nango mapping of header or query values sent as text (Nango turns every value into text
/// there), converted to our templates.
fn text_map(
    value: Option<&Value>,
    field: &str,
    uses: &mut Uses,
    vocabulary: &Vocabulary,
) -> Result<IndexMap<String, String>, Skip> {
    let mut out = IndexMap::new();
    for (name, value) in value.and_then(Value::as_mapping).into_iter().flatten() {
        let (Some(name), Some(value)) = (name.as_str(), scalar(value)) else {
            return Err(skip(field, format!("a value of `{field}` is not text")));
        };
        let place = format!("{field}.{name}");
        let converted = uses.convert_with(
            &value,
            &place,
            Context::Value,
            Stage::AfterToken,
            Some(vocabulary),
        )?;
        out.insert(name.to_owned(), converted);
    }
    Ok(out)
}

/// Request parameters of a token request in `body`: text as Nango sends it in a form or query
/// string; in a JSON body, a value that is not a string has no equivalent (our parameters are
/// text) and stops the entry.
fn body_params(
    value: Option<&Value>,
    field: &str,
    body: TokenBody,
    uses: &mut Uses,
    vocabulary: &Vocabulary,
    notes: &mut Vec<String>,
) -> Result<IndexMap<String, String>, Skip> {
    let mut out = IndexMap::new();
    for (name, value) in value.and_then(Value::as_mapping).into_iter().flatten() {
        let name = scalar(name).unwrap_or_default();
        let place = format!("{field}.{name}");
        let text = match value {
            Value::String(text) => text.clone(),
            Value::Bool(_) | Value::Number(_) if body == TokenBody::Json => {
                return Err(skip(
                    "typed JSON value",
                    format!(
                        "`{place}` is the JSON {} `{}`; our parameters are text, so it would \
                         reach the provider as a string",
                        if value.is_bool() { "boolean" } else { "number" },
                        scalar(value).unwrap_or_default()
                    ),
                ));
            }
            Value::Bool(_) | Value::Number(_) => {
                let text = scalar(value).unwrap_or_default();
                notes.push(format!(
                    "{place}: `{text}` is sent as text, as Nango sends it in a {} body",
                    if body == TokenBody::Query {
                        "query"
                    } else {
                        "form"
                    }
                ));
                text
            }
            _ => {
                return Err(skip(
                    "structured JSON value",
                    format!("`{place}` is a list or an object"),
                ));
            }
        };
        let converted = uses.convert_with(
            &text,
            &place,
            Context::Value,
            Stage::TokenExchange,
            Some(vocabulary),
        )?;
        out.insert(name, converted);
    }
    Ok(out)
}

/// Nango's `token_url`, which must be one string.
fn token_url(entry: &NangoEntry) -> Result<&str, Skip> {
    match entry.fields.get("token_url") {
        Some(Value::String(url)) => Ok(url),
        Some(_) => Err(skip("token_url", "the token URL differs per auth mode")),
        None => Err(skip("token_url", "the entry has no token URL")),
    }
}

/// The token request of a `client_credentials` provider.
fn client_credentials_token(
    entry: &NangoEntry,
    uses: &mut Uses,
    notes: &mut Vec<String>,
) -> Result<Token, Skip> {
    let fields = &entry.fields;
    let text = |key: &str| fields.get(key).and_then(Value::as_str);
    let url = uses.convert(
        token_url(entry)?,
        "token_url",
        Context::Url,
        Stage::TokenExchange,
    )?;
    let auth_method = match text("token_request_auth_method") {
        None => TokenAuthMethod::ClientSecretPost,
        Some("basic") => TokenAuthMethod::ClientSecretBasic,
        Some(other) => {
            return Err(skip(
                format!("token_request_auth_method: {other}"),
                format!("client authentication `{other}`"),
            ));
        }
    };
    let body = match text("body_format") {
        None | Some("form") => TokenBody::Form,
        Some("json") => TokenBody::Json,
        Some("query") => TokenBody::Query,
        Some(other) => return Err(skip("body_format", format!("token body `{other}`"))),
    };
    let oauth = Vocabulary::default();
    let params = body_params(
        fields.get("token_params"),
        "token_params",
        body,
        uses,
        &oauth,
        notes,
    )?;
    Ok(Token {
        url,
        refresh_url: None,
        auth_method,
        response_metadata: string_list(fields.get("token_response_metadata")),
        revoke: None,
        params,
        refresh_params: IndexMap::new(),
        body,
        method: None,
        headers: IndexMap::new(),
        response: None,
        refresh_headers: IndexMap::new(),
    })
}

/// The token request of a `token_request` provider (Nango's `TWO_STEP`).
fn token_request(
    entry: &NangoEntry,
    uses: &mut Uses,
    vocabulary: &Vocabulary,
    notes: &mut Vec<String>,
) -> Result<Token, Skip> {
    let fields = &entry.fields;
    let text = |key: &str| fields.get(key).and_then(Value::as_str);
    let url = uses.convert_with(
        token_url(entry)?,
        "token_url",
        Context::Url,
        Stage::TokenExchange,
        Some(vocabulary),
    )?;
    let method = match text("token_request_method") {
        None | Some("POST") => None,
        Some("GET") => Some(HttpMethod::Get),
        Some(other) => {
            return Err(skip(
                "token_request_method",
                format!("token request method `{other}`"),
            ));
        }
    };
    // Nango's token request body is JSON unless the entry says otherwise.
    let body = match text("body_format") {
        None | Some("json") => TokenBody::Json,
        Some("form") => TokenBody::Form,
        Some(other) => return Err(skip("body_format", format!("token body `{other}`"))),
    };
    let headers = text_map(
        fields.get("token_headers"),
        "token_headers",
        uses,
        vocabulary,
    )?;
    let params = body_params(
        fields.get("token_params"),
        "token_params",
        body,
        uses,
        vocabulary,
        notes,
    )?;
    let refresh_url = text("refresh_url")
        .map(|url| {
            uses.convert_with(
                url,
                "refresh_url",
                Context::Url,
                Stage::AfterToken,
                Some(vocabulary),
            )
        })
        .transpose()?;
    let refresh_params = body_params(
        fields.get("refresh_token_params"),
        "refresh_token_params",
        body,
        uses,
        vocabulary,
        notes,
    )?;
    let refresh_headers = text_map(
        fields.get("refresh_token_headers"),
        "refresh_token_headers",
        uses,
        vocabulary,
    )?;
    Ok(Token {
        url,
        refresh_url,
        auth_method: TokenAuthMethod::default(),
        response_metadata: string_list(fields.get("token_response_metadata")),
        revoke: None,
        params,
        refresh_params,
        body,
        method,
        headers,
        response: Some(token_response(entry)?),
        refresh_headers,
    })
}

/// Where the token request's answer holds the token and its lifetime.
fn token_response(entry: &NangoEntry) -> Result<TokenResponse, Skip> {
    let fields = &entry.fields;
    let response = fields
        .get("token_response")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default();
    let path = |key: &str| response.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(token) = path("token") else {
        return Err(skip(
            "token_response.token",
            "the entry does not say where the token is in the answer",
        ));
    };
    if token.is_empty() {
        return Err(skip(
            "token_response.token: ''",
            "the token is the whole answer, which our token paths cannot name",
        ));
    }
    let expiration = path("token_expiration");
    // Nango reads `token_expiration` as a date unless the strategy says seconds.
    let (expires_in, expires_at) = match path("token_expiration_strategy").as_deref() {
        Some("expireIn") => (expiration, None),
        None | Some("expireAt") => (None, expiration),
        Some(other) => {
            return Err(skip(
                "token_response.token_expiration_strategy",
                format!("expiry strategy `{other}`"),
            ));
        }
    };
    let lifetime_secs = match fields.get("token_expires_in_ms") {
        None => None,
        Some(value) => match value.as_u64() {
            Some(ms) if ms % 1000 == 0 => Some(ms / 1000),
            _ => {
                return Err(skip(
                    "token_expires_in_ms",
                    format!(
                        "a lifetime of `{}` ms is not a whole number of seconds",
                        scalar(value).unwrap_or_default()
                    ),
                ));
            }
        },
    };
    Ok(TokenResponse {
        token,
        expires_in,
        expires_at,
        lifetime_secs,
        refresh_token: path("refresh_token"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nango::NangoCatalog;

    fn mapped(yaml: &str, id: &str) -> Result<Mapped, Skip> {
        let catalog = NangoCatalog::parse(yaml).unwrap();
        let entry = catalog.entry(id).unwrap();
        let mode = mode_of(entry.auth_mode().unwrap()).unwrap();
        map(&entry, mode)
    }

    #[test]
    fn an_api_key_in_a_header_keeps_nangos_field_name_and_its_verification() {
        let mapped = mapped(
            r#"
anthropic:
    display_name: Anthropic
    auth_mode: API_KEY
    proxy:
        base_url: https://api.anthropic.com
        headers:
            x-api-key: ${apiKey}
            anthropic-version: ${connectionConfig.version}
        retry: { after: [retry-after] }
        verification: { method: GET, headers: { content-type: application/json }, endpoints: [v1/models] }
    docs: https://nango.dev/docs/integrations/all/anthropic
    connection_config:
        version: { type: string, title: API Version, description: The version, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', example: '2023-06-01' }
    credentials:
        apiKey: { type: string, title: API Key, description: The API key, example: 'sk-ant-****', pattern: '^sk-ant-', doc_section: '#step-1' }
"#,
            "anthropic",
        )
        .unwrap();
        let definition = mapped.definition;
        let auth = definition.auth.unwrap();
        assert_eq!(auth.mode, AuthMode::ApiKey);
        let key = &auth.credentials["apiKey"];
        assert_eq!(key.title.as_deref(), Some("API Key"));
        assert_eq!(key.example.as_deref(), Some("sk-ant-****"));
        assert_eq!(key.pattern.as_deref(), Some("^(?:^sk-ant-)$"));
        let api = definition.api.unwrap();
        assert_eq!(api.headers["x-api-key"], "<credentials.apiKey>");
        assert_eq!(api.headers["anthropic-version"], "<version>");
        let verify = api.verify.unwrap();
        assert_eq!(verify.endpoints, ["v1/models"]);
        assert_eq!(verify.headers["content-type"], "application/json");
        assert!(definition.authorization.is_none() && definition.token.is_none());
        assert!(
            definition
                .connection
                .unwrap()
                .params
                .contains_key("version")
        );
        assert!(
            mapped
                .not_carried_over
                .contains(&"credentials.apiKey.doc_section".to_owned())
        );
        assert_eq!(api.retry.after, ["retry-after"]);
        assert!(api.retry.at.is_empty());
        assert!(
            !mapped
                .not_carried_over
                .iter()
                .any(|f| f.starts_with("proxy.retry"))
        );
    }

    #[test]
    fn basic_auth_keeps_a_hidden_password_with_its_default() {
        let mapped = mapped(
            r#"
freshdesk:
    display_name: FreshDesk
    auth_mode: BASIC
    proxy:
        base_url: https://${connectionConfig.subdomain}.freshdesk.com
        verification: { endpoints: [/api/v2/settings/helpdesk] }
    docs: https://nango.dev/docs/api-integrations/freshdesk
    credentials:
        username: { type: string, title: FreshDesk API Key, description: The API Key, secret: true }
        password: { type: string, title: '', description: '', default_value: X, hidden: true }
    connection_config:
        subdomain: { type: string, title: Domain, description: The subdomain, pattern: '^[a-z0-9_-]+$', example: domain }
"#,
            "freshdesk",
        )
        .unwrap();
        let auth = mapped.definition.auth.unwrap();
        assert_eq!(auth.mode, AuthMode::Basic);
        assert_eq!(auth.credentials["username"].secret, Some(true));
        let password = &auth.credentials["password"];
        assert!(password.hidden);
        assert_eq!(password.default.as_deref(), Some("X"));
        assert_eq!(password.title, None, "an empty title is no title");
    }

    #[test]
    fn client_credentials_write_out_grant_body_and_client_authentication() {
        let mapped = mapped(
            r#"
auth0-cc:
    display_name: Auth0 (Client Credentials)
    auth_mode: OAUTH2_CC
    body_format: json
    token_request_auth_method: basic
    token_url: https://${connectionConfig.hostname}/oauth/token
    token_params: { grant_type: client_credentials, audience: '${connectionConfig.audience}' }
    proxy: { base_url: 'https://${connectionConfig.hostname}' }
    docs: https://nango.dev/docs/integrations/all/auth0-cc
    connection_config:
        hostname: { type: string, title: HostName, description: Your Auth0 host name, format: hostname }
        audience: { type: string, title: Audience, description: The audience, example: 'https://api.example.com/foobar' }
    credentials:
        client_id: { type: string, title: Client ID, description: id }
        client_secret: { type: string, title: Client Secret, description: secret }
"#,
            "auth0-cc",
        )
        .unwrap();
        let definition = mapped.definition;
        assert_eq!(definition.auth.unwrap().mode, AuthMode::ClientCredentials);
        let token = definition.token.unwrap();
        assert_eq!(token.url, "https://<hostname>/oauth/token");
        assert_eq!(token.params["grant_type"], "client_credentials");
        assert_eq!(token.params["audience"], "<audience>");
        assert_eq!(token.body, TokenBody::Json);
        assert_eq!(token.auth_method, TokenAuthMethod::ClientSecretBasic);
        assert!(
            mapped
                .not_carried_over
                .contains(&"credentials.client_secret".to_owned())
        );
    }

    #[test]
    fn a_token_request_carries_headers_with_base64_and_where_the_token_is() {
        let mapped = mapped(
            r#"
altrata:
    display_name: Altrata
    auth_mode: TWO_STEP
    token_url: https://api-auth.altrata.com/oauth2/token?grant_type=client_credentials
    body_format: form
    token_headers:
        authorization: Basic ${base64(${credentials.username}:${credentials.password})}
        x-api-key: ${credentials.apiKey}
    token_response: { token: access_token, token_expiration: expires_in, token_expiration_strategy: expireIn }
    proxy:
        base_url: https://api.altrata.com
        headers: { x-api-key: '${credentials.apiKey}' }
    docs: https://nango.dev/docs/api-integrations/altrata
    credentials:
        apiKey: { type: string, title: API Key, description: key, secret: true }
        username: { type: string, title: Username, description: user }
        password: { type: string, title: Password, description: pass, secret: true }
"#,
            "altrata",
        )
        .unwrap();
        let definition = mapped.definition;
        let token = definition.token.unwrap();
        assert_eq!(
            token.headers["authorization"],
            "Basic <base64(<credentials.username>:<credentials.password>)>"
        );
        assert_eq!(token.body, TokenBody::Form);
        assert_eq!(token.method, None);
        let response = token.response.unwrap();
        assert_eq!(response.token, "access_token");
        assert_eq!(response.expires_in.as_deref(), Some("expires_in"));
        assert_eq!(
            definition.api.unwrap().headers["x-api-key"],
            "<credentials.apiKey>"
        );
    }

    #[test]
    fn a_boolean_in_a_json_token_body_stops_the_entry_and_in_a_form_is_sent_as_text() {
        let entry = |body: &str| {
            format!(
                r#"
login:
    display_name: Login
    auth_mode: TWO_STEP
    token_url: https://login.example.com/token
    body_format: {body}
    token_params: {{ username: '${{credentials.username}}', remember: true }}
    token_response: {{ token: token }}
    proxy: {{ base_url: https://api.example.com }}
    docs: https://example.com
    credentials:
        username: {{ type: string, title: User, description: user }}
"#
            )
        };
        let skipped = mapped(&entry("json"), "login").unwrap_err();
        assert_eq!(skipped.feature, "typed JSON value");
        assert!(
            skipped.detail.contains("token_params.remember"),
            "{skipped:?}"
        );
        let form = mapped(&entry("form"), "login").unwrap();
        assert_eq!(form.definition.token.unwrap().params["remember"], "true");
        assert!(
            form.notes
                .iter()
                .any(|n| n.contains("token_params.remember"))
        );
    }

    #[test]
    fn features_without_an_equivalent_name_themselves() {
        let cases = [
            (
                "telegram",
                "API_KEY",
                "proxy: { base_url: 'https://api.telegram.org/bot${apiKey}' }",
                "credential in a URL host or path",
            ),
            (
                "aws",
                "BASIC",
                "proxy: { base_url: https://x.example.com, headers: { authorization: '${awsSigV4(x)}' } }",
                "${awsSigV4(...)}",
            ),
            (
                "scripted",
                "BASIC",
                "credentials_verification_script: check\n    proxy: { base_url: https://x.example.com }",
                "credentials_verification_script",
            ),
            (
                "mtls",
                "OAUTH2_CC",
                "require_client_certificate: true\n    token_url: https://x.example.com/t\n    proxy: { base_url: https://x.example.com }",
                "require_client_certificate",
            ),
            (
                "jwt",
                "OAUTH2_CC",
                "token_request_auth_method: private_key_jwt\n    token_url: https://x.example.com/t\n    proxy: { base_url: https://x.example.com }",
                "token_request_auth_method: private_key_jwt",
            ),
            (
                "steps",
                "TWO_STEP",
                "additional_steps: []\n    token_url: https://x.example.com/t\n    proxy: { base_url: https://x.example.com }",
                "additional_steps",
            ),
        ];
        for (id, mode, rest, feature) in cases {
            let yaml = format!(
                "{id}:\n    display_name: X\n    auth_mode: {mode}\n    docs: https://x.example.com\n    {rest}\n"
            );
            let skipped = mapped(&yaml, id).unwrap_err();
            assert_eq!(skipped.feature, feature, "{id}: {skipped:?}");
        }
    }
}
