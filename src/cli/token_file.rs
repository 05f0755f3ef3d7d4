//! The token file written by `connect` and rewritten by `refresh`: JSON with the standard
//! OAuth field names at the top level, readable only by its owner (mode 0600), replaced
//! atomically so a crash never leaves half a file.
//!
//! Two kinds of connection share the file: one that holds tokens ([`StoredConnection`]:
//! `oauth2_code`, `client_credentials`, and `token_request`, which also keeps the credentials
//! its request is run again with) and one that holds only credentials
//! ([`CredentialConnection`]: `api_key`, `basic`). [`ConnectionFile`] reads either.
//!
//! This is the one place where secrets are written out on purpose, so it is the one place
//! that calls `expose()` for storage.
//!
//! A token file is trusted only when it is private: a file others can read (mode wider than
//! 0600), or a symbolic link (whose target a rewrite would silently replace), is refused with
//! the command that fixes it. [`PendingTokenFile`] creates the temporary file first, so a
//! caller can prove a location writable before it has any token to lose (`connect` does this
//! before it shows the authorization URL).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::definition::types::AuthMode;
use crate::oauth::secret::{AccessToken, CredentialSecret, RefreshToken};
use crate::oauth::token::TokenSet;

/// A connection as stored: which provider and client, and its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConnection {
    /// Provider id (checked against the definition on refresh and revoke).
    pub provider: String,
    /// The client id the tokens were issued to (empty for a `token_request`, which has no
    /// client).
    pub client_id: String,
    /// The tokens.
    pub tokens: TokenSet,
    /// The credentials a `token_request` is run again with (empty for the other modes).
    pub credentials: StoredCredentials,
}

/// A connection that holds credentials only (`api_key`, `basic`): they go on every API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialConnection {
    /// Provider id.
    pub provider: String,
    /// The provider's auth mode when the file was written.
    pub auth_mode: AuthMode,
    /// The data center the connection was made at.
    pub data_center: String,
    /// The credentials, by name as the definition declares them.
    pub credentials: StoredCredentials,
}

/// Credential values by name, each a secret: `Debug` shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredCredentials(pub IndexMap<String, CredentialSecret>);

impl StoredCredentials {
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values to fill into a request.
    pub fn values(&self) -> crate::resolve::connection::CredentialValues {
        self.0
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_owned()))
            .collect()
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .keys()
                    .map(|name| (name, crate::oauth::secret::REDACTED)),
            )
            .finish()
    }
}

/// What a token file holds: tokens, or credentials only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionFile {
    /// A connection with tokens.
    Tokens(Box<StoredConnection>),
    /// A connection with credentials only.
    Credentials(CredentialConnection),
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
    /// The file is not private to its owner, or is not a plain file: refused before reading.
    #[error("{path}: refusing to use this token file: {reason}")]
    Unsafe {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
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
    /// Absent for `oauth2_code` (files written before other modes existed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_mode: Option<AuthMode>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    client_id: String,
    /// Absent in a credentials-only file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
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
    #[serde(default, skip_serializing_if = "String::is_empty")]
    issuer: String,
    /// Credential values by name (`token_request`, `api_key`, `basic`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    credentials: IndexMap<String, String>,
    /// Declared response metadata (e.g. `api_domain`), at the top level.
    #[serde(flatten)]
    metadata: IndexMap<String, Value>,
}

fn exposed(credentials: &StoredCredentials) -> IndexMap<String, String> {
    credentials
        .0
        .iter()
        .map(|(name, value)| (name.clone(), value.expose().to_owned()))
        .collect()
}

fn sealed(credentials: IndexMap<String, String>) -> StoredCredentials {
    StoredCredentials(
        credentials
            .into_iter()
            .map(|(name, value)| (name, CredentialSecret::new(value)))
            .collect(),
    )
}

impl ConnectionFile {
    /// The provider id the file belongs to.
    pub fn provider(&self) -> &str {
        match self {
            ConnectionFile::Tokens(connection) => &connection.provider,
            ConnectionFile::Credentials(connection) => &connection.provider,
        }
    }

    /// The file's JSON text (contains the secrets).
    pub fn to_json(&self) -> String {
        let file = match self {
            ConnectionFile::Tokens(connection) => return connection.to_json(),
            ConnectionFile::Credentials(connection) => TokenFile {
                provider: connection.provider.clone(),
                auth_mode: Some(connection.auth_mode),
                client_id: String::new(),
                access_token: None,
                refresh_token: None,
                token_type: None,
                scope: None,
                expires_at: None,
                data_center: connection.data_center.clone(),
                issuer: String::new(),
                credentials: exposed(&connection.credentials),
                metadata: IndexMap::new(),
            },
        };
        let mut text = serde_json::to_string_pretty(&file).expect("plain data serializes");
        text.push('\n');
        text
    }

