//! `provider-forge render` as users run it: filters, templates, --out and --check, refusals.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::cli::{BIN, stderr, stdout};

const ZOHO: &str = "providers/zoho-crm.yaml";

fn render(args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("render")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn codes(provider: &serde_json::Value) -> Vec<String> {
    provider["data_centers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|dc| dc["code"].as_str().unwrap().to_owned())
        .collect()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

#[test]
fn dc_filter_keeps_only_the_named_data_centers_in_definition_order() {
    let providers = json(&render(&[ZOHO, "--dc", "ca", "--dc", "eu"]));
    assert_eq!(codes(&providers[0]), ["eu", "ca"]);
    assert_eq!(
        providers[0]["data_centers"][1]["token_url"],
        "https://accounts.zohocloud.ca/oauth/v2/token"
    );
}

#[test]
fn env_filter_keeps_only_the_named_environments() {
    let providers = json(&render(&[ZOHO, "--env", "sandbox"]));
    for dc in providers[0]["data_centers"].as_array().unwrap() {
        let envs: Vec<&String> = dc["api_base_urls"].as_object().unwrap().keys().collect();
        assert_eq!(envs, ["sandbox"]);
    }
    assert_eq!(codes(&providers[0]).len(), 9);
}

#[test]
fn dc_filter_over_a_directory_leaves_out_providers_without_that_data_center() {
    let providers = json(&render(&["providers/", "--dc", "eu"]));
    let ids: Vec<&str> = providers
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"zoho-crm"));
    assert!(!ids.contains(&"gitlab"), "gitlab has no `eu`: {ids:?}");
}

#[test]
fn unknown_data_center_is_a_usage_error_listing_the_known_codes() {
    let output = render(&[ZOHO, "--dc", "ae"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    assert!(message.contains("unknown data center `ae`"), "{message}");
    assert!(
        message.contains("au, ca, cn, eu, in, jp, sa, uk, us"),
        "lists the known codes: {message}"
    );
}

#[test]
fn unknown_environment_is_a_usage_error_listing_the_known_ones() {
    let output = render(&[ZOHO, "--env", "staging"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("unknown environment `staging`"),
        "{message}"
    );
    assert!(
        message.contains("developer, production, sandbox"),
        "{message}"
    );
}

#[test]
fn a_user_template_renders_against_the_resolved_table() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("hosts.txt.j2");
    fs::write(
        &template,
        "{% for dc in provider.data_centers %}{{ provider.id }} {{ dc.code }} {{ dc.token_url }}\n{% endfor %}",
    )
    .unwrap();
    let output = render(&[ZOHO, "--dc", "ca", "--template", path_arg(&template)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "zoho-crm ca https://accounts.zohocloud.ca/oauth/v2/token\n"
    );
}

#[test]
fn a_template_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("broken.j2");
    fs::write(
        &template,
        "line one\nline two\n{% for dc in provider.data_centers %}\n",
    )
    .unwrap();
    let output = render(&[ZOHO, "--template", path_arg(&template)]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}:3", template.display())),
        "names file and line: {message}"
    );
    assert!(message.contains("syntax error"), "{message}");
}

#[test]
fn a_misspelt_variable_in_a_template_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("typo.j2");
    fs::write(&template, "{{ provider.id }}\n{{ provider.tokn_url }}\n").unwrap();
    let output = render(&[ZOHO, "--template", path_arg(&template)]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}:2", template.display())),
        "names file and line: {message}"
    );
    assert!(message.contains("undefined"), "{message}");
    assert!(
        stdout(&output).is_empty(),
        "nothing half-rendered on stdout"
    );
}

#[test]
fn a_missing_template_file_is_an_io_error() {
    let output = render(&[ZOHO, "--template", "no/such/template.j2"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no/such/template.j2"));
}

fn out_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn out_writes_one_file_per_provider_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    // The Nango export writes `oauth2_code` providers only, for now.
    let providers = crate::support::oauth2_code_providers();
    let mut args: Vec<&str> = providers.iter().map(|p| path_arg(p)).collect();
    args.extend([
        "--format",
        "nango",
        "--format",
        "env",
        "--out",
        path_arg(&out),
    ]);
    let output = render(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).is_empty());
    let names = out_files(&out);
    for provider in ["gitlab", "zoho-crm"] {
        assert!(
            names.contains(&format!("{provider}.nango.yaml")),
            "{names:?}"
        );
        assert!(names.contains(&format!("{provider}.env")), "{names:?}");
    }
    let env = fs::read_to_string(out.join("zoho-crm.env")).unwrap();
    assert!(env.contains("ZOHO_CRM_CA_TOKEN_URL=https://accounts.zohocloud.ca/oauth/v2/token\n"));
    // The file has exactly what stdout would show for that provider and format.
    let printed = render(&[ZOHO, "--format", "env"]);
    assert_eq!(stdout(&printed), env);
}

