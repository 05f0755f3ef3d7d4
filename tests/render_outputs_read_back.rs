//! The rendered outputs as other tools read them: `--format yaml` read back by PyYAML (a YAML
//! 1.1 reader, as yq v3 and Ruby are) equals `--format json`, for the bundled providers and
//! for one whose free text holds every word and shape YAML 1.1 resolves to something else.
//!
//! PyYAML is the oracle, not a reader of ours: .ci/run installs it when missing; elsewhere
//! the test says SKIPPED loudly without it, and fails under CI=true.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::cli::{BIN, stderr};

/// Loads the YAML on stdin with PyYAML's safe loader and prints it as JSON; `date`s would not
/// serialize, which is itself a failure worth seeing.
const PYYAML_TO_JSON: &str = "import json, sys, yaml\n\
json.dump(yaml.safe_load(sys.stdin.read()), sys.stdout)\n";

/// Values a YAML 1.1 reader takes for booleans, null, numbers, dates, a value key, or cannot
/// read at all when written plain.
const TRICKY: [&str; 35] = [
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "True",
    "null",
    "~",
    "12:30:00",
    "190:20:30",
    "0o17",
    "017",
    "0x1F",
    "1_000",
    "1e3",
    ".inf",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "=",
    "<<",
    " leading",
    "trailing ",
    "a: b",
    "a #b",
    "- x",
    "@at",
    "*alias",
    "&anchor",
    "!tag",
    "%dir",
    "|",
    ">",
    "? key",
    "it's (a, b)",
];

fn pyyaml_available() -> bool {
    crate::support::python_module(
        "yaml",
        "`render --format yaml` was NOT read back with a YAML 1.1 reader (`pip install pyyaml`)",
    )
}

fn render(path: &std::path::Path, format: &str) -> Vec<u8> {
    let output = Command::new(BIN)
        .args(["render", &path.display().to_string(), "--format", format])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output.stdout
}

fn read_with_pyyaml(yaml: &[u8]) -> serde_json::Value {
    let mut child = Command::new("python3")
        .args(["-c", PYYAML_TO_JSON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(yaml).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "PyYAML cannot read the YAML: {}\n{}",
        stderr(&output),
        String::from_utf8_lossy(yaml)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_yaml_reads_as_json(path: &std::path::Path) {
    let json: serde_json::Value = serde_json::from_slice(&render(path, "json")).unwrap();
    let yaml = render(path, "yaml");
    assert_eq!(
        read_with_pyyaml(&yaml),
        json,
        "{}: PyYAML reads the YAML output differently from the JSON output:\n{}",
        path.display(),
        String::from_utf8_lossy(&yaml)
    );
}

#[test]
fn yaml_output_reads_back_in_pyyaml_as_the_json_output() {
    if !pyyaml_available() {
        return;
    }
    assert_yaml_reads_as_json(&crate::support::repo_path("providers"));

    let dir = tempfile::tempdir().unwrap();
    let mut definition = String::from(
        "id: tricky\ndisplay_name: \"yes\"\ndocs_url: https://example.com/docs\nissuer: https://example.com\n\
         authorization:\n  url: https://example.com/authorize\n  params:\n",
    );
    // Parameter values are templates, where `<` opens a placeholder.
    for (index, text) in TRICKY.iter().enumerate() {
        if !text.contains(['<', '>']) {
            let text = serde_json::to_string(text).unwrap();
            definition.push_str(&format!("    p{index}: {text}\n"));
        }
    }
    definition.push_str(
        "token:\n  url: https://example.com/token\n\
         callback:\n  redirect_uri: https://example.com/callback\n\
         scopes:\n  default: [\"on\"]\n  catalog:\n",
    );
    // Scope names are identifiers, descriptions are free text: one scope per tricky value.
    definition.push_str("    - name: \"on\"\n      description: \"off\"\n");
    for (index, text) in TRICKY.iter().enumerate() {
        definition.push_str(&format!(
            "    - name: s{index}\n      description: {}\n",
            serde_json::to_string(text).unwrap()
        ));
    }
    let path = dir.path().join("tricky.yaml");
    std::fs::write(&path, definition).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&render(&path, "json")).unwrap();
    let text = json.to_string();
    for tricky in TRICKY {
        assert!(
            text.contains(&serde_json::to_string(tricky).unwrap()),
            "{tricky:?} is not in the rendered table, so it tests nothing: {text}"
        );
    }
    assert_yaml_reads_as_json(&path);
}

/// A provider whose env output would write `CLASH_EU_WEST_PRODUCTION_API_URL` for two
/// settings: data center `eu` with environment `west-production`, and `eu-west` with
/// `production`.
const CLASHING_NAMES: &str = "id: clash
display_name: Clash
docs_url: https://example.com/docs
data_centers:
  list:
    - code: eu
      name: Europe
      values: { host: eu.example.com }
    - code: eu-west
      name: Western Europe
      values: { host: west.example.com }
multi_dc:
  enabled: false
  default: eu
issuer: https://<host>
authorization:
  url: https://<host>/authorize
token:
  url: https://<host>/token
callback:
  redirect_uri: https://example.com/callback
api:
  environments:
    production: https://<host>/api
    west-production: https://<host>/west-api
scopes:
  default: [read]
  catalog:
    - name: read
      description: Read.
";

#[test]
fn env_output_refuses_two_settings_under_one_name_and_names_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clash.yaml");
    std::fs::write(&path, CLASHING_NAMES).unwrap();
    // The definition itself is fine: the other formats render it.
    render(&path, "json");
    let output = Command::new(BIN)
        .args(["render", &path.display().to_string(), "--format", "env"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "nothing half-written on stdout");
    assert_eq!(
        stderr(&output).trim_end(),
        "provider-forge: error: provider `clash`: the env output would write \
         `CLASH_EU_WEST_PRODUCTION_API_URL` twice, for data center `eu`, environment \
         `west-production` and for data center `eu-west`, environment `production`; rename a \
         data center or an API environment so that their names differ"
    );
}
