//! The command line against hostile surroundings (issue 12, items 3, 4, 12 and 13): a closed
//! stdout, an `--out` that cannot take the token file, token files others can read or that
//! are links, revocation that leaves no dead tokens behind, and a stray request on the
//! loopback port that must not cancel a login.
//!
//! The servers here are tiny plain-http loopback servers of the test's own (a token endpoint
//! that answers every request alike); the OAuth behaviour itself is tested against the
//! simulator elsewhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use provider_forge::oauth::{AccessToken, RefreshToken, TokenSet};
use provider_forge::token_file::StoredConnection;

use crate::support::cli::{BIN, mode, text};
use crate::support::repo_path;

/// Runs the binary with stdout already closed by its reader, as `| head` leaves it.
fn with_closed_stdout(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("PROVIDER_FORGE_CLIENT_SECRET", "s")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_ends_quietly_on_a_closed_pipe() {
    let providers = repo_path("providers");
    let crm = repo_path("providers/zoho-crm.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    // A one-entry catalog in Nango's shape: `import` prints its report after writing the file.
    let nango = dir.path().join("providers.yaml");
    std::fs::write(
        &nango,
        "shop:\n    display_name: Shop\n    auth_mode: OAUTH2\n    \
         authorization_url: https://shop.example/oauth/authorize\n    \
         token_url: https://shop.example/oauth/token\n",
    )
    .unwrap();
    let imported = dir.path().join("imported");
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "import",
            "nango",
            nango.to_str().unwrap(),
            "--out",
            imported.to_str().unwrap(),
        ],
        vec!["render", providers.to_str().unwrap()],
        vec![
            "render",
            providers.to_str().unwrap(),
            "--format",
            "markdown",
        ],
        vec!["validate", providers.to_str().unwrap(), "--format", "json"],
        vec!["schema", "--kind", "provider"],
        vec![
            "connect",
            crm.to_str().unwrap(),
            "--client-id",
            "id",
            "--no-browser",
            "--out",
            out.to_str().unwrap(),
        ],
    ];
    for args in commands {
        let output = with_closed_stdout(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?} is quiet: {stderr}");
    }
    assert!(!out.exists(), "connect stopped before the flow");

    // Diagnostics on stderr, read by `2>&1 | head -1`: the same quiet end.
    let mut child = Command::new(BIN)
        .arg("validate")
        .arg(repo_path("tests/corpus/invalid"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(141));
}

/// `connect` with `--out PATH`, expected to stop with exit 2 before it shows any URL.
fn connect_refuses(out: &Path, expected: &str) {
    let output = Command::new(BIN)
        .arg("connect")
        .arg(repo_path("providers/gitlab.yaml"))
        .args(["--client-id", "id", "--no-browser", "--timeout", "1"])
        .arg("--out")
        .arg(out)
        .env("PROVIDER_FORGE_CLIENT_SECRET", "s")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}: {stderr}", out.display());
    assert!(
        output.stdout.is_empty(),
        "no authorization URL before the check"
    );
    assert!(stderr.contains(expected), "{}: {stderr}", out.display());
}

#[test]
fn connect_proves_it_can_write_the_token_file_before_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    // --out is a directory.
    connect_refuses(dir.path(), "is a directory");
    // --out is a link (a rewrite would replace the link, not the file it names).
    let target = dir.path().join("target.json");
    std::fs::write(&target, "").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    connect_refuses(&link, "symbolic link");
    // A directory no file can be created in, even by root: /proc.
    connect_refuses(
        Path::new("/proc/provider-forge.tokens.json"),
        "cannot create",
    );
    // A "directory" that is a file.
    connect_refuses(&target.join("tokens.json"), "cannot create");
    // A directory that does not exist.
    connect_refuses(&dir.path().join("missing/t.json"), "does not exist");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "no temporary file left behind: {left:?}");
}

fn stored(issuer: &str) -> StoredConnection {
    StoredConnection {
        provider: "local".into(),
        client_id: "id".into(),
        tokens: TokenSet {
            access_token: AccessToken::new("at-secret"),
            refresh_token: Some(RefreshToken::new("rt-secret")),
            token_type: None,
            scope: None,
            expires_at: None,
            data_center: "default".into(),
            issuer: issuer.into(),
            metadata: Default::default(),
        },
        credentials: Default::default(),
    }
}

/// A plain-http token endpoint on loopback: reads each request whole, records its body, and
/// answers `answer` with HTTP 200.
struct TokenServer {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    fn start(answer: &'static str) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let body = serve_one(stream, answer);
                seen.lock().unwrap().push(body);
            }
        });
        TokenServer { addr, bodies }
    }
}

fn serve_one(stream: TcpStream, answer: &str) -> String {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut stream = reader.into_inner();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    text(&body)
}

