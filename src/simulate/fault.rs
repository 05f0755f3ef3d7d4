//! Faults: the ways real authorization servers misbehave, switched on one by one so a platform
//! (or the engine's own tests) can check its error handling against each.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One misbehaviour of the simulated server. The CLI spells them `NAME[:ARG]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `error-with-200`: token, refresh and revoke errors come with HTTP 200 and Zoho's error
    /// names (`invalid_code`, `invalid_client_secret`, `invalid_redirect_uri`), as Zoho
    /// answers, instead of RFC 6749's 400/401 with `invalid_grant` / `invalid_client`.
    ErrorWith200,
    /// `expires-in-string`: `expires_in` is sent as a JSON string (`"3600"`).
    ExpiresInString,
    /// `no-refresh-token`: the code exchange issues no refresh token.
    NoRefreshToken,
    /// `rotate-refresh-token`: each refresh issues a new refresh token and retires the old one.
    RotateRefreshToken,
    /// `rate-limit-after:N`: after N refreshes of one refresh token within ten minutes, the
    /// next answers HTTP 200 with Zoho's `"error":"Access Denied"`.
    RateLimitAfter(u32),
    /// `slow:MS`: token, refresh and revoke answers wait MS milliseconds.
    Slow(Duration),
    /// `server-error-once`: the next token, refresh or revoke request answers HTTP 500 (an
    /// HTML page). Each time it is given arms one more failure.
    ServerErrorOnce,
    /// `malformed-json`: token and refresh answers are HTTP 200 with truncated JSON.
    MalformedJson,
    /// `api-401-once`: the next API call answers HTTP 401 whatever its credentials (a token
    /// revoked early). Each time it is given arms one more.
    Api401Once,
    /// `api-429-once`: the next API call answers HTTP 429 with `Retry-After`.
    Api429Once,
    /// `api-500-once`: the next API call answers HTTP 500.
    Api500Once,
    /// `api-503-once`: the next API call answers HTTP 503 with `Retry-After: 1`.
    Api503Once,
    /// `api-429-date-once`: the next API call answers HTTP 429 with `Retry-After` as an HTTP
    /// date two seconds ahead.
    Api429DateOnce,
    /// `api-hang-once`: the next API call is held, unanswered, until a test releases it
    /// ([`super::Simulator::release`]) or ten minutes pass; then it is answered as any other.
    ApiHangOnce,
    /// `api-reset-once`: the next API call's connection is closed without an answer.
    ApiResetOnce,
    /// `credentials-refused`: from now on every client-credentials and token request (and a
    /// token request's refresh) answers HTTP 401 `invalid_client`, as a provider does once the
    /// client secret or the credentials were revoked.
    CredentialsRefused,
}

/// The fault names, for help texts and error messages.
pub const FAULT_NAMES: &str = "error-with-200, expires-in-string, no-refresh-token, \
     rotate-refresh-token, rate-limit-after:N, slow:MS, server-error-once, malformed-json, \
     api-401-once, api-429-once, api-500-once, api-503-once, api-429-date-once, api-hang-once, \
     api-reset-once, credentials-refused";

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let number = |what: &str| -> Result<u64, String> {
            arg.and_then(|a| a.parse::<u64>().ok())
                .ok_or_else(|| format!("fault `{name}` needs {what}, e.g. `{name}:10`"))
        };
        let fault = match name {
            "error-with-200" => Fault::ErrorWith200,
            "expires-in-string" => Fault::ExpiresInString,
            "no-refresh-token" => Fault::NoRefreshToken,
            "rotate-refresh-token" => Fault::RotateRefreshToken,
            "server-error-once" => Fault::ServerErrorOnce,
            "malformed-json" => Fault::MalformedJson,
            "api-401-once" => Fault::Api401Once,
            "api-429-once" => Fault::Api429Once,
            "api-500-once" => Fault::Api500Once,
            "api-503-once" => Fault::Api503Once,
            "api-429-date-once" => Fault::Api429DateOnce,
            "api-hang-once" => Fault::ApiHangOnce,
            "api-reset-once" => Fault::ApiResetOnce,
            "credentials-refused" => Fault::CredentialsRefused,
            "rate-limit-after" => {
                let n = number("a number of refreshes")?;
                return u32::try_from(n)
                    .map(Fault::RateLimitAfter)
                    .map_err(|_| format!("fault `{text}`: the number is too large"));
            }
            "slow" => return Ok(Fault::Slow(Duration::from_millis(number("milliseconds")?))),
            _ => {
                return Err(format!(
                    "unknown fault `{text}`; known faults: {FAULT_NAMES}"
                ));
            }
        };
        match arg {
            Some(_) => Err(format!("fault `{name}` takes no argument")),
            None => Ok(fault),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::ErrorWith200 => f.write_str("error-with-200"),
            Fault::ExpiresInString => f.write_str("expires-in-string"),
            Fault::NoRefreshToken => f.write_str("no-refresh-token"),
            Fault::RotateRefreshToken => f.write_str("rotate-refresh-token"),
            Fault::RateLimitAfter(n) => write!(f, "rate-limit-after:{n}"),
            Fault::Slow(delay) => write!(f, "slow:{}", delay.as_millis()),
            Fault::ServerErrorOnce => f.write_str("server-error-once"),
            Fault::MalformedJson => f.write_str("malformed-json"),
            Fault::Api401Once => f.write_str("api-401-once"),
            Fault::Api429Once => f.write_str("api-429-once"),
            Fault::Api500Once => f.write_str("api-500-once"),
            Fault::Api503Once => f.write_str("api-503-once"),
            Fault::Api429DateOnce => f.write_str("api-429-date-once"),
            Fault::ApiHangOnce => f.write_str("api-hang-once"),
            Fault::ApiResetOnce => f.write_str("api-reset-once"),
            Fault::CredentialsRefused => f.write_str("credentials-refused"),
        }
    }
}

