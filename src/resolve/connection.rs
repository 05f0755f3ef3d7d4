//! Connection values: what each connection supplies (`<subdomain>`, `<tenant>`) or learns
//! during the flow (`<instance_url>`).
//!
//! At resolve time their declarations are checked (anchored, compiling pattern; default and
//! example that match it; no clash with a data-center placeholder; used somewhere; never used
//! before the flow knows them) and the table keeps them as `<name>`. At run time [`fill`] is the
//! one function that puts a connection's values into a resolved table: it checks each value
//! against its pattern and kind, expands through the same `template::expand` resolution uses,
//! and re-checks every URL it built (https, a valid DNS host, and the template's literal host
//! kept), so no value can move a request to a host the definition did not intend.

use indexmap::IndexMap;
use regex::Regex;
use url::Url;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{
    ConnectionParam, ProviderDefinition, RuntimeSource, RuntimeValue, ValueKind,
};
use crate::diagnostics::Anchor;
use crate::resolve::data_centers::EffectiveDataCenters;
use crate::resolve::problem::{Place, Problem};
use crate::resolve::table::{ConnectionInput, ConnectionInputs, ResolvedProvider, RuntimeInput};
use crate::resolve::template::{self, PlaceholderValues};
use crate::resolve::url_rules::{self, UrlProblem, UrlRole, check_dns_name, check_url};

mod request;

pub use request::{
    ApiRequest, CredentialValues, Filled, TokenRequest, VerifyCall, fill_api_request,
    fill_token_request, fill_verify_request,
};

/// The built-in late value: the connection's access token, usable in API headers only.
pub const ACCESS_TOKEN: &str = "access_token";

/// How early in the flow a template is used, which decides which runtime values exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The authorization request and the issuer check: only connection parameters.
    Authorization,
    /// The code exchange: callback values too.
    TokenExchange,
    /// Refresh, revoke and API calls: token-response values too.
    AfterToken,
    /// API headers: the access token too.
    ApiHeaders,
}

/// One late name: a connection parameter, a runtime value, or the built-in access token.
#[derive(Debug, Clone)]
pub(super) struct LateName {
    /// The first stage the value exists at.
    pub(super) available_from: Stage,
    /// A value that stands in for it when URL shapes are checked at resolve time.
    pub(super) sample: String,
    /// The built-in `<access_token>`.
    pub(super) builtin: bool,
}

/// Every late name of a provider.
#[derive(Debug, Clone, Default)]
pub(super) struct LateNames {
    pub(super) names: IndexMap<String, LateName>,
}

impl LateName {
    /// A problem when a template used at `stage` needs this value before it exists.
    pub(super) fn refuse_at(
        &self,
        name: &str,
        stage: Stage,
        place: &Place,
        template: &str,
    ) -> Option<Problem> {
        if stage >= self.available_from {
            return None;
        }
        let (what, hint) = match self.available_from {
            Stage::Authorization => return None,
            Stage::TokenExchange => (
                format!("runtime value `<{name}>` comes from the callback"),
                "callback values can be used in the token request and later (token, refresh and revoke URLs and parameters, API base URLs and headers), never in the issuer or the authorization request",
            ),
            Stage::AfterToken => (
                format!("runtime value `<{name}>` comes from the token response"),
                "token-response values can be used in refresh and revoke requests and API base URLs and headers, never in the issuer, the authorization request or the token request",
            ),
            Stage::ApiHeaders => (
                format!("`<{name}>` is the connection's access token"),
                "use `<access_token>` only in `api.headers` values",
            ),
        };
        let place_of_use = match stage {
            Stage::Authorization => "the issuer or the authorization request",
            Stage::TokenExchange => "the token request",
            Stage::AfterToken | Stage::ApiHeaders => "refresh, revoke and API calls",
        };
        let message = format!("{what} and is not known yet in {place_of_use} (`{template}`)");
        Some(Problem::at(place, Anchor::Value, message).hint(hint))
    }
}

