//! Receiving the callback on a loopback redirect URI (RFC 8252 section 7.3): a native app
//! listens on `http://127.0.0.1:PORT/path` and the browser brings the code there.
//!
//! Any local process can connect to that port, and browsers open spare connections they never
//! use, so the listener is a real HTTP server (hyper) that serves every connection on its own
//! task: an idle connection or a half-sent request holds only itself, and is closed after
//! [`HEAD_READ_TIMEOUT`]; a request head larger than [`MAX_HEAD_BYTES`] is refused (HTTP 431)
//! without being buffered. Requests to other paths get a 404 (browsers ask for
//! `/favicon.ico`); requests to the redirect path are handed to the caller as [`Arrival`]s, and
//! the caller decides: a callback with a wrong `state` is answered with an error page and the
//! wait goes on, so no stray request can cancel a pending login.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use url::Url;

/// Longest request head (request line and headers) accepted; longer ones get HTTP 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Time a connection has to send its request head before it is closed.
pub(crate) const HEAD_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one connection, the answer to the callback included (which waits for the
/// code exchange, itself bounded by the HTTP client's timeout).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// How long [`BrowserCallback::respond`] waits for its page to be sent.
const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// Whether `uri` is an `http` loopback redirect this process can listen on: host `127.0.0.1`,
/// `[::1]` or `localhost`, with an explicit port.
pub fn is_loopback_redirect(uri: &Url) -> bool {
    loopback_address(uri).is_some()
}

fn loopback_address(uri: &Url) -> Option<SocketAddr> {
    if uri.scheme() != "http" {
        return None;
    }
    let port = uri.port()?;
    let ip = match uri.host()? {
        url::Host::Ipv4(ip) if ip.is_loopback() => IpAddr::V4(ip),
        url::Host::Ipv6(ip) if ip.is_loopback() => IpAddr::V6(ip),
        url::Host::Domain("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// A listener bound to a loopback redirect URI, serving connections in the background until
/// it is dropped.
pub struct LoopbackListener {
    arrivals: mpsc::Receiver<Arrival>,
    server: tokio::task::JoinHandle<()>,
}

/// What reached the listener that its caller should know about.
pub enum Arrival {
    /// A request to the redirect path; answer it with [`BrowserCallback::respond`].
    Callback(BrowserCallback),
    /// A connection that sent something that is not an HTTP request, or a request head over
    /// [`MAX_HEAD_BYTES`]: refused with an error status, reported here so the user can see it.
    Refused {
        /// What was wrong with it.
        reason: String,
    },
}

/// A browser request that reached the redirect path.
pub struct BrowserCallback {
    /// The query string of the request (the callback parameters).
    pub query: String,
    answer: oneshot::Sender<Page>,
    /// Completes when the connection that brought the callback has finished (answer sent).
    finished: oneshot::Receiver<()>,
}

struct Page {
    status: StatusCode,
    message: String,
}

impl LoopbackListener {
    /// Binds the address of `uri` (which must be a loopback redirect) and starts serving.
    pub async fn bind(uri: &Url) -> io::Result<Self> {
        let address = loopback_address(uri).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a loopback http redirect URI with a port",
            )
        })?;
        let listener = TcpListener::bind(address).await?;
        let (sender, arrivals) = mpsc::channel(16);
        let path: Arc<str> = Arc::from(uri.path());
        let server = tokio::spawn(serve(listener, path, sender));
        Ok(Self { arrivals, server })
    }

    /// Waits for the next request to the redirect path or the next refused connection.
    pub async fn next(&mut self) -> io::Result<Arrival> {
        self.arrivals
            .recv()
            .await
            .ok_or_else(|| io::Error::other("the callback listener stopped"))
    }
}

impl Drop for LoopbackListener {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl BrowserCallback {
    /// Answers the browser with a short page saying whether the connection succeeded, and
    /// waits until the answer is sent (so the process does not exit before it).
    pub async fn respond(self, success: bool, message: &str) {
        let status = if success {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        let page = Page {
            status,
            message: message.to_owned(),
        };
        if self.answer.send(page).is_ok() {
            // A browser that does not read its page must not hold up the token file.
            let _ = tokio::time::timeout(ANSWER_GRACE, self.finished).await;
        }
    }
}

/// Accepts connections and serves each on its own task.
async fn serve(listener: TcpListener, path: Arc<str>, arrivals: mpsc::Sender<Arrival>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors and the like: give the system a moment, keep serving.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(serve_connection(stream, path.clone(), arrivals.clone()));
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    path: Arc<str>,
    arrivals: mpsc::Sender<Arrival>,
) {
    // Dropped when this connection is done: tells a callback's `respond` its page went out.
    let (finished_sender, finished) = oneshot::channel::<()>();
    let finished = Arc::new(Mutex::new(Some(finished)));
    let service = {
        let arrivals = arrivals.clone();
        service_fn(move |request| handle(request, path.clone(), arrivals.clone(), finished.clone()))
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    if let Ok(Err(error)) = tokio::time::timeout(CONNECTION_LIFETIME, connection).await {
        if error.is_parse() {
            let reason = if error.is_parse_too_large() {
                format!("a request head larger than {MAX_HEAD_BYTES} bytes")
            } else {
                format!("not an HTTP request ({error})")
            };
            let _ = arrivals.try_send(Arrival::Refused { reason });
        }
    }
    drop(finished_sender);
}

async fn handle(
    request: Request<Incoming>,
    path: Arc<str>,
    arrivals: mpsc::Sender<Arrival>,
    finished: Arc<Mutex<Option<oneshot::Receiver<()>>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET {
        return Ok(page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Only GET is served here.",
        ));
    }
    if request.uri().path() != &*path {
        return Ok(page(StatusCode::NOT_FOUND, "Not found."));
    }
    let finished = finished.lock().ok().and_then(|mut slot| slot.take());
    let Some(finished) = finished else {
        return Ok(page(StatusCode::BAD_REQUEST, "One request per connection."));
    };
    let (answer, page_receiver) = oneshot::channel();
    let callback = BrowserCallback {
        query: request.uri().query().unwrap_or("").to_owned(),
        answer,
        finished,
    };
    if arrivals.send(Arrival::Callback(callback)).await.is_err() {
        return Ok(page(
            StatusCode::SERVICE_UNAVAILABLE,
            "provider-forge is no longer waiting for this callback.",
        ));
    }
    Ok(match page_receiver.await {
        Ok(answer) => page(answer.status, &answer.message),
        Err(_) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "provider-forge stopped before finishing the connection.",
        ),
    })
}

fn page(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>provider-forge</title></head>\
         <body><p>{}</p><p>You can close this tab.</p></body></html>\n",
        escape_html(message)
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_loopback_uris_with_a_port_are_listened_on() {
        let yes = [
            "http://127.0.0.1:8765/cb",
            "http://[::1]:9000/",
            "http://localhost:1234/x",
        ];
        for uri in yes {
            assert!(is_loopback_redirect(&Url::parse(uri).unwrap()), "{uri}");
        }
        let no = [
            "https://127.0.0.1:8765/cb",
            "http://127.0.0.1/cb",
            "http://example.com:8080/cb",
            "https://api.nango.dev/oauth/callback",
        ];
        for uri in no {
            assert!(!is_loopback_redirect(&Url::parse(uri).unwrap()), "{uri}");
        }
    }

    #[test]
    fn messages_are_escaped_in_the_page() {
        assert_eq!(escape_html("<b>&\"</b>"), "&lt;b&gt;&amp;&quot;&lt;/b&gt;");
    }
}
