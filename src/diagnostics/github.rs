//! The GitHub Actions view of diagnostics (`validate --format github`): one workflow command
//! per diagnostic, `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=T::MESSAGE`, which
//! the runner turns into an annotation on the file; each label becomes a `::notice` at its own
//! place, so a fault in a shared set also marks the providers that use it.
//!
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n` become `%25`, `%0D`
//! and `%0A`; in property values `:` and `,` also become `%3A` and `%2C`.

use std::fmt::Write;
use std::path::Path;

use super::Diagnostic;

/// The workflow commands for `diagnostics`, one per line.
pub fn annotations(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let mut message = diagnostic.message.clone();
        if let Some(hint) = &diagnostic.hint {
            message.push_str("\nhelp: ");
            message.push_str(hint);
        }
        command(
            &mut out,
            diagnostic.severity,
            &diagnostic.file,
            [
                diagnostic.line,
                diagnostic.column,
                diagnostic.end_line,
                diagnostic.end_column,
            ],
            &diagnostic.path,
            &message,
        );
        for label in &diagnostic.labels {
            command(
                &mut out,
                "notice",
                &label.file,
                [label.line, label.column, label.end_line, label.end_column],
                &label.path,
                &format!("{} ({})", label.message, diagnostic.message),
            );
        }
    }
    out
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
        escape_property(&file.to_string_lossy()),
        escape_property(title),
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
}
