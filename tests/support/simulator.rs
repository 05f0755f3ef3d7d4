//! An accounts-server simulator: Zoho's nine accounts servers (by their real host names) and a
//! plain standard OAuth server, over HTTPS on one 127.0.0.1 port, behaving as
//! /work/shared/zoho-facts.md describes.
//!
//! The Zoho facts (host per location, api_domain) are written here by hand from the facts
//! sheet, independently of the provider definition, so a wrong resolved table shows up as a
//! request to the wrong host rather than agreeing with itself.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use provider_forge::oauth::HttpOptions;
use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::tls::test_pki;

/// A Zoho data center as the facts sheet lists it.
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

/// Host of the plain standard OAuth server (a reserved `.test` name).
pub const GENERIC_HOST: &str = "login.generic-idp.test";
/// Grant codes live this long (Zoho documents one to three minutes).
pub const CODE_LIFETIME_SECS: u64 = 120;
/// Zoho's refresh limit: this many refreshes per refresh token ...
pub const REFRESH_LIMIT: usize = 10;
/// ... per this many seconds.
pub const REFRESH_WINDOW_SECS: u64 = 600;

pub fn zoho_dc(location: &str) -> ZohoDc {
    *ZOHO_DCS
        .iter()
        .find(|dc| dc.location == location)
        .unwrap_or_else(|| panic!("no Zoho DC {location}"))
}

/// The OAuth client registered at the simulator.
#[derive(Debug, Clone)]
pub struct Registration {
    pub client_id: String,
    /// One secret for every DC, or one per location.
    pub secrets: Secrets,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub enum Secrets {
    Shared(String),
    PerLocation(HashMap<String, String>),
}

/// How the token endpoints (all hosts) behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    Normal,
    /// HTTP 500 with an HTML body.
    ServerError,
    /// HTTP 200 with a body that is not JSON.
    Malformed,
    /// Never answers.
    Hang,
}

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Authorize,
    /// Any POST to a token endpoint, whatever its grant type.
    Token,
    /// Token requests with `grant_type=refresh_token`.
    Refresh,
    Revoke,
}

/// A request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub host: String,
    pub endpoint: Endpoint,
    /// Query and form parameters together.
    pub params: Vec<(String, String)>,
    pub basic_auth: Option<(String, String)>,
}

struct CodeGrant {
    host: String,
    redirect_uri: String,
    issued_at: u64,
    used: bool,
    scope: String,
    challenge: Option<String>,
}

struct RefreshGrant {
    host: String,
    scope: String,
    refreshes: Vec<u64>,
    revoked: bool,
}

struct State {
    registration: Registration,
    user_location: String,
    user_denies: bool,
    token_mode: TokenMode,
    fail_next_token_requests: usize,
    now: u64,
    codes: HashMap<String, CodeGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    issued: Vec<String>,
    requests: Vec<Recorded>,
}

/// A running simulator. Dropping it stops nothing by itself; the test's runtime ends it.
pub struct Simulator {
    pub addr: SocketAddr,
    pub ca_pem: String,
    state: Arc<Mutex<State>>,
}

