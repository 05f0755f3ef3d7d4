//! The minijinja environment: the built-in templates (embedded in the binary) and a user's own
//! template, with the filters they share.
//!
//! Templates see the resolved table only (`provider`, and for the `nango` template the
//! [`crate::nango::export::RenderedNangoEntry`] view as `nango`), so they print URLs and never build them.
//!
//! A template is a program, and a user's may be hostile or just wrong: every render runs
//! under minijinja's fuel limit ([`FUEL`] steps) and writes into a buffer that stops at
//! [`MAX_OUTPUT_BYTES`], so no template loops for minutes or fills memory with output. Each
//! filter escapes for the format it serves (dotenv, Markdown, YAML/JSON, comments), whatever
//! the text holds.

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

/// Steps one render may take (minijinja's fuel). The built-in templates use a few thousand for
/// a large provider; a template that needs millions is looping out of control.
pub const FUEL: u64 = 5_000_000;
/// Largest output one render may produce: 16 MiB, hundreds of times any real config.
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;
/// Largest `--template` file read: 4 MiB, as for a definition; checked before reading.
pub const MAX_TEMPLATE_BYTES: usize = 4 * 1024 * 1024;

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
    /// The bytes of the template source the error is about, when minijinja knows them: the
    /// CLI shows that part of the template underlined.
    pub range: Option<std::ops::Range<usize>>,
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
            range: error.range(),
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
        env.add_filter("scalar", scalar);
        env.add_filter("dotenv", dotenv);
        env.add_filter("env_key", env_key);
        env.add_filter("md", markdown_cell);
        env.add_filter("md_code", markdown_code);
        env.add_filter("comment", comment);
        env.set_fuel(Some(FUEL));
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
        nango: Option<&crate::nango::export::RenderedNangoEntry>,
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
        let mut output = LimitedOutput::default();
        let rendered = template.render_captured_to(ctx, &mut output).map(drop);
        if output.overflowed {
            return Err(TemplateError {
                file: fallback,
                line: None,
                range: None,
                message: format!(
                    "the output passed {MAX_OUTPUT_BYTES} bytes; the template stopped (does it loop?)"
                ),
            });
        }
        if let Err(error) = rendered {
            let out_of_fuel = error.kind() == minijinja::ErrorKind::OutOfFuel;
            let mut error = TemplateError::from_minijinja(&error, &fallback);
            if out_of_fuel {
                error.message = format!(
                    "the template took more than {FUEL} steps and was stopped (does it loop too much?)"
                );
            }
            return Err(error);
        }
        let mut text = String::from_utf8(output.bytes).map_err(|_| TemplateError {
            file: fallback.clone(),
            line: None,
            range: None,
            message: "the output is not UTF-8".to_owned(),
        })?;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(text)
    }
}

/// The render buffer: refuses bytes past [`MAX_OUTPUT_BYTES`] (minijinja then stops with a
/// write error, and `overflowed` says why).
#[derive(Default)]
struct LimitedOutput {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for LimitedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Characters no output may carry raw: control characters (C0, DEL, C1) and the Unicode line
/// and paragraph separators that some readers (YAML 1.1, JavaScript) take as line breaks.
fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// `quoted`: a double-quoted string that is valid JSON and valid YAML (any text, safely):
/// JSON escaping, plus `\uXXXX` for the characters JSON leaves raw but YAML forbids or reads
/// as line breaks (DEL, C1 controls, U+2028, U+2029, U+FEFF).
pub(super) fn quoted(value: String) -> String {
    let json = serde_json::to_string(&value).expect("a string always serializes");
    let mut text = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe_char(c) {
            text.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            text.push(c);
        }
    }
    text
}

/// `scalar`: a boolean or a number as YAML writes it bare, any other value as [`quoted`] text.
fn scalar(value: Value) -> String {
    match value.kind() {
        // YAML's lowercase spelling, not Jinja's `True`.
        minijinja::value::ValueKind::Bool => value.is_true().to_string(),
        minijinja::value::ValueKind::Number => value.to_string(),
        _ => quoted(value.to_string()),
    }
}

