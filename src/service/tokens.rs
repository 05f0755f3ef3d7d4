//! Between a connection's secrets and a stored row: the access and refresh tokens, the
//! credentials the connection was made with (an API key, a username and password) and, for a
//! `client_credentials` connection with a client of its own, its client id and secret are
//! sealed together, bound to the row; the rest (data center, expiry, metadata) stays in clear
//! so connections can be listed without opening anything.
//!
//! One sealed value per row, whatever the mode, so a key rotation re-seals every secret a row
//! holds at once and a refresh, which replaces the tokens, keeps the credentials beside them.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::crypto::{Cipher, CryptoError, Sealed};
use super::store::ConnectionRecord;
use crate::oauth::{AccessToken, ClientSecret, CredentialSecret, RefreshToken, TokenSet};
use crate::resolve::connection::CredentialValues;

/// A `client_credentials` connection's own OAuth client (instead of the platform's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OwnClient {
    /// The client id.
    pub(crate) client_id: String,
    /// The client secret.
    pub(crate) client_secret: ClientSecret,
}

/// What a connection supplied itself, sealed with its tokens. `Debug` shows no value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ConnectionSecrets {
    /// Credential values by declared name.
    pub(crate) credentials: IndexMap<String, CredentialSecret>,
    /// Its own OAuth client (`client_credentials`).
    pub(crate) client: Option<OwnClient>,
}

impl ConnectionSecrets {
    /// The credentials as the request fillers take them.
    pub(crate) fn credential_values(&self) -> CredentialValues {
        self.credentials
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect()
    }

    /// Every secret value, to cut out of what a provider answers.
    pub(crate) fn values(&self) -> impl Iterator<Item = &str> {
        self.credentials
            .values()
            .map(CredentialSecret::expose)
            .chain(
                self.client
                    .iter()
                    .map(|client| client.client_secret.expose()),
            )
    }
}

/// The sealed part of a connection. Rows sealed before connections held credentials have the
/// two tokens only, and read the same.
#[derive(Serialize, Deserialize)]
struct SealedSecrets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<AccessToken>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    credentials: IndexMap<String, CredentialSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client: Option<OwnClient>,
}

/// Associated data binding sealed secrets to their row.
fn token_context(provider: &str, connection_id: &str) -> Vec<u8> {
    [
        b"tokens\0",
        provider.as_bytes(),
        b"\0",
        connection_id.as_bytes(),
    ]
    .concat()
}

/// Seals a connection's tokens (when it has some) and its own secrets for the row
/// (provider, connection_id).
pub(crate) fn seal(
    cipher: &Cipher,
    provider: &str,
    connection_id: &str,
    tokens: Option<&TokenSet>,
    secrets: &ConnectionSecrets,
) -> Sealed {
    let sealed = SealedSecrets {
        access_token: tokens.map(|tokens| tokens.access_token.clone()),
        refresh_token: tokens.and_then(|tokens| tokens.refresh_token.clone()),
        credentials: secrets.credentials.clone(),
        client: secrets.client.clone(),
    };
    let plaintext = serde_json::to_vec(&sealed).expect("strings and maps always serialise");
    cipher.seal(&token_context(provider, connection_id), &plaintext)
}

/// Opens a record's sealed value: its tokens (when it holds some) and its own secrets.
pub(crate) fn open(
    cipher: &Cipher,
    record: &ConnectionRecord,
) -> Result<(Option<TokenSet>, ConnectionSecrets), CryptoError> {
    let plaintext = cipher.open(
        &token_context(&record.provider, &record.connection_id),
        &record.tokens,
    )?;
    let sealed: SealedSecrets =
        serde_json::from_slice(&plaintext).map_err(|_| CryptoError::Tampered)?;
    let tokens = sealed.access_token.map(|access_token| TokenSet {
        access_token,
        refresh_token: sealed.refresh_token,
        token_type: record.token_type.clone(),
        scope: record.granted_scope.clone(),
        expires_at: record.expires_at.map(|at| at.max(0) as u64),
        data_center: record.data_center.clone(),
        issuer: record.issuer.clone(),
        metadata: record.metadata.clone(),
    });
    let secrets = ConnectionSecrets {
        credentials: sealed.credentials,
        client: sealed.client,
    };
    Ok((tokens, secrets))
}

/// Opens a token connection's tokens into the engine's token set. A row without tokens (an
/// `api_key` or `basic` connection) does not open as one.
pub(super) fn open_tokens(
    cipher: &Cipher,
    record: &ConnectionRecord,
) -> Result<TokenSet, CryptoError> {
    open(cipher, record)?.0.ok_or(CryptoError::Tampered)
}

/// Associated data binding a sealed pending authorization to its state hash.
pub(super) fn pending_context(state_hash: &str) -> Vec<u8> {
    [b"pending\0", state_hash.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::crypto::EncryptionKey;
    use crate::service::store::tests::record;

    #[test]
    fn credentials_and_an_own_client_are_sealed_with_the_tokens_and_old_rows_still_open() {
        let cipher = Cipher::new(EncryptionKey::from_bytes([4; 32]), vec![]);
        let mut row = record("two-step", "t1");
        let secrets = ConnectionSecrets {
            credentials: IndexMap::from([(
                "password".to_owned(),
                CredentialSecret::new("pw-secret-value"),
            )]),
            client: Some(OwnClient {
                client_id: "client-1".into(),
                client_secret: ClientSecret::new("client-secret-value"),
            }),
        };
        row.tokens = seal(&cipher, &row.provider, &row.connection_id, None, &secrets);
        for secret in ["pw-secret-value", "client-secret-value", "client-1"] {
            assert!(
                !row.tokens
                    .bytes
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes()),
                "{secret} in clear"
            );
        }
        let (tokens, opened) = open(&cipher, &row).unwrap();
        assert!(tokens.is_none());
        assert_eq!(opened, secrets);
        assert!(
            !format!("{opened:?}").contains("secret-value"),
            "{opened:?}"
        );
        assert_eq!(open_tokens(&cipher, &row), Err(CryptoError::Tampered));

        // A row sealed before credentials were kept: the two tokens only.
        let old = br#"{"access_token":"at-1","refresh_token":"rt-1"}"#;
        row.tokens = cipher.seal(&token_context(&row.provider, &row.connection_id), old);
        let (tokens, opened) = open(&cipher, &row).unwrap();
        let tokens = tokens.unwrap();
        assert_eq!(tokens.access_token.expose(), "at-1");
        assert_eq!(tokens.refresh_token.unwrap().expose(), "rt-1");
        assert_eq!(opened, ConnectionSecrets::default());
    }
}
