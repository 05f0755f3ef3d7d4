//! YAML text to a document tree plus a source map, parsed once.
//!
//! The JSON Schema check and serde both read the document, while diagnostics must point into
//! the user's YAML. So the YAML is parsed once, event by event (`builder`), into a `Tree`
//! (an arena both of them read in place, see `tree`) and a [`SourceMap`] of where every key and
//! value is written. A `serde_json::Value` of the document is built only when asked for
//! ([`Document::value`]). Scalars are typed by the YAML 1.2 core schema (`scalar`); scanner
//! errors are reworded to point where the fix goes (`yaml_error`). Hostile input is bounded:
//! file size here, nesting depth and the node count after alias expansion (alias bombs) in the
//! builder, all with hard limits that end in an error, never in a hang or unbounded memory.

mod builder;
pub(crate) mod lines;
mod pointer;
mod scalar;
mod scalar_end;
mod source_map;
mod tree;
mod yaml_error;

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

pub use lines::{Position, Region, Span};
pub(crate) use pointer::{escape_pointer_token, unescape_pointer_token};
pub use source_map::{NodeSpan, SourceMap};
pub(crate) use tree::{NodeRef, Tree};

/// Largest definition file accepted, in bytes. Real definitions are tens of kilobytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of mappings and sequences accepted. The format itself needs five levels.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may hold after aliases are expanded.
pub const MAX_NODES: usize = 200_000;
/// Most bytes of keys and scalars a document may hold after aliases are expanded: twice what
/// a file may hold, so that aliases can repeat a section but not blow one large scalar up
/// (a 1 MB string aliased 3,000 times is 3 GB in memory with only 3,000 nodes).
pub const MAX_EXPANDED_BYTES: usize = 2 * MAX_FILE_BYTES;

/// How the top of a document is named in paths.
pub const ROOT: &str = "<root>";

/// A parsed YAML document: its content and where each part of it was written.
#[derive(Debug, Clone)]
pub struct Document {
    /// The content, read in place by the schema check and serde.
    tree: Tree,
    /// The content as JSON, built on first use (diagnostics, the language server).
    value: OnceLock<Value>,
    /// Positions of every key and value.
    pub map: SourceMap,
}

impl Document {
    fn new(tree: Tree, map: SourceMap) -> Self {
        Document {
            tree,
            value: OnceLock::new(),
            map,
        }
    }

    /// The document as JSON. Built on the first call, as a valid file never needs it: that
    /// saves every mapping a hash table.
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| self.tree.root().to_value())
    }

    /// The document as JSON, taken out of the document.
    pub fn into_value(self) -> Value {
        match self.value.into_inner() {
            Some(value) => value,
            None => self.tree.root().to_value(),
        }
    }

    /// The top node, for the schema check.
    pub(crate) fn root(&self) -> NodeRef<'_> {
        self.tree.root()
    }

    /// Reads the document as `T`, as `T::deserialize(document.value())` would, without building
    /// the value. The error, if any, is serde_json's own: a document that does not read is
    /// read again from its value for it, so every message stays the one serde_json gives.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        T::deserialize(self.root()).or_else(|_| T::deserialize(self.value()))
    }
}

/// A problem found while reading YAML text, before any schema or semantic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the problem is: the character the reader stopped at (an empty span at a line
    /// break or the end of the file).
    pub region: Region,
    /// Dotted path of the node being read when the problem was found (`<root>` at the top).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when that is known.
    pub hint: Option<String>,
    /// Whether the text is badly written YAML or cannot be read at all.
    pub cause: SyntaxCause,
}

/// What a [`SyntaxError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxCause {
    /// The text is not well-formed YAML, or repeats a key in a mapping: an edit at the place
    /// fixes it.
    Yaml,
    /// The text cannot be read as a definition at all: it is not UTF-8, or it is past a size,
    /// nesting or alias-expansion limit.
    Input,
    /// A line holds a key without `: value` (a key being typed). It is well-formed YAML but
    /// for that line, so the rest of the document can still be read without it.
    KeyWithoutValue,
}

impl SyntaxError {
    /// An error at a line and column; [`parse`] fills in the byte range before returning it.
    fn at(position: Position, path: String, message: String, hint: Option<String>) -> Self {
        SyntaxError {
            region: Region {
                start: position,
                end: position,
                span: Span::default(),
            },
            path,
            message,
            hint,
            cause: SyntaxCause::Yaml,
        }
    }

    /// The same error, about text that cannot be read at all (a limit, an encoding).
    fn unreadable(mut self) -> Self {
        self.cause = SyntaxCause::Input;
        self
    }

    /// Where the problem starts.
    pub fn position(&self) -> Position {
        self.region.start
    }
}

