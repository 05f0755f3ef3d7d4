//! Run time: [`fill`] puts one connection's values into a resolved table, checks each value
//! against its pattern and kind, and re-checks every URL it built, so no value can move a
//! request to a host the definition did not intend.

use indexmap::IndexMap;
use regex::Regex;

use super::declare::{ACCESS_TOKEN, check_value};
use crate::definition::types::{ConnectionParam, RuntimeValue};
use crate::diagnostics::visible;
use crate::resolve::host_shape;
use crate::resolve::table::{ConnectionInputs, ResolvedProvider};
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
}

/// The values of one connection, by name: parameters the user supplies and runtime values the
/// flow learnt.
pub type ConnectionValues = IndexMap<String, String>;

/// Fills a connection's values into a resolved table: the one run-time expander. Every
/// declared parameter must be given (or have a default, or be optional); runtime values are
/// filled when given and otherwise kept as `<name>`. The result lists only the inputs still
/// unfilled, so a table can be filled again with runtime values once the flow learns them.
pub fn fill(
    provider: &ResolvedProvider,
    values: &ConnectionValues,
) -> Result<ResolvedProvider, ConnectionError> {
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
    for (name, input) in &inputs.params {
        let value = param_value(provider, name, &input.declared, values.get(name))?;
        late.insert(name.clone(), Some(value));
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
    late.insert(ACCESS_TOKEN.to_owned(), None);

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
    filled.authorization.params = texts(&provider.authorization.params);
    filled.token_params = texts(&provider.token_params);
    filled.refresh_params = texts(&provider.refresh_params);
    filled.api_headers = texts(&provider.api_headers);
    for dc in &mut filled.data_centers {
        let of = |field: &str| format!("`{field}` of data center `{}`", dc.code);
        dc.issuer = url(of("issuer"), &dc.issuer, UrlRole::Origin)?;
        dc.authorization_url = url(
            of("authorization_url"),
            &dc.authorization_url,
            UrlRole::Endpoint,
        )?;
        dc.entry_authorization_url = url(
            of("entry_authorization_url"),
            &dc.entry_authorization_url,
            UrlRole::Endpoint,
        )?;
        dc.token_url = url(of("token_url"), &dc.token_url, UrlRole::Endpoint)?;
        dc.refresh_url = url(of("refresh_url"), &dc.refresh_url, UrlRole::Endpoint)?;
        if let Some(revoke) = &dc.revoke_url {
            dc.revoke_url = Some(url(of("revoke_url"), revoke, UrlRole::Endpoint)?);
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
) -> Result<String, ConnectionError> {
    let value = match (given, &declared.default) {
        (Some(value), _) => value.clone(),
        (None, Some(default)) => default.clone(),
        (None, None) if declared.optional => return Ok(String::new()),
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
    Ok(value)
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
fn recheck(
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
