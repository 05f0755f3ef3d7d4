//! A placeholder that nothing defines, brought into URLs by a data-center value (a shared
//! set's default, or a provider's override), is reported once, at that value, naming the data
//! centers it breaks, with the template that uses the value as a secondary label. Reporting it
//! at every URL instead would point the user at templates that are right.

use std::path::{Path, PathBuf};

use provider_forge::catalog;
use provider_forge::diagnostics::Diagnostic;

const SET: &str = "\
name: acme
placeholders:
  api_host: api.<region>.acme.<dc>
data_centers:
  - code: us
    name: United States
    values: { dc: com }
  - code: eu
    name: Europe
    values: { dc: eu }
";

/// A provider on the `acme` set; `extra` is inserted under `data_centers`.
fn provider(extra: &str) -> String {
    format!(
        "\
id: acme
display_name: Acme
data_centers:
  set: acme
{extra}issuer: https://login.acme.com
authorization: {{ url: \"https://login.acme.com/authorize\" }}
token: {{ url: \"https://login.acme.com/token\" }}
callback: {{ redirect_uri: \"https://app.example.com/callback\" }}
api:
  environments:
    production: https://<api_host>
    sandbox: https://sandbox.<api_host>
scopes:
  catalog: [{{ name: read, description: Read. }}]
"
    )
}

fn diagnostics(set: &str, provider: &str) -> (tempfile::TempDir, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data-centers")).unwrap();
    std::fs::write(dir.path().join("data-centers/acme.yaml"), set).unwrap();
    std::fs::write(dir.path().join("acme.yaml"), provider).unwrap();
    let catalog = catalog::load(&[dir.path().join("acme.yaml")]).unwrap();
    let diagnostics = catalog.diagnostics.clone();
    (dir, diagnostics)
}

fn place(diagnostic: &Diagnostic, root: &Path) -> String {
    let file: PathBuf = diagnostic.file.strip_prefix(root).unwrap().to_path_buf();
    format!(
        "{}:{}:{}",
        file.display(),
        diagnostic.region.start.line,
        diagnostic.region.start.column
    )
}

/// Asserts that `found` is one diagnostic, at `at` (file:line:column), saying `message`, about
/// the node at `path`.
fn assert_one(found: &[Diagnostic], root: &Path, at: &str, message: &str, path: &str) {
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(place(&found[0], root), at);
    assert_eq!(found[0].message, message);
    assert_eq!(found[0].path, path);
}

#[test]
fn a_shared_default_that_uses_an_undefined_name_is_reported_once_in_the_set() {
    let (dir, found) = diagnostics(SET, &provider(""));
    assert_eq!(found.len(), 1, "{found:#?}");
    let only = &found[0];
    assert_eq!(place(only, dir.path()), "data-centers/acme.yaml:3:13");
    assert_eq!(
        only.message,
        "data centers `us`, `eu`: `<region>` in value `api_host` is not defined"
    );
    let used = only
        .labels
        .iter()
        .find(|label| label.message == "`<api_host>` is used here")
        .expect("a label at the template using the value");
    assert_eq!(used.file, dir.path().join("acme.yaml"));
    assert_eq!(
        (used.region.start.line, used.path.as_str()),
        (11, "api.environments.production")
    );
}

#[test]
fn an_override_that_uses_an_undefined_name_names_its_data_center() {
    let set = SET.replace("api.<region>.acme.<dc>", "api.acme.<dc>");
    let (dir, found) = diagnostics(
        &set,
        &provider("  overrides:\n    eu: { api_host: \"api.<tld>.acme.eu\" }\n"),
    );
    assert_one(
        &found,
        dir.path(),
        "acme.yaml:6:21",
        "data center `eu`: `<tld>` in value `api_host` is not defined",
        "data_centers.overrides.eu.api_host",
    );
}

#[test]
fn a_name_the_template_itself_uses_is_still_reported_at_the_template() {
    let set = SET.replace("api.<region>.acme.<dc>", "api.acme.<dc>");
    let text = provider("").replace("sandbox.<api_host>", "sandbox.<api_hots>");
    let (dir, found) = diagnostics(&set, &text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(place(&found[0], dir.path()), "acme.yaml:12:14");
    assert!(
        found[0]
            .message
            .starts_with("unknown placeholder `<api_hots>`"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_data_centers_own_value_that_uses_an_undefined_name_is_reported_at_its_entry() {
    let set = SET
        .replace("api.<region>.acme.<dc>", "api.acme.<dc>")
        .replace(
            "values: { dc: eu }",
            "values: { dc: eu, api_host: \"api.<zone>.eu\" }",
        );
    let (dir, found) = diagnostics(&set, &provider(""));
    assert_one(
        &found,
        dir.path(),
        "data-centers/acme.yaml:10:33",
        "data center `eu`: `<zone>` in value `api_host` is not defined",
        "data_centers[1].values.api_host",
    );
}

#[test]
fn a_providers_own_default_that_uses_an_undefined_name_is_reported_in_the_provider() {
    let (dir, found) = diagnostics(
        SET,
        &provider("  placeholders:\n    api_host: \"api.<area>.acme.<dc>\"\n"),
    );
    assert_one(
        &found,
        dir.path(),
        "acme.yaml:6:15",
        "data centers `us`, `eu`: `<area>` in value `api_host` is not defined",
        "data_centers.placeholders.api_host",
    );
}
