//! The proxy's one pooled HTTP client: hyper-util's connection pool over rustls, called
//! directly.
//!
//! The token requests of the service go through reqwest; a proxied call does not, because it
//! needs none of what reqwest adds per request (URL parsing for its redirect policy, its retry
//! layer, a connector clone, a total timeout), and the proxy is the one path whose cost per
//! call is the product. What the two clients must agree on they take from the same
//! [`HttpOptions`]: the trust (the platform's roots plus the extra roots, checked by the same
//! platform verifier reqwest uses), the fixed addresses of `--resolve`, the connect timeout and
//! the user agent. Redirects are passed back, never followed, as with reqwest's client.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::{HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::stream::{BoxError, Idle};
use crate::oauth::http::HttpOptions;

/// How long an idle pooled connection is kept, as reqwest keeps them.
const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(90);

/// The client every proxied call goes through.
#[derive(Clone)]
pub(crate) struct ProxyClient {
    client: Client<HttpsConnector<HttpConnector<Resolver>>, UpstreamBody>,
    user_agent: HeaderValue,
}

impl ProxyClient {
    /// The client for `options`. Errors name the problem (an unreadable root certificate, a
    /// platform without usable roots).
    pub(crate) fn new(options: &HttpOptions) -> Result<ProxyClient, String> {
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let mut extra = Vec::new();
        for pem in &options.extra_root_certificates {
            let certs = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("invalid PEM root certificate: {e}"))?;
            if certs.is_empty() {
                return Err("the root certificate file holds no PEM certificate".into());
            }
            extra.extend(certs);
        }
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                .map_err(|e| format!("cannot set up TLS verification: {e}"))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();

        let mut http = HttpConnector::new_with_resolver(Resolver {
            fixed: Arc::new(options.resolve.iter().cloned().collect()),
            system: GaiResolver::new(),
        });
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(ProxyClient {
            client,
            user_agent: HeaderValue::from_static(crate::oauth::http::USER_AGENT),
        })
    }

    /// Sends one request (an absolute URI); the caller bounds the wait for the answer.
    pub(crate) async fn send(
        &self,
        mut request: Request<UpstreamBody>,
    ) -> Result<Response<Incoming>, SendFailure> {
        request
            .headers_mut()
            .entry(header::USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        self.client
            .request(request)
            .await
            .map_err(|error| SendFailure::of(&error))
    }
}

/// Why an attempt got no answer.
#[derive(Debug)]
pub(crate) enum SendFailure {
    /// No connection within the connect timeout, or no answer within the proxy's.
    TimedOut,
    /// The connection failed or broke: the reason, with its causes.
    Network(String),
}

impl SendFailure {
    /// The failure of a client error: a connect timeout is a timeout, anything else a network
    /// failure described by its causes, `outer: inner: ...` (the client's errors name no URL).
    fn of(error: &(dyn std::error::Error + 'static)) -> SendFailure {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            if cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            {
                return SendFailure::TimedOut;
            }
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        SendFailure::Network(text)
    }
}

/// The body of an upstream request: none, one held whole (sent again on a retry), or the
/// caller's, streamed once.
pub(crate) enum UpstreamBody {
    Empty,
    Held(Full<Bytes>),
    Streamed(Idle<axum::body::Body>),
}

impl HttpBody for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            UpstreamBody::Empty => Poll::Ready(None),
            UpstreamBody::Held(body) => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            UpstreamBody::Streamed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpstreamBody::Empty => true,
            UpstreamBody::Held(body) => body.is_end_stream(),
            UpstreamBody::Streamed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            UpstreamBody::Empty => SizeHint::with_exact(0),
            UpstreamBody::Held(body) => body.size_hint(),
            UpstreamBody::Streamed(body) => body.size_hint(),
        }
    }
}

/// Names resolved as `--resolve` fixes them, others by the system.
#[derive(Clone)]
struct Resolver {
    fixed: Arc<HashMap<String, SocketAddr>>,
    system: GaiResolver,
}

type Addresses = Box<dyn Iterator<Item = SocketAddr> + Send>;

impl tower_service::Service<Name> for Resolver {
    type Response = Addresses;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Addresses, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.system.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        if let Some(address) = self.fixed.get(name.as_str()) {
            let address = *address;
            return Box::pin(async move { Ok(Box::new(std::iter::once(address)) as Addresses) });
        }
        let lookup = self.system.call(name);
        Box::pin(async move {
            let addresses = lookup.await?;
            Ok(Box::new(addresses) as Addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use tower_service::Service as _;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_connect_timeout_is_a_timeout_and_other_failures_say_their_causes() {
        let timed_out = Wrapped(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connect timeout",
        ));
        assert!(matches!(SendFailure::of(&timed_out), SendFailure::TimedOut));
        let refused = Wrapped(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        ));
        match SendFailure::of(&refused) {
            SendFailure::Network(text) => assert_eq!(
                text,
                "client error (Connect): Connection refused (os error 111)"
            ),
            SendFailure::TimedOut => panic!("a refused connection is not a timeout"),
        }
    }

    #[tokio::test]
    async fn a_fixed_address_wins_over_the_system_resolver() {
        let fixed: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let mut resolver = Resolver {
            fixed: Arc::new(HashMap::from([("accounts.zoho.eu".to_owned(), fixed)])),
            system: GaiResolver::new(),
        };
        let found: Vec<_> = resolver
            .call(Name::from_str("accounts.zoho.eu").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(found, [fixed]);
        let local: Vec<_> = resolver
            .call(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(
            local.iter().all(|address| address.ip().is_loopback()) && !local.is_empty(),
            "{local:?}"
        );
    }

    /// A redirect is the provider's answer, passed back: following it would send the
    /// connection's credentials to whatever host the `Location` names.
    #[tokio::test]
    async fn a_redirect_is_passed_back_and_never_followed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let elsewhere_at = elsewhere.local_addr().unwrap();
        let provider = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider_at = provider.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = provider.accept().await.unwrap();
            let mut request = [0; 4096];
            let _ = socket.read(&mut request).await.unwrap();
            let answer = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://{elsewhere_at}/steal\r\ncontent-length: 0\r\n\r\n"
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        let client = ProxyClient::new(&HttpOptions::default()).unwrap();
        let mut request = Request::new(UpstreamBody::Empty);
        *request.uri_mut() = format!("http://{provider_at}/v1/records").parse().unwrap();
        request.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret"),
        );
        // Bounded only so that a client that followed (to a host that never answers) fails
        // rather than hangs.
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), client.send(request))
            .await
            .expect("the redirect was followed to a host that never answers")
            .unwrap();
        // A client that followed would have answered with the other host's reply, and its
        // connection would be waiting in the other listener's queue (polled once, no wait).
        assert_eq!(answer.status(), 302);
        let followed = tokio::time::timeout(std::time::Duration::ZERO, elsewhere.accept()).await;
        assert!(followed.is_err(), "the redirect's host was called");
    }

    #[test]
    fn an_unreadable_root_certificate_is_refused_with_a_reason() {
        let options = HttpOptions {
            extra_root_certificates: vec![b"not a certificate".to_vec()],
            ..HttpOptions::default()
        };
        let refused = ProxyClient::new(&options).err().unwrap();
        assert_eq!(
            refused,
            "the root certificate file holds no PEM certificate"
        );
    }
}
