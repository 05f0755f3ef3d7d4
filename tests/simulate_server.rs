//! The library simulator (`provider_forge::simulate`) against the engine: every fault ends in
//! the engine's documented error (src/oauth/error.rs), a code is only redeemable at the DC that
//! issued it, providers on one OAuth server share it, the authorization endpoint checks what
//! the definition asks for, and the request log never holds a secret. (A spoofed issuer is
//! refused by the engine before any token request: tests/oauth_zoho_errors.rs and, through the
//! binary, tests/cli_oauth.rs.)

use std::time::Duration;

use provider_forge::oauth::{
    self, AuthorizationOptions, OAuthError, RetryPolicy, RevokedToken, authorization_request,
};
use provider_forge::resolve::ResolvedProvider;
use serde_json::{Value, json};

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);
const GITLAB: &str = "providers/gitlab.yaml";

fn no_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::ZERO,
    }
}

/// GitLab's server (a standard one: RFC errors, PKCE, client_secret_post) with `faults`.
async fn gitlab(faults: Vec<Fault>) -> Bench {
    Bench::start(GITLAB, |setup| Setup { faults, ..setup }, TIMEOUT).await
}

#[tokio::test]
async fn without_faults_errors_are_rfc_6749s_and_with_error_with_200_they_are_zohos() {
    let bench = gitlab(vec![]).await;
    let (pending, callback) = bench.authorize().await;
    bench.complete(&pending, &callback).await.unwrap();
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(error, rejected("token", 400, "invalid_grant"));

    bench.sim.inject(Fault::ErrorWith200);
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(error, rejected("token", 200, "invalid_code"));
}

#[tokio::test]
async fn expires_in_as_a_string_is_read_as_seconds() {
    let bench = gitlab(vec![Fault::ExpiresInString]).await;
    let before = oauth::unix_now();
    let tokens = bench.connect().await;
    let after = oauth::unix_now();
    let expires_at = tokens.expires_at.expect("an expiry from the string");
    assert!(
        (before + ACCESS_TOKEN_LIFETIME_SECS..=after + ACCESS_TOKEN_LIFETIME_SECS)
            .contains(&expires_at),
        "{expires_at}"
    );
    let exchange = &bench.sim.requests()[1];
    assert_eq!(exchange.endpoint, Endpoint::Token);
}

#[tokio::test]
async fn without_a_refresh_token_refresh_is_refused_and_revoke_revokes_the_access_token() {
    let bench = gitlab(vec![Fault::NoRefreshToken]).await;
    let tokens = bench.connect().await;
    assert_eq!(tokens.refresh_token, None);
    let error = bench.refresh(&tokens, &no_retry()).await.unwrap_err();
    assert_eq!(error, OAuthError::NoRefreshToken);
    assert_eq!(bench.sim.count(Endpoint::Refresh), 0);
    let revoked = oauth::revoke(&bench.http, &bench.provider, &bench.credentials, &tokens)
        .await
        .unwrap();
    assert_eq!(revoked, RevokedToken::Access);
    assert!(bench.sim.is_revoked(tokens.access_token.expose()));
}

#[tokio::test]
async fn a_rotated_refresh_token_replaces_the_old_one_which_then_fails() {
    let bench = gitlab(vec![Fault::RotateRefreshToken]).await;
    let tokens = bench.connect().await;
    let refreshed = bench.refresh(&tokens, &no_retry()).await.unwrap();
    assert!(refreshed.refresh_token.is_some());
    assert_ne!(refreshed.refresh_token, tokens.refresh_token);
    let error = bench.refresh(&tokens, &no_retry()).await.unwrap_err();
    assert!(
        matches!(error, OAuthError::Rejected { status: 400, ref error, .. } if error == "invalid_grant"),
        "{error:?}"
    );
    bench.refresh(&refreshed, &no_retry()).await.unwrap();
}

#[tokio::test]
async fn without_rotation_a_refresh_answer_carries_no_refresh_token() {
    let bench = gitlab(vec![]).await;
    let tokens = bench.connect().await;
    bench.refresh(&tokens, &no_retry()).await.unwrap();
    let answer = bench.sim.requests().pop().unwrap();
    assert_eq!(answer.outcome.as_deref(), Some("refreshed"));
    let refreshed = bench.refresh(&tokens, &no_retry()).await.unwrap();
    assert_eq!(refreshed.refresh_token, tokens.refresh_token);
}