/// A provider whose endpoints are the token server (plain http is allowed on loopback).
fn local_provider(dir: &Path, server: SocketAddr, redirect_uri: &str) -> PathBuf {
    let base = format!("http://{server}");
    let path = dir.join("local.yaml");
    std::fs::write(
        &path,
        format!(
            "id: local\ndisplay_name: Local\nissuer: {base}\n\
             authorization: {{ url: {base}/auth }}\n\
             token: {{ url: {base}/token, revoke: {{ url: {base}/revoke, client_auth: true }} }}\n\
             callback: {{ redirect_uri: \"{redirect_uri}\" }}\n\
             scopes: {{ default: [read], catalog: [{{ name: read, description: Read }}] }}\n"
        ),
    )
    .unwrap();
    path
}

/// A provider file served by `server` and a private token file of its, in a new directory.
fn connection(server: &TokenServer) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let provider = local_provider(
        dir.path(),
        server.addr,
        "https://api.nango.dev/oauth/callback",
    );
    let tokens = dir.path().join("t.json");
    stored(&format!("http://{}", server.addr))
        .write(&tokens)
        .unwrap();
    (dir, provider, tokens)
}

fn run(args: &[&str], provider: &Path, tokens: &Path) -> Output {
    Command::new(BIN)
        .arg(args[0])
        .arg(provider)
        .args(&args[1..])
        .arg("--tokens")
        .arg(tokens)
        .env("PROVIDER_FORGE_CLIENT_SECRET", "client-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn refresh_and_revoke_refuse_a_token_file_others_can_read_or_a_link() {
    let server = TokenServer::start(r#"{"access_token":"new","expires_in":"3600"}"#);
    let (dir, provider, tokens) = connection(&server);
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
    for command in ["refresh", "revoke"] {
        let output = run(&[command], &provider, &tokens);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("mode is 0644"), "{stderr}");
        assert!(stderr.contains("chmod 600"), "{stderr}");
    }
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&tokens, &link).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = run(&["refresh"], &provider, &link);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("symbolic link"));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was not replaced"
    );
    assert!(
        server.bodies.lock().unwrap().is_empty(),
        "no request was made"
    );
    // Once private, the same file works, and refresh keeps it private.
    let output = run(&["refresh"], &provider, &tokens);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(mode(&tokens), 0o600);
}

#[test]
fn revoke_deletes_the_token_file_it_revoked() {
    let server = TokenServer::start("{}");
    let (_dir, provider, tokens) = connection(&server);
    let output = run(&["revoke"], &provider, &tokens);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("revoked the refresh token of Local"),
        "{stdout}"
    );
    assert!(stdout.contains("deleted"), "{stdout}");
    assert!(!tokens.exists(), "the revoked tokens are gone");
    let bodies = server.bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains("token=rt-secret"), "{}", bodies[0]);
    assert!(!stdout.contains("rt-secret") && !stdout.contains("at-secret"));
}

#[test]
fn a_wrong_state_request_on_the_loopback_port_does_not_cancel_the_login() {
    let server =
        TokenServer::start(r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600}"#);
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let provider = local_provider(dir.path(), server.addr, &redirect_uri);
    let out = dir.path().join("t.json");
    let mut child = Command::new(BIN)
        .arg("connect")
        .arg(&provider)
        .args(["--client-id", "id", "--no-browser", "--timeout", "30"])
        .arg("--out")
        .arg(&out)
        .env("PROVIDER_FORGE_CLIENT_SECRET", "client-secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url::Url::parse(url.trim()).unwrap();
    let state = url
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();

    let get = |query: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /callback?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut page = String::new();
        stream.read_to_string(&mut page).unwrap();
        page
    };
    // Any local process can reach the port: a forged callback and a malformed one.
    let forged = get("code=evil&state=forged");
    assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
    assert!(forged.contains("state does not match"), "{forged}");
    let malformed = get("nothing=here");
    assert!(malformed.starts_with("HTTP/1.1 400"), "{malformed}");
    // The real callback still completes the login.
    let real = get(&format!("code=good&state={state}"));
    assert!(real.starts_with("HTTP/1.1 200"), "{real}");
    assert!(real.contains("Connected to Local."), "{real}");

    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(rest.contains("connected: Local"), "{rest}");
    assert_eq!(
        stderr
            .matches("ignored a request to the callback address")
            .count(),
        2,
        "{stderr}"
    );
    let bodies = server.bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1, "only the real code was exchanged");
    assert!(bodies[0].contains("code=good"), "{}", bodies[0]);
    let stored = StoredConnection::read(&out).unwrap();
    assert_eq!(stored.tokens.access_token.expose(), "at-new");
}