#[test]
fn check_passes_on_fresh_files_and_fails_with_a_diff_on_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = |check: bool| {
        let mut args = vec![ZOHO, "--format", "env", "--out", path_arg(&out)];
        if check {
            args.push("--check");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |args: Vec<String>| render(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // Nothing written yet: every file is missing.
    let missing = run(args(true));
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).contains("+ZOHO_CRM_EU_TOKEN_URL=https://accounts.zoho.eu/oauth/v2/token")
    );
    assert!(
        stderr(&missing).contains("1 missing"),
        "{}",
        stderr(&missing)
    );
    assert!(!out.exists(), "--check writes nothing");

    assert_eq!(run(args(false)).status.code(), Some(0));
    let clean = run(args(true));
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(stdout(&clean).is_empty());

    // A hand edit (the classic wrong Canada host) is drift.
    let file = out.join("zoho-crm.env");
    let fresh = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        fresh.replace("accounts.zohocloud.ca", "accounts.zoho.ca"),
    )
    .unwrap();
    let drifted = run(args(true));
    assert_eq!(drifted.status.code(), Some(1));
    let diff = stdout(&drifted);
    assert!(
        diff.contains("-ZOHO_CRM_CA_TOKEN_URL=https://accounts.zoho.ca/oauth/v2/token"),
        "{diff}"
    );
    assert!(
        diff.contains("+ZOHO_CRM_CA_TOKEN_URL=https://accounts.zohocloud.ca/oauth/v2/token"),
        "{diff}"
    );
    assert!(diff.contains("@@"), "a unified diff: {diff}");
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        fresh.replace("accounts.zohocloud.ca", "accounts.zoho.ca"),
        "--check leaves the file alone"
    );
}

fn broken_catalog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let providers = dir.path().join("providers");
    fs::create_dir(&providers).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fs::copy(root.join(ZOHO), providers.join("zoho-crm.yaml")).unwrap();
    let gitlab = fs::read_to_string(root.join("providers/gitlab.yaml")).unwrap();
    fs::write(
        providers.join("gitlab.yaml"),
        gitlab.replace(
            "url: https://gitlab.com/oauth/token",
            "url: http://gitlab.com/oauth/token",
        ),
    )
    .unwrap();
    (dir, providers)
}

#[test]
fn invalid_definitions_are_refused_like_validate_and_nothing_is_written() {
    let (dir, providers) = broken_catalog();
    let out = dir.path().join("out");
    let rendered = Command::new(BIN)
        .args([
            "render",
            path_arg(&providers),
            "--format",
            "nango",
            "--out",
            path_arg(&out),
        ])
        .output()
        .unwrap();
    let validated = Command::new(BIN)
        .args(["validate", path_arg(&providers)])
        .output()
        .unwrap();
    assert_eq!(rendered.status.code(), Some(1));
    assert_eq!(validated.status.code(), Some(1));
    let diagnostics = stderr(&rendered);
    assert!(diagnostics.contains("gitlab.yaml:"), "{diagnostics}");
    assert!(
        stderr(&validated).starts_with(diagnostics.as_str()),
        "same diagnostics as validate:\nrender:\n{diagnostics}\nvalidate:\n{}",
        stderr(&validated)
    );
    assert!(
        !out.exists(),
        "the valid provider's file is not written either"
    );
}

#[test]
fn several_formats_on_stdout_are_a_usage_error() {
    let output = render(&[ZOHO, "--format", "json", "--format", "env"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--out"));
}

#[test]
fn check_without_out_is_a_usage_error() {
    let output = render(&[ZOHO, "--check"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let oauth2_code = crate::support::oauth2_code_providers();
    for format in ["json", "yaml", "nango", "markdown", "env"] {
        // The Nango export writes `oauth2_code` providers only, for now.
        let mut args: Vec<&str> = match format {
            "nango" => oauth2_code.iter().map(|p| path_arg(p)).collect(),
            _ => vec!["providers/"],
        };
        args.extend(["--format", format]);
        let first = render(&args);
        let second = render(&args);
        assert_eq!(first.status.code(), Some(0), "{format}: {}", stderr(&first));
        assert_eq!(first.stdout, second.stdout, "{format}");
    }
}

#[test]
fn a_template_failing_for_any_provider_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("revoke.txt.j2");
    // GitLab renders fine; Zoho CRM has no `docs_urls`, so the run fails after GitLab.
    fs::write(
        &template,
        "{{ provider.id }}{% if provider.id == 'zoho-crm' %}{{ provider.docs_urls }}{% endif %}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = render(&[
        "providers/",
        "--template",
        path_arg(&template),
        "--out",
        path_arg(&out),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("{}:1", template.display())),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists(), "nothing written, not even gitlab's file");
}

#[test]
fn a_user_template_is_written_under_its_own_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("hosts.txt.j2");
    fs::write(&template, "{{ provider.data_centers | length }}\n").unwrap();
    let out = dir.path().join("out");
    let output = render(&[
        ZOHO,
        "--template",
        path_arg(&template),
        "--out",
        path_arg(&out),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(out_files(&out), ["zoho-crm.hosts.txt"]);
    assert_eq!(
        fs::read_to_string(out.join("zoho-crm.hosts.txt")).unwrap(),
        "9\n"
    );
}

#[test]
fn check_tells_an_invalid_definition_from_drift() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let invalid = render(&[
        "tests/corpus/invalid/duplicate-dc-code.yaml",
        "--format",
        "env",
        "--out",
        path_arg(&out),
        "--check",
    ]);
    assert_eq!(invalid.status.code(), Some(3), "{}", stderr(&invalid));
    assert!(stderr(&invalid).contains("duplicate data center code `eu`"));
    // Without --check an invalid definition stays a plain exit 1.
    let plain = render(&["tests/corpus/invalid/duplicate-dc-code.yaml"]);
    assert_eq!(plain.status.code(), Some(1));
}

#[test]
fn a_template_error_shows_the_template_line_with_the_part_minijinja_blames() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("bad.j2");
    fs::write(
        &template,
        "first\n{{ provider.id }}\nthird {{ provider.nope.deeper }} x\n",
    )
    .unwrap();
    let output = render(&[ZOHO, "--template", path_arg(&template)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr(&output);
    assert!(
        stderr.starts_with(&format!("{}:3: error: undefined value", template.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "3 | third {{ provider.nope.deeper }} x\n  |                  ^^^^^^^^^^^^\n"
        ),
        "{stderr}"
    );
}
