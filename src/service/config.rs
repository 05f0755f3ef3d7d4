//! The service's configuration that is not a flag: the OAuth clients file and the two keys from
//! the environment. Everything is checked at start, all problems reported at once, so a
//! misconfigured service never starts half-working.
//!
//! The clients file (YAML), one entry per provider id:
//!
//! ```yaml
//! zoho-crm:
//!   client_id: 1000.ABC
//!   client_secret_env: ZOHO_CRM_SECRET      # or client_secret_file: /run/secrets/zoho
//!   redirect_uri: https://forge.example.com/oauth/callback   # optional
//! microsoft:                    # one app registration (id and secret) per data center
//!   data_center_client_ids:
//!     global: 00000000-0000-0000-0000-000000000001
//!     usgov: 00000000-0000-0000-0000-000000000002
//!   data_center_secrets:
//!     global: { client_secret_env: MS_GLOBAL_SECRET }
//!     usgov: { client_secret_file: /run/secrets/ms-usgov }
//! ```
//!
//! `client_id` is the id every data center shares; a provider whose data centers are separate
//! registrations (`client_id: per_data_center` in its definition) takes
//! `data_center_client_ids` instead (a `client_id` beside it is used for the data centers not
//! listed). Secrets follow the definition's `client_secret` the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::crypto::{Cipher, EncryptionKey};
use crate::catalog::Provider;
use crate::definition::types::ClientSecretMode;
use crate::oauth::{ClientSecret, Credentials};

/// Environment variable holding the API's bearer key.
pub const SECRET_KEY_ENV: &str = "PROVIDER_FORGE_SECRET_KEY";
/// Environment variable holding the token encryption key (32 bytes, base64).
pub const ENCRYPTION_KEY_ENV: &str = "PROVIDER_FORGE_ENCRYPTION_KEY";
/// Environment variable holding earlier encryption keys, comma-separated, still accepted for
/// reading during a key rotation.
pub const PREVIOUS_ENCRYPTION_KEYS_ENV: &str = "PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS";
/// Shortest accepted API key: a guessable key would expose every connection's tokens.
pub const MIN_SECRET_KEY_LEN: usize = 16;
/// Optional bearer key that opens `GET /metrics` and nothing else, so a metrics scraper holds
/// no key that hands out tokens.
pub const METRICS_KEY_ENV: &str = "PROVIDER_FORGE_METRICS_KEY";

/// Where a client secret comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretSource {
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
}

/// One provider's entry in the clients file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    client_id: Option<String>,
    #[serde(default)]
    data_center_client_ids: BTreeMap<String, String>,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    data_center_secrets: BTreeMap<String, SecretSource>,
    redirect_uri: Option<String>,
}

/// A provider's OAuth client as the service uses it.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    /// Client id and secret(s).
    pub credentials: Credentials,
    /// The redirect URI registered with the provider (the service's callback).
    pub redirect_uri: String,
}