#[tokio::test]
async fn the_rate_limit_is_zohos_200_access_denied_after_n_refreshes() {
    let bench = gitlab(vec!["rate-limit-after:2".parse().unwrap()]).await;
    let tokens = bench.connect().await;
    let retry = RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(1),
    };
    bench.refresh(&tokens, &retry).await.unwrap();
    bench.refresh(&tokens, &retry).await.unwrap();
    let error = bench.refresh(&tokens, &retry).await.unwrap_err();
    assert!(
        matches!(
            error,
            OAuthError::RateLimited {
                endpoint: "refresh",
                ..
            }
        ),
        "{error:?}"
    );
    // A throttled refresh is not retried.
    assert_eq!(bench.sim.count(Endpoint::Refresh), 3);
}

#[tokio::test]
async fn a_slow_token_endpoint_ends_in_a_timeout_of_the_client() {
    let bench = Bench::start(
        GITLAB,
        |setup| Setup {
            faults: vec![Fault::Slow(Duration::from_secs(60))],
            ..setup
        },
        Duration::from_millis(300),
    )
    .await;
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::Timeout {
            endpoint: "token",
            host: "gitlab.com".into()
        }
    );
    // Counted on arrival, though never answered.
    assert_eq!(bench.sim.count(Endpoint::Token), 1);
    assert_eq!(bench.sim.requests()[1].outcome, None);
}

#[tokio::test]
async fn one_server_error_fails_the_exchange_and_a_refresh_retries_past_it() {
    let bench = gitlab(vec![Fault::ServerErrorOnce]).await;
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::ServerError {
            endpoint: "token",
            status: 500
        }
    );
    // The failed exchange did not burn the code.
    let tokens = bench.complete(&pending, &callback).await.unwrap();
    bench.sim.inject(Fault::ServerErrorOnce);
    let retry = RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(1),
    };
    bench.refresh(&tokens, &retry).await.unwrap();
    assert_eq!(bench.sim.count(Endpoint::Refresh), 2);
}

