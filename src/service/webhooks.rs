//! Signed webhooks for connection events, delivered at least once from the outbox.
//!
//! A change to a connection that a platform must hear of (created by a callback, deleted,
//! marked `reauthorization_required` by a refresh) writes its event into the store's outbox
//! in the same transaction as the change ([`event`] builds the row). [`Delivery`] sends due
//! rows: it leases a few at a time, posts each body signed with [`sign`], deletes the row on a
//! 2xx answer, and otherwise makes it due again after a capped exponential [`backoff`]. The
//! outbox is in the database, so pending events survive a restart, and the lease means one
//! instance sends each row when several share PostgreSQL. A row is sent again only when its
//! receiver did not answer 2xx, or its sender died (or lost its lease) before recording the
//! answer: at least once, so receivers deduplicate by the event `id`.
//!
//! The signature follows Stripe's scheme: `Provider-Forge-Signature: t=UNIX,sha256=HEX`
//! where `HEX` is HMAC-SHA256 with the shared secret over `"{t}.{body}"`, so the timestamp
//! is covered and a receiver can refuse replays older than its tolerance.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use super::metrics::Metrics;
use super::store::{ConnectionRecord, DatabaseError, Lease, OutboxEvent, Store};
use crate::oauth::token::unix_now;

crate::oauth::secret::secret_type!(
    /// The secret webhook bodies are signed with (`PROVIDER_FORGE_WEBHOOK_SECRET`).
    WebhookSecret
);

/// The environment variable holding the signing secret.
pub const SECRET_ENV: &str = "PROVIDER_FORGE_WEBHOOK_SECRET";
/// The header carrying the timestamp and signature.
pub const SIGNATURE_HEADER: &str = "Provider-Forge-Signature";
/// Shortest accepted signing secret.
pub(super) const MIN_SECRET_LEN: usize = 16;

/// What happened to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A callback or `POST /connections` stored the connection (new, or replacing one).
    Created,
    /// The connection was revoked (when the provider can) and deleted.
    Deleted,
    /// The provider refused the refresh token: the user must connect again.
    ReauthorizationRequired,
}

impl EventType {
    /// The event's `type` in the body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "connection.created",
            Self::Deleted => "connection.deleted",
            Self::ReauthorizationRequired => "connection.reauthorization_required",
        }
    }
}

/// The outbox row of an event about `record` at `now` (unix seconds). The body names the
/// connection and never holds a token, a credential or a connection parameter.
pub(super) fn event(kind: EventType, record: &ConnectionRecord, now: i64) -> OutboxEvent {
    let id = format!("evt_{:032x}", rand::random::<u128>());
    let time = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let body = serde_json::json!({
        "id": id,
        "type": kind.as_str(),
        "provider": record.provider,
        "connection_id": record.connection_id,
        "data_center": record.data_center,
        "environment": record.environment,
        "time": time,
    })
    .to_string();
    OutboxEvent {
        id,
        body,
        created_at: now,
        attempts: 0,
    }
}

/// The `Provider-Forge-Signature` value of `body` sent at `timestamp` (unix seconds).
pub(super) fn sign(secret: &WebhookSecret, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},sha256={hex}")
}

/// Where events go and what signs them: checked at start.
#[derive(Debug, Clone)]
pub struct Webhooks {
    url: url::Url,
    secret: WebhookSecret,
}

impl Webhooks {
    /// `url` with the secret from [`SECRET_ENV`]; every problem is listed.
    pub fn from_env(url: &str) -> Result<Self, Vec<String>> {
        Self::new(url, std::env::var(SECRET_ENV).ok().map(WebhookSecret::new))
    }

    /// `url` signed with `secret`: the URL must be https (http only to a loopback host, for
    /// a receiver on the same machine), the secret at least `MIN_SECRET_LEN` characters.
    pub fn new(url: &str, secret: Option<WebhookSecret>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let parsed = match url::Url::parse(url) {
            Ok(parsed) if parsed.scheme() == "https" && parsed.has_host() => Some(parsed),
            Ok(parsed) if parsed.scheme() == "http" && loopback(&parsed) => Some(parsed),
            Ok(_) => {
                problems.push(format!(
                    "--webhook-url `{url}`: use an https:// URL (http:// only to 127.0.0.1, [::1] or localhost)"
                ));
                None
            }
            Err(e) => {
                problems.push(format!(
                    "--webhook-url `{url}`: {e}; give a URL such as https://platform.example.com/hooks/provider-forge"
                ));
                None
            }
        };
        let secret = match secret {
            Some(secret) if secret.expose().chars().count() >= MIN_SECRET_LEN => Some(secret),
            Some(_) => {
                problems.push(format!(
                    "{SECRET_ENV} is shorter than {MIN_SECRET_LEN} characters; create one with `openssl rand -hex 32`"
                ));
                None
            }
            None => {
                problems.push(format!(
                    "{SECRET_ENV} is not set: --webhook-url needs the secret webhook bodies are signed with (e.g. `export {SECRET_ENV}=$(openssl rand -hex 32)`), shared with the receiver"
                ));
                None
            }
        };
        match (parsed, secret) {
            (Some(url), Some(secret)) => Ok(Self { url, secret }),
            _ => Err(problems),
        }
    }
}

