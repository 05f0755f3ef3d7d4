//! `provider-forge validate` as a maintainer or CI runs it: exit codes, output formats, and
//! hostile input that must end in an error, never a hang or a crash.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::cli::{BIN, stderr};

fn validate(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("validate")
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn bundled_providers_are_valid() {
    let output = validate(&["providers/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn every_corpus_file_exits_1_naming_its_first_expected_line() {
    for entry in std::fs::read_dir("tests/corpus/invalid").unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // `# expect: LINE:COL KIND`
        let first = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .and_then(|expected| expected.split_whitespace().next())
            .unwrap();
        let output = validate(&[path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{}", path.display());
        let expected = format!("{}:{first}: error: ", path.display());
        assert!(
            stderr(&output).contains(&expected),
            "{expected} not in:\n{}",
            stderr(&output)
        );
    }
}

#[test]
fn diagnostics_of_several_files_are_all_reported_in_order() {
    let output = validate(&[
        "tests/corpus/invalid/http-token-url.yaml",
        "providers/zoho-crm.yaml",
        "tests/corpus/invalid/duplicate-scope.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let duplicate = err
        .find("duplicate-scope.yaml:42:13")
        .expect("second file reported");
    let http = err
        .find("http-token-url.yaml:27:8")
        .expect("first file reported");
    assert!(duplicate < http, "sorted by file name:\n{err}");
    assert!(err.contains("2 error(s)"));
}

#[test]
fn json_format_prints_machine_readable_diagnostics_on_stdout() {
    let output = validate(&[
        "--format",
        "json",
        "tests/corpus/invalid/key-typo-scope-separator.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let diagnostics: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let first = &diagnostics[0];
    assert_eq!(
        first["file"],
        "tests/corpus/invalid/key-typo-scope-separator.yaml"
    );
    assert_eq!(first["line"], 24);
    assert_eq!(first["column"], 3);
    assert_eq!(first["path"], "authorization.scope_seperator");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["message"], "unknown field `scope_seperator`");
    assert_eq!(first["hint"], "did you mean `scope_separator`?");
}

#[test]
fn json_format_of_valid_files_is_an_empty_array() {
    let output = validate(&["--format", "json", "providers/"]);
    assert_eq!(output.status.code(), Some(0));
    let diagnostics: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(diagnostics, serde_json::json!([]));
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let output = validate(&["providers/no-such-provider.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("providers/no-such-provider.yaml: no such file or directory"));
}

#[test]
fn a_directory_without_definitions_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = validate(&[dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no *.yaml files"));
}

#[test]
fn no_path_at_all_is_a_usage_error_with_help() {
    let output = validate(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("Usage"));
}

#[test]
fn a_file_that_is_not_utf8_is_an_invalid_definition_not_a_panic() {
    // Issue 11: reported at the bad byte like any mistake in a definition (exit 1), so the
    // other files of the run are still checked (tests/reader_input.rs).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("binary.yaml");
    std::fs::write(&file, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let output = validate(&[file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("binary.yaml:1:1: error: the file is not valid UTF-8: byte 0xFF"),
        "{}",
        stderr(&output)
    );
}

fn hostile(name: &str, text: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    (validate(&[file.to_str().unwrap()]), dir)
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let (output, _dir) = hostile("bomb.yaml", &text);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("expands to more than"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn deep_nesting_is_refused() {
    let (output, _dir) = hostile(
        "deep.yaml",
        &format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
    );
    assert_eq!(output.status.code(), Some(1));
    let (output, _dir) = hostile("deep-block.yaml", &"- ".repeat(5_000));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn a_huge_file_is_refused() {
    let text = format!("id: x\ndisplay_name: '{}'\n", "a".repeat(5 * 1024 * 1024));
    let (output, _dir) = hostile("huge.yaml", &text);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("bytes a definition may have"));
}

#[test]
fn the_generic_example_in_a_fixture_directory_is_valid() {
    assert!(Path::new("providers/gitlab.yaml").exists());
    let output = validate(&["providers/gitlab.yaml", "tests/corpus/valid/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_duplicate_scope_points_back_to_the_first_one() {
    let output = validate(&[
        "--format",
        "json",
        "tests/corpus/invalid/duplicate-scope.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let diagnostics: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(diagnostics[0]["line"], 42);
    let label = &diagnostics[0]["labels"][0];
    assert_eq!(
        (
            &label["line"],
            &label["column"],
            &label["path"],
            &label["message"]
        ),
        (
            &40.into(),
            &13.into(),
            &"scopes.catalog[0].name".into(),
            &"first defined here".into()
        )
    );
}