/// Decodes a file's bytes as UTF-8, the only encoding YAML files are read in. A byte that is
/// not UTF-8 is reported at its line and column (counted over the valid text before it), so
/// the user can find it in an editor that shows it as a replacement character. (The error is
/// boxed: it is rare, and larger than the text's handle.)
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String, Box<SyntaxError>> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let valid = error.utf8_error().valid_up_to();
        let bad = error.utf8_error().error_len().unwrap_or(bytes.len() - valid);
        // Everything before the bad byte is valid UTF-8.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let skipped = if before.starts_with('\u{feff}') { 3 } else { 0 };
        let lines = lines::line_starts(before, skipped);
        let start = lines::position_in(before, &lines, valid);
        let shown: Vec<String> = bytes[valid..valid + bad]
            .iter()
            .map(|byte| format!("0x{byte:02X}"))
            .collect();
        Box::new(SyntaxError {
            region: Region {
                start,
                end: Position {
                    line: start.line,
                    column: start.column + 1,
                },
                span: Span {
                    start: valid,
                    end: valid + bad,
                },
            },
            path: ROOT.into(),
            message: format!(
                "the file is not valid UTF-8: byte {} here is not part of a character",
                shown.join(" ")
            ),
            hint: Some(
                "save the file as UTF-8 (a Latin-1 or Windows-1252 editor setting writes such bytes)"
                    .into(),
            ),
            cause: SyntaxCause::Input,
        })
    })
}

/// Reads `text` as YAML events only and refuses nesting deeper than [`MAX_DEPTH`]: the check
/// to run before another YAML reader sees text from outside (serde_yaml's scanner takes time
/// quadratic in the nesting depth before its own recursion limit fires; this reader stops at
/// the limit at once). A syntax error is returned as well, at its place (boxed, as it is rare).
pub(crate) fn check_nesting(text: &str) -> Result<(), Box<SyntaxError>> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (event, marker) = parser
            .next_token()
            .map_err(|error| Box::new(yaml_error::scan_error(&error, ROOT.into())))?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Box::new(
                        SyntaxError::at(
                            Position::from_marker(&marker),
                            ROOT.into(),
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                            None,
                        )
                        .unreadable(),
                    ));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::StreamEnd => return Ok(()),
            _ => {}
        }
    }
}

