//! `provider-forge request`: one call to the provider's API with a connection's credentials,
//! like `gh api`. The headers and query parameters come from the resolved table
//! ([`crate::resolve::connection::fill_api_request`]), so the call carries the credentials
//! exactly as the definition places them; the base URL is the connection's data center's, in
//! the environment asked for. A token that has expired is renewed first and the file rewritten
//! atomically; a token the API refuses (401) is renewed once and the call made again.
//!
//! The answer's body goes to stdout as it came; the status decides the exit code.

use std::path::PathBuf;

use super::CliError;
use super::oauth_common::{self, ClientArgs, ConnectionArgs, engine_error};
use super::token_file::{ConnectionFile, StoredConnection, StoredCredentials};
use crate::oauth::api::{self, ApiAnswer};
use crate::oauth::refresh::DEFAULT_EXPIRY_MARGIN_SECS;
use crate::oauth::token::unix_now;
use crate::oauth::{self, Credentials, renew};
use crate::resolve::connection::{ConnectionValues, fill_api_request};
use crate::resolve::table::ResolvedProvider;

/// Arguments of `request`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(super) struct RequestArgs {
    /// The provider definition file the connection was made with.
    #[arg(value_name = "PROVIDER.yaml")]
    provider: PathBuf,
    /// The HTTP method (GET, POST, PUT, PATCH, DELETE, ...).
    #[arg(value_name = "METHOD")]
    method: String,
    /// The path under the API base URL, with its query string if any (e.g. `v1/models` or
    /// `crm/v8/Leads?per_page=5`).
    #[arg(value_name = "PATH")]
    path: String,
    /// The token file written by `connect` (tokens or credentials, mode 0600).
    #[arg(long, value_name = "FILE")]
    tokens: PathBuf,
    /// The API environment (e.g. `sandbox`). Default: the first the definition lists.
    #[arg(long = "env", value_name = "NAME")]
    environment: Option<String>,
    /// The data center. Default: the connection's own; a connection with tokens cannot use
    /// another.
    #[arg(long = "dc", value_name = "CODE")]
    data_center: Option<String>,
    /// The request body: the text itself, or `@FILE` to read it from a file. Sent as JSON
    /// (application/json) when it parses as JSON.
    #[arg(long, value_name = "BODY")]
    data: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    client: ClientArgs,
}

const AFTER_HELP: &str = "\
The credentials are applied exactly as the definition says (api.headers, api.query, the \
implied Authorization header: Basic for basic, `<auth_scheme> <access_token>` for the token \
modes): what `render` shows is what is sent. Nothing but the path comes from the command \
line, and a path cannot leave the API's host.

Tokens: an access token that expires within a minute is renewed first (oauth2_code: the \
refresh token; client_credentials: a new token, with the client secret read as `connect` \
reads it; token_request: its refresh request, or the token request again with the stored \
credentials), and the token file is rewritten atomically. An answer of 401 renews the token \
once and makes the call again.

Examples:
  provider-forge request providers/anthropic.yaml --tokens anthropic.tokens.json GET v1/models
  provider-forge request providers/zoho-crm.yaml --tokens zoho.tokens.json --env sandbox \\
      GET crm/v8/Leads
  provider-forge request providers/freshdesk.yaml --tokens fd.json --param subdomain=acme \\
      POST api/v2/tickets --data @ticket.json

Output: the answer's body on stdout, as it came; the status and, for a refusal, the \
provider's words (secrets cut out) on stderr.

Exit codes: 0 the API answered 2xx, 1 it answered anything else or could not be reached, 2 \
usage or I/O error (bad arguments, an unreadable or unsafe token file, a value the definition \
refuses).";

/// What the call is made with.
struct Connection {
    file: ConnectionFile,
    values: ConnectionValues,
    data_center: String,
}

