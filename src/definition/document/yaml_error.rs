//! Rewording of the YAML scanner's errors into messages that say where the fix goes.
//!
//! The scanner reports where it noticed a problem, in the words of the YAML grammar. A tab in
//! the indentation and an unclosed `[` are noticed lines away from their cause, so they are
//! moved to the place the user has to edit, with a hint.

use yaml_rust2::scanner::ScanError;

use super::source_map::{Position, lines};
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