/// Reads and checks the clients file against the loaded providers. `public_url` gives the
/// default redirect URI (`<public_url>/oauth/callback`). Every problem is returned at once.
pub fn load_clients(
    path: &Path,
    providers: &[Provider],
    public_url: &str,
) -> Result<BTreeMap<String, ProviderClient>, Vec<String>> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{where_}: {e}")])?;
    let entries: BTreeMap<String, ClientEntry> =
        serde_yaml::from_str(&text).map_err(|e| vec![format!("{where_}: {e}")])?;
    let default_redirect = format!("{}/oauth/callback", public_url.trim_end_matches('/'));
    let mut problems = Vec::new();
    let mut clients = BTreeMap::new();
    for (id, entry) in entries {
        let Some(provider) = providers.iter().find(|p| p.resolved.id == id) else {
            problems.push(format!(
                "{where_}: `{id}` is not a provider in --providers (known: {})",
                providers
                    .iter()
                    .map(|p| p.resolved.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        let resolved = &provider.resolved;
        let per_dc_ids = resolved
            .data_centers
            .iter()
            .any(|dc| dc.client_id_key.is_some());
        for code in entry.data_center_client_ids.keys() {
            if resolved.data_center(code).is_none() {
                problems.push(format!(
                    "{where_}: `{id}`: data_center_client_ids: data center `{code}` is not enabled; enabled: {}",
                    resolved.data_center_codes().join(", ")
                ));
            }
        }
        if !per_dc_ids && !entry.data_center_client_ids.is_empty() {
            problems.push(format!(
                "{where_}: `{id}` has one client id for every data center; give it as `client_id:`, not under `data_center_client_ids:`"
            ));
        }
        let client_id = match (&entry.client_id, per_dc_ids) {
            (Some(client_id), _) => client_id.clone(),
            (None, true) if !entry.data_center_client_ids.is_empty() => String::new(),
            (None, true) => {
                problems.push(format!(
                    "{where_}: `{id}` is registered separately in each data center; give the ids under `data_center_client_ids:` (e.g. `{}: CLIENT_ID`)",
                    resolved.default_data_center
                ));
                continue;
            }
            (None, false) => {
                problems.push(format!("{where_}: `{id}`: no client_id"));
                continue;
            }
        };
        let credentials = match resolved.client_secret {
            ClientSecretMode::Shared => {
                let source = SecretSource {
                    client_secret_env: entry.client_secret_env.clone(),
                    client_secret_file: entry.client_secret_file.clone(),
                };
                match read_secret(&where_.to_string(), &id, &source) {
                    Ok(secret) => Some(Credentials::shared(&client_id, secret)),
                    Err(problem) => {
                        problems.push(problem);
                        None
                    }
                }
            }
            ClientSecretMode::PerDataCenter => {
                let mut secrets = Vec::new();
                for (code, source) in &entry.data_center_secrets {
                    if resolved.data_center(code).is_none() {
                        problems.push(format!(
                            "{where_}: `{id}`: data center `{code}` is not enabled; enabled: {}",
                            resolved.data_center_codes().join(", ")
                        ));
                        continue;
                    }
                    match read_secret(&where_.to_string(), &format!("{id}.{code}"), source) {
                        Ok(secret) => secrets.push((code.clone(), secret)),
                        Err(problem) => problems.push(problem),
                    }
                }
                if entry.data_center_secrets.is_empty() {
                    problems.push(format!(
                        "{where_}: `{id}` has one client secret per data center; give them under `data_center_secrets:` (e.g. `eu: {{ client_secret_env: NAME }}`)"
                    ));
                }
                Some(Credentials::per_data_center(&client_id, secrets))
            }
        };
        let redirect_uri = entry
            .redirect_uri
            .clone()
            .unwrap_or_else(|| default_redirect.clone());
        if let Err(e) = url::Url::parse(&redirect_uri) {
            problems.push(format!(
                "{where_}: `{id}`: redirect_uri `{redirect_uri}` is not a URL: {e}"
            ));
        }
        // Data centers listed get their own id; the others keep `client_id` (when given).
        let credentials = credentials.map(|credentials| {
            resolved
                .data_centers
                .iter()
                .filter_map(|dc| dc.client_id_key.as_ref().map(|key| (key, &dc.code)))
                .fold(credentials, |credentials, (key, code)| {
                    match entry
                        .data_center_client_ids
                        .get(code)
                        .or(entry.client_id.as_ref())
                    {
                        Some(client_id) => credentials.with_client_id_for(key, client_id),
                        None => credentials,
                    }
                })
        });
        if let Some(credentials) = credentials {
            clients.insert(
                id,
                ProviderClient {
                    credentials,
                    redirect_uri,
                },
            );
        }
    }
    if problems.is_empty() {
        Ok(clients)
    } else {
        Err(problems)
    }
}

/// Reads one secret from the variable or file its entry names (exactly one of them).
fn read_secret(file: &str, what: &str, source: &SecretSource) -> Result<ClientSecret, String> {
    let value = match (&source.client_secret_env, &source.client_secret_file) {
        (Some(name), None) => std::env::var(name).map_err(|_| {
            format!("{file}: `{what}`: environment variable {name} (client_secret_env) is not set")
        })?,
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{file}: `{what}`: cannot read client_secret_file {}: {e}",
                path.display()
            )
        })?,
        (Some(_), Some(_)) => {
            return Err(format!(
                "{file}: `{what}`: give client_secret_env or client_secret_file, not both"
            ));
        }
        (None, None) => {
            return Err(format!(
                "{file}: `{what}`: no client secret; add client_secret_env: NAME or client_secret_file: PATH"
            ));
        }
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("{file}: `{what}`: the client secret is empty"));
    }
    Ok(ClientSecret::new(value))
}

