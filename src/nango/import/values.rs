//! The connection values of a Nango entry: each `${connectionConfig.NAME}` its templates use,
//! turned into a connection parameter (a value the connection supplies: description, example,
//! an anchored pattern, kind, default) or a runtime value (learnt from the token response or
//! the callback), or the reason it cannot be one.
//!
//! Nango's patterns are JavaScript regular expressions tested unanchored; ours are Rust `regex`
//! patterns anchored with `^...$`. Where Nango gives no pattern, the importer writes the pattern
//! of the value's kind, and says so in the entry's notes.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};

use super::fields::{Skip, scalar, skip, string_list};
use super::template::{self, Context, PlaceholderPosition, Unconvertible, Vocabulary};
use crate::definition::types::{
    Connection, ConnectionParam, RuntimeSource, RuntimeValue, ValueKind,
};
use crate::nango::NangoEntry;
use crate::resolve::connection::Stage;
use crate::resolve::template::is_placeholder_name;
use crate::resolve::url_rules::UrlRole;
use crate::resolve::{dns, host_shape, plain_url};

/// Attributes of a `connection_config` field carried over.
const READ_FIELD_ATTRIBUTES: &[&str] = &["type", "description", "example", "pattern", "enum"];

#[derive(Debug, Default)]
struct ValueUsage {
    positions: Vec<PlaceholderPosition>,
    earliest: Option<Stage>,
    places: Vec<String>,
    fallback: Option<String>,
    /// Whether some URL uses the value (its example must then survive URL normalisation).
    in_url: bool,
    /// Places where the value is used without Nango's `||` fallback.
    without_fallback: Vec<String>,
    /// Where the value stands in a host so that it could choose the registrable domain, and
    /// why: it is imported only with Nango's `enum`.
    open_in_host: Option<String>,
}

/// Everything the entry's templates say about connection values and credentials.
#[derive(Debug, Default)]
pub(super) struct Uses {
    by_name: IndexMap<String, ValueUsage>,
    /// Each credential used, with the places that use it.
    pub(super) credentials: IndexMap<String, Vec<String>>,
}

impl Uses {
    /// The connection values the converted templates use.
    pub(super) fn connection_names(&self) -> impl Iterator<Item = &String> {
        self.by_name.keys()
    }

    /// Converts `text` of an OAuth 2.0 entry found at `place`, recording the values it uses.
    pub(super) fn convert(
        &mut self,
        text: &str,
        place: &str,
        context: Context,
        stage: Stage,
    ) -> Result<String, Skip> {
        self.convert_with(text, place, context, stage, None)
    }

