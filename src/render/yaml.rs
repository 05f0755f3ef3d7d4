//! `render --format yaml`'s text: the resolved table as block YAML that every YAML reader, 1.1
//! (PyYAML, yq v3, Ruby) or 1.2, reads back as exactly the JSON output.
//!
//! A general emitter leaves a string plain when a YAML 1.2 core reader takes it for a string,
//! but YAML 1.1 readers also resolve `yes`/`on`/`n` to booleans, `12:30:00` and `0o17` to
//! numbers, `2001-12-14` to a date and a plain `=` to a value key. Rather than mirror every
//! resolver, a string is written plain only when it cannot be anything but a string in any of
//! them: it starts with an ASCII letter, holds only letters, digits, `_ . / - , ( ) '`
//! (the last four mean nothing outside flow collections, and none is written), inner single
//! spaces and `:` not followed by a space or the end, and is none of the boolean and null
//! words. Every other string is double quoted, escaped like the `quoted` template filter.

use serde::Serialize;
use serde_json::{Map, Value};

use super::templates::quoted;

/// Writes `value` (which must serialize to a JSON array) as a block YAML sequence.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let value = serde_json::to_value(value).expect("a rendered value always serializes");
    let mut out = String::new();
    match &value {
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0, false),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

/// Words some YAML reader resolves to a boolean or null when written plain (compared without
/// regard to case; quoting a harmless `YeS` costs nothing).
const RESERVED_WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// Whether `text` reads back as the same string, in every YAML version, when written plain.
fn plain_is_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    if !first.is_ascii_alphabetic() || RESERVED_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
        return false;
    }
    bytes.iter().enumerate().all(|(index, &byte)| {
        let next = bytes.get(index + 1).copied();
        match byte {
            b if b.is_ascii_alphanumeric() => true,
            b'_' | b'.' | b'/' | b'-' | b',' | b'(' | b')' | b'\'' => true,
            b':' | b' ' => next.is_some_and(|next| next != b' '),
            _ => false,
        }
    })
}

fn string(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_owned()
    } else {
        quoted(text.to_owned())
    }
}

/// A scalar or an empty collection, on the rest of its line.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => string(text),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
        // null, booleans and numbers are written as JSON writes them, which YAML reads alike.
        other => other.to_string(),
    }
}

fn indent(out: &mut String, columns: usize) {
    out.extend(std::iter::repeat_n(' ', columns));
}

/// Items `- ...` at `columns`; the first item's dash already placed when `first_inline`.
fn sequence(out: &mut String, items: &[Value], columns: usize, first_inline: bool) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 || !first_inline {
            indent(out, columns);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => mapping(out, map, columns + 2, true),
            Value::Array(inner) if !inner.is_empty() => sequence(out, inner, columns + 2, true),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// Entries `key: ...` at `columns`; the first key's column already reached when `first_inline`.
fn mapping(out: &mut String, map: &Map<String, Value>, columns: usize, first_inline: bool) {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 || !first_inline {
            indent(out, columns);
        }
        out.push_str(&string(key));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                mapping(out, inner, columns + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, columns, false);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_urls_stay_plain() {
        for text in [
            "zoho-crm",
            "Zoho CRM",
            "https://accounts.zoho.eu/oauth/v2/token",
            "a.b_c",
            "Read the user's notes (read, create).",
        ] {
            assert!(plain_is_safe(text), "{text:?}");
        }
    }

    #[test]
    fn what_a_yaml_reader_could_take_for_something_else_is_quoted() {
        for text in [
            "",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "null",
            "~",
            "12:30:00",
            "0o17",
            "0x1F",
            "017",
            "1_000",
            "2001-12-14",
            "=",
            "<<",
            " lead",
            "trail ",
            "a: b",
            "a:",
            "a #b",
            "-x",
            "@x",
            "*x",
            "&x",
            "!x",
            "%x",
            "`x",
            "|",
            ">",
            "?x",
            "'x",
            "\"x",
            "{x",
            "[x",
            ",x",
            ".inf",
            "a\nb",
            "a  b",
        ] {
            assert!(!plain_is_safe(text), "{text:?}");
        }
    }

    #[test]
    fn the_block_layout_nests_maps_and_lists() {
        let value = serde_json::json!([{"a": {"b": [1, "on"], "c": {}}, "d": [[], [true]]}]);
        assert_eq!(
            to_string(&value),
            "- a:\n    b:\n    - 1\n    - \"on\"\n    c: {}\n  d:\n  - []\n  - - true\n"
        );
        assert_eq!(to_string(&serde_json::json!([])), "[]\n");
    }
}
