//! `provider-forge connect`: runs the authorization-code flow against the real provider (or a
//! staging server) and writes the token set to a file readable only by its owner. Providers
//! of the other modes connect without a browser ([`super::connect_direct`]).

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::CliError;
use super::credential_input::CredentialArgs;
use super::oauth_common::{self, ClientArgs, ConnectionArgs};
use super::token_file::{PendingTokenFile, StoredConnection};
use crate::definition::types::AuthMode;
use crate::diagnostics::visible;
use crate::oauth::loopback::{Arrival, LoopbackListener, is_loopback_redirect};
use crate::oauth::{self, AuthorizationOptions, OAuthError, authorization_request};
use crate::resolve::table::ResolvedProvider;

/// Arguments of `connect`.
#[derive(Debug, clap::Args)]
pub(super) struct ConnectArgs {
    /// The provider definition file.
    #[arg(value_name = "PROVIDER.yaml")]
    pub(super) provider: PathBuf,
    /// The OAuth client id (for a provider with one app registration per data center, the one
    /// of the data center given with --dc). Required by oauth2_code and client_credentials
    /// providers; the other modes have no client.
    #[arg(long, value_name = "ID")]
    pub(super) client_id: Option<String>,
    /// The user's data center, when known: the request goes straight to its authorization URL.
    /// Without it, the flow starts at the default DC's entry server (Zoho: accounts.zoho.com)
    /// and a multi-DC provider learns the user's DC from the callback.
    #[arg(long = "dc", value_name = "CODE")]
    pub(super) data_center: Option<String>,
    /// A scope to request (repeatable). Default: the provider's default scopes.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub(super) scopes: Vec<String>,
    /// The redirect URI registered for the client. A loopback http URI with a port
    /// (http://127.0.0.1:8765/callback) is listened on; for any other, paste the URL the
    /// browser lands on. Default: the provider's.
    #[arg(long, value_name = "URL")]
    redirect_uri: Option<String>,
    /// Where to write the token set (JSON, mode 0600). Default: PROVIDER_ID.tokens.json. Checked
    /// before the authorization URL is shown (its temporary file is created then): a directory,
    /// a symbolic link, or a location that cannot be written is refused with exit 2.
    #[arg(long, value_name = "FILE")]
    pub(super) out: Option<PathBuf>,
    /// Print the authorization URL alone on one line of stdout instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// Seconds to wait for the callback before giving up. On a loopback redirect URI, requests
    /// that are not this flow's callback (wrong state, malformed) get an error page, are reported
    /// on stderr, and the wait goes on.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
    #[command(flatten)]
    pub(super) connection: ConnectionArgs,
    #[command(flatten)]
    pub(super) client: ClientArgs,
    /// The connection's credentials (api_key, basic, token_request providers).
    #[command(flatten)]
    pub(super) credentials: CredentialArgs,
}

pub(super) fn run(args: ConnectArgs) -> Result<(), CliError> {
    let provider = oauth_common::load_provider(&args.provider)?;
    if provider.auth_mode != AuthMode::Oauth2Code {
        return super::connect_direct::connect(&args, &provider);
    }
    let client_id = oauth_common::client_id(&args.client_id, &provider)?;
    // Before anything is printed or sent: a refused value must not reach a URL.
    let provider = oauth_common::fill_connection(&provider, &args.connection, None)?;
    let credentials = oauth_common::credentials(&provider, &client_id, &args.client)?;
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;
    let options = AuthorizationOptions {
        data_center: args.data_center.clone(),
        scopes: args.scopes.clone(),
        redirect_uri: args.redirect_uri.clone(),
    };
    let pending =
        authorization_request(&provider, &client_id, &options).map_err(CliError::usage)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.tokens.json", provider.id)));
    // Fail before the user consents, not after: the tokens would be lost. The temporary file
    // the tokens will go through is created now, so only a full disk can fail later.
    let token_file =
        PendingTokenFile::create(&out).map_err(|e| CliError::usage(format!("--out: {e}")))?;
    let redirect = Url::parse(&pending.redirect_uri).map_err(CliError::usage)?;
    let wait = Duration::from_secs(args.timeout);

    oauth_common::runtime()?.block_on(async {
        // Listen before showing the URL, so the browser can never arrive first.
        let listener = if is_loopback_redirect(&redirect) {
            Some(
                LoopbackListener::bind(&redirect)
                    .await
                    .map_err(|e| CliError::usage(format!("cannot listen on {redirect}: {e}")))?,
            )
        } else {
            None
        };
        show_url(pending.url.as_str(), args.no_browser)?;
        let outcome = match listener {
            Some(mut listener) => tokio::time::timeout(
                wait,
                receive_callback(&mut listener, &http, &provider, &credentials, &pending),
            )
            .await
            .map_err(|_| CliError::failed(timed_out(args.timeout)))??,
            None => {
                eprintln!("After consenting, paste the URL your browser landed on, then Enter:");
                let line = tokio::time::timeout(wait, read_line())
                    .await
                    .map_err(|_| CliError::failed(timed_out(args.timeout)))?
                    .map_err(CliError::usage)?;
                oauth::complete_authorization(&http, &provider, &credentials, &pending, &line).await
            }
        };
        let tokens = outcome.map_err(CliError::failed)?;
        let stored = StoredConnection {
            provider: provider.id.clone(),
            client_id: client_id.clone(),
            tokens,
            credentials: Default::default(),
        };
        token_file.commit(&stored).map_err(CliError::usage)?;
        oauth_common::print_lines(&[
            format!(
                "connected: {}",
                oauth_common::summary(&provider, &stored.tokens)
            ),
            format!("  tokens written to {} (mode 0600)", out.display()),
        ])
    })
}