    /// Converts `text` found at `place` with the names `vocabulary` allows (the OAuth 2.0
    /// vocabulary when `None`), recording the values and credentials it uses.
    pub(super) fn convert_with(
        &mut self,
        text: &str,
        place: &str,
        context: Context,
        stage: Stage,
        vocabulary: Option<&Vocabulary>,
    ) -> Result<String, Skip> {
        let converted = match vocabulary {
            Some(vocabulary) => template::convert_with(text, context, vocabulary),
            None => template::convert(text, context),
        };
        let converted = converted.map_err(|error| match error {
            Unconvertible::Interpolation(name) => {
                let feature = match name.split_once('(') {
                    Some((function, _)) => format!("${{{function}(...)}}"),
                    None => format!("${{{name}}}"),
                };
                skip(
                    feature,
                    format!(
                        "{place} uses Nango's `${{{name}}}`, which our format has no value for"
                    ),
                )
            }
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
            Unconvertible::CredentialInPath(name) => skip(
                "credential in a URL host or path",
                format!(
                    "{place} puts credential `{name}` into the URL before its query string; \
                     credentials may reach a request in headers, the query or the body only"
                ),
            ),
            Unconvertible::UnclosedBase64(text) => skip(
                "${base64(...)}",
                format!("{place} is `{text}`, whose `${{base64(` is not closed by `)}}`"),
            ),
        })?;
        let open = match context {
            Context::Url => host_shape::open_values(&converted.text),
            Context::Value | Context::Header => Vec::new(),
        };
        if converted.text.contains(['{', '}']) {
            return Err(skip(
                "literal { or }",
                format!(
                    "{place} is `{text}`; our templates have no literal braces (a JSON or \
                     GraphQL document in a parameter)"
                ),
            ));
        }
        for name in &converted.credentials {
            let places = self.credentials.entry(name.clone()).or_default();
            if !places.iter().any(|p| p == place) {
                places.push(place.to_owned());
            }
        }
        for use_ in &converted.uses {
            let usage = self.by_name.entry(use_.name.clone()).or_default();
            if let Some((_, why)) = open.iter().find(|(name, _)| *name == use_.name) {
                usage.open_in_host = Some(format!("{why} in the host of {place}"));
            }
            usage.positions.push(use_.position);
            usage.in_url |= context == Context::Url;
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

/// The connection parameters and runtime values of the entry.
pub(super) fn connection(
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
                format!(
                    "`{name}` (used in {places}) is not a placeholder name ([A-Za-z_][A-Za-z0-9_]*)"
                ),
            ));
        }
        let declared = config.get(name.as_str()).and_then(Value::as_mapping);
        let attribute = |key: &str| declared.and_then(|d| d.get(key));
        let described = attribute("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .or_else(|| {
                attribute("title")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
            })
            .map(str::to_owned);
        let kind = kind_of(name, usage)?;
        let enumerated = attribute("enum")
            .and_then(Value::as_sequence)
            .is_some_and(|items| !items.is_empty());
        let whole_host_segment = (kind == ValueKind::Segment
            && usage.positions.contains(&PlaceholderPosition::WholeHost))
        .then(|| format!("is a whole host in one place and part of a value in another ({places})"));
        if let Some(open) = usage.open_in_host.as_ref().or(whole_host_segment.as_ref()) {
            if !enumerated || token_metadata.contains(name) || callback_metadata.contains(name) {
                return Err(skip(
                    "connection_config enum",
                    format!(
                        "`{name}` {open}: without a list of allowed values it could move the \
                         request to another domain"
                    ),
                ));
            }
        }
        let runtime_source = if token_metadata.contains(name) {
            Some(RuntimeSource::TokenResponse)
        } else if callback_metadata.contains(name) {
            Some(RuntimeSource::Callback)
        } else {
            None
        };
        if let Some(from) = runtime_source {
            let (field, too_early) = match from {
                RuntimeSource::TokenResponse => ("token_response_metadata", Stage::TokenExchange),
                RuntimeSource::Callback => ("redirect_uri_metadata", Stage::Authorization),
            };
            if usage.earliest.is_some_and(|stage| stage <= too_early) {
                return Err(skip(
                    field,
                    format!(
                        "`{name}` is learnt during the flow but used in {places}, before it is known"
                    ),
                ));
            }
            if usage.fallback.is_some() {
                return Err(skip(
                    "|| fallback",
                    format!("runtime value `{name}` has a fallback in {places}"),
                ));
            }
            let pattern = match attribute("pattern").and_then(Value::as_str) {
                Some(pattern) => Some(rust_pattern(
                    &format!("connection_config.{name}"),
                    pattern,
                    notes,
                )?),
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
                format!(
                    "`{name}` (used in {places}) is filled in by Nango's post-connection script"
                ),
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
            Some(pattern) => rust_pattern(&format!("connection_config.{name}"), pattern, notes)?,
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
                format!(
                    "the fallback `{default}` of `{name}` does not match its pattern `{pattern}`"
                ),
            ));
        }
        let nango_example = attribute("example").and_then(scalar);
        // A URL's host is compared in lowercase, so an example inside a URL is lowercase.
        let fits = |value: &str| {
            matcher.is_match(value)
                && fits_kind(value, kind)
                && (enumeration.is_empty() || enumeration.iter().any(|e| e == value))
                && (!usage.in_url || value.to_ascii_lowercase() == value)
        };
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
        let optional = attribute("optional").and_then(Value::as_bool) == Some(true)
            || usage.fallback.is_some();
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
                allowed: (!enumeration.is_empty()).then_some(enumeration),
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

