//! `provider-forge lsp` driven by a real client over stdio, as an editor drives it: the
//! diagnostics are `validate`'s (compared with the binary's own `validate --format json` on the
//! same file), they follow edits of the provider and of its shared set, and hover and
//! completion answer from the schema and the document.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::cli::BIN;
use crate::support::lsp_client::Client;

const SET: &str = "\
name: acme
placeholders:
  login_host: login.<region>.acme.test
data_centers:
  - code: us
    name: United States
    values:
      region: us
  - code: eu
    name: Europe
    values:
      region: eu
";

const PROVIDER: &str = "\
id: acme-app
display_name: Acme App
data_centers:
  set: acme
issuer: https://<login_host>
authorization:
  url: https://<login_host>/authorize
  pkce: true
token:
  url: https://<login_host>/token
  auth_method: client_secret_post
callback:
  redirect_uri: https://api.nango.dev/oauth/callback
api:
  environments:
    production: https://api.<region>.acme.test
scopes:
  default: [read]
  catalog:
    - name: read
      description: Read things.
    - name: write
      description: Write things.
";

/// A folder with the provider and its set written to disk, as a maintainer has them.
fn workspace() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Canonical, so the paths match what the server derives from `file:` URIs.
    let root = fs::canonicalize(dir.path()).expect("the directory exists");
    fs::create_dir(root.join("data-centers")).expect("the set folder");
    let set = root.join("data-centers/acme.yaml");
    let provider = root.join("acme-app.yaml");
    fs::write(&set, SET).expect("the set");
    fs::write(&provider, PROVIDER).expect("the provider");
    (dir, provider, set)
}

/// What `validate --format json` reports for `paths`: the reference the server must match.
fn validate(paths: &[&Path]) -> Vec<Value> {
    let output = Command::new(BIN)
        .args(["validate", "--format", "json"])
        .args(paths)
        .output()
        .expect("the binary runs");
    serde_json::from_slice(&output.stdout).expect("a JSON array of diagnostics")
}

/// A diagnostic as `validate --format json` gives it: range (1-based lines and columns, end
/// exclusive), message, hint, and the labels as (file, line, column, message).
type Printed = (
    [u64; 4],
    String,
    Option<String>,
    Vec<(PathBuf, u64, u64, String)>,
);

