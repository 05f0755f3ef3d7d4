//! Diagnostics carry spans, not points: `--format json` gives the byte range and end of every
//! problem and the secondary places (labels) that explain it, and every range lies inside its
//! file with the text the problem is about.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::cli::BIN;

fn validate_json(path: &Path) -> Vec<Value> {
    let output = Command::new(BIN)
        .args(["validate", "--format", "json"])
        .arg(path)
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let value: Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    value.as_array().expect("an array").clone()
}

/// The text of `file` between a diagnostic's (or label's) byte offsets.
fn covered(item: &Value) -> String {
    let file = item["file"].as_str().unwrap();
    let text = fs::read(file).unwrap();
    let start = item["byte_start"].as_u64().unwrap() as usize;
    let end = item["byte_end"].as_u64().unwrap() as usize;
    assert!(
        start <= end && end <= text.len(),
        "range outside {file}: {item}"
    );
    String::from_utf8(text[start..end].to_vec()).unwrap()
}

#[test]
fn json_keeps_every_field_and_adds_the_span() {
    let diagnostics = validate_json(Path::new(
        "tests/corpus/invalid/wrong-type-pkce-string.yaml",
    ));
    let first = &diagnostics[0];
    for field in [
        "file",
        "line",
        "column",
        "path",
        "severity",
        "message",
        "end_line",
        "end_column",
        "byte_start",
        "byte_end",
        "labels",
    ] {
        assert!(first.get(field).is_some(), "`{field}` missing from {first}");
    }
    // The span covers exactly the offending value, on one line.
    assert_eq!(covered(first), "\"yes\"");
    assert_eq!(first["end_line"], first["line"]);
    assert_eq!(
        first["end_column"].as_u64().unwrap(),
        first["column"].as_u64().unwrap() + 5
    );
}

#[test]
fn a_duplicate_data_center_code_points_at_both_entries() {
    let diagnostics = validate_json(Path::new("tests/corpus/invalid/duplicate-dc-code.yaml"));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let duplicate = &diagnostics[0];
    assert_eq!(
        (duplicate["line"].as_u64(), duplicate["column"].as_u64()),
        (Some(14), Some(13))
    );
    assert_eq!(covered(duplicate), "eu");
    let labels = duplicate["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert_eq!(labels[0]["message"], "first defined here");
    assert_eq!(
        (labels[0]["line"].as_u64(), labels[0]["column"].as_u64()),
        (Some(11), Some(13))
    );
    assert_eq!(labels[0]["path"], "data_centers.list[1].code");
    assert_eq!(covered(&labels[0]), "eu");
}

#[test]
fn a_fault_in_a_shared_set_also_marks_each_providers_set_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("data-centers")).unwrap();
    fs::write(
        dir.path().join("data-centers/family.yaml"),
        "name: family\ndescription: Two data centers, one code.\ndata_centers:\n  - code: us\n    name: United States\n    values: { dc: com }\n  - code: us\n    name: Europe\n    values: { dc: eu }\n",
    )
    .unwrap();
    let provider = |id: &str| {
        format!(
            "id: {id}\ndisplay_name: {id}\ndata_centers:\n  set: family\nissuer: https://accounts.example.<dc>\nauthorization:\n  url: https://accounts.example.<dc>/auth\ntoken:\n  url: https://accounts.example.<dc>/token\ncallback:\n  redirect_uri: https://example.com/callback\nscopes:\n  catalog:\n    - name: read\n      description: Read.\n"
        )
    };
    fs::write(dir.path().join("one.yaml"), provider("one")).unwrap();
    fs::write(dir.path().join("two.yaml"), provider("two")).unwrap();
    let diagnostics = validate_json(dir.path());
    let duplicate: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["message"] == "duplicate data center code `us`")
        .collect();
    assert_eq!(
        duplicate.len(),
        1,
        "reported once for both providers: {diagnostics:?}"
    );
    let duplicate = duplicate[0];
    assert!(duplicate["file"].as_str().unwrap().ends_with("family.yaml"));
    assert_eq!(duplicate["line"], 7);
    let labels = duplicate["labels"].as_array().unwrap();
    let set_lines: Vec<(&str, String)> = labels
        .iter()
        .filter(|label| label["path"] == "data_centers.set")
        .map(|label| (label["file"].as_str().unwrap(), covered(label)))
        .collect();
    assert_eq!(set_lines.len(), 2, "one label per provider: {labels:?}");
    assert!(set_lines.iter().all(|(_, text)| text == "family"));
    assert!(set_lines[0].0.ends_with("one.yaml") && set_lines[1].0.ends_with("two.yaml"));
    assert!(
        labels
            .iter()
            .any(|label| label["message"] == "first defined here"
                && label["line"] == 4
                && covered(label) == "us")
    );
}

#[test]
fn every_corpus_diagnostic_lies_inside_its_file() {
    for entry in fs::read_dir("tests/corpus/invalid").unwrap() {
        let path = entry.unwrap().path();
        for diagnostic in validate_json(&path) {
            covered(&diagnostic);
            let text = fs::read_to_string(&path).unwrap();
            let lines = text.split_inclusive('\n').count().max(1);
            let end_line = diagnostic["end_line"].as_u64().unwrap() as usize;
            assert!(
                end_line <= lines + 1,
                "{} past the end: {diagnostic}",
                path.display()
            );
            for label in diagnostic["labels"].as_array().unwrap() {
                covered(label);
            }
        }
    }
}
