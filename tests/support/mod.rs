//! Test support: the accounts-server simulator, a scripted browser, and provider loading.
#![allow(dead_code)]

pub mod simulator;
pub mod tls;

use std::path::{Path, PathBuf};

use provider_forge::catalog;
use provider_forge::resolve::table::ResolvedProvider;

#[allow(unused_imports)]
pub use simulator::{
    Endpoint, GENERIC_HOST, Registration, Secrets, Simulator, TokenMode, ZOHO_DCS, zoho_dc,
};

/// Redirect URI registered at the simulator (never served: the scripted browser stops there).
pub const REDIRECT_URI: &str = "https://api.nango.dev/oauth/callback";
pub const CLIENT_ID: &str = "1000.TESTCLIENTID";
/// Recognisable so the secret scan can look for it.
pub const SHARED_SECRET: &str = "sim-shared-client-secret-4f1c";

pub fn per_dc_secret(location: &str) -> String {
    format!("sim-{location}-client-secret-9d2e")
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Loads a provider through the catalog, i.e. the resolved table the engine must use.
pub fn load_provider(relative: &str) -> ResolvedProvider {
    let path = repo_path(relative);
    let text = std::fs::read_to_string(&path).expect("provider file");
    load_provider_text(&path, &text)
}

/// Loads a provider from edited text (e.g. Zoho with per-DC secrets) as if it were `path`.
pub fn load_provider_text(path: &Path, text: &str) -> ResolvedProvider {
    match catalog::load_one(path, text).expect("readable") {
        Ok(provider) => provider.resolved,
        Err(diagnostics) => panic!("invalid provider: {diagnostics:?}"),
    }
}

/// Zoho CRM with one secret per data center instead of a shared one.
pub fn zoho_per_dc_text() -> String {
    let text = std::fs::read_to_string(repo_path("providers/zoho-crm.yaml")).unwrap();
    assert!(text.contains("client_secret: shared"));
    text.replace("client_secret: shared", "client_secret: per_data_center")
}

pub fn shared_registration() -> Registration {
    Registration {
        client_id: CLIENT_ID.into(),
        secrets: Secrets::Shared(SHARED_SECRET.into()),
        redirect_uri: REDIRECT_URI.into(),
    }
}

pub fn per_dc_registration() -> Registration {
    Registration {
        client_id: CLIENT_ID.into(),
        secrets: Secrets::PerLocation(
            ZOHO_DCS
                .iter()
                .map(|dc| (dc.location.to_owned(), per_dc_secret(dc.location)))
                .collect(),
        ),
        redirect_uri: REDIRECT_URI.into(),
    }
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

/// Fails if any of `secrets` appears in `text`, naming where.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} contains the secret {secret}:\n{text}"
        );
    }
}

/// A Zoho test bench: the simulator with the shared-secret client, the engine's HTTP client
/// pointed at it, Zoho CRM's resolved table and the matching credentials.
pub struct ZohoBench {
    pub sim: Simulator,
    pub http: reqwest::Client,
    pub provider: ResolvedProvider,
    pub credentials: provider_forge::oauth::Credentials,
}

impl ZohoBench {
    pub async fn start(user_location: &str, timeout: std::time::Duration) -> ZohoBench {
        let sim = Simulator::start(shared_registration()).await;
        sim.set_user_location(user_location);
        let http = provider_forge::oauth::http::client(&sim.http_options(timeout)).unwrap();
        ZohoBench {
            sim,
            http,
            provider: load_provider("providers/zoho-crm.yaml"),
            credentials: provider_forge::oauth::Credentials::shared(
                CLIENT_ID,
                provider_forge::oauth::ClientSecret::new(SHARED_SECRET),
            ),
        }
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
