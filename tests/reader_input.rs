//! Input as editors and operating systems write it: a UTF-8 byte-order mark, CRLF or CR-only
//! line endings, and bytes that are not UTF-8. Positions must not depend on any of it, and a
//! bad file must not stop the others from being checked.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use provider_forge::catalog;
use provider_forge::diagnostics::Diagnostic;

use crate::support::cli::BIN;
use crate::support::yaml_files;

fn corpus() -> Vec<PathBuf> {
    yaml_files("tests/corpus/invalid")
}

fn diagnostics(file: &Path, text: &str) -> Vec<Diagnostic> {
    match catalog::load_one(file, text).expect("readable") {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics,
    }
}

/// What a user sees of a diagnostic, without the byte offsets.
fn seen(diagnostic: &Diagnostic) -> (usize, usize, usize, usize, String, String) {
    (
        diagnostic.line,
        diagnostic.column,
        diagnostic.end_line,
        diagnostic.end_column,
        diagnostic.path.clone(),
        diagnostic.message.clone(),
    )
}

fn assert_inside(text: &str, diagnostics: &[Diagnostic], what: &str) {
    for diagnostic in diagnostics {
        assert!(
            diagnostic.byte_start <= diagnostic.byte_end && diagnostic.byte_end <= text.len(),
            "{what}: {diagnostic:?} points outside the file"
        );
        assert!(
            text.is_char_boundary(diagnostic.byte_start)
                && text.is_char_boundary(diagnostic.byte_end)
        );
    }
}

#[test]
fn crlf_and_cr_line_endings_give_the_positions_of_lf() {
    for file in corpus() {
        let lf = fs::read_to_string(&file).unwrap();
        let expected: Vec<_> = diagnostics(&file, &lf).iter().map(seen).collect();
        assert!(!expected.is_empty(), "{}", file.display());
        for (name, ending) in [("CRLF", "\r\n"), ("CR", "\r")] {
            let text = lf.replace('\n', ending);
            let found = diagnostics(&file, &text);
            assert_inside(&text, &found, name);
            let found: Vec<_> = found.iter().map(seen).collect();
            assert_eq!(found, expected, "{name} endings in {}", file.display());
        }
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_not_counted_in_columns() {
    let text = format!(
        "\u{feff}{}",
        fs::read_to_string("providers/gitlab.yaml").unwrap()
    );
    assert!(
        diagnostics(Path::new("providers/gitlab.yaml"), &text).is_empty(),
        "a valid file with a BOM is valid"
    );
    for file in corpus() {
        let plain = fs::read_to_string(&file).unwrap();
        let with_bom = format!("\u{feff}{plain}");
        let expected = diagnostics(&file, &plain);
        let found = diagnostics(&file, &with_bom);
        assert_inside(&with_bom, &found, "BOM");
        assert_eq!(
            found.iter().map(seen).collect::<Vec<_>>(),
            expected.iter().map(seen).collect::<Vec<_>>(),
            "{}",
            file.display()
        );
        // Byte offsets are offsets into the file, so they count the BOM's three bytes.
        for (with, without) in found.iter().zip(&expected) {
            if without.byte_end > 0 {
                assert_eq!(
                    with.byte_start,
                    without.byte_start + 3,
                    "{}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn a_byte_that_is_not_utf8_is_reported_where_it_is_and_the_other_files_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut latin1 = fs::read("providers/gitlab.yaml").unwrap();
    let text = String::from_utf8(latin1.clone()).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("display_name:"))
        .unwrap()
        + 1;
    let at = text.find("display_name: GitLab").unwrap() + "display_name: Git".len();
    latin1.insert(at, 0xE9);
    fs::write(dir.path().join("a-latin1.yaml"), &latin1).unwrap();
    fs::copy(
        "tests/corpus/invalid/http-token-url.yaml",
        dir.path().join("b-http-token-url.yaml"),
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["validate", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let found: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let found = found.as_array().unwrap();
    let latin = found
        .iter()
        .find(|d| d["file"].as_str().unwrap().ends_with("a-latin1.yaml"))
        .expect("the bad byte is reported");
    assert_eq!(latin["line"], line);
    assert_eq!(latin["column"], "display_name: Git".len() + 1);
    assert_eq!(latin["byte_start"], at);
    assert_eq!(latin["byte_end"], at + 1);
    assert!(
        latin["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8: byte 0xE9")
    );
    assert!(
        found.iter().any(|d| d["file"]
            .as_str()
            .unwrap()
            .ends_with("b-http-token-url.yaml")),
        "the next file is still checked: {found:?}"
    );
}
