//! `serve --webhook-url`: connection events reach a receiver on 127.0.0.1 signed with the
//! shared secret (checked here independently with the `hmac` crate), are retried until a 2xx
//! and then never sent again, survive a receiver that is down and a restart of `serve`, and
//! are sent once by one of two instances sharing PostgreSQL.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::service_api::revoke_everything_at_the_provider;
use crate::service_connections::{APP_KEY, PASSWORD, USERNAME, create, modes_world};
use crate::service_operators::{sample, scrape};
use crate::support::cli::stderr;
use crate::support::service::{
    API_KEY, Backend, Instance, WEBHOOK_SECRET, World, expire, on_both_backends_with,
};
use crate::support::{CLIENT_ID, Endpoint, Fault, SHARED_SECRET};

/// The longest any test waits for a delivery: retries back off 1 s, then 2 s, 4 s, ...
const PATIENCE: Duration = Duration::from_secs(45);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    signature: String,
    content_type: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A platform's webhook endpoint: records every request and answers with the scripted
/// statuses in turn, then 200. Each answer closes the connection, so a receiver that goes
/// away is not reached through a kept-alive one.
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(answers: &[u16]) -> Receiver {
        Self::start_on(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            answers,
        )
    }

    fn start_on(listener: tokio::net::TcpListener, answers: &[u16]) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(answers.to_vec()));
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post({
                let received = Arc::clone(&received);
                move |headers: axum::http::HeaderMap, body: String| {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    received.lock().unwrap().push(Received {
                        signature: header("provider-forge-signature"),
                        content_type: header("content-type"),
                        body,
                    });
                    let mut script = script.lock().unwrap();
                    let status = if script.is_empty() {
                        200
                    } else {
                        script.remove(0)
                    };
                    async move {
                        (
                            axum::http::StatusCode::from_u16(status).unwrap(),
                            [(axum::http::header::CONNECTION, "close")],
                        )
                    }
                }
            }),
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            received,
            task,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until at least `n` requests arrived; returns them all.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {n} webhook requests arrived within {PATIENCE:?}: {received:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The URL of a receiver at `addr`.
fn hook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/hooks")
}

/// A loopback address nothing listens on (yet): the receiver is down.
async fn free_address() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Checks the signature as a receiver must: recompute HMAC-SHA256 over `t.BODY` with the
/// shared secret, compare, and refuse a timestamp outside a five-minute tolerance.
fn assert_signed(received: &Received) {
    let (t, hex) = received
        .signature
        .split_once(',')
        .and_then(|(t, sig)| Some((t.strip_prefix("t=")?, sig.strip_prefix("sha256=")?)))
        .unwrap_or_else(|| panic!("signature header: {:?}", received.signature));
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected, "signature of {}", received.body);
    let sent: u64 = t.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(sent) < 300, "timestamp {sent} vs now {now}");
    assert_eq!(received.content_type, "application/json");
}

/// Rows still in the outbox.
async fn outbox_rows(world: &World) -> i64 {
    world
        .backend
        .query_count("SELECT count(*) FROM webhook_outbox")
        .await
}

/// Waits (bounded) until every event was delivered and its row removed: from then on
/// nothing can be sent again.
async fn wait_for_empty_outbox(world: &World) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while outbox_rows(world).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox was not emptied within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (bounded) until a delivery of the outbox's events failed at least once.
async fn wait_for_failed_attempt(world: &World) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while world
        .backend
        .query_count("SELECT COALESCE(MAX(attempts), 0) FROM webhook_outbox")
        .await
        < 1
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery was attempted within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn webhook_instance(world: &World, addr: SocketAddr) -> Instance {
    world.instance(&["--webhook-url", &hook_url(addr)])
}

/// Runs a case on SQLite and on PostgreSQL (skipped loudly when no server is reachable outside
/// CI).
macro_rules! on_both_backends {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = super::World::start(None).await;
                super::$case(&world).await;
                world.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = super::Backend::postgres(stringify!($case)).await else {
                    return;
                };
                let world = super::World::start(Some(backend)).await;
                super::$case(&world).await;
                world.finish().await;
            }
        }
    };
}

