//! Where a connection's credentials (an API key, a username and password) come from on the
//! command line: a file of `NAME=VALUE` lines (`--credentials-file`), else one environment
//! variable per declared credential (`PROVIDER_FORGE_CREDENTIAL_<NAME>`), never a flag value,
//! which other users could read in the process list. `connect` and `simulate` read them the
//! same way, so a simulator started with the right values refuses a `connect` with wrong ones.
//!
//! Only the names the definition declares are read; whether the values are complete and match
//! their patterns is the resolved table's to say, when they are filled into a request.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::CliError;
use super::token_file::StoredCredentials;
use crate::oauth::CredentialSecret;

/// Prefix of the environment variable of each credential (`apiKey` → `..._APIKEY`).
pub(super) const CREDENTIAL_ENV_PREFIX: &str = "PROVIDER_FORGE_CREDENTIAL_";

/// The `--credentials-file` option.
#[derive(Debug, clap::Args)]
pub(super) struct CredentialArgs {
    /// File of `NAME=VALUE` lines, one per credential the definition declares (e.g.
    /// `apiKey=sk-...`; blank lines and lines starting with `#` are skipped). Without it, each
    /// credential is read from the environment variable PROVIDER_FORGE_CREDENTIAL_<NAME>
    /// (the name upper-cased, other characters as `_`: apiKey → PROVIDER_FORGE_CREDENTIAL_APIKEY).
    /// Credentials are never taken from a flag value.
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
}

/// The environment variable of credential `name`.
pub(super) fn credential_env(name: &str) -> String {
    format!(
        "{CREDENTIAL_ENV_PREFIX}{}",
        crate::env_var::env_var_name(name)
    )
}

/// Reads the values of the `declared` credentials: from the file when one is given (a name
/// the definition does not declare is an error), else from the environment. Names without a
/// value are left out.
pub(super) fn read<'a>(
    declared: impl IntoIterator<Item = &'a str>,
    args: &CredentialArgs,
) -> Result<StoredCredentials, CliError> {
    let declared: Vec<&str> = declared.into_iter().collect();
    let values = match &args.credentials_file {
        Some(path) => read_file(path, &declared)?,
        None => declared
            .iter()
            .filter_map(|name| {
                let value = std::env::var(credential_env(name)).ok()?;
                (!value.is_empty()).then(|| (name.to_string(), CredentialSecret::new(value)))
            })
            .collect(),
    };
    Ok(StoredCredentials(values))
}

fn read_file(
    path: &Path,
    declared: &[&str],
) -> Result<IndexMap<String, CredentialSecret>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut values = IndexMap::new();
    for (number, line) in text.lines().enumerate() {
        let at = || format!("{}:{}", path.display(), number + 1);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Never quote the line: it holds a secret.
        let Some((name, value)) = line.split_once('=') else {
            return Err(CliError::usage(format!("{}: expected NAME=VALUE", at())));
        };
        let name = name.trim();
        if !declared.contains(&name) {
            let known = if declared.is_empty() {
                "the provider takes no credentials".to_owned()
            } else {
                format!("the provider declares: {}", declared.join(", "))
            };
            return Err(CliError::usage(format!(
                "{}: unknown credential `{name}`; {known}",
                at()
            )));
        }
        if values
            .insert(name.to_owned(), CredentialSecret::new(value.trim()))
            .is_some()
        {
            return Err(CliError::usage(format!(
                "{}: credential `{name}` is given twice",
                at()
            )));
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_follow_env_var_naming() {
        assert_eq!(credential_env("apiKey"), "PROVIDER_FORGE_CREDENTIAL_APIKEY");
        assert_eq!(
            credential_env("client-id"),
            "PROVIDER_FORGE_CREDENTIAL_CLIENT_ID"
        );
    }

    #[test]
    fn a_file_gives_declared_names_only_and_errors_never_quote_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds");
        std::fs::write(&path, "# mine\nusername = me\n\npassword=p=ss w0rd\n").unwrap();
        let args = CredentialArgs {
            credentials_file: Some(path.clone()),
        };
        let Ok(values) = read(["username", "password"], &args) else {
            panic!("the file is read")
        };
        assert_eq!(values.0["username"].expose(), "me");
        assert_eq!(values.0["password"].expose(), "p=ss w0rd");
        assert!(read(["username"], &args).is_err());
        std::fs::write(&path, "sk-secret-no-equals\n").unwrap();
        assert!(read(["apiKey"], &args).is_err());
    }
}