/// Checks the `connection` section and returns its late names.
pub(super) fn declarations(
    definition: &ProviderDefinition,
    dcs: &EffectiveDataCenters,
    problems: &mut Vec<Problem>,
) -> LateNames {
    let mut late = LateNames::default();
    late.names.insert(
        ACCESS_TOKEN.to_owned(),
        LateName {
            available_from: Stage::ApiHeaders,
            sample: "sample-access-token".to_owned(),
            builtin: true,
        },
    );
    let Some(connection) = &definition.connection else {
        return late;
    };
    for (name, param) in &connection.params {
        let base = format!("/connection/params/{}", escape_pointer_token(name));
        if !check_name(name, &base, dcs, &late, problems) {
            continue;
        }
        let pattern = check_pattern(&param.pattern, &format!("{base}/pattern"), problems);
        if let Some(pattern) = &pattern {
            for (field, value) in [
                ("example", Some(&param.example)),
                ("default", param.default.as_ref()),
            ] {
                let Some(value) = value else { continue };
                if let Err(reason) = check_value(name, value, param.kind, pattern, &param.pattern) {
                    problems.push(
                        Problem::provider(
                            format!("{base}/{field}"),
                            Anchor::Value,
                            format!("the {field} of `{name}` is not a valid value: {reason}"),
                        )
                        .hint(format!("give a {field} that matches `{}`", param.pattern)),
                    );
                }
            }
        }
        late.names.insert(
            name.clone(),
            LateName {
                available_from: Stage::Authorization,
                sample: param.example.clone(),
                builtin: false,
            },
        );
    }
    for (name, value) in &connection.runtime {
        let base = format!("/connection/runtime/{}", escape_pointer_token(name));
        if !check_name(name, &base, dcs, &late, problems) {
            continue;
        }
        if let Some(pattern) = &value.pattern {
            check_pattern(pattern, &format!("{base}/pattern"), problems);
        }
        late.names.insert(
            name.clone(),
            LateName {
                available_from: match value.from {
                    RuntimeSource::Callback => Stage::TokenExchange,
                    RuntimeSource::TokenResponse => Stage::AfterToken,
                },
                sample: sample(value.kind),
                builtin: false,
            },
        );
    }
    late
}

/// A stand-in value of each kind, for checking URL shapes at resolve time.
fn sample(kind: ValueKind) -> String {
    match kind {
        ValueKind::Segment => "sample".to_owned(),
        ValueKind::Host => "sample.example.com".to_owned(),
        ValueKind::Url => "https://sample.example.com".to_owned(),
    }
}

fn check_name(
    name: &str,
    base: &str,
    dcs: &EffectiveDataCenters,
    late: &LateNames,
    problems: &mut Vec<Problem>,
) -> bool {
    let problem = if !template::is_placeholder_name(name) {
        Some((
            format!("`{name}` is not a valid connection value name"),
            "use letters, digits and `_`, starting with a letter (Nango's connectionConfig key, e.g. `subdomain` or `tenantId`)".to_owned(),
        ))
    } else if name == ACCESS_TOKEN {
        Some((
            format!("`<{name}>` is built in (the connection's access token)"),
            "choose another name".to_owned(),
        ))
    } else if late.names.contains_key(name) {
        Some((
            format!("`{name}` is declared both as a connection parameter and as a runtime value"),
            "keep one of the two".to_owned(),
        ))
    } else if dcs.defines(name) {
        Some((
            format!("`{name}` is both a data-center placeholder and a connection value"),
            "rename one of them: a placeholder's value comes either from the data center or from the connection".to_owned(),
        ))
    } else {
        None
    };
    match problem {
        Some((message, hint)) => {
            problems.push(Problem::provider(base, Anchor::Key, message).hint(hint));
            false
        }
        None => true,
    }
}

