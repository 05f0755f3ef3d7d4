//! The round trip over the whole of Nango's catalog: `import nango` every OAUTH2 entry, then
//! `render --format nango` the imported definitions, and compare each rendered entry with the
//! Nango original.
//!
//! The comparison is written here, independently of the importer: it evaluates both entries the
//! way Nango's server does (`interpolateStringFromObject`: `${connectionConfig.NAME}` replaced by
//! the connection's value, `LEFT || RIGHT` giving LEFT when interpolation changed it, else RIGHT;
//! PKCE on unless `disable_pkce`; Basic client authentication for
//! `token_request_auth_method: basic` or `authorization_method: header`; `grant_type` set by the
//! OAuth client itself; `token_params` sent on refresh when `refresh_params` is absent) and
//! compares what Nango would send: the authorization, token and refresh URLs for the same
//! connection values (every value given, and each one left out in turn), the authorization,
//! token and refresh parameters, scope separator, default scopes, PKCE, client authentication,
//! token body, proxy base URL, headers and query, and the connection-config keys.
//!
//! Nango's file is reference data read through PROVIDER_FORGE_NANGO_PROVIDERS and
//! PROVIDER_FORGE_NANGO_SCOPES (.ci/run sets both); without them the test says SKIPPED loudly,
//! and fails under CI=true.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use provider_forge::nango::NangoCatalog;
use serde_json::Value as Json;
use serde_yaml::{Mapping, Value};

use crate::support::cli::BIN;

/// The floor measured: imported entries that round-trip equal.
const AT_LEAST_EQUAL: usize = 270;

fn env_path(name: &str) -> Option<PathBuf> {
    match std::env::var_os(name) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            let message = format!(
                "{name} is not set: the import round trip over Nango's catalog was NOT run. Set \
                 it to Nango's file (.ci/run points it into ../shared/anchors/nango/)."
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{message}");
            }
            // Straight to stderr: libtest captures eprintln! of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
            None
        }
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Nango's `interpolateStringFromObject(str, { connectionConfig })`.
fn interpolate(text: &str, config: &BTreeMap<String, String>) -> String {
    if text.contains("||") {
        let parts: Vec<&str> = text.split("||").map(str::trim).collect();
        let left = parts[0];
        let right = parts.get(1).copied().unwrap_or("");
        if !left.is_empty() {
            let interpolated = interpolate(left, config);
            if !interpolated.is_empty() && interpolated != left {
                return interpolated;
            }
        }
        return if right.is_empty() {
            String::new()
        } else {
            interpolate(right, config)
        };
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let inner_start = start + 2;
        let Some(length) = rest[inner_start..].find(['{', '}']) else {
            break;
        };
        if rest.as_bytes()[inner_start + length] == b'{' {
            out.push_str(&rest[..inner_start + length]);
            rest = &rest[inner_start + length..];
            continue;
        }
        let inner = &rest[inner_start..inner_start + length];
        out.push_str(&rest[..start]);
        match inner
            .strip_prefix("connectionConfig.")
            .and_then(|name| config.get(name))
        {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[start..inner_start + length + 1]),
        }
        rest = &rest[inner_start + length + 1..];
    }
    out.push_str(rest);
    out
}

/// A scalar as JavaScript's `String(value)` gives it.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text<'a>(entry: &'a Mapping, key: &str) -> Option<&'a str> {
    entry.get(key).and_then(Value::as_str)
}

fn mapping<'a>(entry: &'a Mapping, key: &str) -> Option<&'a Mapping> {
    entry.get(key).and_then(Value::as_mapping)
}

