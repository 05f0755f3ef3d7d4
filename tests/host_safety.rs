//! Host safety by structure: whatever a connection value holds, the host of every URL built
//! from it stays inside what the template fixes, or the value is refused. Each template shape
//! is filled with hostile values (another domain, userinfo, percent-encoding, slashes,
//! look-alike letters, IP literals, loopback names, trailing dots, empty and over-long labels)
//! and random ones, and the host is checked against what the template fixes, written out here
//! by hand for each shape.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use provider_forge::catalog;
use provider_forge::resolve::ResolvedProvider;
use provider_forge::resolve::{ConnectionValues, fill};
use url::{Host, Url};

/// A definition whose token URL is `token_url`, with the connection value `v` declared by
/// `declaration` (YAML lines under `v:`).
fn definition(token_url: &str, declaration: &str) -> String {
    format!(
        r#"id: shape
display_name: Shape
connection:
  params:
    v:
      description: The value under test.
{declaration}
issuer: https://auth.example.com
authorization:
  url: https://auth.example.com/authorize
token:
  url: {token_url}
callback:
  redirect_uri: https://api.nango.dev/oauth/callback
scopes:
  catalog:
    - name: read
      description: Read.
"#
    )
}

fn load(text: &str) -> Result<ResolvedProvider, Vec<String>> {
    match catalog::load_one(Path::new("shape.yaml"), text).expect("readable") {
        catalog::Verdict::Valid(provider) => Ok(provider.resolved),
        catalog::Verdict::Invalid(diagnostics) => {
            Err(diagnostics.into_iter().map(|d| d.message).collect())
        }
    }
}

/// One template shape and what it fixes of the host.
struct Shape {
    name: &'static str,
    provider: ResolvedProvider,
    fixes: fn(&str) -> bool,
}

fn shape(name: &'static str, token_url: &str, declaration: &str, fixes: fn(&str) -> bool) -> Shape {
    let provider = load(&definition(token_url, declaration))
        .unwrap_or_else(|problems| panic!("shape {name} is refused: {problems:?}"));
    Shape {
        name,
        provider,
        fixes,
    }
}

static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    vec![
        shape(
            "left of a fixed registrable domain",
            "https://<v>.myshopify.com/token",
            "      example: acme\n      pattern: '^.*$'",
            |host| host.ends_with(".myshopify.com") && host.len() > ".myshopify.com".len(),
        ),
        shape(
            "right of a fixed label, enumerated",
            "https://api.amazon.<v>/auth/o2/token",
            "      example: com\n      pattern: '^.*$'\n      enum: [com, co.uk, de]",
            |host| ["api.amazon.com", "api.amazon.co.uk", "api.amazon.de"].contains(&host),
        ),
        shape(
            "glued to a label, enumerated",
            "https://api<v>.example.com/token",
            "      example: -eu\n      pattern: '^.*$'\n      enum: [-eu, -us]",
            |host| ["api-eu.example.com", "api-us.example.com"].contains(&host),
        ),
        shape(
            "whole host bounded by its pattern",
            "https://<v>/token",
            "      example: acme.example.net\n      pattern: '^[a-z0-9.-]+\\.example\\.net$'\n      kind: host",
            |host| host.ends_with(".example.net"),
        ),
        shape(
            "whole host with a loose pattern",
            "https://<v>/token",
            "      example: acme.example.net\n      pattern: '^.*$'\n      kind: host",
            |_| true,
        ),
        shape(
            "whole URL bounded by its pattern",
            "<v>/token",
            "      example: https://acme.example.org\n      pattern: '^https://[a-z0-9.-]+\\.example\\.org$'\n      kind: url",
            |host| host.ends_with(".example.org"),
        ),
        shape(
            "in the path",
            "https://api.example.com/<v>/token",
            "      example: acme\n      pattern: '^.*$'",
            |host| host == "api.example.com",
        ),
        shape(
            "in the query",
            "https://api.example.com/token?tenant=<v>",
            "      example: acme\n      pattern: '^.*$'",
            |host| host == "api.example.com",
        ),
    ]
});

/// Values an attacker would try.
const HOSTILE: &[&str] = &[
    "evil.com",
    "com.evil.com",
    "co.uk.evil.com",
    "a@b",
    "evil.com@acme",
    "%2F",
    "evil.com%2F",
    "a/b",
    "evil.com/",
    "a\\b",
    "evil.com#",
    "evil.com?",
    "evil.com:443",
    "\u{430}pple",
    "xn--pple-43d",
    "[::1]",
    "127.0.0.1",
    "0x7f000001",
    "2130706433",
    "localhost",
    "a.localhost",
    "acme.",
    ".",
    "acme..x",
    "",
    "COM",
    "-eu.evil.com",
    "https://evil.com",
    "https://acme.example.org.evil.com",
    "https://127.0.0.1",
    "https://localhost.example.org",
    "evil.example.net.",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(HOSTILE).prop_map(str::to_owned),
        "[a-z0-9.@%/:\\[\\]\\\\\u{430}-]{0,24}",
        "[a-z]{60,70}",
        "(https://)?[a-z0-9.-]{1,12}(\\.example\\.(net|org))?[./]{0,2}",
    ]
}

