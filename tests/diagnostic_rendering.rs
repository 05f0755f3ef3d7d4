//! The text view of diagnostics: the greppable first line, the source with the problem
//! underlined and its labels (in other files too), and nothing from the input that could drive
//! the terminal.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::cli::BIN;

fn validate(args: &[&str], path: &Path) -> Output {
    Command::new(BIN)
        .arg("validate")
        .args(args)
        .arg(path)
        .output()
        .expect("the binary runs")
}

#[test]
fn text_shows_the_source_line_underlined_after_the_greppable_line() {
    let output = validate(
        &[],
        Path::new("tests/corpus/invalid/duplicate-dc-code.yaml"),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        "tests/corpus/invalid/duplicate-dc-code.yaml:14:13: error: duplicate data center code `eu` (at data_centers.list[2].code)"
    );
    let first = stderr
        .find("11 |     - code: eu")
        .expect("the first entry is shown");
    let second = stderr
        .find("14 |     - code: eu")
        .expect("the duplicate is shown");
    assert!(first < second);
    assert!(stderr.contains("-- first defined here"), "{stderr}");
    assert!(stderr.contains("   |             ^^\n"), "{stderr}");
    let help = stderr
        .find("  help: each data center needs its own code")
        .unwrap();
    assert!(second < help);
    assert!(!stderr.contains('\u{1b}'), "no colour on a pipe: {stderr}");
}

#[test]
fn labels_in_a_shared_set_show_the_providers_set_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("data-centers")).unwrap();
    fs::write(
        dir.path().join("data-centers/family.yaml"),
        "name: family\ndescription: Two data centers, one code.\ndata_centers:\n  - code: us\n    name: United States\n    values: { dc: com }\n  - code: us\n    name: Europe\n    values: { dc: eu }\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("one.yaml"),
        "id: one\ndisplay_name: one\ndata_centers:\n  set: family\nissuer: https://accounts.example.<dc>\nauthorization:\n  url: https://accounts.example.<dc>/auth\ntoken:\n  url: https://accounts.example.<dc>/token\ncallback:\n  redirect_uri: https://example.com/callback\nscopes:\n  catalog:\n    - name: read\n      description: Read.\n",
    )
    .unwrap();
    let output = validate(&[], dir.path());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let set_file = dir.path().join("data-centers/family.yaml");
    assert!(
        stderr.starts_with(&format!("{}:7:", set_file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("7 |   - code: us"), "{stderr}");
    let provider = dir.path().join("one.yaml");
    assert!(
        stderr.contains(&format!("::: {}:4:", provider.display())),
        "the provider's file is named with the label's line: {stderr}"
    );
    assert!(stderr.contains("4 |   set: family"), "{stderr}");
}

#[test]
fn control_characters_from_the_input_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evil.yaml");
    fs::write(
        &file,
        "id: evil\ndisplay_name: x\nicon\u{1b}]0;owned\u{7}\u{1b}[2J: 1\n",
    )
    .unwrap();
    let output = validate(&[], &file);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(!stderr.contains('\u{7}'), "{stderr:?}");
    assert!(
        stderr.contains("3 | icon\\u{1b}]0;owned\\u{7}\\u{1b}[2J: 1"),
        "{stderr}"
    );
}

/// A definition whose `id` (quoted in the pattern message) holds a line break, an escape
/// sequence, a C1 control, a bidi override and a Unicode line separator.
fn forging_definition(dir: &Path) -> std::path::PathBuf {
    let gitlab = fs::read_to_string("providers/gitlab.yaml").unwrap();
    let forged = gitlab.replace(
        "\nid: gitlab\n",
        "\nid: \"gitlab\\nproviders/gitlab.yaml:1:1: error: forged\\r\\e[2J\\x9b\\u202Ex\\L\"\n",
    );
    assert_ne!(forged, gitlab);
    let file = dir.join("forged.yaml");
    fs::write(&file, forged).unwrap();
    file
}

fn assert_no_raw_control(output: &str) {
    for c in ['\u{1b}', '\r', '\u{9b}', '\u{202e}', '\u{2028}'] {
        assert!(!output.contains(c), "{c:?} written raw: {output:?}");
    }
}

#[test]
fn a_value_with_a_line_break_cannot_forge_a_diagnostic_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = forging_definition(dir.path());
    let output = validate(&[], &file);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_no_raw_control(&stderr);
    // A problem's line is `FILE:LINE:COL: error: ...`; the source lines below it are indented
    // or start with their number and ` | `.
    let error_lines: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            line.split_once(": error: ")
                .is_some_and(|(place, _)| !place.contains(' '))
        })
        .collect();
    assert_eq!(error_lines.len(), 1, "one problem, one line: {stderr}");
    assert!(
        error_lines[0].starts_with(&format!("{}:", file.display()))
            && error_lines[0].contains("gitlab\\nproviders/gitlab.yaml:1:1: error: forged\\r"),
        "{stderr}"
    );
    assert!(stderr.ends_with("1 error(s)\n"), "{stderr}");
}

