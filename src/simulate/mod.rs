//! `simulate`: a provider's authorization server, run locally from its resolved table.
//!
//! One HTTPS listener serves every host of every enabled data center of the given providers,
//! at the paths of their resolved URLs (authorization, token, refresh, revoke); the host name
//! and path of a request say which provider and DC it is for (`routes`), and providers that
//! share an OAuth server (the Zoho family on Zoho Accounts) share its endpoints. The server
//! knows nothing about any provider beyond its [`ResolvedProvider`]: the same table the OAuth
//! engine reads drives the server it talks to, so a definition can be tried end to end without
//! the provider, and the engine's own tests and the service's tests run against it.
//!
//! Every auth mode is played: the token endpoints of client credentials and token requests
//! (`token_modes`), and the provider's API at every API base URL (`api`), which answers only a
//! call that carries the credentials exactly as the definition places them. What each call
//! must carry is filled at start by the engine's own fill functions (`expected`), with the
//! credentials the simulator accepts ([`Setup::credential_values`]).
//!
//! Its certificate authority is generated at start ([`Simulator::ca_pem`]); clients send the
//! definition's real host names to it ([`Simulator::resolve_args`], [`Simulator::http_options`]).
//! Tests steer it ([`Simulator::set_user_data_center`], [`Simulator::set_consent`],
//! [`Simulator::inject`], [`Simulator::advance_clock`]) and read what reached it
//! ([`Simulator::count`], [`Simulator::requests`]).

mod api;
mod authorize;
mod connection;
mod expected;
mod fault;
mod reply;
mod routes;
mod server;
mod state;
mod tls;
mod token;
mod token_modes;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use api::RETRY_AFTER_SECS;
pub use fault::{FAULT_NAMES, Fault};
pub use routes::Endpoint;
pub use state::{Consent, RecordedRequest};
pub use token::{ACCESS_TOKEN_LIFETIME_SECS, CODE_LIFETIME_SECS, REFRESH_WINDOW_SECS};

use crate::definition::types::AuthMode;
use crate::oauth::{Credentials, HttpOptions};
use crate::resolve::connection::{ConnectionError, ConnectionValues, CredentialValues};
use crate::resolve::table::ResolvedProvider;
use connection::ServedDataCenter;
use fault::Faults;
use reply::Received;
use routes::Routes;
use state::{Clock, ServerState};

/// What to simulate and how the simulated server starts out.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The providers served (at least one).
    pub providers: Vec<ResolvedProvider>,
    /// The registered client: its id, and the secret(s) looked up by each DC's
    /// `client_secret_key` (`shared`, or the DC code when secrets are per DC).
    pub credentials: Credentials,
    /// Registered redirect URIs; empty means each provider's default redirect URI.
    pub redirect_uris: Vec<String>,
    /// The data center the simulated user's account lives in; `None` means each provider's
    /// default DC (also used for a provider that does not enable this one). Only multi-DC
    /// providers send the user on to it; any other issues the code at the DC the request
    /// reached.
    pub user_data_center: Option<String>,
    /// Whether the simulated user consents.
    pub consent: Consent,
    /// Faults in force from the start.
    pub faults: Vec<Fault>,
    /// Where to append one JSON line per request (host, path, endpoint, grant type,
    /// outcome; never a secret, code or token).
    pub log: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The connection's values (`subdomain`, `tenant`, ...), as `connect --param` gives them:
    /// each is filled into every served provider that declares it, so the server answers at
    /// the hosts such a connection calls; optional parameters left out take their defaults.
    /// A runtime value given here (e.g. `instance_url`) is the one the server hands out;
    /// otherwise the server chooses one that passes the definition's declaration.
    pub connection_values: ConnectionValues,
    /// The credentials the simulated provider accepts (`apiKey`, `username`, ...), by name;
    /// each provider takes the ones it declares. A call with other values is refused.
    pub credential_values: CredentialValues,
}

