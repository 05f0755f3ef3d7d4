//! `provider-forge serve` refuses to start half-configured: missing keys, an invalid
//! definition or a bad clients file stop it with a clear message and the documented exit code.

use std::time::Duration;

use crate::support;
use crate::support::cli::stderr;
use crate::support::service::World;

#[tokio::test]
async fn missing_keys_stop_the_start_naming_each_variable() {
    let world = World::start(None).await;
    let output = world
        .serve_command(&[])
        .env_remove("PROVIDER_FORGE_SECRET_KEY")
        .env_remove("PROVIDER_FORGE_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("PROVIDER_FORGE_SECRET_KEY is not set"),
        "{text}"
    );
    assert!(
        text.contains("PROVIDER_FORGE_ENCRYPTION_KEY is not set"),
        "{text}"
    );

    let output = world
        .serve_command(&[])
        .env("PROVIDER_FORGE_ENCRYPTION_KEY", "c2hvcnQ=")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("decodes to 5 bytes, not 32"), "{text}");
    assert!(!text.contains("c2hvcnQ="), "the key is not echoed: {text}");
    world.finish().await;
}

#[tokio::test]
async fn an_invalid_definition_stops_the_start_with_its_diagnostics() {
    let world = World::start(None).await;
    let providers = world.dir.path().join("providers");
    std::fs::create_dir(&providers).unwrap();
    let text = std::fs::read_to_string(support::repo_path("providers/gitlab.yaml")).unwrap();
    std::fs::write(
        providers.join("gitlab.yaml"),
        text.replace("auth_method: client_secret_post", "auth_method: telepathy"),
    )
    .unwrap();
    let output = world
        .serve_command_from(&providers, &world.clients_file, &[])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("gitlab.yaml:"), "{text}");
    assert!(text.contains("telepathy"), "{text}");
    world.finish().await;
}

#[tokio::test]
async fn a_clients_file_for_an_unknown_provider_is_refused() {
    let world = World::start(None).await;
    let clients = world.dir.path().join("other-clients.yaml");
    std::fs::write(&clients, "nope:\n  client_id: x\n  client_secret_env: X\n").unwrap();
    let output = world
        .serve_command_from(&support::repo_path("providers"), &clients, &[])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`nope` is not a provider"),
        "{}",
        stderr(&output)
    );
    world.finish().await;
}

/// Reads from a raw connection until the server closes it; `Err` when it is still open after
/// `within`.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> Result<(), ()> {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .map_err(|_| ())
}

/// A request head dribbled a byte at a time is cut off at the header-read timeout; a
/// keep-alive connection with no request in flight is closed at the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let world = World::start(None).await;
    let serve = world.instance(&["--header-read-timeout", "1", "--idle-timeout", "1"]);

    let mut dribbler = tokio::net::TcpStream::connect(serve.address())
        .await
        .unwrap();
    let dribbling = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa" {
            if dribbler.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(20), dribbling)
            .await
            .expect("the server closed the dribbling connection"),
        "the dribbled head was cut off before it was complete"
    );

    let mut idle = tokio::net::TcpStream::connect(serve.address())
        .await
        .unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer, then nothing: the server closes the idle keep-alive connection.
    assert!(
        closed_within(&mut idle, Duration::from_secs(10))
            .await
            .is_ok(),
        "an idle connection is closed"
    );
    drop(serve);
    world.finish().await;
}

/// Connections beyond --max-connections wait to be accepted until one ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    use tokio::io::AsyncWriteExt;
    let world = World::start(None).await;
    let serve = world.instance(&["--max-connections", "2", "--header-read-timeout", "60"]);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(serve.address())
            .await
            .unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    let health = reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    assert!(
        health.get(serve.url("/healthz")).send().await.is_err(),
        "a third connection is not served while two are held"
    );
    drop(held);
    let response = reqwest::Client::new()
        .get(serve.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(serve);
    world.finish().await;
}

