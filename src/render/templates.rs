//! The minijinja environment: the built-in templates (embedded in the binary) and a user's own
//! template, with the filters they share.
//!
//! Templates see the resolved table only (`provider`, and for the `nango` template the
//! [`super::nango::NangoEntry`] view as `nango`), so they print URLs and never build them.

use std::path::Path;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};

use crate::resolve::table::ResolvedProvider;

/// Name of the built-in Nango template.
pub const NANGO: &str = "nango";
/// Name of the built-in Markdown template.
pub const MARKDOWN: &str = "markdown";
/// Name of the built-in dotenv template.
pub const ENV: &str = "env";

const BUILT_IN: [(&str, &str); 3] = [
    (NANGO, include_str!("templates/nango.yaml.j2")),
    (MARKDOWN, include_str!("templates/markdown.md.j2")),
    (ENV, include_str!("templates/env.j2")),
];

/// A template that failed to compile or to render, placed at its file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: error: {message}", location(file, *line))]
pub struct TemplateError {
    /// The template file (or `built-in template NAME`).
    pub file: String,
    /// The line in that file, when minijinja knows it.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
}

fn location(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    }
}

impl TemplateError {
    fn from_minijinja(error: &minijinja::Error, fallback_name: &str) -> Self {
        let mut message = error.kind().to_string();
        if let Some(detail) = error.detail() {
            message.push_str(": ");
            message.push_str(detail);
        }
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        TemplateError {
            file: error.name().unwrap_or(fallback_name).to_owned(),
            line: error.line(),
            message,
        }
    }
}

/// The templates a render run can use.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// The built-in templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Outputs are YAML, Markdown and dotenv, not HTML: values are quoted by the filters
        // below where a format needs it, never by file-extension guessing.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // A misspelt variable is an error naming the line, not an empty string in a config.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.add_filter("quoted", quoted);
        env.add_filter("dotenv", dotenv);
        env.add_filter("env_key", env_key);
        env.add_filter("md", markdown_cell);
        for (name, source) in BUILT_IN {
            env.add_template(name, source)
                .expect("built-in templates compile (tested)");
        }
        Templates { env }
    }

    /// Adds a user's template, named by its path so errors point at the file.
    pub fn add_user_template(
        &mut self,
        path: &Path,
        source: String,
    ) -> Result<String, TemplateError> {
        let name = path.display().to_string();
        self.env
            .add_template_owned(name.clone(), source)
            .map_err(|error| TemplateError::from_minijinja(&error, &name))?;
        Ok(name)
    }

    /// Renders template `name` for one provider, with `extra` as the `nango` variable.
    pub fn render(
        &self,
        name: &str,
        provider: &ResolvedProvider,
        nango: Option<&super::nango::NangoEntry>,
    ) -> Result<String, TemplateError> {
        let fallback = if BUILT_IN.iter().any(|(n, _)| *n == name) {
            format!("built-in template {name}")
        } else {
            name.to_owned()
        };
        let template = self
            .env
            .get_template(name)
            .map_err(|error| TemplateError::from_minijinja(&error, &fallback))?;
        let ctx = match nango {
            Some(nango) => context! {
                provider => Value::from(Serde(provider)),
                nango => Value::from(Serde(nango)),
            },
            None => context! { provider => Value::from(Serde(provider)) },
        };
        let mut text = template
            .render(ctx)
            .map_err(|error| TemplateError::from_minijinja(&error, &fallback))?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }
}

/// `quoted`: a double-quoted string that is valid JSON and valid YAML (any text, safely).
fn quoted(value: String) -> String {
    serde_json::to_string(&value).expect("a string always serializes")
}

/// `dotenv`: a dotenv value, bare when it is made of URL-safe characters, otherwise single
/// quoted (dotenv single quotes are literal; a single quote inside is refused).
fn dotenv(value: String) -> Result<String, minijinja::Error> {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?&=%+,@".contains(c));
    if bare {
        return Ok(value);
    }
    if value.contains('\'') || value.contains('\n') {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("cannot write {value:?} as a dotenv value (it has a quote or a newline)"),
        ));
    }
    Ok(format!("'{value}'"))
}

/// `env_key`: an environment-variable name (`zoho-crm` → `ZOHO_CRM`).
fn env_key(value: String) -> String {
    crate::env_var::env_var_name(&value)
}

/// `md`: text safe inside a Markdown table cell (pipes escaped, line breaks as spaces).
fn markdown_cell(value: String) -> String {
    value.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_values_are_bare_when_safe_and_quoted_otherwise() {
        assert_eq!(
            dotenv("https://accounts.zoho.eu/oauth/v2/token".into()).unwrap(),
            "https://accounts.zoho.eu/oauth/v2/token"
        );
        assert_eq!(dotenv("a b#c".into()).unwrap(), "'a b#c'");
        assert_eq!(dotenv(String::new()).unwrap(), "''");
        assert!(dotenv("it's".into()).is_err());
    }

    #[test]
    fn env_keys_are_upper_snake_case() {
        assert_eq!(env_key("zoho-crm_eu".into()), "ZOHO_CRM_EU");
    }

    #[test]
    fn markdown_cells_escape_pipes_and_newlines() {
        assert_eq!(markdown_cell("a|b\nc".into()), "a\\|b c");
    }

    #[test]
    fn quoted_strings_are_json_strings() {
        assert_eq!(quoted("say \"hi\"".into()), r#""say \"hi\"""#);
    }
}
