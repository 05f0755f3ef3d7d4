//! The SARIF 2.1.0 view of diagnostics (`validate --format sarif`), for code-scanning
//! annotations (GitHub code scanning, IDE SARIF viewers). It shows the same [`Diagnostic`]s
//! as the text and JSON views: one result per diagnostic, its primary range as the location
//! and its labels as related locations.
//!
//! Columns are counted in Unicode characters, as everywhere in this crate, so the run declares
//! `columnKind: unicodeCodePoints`; end columns are exclusive, as SARIF's are.
//!
//! For GitHub code scanning: there is one rule per [`Kind`] of problem (its stable id, so a
//! repository can filter or dismiss one kind), each with a short and a full description,
//! `help` (text and Markdown) and a `helpUri` into `docs/validate.md`; relative file URIs name
//! the `%SRCROOT%` base (the working directory, declared in `originalUriBaseIds`); and each
//! result has a `partialFingerprints` entry made of the rule, the file, the place in the
//! document and the message, never line numbers, so an edit elsewhere in the file does not
//! make the same problem a new alert.

use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::{DOCS_URL, Diagnostic, Kind, Label, Severity};

/// The base relative URIs are resolved against: the repository root, where `validate` runs.
const SOURCE_ROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key; the suffix changes whenever what is hashed changes (v2: the
/// rule is the problem's kind, where v1 had one rule for all).
const FINGERPRINT: &str = "providerForgeProblem/v2";

/// What every rule's help says after its own text: how to read a result.
const READING: &str = "The message names the place in the document (`at PATH`) and, when a \
    fix is known, how to fix it (`help:`); related locations show the other places involved. \
    Run `provider-forge validate FILE` locally for the same report with source snippets.";

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
                "informationUri": DOCS_URL,
                "rules": Kind::ALL.iter().map(|kind| rule(*kind)).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": source_root(),
            "columnKind": "unicodeCodePoints",
            "results": diagnostics.iter().map(result).collect::<Vec<_>>(),
        }],
    })
}

/// The rule of one kind of problem: what it is, how to fix it, and where it is documented.
fn rule(kind: Kind) -> Value {
    let level = match kind {
        Kind::UnmarkedSecret => Severity::Warning,
        _ => Severity::Error,
    };
    json!({
        "id": kind.id(),
        "name": friendly_name(kind.id()),
        "shortDescription": {"text": kind.title()},
        "fullDescription": {"text": kind.description()},
        "help": {
            "text": format!(
                "{}\n\nHow to fix: {}\n\n{READING}\nDocumentation: {}",
                kind.description(),
                kind.fix(),
                kind.docs_url()
            ),
            "markdown": format!(
                "{}\n\n**How to fix:** {}\n\n{READING} [`{}` in docs/validate.md]({})",
                kind.description(),
                kind.fix(),
                kind.id(),
                kind.docs_url()
            ),
        },
        "helpUri": kind.docs_url(),
        "defaultConfiguration": {"level": level.as_str()},
    })
}

/// The id as the Pascal-case "friendly name" SARIF viewers show: `unknown-field` is
/// `UnknownField`.
fn friendly_name(id: &str) -> String {
    id.split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// Where `kind`'s rule is in the run's `rules`.
fn rule_index(kind: Kind) -> usize {
    Kind::ALL
        .iter()
        .position(|listed| *listed == kind)
        .expect("every kind is listed")
}

fn result(diagnostic: &Diagnostic) -> Value {
    let mut text = format!("{} (at {})", diagnostic.message, diagnostic.path);
    if let Some(hint) = &diagnostic.hint {
        text.push_str("\nhelp: ");
        text.push_str(hint);
    }
    let mut result = json!({
        "ruleId": diagnostic.kind.id(),
        "ruleIndex": rule_index(diagnostic.kind),
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
    for part in [
        diagnostic.kind.id(),
        &file,
        &diagnostic.path,
        &diagnostic.message,
    ] {
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
            Kind::DuplicateScope,
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
    fn friendly_names_are_pascal_case_ids() {
        assert_eq!(friendly_name("unknown-field"), "UnknownField");
        assert_eq!(friendly_name("yaml-syntax"), "YamlSyntax");
        assert_eq!(rule_index(Kind::ALL[3]), 3);
    }

    #[test]
    fn fingerprints_ignore_lines_and_tell_problems_apart() {
        assert_eq!(fingerprint(&problem(4)), fingerprint(&problem(40)));
        let mut other = problem(4);
        other.path = "scopes.catalog[4].name".to_owned();
        assert_ne!(fingerprint(&problem(4)), fingerprint(&other));
        let mut other = problem(4);
        other.kind = Kind::UnknownScope;
        assert_ne!(fingerprint(&problem(4)), fingerprint(&other));
        // Fixed by the algorithm, not by this build: FNV-1a of the four parts.
        assert_eq!(fingerprint(&problem(4)).len(), 16);
    }
}
