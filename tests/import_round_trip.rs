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
//! token body, proxy base URL and headers, and the connection-config keys.
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

/// The issue's floor: imported entries that round-trip equal.
const AT_LEAST_EQUAL: usize = 220;

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
    Command::new(env!("CARGO_BIN_EXE_provider-forge"))
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
