//! Between the engine's [`TokenSet`] and a stored row: the secret half (access and refresh
//! token) is sealed, bound to its row; the rest (data center, expiry, metadata) stays in
//! clear so connections can be listed without opening anything.

use serde::{Deserialize, Serialize};

use super::crypto::{Cipher, CryptoError, Sealed};
use super::store::ConnectionRecord;
use crate::oauth::{AccessToken, RefreshToken, TokenSet};

/// The sealed part of a connection.
#[derive(Serialize, Deserialize)]
struct SecretTokens {
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
}

/// Associated data binding sealed tokens to their row.
fn token_context(provider: &str, connection_id: &str) -> Vec<u8> {
    [
        b"tokens\0",
        provider.as_bytes(),
        b"\0",
        connection_id.as_bytes(),
    ]
    .concat()
}

/// Seals a token set's secrets for the row (provider, connection_id).
pub fn seal_tokens(
    cipher: &Cipher,
    provider: &str,
    connection_id: &str,
    tokens: &TokenSet,
) -> Sealed {
    let secret = SecretTokens {
        access_token: tokens.access_token.clone(),
        refresh_token: tokens.refresh_token.clone(),
    };
    let plaintext = serde_json::to_vec(&secret).expect("two strings always serialise");
    cipher.seal(&token_context(provider, connection_id), &plaintext)
}

/// Opens a record's tokens into the engine's token set.
pub fn open_tokens(cipher: &Cipher, record: &ConnectionRecord) -> Result<TokenSet, CryptoError> {
    let plaintext = cipher.open(
        &token_context(&record.provider, &record.connection_id),
        &record.tokens,
    )?;
    let secret: SecretTokens =
        serde_json::from_slice(&plaintext).map_err(|_| CryptoError::Tampered)?;
    Ok(TokenSet {
        access_token: secret.access_token,
        refresh_token: secret.refresh_token,
        token_type: record.token_type.clone(),
        scope: record.granted_scope.clone(),
        expires_at: record.expires_at.map(|at| at.max(0) as u64),
        data_center: record.data_center.clone(),
        issuer: record.issuer.clone(),
        metadata: record.metadata.clone(),
    })
}

/// Associated data binding a sealed pending authorization to its state hash.
pub fn pending_context(state_hash: &str) -> Vec<u8> {
    [b"pending\0", state_hash.as_bytes()].concat()
}