#[test]
fn github_annotations_write_no_control_character_raw() {
    let dir = tempfile::tempdir().unwrap();
    let file = forging_definition(dir.path());
    let output = validate(&["--format", "github"], &file);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_no_raw_control(&stdout);
    assert_eq!(stdout.lines().count(), 1, "one annotation: {stdout}");
    assert!(stdout.starts_with("::error file="), "{stdout}");
    assert!(
        stdout.contains("gitlab\\nproviders/gitlab.yaml"),
        "the value's line break is shown, not sent to the runner as one: {stdout}"
    );
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log_with_ranges_and_related_locations() {
    let file = "tests/corpus/invalid/duplicate-dc-code.yaml";
    let output = validate(&["--format", "sarif"], Path::new(file));
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "provider-forge");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert_eq!(result["ruleId"], "duplicate-data-center");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        run["tool"]["driver"]["rules"][index]["id"], "duplicate-data-center",
        "ruleIndex points at the result's rule"
    );
    assert_eq!(result["level"], "error");
    let text = result["message"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("duplicate data center code `eu` (at data_centers.list[2].code)"),
        "{text}"
    );
    assert!(
        text.contains("help: each data center needs its own code"),
        "{text}"
    );
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], file);
    let region = &location["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endLine"],
            &region["endColumn"]
        ),
        (&14.into(), &13.into(), &14.into(), &15.into())
    );
    let related = &result["relatedLocations"][0];
    assert_eq!(related["message"]["text"], "first defined here");
    assert_eq!(related["physicalLocation"]["artifactLocation"]["uri"], file);
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 11);
    assert_eq!(related["physicalLocation"]["region"]["startColumn"], 13);
}

#[test]
fn github_output_is_one_workflow_command_per_problem_and_label() {
    let file = "tests/corpus/invalid/duplicate-dc-code.yaml";
    let output = validate(&["--format", "github"], Path::new(file));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "::error file={file},line=14,col=13,endLine=14,endColumn=15,\
                 title=duplicate-data-center at data_centers.list[2].code::duplicate data center code `eu`%0A\
                 help: each data center needs its own code; remove or rename one"
            ),
            format!(
                "::notice file={file},line=11,col=13,endLine=11,endColumn=15,\
                 title=duplicate-data-center at data_centers.list[1].code::first defined here \
                 (duplicate data center code `eu`)"
            ),
        ]
    );
}