    /// Reads a token file of either kind, after checking that it is a plain file only its
    /// owner can read.
    pub fn read(path: &Path) -> Result<Self, StoreError> {
        let text = read_private(path)?;
        let file: TokenFile = serde_json::from_str(&text).map_err(|e| StoreError::Invalid {
            path: path.to_path_buf(),
            // Only the position: serde's message could quote a value, i.e. a token.
            reason: format!("invalid JSON or missing field near line {}", e.line()),
        })?;
        let auth_mode = file.auth_mode.unwrap_or_default();
        let Some(access_token) = file.access_token else {
            if auth_mode.has_token() {
                return Err(StoreError::Invalid {
                    path: path.to_path_buf(),
                    reason: "no `access_token`".to_owned(),
                });
            }
            return Ok(ConnectionFile::Credentials(CredentialConnection {
                provider: file.provider,
                auth_mode,
                data_center: file.data_center,
                credentials: sealed(file.credentials),
            }));
        };
        Ok(ConnectionFile::Tokens(Box::new(StoredConnection {
            provider: file.provider,
            client_id: file.client_id,
            tokens: TokenSet {
                access_token: AccessToken::new(access_token),
                refresh_token: file.refresh_token.map(RefreshToken::new),
                token_type: file.token_type,
                scope: file.scope,
                expires_at: file.expires_at,
                data_center: file.data_center,
                issuer: file.issuer,
                metadata: file.metadata,
            },
            credentials: sealed(file.credentials),
        })))
    }

    /// Writes the file atomically with mode 0600 from the start.
    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        PendingTokenFile::create(path)?.commit_file(self)
    }
}

