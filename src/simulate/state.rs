//! What the simulated server remembers: the user and consent it plays, the faults in force,
//! its clock, the grants it issued, and every request it saw.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::fault::Faults;
use super::routes::Endpoint;

/// Whether the simulated user consents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    /// The user allows access: the callback carries a code.
    #[default]
    Allow,
    /// The user refuses: the callback carries `error=access_denied`.
    Deny,
}

/// A request as the simulator saw it. Its parameters may hold secrets (the client secret, a
/// code, a token): they are kept for assertions in tests and never printed; `Debug` shows
/// their names only.
#[derive(Clone)]
pub struct RecordedRequest {
    /// Host name the request was sent to (from the Host header, without port).
    pub host: String,
    /// Path of the request.
    pub path: String,
    /// The endpoint it hit.
    pub endpoint: Endpoint,
    /// `grant_type`, when sent.
    pub grant_type: Option<String>,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Form-body parameters, in order.
    pub form: Vec<(String, String)>,
    /// Client id and secret from an HTTP Basic Authorization header, when sent.
    pub basic_auth: Option<(String, String)>,
    /// What the simulator did (as written to the log); `None` while the answer is pending
    /// (e.g. delayed by `slow:MS`).
    pub outcome: Option<String>,
}

impl RecordedRequest {
    /// The first value of parameter `name`, from the query or else the form.
    pub fn param(&self, name: &str) -> Option<&str> {
        find(&self.query, name).or_else(|| find(&self.form, name))
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |params: &[(String, String)]| {
            params
                .iter()
                .map(|(name, _)| name.clone())
                .collect::<Vec<_>>()
        };
        f.debug_struct("RecordedRequest")
            .field("host", &self.host)
            .field("path", &self.path)
            .field("endpoint", &self.endpoint)
            .field("grant_type", &self.grant_type)
            .field("query", &names(&self.query))
            .field("form", &names(&self.form))
            .field("basic_auth", &self.basic_auth.as_ref().map(|_| "[redacted]"))
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// The first value of `name` in `params`.
pub(crate) fn find<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An authorization code and what it was issued for.
pub(crate) struct CodeGrant {
    pub(crate) provider: usize,
    pub(crate) dc: usize,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) challenge: Option<String>,
    pub(crate) issued_at: u64,
    pub(crate) used: bool,
}

/// A refresh or access token and what it belongs to.
pub(crate) struct TokenGrant {
    pub(crate) provider: usize,
    pub(crate) dc: usize,
    pub(crate) scope: String,
    /// Clock readings of the refreshes made with it (refresh tokens only).
    pub(crate) refreshes: Vec<u64>,
    pub(crate) revoked: bool,
}

/// The simulator's clock: real time since start plus whatever a test advanced it by, so codes
/// expire for real in a long-running `simulate` and on demand in a test.
pub(crate) struct Clock {
    start_unix: u64,
    started: Instant,
    advanced: Duration,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            start_unix: crate::oauth::token::unix_now(),
            started: Instant::now(),
            advanced: Duration::ZERO,
        }
    }

    /// Seconds since the Unix epoch, as the simulator sees them.
    pub(crate) fn now(&self) -> u64 {
        self.start_unix + (self.started.elapsed() + self.advanced).as_secs()
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        self.advanced += by;
    }
}

/// Everything that changes while the simulator runs.
pub(crate) struct State {
    /// The user's data center (a code), when set; else each provider's default.
    pub(crate) user_data_center: Option<String>,
    pub(crate) consent: Consent,
    pub(crate) faults: Faults,
    pub(crate) clock: Clock,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) refresh_tokens: HashMap<String, TokenGrant>,
    pub(crate) access_tokens: HashMap<String, TokenGrant>,
    /// Every code and token issued, in order (for secret scans).
    pub(crate) issued: Vec<String>,
    pub(crate) requests: Vec<RecordedRequest>,
}

impl State {
    /// A new random value (128 bits) with a recognisable prefix, remembered as issued.
    pub(crate) fn issue(&mut self, prefix: &str) -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let value = format!("{prefix}-{}", URL_SAFE_NO_PAD.encode(bytes));
        self.issued.push(value.clone());
        value
    }
}
