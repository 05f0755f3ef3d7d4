//! JSON Schemas generated from the Rust types.
//!
//! The checked-in files under `schemas/` are exactly this output (a test keeps them fresh), so
//! editors, CI tools and this crate all check definitions against the same rules.

use schemars::generate::SchemaSettings;
use schemars::transform::transform_subschemas;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

use crate::definition::types::{DataCenterSet, ProviderDefinition};
use crate::resolve::table::ResolvedProvider;

/// Generates the schema of a type the way every schema of this crate is generated: draft
/// 2020-12, and an optional field is simply absent rather than `null`, so that a mistake
/// inside an optional section is reported precisely instead of as "matches no alternative".
fn generate<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.transforms.push(Box::new(absent_not_null));
            settings.transforms.push(Box::new(paragraph_descriptions));
        })
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// Rewrites `Option<T>`'s "T or null" as plain `T`: optional fields are left out, never null.
fn absent_not_null(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut() {
        if let Some(Value::Array(types)) = object.get_mut("type") {
            types.retain(|kind| kind != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                object.insert("type".into(), only);
            }
        }
        let is_null =
            |alternative: &Value| alternative.get("type").and_then(Value::as_str) == Some("null");
        if let Some(Value::Array(alternatives)) = object.get("anyOf") {
            if alternatives.len() == 2 && alternatives.iter().any(is_null) {
                let kept = alternatives.iter().find(|a| !is_null(a)).cloned();
                object.remove("anyOf");
                if let Some(Value::Object(kept)) = kept {
                    object.extend(kept);
                }
            }
        }
    }
    transform_subschemas(&mut absent_not_null, schema);
}

/// Joins the hard-wrapped lines of doc comments into paragraphs: editors show a description
/// as markdown or as plain text in a narrow hover, and a line break copied from the source
/// would either vanish or break the line in the wrong place. Blank lines (paragraph breaks)
/// and line breaks before a list item (`- `) are kept.
fn paragraph_descriptions(schema: &mut Schema) {
    if let Some(Value::String(description)) = schema.get_mut("description") {
        let mut joined = String::with_capacity(description.len());
        for line in description.split('\n') {
            if !joined.is_empty() {
                let breaks = line.is_empty() || joined.ends_with('\n') || line.starts_with("- ");
                joined.push(if breaks { '\n' } else { ' ' });
            }
            joined.push_str(line);
        }
        *description = joined;
    }
    transform_subschemas(&mut paragraph_descriptions, schema);
}

/// Schema of a provider definition file (`schemas/provider.schema.json`).
pub fn provider_schema() -> Value {
    generate::<ProviderDefinition>()
}

/// Schema of a shared data-center set file (`schemas/data-center-set.schema.json`).
pub fn data_center_set_schema() -> Value {
    generate::<DataCenterSet>()
}

/// Schema of `render --format json` output: an array of resolved providers
/// (`schemas/rendered.schema.json`).
pub fn rendered_schema() -> Value {
    generate::<Vec<ResolvedProvider>>()
}

/// Pretty JSON with a trailing newline, the form the checked-in files use.
pub fn to_pretty_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
    text.push('\n');
    text
}
