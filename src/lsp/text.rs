//! Positions between the crate's and the protocol's ways of counting.
//!
//! Diagnostics count 1-based lines and 1-based columns in characters; the Language Server
//! Protocol counts 0-based lines and UTF-16 code units (its default, and the one encoding every
//! client supports). The cursor code works on byte offsets inside a line. These conversions are
//! the only place the three meet.

use lsp_types::Position;

use crate::definition::document;

/// The lines of a document, split where both YAML and the protocol end lines: `\n`, `\r\n`
/// or a lone `\r`. Unlike the YAML reader's lines, a text that is empty or ends with a line
/// break has an empty last line: the editor has a line there to put the cursor on.
pub(super) fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = document::lines::lines(text).collect();
    if text.is_empty() || text.ends_with(['\r', '\n']) {
        lines.push("");
    }
    lines
}

/// The byte offset in `line` of a protocol character offset (UTF-16 units), clamped to the line.
pub(super) fn byte_of_utf16(line: &str, character: u32) -> usize {
    let mut units = 0u32;
    for (byte, ch) in line.char_indices() {
        if units >= character {
            return byte;
        }
        units += ch.len_utf16() as u32;
    }
    line.len()
}

/// The protocol character offset (UTF-16 units) of a byte offset in `line`.
pub(super) fn utf16_of_byte(line: &str, byte: usize) -> u32 {
    let byte = floor_char_boundary(line, byte.min(line.len()));
    line[..byte].chars().map(|ch| ch.len_utf16() as u32).sum()
}

fn floor_char_boundary(line: &str, mut byte: usize) -> usize {
    while !line.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// The protocol position of a diagnostic's 1-based line and 1-based character column. A
/// byte-order mark is not counted in diagnostics' columns, but is in the editor's text.
pub(super) fn position_of(lines: &[&str], line: usize, column: usize) -> Position {
    let index = line.saturating_sub(1);
    let character = match lines.get(index) {
        Some(text) => {
            let bom = if index == 0 && text.starts_with('\u{feff}') {
                3
            } else {
                0
            };
            let byte = bom + byte_of_char_column(&text[bom..], column);
            utf16_of_byte(text, byte)
        }
        None => column.saturating_sub(1) as u32,
    };
    Position::new(index as u32, character)
}

/// The byte offset of a 1-based character column in `line` (the line's end past its last char).
pub(super) fn byte_of_char_column(line: &str, column: usize) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(byte, _)| byte)
}

/// The end (byte offset) of the token that starts at `start` in `line`: a quoted scalar to its
/// closing quote, anything else to the next blank, comma or bracket, without a trailing `:`.
/// Diagnostics carry a start point only; this gives editors a visible range to underline.
pub(super) fn token_end(line: &str, start: usize) -> usize {
    let rest = &line[start.min(line.len())..];
    let end = match rest.chars().next() {
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map_or(rest.len(), |close| close + 2),
        _ => {
            let stop = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
                .unwrap_or(rest.len());
            rest[..stop].trim_end_matches(':').len()
        }
    };
    start + end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_counts_astral_characters_twice() {
        let line = "a: \u{1F600}x";
        let x = line.find('x').unwrap();
        assert_eq!(utf16_of_byte(line, x), 5);
        assert_eq!(byte_of_utf16(line, 5), x);
        assert_eq!(byte_of_utf16(line, 99), line.len());
    }

    #[test]
    fn character_columns_become_utf16_positions() {
        let lines = lines("id: x\r\nname: \u{e9}t\u{e9}: y\rz\n");
        assert_eq!(lines, ["id: x", "name: \u{e9}t\u{e9}: y", "z", ""]);
        assert_eq!(position_of(&lines, 2, 9), Position::new(1, 8));
        let with_bom = ["\u{feff}id: x"];
        assert_eq!(position_of(&with_bom, 1, 5), Position::new(0, 5));
    }

    #[test]
    fn an_empty_text_or_a_final_line_break_leaves_an_empty_last_line() {
        assert_eq!(lines(""), [""]);
        assert_eq!(lines("a"), ["a"]);
        assert_eq!(lines("a\n"), ["a", ""]);
        assert_eq!(lines("a\r"), ["a", ""]);
        assert_eq!(lines("a\r\n\n"), ["a", "", ""]);
        assert_eq!(lines("\r\n"), ["", ""]);
    }

    #[test]
    fn tokens_end_at_blanks_and_drop_a_key_colon() {
        assert_eq!(token_end("  pkce: yes", 2), 6);
        assert_eq!(token_end("url: http://x/y # c", 5), 15);
        assert_eq!(token_end("a: \"two words\" b", 3), 14);
        assert_eq!(token_end("[a, b]", 1), 2);
        assert_eq!(token_end("end", 3), 3);
    }
}
