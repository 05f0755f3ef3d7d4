//! No secret reaches an error message or Debug output: runs successful and failing flows,
//! captures every Display and Debug string the engine hands back, and scans them for every
//! secret involved (client secrets, codes, verifiers, access and refresh tokens). Also checks
//! that TLS verification is real: without the test CA the simulator is refused.

use std::time::Duration;

use provider_forge::oauth::{
    self, AuthorizationOptions, ClientSecret, Credentials, OAuthError, RetryPolicy,
    authorization_request,
};
use provider_forge::token_file::StoredConnection;

use crate::support::*;

#[tokio::test]
async fn no_secret_appears_in_any_error_or_debug_output() {
    let bench = Bench::zoho("eu", Duration::from_millis(500)).await;
    let mut captured: Vec<String> = Vec::new();
    let mut capture_error = |error: &OAuthError| {
        captured.push(error.to_string());
        captured.push(format!("{error:?}"));
    };

    // A success, and everything a caller might print about it.
    let (pending, callback) = bench.authorize().await;
    let tokens = bench.complete(&pending, &callback).await.unwrap();
    let mut debug = vec![
        format!("{pending:?}"),
        format!("{tokens:?}"),
        format!("{:?}", bench.credentials),
    ];
    let stored = StoredConnection {
        provider: "zoho-crm".into(),
        client_id: CLIENT_ID.into(),
        tokens: tokens.clone(),
        credentials: Default::default(),
    };
    debug.push(format!("{stored:?}"));

    // Failures of every kind.
    capture_error(&bench.complete(&pending, &callback).await.unwrap_err()); // replay
    let (pending2, callback2) = bench.authorize().await;
    let spoofed = with_param(&callback2, "accounts-server", "https://evil.example");
    capture_error(&bench.complete(&pending2, &spoofed).await.unwrap_err());
    capture_error(
        &bench
            .complete(&pending2, &with_param(&callback2, "state", "x"))
            .await
            .unwrap_err(),
    );
    // A server error for the exchange and one for the refresh; a broken body; a hang (an
    // answer after a minute, far past the client's timeout).
    for faults in [
        vec![Fault::ServerErrorOnce, Fault::ServerErrorOnce],
        vec![Fault::MalformedJson],
        vec![Fault::Slow(Duration::from_secs(60))],
    ] {
        bench.reset_faults();
        for fault in faults {
            bench.sim.inject(fault);
        }
        let (p, c) = bench.authorize().await;
        capture_error(&bench.complete(&p, &c).await.unwrap_err());
        let retry = RetryPolicy {
            attempts: 1,
            initial_backoff: Duration::ZERO,
        };
        let refreshed = bench.refresh(&tokens, &retry).await;
        capture_error(&refreshed.unwrap_err());
    }
    bench.reset_faults();
    let wrong = Credentials::shared(CLIENT_ID, ClientSecret::new("wrong-secret-value-77"));
    let (p, c) = bench.authorize().await;
    let error = oauth::complete_authorization(&bench.http, &bench.provider, &wrong, &p, &c)
        .await
        .unwrap_err();
    capture_error(&error);
    // Revocation with the token in the query string, against an unreachable server: the
    // transport error must not carry the URL (and with it the token).
    let unreachable = oauth::http_client(&oauth::HttpOptions {
        timeout: Duration::from_millis(500),
        resolve: vec![("accounts.zoho.eu".into(), "127.0.0.1:1".parse().unwrap())],
        extra_root_certificates: vec![bench.sim.ca_pem().as_bytes().to_vec()],
    })
    .unwrap();
    let error = oauth::revoke(&unreachable, &bench.provider, &bench.credentials, &tokens)
        .await
        .unwrap_err();
    assert!(matches!(error, OAuthError::Network { .. }), "{error:?}");
    capture_error(&error);

    let mut secrets = bench.sim.issued_secrets();
    secrets.push(SHARED_SECRET.to_owned());
    secrets.push("wrong-secret-value-77".to_owned());
    secrets.push(
        pending
            .pkce_verifier
            .as_ref()
            .map_or(String::new(), |v| v.expose().to_owned()),
    );
    secrets.retain(|s| !s.is_empty());
    assert!(
        secrets.len() >= 10,
        "the scan must have secrets to look for"
    );
    for text in captured.iter().chain(&debug) {
        assert_no_secret("engine output", text, &secrets);
    }
}

#[tokio::test]
async fn the_generic_providers_pkce_verifier_stays_out_of_debug_output() {
    let provider = load_provider("tests/fixtures/generic-idp.yaml");
    let pending =
        authorization_request(&provider, CLIENT_ID, &AuthorizationOptions::default()).unwrap();
    let verifier = pending.pkce_verifier.as_ref().unwrap().expose().to_owned();
    assert!(verifier.len() >= 43);
    assert!(!format!("{pending:?}").contains(&verifier));
}

#[tokio::test]
async fn the_simulator_is_refused_without_its_ca() {
    let bench = Bench::zoho("eu", Duration::from_secs(10)).await;
    let (pending, callback) = bench.authorize().await;
    let mut options = bench.sim.http_options(Duration::from_secs(10));
    options.extra_root_certificates.clear();
    let untrusting = oauth::http_client(&options).unwrap();
    let error = oauth::complete_authorization(
        &untrusting,
        &bench.provider,
        &bench.credentials,
        &pending,
        &callback,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, OAuthError::Network { .. }), "{error:?}");
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}
