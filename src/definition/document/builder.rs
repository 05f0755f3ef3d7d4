//! The event builder: YAML parser events to the document's tree ([`Tree`]) and its source map,
//! in one pass.
//!
//! Each node costs the source map one small record (see [`SourceMap`]); no pointer or path
//! string is built unless reading fails. Hostile input is bounded here: nesting depth and the
//! node count after alias expansion (alias bombs) have hard limits that end in an error, never
//! in a hang or unbounded memory.

use std::collections::{HashMap, HashSet};

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use super::scalar::{Scalar, scalar_value};
use super::source_map::{Key, Mark, Shape, SourceMap};
use super::tree::Tree;
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
        /// Where its items start in [`Builder::items`].
        start: usize,
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

/// The entries of a mapping being read.
///
/// The entries (and items) of the open containers wait, innermost last, in lists shared by the
/// whole document ([`Builder::entries`], [`Builder::items`]), which stop growing after the first
/// few containers; when a container ends, its run moves to the tree at its final size. Entries
/// are only added to the innermost open mapping, and inner mappings take theirs out when they
/// end, so everything from `start` on is this mapping's whenever it is being added to.
///
/// Most mappings hold a handful of keys, and the duplicate check compares a new key with the
/// few before it. A mapping that grows past [`FEW_KEYS`] also keeps its keys in a hash set, so
/// that a file with thousands of keys in one mapping is still read in linear time.
struct Entries {
    start: usize,
    many: Option<HashSet<String>>,
}

/// Room for the entries and items of the open containers at once: the widest sequence of a
/// real definition (a scope catalog) holds a few dozen items.
const PENDING: usize = 64;

/// The most keys a mapping holds before its duplicate check uses a hash set (see [`Entries`]).
const FEW_KEYS: usize = 16;

impl Entries {
    /// Whether the innermost mapping has `key`; `shared` is [`Builder::entries`].
    fn contains_key(&self, shared: &[(String, u32)], key: &str) -> bool {
        match &self.many {
            None => shared[self.start..].iter().any(|(k, _)| k == key),
            Some(keys) => keys.contains(key),
        }
    }

    /// Adds an entry to the innermost mapping; its key is not there yet
    /// ([`Entries::contains_key`] said so).
    fn insert(&mut self, shared: &mut Vec<(String, u32)>, key: String, value: u32) {
        match &mut self.many {
            Some(keys) => {
                keys.insert(key.clone());
            }
            None if shared.len() - self.start >= FEW_KEYS => {
                let mut keys: HashSet<String> = shared[self.start..]
                    .iter()
                    .map(|(k, _)| k.clone())
                    .collect();
                keys.insert(key.clone());
                self.many = Some(keys);
            }
            None => {}
        }
        shared.push((key, value));
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
    /// Anchored nodes with their sizes: an alias shares the node and counts its size.
    anchors: HashMap<usize, (u32, Size)>,
    /// What the document holds so far, aliases expanded.
    size: Size,
    tree: Tree,
    root: Option<u32>,
    documents: usize,
    /// The entries of the open mappings, innermost last (see [`Entries`]).
    entries: Vec<(String, u32)>,
    /// The items of the open sequences, innermost last (see [`Entries`]).
    items: Vec<u32>,
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
            tree: Tree::for_text(text.len()),
            root: None,
            documents: 0,
            entries: Vec::with_capacity(PENDING),
            items: Vec::with_capacity(PENDING),
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
                        let value = self.tree.scalar(scalar_value(text, style, tag.as_ref()));
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
                    let value = self.anchors[&id].0;
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
                        start: self.items.len(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    let before = self.size;
                    let node = self.open(mark, Shape::Mapping)?;
                    self.stack.push(Frame::Mapping {
                        node,
                        anchor,
                        before,
                        entries: Entries {
                            start: self.entries.len(),
                            many: None,
                        },
                        pending_key: None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (value, node, anchor, before) = match self.stack.pop() {
                        Some(Frame::Sequence {
                            start,
                            node,
                            anchor,
                            before,
                        }) => (
                            self.tree.sequence(&mut self.items, start),
                            node,
                            anchor,
                            before,
                        ),
                        Some(Frame::Mapping {
                            entries,
                            node,
                            anchor,
                            before,
                            ..
                        }) => (
                            self.tree.mapping(&mut self.entries, entries.start),
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
        // An empty document is null.
        let root = match self.root {
            Some(root) => root,
            None => self.tree.scalar(Scalar::Null),
        };
        self.tree.set_root(root);
        Ok(Document::new(self.tree, self.map))
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
        let (message, hint) = if self.size.nodes > MAX_NODES {
            (
                format!("document expands to more than {MAX_NODES} nodes"),
                "this looks like an alias bomb: use fewer nested aliases",
            )
        } else {
            (
                format!("document expands to more than {MAX_EXPANDED_BYTES} bytes"),
                "this looks like an alias bomb: an alias repeats a large value; write it once",
            )
        };
        self.unreadable(mark, message, hint)
    }

    /// A limit that refuses the document as a whole.
    fn unreadable(&self, mark: Mark, message: String, hint: &str) -> Vec<SyntaxError> {
        self.fail(mark, message, Some(hint.to_owned()))
            .into_iter()
            .map(SyntaxError::unreadable)
            .collect()
    }

    /// Dotted path of the innermost open container and the entry being read in it. Built only
    /// when reading fails.
    fn current_path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            match frame {
                Frame::Sequence { start, .. } => {
                    path.push_str(&format!("[{}]", self.items.len() - start));
                }
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
            return Err(self.unreadable(
                mark,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                "a provider definition needs only a few levels; check the indentation",
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
    fn key(
        &mut self,
        key: Scalar,
        mark: Mark,
        style: TScalarStyle,
    ) -> Result<(), Vec<SyntaxError>> {
        let text = key.into_key();
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
    fn complete(&mut self, value: u32, anchor: usize, size: Size) {
        if anchor != 0 {
            self.anchors.insert(anchor, (value, size));
        }
        self.attach(value);
    }

    fn attach(&mut self, value: u32) {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Sequence { .. }) => self.items.push(value),
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
