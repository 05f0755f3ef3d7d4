//! The auth mode's rules: which sections each mode requires, allows or refuses, the credential
//! fields' declarations, and what a `token_request` must say about its answer.
//!
//! The JSON Schema states the same section rules (an `if`/`then` per mode, see
//! [`crate::definition::types`]), so an editor flags them while typing; these checks give the
//! same verdict, with a hint, for definitions built in code and for what a schema cannot say
//! (a pattern that does not compile, a path with an empty key).

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{AuthMode, ProviderDefinition, Token, secret_by_name};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::credentials::{self, BASIC_FIELDS};
use crate::resolve::problem::Problem;
use crate::resolve::sections::{Sourced, Use, section_use};
use crate::resolve::table::ResolvedProvider;

/// Every mode rule the definition breaks.
pub(super) fn check(
    definition: &ProviderDefinition,
    token: Option<Sourced<'_, Token>>,
    problems: &mut Vec<Problem>,
) {
    let mode = definition.mode();
    refused_sections(definition, mode, problems);
    required_sections(definition, mode, problems);
    credential_fields(definition, mode, problems);
    if mode == AuthMode::TokenRequest
        && let Some(token) = token
    {
        token_response(token, problems);
    }
    verify_endpoints(definition, problems);
}

/// What to do instead of writing a section the mode does not use.
fn refused_hint(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::Oauth2Code => {
            "remove it: `oauth2_code` connections get their token from the user's consent, not from credentials they type"
        }
        AuthMode::ApiKey | AuthMode::Basic => {
            "remove it: this mode sends the credentials on every API call as `api.headers` and `api.query` say, with no token"
        }
        AuthMode::ClientCredentials => {
            "remove it: `client_credentials` buys its token at `token.url` with the client id and secret, without the user"
        }
        AuthMode::TokenRequest => {
            "remove it: `token_request` trades the credentials for a token at `token.url`, without the user"
        }
    }
}

/// What is wrong with writing the node at `pointer` (`/authorization`, `/token/headers`) in a
/// `mode` provider, and what to do: one wording for the schema check and the semantic check.
pub(crate) fn refusal(pointer: &str, dotted: &str, mode: AuthMode) -> (String, String) {
    let what = match pointer {
        "/issuer" | "/authorization" | "/token" | "/callback" | "/scopes" => {
            format!("the `{}` section", &pointer[1..])
        }
        _ => format!("`{dotted}`"),
    };
    let hint = match (pointer, mode) {
        ("/auth/credentials", AuthMode::ClientCredentials) => {
            "remove it: the client id and secret come from the platform (`connect --client-id`, the service's clients), not from credential fields"
        }
        ("/token/method" | "/token/headers" | "/token/response" | "/token/refresh_headers", _) => {
            "remove it, or set `auth.mode: token_request` if the provider defines its own token request"
        }
        _ => refused_hint(mode),
    };
    (
        format!("{what} is not used by `{}`", mode.as_str()),
        hint.to_owned(),
    )
}

fn refused(pointer: &str, mode: AuthMode) -> Problem {
    let dotted = pointer.trim_start_matches('/').replace('/', ".");
    let (message, hint) = refusal(pointer, &dotted, mode);
    Problem::provider(Kind::ModeMismatch, pointer, Anchor::Key, message).hint(hint)
}

