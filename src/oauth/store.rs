//! The token file written by `connect` and rewritten by `refresh`: JSON with the standard
//! OAuth field names at the top level, readable only by its owner (mode 0600), replaced
//! atomically so a crash never leaves half a file.
//!
//! This is the one place where secrets are written out on purpose, so it is the one place
//! that calls `expose()` for storage.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::secret::{AccessToken, RefreshToken};
use super::token::TokenSet;

/// A connection as stored: which provider and client, and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConnection {
    /// Provider id (checked against the definition on refresh and revoke).
    pub provider: String,
    /// The client id the tokens were issued to.
    pub client_id: String,
    /// The tokens.
    pub tokens: TokenSet,
}

/// Why a token file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a token file (the message never quotes its content).
    #[error("{path}: not a provider-forge token file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
struct TokenFile {
    provider: String,
    client_id: String,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    data_center: String,
    issuer: String,
    /// Declared response metadata (e.g. `api_domain`), at the top level.
    #[serde(flatten)]
    metadata: IndexMap<String, Value>,
}

impl StoredConnection {
    /// The file's JSON text (contains the secrets).
    pub fn to_json(&self) -> String {
        let tokens = &self.tokens;
        let file = TokenFile {
            provider: self.provider.clone(),
            client_id: self.client_id.clone(),
            access_token: tokens.access_token.expose().to_owned(),
            refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            token_type: tokens.token_type.clone(),
            scope: tokens.scope.clone(),
            expires_at: tokens.expires_at,
            data_center: tokens.data_center.clone(),
            issuer: tokens.issuer.clone(),
            metadata: tokens.metadata.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("plain data serializes");
        text.push('\n');
        text
    }

    /// Reads a token file.
    pub fn read(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: TokenFile = serde_json::from_str(&text).map_err(|e| StoreError::Invalid {
            path: path.to_path_buf(),
            // Only the position: serde's message could quote a value, i.e. a token.
            reason: format!("invalid JSON or missing field near line {}", e.line()),
        })?;
        Ok(Self {
            provider: file.provider,
            client_id: file.client_id,
            tokens: TokenSet {
                access_token: AccessToken::new(file.access_token),
                refresh_token: file.refresh_token.map(RefreshToken::new),
                token_type: file.token_type,
                scope: file.scope,
                expires_at: file.expires_at,
                data_center: file.data_center,
                issuer: file.issuer,
                metadata: file.metadata,
            },
        })
    }

    /// Writes the file atomically (a temporary file in the same directory, then a rename)
    /// with mode 0600 from the start.
    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        let io_error = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // tempfile creates its files with mode 0600 on Unix.
        let mut file = tempfile::Builder::new()
            .prefix(".provider-forge-tokens")
            .tempfile_in(dir)
            .map_err(io_error)?;
        file.write_all(self.to_json().as_bytes())
            .map_err(io_error)?;
        file.as_file().sync_all().map_err(io_error)?;
        file.persist(path).map_err(|e| io_error(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_written_file_is_private_and_reads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let stored = StoredConnection {
            provider: "zoho-crm".into(),
            client_id: "1000.ID".into(),
            tokens: TokenSet {
                access_token: AccessToken::new("at-1"),
                refresh_token: Some(RefreshToken::new("rt-1")),
                token_type: Some("Bearer".into()),
                scope: Some("a,b".into()),
                expires_at: Some(1_800_000_000),
                data_center: "eu".into(),
                issuer: "https://accounts.zoho.eu".into(),
                metadata: IndexMap::from([(
                    "api_domain".to_owned(),
                    Value::String("https://www.zohoapis.eu".into()),
                )]),
            },
        };
        stored.write(&path).unwrap();
        stored.write(&path).unwrap(); // replacing an existing file works too
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["access_token"], "at-1");
        assert_eq!(json["api_domain"], "https://www.zohoapis.eu");
        assert_eq!(StoredConnection::read(&path).unwrap(), stored);
        // Only the token file is left: the temporary file was renamed, not copied.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_invalid_file_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, r#"{"access_token": "leaky-secret"}"#).unwrap();
        let error = StoredConnection::read(&path).unwrap_err().to_string();
        assert!(error.contains("not a provider-forge token file"), "{error}");
        assert!(!error.contains("leaky-secret"), "{error}");
    }
}
