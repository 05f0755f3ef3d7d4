//! `provider-forge serve`: loads and validates the providers and clients, opens (and
//! migrates) the store, and runs the HTTP service until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::oauth_common::{self, ClientArgs, Reported, usage};
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::catalog;
use crate::oauth;
use crate::service::{self, Service, api, config, store};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Environment:\n  \
PROVIDER_FORGE_SECRET_KEY       bearer key API clients send (Authorization: Bearer KEY); \
at least 16 characters. Required.\n  \
PROVIDER_FORGE_ENCRYPTION_KEY   32 random bytes, base64 (openssl rand -base64 32): encrypts \
tokens at rest. Required; losing it loses every stored connection.\n  \
PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS  earlier keys, comma-separated, still read during a \
key rotation.\n  \
RUST_LOG                        log filter (default info); logs never hold tokens, codes or keys.\n\n\
Routes: POST /connect/sessions, GET /oauth/callback, GET /connections[?provider=ID], \
GET|DELETE /connections/{provider}/{connection_id}, \
GET /connections/{provider}/{connection_id}/token[?force_refresh=true], GET /healthz, \
GET /openapi.json.\n\n\
Exit codes: 0 stopped by a signal, 1 invalid provider definition or clients file, 2 usage, \
I/O or database error at start.")]
pub struct ServeArgs {
    /// Directory (or files) of provider definitions; validated at start, and an invalid one
    /// stops the start with its diagnostics.
    #[arg(long, value_name = "DIR", required = true)]
    providers: Vec<PathBuf>,
    /// YAML file with each provider's OAuth client: client_id, client_secret_env: NAME or
    /// client_secret_file: PATH (or data_center_secrets: {CODE: {...}} for providers with a
    /// secret per data center), and optionally redirect_uri.
    #[arg(long, value_name = "FILE")]
    clients: PathBuf,
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3003")]
    listen: SocketAddr,
    /// Database: sqlite://PATH (created on first start) or postgres://USER@HOST/DB (for
    /// several instances sharing connections).
    #[arg(long, value_name = "URL", default_value = "sqlite://provider-forge.db")]
    database: String,
    /// Public base URL of this service; the default redirect URI is <URL>/oauth/callback.
    /// Default: http://<listen address>.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seconds before expiry at which a token is refreshed before it is handed out.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_REFRESH_MARGIN_SECS)]
    refresh_margin: u64,
    /// Send requests for HOST to ADDR instead of resolving it, like curl (staging and tests).
    /// Repeatable.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR[:ADDRPORT]")]
    resolve: Vec<String>,
    /// Trust this PEM root certificate in addition to the system's (staging and tests).
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

pub fn run(args: ServeArgs) -> u8 {
    init_logging();
    match serve(args) {
        Ok(()) => EXIT_OK,
        Err(Reported(code)) => code,
    }
}

/// Structured logs on stderr, filtered by RUST_LOG (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init (tests calling run twice) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints configuration problems (missing keys, unreadable secrets: usage problems).
fn problems(list: Vec<String>) -> Reported {
    for problem in &list {
        eprintln!(
            "provider-forge: error: {}",
            crate::diagnostics::visible(problem)
        );
    }
    Reported(EXIT_USAGE)
}

fn serve(args: ServeArgs) -> Result<(), Reported> {
    let catalog = catalog::load(&args.providers).map_err(usage)?;
    if !catalog.is_valid() {
        return Err(Reported(
            super::print_diagnostics(&catalog.diagnostics)
                .err()
                .unwrap_or(EXIT_INVALID),
        ));
    }
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    url::Url::parse(&public_url).map_err(|e| usage(format!("--public-url `{public_url}`: {e}")))?;
    let clients =
        config::load_clients(&args.clients, &catalog.providers, &public_url).map_err(problems)?;
    let (api_key, cipher) = config::keys_from_env().map_err(problems)?;
    let http = oauth_common::http_client(
        &ClientArgs {
            client_secret_file: None,
            resolve: args.resolve.clone(),
            ca_cert: args.ca_cert.clone(),
        },
        oauth::http::DEFAULT_TIMEOUT,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let store = store::open(&args.database).await.map_err(usage)?;
        let service = Service::new(
            store,
            cipher,
            catalog.providers.into_iter().map(|p| p.resolved),
            clients,
            http,
        )
        .with_refresh_margin(args.refresh_margin);
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let local = listener
            .local_addr()
            .map_err(|e| usage(format!("cannot listen on {}: {e}", args.listen)))?;
        // Tests and scripts read this line to learn the port.
        println!("provider-forge serve: listening on http://{local}");
        tracing::info!(%local, callback = %format!("{}/oauth/callback", public_url.trim_end_matches('/')), "serving");
        axum::serve(listener, api::router(Arc::new(service), api_key))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| usage(format!("server failed: {e}")))
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down");
}