#[tokio::test]
async fn malformed_json_is_a_malformed_response() {
    let bench = gitlab(vec![]).await;
    let tokens = bench.connect().await;
    bench.sim.inject(Fault::MalformedJson);
    let (pending, callback) = bench.authorize().await;
    for error in [
        bench.complete(&pending, &callback).await.unwrap_err(),
        bench.refresh(&tokens, &no_retry()).await.unwrap_err(),
    ] {
        assert!(
            matches!(error, OAuthError::MalformedResponse { .. }),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_code_sent_to_another_dc_is_refused_there_and_still_good_at_home() {
    // An attacker rewrites both callback parameters consistently, so the engine's issuer check
    // passes and the code goes to the US server: that server never issued it.
    let bench = Bench::start(
        "providers/zoho-crm.yaml",
        |setup| Setup {
            user_data_center: Some("eu".into()),
            ..setup
        },
        TIMEOUT,
    )
    .await;
    let (pending, callback) = bench.authorize().await;
    let moved = with_param(
        &with_param(&callback, "location", "us"),
        "accounts-server",
        "https://accounts.zoho.com",
    );
    let error = bench.complete(&pending, &moved).await.unwrap_err();
    assert_eq!(error, rejected("token", 400, "invalid_grant"));
    assert_eq!(bench.sim.count_at("accounts.zoho.com", Endpoint::Token), 1);
    let refused = bench.sim.requests().pop().unwrap();
    assert_eq!(
        refused.outcome.as_deref(),
        Some("error invalid_grant: code issued by another data center")
    );
    let tokens = bench.complete(&pending, &callback).await.unwrap();
    assert_eq!(tokens.data_center, "eu");

    // A refresh token is just as local.
    let mut moved = tokens.clone();
    moved.data_center = "us".into();
    moved.issuer = "https://accounts.zoho.com".into();
    let error = bench.refresh(&moved, &no_retry()).await.unwrap_err();
    assert!(
        matches!(error, OAuthError::Rejected { ref error, .. } if error == "invalid_grant"),
        "{error:?}"
    );
}

fn zoho_family() -> Vec<ResolvedProvider> {
    vec![
        load_provider("providers/zoho-crm.yaml"),
        load_provider("providers/zoho-desk.yaml"),
    ]
}

#[tokio::test]
async fn providers_on_one_oauth_server_share_it_and_the_scopes_pick_the_product() {
    let sim = start(Setup {
        user_data_center: Some("eu".into()),
        ..setup(zoho_family())
    })
    .await;
    let http = oauth::http_client(&sim.http_options(TIMEOUT)).unwrap();
    let credentials = shared_credentials();
    for provider in zoho_family() {
        let pending =
            authorization_request(&provider, CLIENT_ID, &AuthorizationOptions::default()).unwrap();
        let callback = browse_to_callback(&http, pending.url.as_str(), REDIRECT_URI).await;
        let tokens =
            oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback)
                .await
                .unwrap();
        assert_eq!(tokens.issuer, "https://accounts.zoho.eu");
        let expected = match provider.id.as_str() {
            "zoho-crm" => "https://www.zohoapis.eu",
            _ => "https://desk.zoho.eu/api/v1",
        };
        assert_eq!(tokens.metadata["api_domain"], json!(expected));
    }
    // Both products' exchanges went to the one accounts server of Europe.
    assert_eq!(sim.count_at("accounts.zoho.eu", Endpoint::Token), 2);
    assert_eq!(sim.count(Endpoint::Token), 2);
}

#[tokio::test]
async fn the_authorization_endpoint_checks_what_the_definition_asks_for() {
    let provider = load_provider(GITLAB);
    let sim = start(setup(vec![provider.clone()])).await;
    let pending =
        authorization_request(&provider, CLIENT_ID, &AuthorizationOptions::default()).unwrap();
    let url = pending.url.as_str();

    // Client and redirect URI problems are a page, never a redirect.
    for (name, value) in [
        ("client_id", "someone-else"),
        ("redirect_uri", "https://evil.example/cb"),
    ] {
        let (status, location) = open(&sim, &with_param(url, name, value)).await;
        assert_eq!((status, location.as_str()), (400, ""), "{name}");
    }
    // Everything else goes back to the client as an OAuth error.
    for (name, value, error) in [
        ("scope", "read_user admin_everything", "invalid_scope"),
        ("response_type", "token", "unsupported_response_type"),
        ("code_challenge_method", "plain", "invalid_request"),
    ] {
        let (status, location) = open(&sim, &with_param(url, name, value)).await;
        assert_eq!(status, 302, "{name}");
        assert!(location.starts_with(REDIRECT_URI), "{location}");
        assert!(location.contains(&format!("error={error}")), "{location}");
        assert!(location.contains(&format!("state={}", pending.state)));
    }
    assert_eq!(sim.count(Endpoint::Authorize), 5);
    assert!(sim.issued_secrets().is_empty(), "no code for a bad request");

    // Zoho's definition asks for access_type=offline: a request without it is refused.
    let zoho = load_provider("providers/zoho-crm.yaml");
    let sim = start(setup(vec![zoho.clone()])).await;
    let pending =
        authorization_request(&zoho, CLIENT_ID, &AuthorizationOptions::default()).unwrap();
    let (_, location) = open(
        &sim,
        &with_param(pending.url.as_str(), "access_type", "online"),
    )
    .await;
    assert!(location.contains("error=invalid_request"), "{location}");
    assert!(location.contains("access_type%3Doffline"), "{location}");
}

#[tokio::test]
async fn the_entry_server_sends_a_multi_dc_user_on_with_the_same_request() {
    let provider = load_provider("providers/zoho-crm.yaml");
    let sim = start(Setup {
        user_data_center: Some("jp".into()),
        ..setup(vec![provider.clone()])
    })
    .await;
    let pending =
        authorization_request(&provider, CLIENT_ID, &AuthorizationOptions::default()).unwrap();
    let (status, location) = open(&sim, pending.url.as_str()).await;
    assert_eq!(status, 302);
    let next = url::Url::parse(&location).unwrap();
    assert_eq!(next.host_str(), Some("accounts.zoho.jp"));
    assert_eq!(next.path(), "/oauth/v2/auth");
    assert_eq!(next.query(), pending.url.query());
}

#[tokio::test]
async fn the_log_has_one_line_per_request_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let bench = Bench::start(
        "providers/zoho-crm.yaml",
        |setup| Setup {
            user_data_center: Some("eu".into()),
            log: Some(log.clone()),
            ..setup
        },
        TIMEOUT,
    )
    .await;
    let tokens = bench.connect().await;
    bench.refresh(&tokens, &no_retry()).await.unwrap();
    oauth::revoke(&bench.http, &bench.provider, &bench.credentials, &tokens)
        .await
        .unwrap();
    bench.refresh(&tokens, &no_retry()).await.unwrap_err();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary: Vec<(&str, &str, Value, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["host"].as_str().unwrap(),
                l["endpoint"].as_str().unwrap(),
                l["grant_type"].clone(),
                l["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "accounts.zoho.com",
                "authorize",
                Value::Null,
                "sent on to data center eu"
            ),
            (
                "accounts.zoho.eu",
                "authorize",
                Value::Null,
                "code issued for zoho-crm at data center eu"
            ),
            (
                "accounts.zoho.eu",
                "token",
                json!("authorization_code"),
                "tokens issued for zoho-crm at data center eu"
            ),
            (
                "accounts.zoho.eu",
                "refresh",
                json!("refresh_token"),
                "refreshed"
            ),
            (
                "accounts.zoho.eu",
                "revoke",
                Value::Null,
                "refresh token revoked"
            ),
            (
                "accounts.zoho.eu",
                "refresh",
                json!("refresh_token"),
                "error invalid_grant: refresh token revoked"
            ),
        ]
    );
    let mut secrets = bench.sim.issued_secrets();
    secrets.push(SHARED_SECRET.to_owned());
    assert!(secrets.len() >= 4);
    assert_no_secret("request log", &text, &secrets);
    // Debug output of a recorded request names parameters, never their values.
    let recorded = format!("{:?}", bench.sim.requests());
    assert!(recorded.contains("client_secret"));
    assert_no_secret("recorded requests", &recorded, &secrets);
}

