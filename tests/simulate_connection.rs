//! The library simulator with the format's per-connection features, against the engine:
//! connection values fill the served hosts (Shopify's shop, Salesforce's My Domain, the
//! Microsoft tenant) and are checked as `connect` checks them; runtime values come back in the
//! token answer (Salesforce's `instance_url`) or the callback; extra token parameters, JSON
//! bodies, per-DC client ids and scope names, and issuers with a path (`iss`) are spoken as the
//! definition says, and what it does not say is refused.

use std::time::Duration;

use provider_forge::definition::TokenBody;
use provider_forge::oauth::{
    self, AuthorizationOptions, ClientSecret, Credentials, OAuthError, RetryPolicy,
    authorization_request,
};
use provider_forge::resolve::ResolvedProvider;
use provider_forge::resolve::{ConnectionValues, fill};
use serde_json::json;

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);
const SHOPIFY: &str = "providers/shopify.yaml";
const SALESFORCE: &str = "providers/salesforce.yaml";
const MICROSOFT: &str = "providers/microsoft.yaml";

fn no_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::ZERO,
    }
}

fn values(pairs: &[(&str, &str)]) -> ConnectionValues {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// The `code` of a callback URL.
fn code_of(callback: &str) -> String {
    let url = url::Url::parse(callback).unwrap();
    let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1;
    code.into_owned()
}

#[tokio::test]
async fn shopify_is_served_at_the_shop_the_connection_names_with_its_extra_token_parameter() {
    let bench = Bench::connection(SHOPIFY, &[("subdomain", "acme")], |s| s, TIMEOUT).await;
    assert_eq!(bench.sim.hosts(), ["acme.myshopify.com"]);
    assert!(bench.sim.resolve_args()[0].starts_with("acme.myshopify.com:443:127.0.0.1:"));

    let tokens = bench.connect().await;
    let exchange = bench
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Token)
        .unwrap();
    assert_eq!(exchange.host, "acme.myshopify.com");
    assert_eq!(exchange.path, "/admin/oauth/access_token");
    assert_eq!(exchange.param("expiring"), Some("1"));
    assert!(tokens.refresh_token.is_some());

    // The definition asks for expiring=1 in the code exchange: one without it is refused.
    let (_, callback) = bench.authorize().await;
    let code = code_of(&callback);
    let token_url = &bench.provider.data_centers[0]
        .token
        .as_ref()
        .unwrap()
        .token_url;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", CLIENT_ID),
        ("client_secret", SHARED_SECRET),
    ];
    let (status, body) = post(&bench, token_url, None, &form).await;
    assert_eq!((status, body), (400, json!({ "error": "invalid_request" })));
    let refused = bench.sim.requests().pop().unwrap();
    assert_eq!(
        refused.outcome.as_deref(),
        Some("error invalid_request: expected expiring=1")
    );
    // With it, the same code is still good (the refusal did not use it up).
    let mut form = form.to_vec();
    form.push(("expiring", "1"));
    let (status, body) = post(&bench, token_url, None, &form).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn connection_values_are_checked_as_connect_checks_them() {
    let shopify = load_provider(SHOPIFY);
    let refused = |pairs: &[(&str, &str)]| {
        let provider = shopify.clone();
        let values = values(pairs);
        async move {
            Simulator::start(Setup {
                connection_values: values,
                ..setup(vec![provider])
            })
            .await
            .err()
            .unwrap()
            .to_string()
        }
    };
    let missing = refused(&[]).await;
    assert!(
        missing.contains("needs connection parameter `subdomain`")
            && missing.contains("^[a-z0-9][a-z0-9-]{0,62}$"),
        "{missing}"
    );
    let invalid = refused(&[("subdomain", "evil.com/x")]).await;
    assert!(
        invalid.starts_with("connection value `subdomain` is refused"),
        "{invalid}"
    );
    assert_eq!(
        refused(&[("subdomain", "acme"), ("tenant", "contoso")]).await,
        "no simulated provider declares connection value `tenant`; declared: subdomain"
    );
}

