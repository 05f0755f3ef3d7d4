//! Go to definition: from `set: NAME` to the set's file, and from a placeholder `<name>` to
//! every place its value is written.
//!
//! A placeholder's values are written in the provider's data-center section (its defaults and
//! each listed data center's values), among its connection parameters, and in the shared set it
//! names (the set's defaults and each data center's values): the places
//! [`crate::resolve`]'s data-center merge reads them from. The set is read as the editor shows
//! it, unsaved edits included.

use std::path::Path;

use lsp_types::{Location, Position, Range};
use serde_json::Value;

use super::classify::FileKind;
use super::cursor::{self, Step, Target};
use super::text;
use super::workspace::Workspace;
use crate::catalog;
use crate::definition::document::{self, escape_pointer_token};

/// Where the symbol at `position` of the document `path` (a `kind` file holding `text`) is
/// defined; empty when the cursor is on nothing that has a definition.
pub(super) fn definition(
    path: &Path,
    kind: FileKind,
    text: &str,
    position: Position,
    workspace: &Workspace,
) -> Vec<Location> {
    let lines = text::lines(text);
    let Some(line) = lines.get(position.line as usize) else {
        return Vec::new();
    };
    let at = text::byte_of_utf16(line, position.character);
    if let Some(name) = placeholder_at(line, at) {
        return placeholder_sources(path, kind, text, name, workspace);
    }
    if kind == FileKind::Provider
        && let Some(name) = set_name_at(text, position.line as usize, at)
    {
        let set = catalog::set_path(path, &name);
        if workspace.text(&set).is_some()
            && let Some(uri) = workspace.uri_of(&set)
        {
            let start = Position::new(0, 0);
            return vec![Location::new(uri, Range::new(start, start))];
        }
    }
    Vec::new()
}

/// The name of the placeholder `<name>` the byte `at` of `line` is in (on its brackets too).
pub(super) fn placeholder_at(line: &str, at: usize) -> Option<&str> {
    let bytes = line.as_bytes();
    let last = at.min(bytes.len().checked_sub(1)?);
    let mut open = None;
    for index in (0..=last).rev() {
        match bytes[index] {
            b'<' => {
                open = Some(index);
                break;
            }
            b'>' if index < at => return None,
            _ => {}
        }
    }
    let open = open?;
    let close = open + 1 + line[open + 1..].find('>')?;
    let name = &line[open + 1..close];
    let is_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (close >= at && is_name).then_some(name)
}

/// The set name of a `data_centers.set` value under the cursor.
fn set_name_at(text: &str, line: usize, at: usize) -> Option<String> {
    let cursor = cursor::locate(text, line, at)?;
    let Target::Value { start, .. } = cursor.target else {
        return None;
    };
    if cursor.path != [Step::Key("data_centers".into()), Step::Key("set".into())] {
        return None;
    }
    let line = *text::lines(text).get(line)?;
    let value = &line[start..text::token_end(line, start)];
    let name = value.trim_matches(|c| c == '"' || c == '\'');
    (!name.is_empty()).then(|| name.to_owned())
}

/// Every key that gives `name` a value: in the document itself, and for a provider in the set
/// it names.
fn placeholder_sources(
    path: &Path,
    kind: FileKind,
    text: &str,
    name: &str,
    workspace: &Workspace,
) -> Vec<Location> {
    let key = escape_pointer_token(name);
    let mut found = Vec::new();
    match kind {
        FileKind::Provider => {
            let Ok(provider) = document::parse(text) else {
                return found;
            };
            let value = provider.value();
            let mut pointers = vec![
                format!("/data_centers/placeholders/{key}"),
                format!("/connection/params/{key}"),
            ];
            pointers.extend(list_values(value, "/data_centers/list", &key));
            found.extend(locations(path, text, &pointers, workspace));
            if let Some(set) = value.pointer("/data_centers/set").and_then(Value::as_str) {
                let set = catalog::set_path(path, set);
                if let Some(set_text) = workspace.text(&set) {
                    found.extend(set_sources(&set, &set_text, &key, workspace));
                }
            }
        }
        FileKind::DataCenterSet => found.extend(set_sources(path, text, &key, workspace)),
    }
    found
}

fn set_sources(path: &Path, text: &str, key: &str, workspace: &Workspace) -> Vec<Location> {
    let Ok(set) = document::parse(text) else {
        return Vec::new();
    };
    let mut pointers = vec![format!("/placeholders/{key}")];
    pointers.extend(list_values(set.value(), "/data_centers", key));
    locations(path, text, &pointers, workspace)
}

/// `LIST/i/values/KEY` for every item of the list at `list`.
fn list_values(value: &Value, list: &str, key: &str) -> Vec<String> {
    let count = value
        .pointer(list)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    (0..count)
        .map(|index| format!("{list}/{index}/values/{key}"))
        .collect()
}

/// The keys at `pointers` that `text` (the file at `path`) has, as locations.
fn locations(path: &Path, text: &str, pointers: &[String], workspace: &Workspace) -> Vec<Location> {
    let Ok(document) = document::parse(text) else {
        return Vec::new();
    };
    let Some(uri) = workspace.uri_of(path) else {
        return Vec::new();
    };
    let lines = text::lines(text);
    pointers
        .iter()
        .filter(|pointer| document.value().pointer(pointer).is_some())
        .map(|pointer| {
            let region = document.map.key_region(pointer);
            let start = text::position_of(&lines, region.start.line, region.start.column);
            let end = text::position_of(&lines, region.end.line, region.end.column);
            Location::new(uri.clone(), Range::new(start, end.max(start)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_under_the_cursor() {
        let line = "  url: https://<login_host>/a/<b>";
        let inside = line.find("login").unwrap() + 2;
        assert_eq!(placeholder_at(line, inside), Some("login_host"));
        assert_eq!(
            placeholder_at(line, line.find('<').unwrap()),
            Some("login_host")
        );
        assert_eq!(placeholder_at(line, line.find("/a/").unwrap() + 1), None);
        assert_eq!(placeholder_at(line, 2), None);
        assert_eq!(placeholder_at("a: <not a name>", 5), None);
        assert_eq!(placeholder_at("", 0), None);
    }
}
