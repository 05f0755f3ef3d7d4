//! Reading a token and its lifetime out of a token endpoint's answer, for the modes that do not
//! follow RFC 6749's answer to the letter: client credentials (the token at `access_token`,
//! else Personio's `data.token`; a token without `expires_in` lasts 55 minutes) and token
//! requests (the token, its lifetime and a refresh token at the paths the definition names).
//!
//! Paths are dot-separated keys into the JSON answer (`data.accessToken`); an empty path is the
//! whole answer (a provider that answers the bare token, as a JSON string or as text). A
//! lifetime is either `expires_in` seconds (a whole number, or one written as a string) or
//! `expires_at` as an RFC 3339 date or a Unix time in seconds or milliseconds. Anything else is
//! an error naming the path, never the value: the answer carries the token.

use serde_json::Value;

use super::error::OAuthError;
use super::secret::{AccessToken, RefreshToken};
use crate::definition::types::TokenResponse;

/// Lifetime of a client-credentials token whose answer names none (Nango's default).
pub(crate) const CLIENT_CREDENTIALS_DEFAULT_LIFETIME_SECS: u64 = 55 * 60;

/// A Unix time above this is taken as milliseconds: in seconds it would be past the year 5000.
const MILLISECONDS_FROM: u64 = 100_000_000_000;

/// What a token answer gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuedToken {
    /// The token, sent on API calls.
    pub access_token: AccessToken,
    /// A refresh token, when the definition names where the answer holds one.
    pub refresh_token: Option<RefreshToken>,
    /// When the token expires, in seconds since the Unix epoch; `None` when nothing says.
    pub expires_at: Option<u64>,
}

/// Reads a client-credentials answer (a JSON object): `access_token`, else `data.token`;
/// `expires_in` seconds, else [`CLIENT_CREDENTIALS_DEFAULT_LIFETIME_SECS`].
pub(crate) fn client_credentials(
    endpoint: &'static str,
    answer: &Value,
    now: u64,
) -> Result<IssuedToken, OAuthError> {
    let path = if lookup(answer, "access_token").is_some() {
        "access_token"
    } else if lookup(answer, "data.token").is_some() {
        "data.token"
    } else {
        return Err(malformed(
            endpoint,
            "no `access_token` (nor `data.token`) in the answer".to_owned(),
        ));
    };
    let access_token = AccessToken::new(text_at(endpoint, answer, path)?);
    let lifetime = seconds_at(endpoint, answer, "expires_in")?
        .unwrap_or(CLIENT_CREDENTIALS_DEFAULT_LIFETIME_SECS);
    Ok(IssuedToken {
        access_token,
        refresh_token: None,
        expires_at: Some(now.saturating_add(lifetime)),
    })
}

/// Reads a token request's answer at the paths `response` names. `answer` is the parsed JSON,
/// or the answer's text as a JSON string when it is not JSON (a bare token).
pub(crate) fn token_request(
    endpoint: &'static str,
    answer: &Value,
    response: &TokenResponse,
    now: u64,
) -> Result<IssuedToken, OAuthError> {
    if lookup(answer, &response.token).is_none() {
        return Err(malformed(
            endpoint,
            format!("no token at `{}` in the answer", shown(&response.token)),
        ));
    }
    let access_token = AccessToken::new(text_at(endpoint, answer, &response.token)?);
    let refresh_token = match &response.refresh_token {
        Some(path) => match lookup(answer, path) {
            None | Some(Value::Null) => None,
            Some(_) => Some(RefreshToken::new(text_at(endpoint, answer, path)?)),
        },
        None => None,
    };
    let expires_at = if let Some(path) = &response.expires_in {
        seconds_at(endpoint, answer, path)?.map(|secs| now.saturating_add(secs))
    } else if let Some(path) = &response.expires_at {
        instant_at(endpoint, answer, path)?
    } else {
        None
    };
    let expires_at =
        expires_at.or_else(|| response.lifetime_secs.map(|secs| now.saturating_add(secs)));
    Ok(IssuedToken {
        access_token,
        refresh_token,
        expires_at,
    })
}

/// The value at a dot-separated path; the whole answer for an empty path.
pub(crate) fn lookup<'a>(answer: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(answer);
    }
    path.split('.')
        .try_fold(answer, |value, key| value.as_object()?.get(key))
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "(the whole answer)"
    } else {
        path
    }
}

fn malformed(endpoint: &'static str, reason: String) -> OAuthError {
    OAuthError::MalformedResponse { endpoint, reason }
}

/// A non-empty string at `path`.
fn text_at(endpoint: &'static str, answer: &Value, path: &str) -> Result<String, OAuthError> {
    match lookup(answer, path) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        _ => Err(malformed(
            endpoint,
            format!("`{}` is not a non-empty string", shown(path)),
        )),
    }
}

/// Whole seconds at `path` (a number or a string of digits); `None` when absent or null.
fn seconds_at(
    endpoint: &'static str,
    answer: &Value,
    path: &str,
) -> Result<Option<u64>, OAuthError> {
    let invalid = |shown_as: &str| {
        malformed(
            endpoint,
            format!("`{path}` is {shown_as}, expected a whole number of seconds such as 3600"),
        )
    };
    match lookup(answer, path) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => whole_number(value)
            .map(Some)
            .ok_or_else(|| invalid(&kind(value))),
    }
}

