//! Where each part of a document was written, and the one place JSON pointers are escaped and
//! unescaped (RFC 6901).

use std::collections::HashMap;

use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Position {
    /// The start of the file, used when nothing more precise is known.
    pub const START: Position = Position { line: 1, column: 1 };

    pub(super) fn from_marker(marker: &Marker) -> Self {
        Position {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }
}

/// Where a node of the document is written: its value, and its key when it is a mapping entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    /// Position of the mapping key that introduces the node, if any.
    pub key: Option<Position>,
    /// Position of the node's value.
    pub value: Position,
}

/// Positions of every node, keyed by JSON pointer (`/authorization/url`, `/scopes/catalog/3`).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    spans: HashMap<String, NodeSpan>,
}

impl SourceMap {
    /// The span of the node at `pointer`, or of its nearest ancestor that has one (nodes that
    /// came from an alias are placed at the alias).
    pub fn span(&self, pointer: &str) -> NodeSpan {
        let mut current = pointer;
        loop {
            if let Some(span) = self.spans.get(current) {
                return *span;
            }
            match current.rfind('/') {
                Some(cut) => current = &current[..cut],
                None => {
                    return NodeSpan {
                        key: None,
                        value: Position::START,
                    };
                }
            }
        }
    }

    /// Position of the node's value.
    pub fn value_position(&self, pointer: &str) -> Position {
        self.span(pointer).value
    }

    /// Position of the node's key when it has one, else of its value: where a reader looks for
    /// a field that is wrong as a whole.
    pub fn key_position(&self, pointer: &str) -> Position {
        let span = self.span(pointer);
        span.key.unwrap_or(span.value)
    }

    pub(super) fn insert(&mut self, pointer: String, span: NodeSpan) {
        self.spans.insert(pointer, span);
    }
}

/// Escapes one JSON pointer token (RFC 6901): `~` becomes `~0`, `/` becomes `~1`.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undoes [`escape_pointer_token`].
pub fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
