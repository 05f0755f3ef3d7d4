//! What the cursor is on: the path of keys from the top of the document to it, and whether it is
//! on a key or in a value.
//!
//! Read from the text by indentation, not from the parsed document: while a user types, the
//! document is usually not valid YAML (`  pk` under a mapping is a syntax error until `: ` is
//! typed), yet that is exactly when completion is asked for. Block mappings, block sequences
//! (`- `, also at the same indentation as their key) and one-line flow sequences (`[a, b]`) are
//! understood, which is what definition files use; anything else yields a shorter path and so
//! fewer suggestions, never wrong ones from another place.

/// One step from the top of a document to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// The value of a mapping key.
    Key(String),
    /// An item of a sequence.
    Item,
}

/// Where the cursor is, in terms of the document's structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cursor {
    /// Steps to the node under the cursor; for a key, ending with that key.
    pub path: Vec<Step>,
    /// On a key or in a value, with the byte range on the cursor's line it covers.
    pub target: Target,
    /// The other keys written in the mapping of a key target (to leave out of completion).
    pub siblings: Vec<String>,
}

/// The part of a line under the cursor. Ranges are byte offsets in the cursor's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A key, or the word being typed where a key goes.
    Key {
        /// First byte of the key.
        start: usize,
        /// End of the key.
        end: usize,
        /// Whether the `:` after the key is already written.
        has_colon: bool,
    },
    /// A scalar value, from `start` to the cursor.
    Value {
        /// Where the word being completed starts (after `<` inside a placeholder).
        start: usize,
        /// Whether the cursor is inside an unclosed `<` placeholder.
        in_placeholder: bool,
    },
}

/// What a line holds, left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CursorNode {
    /// A `- ` sequence item marker.
    Dash { col: usize },
    /// `key:` with the byte range of the key and of its inline value (possibly empty).
    Key {
        col: usize,
        end: usize,
        name: String,
        value: (usize, usize),
    },
    /// Text without a key: a sequence item's value, a word being typed, or a continued scalar.
    Scalar { col: usize },
}

impl CursorNode {
    fn col(&self) -> usize {
        match self {
            CursorNode::Dash { col } | CursorNode::Key { col, .. } | CursorNode::Scalar { col } => {
                *col
            }
        }
    }
}

/// Finds what the cursor at byte `at` of line `line` (0-based) of `text` is on.
pub(super) fn locate(text: &str, line: usize, at: usize) -> Option<Cursor> {
    let lines = super::text::lines(text);
    let current = *lines.get(line)?;
    let at = at.min(current.len());
    let nodes = parse_line(current);
    // The last node that starts at or before the cursor is the one the cursor is in.
    let index = nodes.iter().rposition(|node| node.col() <= at);
    let (path, target) = match index.map(|i| (i, &nodes[i])) {
        Some((
            i,
            CursorNode::Key {
                col,
                end,
                name,
                value,
            },
        )) => {
            let mut path = ancestors(&lines, line, &nodes[..i], *col, false);
            path.push(Step::Key(name.clone()));
            if at <= *end {
                let target = Target::Key {
                    start: *col,
                    end: *end,
                    has_colon: true,
                };
                (path, target)
            } else {
                let (start, in_flow, in_placeholder) = value_word(current, value.0, at);
                if in_flow {
                    path.push(Step::Item);
                }
                (
                    path,
                    Target::Value {
                        start,
                        in_placeholder,
                    },
                )
            }
        }
        Some((i, CursorNode::Scalar { col })) => match i.checked_sub(1).map(|d| &nodes[d]) {
            Some(CursorNode::Dash { col: dash }) => {
                let mut path = ancestors(&lines, line, &nodes[..i - 1], *dash, true);
                path.push(Step::Item);
                let (start, _, in_placeholder) = value_word(current, *col, at);
                (
                    path,
                    Target::Value {
                        start,
                        in_placeholder,
                    },
                )
            }
            _ => {
                let end = super::text::token_end(current, *col);
                let mut path = ancestors(&lines, line, &nodes[..i], *col, false);
                path.push(Step::Key(current[*col..end.max(*col)].to_owned()));
                let target = Target::Key {
                    start: *col,
                    end,
                    has_colon: false,
                };
                (path, target)
            }
        },
        Some((i, CursorNode::Dash { col })) => {
            let mut path = ancestors(&lines, line, &nodes[..i], *col, true);
            path.push(Step::Item);
            (
                path,
                Target::Value {
                    start: at,
                    in_placeholder: false,
                },
            )
        }
        // In the indentation or on a blank line: where a key would be typed.
        None => {
            let col = at;
            let mut path = ancestors(&lines, line, &[], col, false);
            path.push(Step::Key(String::new()));
            let target = Target::Key {
                start: col,
                end: col,
                has_colon: false,
            };
            (path, target)
        }
    };
    let siblings = match &target {
        Target::Key { start, .. } => siblings(&lines, line, *start),
        Target::Value { .. } => Vec::new(),
    };
    Some(Cursor {
        path,
        target,
        siblings,
    })
}