/// The hosts of every URL of a filled table.
fn hosts(filled: &ResolvedProvider) -> Vec<(String, Url)> {
    let dc = &filled.data_centers[0];
    let authorization = dc
        .authorization
        .as_ref()
        .expect("an authorization-code provider");
    let token = dc.token.as_ref().expect("a provider with a token endpoint");
    [
        &authorization.issuer,
        &authorization.authorization_url,
        &token.token_url,
        &token.refresh_url,
    ]
    .into_iter()
    .map(|text| (text.clone(), Url::parse(text).expect("a filled URL parses")))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_value_never_moves_a_host_outside_what_the_template_fixes(value in value()) {
        for shape in SHAPES.iter() {
            let values: ConnectionValues = [("v".to_owned(), value.clone())].into_iter().collect();
            let Ok(filled) = fill(&shape.provider, &values) else {
                continue;
            };
            for (text, url) in hosts(&filled) {
                let host = url.host_str().unwrap_or_default();
                prop_assert!(
                    matches!(url.host(), Some(Host::Domain(_))),
                    "{}: `{value}` gives the IP host of {text}", shape.name
                );
                prop_assert!(
                    host != "localhost" && !host.ends_with(".localhost"),
                    "{}: `{value}` gives the loopback host of {text}", shape.name
                );
                prop_assert!(text.is_ascii(), "{}: `{value}` gives {text}", shape.name);
                if text.contains("/token") {
                    prop_assert!(
                        (shape.fixes)(host),
                        "{}: `{value}` moves the token request to {text}", shape.name
                    );
                } else {
                    prop_assert_eq!(host, "auth.example.com");
                }
            }
        }
    }
}

#[test]
fn every_hostile_value_is_refused_or_kept_inside_the_template() {
    // The fixed list on its own, so each is tried whatever the random cases draw.
    for shape in SHAPES.iter() {
        for value in HOSTILE {
            let values: ConnectionValues = [("v".to_owned(), (*value).to_owned())]
                .into_iter()
                .collect();
            if let Ok(filled) = fill(&shape.provider, &values) {
                let token =
                    Url::parse(&filled.data_centers[0].token.as_ref().unwrap().token_url).unwrap();
                assert!(
                    matches!(token.host(), Some(Host::Domain(d)) if (shape.fixes)(d) && d != "localhost"),
                    "{}: `{value}` gives {token}",
                    shape.name
                );
            }
        }
    }
}

#[test]
fn loopback_names_and_ip_literals_are_refused_as_values() {
    let loose = &SHAPES[4];
    for value in [
        "localhost",
        "a.localhost",
        "127.0.0.1",
        "[::1]",
        "10.0.0.1",
        "2130706433",
    ] {
        let values: ConnectionValues = [("v".to_owned(), value.to_owned())].into_iter().collect();
        assert!(fill(&loose.provider, &values).is_err(), "{value}");
    }
    let values: ConnectionValues = [("v".to_owned(), "acme.example.net".to_owned())]
        .into_iter()
        .collect();
    assert!(fill(&loose.provider, &values).is_ok());
}

#[test]
fn a_value_that_could_choose_the_domain_must_be_enumerated() {
    for (template, declaration) in [
        (
            "https://api.amazon.<v>/auth/o2/token",
            "      example: com\n      pattern: '^[a-z.]+$'",
        ),
        (
            "https://example.com<v>/token",
            "      example: x\n      pattern: '^[a-z.]+$'",
        ),
        (
            "https://api<v>.example.com/token",
            "      example: x\n      pattern: '^[a-z.]+$'",
        ),
        (
            "https://<v>.com/token",
            "      example: x\n      pattern: '^[a-z.]+$'",
        ),
        (
            "https://<v>/token",
            "      example: x\n      pattern: '^[a-z.]+$'",
        ),
    ] {
        let problems = load(&definition(template, declaration)).expect_err(template);
        assert!(
            problems.iter().any(|p| p.contains("`<v>`")),
            "{template}: {problems:?}"
        );
    }
}

#[test]
fn every_allowed_value_must_build_a_valid_host() {
    let problems = load(&definition(
        "https://api.amazon.<v>/auth/o2/token",
        "      example: com\n      pattern: '^[a-z.]+$'\n      enum: [com, com.evil.com., de]",
    ))
    .expect_err("a trailing dot is no valid host");
    assert!(
        problems.iter().any(|p| p.contains("`com.evil.com.`")),
        "{problems:?}"
    );
    let problems = load(&definition(
        "https://api.amazon.<v>/auth/o2/token",
        "      example: fr\n      pattern: '^[a-z.]+$'\n      enum: [com, de]",
    ))
    .expect_err("the example must be allowed");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("not one of its allowed values")),
        "{problems:?}"
    );
}

#[test]
fn a_value_outside_the_enum_is_refused_at_fill() {
    let amazon = &SHAPES[1];
    for value in ["evil.com", "com.evil.com", "fr"] {
        let values: ConnectionValues = [("v".to_owned(), value.to_owned())].into_iter().collect();
        let error = fill(&amazon.provider, &values).unwrap_err().to_string();
        assert!(error.contains("com, co.uk, de"), "{value}: {error}");
    }
}