pub(super) fn run(args: RequestArgs) -> Result<(), CliError> {
    let provider = oauth_common::load_provider(&args.provider)?;
    let file = ConnectionFile::read(&args.tokens).map_err(CliError::usage)?;
    if file.provider() != provider.id {
        return Err(CliError::usage(format!(
            "{} holds a connection of provider `{}`, not `{}`",
            args.tokens.display(),
            file.provider(),
            provider.id
        )));
    }
    let body = match &args.data {
        Some(data) => Some(match data.strip_prefix('@') {
            Some(path) => std::fs::read(path)
                .map_err(|e| CliError::usage(format!("--data @{path}: cannot read: {e}")))?,
            None => data.clone().into_bytes(),
        }),
        None => None,
    };
    let connection = connection(&provider, &args, file)?;
    // Renewals use the table filled with the connection's values, as `refresh` does.
    let filled = match &connection.file {
        ConnectionFile::Tokens(stored) => {
            oauth_common::fill_connection(&provider, &args.connection, Some(&stored.tokens))?
        }
        ConnectionFile::Credentials(_) => provider.clone(),
    };
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;
    oauth_common::runtime()?.block_on(async {
        let mut connection = connection;
        if let ConnectionFile::Tokens(stored) = &connection.file {
            if stored
                .tokens
                .expires_within(unix_now(), DEFAULT_EXPIRY_MARGIN_SECS)
            {
                renew_tokens(&http, &filled, &args, &mut connection, "it expired").await?;
            }
        }
        let mut answer = call(&http, &provider, &args, &connection, body.as_deref()).await?;
        if answer.status == 401 && matches!(connection.file, ConnectionFile::Tokens(_)) {
            renew_tokens(&http, &filled, &args, &mut connection, "the API refused it").await?;
            answer = call(&http, &provider, &args, &connection, body.as_deref()).await?;
        }
        let mut out = answer.body.clone();
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        super::print_stdout(&String::from_utf8_lossy(&out))?;
        if answer.is_success() {
            return Ok(());
        }
        let secrets = secrets(&connection.file);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let mut error = api::refused("API", &answer, &secrets).to_string();
        if let Some(wait) = &answer.retry_after {
            error.push_str(&format!(" (Retry-After: {wait})"));
        }
        Err(CliError::failed(error))
    })
}

/// The connection of the file, checked against the definition: its mode, its data center,
/// the server its tokens came from.
fn connection(
    provider: &ResolvedProvider,
    args: &RequestArgs,
    file: ConnectionFile,
) -> Result<Connection, CliError> {
    let path = args.tokens.display();
    let (stored_mode, stored_dc) = match &file {
        ConnectionFile::Tokens(stored) => (None, stored.tokens.data_center.clone()),
        ConnectionFile::Credentials(stored) => (Some(stored.auth_mode), stored.data_center.clone()),
    };
    let with_tokens = stored_mode.is_none();
    if with_tokens != provider.auth_mode.has_token()
        || stored_mode.is_some_and(|mode| mode != provider.auth_mode)
    {
        return Err(CliError::usage(format!(
            "{path} was not written for `{}` connections, which `{}` now uses; connect again",
            provider.auth_mode.as_str(),
            provider.id
        )));
    }
    let data_center = match &args.data_center {
        Some(code) if with_tokens && *code != stored_dc => {
            return Err(CliError::usage(format!(
                "{path}: the tokens belong to data center `{stored_dc}`, not `{code}`"
            )));
        }
        Some(code) => code.clone(),
        None => stored_dc,
    };
    let Some(dc) = provider.data_center(&data_center) else {
        return Err(CliError::usage(format!(
            "data center `{data_center}` is not enabled in {}; enabled: {}",
            args.provider.display(),
            provider.data_center_codes().join(", ")
        )));
    };
    let tokens = match &file {
        ConnectionFile::Tokens(stored) => Some(&stored.tokens),
        ConnectionFile::Credentials(_) => None,
    };
    if let Some(tokens) = tokens {
        // The file names the server its tokens came from; never send them anywhere else.
        let issuer = oauth_common::token_issuer(dc);
        if issuer != tokens.issuer {
            return Err(CliError::usage(format!(
                "{path}: the tokens were issued by {}, but data center `{}` is now served by {issuer}; connect again",
                tokens.issuer, dc.code
            )));
        }
    }
    let values = oauth_common::connection_values(provider, &args.connection, tokens)?;
    Ok(Connection {
        file,
        values,
        data_center,
    })
}

