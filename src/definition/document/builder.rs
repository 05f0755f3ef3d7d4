//! The event builder: YAML parser events to a JSON value and its source map, in one pass.
//!
//! Each node costs the source map one small record (see [`SourceMap`]); no pointer or path
//! string is built unless reading fails. Hostile input is bounded here: nesting depth and the
//! node count after alias expansion (alias bombs) have hard limits that end in an error, never
//! in a hang or unbounded memory.

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use super::scalar::scalar_value;
use super::source_map::{Key, Mark, Shape, SourceMap};
use super::yaml_error::scan_error;
use super::{Document, MAX_DEPTH, MAX_EXPANDED_BYTES, MAX_NODES, ROOT, SyntaxError};

/// A container being filled while events arrive.
enum Frame {
    Sequence {
        /// Its record in the source map.
        node: usize,
        anchor: usize,
        /// What was counted before it opened, to know its size when an alias repeats it.
        before: Size,
        items: Vec<Value>,
    },
    Mapping {
        node: usize,
        anchor: usize,
        before: Size,
        entries: Entries,
        /// The key read, waiting for its value.
        pending_key: Option<PendingKey>,
    },
}

/// Where the entries of a mapping being read are kept.
///
/// Most mappings hold a handful of keys. For them a hash map per mapping was the costly part
/// of reading: every key hashed twice (the duplicate check, then the insert) and the table
/// regrown key by key. So the entries of the open mappings wait, innermost last, in one list
/// shared by the whole document ([`Builder::entries`]), which stops growing after the first
/// few mappings; the duplicate check compares the new key with the few before it, and each
/// `Map` is built once, at its final size, when its mapping ends. A mapping that grows past
/// [`FEW_KEYS`] becomes a `Map` there and then, so that a file with thousands of keys in one
/// mapping is still read in linear time.
enum Entries {
    /// In the shared list from `start` on. Entries are only added to the innermost open
    /// mapping, and inner mappings take theirs out when they end, so everything from `start`
    /// on is this mapping's whenever it is being added to.
    Few {
        start: usize,
    },
    Many(Map<String, Value>),
}

/// The most keys a mapping holds in the shared list (see [`Entries`]).
const FEW_KEYS: usize = 16;

impl Entries {
    /// Whether the innermost mapping has `key`; `shared` is [`Builder::entries`].
    fn contains_key(&self, shared: &[(String, Value)], key: &str) -> bool {
        match self {
            Entries::Few { start } => shared[*start..].iter().any(|(k, _)| k == key),
            Entries::Many(map) => map.contains_key(key),
        }
    }

    /// Adds an entry to the innermost mapping; its key is not there yet
    /// ([`Entries::contains_key`] said so).
    fn insert(&mut self, shared: &mut Vec<(String, Value)>, key: String, value: Value) {
        match self {
            Entries::Few { start } if shared.len() - *start < FEW_KEYS => {
                shared.push((key, value));
            }
            Entries::Few { start } => {
                let mut map: Map<String, Value> = shared.drain(*start..).collect();
                map.insert(key, value);
                *self = Entries::Many(map);
            }
            Entries::Many(map) => {
                map.insert(key, value);
            }
        }
    }

    /// The mapping, which has just ended, so is the innermost.
    fn into_map(self, shared: &mut Vec<(String, Value)>) -> Map<String, Value> {
        match self {
            Entries::Few { start } => shared.drain(start..).collect(),
            Entries::Many(map) => map,
        }
    }
}

/// How much of the document a node (or everything read so far) holds: nodes, and bytes of
/// keys and scalars.
#[derive(Debug, Clone, Copy, Default)]
struct Size {
    nodes: usize,
    bytes: usize,
}

impl Size {
    fn since(self, before: Size) -> Size {
        Size {
            nodes: self.nodes - before.nodes,
            bytes: self.bytes - before.bytes,
        }
    }
}

struct PendingKey {
    text: String,
    mark: Mark,
    style: TScalarStyle,
}