/// The steps from the top of the document to the node at `col` of line `line`, not including
/// that node. `left` holds the nodes of the same line before it (the `- ` markers it is in).
fn ancestors(
    lines: &[&str],
    line: usize,
    left: &[CursorNode],
    col: usize,
    is_dash: bool,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut left: Vec<CursorNode> = left.to_vec();
    let (mut line, mut col, mut is_dash) = (line, col, is_dash);
    loop {
        let owner = match left.pop() {
            Some(node) => Some((line, node)),
            None => owner_above(lines, line, col, is_dash),
        };
        let Some((owner_line, node)) = owner else {
            break;
        };
        match &node {
            CursorNode::Dash { .. } => steps.push(Step::Item),
            CursorNode::Key { name, .. } => steps.push(Step::Key(name.clone())),
            CursorNode::Scalar { .. } => break,
        }
        line = owner_line;
        col = node.col();
        is_dash = matches!(node, CursorNode::Dash { .. });
        left = parse_line(lines[line])
            .into_iter()
            .filter(|other| other.col() < col)
            .collect();
    }
    steps.reverse();
    steps
}

/// The nearest line above `line` holding the parent of a node at `col`: the first one indented
/// less, or, for a `- ` item, a `key:` with no inline value at the same indentation (YAML lets
/// a block sequence sit level with its key).
fn owner_above(
    lines: &[&str],
    line: usize,
    col: usize,
    is_dash: bool,
) -> Option<(usize, CursorNode)> {
    for above in (0..line).rev() {
        let nodes = parse_line(lines[above]);
        let Some(first) = nodes.first() else {
            continue;
        };
        if first.col() < col {
            let node = nodes.into_iter().rev().find(|node| node.col() < col)?;
            return Some((above, node));
        }
        if is_dash && first.col() == col {
            if let [CursorNode::Key { value, .. }] = nodes.as_slice() {
                if value.0 == value.1 {
                    return Some((above, nodes[0].clone()));
                }
            }
        }
    }
    None
}

/// The keys at column `col` in the mapping around line `line`, other than on that line.
fn siblings(lines: &[&str], line: usize, col: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut collect = |nodes: &[CursorNode]| {
        for node in nodes {
            if let CursorNode::Key { col: c, name, .. } = node {
                if *c == col {
                    found.push(name.clone());
                }
            }
        }
    };
    for above in (0..line).rev() {
        let nodes = parse_line(lines[above]);
        let Some(first) = nodes.first() else {
            continue;
        };
        collect(&nodes);
        if first.col() < col {
            break;
        }
    }
    for below in lines.iter().skip(line + 1) {
        let nodes = parse_line(below);
        let Some(first) = nodes.first() else {
            continue;
        };
        if first.col() < col {
            break;
        }
        collect(&nodes);
    }
    found
}

/// Where the word before the cursor starts in a value that starts at `start`: after the last
/// `<` of an unclosed placeholder, else after a flow sequence's `[` or `,`, else the value's
/// start. Also tells whether the cursor is inside `[...]` and inside `<...`.
fn value_word(line: &str, start: usize, at: usize) -> (usize, bool, bool) {
    let start = start.min(at);
    let before = &line[start..at];
    if let Some(open) = before.rfind('<') {
        if !before[open..].contains('>') {
            return (start + open + 1, false, true);
        }
    }
    let in_flow = before.trim_start().starts_with('[') && !before.contains(']');
    if in_flow {
        let cut = before.rfind(['[', ',']).map_or(0, |i| i + 1);
        let word = before[cut..].len() - before[cut..].trim_start().len();
        return (start + cut + word, true, false);
    }
    (start, false, false)
}

/// Splits a line into its `- ` markers and its key or scalar; comments and document markers
/// hold nothing.
fn parse_line(line: &str) -> Vec<CursorNode> {
    let mut nodes = Vec::new();
    if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
        return nodes;
    }
    let content_end = comment_start(line).unwrap_or(line.len());
    let content_end = line[..content_end].trim_end().len();
    let mut i = line.len() - line.trim_start_matches(' ').len();
    while i < content_end {
        let rest = &line[i..content_end];
        if rest == "-" || rest.starts_with("- ") {
            nodes.push(CursorNode::Dash { col: i });
            i += 1;
            i += line[i..].len() - line[i..].trim_start_matches(' ').len();
            continue;
        }
        match key_colon(rest) {
            Some(colon) => {
                let raw = rest[..colon].trim_end();
                let name = raw.trim_matches(|c| c == '"' || c == '\'').to_owned();
                let after = i + colon + 1;
                let value_start = after
                    + (line[after..content_end].len()
                        - line[after..content_end].trim_start().len());
                nodes.push(CursorNode::Key {
                    col: i,
                    end: i + raw.len(),
                    name,
                    value: (value_start, content_end),
                });
            }
            None => nodes.push(CursorNode::Scalar { col: i }),
        }
        break;
    }
    nodes
}

