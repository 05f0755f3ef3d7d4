//! Resolve time: the `connection` section's declarations are checked and become the late names
//! and the inputs of the table.

use indexmap::IndexMap;
use regex::Regex;

use crate::definition::document::escape_pointer_token;
use crate::definition::types::{ConnectionParam, ProviderDefinition, RuntimeSource, ValueKind};
use crate::diagnostics::{Anchor, Kind};
use crate::resolve::data_centers::EffectiveDataCenters;
use crate::resolve::dns::check_dns_name;
use crate::resolve::plain_url;
use crate::resolve::problem::{Place, Problem};
use crate::resolve::table::{ConnectionInput, ConnectionInputs, RuntimeInput};
use crate::resolve::template;
use crate::resolve::url_rules::UrlRole;

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
pub(in crate::resolve) struct LateName {
    /// The first stage the value exists at.
    pub(in crate::resolve) available_from: Stage,
    /// A value that stands in for it when URL shapes are checked at resolve time.
    pub(in crate::resolve) sample: String,
    /// The built-in `<access_token>`.
    pub(in crate::resolve) builtin: bool,
    /// What the value is inside a URL.
    pub(in crate::resolve) kind: ValueKind,
    /// The allowed values, when the declaration lists them (`enum`).
    pub(in crate::resolve) allowed: Option<Vec<String>>,
    /// Where it is declared (`None`: built in).
    pub(in crate::resolve) declared_at: Option<Place>,
}

/// Every late name of a provider.
#[derive(Debug, Clone, Default)]
pub(in crate::resolve) struct LateNames {
    pub(in crate::resolve) names: IndexMap<String, LateName>,
}

impl LateName {
    /// A problem when a template used at `stage` needs this value before it exists.
    pub(in crate::resolve) fn refuse_at(
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
        Some(Problem::at(Kind::BadPlaceholder, place, Anchor::Value, message).hint(hint))
    }
}

/// Checks the `connection` section and returns its late names.
pub(in crate::resolve) fn declarations(
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
            kind: ValueKind::Segment,
            allowed: None,
            declared_at: None,
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
                            Kind::InvalidValue,
                            format!("{base}/{field}"),
                            Anchor::Value,
                            format!("the {field} of `{name}` is not a valid value: {reason}"),
                        )
                        .hint(format!("give a {field} that matches `{}`", param.pattern)),
                    );
                }
            }
        }
        if let (Some(pattern), Some(allowed)) = (&pattern, &param.allowed) {
            check_allowed(name, param, allowed, pattern, &base, problems);
        }
        late.names.insert(
            name.clone(),
            LateName {
                available_from: Stage::Authorization,
                sample: param.example.clone(),
                builtin: false,
                kind: param.kind,
                allowed: param.allowed.clone(),
                declared_at: Some(crate::resolve::checks::provider_place(base)),
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
                kind: value.kind,
                allowed: None,
                declared_at: Some(crate::resolve::checks::provider_place(base)),
            },
        );
    }
    late
}

/// Checks a parameter's allowed values: each a valid value, and the example and default among
/// them.
fn check_allowed(
    name: &str,
    param: &ConnectionParam,
    allowed: &[String],
    pattern: &Regex,
    base: &str,
    problems: &mut Vec<Problem>,
) {
    if allowed.is_empty() {
        problems.push(
            Problem::provider(
                Kind::InvalidValue,
                format!("{base}/enum"),
                Anchor::Value,
                format!("`{name}` allows no value"),
            )
            .hint("list the values allowed, or remove `enum`"),
        );
        return;
    }
    for (index, value) in allowed.iter().enumerate() {
        if let Err(reason) = check_value(name, value, param.kind, pattern, &param.pattern) {
            problems.push(
                Problem::provider(
                    Kind::InvalidValue,
                    format!("{base}/enum/{index}"),
                    Anchor::Value,
                    format!("an allowed value of `{name}` is not a valid value: {reason}"),
                )
                .hint(format!("allow only values that match `{}`", param.pattern)),
            );
        }
    }
    for (field, value) in [
        ("example", Some(&param.example)),
        ("default", param.default.as_ref()),
    ] {
        let Some(value) = value.filter(|value| !allowed.contains(value)) else {
            continue;
        };
        problems.push(
            Problem::provider(
                Kind::InvalidValue,
                format!("{base}/{field}"),
                Anchor::Value,
                format!("the {field} `{value}` of `{name}` is not one of its allowed values"),
            )
            .hint(format!("give one of: {}", allowed.join(", "))),
        );
    }
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
            Kind::BadPlaceholder,
            format!("`{name}` is not a valid connection value name"),
            "use letters, digits and `_`, starting with a letter (Nango's connectionConfig key, e.g. `subdomain` or `tenantId`)".to_owned(),
        ))
    } else if name == ACCESS_TOKEN {
        Some((
            Kind::NameClash,
            format!("`<{name}>` is built in (the connection's access token)"),
            "choose another name".to_owned(),
        ))
    } else if late.names.contains_key(name) {
        Some((
            Kind::NameClash,
            format!("`{name}` is declared both as a connection parameter and as a runtime value"),
            "keep one of the two".to_owned(),
        ))
    } else if dcs.defines(name) {
        Some((
            Kind::NameClash,
            format!("`{name}` is both a data-center placeholder and a connection value"),
            "rename one of them: a placeholder's value comes either from the data center or from the connection".to_owned(),
        ))
    } else {
        None
    };
    match problem {
        Some((kind, message, hint)) => {
            problems.push(Problem::provider(kind, base, Anchor::Key, message).hint(hint));
            false
        }
        None => true,
    }
}

/// Checks that a pattern is anchored and compiles; returns it compiled.
fn check_pattern(pattern: &str, pointer: &str, problems: &mut Vec<Problem>) -> Option<Regex> {
    if !is_anchored(pattern) {
        problems.push(
            Problem::provider(Kind::BadPattern, pointer, Anchor::Value, format!("pattern `{pattern}` is not anchored"))
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
                    Kind::BadPattern,
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
pub(super) fn check_value(
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
            plain_url::check_url_text(value, UrlRole::Endpoint)
                .map_err(|problem| problem.message)?;
        }
    }
    Ok(())
}

/// The declared inputs with the table entries that use each; a declared value used nowhere is
/// a problem.
pub(in crate::resolve) fn inputs(
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
            Kind::UnusedDeclaration,
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

#[cfg(test)]
mod tests {
    use super::*;

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
