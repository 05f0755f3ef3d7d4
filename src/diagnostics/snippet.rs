//! The text view of diagnostics: the greppable first line `FILE:LINE:COL: error: MESSAGE (at
//! PATH)` exactly as before, then the source lines with the problem underlined and its labels
//! (rendered by annotate-snippets, the renderer rustc uses), then `help:`.
//!
//! The source is read again from disk when a diagnostic is shown (only files with problems pay
//! for it) and made printable first: whatever the input holds, no control character or escape
//! sequence reaches the terminal raw, and byte ranges are mapped onto the printable text.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::escape::{PrintableSource, visible};
use super::{Diagnostic, Label};

/// Whether to colour output written to a stream: only on a terminal, and never when
/// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// [`use_color`] for stderr, where the CLI writes diagnostics.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal;
    use_color(std::io::stderr().is_terminal())
}

fn renderer(color: bool) -> Renderer {
    if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

/// Renders `diagnostics` as text, each with its source snippet, reading the files they name.
/// A file that cannot be read any more is shown without a snippet. A blank line separates
/// diagnostics.
pub fn render(diagnostics: &[Diagnostic], color: bool) -> String {
    let mut sources = Sources::default();
    let mut out = String::new();
    for (i, diagnostic) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_one(&mut out, diagnostic, &mut sources, color);
    }
    out
}

/// The lines of a template file around `range` (bytes of the file), underlined, for a
/// template error; `None` when the file cannot be read (a built-in template, a file gone).
pub fn template_excerpt(
    file: &Path,
    line: usize,
    range: std::ops::Range<usize>,
    color: bool,
) -> Option<String> {
    let source = PrintableSource::new(&std::fs::read(file).ok()?);
    let place = LinePlace {
        bytes: (range.start, range.end),
        start: (line, 1),
    };
    let snippet = Snippet::source(source.text.as_str())
        .line_start(1)
        .annotation(AnnotationKind::Primary.span(place.range(&source)));
    Some(renderer(color).render(&[Group::with_level(Level::ERROR).element(snippet)]))
}

#[derive(Default)]
struct Sources {
    files: HashMap<PathBuf, Option<PrintableSource>>,
}

impl Sources {
    fn load(&mut self, file: &Path) {
        self.files.entry(file.to_path_buf()).or_insert_with(|| {
            std::fs::read(file)
                .ok()
                .map(|bytes| PrintableSource::new(&bytes))
        });
    }

    fn get(&self, file: &Path) -> Option<&PrintableSource> {
        self.files.get(file).and_then(Option::as_ref)
    }
}

/// A place in a file: its range in the file's bytes, with the line/column it starts at.
struct LinePlace {
    bytes: (usize, usize),
    start: (usize, usize),
}

impl LinePlace {
    fn of(diagnostic: &Diagnostic) -> Self {
        LinePlace {
            bytes: (diagnostic.byte_start, diagnostic.byte_end),
            start: (diagnostic.line, diagnostic.column),
        }
    }

    fn of_label(label: &Label) -> Self {
        LinePlace {
            bytes: (label.byte_start, label.byte_end),
            start: (label.line, label.column),
        }
    }

    /// The range in `source`'s printable text. A place made without its bytes (an empty
    /// range at byte 0 though it starts past 1:1) is found from its line and column instead.
    fn range(&self, source: &PrintableSource) -> std::ops::Range<usize> {
        if self.bytes == (0, 0) && self.start != (1, 1) {
            let at = offset_of(&source.text, self.start);
            return at..at;
        }
        source.offset(self.bytes.0)..source.offset(self.bytes.1.max(self.bytes.0))
    }
}

/// The offset of 1-based `(line, column)` (column in characters) in `text`, clamped.
fn offset_of(text: &str, (line, column): (usize, usize)) -> usize {
    let line_start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .map_or(if line <= 1 { 0 } else { text.len() }, |(i, _)| i + 1);
    let line_start = if line <= 1 { 0 } else { line_start };
    text[line_start..]
        .char_indices()
        .take_while(|&(_, c)| c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(
            || {
                line_start
                    + text[line_start..]
                        .find('\n')
                        .unwrap_or(text.len() - line_start)
            },
            |(i, _)| line_start + i,
        )
}

fn render_one(out: &mut String, diagnostic: &Diagnostic, sources: &mut Sources, color: bool) {
    let error = if color {
        let color = if diagnostic.is_error() {
            anstyle::AnsiColor::BrightRed
        } else {
            anstyle::AnsiColor::BrightYellow
        };
        let style = anstyle::Style::new().bold().fg_color(Some(color.into()));
        format!("{style}{}{style:#}", diagnostic.severity)
    } else {
        diagnostic.severity.to_owned()
    };
    let _ = writeln!(
        out,
        "{}:{}:{}: {error}: {} (at {})",
        visible(&diagnostic.file.display().to_string()),
        diagnostic.line,
        diagnostic.column,
        visible(&diagnostic.message),
        visible(&diagnostic.path),
    );
    sources.load(&diagnostic.file);
    for label in &diagnostic.labels {
        sources.load(&label.file);
    }
    if let Some(snippet) = snippet(diagnostic, sources, color) {
        out.push_str(&snippet);
        out.push('\n');
    }
    if let Some(hint) = &diagnostic.hint {
        let _ = writeln!(out, "  help: {}", visible(hint));
    }
}

/// The source lines of a diagnostic and of its labels, one snippet per file, the
/// diagnostic's own file first.
fn snippet(diagnostic: &Diagnostic, sources: &Sources, color: bool) -> Option<String> {
    let source = sources.get(&diagnostic.file)?;
    let label_texts: Vec<String> = diagnostic
        .labels
        .iter()
        .map(|label| visible(&label.message).into_owned())
        .collect();
    let mut main = Snippet::source(source.text.as_str())
        .line_start(1)
        .annotation(AnnotationKind::Primary.span(LinePlace::of(diagnostic).range(source)));
    let mut others: Vec<(&Path, Vec<(&Label, &str)>)> = Vec::new();
    for (label, text) in diagnostic.labels.iter().zip(&label_texts) {
        if label.file == diagnostic.file {
            main = main.annotation(
                AnnotationKind::Context
                    .span(LinePlace::of_label(label).range(source))
                    .label(text.as_str()),
            );
        } else if sources.get(&label.file).is_some() {
            match others.iter_mut().find(|(file, _)| *file == label.file) {
                Some((_, labels)) => labels.push((label, text)),
                None => others.push((&label.file, vec![(label, text)])),
            }
        }
    }
    let other_paths: Vec<String> = others
        .iter()
        .map(|(file, _)| visible(&file.display().to_string()).into_owned())
        .collect();
    let mut group = Group::with_level(Level::ERROR).element(main);
    for ((file, labels), path) in others.iter().zip(&other_paths) {
        let source = sources.get(file)?;
        let mut snippet = Snippet::source(source.text.as_str())
            .line_start(1)
            .path(path.as_str());
        for (label, text) in labels {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(LinePlace::of_label(label).range(source))
                    .label(*text),
            );
        }
        group = group.element(snippet);
    }
    Some(renderer(color).render(&[group]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_find_offsets_in_the_printable_text() {
        let text = "ab\ncdé\n\nx";
        assert_eq!(offset_of(text, (1, 1)), 0);
        assert_eq!(offset_of(text, (2, 3)), 5);
        assert_eq!(offset_of(text, (2, 9)), 7);
        assert_eq!(offset_of(text, (3, 1)), 8);
        assert_eq!(offset_of(text, (4, 1)), 9);
        assert_eq!(offset_of(text, (9, 1)), text.len());
    }
}
