//! Encryption at rest: every token set and pending authorization is sealed with AES-256-GCM
//! before it reaches the database, so a copied database file or a leaked backup holds no
//! usable token.
//!
//! A sealed value is `nonce (12 bytes) || ciphertext+tag`, stored beside the id of the key that
//! sealed it. The associated data binds it to its row (`provider`, `connection_id`, what it
//! is), so a ciphertext copied onto another row does not open. Key ids are derived from the
//! key (a SHA-256 prefix), so rotation needs no bookkeeping: start with the new key as
//! `PROVIDER_FORGE_ENCRYPTION_KEY` and the old one in `PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS`;
//! rows sealed with the old key still open and are re-sealed with the new one on their next
//! write.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Length of an AES-GCM nonce.
const NONCE_LEN: usize = 12;

/// A 256-bit encryption key. `Debug` never shows it.
#[derive(Clone)]
pub struct EncryptionKey {
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EncryptionKey(id {})", self.id)
    }
}

/// Why a key or a sealed value was refused. Never carries key or plaintext bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key text is not base64 of exactly 32 bytes.
    #[error(
        "the encryption key must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`): {0}"
    )]
    BadKey(String),
    /// A row was sealed with a key that is not configured.
    #[error(
        "a stored value was sealed with key `{0}`, which is not configured; add it to PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS"
    )]
    UnknownKey(String),
    /// Decryption failed: the value was altered, moved to another row, or the key is wrong.
    #[error("a stored value failed authentication (altered, moved to another row, or wrong key)")]
    Tampered,
}

impl EncryptionKey {
    /// Parses base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| CryptoError::BadKey("not valid base64".into()))?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            CryptoError::BadKey(format!("it decodes to {} bytes, not 32", bytes.len()))
        })?;
        Ok(Self::from_bytes(key))
    }

    /// A key from raw bytes.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let digest = Sha256::new()
            .chain_update(b"provider-forge key id\0")
            .chain_update(key)
            .finalize();
        let id = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Self { id, key }
    }

    /// The key's id, stored with every row it seals (not secret: a hash prefix).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A sealed value and the id of the key that sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Id of the sealing key.
    pub key_id: String,
    /// `nonce || ciphertext+tag`.
    pub bytes: Vec<u8>,
}

/// Seals with the current key; opens with the current or any previous key.
#[derive(Debug, Clone)]
pub struct Cipher {
    current: EncryptionKey,
    previous: Vec<EncryptionKey>,
}

impl Cipher {
    /// A cipher sealing with `current` and still opening rows sealed with `previous` keys.
    pub fn new(current: EncryptionKey, previous: Vec<EncryptionKey>) -> Self {
        Self { current, previous }
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// The ids of every configured key, the current one first.
    pub fn key_ids(&self) -> Vec<&str> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| key.id.as_str())
            .collect()
    }

    /// Encrypts `plaintext` for the row described by `context`.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> Sealed {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.current.key));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.current.id.clone(),
            bytes,
        }
    }

    /// Decrypts a value sealed for the row described by `context`.
    pub fn open(&self, context: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.bytes.len() < NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.key))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    #[test]
    fn sealed_values_open_only_for_their_row() {
        let cipher = Cipher::new(key(1), vec![]);
        let sealed = cipher.seal(b"zoho-crm\0c1", b"token-value");
        assert!(
            !sealed
                .bytes
                .windows(b"token-value".len())
                .any(|w| w == b"token-value")
        );
        assert_eq!(
            cipher.open(b"zoho-crm\0c1", &sealed).unwrap(),
            b"token-value"
        );
        assert_eq!(
            cipher.open(b"zoho-crm\0c2", &sealed),
            Err(CryptoError::Tampered)
        );
        let mut altered = sealed.clone();
        *altered.bytes.last_mut().unwrap() ^= 1;
        assert_eq!(
            cipher.open(b"zoho-crm\0c1", &altered),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn rotation_opens_old_rows_and_seals_with_the_new_key() {
        let old = Cipher::new(key(1), vec![]);
        let sealed = old.seal(b"row", b"secret");
        let rotated = Cipher::new(key(2), vec![key(1)]);
        assert_eq!(rotated.open(b"row", &sealed).unwrap(), b"secret");
        assert_eq!(rotated.seal(b"row", b"x").key_id, key(2).id());
        let forgot = Cipher::new(key(2), vec![]);
        assert_eq!(
            forgot.open(b"row", &sealed),
            Err(CryptoError::UnknownKey(key(1).id().to_owned()))
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let good = STANDARD.encode([7u8; 32]);
        assert_eq!(EncryptionKey::from_base64(&good).unwrap().id(), key(7).id());
        assert!(matches!(
            EncryptionKey::from_base64(&STANDARD.encode([7u8; 16])),
            Err(CryptoError::BadKey(message)) if message.contains("16 bytes")
        ));
        assert!(EncryptionKey::from_base64("not base64 !!").is_err());
        assert!(!format!("{:?}", key(7)).contains("7, 7"));
    }
}
