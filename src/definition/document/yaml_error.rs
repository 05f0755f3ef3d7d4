//! Rewording of the YAML scanner's errors into messages that say where the fix goes.
//!
//! The scanner reports where it noticed a problem, in the words of the YAML grammar. A tab in
//! the indentation and an unclosed `[` are noticed lines away from their cause, so they are
//! moved to the place the user has to edit, with a hint.

use yaml_rust2::scanner::ScanError;

use super::lines::{Position, lines};
use super::{ROOT, SyntaxCause, SyntaxError};

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
            .map(|error| blame_bare_key(text, error))
            .collect(),
    }
}

/// The scanner notices an unclosed `[` or `{` only lines later: where the next key starts
/// ("did not find expected ',' or ']'", "... in flow construct"), or, when the next line is
/// indented less than the key that opened it, as "invalid indentation" there. Point at the
/// bracket that is still open instead, which is where the fix goes.
fn blame_unclosed_flow(text: &str, error: SyntaxError) -> SyntaxError {
    if !error.message.contains("flow") && !error.message.ends_with("invalid indentation") {
        return error;
    }
    let mut lines: Vec<&str> = lines(text).take(error.position().line).collect();
    // Only what the scanner read before it stopped.
    let rest = match lines.last_mut() {
        Some(last) => {
            let cut = last
                .char_indices()
                .nth(error.position().column.saturating_sub(1))
                .map_or(last.len(), |(at, _)| at);
            let rest = &last[cut..];
            *last = &last[..cut];
            rest
        }
        None => "",
    };
    let Some((line, column, bracket)) = unclosed_bracket(&lines) else {
        return error;
    };
    let closing = if bracket == '{' { '}' } else { ']' };
    let mut depth = 0usize;
    let closed_later = flow_brackets(rest).into_iter().any(|(_, c)| match c {
        '[' | '{' => {
            depth += 1;
            false
        }
        _ if depth > 0 => {
            depth -= 1;
            false
        }
        _ => c == closing,
    });
    if closed_later {
        // Closed further on the line the scanner stopped at: the bracket is not forgotten,
        // the line inside it is indented too little.
        let hint = format!(
            "the `{bracket}` on line {line} continues here: indent this line deeper than the key \
             that holds it, or write the whole `{bracket} ... {closing}` on one line"
        );
        return SyntaxError::at(error.position(), error.path, error.message, Some(hint));
    }
    // What the scanner read past the bracket is not part of the path.
    let path = match error.path.find('[') {
        Some(cut) if cut > 0 => error.path[..cut].to_owned(),
        _ => error.path.clone(),
    };
    let hint = match bracket {
        '{' => {
            "close the mapping with `}` on the same line (`key: { a: 1, b: 2 }`), or drop \
                the `{` and write its entries on the lines below, indented under the key"
        }
        _ => {
            "close the list with `]` on the same line (`key: [a, b]`), or drop the `[` and \
              write one `- item` per line below, indented under the key"
        }
    };
    SyntaxError::at(
        Position { line, column },
        path,
        format!("unclosed `{bracket}`"),
        Some(hint.into()),
    )
}

/// The innermost `[` or `{` that `lines` leave open: its 1-based line and column. Brackets in
/// quoted scalars and comments do not count.
fn unclosed_bracket(lines: &[&str]) -> Option<(usize, usize, char)> {
    let mut closed = 0usize;
    for (index, line) in lines.iter().enumerate().rev() {
        for (column, bracket) in flow_brackets(line).into_iter().rev() {
            match bracket {
                ']' | '}' => closed += 1,
                _ if closed > 0 => closed -= 1,
                _ => return Some((index + 1, column, bracket)),
            }
        }
    }
    None
}

/// The brackets of one line with their 1-based columns, leaving out quoted scalars and the
/// comment. A quote opens a scalar only where a value or key can start (after a space, `:`,
/// `,`, `[`, `{` or `-`, or at the start of the line), so the `'` of `it's` does not.
fn flow_brackets(line: &str) -> Vec<(usize, char)> {
    let mut found = Vec::new();
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = line.chars().enumerate().peekable();
    while let Some((index, c)) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(open) if c == open => {
                // `''` inside a single-quoted scalar is an escaped quote.
                if open == '\'' && chars.peek().is_some_and(|(_, next)| *next == '\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => match c {
                '#' if previous == ' ' || previous == '\t' => break,
                '"' | '\'' if " \t:,[{-".contains(previous) => quote = Some(c),
                '[' | '{' | ']' | '}' => found.push((index + 1, c)),
                _ => {}
            },
        }
        previous = c;
    }
    found
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

