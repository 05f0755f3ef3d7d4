//! Test support, shared by every module of the test binary: glue around the library's
//! simulator (`provider_forge::simulate`), the Zoho facts the tests check the resolved tables
//! against, a scripted browser, and provider loading. `cli` runs the binary, `lsp_client`
//! speaks to its language server, `service` runs `serve` on a database of its own,
//! `connect_page` holds the connect-page tests' steps and `browser` drives headless Chromium.

pub mod browser;
pub mod cli;
pub mod connect_page;
pub mod lsp_client;
pub mod service;

use std::path::{Path, PathBuf};
use std::time::Duration;

use provider_forge::catalog;
use provider_forge::oauth::{ClientSecret, Credentials};
use provider_forge::resolve::ResolvedProvider;

pub use provider_forge::simulate::{
    ACCESS_TOKEN_LIFETIME_SECS, CODE_LIFETIME_SECS, Consent, Endpoint, Fault, REFRESH_WINDOW_SECS,
    Setup, Simulator,
};

/// A Zoho data center as the facts sheet lists it.
///
/// Written here by hand from /work/shared/zoho-facts.md, independently of the provider
/// definitions: the simulator serves whatever the resolved table says, so the tests compare
/// what comes back (issuer, api_domain, hosts hit) with these facts, and a wrong table shows
/// up as a failed assertion rather than agreeing with itself.
#[derive(Debug, Clone, Copy)]
pub struct ZohoDc {
    pub location: &'static str,
    pub accounts_host: &'static str,
    pub api_domain: &'static str,
}