impl Simulator {
    pub async fn start(registration: Registration) -> Simulator {
        let mut hosts: Vec<&str> = ZOHO_DCS.iter().map(|dc| dc.accounts_host).collect();
        hosts.push(GENERIC_HOST);
        let pki = test_pki(&hosts);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            registration,
            user_location: "us".into(),
            user_denies: false,
            token_mode: TokenMode::Normal,
            fail_next_token_requests: 0,
            now: 1_700_000_000,
            codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            issued: Vec::new(),
            requests: Vec::new(),
        }));
        let acceptor = TlsAcceptor::from(pki.server_config.clone());
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let state = shared.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Simulator {
            addr,
            ca_pem: pki.ca_pem,
            state,
        }
    }

    /// Client options that send every simulated host to this server and trust its CA.
    pub fn http_options(&self, timeout: Duration) -> HttpOptions {
        let mut resolve: Vec<(String, SocketAddr)> = ZOHO_DCS
            .iter()
            .map(|dc| (dc.accounts_host.to_owned(), self.addr))
            .collect();
        resolve.push((GENERIC_HOST.to_owned(), self.addr));
        HttpOptions {
            timeout,
            resolve,
            extra_root_certificates: vec![self.ca_pem.clone().into_bytes()],
        }
    }

    /// `--resolve` values for the CLI, one per simulated host.
    pub fn resolve_args(&self) -> Vec<String> {
        ZOHO_DCS
            .iter()
            .map(|dc| dc.accounts_host)
            .chain([GENERIC_HOST])
            .map(|host| format!("{host}:443:{}", self.addr))
            .collect()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The DC the simulated user's account lives in.
    pub fn set_user_location(&self, location: &str) {
        self.with(|s| s.user_location = location.to_owned());
    }

    /// Whether the simulated user refuses consent.
    pub fn set_user_denies(&self, denies: bool) {
        self.with(|s| s.user_denies = denies);
    }

    pub fn set_token_mode(&self, mode: TokenMode) {
        self.with(|s| s.token_mode = mode);
    }

    /// The next `n` token requests answer HTTP 500, then the endpoint recovers.
    pub fn fail_next_token_requests(&self, n: usize) {
        self.with(|s| s.fail_next_token_requests = n);
    }

    /// Moves the simulator's clock (code expiry, refresh window) forward.
    pub fn advance_clock(&self, secs: u64) {
        self.with(|s| s.now += secs);
    }

    /// Requests that hit `endpoint` at `host`.
    pub fn count_at(&self, host: &str, endpoint: Endpoint) -> usize {
        self.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.host == host && r.endpoint == endpoint)
                .count()
        })
    }

    /// Requests that hit `endpoint` at any host.
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.with(|s| s.requests.iter().filter(|r| r.endpoint == endpoint).count())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }

    /// Every code and token the simulator issued (for the secret scan).
    pub fn issued_secrets(&self) -> Vec<String> {
        self.with(|s| s.issued.clone())
    }

    pub fn is_revoked(&self, refresh_token: &str) -> bool {
        self.with(|s| {
            s.refresh_tokens
                .get(refresh_token)
                .is_some_and(|grant| grant.revoked)
        })
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(state: Arc<Mutex<State>>, request: Request<Incoming>) -> Reply {
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase())
        .unwrap_or_default();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let basic_auth = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_basic);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut params = form(query.as_bytes());
    params.extend(form(&body));
    let endpoint = match path.as_str() {
        "/oauth/v2/auth" | "/oauth/authorize" => Endpoint::Authorize,
        "/oauth/v2/token" | "/oauth/token" => {
            if param(&params, "grant_type") == Some("refresh_token") {
                Endpoint::Refresh
            } else {
                Endpoint::Token
            }
        }
        "/oauth/v2/token/revoke" | "/oauth/revoke" => Endpoint::Revoke,
        _ => return text(StatusCode::NOT_FOUND, "not found"),
    };
    let generic = host == GENERIC_HOST;
    let hang = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            host: host.clone(),
            endpoint,
            params: params.clone(),
            basic_auth: basic_auth.clone(),
        });
        if matches!(endpoint, Endpoint::Token | Endpoint::Refresh) {
            if s.fail_next_token_requests > 0 {
                s.fail_next_token_requests -= 1;
                return text(StatusCode::INTERNAL_SERVER_ERROR, "<html>down</html>");
            }
            match s.token_mode {
                TokenMode::Normal => false,
                TokenMode::ServerError => {
                    return text(StatusCode::INTERNAL_SERVER_ERROR, "<html>down</html>");
                }
                TokenMode::Malformed => return text(StatusCode::OK, "{\"access_token\": \"tru"),
                TokenMode::Hang => true,
            }
        } else {
            false
        }
    };
    if hang {
        std::future::pending::<()>().await;
    }
    let mut s = state.lock().unwrap();
    match (endpoint, generic) {
        (Endpoint::Authorize, false) => zoho_authorize(&mut s, &host, &params),
        (Endpoint::Authorize, true) => generic_authorize(&mut s, &params),
        (Endpoint::Token | Endpoint::Refresh, false) => zoho_token(&mut s, &host, &params),
        (Endpoint::Token | Endpoint::Refresh, true) => generic_token(&mut s, &params, basic_auth),
        (Endpoint::Revoke, false) => zoho_revoke(&mut s, &host, &params),
        (Endpoint::Revoke, true) => generic_revoke(&mut s, &params, basic_auth),
    }
}

