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
/// exclusive), kind, message, hint, and the labels as (file, line, column, message).
type Printed = (
    [u64; 4],
    String,
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
            // The kind is the code, linked to its section of the documentation.
            let kind = d["code"].as_str().expect("a code").to_owned();
            let docs = d["codeDescription"]["href"].as_str().expect("a link");
            assert!(
                docs.ends_with(&format!("docs/validate.md#{kind}")),
                "{docs}"
            );
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
            (range, kind, message, hint, labels)
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
                d["kind"].as_str().unwrap().to_owned(),
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
        in_set.iter().any(|(_, _, _, _, labels)| labels.len() == 2),
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
fn other_yaml_in_the_workspace_gets_no_diagnostics_nor_hover() {
    let (dir, provider, _set) = workspace();
    let root = provider.parent().unwrap();
    fs::create_dir_all(root.join(".github/workflows")).unwrap();
    let workflow = root.join(".github/workflows/ci.yml");
    let workflow_text = "name: CI\non:\n  push:\njobs:\n  test:\n    runs-on: ubuntu-latest\n";
    let clients = root.join("clients.yaml");
    let clients_text = "zoho-crm:\n  client_id: 1000.ABC\n  client_secret_env: SECRET\n";
    fs::write(&workflow, workflow_text).unwrap();
    fs::write(&clients, clients_text).unwrap();

    let mut client = Client::start();
    client.open(&workflow, workflow_text);
    client.open(&clients, clients_text);
    // Hover has nothing to say about a workflow.
    assert_eq!(
        client.at("textDocument/hover", &workflow, 0, 1),
        Value::Null
    );
    // A file that is a definition by its place: under `providers/`, with a schema error.
    let under = root.join("providers/broken.yaml");
    fs::create_dir_all(under.parent().unwrap()).unwrap();
    client.open(&under, "on: push\n");
    assert!(!client.diagnostics(&under).is_empty());
    // A definition by its modeline, anywhere, whatever its keys.
    let named = root.join("misc.yaml");
    client.open(
        &named,
        "# yaml-language-server: $schema=schemas/provider.schema.json\nid: x\n",
    );
    assert!(!client.diagnostics(&named).is_empty());
    // The server answers in order: had it said anything about the two others, it would be here.
    assert!(!client.has_unread_diagnostics(&workflow));
    assert!(!client.has_unread_diagnostics(&clients));
    client.change(&workflow, 2, "name: CI\non: [push]\n");
    client.open(&provider, PROVIDER);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    assert!(!client.has_unread_diagnostics(&workflow));
    assert!(client.shutdown().success());
    drop(dir);
}

#[test]
fn a_half_typed_key_does_not_hide_the_semantic_errors() {
    let (_dir, provider, _set) = workspace();
    // While `pkc` is being typed, with its colon (an unknown key) or before it (not yet a
    // key: a YAML syntax error on its line): a placeholder misspelt and a default scope not in
    // the catalog are reported with it.
    for (typed, kind) in [("  pkc: \n", "unknown-field"), ("  pkc\n", "yaml-syntax")] {
        let text = PROVIDER
            .replace("  pkce: true\n", &format!("  pkce: true\n{typed}"))
            .replace("https://<login_host>/token", "https://<login_hots>/token")
            .replace("default: [read]", "default: [read, admin]");
        fs::write(&provider, &text).unwrap();
        let reference = validate(&[&provider]);

        let mut client = Client::start();
        client.open(&provider, &text);
        let published = as_validate_prints(&client.diagnostics(&provider));
        let found: Vec<(&str, &str)> = published
            .iter()
            .map(|(_, kind, message, _, _)| (kind.as_str(), message.as_str()))
            .collect();
        assert!(
            found.iter().any(|(k, m)| *k == kind && m.contains("`pkc`")),
            "the half-typed key: {found:?}"
        );
        assert!(
            found.iter().any(|(_, m)| m.contains("login_hots")),
            "the misspelt placeholder: {found:?}"
        );
        assert!(
            found.iter().any(|(_, m)| m.contains("admin")),
            "the default scope outside the catalog: {found:?}"
        );
        // `validate` collects the same.
        assert_eq!(published, expected(&reference, &provider));
        assert!(client.shutdown().success());
    }
}

/// `text` with single-line `edits` (protocol ranges, ASCII text) applied.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut edits: Vec<&Value> = edits.iter().collect();
    let start = |e: &Value, f: &str| e["range"]["start"][f].as_u64().unwrap() as usize;
    edits.sort_by_key(|e| std::cmp::Reverse((start(e, "line"), start(e, "character"))));
    for edit in edits {
        let end = &edit["range"]["end"];
        assert_eq!(end["line"].as_u64().unwrap() as usize, start(edit, "line"));
        let line = &mut lines[start(edit, "line")];
        line.replace_range(
            start(edit, "character")..end["character"].as_u64().unwrap() as usize,
            edit["newText"].as_str().unwrap(),
        );
    }
    lines.join("\n")
}

