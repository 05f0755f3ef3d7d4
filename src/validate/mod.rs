//! Validation of one file: YAML syntax, then the JSON Schema, then the semantic rules (which
//! are resolution itself, see [`crate::resolve`]). Every problem becomes a [`Diagnostic`] that
//! names the file, line, column and path inside the document.

mod pattern_message;
pub(crate) mod schema_check;

use std::path::Path;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::definition::document::{self, Document, SyntaxCause, SyntaxError};
use crate::definition::types::{DataCenterSet, ProviderDefinition};
use crate::diagnostics::{Anchor, Diagnostic, Kind, Locator};
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
    /// placeholder pattern, keys the format does not have, values of optional fields it
    /// refuses). When there are any the file is invalid, but it was still read (without the
    /// unknown keys and refused values) so the semantic checks can report its other mistakes in
    /// the same run.
    pub refused: Vec<Diagnostic>,
}

impl<T> Checked<T> {
    /// A locator for problems in this file.
    pub fn locator<'a>(&'a self, file: &'a Path) -> Locator<'a> {
        Locator {
            file,
            value: self.document.value(),
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
            Kind::SetName,
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
    let syntax = |errors: Vec<SyntaxError>| -> Vec<Diagnostic> {
        errors
            .into_iter()
            .map(|error| Diagnostic::syntax(file, error))
            .collect()
    };
    let errors = match document::parse(text) {
        Ok(document) => return check_document(file, document, checker),
        Err(errors) => errors,
    };
    // A key being typed (a line without `: value`) is the only mistake in the YAML: read the
    // document without that line, so its schema and semantic problems are reported with it
    // and the half-typed key hides none of them.
    let Some(document) = without_key_line(text, &errors) else {
        return Err(syntax(errors));
    };
    let mut found = syntax(errors);
    match check_document::<T>(file, document, checker) {
        Ok(mut checked) => {
            found.append(&mut checked.refused);
            Diagnostic::sort(&mut found);
            checked.refused = found;
            Ok(checked)
        }
        Err(mut diagnostics) => {
            found.append(&mut diagnostics);
            Diagnostic::sort(&mut found);
            Err(found)
        }
    }
}

/// The document `text` is with the line of its one syntax error blanked, when that error is a
/// key without `: value`. The line's bytes become spaces, so every other position stays.
fn without_key_line(text: &str, errors: &[SyntaxError]) -> Option<Document> {
    let [error] = errors else {
        return None;
    };
    if error.cause != SyntaxCause::KeyWithoutValue {
        return None;
    }
    let at = error.region.span.start.min(text.len());
    let start = text[..at].rfind(['\n', '\r']).map_or(0, |cut| cut + 1);
    let end = text[at..]
        .find(['\n', '\r'])
        .map_or(text.len(), |cut| at + cut);
    let blanked = format!(
        "{}{}{}",
        &text[..start],
        " ".repeat(end - start),
        &text[end..]
    );
    document::parse(&blanked).ok()
}

/// The schema check of a parsed document, and its content.
fn check_document<T: DeserializeOwned>(
    file: &Path,
    document: Document,
    checker: &SchemaChecker,
) -> Result<Checked<T>, Vec<Diagnostic>> {
    // Most documents are valid, and the check of the tree says so without building the
    // document's value; the value and the explained violations are only for the others.
    let mut diagnostics = if checker.is_valid(&document) {
        Vec::new()
    } else {
        checker.check(&Locator {
            file,
            value: document.value(),
            map: &document.map,
        })
    };
    if !diagnostics.is_empty() {
        Diagnostic::sort(&mut diagnostics);
        // A value breaking a pattern leaves the shape intact: read the document anyway, so the
        // semantic checks also report the file's other mistakes (one run, every error).
        if checker.only_patterns(document.value())
            && let Ok(content) = document.deserialize::<T>()
        {
            return Ok(Checked {
                content,
                document,
                refused: diagnostics,
            });
        }
        // The same for unknown keys (a misspelt or half-typed one) and refused values: the rest
        // of the document is read without them, so a schema error never hides the semantic ones.
        if let Some(readable) = checker.readable_part(document.value())
            && let Ok(content) = T::deserialize(readable)
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
    // from the document in place: it is kept beside the content, so no copy of it.
    let content = document.deserialize::<T>().map_err(|error| {
        vec![Diagnostic::file_level(
            Kind::InternalError,
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

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::*;

    /// Every YAML file of the bundled providers, the test corpus and the fixtures.
    fn files() -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|ext| ext == "yaml") {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        for dir in ["providers", "tests/corpus", "tests/fixtures"] {
            walk(Path::new(dir), &mut out);
        }
        out.sort();
        out
    }

    /// What the two readings of one document gave.
    #[derive(Default)]
    struct Seen {
        valid: usize,
        invalid: usize,
    }

    /// The schema check and serde give the same answers reading the tree as reading the value.
    fn same_either_way<T>(text: &str, checker: &SchemaChecker, seen: &mut Seen, what: &str)
    where
        T: for<'de> Deserialize<'de> + PartialEq + Debug,
    {
        let Ok(document) = document::parse(text) else {
            return;
        };
        let valid = checker.is_valid(&document);
        assert_eq!(
            valid,
            checker.validator().is_valid(document.value()),
            "schema check of {what}"
        );
        if valid {
            seen.valid += 1;
        } else {
            seen.invalid += 1;
        }
        let from_tree = T::deserialize(document.root()).map_err(|error| error.to_string());
        let from_value = T::deserialize(document.value()).map_err(|error| error.to_string());
        assert_eq!(from_tree, from_value, "serde reading {what}");
    }

    #[test]
    fn the_tree_reads_as_the_value_does_for_every_file_and_every_line_left_out() {
        let mut seen = Seen::default();
        let files = files();
        assert!(files.len() > 100, "found {} files", files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let is_set = path
                .parent()
                .is_some_and(|dir| dir.ends_with("data-centers"));
            let lines: Vec<&str> = text.lines().collect();
            // The file as written, then with each line left out in turn: most of those break
            // the schema in a different place, or read as another shape.
            let variants = std::iter::once(text.clone()).chain((0..lines.len()).map(|cut| {
                let mut kept = lines.clone();
                kept.remove(cut);
                kept.join("\n")
            }));
            for (index, variant) in variants.enumerate() {
                let what = format!("{} variant {index}", path.display());
                if is_set {
                    same_either_way::<DataCenterSet>(&variant, set_checker(), &mut seen, &what);
                } else {
                    same_either_way::<ProviderDefinition>(
                        &variant,
                        provider_checker(),
                        &mut seen,
                        &what,
                    );
                }
            }
        }
        // Both answers were exercised, many times over.
        assert!(
            seen.valid > 500 && seen.invalid > 500,
            "{} valid, {} invalid",
            seen.valid,
            seen.invalid
        );
    }
}