fn zoho_authorize(s: &mut State, host: &str, params: &[(String, String)]) -> Reply {
    let Some(this_dc) = ZOHO_DCS.iter().find(|dc| dc.accounts_host == host) else {
        return text(StatusCode::NOT_FOUND, "unknown host");
    };
    if let Some(problem) = check_authorization_request(s, params) {
        return text(StatusCode::BAD_REQUEST, problem);
    }
    let user_dc = zoho_dc(&s.user_location);
    if this_dc.location != user_dc.location {
        // The entry server sends the user on to the accounts server of their own DC.
        let query = encode(params);
        return redirect(&format!(
            "https://{}/oauth/v2/auth?{query}",
            user_dc.accounts_host
        ));
    }
    let state_param = param(params, "state").unwrap_or_default().to_owned();
    let redirect_uri = s.registration.redirect_uri.clone();
    if s.user_denies {
        return redirect(&with_query(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &state_param)],
        ));
    }
    let code = issue(s, "zoho-code");
    let grant = CodeGrant {
        host: host.to_owned(),
        redirect_uri: redirect_uri.clone(),
        issued_at: s.now,
        used: false,
        scope: param(params, "scope").unwrap_or_default().to_owned(),
        challenge: None,
    };
    s.codes.insert(code.clone(), grant);
    let accounts_server = format!("https://{host}");
    redirect(&with_query(
        &redirect_uri,
        &[
            ("state", &state_param),
            ("code", &code),
            ("location", user_dc.location),
            ("accounts-server", &accounts_server),
        ],
    ))
}

fn check_authorization_request(s: &State, params: &[(String, String)]) -> Option<&'static str> {
    if param(params, "response_type") != Some("code") {
        return Some("response_type must be code");
    }
    if param(params, "client_id") != Some(&s.registration.client_id) {
        return Some("unknown client_id");
    }
    if param(params, "redirect_uri") != Some(&s.registration.redirect_uri) {
        return Some("redirect_uri not registered");
    }
    if param(params, "state").is_none_or(str::is_empty) {
        return Some("no state");
    }
    None
}

fn zoho_token(s: &mut State, host: &str, params: &[(String, String)]) -> Reply {
    let Some(dc) = ZOHO_DCS.iter().find(|dc| dc.accounts_host == host).copied() else {
        return text(StatusCode::NOT_FOUND, "unknown host");
    };
    // Zoho answers every error with HTTP 200.
    let error = |name: &str| json_reply(StatusCode::OK, json!({ "error": name }));
    if param(params, "client_id") != Some(&s.registration.client_id) {
        return error("invalid_client");
    }
    let expected = match &s.registration.secrets {
        Secrets::Shared(secret) => Some(secret.clone()),
        Secrets::PerLocation(map) => map.get(dc.location).cloned(),
    };
    if param(params, "client_secret").is_none()
        || param(params, "client_secret") != expected.as_deref()
    {
        return error("invalid_client_secret");
    }
    match param(params, "grant_type") {
        Some("authorization_code") => {
            let now = s.now;
            let code = param(params, "code").unwrap_or_default();
            let Some(grant) = s.codes.get_mut(code) else {
                return error("invalid_code");
            };
            if grant.used || grant.host != host || now > grant.issued_at + CODE_LIFETIME_SECS {
                return error("invalid_code");
            }
            if param(params, "redirect_uri") != Some(&grant.redirect_uri) {
                return error("invalid_redirect_uri");
            }
            grant.used = true;
            let scope = grant.scope.clone();
            let access = issue(s, "zoho-at");
            let refresh = issue(s, "zoho-rt");
            s.refresh_tokens.insert(
                refresh.clone(),
                RefreshGrant {
                    host: host.to_owned(),
                    scope: scope.clone(),
                    refreshes: Vec::new(),
                    revoked: false,
                },
            );
            json_reply(
                StatusCode::OK,
                json!({
                    "access_token": access,
                    "refresh_token": refresh,
                    "scope": scope,
                    "api_domain": dc.api_domain,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }),
            )
        }
        Some("refresh_token") => {
            let now = s.now;
            let token = param(params, "refresh_token").unwrap_or_default();
            let Some(grant) = s.refresh_tokens.get_mut(token) else {
                return error("invalid_code");
            };
            if grant.revoked || grant.host != host {
                return error("invalid_code");
            }
            grant.refreshes.retain(|t| now < t + REFRESH_WINDOW_SECS);
            if grant.refreshes.len() >= REFRESH_LIMIT {
                return json_reply(
                    StatusCode::OK,
                    json!({
                        "error_description": "You have made too many requests continuously. Please try again after some time.",
                        "error": "Access Denied",
                        "status": "failure",
                    }),
                );
            }
            grant.refreshes.push(now);
            let scope = grant.scope.clone();
            let access = issue(s, "zoho-at");
            // No refresh token in a refresh answer: the client keeps the old one.
            json_reply(
                StatusCode::OK,
                json!({
                    "access_token": access,
                    "scope": scope,
                    "api_domain": dc.api_domain,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }),
            )
        }
        _ => error("unsupported_grant_type"),
    }
}

