//! Validation of one file: YAML syntax, then the JSON Schema, then the semantic rules (which
//! are resolution itself, see [`crate::resolve`]). Every problem becomes a [`Diagnostic`] that
//! names the file, line, column and path inside the document.

pub(crate) mod schema_check;

use std::path::Path;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::definition::document::{self, Document};
use crate::definition::types::{DataCenterSet, ProviderDefinition};
use crate::diagnostics::{Anchor, Diagnostic, Locator};
use crate::schema;
use schema_check::SchemaChecker;

/// A file that passed the YAML and schema checks, with its typed content and its source map.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    /// The typed content.
    pub content: T,
    /// The parsed document, kept to place later (semantic) problems.
    pub document: Document,
    /// Schema violations that leave the document's shape intact (values breaking a URL or
    /// placeholder pattern). When there are any the file is invalid, but it was still read so
    /// the semantic checks can report its other mistakes in the same run.
    pub refused: Vec<Diagnostic>,
}

impl<T> Checked<T> {
    /// A locator for problems in this file.
    pub fn locator<'a>(&'a self, file: &'a Path) -> Locator<'a> {
        Locator {
            file,
            value: &self.document.value,
            map: &self.document.map,
        }
    }
}

fn provider_checker() -> &'static SchemaChecker {
    static CHECKER: OnceLock<SchemaChecker> = OnceLock::new();
    CHECKER.get_or_init(|| SchemaChecker::new(schema::provider_schema()))
}

fn set_checker() -> &'static SchemaChecker {
    static CHECKER: OnceLock<SchemaChecker> = OnceLock::new();
    CHECKER.get_or_init(|| SchemaChecker::new(schema::data_center_set_schema()))
}

/// Parses and schema-checks a provider definition.
pub fn check_provider(
    file: &Path,
    text: &str,
) -> Result<Checked<ProviderDefinition>, Vec<Diagnostic>> {
    check(file, text, provider_checker())
}

/// Parses and schema-checks a shared data-center set, including that its name matches its file.
pub fn check_data_center_set(
    file: &Path,
    text: &str,
) -> Result<Checked<DataCenterSet>, Vec<Diagnostic>> {
    let checked = check::<DataCenterSet>(file, text, set_checker())?;
    if !checked.refused.is_empty() {
        return Err(checked.refused);
    }
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if checked.content.name != stem {
        return Err(vec![checked.locator(file).diagnostic(
            "/name",
            Anchor::Value,
            format!(
                "set name `{}` does not match its file name `{stem}`",
                checked.content.name
            ),
            Some(format!(
                "providers find the set by file name: rename the set to `{stem}` or the file"
            )),
        )]);
    }
    Ok(checked)
}

fn check<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    checker: &SchemaChecker,
) -> Result<Checked<T>, Vec<Diagnostic>> {
    let document = document::parse(text).map_err(|errors| {
        errors
            .into_iter()
            .map(|error| Diagnostic::syntax(file, error))
            .collect::<Vec<_>>()
    })?;
    let locator = Locator {
        file,
        value: &document.value,
        map: &document.map,
    };
    let mut diagnostics = checker.check(&locator);
    if !diagnostics.is_empty() {
        Diagnostic::sort(&mut diagnostics);
        // A value breaking a pattern leaves the shape intact: read the document anyway, so the
        // semantic checks also report the file's other mistakes (one run, every error).
        if checker.only_patterns(&document.value)
            && let Ok(content) = T::deserialize(&document.value)
        {
            return Ok(Checked {
                content,
                document,
                refused: diagnostics,
            });
        }
        return Err(diagnostics);
    }
    // The schema is generated from the same types, so this only fails if they disagree. Read
    // from the value in place: the document is kept beside the content, so no copy of it.
    let content = T::deserialize(&document.value).map_err(|error| {
        vec![Diagnostic::file_level(
            file,
            format!("the document passed the schema but could not be read: {error}"),
            Some("this is a provider-forge bug; please report it with the file".into()),
        )]
    })?;
    Ok(Checked {
        content,
        document,
        refused: Vec::new(),
    })
}
