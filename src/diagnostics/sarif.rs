//! The SARIF 2.1.0 view of diagnostics (`validate --format sarif`), for code-scanning
//! annotations (GitHub code scanning, IDE SARIF viewers). It shows the same [`Diagnostic`]s
//! as the text and JSON views: one result per diagnostic, its primary range as the location
//! and its labels as related locations.
//!
//! Columns are counted in Unicode characters, as everywhere in this crate, so the run declares
//! `columnKind: unicodeCodePoints`; end columns are exclusive, as SARIF's are.

use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::{Diagnostic, Label};

/// The one rule every result refers to: an invalid provider definition.
const RULE_ID: &str = "invalid-definition";

/// Characters kept as they are in a relative URI path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A SARIF 2.1.0 log with one run holding `diagnostics` as results.
pub fn log(diagnostics: &[Diagnostic]) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "provider-forge",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [{
                    "id": RULE_ID,
                    "shortDescription": {"text": "Invalid provider definition"},
                    "fullDescription": {"text": "A provider definition or data-center set \
                        that fails YAML syntax, the JSON Schema, or a semantic rule."},
                    "defaultConfiguration": {"level": "error"},
                }],
            }},
            "columnKind": "unicodeCodePoints",
            "results": diagnostics.iter().map(result).collect::<Vec<_>>(),
        }],
    })
}

fn result(diagnostic: &Diagnostic) -> Value {
    let mut text = format!("{} (at {})", diagnostic.message, diagnostic.path);
    if let Some(hint) = &diagnostic.hint {
        text.push_str("\nhelp: ");
        text.push_str(hint);
    }
    let mut result = json!({
        "ruleId": RULE_ID,
        "level": diagnostic.severity,
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical(
                &diagnostic.file,
                (diagnostic.line, diagnostic.column),
                (diagnostic.end_line, diagnostic.end_column),
            ),
            "logicalLocations": [{"fullyQualifiedName": diagnostic.path}],
        }],
    });
    if !diagnostic.labels.is_empty() {
        result["relatedLocations"] = diagnostic
            .labels
            .iter()
            .enumerate()
            .map(|(id, label)| related(id, label))
            .collect();
    }
    result
}

fn related(id: usize, label: &Label) -> Value {
    json!({
        "id": id,
        "physicalLocation": physical(
            &label.file,
            (label.line, label.column),
            (label.end_line, label.end_column),
        ),
        "logicalLocations": [{"fullyQualifiedName": label.path}],
        "message": {"text": label.message},
    })
}

fn physical(file: &Path, start: (usize, usize), end: (usize, usize)) -> Value {
    json!({
        "artifactLocation": {"uri": uri(file)},
        "region": {
            "startLine": start.0,
            "startColumn": start.1,
            "endLine": end.0,
            "endColumn": end.1,
        },
    })
}

/// The file as a URI reference: a relative path stays relative (resolved against the
/// repository by code scanning), an absolute one becomes a `file:` URL.
fn uri(file: &Path) -> String {
    if file.is_absolute()
        && let Ok(url) = url::Url::from_file_path(file)
    {
        return url.to_string();
    }
    file.to_string_lossy()
        .split(['/', std::path::MAIN_SEPARATOR])
        .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_relative_and_are_percent_encoded() {
        assert_eq!(
            uri(Path::new("providers/zoho crm#1.yaml")),
            "providers/zoho%20crm%231.yaml"
        );
        assert_eq!(uri(Path::new("/tmp/a b.yaml")), "file:///tmp/a%20b.yaml");
    }
}