fn strings(entry: &Mapping, key: &str) -> Vec<String> {
    entry
        .get(key)
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

fn params(map: Option<&Mapping>) -> BTreeMap<String, String> {
    map.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
        .collect()
}

/// Every `${connectionConfig.NAME}` an entry's compared fields use.
fn referenced_keys(entry: &Mapping) -> BTreeSet<String> {
    let mut texts: Vec<String> = ["authorization_url", "token_url", "refresh_url"]
        .iter()
        .filter_map(|k| text(entry, k).map(str::to_owned))
        .collect();
    for field in ["authorization_params", "token_params", "refresh_params"] {
        texts.extend(params(mapping(entry, field)).into_values());
    }
    texts.extend(strings(entry, "default_scopes"));
    if let Some(proxy) = mapping(entry, "proxy") {
        texts.extend(text(proxy, "base_url").map(str::to_owned));
        texts.extend(params(mapping(proxy, "headers")).into_values());
        texts.extend(params(mapping(proxy, "query")).into_values());
    }
    let mut keys = BTreeSet::new();
    for text in texts {
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${connectionConfig.") {
            let after = &rest[start + "${connectionConfig.".len()..];
            let Some(end) = after.find('}') else { break };
            keys.insert(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    keys
}

/// What Nango would send and call for one entry under one set of connection values.
#[derive(Debug, PartialEq)]
struct Behaviour {
    authorization_url: Option<String>,
    token_url: Option<String>,
    refresh_url: Option<String>,
    authorization_params: BTreeMap<String, String>,
    token_params: BTreeMap<String, String>,
    refresh_params: BTreeMap<String, String>,
    proxy_base_url: Option<String>,
    proxy_headers: BTreeMap<String, String>,
    proxy_query: BTreeMap<String, String>,
}

fn behaviour(entry: &Mapping, config: &BTreeMap<String, String>) -> Behaviour {
    let url = |key: &str| text(entry, key).map(|t| interpolate(t, config));
    let interpolated = |map: BTreeMap<String, String>| -> BTreeMap<String, String> {
        map.into_iter()
            .map(|(k, v)| (k, interpolate(&v, config)))
            .collect()
    };
    // simple-oauth2 puts response_type=code in every authorization URL unless a param replaces it.
    let mut authorization_params =
        BTreeMap::from([("response_type".to_owned(), "code".to_owned())]);
    authorization_params.extend(interpolated(params(mapping(entry, "authorization_params"))));
    // simple-oauth2 sets grant_type itself for the exchange and the refresh.
    let mut token_params = interpolated(params(mapping(entry, "token_params")));
    token_params.remove("grant_type");
    // getFreshOAuth2Credentials: refresh_params, else token_params, sent as written.
    let mut refresh_params =
        params(mapping(entry, "refresh_params").or_else(|| mapping(entry, "token_params")));
    refresh_params.remove("grant_type");
    let proxy = mapping(entry, "proxy");
    Behaviour {
        authorization_url: url("authorization_url"),
        token_url: url("token_url"),
        refresh_url: url("refresh_url").or_else(|| url("token_url")),
        authorization_params,
        token_params,
        refresh_params,
        proxy_base_url: proxy
            .and_then(|p| text(p, "base_url"))
            .filter(|b| !b.is_empty())
            .map(|b| interpolate(b, config)),
        proxy_headers: interpolated(params(proxy.and_then(|p| mapping(p, "headers")))),
        proxy_query: interpolated(params(proxy.and_then(|p| mapping(p, "query")))),
    }
}

/// The settings that do not depend on connection values.
#[derive(Debug, PartialEq)]
struct Settings {
    scope_separator: String,
    default_scopes: Vec<String>,
    pkce: bool,
    basic_auth: bool,
    json_body: bool,
}

fn settings(entry: &Mapping) -> Settings {
    Settings {
        scope_separator: text(entry, "scope_separator").unwrap_or(" ").to_owned(),
        default_scopes: strings(entry, "default_scopes"),
        pkce: entry.get("disable_pkce").and_then(Value::as_bool) != Some(true),
        basic_auth: text(entry, "token_request_auth_method") == Some("basic")
            || text(entry, "authorization_method") == Some("header"),
        json_body: text(entry, "body_format") == Some("json"),
    }
}

/// Every difference between the original and the rendered entry.
fn differences(original: &Mapping, rendered: &Mapping) -> Vec<String> {
    let mut found = Vec::new();
    let (ours, theirs) = (settings(rendered), settings(original));
    if ours != theirs {
        found.push(format!("settings: nango {theirs:?}, rendered {ours:?}"));
    }
    let original_keys = referenced_keys(original);
    let rendered_keys = referenced_keys(rendered);
    if original_keys != rendered_keys {
        found.push(format!(
            "connection-config keys used: nango {original_keys:?}, rendered {rendered_keys:?}"
        ));
    }
    let declared = |entry: &Mapping| -> BTreeSet<String> {
        mapping(entry, "connection_config")
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect()
    };
    let (original_declared, rendered_declared) = (declared(original), declared(rendered));
    for key in original_declared.intersection(&original_keys) {
        if !rendered_declared.contains(key) {
            found.push(format!(
                "connection_config.{key} is declared by Nango, not by the render"
            ));
        }
    }
    for field in ["token_response_metadata", "redirect_uri_metadata"] {
        let kept: BTreeSet<String> = strings(rendered, field).into_iter().collect();
        for key in strings(original, field) {
            if original_keys.contains(&key) && !kept.contains(&key) {
                found.push(format!("{field} lacks `{key}`, which a URL or value uses"));
            }
        }
    }
    // Every value given, then each one left out in turn.
    let keys: Vec<&String> = original_keys.union(&rendered_keys).collect();
    let all: BTreeMap<String, String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ((*k).clone(), format!("value{i}")))
        .collect();
    let mut assignments = vec![all.clone()];
    for key in &keys {
        let mut without = all.clone();
        without.remove(*key);
        assignments.push(without);
    }
    for config in &assignments {
        let (theirs, ours) = (behaviour(original, config), behaviour(rendered, config));
        if theirs != ours {
            found.push(format!(
                "with connection values {config:?}:\n    nango    {theirs:?}\n    rendered {ours:?}"
            ));
            break;
        }
    }
    found
}

#[test]
fn every_oauth2_entry_is_imported_and_round_trips_equal_or_is_skipped_with_its_reason() {
    let (Some(providers), Some(scopes)) = (
        env_path("PROVIDER_FORGE_NANGO_PROVIDERS"),
        env_path("PROVIDER_FORGE_NANGO_SCOPES"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let import = run(&[
        "import",
        "nango",
        providers.to_str().unwrap(),
        "--scopes",
        scopes.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--auth-mode",
        "OAUTH2",
        "--format",
        "json",
    ]);
    assert_eq!(
        import.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&import.stdout)
    );
    let report: Json = serde_json::from_slice(&import.stdout).expect("the report is JSON");

    let render = run(&["render", out.to_str().unwrap(), "--format", "nango"]);
    assert_eq!(
        render.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let rendered: Mapping =
        serde_yaml::from_slice(&render.stdout).expect("the nango render is one YAML mapping");

    let nango = NangoCatalog::parse(&std::fs::read_to_string(&providers).unwrap()).unwrap();
    let oauth2: Vec<String> = nango
        .ids()
        .filter(|id| nango.entry(id).unwrap().auth_mode() == Some("OAUTH2"))
        .map(str::to_owned)
        .collect();
    let entries = report["entries"].as_array().unwrap();
    let reported: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        reported, oauth2,
        "the report lists every OAUTH2 entry once, in file order"
    );

    let mut equal = 0;
    let mut skipped_by_feature: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for entry in entries {
        let id = entry["id"].as_str().unwrap();
        match entry["outcome"].as_str().unwrap() {
            "imported" => {
                let original = nango.entry(id).unwrap().fields;
                let Some(ours) = rendered.get(id).and_then(Value::as_mapping) else {
                    failures.push(format!("{id}: imported but not rendered"));
                    continue;
                };
                let found = differences(&original, ours);
                if found.is_empty() {
                    equal += 1;
                } else {
                    failures.push(format!("{id}:\n  {}", found.join("\n  ")));
                }
            }
            "skipped" => {
                let feature = entry["feature"].as_str().unwrap();
                let reason = entry["reason"].as_str().unwrap();
                assert!(!feature.is_empty() && !reason.is_empty(), "{entry}");
                *skipped_by_feature.entry(feature.to_owned()).or_default() += 1;
            }
            other => failures.push(format!("{id}: {other}: {entry}")),
        }
    }
    let skipped: usize = skipped_by_feature.values().sum();
    let _ = writeln!(
        std::io::stderr(),
        "import round trip: {} OAUTH2 entries, {equal} imported and equal, {skipped} skipped: {skipped_by_feature:?}",
        oauth2.len()
    );
    assert!(
        failures.is_empty(),
        "{} imported entries do not round-trip equal:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(equal + skipped, oauth2.len());
    assert!(
        equal >= AT_LEAST_EQUAL,
        "only {equal} of {} entries imported and equal (at least {AT_LEAST_EQUAL} expected)",
        oauth2.len()
    );
    assert_eq!(
        report["summary"]["imported"].as_u64(),
        Some(equal as u64),
        "the report's count"
    );
}

#[test]
fn the_comparison_sees_a_changed_url_a_lost_fallback_and_a_changed_setting() {
    let original: Mapping = serde_yaml::from_str(
        r#"
authorization_url: https://${connectionConfig.hostname}/auth || https://login.example.com/auth
token_url: https://${connectionConfig.hostname}/token || https://login.example.com/token
token_params: { grant_type: authorization_code, audience: api }
proxy: { base_url: "https://api.example.com" }
connection_config: { hostname: { type: string, title: Host, description: Host } }
"#,
    )
    .unwrap();
    assert!(differences(&original, &original).is_empty());
    let without_fallback: Mapping = serde_yaml::from_str(
        r#"
authorization_url: https://${connectionConfig.hostname}/auth
token_url: https://${connectionConfig.hostname}/token || https://login.example.com/token
token_params: { audience: api }
refresh_params: { audience: api }
proxy: { base_url: "https://api.example.com" }
connection_config: { hostname: { type: string, title: Host, description: Host } }
"#,
    )
    .unwrap();
    let found = differences(&original, &without_fallback);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("login.example.com/auth"), "{found:?}");
    let mut no_pkce = original.clone();
    no_pkce.insert("disable_pkce".into(), true.into());
    assert!(differences(&original, &no_pkce)[0].starts_with("settings"));
    let mut renamed = original.clone();
    renamed.insert(
        "token_url".into(),
        "https://${connectionConfig.host}/token || https://login.example.com/token".into(),
    );
    assert!(!differences(&original, &renamed).is_empty());
}

// ---------------------------------------------------------------------------------------------
// The other modes: API_KEY, BASIC, OAUTH2_CC and TWO_STEP.
//
// Compared as Nango's server applies them (auth-modes.md §2): the proxy's base URL, headers and
// query, the verification request, the connection-config keys used, the credential fields the
// end user fills in (for BASIC the Connect UI's `username`/`password` when none are declared;
// for OAUTH2_CC the UI's `client_id`/`client_secret` are the platform's, not compared), and for
// the token modes everything the token request sends and reads back. A credential is written
// `${apiKey}` or `${credentials.apiKey}` alike in Nango's files; both are the same value.
// `scope_separator` of OAUTH2_CC is not compared: our client-credentials request has no scope
// list to join, and the importer lists it as not carried over.

/// The floors measured for each mode: (mode, imported and round-trip equal).
const MODE_FLOORS: &[(&str, usize)] = &[
    ("API_KEY", 291),
    ("BASIC", 77),
    ("OAUTH2_CC", 88),
    ("TWO_STEP", 33),
];

/// Nango's `${apiKey}` / `${username}` written as `${credentials.NAME}`, the one spelling.
fn credential_refs(text: &str, names: &BTreeSet<String>) -> String {
    let mut out = text.to_owned();
    for name in names {
        out = out.replace(&format!("${{{name}}}"), &format!("${{credentials.{name}}}"));
    }
    out
}

/// The credential names an entry's strings may use bare.
fn credential_names(entry: &Mapping) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = mapping(entry, "credentials")
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
        .collect();
    match text(entry, "auth_mode") {
        Some("API_KEY") => {
            names.insert("apiKey".to_owned());
        }
        Some("BASIC") => {
            names.insert("username".to_owned());
            names.insert("password".to_owned());
        }
        Some("OAUTH2_CC") => {
            names.remove("client_id");
            names.remove("client_secret");
        }
        _ => {}
    }
    names
}

/// A credential field as the Connect UI treats it.
#[derive(Debug, PartialEq)]
struct Field {
    secret: bool,
    optional: bool,
    hidden: bool,
    default_value: Option<String>,
    pattern: Option<String>,
}

/// Nango's Connect UI defaults: these names are secret unless the field says otherwise.
fn secret_by_default(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["key", "password", "secret", "token"]
        .iter()
        .any(|word| lower.contains(word))
}

/// A JavaScript pattern tested unanchored, as the anchored pattern it stands for.
fn anchored(pattern: &str) -> String {
    if pattern.starts_with('^') && pattern.ends_with('$') {
        pattern.to_owned()
    } else {
        format!("^(?:{pattern})$")
    }
}

fn credential_fields(entry: &Mapping) -> BTreeMap<String, Field> {
    let declared = mapping(entry, "credentials");
    credential_names(entry)
        .into_iter()
        .map(|name| {
            let field = declared.and_then(|d| mapping(d, &name));
            let flag = |key: &str| field.and_then(|f| f.get(key)).and_then(Value::as_bool);
            let value = Field {
                secret: flag("secret").unwrap_or_else(|| secret_by_default(&name)),
                optional: flag("optional") == Some(true),
                hidden: flag("hidden") == Some(true),
                default_value: field.and_then(|f| f.get("default_value")).and_then(scalar),
                pattern: field.and_then(|f| text(f, "pattern")).map(anchored),
            };
            (name, value)
        })
        .collect()
}

/// What Nango sends for an entry of one of the other modes under one set of connection values.
#[derive(Debug, PartialEq)]
struct ModeBehaviour {
    proxy_base_url: Option<String>,
    proxy_headers: BTreeMap<String, String>,
    proxy_query: BTreeMap<String, String>,
    verification: Option<(String, Vec<String>, BTreeMap<String, String>)>,
    token_url: Option<String>,
    token_method: Option<String>,
    token_body: Option<String>,
    token_auth: Option<String>,
    token_headers: BTreeMap<String, String>,
    token_params: BTreeMap<String, String>,
    token_response: BTreeMap<String, String>,
    token_lifetime_ms: Option<u64>,
    refresh_url: Option<String>,
    refresh_params: BTreeMap<String, String>,
    refresh_headers: BTreeMap<String, String>,
    default_scopes: Vec<String>,
}

fn mode_behaviour(entry: &Mapping, config: &BTreeMap<String, String>) -> ModeBehaviour {
    let names = credential_names(entry);
    let value = |text: &str| credential_refs(&interpolate(text, config), &names);
    let map = |m: Option<&Mapping>| -> BTreeMap<String, String> {
        params(m)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), value(&v)))
            .collect()
    };
    let values = |m: Option<&Mapping>| -> BTreeMap<String, String> {
        params(m).into_iter().map(|(k, v)| (k, value(&v))).collect()
    };
    let mode = text(entry, "auth_mode").unwrap_or_default();
    let proxy = mapping(entry, "proxy");
    let verification = proxy.and_then(|p| mapping(p, "verification")).map(|v| {
        (
            text(v, "method").unwrap_or("GET").to_owned(),
            strings(v, "endpoints").iter().map(|e| value(e)).collect(),
            map(mapping(v, "headers")),
        )
    });
    let token_mode = matches!(mode, "OAUTH2_CC" | "TWO_STEP");
    let url = |key: &str| text(entry, key).map(value);
    let response = mapping(entry, "token_response").map(|r| {
        let mut found = params(Some(r));
        if found.contains_key("token_expiration") {
            found
                .entry("token_expiration_strategy".to_owned())
                .or_insert_with(|| "expireAt".to_owned());
        }
        found
    });
    let mut proxy_headers = map(proxy.and_then(|p| mapping(p, "headers")));
    // The token modes' proxy sends `Authorization: Bearer <token>` unless a header says
    // otherwise: writing that header out changes nothing.
    if token_mode
        && proxy_headers.get("authorization").map(String::as_str) == Some("Bearer ${accessToken}")
    {
        proxy_headers.remove("authorization");
    }
    ModeBehaviour {
        proxy_base_url: proxy
            .and_then(|p| text(p, "base_url"))
            .map(|b| value(b).trim_end_matches('/').to_owned()),
        proxy_headers,
        proxy_query: values(proxy.and_then(|p| mapping(p, "query"))),
        verification,
        token_url: token_mode.then(|| url("token_url")).flatten(),
        token_method: (mode == "TWO_STEP").then(|| {
            text(entry, "token_request_method")
                .unwrap_or("POST")
                .to_owned()
        }),
        token_body: token_mode.then(|| {
            let default = if mode == "TWO_STEP" { "json" } else { "form" };
            text(entry, "body_format").unwrap_or(default).to_owned()
        }),
        token_auth: (mode == "OAUTH2_CC").then(|| {
            text(entry, "token_request_auth_method")
                .unwrap_or("post")
                .to_owned()
        }),
        token_headers: if mode == "TWO_STEP" {
            map(mapping(entry, "token_headers"))
        } else {
            BTreeMap::new()
        },
        token_params: if token_mode {
            values(mapping(entry, "token_params"))
        } else {
            BTreeMap::new()
        },
        token_response: response.unwrap_or_default(),
        token_lifetime_ms: (mode == "TWO_STEP")
            .then(|| entry.get("token_expires_in_ms").and_then(Value::as_u64))
            .flatten(),
        refresh_url: (mode == "TWO_STEP").then(|| url("refresh_url")).flatten(),
        refresh_params: if mode == "TWO_STEP" {
            values(mapping(entry, "refresh_token_params"))
        } else {
            BTreeMap::new()
        },
        refresh_headers: if mode == "TWO_STEP" {
            map(mapping(entry, "refresh_token_headers"))
        } else {
            BTreeMap::new()
        },
        default_scopes: if mode == "OAUTH2_CC" {
            strings(entry, "default_scopes")
        } else {
            Vec::new()
        },
    }
}

