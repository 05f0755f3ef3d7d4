//! Property-based fuzzing of the YAML reader and the resolver (issue 12): mutated bundled
//! definitions and arbitrary text go through `catalog::load_one` (read, schema, semantic
//! checks, resolution), and what comes out valid goes through every built-in output.
//!
//! What must hold for any input: no panic; every diagnostic placed at a line and column; and
//! for a definition that validates, every URL in the resolved table is already in the form the
//! HTTP client sends (so `render` prints exactly what the engine calls), and every output
//! either renders or fails with an error.
//!
//! Bounded for CI: `PROVIDER_FORGE_FUZZ_CASES` cases per property (default 1000; about ten seconds
//! in a debug build). cargo-fuzz would need a nightly toolchain; proptest runs on stable.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::Config;
use provider_forge::catalog;
use provider_forge::render::{Format, Output, Renderer};

use crate::support::yaml_files;

fn cases() -> u32 {
    std::env::var("PROVIDER_FORGE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

fn config() -> Config {
    Config {
        cases: cases(),
        // No files written by CI runs; a failure prints its minimal input instead.
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

fn providers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("providers")
}

/// Every bundled provider file, as (path, text). Mutations are checked as if they were that
/// file, so `set: zoho` still finds the shared set.
fn bundled() -> Vec<(PathBuf, String)> {
    yaml_files(providers_dir())
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// One edit of a definition's text.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replace the value after `key:` on a line with a (YAML-quoted) string.
    ReplaceValue(usize, String),
    /// Replace the value with raw text (not quoted): YAML syntax of its own.
    ReplaceValueRaw(usize, String),
    Insert(usize, String),
    Indent(usize, i8),
    Truncate(usize),
}

/// Strings that have broken parsers, URL checks and templates before.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<dc>".to_owned()),
        Just("<accounts_host>".to_owned()),
        Just("<".to_owned()),
        Just("<<dc>>".to_owned()),
        Just("https://accounts.zoho.<dc>/oauth".to_owned()),
        Just("HTTPS://Accounts.Zoho.com".to_owned()),
        Just("https://accounts\u{ff0e}zoho\u{3002}com/x".to_owned()),
        Just("https://accounts.zоho.com/x".to_owned()),
        Just("https://a.example.com\\x\\y".to_owned()),
        Just("https://u:p@a.example.com/".to_owned()),
        Just("http://127.0.0.1:1/x".to_owned()),
        Just("https://[::1]/x".to_owned()),
        Just("https://a.example.com/a b\tc\nd".to_owned()),
        Just("../gitlab".to_owned()),
        Just("/etc/passwd".to_owned()),
        Just("Zoho\nX_A_TOKEN_URL=http://evil.example/steal".to_owned()),
        Just("a | <b>[x](y)</b> `z`".to_owned()),
        Just("'\"$(id)\\".to_owned()),
        Just("\u{2028}\u{85}\u{7f}\u{202e}".to_owned()),
        Just("".to_owned()),
        Just("-1".to_owned()),
        Just("1e30".to_owned()),
        Just("~".to_owned()),
        Just("a".repeat(300)),
        "[ -~]{0,24}",
        "\\PC{0,12}",
    ]
}

/// YAML fragments that are syntax, not text.
fn raw_yaml() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("&a x".to_owned()),
        Just("*a".to_owned()),
        Just("*undefined".to_owned()),
        Just("!!binary aGk=".to_owned()),
        Just("!custom x".to_owned()),
        Just("{".to_owned()),
        Just("[a, [b, {c: d}]]".to_owned()),
        Just("{ a: 1, a: 2 }".to_owned()),
        Just("|\n  block\n  text".to_owned()),
        Just("? complex\n: key".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("0x1F".to_owned()),
        Just(".nan".to_owned()),
        Just("- a\n- b".to_owned()),
        "[ -~]{0,16}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        1 => at.prop_map(Mutation::DeleteLine),
        1 => at.prop_map(Mutation::DuplicateLine),
        1 => (at, any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (at, nasty()).prop_map(|(i, s)| Mutation::ReplaceValue(i, s)),
        2 => (at, raw_yaml()).prop_map(|(i, s)| Mutation::ReplaceValueRaw(i, s)),
        1 => (at, prop_oneof![nasty(), raw_yaml()]).prop_map(|(i, s)| Mutation::Insert(i, s)),
        1 => (at, -4i8..=4).prop_map(|(i, d)| Mutation::Indent(i, d)),
        1 => at.prop_map(Mutation::Truncate),
    ]
}

/// Applies `mutations` to `text` (positions are taken modulo the current size).
fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for mutation in mutations {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match mutation {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::ReplaceValue(i, value) | Mutation::ReplaceValueRaw(i, value) => {
                let line = &mut lines[i % n];
                if let Some(colon) = line.find(": ") {
                    let shown = match mutation {
                        Mutation::ReplaceValue(..) => serde_json::to_string(value).unwrap(),
                        _ => value.clone(),
                    };
                    line.truncate(colon + 2);
                    line.push_str(&shown);
                }
            }
            Mutation::Insert(i, fragment) => {
                let line = &mut lines[i % n];
                let chars: Vec<char> = line.chars().collect();
                let at = if chars.is_empty() {
                    0
                } else {
                    i % (chars.len() + 1)
                };
                let mut edited: String = chars[..at].iter().collect();
                edited.push_str(fragment);
                edited.extend(&chars[at..]);
                *line = edited;
            }
            Mutation::Indent(i, delta) => {
                let line = &mut lines[i % n];
                if *delta > 0 {
                    line.insert_str(0, &" ".repeat(*delta as usize));
                } else {
                    let strip = line
                        .chars()
                        .take((-delta) as usize)
                        .take_while(|c| *c == ' ')
                        .count();
                    line.drain(..strip);
                }
            }
            Mutation::Truncate(i) => lines.truncate(i % (n + 1)),
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// What must hold for any text checked as `path`.
fn check(path: &Path, text: &str) -> Result<(), TestCaseError> {
    let provider = match catalog::load_one(path, text) {
        Err(_) => return Ok(()),
        Ok(Err(diagnostics)) => {
            prop_assert!(!diagnostics.is_empty(), "an invalid definition says why");
            for diagnostic in &diagnostics {
                prop_assert!(
                    diagnostic.line >= 1 && diagnostic.column >= 1,
                    "{diagnostic}"
                );
            }
            return Ok(());
        }
        Ok(Ok(provider)) => provider.resolved,
    };
    // URLs with per-connection values are what the client sends once filled: with each
    // parameter's example (which validation checked), filling must succeed. Values learnt
    // during the flow stay unknown here, and their URLs are skipped.
    let examples = provider
        .connection
        .params
        .iter()
        .map(|(name, input)| (name.clone(), input.declared.example.clone()))
        .collect();
    let filled = provider_forge::resolve::connection::fill(&provider, &examples).map_err(|e| {
        TestCaseError::fail(format!("a valid definition's examples are refused: {e}"))
    })?;
    for dc in &filled.data_centers {
        let mut urls = Vec::new();
        if let Some(endpoints) = &dc.authorization {
            urls.extend([
                &endpoints.issuer,
                &endpoints.authorization_url,
                &endpoints.entry_authorization_url,
            ]);
        }
        if let Some(endpoints) = &dc.token {
            urls.extend([&endpoints.token_url, &endpoints.refresh_url]);
            urls.extend(endpoints.revoke_url.as_ref());
        }
        urls.extend(dc.api_base_urls.values());
        for url in urls.into_iter().filter(|url| !url.contains('<')) {
            let parsed = url::Url::parse(url).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let sent = parsed.as_str();
            prop_assert!(
                sent == url || sent.strip_suffix('/') == Some(url.as_str()),
                "the table holds `{url}` but the client would send `{sent}`"
            );
        }
    }
    let renderer = Renderer::new();
    for format in Format::ALL {
        // An output may refuse a value (dotenv cannot hold every string); it may not panic.
        let _ = renderer.provider(&provider, &Output::Builtin(format));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_bundled_definitions_never_panic_the_reader_or_the_resolver(
        file in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let files = bundled();
        let (path, text) = &files[file.index(files.len())];
        check(path, &apply(text, &mutations))?;
    }

    #[test]
    fn arbitrary_text_never_panics_the_reader(text in "\\PC{0,300}") {
        check(&providers_dir().join("fuzz.yaml"), &text)?;
    }

    #[test]
    fn yaml_shaped_noise_never_panics_the_reader(
        lines in prop::collection::vec(
            ("[ ]{0,6}", "[a-z_]{1,8}", prop_oneof![nasty(), raw_yaml()]),
            0..30,
        ),
    ) {
        let text: String = lines
            .iter()
            .map(|(indent, key, value)| format!("{indent}{key}: {value}\n"))
            .collect();
        check(&providers_dir().join("fuzz.yaml"), &text)?;
    }
}
