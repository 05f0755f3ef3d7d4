//! Where a scalar ends in the source text: the YAML scanner reports where a node starts, not
//! where it ends, so the end of a quoted, plain or block scalar (and of the `&anchor` and `!tag`
//! properties before it) is found by reading the text from that start, as YAML writes them.

/// Skips `&anchor` and `!tag` written before a node, and the blanks after them.
pub(super) fn skip_properties(mut text: &str) -> &str {
    while text.starts_with(['&', '!']) {
        text = &text[token_len(text)..];
        text = text.trim_start_matches([' ', '\t']);
    }
    text
}

/// Length of a run of characters up to a blank, a line break or a flow indicator.
pub(super) fn token_len(text: &str) -> usize {
    text.find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}'])
        .unwrap_or(text.len())
}

/// Length of a quoted scalar, both quotes included; to the end of the text if unclosed.
pub(super) fn quoted_len(text: &str, quote: char) -> usize {
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        if quote == '"' && c == '\\' {
            chars.next();
        } else if c == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
            } else {
                return at + 1;
            }
        }
    }
    text.len()
}

/// Length of a plain scalar on its line: up to a comment, a `: ` (when it is a key), a flow
/// indicator inside `[...]`/`{...}`, or the line end, without trailing blanks.
pub(super) fn plain_len(text: &str, flow: bool) -> usize {
    let line = &text[..text.find(['\r', '\n']).unwrap_or(text.len())];
    let bytes = line.as_bytes();
    let mut end = line.len();
    for (at, &byte) in bytes.iter().enumerate() {
        let next_is_blank = bytes.get(at + 1).is_none_or(|b| matches!(b, b' ' | b'\t'));
        let previous_is_blank = at > 0 && matches!(bytes[at - 1], b' ' | b'\t');
        let stop = match byte {
            b'#' => previous_is_blank,
            b':' => {
                next_is_blank || (flow && matches!(bytes.get(at + 1), Some(b',' | b']' | b'}')))
            }
            b',' | b'[' | b']' | b'{' | b'}' => flow,
            _ => false,
        };
        if stop && at > 0 {
            end = at;
            break;
        }
    }
    line[..end].trim_end_matches([' ', '\t']).len()
}

/// Length of the content of a `|` or `>` block scalar, which the parser places at its first
/// content line, `indent` characters in: that line and the following ones indented at least as
/// deep, up to the last one that is not blank.
pub(super) fn block_scalar_len(text: &str, indent: usize) -> usize {
    let mut end = text.find(['\r', '\n']).unwrap_or(text.len());
    let mut consumed = end;
    let mut rest = &text[end..];
    loop {
        let brk = if rest.starts_with("\r\n") {
            2
        } else if rest.starts_with(['\r', '\n']) {
            1
        } else {
            break;
        };
        rest = &rest[brk..];
        consumed += brk;
        let line_len = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..line_len];
        let content = line.trim_start_matches(' ');
        if !content.trim_end_matches([' ', '\t']).is_empty() {
            if line.len() - content.len() < indent.max(1) {
                break;
            }
            end = consumed + line.trim_end_matches([' ', '\t']).len();
        }
        rest = &rest[line_len..];
        consumed += line_len;
    }
    end
}