/// Checks that a pattern is anchored and compiles; returns it compiled.
fn check_pattern(pattern: &str, pointer: &str, problems: &mut Vec<Problem>) -> Option<Regex> {
    if !is_anchored(pattern) {
        problems.push(
            Problem::provider(pointer, Anchor::Value, format!("pattern `{pattern}` is not anchored"))
                .hint("start it with `^` and end it with `$`, so it bounds the whole value, not a part of it"),
        );
        return None;
    }
    match Regex::new(pattern) {
        Ok(regex) => Some(regex),
        Err(error) => {
            let reason = error.to_string();
            let reason = reason.lines().last().unwrap_or_default().trim();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason).to_owned();
            problems.push(
                Problem::provider(
                    pointer,
                    Anchor::Value,
                    format!("pattern `{pattern}` does not compile: {reason}"),
                )
                .hint("use Rust `regex` syntax (no look-around, no backreferences)"),
            );
            None
        }
    }
}

fn is_anchored(pattern: &str) -> bool {
    let escaped_dollar = pattern.ends_with("\\$") && !pattern.ends_with("\\\\$");
    pattern.len() >= 2 && pattern.starts_with('^') && pattern.ends_with('$') && !escaped_dollar
}

/// Characters that would change a URL's structure if a segment value held them.
const STRUCTURAL: [char; 7] = ['/', '?', '#', '@', ':', '%', '\\'];

/// Checks one value against its pattern and kind; the reason when it fails.
fn check_value(
    name: &str,
    value: &str,
    kind: ValueKind,
    pattern: &Regex,
    written: &str,
) -> Result<(), String> {
    if !pattern.is_match(value) {
        return Err(format!(
            "`{value}` does not match the pattern `{written}` of `{name}`"
        ));
    }
    match kind {
        ValueKind::Segment => {
            if let Some(c) = value
                .chars()
                .find(|c| STRUCTURAL.contains(c) || c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "`{}` holds `{}`, which would change the URL's structure",
                    value.escape_debug(),
                    c.escape_debug()
                ));
            }
        }
        ValueKind::Host => check_dns_name(value)
            .map_err(|reason| format!("`{value}` is not a valid host name: {reason}"))?,
        ValueKind::Url => {
            url_rules::check_url_text(value, UrlRole::Endpoint)
                .map_err(|problem| problem.message)?;
        }
    }
    Ok(())
}

/// The declared inputs with the table entries that use each; a declared value used nowhere is
/// a problem.
pub(super) fn inputs(
    definition: &ProviderDefinition,
    late: &LateNames,
    used_in: &IndexMap<String, Vec<String>>,
    problems: &mut Vec<Problem>,
) -> ConnectionInputs {
    let mut inputs = ConnectionInputs::default();
    let Some(connection) = &definition.connection else {
        return inputs;
    };
    let unused = |section: &str, name: &str| {
        Problem::provider(
            format!("/connection/{section}/{}", escape_pointer_token(name)),
            Anchor::Key,
            format!("connection value `{name}` is declared but never used"),
        )
        .hint(format!(
            "use it as `<{name}>` in a URL, parameter or header, or remove the declaration"
        ))
    };
    for (name, declared) in &connection.params {
        let used = used_in.get(name).cloned().unwrap_or_default();
        // A refused declaration is not a late name, so its uses were reported as unknown.
        if used.is_empty() && late.names.contains_key(name) {
            problems.push(unused("params", name));
        }
        inputs.params.insert(
            name.clone(),
            ConnectionInput {
                declared: declared.clone(),
                used_in: used,
            },
        );
    }
    for (name, declared) in &connection.runtime {
        let used = used_in.get(name).cloned().unwrap_or_default();
        if used.is_empty() && late.names.contains_key(name) {
            problems.push(unused("runtime", name));
        }
        inputs.runtime.insert(
            name.clone(),
            RuntimeInput {
                declared: declared.clone(),
                used_in: used,
            },
        );
    }
    inputs
}

