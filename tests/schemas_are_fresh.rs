//! The checked-in schemas must be exactly what the types generate, or editors and downstream
//! tools would check files against stale rules.

use std::path::Path;

use provider_forge::schema;

fn assert_fresh(file: &str, generated: serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(file);
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == schema::to_pretty_json(&generated),
        "schemas/{file} is stale; regenerate it with:\n  cargo run -- schema --kind {} > schemas/{file}",
        file.trim_end_matches(".schema.json")
    );
}

#[test]
fn provider_schema_is_fresh() {
    assert_fresh("provider.schema.json", schema::provider_schema());
}

#[test]
fn data_center_set_schema_is_fresh() {
    assert_fresh(
        "data-center-set.schema.json",
        schema::data_center_set_schema(),
    );
}

#[test]
fn rendered_schema_is_fresh() {
    assert_fresh("rendered.schema.json", schema::rendered_schema());
}

#[test]
fn every_field_of_the_provider_schema_has_a_description() {
    let schema = schema::provider_schema();
    let mut missing = Vec::new();
    let mut objects = vec![("".to_owned(), &schema)];
    if let Some(defs) = schema.get("$defs").and_then(|d| d.as_object()) {
        objects.extend(defs.iter().map(|(name, def)| (name.clone(), def)));
    }
    for (owner, object) in objects {
        for (field, property) in object
            .get("properties")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
        {
            if property.get("description").is_none() {
                missing.push(format!("{owner}.{field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );
}

/// Editors show a description as one paragraph per text block; a line break copied from a
/// hard-wrapped doc comment would break the hover (or a plain-text tooltip) mid-sentence.
#[test]
fn descriptions_are_paragraphs_not_hard_wrapped_lines() {
    fn walk(node: &serde_json::Value, at: &str, wrapped: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(object) => {
                if let Some(text) = object.get("description").and_then(|d| d.as_str()) {
                    let single_breaks = text
                        .match_indices('\n')
                        .filter(|(i, _)| {
                            let (before, after) = (&text[..*i], &text[i + 1..]);
                            !(before.ends_with('\n')
                                || after.starts_with('\n')
                                || after.starts_with("- "))
                        })
                        .count();
                    if single_breaks > 0 {
                        wrapped.push(at.to_owned());
                    }
                }
                for (key, child) in object {
                    walk(child, &format!("{at}/{key}"), wrapped);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{index}"), wrapped);
                }
            }
            _ => {}
        }
    }
    for schema in [
        schema::provider_schema(),
        schema::data_center_set_schema(),
        schema::rendered_schema(),
    ] {
        let mut wrapped = Vec::new();
        walk(&schema, "", &mut wrapped);
        assert!(wrapped.is_empty(), "hard-wrapped descriptions: {wrapped:?}");
    }
    // The paragraph is the comment's text, joined: nothing is lost.
    let issuer = schema::provider_schema()["properties"]["issuer"]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        issuer.contains("its origin (Zoho: the accounts server), or an https URL"),
        "{issuer}"
    );
}

/// yaml-language-server shows a failed `pattern` as "String does not match the pattern of" and
/// the regex, unreadable for a URL rule; with `patternErrorMessage` it shows a sentence.
#[test]
fn every_pattern_has_a_readable_message_for_editors() {
    fn walk(node: &serde_json::Value, at: &str, bare: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(object) => {
                if object.get("pattern").is_some_and(|p| p.is_string())
                    && !object
                        .get("patternErrorMessage")
                        .and_then(|m| m.as_str())
                        .is_some_and(|m| !m.is_empty() && !m.contains('^'))
                {
                    bare.push(at.to_owned());
                }
                for (key, child) in object {
                    walk(child, &format!("{at}/{key}"), bare);
                }
            }
            serde_json::Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{index}"), bare);
                }
            }
            _ => {}
        }
    }
    for schema in [schema::provider_schema(), schema::data_center_set_schema()] {
        let mut bare = Vec::new();
        walk(&schema, "", &mut bare);
        assert!(bare.is_empty(), "patterns without a message: {bare:?}");
    }
}
