//! `<name>` placeholders in URL templates.
//!
//! A template such as `https://<accounts_host>/oauth/v2/auth` is expanded per data center. A
//! placeholder's value may itself contain placeholders (`accounts_host: accounts.zoho.<dc>`),
//! which is what lets one default serve eight data centers and one explicit value serve Canada.

use indexmap::IndexMap;

/// Longest chain of placeholders expanding into placeholders. Deeper is a cycle or a mistake.
const MAX_EXPANSION_DEPTH: usize = 16;

/// Why a template could not be expanded for one data center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `<` without a well-formed `name>` after it.
    Malformed { at: usize },
    /// A placeholder with no value for this data center and no default.
    Missing { name: String },
    /// Placeholders that expand into each other.
    Cycle { chain: Vec<String> },
}

/// The placeholder values in force for one data center: its own values first, then defaults.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Values given for this data center (its own, then overrides applied).
    pub values: &'a IndexMap<String, String>,
    /// Defaults shared by every data center.
    pub defaults: &'a IndexMap<String, String>,
}

impl Scope<'_> {
    fn lookup(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .or_else(|| self.defaults.get(name))
            .map(String::as_str)
    }
}

/// The placeholder names a template uses, in order of appearance, or where it is malformed.
pub fn placeholders(template: &str) -> Result<Vec<&str>, TemplateError> {
    let mut names = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after
            .find('>')
            .ok_or(TemplateError::Malformed { at: offset + open })?;
        let name = &after[..close];
        if !is_placeholder_name(name) {
            return Err(TemplateError::Malformed { at: offset + open });
        }
        names.push(name);
        let consumed = open + 1 + close + 1;
        rest = &rest[consumed..];
        offset += consumed;
    }
    Ok(names)
}

/// Placeholder names are identifiers: `dc`, `accounts_host`, `mail_host`.
pub fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Expands every placeholder of `template` for one data center.
pub fn expand(template: &str, scope: Scope<'_>) -> Result<String, TemplateError> {
    expand_with_chain(template, scope, &mut Vec::new())
}

fn expand_with_chain(
    template: &str,
    scope: Scope<'_>,
    chain: &mut Vec<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    for name in placeholders(template)? {
        let marker = format!("<{name}>");
        let at = rest.find(&marker).expect("placeholders() found it");
        out.push_str(&rest[..at]);
        rest = &rest[at + marker.len()..];
        if chain.iter().any(|seen| seen == name) || chain.len() >= MAX_EXPANSION_DEPTH {
            let mut cycle = chain.clone();
            cycle.push(name.to_owned());
            return Err(TemplateError::Cycle { chain: cycle });
        }
        let value = scope.lookup(name).ok_or_else(|| TemplateError::Missing {
            name: name.to_owned(),
        })?;
        chain.push(name.to_owned());
        out.push_str(&expand_with_chain(value, scope, chain)?);
        chain.pop();
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expands_nested_placeholders_with_dc_values_first() {
        let defaults = map(&[("accounts_host", "accounts.zoho.<dc>")]);
        let eu = map(&[("dc", "eu")]);
        let ca = map(&[("dc", "ca"), ("accounts_host", "accounts.zohocloud.ca")]);
        let template = "https://<accounts_host>/oauth/v2/token";
        let scope = |values| Scope {
            values,
            defaults: &defaults,
        };
        assert_eq!(
            expand(template, scope(&eu)).unwrap(),
            "https://accounts.zoho.eu/oauth/v2/token"
        );
        assert_eq!(
            expand(template, scope(&ca)).unwrap(),
            "https://accounts.zohocloud.ca/oauth/v2/token"
        );
    }

    #[test]
    fn names_the_missing_placeholder() {
        let empty = IndexMap::new();
        let err = expand(
            "https://www.zohoapis.<dc>",
            Scope {
                values: &empty,
                defaults: &empty,
            },
        )
        .unwrap_err();
        assert_eq!(err, TemplateError::Missing { name: "dc".into() });
    }

    #[test]
    fn detects_cycles() {
        let defaults = map(&[("a", "<b>"), ("b", "x.<a>")]);
        let empty = IndexMap::new();
        let err = expand(
            "https://<a>",
            Scope {
                values: &empty,
                defaults: &defaults,
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            TemplateError::Cycle {
                chain: vec!["a".into(), "b".into(), "a".into()]
            }
        );
    }

    #[test]
    fn rejects_malformed_placeholders() {
        assert_eq!(
            placeholders("https://x.<dc/y"),
            Err(TemplateError::Malformed { at: 10 })
        );
        assert_eq!(
            placeholders("https://x.<Bad Name>/"),
            Err(TemplateError::Malformed { at: 10 })
        );
        assert_eq!(placeholders("https://<a>.<b>/"), Ok(vec!["a", "b"]));
    }
}
