//! Completion: the keys a mapping takes and the values a field allows (from the schema), the
//! placeholder names a provider defines (inside `<...>`), and the scope names of the document's
//! own catalog (in `scopes.default`).
//!
//! Placeholder names are the ones resolution itself would see: the provider's data-center
//! section merged with its shared set by [`data_centers::effective`], the set read as the
//! editor shows it.

use indexmap::IndexSet;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, MarkupContent,
    MarkupKind, Position, Range, TextEdit,
};
use serde_json::Value;

use super::classify::FileKind;
use super::cursor::{self, Cursor, Step, Target};
use super::schema_walk::Field;
use super::text;
use super::workspace::Workspace;
use crate::catalog;
use crate::definition::document::{self, Document};
use crate::definition::types::{DataCenterSet, DataCenters, ProviderDefinition, Scopes};
use crate::resolve::data_centers;

/// What the cursor's document is, for completion.
pub(super) struct Request<'a> {
    /// The document's file.
    pub path: &'a std::path::Path,
    /// Provider or data-center set.
    pub kind: FileKind,
    /// Its text as the editor shows it.
    pub text: &'a str,
    /// The schema of its kind.
    pub schema: &'a Value,
    /// Where the cursor is.
    pub position: Position,
}

/// The completion items at the request's cursor.
pub(super) fn complete(request: &Request<'_>, workspace: &Workspace) -> Vec<CompletionItem> {
    let lines = text::lines(request.text);
    let line_number = request.position.line as usize;
    let Some(line) = lines.get(line_number).copied() else {
        return Vec::new();
    };
    let at = text::byte_of_utf16(line, request.position.character);
    let Some(cursor) = cursor::locate(request.text, line_number, at) else {
        return Vec::new();
    };
    let edit = |start: usize, new_text: String| {
        let range = Range::new(
            Position::new(request.position.line, text::utf16_of_byte(line, start)),
            request.position,
        );
        Some(CompletionTextEdit::Edit(TextEdit { range, new_text }))
    };
    match &cursor.target {
        Target::Key {
            start, has_colon, ..
        } => {
            let parent = &cursor.path[..cursor.path.len().saturating_sub(1)];
            let suffix = if *has_colon { "" } else { ": " };
            keys(request.schema, parent, &cursor)
                .into_iter()
                .map(|mut item| {
                    item.text_edit = edit(*start, format!("{}{suffix}", item.label));
                    item
                })
                .collect()
        }
        Target::Value {
            start,
            in_placeholder: true,
        } => {
            let closed = line[at..].starts_with('>');
            placeholder_names(request, workspace)
                .into_iter()
                .map(|name| {
                    let new_text = if closed {
                        name.clone()
                    } else {
                        format!("{name}>")
                    };
                    CompletionItem {
                        kind: Some(CompletionItemKind::VARIABLE),
                        detail: Some("placeholder".to_owned()),
                        text_edit: edit(*start, new_text),
                        label: name,
                        ..CompletionItem::default()
                    }
                })
                .collect()
        }
        Target::Value { start, .. } => {
            let mut items = Vec::new();
            if request.kind == FileKind::Provider && is_default_scope(&cursor.path) {
                items.extend(scope_names(request).into_iter().map(|name| CompletionItem {
                    kind: Some(CompletionItemKind::VALUE),
                    detail: Some("scope from scopes.catalog".to_owned()),
                    text_edit: edit(*start, name.clone()),
                    label: name,
                    ..CompletionItem::default()
                }));
            }
            if let Some(field) = Field::at(request.schema, &cursor.path) {
                for choice in field.choices() {
                    items.push(CompletionItem {
                        kind: Some(CompletionItemKind::ENUM_MEMBER),
                        documentation: choice.description.map(markdown),
                        text_edit: edit(*start, choice.value.clone()),
                        label: choice.value,
                        ..CompletionItem::default()
                    });
                }
            }
            // `- ` in a list of mappings starts a mapping: offer its keys.
            if cursor.path.last() == Some(&Step::Item) {
                items.extend(keys(request.schema, &cursor.path, &cursor).into_iter().map(
                    |mut item| {
                        item.text_edit = edit(*start, format!("{}: ", item.label));
                        item
                    },
                ));
            }
            items
        }
    }
}

/// The keys the mapping at `path` takes that are not written yet.
fn keys(schema: &Value, path: &[Step], cursor: &Cursor) -> Vec<CompletionItem> {
    let Some(mapping) = Field::at(schema, path) else {
        return Vec::new();
    };
    mapping
        .keys()
        .into_iter()
        .filter(|(name, _)| !cursor.siblings.contains(name))
        .map(|(name, description)| CompletionItem {
            kind: Some(CompletionItemKind::FIELD),
            documentation: description.map(markdown),
            label: name,
            ..CompletionItem::default()
        })
        .collect()
}

fn markdown(text: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value: text,
    })
}

fn is_default_scope(path: &[Step]) -> bool {
    matches!(path, [Step::Key(scopes), Step::Key(default), Step::Item]
        if scopes == "scopes" && default == "default")
}