/// Waits on the loopback listener for the callback of this authorization request and
/// completes it. A request that is not that callback (wrong `state`, no parameters, not HTTP)
/// is answered with an error page, reported on stderr, and the wait goes on: any local process
/// can reach the port, and none may cancel the login. A callback with the right state ends the
/// wait whatever it says (e.g. the user denied access).
async fn receive_callback(
    listener: &mut LoopbackListener,
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    credentials: &oauth::Credentials,
    pending: &oauth::PendingAuthorization,
) -> Result<Result<oauth::TokenSet, OAuthError>, CliError> {
    loop {
        let arrival = listener
            .next()
            .await
            .map_err(|e| CliError::usage(format!("waiting for the callback: {e}")))?;
        let callback = match arrival {
            Arrival::Refused { reason } => {
                eprintln!(
                    "provider-forge: refused a connection to the callback address ({reason}); still waiting"
                );
                continue;
            }
            Arrival::Callback(callback) => callback,
        };
        let verified = oauth::parse_callback(provider, &callback.query)
            .and_then(|params| oauth::verify_callback(provider, pending, params));
        let result = match verified {
            Err(error @ (OAuthError::StateMismatch | OAuthError::InvalidCallback(_))) => {
                eprintln!(
                    "provider-forge: ignored a request to the callback address: {}; still waiting for the real callback",
                    visible(&error.to_string())
                );
                callback
                    .respond(false, &format!("Not the expected callback: {error}"))
                    .await;
                continue;
            }
            Err(error) => Err(error),
            Ok(verified) => {
                oauth::exchange_code(http, provider, credentials, pending, verified).await
            }
        };
        let page = match &result {
            Ok(_) => format!("Connected to {}.", provider.display_name),
            Err(error) => format!("Connection failed: {error}"),
        };
        callback.respond(result.is_ok(), &page).await;
        return Ok(result);
    }
}

fn timed_out(secs: u64) -> String {
    format!("no callback within {secs} s; run connect again (or raise --timeout)")
}

/// Shows the authorization URL: alone on stdout with `--no-browser`, otherwise opened in the
/// system browser with the URL on stderr as a fallback.
fn show_url(url: &str, no_browser: bool) -> Result<(), CliError> {
    if no_browser {
        return oauth_common::print_lines(&[url.to_owned()]);
    }
    eprintln!("Opening the authorization page in your browser. If it does not open, visit:");
    eprintln!("{url}");
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let opened = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !opened {
        eprintln!("(could not start `{opener}`; open the URL above yourself)");
    }
    Ok(())
}

/// One line from stdin, read on its own thread so a timeout can abandon it (a blocking read
/// would otherwise keep the process alive).
async fn read_line() -> Result<String, String> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let result = match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => Err("stdin closed before a callback URL was pasted".to_owned()),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("reading stdin: {e}")),
        };
        let _ = sender.send(result);
    });
    receiver
        .await
        .map_err(|_| "stdin reader stopped".to_owned())?
}
