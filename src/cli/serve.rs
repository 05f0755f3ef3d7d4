//! `provider-forge serve`: loads and validates the providers and clients, opens (and
//! migrates) the store, and runs the HTTP service until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::oauth_common::{self, ClientArgs};
use super::{CliError, EXIT_INVALID};
use crate::catalog;
use crate::oauth;
use std::time::Duration;

use crate::service::{self, ConnectPages, ProxySettings, ReturnOrigins, Service, Webhooks, store};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Environment:\n  \
PROVIDER_FORGE_SECRET_KEY       bearer key API clients send (Authorization: Bearer KEY); \
at least 16 characters. Required.\n  \
PROVIDER_FORGE_ENCRYPTION_KEY   32 random bytes, base64 (openssl rand -base64 32): encrypts \
tokens and credentials at rest. Required; losing it loses every stored connection.\n  \
PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS  earlier keys, comma-separated, still read during a \
key rotation.\n  \
PROVIDER_FORGE_WEBHOOK_SECRET   secret webhook bodies are signed with (HMAC-SHA256), at least 16 \
characters. Required with --webhook-url.\n  \
PROVIDER_FORGE_METRICS_KEY      optional bearer key that opens GET /metrics and nothing else, for a \
metrics scraper; at least 16 characters.\n  \
RUST_LOG                        log filter (default info); logs never hold tokens, codes or keys \
(--log-format json writes them as JSON lines).\n\n\
Routes: POST /connect/sessions, GET|POST /connect/{token} (the connect page), GET /oauth/callback, \
GET /connections[?provider=ID&status=S&limit=N&cursor=C] (a page: {items, next_cursor}), \
POST /connections (api_key, basic, token_request, client_credentials), \
GET|DELETE /connections/{provider}/{connection_id}, \
GET /connections/{provider}/{connection_id}/token[?force_refresh=true&environment=NAME], \
ANY /proxy/{provider}/{connection_id}/{path} (the provider's API with the connection's \
credentials; Provider-Forge-Environment: NAME picks the environment), GET /healthz, \
GET /readyz, GET /metrics (Prometheus text format), GET /openapi.json.\n\n\
Limits: a request head must arrive within --header-read-timeout, a connection with no \
request in flight is closed after --idle-timeout, at most --max-connections are served at once \
(others wait to be accepted), bodies are limited to 64 KiB and requests to 120 s (proxied \
calls: --proxy-max-body, --proxy-timeout). On SIGINT or \
SIGTERM the service stops accepting, lets requests in flight finish, and exits after at most \
--shutdown-timeout.\n\n\
Exit codes: 0 stopped by a signal, 1 invalid provider definition or clients file, 2 usage, \
I/O or database error at start, or encryption keys that open none of the stored connections. \
With --reseal: 0 done, 1 some rows open with no configured key.")]
pub(super) struct ServeArgs {
    /// Directory (or files) of provider definitions; validated at start, and an invalid one
    /// stops the start with its diagnostics.
    #[arg(long, value_name = "DIR", required = true)]
    providers: Vec<PathBuf>,
    /// YAML file with each provider's OAuth client: client_id, client_secret_env: NAME or
    /// client_secret_file: PATH (or data_center_secrets: {CODE: {...}} for providers with a
    /// secret per data center), and optionally redirect_uri. oauth2_code providers need one;
    /// client_credentials connections use it unless they bring their own; the other modes
    /// take none.
    #[arg(long, value_name = "FILE")]
    clients: PathBuf,
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3003")]
    listen: SocketAddr,
    /// Database: sqlite://PATH (created on first start) or postgres://USER@HOST/DB (for
    /// several instances sharing connections).
    #[arg(long, value_name = "URL", default_value = "sqlite://provider-forge.db")]
    database: String,
    /// Public base URL of this service: connect pages are served at <URL>/connect/..., and the
    /// default redirect URI is <URL>/oauth/callback. Default: http://<listen address>.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// An origin (scheme, host and port, e.g. https://app.example.com) a session's return_to
    /// may be on: where the end user's browser lands after the connect page. Repeatable;
    /// without it sessions cannot name a return_to.
    #[arg(long = "return-origin", value_name = "ORIGIN")]
    return_origins: Vec<String>,
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
    /// Seconds a client has to send a whole request head before its connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_IDLE_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Most connections served at once; further ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Re-seal every stored connection still sealed under a key of
    /// PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS with PROVIDER_FORGE_ENCRYPTION_KEY, print the
    /// counts, and exit (0 when every row now opens with the current key alone, 1 when some
    /// open with no configured key) instead of serving. Run it after a key rotation; the
    /// previous key can then be dropped (ten minutes later: pending sessions keep theirs).
    #[arg(long)]
    reseal: bool,
    /// Seconds to let requests in flight finish after SIGINT or SIGTERM before exiting.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_SHUTDOWN_TIMEOUT_SECS)]
    shutdown_timeout: u64,
    /// Most retries of a proxied call after 429, 503 or a network error: idempotent methods
    /// (GET, HEAD, PUT, DELETE, OPTIONS), or any with `Provider-Forge-Retry: true`, and only
    /// with a body of declared length up to 64 KiB (a larger one streams, and cannot be sent
    /// again).
    #[arg(long, value_name = "N", default_value_t = service::DEFAULT_PROXY_RETRIES)]
    proxy_retries: u32,
    /// Seconds from a proxied call's first attempt within which its retries must start; an
    /// answer asking (Retry-After) for a longer wait is passed back at once.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_PROXY_RETRY_SECS)]
    proxy_retry_seconds: u64,
    /// Seconds the provider has to start answering a proxied call (504 after, not retried),
    /// and the longest pause in a body streaming either way.
    #[arg(long, value_name = "SECS", default_value_t = service::DEFAULT_PROXY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    proxy_timeout: u64,
    /// Largest request body a proxied call passes on, MiB (413 past it).
    #[arg(long, value_name = "MIB", default_value_t = service::DEFAULT_PROXY_MAX_BODY_MIB, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024))]
    proxy_max_body: u64,
    /// POST signed connection events (connection.created, connection.deleted,
    /// connection.reauthorization_required) to this https URL (http only to a loopback host),
    /// at least once, retried with backoff until a 2xx. The signing secret comes from
    /// PROVIDER_FORGE_WEBHOOK_SECRET.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// How the log on stderr is written: `text`, one line per event for people (coloured only
    /// on a terminal without NO_COLOR), or `json`, one JSON object per line for log
    /// collectors (`timestamp`, `level`, `target`, `fields` with the `message`, and the
    /// request's `span`).
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// The shapes of `serve`'s log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

pub(super) fn run(args: ServeArgs) -> Result<(), CliError> {
    init_logging(args.log_format);
    serve(args)
}

/// Structured logs on stderr, filtered by RUST_LOG (default `info`): text coloured only on a
/// terminal and without NO_COLOR, so a log file or collector gets no escape sequences, or JSON
/// lines, never coloured. The events are the same either way.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = format == LogFormat::Text
        && std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A second init (tests calling run twice) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    let catalog = catalog::load(&args.providers).map_err(CliError::usage)?;
    if !catalog.is_valid() {
        super::print_diagnostics(&catalog.diagnostics)?;
        return Err(CliError::Reported(EXIT_INVALID));
    }
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let parsed_public_url = url::Url::parse(&public_url)
        .map_err(|e| CliError::usage(format!("--public-url `{public_url}`: {e}")))?;
    let return_origins = ReturnOrigins::parse(args.return_origins.iter().map(String::as_str))
        .map_err(CliError::Usages)?;
    let clients = service::load_clients(&args.clients, &catalog.providers, &public_url)
        .map_err(CliError::Usages)?;
    let keys = service::keys_from_env();
    let webhooks = args
        .webhook_url
        .as_deref()
        .map(Webhooks::from_env)
        .transpose();
    let metrics_key = service::metrics_key_from_env();
    let (api_key, cipher, webhooks, metrics_key) = match (keys, webhooks, metrics_key) {
        (Ok((api_key, cipher)), Ok(webhooks), Ok(metrics_key)) => {
            (api_key, cipher, webhooks, metrics_key)
        }
        (keys, webhooks, metrics_key) => {
            let mut list = keys.err().unwrap_or_default();
            list.extend(webhooks.err().unwrap_or_default());
            list.extend(metrics_key.err());
            return Err(CliError::Usages(list));
        }
    };
    let http = oauth_common::http_options(
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
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let store = store::open(&args.database).await.map_err(CliError::usage)?;
        if args.reseal {
            let report = service::reseal(store.as_ref(), &cipher).await.map_err(CliError::usage)?;
            super::print_stdout(&format!(
                "provider-forge serve --reseal: {} connections re-sealed with key {}, {} already under it, {} open with no configured key\n",
                report.resealed,
                cipher.current_key_id(),
                report.current,
                report.unopenable.len()
            ))?;
            for (provider, connection_id) in &report.unopenable {
                // Ids were checked for control characters when their session started.
                eprintln!(
                    "provider-forge: error: connection `{connection_id}` of `{provider}` opens with no configured key; keep the key it was sealed with"
                );
            }
            return if report.unopenable.is_empty() {
                Ok(())
            } else {
                Err(CliError::Reported(EXIT_INVALID))
            };
        }
        // Keys that open none of the stored rows are a misconfiguration, not a fresh start.
        service::check_keys(store.as_ref(), &cipher).await.map_err(CliError::usage)?;
        let service = Service::new(
            store,
            cipher,
            catalog.providers.into_iter().map(|p| p.resolved),
            clients,
            &http,
        )
        .map_err(CliError::usage)?
        .with_refresh_margin(args.refresh_margin)
        .with_proxy(ProxySettings {
            retries: args.proxy_retries,
            retry_budget: Duration::from_secs(args.proxy_retry_seconds),
            timeout: Duration::from_secs(args.proxy_timeout),
            max_body_bytes: args.proxy_max_body * 1024 * 1024,
        });
        let service = match webhooks {
            Some(webhooks) => service.with_webhooks(webhooks),
            None => service,
        };
        let service = match metrics_key {
            Some(key) => service.with_metrics_key(key),
            None => service,
        };
        let tcp = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let local = tcp
            .local_addr()
            .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", args.listen)))?;
        // Connect pages are on the public URL; without one, on the address actually bound
        // (port 0 picks one).
        let pages_url = if args.public_url.is_some() {
            parsed_public_url
        } else {
            url::Url::parse(&format!("http://{local}"))
                .map_err(|e| CliError::usage(format!("cannot serve on {local}: {e}")))?
        };
        let service = service.with_connect_pages(ConnectPages {
            public_url: pages_url,
            return_origins,
        });
        // Tests and scripts read this line to learn the port. A service keeps serving when
        // nobody reads its stdout (closed, or a reader gone): the line is a courtesy, and
        // `println!` would panic there.
        let _ = super::print_stdout(&format!(
            "provider-forge serve: listening on http://{local}\n"
        ));
        tracing::info!(%local, callback = %format!("{}/oauth/callback", public_url.trim_end_matches('/')), "serving");
        let limits = service::Limits {
            header_read_timeout: Duration::from_secs(args.header_read_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        };
        let service = Arc::new(service);
        // Stopped with the process: rows it was sending stay leased until the lease expires,
        // then this or another instance sends them again.
        let delivery = service.webhook_delivery().map(|delivery| tokio::spawn(delivery.run()));
        service::serve(
            tcp,
            service::router(Arc::clone(&service), api_key),
            limits.clone(),
            shutdown_signal(),
        )
        .await;
        // Refreshes still in flight, and refreshed tokens whose commit is being retried, get
        // the same bounded wait: a provider's rotation is not dropped at a routine restart.
        if tokio::time::timeout(limits.shutdown_timeout, service.settle())
            .await
            .is_err()
        {
            tracing::warn!(
                "shutdown timeout reached with a refresh in flight or a refreshed token set not yet stored"
            );
        }
        if let Some(delivery) = delivery {
            delivery.abort();
        }
        Ok(())
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
