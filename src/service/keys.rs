//! The encryption keys against the stored rows: a start with keys that open none of the
//! stored connections is refused (every new connection would be sealed under a key the old
//! rows do not share, and every old one would answer `cannot_decrypt`), and [`reseal`]
//! re-seals the rows still sealed under a previous key with the current one, so a retired
//! key can be dropped from `PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS` without losing a row.
//!
//! Pending sessions are not re-sealed: they live ten minutes, so a previous key can be dropped
//! ten minutes after the re-seal.

use std::collections::BTreeSet;

use super::crypto::Cipher;
use super::store::{DatabaseError, Store, Walk};
use super::tokens::{open, seal};

/// Why the configured keys cannot be used with this database.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// Rows exist and none opens with any configured key.
    #[error(
        "none of the {rows} stored connections opens with the configured encryption keys (they were sealed with key id {sealed_with}; the configured keys are {configured}): start with the key they were sealed with in PROVIDER_FORGE_ENCRYPTION_KEY, or in PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS during a rotation"
    )]
    NoRowOpens {
        /// How many rows were tried.
        rows: usize,
        /// The key ids the rows name, comma-separated.
        sealed_with: String,
        /// The configured key ids, comma-separated.
        configured: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] DatabaseError),
}

/// Connections read at a time by the check and the re-seal, which walk the whole table.
const PAGE: u32 = 500;

/// Checks that the configured keys open the stored connections: fine when there are none or
/// when at least one opens (a row sealed with a dropped key is reported when it is used).
/// Reads a page at a time and stops at the first row that opens, so a start with the right
/// key reads one page however many connections are stored.
pub async fn check(store: &dyn Store, cipher: &Cipher) -> Result<(), KeyCheckError> {
    let mut walk = Walk::new(store, Default::default(), PAGE);
    let (mut rows, mut sealed_with) = (0, BTreeSet::new());
    while let Some(page) = walk.next_page().await? {
        if page.iter().any(|row| open(cipher, row).is_ok()) {
            return Ok(());
        }
        rows += page.len();
        sealed_with.extend(page.into_iter().map(|row| row.tokens.key_id));
    }
    if rows == 0 {
        return Ok(());
    }
    Err(KeyCheckError::NoRowOpens {
        rows,
        sealed_with: sealed_with.into_iter().collect::<Vec<_>>().join(", "),
        configured: cipher.key_ids().join(", "),
    })
}

/// What [`reseal`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Resealed {
    /// Rows re-sealed with the current key.
    pub resealed: usize,
    /// Rows already sealed with it (or rewritten by a refresh meanwhile, which seals with it).
    pub current: usize,
    /// Rows no configured key opens: their key is still needed, or they are lost.
    pub unopenable: Vec<(String, String)>,
}

/// Re-seals every connection still sealed under a previous key with the current one. A row
/// refreshed or replaced meanwhile is left as it is (its new write used the current key).
pub async fn reseal(store: &dyn Store, cipher: &Cipher) -> Result<Resealed, DatabaseError> {
    let mut report = Resealed::default();
    let mut walk = Walk::new(store, Default::default(), PAGE);
    while let Some(page) = walk.next_page().await? {
        reseal_page(store, cipher, page, &mut report).await?;
    }
    Ok(report)
}

async fn reseal_page(
    store: &dyn Store,
    cipher: &Cipher,
    page: Vec<super::store::ConnectionRecord>,
    report: &mut Resealed,
) -> Result<(), DatabaseError> {
    for row in page {
        if row.tokens.key_id == cipher.current_key_id() {
            report.current += 1;
            continue;
        }
        let Ok((tokens, secrets)) = open(cipher, &row) else {
            report
                .unopenable
                .push((row.provider.clone(), row.connection_id.clone()));
            continue;
        };
        let sealed = seal(
            cipher,
            &row.provider,
            &row.connection_id,
            tokens.as_ref(),
            &secrets,
        );
        if store
            .reseal_connection(&row.provider, &row.connection_id, row.generation, &sealed)
            .await?
        {
            report.resealed += 1;
        } else {
            report.current += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{AccessToken, RefreshToken, TokenSet};
    use crate::service::crypto::EncryptionKey;
    use crate::service::refresh::apply_tokens;
    use crate::service::store::tests::{TestStore, record};

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    async fn store_rows(store: &dyn Store, cipher: &Cipher, ids: &[&str]) {
        for id in ids {
            let mut row = record("zoho-crm", id);
            apply_tokens(
                cipher,
                &mut row,
                &TokenSet {
                    access_token: AccessToken::new(format!("at-{id}")),
                    refresh_token: Some(RefreshToken::new(format!("rt-{id}"))),
                    token_type: None,
                    scope: None,
                    expires_at: None,
                    data_center: "eu".into(),
                    issuer: "https://accounts.zoho.eu".into(),
                    metadata: Default::default(),
                },
                &Default::default(),
            );
            store.upsert_connection(&row, None).await.unwrap();
        }
    }

    async fn a_wrong_key_is_refused_and_old_rows_are_resealed(test: TestStore) {
        let store = test.store.as_ref();
        check(store, &Cipher::new(key(9), vec![])).await.unwrap();
        let old = Cipher::new(key(1), vec![]);
        store_rows(store, &old, &["a", "b"]).await;

        let wrong = Cipher::new(key(2), vec![]);
        let error = check(store, &wrong).await.unwrap_err().to_string();
        assert!(
            error.contains("none of the 2 stored connections"),
            "{error}"
        );
        assert!(error.contains(key(1).id()), "{error}");

        // During a rotation the old key opens them; one row is written under the new key.
        let rotating = Cipher::new(key(2), vec![key(1)]);
        check(store, &rotating).await.unwrap();
        store_rows(store, &rotating, &["c"]).await;
        let report = reseal(store, &rotating).await.unwrap();
        assert_eq!((report.resealed, report.current), (2, 1));
        assert!(report.unopenable.is_empty());
        // The old key can go: every row opens with the new key alone, unchanged.
        let rows = store
            .connections(&Default::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        for row in rows {
            let tokens = crate::service::tokens::open_tokens(&wrong, &row).unwrap();
            let id = &row.connection_id;
            assert_eq!(tokens.refresh_token.unwrap().expose(), format!("rt-{id}"));
        }
        assert_eq!(reseal(store, &wrong).await.unwrap().resealed, 0);
        // A row no key opens is reported, not touched.
        let unrelated = Cipher::new(key(3), vec![]);
        store_rows(store, &unrelated, &["d"]).await;
        let report = reseal(store, &wrong).await.unwrap();
        assert_eq!(report.unopenable, [("zoho-crm".to_owned(), "d".to_owned())]);
        test.finish().await;
    }

    #[tokio::test]
    async fn sqlite_a_wrong_key_is_refused_and_old_rows_are_resealed() {
        a_wrong_key_is_refused_and_old_rows_are_resealed(TestStore::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres_a_wrong_key_is_refused_and_old_rows_are_resealed() {
        if let Some(test) =
            TestStore::postgres("postgres_a_wrong_key_is_refused_and_old_rows_are_resealed").await
        {
            a_wrong_key_is_refused_and_old_rows_are_resealed(test).await;
        }
    }
}