/// `dotenv`: a dotenv value, bare when it is made of URL-safe characters, otherwise single
/// quoted (single quotes are literal in sh and dotenv). A value a single-quoted string cannot
/// hold safely (a quote, a backslash, a control character) is refused, not mangled.
fn dotenv(value: String) -> Result<String, minijinja::Error> {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?&=%+,@".contains(c));
    if bare {
        return Ok(value);
    }
    if value.contains(['\'', '\\']) || value.chars().any(is_unsafe_char) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "cannot write {value:?} as a dotenv value (it has a quote, a backslash or a control character)"
            ),
        ));
    }
    Ok(format!("'{value}'"))
}

/// `env_key`: an environment-variable name (`zoho-crm` → `ZOHO_CRM`).
fn env_key(value: String) -> String {
    crate::env_var::env_var_name(&value)
}

/// `comment`: text for the rest of a `#` comment line: control characters (a newline would
/// end the comment and start a live line) are shown escaped instead.
fn comment(value: String) -> String {
    let mut text = String::with_capacity(value.len());
    for c in value.chars() {
        if is_unsafe_char(c) {
            text.extend(c.escape_default());
        } else {
            text.push(c);
        }
    }
    text
}

/// `md`: text safe inside a Markdown table cell or heading: no raw HTML, links, code spans,
/// cell breaks or line breaks (backslashes, backticks, `|`, `<`, `>`, `[` and `]` are
/// backslash-escaped; control characters become spaces).
fn markdown_cell(value: String) -> String {
    let mut text = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '`' | '|' | '<' | '>' | '[' | ']' => {
                text.push('\\');
                text.push(c);
            }
            c if is_unsafe_char(c) => text.push(' '),
            c => text.push(c),
        }
    }
    text
}

/// `md_code`: a Markdown code span showing the text literally, fenced with more backticks
/// than it contains; pipes are escaped so a table cell does not split (GFM).
fn markdown_code(value: String) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in value.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let inner: String = value
        .chars()
        .map(|c| if is_unsafe_char(c) { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    let pad = if longest > 0 || inner.starts_with('`') || inner.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{inner}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_written_as_yaml_spells_them() {
        assert_eq!(scalar(Value::from(false)), "false");
        assert_eq!(scalar(Value::from(true)), "true");
        assert_eq!(scalar(Value::from(3)), "3");
        assert_eq!(scalar(Value::from("false")), "\"false\"");
    }

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
    fn markdown_cells_cannot_carry_html_links_or_code() {
        assert_eq!(
            markdown_cell("<img src=x>[a](b)`c`\\".into()),
            "\\<img src=x\\>\\[a\\](b)\\`c\\`\\\\"
        );
    }

    #[test]
    fn markdown_code_spans_hold_backticks_and_pipes() {
        assert_eq!(markdown_code("a.b".into()), "`a.b`");
        assert_eq!(markdown_code("a`b".into()), "`` a`b ``");
        assert_eq!(markdown_code("a|b\n".into()), "`a\\|b `");
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(
            comment("Zoho\nX_A_TOKEN_URL=http://evil.example".into()),
            "Zoho\\nX_A_TOKEN_URL=http://evil.example"
        );
    }

    #[test]
    fn dotenv_refuses_what_single_quotes_cannot_hold() {
        for bad in ["a\\b c", "a\tb", "a\u{2028}b", "a\rb"] {
            assert!(dotenv(bad.into()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quoted_strings_escape_what_yaml_reads_as_line_breaks() {
        assert_eq!(
            quoted("a\u{2028}b\u{85}c\u{7f}".into()),
            r#""a\u2028b\u0085c\u007f""#
        );
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&quoted("a\u{2028}b\u{85}".into())).unwrap();
        assert_eq!(yaml.as_str(), Some("a\u{2028}b\u{85}"));
    }

    #[test]
    fn quoted_strings_are_json_strings() {
        assert_eq!(quoted("say \"hi\"".into()), r#""say \"hi\"""#);
    }
}
