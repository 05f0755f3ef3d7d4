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