/// Parses YAML text into a [`Document`]. A leading UTF-8 byte-order mark is skipped (it is not
/// counted in columns, but byte offsets count it, as they are offsets into `text`).
pub fn parse(text: &str) -> Result<Document, Vec<SyntaxError>> {
    let skipped = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let result = if text.len() > MAX_FILE_BYTES {
        Err(vec![
            SyntaxError::at(
                Position::START,
                ROOT.into(),
                format!(
                    "file is {} bytes, more than the {} bytes a definition may have",
                    text.len(),
                    MAX_FILE_BYTES
                ),
                Some("split the file, or check that this is a provider definition".into()),
            )
            .unreadable(),
        ])
    } else {
        let body = &text[skipped..];
        builder::Builder::new(body, SourceMap::new(text, skipped))
            .run()
            .map_err(|errors| yaml_error::reword(body, errors))
    };
    result.map_err(|errors| {
        let lines = lines::line_starts(text, skipped);
        errors
            .into_iter()
            .map(|mut error| {
                let offset = lines::offset_in(text, &lines, error.region.start);
                error.region = lines::region_in(text, &lines, Span::char_at(text, offset));
                error
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(text: &str, pointer: &str) -> (Option<Position>, Position) {
        let document = parse(text).expect("valid yaml");
        let span = document.map.node(pointer);
        (span.key.map(|key| key.start), span.value.start)
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
        let v = document.value();
        assert_eq!(v["a"], Value::from(1));
        assert_eq!(v["b"], Value::from("1"));
        assert_eq!(v["c"], Value::from(true));
        assert_eq!(v["d"], Value::from("no"));
        assert_eq!(v["e"], Value::Null);
        assert_eq!(v["f"], Value::from(1.5));
        assert_eq!(v["g"], Value::from("com.au"));
        assert_eq!(v["h"], Value::from(31));
        let signed = parse("a: -0x1F\nb: +0o17\nc: -12\n").unwrap().into_value();
        assert_eq!(
            signed["a"],
            Value::from("-0x1F"),
            "a sign does not go with hex"
        );
        assert_eq!(signed["b"], Value::from("+0o17"));
        assert_eq!(signed["c"], Value::from(-12));
    }

    #[test]
    fn expands_aliases_and_places_them_at_the_alias() {
        let document = parse("base: &b\n  x: 1\ncopy: *b\n").unwrap();
        assert_eq!(document.value()["copy"]["x"], Value::from(1));
        assert_eq!(
            document.map.value_position("/copy/x"),
            Position { line: 3, column: 7 }
        );
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second_key() {
        let errors = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(errors[0].position(), Position { line: 3, column: 1 });
        assert!(errors[0].message.contains("duplicate key `a`"));
    }

    #[test]
    fn long_mappings_keep_their_order_and_refuse_duplicates_at_any_length() {
        // Past 16 keys the builder checks for duplicates with a hash set, not by comparing keys.
        for count in [3, 16, 17, 40] {
            let keys: Vec<String> = (0..count).map(|i| format!("k{}", count - i)).collect();
            let text: String = keys.iter().map(|key| format!("{key}: 1\n")).collect();
            let document = parse(&format!("m:\n{}", text.replace("k", "  k"))).unwrap();
            let read: Vec<&String> = document.value()["m"].as_object().unwrap().keys().collect();
            assert_eq!(read, keys.iter().collect::<Vec<_>>(), "{count} keys");

            let twice = format!("m:\n{}  {}: 2\n", text.replace("k", "  k"), keys[0]);
            let errors = parse(&twice).unwrap_err();
            assert_eq!(
                errors[0].position(),
                Position {
                    line: count + 2,
                    column: 3
                },
                "{count} keys"
            );
            assert_eq!(errors[0].message, format!("duplicate key `{}`", keys[0]));
            assert_eq!(errors[0].path, format!("m.{}", keys[0]));
        }
    }

    #[test]
    fn rejects_tab_indentation_where_the_tab_is() {
        let errors = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(errors[0].position(), Position { line: 2, column: 1 });
        assert!(errors[0].message.contains("tab"));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let errors = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(errors[0].message.starts_with("YAML syntax error"));
        assert!(errors[0].position().line >= 1);
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
        assert_eq!(errors[0].position().line, 2);
    }

    /// The source text of the key and value at `pointer`.
    fn texts<'t>(document: &'t Document, pointer: &str) -> (Option<&'t str>, &'t str) {
        let node = document.map.node(pointer);
        let text = document.map.text();
        (
            node.key.map(|key| &text[key.span.start..key.span.end]),
            &text[node.value.span.start..node.value.span.end],
        )
    }

    #[test]
    fn spans_cover_whole_keys_and_values() {
        let text = "id: zoho # the id\nauthorization:\n  url: \"https://x/a b\"  # c\n  params:\n    prompt: 'it''s'\n  scopes: [a, 'b c', {d: e}]\n";
        let document = parse(text).unwrap();
        assert_eq!(texts(&document, "/id"), (Some("id"), "zoho"));
        assert_eq!(
            texts(&document, "/authorization/url"),
            (Some("url"), "\"https://x/a b\"")
        );
        assert_eq!(
            texts(&document, "/authorization/params/prompt"),
            (Some("prompt"), "'it''s'")
        );
        assert_eq!(
            texts(&document, "/authorization/scopes"),
            (Some("scopes"), "[a, 'b c', {d: e}]")
        );
        assert_eq!(texts(&document, "/authorization/scopes/1"), (None, "'b c'"));
        assert_eq!(
            texts(&document, "/authorization/scopes/2/d"),
            (Some("d"), "e")
        );
        let (_, section) = texts(&document, "/authorization");
        assert!(section.starts_with("url:"), "{section}");
        assert!(section.ends_with("{d: e}]"), "{section}");
    }

    #[test]
    fn spans_of_block_scalars_aliases_and_missing_values() {
        let text = "a: |\n  one\n  two\n\nb: &x [1]\nc: *x\nd:\ne: plain words here\n";
        let document = parse(text).unwrap();
        assert_eq!(
            texts(&document, "/a").1,
            "one\n  two",
            "the content, where the parser marks it"
        );
        assert_eq!(
            texts(&document, "/b").1,
            "[1]",
            "the parser marks the node after its anchor"
        );
        assert_eq!(texts(&document, "/c").1, "*x");
        assert_eq!(
            texts(&document, "/c/0").1,
            "*x",
            "inside an alias: the alias"
        );
        assert_eq!(texts(&document, "/d"), (Some("d"), ""));
        assert_eq!(texts(&document, "/e").1, "plain words here");
    }

    #[test]
    fn regions_carry_both_ends_as_lines_and_columns() {
        let document = parse("list:\n  - code: us\n    name: \"United States\"\n").unwrap();
        let value = document.map.value_region("/list/0/name");
        assert_eq!(
            value.start,
            Position {
                line: 3,
                column: 11
            }
        );
        assert_eq!(
            value.end,
            Position {
                line: 3,
                column: 26
            }
        );
        let item = document.map.value_region("/list/0");
        assert_eq!(item.start, Position { line: 2, column: 5 });
        assert_eq!(
            item.end,
            Position {
                line: 3,
                column: 26
            }
        );
        let root = document.map.key_region("");
        assert_eq!(
            (root.start, root.span.start, root.span.end),
            (Position::START, 0, 0)
        );
    }

    #[test]
    fn pointer_tokens_are_unescaped_when_looked_up() {
        let document = parse("paths:\n  a/b: 1\n  c~d: 2\n").unwrap();
        assert_eq!(texts(&document, "/paths/a~1b"), (Some("a/b"), "1"));
        assert_eq!(texts(&document, "/paths/c~0d"), (Some("c~d"), "2"));
    }

    #[test]
    fn stops_an_alias_bomb_built_on_one_large_scalar() {
        let mut text = format!("big: &big {}\ncopies:\n", "x".repeat(1_000_000));
        for _ in 0..3_000 {
            text.push_str("  - *big\n");
        }
        let errors = parse(&text).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("expands to more than 8388608 bytes"),
            "{errors:?}"
        );
        // Refused at the alias that crossed the limit, before copying it: the eighth copy.
        assert_eq!(errors[0].position().line, 10);
        assert_eq!(errors[0].path, "copies[7]");
    }
}