fn refused_sections(definition: &ProviderDefinition, mode: AuthMode, problems: &mut Vec<Problem>) {
    let written = [
        ("issuer", definition.issuer.is_some()),
        ("authorization", definition.authorization.is_some()),
        ("token", definition.token.is_some()),
        ("callback", definition.callback.is_some()),
        ("scopes", !definition.scopes.is_empty()),
    ];
    for (name, present) in written {
        if present && section_use(mode, name) == Use::Refused {
            problems.push(refused(&format!("/{name}"), mode));
        }
    }
    let declared = definition
        .auth
        .as_ref()
        .is_some_and(|auth| !auth.credentials.is_empty());
    if declared && section_use(mode, "credentials") == Use::Refused {
        problems.push(refused("/auth/credentials", mode));
    }
    if mode != AuthMode::Oauth2Code
        && definition
            .multi_dc
            .as_ref()
            .is_some_and(|multi| multi.entry.is_some())
    {
        problems.push(refused("/multi_dc/entry", mode));
    }
    if mode != AuthMode::TokenRequest
        && let Some(token) = &definition.token
    {
        let fields = [
            ("method", token.method.is_some()),
            ("headers", !token.headers.is_empty()),
            ("response", token.response.is_some()),
            ("refresh_headers", !token.refresh_headers.is_empty()),
        ];
        for (field, present) in fields {
            if present {
                problems.push(refused(&format!("/token/{field}"), mode));
            }
        }
    }
}

fn required_sections(definition: &ProviderDefinition, mode: AuthMode, problems: &mut Vec<Problem>) {
    if section_use(mode, "api") == Use::Required && definition.api.is_none() {
        problems.push(
            Problem::provider(
                Kind::MissingField,
                "",
                Anchor::Key,
                format!("missing required field `api`: `{}` uses it", mode.as_str()),
            )
            .hint("add `api` with the base URL per environment (`api.environments`) and where the credentials go (`api.headers`, `api.query`)"),
        );
    }
    let credentials = definition.auth.as_ref().map(|auth| &auth.credentials);
    if section_use(mode, "credentials") == Use::Required
        && credentials.is_none_or(|declared| declared.is_empty())
    {
        problems.push(
            Problem::provider(
                Kind::MissingField,
                "/auth",
                Anchor::Key,
                format!(
                    "`{}` needs at least one credential under `auth.credentials`",
                    mode.as_str()
                ),
            )
            .hint("declare what each connection supplies, e.g. `credentials: { apiKey: { title: API Key } }`, and use it as `<credentials.apiKey>`"),
        );
    }
}

fn credential_fields(definition: &ProviderDefinition, mode: AuthMode, problems: &mut Vec<Problem>) {
    let Some(auth) = &definition.auth else {
        return;
    };
    for (name, field) in &auth.credentials {
        let base = format!("/auth/credentials/{}", escape_pointer_token(name));
        if mode == AuthMode::Basic && !BASIC_FIELDS.contains(&name.as_str()) {
            problems.push(
                Problem::provider(
                    Kind::ModeMismatch,
                    base.clone(),
                    Anchor::Key,
                    format!("`basic` takes only `username` and `password`, not `{name}`"),
                )
                .hint("rename it to `username` or `password`, or use `mode: api_key` and say in `api.headers` how each credential is sent"),
            );
        }
        if field.hidden && field.default.is_none() {
            problems.push(
                Problem::provider(
                    Kind::MissingField,
                    format!("{base}/hidden"),
                    Anchor::Key,
                    format!("hidden credential `{name}` needs a `default`"),
                )
                .hint("a hidden field is never asked for, so give the value it takes (`default: X`), or remove `hidden`"),
            );
        }
        if let Some(pattern) = &field.pattern
            && let Err(reason) = credentials::compile(pattern)
        {
            problems.push(
                Problem::provider(
                    Kind::BadPattern,
                    format!("{base}/pattern"),
                    Anchor::Value,
                    format!("pattern `{pattern}` does not compile: {reason}"),
                )
                .hint("use Rust `regex` syntax (no look-around, no backreferences)"),
            );
        }
    }
}