/// Builds one document from parser events.
pub(super) struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    map: SourceMap,
    stack: Vec<Frame>,
    /// Anchored values with their sizes, for alias expansion.
    anchors: HashMap<usize, (Value, Size)>,
    /// What the document holds so far, aliases expanded.
    size: Size,
    root: Option<Value>,
    documents: usize,
    /// The entries of the open mappings, innermost last (see [`Entries`]).
    entries: Vec<(String, Value)>,
}

impl<'a> Builder<'a> {
    /// A builder for `text`, the part of the file after `map`'s skipped bytes.
    pub(super) fn new(text: &'a str, map: SourceMap) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            map,
            stack: Vec::new(),
            anchors: HashMap::new(),
            size: Size::default(),
            root: None,
            documents: 0,
            entries: Vec::new(),
        }
    }

    pub(super) fn run(mut self) -> Result<Document, Vec<SyntaxError>> {
        loop {
            let (event, marker) = match self.parser.next_token() {
                Ok(next) => next,
                Err(error) => return Err(vec![scan_error(&error, self.current_path())]),
            };
            let mark = Mark::from_marker(&marker);
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(self.fail(
                            mark,
                            "more than one YAML document in the file".into(),
                            Some("keep one provider per file; remove the extra `---`".into()),
                        ));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let size = Size {
                        nodes: 1,
                        bytes: text.len(),
                    };
                    self.count(size, mark)?;
                    if self.awaiting_key() {
                        let key = scalar_value(text, style, tag.as_ref());
                        self.key(key, mark, style)?;
                    } else {
                        let empty = text.is_empty()
                            && !matches!(
                                style,
                                TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                            );
                        let value = scalar_value(text, style, tag.as_ref());
                        self.record(mark, Shape::Scalar { style, empty });
                        self.complete(value, anchor, size);
                    }
                }
                Event::Alias(id) => {
                    if self.awaiting_key() {
                        return Err(self.fail(
                            mark,
                            "an alias cannot be used as a mapping key".into(),
                            None,
                        ));
                    }
                    let Some(&(_, size)) = self.anchors.get(&id) else {
                        return Err(self.fail(mark, "alias to an unknown anchor".into(), None));
                    };
                    // Counted before the copy is made, so a refused alias costs nothing.
                    self.count(size, mark)?;
                    let value = self.anchors[&id].0.clone();
                    self.record(mark, Shape::Alias);
                    self.attach(value);
                }
                Event::SequenceStart(anchor, _) => {
                    let before = self.size;
                    let node = self.open(mark, Shape::Sequence)?;
                    self.stack.push(Frame::Sequence {
                        node,
                        anchor,
                        before,
                        items: Vec::new(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    let before = self.size;
                    let node = self.open(mark, Shape::Mapping)?;
                    self.stack.push(Frame::Mapping {
                        node,
                        anchor,
                        before,
                        entries: Entries::Few {
                            start: self.entries.len(),
                        },
                        pending_key: None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (value, node, anchor, before) = match self.stack.pop() {
                        Some(Frame::Sequence {
                            items,
                            node,
                            anchor,
                            before,
                        }) => (Value::Array(items), node, anchor, before),
                        Some(Frame::Mapping {
                            entries,
                            node,
                            anchor,
                            before,
                            ..
                        }) => (
                            Value::Object(entries.into_map(&mut self.entries)),
                            node,
                            anchor,
                            before,
                        ),
                        None => continue,
                    };
                    self.map.close(node, mark);
                    self.complete(value, anchor, self.size.since(before));
                }
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            }
        }
        Ok(Document {
            value: self.root.unwrap_or(Value::Null),
            map: self.map,
        })
    }

    fn fail(&self, mark: Mark, message: String, hint: Option<String>) -> Vec<SyntaxError> {
        vec![SyntaxError::at(
            mark.position(),
            self.current_path(),
            message,
            hint,
        )]
    }

    /// Counts a node of `size` and refuses the document once it holds too much. Inlined into
    /// the event loop, with the errors built out of line: it runs for every node.
    #[inline]
    fn count(&mut self, size: Size, mark: Mark) -> Result<(), Vec<SyntaxError>> {
        self.size.nodes = self.size.nodes.saturating_add(size.nodes);
        self.size.bytes = self.size.bytes.saturating_add(size.bytes);
        if self.size.nodes > MAX_NODES || self.size.bytes > MAX_EXPANDED_BYTES {
            return Err(self.too_large(mark));
        }
        Ok(())
    }

    /// Why [`Builder::count`] refused the document.
    #[cold]
    fn too_large(&self, mark: Mark) -> Vec<SyntaxError> {
        if self.size.nodes > MAX_NODES {
            return self.fail(
                mark,
                format!("document expands to more than {MAX_NODES} nodes"),
                Some("this looks like an alias bomb: use fewer nested aliases".into()),
            );
        }
        self.fail(
            mark,
            format!("document expands to more than {MAX_EXPANDED_BYTES} bytes"),
            Some(
                "this looks like an alias bomb: an alias repeats a large value; write it once"
                    .into(),
            ),
        )
    }

    /// Dotted path of the innermost open container and the entry being read in it. Built only
    /// when reading fails.
    fn current_path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            match frame {
                Frame::Sequence { items, .. } => path.push_str(&format!("[{}]", items.len())),
                Frame::Mapping {
                    pending_key: Some(key),
                    ..
                } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&key.text);
                }
                Frame::Mapping { .. } => {}
            }
        }
        if path.is_empty() {
            ROOT.to_owned()
        } else {
            path
        }
    }

    fn awaiting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Mapping {
                pending_key: None,
                ..
            })
        )
    }

    /// Records a container's start and returns its index in the source map.
    fn open(&mut self, mark: Mark, shape: Shape) -> Result<usize, Vec<SyntaxError>> {
        if self.awaiting_key() {
            return Err(self.fail(
                mark,
                "a mapping key must be a plain value, not a list or mapping".into(),
                None,
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.fail(
                mark,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                Some("a provider definition needs only a few levels; check the indentation".into()),
            ));
        }
        self.count(Size { nodes: 1, bytes: 0 }, mark)?;
        // The parser places a block mapping's start at its first key; the root is the file.
        let mark = if self.stack.is_empty() {
            Mark::FILE_START
        } else {
            mark
        };
        Ok(self.record(mark, shape))
    }

    /// Records where the node about to be attached is written, with its key if it has one.
    fn record(&mut self, value: Mark, shape: Shape) -> usize {
        let key = match self.stack.last() {
            Some(Frame::Mapping {
                pending_key: Some(key),
                ..
            }) => Some(Key {
                text: &key.text,
                mark: key.mark,
                style: key.style,
            }),
            _ => None,
        };
        self.map.push(key, value, shape)
    }

    /// A scalar read where a mapping expects a key.
    fn key(&mut self, key: Value, mark: Mark, style: TScalarStyle) -> Result<(), Vec<SyntaxError>> {
        let text = match key {
            Value::String(text) => text,
            Value::Null => "null".to_owned(),
            other => other.to_string(),
        };
        let duplicate = matches!(
            self.stack.last(),
            Some(Frame::Mapping { entries, .. }) if entries.contains_key(&self.entries, &text)
        );
        if duplicate {
            let mut path = self.current_path();
            if path == ROOT {
                path.clear();
            } else {
                path.push('.');
            }
            path.push_str(&text);
            return Err(vec![SyntaxError::at(
                mark.position(),
                path,
                format!("duplicate key `{text}`"),
                Some("each key may appear once in a mapping: merge the two entries".into()),
            )]);
        }
        if let Some(Frame::Mapping { pending_key, .. }) = self.stack.last_mut() {
            *pending_key = Some(PendingKey { text, mark, style });
        }
        Ok(())
    }

    /// A whole node (scalar or container, of `size`) is complete: remember it under its
    /// anchor, if any, and attach it to its parent.
    fn complete(&mut self, value: Value, anchor: usize, size: Size) {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        self.attach(value);
    }

    fn attach(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Sequence { items, .. }) => items.push(value),
            Some(Frame::Mapping {
                entries,
                pending_key,
                ..
            }) => {
                if let Some(key) = pending_key.take() {
                    entries.insert(&mut self.entries, key.text, value);
                }
            }
        }
    }
}
