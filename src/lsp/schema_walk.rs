//! Walking the generated JSON Schema along a document path: what a key means (its
//! description), which keys a mapping takes and which values a field allows.
//!
//! The schema is the one `validate` checks against and `provider-forge schema` prints, generated
//! from the Rust types' doc comments ([`crate::schema`]); the editor reads it rather than a copy
//! of the descriptions, so hover text cannot drift from the format.

use serde_json::Value;

use super::cursor::Step;

/// A place in a schema: the root (for `$ref`s) and the subschema of one field.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field<'a> {
    root: &'a Value,
    /// The subschema as written at the field (its own description, maybe a `$ref`).
    schema: &'a Value,
}

/// A value a field may take, with what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Choice {
    /// The value as written in YAML.
    pub value: String,
    /// Its description, when the schema gives one.
    pub description: Option<String>,
}

impl<'a> Field<'a> {
    /// The whole document.
    pub(super) fn root(root: &'a Value) -> Self {
        Field { root, schema: root }
    }

    /// The field `path` leads to, if the schema has it.
    pub(super) fn at(root: &'a Value, path: &[Step]) -> Option<Self> {
        path.iter()
            .try_fold(Field::root(root), |field, step| field.child(step))
    }

    /// The subschema of a key of this mapping or of an item of this sequence.
    pub(super) fn child(&self, step: &Step) -> Option<Self> {
        let schema = self
            .alternatives()
            .into_iter()
            .find_map(|node| match step {
                Step::Key(key) => node
                    .get("properties")
                    .and_then(|properties| properties.get(key))
                    .or_else(|| node.get("additionalProperties").filter(|v| v.is_object())),
                Step::Item => node.get("items"),
            })?;
        Some(Field {
            root: self.root,
            schema,
        })
    }

    /// What the field means: its own description, else its type's.
    pub(super) fn description(&self) -> Option<&'a str> {
        self.schema
            .get("description")
            .or_else(|| self.resolved().get("description"))
            .and_then(Value::as_str)
    }

    /// The keys of a mapping field, with their descriptions, in schema order.
    pub(super) fn keys(&self) -> Vec<(String, Option<String>)> {
        let mut keys = Vec::new();
        for node in self.alternatives() {
            let Some(Value::Object(properties)) = node.get("properties") else {
                continue;
            };
            for (name, schema) in properties {
                if keys.iter().any(|(known, _)| known == name) {
                    continue;
                }
                let field = Field {
                    root: self.root,
                    schema,
                };
                keys.push((name.clone(), field.description().map(str::to_owned)));
            }
        }
        keys
    }

    /// The values an enumerated or boolean field allows.
    pub(super) fn choices(&self) -> Vec<Choice> {
        let mut choices = Vec::new();
        for node in self.alternatives() {
            if let Some(Value::Array(values)) = node.get("enum") {
                for value in values.iter().filter_map(Value::as_str) {
                    choices.push(Choice {
                        value: value.to_owned(),
                        description: None,
                    });
                }
            }
            if let Some(value) = node.get("const").and_then(Value::as_str) {
                choices.push(Choice {
                    value: value.to_owned(),
                    description: node
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
            if node.get("type").and_then(Value::as_str) == Some("boolean") {
                for value in ["true", "false"] {
                    choices.push(Choice {
                        value: value.to_owned(),
                        description: None,
                    });
                }
            }
        }
        choices
    }

    /// The field's schema with `$ref`s followed.
    fn resolved(&self) -> &'a Value {
        let mut node = self.schema;
        // Definitions never refer to themselves directly; the bound only guards a bad schema.
        for _ in 0..16 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(target) = reference
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
            else {
                break;
            };
            node = target;
        }
        node
    }

    /// The resolved schema and, when it is a union, each alternative resolved.
    fn alternatives(&self) -> Vec<&'a Value> {
        let resolved = self.resolved();
        let mut nodes = vec![resolved];
        for union in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(options)) = resolved.get(union) {
                for option in options {
                    let field = Field {
                        root: self.root,
                        schema: option,
                    };
                    nodes.push(field.resolved());
                }
            }
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::provider_schema;

    fn path(keys: &[&str]) -> Vec<Step> {
        keys.iter()
            .map(|key| match *key {
                "[]" => Step::Item,
                key => Step::Key(key.to_owned()),
            })
            .collect()
    }

    #[test]
    fn a_field_is_described_by_its_own_doc_comment() {
        let schema = provider_schema();
        let expected = schema["properties"]["token"]["description"].as_str();
        let token = Field::at(&schema, &path(&["token"])).unwrap();
        assert_eq!(token.description(), expected);
        assert_ne!(expected, schema["$defs"]["Token"]["description"].as_str());
    }

    #[test]
    fn keys_and_choices_come_from_the_schema() {
        let schema = provider_schema();
        let token = Field::at(&schema, &path(&["token"])).unwrap();
        let keys: Vec<String> = token.keys().into_iter().map(|(k, _)| k).collect();
        assert!(keys.contains(&"auth_method".to_owned()), "{keys:?}");
        let method = Field::at(&schema, &path(&["token", "auth_method"])).unwrap();
        let values: Vec<String> = method.choices().into_iter().map(|c| c.value).collect();
        assert_eq!(values, ["client_secret_post", "client_secret_basic"]);
        let pkce = Field::at(&schema, &path(&["authorization", "pkce"])).unwrap();
        assert_eq!(pkce.choices().len(), 2);
        let scope = Field::at(&schema, &path(&["scopes", "catalog", "[]", "module"]));
        assert!(scope.unwrap().description().is_some());
        assert!(Field::at(&schema, &path(&["nonsense"])).is_none());
    }
}