/// The server's diagnostics in `validate`'s terms.
fn as_validate_prints(diagnostics: &[Value]) -> Vec<Printed> {
    diagnostics
        .iter()
        .map(|d| {
            assert_eq!(d["severity"], 1, "an error: {d}");
            assert_eq!(d["source"], "provider-forge");
            let text = d["message"].as_str().expect("a message");
            let (message, hint) = match text.split_once("\nhelp: ") {
                Some((message, hint)) => (message.to_owned(), Some(hint.to_owned())),
                None => (text.to_owned(), None),
            };
            // The fixtures are ASCII, so UTF-16 characters are columns.
            let at = |end: &str, field: &str| d["range"][end][field].as_u64().unwrap() + 1;
            let range = [
                at("start", "line"),
                at("start", "character"),
                at("end", "line"),
                at("end", "character"),
            ];
            let labels = d["relatedInformation"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|related| {
                    let location = &related["location"];
                    let url = url::Url::parse(location["uri"].as_str().unwrap()).unwrap();
                    let start = &location["range"]["start"];
                    (
                        url.to_file_path().unwrap(),
                        start["line"].as_u64().unwrap() + 1,
                        start["character"].as_u64().unwrap() + 1,
                        related["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (range, message, hint, labels)
        })
        .collect()
}

fn expected(reference: &[Value], file: &Path) -> Vec<Printed> {
    let number = |value: &Value, field: &str| value[field].as_u64().unwrap();
    reference
        .iter()
        .filter(|d| Path::new(d["file"].as_str().unwrap()) == file)
        .map(|d| {
            let range = ["line", "column", "end_line", "end_column"].map(|f| number(d, f));
            let labels = d["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|label| {
                    (
                        PathBuf::from(label["file"].as_str().unwrap()),
                        number(label, "line"),
                        number(label, "column"),
                        label["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (
                range,
                d["message"].as_str().unwrap().to_owned(),
                d["hint"].as_str().map(str::to_owned),
                labels,
            )
        })
        .collect()
}

/// The 0-based line and character just after the first `marker` in `text`.
fn after(text: &str, marker: &str) -> (u32, u32) {
    let offset = text.find(marker).expect("the marker is in the text") + marker.len();
    let line = text[..offset].matches('\n').count();
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line as u32, column as u32)
}

fn labels(completion: &Value) -> Vec<String> {
    let items = completion
        .as_array()
        .or_else(|| completion["items"].as_array())
        .expect("completion items");
    items
        .iter()
        .map(|item| item["label"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn publishes_validates_diagnostics_on_open_and_clears_them_when_fixed() {
    let (_dir, provider, _set) = workspace();
    let broken = PROVIDER
        .replace("https://<login_host>/token", "http://<login_host>/token")
        .replace("default: [read]", "default: [read, admin]")
        .replace("pkce: true", "pkce: yes please");
    fs::write(&provider, &broken).unwrap();
    let reference = validate(&[&provider]);
    assert!(!reference.is_empty(), "the broken provider is invalid");

    let mut client = Client::start();
    client.open(&provider, &broken);
    let published = client.diagnostics(&provider);
    assert_eq!(
        as_validate_prints(&published),
        expected(&reference, &provider)
    );
    // A visible range, over the token the problem is reported at.
    let range = &published[0]["range"];
    assert!(range["end"]["character"].as_u64() > range["start"]["character"].as_u64());

    client.change(&provider, 2, PROVIDER);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    assert!(client.shutdown().success());
}

#[test]
fn an_edit_of_the_shared_set_rechecks_the_open_provider_that_uses_it() {
    let (_dir, provider, set) = workspace();
    let mut client = Client::start();
    client.open(&provider, PROVIDER);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());

    // Europe loses its `region` value, unsaved: the provider's API URL can no longer be built.
    let broken_set = SET.replace("      region: eu\n", "      area: eu\n");
    client.open(&set, SET);
    assert_eq!(client.diagnostics(&set), Vec::<Value>::new());
    // Every open provider that uses the set is checked again, and published again.
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    client.change(&set, 2, &broken_set);
    let published = client.diagnostics(&provider);
    assert!(
        !published.is_empty(),
        "the provider is re-checked against the edited set"
    );

    // The same files on disk give `validate` the same diagnostics.
    fs::write(&set, &broken_set).unwrap();
    let reference = validate(&[&provider]);
    assert_eq!(
        as_validate_prints(&published),
        expected(&reference, &provider)
    );
    fs::write(&set, SET).unwrap();

    client.change(&set, 3, SET);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());

    // Closing an edited set without saving: the provider is checked against the disk again.
    client.change(&set, 4, &broken_set);
    assert!(!client.diagnostics(&provider).is_empty());
    client.close(&set);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    assert!(client.shutdown().success());
}

#[test]
fn a_broken_set_is_reported_in_the_set() {
    let (_dir, provider, set) = workspace();
    let broken_set = SET.replace("name: acme", "name: Acme");
    fs::write(&set, &broken_set).unwrap();
    let reference = validate(&[provider.parent().unwrap()]);

    let mut client = Client::start();
    client.open(&set, &broken_set);
    let published = client.diagnostics(&set);
    assert!(!published.is_empty());
    assert_eq!(as_validate_prints(&published), expected(&reference, &set));
    assert!(client.shutdown().success());
}

#[test]
fn hover_shows_the_schema_description_of_the_key() {
    let (_dir, provider, _set) = workspace();
    let schema = provider_forge::schema::provider_schema();
    let mut client = Client::start();
    client.open(&provider, PROVIDER);

    let (line, _) = after(PROVIDER, "\ntoken:");
    let hover = client.at("textDocument/hover", &provider, line, 2);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    let token = schema["properties"]["token"]["description"]
        .as_str()
        .unwrap();
    assert!(shown.contains(token), "{shown}");

    let (line, character) = after(PROVIDER, "  pk");
    let hover = client.at("textDocument/hover", &provider, line, character);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    let pkce = schema["$defs"]["Authorization"]["properties"]["pkce"]["description"]
        .as_str()
        .unwrap();
    assert!(shown.contains(pkce), "{shown}");

    let beyond = client.at("textDocument/hover", &provider, 999, 0);
    assert_eq!(beyond, Value::Null);
    assert!(client.shutdown().success());
}

#[test]
fn completes_keys_enum_values_placeholders_and_scopes() {
    let (_dir, provider, _set) = workspace();
    let mut client = Client::start();

    // A new line in `token`: the keys it still lacks.
    let text = PROVIDER.replace("  auth_method: client_secret_post\n", "  \n");
    client.open(&provider, &text);
    let (line, _) = after(&text, "/token\n");
    let keys = labels(&client.at("textDocument/completion", &provider, line, 2));
    assert!(keys.contains(&"auth_method".to_owned()), "{keys:?}");
    assert!(keys.contains(&"revoke".to_owned()), "{keys:?}");
    assert!(
        !keys.contains(&"url".to_owned()),
        "`url` is already written: {keys:?}"
    );

    // An enumerated value.
    let text = PROVIDER.replace("auth_method: client_secret_post", "auth_method: client_");
    client.change(&provider, 2, &text);
    let (line, character) = after(&text, "auth_method: client_");
    let values = labels(&client.at("textDocument/completion", &provider, line, character));
    assert_eq!(values, ["client_secret_post", "client_secret_basic"]);

    // A placeholder: the set's defaults and data-center values.
    let text = PROVIDER.replace("https://api.<region>.acme.test", "https://api.<");
    client.change(&provider, 3, &text);
    let (line, character) = after(&text, "https://api.<");
    let names = labels(&client.at("textDocument/completion", &provider, line, character));
    assert_eq!(names, ["login_host", "region"]);

    // A scope of the document's own catalog, not yet chosen.
    let text = PROVIDER.replace("default: [read]", "default: [read, ");
    client.change(&provider, 4, &text);
    let (line, character) = after(&text, "default: [read, ");
    let scopes = labels(&client.at("textDocument/completion", &provider, line, character));
    assert_eq!(scopes, ["write"]);
    assert!(client.shutdown().success());
}

#[test]
fn a_set_fault_found_through_a_provider_is_published_in_the_set_with_its_labels() {
    let (_dir, provider, set) = workspace();
    // Two data centers with the code `eu`, in the set on disk (not open in the editor).
    let broken_set = SET.replace("  - code: us\n", "  - code: eu\n");
    fs::write(&set, &broken_set).unwrap();
    let reference = validate(&[&provider]);
    let in_set = expected(&reference, &set);
    assert!(
        in_set.iter().any(|(_, _, _, labels)| labels.len() == 2),
        "validate labels the first entry and the provider's `set:` line: {reference:?}"
    );

    let mut client = Client::start();
    client.open(&provider, PROVIDER);
    let published = client.diagnostics(&set);
    assert_eq!(as_validate_prints(&published), in_set);
    assert_eq!(
        as_validate_prints(&client.diagnostics(&provider)),
        expected(&reference, &provider)
    );
    assert!(client.shutdown().success());
}

#[test]
fn exit_without_shutdown_ends_with_code_1() {
    let client = Client::start();
    assert_eq!(client.exit().code(), Some(1));
}
