//! The text view of diagnostics: the greppable first line `FILE:LINE:COL: error: MESSAGE (at
//! PATH)` exactly as before, then the source lines with the problem underlined and its labels
//! (rendered by annotate-snippets, the renderer rustc uses), then `help:`.
//!
//! The source is read again from disk when a diagnostic is shown (only files with problems pay
//! for it), and only as far as shown: up to the end of the line where the last place shown
//! ends, never more than a definition may hold, and only from a regular file, so showing line
//! 1 of a huge file reads a few kilobytes. It is made printable first: whatever the input
//! holds, no control character or escape sequence reaches the terminal raw, and byte ranges
//! are mapped onto the printable text.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::escape::{PrintableSource, visible};
use super::{Diagnostic, Label};
use crate::definition::document::MAX_FILE_BYTES;
use crate::regular_file;

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
    let place = LinePlace {
        bytes: (range.start, range.end),
        start: (line, 1),
    };
    let source = shown_part(file, place.bytes_needed())?;
    let snippet = Snippet::source(source.text.as_str())
        .line_start(1)
        .annotation(AnnotationKind::Primary.span(place.range(&source)));
    Some(renderer(color).render(&[Group::with_level(Level::ERROR).element(snippet)]))
}

/// How far past the last byte shown a file is read, to finish that line.
const LINE_TAIL: usize = 4096;

/// The start of `file` as far as the line holding byte `needed` (at most [`LINE_TAIL`] bytes
/// past it, and never more than [`MAX_FILE_BYTES`]), printable; `None` when it cannot be read
/// or is not a regular file.
fn shown_part(file: &Path, needed: usize) -> Option<PrintableSource> {
    let needed = needed.min(MAX_FILE_BYTES);
    let limit = needed.saturating_add(LINE_TAIL).min(MAX_FILE_BYTES);
    let mut prefix = regular_file::read_prefix(file, limit).ok()?;
    if prefix.len > prefix.bytes.len() as u64 {
        let bytes = &mut prefix.bytes;
        match bytes[needed.min(bytes.len())..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            Some(at) => bytes.truncate(needed + at),
            None => bytes.truncate(whole_characters(bytes)),
        }
    }
    Some(PrintableSource::new(&prefix.bytes))
}

/// The length of `bytes` without a UTF-8 character cut off at its end.
fn whole_characters(bytes: &[u8]) -> usize {
    let continuation = |b: &u8| b & 0b1100_0000 == 0b1000_0000;
    let tail = bytes
        .iter()
        .rev()
        .take(3)
        .take_while(|b| continuation(b))
        .count();
    let Some(&lead) = bytes.len().checked_sub(tail + 1).map(|i| &bytes[i]) else {
        return bytes.len();
    };
    let wanted = match lead {
        0xC0..=0xDF => 1,
        0xE0..=0xEF => 2,
        0xF0..=0xF7 => 3,
        _ => 0,
    };
    if tail < wanted {
        bytes.len() - tail - 1
    } else {
        bytes.len()
    }
}

/// The files shown so far, each read as far as the places shown in it need.
#[derive(Default)]
struct Sources {
    files: HashMap<PathBuf, (usize, Option<PrintableSource>)>,
}

impl Sources {
    /// Makes sure `file` is read as far as byte `needed`.
    fn load(&mut self, file: &Path, needed: usize) {
        match self.files.get(file) {
            Some((read, _)) if *read >= needed => {}
            _ => {
                let source = shown_part(file, needed);
                self.files.insert(file.to_path_buf(), (needed, source));
            }
        }
    }

    fn get(&self, file: &Path) -> Option<&PrintableSource> {
        self.files.get(file).and_then(|(_, source)| source.as_ref())
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
            bytes: (diagnostic.region.span.start, diagnostic.region.span.end),
            start: (diagnostic.region.start.line, diagnostic.region.start.column),
        }
    }

    fn of_label(label: &Label) -> Self {
        LinePlace {
            bytes: (label.region.span.start, label.region.span.end),
            start: (label.region.start.line, label.region.start.column),
        }
    }

    /// How much of the file must be read to show the place: to its end, or all a definition
    /// may hold for a place known only by its line and column.
    fn bytes_needed(&self) -> usize {
        if self.bytes == (0, 0) && self.start != (1, 1) {
            MAX_FILE_BYTES
        } else {
            self.bytes.1.max(self.bytes.0)
        }
    }

    /// The range in `source`'s printable text. A place made without its bytes (an empty
    /// range at byte 0 though it starts past 1:1) is found from its line and column instead.
    /// A place that starts in a line's indentation starts at the line's first character
    /// instead: the renderer cuts long indentation away, and would draw the caret of a place
    /// inside it in the gutter.
    fn range(&self, source: &PrintableSource) -> std::ops::Range<usize> {
        let (start, end) = if self.bytes == (0, 0) && self.start != (1, 1) {
            let at = offset_of(&source.text, self.start);
            (at, at)
        } else {
            (
                source.offset(self.bytes.0),
                source.offset(self.bytes.1.max(self.bytes.0)),
            )
        };
        let start = past_indentation(&source.text, start);
        start..end.max(start)
    }
}

