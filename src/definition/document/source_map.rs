//! Where each part of a document was written: byte ranges of every key and value, with line
//! and column worked out only when a diagnostic asks.
//!
//! Reading must stay cheap because most files are valid and nobody ever asks where their
//! nodes are. So the builder records, per node, only the parser's marks (line and column of
//! the key and of the value) in a flat vector in document order, plus each mapping key's text
//! in one shared buffer. No pointer string is built while reading. When a diagnostic needs a
//! place, [`SourceMap::node`] walks the vector along the JSON pointer, and the byte range, the
//! end of the node and the line/column of both ends are computed from the source text (the
//! line-start index is built on first use).

use std::sync::{Arc, OnceLock};

use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::lines::{Position, Region, Span, line_starts, offset_in, position_in, region_in};
use super::pointer::unescape_pointer_token;
use super::scalar_end::{block_scalar_len, plain_len, quoted_len, skip_properties, token_len};

/// Where a node of the document is written: its value, and its key when it is a mapping entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    /// The mapping key that introduces the node, if any.
    pub key: Option<Region>,
    /// The node's value: a scalar, an alias, or a whole list or mapping.
    pub value: Region,
}

/// A parser mark: 1-based line and 0-based column in characters, as the YAML scanner counts
/// them. Line 0 means "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Mark {
    line: u32,
    column: u32,
}

impl Mark {
    const NONE: Mark = Mark { line: 0, column: 0 };
    /// Line 1, column 1 (after a BOM): where the document as a whole is placed.
    pub(super) const FILE_START: Mark = Mark { line: 1, column: 0 };

    pub(super) fn from_marker(marker: &Marker) -> Self {
        Mark {
            line: u32::try_from(marker.line().max(1)).unwrap_or(u32::MAX),
            column: u32::try_from(marker.col()).unwrap_or(u32::MAX),
        }
    }

    pub(super) fn position(self) -> Position {
        Position {
            line: self.line as usize,
            column: self.column as usize + 1,
        }
    }

    fn is_none(self) -> bool {
        self.line == 0
    }
}

/// What kind of node a record is, which decides where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A scalar in the given style; `empty` when nothing is written (`key:` with no value).
    Scalar { style: TScalarStyle, empty: bool },
    /// `*name`.
    Alias,
    /// A mapping, block or flow (`{...}`): told apart by the text at its start.
    Mapping,
    /// A sequence, block or flow (`[...]`).
    Sequence,
}

/// One node, in document order (parents before children).
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// The mapping key that introduces the node; [`Mark::NONE`] for the root and list items.
    key: Mark,
    /// Style of the key scalar.
    key_style: TScalarStyle,
    /// The key's text in [`SourceMap::keys`]: start and length.
    key_text: (u32, u32),
    value: Mark,
    shape: Shape,
    /// For containers, the mark of the event that closed them (a flow container's bracket).
    close: Mark,
    /// Index just past the node's last descendant.
    end: u32,
}

/// A key recorded with the node it introduces.
pub(super) struct Key<'k> {
    pub(super) text: &'k str,
    pub(super) mark: Mark,
    pub(super) style: TScalarStyle,
}

/// Where every key and value of one document is written.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    /// The whole file, as read (a leading BOM included).
    text: Arc<str>,
    /// Bytes before the parsed text: the length of a leading UTF-8 BOM, else 0.
    skipped: usize,
    nodes: Vec<Node>,
    /// The text of every mapping key, one after the other.
    keys: String,
    /// Byte offset where each line starts, built on first use.
    lines: OnceLock<Vec<usize>>,
}

impl SourceMap {
    /// An empty map of `text`, whose first `skipped` bytes (a BOM) the parser did not see.
    ///
    /// The records are sized from the text: a definition has about one node per 30 bytes and
    /// a byte of key text per 5 or 6, so they rarely grow (growing them record by record
    /// copied each about twice).
    pub(super) fn new(text: &str, skipped: usize) -> Self {
        SourceMap {
            text: Arc::from(text),
            skipped,
            nodes: Vec::with_capacity(text.len() / 24),
            keys: String::with_capacity(text.len() / 6),
            lines: OnceLock::new(),
        }
    }