/// The faults in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    pub(crate) error_with_200: bool,
    pub(crate) expires_in_string: bool,
    pub(crate) no_refresh_token: bool,
    pub(crate) rotate_refresh_token: bool,
    pub(crate) rate_limit_after: Option<u32>,
    pub(crate) slow: Option<Duration>,
    /// Server errors still to answer.
    pub(crate) server_errors: u32,
    pub(crate) malformed_json: bool,
    /// API answers still to fail (or be held), in order of arming.
    pub(crate) api_failures: std::collections::VecDeque<ApiFailure>,
    pub(crate) credentials_refused: bool,
}

/// An API call failed on purpose by a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiFailure {
    /// HTTP 401.
    Unauthorized,
    /// HTTP 429 with `Retry-After`.
    RateLimited,
    /// HTTP 500.
    ServerError,
    /// HTTP 503 with `Retry-After` in seconds.
    Unavailable,
    /// HTTP 429 with `Retry-After` as an HTTP date.
    RateLimitedUntil,
    /// Held until released, then answered as any other call.
    Hang,
    /// The connection closed without an answer.
    Reset,
}

impl Faults {
    pub(crate) fn apply(&mut self, fault: Fault) {
        match fault {
            Fault::ErrorWith200 => self.error_with_200 = true,
            Fault::ExpiresInString => self.expires_in_string = true,
            Fault::NoRefreshToken => self.no_refresh_token = true,
            Fault::RotateRefreshToken => self.rotate_refresh_token = true,
            Fault::RateLimitAfter(n) => self.rate_limit_after = Some(n),
            Fault::Slow(delay) => self.slow = Some(delay),
            Fault::ServerErrorOnce => self.server_errors += 1,
            Fault::MalformedJson => self.malformed_json = true,
            Fault::Api401Once => self.api_failures.push_back(ApiFailure::Unauthorized),
            Fault::Api429Once => self.api_failures.push_back(ApiFailure::RateLimited),
            Fault::Api500Once => self.api_failures.push_back(ApiFailure::ServerError),
            Fault::Api503Once => self.api_failures.push_back(ApiFailure::Unavailable),
            Fault::Api429DateOnce => self.api_failures.push_back(ApiFailure::RateLimitedUntil),
            Fault::ApiHangOnce => self.api_failures.push_back(ApiFailure::Hang),
            Fault::ApiResetOnce => self.api_failures.push_back(ApiFailure::Reset),
            Fault::CredentialsRefused => self.credentials_refused = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_reads_back_as_written() {
        for text in FAULT_NAMES.split(", ") {
            let text = text.replace(":N", ":10").replace(":MS", ":250");
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
    }

    #[test]
    fn bad_faults_say_what_is_wrong() {
        assert_eq!(
            "slow".parse::<Fault>().unwrap_err(),
            "fault `slow` needs milliseconds, e.g. `slow:10`"
        );
        assert_eq!(
            "malformed-json:3".parse::<Fault>().unwrap_err(),
            "fault `malformed-json` takes no argument"
        );
        assert!(
            "explode"
                .parse::<Fault>()
                .unwrap_err()
                .starts_with("unknown fault `explode`; known faults: error-with-200,")
        );
    }
}