/// What GitHub code scanning needs beyond a valid log: rule help, file URIs relative to a
/// declared base, and fingerprints that stay the same when an unrelated edit moves the problem
/// down the file (otherwise every upload opens the alert again).
#[test]
fn sarif_results_suit_code_scanning_and_keep_their_fingerprint_across_edits() {
    let original = fs::read_to_string(crate::support::repo_path(
        "tests/corpus/invalid/duplicate-dc-code.yaml",
    ))
    .unwrap();
    let repo = tempfile::tempdir().unwrap();
    fs::create_dir(repo.path().join("providers")).unwrap();
    let file = Path::new("providers/acme.yaml");
    let run = |text: &str| -> serde_json::Value {
        fs::write(repo.path().join(file), text).unwrap();
        let output = Command::new(BIN)
            .current_dir(repo.path())
            .args(["validate", "--format", "sarif"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let before = run(&original);
    let after = run(&format!("# a comment added above\n\n{original}"));

    let run_before = &before["runs"][0];
    let rules = run_before["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|rule| rule["id"] == run_before["results"][0]["ruleId"])
        .expect("the result's rule is described");
    let help_uri = rule["helpUri"].as_str().unwrap();
    assert!(
        help_uri.ends_with("docs/validate.md#duplicate-data-center"),
        "{help_uri}"
    );
    assert!(rule["help"]["text"].as_str().unwrap().contains(help_uri));
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("`provider-forge validate")
    );
    let root = run_before["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    let root_dir = url::Url::parse(root).unwrap().to_file_path().unwrap();
    assert_eq!(
        root_dir.canonicalize().unwrap(),
        repo.path().canonicalize().unwrap(),
        "{root}"
    );
    let location = |log: &serde_json::Value| {
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"].clone()
    };
    assert_eq!(
        location(&before)["artifactLocation"],
        serde_json::json!({"uri": "providers/acme.yaml", "uriBaseId": "%SRCROOT%"})
    );
    assert_eq!(
        location(&after)["region"]["startLine"],
        location(&before)["region"]["startLine"].as_u64().unwrap() + 2,
        "the problem moved down two lines"
    );
    let fingerprints =
        |log: &serde_json::Value| log["runs"][0]["results"][0]["partialFingerprints"].clone();
    assert!(
        fingerprints(&before)
            .as_object()
            .is_some_and(|f| !f.is_empty())
    );
    assert_eq!(fingerprints(&before), fingerprints(&after));
}

/// The SARIF log of every corpus file, errors and warnings together (every kind of rule the
/// corpus shows, related locations, results in many files).
fn corpus_sarif() -> serde_json::Value {
    let output = Command::new(BIN)
        .args([
            "validate",
            "--format",
            "sarif",
            "tests/corpus/invalid",
            "tests/corpus/warning",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// The log is valid against the OASIS SARIF 2.1.0 schema (vendored under tests/fixtures/sarif,
/// see its README), formats included, for every problem the corpus has.
#[test]
fn sarif_output_is_valid_against_the_oasis_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string("tests/fixtures/sarif/sarif-schema-2.1.0.json").unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let log = corpus_sarif();
    assert!(
        log["runs"][0]["results"].as_array().unwrap().len() > 50,
        "the corpus gives many results"
    );
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The schema does check a log: the same log with a result that has no message fails.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!validator.is_valid(&broken));
}

/// What GitHub code scanning and Microsoft's SARIF validator ask of rules and results beyond
/// the schema: one rule per kind with a Pascal-case name, short and full descriptions, help in
/// text and Markdown and an absolute `helpUri` (SARIF1001, SARIF1005, SARIF2012); each result
/// naming its rule by id and index, with a file location and a start line (GH1001, GH1003);
/// every related location with a message (GH1007).
#[test]
fn sarif_rules_describe_each_kind_and_results_name_theirs() {
    let log = corpus_sarif();
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for expected in [
        "yaml-syntax",
        "unknown-field",
        "bad-placeholder",
        "duplicate-scope",
    ] {
        assert!(ids.contains(&expected), "{expected} in {ids:?}");
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "rule ids are unique");
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let name = rule["name"].as_str().unwrap();
        assert_ne!(name, id);
        assert!(
            name.starts_with(|c: char| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "{name}"
        );
        for text in [
            &rule["shortDescription"]["text"],
            &rule["fullDescription"]["text"],
            &rule["help"]["text"],
            &rule["help"]["markdown"],
        ] {
            assert!(text.as_str().is_some_and(|t| !t.is_empty()), "{id}: {rule}");
        }
        let help = url::Url::parse(rule["helpUri"].as_str().unwrap()).expect("absolute");
        assert_eq!(help.fragment(), Some(id));
        assert!(help.path().ends_with("/docs/validate.md"), "{help}");
    }
    let results = run["results"].as_array().unwrap();
    let mut used: Vec<&str> = Vec::new();
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        used.push(id);
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("tests/corpus/"), "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        for related in result["relatedLocations"].as_array().into_iter().flatten() {
            assert!(related["message"]["text"].is_string(), "{related}");
        }
    }
    used.sort_unstable();
    used.dedup();
    assert!(
        used.len() >= 20,
        "the corpus shows most kinds of problem: {used:?}"
    );
    let warning = results
        .iter()
        .find(|result| result["ruleId"] == "unmarked-secret")
        .expect("the warning corpus is in the log");
    assert_eq!(warning["level"], "warning");
}

/// Microsoft's SARIF multitool, from `PROVIDER_FORGE_SARIF_MULTITOOL` (.ci/run installs it from
/// npm); `None` after a loud SKIPPED line without it, and a failure under CI=true.
fn sarif_multitool() -> Option<std::path::PathBuf> {
    let tool = std::env::var_os("PROVIDER_FORGE_SARIF_MULTITOOL")
        .map(std::path::PathBuf::from)
        .filter(|tool| tool.is_file());
    if tool.is_none() {
        let message = "Microsoft's SARIF multitool is not available: `validate --format sarif` \
                       was NOT checked with it (`npm install @microsoft/sarif-multitool-linux` \
                       and set PROVIDER_FORGE_SARIF_MULTITOOL to its Sarif.Multitool; .ci/run \
                       does)";
        assert!(
            std::env::var("CI").ok().is_none_or(|ci| ci != "true"),
            "{message}"
        );
        // Past the test harness's capture, so it is seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    tool
}

/// The validator GitHub code scanning follows, with its GitHub rules (GH1001 to GH1007) and
/// its SARIF rules (SARIF1001 to SARIF2016), finds no error and no warning in the log of the
/// whole corpus; only notes about what this tool does not do (message ids, snippets, context
/// regions, version-control provenance) remain.
#[test]
fn sarif_passes_microsofts_validator() {
    let Some(tool) = sarif_multitool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("corpus.sarif");
    fs::write(&log, serde_json::to_vec_pretty(&corpus_sarif()).unwrap()).unwrap();
    let findings = dir.path().join("findings.sarif");
    let output = Command::new(tool)
        .arg("validate")
        .arg(&log)
        .args([
            "--rule-kind",
            "Gh;Sarif",
            "--level",
            "Error;Warning",
            "--output",
        ])
        .arg(&findings)
        .args(["--log", "ForceOverwrite"])
        .output()
        .expect("the multitool runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let findings: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&findings).unwrap()).unwrap();
    let results = findings["runs"][0]["results"]
        .as_array()
        .expect("the validator's own log has results");
    let shown: Vec<String> = results.iter().map(ToString::to_string).collect();
    assert!(results.is_empty(), "{}", shown.join("\n"));
}
