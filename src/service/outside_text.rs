//! Text from outside the service (a provider's `error_description`, a callback's error
//! parameters) on its way into a log line or an answer.
//!
//! Two rules, because such text is written by someone else:
//! - It may echo the request it answers (a provider quoting the form it received), so every
//!   secret the service knows for that request (client secrets, refresh and access tokens, the
//!   authorization code, the PKCE verifier) is replaced by `[redacted]` before the error is
//!   logged or returned, in clear and in its form-encoded spelling.
//! - It may hold line breaks and terminal escape sequences, so a log line built from it has
//!   every control character, Unicode line break and bidirectional override written as an
//!   escape (`\n`, `\u{1b}`): one event is one line, and nothing reaches a terminal raw.

use crate::oauth::{Credentials, OAuthError};
use crate::resolve::table::ResolvedProvider;

/// What a scrubbed secret is replaced by.
const REDACTED: &str = "[redacted]";

/// Secrets the service knows for one request.
#[derive(Default)]
pub(super) struct Known(Vec<String>);

impl Known {
    /// Every client secret `credentials` hold for `provider`'s data centers.
    pub(super) fn client_secrets(provider: &ResolvedProvider, credentials: &Credentials) -> Self {
        let mut known = Self::default();
        for dc in &provider.data_centers {
            if let Ok(secret) = credentials.secret_for(dc) {
                known = known.with(secret.expose());
            }
        }
        known
    }

    /// Adds one secret (empty values are ignored).
    pub(super) fn with(mut self, secret: &str) -> Self {
        if !secret.is_empty() && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_owned());
        }
        self
    }

    /// `text` with every known secret replaced.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.0 {
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            for spelling in [secret.as_str(), encoded.as_str()] {
                if text.contains(spelling) {
                    text = text.replace(spelling, REDACTED);
                }
            }
        }
        text
    }

    fn scrub_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|text| self.scrub(&text))
    }

    /// The error with every text that came from outside scrubbed.
    pub(super) fn scrub_error(&self, error: OAuthError) -> OAuthError {
        match error {
            OAuthError::UserDenied { description } => OAuthError::UserDenied {
                description: self.scrub_opt(description),
            },
            OAuthError::AuthorizationFailed { error, description } => {
                OAuthError::AuthorizationFailed {
                    error: self.scrub(&error),
                    description: self.scrub_opt(description),
                }
            }
            OAuthError::Rejected {
                endpoint,
                status,
                error,
                description,
            } => OAuthError::Rejected {
                endpoint,
                status,
                error: self.scrub(&error),
                description: self.scrub_opt(description),
            },
            OAuthError::RateLimited {
                endpoint,
                description,
            } => OAuthError::RateLimited {
                endpoint,
                description: self.scrub_opt(description),
            },
            OAuthError::InvalidCallback(text) => OAuthError::InvalidCallback(self.scrub(&text)),
            OAuthError::IssuerMismatch {
                param,
                received,
                data_center,
                expected,
            } => OAuthError::IssuerMismatch {
                param,
                received: self.scrub(&received),
                data_center,
                expected,
            },
            OAuthError::UnknownLocation { location, enabled } => OAuthError::UnknownLocation {
                location: self.scrub(&location),
                enabled,
            },
            other => other,
        }
    }
}

/// `text` fit for one log line: control characters, Unicode line and paragraph separators and
/// bidirectional controls escaped as `\u{..}` (`\n`, `\r`, `\t` by name), backslashes doubled.
pub(super) fn for_log(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
                )
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_scrubbed_in_clear_and_form_encoded() {
        let known = Known::default().with("s3cr+t/x").with("rt-123").with("");
        let error = known.scrub_error(OAuthError::Rejected {
            endpoint: "refresh",
            status: 400,
            error: "invalid_request".into(),
            description: Some(
                "bad form: client_secret=s3cr%2Bt%2Fx&refresh_token=rt-123 (s3cr+t/x)".into(),
            ),
        });
        let text = error.to_string();
        assert!(!text.contains("s3cr") && !text.contains("rt-123"), "{text}");
        assert!(
            text.contains("client_secret=[redacted]&refresh_token=[redacted] ([redacted])"),
            "{text}"
        );
        let denied = known.scrub_error(OAuthError::UserDenied {
            description: Some("code rt-123".into()),
        });
        assert_eq!(
            denied.to_string(),
            "the user denied access: code [redacted]"
        );
    }

    #[test]
    fn log_text_stays_on_one_line_without_escape_sequences() {
        assert_eq!(
            for_log("a\nINFO forged\r\t\u{1b}[2J\u{9b}x\u{202e}y\u{2028}\\"),
            "a\\nINFO forged\\r\\t\\u{1b}[2J\\u{9b}x\\u{202e}y\\u{2028}\\\\"
        );
        assert_eq!(for_log("plain – text é"), "plain – text é");
    }
}