async fn events_arrive_signed_and_hold_nothing_secret(world: &World) {
    let receiver = Receiver::start(&[]).await;
    let serve = webhook_instance(world, receiver.addr);

    serve.connect(world, "zoho-crm", "hooked").await;
    let created = receiver.wait_for(1).await;
    assert_signed(&created[0]);
    let event = created[0].json();
    let fields: Vec<&str> = event
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "id",
            "type",
            "provider",
            "connection_id",
            "data_center",
            "environment",
            "time"
        ]
    );
    assert_eq!(event["type"], "connection.created");
    assert_eq!(event["provider"], "zoho-crm");
    assert_eq!(event["connection_id"], "hooked");
    assert_eq!(event["data_center"], "eu", "the user's data center");
    assert_eq!(
        event["environment"], "production",
        "Zoho's first environment, the session having named none"
    );
    let time = event["time"].as_str().unwrap();
    assert!(
        time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "RFC 3339 UTC: {time}"
    );

    // The provider refuses the refresh token: the connection is marked, and the platform told.
    revoke_everything_at_the_provider(world).await;
    expire(world, "zoho-crm", "hooked").await;
    assert_eq!(serve.get("/connections/zoho-crm/hooked/token").await.0, 409);
    let marked = receiver.wait_for(2).await;
    assert_signed(&marked[1]);
    assert_eq!(
        marked[1].json()["type"],
        "connection.reauthorization_required"
    );
    // Asked again, the marked connection is not marked (nor announced) twice.
    assert_eq!(serve.get("/connections/zoho-crm/hooked/token").await.0, 409);

    serve.connect(world, "zoho-crm", "hooked").await;
    let (status, body) = serve.delete("/connections/zoho-crm/hooked").await;
    assert_eq!(status, 200, "{body}");
    let all = receiver.wait_for(4).await;
    wait_for_empty_outbox(world).await;
    let all_now = receiver.received();
    assert_eq!(all_now.len(), 4, "{all_now:?}");
    let types: Vec<Value> = all.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "connection.created",
            "connection.reauthorization_required",
            "connection.created",
            "connection.deleted"
        ]
    );
    let ids: std::collections::BTreeSet<String> = all
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4, "every event has its own id");

    let mut secrets = world.secrets();
    secrets.extend([
        API_KEY.to_owned(),
        WEBHOOK_SECRET.to_owned(),
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
    ]);
    for received in &all {
        assert_signed(received);
        for secret in &secrets {
            assert!(
                !received.body.contains(secret.as_str()),
                "a secret in {}",
                received.body
            );
        }
    }
    let log = serve.log_text();
    assert!(!log.contains(WEBHOOK_SECRET), "the secret is not logged");
}
on_both_backends!(events_arrive_signed_and_hold_nothing_secret);

