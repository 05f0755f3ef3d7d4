//! Run time: [`fill`] puts one connection's values into a resolved table, checks each value
//! against its pattern and kind, and re-checks every URL it built, so no value can move a
//! request to a host the definition did not intend.

use indexmap::IndexMap;
use regex::Regex;

use super::declare::{ACCESS_TOKEN, check_value};
use crate::definition::types::{ConnectionParam, RuntimeValue};
use crate::diagnostics::visible;
use crate::resolve::host_shape;
use crate::resolve::table::{ConnectionInputs, ResolvedProvider, RuntimeInput};
use crate::resolve::template::{self, PlaceholderValues};
use crate::resolve::url_rules::{UrlProblem, UrlRole, check_url};

/// Why a connection's values cannot be filled into a provider's table. Each names the value
/// and, where it applies, the pattern it must match. What the caller gave is displayed
/// [`visible`]: a value with a line break cannot forge a line of the log or the terminal.
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
    #[error("provider `{provider}` has no connection value `{}`; {declared}", visible(.name))]
    Unknown {
        /// Provider id.
        provider: String,
        /// The name given.
        name: String,
        /// What the provider declares.
        declared: String,
    },
    /// A value that fails its pattern or kind.
    #[error("connection value `{name}` is refused: {}", visible(.reason))]
    Invalid {
        /// Value name.
        name: String,
        /// Why, naming the pattern when it is the pattern that fails.
        reason: String,
    },
    /// An expanded URL breaks the URL rules or leaves the host the template fixes.
    #[error("with the values given, {entry} is refused: {}", visible(.reason))]
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
    #[error("provider `{provider}` has no credential `{}`; {declared}", visible(.name))]
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
            return Err(unknown(provider, name));
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
/// access token ([`fill_api_request`](super::fill_api_request) and
/// [`fill_token_request`](super::fill_token_request) fill those for one request).
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

/// Checks one connection parameter's value (or its absence) as [`fill()`] does: a required
/// parameter must be given, a value must match its pattern, kind and allowed values. For forms
/// that report every field at once; [`fill()`] still checks the whole table, URLs included.
pub fn check_param(
    provider: &ResolvedProvider,
    name: &str,
    value: Option<&str>,
) -> Result<(), ConnectionError> {
    let input = provider
        .connection
        .params
        .get(name)
        .ok_or_else(|| unknown(provider, name))?;
    param_value(
        provider,
        name,
        &input.declared,
        value.map(str::to_owned).as_ref(),
    )
    .map(drop)
}

/// A value the provider does not declare, with what it declares.
fn unknown(provider: &ResolvedProvider, name: &str) -> ConnectionError {
    let inputs = &provider.connection;
    let mut names: Vec<&str> = inputs.params.keys().map(String::as_str).collect();
    names.extend(inputs.runtime.keys().map(String::as_str));
    let declared = if names.is_empty() {
        "it needs no connection values".to_owned()
    } else {
        format!("it declares: {}", names.join(", "))
    };
    ConnectionError::Unknown {
        provider: provider.id.clone(),
        name: name.to_owned(),
        declared,
    }
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
    if let Some(allowed) = declared.allowed.as_ref().filter(|a| !a.contains(&value)) {
        return Err(invalid(format!(
            "`{value}` is not one of the values `{name}` allows: {}",
            allowed.join(", ")
        )));
    }
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
/// fixes (the whole host, or every fixed label left and right of the values; never a loopback
/// or IP host from a value).
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
    host_shape::check_filled_host(template, filled, &url, false).map_err(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_is_displayed_on_one_line_with_its_controls_escaped() {
        let pattern = Regex::new("^.*$").unwrap();
        let value = "acme\nINFO forged line\u{1b}[2J\u{202e}";
        let kind = crate::definition::types::ValueKind::Host;
        let reason = check_value("subdomain", value, kind, &pattern, "^.*$").unwrap_err();
        let shown = ConnectionError::Invalid {
            name: "subdomain".into(),
            reason,
        }
        .to_string();
        assert!(!shown.contains(['\n', '\u{1b}', '\u{202e}']), "{shown:?}");
        assert!(shown.contains("acme\\nINFO forged line\\u{1b}"), "{shown}");
    }
}
