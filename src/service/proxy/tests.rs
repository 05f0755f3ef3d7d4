//! The hot path against a real store: a hot connection's call reads no row and opens no sealed
//! value, and a change to the connection is the end of that.

use std::collections::BTreeMap;

use super::*;
use crate::oauth::{AccessToken, ClientSecret, Credentials, RefreshToken, TokenSet};
use crate::service::config::ProviderClient;
use crate::service::crypto::{Cipher, EncryptionKey};
use crate::service::refresh::apply_tokens;
use crate::service::store::tests::record;
use crate::service::store::{SqliteStore, Store};

fn zoho_crm() -> crate::resolve::table::ResolvedProvider {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
    let catalog = crate::catalog::load(&[root.join("zoho-crm.yaml")]).unwrap();
    catalog.providers.into_iter().next().unwrap().resolved
}

fn tokens(access: &str) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new("refresh")),
        token_type: Some("Bearer".into()),
        scope: None,
        expires_at: Some(unix_now() + 3600),
        data_center: "eu".into(),
        issuer: "https://accounts.zoho.eu".into(),
        metadata: Default::default(),
    }
}

fn call<'a>(service: &'a Service) -> Call<'a> {
    Call {
        service,
        provider: "zoho-crm",
        connection_id: "c1",
        attempts: 0,
        host: None,
    }
}

fn authorization(prepared: &Prepared) -> &HeaderValue {
    &prepared
        .headers
        .iter()
        .find(|(name, _)| name == "authorization")
        .unwrap()
        .1
}

#[tokio::test]
async fn a_hot_connection_reads_no_row_until_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hot.db").display());
    let sqlite = SqliteStore::open(&url).await.unwrap();
    let pool = sqlite.pool().clone();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let cipher = Cipher::new(EncryptionKey::from_bytes([5; 32]), vec![]);
    let mut row = record("zoho-crm", "c1");
    row.params.clear();
    row.environment = Some("production".into());
    apply_tokens(&cipher, &mut row, &tokens("first"), &Default::default());
    store.upsert_connection(&row, None).await.unwrap();
    let client = ProviderClient {
        credentials: Credentials::shared("id", ClientSecret::new("secret")),
        redirect_uri: "https://forge.example.com/oauth/callback".into(),
    };
    let service = Service::new(
        Arc::clone(&store),
        cipher,
        [zoho_crm()],
        BTreeMap::from([("zoho-crm".to_owned(), client)]),
        &crate::oauth::http::HttpOptions::default(),
    )
    .unwrap();
    store.watch(service.proxy.cache.clone());

    let cold = call(&service)
        .prepared(None, Renew::IfExpiring)
        .await
        .unwrap();
    assert_eq!(authorization(&cold), "Zoho-oauthtoken first");
    assert_eq!(&**cold.base.host(), "www.zohoapis.eu");
    // Behind the store's back, the row becomes unreadable: a call that read or opened it
    // would fail.
    sqlx::query("UPDATE connections SET sealed = x'00', key_id = 'gone'")
        .execute(&pool)
        .await
        .unwrap();
    for _ in 0..3 {
        let hot = call(&service)
            .prepared(None, Renew::IfExpiring)
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&hot, &cold), "served from memory");
    }
    // Another environment is another entry, read once.
    let sandbox = call(&service)
        .prepared(Some("sandbox"), Renew::IfExpiring)
        .await;
    assert!(sandbox.is_err(), "read from the unreadable row");

    // A change through the store ends it: the next call reads the row again.
    row.generation = store
        .connection("zoho-crm", "c1")
        .await
        .unwrap()
        .unwrap()
        .generation;
    assert!(
        store
            .delete_connection("zoho-crm", "c1", row.generation, None)
            .await
            .unwrap()
    );
    let gone = call(&service).prepared(None, Renew::IfExpiring).await;
    let Err(ProxyError::Service(error)) = gone else {
        panic!("a deleted connection is not found: {:?}", gone.err());
    };
    assert!(
        matches!(
            *error,
            ServiceError::Token(crate::service::refresh::TokenError::NotFound { .. })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_not_served_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("expiring.db").display());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
    let cipher = Cipher::new(EncryptionKey::from_bytes([5; 32]), vec![]);
    let mut row = record("zoho-crm", "c1");
    row.params.clear();
    let mut expiring = tokens("old");
    expiring.refresh_token = None;
    expiring.expires_at = Some(unix_now() + 60);
    apply_tokens(&cipher, &mut row, &expiring, &Default::default());
    store.upsert_connection(&row, None).await.unwrap();
    let client = ProviderClient {
        credentials: Credentials::shared("id", ClientSecret::new("secret")),
        redirect_uri: "https://forge.example.com/oauth/callback".into(),
    };
    let service = Service::new(
        Arc::clone(&store),
        cipher,
        [zoho_crm()],
        BTreeMap::from([("zoho-crm".to_owned(), client)]),
        &crate::oauth::http::HttpOptions::default(),
    )
    .unwrap();
    store.watch(service.proxy.cache.clone());
    let first = call(&service)
        .prepared(None, Renew::IfExpiring)
        .await
        .unwrap();
    let second = call(&service)
        .prepared(None, Renew::IfExpiring)
        .await
        .unwrap();
    assert!(
        !Arc::ptr_eq(&first, &second),
        "within the refresh margin every call goes to the store, which renews"
    );
}
