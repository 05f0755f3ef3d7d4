//! Rewording of the YAML scanner's errors into messages that say where the fix goes.
//!
//! The scanner reports where it noticed a problem, in the words of the YAML grammar. A tab in
//! the indentation and an unclosed `[` are noticed lines away from their cause, so they are
//! moved to the place the user has to edit, with a hint.

use yaml_rust2::scanner::ScanError;

use super::lines::{Position, lines};
use super::{ROOT, SyntaxError};

/// A scanner error as read by a user: where the scanner stopped, and a hint when one is known.
pub(super) fn scan_error(error: &ScanError, path: String) -> SyntaxError {
    SyntaxError::at(
        Position::from_marker(error.marker()),
        path,
        format!("YAML syntax error: {}", error.info()),
        error
            .info()
            .contains("flow")
            .then(|| "check for an unclosed `[` or `{` on this line or above".to_owned()),
    )
}

/// Moves errors whose cause is elsewhere in `text` to that cause.
pub(super) fn reword(text: &str, errors: Vec<SyntaxError>) -> Vec<SyntaxError> {
    // The scanner's message for a tab in indentation is easy to misread; when a tab
    // indents a line at or before the error, point at the tab itself.
    match tab_indentation(text) {
        // The scanner may stop on the line before the tab.
        Some((line, column)) if errors.iter().any(|e| e.position().line + 1 >= line) => {
            vec![SyntaxError::at(
                Position { line, column },
                ROOT.into(),
                "tab character used for indentation".into(),
                Some("YAML indents with spaces only: replace the tab with spaces".into()),
            )]
        }
        _ => errors
            .into_iter()
            .map(|error| blame_unclosed_flow(text, error))
            .map(|error| explain_key_line(text, error))
            .collect(),
    }
}

/// The scanner notices an unclosed `[` or `{` only lines later, where the next key starts.
/// Point at the line that opened it instead, which is where the fix goes.
fn blame_unclosed_flow(text: &str, error: SyntaxError) -> SyntaxError {
    if !error.message.contains("flow") {
        return error;
    }
    let lines: Vec<&str> = lines(text).take(error.position().line).collect();
    for (index, line) in lines.iter().enumerate().rev() {
        let content = line.split(" #").next().unwrap_or(line);
        let opened = content.matches(['[', '{']).count();
        let closed = content.matches([']', '}']).count();
        if opened > closed {
            let at = content.rfind(['[', '{']).unwrap_or(0);
            let column = content[..at].chars().count() + 1;
            let bracket = &content[at..at + 1];
            // What the scanner read past the bracket is not part of the path.
            let path = match error.path.find('[') {
                Some(cut) if cut > 0 => error.path[..cut].to_owned(),
                _ => error.path.clone(),
            };
            return SyntaxError::at(
                Position {
                    line: index + 1,
                    column,
                },
                path,
                format!("unclosed `{bracket}`"),
                Some("close the list with `]` (or the mapping with `}`) on the same line".into()),
            );
        }
    }
    error
}

/// Two scanner messages are about the line a key is on, and say nothing of the usual cause:
/// "did not find expected key" and "mapping values are not allowed in this context" come from
/// a key indented deeper than its neighbours, or (the second) from a value with an unquoted
/// `: ` in it. Say which, and how to fix it.
fn explain_key_line(text: &str, error: SyntaxError) -> SyntaxError {
    let over_indented = error.message.contains("did not find expected key");
    if !over_indented && !error.message.contains("mapping values are not allowed") {
        return error;
    }
    let lines: Vec<&str> = lines(text).take(error.position().line).collect();
    let Some(line) = lines.get(error.position().line.wrapping_sub(1)) else {
        return error;
    };
    let Some(entry) = Entry::of(line) else {
        return error;
    };
    // The scanner stopped at a colon after the key's own: the value has an unquoted `: `.
    let error_at = error.position().column.saturating_sub(1);
    if !over_indented && error_at > entry.column + entry.key.chars().count() {
        let value = entry.value.trim();
        let quoted = if value.contains('"') {
            format!("'{}'", value.replace('\'', "''"))
        } else {
            format!("\"{value}\"")
        };
        return SyntaxError::at(
            error.position(),
            error.path,
            error.message,
            Some(format!(
                "a value that contains `: ` must be quoted: `{}: {quoted}`",
                entry.key
            )),
        );
    }
    // The key is indented unlike any mapping open above it: find the columns that are.
    let mut levels: Vec<Entry<'_>> = Vec::new();
    for above in lines[..lines.len() - 1].iter().rev() {
        let Some(above) = Entry::of(above) else {
            continue;
        };
        if levels.last().is_none_or(|last| above.column < last.column) {
            levels.push(above);
        }
    }
    let deeper = levels
        .iter()
        .filter(|level| level.column > entry.column)
        .min_by_key(|level| level.column);
    let shallower = levels
        .iter()
        .filter(|level| level.column < entry.column)
        .max_by_key(|level| level.column);
    let choices: Vec<String> = [shallower, deeper]
        .into_iter()
        .flatten()
        .map(|level| format!("{} spaces like `{}`", level.column, level.key))
        .collect();
    if choices.is_empty() {
        return error;
    }
    SyntaxError::at(
        Position {
            line: error.position().line,
            column: entry.column + 1,
        },
        error.path,
        error.message,
        Some(format!(
            "`{}` is indented {} spaces, which lines it up with no mapping above: keys of one \
             mapping start in the same column; indent it by {}",
            entry.key,
            entry.column,
            choices.join(", or by ")
        )),
    )
}

/// A `key: value` line, as far as a line can be read on its own.
struct Entry<'a> {
    /// Column (0-based, in characters) where the key starts, after any `- `.
    column: usize,
    key: &'a str,
    value: &'a str,
}

impl<'a> Entry<'a> {
    fn of(line: &'a str) -> Option<Entry<'a>> {
        let mut rest = line.trim_start_matches(' ');
        while let Some(item) = rest.strip_prefix("- ") {
            rest = item.trim_start_matches(' ');
        }
        if rest.is_empty() || rest.starts_with('#') {
            return None;
        }
        let colon = rest
            .find(": ")
            .or_else(|| rest.strip_suffix(':').map(str::len))?;
        Some(Entry {
            column: line[..line.len() - rest.len()].chars().count(),
            key: &rest[..colon],
            value: rest.get(colon + 1..).unwrap_or_default(),
        })
    }
}

/// Finds the first tab in a line's leading whitespace, which YAML forbids as indentation.
fn tab_indentation(text: &str) -> Option<(usize, usize)> {
    for (index, line) in lines(text).enumerate() {
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