/// The API's bearer key. Only its SHA-256 is kept, and requests are compared against it in
/// constant time, so neither the key nor its length leaks through timing.
#[derive(Clone)]
pub struct ApiKey {
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl ApiKey {
    /// A key of at least [`MIN_SECRET_KEY_LEN`] characters.
    pub fn new(key: &str) -> Result<Self, String> {
        if key.len() < MIN_SECRET_KEY_LEN {
            return Err(format!(
                "{SECRET_KEY_ENV} must be at least {MIN_SECRET_KEY_LEN} characters (e.g. `openssl rand -hex 32`)"
            ));
        }
        Ok(Self {
            digest: Sha256::digest(key.as_bytes()).into(),
        })
    }

    /// Whether `presented` is the key (constant time).
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

/// Reads the scrape-only key of `GET /metrics` from [`METRICS_KEY_ENV`], when it is set.
pub fn metrics_key_from_env() -> Result<Option<ApiKey>, String> {
    match std::env::var(METRICS_KEY_ENV) {
        Ok(key) if key.len() < MIN_SECRET_KEY_LEN => Err(format!(
            "{METRICS_KEY_ENV} must be at least {MIN_SECRET_KEY_LEN} characters (e.g. `openssl rand -hex 32`)"
        )),
        Ok(key) => ApiKey::new(&key).map(Some),
        Err(_) => Ok(None),
    }
}

/// Reads the API key and the encryption keys from the environment; every missing or bad key
/// is reported.
pub fn keys_from_env() -> Result<(ApiKey, Cipher), Vec<String>> {
    let mut problems = Vec::new();
    let api_key = match std::env::var(SECRET_KEY_ENV) {
        Ok(key) => ApiKey::new(&key).map_err(|e| problems.push(e)).ok(),
        Err(_) => {
            problems.push(format!(
                "{SECRET_KEY_ENV} is not set: it is the bearer key API clients must send (e.g. `export {SECRET_KEY_ENV}=$(openssl rand -hex 32)`)"
            ));
            None
        }
    };
    let current = match std::env::var(ENCRYPTION_KEY_ENV) {
        Ok(text) => EncryptionKey::from_base64(&text)
            .map_err(|e| problems.push(format!("{ENCRYPTION_KEY_ENV}: {e}")))
            .ok(),
        Err(_) => {
            problems.push(format!(
                "{ENCRYPTION_KEY_ENV} is not set: tokens are encrypted at rest with it; create one with `openssl rand -base64 32` and keep it (losing it loses every stored connection)"
            ));
            None
        }
    };
    let mut previous = Vec::new();
    if let Ok(list) = std::env::var(PREVIOUS_ENCRYPTION_KEYS_ENV) {
        for (index, text) in list.split(',').filter(|t| !t.trim().is_empty()).enumerate() {
            match EncryptionKey::from_base64(text) {
                Ok(key) => previous.push(key),
                Err(e) => problems.push(format!(
                    "{PREVIOUS_ENCRYPTION_KEYS_ENV}, key {}: {e}",
                    index + 1
                )),
            }
        }
    }
    match (api_key, current) {
        (Some(api_key), Some(current)) if problems.is_empty() => {
            Ok((api_key, Cipher::new(current, previous)))
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_matches_only_itself() {
        let key = ApiKey::new("0123456789abcdef-key").unwrap();
        assert!(key.matches("0123456789abcdef-key"));
        assert!(!key.matches("0123456789abcdef-kez"));
        assert!(!key.matches(""));
        assert!(ApiKey::new("short").unwrap_err().contains("at least 16"));
        assert!(!format!("{key:?}").contains("0123"));
    }

    fn providers() -> Vec<Provider> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("providers");
        let catalog =
            crate::catalog::load(&[root.join("gitlab.yaml"), root.join("zoho-crm.yaml")]).unwrap();
        assert!(catalog.is_valid());
        catalog.providers
    }

    #[test]
    fn clients_file_problems_are_all_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.yaml");
        std::fs::write(
            &path,
            "gitlab:\n  client_id: a\n  client_secret_env: PF_TEST_UNSET_SECRET_VAR\n\
             nope:\n  client_id: b\n  client_secret_env: X\n\
             zoho-crm:\n  client_id: c\n",
        )
        .unwrap();
        let problems = load_clients(&path, &providers(), "https://forge.example").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("PF_TEST_UNSET_SECRET_VAR"));
        assert!(problems[1].contains("`nope` is not a provider"));
        assert!(problems[2].contains("no client secret"));
    }

    #[test]
    fn a_client_reads_its_secret_file_and_defaults_its_redirect_uri() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "file-secret\n").unwrap();
        let path = dir.path().join("clients.yaml");
        std::fs::write(
            &path,
            format!(
                "gitlab:\n  client_id: a\n  client_secret_file: {}\n",
                secret.display()
            ),
        )
        .unwrap();
        let clients = load_clients(&path, &providers(), "https://forge.example/").unwrap();
        let gitlab = &clients["gitlab"];
        assert_eq!(gitlab.redirect_uri, "https://forge.example/oauth/callback");
        assert_eq!(gitlab.credentials.client_id, "a");
    }
}
