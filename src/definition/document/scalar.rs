//! Typing of plain scalars with the YAML 1.2 core schema.
//!
//! YAML 1.1 readers turn `no`, `on` and `yes` into booleans, which silently changes values such
//! as a country code; the core schema keeps them strings. Anything quoted (or tagged `!!str`)
//! stays a string.

use serde_json::Number;
use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

/// A scalar as typed: what a YAML scalar can be, and nothing a container can.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl Scalar {
    /// The scalar as a mapping key, which JSON writes as text: `1` is the key `"1"`, `~` is
    /// `"null"`.
    pub(super) fn into_key(self) -> String {
        match self {
            Scalar::String(text) => text,
            Scalar::Null => "null".to_owned(),
            Scalar::Bool(boolean) => boolean.to_string(),
            Scalar::Number(number) => number.to_string(),
        }
    }
}

/// Resolves a scalar: plain `true`, `12`, `null` are typed, the rest are strings.
/// Takes the text by value: a string scalar keeps the parser's allocation.
pub(super) fn scalar_value(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Scalar {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
        && tag.suffix == "str"
    {
        return Scalar::String(text);
    }
    if style != TScalarStyle::Plain || !may_be_typed(&text) {
        return Scalar::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" => return Scalar::Bool(true),
        "false" | "False" | "FALSE" => return Scalar::Bool(false),
        _ => {}
    }
    if let Some(number) = parse_integer(&text) {
        return Scalar::Number(number);
    }
    if looks_like_float(&text) {
        if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Scalar::Number(number);
        }
    }
    Scalar::String(text)
}

/// Whether a plain scalar starts the way one of the typed forms can: empty, `~`, a null or
/// boolean word, or a number (a digit, a sign, `.`, or the `e` of an exponent). Most plain
/// scalars are words and URLs, and this spares them every comparison that follows.
fn may_be_typed(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        None | Some(
            b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'0'
                ..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
        )
    )
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
    // looking for a digit first read every byte of every description.
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && body.bytes().any(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Scalar {
        scalar_value(text.to_owned(), TScalarStyle::Plain, None)
    }

    #[test]
    fn every_typed_form_gets_past_the_first_byte_check() {
        let typed = [
            "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
            "0", "12", "-12", "+12", "0x1F", "0o17", "1.5", ".5", "-.5", "+1.5e-3", "1e5", "1E5",
        ];
        for text in typed {
            assert!(may_be_typed(text), "{text:?}");
            assert!(
                !matches!(plain(text), Scalar::String(_)),
                "{text:?} is typed"
            );
        }
        for text in [
            "no",
            "yes",
            "on",
            "e5",
            "nan",
            ".inf",
            "-",
            "com.au",
            "-0x1F",
            "https://x",
        ] {
            assert_eq!(
                plain(text),
                Scalar::String(text.to_owned()),
                "{text:?} stays a string"
            );
        }
    }
}