/// The kind of a value from where it stands in the templates.
fn kind_of(name: &str, usage: &ValueUsage) -> Result<ValueKind, Skip> {
    let all = |p: PlaceholderPosition| usage.positions.iter().all(|&q| q == p);
    if all(PlaceholderPosition::WholeUrl) {
        Ok(ValueKind::Url)
    } else if usage.positions.contains(&PlaceholderPosition::WholeUrl) {
        Err(skip(
            "connection_config key",
            format!(
                "`{name}` is a whole URL in one place and part of a value in another ({})",
                usage.places.join(", ")
            ),
        ))
    } else if all(PlaceholderPosition::WholeHost) {
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

/// Whether `value` is a valid value of `kind` (the pattern aside), so the example chosen passes
/// validation. The kind rules themselves live in `resolve::connection` (private there); this
/// applies the same public host and URL checks, and validating the written file stays the
/// final judge.
fn fits_kind(value: &str, kind: ValueKind) -> bool {
    match kind {
        ValueKind::Segment => !value
            .chars()
            .any(|c| "/?#@:%\\".contains(c) || c.is_whitespace() || c.is_control()),
        ValueKind::Host => dns::check_dns_name(value).is_ok(),
        ValueKind::Url => plain_url::check_url_text(value, UrlRole::Endpoint).is_ok(),
    }
}

/// Nango's (JavaScript) pattern as a Rust `regex` pattern anchored with `^` and `$`.
/// Look-around has no Rust equivalent: a leading negative look-ahead (Salesforce's "not a
/// Lightning domain") is dropped and said so; any other look-around stops the import.
pub(super) fn rust_pattern(
    place: &str,
    pattern: &str,
    notes: &mut Vec<String>,
) -> Result<String, Skip> {
    let mut pattern = pattern.to_owned();
    let look_ahead = pattern
        .strip_prefix("^(?!")
        .and_then(|rest| closing_parenthesis(rest).map(|end| (rest, end)));
    if let Some((rest, end)) = look_ahead {
        notes.push(format!(
            "{place}.pattern: the negative look-ahead `(?!{}` is dropped (Rust regular \
             expressions have no look-around)",
            &rest[..=end]
        ));
        pattern = format!("^{}", &rest[end + 1..]);
    }
    if !pattern.starts_with('^') || !pattern.ends_with('$') {
        notes.push(format!(
            "{place}.pattern: anchored as `^(?:...)$` (Nango tests it unanchored)"
        ));
        pattern = format!("^(?:{pattern})$");
    }
    if let Err(error) = regex::Regex::new(&pattern) {
        let section = place.split('.').next().unwrap_or(place);
        return Err(skip(
            format!("{section} pattern"),
            format!("the pattern of `{place}` is not a Rust regular expression: {error}"),
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
        let pattern = rust_pattern(
            "connection_config.hostname",
            r"^(?!(?:.*\.)?x\.com$)[a-z.]+$",
            &mut notes,
        )
        .unwrap();
        assert_eq!(pattern, "^[a-z.]+$");
        assert!(notes[0].contains("(?!(?:.*\\.)?x\\.com$)"), "{notes:?}");
    }

    #[test]
    fn an_unanchored_pattern_is_anchored() {
        let mut notes = Vec::new();
        assert_eq!(
            rust_pattern("connection_config.v", "[0-9]+", &mut notes).unwrap(),
            "^(?:[0-9]+)$"
        );
        assert_eq!(notes.len(), 1);
    }
}