/// The byte offset of the `:` that ends a key at the start of `text`, if `text` is `key: ...`.
fn key_colon(text: &str) -> Option<usize> {
    if text.starts_with(['[', '{', '|', '>', '&', '*', '!']) {
        return None;
    }
    let mut quote = None;
    for (i, ch) in text.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if i == 0 => quote = Some(ch),
            (None, ':') => {
                let next = text[i + 1..].chars().next();
                if next.is_none_or(|c| c == ' ' || c == '\t') {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where a comment starts: a `#` at the line's start or after a blank, outside quotes.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote = None;
    let mut previous = ' ';
    for (i, ch) in line.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if previous == ' ' || previous == ':' => quote = Some(ch),
            (None, '#') if previous == ' ' || previous == '\t' => return Some(i),
            _ => {}
        }
        previous = ch;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Step {
        Step::Key(name.to_owned())
    }

    /// The cursor is where `|` is written in `text`.
    fn at(text: &str) -> Cursor {
        let offset = text.find('|').expect("a cursor mark");
        let clean = text.replacen('|', "", 1);
        let line = text[..offset].matches('\n').count();
        let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
        locate(&clean, line, column).expect("a cursor")
    }

    const PROVIDER: &str = "id: x\ntoken:\n  url: https://a/<dc>/t\n  revoke:\n    url: https://r\nscopes:\n  default:\n  - a\n  catalog:\n    - name: a\n      description: A\n";

    #[test]
    fn a_key_under_the_cursor_has_the_path_of_its_mappings() {
        let text = PROVIDER.replace("    url: https://r", "    u|rl: https://r");
        let cursor = at(&text);
        assert_eq!(cursor.path, vec![key("token"), key("revoke"), key("url")]);
        assert!(matches!(
            cursor.target,
            Target::Key {
                start: 4,
                end: 7,
                has_colon: true
            }
        ));
    }

    #[test]
    fn keys_inside_sequence_items_pass_through_the_item() {
        let text = PROVIDER.replace("      description", "      desc|ription");
        let cursor = at(&text);
        assert_eq!(
            cursor.path,
            vec![
                key("scopes"),
                key("catalog"),
                Step::Item,
                key("description")
            ]
        );
        assert_eq!(cursor.siblings, vec!["name".to_owned()]);
    }

    #[test]
    fn a_word_being_typed_is_a_key_of_the_enclosing_mapping() {
        let text = PROVIDER.replace("  revoke:", "  pk|\n  revoke:");
        let cursor = at(&text);
        assert_eq!(cursor.path, vec![key("token"), key("pk")]);
        assert!(matches!(
            cursor.target,
            Target::Key {
                has_colon: false,
                ..
            }
        ));
        assert_eq!(cursor.siblings, vec!["url".to_owned(), "revoke".to_owned()]);
    }

    #[test]
    fn a_blank_line_offers_the_mapping_at_its_indentation() {
        let text = PROVIDER.replace("scopes:\n", "scopes:\n  |\n");
        assert_eq!(at(&text).path, vec![key("scopes"), key("")]);
        let text = PROVIDER.replace("scopes:\n", "|\nscopes:\n");
        assert_eq!(at(&text).path, vec![key("")]);
    }

    #[test]
    fn values_items_and_placeholders() {
        let text = PROVIDER.replace("  - a\n", "  - Zo|\n");
        let cursor = at(&text);
        assert_eq!(cursor.path, vec![key("scopes"), key("default"), Step::Item]);
        assert!(matches!(
            cursor.target,
            Target::Value {
                start: 4,
                in_placeholder: false
            }
        ));

        let text = PROVIDER.replace("https://a/<dc>/t", "https://<ac|");
        let cursor = at(&text);
        assert_eq!(cursor.path, vec![key("token"), key("url")]);
        assert!(matches!(
            cursor.target,
            Target::Value {
                start: 16,
                in_placeholder: true
            }
        ));

        let cursor = at("scopes:\n  default: [api, re|]\n");
        assert_eq!(cursor.path, vec![key("scopes"), key("default"), Step::Item]);
        assert!(matches!(cursor.target, Target::Value { start: 17, .. }));
    }

    #[test]
    fn comments_and_quoted_colons_are_not_keys() {
        let cursor = at("a: \"x: y\" # b: c\nb:\n  |\n");
        assert_eq!(cursor.path, vec![key("b"), key("")]);
        assert_eq!(parse_line("# c: d"), vec![]);
    }
}
