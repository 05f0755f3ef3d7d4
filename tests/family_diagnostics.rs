//! Bad uses of shared data-center sets get a diagnostic with file, line and column: in the
//! provider file when the provider is wrong, in the set's file when the set is.
//! Fixtures: tests/fixtures/family/bad/ (providers) and its data-centers/ (sets).

use std::path::Path;
use std::process::Command;

use provider_forge::catalog;

use crate::support::cli::BIN;
use crate::support::repo_path;

const FIXTURES: &str = "tests/fixtures/family/bad";

/// Every diagnostic, as `validate` prints it, in order: the clash in the set also shows the
/// `set:` line of the provider that uses it, in that provider's file.
const EXPECTED: &str = "\
tests/fixtures/family/bad/data-centers/clash.yaml:11:11: error: duplicate data center code `us` (at data_centers[1].code)
   |
 7 |   - code: us
   |           -- first defined here
...
11 |   - code: us
   |           ^^
   |
  ::: tests/fixtures/family/bad/uses-clash-set.yaml:6:8
   |
 6 |   set: clash
   |        ----- the data-center set used here
  help: each data center needs its own code; remove or rename one

tests/fixtures/family/bad/data-centers/typo.yaml:7:5: error: unknown field `valeus` (at data_centers[0].valeus)
  |
7 |     valeus:
  |     ^^^^^^
  help: did you mean `values`?

tests/fixtures/family/bad/enable-unknown-dc.yaml:9:22: error: data center `uk` is not defined (at multi_dc.data_centers[1])
  |
9 |   data_centers: [us, uk]
  |                      ^^
  help: defined data centers: us, eu

tests/fixtures/family/bad/override-unknown-dc.yaml:8:5: error: override for data center `ca`, which is not defined (at data_centers.overrides.ca)
  |
8 |     ca:
  |     ^^
  help: defined data centers: us, eu

tests/fixtures/family/bad/unknown-set.yaml:6:8: error: data-center set `zohoo` not found (looked for tests/fixtures/family/bad/data-centers/zohoo.yaml) (at data_centers.set)
  |
6 |   set: zohoo
  |        ^^^^^
  help: available sets: clash, typo, zoho
5 error(s)
";

#[test]
fn validate_reports_each_fault_where_it_is() {
    let output = Command::new(BIN)
        .args(["validate", FIXTURES])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr), EXPECTED);
    assert!(output.stdout.is_empty());
}

#[test]
fn each_bad_provider_alone_gets_its_own_diagnostic() {
    // Loading one file (not the directory) still finds its set beside it and places the fault.
    let cases = [
        ("unknown-set.yaml", "unknown-set.yaml:6:8:"),
        ("override-unknown-dc.yaml", "override-unknown-dc.yaml:8:5:"),
        ("enable-unknown-dc.yaml", "enable-unknown-dc.yaml:9:22:"),
        ("uses-typo-set.yaml", "data-centers/typo.yaml:7:5:"),
        ("uses-clash-set.yaml", "data-centers/clash.yaml:11:11:"),
    ];
    for (file, expected) in cases {
        let path = Path::new(FIXTURES).join(file);
        let absolute = repo_path(&path);
        let catalog = catalog::load(&[absolute]).expect("readable");
        let lines: Vec<String> = catalog.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(lines.len(), 1, "{file}: {lines:?}");
        assert!(
            lines[0].contains(&format!("{FIXTURES}/{expected}")),
            "{file}: {}",
            lines[0]
        );
        assert!(catalog.providers.is_empty(), "{file} must not load");
    }
}