/// Why a connection's values cannot be filled into a provider's table. Each names the value
/// and, where it applies, the pattern it must match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// A required parameter has no value.
    #[error(
        "provider `{provider}` needs connection parameter `{name}`, a value matching `{pattern}` (e.g. `{example}`): {description}"
    )]
    Missing {
        /// Provider id.
        provider: String,
        /// Parameter name.
        name: String,
        /// Its description.
        description: String,
        /// Its pattern.
        pattern: String,
        /// Its example.
        example: String,
    },
    /// A value the provider does not declare.
    #[error("provider `{provider}` has no connection value `{name}`; {declared}")]
    Unknown {
        /// Provider id.
        provider: String,
        /// The name given.
        name: String,
        /// What the provider declares.
        declared: String,
    },
    /// A value that fails its pattern or kind.
    #[error("connection value `{name}` is refused: {reason}")]
    Invalid {
        /// Value name.
        name: String,
        /// Why, naming the pattern when it is the pattern that fails.
        reason: String,
    },
    /// An expanded URL breaks the URL rules or leaves the host the template fixes.
    #[error("with the values given, {entry} is refused: {reason}")]
    Url {
        /// The table entry, e.g. `token_url` of data center `eu`.
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// A data center the provider does not enable.
    #[error("provider `{provider}` has no data center `{code}`; enabled: {enabled}")]
    UnknownDataCenter {
        /// Provider id.
        provider: String,
        /// The code asked for.
        code: String,
        /// The enabled codes, comma-separated.
        enabled: String,
    },
    /// An API environment the provider does not define.
    #[error("provider `{provider}` has no API environment `{environment}`; it defines: {known}")]
    UnknownEnvironment {
        /// Provider id.
        provider: String,
        /// The environment asked for.
        environment: String,
        /// The environments defined, comma-separated.
        known: String,
    },
    /// A part the provider's auth mode does not have (a token request of an `api_key`
    /// provider).
    #[error(transparent)]
    NotInMode(#[from] crate::resolve::table::NotInMode),
    /// A required credential has no value.
    #[error("provider `{provider}` needs the credential `{name}` ({title})")]
    MissingCredential {
        /// Provider id.
        provider: String,
        /// Credential name.
        name: String,
        /// Its title.
        title: String,
    },
    /// A credential the provider does not declare.
    #[error("provider `{provider}` has no credential `{name}`; {declared}")]
    UnknownCredential {
        /// Provider id.
        provider: String,
        /// The name given.
        name: String,
        /// What the provider declares.
        declared: String,
    },
    /// A credential that fails its pattern or holds a character no header may carry. The
    /// value itself is never part of the message.
    #[error("credential `{name}` is refused: {reason}")]
    InvalidCredential {
        /// Credential name.
        name: String,
        /// Why, without the value.
        reason: String,
    },
    /// A request needs a value the connection does not have yet: the access token before a
    /// token was obtained, or a runtime value before the flow learnt it.
    #[error("{entry} needs `<{name}>`, which this connection does not have yet")]
    NotKnownYet {
        /// The table entry, e.g. `api_auth.headers.Authorization`.
        entry: String,
        /// The placeholder.
        name: String,
    },
}

/// The values of one connection, by name: parameters the user supplies and runtime values the
/// flow learnt.
pub type ConnectionValues = IndexMap<String, String>;

/// The late names of one connection: each declared parameter's value (given, default, or
/// empty when optional), each runtime value given, and `<name>` kept for runtime values not
/// known yet, credentials and the access token.
pub(super) struct ConnectionScope {
    /// Late name -> its value, or `None` to keep `<name>`.
    pub(super) late: IndexMap<String, Option<String>>,
    /// Optional parameters the connection left out (and have no default): a header or query
    /// parameter naming one is omitted rather than sent empty.
    pub(super) absent: Vec<String>,
    /// Runtime values not known yet.
    pub(super) still_open: IndexMap<String, RuntimeInput>,
}

/// Checks a connection's values against the provider's declarations and gives their scope.
pub(super) fn connection_scope(
    provider: &ResolvedProvider,
    values: &ConnectionValues,
) -> Result<ConnectionScope, ConnectionError> {
    let inputs = &provider.connection;
    for name in values.keys() {
        if !inputs.params.contains_key(name) && !inputs.runtime.contains_key(name) {
            let mut names: Vec<&str> = inputs.params.keys().map(String::as_str).collect();
            names.extend(inputs.runtime.keys().map(String::as_str));
            let declared = if names.is_empty() {
                "it needs no connection values".to_owned()
            } else {
                format!("it declares: {}", names.join(", "))
            };
            return Err(ConnectionError::Unknown {
                provider: provider.id.clone(),
                name: name.clone(),
                declared,
            });
        }
    }
    let mut late: IndexMap<String, Option<String>> = IndexMap::new();
    let mut absent = Vec::new();
    for (name, input) in &inputs.params {
        let value = param_value(provider, name, &input.declared, values.get(name))?;
        if value.is_none() {
            absent.push(name.clone());
        }
        late.insert(name.clone(), Some(value.unwrap_or_default()));
    }
    let mut still_open = IndexMap::new();
    for (name, input) in &inputs.runtime {
        match values.get(name) {
            Some(value) => {
                runtime_value(name, &input.declared, value)?;
                late.insert(name.clone(), Some(value.clone()));
            }
            None => {
                late.insert(name.clone(), None);
                still_open.insert(name.clone(), input.clone());
            }
        }
    }
    for name in provider.credentials.keys() {
        late.insert(format!("{}{name}", template::CREDENTIALS_PREFIX), None);
    }
    late.insert(ACCESS_TOKEN.to_owned(), None);
    Ok(ConnectionScope {
        late,
        absent,
        still_open,
    })
}

/// Fills a connection's values into a resolved table: the one run-time expander of connection
/// values. Every declared parameter must be given (or have a default, or be optional); runtime
/// values are filled when given and otherwise kept as `<name>`, as are credentials and the
/// access token ([`fill_api_request`] and [`fill_token_request`] fill those for one request).
/// The result lists only the inputs still unfilled, so a table can be filled again with
/// runtime values once the flow learns them.
pub fn fill(
    provider: &ResolvedProvider,
    values: &ConnectionValues,
) -> Result<ResolvedProvider, ConnectionError> {
    let ConnectionScope {
        late, still_open, ..
    } = connection_scope(provider, values)?;
    let scope = PlaceholderValues::late_only(&late);
    let text = |template: &str| -> String {
        template::expand(template, scope).expect("a resolved table holds only late names")
    };
    let url = |entry: String, template: &str, role: UrlRole| -> Result<String, ConnectionError> {
        let filled = text(template);
        if filled != template {
            recheck(&entry, template, &filled, role)?;
        }
        Ok(filled)
    };
    let texts = |map: &IndexMap<String, String>| -> IndexMap<String, String> {
        map.iter().map(|(k, v)| (k.clone(), text(v))).collect()
    };

    let mut filled = provider.clone();
    if let Some(authorization) = &mut filled.authorization {
        authorization.params = texts(&authorization.params);
    }
    if let Some(token) = &mut filled.token {
        token.token_params = texts(&token.token_params);
        token.refresh_params = texts(&token.refresh_params);
    }
    if let Some(request) = &mut filled.token_request {
        request.headers = texts(&request.headers);
        request.refresh_headers = texts(&request.refresh_headers);
    }
    if let Some(api_auth) = &mut filled.api_auth {
        api_auth.headers = texts(&api_auth.headers);
        api_auth.query = texts(&api_auth.query);
    }
    if let Some(verify) = &mut filled.verify {
        verify.headers = texts(&verify.headers);
    }
    for dc in &mut filled.data_centers {
        let of = |field: &str| format!("`{field}` of data center `{}`", dc.code);
        if let Some(endpoints) = &mut dc.authorization {
            endpoints.issuer = url(of("issuer"), &endpoints.issuer, UrlRole::Origin)?;
            endpoints.authorization_url = url(
                of("authorization_url"),
                &endpoints.authorization_url,
                UrlRole::Endpoint,
            )?;
            endpoints.entry_authorization_url = url(
                of("entry_authorization_url"),
                &endpoints.entry_authorization_url,
                UrlRole::Endpoint,
            )?;
        }
        if let Some(endpoints) = &mut dc.token {
            endpoints.token_url = url(of("token_url"), &endpoints.token_url, UrlRole::Endpoint)?;
            endpoints.refresh_url =
                url(of("refresh_url"), &endpoints.refresh_url, UrlRole::Endpoint)?;
            if let Some(revoke) = &endpoints.revoke_url {
                endpoints.revoke_url = Some(url(of("revoke_url"), revoke, UrlRole::Endpoint)?);
            }
        }
        for (environment, base) in dc.api_base_urls.iter_mut() {
            *base = url(
                of(&format!("api_base_urls.{environment}")),
                base,
                UrlRole::Endpoint,
            )?;
        }
        for name in dc.scope_names.values_mut() {
            *name = text(name);
        }
    }
    filled.connection = ConnectionInputs {
        params: IndexMap::new(),
        runtime: still_open,
    };
    Ok(filled)
}

fn param_value(
    provider: &ResolvedProvider,
    name: &str,
    declared: &ConnectionParam,
    given: Option<&String>,
) -> Result<Option<String>, ConnectionError> {
    let value = match (given, &declared.default) {
        (Some(value), _) => value.clone(),
        (None, Some(default)) => default.clone(),
        (None, None) if declared.optional => return Ok(None),
        (None, None) => {
            return Err(ConnectionError::Missing {
                provider: provider.id.clone(),
                name: name.to_owned(),
                description: declared.description.clone(),
                pattern: declared.pattern.clone(),
                example: declared.example.clone(),
            });
        }
    };
    let invalid = |reason: String| ConnectionError::Invalid {
        name: name.to_owned(),
        reason,
    };
    let pattern = Regex::new(&declared.pattern).map_err(|e| invalid(e.to_string()))?;
    check_value(name, &value, declared.kind, &pattern, &declared.pattern).map_err(invalid)?;
    Ok(Some(value))
}

fn runtime_value(name: &str, declared: &RuntimeValue, value: &str) -> Result<(), ConnectionError> {
    let invalid = |reason: String| ConnectionError::Invalid {
        name: name.to_owned(),
        reason,
    };
    let written = declared.pattern.as_deref().unwrap_or("^.*$");
    let pattern = Regex::new(written).map_err(|e| invalid(e.to_string()))?;
    check_value(name, value, declared.kind, &pattern, written).map_err(invalid)
}

/// Re-checks a URL built from connection values: the URL rules, then the host the template
/// fixes (the whole host when the template's host has no placeholder, else its literal suffix
/// after the last placeholder).
pub(super) fn recheck(
    entry: &str,
    template: &str,
    filled: &str,
    role: UrlRole,
) -> Result<(), ConnectionError> {
    let refuse = |reason: String| ConnectionError::Url {
        entry: entry.to_owned(),
        reason,
    };
    let url = check_url(filled, role).map_err(|UrlProblem { message, .. }| refuse(message))?;
    check_fixed_host(template, filled, &url).map_err(refuse)
}

/// Checks that `url` (built from `template`) keeps the host the template fixes: the whole host
/// when the template's host has no placeholder, else its literal text after the last one.
pub(super) fn check_fixed_host(template: &str, filled: &str, url: &Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    match fixed_host(template) {
        FixedHost::Whole(expected) if !host.eq_ignore_ascii_case(expected) => Err(format!(
            "`{filled}` goes to host `{}`, not `{expected}` as the definition says",
            host.to_ascii_lowercase()
        )),
        FixedHost::Suffix(suffix) if !ends_with_ignoring_ascii_case(host, suffix) => Err(format!(
            "`{filled}` goes to host `{}`, outside `*{suffix}` which the definition fixes",
            host.to_ascii_lowercase()
        )),
        _ => Ok(()),
    }
}

fn ends_with_ignoring_ascii_case(text: &str, suffix: &str) -> bool {
    let (text, suffix) = (text.as_bytes(), suffix.as_bytes());
    text.len() >= suffix.len() && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// What a URL template fixes of its host.
#[derive(Debug, PartialEq, Eq)]
enum FixedHost<'a> {
    /// The host is written out: it must stay exactly that.
    Whole(&'a str),
    /// The host ends in literal text after its last placeholder: it must keep that suffix.
    Suffix(&'a str),
    /// The host ends in a placeholder (a whole-host or whole-URL value): its pattern bounds it.
    Free,
}

fn fixed_host(template: &str) -> FixedHost<'_> {
    let Some(rest) = url_rules::after_scheme(template) else {
        return FixedHost::Free;
    };
    let authority = url_rules::authority(rest);
    // Byte searches (all four marks are ASCII): this runs for every URL of every data center.
    let last = |text: &str, mark: u8| text.bytes().rposition(|b| b == mark);
    let host = last(authority, b'@').map_or(authority, |at| &authority[at + 1..]);
    let host = match (host.starts_with('['), last(host, b':')) {
        // An IPv6 literal (`[::1]`) has colons of its own: it ends at its bracket.
        (true, _) => host.find(']').map_or(host, |close| &host[..=close]),
        (false, Some(colon)) if !host[colon..].contains('>') => &host[..colon],
        (false, _) => host,
    };
    match last(host, b'>') {
        None => FixedHost::Whole(host),
        Some(close) if close + 1 < host.len() => FixedHost::Suffix(&host[close + 1..]),
        Some(_) => FixedHost::Free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_fixes_its_written_host_or_the_suffix_after_its_last_placeholder() {
        assert_eq!(
            fixed_host("https://<subdomain>.myshopify.com/admin"),
            FixedHost::Suffix(".myshopify.com")
        );
        assert_eq!(
            fixed_host("https://login.microsoftonline.com/<tenant>/v2.0"),
            FixedHost::Whole("login.microsoftonline.com")
        );
        assert_eq!(fixed_host("https://<hostname>/services"), FixedHost::Free);
        assert_eq!(fixed_host("<instance_url>/services/data"), FixedHost::Free);
        assert_eq!(
            fixed_host("https://<a>-api.example.com"),
            FixedHost::Suffix("-api.example.com")
        );
        assert_eq!(fixed_host("http://[::1]/<path>"), FixedHost::Whole("[::1]"));
        assert_eq!(
            fixed_host("http://[::1]:8080/<path>"),
            FixedHost::Whole("[::1]")
        );
    }

    #[test]
    fn patterns_must_be_anchored_at_both_ends() {
        assert!(is_anchored("^[a-z]+$"));
        assert!(!is_anchored("[a-z]+$"));
        assert!(!is_anchored("^[a-z]+"));
        assert!(!is_anchored("^[a-z]+\\$"));
        assert!(is_anchored("^[a-z]+\\\\$"));
    }

    #[test]
    fn segment_values_may_not_change_the_url_structure() {
        let pattern = Regex::new("^.*$").unwrap();
        for bad in [
            "a/b",
            "a?b",
            "a#b",
            "evil.com@x",
            "a:1",
            "a%2e",
            "a b",
            "a\\b",
        ] {
            assert!(
                check_value("subdomain", bad, ValueKind::Segment, &pattern, "^.*$").is_err(),
                "{bad}"
            );
        }
        assert!(check_value("subdomain", "acme-1", ValueKind::Segment, &pattern, "^.*$").is_ok());
    }
}
