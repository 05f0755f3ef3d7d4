//! The corpus of invalid definitions: realistic maintainer mistakes, each with the positions
//! it must be reported at and the kind of each problem (`# expect: LINE:COL KIND` comments at
//! the end of the file, written by hand) and a reviewed snapshot of the whole diagnostic text.

use std::path::{Path, PathBuf};

use provider_forge::catalog;

use crate::support::yaml_files;

fn corpus(dir: &str) -> Vec<PathBuf> {
    yaml_files(Path::new("tests/corpus").join(dir))
}

fn expected_positions(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(str::to_owned)
        .collect()
}

/// A diagnostic as an `# expect:` line writes it: `LINE:COL KIND`.
fn expectation(diagnostic: &provider_forge::diagnostics::Diagnostic) -> String {
    let start = diagnostic.region.start;
    format!("{}:{} {}", start.line, start.column, diagnostic.kind)
}

#[test]
fn the_corpus_has_at_least_twenty_mistakes() {
    assert!(corpus("invalid").len() >= 20);
}

#[test]
fn every_mistake_is_reported_at_the_expected_positions() {
    for file in corpus("invalid") {
        let text = std::fs::read_to_string(&file).unwrap();
        let expected = expected_positions(&text);
        assert!(
            !expected.is_empty(),
            "{} has no `# expect:` line",
            file.display()
        );
        let catalog = catalog::load(std::slice::from_ref(&file)).unwrap();
        assert!(
            catalog.providers.is_empty(),
            "{} was accepted",
            file.display()
        );
        let mut found: Vec<String> = catalog.diagnostics.iter().map(expectation).collect();
        found.dedup();
        assert_eq!(
            found,
            expected,
            "positions and kinds reported for {}",
            file.display()
        );
        for diagnostic in &catalog.diagnostics {
            assert_eq!(diagnostic.file, file, "diagnostic names the wrong file");
            assert!(!diagnostic.path.is_empty());
        }
    }
}

#[test]
fn diagnostics_match_the_reviewed_snapshots() {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        for file in corpus("invalid") {
            let catalog = catalog::load(std::slice::from_ref(&file)).unwrap();
            let text = provider_forge::diagnostics::render(&catalog.diagnostics, false);
            let name = format!("validate__{}", file.file_stem().unwrap().to_string_lossy());
            insta::assert_snapshot!(name, text);
        }
    });
}

/// Likely mistakes that leave a definition valid: each file is accepted, and warned about at
/// its `# expect:` positions with a reviewed snapshot of the text.
#[test]
fn warnings_leave_the_file_valid_and_are_reported_where_expected() {
    let files = corpus("warning");
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let catalog = catalog::load(std::slice::from_ref(&file)).unwrap();
        assert!(catalog.is_valid(), "{} was refused", file.display());
        assert_eq!(catalog.providers.len(), 1);
        let found: Vec<String> = catalog.diagnostics.iter().map(expectation).collect();
        assert_eq!(found, expected_positions(&text), "{}", file.display());
        assert!(catalog.diagnostics.iter().all(|d| !d.is_error()));
        let shown = provider_forge::diagnostics::render(&catalog.diagnostics, false);
        let name = format!("validate__{}", file.file_stem().unwrap().to_string_lossy());
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, shown);
        });
    }
}

#[test]
fn the_valid_corpus_and_the_bundled_providers_are_clean() {
    let mut files = corpus("valid");
    files.push(PathBuf::from("providers"));
    let catalog = catalog::load(&files).unwrap();
    let shown: Vec<String> = catalog
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(catalog.diagnostics.is_empty(), "{}", shown.join("\n"));
    assert!(
        catalog
            .providers
            .iter()
            .any(|p| p.resolved.id == "zoho-crm")
    );
    assert!(
        catalog
            .providers
            .iter()
            .any(|p| p.definition.data_centers.is_none()),
        "a generic provider is bundled"
    );
}