/// `at`, or the first character after the indentation when `at` lies in the indentation of
/// a line that has one.
fn past_indentation(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let is_indentation = |c: char| c.is_whitespace() && c != '\n';
    if !text[line_start..at].chars().all(is_indentation) {
        return at;
    }
    match text[at..].char_indices().find(|&(_, c)| !is_indentation(c)) {
        Some((i, c)) if c != '\n' => at + i,
        _ => at,
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
        diagnostic.severity.to_string()
    };
    let _ = writeln!(
        out,
        "{}:{}:{}: {error}: {} (at {})",
        visible(&diagnostic.file.display().to_string()),
        diagnostic.region.start.line,
        diagnostic.region.start.column,
        visible(&diagnostic.message),
        visible(&diagnostic.path),
    );
    let mut needed: Vec<(&Path, usize)> =
        vec![(&diagnostic.file, LinePlace::of(diagnostic).bytes_needed())];
    for label in &diagnostic.labels {
        needed.push((&label.file, LinePlace::of_label(label).bytes_needed()));
    }
    for (file, _) in &needed {
        let furthest = needed
            .iter()
            .filter(|(other, _)| other == file)
            .map(|(_, bytes)| *bytes)
            .max()
            .unwrap_or(0);
        sources.load(file, furthest);
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
    use crate::definition::document::{Position, Region, Span};

    /// A diagnostic over bytes `start..end` of `file`, which start at `line`:`column`.
    fn diagnostic_at(
        file: &Path,
        (line, column): (usize, usize),
        (start, end): (usize, usize),
    ) -> Diagnostic {
        let region = Region {
            start: Position { line, column },
            end: Position {
                line,
                column: column + end - start,
            },
            span: Span { start, end },
        };
        Diagnostic::at(
            crate::diagnostics::Kind::InvalidValue,
            file,
            region,
            "p",
            "message",
            None,
        )
    }

    /// The caret lines of a rendering: each must be drawn right of the gutter (`  |`).
    fn assert_carets_right_of_the_gutter(shown: &str) {
        assert!(shown.contains('^'), "{shown}");
        for line in shown.lines().filter(|line| line.contains('^')) {
            assert!(line.starts_with("  | "), "caret in the gutter: {shown}");
        }
    }

    #[test]
    fn the_caret_stays_right_of_the_gutter_on_deeply_indented_lines() {
        let dir = tempfile::tempdir().unwrap();
        let tabs = dir.path().join("tabs.yaml");
        std::fs::write(
            &tabs,
            "id: x\nname: y\n\t\t\t\t\t\t\t\t\t\tauthorization: 1\n",
        )
        .unwrap();
        let shown = render(&[diagnostic_at(&tabs, (3, 1), (14, 15))], false);
        assert_carets_right_of_the_gutter(&shown);
        assert!(
            shown.contains("3 | \\t\\t"),
            "tabs are shown as what they are: {shown}"
        );

        let spaces = dir.path().join("spaces.yaml");
        let indent = " ".repeat(40);
        std::fs::write(&spaces, format!("{indent}id: x\n{indent}name: y\n")).unwrap();
        let shown = render(&[diagnostic_at(&spaces, (1, 1), (0, 0))], false);
        assert_carets_right_of_the_gutter(&shown);
    }

    #[test]
    fn only_the_lines_shown_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.yaml");
        std::fs::write(&path, "id: x\nname: y\n").unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(1 << 30).unwrap();
        assert_eq!(shown_part(&path, 0).unwrap().text, "id: x");
        assert_eq!(shown_part(&path, 7).unwrap().text, "id: x\nname: y");
        let no_break = dir.path().join("nul.yaml");
        std::fs::File::create(&no_break)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let shown = shown_part(&no_break, 0).unwrap().text;
        assert_eq!(shown, "\\u{0}".repeat(LINE_TAIL));
    }

    #[test]
    fn a_character_cut_at_the_end_of_what_is_read_is_left_out() {
        assert_eq!(whole_characters("abé".as_bytes()), 4);
        assert_eq!(whole_characters(&"abé".as_bytes()[..3]), 2);
        assert_eq!(whole_characters(&"a€".as_bytes()[..3]), 1);
        assert_eq!(whole_characters(&"a😀".as_bytes()[..4]), 1);
        assert_eq!(whole_characters(b"a\xFF"), 2);
        assert_eq!(whole_characters(b""), 0);
    }

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
