//! `provider-forge import nango` on a small catalog in Nango's shape written here (so it runs
//! without Nango's file): what is written, what is skipped and why, what is listed as not
//! carried over, the JSON report, determinism and the exit codes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use provider_forge::nango::NangoCatalog;
use serde_json::Value as Json;

use crate::support::cli::BIN;

/// Invented entries, one per case the importer must tell apart.
const CATALOG: &str = r#"
shop:
    display_name: Shop
    categories: [e-commerce]
    auth_mode: OAUTH2
    authorization_url: https://${connectionConfig.subdomain}.shop.example/admin/oauth/authorize
    token_url: https://${connectionConfig.subdomain}.shop.example/admin/oauth/access_token
    token_params:
        expiring: 1
    scope_separator: ','
    default_scopes: [read_products]
    disable_pkce: true
    proxy:
        base_url: https://${connectionConfig.subdomain}.shop.example
        headers:
            x-shop-access-token: ${accessToken}
        retry:
            after: [retry-after]
            at: [x-shop-limit-reset]
            error_code: ['429']
    docs: https://docs.example/shop
    webhook_routing_script: shopWebhookRouting
    connection_config:
        subdomain:
            type: string
            title: Shop subdomain
            description: The subdomain of your shop
            pattern: '^[a-z0-9_-]+$'
            example: acme
            doc_section: '#step-1'
        unused:
            type: string
            title: Not used in any URL
crm:
    display_name: CRM
    auth_mode: OAUTH2
    authorization_url: https://${connectionConfig.hostname}/oauth2/authorize || https://login.crm.example/oauth2/authorize
    token_url: https://${connectionConfig.hostname}/oauth2/token || https://login.crm.example/oauth2/token
    token_request_auth_method: basic
    token_response_metadata: [instance_url]
    proxy:
        base_url: ${connectionConfig.instance_url}
    docs: https://docs.example/crm
    post_connection_script: crmPostConnection
    connection_config:
        hostname:
            type: string
            title: Hostname
            description: Your CRM host
            pattern: '^(?!(?:.*\.)?lightning\.crm\.example$)[a-z0-9.-]+$'
            example: acme.my.crm.example
            optional: true
crm-sandbox:
    alias: crm
    display_name: CRM (sandbox)
crm-sandbox-eu:
    alias: crm-sandbox
    display_name: CRM (sandbox, EU)
mail:
    display_name: Mail
    auth_mode: OAUTH2
    authorization_url: https://mail.example/oauth
    token_url: https://mail.example/token
    proxy:
        base_url: https://${connectionConfig.dc}.api.mail.example
    post_connection_script: mailPostConnection
    docs: https://docs.example/mail
    connection_config:
        dc:
            type: string
            title: Data center
            description: Filled in after the connection
            automated: true
slack:
    display_name: Slack
    auth_mode: OAUTH2
    authorization_url: https://slack.example/oauth/v2/authorize
    token_url: https://slack.example/api/oauth.v2.access
    proxy:
        base_url: https://slack.example/api
    docs: https://docs.example/slack
zoho-crm:
    display_name: Zoho CRM
    auth_mode: OAUTH2
    authorization_url: https://accounts.zoho.${connectionConfig.extension}/oauth/v2/auth
    token_url: https://accounts.zoho.${connectionConfig.extension}/oauth/v2/token
    proxy:
        base_url: https://www.zohoapis.${connectionConfig.extension}
    docs: https://docs.example/zoho
    connection_config:
        extension:
            type: string
            title: Domain Extension
            description: The domain extension of your Zoho account.
            enum: [com, eu]
odd:
    display_name: Odd
    auth_mode: OAUTH2
    authorization_url: https://odd.example/oauth
    authorization_url_replacements:
        client_id: app_id
    token_url: https://odd.example/token
    proxy:
        base_url: https://odd.example
    docs: https://docs.example/odd
oauth1:
    display_name: OAuth 1.0a
    auth_mode: OAUTH1
    request_url: https://oauth1.example/request_token
    authorization_url: https://oauth1.example/authorize
    token_url: https://oauth1.example/access_token
    proxy:
        base_url: https://oauth1.example
    docs: https://docs.example/oauth1
"#;

const SCOPES: &str = r#"
shop:
    - read_products
    - write_products
"#;

fn binary(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Writes the catalog and scopes into `dir` and imports them into `dir/out`.
fn import(dir: &Path, catalog: &str, format: &str) -> Output {
    fs::write(dir.join("providers.yaml"), catalog).unwrap();
    fs::write(dir.join("providers.scopes.yaml"), SCOPES).unwrap();
    binary(&[
        "import",
        "nango",
        dir.join("providers.yaml").to_str().unwrap(),
        "--scopes",
        dir.join("providers.scopes.yaml").to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
        "--format",
        format,
    ])
}

fn report(dir: &Path) -> Json {
    let output = import(dir, CATALOG, "json");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn entry<'a>(report: &'a Json, id: &str) -> &'a Json {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no entry {id} in {report}"))
}

