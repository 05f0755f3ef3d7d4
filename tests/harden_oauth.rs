//! Hostile servers and hostile local clients (issue 12, items 2 and 3): behaviours no simulator
//! should have, played by tiny servers and clients of the tests' own.
//!
//! - A token endpoint that sends an endless or gigantic answer: refused at 1 MiB, never
//!   buffered; one that trickles bytes forever: bounded by the client's timeout.
//! - The loopback listener: an idle connection, a half-sent request line and a 64 KiB request
//!   line do not hold up the real callback; the oversized head is refused.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use provider_forge::oauth::{
    AccessToken, ClientSecret, Credentials, OAuthError, RefreshToken, RetryPolicy, TokenSet,
    refresh_tokens, revoke,
};
use provider_forge::oauth::{Arrival, LoopbackListener, MAX_HEAD_BYTES};
use provider_forge::oauth::{HttpOptions, MAX_ANSWER_BYTES, http_client};
use provider_forge::resolve::ResolvedProvider;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A generic provider whose endpoints are a plain-http loopback server at `addr`.
fn provider_at(addr: SocketAddr) -> ResolvedProvider {
    let base = format!("http://{addr}");
    let text = format!(
        "id: hostile\ndisplay_name: Hostile\nissuer: {base}\n\
         authorization: {{ url: {base}/auth }}\n\
         token: {{ url: {base}/token, revoke: {{ url: {base}/revoke, client_auth: true }} }}\n\
         callback: {{ redirect_uri: https://api.nango.dev/oauth/callback }}\n\
         scopes: {{ catalog: [{{ name: read, description: Read }}] }}\n"
    );
    match provider_forge::catalog::load_one(Path::new("hostile.yaml"), &text).unwrap() {
        provider_forge::catalog::Verdict::Valid(provider) => provider.resolved,
        provider_forge::catalog::Verdict::Invalid(diagnostics) => panic!("{diagnostics:?}"),
    }
}

fn tokens(provider: &ResolvedProvider) -> TokenSet {
    let dc = &provider.data_centers[0];
    TokenSet {
        access_token: AccessToken::new("at"),
        refresh_token: Some(RefreshToken::new("rt")),
        token_type: None,
        scope: None,
        expires_at: None,
        data_center: dc.code.clone(),
        issuer: dc.authorization.as_ref().unwrap().issuer.clone(),
        metadata: Default::default(),
    }
}

/// Serves every connection with `head` (status line and headers), then `body` chunks from
/// `chunk()` until it returns `None` or the client goes away. Returns the address.
async fn server<F>(head: &'static str, chunk: F) -> SocketAddr
where
    F: Fn(usize) -> Option<(Vec<u8>, Duration)> + Clone + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let chunk = chunk.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let mut index = 0;
                while let Some((bytes, pause)) = chunk(index) {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                    index += 1;
                }
            });
        }
    });
    addr
}

/// A server whose answer never ends: 64 KiB chunks, as fast as the client reads them.
async fn endless_server() -> SocketAddr {
    server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        |_| {
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b' ', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            Some((chunk, Duration::ZERO))
        },
    )
    .await
}

async fn refresh_at(addr: SocketAddr, timeout: Duration) -> Result<TokenSet, OAuthError> {
    let provider = provider_at(addr);
    let client = http_client(&HttpOptions {
        timeout,
        ..HttpOptions::default()
    })
    .unwrap();
    let credentials = Credentials::shared("id", ClientSecret::new("secret"));
    let retry = RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::ZERO,
    };
    refresh_tokens(&client, &provider, &credentials, &tokens(&provider), &retry).await
}

