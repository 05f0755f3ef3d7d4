//! A definition's pattern as an HTML `pattern` attribute.
//!
//! Definitions write patterns in Rust `regex` syntax; a browser compiles the attribute as a
//! JavaScript regular expression with the `v` flag, where many ordinary Rust patterns are
//! syntax errors (`[a-z0-9_-]`: a bare `-` at the end of a class) and an invalid pattern is
//! silently ignored. So the pattern is not copied: it is parsed by `regex-syntax` (the parser
//! the `regex` crate itself uses, so the language is exactly the one the server checks) and
//! printed again from its desugared form, every character other than an ASCII letter or digit
//! written as `\u{…}`, which the `v` flag reads the same inside and outside classes.
//!
//! Whatever has no faithful JavaScript spelling (Unicode word boundaries, multi-line anchors,
//! byte classes) gives no attribute, as does a pattern that prints longer than
//! [`MAX_ATTRIBUTE_LEN`] (`\w` is hundreds of Unicode ranges): the browser then checks
//! nothing and the server, which checks every value anyway, answers with the message.

use std::fmt::Write;

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Longest attribute written; a longer one would bloat the page for a check the server makes
/// anyway.
pub(crate) const MAX_ATTRIBUTE_LEN: usize = 1024;

/// The `pattern` attribute for a definition's pattern, when it has a faithful one.
pub(crate) fn html_pattern(pattern: &str) -> Option<String> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut out = String::new();
    print(&hir, &mut out)?;
    (out.len() <= MAX_ATTRIBUTE_LEN).then_some(out)
}

fn print(hir: &Hir, out: &mut String) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => out.push_str("(?:)"),
        HirKind::Literal(literal) => {
            for c in std::str::from_utf8(&literal.0).ok()?.chars() {
                character(c, out);
            }
        }
        HirKind::Class(Class::Unicode(class)) => {
            out.push('[');
            for range in class.ranges() {
                character(range.start(), out);
                if range.end() != range.start() {
                    out.push('-');
                    character(range.end(), out);
                }
            }
            out.push(']');
        }
        HirKind::Class(Class::Bytes(_)) => return None,
        HirKind::Look(look) => out.push_str(match look {
            Look::Start => "^",
            Look::End => "$",
            // JavaScript's `\b` is the ASCII one.
            Look::WordAscii => "\\b",
            Look::WordAsciiNegate => "\\B",
            _ => return None,
        }),
        HirKind::Repetition(repetition) => {
            group(&repetition.sub, out)?;
            match (repetition.min, repetition.max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (min, None) => write!(out, "{{{min},}}").ok()?,
                (min, Some(max)) if min == max => write!(out, "{{{min}}}").ok()?,
                (min, Some(max)) => write!(out, "{{{min},{max}}}").ok()?,
            }
            if !repetition.greedy {
                out.push('?');
            }
        }
        HirKind::Capture(capture) => group(&capture.sub, out)?,
        HirKind::Concat(parts) => {
            for part in parts {
                print(part, out)?;
            }
        }
        HirKind::Alternation(branches) => {
            out.push_str("(?:");
            for (index, branch) in branches.iter().enumerate() {
                if index > 0 {
                    out.push('|');
                }
                print(branch, out)?;
            }
            out.push(')');
        }
    }
    Some(())
}

/// `hir` as one atom, whatever it is.
fn group(hir: &Hir, out: &mut String) -> Option<()> {
    out.push_str("(?:");
    print(hir, out)?;
    out.push(')');
    Some(())
}

/// One character, as itself when it is an ASCII letter or digit, else escaped.
fn character(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_ending_in_a_dash_is_written_so_the_v_flag_reads_it() {
        assert_eq!(
            html_pattern("^sk-ant-[A-Za-z0-9_-]+$").as_deref(),
            Some("^sk\\u{2D}ant\\u{2D}(?:[\\u{2D}0-9A-Z\\u{5F}a-z])+$")
        );
    }

    #[test]
    fn alternations_repetitions_and_optional_groups_keep_their_shape() {
        assert_eq!(
            html_pattern("^(login|test)\\.example\\.com$").as_deref(),
            Some("^(?:(?:login|test))\\u{2E}example\\u{2E}com$")
        );
        assert_eq!(
            html_pattern("^[a-z]{2,5}(\\.x)?$").as_deref(),
            Some("^(?:[a-z]){2,5}(?:(?:\\u{2E}x))?$")
        );
        assert_eq!(
            html_pattern("^a{3}b{1,}$").as_deref(),
            Some("^(?:a){3}(?:b)+$")
        );
    }

    #[test]
    fn case_insensitivity_is_spelled_out_in_classes() {
        assert_eq!(html_pattern("(?i)^ab$").as_deref(), Some("^[Aa][Bb]$"));
    }

    #[test]
    fn what_javascript_cannot_say_gives_no_attribute() {
        assert_eq!(html_pattern("(?m)^a$"), None, "multi-line anchors");
        assert_eq!(html_pattern("\\bword\\b"), None, "Unicode word boundary");
        assert_eq!(html_pattern("(?-u)^\\xFF$"), None, "bytes");
        assert_eq!(html_pattern("^\\w+$"), None, "too long once spelled out");
        assert_eq!(html_pattern("^[a-"), None, "not a pattern");
    }
}
