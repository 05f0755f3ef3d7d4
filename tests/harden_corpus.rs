//! The mutation corpus (tests/corpus/mutations/): the nastiest of a few hundred mutated
//! bundled definitions, kept as a regression set (issue 12). Each is checked by the binary
//! beside a copy of the bundled data-center sets: no panic, the exit code recorded in
//! `EXPECTED` (0 valid, 1 invalid; never anything else), and a valid one renders in every
//! built-in format without a panic.
//!
//! The files were kept because the engine accepted them before issue 12 although they are
//! wrong (URLs not written as called, control characters in names, `set:` paths), or because
//! each reaches a different diagnostic.

use std::path::Path;
use std::process::Command;

use crate::support::cli::BIN;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn every_mutation_ends_with_its_recorded_exit_code_and_no_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("tests/corpus/mutations");
    let expected = std::fs::read_to_string(corpus.join("EXPECTED")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &root.join("providers/data-centers"),
        &dir.path().join("data-centers"),
    );
    let mut checked = 0;
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let (name, code) = line.split_once(' ').unwrap();
        let code: i32 = code.parse().unwrap();
        assert!(code == 0 || code == 1, "{line}");
        let file = dir.path().join(name);
        std::fs::copy(corpus.join(name), &file).unwrap();
        let output = Command::new(BIN)
            .arg("validate")
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(output.status.code(), Some(code), "{name}: {stderr}");
        if code == 0 {
            for format in ["json", "yaml", "nango", "markdown", "env"] {
                let output = Command::new(BIN)
                    .arg("render")
                    .arg(&file)
                    .args(["--format", format])
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert!(!stderr.contains("panicked"), "{name} {format}: {stderr}");
                assert!(
                    matches!(output.status.code(), Some(0..=2)),
                    "{name} {format}: {stderr}"
                );
            }
        }
        checked += 1;
    }
    let files = std::fs::read_dir(&corpus)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(checked, files, "every corpus file is listed in EXPECTED");
    assert!(files <= 50);
}
