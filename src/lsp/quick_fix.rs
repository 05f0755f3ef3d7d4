//! Quick fixes: for a diagnostic whose fix is "did you mean `X`?", an edit that writes `X` in
//! place of the word the message names.
//!
//! Every such diagnostic (an unknown key, a value outside an enumeration, an unknown
//! placeholder, a default scope outside the catalog) names the word it refuses first in its
//! message, in backquotes, and the suggestion in backquotes in its `help:` line. The fix is read
//! from the diagnostic as the editor sends it back, so it needs no state of its own: it replaces
//! the first occurrence of the refused word from the start of the diagnostic's range.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, Position, Range, TextEdit, Uri,
    WorkspaceEdit,
};

use super::text;

/// The quick fixes for the `diagnostics` the editor asks about, in the document `uri` holding
/// `text`.
pub(super) fn quick_fixes(
    uri: &Uri,
    text: &str,
    diagnostics: &[Diagnostic],
) -> Vec<CodeActionOrCommand> {
    let lines = text::lines(text);
    diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some("provider-forge"))
        .filter_map(|diagnostic| {
            let (message, hint) = diagnostic.message.split_once("\nhelp: ")?;
            let suggestion = quoted(hint.strip_prefix("did you mean ")?)?;
            let refused = quoted(message)?;
            let range = place_of(&lines, diagnostic.range.start, refused)?;
            let edit = TextEdit::new(range, suggestion.to_owned());
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace `{refused}` with `{suggestion}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// The first backquoted word of `text`.
fn quoted(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('`')?;
    let (word, _) = rest.split_once('`')?;
    (!word.is_empty()).then_some(word)
}

/// Where `word` is written on the line of `start`, at or after it.
fn place_of(lines: &[&str], start: Position, word: &str) -> Option<Range> {
    let line = lines.get(start.line as usize)?;
    let from = text::byte_of_utf16(line, start.character);
    let at = from + line[from..].find(word)?;
    Some(Range::new(
        Position::new(start.line, text::utf16_of_byte(line, at)),
        Position::new(start.line, text::utf16_of_byte(line, at + word.len())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(line: u32, character: u32, message: &str) -> Diagnostic {
        Diagnostic {
            range: Range::new(Position::new(line, character), Position::new(line, 99)),
            source: Some("provider-forge".to_owned()),
            message: message.to_owned(),
            ..Diagnostic::default()
        }
    }

    fn edits(text: &str, diagnostics: &[Diagnostic]) -> Vec<(Range, String)> {
        let uri: Uri = "file:///p.yaml".parse().unwrap();
        quick_fixes(&uri, text, diagnostics)
            .into_iter()
            .map(|action| match action {
                CodeActionOrCommand::CodeAction(action) => {
                    let (edited, mut edits) = action
                        .edit
                        .unwrap()
                        .changes
                        .unwrap()
                        .into_iter()
                        .next()
                        .unwrap();
                    assert_eq!(edited, uri);
                    let edit = edits.remove(0);
                    (edit.range, edit.new_text)
                }
                other @ CodeActionOrCommand::Command(_) => panic!("a code action, not {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_refused_word_is_replaced_by_the_suggestion() {
        let text = "token:\n  url: https://<login_hots>/t\n";
        let found = edits(
            text,
            &[diagnostic(
                1,
                7,
                "unknown placeholder `<login_hots>` in `https://<login_hots>/t`\nhelp: did you mean `<login_host>`?",
            )],
        );
        assert_eq!(
            found,
            [(
                Range::new(Position::new(1, 15), Position::new(1, 27)),
                "<login_host>".to_owned()
            )]
        );
    }

    #[test]
    fn no_fix_without_a_suggestion() {
        let text = "pkce: yes please\n";
        let other = diagnostic(0, 6, "expected a boolean, found a string");
        let no_hint = diagnostic(0, 0, "unknown field `x`\nhelp: remove it");
        assert!(edits(text, &[other, no_hint]).is_empty());
    }
}
