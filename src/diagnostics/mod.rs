//! Diagnostics: what is wrong, where (file:line:column and the path inside the document), and
//! how to fix it. Every check in the crate reports through this one type so that the CLI prints
//! YAML errors, schema violations and semantic errors the same way.

mod escape;
mod kind;
// The CI output formats of `validate --format`: only the command line uses them.
#[cfg(feature = "cli")]
pub(crate) mod github;
#[cfg(feature = "cli")]
pub(crate) mod sarif;
pub(crate) mod snippet;

pub use escape::visible;
pub use kind::{DOCS_URL, Kind};
pub use snippet::{render, stderr_color, template_excerpt, use_color};

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::Value;

use crate::definition::document::{
    Position, Region, SourceMap, Span, SyntaxCause, SyntaxError, unescape_pointer_token,
};

/// One problem a user can fix in a YAML file.
///
/// It is placed by a primary [`Region`] and may carry secondary [`Label`]s: other places that
/// explain it, possibly in other files (the first of two duplicate entries, the `set:` line of
/// a provider whose shared data-center set is at fault). The text output shows the start of the
/// primary region only; `--format json` shows everything.
///
/// In JSON the region is written out flat, as tools read it: `line`/`column` to
/// `end_line`/`end_column` (1-based; the end column is just past the last character,
/// exclusive as in LSP and SARIF, and equal to `column` on the same line for an empty region,
/// a value that is missing), and the same range as `byte_start..byte_end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it.
    pub file: PathBuf,
    /// Where in the file the problem is.
    pub region: Region,
    /// Where inside the document, as a dotted path (`data_centers.list[6].values.dc`).
    pub path: String,
    /// How serious the problem is: an error makes the file invalid; a warning (a credential
    /// named like a secret but declared `secret: false`) is reported and leaves it valid.
    pub severity: Severity,
    /// What kind of problem it is (`unknown-field`): a stable id tools group and filter by.
    pub kind: Kind,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when that is known.
    pub hint: Option<String>,
    /// Other places that explain the problem, in the order they were added.
    pub labels: Vec<Label>,
}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file is invalid.
    Error,
    /// A likely mistake that leaves the file valid: printed as `warning:`, and `validate`
    /// still succeeds.
    Warning,
}

impl Severity {
    /// The word the outputs use: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary place of a [`Diagnostic`], with what it has to do with the problem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Label {
    /// The file the place is in (it need not be the diagnostic's).
    pub file: PathBuf,
    /// Where in that file.
    pub region: Region,
    /// The place as a dotted path in its document.
    pub path: String,
    /// What this place has to do with the problem (`first defined here`).
    pub message: String,
}

/// Writes where `region` starts as the JSON output has always shown it: `line`, `column`.
fn serialize_start<S: SerializeStruct>(out: &mut S, region: &Region) -> Result<(), S::Error> {
    out.serialize_field("line", &region.start.line)?;
    out.serialize_field("column", &region.start.column)
}

/// Writes where `region` ends and its bytes: `end_line`, `end_column`, `byte_start`,
/// `byte_end`.
fn serialize_end<S: SerializeStruct>(out: &mut S, region: &Region) -> Result<(), S::Error> {
    out.serialize_field("end_line", &region.end.line)?;
    out.serialize_field("end_column", &region.end.column)?;
    out.serialize_field("byte_start", &region.span.start)?;
    out.serialize_field("byte_end", &region.span.end)
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = if self.hint.is_some() { 13 } else { 12 };
        let mut out = serializer.serialize_struct("Diagnostic", fields)?;
        out.serialize_field("file", &self.file)?;
        serialize_start(&mut out, &self.region)?;
        out.serialize_field("path", &self.path)?;
        out.serialize_field("severity", &self.severity)?;
        out.serialize_field("kind", &self.kind)?;
        out.serialize_field("message", &self.message)?;
        if let Some(hint) = &self.hint {
            out.serialize_field("hint", hint)?;
        }
        serialize_end(&mut out, &self.region)?;
        out.serialize_field("labels", &self.labels)?;
        out.end()
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Label", 9)?;
        out.serialize_field("file", &self.file)?;
        serialize_start(&mut out, &self.region)?;
        serialize_end(&mut out, &self.region)?;
        out.serialize_field("path", &self.path)?;
        out.serialize_field("message", &self.message)?;
        out.end()
    }
}

impl Label {
    /// A label over `region` of `file`.
    pub fn new(
        file: &Path,
        region: Region,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Label {
            file: file.to_path_buf(),
            region,
            path: path.into(),
            message: message.into(),
        }
    }
}