#[test]
fn an_alias_of_an_alias_takes_the_fields_resolved_above_it() {
    let nango = NangoCatalog::parse(CATALOG).unwrap();
    let eu = nango.entry("crm-sandbox-eu").unwrap();
    assert_eq!(eu.alias.as_deref(), Some("crm-sandbox"));
    assert_eq!(eu.auth_mode(), Some("OAUTH2"));
    assert_eq!(eu.token_url, nango.entry("crm").unwrap().token_url);
    assert!(!eu.fields.contains_key("alias"));
}

#[test]
fn every_entry_of_a_mode_the_format_has_is_imported_or_skipped_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let report = report(dir.path());
    let outcomes: Vec<(String, String)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("shop", "imported"),
        ("crm", "imported"),
        ("crm-sandbox", "imported"),
        ("crm-sandbox-eu", "imported"),
        ("mail", "skipped"),
        ("slack", "skipped"),
        ("zoho-crm", "skipped"),
        ("odd", "skipped"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(outcomes, expected);
    let summary = &report["summary"];
    assert_eq!(summary["entries"], 8);
    assert_eq!(summary["by_mode"]["OAUTH2"]["imported"], 4);
    assert_eq!(summary["imported"], 4);
    assert_eq!(summary["skipped"], 4);
    assert_eq!(
        summary["skipped_by_feature"],
        serde_json::json!({
            "authorization_url_replacements": 1,
            "connection_config.extension (Zoho multi-DC)": 1,
            "post_connection_script": 1,
            "provider client": 1,
        })
    );
    assert!(
        entry(&report, "mail")["reason"]
            .as_str()
            .unwrap()
            .contains("`dc`")
    );
    assert!(
        entry(&report, "zoho-crm")["reason"]
            .as_str()
            .unwrap()
            .contains("providers/data-centers/zoho.yaml")
    );
    assert!(!dir.path().join("out/mail.yaml").exists());
    assert!(!dir.path().join("out/oauth1.yaml").exists());
}

#[test]
fn fields_not_carried_over_are_listed_per_entry_and_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let report = report(dir.path());
    let shop: Vec<&str> = entry(&report, "shop")["not_carried_over"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for field in [
        "categories",
        "webhook_routing_script",
        "proxy.retry.error_code",
        "connection_config.unused",
        "connection_config.subdomain.title",
        "connection_config.subdomain.doc_section",
    ] {
        assert!(shop.contains(&field), "{field} missing from {shop:?}");
    }
    let crm = entry(&report, "crm");
    assert!(
        crm["not_carried_over"]
            .as_array()
            .unwrap()
            .contains(&Json::from("post_connection_script"))
    );
    let text = fs::read_to_string(dir.path().join("out/shop.yaml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=../schemas/provider.schema.json\n"),
        "{text}"
    );
    assert!(text.contains("#   - webhook_routing_script\n"), "{text}");
}

#[test]
fn an_imported_definition_says_what_the_nango_entry_says() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path());
    let read = |id: &str| -> serde_yaml::Value {
        serde_yaml::from_str(
            &fs::read_to_string(dir.path().join(format!("out/{id}.yaml"))).unwrap(),
        )
        .unwrap()
    };
    let shop = read("shop");
    assert_eq!(shop["id"], "shop");
    assert_eq!(
        shop["authorization"]["url"],
        "https://<subdomain>.shop.example/admin/oauth/authorize"
    );
    assert_eq!(shop["authorization"]["scope_separator"], ",");
    assert_eq!(shop["authorization"]["pkce"], false);
    assert_eq!(shop["token"]["params"]["expiring"], "1");
    assert_eq!(
        shop["api"]["headers"]["x-shop-access-token"],
        "<access_token>"
    );
    assert_eq!(
        shop["connection"]["params"]["subdomain"]["pattern"],
        "^[a-z0-9_-]+$"
    );
    assert_eq!(shop["connection"]["params"]["subdomain"]["example"], "acme");
    assert_eq!(shop["api"]["retry"]["after"][0], "retry-after");
    assert_eq!(shop["api"]["retry"]["at"][0], "x-shop-limit-reset");
    assert_eq!(shop["scopes"]["default"][0], "read_products");
    let names: Vec<&str> = shop["scopes"]["catalog"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["read_products", "write_products"]);

    let crm = read("crm-sandbox-eu");
    assert_eq!(crm["display_name"], "CRM (sandbox, EU)");
    assert_eq!(crm["token"]["auth_method"], "client_secret_basic");
    let hostname = &crm["connection"]["params"]["hostname"];
    assert_eq!(hostname["default"], "login.crm.example");
    assert_eq!(hostname["kind"], "host");
    assert_eq!(hostname["pattern"], "^[a-z0-9.-]+$", "look-ahead dropped");
    assert_eq!(
        crm["connection"]["runtime"]["instance_url"]["from"],
        "token_response"
    );
    assert_eq!(crm["api"]["environments"]["production"], "<instance_url>");
}

