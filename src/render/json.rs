//! `render --format json`'s text: exactly what `serde_json::to_string_pretty` writes, for less.
//!
//! serde_json's `PrettyFormatter` writes a line break, then its two-space indent once per
//! level, each as a separate write, a large share of the cost of serializing the table.
//! [`Indented`] writes the comma, the line break and the
//! whole indentation between two values as one slice of [`SEPARATOR`]. Every other byte is left
//! to serde_json, so the text is the same byte for byte (`same_text_as_serde_json_pretty`).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// Levels of nesting whose indentation [`SEPARATOR`] holds; deeper ones are written in parts.
const LEVELS: usize = 32;

/// `,` then a line break then the indentation of [`LEVELS`] levels: each separator between two
/// values of an array or an object, or before a closing bracket, is a slice of it.
const SEPARATOR: [u8; 2 + 2 * LEVELS] = {
    let mut bytes = [b' '; 2 + 2 * LEVELS];
    bytes[0] = b',';
    bytes[1] = b'\n';
    bytes
};

/// Room for the JSON of one resolved provider, which is a few KB to about 20 KB. serde_json
/// starts from 128 bytes, and growing from there copied the text once more, a noticeable part
/// of the cost of serializing it.
const CAPACITY: usize = 32 << 10;

/// Serializes `value` as `serde_json::to_string_pretty` does.
pub(crate) fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut bytes = Vec::with_capacity(CAPACITY);
    value
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut bytes,
            Indented::default(),
        ))
        .expect("a rendered value always serializes");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

/// serde_json's `PrettyFormatter` with its default two-space indent, each separator written at
/// once.
#[derive(Debug, Default)]
struct Indented {
    /// Levels of nesting open.
    level: usize,
    /// Whether the array or object just ended held a value (so `]` or `}` goes on its own line).
    has_value: bool,
}

impl Indented {
    /// Writes a line break and the current indentation, after a comma when `comma`.
    fn separator<W: ?Sized + Write>(&self, writer: &mut W, comma: bool) -> io::Result<()> {
        let start = usize::from(!comma);
        match SEPARATOR.get(start..2 + 2 * self.level) {
            Some(bytes) => writer.write_all(bytes),
            None => {
                writer.write_all(&SEPARATOR[start..])?;
                for _ in LEVELS..self.level {
                    writer.write_all(b"  ")?;
                }
                Ok(())
            }
        }
    }
}

impl Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.separator(writer, false)?;
        }
        writer.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.separator(writer, !first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.separator(writer, false)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.separator(writer, !first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn same_text_as_serde_json_pretty() {
        let mut deep = json!("bottom");
        for level in 0..(LEVELS + 3) {
            deep = if level % 2 == 0 {
                json!([deep, [], {}])
            } else {
                json!({ "k": deep, "e": [], "o": {} })
            };
        }
        let values: Vec<Value> = vec![
            json!(null),
            json!([]),
            json!({}),
            json!([[]]),
            json!({ "a": {} }),
            json!("line\nbreak \"quoted\" \u{1} é"),
            json!({ "a": [1, 2.5, true, null], "b": { "c": [{}], "d": "x" } }),
            deep,
        ];
        for value in &values {
            assert_eq!(
                to_string_pretty(value),
                serde_json::to_string_pretty(value).unwrap()
            );
        }
    }
}
