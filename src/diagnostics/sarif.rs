//! The SARIF 2.1.0 view of diagnostics (`validate --format sarif`), for code-scanning
//! annotations (GitHub code scanning, IDE SARIF viewers). It shows the same [`Diagnostic`]s
//! as the text and JSON views: one result per diagnostic, its primary range as the location
//! and its labels as related locations.
//!
//! Columns are counted in Unicode characters, as everywhere in this crate, so the run declares
//! `columnKind: unicodeCodePoints`; end columns are exclusive, as SARIF's are.
//!
//! For GitHub code scanning: the rule carries `help` (text and Markdown), relative file URIs
//! name the `%SRCROOT%` base (the working directory, declared in `originalUriBaseIds`), and
//! each result has a `partialFingerprints` entry made of the rule, the file, the place in the
//! document and the message, never line numbers, so an edit elsewhere in the file does not
//! make the same problem a new alert.

use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::{Diagnostic, Label};

/// The one rule every result refers to: an invalid provider definition.
const RULE_ID: &str = "invalid-definition";

/// The base relative URIs are resolved against: the repository root, where `validate` runs.
const SOURCE_ROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key; the suffix changes whenever what is hashed changes.
const FINGERPRINT: &str = "providerForgeProblem/v1";

/// How to read and fix a result, shown by code scanning beside the alert.
const HELP_TEXT: &str = "provider-forge validate found a problem in a provider definition or \
    data-center set: YAML syntax, the JSON Schema (schemas/provider.schema.json), or a semantic \
    rule (duplicate codes or scopes, placeholders without a value, endpoints that do not fit \
    the data centers). The message names the place in the document and, when a fix is known, \
    how to fix it; related locations show the other places involved. Run `provider-forge \
    validate FILE` locally for the same report with source snippets; docs/validate.md \
    describes every check.";

const HELP_MARKDOWN: &str = "`provider-forge validate` found a problem in a provider \
    definition or data-center set: YAML syntax, the JSON Schema \
    (`schemas/provider.schema.json`), or a semantic rule (duplicate codes or scopes, \
    placeholders without a value, endpoints that do not fit the data centers).\n\n\
    The message names the place in the document (`at PATH`) and, when a fix is known, how to \
    fix it (`help:`); related locations show the other places involved. Run \
    `provider-forge validate FILE` locally for the same report with source snippets; \
    `docs/validate.md` in the repository describes every check.";

/// Characters kept as they are in a relative URI path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A SARIF 2.1.0 log with one run holding `diagnostics` as results.
pub(crate) fn log(diagnostics: &[Diagnostic]) -> Value {
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
                    "help": {"text": HELP_TEXT, "markdown": HELP_MARKDOWN},
                    "defaultConfiguration": {"level": "error"},
                }],
            }},
            "originalUriBaseIds": source_root(),
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
        "level": diagnostic.severity.as_str(),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical(
                &diagnostic.file,
                (diagnostic.region.start.line, diagnostic.region.start.column),
                (diagnostic.region.end.line, diagnostic.region.end.column),
            ),
            "logicalLocations": [{"fullyQualifiedName": diagnostic.path}],
        }],
        "partialFingerprints": {FINGERPRINT: fingerprint(diagnostic)},
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
            (label.region.start.line, label.region.start.column),
            (label.region.end.line, label.region.end.column),
        ),
        "logicalLocations": [{"fullyQualifiedName": label.path}],
        "message": {"text": label.message},
    })
}

/// `%SRCROOT%` as the working directory's `file:` URL (with the trailing slash a base needs);
/// empty when the directory is unknown, and code scanning then uses the checkout.
fn source_root() -> Value {
    let root = std::env::current_dir()
        .ok()
        .and_then(|dir| url::Url::from_directory_path(dir).ok());
    match root {
        Some(url) => json!({SOURCE_ROOT: {"uri": url.to_string()}}),
        None => json!({}),
    }
}

/// FNV-1a (64 bits) of the rule, the file, the document path and the message, each ended by a
/// zero byte: stable across builds and platforms, unlike the standard library's hasher.
fn fingerprint(diagnostic: &Diagnostic) -> String {
    let file = uri(&diagnostic.file);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [RULE_ID, &file, &diagnostic.path, &diagnostic.message] {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn physical(file: &Path, start: (usize, usize), end: (usize, usize)) -> Value {
    let uri = uri(file);
    let location = if uri.starts_with("file:") {
        json!({"uri": uri})
    } else {
        json!({"uri": uri, "uriBaseId": SOURCE_ROOT})
    };
    json!({
        "artifactLocation": location,
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

    fn problem(line: usize) -> Diagnostic {
        let mut diagnostic = Diagnostic::file_level(
            Path::new("providers/zoho.yaml"),
            "duplicate scope `ZohoCRM.users.READ`",
            None,
        );
        diagnostic.path = "scopes.catalog[3].name".to_owned();
        diagnostic.region.start.line = line;
        diagnostic.region.end.line = line;
        diagnostic
    }

    #[test]
    fn fingerprints_ignore_lines_and_tell_problems_apart() {
        assert_eq!(fingerprint(&problem(4)), fingerprint(&problem(40)));
        let mut other = problem(4);
        other.path = "scopes.catalog[4].name".to_owned();
        assert_ne!(fingerprint(&problem(4)), fingerprint(&other));
        // Fixed by the algorithm, not by this build: FNV-1a of the four parts.
        assert_eq!(fingerprint(&problem(4)).len(), 16);
    }
}
