//! When a proxied call is made again, and after how long.
//!
//! - **Which answers:** 429 and 503, and network errors (no answer at all). A timeout is not
//!   retried: a provider that hangs once mostly hangs again, and the caller's wait would
//!   double.
//! - **Which calls:** idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS), whose repetition
//!   changes nothing the first did not; any other only when the caller opts in with
//!   `Provider-Forge-Retry: true`. And only with a body the proxy still holds
//!   ([`super::stream`]): a streamed body is gone once sent.
//! - **How long:** what the answer asks for: the longest of `Retry-After` (seconds or an HTTP
//!   date) and the headers the definition names (`api.retry.after`: seconds; `api.retry.at`:
//!   Unix seconds, Unix milliseconds, or an HTTP date; a number below 10^9 is taken as seconds
//!   to wait); without one, 0.5 s doubling.
//! - **How often:** at most `--proxy-retries` times, and never past `--proxy-retry-seconds`
//!   since the first attempt: an answer asking for a longer wait is passed back at once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::header::{HeaderMap, RETRY_AFTER};
use axum::http::{Method, StatusCode};
use tokio::time::Instant;

use crate::definition::types::RetryHeaders;

/// The first wait when the answer names none.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Whether repeating `method` changes nothing the first call did not.
pub(crate) fn idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}

/// Whether an answer is worth waiting for and asking again.
pub(crate) fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
}

/// How long an answer asks the caller to wait: the longest of the headers that say so;
/// `None` when none does (or none can be read).
pub(crate) fn asked_wait(
    headers: &HeaderMap,
    named: &RetryHeaders,
    now: SystemTime,
) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let after = std::iter::once(RETRY_AFTER.as_str())
        .chain(named.after.iter().map(String::as_str))
        .filter_map(|name| wait_after(text(name)?, now));
    let at = named
        .at
        .iter()
        .filter_map(|name| wait_until(text(name)?, now));
    after.chain(at).max()
}

/// A `Retry-After` value: seconds (fractions allowed), or an HTTP date.
fn wait_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    match value.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::try_from_secs_f64(secs).ok(),
        Ok(_) => None,
        Err(_) => until_date(value, now),
    }
}

/// A reset time: Unix seconds or milliseconds, or an HTTP date; a small number is seconds
/// to wait (some APIs send the time left under a name that says "reset").
fn wait_until(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let Ok(number) = value.parse::<u64>() else {
        return until_date(value, now);
    };
    let at = match number {
        n if n >= 1_000_000_000_000 => UNIX_EPOCH + Duration::from_millis(n),
        n if n >= 1_000_000_000 => UNIX_EPOCH + Duration::from_secs(n),
        n => return Some(Duration::from_secs(n)),
    };
    Some(at.duration_since(now).unwrap_or_default())
}

fn until_date(value: &str, now: SystemTime) -> Option<Duration> {
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// The retries one call has left.
#[derive(Debug)]
pub(crate) struct Schedule {
    left: u32,
    deadline: Instant,
    backoff: Duration,
}

impl Schedule {
    /// At most `retries` retries, none later than `budget` after `start`.
    pub(crate) fn new(retries: u32, budget: Duration, start: Instant) -> Schedule {
        Schedule {
            left: retries,
            deadline: start + budget,
            backoff: FIRST_BACKOFF,
        }
    }

    /// The wait before the next retry, at `now`, with `asked` the wait the answer asked for;
    /// `None` when no retry is left or the wait would end past the budget.
    pub(crate) fn next(&mut self, asked: Option<Duration>, now: Instant) -> Option<Duration> {
        let wait = asked.unwrap_or(self.backoff);
        if self.left == 0 || now + wait > self.deadline {
            return None;
        }
        self.left -= 1;
        self.backoff = self.backoff.saturating_mul(2);
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    axum::http::HeaderName::from_static(name),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    /// 2026-01-01T00:00:00Z.
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let none = RetryHeaders::default();
        let wait = |value: &str| asked_wait(&headers(&[("retry-after", value)]), &none, now());
        assert_eq!(wait("3"), Some(Duration::from_secs(3)));
        assert_eq!(wait(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(
            wait("Thu, 01 Jan 2026 00:00:07 GMT"),
            Some(Duration::from_secs(7))
        );
        assert_eq!(wait("Wed, 31 Dec 2025 23:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(wait("soon"), None);
        assert_eq!(wait("-1"), None);
        assert_eq!(asked_wait(&HeaderMap::new(), &none, now()), None);
    }

    #[test]
    fn the_definitions_headers_count_and_the_longest_wait_wins() {
        let named = RetryHeaders {
            after: vec!["x-ratelimit-retry-after".into()],
            at: vec!["x-ratelimit-reset".into(), "x-reset-ms".into()],
        };
        let wait = |pairs: &[(&'static str, &str)]| asked_wait(&headers(pairs), &named, now());
        assert_eq!(
            wait(&[("retry-after", "2"), ("x-ratelimit-retry-after", "5")]),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "1767225610")]),
            Some(Duration::from_secs(10)),
            "Unix seconds"
        );
        assert_eq!(
            wait(&[("x-reset-ms", "1767225600250")]),
            Some(Duration::from_millis(250)),
            "Unix milliseconds"
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "30")]),
            Some(Duration::from_secs(30)),
            "seconds left"
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset", "Thu, 01 Jan 2026 00:01:00 GMT")]),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            wait(&[("x-other", "99")]),
            None,
            "only the named headers count"
        );
    }

    #[test]
    fn only_idempotent_methods_and_429_and_503_are_retried() {
        for method in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"] {
            assert!(idempotent(&method.parse().unwrap()), "{method}");
        }
        for method in ["POST", "PATCH", "CONNECT"] {
            assert!(!idempotent(&method.parse().unwrap()), "{method}");
        }
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(retryable(StatusCode::SERVICE_UNAVAILABLE));
        for status in [500, 502, 504, 401, 404] {
            assert!(!retryable(StatusCode::from_u16(status).unwrap()));
        }
    }

    #[test]
    fn retries_stop_at_their_count_and_at_their_budget() {
        let start = Instant::now();
        let mut schedule = Schedule::new(2, Duration::from_secs(10), start);
        assert_eq!(schedule.next(None, start), Some(Duration::from_millis(500)));
        assert_eq!(schedule.next(None, start), Some(Duration::from_secs(1)));
        assert_eq!(schedule.next(None, start), None, "two retries");

        let mut schedule = Schedule::new(5, Duration::from_secs(10), start);
        let secs = Duration::from_secs;
        assert_eq!(
            schedule.next(Some(secs(60)), start),
            None,
            "a wait past the budget is not made"
        );
        assert_eq!(schedule.next(Some(secs(6)), start), Some(secs(6)));
        let later = start + secs(6);
        assert_eq!(schedule.next(Some(secs(5)), later), None);
        assert_eq!(schedule.next(Some(secs(4)), later), Some(secs(4)));
    }
}
