//! Calls to the provider's API with a connection's credentials applied exactly as the resolved
//! table says: the headers and query parameters come filled from
//! [`crate::resolve::connection::fill_api_request`] (or `fill_verify_request`), and this module
//! only sends them. It never adds a credential of its own, and a path can never move the call
//! off the API's host.
//!
//! [`call`] makes one call and returns whatever the API answered; [`verify`] runs the
//! definition's verification (each endpoint in turn until one answers 2xx) and turns a refusal
//! into an error with the provider's words, secrets cut out.

use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::error::OAuthError;
use super::http::host_of;
use super::summary::summarise;
use crate::definition::types::VerifyMethod;
use crate::resolve::connection::{ApiRequest, Filled, VerifyCall};

/// Largest API answer read (the body of one `request`).
pub const MAX_API_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// What the API answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    /// HTTP status.
    pub status: u16,
    /// The `Retry-After` header, when sent (429, 503).
    pub retry_after: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl ApiAnswer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One API call: `method` at `path` under the request's base URL, with its headers and query
/// parameters, and `body` (JSON when it parses as JSON, else sent as it is).
pub async fn call(
    http: &reqwest::Client,
    api: &ApiRequest,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> Result<ApiAnswer, OAuthError> {
    let url = url_under(&api.base_url, path)?;
    let method =
        reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            OAuthError::InvalidEndpoint {
                url: method.to_owned(),
                reason: "not an HTTP method".to_owned(),
            }
        })?;
    send(http, method, url, &api.headers, &api.query, body).await
}

/// Runs the verification: each endpoint in turn until one answers 2xx. A refusal is
/// [`OAuthError::Refused`] with the last answer's summary, `secrets` cut out.
pub async fn verify(
    http: &reqwest::Client,
    verification: &VerifyCall,
    secrets: &[&str],
) -> Result<(), OAuthError> {
    let method = match verification.method {
        VerifyMethod::Get => reqwest::Method::GET,
        VerifyMethod::Post => reqwest::Method::POST,
        VerifyMethod::Head => reqwest::Method::HEAD,
    };
    let mut refusal = None;
    for url in &verification.urls {
        let url = Url::parse(url).map_err(|e| OAuthError::InvalidEndpoint {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let answer = send(
            http,
            method.clone(),
            url,
            &verification.headers,
            &verification.query,
            None,
        )
        .await?;
        if answer.is_success() {
            return Ok(());
        }
        refusal = Some(refused("verification", &answer, secrets));
    }
    Err(refusal.unwrap_or(OAuthError::Refused {
        endpoint: "verification",
        status: 0,
        summary: Some("the definition names no verification endpoint".to_owned()),
    }))
}

/// The error for a refused answer: its status and summary.
pub(crate) fn refused(endpoint: &'static str, answer: &ApiAnswer, secrets: &[&str]) -> OAuthError {
    let summary = summarise(&answer.body, secrets);
    OAuthError::Refused {
        endpoint,
        status: answer.status,
        summary: (!summary.is_empty()).then_some(summary),
    }
}

/// `path` under `base`: relative to the base URL's path, with its own query string kept. A
/// full URL, or a path that would reach another host, is refused.
pub(crate) fn url_under(base: &str, path: &str) -> Result<Url, OAuthError> {
    let invalid = |reason: &str| OAuthError::InvalidEndpoint {
        url: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.contains("://") {
        return Err(invalid(
            "give a path under the API base URL (e.g. `v1/models`), not a full URL",
        ));
    }
    let joined = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let url = Url::parse(&joined).map_err(|e| invalid(&e.to_string()))?;
    let base_url = Url::parse(base).map_err(|e| invalid(&e.to_string()))?;
    if url.host_str() != base_url.host_str() || url.port() != base_url.port() {
        return Err(invalid("the path leaves the API's host"));
    }
    Ok(url)
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    mut url: Url,
    headers: &indexmap::IndexMap<String, Filled>,
    query: &indexmap::IndexMap<String, Filled>,
    body: Option<&[u8]>,
) -> Result<ApiAnswer, OAuthError> {
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(name, value)| (name, value.expose())));
    }
    let mut request = http.request(method, url.clone());
    for (name, value) in headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| OAuthError::InvalidEndpoint {
                url: name.clone(),
                reason: "not a valid header name".to_owned(),
            })?;
        let mut value =
            HeaderValue::from_str(value.expose()).map_err(|_| OAuthError::InvalidEndpoint {
                url: name.to_string(),
                reason: "the filled header value is not a valid header value".to_owned(),
            })?;
        value.set_sensitive(true);
        request = request.header(name, value);
    }
    if let Some(body) = body {
        let json = serde_json::from_slice::<serde_json::Value>(body).is_ok();
        if json
            && !headers
                .keys()
                .any(|name| name.eq_ignore_ascii_case("content-type"))
        {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
        }
        request = request.body(body.to_vec());
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| super::http::transport_error("API", &url, e))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let too_large = || OAuthError::AnswerTooLarge {
        endpoint: "API",
        host: host_of(&url),
        limit: MAX_API_ANSWER_BYTES,
    };
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| super::http::transport_error("API", &url, e))?
    {
        if body.len() + chunk.len() > MAX_API_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(ApiAnswer {
        status,
        retry_after,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_stays_under_the_base_url_and_on_its_host() {
        let url = url_under("https://api.anthropic.com", "/v1/models?limit=2").unwrap();
        assert_eq!(url.as_str(), "https://api.anthropic.com/v1/models?limit=2");
        let url = url_under("https://acme.freshdesk.com/api/v2/", "tickets").unwrap();
        assert_eq!(url.as_str(), "https://acme.freshdesk.com/api/v2/tickets");
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "@evil.example/x",
        ] {
            let result = url_under("https://api.example.com", bad);
            assert!(
                result.as_ref().is_err()
                    || result.as_ref().unwrap().host_str() == Some("api.example.com"),
                "{bad}: {result:?}"
            );
        }
    }
}
