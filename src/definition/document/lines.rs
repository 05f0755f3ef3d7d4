//! Lines and places in a source text: 1-based positions, byte spans and regions, the line-start
//! index, and the conversions between byte offsets and line/column. Lines end at `\n`, `\r\n`
//! or a lone `\r`, as the YAML scanner counts them; the language server splits an editor's text
//! with the same [`lines`].

use yaml_rust2::scanner::Marker;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// 1-based line. Lines end at `\n`, `\r\n` or a lone `\r`.
    pub line: usize,
    /// 1-based column, counted in characters (a UTF-8 BOM is not counted).
    pub column: usize,
}

impl Position {
    /// The start of the file, used when nothing more precise is known.
    pub const START: Position = Position { line: 1, column: 1 };

    pub(super) fn from_marker(marker: &Marker) -> Self {
        Position {
            line: marker.line().max(1),
            column: marker.col() + 1,
        }
    }
}

/// A range of bytes in a source file, `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte; equal to `start` for an empty span (a missing value).
    pub end: usize,
}

impl Span {
    /// The span of the one character at `offset` in `text`, or an empty span at a line break
    /// or the end of the text: where a problem noticed at a point is shown.
    pub(super) fn char_at(text: &str, offset: usize) -> Span {
        let width = text
            .get(offset..)
            .and_then(|rest| rest.chars().next())
            .filter(|c| !matches!(c, '\r' | '\n'))
            .map_or(0, char::len_utf8);
        Span {
            start: offset,
            end: offset + width,
        }
    }
}

/// A span with the line and column of both of its ends: what a diagnostic shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region {
    /// Where the span starts.
    pub start: Position,
    /// Where the span ends: the position just past its last character (exclusive, as in LSP
    /// and SARIF).
    pub end: Position,
    /// The bytes it covers.
    pub span: Span,
}

/// Byte offset of the start of every line; line 1 starts after `skipped` bytes (a BOM).
/// `\r\n`, `\r` and `\n` each end a line, as the YAML scanner counts them.
pub(super) fn line_starts(text: &str, skipped: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![skipped.min(bytes.len())];
    let mut at = skipped;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => starts.push(at + 1),
            b'\r' if bytes.get(at + 1) != Some(&b'\n') => starts.push(at + 1),
            _ => {}
        }
        at += 1;
    }
    starts
}

/// The position of a byte offset, given the line starts of `text`.
pub(super) fn position_in(text: &str, lines: &[usize], offset: usize) -> Position {
    let offset = offset.min(text.len());
    let line = lines.partition_point(|&start| start <= offset).max(1);
    let start = lines[line - 1].min(offset);
    let mut column_bytes = offset - start;
    while !text.is_char_boundary(start + column_bytes) {
        column_bytes -= 1;
    }
    Position {
        line,
        column: text[start..start + column_bytes].chars().count() + 1,
    }
}

/// The byte offset of a line and column of `text`, given its line starts; a column past the
/// end of its line is taken as the line's end, a line past the end as the end of the text.
pub(super) fn offset_in(text: &str, lines: &[usize], position: Position) -> usize {
    let Some(&line_start) = lines.get(position.line.saturating_sub(1)) else {
        return text.len();
    };
    let line = &text[line_start..];
    let line = &line[..line.find(['\r', '\n']).unwrap_or(line.len())];
    line.char_indices()
        .nth(position.column.saturating_sub(1))
        .map_or(line_start + line.len(), |(at, _)| line_start + at)
}

/// A byte range of `text` with the line and column of both ends, given its line starts.
pub(super) fn region_in(text: &str, lines: &[usize], span: Span) -> Region {
    let end = span.end.min(text.len());
    let start = span.start.min(end);
    Region {
        start: position_in(text, lines, start),
        end: position_in(text, lines, end),
        span: Span { start, end },
    }
}

/// The lines of `text`, split at `\r\n`, `\r` or `\n` as YAML does (unlike [`str::lines`],
/// which keeps a lone `\r`).
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(at) => {
                let brk = if current[at..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[at + brk..]).filter(|r| !r.is_empty());
                Some(&current[..at])
            }
            None => {
                rest = None;
                (!current.is_empty()).then_some(current)
            }
        }
    })
}
