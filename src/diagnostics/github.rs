//! The GitHub Actions view of diagnostics (`validate --format github`): one workflow command
//! per diagnostic, `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=T::MESSAGE`, which
//! the runner turns into an annotation on the file; each label becomes a `::notice` at its own
//! place, so a fault in a shared set also marks the providers that use it. The title is the
//! diagnostic's kind (its SARIF rule id, which docs/validate.md explains) and the path inside
//! the document, `KIND at PATH`: the annotation's heading says what kind of problem it is.
//!
//! Every text from the input (file names, paths, messages, hints) is first made [`visible`],
//! so no control character reaches the runner's log raw and a value's line break is shown, not
//! obeyed; the one line break left is the one before `help:`. Then escaping follows the
//! runner's rules: in the message `%`, `\r` and `\n` become `%25`, `%0D` and `%0A`; in property
//! values `:` and `,` also become `%3A` and `%2C`.

use std::fmt::Write;
use std::path::Path;

use super::{Diagnostic, visible};

/// The workflow commands for `diagnostics`, one per line.
pub(crate) fn annotations(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let mut message = visible(&diagnostic.message).into_owned();
        if let Some(hint) = &diagnostic.hint {
            message.push_str("\nhelp: ");
            message.push_str(&visible(hint));
        }
        command(
            &mut out,
            diagnostic.severity.as_str(),
            &diagnostic.file,
            [
                diagnostic.region.start.line,
                diagnostic.region.start.column,
                diagnostic.region.end.line,
                diagnostic.region.end.column,
            ],
            &title(diagnostic, &diagnostic.path),
            &message,
        );
        for label in &diagnostic.labels {
            command(
                &mut out,
                "notice",
                &label.file,
                [
                    label.region.start.line,
                    label.region.start.column,
                    label.region.end.line,
                    label.region.end.column,
                ],
                &title(diagnostic, &label.path),
                &format!(
                    "{} ({})",
                    visible(&label.message),
                    visible(&diagnostic.message)
                ),
            );
        }
    }
    out
}

/// `KIND at PATH`, or the kind alone for a problem of the whole file.
fn title(diagnostic: &Diagnostic, path: &str) -> String {
    let kind = diagnostic.kind.id();
    if path.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} at {path}")
    }
}

fn command(
    out: &mut String,
    kind: &str,
    file: &Path,
    [line, column, end_line, end_column]: [usize; 4],
    title: &str,
    message: &str,
) {
    let _ = writeln!(
        out,
        "::{kind} file={},line={line},col={column},endLine={end_line},endColumn={end_column},title={}::{}",
        escape_property(&visible(&file.to_string_lossy())),
        escape_property(&visible(title)),
        escape_data(message),
    );
}

/// A message escaped as the runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value escaped as the runner expects.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_the_runners_way() {
        assert_eq!(
            escape_data("100% done\r\nnext: a,b"),
            "100%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("C:\\x,y%\nz"), "C%3A\\x%2Cy%25%0Az");
    }

    #[test]
    fn control_characters_from_the_input_reach_the_runner_escaped() {
        let region = crate::definition::document::Region {
            start: crate::definition::document::Position { line: 1, column: 1 },
            end: crate::definition::document::Position { line: 1, column: 2 },
            span: crate::definition::document::Span { start: 0, end: 1 },
        };
        let mut diagnostic = Diagnostic::at(
            crate::diagnostics::Kind::InvalidValue,
            Path::new("evil\u{1b}.yaml"),
            region,
            "a\u{202e}b",
            "bad `x\u{1b}[2J\u{9b}y\nz`",
            Some("try \u{7}".into()),
        );
        diagnostic.labels.push(crate::diagnostics::Label::new(
            Path::new("set.yaml"),
            region,
            "p",
            "here\u{1b}",
        ));
        let out = annotations(&[diagnostic]);
        for c in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{7}'] {
            assert!(!out.contains(c), "{c:?} written raw: {out:?}");
        }
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            out.contains("::bad `x\\u{1b}[2J\\u{9b}y\\nz`%0Ahelp: try \\u{7}\n"),
            "{out}"
        );
    }
}