impl StoredConnection {
    /// The file's JSON text (contains the secrets).
    pub fn to_json(&self) -> String {
        let tokens = &self.tokens;
        let file = TokenFile {
            provider: self.provider.clone(),
            auth_mode: None,
            client_id: self.client_id.clone(),
            access_token: Some(tokens.access_token.expose().to_owned()),
            refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            token_type: tokens.token_type.clone(),
            scope: tokens.scope.clone(),
            expires_at: tokens.expires_at,
            data_center: tokens.data_center.clone(),
            issuer: tokens.issuer.clone(),
            credentials: exposed(&self.credentials),
            metadata: tokens.metadata.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("plain data serializes");
        text.push('\n');
        text
    }

    /// Reads a token file, after checking that it is a plain file only its owner can read. A
    /// credentials-only file is refused: it holds no tokens.
    pub fn read(path: &Path) -> Result<Self, StoreError> {
        match ConnectionFile::read(path)? {
            ConnectionFile::Tokens(connection) => Ok(*connection),
            ConnectionFile::Credentials(connection) => Err(StoreError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "it holds `{}` credentials, not tokens; nothing to refresh or revoke",
                    connection.auth_mode.as_str()
                ),
            }),
        }
    }

    /// Writes the file atomically (a temporary file in the same directory, then a rename)
    /// with mode 0600 from the start.
    pub fn write(&self, path: &Path) -> Result<(), StoreError> {
        PendingTokenFile::create(path)?.commit(self)
    }

    /// Deletes the token file (after `revoke`: the tokens in it are dead).
    pub fn remove(path: &Path) -> Result<(), StoreError> {
        std::fs::remove_file(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A token file about to be written: its temporary file (mode 0600) already exists in the
/// target's directory, so an unwritable or missing directory, or a target that is a directory
/// or a symbolic link, fails before any token exists. Dropped without [`commit`], it leaves
/// nothing behind.
///
/// [`commit`]: PendingTokenFile::commit
#[derive(Debug)]
pub struct PendingTokenFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl PendingTokenFile {
    /// Checks the target and creates the temporary file beside it.
    pub fn create(path: &Path) -> Result<Self, StoreError> {
        let unsafe_file = |reason: String| StoreError::Unsafe {
            path: path.to_path_buf(),
            reason,
        };
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(unsafe_file(
                    "it is a directory; give a file name inside it, e.g. DIR/PROVIDER.tokens.json"
                        .to_owned(),
                ));
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(unsafe_file(symlink_reason()));
            }
            _ => {}
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // tempfile creates its files with mode 0600 on Unix.
        let temp = tempfile::Builder::new()
            .prefix(".provider-forge-tokens")
            .tempfile_in(dir)
            .map_err(|source| {
                let reason = if !dir.exists() {
                    "directory does not exist".to_owned()
                } else {
                    format!("cannot create the token file in this directory: {source}")
                };
                StoreError::Io {
                    path: dir.to_path_buf(),
                    source: io::Error::new(source.kind(), reason),
                }
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
        })
    }

    /// Writes the connection into the temporary file and renames it over the target.
    pub fn commit(self, connection: &StoredConnection) -> Result<(), StoreError> {
        self.commit_text(&connection.to_json())
    }

    /// Writes a connection file of either kind into the temporary file and renames it over
    /// the target.
    pub fn commit_file(self, file: &ConnectionFile) -> Result<(), StoreError> {
        self.commit_text(&file.to_json())
    }

    fn commit_text(mut self, text: &str) -> Result<(), StoreError> {
        let io_error = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        self.temp.write_all(text.as_bytes()).map_err(io_error)?;
        self.temp.as_file().sync_all().map_err(io_error)?;
        let path = self.path.clone();
        self.temp.persist(&path).map_err(|e| StoreError::Io {
            path,
            source: e.error,
        })?;
        Ok(())
    }
}

fn symlink_reason() -> String {
    "it is a symbolic link; point --tokens (or --out) at the file itself".to_owned()
}

/// Reads a token file that is a plain file (not a link) with no permission for group or
/// others. The checks are made on the opened file and compared with the path's own entry, so
/// a link swapped in between cannot slip through.
fn read_private(path: &Path) -> Result<String, StoreError> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let io_error = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let unsafe_file = |reason: String| StoreError::Unsafe {
        path: path.to_path_buf(),
        reason,
    };
    let entry = std::fs::symlink_metadata(path).map_err(io_error)?;
    if entry.file_type().is_symlink() {
        return Err(unsafe_file(symlink_reason()));
    }
    if !entry.is_file() {
        return Err(unsafe_file("it is not a regular file".to_owned()));
    }
    let file = std::fs::File::open(path).map_err(io_error)?;
    let opened = file.metadata().map_err(io_error)?;
    if (opened.dev(), opened.ino()) != (entry.dev(), entry.ino()) {
        return Err(unsafe_file(
            "it was replaced while being opened; try again".to_owned(),
        ));
    }
    let mode = opened.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(unsafe_file(format!(
            "its mode is {mode:04o}, so others can read the tokens; run `chmod 600 {}` (and, \
             if others may have read it, revoke and connect again)",
            path.display()
        )));
    }
    // A token file is a few kilobytes; anything far larger is not one.
    const LIMIT: u64 = 1024 * 1024;
    if opened.len() > LIMIT {
        return Err(StoreError::Invalid {
            path: path.to_path_buf(),
            reason: format!("larger than {LIMIT} bytes"),
        });
    }
    let mut text = String::new();
    file.take(LIMIT)
        .read_to_string(&mut text)
        .map_err(io_error)?;
    Ok(text)
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
            credentials: StoredCredentials::default(),
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
    fn a_credentials_file_reads_back_as_written_and_is_not_a_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("freshdesk.json");
        let file = ConnectionFile::Credentials(CredentialConnection {
            provider: "freshdesk".into(),
            auth_mode: AuthMode::Basic,
            data_center: "default".into(),
            credentials: StoredCredentials(IndexMap::from([
                ("username".to_owned(), CredentialSecret::new("key-123")),
                ("password".to_owned(), CredentialSecret::new("X")),
            ])),
        });
        file.write(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["auth_mode"], "basic");
        assert_eq!(json["credentials"]["username"], "key-123");
        assert!(json.get("access_token").is_none());
        assert_eq!(ConnectionFile::read(&path).unwrap(), file);
        assert!(!format!("{file:?}").contains("key-123"));
        let error = StoredConnection::read(&path).unwrap_err().to_string();
        assert!(error.contains("`basic` credentials, not tokens"), "{error}");
    }

    #[test]
    fn an_invalid_file_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, r#"{"access_token": "leaky-secret"}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let error = StoredConnection::read(&path).unwrap_err().to_string();
        assert!(error.contains("not a provider-forge token file"), "{error}");
        assert!(!error.contains("leaky-secret"), "{error}");
    }

    fn private_file(dir: &Path) -> PathBuf {
        let path = dir.join("tokens.json");
        sample().write(&path).unwrap();
        path
    }

    fn sample() -> StoredConnection {
        StoredConnection {
            provider: "gitlab".into(),
            client_id: "id".into(),
            tokens: TokenSet {
                access_token: AccessToken::new("at-secret"),
                refresh_token: None,
                token_type: None,
                scope: None,
                expires_at: None,
                data_center: "default".into(),
                issuer: "https://gitlab.com".into(),
                metadata: IndexMap::new(),
            },
            credentials: StoredCredentials::default(),
        }
    }

    #[test]
    fn a_token_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = private_file(dir.path());
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = StoredConnection::read(&path).unwrap_err().to_string();
            assert!(error.contains(&format!("mode is {mode:04o}")), "{error}");
            assert!(error.contains("chmod 600"), "{error}");
            assert!(!error.contains("at-secret"), "{error}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(StoredConnection::read(&path).unwrap(), sample());
    }

    #[test]
    fn a_symlinked_token_file_is_refused_for_reading_and_writing() {
        let dir = tempfile::tempdir().unwrap();
        let target = private_file(dir.path());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = StoredConnection::read(&link).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");
        let error = sample().write(&link).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link is left as it was"
        );
    }

    #[test]
    fn a_pending_file_fails_early_for_a_directory_and_leaves_nothing_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let error = PendingTokenFile::create(dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("is a directory"), "{error}");
        let missing = dir.path().join("no-such-dir/tokens.json");
        assert!(PendingTokenFile::create(&missing).is_err());
        drop(PendingTokenFile::create(&dir.path().join("tokens.json")).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
