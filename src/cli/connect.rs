//! `provider-forge connect`: runs the authorization-code flow against the real provider (or a
//! staging server) and writes the token set to a file readable only by its owner.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::EXIT_OK;
use super::oauth_common::{self, ClientArgs, ConnectionArgs, Reported, failed, usage};
use crate::oauth::loopback::{LoopbackListener, is_loopback_redirect};
use crate::oauth::{self, AuthorizationOptions, StoredConnection, authorization_request};

/// Arguments of `connect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider definition file.
    #[arg(value_name = "PROVIDER.yaml")]
    provider: PathBuf,
    /// The OAuth client id (for a provider with one app registration per data center, the one
    /// of the data center given with --dc).
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The user's data center, when known: the request goes straight to its authorization URL.
    /// Without it, the flow starts at the default DC's entry server (Zoho: accounts.zoho.com)
    /// and a multi-DC provider learns the user's DC from the callback.
    #[arg(long = "dc", value_name = "CODE")]
    data_center: Option<String>,
    /// A scope to request (repeatable). Default: the provider's default scopes.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// The redirect URI registered for the client. A loopback http URI with a port
    /// (http://127.0.0.1:8765/callback) is listened on; for any other, paste the URL the
    /// browser lands on. Default: the provider's.
    #[arg(long, value_name = "URL")]
    redirect_uri: Option<String>,
    /// Where to write the token set (JSON, mode 0600). Default: PROVIDER_ID.tokens.json.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the authorization URL alone on one line of stdout instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// Seconds to wait for the callback before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    timeout: u64,
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(args: Args) -> u8 {
    match connect(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

fn connect(args: Args) -> Result<(), Reported> {
    let provider = oauth_common::load_provider(&args.provider)?;
    // Before anything is printed or sent: a refused value must not reach a URL.
    let provider = oauth_common::fill_connection(&provider, &args.connection, None)?;
    let credentials = oauth_common::credentials(&provider, &args.client_id, &args.client)?;
    let http = oauth_common::http_client(&args.client, oauth::http::DEFAULT_TIMEOUT)?;
    let options = AuthorizationOptions {
        data_center: args.data_center.clone(),
        scopes: args.scopes.clone(),
        redirect_uri: args.redirect_uri.clone(),
    };
    let pending = authorization_request(&provider, &args.client_id, &options).map_err(usage)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.tokens.json", provider.id)));
    // Fail before the user consents, not after: the tokens would be lost.
    let out_dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !out_dir.is_dir() {
        return Err(usage(format!(
            "--out {}: directory {} does not exist",
            out.display(),
            out_dir.display()
        )));
    }
    let redirect = Url::parse(&pending.redirect_uri).map_err(usage)?;
    let wait = Duration::from_secs(args.timeout);

    oauth_common::runtime()?.block_on(async {
        // Listen before showing the URL, so the browser can never arrive first.
        let listener = if is_loopback_redirect(&redirect) {
            Some(
                LoopbackListener::bind(&redirect)
                    .await
                    .map_err(|e| usage(format!("cannot listen on {redirect}: {e}")))?,
            )
        } else {
            None
        };
        show_url(pending.url.as_str(), args.no_browser);
        let outcome = match &listener {
            Some(listener) => {
                let callback = tokio::time::timeout(wait, listener.next_callback())
                    .await
                    .map_err(|_| failed(timed_out(args.timeout)))?
                    .map_err(|e| usage(format!("waiting for the callback: {e}")))?;
                let result = oauth::complete_authorization(
                    &http,
                    &provider,
                    &credentials,
                    &pending,
                    &callback.query,
                )
                .await;
                let page = match &result {
                    Ok(_) => format!("Connected to {}.", provider.display_name),
                    Err(error) => format!("Connection failed: {error}"),
                };
                let _ = callback.respond(result.is_ok(), &page).await;
                result
            }
            None => {
                eprintln!("After consenting, paste the URL your browser landed on, then Enter:");
                let line = tokio::time::timeout(wait, read_line())
                    .await
                    .map_err(|_| failed(timed_out(args.timeout)))?
                    .map_err(usage)?;
                oauth::complete_authorization(&http, &provider, &credentials, &pending, &line).await
            }
        };
        let tokens = outcome.map_err(failed)?;
        let stored = StoredConnection {
            provider: provider.id.clone(),
            client_id: args.client_id.clone(),
            tokens,
        };
        stored.write(&out).map_err(usage)?;
        println!(
            "connected: {}",
            oauth_common::summary(&provider, &stored.tokens)
        );
        println!("  tokens written to {} (mode 0600)", out.display());
        Ok(())
    })
}

fn timed_out(secs: u64) -> String {
    format!("no callback within {secs} s; run connect again (or raise --timeout)")
}

/// Shows the authorization URL: alone on stdout with `--no-browser`, otherwise opened in the
/// system browser with the URL on stderr as a fallback.
fn show_url(url: &str, no_browser: bool) {
    if no_browser {
        println!("{url}");
        return;
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
