//! YAML text to a JSON value plus a source map, parsed once.
//!
//! The JSON Schema check and serde both work on `serde_json::Value`, while diagnostics must
//! point into the user's YAML. So the YAML is parsed once, event by event, into a JSON value and
//! a map from JSON pointer to the line and column of every key and value. Hostile input is
//! bounded here: file size, nesting depth, and the node count after alias expansion (alias
//! bombs) all have hard limits that end in an error, never in a hang or unbounded memory.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest definition file accepted, in bytes. Real definitions are tens of kilobytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of mappings and sequences accepted. The format itself needs five levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may hold after aliases are expanded.
pub const MAX_NODES: usize = 200_000;

/// How the top of a document is named in paths.
pub const ROOT: &str = "<root>";

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

    fn from_marker(marker: &Marker) -> Self {
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

    fn insert(&mut self, pointer: String, span: NodeSpan) {
        self.spans.insert(pointer, span);
    }
}

/// A parsed YAML document: the value and where each part of it was written.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document as JSON, ready for the schema check and serde.
    pub value: Value,
    /// Positions of every key and value.
    pub map: SourceMap,
}

/// A problem found while reading YAML text, before any schema or semantic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the problem is.
    pub position: Position,
    /// Dotted path of the node being read when the problem was found (`<root>` at the top).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when that is known.
    pub hint: Option<String>,
}

/// Escapes one JSON pointer token (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Parses YAML text into a [`Document`].
pub fn parse(text: &str) -> Result<Document, Vec<SyntaxError>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![SyntaxError {
            position: Position::START,
            path: ROOT.into(),
            message: format!(
                "file is {} bytes, more than the {} bytes a definition may have",
                text.len(),
                MAX_FILE_BYTES
            ),
            hint: Some("split the file, or check that this is a provider definition".into()),
        }]);
    }
    Builder::new(text).run().map_err(|errors| {
        // The scanner's message for a tab in indentation is easy to misread; when a tab
        // indents a line at or before the error, point at the tab itself.
        match tab_indentation(text) {
            Some((line, column)) if errors.iter().any(|e| e.position.line >= line) => {
                vec![SyntaxError {
                    position: Position { line, column },
                    path: ROOT.into(),
                    message: "tab character used for indentation".into(),
                    hint: Some("YAML indents with spaces only: replace the tab with spaces".into()),
                }]
            }
            _ => errors,
        }
    })
}

/// Finds the first tab in a line's leading whitespace, which YAML forbids as indentation.
fn tab_indentation(text: &str) -> Option<(usize, usize)> {
    for (index, line) in text.lines().enumerate() {
        for (column, ch) in line.chars().enumerate() {
            match ch {
                ' ' => continue,
                '\t' => return Some((index + 1, column + 1)),
                _ => break,
            }
        }
    }
    None
}

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

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    map: SourceMap,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    root: Option<Value>,
    documents: usize,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
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

    fn run(mut self) -> Result<Document, Vec<SyntaxError>> {
        loop {
            let (event, marker) = match self.parser.next_token() {
                Ok(next) => next,
                Err(error) => {
                    return Err(vec![SyntaxError {
                        position: Position::from_marker(error.marker()),
                        path: self.current_path(),
                        message: format!("YAML syntax error: {}", error.info()),
                        hint: None,
                    }]);
                }
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
                    self.node(value, anchor, position)?;
                }
                Event::Alias(id) => {
                    let Some((value, size)) = self.anchors.get(&id).cloned() else {
                        return Err(self.fail(position, "alias to an unknown anchor".into(), None));
                    };
                    self.count(size, position)?;
                    self.place(value, 0, position)?;
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
                    self.finish(value, anchor, position)?;
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
    fn node(
        &mut self,
        value: Value,
        anchor: usize,
        position: Position,
    ) -> Result<(), Vec<SyntaxError>> {
        self.count(1, position)?;
        if self.awaiting_key() {
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
                    hint: Some(
                        "each key may appear once in a mapping: merge the two entries".into(),
                    ),
                }]);
            }
            if let Some(Frame::Mapping { pending_key, .. }) = self.stack.last_mut() {
                *pending_key = Some((key, position));
            }
            return Ok(());
        }
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        self.map.insert(
            pointer,
            NodeSpan {
                key,
                value: position,
            },
        );
        self.finish_scalar(value, anchor, position)
    }

    fn finish_scalar(
        &mut self,
        value: Value,
        anchor: usize,
        position: Position,
    ) -> Result<(), Vec<SyntaxError>> {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), 1));
        }
        self.attach(value, position)
    }

    /// A whole container is complete.
    fn finish(
        &mut self,
        value: Value,
        anchor: usize,
        position: Position,
    ) -> Result<(), Vec<SyntaxError>> {
        if anchor != 0 {
            let size = node_count(&value);
            self.anchors.insert(anchor, (value.clone(), size));
        }
        self.attach(value, position)
    }

    /// A value from an alias: placed like any other node, at the alias's position.
    fn place(
        &mut self,
        value: Value,
        anchor: usize,
        position: Position,
    ) -> Result<(), Vec<SyntaxError>> {
        if self.awaiting_key() {
            return Err(self.fail(
                position,
                "an alias cannot be used as a mapping key".into(),
                None,
            ));
        }
        let pointer = self.child_pointer();
        let key = self.pending_key_position();
        self.map.insert(
            pointer,
            NodeSpan {
                key,
                value: position,
            },
        );
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), node_count(&value)));
        }
        self.attach(value, position)
    }

    fn attach(&mut self, value: Value, _position: Position) -> Result<(), Vec<SyntaxError>> {
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
        Ok(())
    }
}