/// A line holding only a word in a mapping (a key half typed, `clien`) is a key without its
/// `:`. The scanner notices only where the next entry starts ("simple key expect ':'"), on the
/// line below or at the end of the file; point at the word instead, and say what it lacks.
fn blame_bare_key(text: &str, error: SyntaxError) -> SyntaxError {
    if !error.message.ends_with("simple key expect ':'") {
        return error;
    }
    let above: Vec<&str> = lines(text)
        .take(error.position().line.saturating_sub(1))
        .collect();
    let Some((index, line)) = above.iter().enumerate().rev().find(|(_, line)| {
        let content = line.trim_start_matches([' ', '-']);
        !content.is_empty() && !content.starts_with('#')
    }) else {
        return error;
    };
    if Entry::of(line).is_some() {
        return error;
    }
    let mut key = line.trim_start_matches(' ');
    while let Some(item) = key.strip_prefix("- ") {
        key = item.trim_start_matches(' ');
    }
    let key = key.split(" #").next().unwrap_or(key).trim_end();
    let column = line[..line.len() - line.trim_start_matches([' ', '-']).len()]
        .chars()
        .count();
    // The scanner stopped in the last mapping it read, which may be nested deeper than the
    // word: keep as much of its path as there are lines above that hold the word.
    let depth = enclosing_levels(&above[..index], column);
    let mut error = SyntaxError::at(
        Position {
            line: index + 1,
            column: column + 1,
        },
        path_prefix(&error.path, depth),
        format!("key `{key}` has no `: value`"),
        Some(format!(
            "a mapping entry is a key, `:`, a space and its value: finish the key you were \
             typing and write `{key}: VALUE`, or remove the line"
        )),
    );
    error.cause = SyntaxCause::KeyWithoutValue;
    error
}

/// How many block collections enclose a line indented by `column`, read from the
/// indentation of the lines above it: each line indented less than the innermost one so far
/// opens one more (a `- ` item counts as its list's entry).
fn enclosing_levels(above: &[&str], column: usize) -> usize {
    let mut innermost = column;
    let mut levels = 0;
    for line in above.iter().rev() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if indent < innermost {
            levels += 1;
            innermost = indent;
        }
    }
    levels
}

/// The first `depth` steps of a dotted path (`scopes.catalog[1]` has three); the root's name
/// for none.
fn path_prefix(path: &str, depth: usize) -> String {
    if depth == 0 {
        return ROOT.to_owned();
    }
    let ends = path
        .char_indices()
        .filter(|(at, c)| *at > 0 && (*c == '.' || *c == '['))
        .map(|(at, _)| at);
    match ends.clone().nth(depth - 1) {
        Some(end) => path[..end].to_owned(),
        None => path.to_owned(),
    }
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

#[cfg(test)]
mod tests {
    use super::super::{SyntaxError, parse};

    /// The one error `text` gives.
    fn error(text: &str) -> SyntaxError {
        let mut errors = parse(text).expect_err("the text is not valid YAML");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    fn at(error: &SyntaxError) -> (usize, usize) {
        (error.position().line, error.position().column)
    }

    #[test]
    fn a_bracket_left_open_at_the_end_of_a_line_is_blamed_not_the_next_line() {
        // The scanner says "invalid indentation" at `token:`.
        let found = error("authorization:\n  params: {\ntoken:\n  url: x\n");
        assert_eq!(at(&found), (2, 11));
        assert_eq!(found.message, "unclosed `{`");
        assert_eq!(found.path, "authorization.params");
        assert!(found.hint.unwrap().contains("`key: { a: 1, b: 2 }`"));
        let found = error("scopes:\n  default: [\n  catalog: []\n");
        assert_eq!(at(&found), (2, 12));
        assert_eq!(found.message, "unclosed `[`");
    }

    #[test]
    fn brackets_closed_above_in_quotes_or_in_comments_are_not_blamed() {
        // Closed on a later line: the bracket of the line above, not the first one.
        let text = "a: [1,\n  2]\nb: { c: \"{[\", d: 'it''s [' } # {\ne: {\nf: 1\n";
        let found = error(text);
        assert_eq!(at(&found), (4, 4), "{found:?}");
    }

    #[test]
    fn a_mapping_closed_on_a_line_indented_too_little_is_not_called_unclosed() {
        let found = error("authorization:\n  params: {\n  a: 1 }\n");
        assert_eq!(at(&found), (3, 3));
        assert!(found.message.contains("invalid indentation"), "{found:?}");
        assert!(
            found
                .hint
                .unwrap()
                .starts_with("the `{` on line 2 continues here"),
        );
    }

    #[test]
    fn a_key_without_its_colon_is_named_on_its_own_line() {
        let found = error("authorization:\n  url: https://x\n  clien\n  pkce: true\n");
        assert_eq!(at(&found), (3, 3));
        assert_eq!(found.message, "key `clien` has no `: value`");
        assert_eq!(found.path, "authorization");
        assert!(found.hint.unwrap().contains("`clien: VALUE`"));
        // At the end of the file, below a nested mapping, at the top level.
        let found = error("authorization:\n  params:\n    a: 1\nclien\n");
        assert_eq!(at(&found), (4, 1));
        assert_eq!(found.path, "<root>");
        // In a list item's mapping.
        let found = error("list:\n  - name: a\n    desc\n  - name: b\n");
        assert_eq!(at(&found), (3, 5));
        assert_eq!(found.path, "list[0]");
    }
}
