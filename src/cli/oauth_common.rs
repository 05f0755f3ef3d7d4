//! What `connect`, `refresh` and `revoke` share: loading the one provider, the client secret
//! (from the environment or a file, never from a flag value), the HTTP client options, and
//! the summary printed after success (never a secret).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog;
use crate::definition::types::ClientSecretMode;
use crate::oauth::http::{self, HttpOptions};
use crate::oauth::{ClientSecret, Credentials, TokenSet};
use crate::resolve::table::ResolvedProvider;

use super::CliError;

/// Environment variable holding the client secret shared by every data center.
pub(super) const SECRET_ENV: &str = "PROVIDER_FORGE_CLIENT_SECRET";

/// Options shared by the OAuth commands.
#[derive(Debug, clap::Args)]
pub(super) struct ClientArgs {
    /// File holding the client secret (instead of the PROVIDER_FORGE_CLIENT_SECRET
    /// environment variable). For a provider with one secret per data center, one
    /// `CODE=SECRET` line per data center (or the variables PROVIDER_FORGE_CLIENT_SECRET_<CODE>,
    /// e.g. PROVIDER_FORGE_CLIENT_SECRET_EU).
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Send requests for HOST to ADDR instead of resolving it, like curl. PORT is the port the
    /// URLs use (443 for https URLs without one); ADDR may carry its own port to reach a local
    /// server, e.g. accounts.zoho.eu:443:127.0.0.1:8443. Repeatable.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR[:ADDRPORT]")]
    pub resolve: Vec<String>,
    /// Trust this PEM root certificate in addition to the system's (for staging and tests).
    /// Nothing else about TLS can be relaxed.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// Values of the provider's connection parameters (`connection.params`).
#[derive(Debug, clap::Args)]
pub(super) struct ConnectionArgs {
    /// A connection parameter the provider declares, e.g. `--param subdomain=acme` for a
    /// Shopify shop or `--param tenant=contoso.onmicrosoft.com` (repeatable). A missing required
    /// value, or one that fails the parameter's pattern, is a usage error (exit 2) before any
    /// URL is printed or request made. `validate`/`render --format markdown` list a provider's
    /// parameters.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

impl ConnectionArgs {
    /// The values by name; a name given twice is a usage error.
    pub(super) fn values(&self) -> Result<crate::resolve::connection::ConnectionValues, CliError> {
        let mut values = crate::resolve::connection::ConnectionValues::new();
        for (name, value) in &self.params {
            if values.insert(name.clone(), value.clone()).is_some() {
                return Err(CliError::usage(format!("--param {name} is given twice")));
            }
        }
        Ok(values)
    }
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// The provider's table filled with this connection's values: the `--param` values, and the
/// runtime values kept in `tokens` (e.g. `instance_url` from the token response). Any refused
/// value is a usage error naming the parameter and its pattern.
pub(super) fn fill_connection(
    provider: &ResolvedProvider,
    args: &ConnectionArgs,
    tokens: Option<&TokenSet>,
) -> Result<ResolvedProvider, CliError> {
    crate::oauth::connection_table(provider, &args.values()?, tokens.map(|t| &t.metadata))
        .map(std::borrow::Cow::into_owned)
        .map_err(CliError::usage)
}

/// Writes lines to stdout ([`super::print_stdout`]: a closed pipe ends the command quietly).
pub(super) fn print_lines(lines: &[String]) -> Result<(), CliError> {
    let mut text = lines.join("\n");
    text.push('\n');
    super::print_stdout(&text)
}

/// The `--client-id` a provider with a client needs (oauth2_code, client_credentials).
pub(super) fn client_id(
    given: &Option<String>,
    provider: &ResolvedProvider,
) -> Result<String, CliError> {
    given.clone().ok_or_else(|| {
        CliError::usage(format!(
            "`{}` authenticates with `{}`: give the OAuth client's id with --client-id ID",
            provider.id,
            provider.auth_mode.as_str()
        ))
    })
}

/// The connection's values for a request: the `--param` values, and the runtime values kept
/// in `tokens` (e.g. `instance_url` from the token response), the given ones first.
pub(super) fn connection_values(
    provider: &ResolvedProvider,
    args: &ConnectionArgs,
    tokens: Option<&TokenSet>,
) -> Result<crate::resolve::connection::ConnectionValues, CliError> {
    let mut values = args.values()?;
    if let Some(tokens) = tokens {
        for name in provider.connection.runtime.keys() {
            if let Some(serde_json::Value::String(value)) = tokens.metadata.get(name) {
                values.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    Ok(values)
}

/// An engine error: bad input (a connection value or credential refused by its
/// declaration, an unknown data center or scope) as a usage error (exit 2) before anything
/// was sent; anything the provider answered or the network did as a failed flow (exit 1).
pub(super) fn engine_error(error: crate::oauth::OAuthError) -> CliError {
    use crate::oauth::OAuthError;
    match error {
        OAuthError::Connection(_)
        | OAuthError::NotInMode(_)
        | OAuthError::UnknownDataCenter { .. }
        | OAuthError::UnknownScope { .. }
        | OAuthError::MissingClientId { .. }
        | OAuthError::MissingClientSecret { .. }
        | OAuthError::HttpSetup(_) => CliError::usage(error),
        _ => CliError::failed(error),
    }
}

/// The server a data center's tokens come from: its authorization server (`oauth2_code`), else
/// the origin of its token URL. A token file records it, and its tokens go nowhere else.
pub(super) fn token_issuer(dc: &crate::resolve::table::ResolvedDataCenter) -> String {
    match (&dc.authorization, &dc.token) {
        (Some(authorization), _) => authorization.issuer.clone(),
        (None, Some(token)) => crate::oauth::filled_request::origin(&token.token_url),
        (None, None) => String::new(),
    }
}

/// Loads, validates and resolves exactly one provider file.
pub(super) fn load_provider(path: &Path) -> Result<ResolvedProvider, CliError> {
    let catalog = catalog::load(&[path.to_path_buf()]).map_err(CliError::usage)?;
    if !catalog.is_valid() {
        super::print_diagnostics(&catalog.diagnostics)?;
        return Err(CliError::Reported(super::EXIT_INVALID));
    }
    let mut providers = catalog.providers;
    if providers.len() != 1 {
        return Err(CliError::usage(format!(
            "{}: expected one provider file, found {} providers",
            path.display(),
            providers.len()
        )));
    }
    Ok(providers.remove(0).resolved)
}

/// Builds the HTTP client from `--resolve`, `--ca-cert` and a request timeout.
pub(super) fn http_client(
    args: &ClientArgs,
    timeout: Duration,
) -> Result<reqwest::Client, CliError> {
    http::client(&http_options(args, timeout)?).map_err(CliError::usage)
}

/// The HTTP settings of `--resolve`, `--ca-cert` and a request timeout.
pub(super) fn http_options(args: &ClientArgs, timeout: Duration) -> Result<HttpOptions, CliError> {
    let mut options = HttpOptions {
        timeout,
        ..HttpOptions::default()
    };
    for entry in &args.resolve {
        options
            .resolve
            .push(http::parse_resolve(entry).map_err(CliError::usage)?);
    }
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        options.extra_root_certificates.push(pem);
    }
    Ok(options)
}

/// The environment variable of a data center's own secret (`eu` → `..._EU`).
pub(super) fn per_dc_secret_env(code: &str) -> String {
    format!("{SECRET_ENV}_{}", crate::env_var::env_var_name(code))
}

/// The client's credentials: the shared secret, or every per-DC secret that is supplied.
pub(super) fn credentials(
    provider: &ResolvedProvider,
    client_id: &str,
    args: &ClientArgs,
) -> Result<Credentials, CliError> {
    let file = match &args.client_secret_file {
        Some(path) => Some(
            std::fs::read_to_string(path).map_err(|source| CliError::Read {
                path: path.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let credentials = match provider.client_secret {
        ClientSecretMode::Shared => {
            let secret = match file {
                Some(text) => text.trim().to_owned(),
                None => std::env::var(SECRET_ENV).unwrap_or_default(),
            };
            if secret.is_empty() {
                return Err(CliError::usage(format!(
                    "no client secret: set {SECRET_ENV} or pass --client-secret-file FILE"
                )));
            }
            Credentials::shared(client_id, ClientSecret::new(secret))
        }
        ClientSecretMode::PerDataCenter => {
            let mut secrets = Vec::new();
            if let Some(text) = file {
                for (number, line) in text.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let Some((code, secret)) = line.split_once('=') else {
                        return Err(CliError::usage(format!(
                            "client secret file, line {}: expected CODE=SECRET",
                            number + 1
                        )));
                    };
                    secrets.push((code.trim().to_owned(), ClientSecret::new(secret.trim())));
                }
            } else {
                for dc in &provider.data_centers {
                    if let Ok(secret) = std::env::var(per_dc_secret_env(&dc.code)) {
                        if !secret.is_empty() {
                            secrets.push((dc.code.clone(), ClientSecret::new(secret)));
                        }
                    }
                }
            }
            if secrets.is_empty() {
                return Err(CliError::usage(format!(
                    "no client secret: `{}` has one secret per data center; set {} (one per data center) or pass --client-secret-file FILE with CODE=SECRET lines",
                    provider.id,
                    provider
                        .data_centers
                        .iter()
                        .map(|dc| per_dc_secret_env(&dc.code))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            Credentials::per_data_center(client_id, secrets)
        }
    };
    // One app registration per data center: the client id given is the one of the data
    // center this command talks to.
    Ok(provider
        .data_centers
        .iter()
        .filter_map(|dc| dc.client_id_key.clone())
        .fold(credentials, |credentials, key| {
            credentials.with_client_id_for(key, client_id)
        }))
}

/// A summary of a token set without any secret.
pub(super) fn summary(provider: &ResolvedProvider, tokens: &TokenSet) -> String {
    let dc_name = provider
        .data_center(&tokens.data_center)
        .map(|dc| dc.name.as_str())
        .unwrap_or("?");
    let mut lines = vec![format!(
        "{}: data center {} ({dc_name}), issuer {}",
        provider.display_name, tokens.data_center, tokens.issuer
    )];
    if let Some(scope) = &tokens.scope {
        lines.push(format!("  scope: {scope}"));
    }
    if let Some(at) = tokens.expires_at {
        let left = at.saturating_sub(crate::oauth::token::unix_now());
        lines.push(format!(
            "  access token expires at {at} (unix time, in {left} s)"
        ));
    }
    lines.push(format!(
        "  refresh token: {}",
        if tokens.refresh_token.is_some() {
            "yes"
        } else {
            "none"
        }
    ));
    for (name, value) in &tokens.metadata {
        let value = value
            .as_str()
            .map(str::to_owned)
            .unwrap_or(value.to_string());
        lines.push(format!("  {name}: {value}"));
    }
    lines.join("\n")
}

/// A tokio runtime for one command.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))
}

/// A token file written by `connect`, the definition it was obtained with, and what is needed
/// to use it: the arguments `refresh` and `revoke` share.
#[derive(Debug, clap::Args)]
pub(super) struct StoredConnectionArgs {
    /// The provider definition file the tokens were obtained with.
    #[arg(value_name = "PROVIDER.yaml")]
    pub provider: PathBuf,
    /// The token file written by `connect`.
    #[arg(long, value_name = "FILE")]
    pub tokens: PathBuf,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Loads the provider and a token file, and checks that they belong together.
pub(super) fn load_connection(
    args: &StoredConnectionArgs,
) -> Result<(ResolvedProvider, super::token_file::StoredConnection), CliError> {
    let (provider_path, tokens_path, connection) = (&args.provider, &args.tokens, &args.connection);
    let provider = load_provider(provider_path)?;
    let stored = super::token_file::StoredConnection::read(tokens_path).map_err(CliError::usage)?;
    // The connection's own values first: the issuer check below then also proves the
    // `--param` values are the ones the tokens were obtained with.
    let provider = fill_connection(&provider, connection, Some(&stored.tokens))?;
    if stored.provider != provider.id {
        return Err(CliError::usage(format!(
            "{} holds tokens of provider `{}`, not `{}`",
            tokens_path.display(),
            stored.provider,
            provider.id
        )));
    }
    let Some(dc) = provider.data_center(&stored.tokens.data_center) else {
        return Err(CliError::usage(format!(
            "{}: data center `{}` is not enabled in {}; enabled: {}",
            tokens_path.display(),
            stored.tokens.data_center,
            provider_path.display(),
            provider.data_center_codes().join(", ")
        )));
    };
    // The file names the server its tokens came from; never send them anywhere else.
    let issuer = token_issuer(dc);
    if issuer != stored.tokens.issuer {
        return Err(CliError::usage(format!(
            "{}: the tokens were issued by {}, but data center `{}` is now served by {}; connect again",
            tokens_path.display(),
            stored.tokens.issuer,
            dc.code,
            issuer
        )));
    }
    Ok((provider, stored))
}