/// The document's value as far as it can be read. The line being typed is what most often
/// breaks the YAML (`default: [read, ` has no `]` yet), so that line is tried cut at the cursor
/// with its open brackets closed, and then left out.
fn readable_value(text: &str, position: Position) -> Option<Value> {
    if let Ok(document) = document::parse(text) {
        return Some(document.into_value());
    }
    let lines = text::lines(text);
    let index = position.line as usize;
    let current = lines.get(index)?;
    let typed = &current[..text::byte_of_utf16(current, position.character)];
    let mut closed = typed.to_owned();
    let mut open = Vec::new();
    for ch in typed.chars() {
        match ch {
            '[' => open.push(']'),
            '{' => open.push('}'),
            ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    closed.extend(open.into_iter().rev());
    [closed, String::new()].into_iter().find_map(|replacement| {
        let mut edited = lines.clone();
        edited[index] = &replacement;
        document::parse(&edited.join("\n"))
            .ok()
            .map(Document::into_value)
    })
}

/// Names in `scopes.catalog`, minus the ones already in `scopes.default`. Read leniently: a
/// catalog entry still being written does not hide the others.
fn scope_names(request: &Request<'_>) -> Vec<String> {
    let Some(value) = readable_value(request.text, request.position) else {
        return Vec::new();
    };
    let names = |pointer: &str, field: Option<&str>| -> Vec<String> {
        let items = value.pointer(pointer).and_then(Value::as_array);
        items
            .into_iter()
            .flatten()
            .filter_map(|item| match field {
                Some(field) => item.get(field),
                None => Some(item),
            })
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let chosen = names("/scopes/default", None);
    names("/scopes/catalog", Some("name"))
        .into_iter()
        .filter(|name| !chosen.contains(name))
        .collect()
}

/// Placeholder names the document defines: its data centers' values, then the values each
/// connection supplies or the flow learns (`connection.params`, `connection.runtime`), in
/// definition order.
fn placeholder_names(request: &Request<'_>, workspace: &Workspace) -> Vec<String> {
    let Some(value) = readable_value(request.text, request.position) else {
        return Vec::new();
    };
    let mut names = data_center_placeholder_names(request, workspace, &value);
    for part in ["params", "runtime"] {
        if let Some(declared) = value
            .get("connection")
            .and_then(|connection| connection.get(part))
            .and_then(|declared| declared.as_object())
        {
            names.extend(
                declared
                    .keys()
                    .filter(|name| !names.contains(name))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
    }
    names
}

/// Placeholder names the document's data centers define, in definition order.
fn data_center_placeholder_names(
    request: &Request<'_>,
    workspace: &Workspace,
    value: &serde_json::Value,
) -> Vec<String> {
    let Some(effective) = effective_data_centers(request.path, request.kind, value, workspace)
    else {
        return Vec::new();
    };
    let mut names: IndexSet<String> = effective.defaults.keys().cloned().collect();
    for dc in &effective.all {
        names.extend(dc.values.keys().cloned());
    }
    names.into_iter().collect()
}

/// The data centers of the document at `path` (a `kind` file whose value is `value`) as
/// resolution sees them: merged with the shared set, read as the editor shows it. `None` when
/// its data-center section does not read yet.
pub(super) fn effective_data_centers(
    path: &std::path::Path,
    kind: FileKind,
    value: &serde_json::Value,
    workspace: &Workspace,
) -> Option<data_centers::EffectiveDataCenters> {
    let value = value.clone();
    let (section, set) = match kind {
        FileKind::Provider => {
            let section = value
                .get("data_centers")
                .cloned()
                .and_then(|section| serde_json::from_value::<DataCenters>(section).ok())?;
            let set = section.set.as_ref().and_then(|name| {
                let path = catalog::set_path(path, name);
                let text = workspace.text(&path)?;
                let document = document::parse(&text).ok()?;
                document.deserialize::<DataCenterSet>().ok()
            });
            (section, set)
        }
        FileKind::DataCenterSet => {
            let Ok(set) = serde_json::from_value::<DataCenterSet>(value) else {
                return None;
            };
            let section = DataCenters {
                set: Some(set.name.clone()),
                placeholders: Default::default(),
                list: Vec::new(),
                overrides: Default::default(),
            };
            (section, Some(set))
        }
    };
    let (effective, _) = data_centers::effective(&with_data_centers(section), set.as_ref());
    Some(effective)
}

/// A definition with only its data-center section, which is all [`data_centers::effective`]
/// reads: the rest of the document may still be half written.
fn with_data_centers(section: DataCenters) -> ProviderDefinition {
    ProviderDefinition {
        id: String::new(),
        display_name: String::new(),
        docs_url: None,
        data_centers: Some(section),
        multi_dc: None,
        auth: None,
        connection: None,
        issuer: None,
        authorization: None,
        token: None,
        callback: None,
        api: None,
        scopes: Scopes {
            default: Vec::new(),
            catalog: Vec::new(),
        },
    }
}
