//! Hover: what the key under the cursor means, from the schema.
//!
//! On a key, the key's own description (hovering `token:` shows the `token` field's text, not
//! the `Token` type's). In a value, the description of the key that holds it, since a value has
//! no description of its own, followed by the meaning of the value when it is one of the
//! field's enumerated values (`client_secret_post`). A list item, which has no description
//! either, shows its list's.
//!
//! What the document itself says is added where the schema cannot know it: on a scope name, the
//! scope's description from the document's catalog; on a placeholder `<name>`, its value in
//! each data center, as resolution merges them.

use std::path::Path;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Range};
use serde_json::Value;

use super::classify::FileKind;
use super::completion::effective_data_centers;
use super::cursor::{self, Step, Target};
use super::goto::placeholder_at;
use super::schema_walk::Field;
use super::text;
use super::workspace::Workspace;
use crate::definition::document;

/// The document a hover is asked in, for what its own text and its set say.
pub(super) struct Context<'a> {
    /// The document's file.
    pub path: &'a Path,
    /// Provider or data-center set.
    pub kind: FileKind,
    /// The open documents and the disk.
    pub workspace: &'a Workspace,
}

/// The hover for `position` in `text`, checked against `schema`, with what the document says
/// about a scope name or placeholder when `context` is given.
pub(super) fn hover(
    text: &str,
    schema: &serde_json::Value,
    position: Position,
    context: Option<&Context<'_>>,
) -> Option<Hover> {
    let lines = text::lines(text);
    let line = *lines.get(position.line as usize)?;
    let at = text::byte_of_utf16(line, position.character);
    let cursor = cursor::locate(text, position.line as usize, at)?;
    let field = Field::at(schema, &cursor.path)?;
    let name = cursor.path.iter().rev().find_map(|step| match step {
        Step::Key(name) => Some(name.as_str()),
        Step::Item => None,
    })?;
    let (start, end, value) = match cursor.target {
        Target::Key { start, end, .. } if start < end => (start, end, None),
        Target::Key { .. } => return None,
        Target::Value { start, .. } => {
            let end = text::token_end(line, start);
            (start, end, Some(&line[start..end.max(start)]))
        }
    };
    let mut markdown = format!("**{name}**");
    // A list item has no description of its own: its list's tells what it is.
    let description = field.description().or_else(|| {
        (0..cursor.path.len())
            .rev()
            .filter(|&length| matches!(cursor.path.get(length.wrapping_sub(1)), Some(Step::Key(_))))
            .find_map(|length| Field::at(schema, &cursor.path[..length])?.description())
    });
    if let Some(description) = description {
        markdown.push_str("\n\n");
        markdown.push_str(description);
    }
    let choice = value.and_then(|value| {
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        field
            .choices()
            .into_iter()
            .find(|choice| choice.value == value)
    });
    if let Some(description) = choice.as_ref().and_then(|c| c.description.as_ref()) {
        let value = &choice.as_ref()?.value;
        markdown.push_str(&format!("\n\n`{value}`: {description}"));
    }
    if let (Some(context), Some(value)) = (context, value) {
        let word = value.trim_matches(|c| c == '"' || c == '\'');
        let said = match placeholder_at(line, at) {
            Some(placeholder) => placeholder_values(context, text, placeholder),
            None => scope_description(context, text, &cursor.path, word),
        };
        if let Some(said) = said {
            markdown.push_str("\n\n");
            markdown.push_str(&said);
        }
    }
    let line_number = position.line;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: markdown,
        }),
        range: Some(Range::new(
            Position::new(line_number, text::utf16_of_byte(line, start)),
            Position::new(line_number, text::utf16_of_byte(line, end)),
        )),
    })
}

/// The catalog's description of the scope `name`, when the cursor is on a scope name (in
/// `scopes.default` or a catalog entry's `name`).
fn scope_description(
    context: &Context<'_>,
    text: &str,
    path: &[Step],
    name: &str,
) -> Option<String> {
    let key = |step: &Step, wanted: &str| matches!(step, Step::Key(k) if k == wanted);
    let on_scope = context.kind == FileKind::Provider
        && match path {
            [scopes, default, Step::Item] => key(scopes, "scopes") && key(default, "default"),
            [scopes, catalog, Step::Item, field] => {
                key(scopes, "scopes") && key(catalog, "catalog") && key(field, "name")
            }
            _ => false,
        };
    if !on_scope {
        return None;
    }
    let document = document::parse(text).ok()?;
    let scope = document
        .value()
        .pointer("/scopes/catalog")?
        .as_array()?
        .iter()
        .find(|scope| scope.get("name").and_then(Value::as_str) == Some(name))?;
    let description = scope.get("description")?.as_str()?;
    Some(format!("`{name}`: {description}"))
}

/// The value of the placeholder `name` in each data center (and its default), as resolution
/// merges the document with its set.
fn placeholder_values(context: &Context<'_>, text: &str, name: &str) -> Option<String> {
    let document = document::parse(text).ok()?;
    let effective = effective_data_centers(
        context.path,
        context.kind,
        document.value(),
        context.workspace,
    )?;
    let mut shown = format!("`<{name}>`");
    let default = effective.defaults.get(name);
    if let Some(default) = default {
        shown.push_str(&format!("\n\n- default: `{default}`"));
    }
    let mut any = default.is_some();
    for dc in &effective.all {
        if let Some(value) = dc.values.get(name) {
            shown.push_str(&format!("\n- `{}` ({}): `{value}`", dc.code, dc.name));
            any = true;
        }
    }
    // A connection parameter or runtime value has no value in the definition.
    any.then_some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::provider_schema;

    fn contents(hover: Hover) -> String {
        match hover.contents {
            HoverContents::Markup(markup) => markup.value,
            other => panic!("expected markdown, got {other:?}"),
        }
    }

    #[test]
    fn a_key_shows_its_own_description_and_a_value_its_keys() {
        let schema = provider_schema();
        let text = "token:\n  url: https://a\n  auth_method: client_secret_basic\n";
        let on_key = hover(text, &schema, Position::new(0, 2), None).unwrap();
        let expected = schema["properties"]["token"]["description"]
            .as_str()
            .unwrap();
        assert_eq!(contents(on_key.clone()), format!("**token**\n\n{expected}"));
        assert_eq!(
            on_key.range,
            Some(Range::new(Position::new(0, 0), Position::new(0, 5)))
        );

        let on_value = contents(hover(text, &schema, Position::new(1, 10), None).unwrap());
        let url = schema["$defs"]["Token"]["properties"]["url"]["description"]
            .as_str()
            .unwrap();
        assert_eq!(on_value, format!("**url**\n\n{url}"));

        let on_enum = contents(hover(text, &schema, Position::new(2, 20), None).unwrap());
        assert!(
            on_enum.ends_with(
                "`client_secret_basic`: HTTP Basic authentication with the client id and secret."
            ),
            "{on_enum}"
        );
    }

    #[test]
    fn nothing_for_blank_lines_or_unknown_keys() {
        let schema = provider_schema();
        assert_eq!(hover("id: x\n\n", &schema, Position::new(1, 0), None), None);
        assert_eq!(hover("nope: x\n", &schema, Position::new(0, 1), None), None);
    }
}