/// Every `${connectionConfig.NAME}` in the text of an entry (any field).
fn all_referenced_keys(entry: &Mapping) -> BTreeSet<String> {
    let mut texts = Vec::new();
    fn collect(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::String(s) => into.push(s.clone()),
            Value::Sequence(items) => items.iter().for_each(|v| collect(v, into)),
            Value::Mapping(m) => m.values().for_each(|v| collect(v, into)),
            _ => {}
        }
    }
    for key in [
        "proxy",
        "token_url",
        "token_params",
        "token_headers",
        "refresh_url",
        "refresh_token_params",
        "refresh_token_headers",
        "default_scopes",
    ] {
        if let Some(value) = entry.get(key) {
            let value = if key == "proxy" {
                let mut proxy = value.as_mapping().cloned().unwrap_or_default();
                proxy.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        Some("base_url" | "headers" | "query" | "verification")
                    )
                });
                Value::Mapping(proxy)
            } else {
                value.clone()
            };
            collect(&value, &mut texts);
        }
    }
    let mut keys = BTreeSet::new();
    for text in texts {
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${connectionConfig.") {
            let after = &rest[start + "${connectionConfig.".len()..];
            let Some(end) = after.find('}') else { break };
            keys.insert(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    keys
}

/// Every difference between an original entry of the other modes and its rendering.
fn mode_differences(original: &Mapping, rendered: &Mapping) -> Vec<String> {
    let mut found = Vec::new();
    if text(original, "auth_mode") != text(rendered, "auth_mode") {
        found.push(format!(
            "auth_mode: nango {:?}, rendered {:?}",
            text(original, "auth_mode"),
            text(rendered, "auth_mode")
        ));
    }
    let (theirs, ours) = (credential_fields(original), credential_fields(rendered));
    if theirs != ours {
        found.push(format!("credentials: nango {theirs:?}, rendered {ours:?}"));
    }
    let (original_keys, rendered_keys) =
        (all_referenced_keys(original), all_referenced_keys(rendered));
    if original_keys != rendered_keys {
        found.push(format!(
            "connection-config keys used: nango {original_keys:?}, rendered {rendered_keys:?}"
        ));
    }
    let keys: Vec<&String> = original_keys.union(&rendered_keys).collect();
    let all: BTreeMap<String, String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| ((*k).clone(), format!("value{i}")))
        .collect();
    let mut assignments = vec![all.clone()];
    for key in &keys {
        let mut without = all.clone();
        without.remove(*key);
        assignments.push(without);
    }
    for config in &assignments {
        let (theirs, ours) = (
            mode_behaviour(original, config),
            mode_behaviour(rendered, config),
        );
        if theirs != ours {
            found.push(format!(
                "with connection values {config:?}:\n    nango    {theirs:?}\n    rendered {ours:?}"
            ));
            break;
        }
    }
    found
}

#[test]
fn the_mode_comparison_sees_a_moved_key_a_lost_default_and_a_changed_token_request() {
    let api_key: Mapping = serde_yaml::from_str(
        r#"
auth_mode: API_KEY
proxy:
    base_url: https://api.example.com
    headers: { authorization: 'Bearer ${apiKey}' }
    verification: { endpoints: [v1/me] }
credentials: { apiKey: { type: string, title: Key, description: Key } }
"#,
    )
    .unwrap();
    assert!(mode_differences(&api_key, &api_key).is_empty());
    let mut spelled: Mapping = api_key.clone();
    spelled.insert(
        "proxy".into(),
        serde_yaml::from_str(
            "{ base_url: 'https://api.example.com/', headers: { Authorization: 'Bearer ${credentials.apiKey}' }, verification: { method: GET, endpoints: [v1/me] } }",
        )
        .unwrap(),
    );
    assert!(
        mode_differences(&api_key, &spelled).is_empty(),
        "{:?}",
        mode_differences(&api_key, &spelled)
    );
    let mut moved = api_key.clone();
    moved.insert(
        "proxy".into(),
        serde_yaml::from_str(
            "{ base_url: https://api.example.com, query: { key: '${apiKey}' }, verification: { endpoints: [v1/me] } }",
        )
        .unwrap(),
    );
    assert_eq!(mode_differences(&api_key, &moved).len(), 1);

    let basic: Mapping = serde_yaml::from_str(
        r#"
auth_mode: BASIC
proxy: { base_url: https://api.example.com }
credentials:
    username: { type: string, title: Key, description: Key }
    password: { type: string, title: '', description: '', hidden: true, default_value: X }
"#,
    )
    .unwrap();
    let mut no_default = basic.clone();
    no_default.remove("credentials");
    assert!(mode_differences(&basic, &no_default)[0].starts_with("credentials"));

    let two_step: Mapping = serde_yaml::from_str(
        r#"
auth_mode: TWO_STEP
token_url: https://login.example.com/token
token_params: { username: '${credentials.username}' }
token_response: { token: data.token, token_expiration: expires, token_expiration_strategy: expireIn }
proxy: { base_url: https://api.example.com }
credentials: { username: { type: string, title: User, description: User } }
"#,
    )
    .unwrap();
    let mut as_form = two_step.clone();
    as_form.insert("body_format".into(), "form".into());
    assert_eq!(mode_differences(&two_step, &as_form).len(), 1);
    let mut explicit = two_step.clone();
    explicit.insert("body_format".into(), "json".into());
    explicit.insert(
        "token_params".into(),
        serde_yaml::from_str("{ username: '${username}' }").unwrap(),
    );
    assert!(mode_differences(&two_step, &explicit).is_empty());
    let mut at = two_step.clone();
    at.insert(
        "token_response".into(),
        serde_yaml::from_str("{ token: data.token, token_expiration: expires }").unwrap(),
    );
    assert_eq!(mode_differences(&two_step, &at).len(), 1);
}

#[test]
fn every_entry_of_the_other_modes_is_imported_and_round_trips_equal_or_is_skipped_with_its_reason()
{
    let Some(providers) = env_path("PROVIDER_FORGE_NANGO_PROVIDERS") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let mut args = vec![
        "import",
        "nango",
        providers.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ];
    for (mode, _) in MODE_FLOORS {
        args.extend(["--auth-mode", mode]);
    }
    let import = run(&args);
    let report: Json = serde_json::from_slice(&import.stdout).expect("the report is JSON");
    let entries = report["entries"].as_array().unwrap();
    let invalid: Vec<&Json> = entries
        .iter()
        .filter(|e| e["outcome"] == "invalid")
        .collect();
    assert!(
        invalid.is_empty(),
        "{} written files fail validation, e.g. {:#}",
        invalid.len(),
        invalid[0]
    );
    assert_eq!(import.status.code(), Some(0));

    let render = run(&["render", out.to_str().unwrap(), "--format", "nango"]);
    assert_eq!(
        render.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let rendered: Mapping =
        serde_yaml::from_slice(&render.stdout).expect("the nango render is one YAML mapping");
    let nango = NangoCatalog::parse(&std::fs::read_to_string(&providers).unwrap()).unwrap();

    #[derive(Default, Debug)]
    struct Counts {
        entries: usize,
        imported: usize,
        equal: usize,
        skipped: BTreeMap<String, usize>,
    }
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut failures = Vec::new();
    for entry in entries {
        let id = entry["id"].as_str().unwrap();
        let mode = entry["auth_mode"].as_str().unwrap();
        let count = counts.entry(mode.to_owned()).or_default();
        count.entries += 1;
        match entry["outcome"].as_str().unwrap() {
            "imported" => {
                count.imported += 1;
                let original = nango.entry(id).unwrap().fields;
                let Some(ours) = rendered.get(id).and_then(Value::as_mapping) else {
                    failures.push(format!("{id}: imported but not rendered"));
                    continue;
                };
                let found = mode_differences(&original, ours);
                if found.is_empty() {
                    count.equal += 1;
                } else {
                    failures.push(format!("{id} ({mode}):\n  {}", found.join("\n  ")));
                }
            }
            "skipped" => {
                let feature = entry["feature"].as_str().unwrap();
                assert!(!entry["reason"].as_str().unwrap().is_empty(), "{entry}");
                *count.skipped.entry(feature.to_owned()).or_default() += 1;
            }
            other => failures.push(format!("{id}: {other}")),
        }
    }
    let _ = writeln!(std::io::stderr(), "import round trip per mode: {counts:#?}");
    let _ = writeln!(
        std::io::stderr(),
        "{} entries do not round-trip equal:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} imported entries do not round-trip equal",
        failures.len()
    );
    for (mode, floor) in MODE_FLOORS {
        let count = &counts[*mode];
        let nango_count = nango
            .ids()
            .filter(|id| nango.entry(id).unwrap().auth_mode() == Some(*mode))
            .count();
        assert_eq!(
            count.entries, nango_count,
            "{mode}: every entry is reported"
        );
        assert!(
            count.equal >= *floor,
            "{mode}: {} imported and equal, at least {floor} expected",
            count.equal
        );
    }
}

/// Nango's `proxy.retry.after` and `.at` reach the imported definition's `api.retry` unchanged,
/// for every imported entry of every mode; what the format has no field for (`error_code`,
/// `remaining`, `in_body`) is listed as not carried over.
#[test]
fn every_imported_entry_keeps_nangos_rate_limit_headers() {
    let Some(providers) = env_path("PROVIDER_FORGE_NANGO_PROVIDERS") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let mut args = vec![
        "import",
        "nango",
        providers.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
        "--auth-mode",
        "OAUTH2",
    ];
    for (mode, _) in MODE_FLOORS {
        args.extend(["--auth-mode", mode]);
    }
    let import = run(&args);
    assert_eq!(import.status.code(), Some(0));
    let report: Json = serde_json::from_slice(&import.stdout).expect("the report is JSON");
    let nango = NangoCatalog::parse(&std::fs::read_to_string(&providers).unwrap()).unwrap();
    let (mut with_after, mut with_at) = (0, 0);
    for entry in report["entries"].as_array().unwrap() {
        if entry["outcome"] != "imported" {
            continue;
        }
        let id = entry["id"].as_str().unwrap();
        let original = nango.entry(id).unwrap().fields;
        let retry = mapping(&original, "proxy").and_then(|proxy| mapping(proxy, "retry"));
        let expected = |field: &str| retry.map(|retry| strings(retry, field)).unwrap_or_default();
        let written: Value =
            serde_yaml::from_str(&std::fs::read_to_string(out.join(format!("{id}.yaml"))).unwrap())
                .unwrap();
        let ours = |field: &str| -> Vec<String> {
            written["api"]["retry"][field]
                .as_sequence()
                .map(|names| {
                    names
                        .iter()
                        .map(|n| n.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(ours("after"), expected("after"), "{id}: api.retry.after");
        assert_eq!(ours("at"), expected("at"), "{id}: api.retry.at");
        with_after += usize::from(!expected("after").is_empty());
        with_at += usize::from(!expected("at").is_empty());
        let not_carried: Vec<&str> = entry["not_carried_over"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for key in retry.into_iter().flat_map(|retry| retry.keys()) {
            let key = key.as_str().unwrap();
            let listed = not_carried.contains(&format!("proxy.retry.{key}").as_str());
            assert_eq!(
                listed,
                !matches!(key, "after" | "at"),
                "{id}: proxy.retry.{key} in not_carried_over: {not_carried:?}"
            );
        }
    }
    // Nango's catalog names such headers for scores of entries: the comparison above saw them.
    assert!(
        with_after >= 40 && with_at >= 20,
        "{with_after} entries with `after`, {with_at} with `at`"
    );
}
