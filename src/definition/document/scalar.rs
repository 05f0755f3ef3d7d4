//! Typing of plain scalars with the YAML 1.2 core schema.
//!
//! YAML 1.1 readers turn `no`, `on` and `yes` into booleans, which silently changes values such
//! as a country code; the core schema keeps them strings. Anything quoted (or tagged `!!str`)
//! stays a string.

use serde_json::{Number, Value};
use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

/// Resolves a scalar: plain `true`, `12`, `null` are typed, the rest are strings.
/// Takes the text by value: a string scalar keeps the parser's allocation.
pub(super) fn scalar_value(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
        && tag.suffix == "str"
    {
        return Value::String(text);
    }
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(number) = parse_integer(&text) {
        return Value::Number(number);
    }
    if looks_like_float(&text) {
        if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(number);
        }
    }
    Value::String(text)
}

fn parse_integer(text: &str) -> Option<Number> {
    // The core schema writes hexadecimal and octal without a sign: `-0x1F` is a string, not
    // 31 with its sign dropped.
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok().map(Number::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().map(Number::from)
}

fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    // `all` before `any`: it stops at the first letter, so a word is refused at once, where
    // looking for a digit first read every byte of every description (callgrind, issue 13).
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && body.bytes().any(|b| b.is_ascii_digit())
}