    /// The source text the map points into, as read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Records a node and returns its index. Containers are ended by [`SourceMap::close`]
    /// once their last child is recorded.
    pub(super) fn push(&mut self, key: Option<Key<'_>>, value: Mark, shape: Shape) -> usize {
        let index = self.nodes.len();
        let (key, key_style, key_text) = match key {
            Some(Key { text, mark, style }) => {
                let start = self.keys.len();
                self.keys.push_str(text);
                (mark, style, (narrow(start), narrow(text.len())))
            }
            None => (Mark::NONE, TScalarStyle::Plain, (0, 0)),
        };
        self.nodes.push(Node {
            key,
            key_style,
            key_text,
            value,
            shape,
            close: Mark::NONE,
            end: narrow(index + 1),
        });
        index
    }

    /// Ends the container at `index`: its descendants are the nodes recorded since it, and its
    /// closing event is at `close`.
    pub(super) fn close(&mut self, index: usize, close: Mark) {
        let end = narrow(self.nodes.len());
        let node = &mut self.nodes[index];
        node.end = end;
        node.close = close;
    }

    /// The key and value of the node at a JSON `pointer` (`/authorization/url`,
    /// `/scopes/catalog/3`), or of its nearest ancestor that was recorded: nodes that came from
    /// an alias are placed at the alias, and a pointer to a missing key at its mapping.
    pub fn node(&self, pointer: &str) -> NodeSpan {
        match self.find(pointer) {
            None => NodeSpan {
                key: None,
                value: self.region(self.file_start()),
            },
            Some((index, flow)) => {
                let node = &self.nodes[index];
                let key_shape = Shape::Scalar {
                    style: node.key_style,
                    empty: false,
                };
                NodeSpan {
                    key: (!node.key.is_none())
                        .then(|| self.region(self.leaf_span(node.key, key_shape, flow))),
                    value: self.region(self.value_span(index, flow)),
                }
            }
        }
    }

    /// Where to point for a problem with a field as a whole: its key when it has one, else its
    /// value; for the document itself, the (empty) start of the file.
    pub fn key_region(&self, pointer: &str) -> Region {
        let node = self.node(pointer);
        match node.key {
            Some(key) => key,
            None if matches!(self.find(pointer), None | Some((0, _))) => {
                self.region(self.file_start())
            }
            None => node.value,
        }
    }

    /// Where to point for a problem with a value: the scalar, or the whole list or mapping.
    pub fn value_region(&self, pointer: &str) -> Region {
        self.node(pointer).value
    }

    /// Where the node's value starts.
    pub fn value_position(&self, pointer: &str) -> Position {
        self.value_region(pointer).start
    }

    /// Where the node's key starts when it has one, else its value: where a reader looks for
    /// a field that is wrong as a whole.
    pub fn key_position(&self, pointer: &str) -> Position {
        self.key_region(pointer).start
    }

    /// The line and column of a byte offset (clamped to the file).
    pub fn position(&self, offset: usize) -> Position {
        position_in(&self.text, self.lines(), offset)
    }

    /// A byte range with the line and column of both ends (clamped to the file).
    pub fn region(&self, span: Span) -> Region {
        region_in(&self.text, self.lines(), span)
    }

    fn file_start(&self) -> Span {
        Span {
            start: self.skipped,
            end: self.skipped,
        }
    }

    fn lines(&self) -> &[usize] {
        self.lines
            .get_or_init(|| line_starts(&self.text, self.skipped))
    }