/// A half-sent request head does not keep SIGTERM from stopping the service: it exits 0
/// after at most --shutdown-timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_after_a_bounded_wait() {
    use tokio::io::AsyncWriteExt;
    let world = World::start(None).await;
    let mut serve = world.instance(&["--header-read-timeout", "600", "--shutdown-timeout", "1"]);
    let mut half = tokio::net::TcpStream::connect(serve.address())
        .await
        .unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost")
        .await
        .unwrap();
    // The connection is being served (the health check on another one answers).
    assert_eq!(serve.get("/healthz").await.0, 200);
    let status = tokio::task::block_in_place(|| serve.terminate(Duration::from_secs(15)))
        .expect("the service stopped within the shutdown timeout");
    assert_eq!(status.code(), Some(0));
    drop(half);
    world.finish().await;
}

/// Keys the stored rows were not sealed with stop the start (exit 2, naming the key ids, no
/// key echoed); after a rotation `--reseal` moves every row to the new key, so the previous
/// one can be dropped.
/// `serve --reseal | head -0`: its report goes to a reader that left, and the command ends the
/// quiet way every other command does (141), not with a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reseal_ends_quietly_when_its_reader_is_gone() {
    let world = World::start(None).await;
    {
        let serve = world.instance(&[]);
        serve.connect(&world, "zoho-crm", "kept").await;
    }
    let mut child = world
        .serve_command(&["--reseal"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(141), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_and_reseal_retires_the_old_one() {
    const OLD: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const NEW: &str = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE=";
    let world = World::start(None).await;
    {
        let serve = world.instance(&[]);
        serve.connect(&world, "zoho-crm", "kept").await;
    }
    let output = world
        .serve_command(&[])
        .env("PROVIDER_FORGE_ENCRYPTION_KEY", NEW)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("none of the 1 stored connections opens"),
        "{text}"
    );
    assert!(!text.contains(NEW) && !text.contains(OLD), "{text}");

    let output = world
        .serve_command(&["--reseal"])
        .env("PROVIDER_FORGE_ENCRYPTION_KEY", NEW)
        .env("PROVIDER_FORGE_PREVIOUS_ENCRYPTION_KEYS", OLD)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("1 connections re-sealed"), "{text}");
    assert!(text.contains("0 open with no configured key"), "{text}");

    // The new key alone now opens the connection.
    let mut child = world
        .serve_command(&[])
        .env("PROVIDER_FORGE_ENCRYPTION_KEY", NEW)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("provider-forge serve: listening on ")
        .unwrap_or_else(|| panic!("serve did not start: {line:?}"))
        .to_owned();
    let response = reqwest::Client::new()
        .get(format!("{base}/connections/zoho-crm/kept/token"))
        .bearer_auth(support::service::API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
    world.finish().await;
}

/// The clients file docs/service.md shows (its first `yaml` block): a shared secret, a
/// provider with one client for every data center, and one registered separately per data
/// center. Read from the document itself, so the example cannot drift from what starts.
fn documented_clients_example() -> String {
    let doc = std::fs::read_to_string(support::repo_path("docs/service.md")).unwrap();
    let start = doc
        .find("```yaml\n")
        .expect("docs/service.md has a yaml block")
        + 8;
    let end = start + doc[start..].find("```").expect("the yaml block ends");
    doc[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_clients_example_starts() {
    let world = World::start(None).await;
    let clients = world.dir.path().join("readme-clients.yaml");
    std::fs::write(&clients, documented_clients_example()).unwrap();
    let mut child = world
        .serve_command_from(&support::repo_path("providers"), &clients, &[])
        .env("ZOHO_CRM_SECRET", "s1")
        .env("ZOHO_BOOKS_SECRET", "s2")
        .env("MS_GLOBAL_SECRET", "s3")
        .env("MS_USGOV_SECRET", "s4")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    assert!(
        line.starts_with("provider-forge serve: listening on "),
        "{line:?}\n{}",
        stderr(&output)
    );
    world.finish().await;
}

/// A definition may take its whole host from a connection value; in serve an end user's value
/// that makes a loopback or IP host is refused before any URL is handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_ip_hosts_are_refused_as_connection_values() {
    let world = World::start(None).await;
    let providers = world.dir.path().join("own-providers");
    std::fs::create_dir(&providers).unwrap();
    let fixture = std::fs::read_to_string(support::repo_path(support::GENERIC_FIXTURE)).unwrap();
    let definition = fixture
        .replace("https://login.generic-idp.test", "https://<host>")
        .replace("id: generic-idp", "id: own-idp")
        .replace(
            "display_name: Generic IdP (test)\n",
            "display_name: Own IdP (test)\n\nconnection:\n  params:\n    host:\n      description: The customer's own login server.\n      example: login.acme.example\n      pattern: '^[a-z0-9][a-z0-9.-]{0,252}$'\n      kind: host\n",
        );
    std::fs::write(providers.join("own-idp.yaml"), definition).unwrap();
    let clients = world.dir.path().join("own-clients.yaml");
    std::fs::write(
        &clients,
        "own-idp:\n  client_id: own\n  client_secret_env: PF_SERVICE_TEST_CLIENT_SECRET\n",
    )
    .unwrap();
    let mut child = world
        .serve_command_from(&providers, &clients, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("provider-forge serve: listening on ")
        .unwrap_or_else(|| panic!("serve did not start: {line:?}"))
        .to_owned();
    let session = |host: &str| {
        reqwest::Client::new()
            .post(format!("{base}/connect/sessions"))
            .bearer_auth(support::service::API_KEY)
            .json(&serde_json::json!({
                "provider": "own-idp",
                "connection_id": "c1",
                "params": {"host": host},
            }))
            .send()
    };
    // Every loopback name and IP address is refused by the fill's host checks, before any
    // URL is handed out.
    for host in ["10.1.2.3", "0x7f.1", "[::1]", "localhost."] {
        assert_eq!(session(host).await.unwrap().status(), 400, "{host}");
    }
    for host in ["127.0.0.1", "localhost", "api.localhost", "127.1.2.3"] {
        let response = session(host).await.unwrap();
        assert_eq!(response.status(), 400, "{host}");
        let body: serde_json::Value = response.json().await.unwrap();
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("loopback") || message.contains("IP address"),
            "{host}: {body}"
        );
    }
    let response = session("login.acme.example").await.unwrap();
    assert_eq!(response.status(), 201);
    let _ = child.kill();
    let _ = child.wait();
    world.finish().await;
}

/// `--log-format json`: the log a collector reads is one JSON object per line, with the
/// event's level, message and fields, and no escape sequence; without the flag it stays text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let world = World::start(None).await;
    let stopped_log = |extra: &[&str]| {
        let mut serve = world.instance(extra);
        let status = serve
            .terminate(Duration::from_secs(15))
            .expect("the service stops");
        assert_eq!(status.code(), Some(0));
        serve.log_text()
    };
    let log = tokio::task::block_in_place(|| stopped_log(&["--log-format", "json"]));
    assert!(!log.contains('\u{1b}'), "no escape sequence: {log:?}");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let serving = events
        .iter()
        .find(|event| event["fields"]["message"] == "serving")
        .unwrap_or_else(|| panic!("the start is logged: {log}"));
    assert_eq!(serving["level"], "INFO");
    assert!(
        serving["fields"]["callback"]
            .as_str()
            .is_some_and(|callback| callback.ends_with("/oauth/callback")),
        "{serving}"
    );
    assert!(
        events
            .iter()
            .any(|event| event["fields"]["message"] == "shutting down"),
        "{log}"
    );

    let text = tokio::task::block_in_place(|| stopped_log(&[]));
    let first = text.lines().next().expect("a log line");
    assert!(
        first.contains("INFO") && first.contains("serving"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(first).is_err());
    world.finish().await;
}
