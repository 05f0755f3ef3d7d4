//! The HTTP client the engine talks through: reqwest over rustls (no OpenSSL), with timeouts,
//! no redirects (a token endpoint that redirects must not carry the client secret elsewhere),
//! and exactly two test-and-staging knobs: host-to-address overrides and extra trusted root
//! certificates. Nothing else about TLS can be weakened.
//!
//! Every answer is read through `send`: the client's timeout bounds the whole request, the
//! body included (reqwest's total timeout runs until the body has finished), and the body is
//! read in chunks and abandoned past [`MAX_ANSWER_BYTES`], so a hostile or broken server can
//! neither hold the engine forever nor make it buffer gigabytes.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::error::OAuthError;

/// Default limit for a whole request (connect, send, read the answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer body read from a token, refresh or revocation endpoint. A token answer is a
/// few kilobytes; 1 MiB leaves room for any real one.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What every request of this crate says it comes from.
pub(crate) const USER_AGENT: &str = concat!("provider-forge/", env!("CARGO_PKG_VERSION"));

/// How to build the HTTP client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Limit for a whole request.
    pub timeout: Duration,
    /// Host names resolved to a fixed address instead of DNS (like curl's `--resolve`). A
    /// non-zero port in the address is used when the URL names no port.
    pub resolve: Vec<(String, SocketAddr)>,
    /// PEM root certificates trusted in addition to the platform's.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            resolve: Vec::new(),
            extra_root_certificates: Vec::new(),
        }
    }
}

/// Builds the client. Errors name the problem (e.g. an unparseable certificate), never a
/// secret.
pub fn client(options: &HttpOptions) -> Result<reqwest::Client, OAuthError> {
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT);
    for (host, addr) in &options.resolve {
        builder = builder.resolve(host, *addr);
    }
    let mut roots = Vec::new();
    for pem in &options.extra_root_certificates {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| OAuthError::HttpSetup(format!("invalid PEM root certificate: {e}")))?;
        if certs.is_empty() {
            return Err(OAuthError::HttpSetup(
                "the root certificate file holds no PEM certificate".into(),
            ));
        }
        roots.extend(certs);
    }
    if !roots.is_empty() {
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| OAuthError::HttpSetup(e.without_url().to_string()))
}

/// A `--resolve` entry: `HOST:PORT:ADDR` as in curl, where PORT is the port the URLs use
/// (443 for `https://` URLs without one) and requests go to ADDR on that port; or
/// `HOST:PORT:ADDR:ADDRPORT` to send them to another port (e.g. a local test server). ADDR may
/// be an IPv6 address in brackets (`[::1]`).
pub fn parse_resolve(entry: &str) -> Result<(String, SocketAddr), String> {
    let usage = || {
        format!(
            "invalid --resolve `{entry}`: expected HOST:PORT:ADDR or HOST:PORT:ADDR:ADDRPORT (e.g. accounts.zoho.eu:443:127.0.0.1:8443)"
        )
    };
    let mut parts = entry.splitn(3, ':');
    let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(usage)?;
    let port: u16 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(usage)?;
    let rest = parts.next().ok_or_else(usage)?;
    let (addr, target_port) = if let Some(v6) = rest.strip_prefix('[') {
        let (ip, tail) = v6.split_once(']').ok_or_else(usage)?;
        let port = match tail {
            "" => port,
            _ => tail
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .ok_or_else(usage)?,
        };
        (ip, port)
    } else {
        match rest.split_once(':') {
            None => (rest, port),
            Some((ip, p)) => (ip, p.parse().map_err(|_| usage())?),
        }
    };
    let ip: IpAddr = addr.parse().map_err(|_| usage())?;
    if target_port == 0 {
        return Err(usage());
    }
    Ok((host.to_ascii_lowercase(), SocketAddr::new(ip, target_port)))
}

/// The host of a URL, for error messages (never the path or query, which may carry a token).
pub(crate) fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => "(no host)".to_owned(),
    }
}

/// Sends `request` to `endpoint` at `url` and reads the whole answer: its HTTP status and
/// body. The body is refused once it passes [`MAX_ANSWER_BYTES`] (or announces more), and the
/// client's timeout bounds everything from connecting to the last byte.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    endpoint: &'static str,
    url: &url::Url,
) -> Result<(u16, Vec<u8>), OAuthError> {
    let too_large = || OAuthError::AnswerTooLarge {
        endpoint,
        host: host_of(url),
        limit: MAX_ANSWER_BYTES,
    };
    let mut response = request
        .send()
        .await
        .map_err(|e| transport_error(endpoint, url, e))?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(endpoint, url, e))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// Maps a transport error to a typed error without its URL.
pub(crate) fn transport_error(
    endpoint: &'static str,
    url: &url::Url,
    error: reqwest::Error,
) -> OAuthError {
    if error.is_timeout() {
        return OAuthError::Timeout {
            endpoint,
            host: host_of(url),
        };
    }
    let error = error.without_url();
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    OAuthError::Network {
        endpoint,
        host: host_of(url),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_entries_follow_curl_with_an_optional_target_port() {
        assert_eq!(
            parse_resolve("accounts.zoho.eu:443:127.0.0.1").unwrap(),
            ("accounts.zoho.eu".into(), "127.0.0.1:443".parse().unwrap())
        );
        assert_eq!(
            parse_resolve("Accounts.Zoho.EU:443:127.0.0.1:8443").unwrap(),
            ("accounts.zoho.eu".into(), "127.0.0.1:8443".parse().unwrap())
        );
        assert_eq!(
            parse_resolve("h:443:[::1]:9000").unwrap(),
            ("h".into(), "[::1]:9000".parse().unwrap())
        );
        assert_eq!(
            parse_resolve("h:443:[::1]").unwrap(),
            ("h".into(), "[::1]:443".parse().unwrap())
        );
        for bad in [
            "",
            "h",
            "h:443",
            "h:x:127.0.0.1",
            "h:443:nope",
            "h:443:1.2.3.4:0",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