/// An instant at `path`: an RFC 3339 date, or a Unix time in seconds or milliseconds.
fn instant_at(
    endpoint: &'static str,
    answer: &Value,
    path: &str,
) -> Result<Option<u64>, OAuthError> {
    let value = match lookup(answer, path) {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => value,
    };
    if let Some(number) = whole_number(value) {
        return Ok(Some(if number >= MILLISECONDS_FROM {
            number / 1000
        } else {
            number
        }));
    }
    if let Value::String(text) = value {
        if let Ok(date) =
            time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
        {
            return Ok(Some(u64::try_from(date.unix_timestamp()).unwrap_or(0)));
        }
    }
    Err(malformed(
        endpoint,
        format!(
            "`{path}` is {}, expected an RFC 3339 date or a Unix time in seconds or milliseconds",
            kind(value)
        ),
    ))
}

/// A non-negative integer, or a string of ASCII digits.
fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok()
        }
        _ => None,
    }
}

/// How a value is described in an error: its kind, never its text (it is untrusted).
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a number that is not a whole number of seconds",
        Value::String(_) => "a string that is neither a number nor a date",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn response(token: &str) -> TokenResponse {
        TokenResponse {
            token: token.to_owned(),
            expires_in: None,
            expires_at: None,
            lifetime_secs: None,
            refresh_token: None,
        }
    }

    #[test]
    fn client_credentials_read_access_token_or_data_token_and_default_to_55_minutes() {
        let issued = client_credentials(
            "token",
            &json!({"access_token": "at", "expires_in": 600}),
            NOW,
        )
        .unwrap();
        assert_eq!(issued.access_token.expose(), "at");
        assert_eq!(issued.expires_at, Some(NOW + 600));
        let issued = client_credentials("token", &json!({"data": {"token": "pt"}}), NOW).unwrap();
        assert_eq!(issued.access_token.expose(), "pt");
        assert_eq!(issued.expires_at, Some(NOW + 3300));
        let error = client_credentials("token", &json!({"token": "x"}), NOW).unwrap_err();
        assert!(error.to_string().contains("no `access_token`"), "{error}");
    }

    #[test]
    fn a_token_request_reads_the_token_at_its_path_and_the_expiry_in_every_form() {
        let answer = json!({"data": {"accessToken": "t-1", "ttl": "900", "refresh": "r-1"}});
        let issued = token_request(
            "token",
            &answer,
            &TokenResponse {
                expires_in: Some("data.ttl".into()),
                refresh_token: Some("data.refresh".into()),
                ..response("data.accessToken")
            },
            NOW,
        )
        .unwrap();
        assert_eq!(issued.access_token.expose(), "t-1");
        assert_eq!(issued.refresh_token.unwrap().expose(), "r-1");
        assert_eq!(issued.expires_at, Some(NOW + 900));

        let at = |value: Value| {
            token_request(
                "token",
                &json!({"token": "t", "expiresAt": value}),
                &TokenResponse {
                    expires_at: Some("expiresAt".into()),
                    ..response("token")
                },
                NOW,
            )
            .map(|issued| issued.expires_at)
        };
        assert_eq!(at(json!(1_900_000_000)).unwrap(), Some(1_900_000_000));
        assert_eq!(
            at(json!(1_900_000_000_123u64)).unwrap(),
            Some(1_900_000_000)
        );
        assert_eq!(at(json!("1900000000")).unwrap(), Some(1_900_000_000));
        // 2030-03-17T17:46:40Z is 1_900_000_000.
        assert_eq!(
            at(json!("2030-03-17T17:46:40Z")).unwrap(),
            Some(1_900_000_000)
        );
        assert_eq!(
            at(json!("2030-03-17T19:46:40+02:00")).unwrap(),
            Some(1_900_000_000)
        );
        let error = at(json!("next tuesday")).unwrap_err().to_string();
        assert!(
            error.contains("`expiresAt`") && !error.contains("tuesday"),
            "{error}"
        );
    }

    #[test]
    fn without_a_lifetime_in_the_answer_the_declared_one_applies_else_none() {
        let answer = json!({"token": "t"});
        let issued = token_request(
            "token",
            &answer,
            &TokenResponse {
                lifetime_secs: Some(1200),
                ..response("token")
            },
            NOW,
        )
        .unwrap();
        assert_eq!(issued.expires_at, Some(NOW + 1200));
        let issued = token_request("token", &answer, &response("token"), NOW).unwrap();
        assert_eq!(issued.expires_at, None);
    }

    #[test]
    fn an_empty_path_is_the_whole_answer_and_a_missing_token_names_its_path_only() {
        let issued = token_request("token", &json!("bare-token"), &response(""), NOW).unwrap();
        assert_eq!(issued.access_token.expose(), "bare-token");
        let error = token_request(
            "token",
            &json!({"data": {"other": "secret-ish"}}),
            &response("data.accessToken"),
            NOW,
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`data.accessToken`"), "{error}");
        assert!(!error.contains("secret-ish"), "{error}");
        let error = token_request("token", &json!({"token": 5}), &response("token"), NOW)
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a non-empty string"), "{error}");
    }
}
