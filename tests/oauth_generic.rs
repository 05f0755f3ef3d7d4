//! The same engine against a plain standard OAuth server (tests/fixtures/generic-idp.yaml):
//! no data centers, space-separated scopes, PKCE S256 verified by the server, the `iss`
//! callback parameter, client_secret_basic, refresh-token rotation, RFC 7009 revocation.

use std::time::Duration;

use provider_forge::oauth::{
    self, AuthorizationOptions, OAuthError, PkceVerifier, RetryPolicy, authorization_request,
};

use crate::support::*;

const FIXTURE: &str = "tests/fixtures/generic-idp.yaml";

/// The fixture's server, which rotates refresh tokens.
async fn bench() -> Bench {
    Bench::start(
        FIXTURE,
        |setup| Setup {
            faults: vec![Fault::RotateRefreshToken],
            ..setup
        },
        Duration::from_secs(10),
    )
    .await
}

fn options() -> AuthorizationOptions {
    AuthorizationOptions {
        scopes: vec!["openid".into(), "repo:read".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn the_generic_provider_runs_the_whole_flow() {
    let b = bench().await;
    let pending = authorization_request(&b.provider, CLIENT_ID, &options()).unwrap();
    assert_eq!(pending.url.host_str(), Some(GENERIC_HOST));
    let scope = pending
        .url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned());
    assert_eq!(scope.as_deref(), Some("openid repo:read"));
    assert!(pending.pkce_verifier.is_some());

    let callback = browse_to_callback(&b.http, pending.url.as_str(), REDIRECT_URI).await;
    assert!(callback.contains("iss="));
    let tokens =
        oauth::complete_authorization(&b.http, &b.provider, &b.credentials, &pending, &callback)
            .await
            .unwrap();
    assert_eq!(tokens.data_center, "default");
    assert_eq!(tokens.issuer, "https://login.generic-idp.test");
    assert_eq!(tokens.scope.as_deref(), Some("openid repo:read"));
    // client_secret_basic: the secret travelled in the Authorization header, not the form.
    let exchange = b
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Token)
        .unwrap();
    assert_eq!(
        exchange.basic_auth,
        Some((CLIENT_ID.to_owned(), SHARED_SECRET.to_owned()))
    );
    assert_eq!(exchange.param("client_secret"), None);

    // Rotation: the server issues a new refresh token, and the engine takes it.
    let retry = RetryPolicy::default();
    let refreshed = oauth::refresh_tokens(&b.http, &b.provider, &b.credentials, &tokens, &retry)
        .await
        .unwrap();
    assert_ne!(refreshed.refresh_token, tokens.refresh_token);
    assert!(refreshed.refresh_token.is_some());

    let new_refresh = refreshed.refresh_token.clone().unwrap();
    oauth::revoke(&b.http, &b.provider, &b.credentials, &refreshed)
        .await
        .unwrap();
    assert!(b.sim.is_revoked(new_refresh.expose()));
    let revocation = b
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Revoke)
        .unwrap();
    assert_eq!(revocation.param("token_type_hint"), Some("refresh_token"));
    assert!(revocation.basic_auth.is_some());
}

#[tokio::test]
async fn the_server_refuses_a_wrong_pkce_verifier_with_a_standard_400_error() {
    let b = bench().await;
    let mut pending = authorization_request(&b.provider, CLIENT_ID, &options()).unwrap();
    let callback = browse_to_callback(&b.http, pending.url.as_str(), REDIRECT_URI).await;
    pending.pkce_verifier = Some(PkceVerifier::new(
        "a-verifier-that-was-never-sent-0123456789",
    ));
    let error =
        oauth::complete_authorization(&b.http, &b.provider, &b.credentials, &pending, &callback)
            .await
            .unwrap_err();
    assert_eq!(error, rejected("token", 400, "invalid_grant"));
}

#[tokio::test]
async fn a_mixed_up_iss_is_refused_before_any_request() {
    let b = bench().await;
    let pending = authorization_request(&b.provider, CLIENT_ID, &options()).unwrap();
    let callback = browse_to_callback(&b.http, pending.url.as_str(), REDIRECT_URI).await;
    let spoofed = with_param(&callback, "iss", "https://accounts.zoho.com");
    let error =
        oauth::complete_authorization(&b.http, &b.provider, &b.credentials, &pending, &spoofed)
            .await
            .unwrap_err();
    assert!(matches!(error, OAuthError::IssuerMismatch { ref param, .. } if param == "iss"));
    assert_eq!(b.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_user_who_denies_consent_is_reported_as_such() {
    let b = bench().await;
    b.sim.set_consent(Consent::Deny);
    let pending = authorization_request(&b.provider, CLIENT_ID, &options()).unwrap();
    let callback = browse_to_callback(&b.http, pending.url.as_str(), REDIRECT_URI).await;
    let error =
        oauth::complete_authorization(&b.http, &b.provider, &b.credentials, &pending, &callback)
            .await
            .unwrap_err();
    assert!(matches!(error, OAuthError::UserDenied { .. }));
    assert_eq!(b.sim.count(Endpoint::Token), 0);
}