fn node_count(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Value::Object(entries) => 1 + entries.values().map(|v| 1 + node_count(v)).sum::<usize>(),
        _ => 1,
    }
}

/// Resolves a scalar with the YAML 1.2 core schema: plain `true`, `12`, `null` are typed,
/// anything quoted (or tagged `!!str`) stays a string. `yes`/`no`/`on` stay strings.
fn scalar_value(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
        && tag.suffix == "str"
    {
        return Value::String(text.to_owned());
    }
    if style != TScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = parse_integer(text) {
        return Value::Number(number);
    }
    if looks_like_float(text) {
        if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(number);
        }
    }
    Value::String(text.to_owned())
}

fn parse_integer(text: &str) -> Option<Number> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = digits.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(octal) = digits.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok().map(Number::from);
    }
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(Number::from)
}

fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(text: &str, pointer: &str) -> (Option<Position>, Position) {
        let document = parse(text).expect("valid yaml");
        let span = document.map.span(pointer);
        (span.key, span.value)
    }

    #[test]
    fn maps_keys_and_values_to_one_based_positions() {
        let text = "id: zoho\nauthorization:\n  url: https://x\n  params:\n    prompt: consent\n";
        let (key, value) = positions(text, "/authorization/url");
        assert_eq!(key, Some(Position { line: 3, column: 3 }));
        assert_eq!(value, Position { line: 3, column: 8 });
        let (key, _) = positions(text, "/authorization/params/prompt");
        assert_eq!(key, Some(Position { line: 5, column: 5 }));
    }

    #[test]
    fn maps_sequence_items() {
        let text = "list:\n  - code: us\n  - code: eu\n";
        let (key, value) = positions(text, "/list/1/code");
        assert_eq!(key, Some(Position { line: 3, column: 5 }));
        assert_eq!(
            value,
            Position {
                line: 3,
                column: 11
            }
        );
    }

    #[test]
    fn unknown_pointer_falls_back_to_nearest_ancestor() {
        let text = "a:\n  b: 1\n";
        let document = parse(text).unwrap();
        assert_eq!(
            document.map.key_position("/a/b/c/d"),
            Position { line: 2, column: 3 }
        );
        assert_eq!(
            document.map.key_position("/zzz"),
            Position { line: 1, column: 1 }
        );
    }

    #[test]
    fn resolves_scalars_with_the_yaml_1_2_core_schema() {
        let document =
            parse("a: 1\nb: '1'\nc: true\nd: no\ne: ~\nf: 1.5\ng: com.au\nh: 0x1F\n").unwrap();
        let v = &document.value;
        assert_eq!(v["a"], Value::from(1));
        assert_eq!(v["b"], Value::from("1"));
        assert_eq!(v["c"], Value::from(true));
        assert_eq!(v["d"], Value::from("no"));
        assert_eq!(v["e"], Value::Null);
        assert_eq!(v["f"], Value::from(1.5));
        assert_eq!(v["g"], Value::from("com.au"));
        assert_eq!(v["h"], Value::from(31));
    }

    #[test]
    fn expands_aliases_and_places_them_at_the_alias() {
        let document = parse("base: &b\n  x: 1\ncopy: *b\n").unwrap();
        assert_eq!(document.value["copy"]["x"], Value::from(1));
        assert_eq!(
            document.map.value_position("/copy/x"),
            Position { line: 3, column: 7 }
        );
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second_key() {
        let errors = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(errors[0].position, Position { line: 3, column: 1 });
        assert!(errors[0].message.contains("duplicate key `a`"));
    }

    #[test]
    fn rejects_tab_indentation_where_the_tab_is() {
        let errors = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(errors[0].position, Position { line: 2, column: 1 });
        assert!(errors[0].message.contains("tab"));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let errors = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(errors[0].message.starts_with("YAML syntax error"));
        assert!(errors[0].position.line >= 1);
    }

    #[test]
    fn stops_an_alias_bomb() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let errors = parse(&text).unwrap_err();
        assert!(
            errors[0].message.contains("expands to more than"),
            "{errors:?}"
        );
    }

    #[test]
    fn stops_deep_block_nesting() {
        let text: String = (0..200)
            .map(|depth| format!("{}k{depth}:\n", "  ".repeat(depth)))
            .collect();
        let errors = parse(&text).unwrap_err();
        assert!(
            errors[0].message.contains("nesting deeper than 64"),
            "{errors:?}"
        );
    }

    #[test]
    fn stops_deep_flow_nesting() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let errors = parse(&text).unwrap_err();
        assert!(errors[0].message.contains("recursion limit"), "{errors:?}");
    }

    #[test]
    fn refuses_huge_files() {
        let text = "#".repeat(MAX_FILE_BYTES + 1);
        let errors = parse(&text).unwrap_err();
        assert!(errors[0].message.contains("bytes"));
    }

    #[test]
    fn rejects_a_second_document() {
        let errors = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(errors[0].message.contains("more than one YAML document"));
        assert_eq!(errors[0].position.line, 2);
    }
}