#[tokio::test]
async fn salesforce_hands_out_an_instance_url_the_connection_keeps_and_refreshes_with() {
    let bench = Bench::connection(
        SALESFORCE,
        &[("hostname", "acme.my.salesforce.com")],
        |s| s,
        TIMEOUT,
    )
    .await;
    assert_eq!(bench.sim.hosts(), ["acme.my.salesforce.com"]);
    let tokens = bench.connect().await;
    assert_eq!(
        tokens.metadata["instance_url"],
        json!("https://acme.my.salesforce.com")
    );
    // The engine fills the API base from it, through the definition's own checks.
    let learnt = fill(
        &bench.provider,
        &values(&[("instance_url", "https://acme.my.salesforce.com")]),
    )
    .unwrap();
    assert_eq!(
        learnt.data_centers[0].api_base_urls["production"],
        "https://acme.my.salesforce.com"
    );
    let refreshed = bench.refresh(&tokens, &no_retry()).await.unwrap();
    assert_eq!(
        refreshed.metadata["instance_url"],
        tokens.metadata["instance_url"]
    );

    // Without `hostname`, its default: login.salesforce.com.
    let bench = Bench::connection(SALESFORCE, &[], |s| s, TIMEOUT).await;
    assert_eq!(bench.sim.hosts(), ["login.salesforce.com"]);
    let tokens = bench.connect().await;
    assert_eq!(
        tokens.metadata["instance_url"],
        json!("https://login.salesforce.com")
    );

    // A runtime value given with the parameters is the one handed out.
    let bench = Bench::connection(
        SALESFORCE,
        &[],
        |s| Setup {
            connection_values: values(&[("instance_url", "https://acme.my.salesforce.com")]),
            ..s
        },
        TIMEOUT,
    )
    .await;
    let tokens = bench.connect().await;
    assert_eq!(
        tokens.metadata["instance_url"],
        json!("https://acme.my.salesforce.com")
    );
}

/// A simulator for `provider` with the shared-secret test client, and the engine for it.
async fn shared_client_bench(provider: ResolvedProvider) -> Bench {
    let setup = setup(vec![provider.clone()]);
    Bench::serve(setup, provider, shared_credentials(), TIMEOUT).await
}

