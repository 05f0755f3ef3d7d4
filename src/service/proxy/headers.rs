//! Which headers cross the proxy, each way.
//!
//! Going up, the caller's headers are forwarded except:
//! - `Authorization` (the caller's key to this service) and `Cookie`: the call carries the
//!   connection's credentials, and only those;
//! - `Host` (the upstream's is set from the URL), every `Proxy-*` header, and the hop-by-hop
//!   headers of RFC 9110 section 7.6.1 (`Connection`, `Keep-Alive`, `TE`, `Trailer`,
//!   `Transfer-Encoding`, `Upgrade`, and every header the caller's `Connection` names), which
//!   describe the caller's connection to this service, not the call;
//! - `Content-Length` and `Expect`, which the client sets for the body it sends;
//! - this service's own `Provider-Forge-*` headers.
//!
//! Then the credentials are set exactly as the definition places them; a caller's header of
//! the same name is replaced, never sent beside them.
//!
//! Coming back, the upstream's headers are passed on except the hop-by-hop ones and
//! `Proxy-*`.

use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that belong to one connection, never forwarded either way.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The headers of this service's own protocol (`Provider-Forge-Environment`, ...).
pub(crate) const OWN_PREFIX: &str = "provider-forge-";

/// The names a `Connection` header lists: hop-by-hop too.
fn nominated(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect()
}

fn hop_by_hop(name: &HeaderName, nominated: &[HeaderName]) -> bool {
    HOP_BY_HOP.contains(name) || name.as_str().starts_with("proxy-") || nominated.contains(name)
}

/// The headers of the upstream request: the caller's that may go, then the credentials.
pub(crate) fn outgoing(caller: &HeaderMap, credentials: &[(HeaderName, HeaderValue)]) -> HeaderMap {
    let nominated = nominated(caller);
    let mut out = HeaderMap::with_capacity(caller.len() + credentials.len());
    for (name, value) in caller {
        let dropped = hop_by_hop(name, &nominated)
            || [
                header::AUTHORIZATION,
                header::COOKIE,
                header::HOST,
                header::CONTENT_LENGTH,
                header::EXPECT,
            ]
            .contains(name)
            || name.as_str().starts_with(OWN_PREFIX)
            || credentials.iter().any(|(set, _)| set == name);
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    for (name, value) in credentials {
        out.append(name.clone(), value.clone());
    }
    out
}

/// The headers of the answer passed back: the upstream's, minus hop-by-hop and `Proxy-*`.
pub(crate) fn incoming(upstream: &HeaderMap) -> HeaderMap {
    let nominated = nominated(upstream);
    let mut out = HeaderMap::with_capacity(upstream.len());
    for (name, value) in upstream {
        if !hop_by_hop(name, &nominated) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    fn names(headers: &HeaderMap) -> Vec<&str> {
        headers.keys().map(HeaderName::as_str).collect()
    }

    #[test]
    fn the_callers_credentials_and_connection_headers_never_go_up() {
        let caller = map(&[
            ("authorization", "Bearer service-key"),
            ("cookie", "session=1"),
            ("host", "forge.example.com"),
            ("proxy-authorization", "Basic x"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "hop"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("content-length", "12"),
            ("expect", "100-continue"),
            ("provider-forge-environment", "sandbox"),
            ("x-api-key", "the caller's own"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
            ("x-request-id", "r1"),
        ]);
        let credentials = [(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_static("definition's"),
        )];
        let out = outgoing(&caller, &credentials);
        assert_eq!(
            names(&out),
            ["content-type", "accept", "x-request-id", "x-api-key"]
        );
        assert_eq!(out.get_all("x-api-key").iter().count(), 1);
        assert_eq!(out["x-api-key"], "definition's");
    }

    #[test]
    fn the_upstreams_headers_come_back_but_its_connection_headers() {
        let upstream = map(&[
            ("connection", "close, x-hop"),
            ("x-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("proxy-authenticate", "Basic"),
            ("content-type", "application/json"),
            ("content-length", "10"),
            ("retry-after", "3"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ]);
        let back = incoming(&upstream);
        assert_eq!(
            names(&back),
            [
                "content-type",
                "content-length",
                "retry-after",
                "set-cookie"
            ]
        );
        assert_eq!(back.get_all("set-cookie").iter().count(), 2);
    }
}
