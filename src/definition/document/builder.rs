//! The event builder: YAML parser events to a JSON value and its source map, in one pass.
//!
//! Hostile input is bounded here: nesting depth and the node count after alias expansion
//! (alias bombs) have hard limits that end in an error, never in a hang or unbounded memory.

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser};

use super::scalar::scalar_value;
use super::source_map::{NodeSpan, Position, SourceMap, escape_pointer_token};
use super::yaml_error::scan_error;
use super::{Document, MAX_DEPTH, MAX_NODES, ROOT, SyntaxError};

/// A container being filled while events arrive.
enum Frame {
    Sequence {
        pointer: String,
        anchor: usize,
        items: Vec<Value>,
    },
    Mapping {
        pointer: String,
        anchor: usize,
        entries: Map<String, Value>,
        /// The key read, waiting for its value.
        pending_key: Option<(String, Position)>,
    },
}

/// Builds one document from parser events.
pub(super) struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    map: SourceMap,
    stack: Vec<Frame>,
    /// Anchored values with their node counts, for alias expansion.
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    root: Option<Value>,
    documents: usize,
}

impl<'a> Builder<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            map: SourceMap::default(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            root: None,
            documents: 0,
        }
    }

    pub(super) fn run(mut self) -> Result<Document, Vec<SyntaxError>> {
        loop {
            let (event, marker) = match self.parser.next_token() {
                Ok(next) => next,
                Err(error) => return Err(vec![scan_error(&error, self.current_path())]),
            };
            let position = Position::from_marker(&marker);
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(self.fail(
                            position,
                            "more than one YAML document in the file".into(),
                            Some("keep one provider per file; remove the extra `---`".into()),
                        ));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let value = scalar_value(&text, style, tag.as_ref());
                    self.scalar(value, anchor, position)?;
                }
                Event::Alias(id) => {
                    let Some((value, size)) = self.anchors.get(&id).cloned() else {
                        return Err(self.fail(position, "alias to an unknown anchor".into(), None));
                    };
                    self.count(size, position)?;
                    self.alias(value, position)?;
                }
                Event::SequenceStart(anchor, _) => {
                    let pointer = self.open(position)?;
                    self.stack.push(Frame::Sequence {
                        pointer,
                        anchor,
                        items: Vec::new(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    let pointer = self.open(position)?;
                    self.stack.push(Frame::Mapping {
                        pointer,
                        anchor,
                        entries: Map::new(),
                        pending_key: None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (value, anchor) = match self.stack.pop() {
                        Some(Frame::Sequence { items, anchor, .. }) => {
                            (Value::Array(items), anchor)
                        }
                        Some(Frame::Mapping {
                            entries, anchor, ..
                        }) => (Value::Object(entries), anchor),
                        None => continue,
                    };
                    self.complete(value, anchor);
                }
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            }
        }
        Ok(Document {
            value: self.root.unwrap_or(Value::Null),
            map: self.map,
        })
    }

    fn fail(&self, position: Position, message: String, hint: Option<String>) -> Vec<SyntaxError> {
        vec![SyntaxError {
            position,
            path: self.current_path(),
            message,
            hint,
        }]
    }

    fn count(&mut self, nodes: usize, position: Position) -> Result<(), Vec<SyntaxError>> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(self.fail(
                position,
                format!("document expands to more than {MAX_NODES} nodes"),
                Some("this looks like an alias bomb: use fewer nested aliases".into()),
            ));
        }
        Ok(())
    }

    /// Pointer of the node about to be placed at the top of the stack.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Sequence { pointer, items, .. }) => format!("{pointer}/{}", items.len()),
            Some(Frame::Mapping {
                pointer,
                pending_key,
                ..
            }) => match pending_key {
                Some((key, _)) => format!("{pointer}/{}", escape_pointer_token(key)),
                None => pointer.clone(),
            },
        }
    }

    /// Dotted path of the innermost open container and the entry being read in it.
    fn current_path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            let part = match frame {
                Frame::Sequence { items, .. } => format!("[{}]", items.len()),
                Frame::Mapping {
                    pending_key: Some((key, _)),
                    ..
                } => {
                    if path.is_empty() {
                        key.clone()
                    } else {
                        format!(".{key}")
                    }
                }
                Frame::Mapping { .. } => String::new(),
            };
            path.push_str(&part);
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

    /// Records a container's start and returns its pointer.
    fn open(&mut self, position: Position) -> Result<String, Vec<SyntaxError>> {
        if self.awaiting_key() {
            return Err(self.fail(
                position,
                "a mapping key must be a plain value, not a list or mapping".into(),
                None,
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.fail(
                position,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                Some("a provider definition needs only a few levels; check the indentation".into()),
            ));
        }
        self.count(1, position)?;
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        // The parser places a block mapping's start after its first key; the root is the file.
        let value = if self.stack.is_empty() {
            Position::START
        } else {
            position
        };
        self.map.insert(pointer.clone(), NodeSpan { key, value });
        Ok(pointer)
    }

    fn pending_key_position(&self) -> Option<Position> {
        match self.stack.last() {
            Some(Frame::Mapping {
                pending_key: Some((_, position)),
                ..
            }) => Some(*position),
            _ => None,
        }
    }

    /// A scalar arrived: either a mapping key or a value.
    fn scalar(
        &mut self,
        value: Value,
        anchor: usize,
        position: Position,
    ) -> Result<(), Vec<SyntaxError>> {
        self.count(1, position)?;
        if self.awaiting_key() {
            return self.key(value, position);
        }
        self.record(position);
        self.complete(value, anchor);
        Ok(())
    }

    /// A scalar read where a mapping expects a key.
    fn key(&mut self, value: Value, position: Position) -> Result<(), Vec<SyntaxError>> {
        let key = match value {
            Value::String(text) => text,
            Value::Null => "null".to_owned(),
            other => other.to_string(),
        };
        let duplicate = matches!(
            self.stack.last(),
            Some(Frame::Mapping { entries, .. }) if entries.contains_key(&key)
        );
        if duplicate {
            let mut path = self.current_path();
            if path == ROOT {
                path.clear();
            } else {
                path.push('.');
            }
            path.push_str(&key);
            return Err(vec![SyntaxError {
                position,
                path,
                message: format!("duplicate key `{key}`"),
                hint: Some("each key may appear once in a mapping: merge the two entries".into()),
            }]);
        }
        if let Some(Frame::Mapping { pending_key, .. }) = self.stack.last_mut() {
            *pending_key = Some((key, position));
        }
        Ok(())
    }

    /// A value from an alias: placed like any other node, at the alias's position.
    fn alias(&mut self, value: Value, position: Position) -> Result<(), Vec<SyntaxError>> {
        if self.awaiting_key() {
            return Err(self.fail(
                position,
                "an alias cannot be used as a mapping key".into(),
                None,
            ));
        }
        self.record(position);
        self.attach(value);
        Ok(())
    }

    /// Records where the leaf about to be attached is written.
    fn record(&mut self, value: Position) {
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        self.map.insert(pointer, NodeSpan { key, value });
    }

    /// A whole node (scalar or container) is complete: remember it under its anchor, if any,
    /// and attach it to its parent.
    fn complete(&mut self, value: Value, anchor: usize) {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), node_count(&value)));
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
                if let Some((key, _)) = pending_key.take() {
                    entries.insert(key, value);
                }
            }
        }
    }
}

fn node_count(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Value::Object(entries) => 1 + entries.values().map(|v| 1 + node_count(v)).sum::<usize>(),
        _ => 1,
    }
}