fn zoho_revoke(s: &mut State, host: &str, params: &[(String, String)]) -> Reply {
    let token = param(params, "token").unwrap_or_default();
    match s.refresh_tokens.get_mut(token) {
        Some(grant) if grant.host == host => {
            grant.revoked = true;
            json_reply(StatusCode::OK, json!({ "status": "success" }))
        }
        _ => json_reply(
            StatusCode::OK,
            json!({ "status": "failure", "error": "invalid_token" }),
        ),
    }
}

fn generic_authorize(s: &mut State, params: &[(String, String)]) -> Reply {
    if let Some(problem) = check_authorization_request(s, params) {
        return text(StatusCode::BAD_REQUEST, problem);
    }
    if param(params, "code_challenge_method") != Some("S256") {
        return text(StatusCode::BAD_REQUEST, "PKCE S256 required");
    }
    let state_param = param(params, "state").unwrap_or_default().to_owned();
    let redirect_uri = s.registration.redirect_uri.clone();
    let issuer = format!("https://{GENERIC_HOST}");
    if s.user_denies {
        return redirect(&with_query(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("state", &state_param),
                ("iss", &issuer),
            ],
        ));
    }
    let code = issue(s, "generic-code");
    let grant = CodeGrant {
        host: GENERIC_HOST.to_owned(),
        redirect_uri: redirect_uri.clone(),
        issued_at: s.now,
        used: false,
        scope: param(params, "scope").unwrap_or_default().to_owned(),
        challenge: param(params, "code_challenge").map(str::to_owned),
    };
    s.codes.insert(code.clone(), grant);
    redirect(&with_query(
        &redirect_uri,
        &[("code", &code), ("state", &state_param), ("iss", &issuer)],
    ))
}

/// RFC 6749 behaviour: client_secret_basic, errors as HTTP 400/401 JSON, refresh token
/// rotation.
fn generic_token(
    s: &mut State,
    params: &[(String, String)],
    basic_auth: Option<(String, String)>,
) -> Reply {
    let error = |status: StatusCode, name: &str| json_reply(status, json!({ "error": name }));
    let Secrets::Shared(secret) = &s.registration.secrets else {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if basic_auth != Some((s.registration.client_id.clone(), secret.clone())) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let now = s.now;
    let scope = match param(params, "grant_type") {
        Some("authorization_code") => {
            let code = param(params, "code").unwrap_or_default();
            let Some(grant) = s.codes.get_mut(code) else {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if grant.used || now > grant.issued_at + CODE_LIFETIME_SECS {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let verifier = param(params, "code_verifier").unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if grant.challenge.as_deref() != Some(challenge.as_str()) {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            if param(params, "redirect_uri") != Some(&grant.redirect_uri) {
                return error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            grant.used = true;
            grant.scope.clone()
        }
        Some("refresh_token") => {
            let token = param(params, "refresh_token").unwrap_or_default();
            match s.refresh_tokens.get_mut(token) {
                Some(grant) if !grant.revoked => {
                    // Rotation: the old refresh token stops working.
                    grant.revoked = true;
                    grant.scope.clone()
                }
                _ => return error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        _ => return error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let access = issue(s, "generic-at");
    let refresh = issue(s, "generic-rt");
    s.refresh_tokens.insert(
        refresh.clone(),
        RefreshGrant {
            host: GENERIC_HOST.to_owned(),
            scope: scope.clone(),
            refreshes: Vec::new(),
            revoked: false,
        },
    );
    json_reply(
        StatusCode::OK,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": 7200,
            "scope": scope,
        }),
    )
}

fn generic_revoke(
    s: &mut State,
    params: &[(String, String)],
    basic_auth: Option<(String, String)>,
) -> Reply {
    let Secrets::Shared(secret) = &s.registration.secrets else {
        return json_reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "invalid_client" }),
        );
    };
    if basic_auth != Some((s.registration.client_id.clone(), secret.clone())) {
        return json_reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": "invalid_client" }),
        );
    }
    if let Some(grant) = s
        .refresh_tokens
        .get_mut(param(params, "token").unwrap_or_default())
    {
        grant.revoked = true;
    }
    // RFC 7009: HTTP 200 whether or not the token was valid.
    text(StatusCode::OK, "")
}

fn issue(s: &mut State, prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let value = format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes));
    s.issued.push(value.clone());
    value
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

fn form(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn encode(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).expect("registered redirect URI");
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

fn redirect(location: &str) -> Reply {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(hyper::header::LOCATION, location)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn text(status: StatusCode, body: &str) -> Reply {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/html")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn json_reply(status: StatusCode, body: Value) -> Reply {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