impl Setup {
    /// A setup with defaults: each provider's redirect URI and default DC, consent allowed,
    /// no faults, no log, listening on a free port of 127.0.0.1.
    pub fn new(providers: Vec<ResolvedProvider>, credentials: Credentials) -> Setup {
        Setup {
            providers,
            credentials,
            redirect_uris: Vec::new(),
            user_data_center: None,
            consent: Consent::Allow,
            faults: Vec::new(),
            log: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            connection_values: ConnectionValues::new(),
            credential_values: CredentialValues::new(),
        }
    }
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// No provider was given.
    #[error("no provider to simulate")]
    NoProviders,
    /// The user's data center is not enabled by any provider.
    #[error("data center `{code}` is not enabled by any simulated provider; enabled: {enabled}")]
    UnknownDataCenter {
        /// The code given.
        code: String,
        /// The enabled codes, comma-separated.
        enabled: String,
    },
    /// A redirect URI is not an absolute URL.
    #[error("invalid redirect URI `{0}`")]
    InvalidRedirectUri(String),
    /// A data center's client secret is missing from the credentials.
    #[error("no client secret for `{key}` (provider `{provider}`, data center `{data_center}`)")]
    MissingClientSecret {
        /// The secret key (`shared` or a DC code).
        key: String,
        /// The provider id.
        provider: String,
        /// The data center.
        data_center: String,
    },
    /// A data center's client id is missing from the credentials (providers whose data
    /// centers are separate app registrations).
    #[error("no client id for `{key}` (provider `{provider}`, data center `{data_center}`)")]
    MissingClientId {
        /// The client id key (the DC code).
        key: String,
        /// The provider id.
        provider: String,
        /// The data center.
        data_center: String,
    },
    /// A connection value is missing, or refused by its declaration.
    #[error(transparent)]
    Connection(ConnectionError),
    /// The credentials a provider accepts are missing or refused by their declarations.
    #[error(
        "provider `{provider}`: {reason}; give the credentials the simulated provider accepts as `connect` takes them (PROVIDER_FORGE_CREDENTIAL_<NAME> or --credentials-file)"
    )]
    Credentials {
        /// The provider id.
        provider: String,
        /// What is missing or refused.
        reason: String,
    },
    /// A connection value that no simulated provider declares.
    #[error("no simulated provider declares connection value `{name}`; declared: {declared}")]
    UnknownConnectionValue {
        /// The name given.
        name: String,
        /// The names the providers declare, comma-separated (or `none`).
        declared: String,
    },
    /// A resolved URL could not be served, or the TLS setup failed.
    #[error("cannot set up the simulator: {0}")]
    Setup(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The log file could not be opened.
    #[error("{path}: cannot open the log: {source}")]
    Log {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What every connection task shares: the fixed setup, and the state behind one lock.
pub(crate) struct Shared {
    /// The served tables, with this simulation's connection values filled in.
    pub(crate) providers: Vec<ResolvedProvider>,
    /// Per provider and data center: the runtime values handed out and the extra token
    /// parameters expected.
    pub(crate) served: Vec<Vec<ServedDataCenter>>,
    pub(crate) credentials: Credentials,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) routes: Routes,
    /// What each API call and token request must carry.
    pub(crate) expected: expected::Expectations,
    pub(crate) state: Mutex<ServerState>,
    log: Option<Mutex<std::fs::File>>,
    /// Releases held API calls and downloads ([`Simulator::release`]): one permit each.
    pub(crate) gate: Arc<tokio::sync::Semaphore>,
    /// Bytes received by the upload endpoint so far, counted as they arrive.
    pub(crate) uploaded: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Records a request on receipt (so a test sees it before a slow or held answer); returns
    /// its index and the delay the `slow` fault puts on its answer.
    pub(crate) fn record(
        &self,
        request: &Received,
        endpoint: Endpoint,
    ) -> (usize, Option<Duration>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.requests.push(RecordedRequest {
            host: request.host.clone(),
            path: request.path.clone(),
            endpoint,
            grant_type: request.param("grant_type").map(str::to_owned),
            query: request.query.clone(),
            form: request.form.clone(),
            body: request.body,
            basic_auth: request.basic_auth.clone(),
            outcome: None,
        });
        let delay = match endpoint {
            Endpoint::Authorize => None,
            _ => state.faults.slow,
        };
        (state.requests.len() - 1, delay)
    }

    /// Records and logs what a recorded request got.
    pub(crate) fn finish(
        &self,
        index: usize,
        request: &Received,
        endpoint: Endpoint,
        outcome: &str,
    ) {
        if let Some(recorded) = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .requests
            .get_mut(index)
        {
            recorded.outcome = Some(outcome.to_owned());
        }
        self.log(request, Some(endpoint), outcome);
    }

    /// Appends one line to the request log. Only names and outcomes: the parameters are not
    /// written, since they carry secrets.
    fn log(&self, request: &Received, endpoint: Option<Endpoint>, outcome: &str) {
        let Some(log) = &self.log else { return };
        let line = json!({
            "host": request.host,
            "path": request.path,
            "method": request.method.as_str(),
            "endpoint": endpoint.map(Endpoint::name),
            "grant_type": request.param("grant_type"),
            "outcome": outcome,
        });
        if let Ok(mut file) = log.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// A running simulated authorization server. Dropping it stops it.
pub struct Simulator {
    addr: SocketAddr,
    ca_pem: String,
    hosts: Vec<String>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Simulator {
    /// Checks the setup, generates the CA, binds the listener and starts serving (on the
    /// current tokio runtime).
    pub async fn start(setup: Setup) -> Result<Simulator, SimulateError> {
        if setup.providers.is_empty() {
            return Err(SimulateError::NoProviders);
        }
        if let Some(code) = &setup.user_data_center {
            if !setup
                .providers
                .iter()
                .any(|p| p.data_center(code).is_some())
            {
                let mut enabled: Vec<&str> = setup
                    .providers
                    .iter()
                    .flat_map(|p| p.data_center_codes())
                    .collect();
                enabled.sort();
                enabled.dedup();
                return Err(SimulateError::UnknownDataCenter {
                    code: code.clone(),
                    enabled: enabled.join(", "),
                });
            }
        }
        let with_client = setup.providers.iter().filter(|provider| {
            matches!(
                provider.auth_mode,
                AuthMode::Oauth2Code | AuthMode::ClientCredentials
            )
        });
        for provider in with_client {
            for dc in &provider.data_centers {
                if setup.credentials.client_id_for(dc).is_err() {
                    return Err(SimulateError::MissingClientId {
                        key: dc.client_id_key.clone().unwrap_or_default(),
                        provider: provider.id.clone(),
                        data_center: dc.code.clone(),
                    });
                }
                if setup.credentials.secret_for(dc).is_err() {
                    return Err(SimulateError::MissingClientSecret {
                        key: dc.client_secret_key.clone(),
                        provider: provider.id.clone(),
                        data_center: dc.code.clone(),
                    });
                }
            }
        }
        let mut redirect_uris = setup.redirect_uris.clone();
        if redirect_uris.is_empty() {
            for callback in setup.providers.iter().filter_map(|p| p.callback.as_ref()) {
                if !redirect_uris.contains(&callback.redirect_uri) {
                    redirect_uris.push(callback.redirect_uri.clone());
                }
            }
        }
        for uri in &redirect_uris {
            if url::Url::parse(uri).is_err() {
                return Err(SimulateError::InvalidRedirectUri(uri.clone()));
            }
        }
        let served = connection::serve(&setup.providers, &setup.connection_values)?;
        let expected = expected::expect(
            &setup.providers,
            &setup.connection_values,
            &served,
            &setup.credential_values,
        )?;
        let routes = Routes::new(&served.providers).map_err(SimulateError::Setup)?;
        let mut hosts = routes.hosts();
        hosts.extend(expected.hosts().map(str::to_owned));
        hosts.sort();
        hosts.dedup();
        let authority = tls::authority(&hosts).map_err(SimulateError::Setup)?;
        let log = match &setup.log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| SimulateError::Log {
                        path: path.clone(),
                        source,
                    })?,
            )),
            None => None,
        };
        let listener =
            TcpListener::bind(setup.listen)
                .await
                .map_err(|source| SimulateError::Listen {
                    addr: setup.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimulateError::Listen {
                addr: setup.listen,
                source,
            })?;
        let mut faults = Faults::default();
        for fault in &setup.faults {
            faults.apply(*fault);
        }
        let shared = Arc::new(Shared {
            providers: served.providers,
            served: served.data_centers,
            credentials: setup.credentials,
            redirect_uris,
            routes,
            expected,
            state: Mutex::new(ServerState {
                user_data_center: setup.user_data_center,
                consent: setup.consent,
                faults,
                clock: Clock::new(),
                codes: Default::default(),
                refresh_tokens: Default::default(),
                access_tokens: Default::default(),
                issued: Vec::new(),
                requests: Vec::new(),
            }),
            log,
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
            uploaded: Default::default(),
        });
        let acceptor = TlsAcceptor::from(authority.server_config);
        let task = tokio::spawn(server::serve(listener, acceptor, shared.clone()));
        Ok(Simulator {
            addr,
            ca_pem: authority.ca_pem,
            hosts,
            shared,
            task,
        })
    }

    /// The address the listener is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) that signed the server certificate: trust it to talk to the
    /// simulator.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Every host name served, sorted.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// `--resolve` values for `connect`, `refresh` and `revoke` (curl's syntax): one
    /// `HOST:443:ADDR:PORT` per host.
    pub fn resolve_args(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|host| format!("{host}:443:{}", self.addr))
            .collect()
    }

    /// HTTP client options that send every served host here and trust the CA.
    pub fn http_options(&self, timeout: Duration) -> HttpOptions {
        HttpOptions {
            timeout,
            resolve: self
                .hosts
                .iter()
                .map(|host| (host.clone(), self.addr))
                .collect(),
            extra_root_certificates: vec![self.ca_pem.clone().into_bytes()],
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut ServerState) -> T) -> T {
        let mut state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// Moves the simulated user to data center `code` (for providers that enable it).
    pub fn set_user_data_center(&self, code: &str) {
        self.with(|s| s.user_data_center = Some(code.to_owned()));
    }

    /// Whether the simulated user consents from now on.
    pub fn set_consent(&self, consent: Consent) {
        self.with(|s| s.consent = consent);
    }

    /// Puts a fault in force (`server-error-once` arms one more failure each time).
    pub fn inject(&self, fault: Fault) {
        self.with(|s| s.faults.apply(fault));
    }

    /// Releases one held API call (`api-hang-once`) or one download waiting at its `hold`
    /// mark; a release given before anything waits is kept for the next.
    pub fn release(&self) {
        self.shared.gate.add_permits(1);
    }

    /// Bytes the upload endpoint (`_simulate/upload`) has received so far, counted as they
    /// arrive, before the upload ends.
    pub fn uploaded_bytes(&self) -> u64 {
        self.shared
            .uploaded
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Ends every fault.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults = Faults::default());
    }

    /// Moves the simulator's clock forward (code expiry, the rate-limit window).
    pub fn advance_clock(&self, by: Duration) {
        self.with(|s| s.clock.advance(by));
    }

    /// Requests that hit `endpoint`, at any host.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.with(|s| s.requests.iter().filter(|r| r.endpoint == endpoint).count())
    }

    /// Requests that hit `endpoint` at `host`.
    pub fn count_at(&self, host: &str, endpoint: Endpoint) -> usize {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.endpoint == endpoint && r.host == host)
                .count()
        })
    }

    /// Every request to a served endpoint, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.with(|s| s.requests.clone())
    }

    /// Every code and token issued so far (to scan outputs for leaks).
    pub fn issued_secrets(&self) -> Vec<String> {
        self.with(|s| s.issued.clone())
    }

    /// Whether `token` (a refresh or access token issued here) has been revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        self.with(|s| {
            s.refresh_tokens
                .get(token)
                .or_else(|| s.access_tokens.get(token))
                .is_some_and(|grant| grant.revoked)
        })
    }
}