fn loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Seconds to wait before the next attempt after `attempts` failed ones: 1, 2, 4, ... up to
/// ten minutes.
pub(super) fn backoff(attempts: i64) -> u64 {
    const CAP_SECS: u64 = 600;
    let doublings = attempts.clamp(0, 20) as u32;
    (1u64 << doublings).min(CAP_SECS)
}

/// How often the outbox is looked at without a local wake-up (events written by other
/// instances, retries coming due).
const POLL: Duration = Duration::from_secs(1);
/// How long one POST may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows leased at once; the lease covers sending all of them at [`SEND_TIMEOUT`] each.
const BATCH: i64 = 4;
const LEASE_SECS: i64 = 60;

/// The task that sends the outbox.
pub struct Delivery {
    store: Arc<dyn Store>,
    webhooks: Webhooks,
    http: reqwest::Client,
    holder: String,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl Delivery {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        webhooks: Webhooks,
        http: reqwest::Client,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            store,
            webhooks,
            http,
            holder: format!("{:016x}", rand::random::<u64>()),
            wake,
            metrics,
        }
    }

    /// Sends due events until the task is dropped: after every local change and at least
    /// once a second. A task stopped mid-send leaves its rows leased; they are sent again
    /// once the lease expires.
    pub async fn run(self) {
        loop {
            if let Err(error) = self.send_due().await {
                tracing::warn!(%error, "webhook outbox unavailable; retrying");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Sends every event due now, a leased batch at a time.
    async fn send_due(&self) -> Result<(), DatabaseError> {
        loop {
            let now = unix_now() as i64;
            let lease = Lease {
                holder: self.holder.clone(),
                now,
                until: now + LEASE_SECS,
            };
            let events = self.store.claim_events(&lease, BATCH).await?;
            if events.is_empty() {
                return Ok(());
            }
            for event in events {
                self.send(&event).await?;
            }
        }
    }

    async fn send(&self, event: &OutboxEvent) -> Result<(), DatabaseError> {
        let timestamp = unix_now();
        let answer = self
            .http
            .post(self.webhooks.url.clone())
            .timeout(SEND_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                sign(&self.webhooks.secret, timestamp, &event.body),
            )
            .body(event.body.clone())
            .send()
            .await;
        let failure = match answer {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("answered {}", response.status().as_u16())),
            // Without the URL, which may carry a token of the receiver's.
            Err(error) => Some(error.without_url().to_string()),
        };
        self.metrics.webhook_delivery(failure.is_none());
        match failure {
            None => {
                self.store.event_delivered(&event.id, &self.holder).await?;
                tracing::info!(event = %event.id, attempts = event.attempts + 1, "webhook delivered");
            }
            Some(failure) => {
                let wait = backoff(event.attempts);
                self.store
                    .event_failed(&event.id, &self.holder, unix_now() as i64 + wait as i64)
                    .await?;
                tracing::warn!(event = %event.id, attempts = event.attempts + 1, retry_in_secs = wait, %failure, "webhook not delivered");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        // Expected value from `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac
        // 0123456789abcdef`.
        let secret = WebhookSecret::new("0123456789abcdef");
        assert_eq!(
            sign(&secret, 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,sha256=9eb18f493f8ec135d9eb2dad817c369bb4e9cbfa818657897a7437c1cd8c3a23"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(
            (0..12).map(backoff).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600]
        );
        assert_eq!(backoff(i64::MAX), 600);
    }

    #[test]
    fn the_url_is_https_or_loopback_http_and_the_secret_is_required() {
        let secret = || Some(WebhookSecret::new("0123456789abcdef"));
        for url in [
            "https://platform.example.com/hooks",
            "http://127.0.0.1:8080/hooks",
            "http://[::1]/hooks",
            "http://localhost:9000/",
        ] {
            assert!(Webhooks::new(url, secret()).is_ok(), "{url}");
        }
        for url in [
            "http://platform.example.com/hooks",
            "http://10.0.0.7/hooks",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            let problems = Webhooks::new(url, secret()).unwrap_err();
            assert!(problems[0].contains("--webhook-url"), "{url}: {problems:?}");
        }
        let problems = Webhooks::new("ftp://x", None).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[1].contains(SECRET_ENV));
        let short = Webhooks::new("https://a.example", Some(WebhookSecret::new("short")));
        assert!(short.unwrap_err()[0].contains("shorter"));
    }

    #[test]
    fn the_secret_is_never_printed() {
        let webhooks = Webhooks::new(
            "https://platform.example.com/hooks",
            Some(WebhookSecret::new("do-not-print-this-secret")),
        )
        .unwrap();
        assert!(!format!("{webhooks:?}").contains("do-not-print"));
    }
}