/// One call with the connection's current credentials.
async fn call(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    args: &RequestArgs,
    connection: &Connection,
    body: Option<&[u8]>,
) -> Result<ApiAnswer, CliError> {
    let (credentials, token) = match &connection.file {
        ConnectionFile::Tokens(stored) => (
            &stored.credentials,
            Some(stored.tokens.access_token.expose()),
        ),
        ConnectionFile::Credentials(stored) => (&stored.credentials, None),
    };
    let api = fill_api_request(
        provider,
        &connection.data_center,
        args.environment.as_deref(),
        &connection.values,
        &credentials.values(),
        token,
    )
    .map_err(CliError::usage)?;
    if let ConnectionFile::Tokens(stored) = &connection.file {
        check_api_domain(provider, &connection.data_center, stored, &api.base_url)?;
    }
    api::call(http, &api, &args.method, &args.path, body)
        .await
        .map_err(engine_error)
}

/// Zoho's token answer names the API domain of the user's data center (`api_domain`): when
/// the connection kept it, the call's base URL must be on that domain or one of its
/// environments (`sandbox.zohoapis.eu` beside `www.zohoapis.eu`), so a definition and a token
/// that disagree on where the user's data lives are caught rather than called.
fn check_api_domain(
    provider: &ResolvedProvider,
    data_center: &str,
    stored: &StoredConnection,
    base_url: &str,
) -> Result<(), CliError> {
    let Some(domain) = stored
        .tokens
        .metadata
        .get("api_domain")
        .and_then(|value| value.as_str())
    else {
        return Ok(());
    };
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
    };
    let Some(dc) = provider.data_center(data_center) else {
        return Ok(());
    };
    let known = dc
        .api_base_urls
        .values()
        .any(|base| host(base).is_some() && host(base) == host(domain));
    if known && host(base_url).is_some() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "the token answer names the API domain {domain}, which is not an API base URL of data center `{data_center}` in the definition; connect again or fix the definition"
    )))
}

/// Renews the token with `provider`'s table filled with the connection's values, rewrites the
/// file atomically, and says so on stderr.
async fn renew_tokens(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    args: &RequestArgs,
    connection: &mut Connection,
    why: &str,
) -> Result<(), CliError> {
    let ConnectionFile::Tokens(stored) = &connection.file else {
        return Ok(());
    };
    let client: Option<Credentials> = if provider.auth_mode.has_token()
        && provider.auth_mode != crate::definition::types::AuthMode::TokenRequest
    {
        Some(oauth_common::credentials(
            provider,
            &stored.client_id,
            &args.client,
        )?)
    } else {
        None
    };
    let tokens = renew::renew(
        http,
        provider,
        client.as_ref(),
        &ConnectionValues::new(),
        &stored.credentials.values(),
        &stored.tokens,
    )
    .await
    .map_err(engine_error)?;
    let renewed = StoredConnection {
        tokens,
        ..(**stored).clone()
    };
    renewed.write(&args.tokens).map_err(CliError::usage)?;
    eprintln!(
        "provider-forge: renewed the access token ({why}); {} rewritten",
        args.tokens.display()
    );
    connection.file = ConnectionFile::Tokens(Box::new(renewed));
    Ok(())
}

/// Every secret the connection holds, to cut out of what the provider answers.
fn secrets(file: &ConnectionFile) -> Vec<String> {
    let credentials = |stored: &StoredCredentials| -> Vec<String> {
        stored
            .0
            .values()
            .map(|value| value.expose().to_owned())
            .collect()
    };
    match file {
        ConnectionFile::Tokens(stored) => {
            let mut secrets = credentials(&stored.credentials);
            secrets.push(stored.tokens.access_token.expose().to_owned());
            secrets.extend(
                stored
                    .tokens
                    .refresh_token
                    .as_ref()
                    .map(|token| token.expose().to_owned()),
            );
            secrets
        }
        ConnectionFile::Credentials(stored) => credentials(&stored.credentials),
    }
}
