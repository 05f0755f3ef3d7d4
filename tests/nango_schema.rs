//! `render --format nango` must produce entries Nango itself accepts: each is validated against
//! Nango's own schema.json (read through PROVIDER_FORGE_NANGO_SCHEMA, which .ci/run points at
//! ../shared/anchors/nango/schema.json; the file is reference data and is not copied here).

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::cli::BIN;

/// The path of Nango's schema.json, or `None` (after saying so loudly) when it is not set.
/// Under CI=true a missing variable fails the test: CI must always run this check.
fn nango_schema_path() -> Option<PathBuf> {
    match std::env::var_os("PROVIDER_FORGE_NANGO_SCHEMA") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let message = "PROVIDER_FORGE_NANGO_SCHEMA is not set: the nango output was NOT \
                           validated against Nango's schema.json. Set it to the path of Nango's \
                           schema.json (.ci/run sets it to ../shared/anchors/nango/schema.json).";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            // Written to the stderr handle directly: libtest captures `eprintln!` of passing
            // tests, and this notice must be seen.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
            None
        }
    }
}

fn nango_validator() -> Option<jsonschema::Validator> {
    let path = nango_schema_path()?;
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("Nango's schema.json is JSON");
    Some(jsonschema::validator_for(&schema).expect("Nango's schema compiles"))
}

fn errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

fn rendered_nango() -> Value {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("render")
        // The export writes `oauth2_code` providers only, for now.
        .args(crate::support::oauth2_code_providers())
        .args(["--format", "nango"])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Nango loads providers.yaml with a YAML parser and validates the resulting object.
    serde_yaml::from_slice(&output.stdout).expect("the nango output is one YAML mapping")
}

#[test]
fn nango_output_of_every_bundled_provider_passes_nangos_schema() {
    let Some(validator) = nango_validator() else {
        return;
    };
    let document = rendered_nango();
    let providers = document.as_object().expect("a mapping of providers");
    assert!(providers.contains_key("zoho-crm") && providers.contains_key("gitlab"));
    let problems = errors(&validator, &document);
    assert!(problems.is_empty(), "Nango's schema rejects: {problems:#?}");
}

#[test]
fn nangos_schema_does_reject_a_broken_entry() {
    // Guards the test above: the schema and validator really check what we render.
    let Some(validator) = nango_validator() else {
        return;
    };
    let mut document = rendered_nango();
    document["zoho-crm"]["connection_config"]["issuer"]
        .as_object_mut()
        .expect("zoho-crm has an issuer field")
        .remove("title");
    document["gitlab"]["no_such_key"] = Value::Bool(true);
    let problems = errors(&validator, &document);
    assert!(
        problems.len() >= 2,
        "expected the missing title and the unknown key to be rejected: {problems:#?}"
    );
}

#[test]
fn zoho_crm_entry_offers_exactly_the_nine_accounts_servers() {
    let document = rendered_nango();
    let entry = &document["zoho-crm"];
    assert_eq!(
        entry["token_url"],
        "${connectionConfig.issuer}/oauth/v2/token"
    );
    assert_eq!(
        entry["authorization_url"],
        "${connectionConfig.issuer}/oauth/v2/auth"
    );
    let allowed: Vec<&str> = entry["connection_config"]["issuer"]["enum"]
        .as_array()
        .expect("an enum of origins")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        allowed,
        [
            "https://accounts.zoho.com",
            "https://accounts.zoho.eu",
            "https://accounts.zoho.in",
            "https://accounts.zoho.com.au",
            "https://accounts.zoho.com.cn",
            "https://accounts.zoho.jp",
            "https://accounts.zohocloud.ca",
            "https://accounts.zoho.sa",
            "https://accounts.zoho.uk",
        ]
    );
    // Substituting Canada's origin gives Canada's real token endpoint.
    let canada = entry["token_url"]
        .as_str()
        .unwrap()
        .replace("${connectionConfig.issuer}", allowed[6]);
    assert_eq!(canada, "https://accounts.zohocloud.ca/oauth/v2/token");
    let api: Vec<&str> = entry["connection_config"]["api_base_url"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(api.len(), 27, "nine DCs × three environments");
    assert!(api.contains(&"https://www.zohoapis.ca"));
    assert!(api.contains(&"https://sandbox.zohoapis.uk"));
}

/// The path of Nango's providers.yaml, or `None` (after saying so loudly) when it is not set.
/// Under CI=true a missing variable fails the test.
fn nango_providers_path() -> Option<PathBuf> {
    match std::env::var_os("PROVIDER_FORGE_NANGO_PROVIDERS") {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let message = "PROVIDER_FORGE_NANGO_PROVIDERS is not set: imported entries were NOT \
                           rendered back and validated against Nango's schema.json.";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
            None
        }
    }
}

/// `import nango` of Nango's whole file (the given modes), then `render --format nango` of
/// what was imported, parsed as Nango parses its file.
fn imported_and_rendered(providers: &std::path::Path, modes: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let mut args = vec![
        "import".to_owned(),
        "nango".to_owned(),
        providers.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
    ];
    for mode in modes {
        args.extend(["--auth-mode".to_owned(), (*mode).to_owned()]);
    }
    let binary = BIN;
    let import = Command::new(binary).args(&args).output().unwrap();
    assert_eq!(
        import.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&import.stdout)
    );
    let render = Command::new(binary)
        .args(["render", out.to_str().unwrap(), "--format", "nango"])
        .output()
        .unwrap();
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    serde_yaml::from_slice(&render.stdout).expect("the nango output is one YAML mapping")
}

#[test]
fn every_imported_entry_renders_back_valid_against_nangos_schema() {
    let (Some(validator), Some(providers)) = (nango_validator(), nango_providers_path()) else {
        return;
    };
    let document = imported_and_rendered(&providers, &[]);
    // Twitch's `force_verify: false` is a boolean in Nango's schema: it must come back as one.
    assert_eq!(
        document["twitch"]["authorization_params"]["force_verify"],
        Value::Bool(false)
    );
    // Each mode comes back as Nango's auth_mode with its fields.
    let anthropic = &document["anthropic"];
    assert_eq!(anthropic["auth_mode"], "API_KEY");
    assert_eq!(anthropic["proxy"]["headers"]["x-api-key"], "${apiKey}");
    assert_eq!(anthropic["credentials"]["apiKey"]["secret"], true);
    let freshdesk = &document["freshdesk"];
    assert_eq!(freshdesk["auth_mode"], "BASIC");
    assert_eq!(freshdesk["credentials"]["password"]["hidden"], true);
    assert_eq!(freshdesk["credentials"]["password"]["default_value"], "X");
    assert_eq!(document["auth0-cc"]["auth_mode"], "OAUTH2_CC");
    assert_eq!(document["auth0-cc"]["body_format"], "json");
    let altrata = &document["altrata"];
    assert_eq!(altrata["auth_mode"], "TWO_STEP");
    assert_eq!(
        altrata["token_headers"]["authorization"],
        "Basic ${base64(${credentials.username}:${credentials.password})}"
    );
    assert_eq!(
        altrata["token_response"]["token_expiration_strategy"],
        "expireIn"
    );
    let problems = errors(&validator, &document);
    assert!(problems.is_empty(), "Nango's schema rejects: {problems:#?}");
}