#[test]
fn every_did_you_mean_has_a_quick_fix_that_makes_the_file_valid() {
    let (_dir, provider, _set) = workspace();
    let text = PROVIDER
        .replace("  pkce: true", "  pkcee: true")
        .replace(
            "auth_method: client_secret_post",
            "auth_method: client_secret_pst",
        )
        .replace("https://<login_host>/token", "https://<login_hots>/token")
        .replace("default: [read]", "default: [raed]");
    let mut client = Client::start();
    client.open(&provider, &text);
    let diagnostics = client.diagnostics(&provider);
    let hinted = diagnostics
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("help: did you mean")
        })
        .count();
    assert_eq!(hinted, 4, "{diagnostics:?}");

    let actions = client.request(
        "textDocument/codeAction",
        serde_json::json!({
            "textDocument": {"uri": crate::support::lsp_client::uri(&provider)},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}},
            "context": {"diagnostics": diagnostics},
        }),
    );
    let actions = actions.as_array().expect("a list of code actions");
    assert_eq!(actions.len(), 4, "{actions:?}");
    let uri = crate::support::lsp_client::uri(&provider);
    let edits: Vec<Value> = actions
        .iter()
        .flat_map(|action| {
            assert_eq!(action["kind"], "quickfix");
            action["edit"]["changes"][&uri].as_array().unwrap().clone()
        })
        .collect();
    let fixed = apply(&text, &edits);
    assert_eq!(fixed, PROVIDER);
    client.change(&provider, 2, &fixed);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    assert!(client.shutdown().success());
}

/// The names of a level of document symbols.
fn symbol_names(symbols: &Value) -> Vec<&str> {
    symbols
        .as_array()
        .expect("symbols")
        .iter()
        .map(|symbol| symbol["name"].as_str().unwrap())
        .collect()
}

fn child<'a>(symbols: &'a Value, name: &str) -> &'a Value {
    symbols
        .as_array()
        .unwrap()
        .iter()
        .find(|symbol| symbol["name"] == name)
        .unwrap_or_else(|| panic!("no symbol {name} in {symbols}"))
}

#[test]
fn the_outline_lists_sections_data_centers_and_scopes() {
    let (_dir, provider, set) = workspace();
    let mut client = Client::start();
    client.open(&provider, PROVIDER);
    let uri = crate::support::lsp_client::uri(&provider);
    let symbols = client.request(
        "textDocument/documentSymbol",
        serde_json::json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        symbol_names(&symbols),
        [
            "id",
            "display_name",
            "data_centers",
            "issuer",
            "authorization",
            "token",
            "callback",
            "api",
            "scopes"
        ]
    );
    let catalog = child(&child(&symbols, "scopes")["children"], "catalog");
    assert_eq!(symbol_names(&catalog["children"]), ["read", "write"]);
    let (line, _) = after(PROVIDER, "    - name: write");
    assert_eq!(
        catalog["children"][1]["selectionRange"]["start"]["line"],
        line
    );

    client.open(&set, SET);
    let symbols = client.request(
        "textDocument/documentSymbol",
        serde_json::json!({"textDocument": {"uri": crate::support::lsp_client::uri(&set)}}),
    );
    let data_centers = child(&symbols, "data_centers");
    assert_eq!(symbol_names(&data_centers["children"]), ["us", "eu"]);
    assert_eq!(data_centers["children"][1]["detail"], "Europe");
    assert!(client.shutdown().success());
}

#[test]
fn definition_goes_from_the_set_name_to_its_file_and_from_a_placeholder_to_its_values() {
    let (_dir, provider, set) = workspace();
    let set_uri = crate::support::lsp_client::uri(&set);
    let mut client = Client::start();
    client.open(&provider, PROVIDER);

    let (line, character) = after(PROVIDER, "  set: ac");
    let found = client.at("textDocument/definition", &provider, line, character);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["uri"], set_uri.as_str());
    assert_eq!(found[0]["range"]["start"]["line"], 0);

    // `<region>` has a value in each of the set's data centers.
    let (line, character) = after(PROVIDER, "https://api.<reg");
    let found = client.at("textDocument/definition", &provider, line, character);
    let places: Vec<(&str, u64, u64)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let start = &l["range"]["start"];
            (
                l["uri"].as_str().unwrap(),
                start["line"].as_u64().unwrap(),
                start["character"].as_u64().unwrap(),
            )
        })
        .collect();
    let (us, _) = after(SET, "      region: us");
    let (eu, _) = after(SET, "      region: eu");
    assert_eq!(
        places,
        [
            (set_uri.as_str(), u64::from(us), 6),
            (set_uri.as_str(), u64::from(eu), 6)
        ]
    );
    // `<login_host>`: the set's default.
    let (line, character) = after(PROVIDER, "issuer: https://<");
    let found = client.at("textDocument/definition", &provider, line, character);
    let (defaults, _) = after(SET, "  login_host:");
    assert_eq!(found[0]["range"]["start"]["line"], defaults, "{found}");
    // Nothing on a plain key.
    let found = client.at("textDocument/definition", &provider, 0, 1);
    assert_eq!(found, serde_json::json!([]));
    assert!(client.shutdown().success());
}