#[tokio::test]
async fn a_setup_the_server_cannot_honour_is_refused_at_start() {
    let zoho = load_provider("providers/zoho-crm.yaml");
    let error = Simulator::start(Setup {
        user_data_center: Some("ae".into()),
        ..setup(vec![zoho])
    })
    .await
    .err()
    .unwrap();
    assert_eq!(
        error.to_string(),
        "data center `ae` is not enabled by any simulated provider; enabled: au, ca, cn, eu, in, jp, sa, uk, us"
    );
    let error = Simulator::start(setup(vec![zoho_per_dc()]))
        .await
        .err()
        .unwrap();
    assert_eq!(
        error.to_string(),
        "no client secret for `us` (provider `zoho-crm`, data center `us`)"
    );
}

#[tokio::test]
async fn the_token_side_takes_credentials_and_tokens_only_where_the_definition_puts_them() {
    // client_secret_basic: the secret in the form instead of the header is refused.
    let bench = Bench::start(GENERIC_FIXTURE, |setup| setup, TIMEOUT).await;
    let tokens = bench.connect().await;
    let refresh_token = tokens.refresh_token.as_ref().unwrap().expose();
    let token_url = &bench.provider.data_centers[0]
        .token
        .as_ref()
        .unwrap()
        .token_url;
    let (status, body) = post(
        &bench,
        token_url,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", SHARED_SECRET),
        ],
    )
    .await;
    assert_eq!((status, body), (401, json!({ "error": "invalid_client" })));
    // Both at once is refused too (RFC 6749 2.3: one method per request).
    let (status, _) = post(
        &bench,
        token_url,
        Some((CLIENT_ID, SHARED_SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_secret", SHARED_SECRET),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(bench.sim.count(Endpoint::Refresh), 2);

    // GitLab's revocation takes the token in the form: in the query it is not seen.
    let bench = gitlab(vec![]).await;
    let tokens = bench.connect().await;
    let refresh_token = tokens.refresh_token.as_ref().unwrap().expose();
    let revoke_url = bench.provider.data_centers[0]
        .token
        .as_ref()
        .unwrap()
        .revoke_url
        .clone()
        .unwrap();
    let in_query = with_param(&revoke_url, "token", refresh_token);
    let credentials = [("client_id", CLIENT_ID), ("client_secret", SHARED_SECRET)];
    let (status, body) = post(&bench, &in_query, None, &credentials).await;
    assert_eq!((status, body), (400, json!({ "error": "invalid_request" })));
    assert!(!bench.sim.is_revoked(refresh_token));
    // And the client must authenticate, since the definition says `client_auth: true`.
    let (status, _) = post(&bench, &revoke_url, None, &[("token", refresh_token)]).await;
    assert_eq!(status, 401);
    assert!(!bench.sim.is_revoked(refresh_token));
    let mut form = credentials.to_vec();
    form.push(("token", refresh_token));
    let (status, _) = post(&bench, &revoke_url, None, &form).await;
    assert_eq!(status, 200);
    assert!(bench.sim.is_revoked(refresh_token));
}
