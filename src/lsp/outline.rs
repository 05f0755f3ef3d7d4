//! Document symbols: the outline of a definition, as the editor's outline and breadcrumbs show
//! it.
//!
//! Every mapping key is a symbol, nested as in the document, so sections added to the format
//! appear without a change here. A sequence item that is a mapping is named by its `code` (a
//! data center) or its `name` (a scope, a set's data center name), which is what a reader looks
//! for in a list; other items are left out. Read from the parsed document and its source map,
//! so a document that is not valid YAML for the moment has no outline until it is again.

use lsp_types::{DocumentSymbol, Range, SymbolKind};
use serde_json::Value;

use super::text;
use crate::definition::document::{self, Document, Region, escape_pointer_token};

/// The outline of `text`; empty when it does not parse.
pub(super) fn symbols(text: &str) -> Vec<DocumentSymbol> {
    let Ok(document) = document::parse(text) else {
        return Vec::new();
    };
    let lines = text::lines(text);
    let outline = Outline {
        document: &document,
        lines: &lines,
    };
    outline.children("", document.value())
}

struct Outline<'a> {
    document: &'a Document,
    lines: &'a [&'a str],
}

impl Outline<'_> {
    fn children(&self, pointer: &str, value: &Value) -> Vec<DocumentSymbol> {
        match value {
            Value::Object(map) => map
                .iter()
                .map(|(key, child)| {
                    let at = format!("{pointer}/{}", escape_pointer_token(key));
                    self.symbol(key.clone(), &at, child)
                })
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let name = ["code", "name"]
                        .iter()
                        .find_map(|field| item.get(field)?.as_str())?;
                    Some(self.symbol(name.to_owned(), &format!("{pointer}/{index}"), item))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn symbol(&self, name: String, pointer: &str, value: &Value) -> DocumentSymbol {
        let node = self.document.map.node(pointer);
        let selection = self.range(node.key.unwrap_or(node.value));
        let whole = self.range(node.value);
        let range = Range::new(
            selection.start.min(whole.start),
            selection.end.max(whole.end),
        );
        let (kind, detail) = match value {
            Value::Object(_) => (SymbolKind::OBJECT, None),
            Value::Array(_) => (SymbolKind::ARRAY, None),
            Value::String(text) => (SymbolKind::STRING, Some(text.clone())),
            Value::Bool(_) => (SymbolKind::BOOLEAN, Some(value.to_string())),
            Value::Number(_) => (SymbolKind::NUMBER, Some(value.to_string())),
            Value::Null => (SymbolKind::NULL, None),
        };
        // A list item is named by its `code`; its `name` (the data center's) is its detail.
        let detail = detail.or_else(|| {
            let label = value.get("name")?.as_str()?;
            (label != name).then(|| label.to_owned())
        });
        let children = self.children(pointer, value);
        #[allow(deprecated)]
        DocumentSymbol {
            name,
            detail,
            kind,
            tags: None,
            deprecated: None,
            range,
            selection_range: selection,
            children: (!children.is_empty()).then_some(children),
        }
    }

    fn range(&self, region: Region) -> Range {
        let start = text::position_of(self.lines, region.start.line, region.start.column);
        let end = text::position_of(self.lines, region.end.line, region.end.column);
        Range::new(start, end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_hold_their_keys_and_list_items_are_named_by_code_or_name() {
        let text = "id: x\ndata_centers:\n  list:\n    - code: eu\n      name: Europe\nscopes:\n  catalog:\n    - name: read\n";
        let outline = symbols(text);
        let names: Vec<&str> = outline.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["id", "data_centers", "scopes"]);
        let list = &outline[1].children.as_ref().unwrap()[0];
        let eu = &list.children.as_ref().unwrap()[0];
        assert_eq!(
            (eu.name.as_str(), eu.detail.as_deref()),
            ("eu", Some("Europe"))
        );
        assert_eq!(eu.selection_range.start.line, 3);
        let read = &outline[2].children.as_ref().unwrap()[0]
            .children
            .as_ref()
            .unwrap()[0];
        assert_eq!(read.name, "read");
        assert!(symbols("a: [\n").is_empty());
    }
}
