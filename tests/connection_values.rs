//! Values that differ per connection (issue 8): the bundled Shopify, Salesforce and Microsoft
//! definitions filled through `resolve::fill`, the host-safety checks a value must
//! pass, and `connect --param`.

use std::path::Path;
use std::process::{Command, Stdio};

use provider_forge::catalog;
use provider_forge::oauth::{AuthorizationOptions, OAuthError, authorization_request};
use provider_forge::resolve::ResolvedProvider;
use provider_forge::resolve::{ConnectionError, ConnectionValues, fill};

use crate::support::cli::BIN;

fn bundled(name: &str) -> ResolvedProvider {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("providers/{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    from_text(&path, &text)
}

fn from_text(path: &Path, text: &str) -> ResolvedProvider {
    match catalog::load_one(path, text).expect("readable") {
        catalog::Verdict::Valid(provider) => provider.resolved,
        catalog::Verdict::Invalid(diagnostics) => panic!("invalid provider: {diagnostics:?}"),
    }
}

fn values(pairs: &[(&str, &str)]) -> ConnectionValues {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_shop_subdomain_fills_every_shopify_url() {
    let shopify = bundled("shopify");
    assert!(
        shopify.data_centers[0]
            .token
            .as_ref()
            .unwrap()
            .token_url
            .contains("<subdomain>")
    );
    let filled = fill(&shopify, &values(&[("subdomain", "acme")])).unwrap();
    let dc = &filled.data_centers[0];
    assert_eq!(
        dc.authorization.as_ref().unwrap().authorization_url,
        "https://acme.myshopify.com/admin/oauth/authorize"
    );
    assert_eq!(
        dc.token.as_ref().unwrap().token_url,
        "https://acme.myshopify.com/admin/oauth/access_token"
    );
    assert_eq!(
        dc.api_base_urls["production"],
        "https://acme.myshopify.com/admin/api"
    );
    assert_eq!(
        dc.authorization.as_ref().unwrap().issuer,
        "https://acme.myshopify.com"
    );
    assert!(
        filled.connection.is_empty(),
        "a filled table needs nothing more"
    );
    assert_eq!(
        filled.api_auth.as_ref().unwrap().headers["x-shopify-access-token"],
        "<access_token>",
        "the access token is filled by whoever calls the API, not here"
    );
}

#[test]
fn a_missing_or_pattern_failing_value_names_the_parameter_and_its_pattern() {
    let shopify = bundled("shopify");
    let missing = fill(&shopify, &ConnectionValues::new()).unwrap_err();
    assert!(matches!(missing, ConnectionError::Missing { ref name, .. } if name == "subdomain"));
    assert!(
        missing.to_string().contains("^[a-z0-9][a-z0-9-]{0,62}$"),
        "{missing}"
    );
    for evil in [
        "evil.com/",
        "acme.evil.com",
        "acme?x=",
        "a@evil.com",
        "ACME",
    ] {
        let error = fill(&shopify, &values(&[("subdomain", evil)])).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("`subdomain`") && text.contains("^[a-z0-9][a-z0-9-]{0,62}$"),
            "{evil}: {text}"
        );
    }
    let unknown = fill(&shopify, &values(&[("subdomain", "acme"), ("shop", "x")])).unwrap_err();
    assert!(matches!(unknown, ConnectionError::Unknown { ref name, .. } if name == "shop"));
}

/// A provider whose patterns accept anything, so that only the structure and host checks
/// stand between a value and the URL.
const LAX: &str = r#"
id: lax
display_name: Lax
connection:
  params:
    shop:
      description: Any text.
      example: acme
      pattern: '^.*$'
issuer: https://<shop>.example.com
authorization: { url: "https://<shop>.example.com/authorize" }
token: { url: "https://<shop>.example.com/token" }
callback: { redirect_uri: "https://api.nango.dev/oauth/callback" }
api: { environments: { production: "https://<shop>.example.com/api" } }
scopes: { default: [], catalog: [{ name: read, description: Read. }] }
"#;

#[test]
fn a_segment_value_may_not_change_the_url_structure_whatever_its_pattern() {
    let lax = from_text(Path::new("lax.yaml"), LAX);
    for evil in [
        "evil.com/",
        "evil.com?",
        "evil.com#",
        "me@evil.com",
        "evil.com:8443",
        "a%2e",
        "a b",
        "a\\b",
    ] {
        let error = fill(&lax, &values(&[("shop", evil)])).unwrap_err();
        assert!(
            matches!(error, ConnectionError::Invalid { ref name, .. } if name == "shop"),
            "{evil}: {error}"
        );
    }
    let filled = fill(&lax, &values(&[("shop", "acme")])).unwrap();
    assert_eq!(
        filled.data_centers[0].token.as_ref().unwrap().token_url,
        "https://acme.example.com/token"
    );
}

#[test]
fn a_whole_url_value_inside_a_host_is_refused_when_validating() {
    let text = LAX
        .replace(
            "      pattern: '^.*$'\n",
            "      pattern: '^.*$'\n      kind: url\n      example: https://acme.example.com\n",
        )
        .replace("      example: acme\n", "");
    let catalog::Verdict::Invalid(problems) =
        catalog::load_one(Path::new("lax.yaml"), &text).expect("readable")
    else {
        panic!("a URL inside a host label cannot be valid");
    };
    let at: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(
        at.contains(&"issuer") && at.contains(&"token.url"),
        "{problems:?}"
    );
}

#[test]
fn the_run_time_check_refuses_a_url_that_a_loose_declaration_let_through() {
    // A table whose declaration let a whole URL into a host label (as a hand-edited or
    // foreign table could): every URL built is re-checked, and this one is refused.
    let mut shopify = bundled("shopify");
    let input = shopify.connection.params.get_mut("subdomain").unwrap();
    input.declared.kind = provider_forge::definition::ValueKind::Url;
    input.declared.pattern = "^.*$".to_owned();
    let error = fill(&shopify, &values(&[("subdomain", "https://evil.com/x")])).unwrap_err();
    assert!(
        matches!(error, ConnectionError::Url { ref entry, .. } if entry.contains("issuer")),
        "the filled URL itself is refused: {error}"
    );
}

#[test]
fn salesforce_falls_back_to_the_login_host_and_fills_instance_url_once_learnt() {
    let salesforce = bundled("salesforce");
    let filled = fill(&salesforce, &ConnectionValues::new()).unwrap();
    let dc = &filled.data_centers[0];
    assert_eq!(
        dc.authorization.as_ref().unwrap().authorization_url,
        "https://login.salesforce.com/services/oauth2/authorize"
    );
    assert_eq!(dc.api_base_urls["production"], "<instance_url>");
    assert!(filled.connection.runtime.contains_key("instance_url"));
    assert!(filled.connection.params.is_empty());

    let my_domain = fill(
        &salesforce,
        &values(&[("hostname", "acme.my.salesforce.com")]),
    )
    .unwrap();
    assert_eq!(
        my_domain.data_centers[0].token.as_ref().unwrap().token_url,
        "https://acme.my.salesforce.com/services/oauth2/token"
    );
    let learnt = fill(
        &my_domain,
        &values(&[("instance_url", "https://acme.my.salesforce.com")]),
    )
    .unwrap();
    assert_eq!(
        learnt.data_centers[0].api_base_urls["production"],
        "https://acme.my.salesforce.com"
    );
    assert!(learnt.connection.is_empty());
    let refused = fill(&my_domain, &values(&[("instance_url", "https://evil.com")])).unwrap_err();
    assert!(matches!(refused, ConnectionError::Invalid { ref name, .. } if name == "instance_url"));
    assert!(fill(&salesforce, &values(&[("hostname", "evil.com")])).is_err());
}

#[test]
fn microsoft_takes_the_tenant_per_connection_and_graph_scopes_per_cloud() {
    let microsoft = bundled("microsoft");
    let common = fill(&microsoft, &ConnectionValues::new()).unwrap();
    assert_eq!(
        common
            .data_center("global")
            .unwrap()
            .authorization
            .as_ref()
            .unwrap()
            .issuer,
        "https://login.microsoftonline.com/common/v2.0"
    );
    let contoso = fill(
        &microsoft,
        &values(&[("tenant", "contoso.onmicrosoft.com")]),
    )
    .unwrap();
    let usgov = contoso.data_center("usgov").unwrap();
    assert_eq!(
        usgov.token.as_ref().unwrap().token_url,
        "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(usgov.client_id_key.as_deref(), Some("usgov"));
    assert!(fill(&microsoft, &values(&[("tenant", "contoso/../x")])).is_err());

    let pending = authorization_request(
        &contoso,
        "usgov-client",
        &AuthorizationOptions {
            data_center: Some("usgov".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(pending.url.host_str(), Some("login.microsoftonline.us"));
    let scope = pending
        .url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        scope,
        "offline_access openid https://graph.microsoft.us/User.Read"
    );
}

#[test]
fn an_unfilled_table_starts_no_authorization() {
    let error = authorization_request(
        &bundled("shopify"),
        "client",
        &AuthorizationOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, OAuthError::UnfilledConnection { ref names, .. } if names == "subdomain")
    );
}

fn connect(params: &[&str]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "connect",
            "providers/shopify.yaml",
            "--client-id",
            "id",
            "--no-browser",
            "--timeout",
            "5",
        ])
        .env("PROVIDER_FORGE_CLIENT_SECRET", "secret")
        .stdin(Stdio::null());
    for param in params {
        command.args(["--param", param]);
    }
    command.output().unwrap()
}

#[test]
fn connect_refuses_a_missing_or_bad_param_before_printing_any_url() {
    for params in [&[][..], &["subdomain=evil.com/x"][..]] {
        let output = connect(params);
        assert_eq!(output.status.code(), Some(2), "{params:?}");
        assert!(output.stdout.is_empty(), "no URL may be printed");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("`subdomain`") && stderr.contains("^[a-z0-9][a-z0-9-]{0,62}$"),
            "{stderr}"
        );
    }
}

#[test]
fn connect_with_a_param_prints_the_shops_authorization_url() {
    let output = connect(&["subdomain=acme"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let url = url::Url::parse(stdout.lines().next().expect("the URL is printed")).unwrap();
    assert_eq!(url.host_str(), Some("acme.myshopify.com"));
    assert_eq!(url.path(), "/admin/oauth/authorize");
}
