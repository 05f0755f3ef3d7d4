//! Refresh (keeping what Zoho omits, bounded retries, single flight, the rate limit) and
//! revocation, against the simulated Zoho accounts servers.

use std::sync::Arc;
use std::time::Duration;

use provider_forge::oauth::{OAuthError, RefreshingConnection, RetryPolicy, revoke};
use serde_json::json;

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);

fn quick_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        initial_backoff: Duration::from_millis(1),
    }
}

#[tokio::test]
async fn refresh_keeps_the_refresh_token_and_metadata_zoho_omits() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    let tokens = bench.connect().await;
    let refreshed = bench.refresh(&tokens, &quick_retry(1)).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    assert_eq!(refreshed.refresh_token, tokens.refresh_token);
    assert_eq!(
        refreshed.metadata.get("api_domain"),
        Some(&json!("https://www.zohoapis.eu"))
    );
    assert_eq!(refreshed.data_center, "eu");
    assert_eq!(bench.sim.count_at("accounts.zoho.eu", Endpoint::Refresh), 1);
    // The refresh request carried the refresh token the simulator issued.
    let request = bench
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Refresh)
        .unwrap();
    assert_eq!(
        request.param("refresh_token"),
        tokens.refresh_token.as_ref().map(|t| t.expose())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_callers_on_an_expired_connection_share_one_refresh() {
    let bench = Bench::zoho("in", TIMEOUT).await;
    let mut tokens = bench.connect().await;
    let stale = tokens.access_token.clone();
    tokens.expires_at = Some(0);
    let connection = Arc::new(RefreshingConnection::new(
        bench.http.clone(),
        Arc::new(bench.provider.clone()),
        bench.credentials.clone(),
        tokens,
    ));
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let connection = connection.clone();
            tokio::spawn(async move { connection.access_token().await })
        })
        .collect();
    let mut received = Vec::new();
    for caller in callers {
        received.push(caller.await.unwrap().unwrap());
    }
    assert_eq!(bench.sim.count(Endpoint::Refresh), 1);
    assert!(received.iter().all(|token| token == &received[0]));
    assert_ne!(received[0], stale);
    // The connection now holds the fresh token: no further refresh.
    connection.access_token().await.unwrap();
    assert_eq!(bench.sim.count(Endpoint::Refresh), 1);
}

#[tokio::test]
async fn the_rate_limit_surfaces_as_a_typed_error_and_is_not_retried() {
    let bench = Bench::zoho("au", TIMEOUT).await;
    bench.sim.inject(Fault::RateLimitAfter(REFRESH_LIMIT));
    let tokens = bench.connect().await;
    let retry = quick_retry(3);
    let refresh = || bench.refresh(&tokens, &retry);
    for _ in 0..REFRESH_LIMIT {
        refresh().await.unwrap();
    }
    let error = refresh().await.unwrap_err();
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
    assert!(error.to_string().contains("too many requests"), "{error}");
    assert_eq!(
        bench.sim.count(Endpoint::Refresh),
        REFRESH_LIMIT as usize + 1
    );
    // Ten minutes later the window has passed.
    bench
        .sim
        .advance_clock(Duration::from_secs(REFRESH_WINDOW_SECS));
    refresh().await.unwrap();
}

#[tokio::test]
async fn transient_refresh_failures_are_retried_a_bounded_number_of_times() {
    let bench = Bench::zoho("jp", TIMEOUT).await;
    let tokens = bench.connect().await;
    bench.sim.inject(Fault::ServerErrorOnce);
    bench.sim.inject(Fault::ServerErrorOnce);
    bench.refresh(&tokens, &quick_retry(3)).await.unwrap();
    assert_eq!(bench.sim.count(Endpoint::Refresh), 3);

    for _ in 0..3 {
        bench.sim.inject(Fault::ServerErrorOnce);
    }
    let error = bench.refresh(&tokens, &quick_retry(3)).await.unwrap_err();
    assert!(matches!(error, OAuthError::ServerError { status: 500, .. }));
    assert_eq!(bench.sim.count(Endpoint::Refresh), 6);
}

#[tokio::test]
async fn a_rejected_refresh_is_not_retried() {
    let bench = Bench::zoho("us", TIMEOUT).await;
    let mut tokens = bench.connect().await;
    tokens.refresh_token = Some(provider_forge::oauth::RefreshToken::new("unknown"));
    let error = bench.refresh(&tokens, &quick_retry(3)).await.unwrap_err();
    assert!(matches!(error, OAuthError::Rejected { .. }), "{error:?}");
    assert_eq!(bench.sim.count(Endpoint::Refresh), 1);
}

#[tokio::test]
async fn revoke_sends_only_the_token_in_the_query_as_zoho_documents() {
    let bench = Bench::zoho("ca", TIMEOUT).await;
    let tokens = bench.connect().await;
    let refresh_token = tokens.refresh_token.clone().unwrap();
    revoke(&bench.http, &bench.provider, &bench.credentials, &tokens)
        .await
        .unwrap();
    assert!(bench.sim.is_revoked(refresh_token.expose()));
    let request = bench
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Revoke)
        .unwrap();
    assert_eq!(request.host, "accounts.zohocloud.ca");
    assert_eq!(request.param("token"), Some(refresh_token.expose()));
    assert_eq!(request.param("client_secret"), None);
    assert_eq!(request.basic_auth, None);
    // A revoked refresh token no longer refreshes.
    let error = bench.refresh(&tokens, &quick_retry(1)).await.unwrap_err();
    assert!(matches!(error, OAuthError::Rejected { .. }), "{error:?}");
}
