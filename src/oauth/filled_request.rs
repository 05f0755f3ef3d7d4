//! Sending a token request the resolved table has filled
//! ([`crate::resolve::connection::fill_token_request`]): its method and URL, its headers, and
//! its parameters in the body encoding the definition names (form, JSON, or the query string),
//! plus what the engine adds itself (client authentication, a refresh token, scopes). The
//! answer is read whole, bounded as every token answer is.

use indexmap::IndexMap;
use reqwest::header::{HeaderName, HeaderValue};

use super::error::OAuthError;
use super::http::send;
use crate::definition::types::{HttpMethod, TokenBody};
use crate::resolve::connection::TokenRequest;

/// Sends `request` with `extra` parameters added (never replacing one the definition sets) and
/// `authenticate` applied to the request builder (an HTTP Basic header, or nothing). Returns the
/// answer's status and body.
pub(crate) async fn send_filled(
    http: &reqwest::Client,
    endpoint: &'static str,
    request: &TokenRequest,
    extra: Vec<(String, String)>,
    authenticate: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Result<(u16, Vec<u8>), OAuthError> {
    let url = super::authorize::parse_endpoint(request.url.expose()).map_err(|_| {
        OAuthError::InvalidEndpoint {
            // The URL may carry a credential in its query: name the host only.
            url: format!("the {endpoint} URL"),
            reason: "it does not parse".to_owned(),
        }
    })?;
    let mut params: IndexMap<String, String> = request
        .params
        .iter()
        .map(|(name, value)| (name.clone(), value.expose().to_owned()))
        .collect();
    for (name, value) in extra {
        params.entry(name).or_insert(value);
    }
    let builder = match request.method {
        HttpMethod::Get => http.get(url.clone()),
        HttpMethod::Post => http.post(url.clone()),
    };
    let mut builder = authenticate(builder).header(reqwest::header::ACCEPT, "application/json");
    for (name, value) in &request.headers {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| OAuthError::InvalidEndpoint {
                url: format!("the {endpoint} header `{name}`"),
                reason: "not a valid header name".to_owned(),
            })?;
        let mut value =
            HeaderValue::from_str(value.expose()).map_err(|_| OAuthError::InvalidEndpoint {
                url: format!("the {endpoint} header `{name}`"),
                reason: "its filled value is not a valid header value".to_owned(),
            })?;
        value.set_sensitive(true);
        builder = builder.header(name, value);
    }
    let builder = if params.is_empty() {
        builder
    } else {
        match (request.body, request.method) {
            (TokenBody::Query, _) | (_, HttpMethod::Get) => builder.query(&params),
            (TokenBody::Form, HttpMethod::Post) => builder.form(&params),
            (TokenBody::Json, HttpMethod::Post) => builder.json(&params),
        }
    };
    send(builder, endpoint, &url).await
}

/// The origin (`https://host[:port]`) of a token URL: what a token file records as the server
/// its tokens came from, so they are never sent elsewhere.
pub(crate) fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default()
}
