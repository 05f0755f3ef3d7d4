//! Hover: what the key under the cursor means, from the schema.
//!
//! On a key, the key's own description (hovering `token:` shows the `token` field's text, not
//! the `Token` type's). In a value, the description of the key that holds it, since a value has
//! no description of its own, followed by the meaning of the value when it is one of the
//! field's enumerated values (`client_secret_post`).

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Range};

use super::cursor::{self, Step, Target};
use super::schema_walk::Field;
use super::text;

/// The hover for `position` in `text`, checked against `schema`.
pub fn hover(text: &str, schema: &serde_json::Value, position: Position) -> Option<Hover> {
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
    if let Some(description) = field.description() {
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
        let on_key = hover(text, &schema, Position::new(0, 2)).unwrap();
        let expected = schema["properties"]["token"]["description"]
            .as_str()
            .unwrap();
        assert_eq!(contents(on_key.clone()), format!("**token**\n\n{expected}"));
        assert_eq!(
            on_key.range,
            Some(Range::new(Position::new(0, 0), Position::new(0, 5)))
        );

        let on_value = contents(hover(text, &schema, Position::new(1, 10)).unwrap());
        let url = schema["$defs"]["Token"]["properties"]["url"]["description"]
            .as_str()
            .unwrap();
        assert_eq!(on_value, format!("**url**\n\n{url}"));

        let on_enum = contents(hover(text, &schema, Position::new(2, 20)).unwrap());
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
        assert_eq!(hover("id: x\n\n", &schema, Position::new(1, 0)), None);
        assert_eq!(hover("nope: x\n", &schema, Position::new(0, 1)), None);
    }
}
