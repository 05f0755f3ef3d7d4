//! `provider-forge simulate`: runs the providers' authorization servers locally, from their
//! definitions, until interrupted. Prints the `--resolve` arguments that send `connect`,
//! `refresh` and `revoke` to it, then `ready`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::ValueEnum;

use super::credential_input::{self, CredentialArgs};
use super::oauth_common::{self, ClientArgs, ConnectionArgs};
use super::{CliError, EXIT_INVALID};
use crate::catalog;
use crate::definition::types::AuthMode;
use crate::oauth::{ClientSecret, Credentials};
use crate::simulate::{Consent, Fault, Setup, Simulator};

/// The client id registered at the simulator when none is given.
const DEFAULT_CLIENT_ID: &str = "provider-forge-simulator";

/// Arguments of `simulate`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(super) struct SimulateArgs {
    /// Provider definition files (or directories of them) whose servers to simulate.
    #[arg(value_name = "PROVIDER.yaml", required = true)]
    providers: Vec<PathBuf>,
    /// Address to listen on (HTTPS). Port 0 picks a free port; the --resolve lines printed
    /// at start name the one chosen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Where to write the CA certificate (PEM) generated at start; pass it to `connect`,
    /// `refresh` and `revoke` as --ca-cert.
    #[arg(long, value_name = "FILE")]
    ca_out: PathBuf,
    /// The client id the server accepts.
    #[arg(long, value_name = "ID", default_value = DEFAULT_CLIENT_ID)]
    client_id: String,
    /// A redirect URI registered for the client (repeatable). Default: each provider's.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// The data center the simulated user's account lives in. Default: each provider's default
    /// DC. A multi-DC provider's entry server sends the user on to it.
    #[arg(long, value_name = "CODE")]
    user_dc: Option<String>,
    /// Whether the simulated user consents.
    #[arg(long, value_enum, value_name = "CHOICE", default_value_t = ConsentArg::Allow)]
    consent: ConsentArg,
    /// A fault to put in force (repeatable): error-with-200, expires-in-string,
    /// no-refresh-token, rotate-refresh-token, rate-limit-after:N, slow:MS,
    /// server-error-once, malformed-json, api-401-once, api-429-once, api-500-once,
    /// api-503-once, api-429-date-once, api-hang-once, api-reset-once, credentials-refused.
    /// See below.
    #[arg(long = "fault", value_name = "NAME[:ARG]")]
    faults: Vec<Fault>,
    /// Append one JSON line per request (host, path, endpoint, grant_type, outcome) to FILE.
    /// No secret, code or token is ever written.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// File holding the client secret the server expects (instead of the
    /// PROVIDER_FORGE_CLIENT_SECRET environment variable); for a provider with one secret
    /// per data center, CODE=SECRET lines (or the variables PROVIDER_FORGE_CLIENT_SECRET_<CODE>).
    #[arg(long, value_name = "FILE")]
    client_secret_file: Option<PathBuf>,
    /// The connection's values, as for `connect`: the server answers at the hosts such a
    /// connection calls (e.g. `--param subdomain=acme` serves acme.myshopify.com).
    #[command(flatten)]
    connection: ConnectionArgs,
    /// The credentials the simulated provider accepts (API keys, usernames and passwords),
    /// read exactly as `connect` reads them.
    #[command(flatten)]
    credentials: CredentialArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConsentArg {
    /// The user consents: the callback carries a code.
    Allow,
    /// The user refuses: the callback carries error=access_denied.
    Deny,
}

const AFTER_HELP: &str = "\
The server answers at the paths of the definitions' resolved URLs, for every host of every \
enabled data center; the Host header picks the provider and data center. It checks the \
authorization request (client_id, redirect_uri, response_type, state, scopes against the \
catalog, PKCE when the definition uses it, the definition's extra parameters), redirects a \
multi-DC user from the entry server to their own DC, and redirects back with code, state and \
the DC's location and issuer parameters. The token endpoint checks client authentication by \
the definition's method, the PKCE verifier, the redirect URI, and that the code is fresh \
(120 s), unused and redeemed at the DC that issued it; answers carry the declared response \
metadata (api_domain: the DC's production API base). Refresh and revocation (RFC 7009) \
follow the definition; a revoked refresh token fails with invalid_grant.