    /// Index of the deepest recorded node on the way to `pointer`, and whether it is inside a
    /// flow collection (which changes where a plain scalar ends).
    fn find(&self, pointer: &str) -> Option<(usize, bool)> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut index = 0;
        let mut flow = false;
        for token in pointer.split('/').skip(1) {
            let next = match self.nodes[index].shape {
                Shape::Mapping => {
                    let token = unescape_pointer_token(token);
                    self.children(index)
                        .find(|&child| self.key_text(child) == token)
                }
                Shape::Sequence => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| self.children(index).nth(n)),
                Shape::Scalar { .. } | Shape::Alias => None,
            };
            let Some(child) = next else { break };
            flow = flow || self.is_flow(index);
            index = child;
        }
        Some((index, flow))
    }

    /// The direct children of the node at `index`, in order.
    fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let end = self.nodes[index].end as usize;
        let mut child = index + 1;
        std::iter::from_fn(move || {
            (child < end).then(|| {
                let current = child;
                child = self.nodes[current].end as usize;
                current
            })
        })
    }

    fn key_text(&self, index: usize) -> &str {
        let (start, len) = self.nodes[index].key_text;
        &self.keys[start as usize..(start + len) as usize]
    }

    /// Whether the container at `index` is written in flow style (`[...]` or `{...}`).
    fn is_flow(&self, index: usize) -> bool {
        let node = &self.nodes[index];
        matches!(node.shape, Shape::Mapping | Shape::Sequence)
            && skip_properties(&self.text[self.offset(node.value)..]).starts_with(['[', '{'])
    }

    /// Byte offset of a parser mark (clamped to the file).
    fn offset(&self, mark: Mark) -> usize {
        offset_in(&self.text, self.lines(), mark.position())
    }

    /// The bytes of the node at `index`: a whole subtree for a container.
    fn value_span(&self, index: usize, flow: bool) -> Span {
        let node = &self.nodes[index];
        match node.shape {
            Shape::Mapping | Shape::Sequence => {
                let flow_container = self.is_flow(index);
                let mut start = self.offset(node.value);
                if !flow_container && index > 0 {
                    // The parser marks a block mapping after its first key: start at the key.
                    if let Some(first) = self.children(index).next() {
                        let child = &self.nodes[first];
                        let mark = if child.key.is_none() {
                            child.value
                        } else {
                            child.key
                        };
                        start = start.min(self.offset(mark));
                    }
                }
                let end = if flow_container {
                    // The closing event is at the bracket.
                    let close = self.offset(node.close).max(start);
                    close + self.text[close..].chars().next().map_or(0, char::len_utf8)
                } else {
                    // A block container ends where its last entry ends.
                    self.children(index)
                        .last()
                        .map_or(start, |last| self.value_span(last, false).end)
                };
                Span {
                    start,
                    end: end.max(start),
                }
            }
            shape => self.leaf_span(node.value, shape, flow),
        }
    }

    /// The bytes of a scalar or alias starting at `mark`.
    fn leaf_span(&self, mark: Mark, shape: Shape, flow: bool) -> Span {
        let start = self.offset(mark);
        Span {
            start,
            end: start + leaf_len(&self.text[start..], shape, flow, mark.column as usize),
        }
    }
}

/// Length in bytes of the scalar or alias at the start of `text`, properties (`&anchor`,
/// `!tag`) included, which starts `indent` characters into its line. Multi-line plain scalars
/// are measured on their first line.
fn leaf_len(text: &str, shape: Shape, flow: bool, indent: usize) -> usize {
    let body = skip_properties(text);
    let properties = text.len() - body.len();
    let len = match shape {
        Shape::Scalar { empty: true, .. } => return 0,
        Shape::Alias => token_len(body),
        Shape::Scalar {
            style: TScalarStyle::SingleQuoted,
            ..
        } => quoted_len(body, '\''),
        Shape::Scalar {
            style: TScalarStyle::DoubleQuoted,
            ..
        } => quoted_len(body, '"'),
        Shape::Scalar {
            style: TScalarStyle::Literal | TScalarStyle::Folded,
            ..
        } => block_scalar_len(body, indent),
        Shape::Scalar { .. } => plain_len(body, flow),
        Shape::Mapping | Shape::Sequence => 0,
    };
    properties + len
}

fn narrow(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