async fn a_failing_receiver_gets_the_event_until_it_answers_2xx(world: &World) {
    let receiver = Receiver::start(&[500, 500]).await;
    let serve = webhook_instance(world, receiver.addr);
    serve.connect(world, "zoho-crm", "retried").await;
    let received = receiver.wait_for(3).await;
    // Deleted once answered 2xx: nothing is left to send again.
    wait_for_empty_outbox(world).await;
    let received_now = receiver.received();
    assert_eq!(received_now.len(), 3, "{received_now:?}");
    assert!(
        received.iter().all(|r| r.body == received[0].body),
        "the same event"
    );
    for attempt in &received {
        assert_signed(attempt);
    }
    let log = serve.log_text();
    assert!(log.contains("answered 500"), "{log}");
    // Each attempt is counted by its outcome.
    let metrics = scrape(&serve).await;
    let deliveries = |outcome: &str| {
        sample(
            &metrics,
            "provider_forge_webhook_deliveries_total",
            &format!(r#"outcome="{outcome}""#),
        )
    };
    assert_eq!(deliveries("failed"), 2.0, "{metrics}");
    assert_eq!(deliveries("delivered"), 1.0, "{metrics}");
    drop(serve);
}
on_both_backends!(a_failing_receiver_gets_the_event_until_it_answers_2xx);

async fn an_event_waits_for_a_receiver_that_is_down(world: &World) {
    let addr = free_address().await;
    let serve = webhook_instance(world, addr);
    serve.connect(world, "zoho-crm", "patient").await;
    wait_for_failed_attempt(world).await;

    let receiver = Receiver::start_on(tokio::net::TcpListener::bind(addr).await.unwrap(), &[]);
    let received = receiver.wait_for(1).await;
    assert_signed(&received[0]);
    assert_eq!(received[0].json()["connection_id"], "patient");
    wait_for_empty_outbox(world).await;
    assert_eq!(receiver.received().len(), 1);
}
on_both_backends!(an_event_waits_for_a_receiver_that_is_down);

async fn an_undelivered_event_survives_a_restart(world: &World) {
    let addr = free_address().await;
    let mut serve = webhook_instance(world, addr);
    serve.connect(world, "zoho-crm", "restarted").await;
    wait_for_failed_attempt(world).await;
    let status = serve
        .terminate(Duration::from_secs(20))
        .expect("serve stops");
    assert!(status.success(), "{status:?}");

    let receiver = Receiver::start_on(tokio::net::TcpListener::bind(addr).await.unwrap(), &[]);
    let _again = webhook_instance(world, addr);
    let received = receiver.wait_for(1).await;
    assert_signed(&received[0]);
    assert_eq!(received[0].json()["type"], "connection.created");
    assert_eq!(received[0].json()["connection_id"], "restarted");
    wait_for_empty_outbox(world).await;
    assert_eq!(receiver.received().len(), 1);
}
on_both_backends!(an_undelivered_event_survives_a_restart);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_send_each_event_once() {
    let Some(backend) =
        Backend::postgres("two_instances_on_one_postgres_send_each_event_once").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let receiver = Receiver::start(&[]).await;
    let first = webhook_instance(&world, receiver.addr);
    let second = webhook_instance(&world, receiver.addr);
    let ids: Vec<String> = (0..6).map(|i| format!("pair-{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let serve = if i % 2 == 0 { &first } else { &second };
        serve.connect(&world, "zoho-crm", id).await;
    }
    for (i, id) in ids.iter().take(2).enumerate() {
        let serve = if i % 2 == 0 { &second } else { &first };
        let (status, body) = serve.delete(&format!("/connections/zoho-crm/{id}")).await;
        assert_eq!(status, 200, "{body}");
    }
    receiver.wait_for(8).await;
    wait_for_empty_outbox(&world).await;
    let received = receiver.received();
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for r in &received {
        assert_signed(r);
        *per_event
            .entry(r.json()["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_event.len(), 8, "{received:?}");
    assert!(
        per_event.values().all(|&n| n == 1),
        "each event once: {per_event:?}"
    );
    drop((first, second));
    world.finish().await;
}

#[tokio::test]
async fn a_webhook_url_needs_its_secret_and_https() {
    let world = World::start(None).await;
    let output = world
        .serve_command(&["--webhook-url", "https://platform.example.com/hooks"])
        .env_remove("PROVIDER_FORGE_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("PROVIDER_FORGE_WEBHOOK_SECRET is not set"),
        "{text}"
    );

    let output = world
        .serve_command(&["--webhook-url", "http://platform.example.com/hooks"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("use an https:// URL"), "{text}");
    assert!(!text.contains(WEBHOOK_SECRET), "{text}");
    world.finish().await;
}

/// Credentials the provider refuses at renewal (HTTP 401 `invalid_client` at its token
/// endpoint) mark a `token_request` connection, and a `client_credentials` connection with its
/// own client, `reauthorization_required`, with the event, as a refused refresh token does. A
/// `client_credentials` connection on the platform's client is not marked: the client refused
/// is the platform's, which no user can mend.
async fn refused_credentials_at_renewal_require_reauthorization(world: &World) {
    let receiver = Receiver::start(&[]).await;
    let serve = webhook_instance(world, receiver.addr);
    for (provider, id, credentials) in [
        (
            "two-step",
            "steps",
            serde_json::json!({"username": USERNAME, "password": PASSWORD, "appKey": APP_KEY}),
        ),
        (
            "machine-api",
            "own",
            serde_json::json!({"client_id": CLIENT_ID, "client_secret": SHARED_SECRET}),
        ),
        ("machine-api", "platform", serde_json::json!({})),
    ] {
        let (status, body) = create(
            &serve,
            serde_json::json!({"provider": provider, "connection_id": id, "credentials": credentials}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        expire(world, provider, id).await;
    }
    receiver.wait_for(3).await;

    // The provider revokes the client secret and the credentials.
    world.sim.inject(Fault::CredentialsRefused);
    for path in ["two-step/steps", "machine-api/own"] {
        let (status, body) = serve.get(&format!("/connections/{path}/token")).await;
        assert_eq!(status, 409, "{path}: {body}");
        assert_eq!(body["error"], "reauthorization_required", "{path}");
        assert_eq!(body["status"], "reauthorization_required", "{path}");
        let (_, connection) = serve.get(&format!("/connections/{path}")).await;
        assert_eq!(connection["status"], "reauthorization_required", "{path}");
    }
    let (status, body) = serve.get("/connections/machine-api/platform/token").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "provider_error");
    let (_, connection) = serve.get("/connections/machine-api/platform").await;
    assert_eq!(connection["status"], "active");

    let events = receiver.wait_for(5).await;
    let marked: BTreeMap<String, String> = events[3..]
        .iter()
        .map(|received| {
            assert_signed(received);
            let event = received.json();
            (
                event["connection_id"].as_str().unwrap().to_owned(),
                event["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        marked,
        BTreeMap::from(["own", "steps"].map(|id| (
            id.to_owned(),
            "connection.reauthorization_required".to_owned()
        )))
    );

    // Marked connections are not sent to the provider again, nor announced twice.
    let asked = world.sim.count(Endpoint::Token) + world.sim.count(Endpoint::Refresh);
    for path in ["two-step/steps", "machine-api/own"] {
        assert_eq!(
            serve.get(&format!("/connections/{path}/token")).await.0,
            409
        );
    }
    assert_eq!(
        world.sim.count(Endpoint::Token) + world.sim.count(Endpoint::Refresh),
        asked
    );
    wait_for_empty_outbox(world).await;
    assert_eq!(receiver.received().len(), 5);
}
on_both_backends_with!(
    refused_credentials_at_renewal_require_reauthorization,
    modes_world
);
