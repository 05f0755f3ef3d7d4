//! Makes text from outside safe to write to a terminal: input files and servers' messages
//! may hold control characters and escape sequences (`ESC [ 2 J`, a bell, a bidirectional
//! override that reorders what is shown). They are written as Rust-style escapes (`\u{1b}`)
//! instead, so what the user sees is what the bytes are, and nothing outside can drive the
//! terminal.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw: every control character (C0 with tab, line feed
/// and carriage return, DEL, C1), the Unicode line and paragraph separators, and the
/// bidirectional marks, embeddings, overrides and isolates (the "Trojan Source" characters).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    out.extend(c.escape_default());
}

/// `text` with every character that could drive a terminal or break a line escaped, Rust-style
/// (`\n`, `\u{1b}`, `\u{202e}`): the one function every human-facing line of text from
/// outside (input files, servers' `error_description`, a hostile catalog's keys) goes through,
/// so one problem stays on one line whatever a value holds. Text already escaped is left as it
/// is (all its characters are printable), so escaping twice is harmless.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A file's bytes made printable, with the map from the file's byte offsets to the printable
/// text's, so diagnostics' byte ranges still point at the same characters.
///
/// Line breaks become `\n` (a lone `\r` counts as a break, as in YAML; the `\r` of `\r\n` is
/// dropped), a leading byte-order mark is dropped, control characters are escaped (a tab too:
/// it is shown as `\t`, which is what YAML indentation must not hold, and the renderer cannot
/// draw a caret under it by a guess at its width), and bytes that are not UTF-8 are shown as
/// `\xNN`.
pub(crate) struct PrintableSource {
    pub(crate) text: String,
    /// `offsets[i]` is where the file's byte `i` starts in `text`; one more entry for the end.
    offsets: Vec<usize>,
}

impl PrintableSource {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let mut text = String::with_capacity(bytes.len());
        let mut offsets = Vec::with_capacity(bytes.len() + 1);
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        offsets.resize(bytes.len() - body.len(), 0);
        let base = offsets.len();
        let mut at = 0;
        for chunk in body.utf8_chunks() {
            let valid = chunk.valid();
            let mut chars = valid.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                offsets.resize(base + at + i, text.len());
                offsets.push(text.len());
                match c {
                    '\r' if chars.peek().is_some_and(|&(_, next)| next == '\n') => {}
                    '\r' | '\n' => text.push('\n'),
                    c if is_unsafe(c) => push_escaped(&mut text, c),
                    c => text.push(c),
                }
            }
            at += valid.len();
            offsets.resize(base + at, text.len());
            for byte in chunk.invalid() {
                offsets.push(text.len());
                text.push_str(&format!("\\x{byte:02X}"));
                at += 1;
            }
        }
        offsets.resize(bytes.len(), text.len());
        offsets.push(text.len());
        PrintableSource { text, offsets }
    }

    /// Where the file's byte `offset` lies in the printable text (clamped to its end).
    pub(crate) fn offset(&self, offset: usize) -> usize {
        self.offsets[offset.min(self.offsets.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_shown_not_obeyed() {
        assert_eq!(
            visible("denied\u{1b}[2J\u{7}\u{202E}ok"),
            "denied\\u{1b}[2J\\u{7}\\u{202e}ok"
        );
        assert!(matches!(visible("plain text"), Cow::Borrowed(_)));
    }

    #[test]
    fn line_breaks_and_every_other_control_character_are_escaped() {
        assert_eq!(
            visible("a\nb\rc\td\u{85}e\u{9b}2Jf\u{2028}g\u{2029}h\u{2066}i\u{7f}"),
            "a\\nb\\rc\\td\\u{85}e\\u{9b}2Jf\\u{2028}g\\u{2029}h\\u{2066}i\\u{7f}"
        );
        // Escaping what is already escaped changes nothing: callers may escape twice.
        let once = visible("x\ny\u{1b}").into_owned();
        assert_eq!(visible(&once), once);
    }

    #[test]
    fn printable_source_keeps_byte_ranges_on_the_same_characters() {
        let file = b"\xEF\xBB\xBFa: \x1b[31m\r\nb: \xFFz\rc: 1";
        let source = PrintableSource::new(file);
        assert_eq!(source.text, "a: \\u{1b}[31m\nb: \\xFFz\nc: 1");
        let show = |start: usize, end: usize| {
            source.text[source.offset(start)..source.offset(end)].to_owned()
        };
        // `a` (after the 3-byte BOM), the escape character, the invalid byte, `z`, `c`.
        assert_eq!(show(3, 4), "a");
        assert_eq!(show(6, 7), "\\u{1b}");
        assert_eq!(show(16, 17), "\\xFF");
        assert_eq!(show(17, 18), "z");
        assert_eq!(show(19, 20), "c");
        assert_eq!(source.offset(file.len()), source.text.len());
        assert_eq!(source.offset(file.len() + 5), source.text.len());
    }
}
