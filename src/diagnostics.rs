//! Diagnostics: what is wrong, where (file:line:column and the path inside the document), and
//! how to fix it. Every check in the crate reports through this one type so that the CLI prints
//! YAML errors, schema violations and semantic errors the same way.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::definition::document::{Position, SourceMap, unescape_pointer_token};

/// One problem a user can fix in a YAML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Where inside the document, as a dotted path (`data_centers.list[6].values.dc`).
    pub path: String,
    /// Always `error` for now; kept in the JSON output so tools need not assume it.
    pub severity: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when that is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at an explicit position.
    pub fn new(
        file: &Path,
        position: Position,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line: position.line,
            column: position.column,
            path: path.into(),
            severity: "error",
            message: message.into(),
            hint,
        }
    }

    /// A diagnostic about a file as a whole (unreadable, not YAML, ...).
    pub fn file_level(file: &Path, message: impl Into<String>, hint: Option<String>) -> Self {
        Diagnostic::new(file, Position::START, "<root>", message, hint)
    }

    /// Orders diagnostics by file, then position, then message, as the CLI prints them.
    pub fn sort(diagnostics: &mut [Diagnostic]) {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.path, &a.message)
                .cmp(&(&b.file, b.line, b.column, &b.path, &b.message))
        });
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {} (at {})",
            self.file.display(),
            self.line,
            self.column,
            self.severity,
            self.message,
            self.path
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  help: {hint}")?;
        }
        Ok(())
    }
}

/// Where in a loaded document a problem lies, before it is turned into a [`Diagnostic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A diagnostic for the node at `pointer`.
    pub fn diagnostic(
        &self,
        pointer: &str,
        anchor: Anchor,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let position = match anchor {
            Anchor::Key => self.map.key_position(pointer),
            Anchor::Value => self.map.value_position(pointer),
        };
        Diagnostic::new(
            self.file,
            position,
            display_path(self.value, pointer),
            message,
            hint,
        )
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
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(3) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
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