Connection values: URLs filled per connection (`<subdomain>`, `<tenant>`, `<hostname>`) are \
served for the values given with --param NAME=VALUE (optional parameters left out take their \
defaults), checked exactly as `connect` checks them; pass `connect`, `refresh` and `revoke` \
the same values. Values the provider hands out during the flow (e.g. Salesforce's \
instance_url in the token answer) are chosen to pass the definition's pattern: a URL of the \
served hosts or the API base, unless given with --param too. Example:
  provider-forge simulate providers/shopify.yaml --param subdomain=acme --ca-out ca.pem ...
prints `--resolve acme.myshopify.com:443:127.0.0.1:PORT`.

Faults:
  error-with-200        errors with HTTP 200 and Zoho's names (invalid_code, ...)
  expires-in-string     expires_in as a string (\"3600\")
  no-refresh-token      the code exchange issues no refresh token
  rotate-refresh-token  each refresh issues a new refresh token, the old one stops working
  rate-limit-after:N    after N refreshes of a token in 10 minutes: HTTP 200 \"Access Denied\"
  slow:MS               token, refresh and revoke answers wait MS milliseconds
  server-error-once     the next token, refresh or revoke request gets HTTP 500
  malformed-json        token and refresh answers are truncated JSON
  api-401-once          the next API call gets HTTP 401 whatever its credentials
  api-429-once          the next API call gets HTTP 429 with Retry-After: 1
  api-500-once          the next API call gets HTTP 500
  api-503-once          the next API call gets HTTP 503 with Retry-After: 1
  api-429-date-once     the next API call gets HTTP 429 with Retry-After as an HTTP date 2 s ahead
  api-hang-once         the next API call is never answered (held for ten minutes)
  api-reset-once        the next API call's connection is closed without an answer
  credentials-refused   client-credentials and token requests get HTTP 401 invalid_client

The API: every API base URL of every data center and environment answers any path with \
HTTP 200 and a small JSON body (provider, data_center, environment, method, path) when the \
call carries the credentials exactly as the definition places them (the right header, query \
parameter, Basic pair, or a token this server issued), else 401 naming what was wrong; \
verification endpoints included. A path under an API base ending in `_simulate/echo` answers what \
arrived (method, path, query, headers, body; credential values masked), `_simulate/upload` \
counts a streamed body and answers its length, and `_simulate/download?bytes=N` streams N \
bytes (byte i is i % 251): endpoints for testing a proxy, behind the same credential check. \
Client-credentials and token-request providers get their \
token endpoint: client authentication, body encoding, method, headers and parameters as the \
definition says, the token (and its lifetime, and a refresh token) at the answer's paths.

Environment: PROVIDER_FORGE_CLIENT_SECRET (or PROVIDER_FORGE_CLIENT_SECRET_<CODE> per data \
center) is the secret the server expects, read as `connect` reads it; only providers with a \
client (oauth2_code, client_credentials) need one. PROVIDER_FORGE_CREDENTIAL_<NAME> (or \
--credentials-file) are the credentials it accepts (api_key, basic, token_request).

Output: one `--resolve HOST:443:ADDR` line per host, then `ready`; the server runs until \
interrupted (Ctrl-C or SIGTERM). Example:
  provider-forge simulate providers/gitlab.yaml --ca-out ca.pem \\
      --redirect-uri http://127.0.0.1:8765/callback > sim.out &
  provider-forge connect providers/gitlab.yaml --client-id provider-forge-simulator \\
      --redirect-uri http://127.0.0.1:8765/callback --ca-cert ca.pem \\
      $(grep -- --resolve sim.out) --no-browser

Exit codes: 0 stopped by a signal, 1 invalid definition, 2 usage or I/O error.";

pub(super) fn run(args: SimulateArgs) -> Result<(), CliError> {
    let catalog = catalog::load(&args.providers).map_err(CliError::usage)?;
    if !catalog.is_valid() {
        super::print_diagnostics(&catalog.diagnostics)?;
        return Err(CliError::Reported(EXIT_INVALID));
    }
    let providers: Vec<_> = catalog.providers.into_iter().map(|p| p.resolved).collect();
    // The secrets are read exactly as `connect` reads them, provider by provider, and kept
    // under each DC's secret key.
    let secret_args = ClientArgs {
        client_secret_file: args.client_secret_file.clone(),
        resolve: Vec::new(),
        ca_cert: None,
    };
    let mut secrets: Vec<(String, ClientSecret)> = Vec::new();
    let mut client_id_keys: Vec<String> = Vec::new();
    let with_client = providers.iter().filter(|provider| {
        matches!(
            provider.auth_mode,
            AuthMode::Oauth2Code | AuthMode::ClientCredentials
        )
    });
    for provider in with_client {
        let credentials = oauth_common::credentials(provider, &args.client_id, &secret_args)?;
        for dc in &provider.data_centers {
            if let Ok(secret) = credentials.secret_for(dc) {
                secrets.push((dc.client_secret_key.clone(), secret.clone()));
            }
            client_id_keys.extend(dc.client_id_key.clone());
        }
    }
    // One --client-id for every app registration, as `connect` takes it.
    let credentials = client_id_keys.into_iter().fold(
        Credentials::per_data_center(args.client_id.clone(), secrets),
        |credentials, key| credentials.with_client_id_for(key, args.client_id.clone()),
    );
    let connection_values = args.connection.values()?;
    let mut declared: Vec<&str> = providers
        .iter()
        .flat_map(|provider| provider.credentials.keys().map(String::as_str))
        .collect();
    declared.sort();
    declared.dedup();
    let accepted = credential_input::read(declared, &args.credentials)?;
    let credential_values = accepted.values();
    let setup = Setup {
        redirect_uris: args.redirect_uris.clone(),
        user_data_center: args.user_dc.clone(),
        consent: match args.consent {
            ConsentArg::Allow => Consent::Allow,
            ConsentArg::Deny => Consent::Deny,
        },
        faults: args.faults.clone(),
        log: args.log.clone(),
        listen: args.listen,
        connection_values,
        credential_values,
        ..Setup::new(providers, credentials)
    };
    oauth_common::runtime()?.block_on(async {
        let simulator = Simulator::start(setup).await.map_err(CliError::usage)?;
        let stop = Stop::listen();
        std::fs::write(&args.ca_out, simulator.ca_pem()).map_err(|e| {
            CliError::usage(format!("{}: cannot write: {e}", args.ca_out.display()))
        })?;
        let mut stdout = std::io::stdout().lock();
        for entry in simulator.resolve_args() {
            let _ = writeln!(stdout, "--resolve {entry}");
        }
        let _ = writeln!(stdout, "ready");
        let _ = stdout.flush();
        drop(stdout);
        eprintln!(
            "simulating on {} for client id {}; stop with Ctrl-C",
            simulator.addr(),
            args.client_id
        );
        stop.stopped().await;
        Ok(())
    })
}

/// Ctrl-C and SIGTERM, listened for from creation on: made before `ready` is printed, so a
/// signal sent as soon as `ready` is read stops the server cleanly (exit 0) instead of killing
/// it.
struct Stop {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Stop {
    fn listen() -> Stop {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Stop {
                signals: signal(SignalKind::interrupt())
                    .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                    .ok(),
            }
        }
        #[cfg(not(unix))]
        Stop {}
    }

    /// Resolves on Ctrl-C or SIGTERM.
    async fn stopped(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