fn token_response(token: Sourced<'_, Token>, problems: &mut Vec<Problem>) {
    let Some(response) = &token.value.response else {
        problems.push(
            Problem::at(
                Kind::MissingField,
                &token.place("/token"),
                Anchor::Key,
                "`token_request` needs `token.response`: where its answer holds the token",
            )
            .hint("add `response: { token: access_token, expires_in: expires_in }` with the paths the provider's answer uses"),
        );
        return;
    };
    if response.token.is_empty() {
        problems.push(
            Problem::at(
                Kind::InvalidValue,
                &token.place("/token/response/token"),
                Anchor::Value,
                "the token path is empty",
            )
            .hint("write where the answer holds the token, e.g. `access_token` or `data.token`"),
        );
    }
    let paths = [
        ("token", Some(&response.token)),
        ("expires_in", response.expires_in.as_ref()),
        ("expires_at", response.expires_at.as_ref()),
        ("refresh_token", response.refresh_token.as_ref()),
    ];
    for (field, path) in paths {
        let Some(path) = path.filter(|path| !path.is_empty()) else {
            continue;
        };
        if path.split('.').any(str::is_empty) {
            problems.push(
                Problem::at(
                    Kind::InvalidValue,
                    &token.place(&format!("/token/response/{field}")),
                    Anchor::Value,
                    format!("path `{path}` has an empty key"),
                )
                .hint("write keys separated by single dots, e.g. `data.accessToken`"),
            );
        }
    }
    if response.expires_in.is_some() && response.expires_at.is_some() {
        problems.push(
            Problem::at(
                Kind::ConflictingFields,
                &token.place("/token/response/expires_at"),
                Anchor::Key,
                "`expires_in` and `expires_at` cannot both be given",
            )
            .hint("keep the one the provider's answer has: a lifetime in seconds (`expires_in`) or an expiry date (`expires_at`)"),
        );
    }
}

/// Verification endpoints are paths under the API base URL: no placeholder (a credential never
/// goes in a path) and no URL of their own.
fn verify_endpoints(definition: &ProviderDefinition, problems: &mut Vec<Problem>) {
    let Some(verify) = definition.api.as_ref().and_then(|api| api.verify.as_ref()) else {
        return;
    };
    for (index, endpoint) in verify.endpoints.iter().enumerate() {
        let pointer = format!("/api/verify/endpoints/{index}");
        let problem = if endpoint.contains('<') {
            Some((
                format!("verification endpoint `{endpoint}` holds a placeholder"),
                "write a path under the API base URL without placeholders; credentials go in `api.headers`, `api.query` or `api.verify.headers`, never in a path",
            ))
        } else if endpoint.contains("://") || endpoint.starts_with("//") {
            Some((
                format!("verification endpoint `{endpoint}` is a URL"),
                "write a path relative to the API base URL (e.g. `v1/models`), so the verification goes where API calls go",
            ))
        } else {
            None
        };
        if let Some((message, hint)) = problem {
            problems
                .push(Problem::provider(Kind::BadUrl, pointer, Anchor::Value, message).hint(hint));
        }
    }
}

/// Likely mistakes that leave the definition valid: a credential named like a secret but
/// declared `secret: false`, and (when the table was built) a credential no request uses.
pub(super) fn warnings(
    definition: &ProviderDefinition,
    resolved: Option<&ResolvedProvider>,
) -> Vec<Problem> {
    let mut warnings = Vec::new();
    let Some(auth) = &definition.auth else {
        return warnings;
    };
    for (name, field) in &auth.credentials {
        let base = format!("/auth/credentials/{}", escape_pointer_token(name));
        if field.secret == Some(false) && secret_by_name(name) {
            warnings.push(
                Problem::provider(
                    Kind::UnmarkedSecret,
                    format!("{base}/secret"),
                    Anchor::Value,
                    format!("credential `{name}` is named like a secret but declared `secret: false`"),
                )
                .hint("remove `secret: false` unless the value is really public: a secret is hidden in forms, sealed at rest and redacted everywhere")
                .as_warning(),
            );
        }
        let unused = resolved
            .and_then(|table| table.credentials.get(name))
            .is_some_and(|credential| credential.used_in.is_empty());
        if unused {
            warnings.push(
                Problem::provider(
                    Kind::UnusedDeclaration,
                    base,
                    Anchor::Key,
                    format!("credential `{name}` is declared but never used"),
                )
                .hint(format!(
                    "send it as `<credentials.{name}>` in `api.headers`, `api.query` or the token request, or remove it"
                ))
                .as_warning(),
            );
        }
    }
    warnings
}