/// tests/fixtures/generic-idp.yaml with `token.body: json`.
fn generic_json() -> ResolvedProvider {
    let path = repo_path(GENERIC_FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let anchor = "  auth_method: client_secret_basic\n";
    assert!(text.contains(anchor));
    let text = text.replace(anchor, &format!("{anchor}  body: json\n"));
    load_provider_text(&path, &text)
}

#[tokio::test]
async fn json_token_bodies_are_read_and_the_definitions_encoding_is_required() {
    let bench = shared_client_bench(generic_json()).await;
    let tokens = bench.connect().await;
    let refreshed = bench.refresh(&tokens, &no_retry()).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    let token_side: Vec<_> = bench
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.endpoint != Endpoint::Authorize)
        .collect();
    assert_eq!(token_side.len(), 2);
    for request in &token_side {
        assert_eq!(request.body, Some(TokenBody::Json), "{request:?}");
        assert!(request.param("grant_type").is_some());
    }

    // A form-encoded refresh to a JSON provider is refused.
    let refresh_token = refreshed.refresh_token.as_ref().unwrap().expose();
    let token_url = &bench.provider.data_centers[0]
        .token
        .as_ref()
        .unwrap()
        .token_url;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let (status, body) = post(&bench, token_url, Some((CLIENT_ID, SHARED_SECRET)), &form).await;
    assert_eq!((status, body), (400, json!({ "error": "invalid_request" })));

    // And a JSON body to a form provider (GitLab).
    let gitlab = Bench::start("providers/gitlab.yaml", |s| s, TIMEOUT).await;
    let tokens = gitlab.connect().await;
    let response = gitlab
        .http
        .post(
            &gitlab.provider.data_centers[0]
                .token
                .as_ref()
                .unwrap()
                .token_url,
        )
        .json(&json!({
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token.as_ref().unwrap().expose(),
            "client_id": CLIENT_ID,
            "client_secret": SHARED_SECRET,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let outcome = gitlab.sim.requests().pop().unwrap().outcome.unwrap();
    assert!(
        outcome.contains("the definition says the body is form-encoded"),
        "{outcome}"
    );
}

/// Microsoft's three clouds, each its own app registration.
fn microsoft_credentials(usgov_id: &str) -> Credentials {
    Credentials::per_data_center(
        "unused-shared-id",
        ["global", "usgov", "china"]
            .map(|dc| (dc.to_owned(), ClientSecret::new(per_dc_secret(dc)))),
    )
    .with_client_id_for("global", "id-global")
    .with_client_id_for("usgov", usgov_id)
    .with_client_id_for("china", "id-china")
}

/// Microsoft for tenant contoso.onmicrosoft.com, `adjust`ed (text) before loading.
async fn microsoft(adjust: impl FnOnce(String) -> String) -> Bench {
    let path = repo_path(MICROSOFT);
    let text = adjust(std::fs::read_to_string(&path).unwrap());
    let unfilled = load_provider_text(&path, &text);
    let tenant = values(&[("tenant", "contoso.onmicrosoft.com")]);
    let provider = fill(&unfilled, &tenant).unwrap();
    let setup = Setup {
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        connection_values: tenant,
        ..Setup::new(vec![unfilled], microsoft_credentials("id-usgov"))
    };
    Bench::serve(setup, provider, microsoft_credentials("id-usgov"), TIMEOUT).await
}

#[tokio::test]
async fn each_national_cloud_has_its_own_client_id_and_scope_names() {
    let bench = microsoft(|text| text).await;
    // Each cloud's login server, and its Graph API (the simulator plays the API too).
    assert_eq!(
        bench.sim.hosts(),
        [
            "graph.microsoft.com",
            "graph.microsoft.us",
            "login.chinacloudapi.cn",
            "login.microsoftonline.com",
            "login.microsoftonline.us",
            "microsoftgraph.chinacloudapi.cn",
        ]
    );
    let options = AuthorizationOptions {
        data_center: Some("usgov".into()),
        ..Default::default()
    };
    let pending = authorization_request(&bench.provider, "id-usgov", &options).unwrap();
    let url = pending.url.as_str().to_owned();
    assert!(
        url.starts_with(
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/authorize?"
        ),
        "{url}"
    );
    let callback = browse_to_callback(&bench.http, &url, REDIRECT_URI).await;
    let tokens = oauth::complete_authorization(
        &bench.http,
        &bench.provider,
        &bench.credentials,
        &pending,
        &callback,
    )
    .await
    .unwrap();
    assert_eq!(tokens.data_center, "usgov");
    assert_eq!(
        tokens.issuer,
        "https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0"
    );
    let authorize = &bench.sim.requests()[0];
    let scope = authorize.param("scope").unwrap();
    assert!(
        scope.contains("https://graph.microsoft.us/User.Read"),
        "{scope}"
    );
    let exchange = bench.sim.requests().pop().unwrap();
    assert_eq!(exchange.host, "login.microsoftonline.us");
    assert_eq!(exchange.param("client_id"), Some("id-usgov"));

    // Another cloud's client id is unknown here: a page, no redirect.
    let (status, location) = open(&bench.sim, &with_param(&url, "client_id", "id-global")).await;
    assert_eq!((status, location.as_str()), (400, ""));
    // Another cloud's scope name, or the catalog's unexpanded one, is an unknown scope here.
    for scope in [
        "https://graph.microsoft.com/User.Read",
        "https://<graph_host>/User.Read",
    ] {
        let (status, location) = open(&bench.sim, &with_param(&url, "scope", scope)).await;
        assert_eq!(status, 302, "{scope}");
        assert!(
            location.contains("error=invalid_scope"),
            "{scope}: {location}"
        );
    }
    // And at the token side: refreshing at usgov with global's client id.
    let wrong = Credentials::clone(&microsoft_credentials("id-global"));
    let error = oauth::refresh_tokens(&bench.http, &bench.provider, &wrong, &tokens, &no_retry())
        .await
        .unwrap_err();
    assert_eq!(error, rejected("refresh", 401, "invalid_client"));
    bench.refresh(&tokens, &no_retry()).await.unwrap();

    // A setup without some cloud's client id is refused at start.
    let error = Simulator::start(Setup {
        connection_values: values(&[("tenant", "common")]),
        ..Setup::new(
            vec![load_provider(MICROSOFT)],
            Credentials::per_data_center(
                "id",
                ["global", "usgov", "china"]
                    .map(|dc| (dc.to_owned(), ClientSecret::new(per_dc_secret(dc)))),
            ),
        )
    })
    .await
    .err()
    .unwrap();
    assert_eq!(
        error.to_string(),
        "no client id for `global` (provider `microsoft`, data center `global`)"
    );
}

#[tokio::test]
async fn an_issuer_with_a_path_comes_back_as_iss_and_a_spoofed_one_is_refused() {
    let bench = microsoft(|text| {
        let anchor = "callback:\n  redirect_uri: https://api.nango.dev/oauth/callback\n";
        assert!(text.contains(anchor));
        text.replace(anchor, &format!("{anchor}  issuer_param: iss\n"))
    })
    .await;
    let pending = authorization_request(
        &bench.provider,
        "id-global",
        &AuthorizationOptions::default(),
    )
    .unwrap();
    let callback = browse_to_callback(&bench.http, pending.url.as_str(), REDIRECT_URI).await;
    let iss = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "iss")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        iss,
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    );

    // Another tenant's issuer on the same host is a mix-up: refused before any token request.
    let spoofed = with_param(
        &callback,
        "iss",
        "https://login.microsoftonline.com/common/v2.0",
    );
    let error = oauth::complete_authorization(
        &bench.http,
        &bench.provider,
        &bench.credentials,
        &pending,
        &spoofed,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, OAuthError::IssuerMismatch { .. }),
        "{error}"
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 0);

    let tokens = oauth::complete_authorization(
        &bench.http,
        &bench.provider,
        &bench.credentials,
        &pending,
        &callback,
    )
    .await
    .unwrap();
    assert_eq!(tokens.issuer, iss);
}