#[test]
fn the_files_are_byte_identical_across_runs_and_left_alone_when_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    report(dir.path());
    let path = dir.path().join("out/crm.yaml");
    let first = fs::read(&path).unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let again = import(dir.path(), CATALOG, "text");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(fs::read(&path).unwrap(), first);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), modified);
    let imported = binary(&["validate", dir.path().join("out").to_str().unwrap()]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}

#[test]
fn the_text_report_ends_with_counts_per_reason() {
    let dir = tempfile::tempdir().unwrap();
    let output = import(dir.path(), CATALOG, "text");
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("8 entries (8 OAUTH2) in "), "{text}");
    assert!(
        text.contains(": 4 imported, 4 skipped, 0 invalid\n"),
        "{text}"
    );
    assert!(text.contains("     1  post_connection_script\n"), "{text}");
    assert!(
        text.contains("skipped   mail: post_connection_script: "),
        "{text}"
    );
}

#[test]
fn a_written_file_that_fails_validation_exits_1_and_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = r#"
plain:
    display_name: Plain HTTP
    auth_mode: OAUTH2
    authorization_url: http://plain.example/oauth
    token_url: https://plain.example/token
    proxy:
        base_url: https://plain.example
    docs: https://docs.example/plain
"#;
    let output = import(dir.path(), catalog, "text");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("INVALID   plain"), "{text}");
    assert!(text.contains("uses http"), "{text}");
}

#[test]
fn unreadable_or_malformed_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = binary(&[
        "import",
        "nango",
        dir.path().join("nope.yaml").to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.yaml"));
    let malformed = import(dir.path(), "- just\n- a list\n", "text");
    assert_eq!(malformed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("not a mapping"));
    let no_out = binary(&["import", "nango", "x.yaml"]);
    assert_eq!(no_out.status.code(), Some(2));
}

#[test]
fn hostile_keys_reach_the_report_and_the_files_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // Double-quoted YAML keys: an escape sequence, a line break that would forge a report line,
    // a bidi override; one skipped entry and one imported entry with a hostile field.
    let catalog = r#"
"s-esc\e[2J\e]0;owned\a\nimported  forged -> /etc/passwd\u202E":
    display_name: Evil
    auth_mode: OAUTH2
    authorization_url: https://evil.example/oauth
    token_url: https://evil.example/token
plain:
    display_name: Plain
    auth_mode: OAUTH2
    authorization_url: https://plain.example/oauth
    token_url: https://plain.example/token
    "x\e[31m\nclient_secret: injected\u202E": 1
"#;
    let output = import(dir.path(), catalog, "text");
    let text = String::from_utf8(output.stdout).unwrap();
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(c), "{c:?} written raw: {text:?}");
    }
    assert!(
        !text
            .lines()
            .any(|line| line.starts_with("imported  forged")),
        "a key cannot forge a report line: {text}"
    );
    assert!(text.contains("s-esc\\u{1b}[2J"), "{text}");
    let written = fs::read_to_string(dir.path().join("out/plain.yaml")).unwrap();
    assert!(
        !written
            .lines()
            .any(|line| line.starts_with("client_secret")),
        "a key cannot leave its comment line: {written}"
    );
    assert!(!written.contains('\u{1b}'), "{written:?}");
}

#[test]
fn deep_nesting_is_refused_by_the_projects_reader_before_serde_yaml_reads_it() {
    let n = 30_000;
    let shapes = [
        format!("a: {}{}\n", "[".repeat(n), "]".repeat(n)),
        format!("a: {}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
        (0..2_000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect(),
        format!("a:\n{}x\n", "- ".repeat(n)),
    ];
    for (i, text) in shapes.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        // The scopes file is read the same way.
        for (catalog, scopes) in [(text.as_str(), SCOPES), (CATALOG, text.as_str())] {
            fs::write(dir.path().join("providers.yaml"), catalog).unwrap();
            fs::write(dir.path().join("providers.scopes.yaml"), scopes).unwrap();
            let mut child = Command::new(BIN)
                .args(["import", "nango"])
                .arg(dir.path().join("providers.yaml"))
                .arg("--scopes")
                .arg(dir.path().join("providers.scopes.yaml"))
                .arg("--out")
                .arg(dir.path().join("out"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let started = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if started.elapsed() > std::time::Duration::from_secs(60) {
                    child.kill().ok();
                    panic!("shape {i}: import hung");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "shape {i}: {stderr}");
            // The project's reader says where, in its own words (yaml-rust2 stops flow
            // nesting itself, a little deeper than the builder's limit).
            assert!(
                stderr.contains("nesting deeper than 64 levels")
                    || stderr.contains(": YAML syntax error: recursion limit exceeded"),
                "shape {i}: {stderr}"
            );
        }
    }
}