fn too_large(result: Result<impl std::fmt::Debug, OAuthError>) {
    match result {
        Err(error @ OAuthError::AnswerTooLarge { .. }) => {
            let message = error.to_string();
            assert!(
                message.starts_with("the refresh endpoint at 127.0.0.1:"),
                "{message}"
            );
            assert!(
                message.ends_with(&format!(
                    "sent an answer larger than {MAX_ANSWER_BYTES} bytes; refused (a token answer is a few kilobytes)"
                )),
                "{message}"
            );
        }
        other => panic!("expected AnswerTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn an_endless_chunked_answer_is_cut_at_one_mebibyte() {
    let addr = endless_server().await;
    too_large(refresh_at(addr, Duration::from_secs(20)).await);
}

#[tokio::test]
async fn an_answer_announcing_two_gibibytes_is_refused_before_reading() {
    let addr = server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n",
        |index| (index < 4).then(|| (vec![b' '; 1024], Duration::ZERO)),
    )
    .await;
    too_large(refresh_at(addr, Duration::from_secs(20)).await);
}

#[tokio::test]
async fn an_answer_that_trickles_forever_is_bounded_by_the_whole_request_deadline() {
    // One byte every 50 ms, never finishing: each read succeeds, only a whole-request deadline
    // can end it.
    let addr = server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        |_| Some((b"1\r\n \r\n".to_vec(), Duration::from_millis(50))),
    )
    .await;
    let result = refresh_at(addr, Duration::from_secs(1)).await;
    assert!(
        matches!(
            result,
            Err(OAuthError::Timeout {
                endpoint: "refresh",
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_revocation_answer_is_capped_too() {
    let addr = endless_server().await;
    let provider = provider_at(addr);
    let client = http_client(&HttpOptions::default()).unwrap();
    let credentials = Credentials::shared("id", ClientSecret::new("secret"));
    let result = revoke(&client, &provider, &credentials, &tokens(&provider)).await;
    assert!(
        matches!(
            result,
            Err(OAuthError::AnswerTooLarge {
                endpoint: "revoke",
                ..
            })
        ),
        "{result:?}"
    );
}

// ---- the loopback listener ----

async fn listener() -> (LoopbackListener, SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = url::Url::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
    let listener = LoopbackListener::bind(&uri).await.unwrap();
    (listener, format!("127.0.0.1:{port}").parse().unwrap())
}

/// Sends the real callback on a fresh connection and returns the page's status line, while
/// `listener` answers it with success.
async fn real_callback_gets_through(listener: &mut LoopbackListener, addr: SocketAddr) {
    let browser = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /callback?code=c&state=s HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut page = String::new();
        stream.read_to_string(&mut page).await.unwrap();
        page
    });
    let callback = loop {
        // Bounded, so a blocked listener fails the test instead of hanging it.
        match tokio::time::timeout(Duration::from_secs(5), listener.next())
            .await
            .expect("the real callback arrives while the other connections are stalled")
            .unwrap()
        {
            Arrival::Callback(callback) => break callback,
            Arrival::Refused { .. } => continue,
        }
    };
    assert_eq!(callback.query, "code=c&state=s");
    callback.respond(true, "Connected to <Test>.").await;
    let page = browser.await.unwrap();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("Connected to &lt;Test&gt;."), "{page}");
}

#[tokio::test]
async fn an_idle_connection_does_not_block_the_real_callback() {
    let (mut listener, addr) = listener().await;
    // A browser's spare connection: opened, never used.
    let _idle = TcpStream::connect(addr).await.unwrap();
    real_callback_gets_through(&mut listener, addr).await;
}

#[tokio::test]
async fn a_partial_request_line_does_not_block_the_real_callback() {
    let (mut listener, addr) = listener().await;
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(b"GET /callback?code=x&st").await.unwrap();
    real_callback_gets_through(&mut listener, addr).await;
}

#[tokio::test]
async fn a_huge_request_line_is_refused_without_being_buffered() {
    let (mut listener, addr) = listener().await;
    let mut huge = TcpStream::connect(addr).await.unwrap();
    // Four times the head limit, no newline: the old listener read it whole, waiting for one.
    let line = vec![b'A'; 4 * MAX_HEAD_BYTES];
    let _ = huge.write_all(b"GET /").await;
    let _ = huge.write_all(&line).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), huge.read_to_end(&mut answer))
        .await
        .expect("the listener answers or closes instead of waiting for the line to end");
    // Either the refusal page arrived, or the connection was reset while we were still sending.
    if read.is_ok() && !answer.is_empty() {
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 414"),
            "{answer}"
        );
    }
    match tokio::time::timeout(Duration::from_secs(5), listener.next())
        .await
        .expect("the refusal is reported")
        .unwrap()
    {
        Arrival::Refused { reason } => assert!(reason.contains("larger than"), "{reason}"),
        Arrival::Callback(_) => panic!("the huge line is not a callback"),
    }
    real_callback_gets_through(&mut listener, addr).await;
}

#[tokio::test]
async fn other_paths_get_not_found_and_are_not_callbacks() {
    let (mut listener, addr) = listener().await;
    let mut favicon = TcpStream::connect(addr).await.unwrap();
    favicon
        .write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut page = String::new();
    favicon.read_to_string(&mut page).await.unwrap();
    assert!(page.starts_with("HTTP/1.1 404"), "{page}");
    real_callback_gets_through(&mut listener, addr).await;
}