/// tests/fixtures/generic-idp.yaml whose token endpoint depends on a value the callback
/// carries (`from: callback`).
fn generic_with_callback_value() -> ResolvedProvider {
    let path = repo_path(GENERIC_FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap();
    let token = "  url: https://login.generic-idp.test/oauth/token\n";
    assert!(text.contains(token));
    let text = text.replace(
        token,
        "  url: https://login.generic-idp.test/<region>/oauth/token\n",
    );
    let text = format!(
        "{text}\nconnection:\n  runtime:\n    region:\n      from: callback\n      description: The region the user's account lives in.\n      pattern: '^[a-z]+$'\n"
    );
    load_provider_text(&path, &text)
}

#[tokio::test]
async fn a_value_the_callback_carries_leads_the_token_request_to_its_url() {
    let bench = shared_client_bench(generic_with_callback_value()).await;
    let (pending, callback) = bench.authorize().await;
    let region = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "region")
        .map(|(_, v)| v.into_owned());
    assert_eq!(region.as_deref(), Some("default"));
    let tokens = bench.complete(&pending, &callback).await.unwrap();
    assert_eq!(tokens.metadata["region"], json!("default"));
    let exchange = bench.sim.requests().pop().unwrap();
    assert_eq!(exchange.path, "/default/oauth/token");
    assert_eq!(
        exchange
            .outcome
            .as_deref()
            .map(|o| o.starts_with("tokens issued")),
        Some(true)
    );
}