impl Diagnostic {
    /// The same diagnostic as a warning: printed, but the file stays valid.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Whether the diagnostic makes its file invalid (it is not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A diagnostic of `kind` over a region of `file`: the constructor every placed problem
    /// goes through.
    pub fn at(
        kind: Kind,
        file: &Path,
        region: Region,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            region,
            path: path.into(),
            severity: Severity::Error,
            kind,
            message: message.into(),
            hint,
            labels: Vec::new(),
        }
    }

    /// A diagnostic at a position whose byte offset is not known: an empty region at
    /// `position`, with byte offsets 0. Prefer [`Diagnostic::at`] or [`Locator::diagnostic`],
    /// which know the bytes.
    pub fn new(
        kind: Kind,
        file: &Path,
        position: Position,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let region = Region {
            start: position,
            end: position,
            span: Span::default(),
        };
        Diagnostic::at(kind, file, region, path, message, hint)
    }

    /// A diagnostic about a file as a whole (unreadable, not YAML, ...), placed at its start.
    pub fn file_level(
        kind: Kind,
        file: &Path,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Diagnostic::new(kind, file, Position::START, "<root>", message, hint)
    }

    /// A problem the YAML reader found in `file`: a syntax error, or text it cannot read.
    pub fn syntax(file: &Path, error: SyntaxError) -> Self {
        let kind = match error.cause {
            SyntaxCause::Yaml | SyntaxCause::KeyWithoutValue => Kind::YamlSyntax,
            SyntaxCause::Input => Kind::UnreadableFile,
        };
        Diagnostic::at(
            kind,
            file,
            error.region,
            error.path,
            error.message,
            error.hint,
        )
    }

    /// The same diagnostic with one more label.
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// Orders diagnostics by file, then position, then message, as the CLI prints them.
    pub fn sort(diagnostics: &mut [Diagnostic]) {
        diagnostics.sort_by(|a, b| {
            let (a_start, b_start) = (a.region.start, b.region.start);
            (&a.file, a_start.line, a_start.column, &a.path, &a.message).cmp(&(
                &b.file,
                b_start.line,
                b_start.column,
                &b.path,
                &b.message,
            ))
        });
    }

    /// Merges neighbours that report the same problem at the same place (a fault in a shared
    /// set found through several providers): one diagnostic is kept, with every distinct
    /// label of the merged ones. Call after [`Diagnostic::sort`].
    pub fn merge_duplicates(diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.dedup_by(|later, kept| {
            let same = (
                &later.file,
                later.region,
                &later.path,
                later.kind,
                &later.message,
                &later.hint,
            ) == (
                &kept.file,
                kept.region,
                &kept.path,
                kept.kind,
                &kept.message,
                &kept.hint,
            );
            if same {
                for label in later.labels.drain(..) {
                    if !kept.labels.contains(&label) {
                        kept.labels.push(label);
                    }
                }
            }
            same
        });
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {} (at {})",
            visible(&self.file.display().to_string()),
            self.region.start.line,
            self.region.start.column,
            self.severity,
            visible(&self.message),
            visible(&self.path)
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {}", visible(hint))?;
        }
        Ok(())
    }
}

/// Where in a loaded document a problem lies, before it is turned into a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anchor {
    /// Point at the key of the node (a field that is wrong as a whole, or is missing a part).
    Key,
    /// Point at the node's value (a value that is wrong).
    Value,
}

/// A loaded file's name, value and source map: enough to place any JSON pointer.
#[derive(Debug, Clone, Copy)]
pub struct Locator<'a> {
    /// The file, as the user named it.
    pub file: &'a Path,
    /// The document's value, used to tell array indices from keys in paths.
    pub value: &'a Value,
    /// Positions of the document's nodes.
    pub map: &'a SourceMap,
}

impl Locator<'_> {
    /// A diagnostic of `kind` for the node at `pointer`.
    pub fn diagnostic(
        &self,
        kind: Kind,
        pointer: &str,
        anchor: Anchor,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        Diagnostic::at(
            kind,
            self.file,
            self.region(pointer, anchor),
            display_path(self.value, pointer),
            message,
            hint,
        )
    }

    /// A secondary label for the node at `pointer`, to add to a diagnostic with
    /// [`Diagnostic::with_label`].
    pub fn label(&self, pointer: &str, anchor: Anchor, message: impl Into<String>) -> Label {
        Label::new(
            self.file,
            self.region(pointer, anchor),
            display_path(self.value, pointer),
            message,
        )
    }

    /// Where the node at `pointer` is written: its key or its value.
    pub fn region(&self, pointer: &str, anchor: Anchor) -> Region {
        match anchor {
            Anchor::Key => self.map.key_region(pointer),
            Anchor::Value => self.map.value_region(pointer),
        }
    }
}

/// Turns a JSON pointer into the dotted path users read: `/scopes/catalog/3/name` becomes
/// `scopes.catalog[3].name`. Array indices are told from keys by walking the value.
pub fn display_path(value: &Value, pointer: &str) -> String {
    if pointer.is_empty() {
        return "<root>".to_owned();
    }
    let mut out = String::new();
    let mut node = Some(value);
    for raw in pointer.split('/').skip(1) {
        let token = unescape_pointer_token(raw);
        match node {
            Some(Value::Array(items)) => {
                out.push_str(&format!("[{token}]"));
                node = token.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&token);
                node = match other {
                    Some(Value::Object(entries)) => entries.get(&token),
                    _ => None,
                };
            }
        }
    }
    out
}

/// Suggests the closest of `candidates` to a misspelt `word`, if one is close enough.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::levenshtein(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(3) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths_tell_indices_from_keys() {
        let value = json!({"scopes": {"catalog": [{"name": "a"}]}, "params": {"0": "x"}});
        assert_eq!(
            display_path(&value, "/scopes/catalog/0/name"),
            "scopes.catalog[0].name"
        );
        assert_eq!(display_path(&value, "/params/0"), "params.0");
        assert_eq!(display_path(&value, ""), "<root>");
    }

    #[test]
    fn prints_the_documented_line_format() {
        let d = Diagnostic::new(
            Kind::InvalidValue,
            Path::new("p.yaml"),
            Position { line: 3, column: 5 },
            "token.url",
            "bad",
            Some("fix it".into()),
        );
        assert_eq!(
            d.to_string(),
            "p.yaml:3:5: error: bad (at token.url)\n  help: fix it"
        );
    }

    #[test]
    fn suggests_close_spellings_only() {
        let keys = ["scope_separator", "pkce", "params", "url"];
        assert_eq!(closest("scope_seperator", keys), Some("scope_separator"));
        assert_eq!(closest("parms", keys), Some("params"));
        assert_eq!(closest("completely_different", keys), None);
    }
}