#[test]
fn a_set_changed_on_disk_rechecks_the_open_providers() {
    let (_dir, provider, set) = workspace();
    let mut client = Client::start_with(serde_json::json!({
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}
    }));
    // The server asks to be told about sets changing on disk.
    let request = client.server_request("client/registerCapability");
    let registration = &request["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    let glob = registration["registerOptions"]["watchers"][0]["globPattern"]
        .as_str()
        .unwrap();
    assert!(glob.contains("data-centers"), "{glob}");
    client.respond(&request["id"], Value::Null);

    client.open(&provider, PROVIDER);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    let changed = |client: &mut Client| {
        client.notify(
            "workspace/didChangeWatchedFiles",
            serde_json::json!({"changes": [{"uri": crate::support::lsp_client::uri(&set), "type": 2}]}),
        );
    };
    // Europe loses its `region` on disk (by a `git checkout`, another editor…).
    fs::write(&set, SET.replace("      region: eu\n", "      area: eu\n")).unwrap();
    changed(&mut client);
    assert!(!client.diagnostics(&provider).is_empty());
    fs::write(&set, SET).unwrap();
    changed(&mut client);
    assert_eq!(client.diagnostics(&provider), Vec::<Value>::new());
    assert!(client.shutdown().success());
}

#[test]
fn hover_on_a_scope_name_and_a_placeholder_shows_what_the_document_says() {
    let (_dir, provider, _set) = workspace();
    let schema = provider_forge::schema::provider_schema();
    let mut client = Client::start();
    client.open(&provider, PROVIDER);

    // A list item: the list's description, and the scope's from the catalog.
    let (line, character) = after(PROVIDER, "default: [re");
    let hover = client.at("textDocument/hover", &provider, line, character);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    let default = schema["$defs"]["Scopes"]["properties"]["default"]["description"]
        .as_str()
        .unwrap();
    assert!(shown.contains(default), "{shown}");
    assert!(shown.contains("`read`: Read things."), "{shown}");
    // The same on the catalog entry's name.
    let (line, character) = after(PROVIDER, "- name: wr");
    let hover = client.at("textDocument/hover", &provider, line, character);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    assert!(shown.contains("`write`: Write things."), "{shown}");

    // A placeholder: its value in each data center of the set.
    let (line, character) = after(PROVIDER, "https://api.<reg");
    let hover = client.at("textDocument/hover", &provider, line, character);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    assert!(shown.contains("`us` (United States): `us`"), "{shown}");
    assert!(shown.contains("`eu` (Europe): `eu`"), "{shown}");
    let (line, character) = after(PROVIDER, "issuer: https://<log");
    let hover = client.at("textDocument/hover", &provider, line, character);
    let shown = hover["contents"]["value"].as_str().expect("markdown");
    assert!(
        shown.contains("default: `login.<region>.acme.test`"),
        "{shown}"
    );
    assert!(client.shutdown().success());
}

#[test]
fn exit_without_shutdown_ends_with_code_1() {
    let client = Client::start();
    assert_eq!(client.exit().code(), Some(1));
}

/// Runs `lsp` on `input` (then end of input) under a 1 GB address-space limit; its exit code and
/// stderr. A run still going after a minute is killed and reported as hung.
fn lsp_on(input: &[u8]) -> (Option<i32>, String) {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" lsp --stdio")
        .arg(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut stdin = child.stdin.take().unwrap();
    // The server may stop reading early; a write error is part of what is tested.
    let _ = stdin.write_all(input);
    drop(stdin);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            panic!(
                "lsp hung on {:?}",
                String::from_utf8_lossy(&input[..input.len().min(80)])
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_content_length_no_message_can_have_is_a_protocol_error() {
    for length in [
        "99999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "1e9",
    ] {
        let (code, stderr) = lsp_on(format!("Content-Length: {length}\r\n\r\n{{}}").as_bytes());
        assert_eq!(code, Some(2), "Content-Length {length}: {stderr}");
        assert!(stderr.contains("Content-Length"), "{length}: {stderr}");
        assert!(!stderr.contains("panicked"), "{length}: {stderr}");
    }
}

#[test]
fn a_header_line_without_end_is_a_protocol_error_not_a_buffer() {
    let mut input = b"Content-Length: 2\r\nX-Padding: ".to_vec();
    input.resize(input.len() + (64 << 20), b'a');
    let (code, stderr) = lsp_on(&input);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("header"), "{stderr}");
}
