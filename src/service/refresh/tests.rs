//! The coordination logic with a fake token endpoint: how many refreshes reach it, what
//! every caller gets, and what is stored after each kind of failure.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::oauth::AccessToken;
use crate::oauth::RefreshToken;
use crate::service::crypto::EncryptionKey;
use crate::service::store::tests::{TestStore, record};

fn cipher() -> Cipher {
    Cipher::new(EncryptionKey::from_bytes([3; 32]), vec![])
}

fn token_set(access: &str, refresh: &str, expires_at: u64) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new(refresh)),
        token_type: Some("Bearer".into()),
        scope: None,
        expires_at: Some(expires_at),
        data_center: "eu".into(),
        issuer: "https://accounts.zoho.eu".into(),
        metadata: Default::default(),
    }
}

/// Stores connection `c1` holding `tokens`.
async fn connect(store: &dyn Store, cipher: &Cipher, tokens: &TokenSet) {
    let mut row = record("zoho-crm", "c1");
    apply_tokens(cipher, &mut row, tokens);
    store.upsert_connection(&row).await.unwrap();
}

const KEY: (&str, &str) = ("zoho-crm", "c1");

/// A fake token endpoint: counts calls, answers after a pause (so callers pile up), rotates
/// the refresh token.
struct FakeEndpoint {
    calls: AtomicUsize,
}

impl FakeEndpoint {
    async fn refresh(&self, old: TokenSet) -> Result<TokenSet, OAuthError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(old.refresh_token.as_ref().unwrap().expose(), "rt-0");
        Ok(token_set(
            &format!("at-{n}"),
            &format!("rt-{n}"),
            unix_now() + 3600,
        ))
    }
}

async fn concurrent_callers_share_one_refresh(test: TestStore) {
    let cipher = Arc::new(cipher());
    let gates = Arc::new(Gates::default());
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let endpoint = Arc::new(FakeEndpoint {
        calls: AtomicUsize::new(0),
    });
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (store, cipher, gates, endpoint) = (
            test.store.clone(),
            cipher.clone(),
            gates.clone(),
            endpoint.clone(),
        );
        callers.spawn(async move {
            fresh_tokens(
                store.as_ref(),
                &cipher,
                &gates,
                KEY,
                300,
                false,
                |_, old| async move { endpoint.refresh(old).await },
            )
            .await
            .map(|(_, tokens)| tokens.access_token.expose().to_owned())
        });
    }
    while let Some(result) = callers.join_next().await {
        assert_eq!(result.unwrap().unwrap(), "at-1");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    // The rotated refresh token was committed.
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-1");
    assert_eq!(stored.generation, 1);
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_callers_share_one_refresh() {
    concurrent_callers_share_one_refresh(TestStore::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_callers_share_one_refresh() {
    if let Some(test) = TestStore::postgres("postgres_concurrent_callers_share_one_refresh").await {
        concurrent_callers_share_one_refresh(test).await;
    }
}

#[tokio::test]
async fn a_valid_token_is_reused_and_force_refreshes_it() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let gates = Gates::default();
    connect(
        test.store.as_ref(),
        &cipher,
        &token_set("at-0", "rt-0", unix_now() + 3600),
    )
    .await;
    let endpoint = FakeEndpoint {
        calls: AtomicUsize::new(0),
    };
    let (_, tokens) = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        KEY,
        300,
        false,
        |_, old| endpoint.refresh(old),
    )
    .await
    .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-0");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 0);
    let (_, tokens) = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        KEY,
        300,
        true,
        |_, old| endpoint.refresh(old),
    )
    .await
    .unwrap();
    assert_eq!(tokens.access_token.expose(), "at-1");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    test.finish().await;
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_and_keeps_it() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let gates = Gates::default();
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let result = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        KEY,
        300,
        false,
        |_, _| async {
            Err(OAuthError::Rejected {
                endpoint: "refresh",
                status: 400,
                error: "invalid_grant".into(),
                description: None,
            })
        },
    )
    .await;
    assert!(matches!(
        result,
        Err(TokenError::ReauthorizationRequired { .. })
    ));
    let stored = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ConnectionStatus::ReauthorizationRequired);
    let opened = crate::service::tokens::open_tokens(&cipher, &stored).unwrap();
    assert_eq!(opened.refresh_token.unwrap().expose(), "rt-0");
    // Later callers are told without another refresh attempt.
    let result = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        KEY,
        300,
        false,
        |_, _| async { panic!("no refresh for a connection that needs reauthorization") },
    )
    .await;
    assert!(matches!(
        result,
        Err(TokenError::ReauthorizationRequired { .. })
    ));
    test.finish().await;
}

#[tokio::test]
async fn a_transient_failure_leaves_the_row_as_it_was() {
    let test = TestStore::sqlite().await;
    let cipher = cipher();
    let gates = Gates::default();
    connect(test.store.as_ref(), &cipher, &token_set("at-0", "rt-0", 1)).await;
    let before = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    let result = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        KEY,
        300,
        false,
        |_, _| async {
            Err(OAuthError::ServerError {
                endpoint: "refresh",
                status: 503,
            })
        },
    )
    .await;
    assert!(matches!(
        result,
        Err(TokenError::Refresh(OAuthError::ServerError { .. }))
    ));
    let after = test
        .store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    let missing = fresh_tokens(
        test.store.as_ref(),
        &cipher,
        &gates,
        ("zoho-crm", "nope"),
        300,
        false,
        |_, _| async { panic!("no refresh for a missing connection") },
    )
    .await;
    assert!(matches!(missing, Err(TokenError::NotFound { .. })));
    test.finish().await;
}
