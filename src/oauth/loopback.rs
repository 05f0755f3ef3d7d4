//! Receiving the callback on a loopback redirect URI (RFC 8252 section 7.3): a native app
//! listens on `http://127.0.0.1:PORT/path` and the browser brings the code there.
//!
//! Deliberately tiny: it reads one HTTP/1.1 request line per connection, answers anything that
//! is not the redirect path with 404 (browsers also ask for `/favicon.ico`), and hands the
//! callback's query to the caller, who answers with a short page once the exchange is done.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Longest request head accepted, so a stray client cannot make the listener buffer forever.
const MAX_HEAD_BYTES: usize = 16 * 1024;

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

/// A listener bound to a loopback redirect URI.
pub struct LoopbackListener {
    listener: TcpListener,
    path: String,
}

/// A browser request that reached the redirect path; answer it with [`Callback::respond`].
pub struct Callback {
    stream: TcpStream,
    /// The query string of the request (the callback parameters).
    pub query: String,
}

impl LoopbackListener {
    /// Binds the address of `uri` (which must be a loopback redirect).
    pub async fn bind(uri: &Url) -> io::Result<Self> {
        let address = loopback_address(uri).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a loopback http redirect URI with a port",
            )
        })?;
        let listener = TcpListener::bind(address).await?;
        Ok(Self {
            listener,
            path: uri.path().to_owned(),
        })
    }

    /// Waits for a request to the redirect path; other requests get a 404 and are skipped.
    pub async fn next_callback(&self) -> io::Result<Callback> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            let mut reader = BufReader::new(stream);
            let Some(target) = read_request_target(&mut reader).await else {
                continue;
            };
            let mut stream = reader.into_inner();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            if path == self.path {
                return Ok(Callback {
                    stream,
                    query: query.to_owned(),
                });
            }
            let _ = write_response(&mut stream, "404 Not Found", "Not found.").await;
        }
    }
}

impl Callback {
    /// Answers the browser with a short page saying whether the connection succeeded.
    pub async fn respond(mut self, success: bool, message: &str) -> io::Result<()> {
        let status = if success { "200 OK" } else { "400 Bad Request" };
        write_response(&mut self.stream, status, message).await
    }
}

/// The request target of a `GET` request line, after reading the whole head.
async fn read_request_target(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut line = String::new();
    let mut total = reader.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?, parts.next()?.to_owned());
    // Drain the headers so the browser sees a clean answer.
    loop {
        let mut header = String::new();
        let read = reader.read_line(&mut header).await.ok()?;
        total += read;
        if read == 0 || header == "\r\n" || header == "\n" || total > MAX_HEAD_BYTES {
            break;
        }
    }
    (method == "GET").then_some(target)
}

async fn write_response(stream: &mut TcpStream, status: &str, message: &str) -> io::Result<()> {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>provider-forge</title></head>\
         <body><p>{}</p><p>You can close this tab.</p></body></html>\n",
        escape_html(message)
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
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