/// The nine data centers (facts sheet, "Data centers").
pub const ZOHO_DCS: [ZohoDc; 9] = [
    dc("us", "accounts.zoho.com", "https://www.zohoapis.com"),
    dc("eu", "accounts.zoho.eu", "https://www.zohoapis.eu"),
    dc("in", "accounts.zoho.in", "https://www.zohoapis.in"),
    dc("au", "accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    dc("cn", "accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    dc("jp", "accounts.zoho.jp", "https://www.zohoapis.jp"),
    dc("ca", "accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    dc("sa", "accounts.zoho.sa", "https://www.zohoapis.sa"),
    dc("uk", "accounts.zoho.uk", "https://www.zohoapis.uk"),
];

const fn dc(location: &'static str, host: &'static str, api: &'static str) -> ZohoDc {
    ZohoDc {
        location,
        accounts_host: host,
        api_domain: api,
    }
}

/// The twelve products of the Zoho family, in id order: the providers on the Zoho set.
pub const ZOHO_FAMILY: [&str; 12] = [
    "zoho-bigin",
    "zoho-books",
    "zoho-calendar",
    "zoho-crm",
    "zoho-desk",
    "zoho-inventory",
    "zoho-invoice",
    "zoho-mail",
    "zoho-people",
    "zoho-projects",
    "zoho-recruit",
    "zoho-workdrive",
];

/// Zoho's documented refresh limit: this many refreshes per refresh token per ten minutes.
pub const REFRESH_LIMIT: u32 = 10;

/// Host of the plain standard OAuth server of tests/fixtures/generic-idp.yaml.
pub const GENERIC_HOST: &str = "login.generic-idp.test";
pub const GENERIC_FIXTURE: &str = "tests/fixtures/generic-idp.yaml";

/// Redirect URI registered at the simulator (never served: the scripted browser stops there).
pub const REDIRECT_URI: &str = "https://api.nango.dev/oauth/callback";
pub const CLIENT_ID: &str = "1000.TESTCLIENTID";
/// Recognisable so the secret scan can look for it.
pub const SHARED_SECRET: &str = "sim-shared-client-secret-4f1c";

pub fn per_dc_secret(location: &str) -> String {
    format!("sim-{location}-client-secret-9d2e")
}

/// `relative` inside the repository (the package root).
pub fn repo_path(relative: impl AsRef<Path>) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The `.yaml` files directly in `dir`, sorted by name. The paths keep `dir`'s form: a
/// relative `dir` gives relative paths, as `validate` prints them.
pub fn yaml_files(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Loads a provider through the catalog, i.e. the resolved table the engine must use.
/// The bundled providers that authenticate with `oauth2_code` (no `auth.mode`): the ones the
/// Nango export and the simulator's authorization-code flow serve today.
pub fn oauth2_code_providers() -> Vec<PathBuf> {
    yaml_files(repo_path("providers"))
        .into_iter()
        .filter(|path| {
            let loaded = provider_forge::catalog::load(std::slice::from_ref(path)).unwrap();
            loaded
                .providers
                .iter()
                .all(|p| p.resolved.auth_mode == provider_forge::definition::AuthMode::Oauth2Code)
        })
        .collect()
}

pub fn load_provider(relative: &str) -> ResolvedProvider {
    let path = repo_path(relative);
    let text = std::fs::read_to_string(&path).expect("provider file");
    load_provider_text(&path, &text)
}

/// Loads a provider from edited text (e.g. Zoho with per-DC secrets) as if it were `path`.
pub fn load_provider_text(path: &Path, text: &str) -> ResolvedProvider {
    match catalog::load_one(path, text).expect("readable") {
        catalog::Verdict::Valid(provider) => provider.resolved,
        catalog::Verdict::Invalid(diagnostics) => panic!("invalid provider: {diagnostics:?}"),
    }
}

/// Zoho CRM with one secret per data center instead of a shared one.
pub fn zoho_per_dc_text() -> String {
    let text = std::fs::read_to_string(repo_path("providers/zoho-crm.yaml")).unwrap();
    assert!(text.contains("client_secret: shared"));
    text.replace("client_secret: shared", "client_secret: per_data_center")
}

/// Zoho CRM with per-DC secrets, resolved.
pub fn zoho_per_dc() -> ResolvedProvider {
    load_provider_text(&repo_path("providers/zoho-crm.yaml"), &zoho_per_dc_text())
}

/// The test client with one secret for every DC.
pub fn shared_credentials() -> Credentials {
    Credentials::shared(CLIENT_ID, ClientSecret::new(SHARED_SECRET))
}

/// The test client with its own secret for each Zoho DC.
pub fn per_dc_credentials() -> Credentials {
    Credentials::per_data_center(
        CLIENT_ID,
        ZOHO_DCS.iter().map(|dc| {
            (
                dc.location.to_owned(),
                ClientSecret::new(per_dc_secret(dc.location)),
            )
        }),
    )
}

/// Starts a simulator for `providers` with the shared-secret test client and REDIRECT_URI.
pub fn setup(providers: Vec<ResolvedProvider>) -> Setup {
    Setup {
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        ..Setup::new(providers, shared_credentials())
    }
}

pub async fn start(setup: Setup) -> Simulator {
    Simulator::start(setup).await.expect("simulator starts")
}

/// The engine's error for a token-side answer carrying OAuth `error` with this HTTP status and
/// no description (what the simulator sends).
pub fn rejected(
    endpoint: &'static str,
    status: u16,
    error: &str,
) -> provider_forge::oauth::OAuthError {
    provider_forge::oauth::OAuthError::Rejected {
        endpoint,
        status,
        error: error.to_owned(),
        description: None,
    }
}

/// The first value of `name` in query-style pairs.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Plays the user's browser: opens `url` and follows the provider's redirects until one
/// leads to `redirect_uri`, whose URL (the callback) it returns without opening it.
pub async fn browse_to_callback(http: &reqwest::Client, url: &str, redirect_uri: &str) -> String {
    let mut current = url.to_owned();
    for _ in 0..5 {
        if current.starts_with(redirect_uri) {
            return current;
        }
        let response = http.get(&current).send().await.expect("authorize request");
        assert_eq!(
            response.status(),
            reqwest::StatusCode::FOUND,
            "authorization endpoint {current} did not redirect: {}",
            response.text().await.unwrap_or_default()
        );
        current = response
            .headers()
            .get(reqwest::header::LOCATION)
            .expect("Location")
            .to_str()
            .unwrap()
            .to_owned();
    }
    panic!("too many redirects, last {current}");
}

/// Whether `python3` can import `module`, a reader another project wrote that a test uses as
/// its oracle. Without it: a loud SKIPPED line saying what was not checked (`unchecked`), or,
/// under CI=true (where .ci/run installs it), a failure.
pub fn python_module(module: &str, unchecked: &str) -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        let message =
            format!("python3 with {module} is not available: {unchecked} (.ci/run installs it)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// Fails if any of `secrets` appears in `text`, naming where.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} contains the secret {secret}:\n{text}"
        );
    }
}

/// A test bench: a simulator serving one provider's table, the engine's HTTP client pointed at
/// it, that resolved table and the shared-secret client's credentials.
pub struct Bench {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub provider: ResolvedProvider,
    pub credentials: provider_forge::oauth::Credentials,
}

impl Bench {
    /// Zoho CRM's servers in Zoho's dialect (errors with HTTP 200), the user in
    /// `user_location`.
    pub async fn zoho(user_location: &str, timeout: Duration) -> Bench {
        Bench::start(
            "providers/zoho-crm.yaml",
            |setup| Setup {
                user_data_center: Some(user_location.to_owned()),
                faults: vec![Fault::ErrorWith200],
                ..setup
            },
            timeout,
        )
        .await
    }

    /// The provider at `relative`, its simulator set up by `adjust` from [`setup`]'s defaults.
    pub async fn start(
        relative: &str,
        adjust: impl FnOnce(Setup) -> Setup,
        timeout: Duration,
    ) -> Bench {
        let provider = load_provider(relative);
        let setup = adjust(setup(vec![provider.clone()]));
        Bench::serve(setup, provider, shared_credentials(), timeout).await
    }

    /// A simulator running `setup`, and the engine's client for it with the table `provider`
    /// and `credentials`.
    pub async fn serve(
        setup: Setup,
        provider: ResolvedProvider,
        credentials: Credentials,
        timeout: Duration,
    ) -> Bench {
        let sim = start(setup).await;
        let http = provider_forge::oauth::http_client(&sim.http_options(timeout)).unwrap();
        Bench {
            sim,
            http,
            provider,
            credentials,
        }
    }

    /// The provider at `relative` for one connection with `values` (its connection
    /// parameters): the simulator serves the hosts such a connection calls, and the engine
    /// gets the table filled with the same values, as `connect --param` fills it.
    pub async fn connection(
        relative: &str,
        values: &[(&str, &str)],
        adjust: impl FnOnce(Setup) -> Setup,
        timeout: Duration,
    ) -> Bench {
        let unfilled = load_provider(relative);
        let values: provider_forge::resolve::ConnectionValues = values
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let provider = provider_forge::resolve::fill(&unfilled, &values)
            .expect("the engine accepts the values");
        let setup = adjust(Setup {
            connection_values: values,
            ..setup(vec![unfilled])
        });
        Bench::serve(setup, provider, shared_credentials(), timeout).await
    }

    /// Ends every fault but Zoho's dialect.
    pub fn reset_faults(&self) {
        self.sim.clear_faults();
        self.sim.inject(Fault::ErrorWith200);
    }

    /// Starts a flow (default options) and plays the browser up to the callback URL.
    pub async fn authorize(&self) -> (provider_forge::oauth::PendingAuthorization, String) {
        let pending = provider_forge::oauth::authorization_request(
            &self.provider,
            CLIENT_ID,
            &Default::default(),
        )
        .unwrap();
        let callback = browse_to_callback(&self.http, pending.url.as_str(), REDIRECT_URI).await;
        (pending, callback)
    }

    /// Parses, verifies and exchanges a callback.
    pub async fn complete(
        &self,
        pending: &provider_forge::oauth::PendingAuthorization,
        callback: &str,
    ) -> Result<provider_forge::oauth::TokenSet, provider_forge::oauth::OAuthError> {
        provider_forge::oauth::complete_authorization(
            &self.http,
            &self.provider,
            &self.credentials,
            pending,
            callback,
        )
        .await
    }

    /// Refreshes `tokens` with this bench's client and `retry`.
    pub async fn refresh(
        &self,
        tokens: &provider_forge::oauth::TokenSet,
        retry: &provider_forge::oauth::RetryPolicy,
    ) -> Result<provider_forge::oauth::TokenSet, provider_forge::oauth::OAuthError> {
        provider_forge::oauth::refresh_tokens(
            &self.http,
            &self.provider,
            &self.credentials,
            tokens,
            retry,
        )
        .await
    }

    /// A connected token set for the user.
    pub async fn connect(&self) -> provider_forge::oauth::TokenSet {
        let (pending, callback) = self.authorize().await;
        self.complete(&pending, &callback).await.unwrap()
    }
}

/// `url` with query parameter `name` set to `value` (added if absent).
pub fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    parsed.to_string()
}

/// Opens `url` once through `sim`, without following redirects: the status and Location.
pub async fn open(sim: &Simulator, url: &str) -> (u16, String) {
    let http =
        provider_forge::oauth::http_client(&sim.http_options(Duration::from_secs(10))).unwrap();
    let response = http.get(url).send().await.unwrap();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), location)
}

/// Posts `form` (with optional Basic credentials) to `url` and returns status and body.
pub async fn post(
    bench: &Bench,
    url: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut request = bench.http.post(url).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}
