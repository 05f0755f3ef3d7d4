//! `serve`'s API proxy end to end: platform calls through `/proxy/{provider}/{id}/{path}` to the
//! simulated provider, each case on SQLite and on PostgreSQL (two instances for the
//! cross-instance cases). What reached the provider is read at the simulator.

use std::time::Duration;

use hyper::body::Bytes;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::service_api::revoke_everything_at_the_provider;
use crate::support::service::{
    API_KEY, Backend, Instance, World, on_both_backends, until, zoho_world,
};
use crate::support::{Endpoint, Fault};

/// An instance with a Zoho CRM connection `id` (the user in the EU).
async fn connected(world: &World, id: &str, extra: &[&str]) -> Instance {
    let serve = world.instance(extra);
    serve.connect(world, "zoho-crm", id).await;
    serve
}

fn api_calls(world: &World) -> usize {
    world.sim.count(Endpoint::Api)
}

async fn zoho_calls_carry_the_connections_credentials(world: &World) {
    let serve = connected(world, "eu-user", &[]).await;
    let (status, body) = serve
        .proxy_get("zoho-crm/eu-user/crm/v8/Leads?per_page=5&fields=Last_Name")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "zoho-crm");
    assert_eq!(body["data_center"], "eu");
    assert_eq!(body["environment"], "production");
    assert_eq!(body["path"], "/crm/v8/Leads");
    let call = world.sim.requests().pop().unwrap();
    assert_eq!(call.host, "www.zohoapis.eu");
    assert_eq!(
        call.query,
        [
            ("per_page".to_owned(), "5".to_owned()),
            ("fields".to_owned(), "Last_Name".to_owned())
        ]
    );

    // One call in the sandbox, by header.
    let response = serve
        .proxy(Method::GET, "zoho-crm/eu-user/crm/v8/Leads")
        .header("Provider-Forge-Environment", "sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["environment"], "sandbox");
    assert_eq!(
        world.sim.requests().pop().unwrap().host,
        "sandbox.zohoapis.eu"
    );

    let before = api_calls(world);
    let response = serve
        .proxy(Method::GET, "zoho-crm/eu-user/crm/v8/Leads")
        .header("Provider-Forge-Environment", "staging")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, body) = serve.proxy_get("zoho-crm/nobody/crm/v8/Leads").await;
    assert_eq!(status, 404, "{body}");
    // TRACE would have the provider echo the credentials back; CONNECT would open a tunnel.
    let trace = serve
        .proxy(Method::TRACE, "zoho-crm/eu-user/crm/v8/Leads")
        .send()
        .await
        .unwrap();
    assert_eq!(trace.status(), 405);
    let (status, _) = serve.proxy_get("nowhere/eu-user/x").await;
    assert_eq!(status, 404);
    let unkeyed = serve
        .api
        .get(serve.url("/proxy/zoho-crm/eu-user/crm/v8/Leads"))
        .send()
        .await
        .unwrap();
    assert_eq!(unkeyed.status(), 401);
    assert_eq!(
        api_calls(world),
        before,
        "nothing refused reached the provider"
    );

    // The log says what was called, never with what.
    let log = serve.log_text();
    assert!(
        log.contains("proxied") && log.contains("www.zohoapis.eu") && log.contains("attempts=1"),
        "{log}"
    );
    assert!(
        !log.contains("per_page"),
        "no query string in the log: {log}"
    );
    crate::support::assert_no_secret("the service log", &log, &world.secrets());
}
on_both_backends!(zoho_calls_carry_the_connections_credentials);

/// Sends one request head with exactly this request target and these extra header lines,
/// bypassing every client-side URL normalisation, and no body; returns the status and the
/// whole answer.
async fn raw(serve: &Instance, method: &str, target: &str, headers: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(serve.address())
        .await
        .unwrap();
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: forge\r\nAuthorization: Bearer {API_KEY}\r\n{headers}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

async fn raw_get(serve: &Instance, target: &str) -> (u16, String) {
    raw(serve, "GET", target, "").await
}

async fn host_changing_paths_are_refused_and_never_sent(world: &World) {
    let serve = connected(world, "safe", &[]).await;
    let (status, answer) = raw_get(&serve, "/proxy/zoho-crm/safe/crm/v8/Leads").await;
    assert_eq!(status, 200, "{answer}");
    let before = api_calls(world);
    for path in [
        "//evil.com/x",
        "/crm//evil.com",
        "/..",
        "/crm/../../x",
        "/crm/%2e%2e/%2E%2E/x",
        "/crm%2F..%2Fevil",
        "/crm%2fx",
        "/crm%5Cx",
        "/crm\\x",
        "/@evil.com/x",
        "/crm/x@evil.com",
        "/https://evil.com/x",
        "/http:",
    ] {
        let (status, answer) = raw_get(&serve, &format!("/proxy/zoho-crm/safe{path}")).await;
        assert_eq!(status, 400, "{path}: {answer}");
        if !path.contains('\\') {
            // (A raw backslash is not URI syntax: the HTTP layer refuses it first.)
            assert!(answer.contains("\"path_refused\""), "{path}: {answer}");
        }
    }
    // An absolute-form target names a host of its own; only its path is ever used.
    let (status, answer) =
        raw_get(&serve, "https://evil.com/proxy/zoho-crm/safe/crm/v8/Leads").await;
    assert_eq!(status, 200, "{answer}");
    let api = world.sim.requests();
    let mut hosts: Vec<&str> = api
        .iter()
        .filter(|request| request.endpoint == Endpoint::Api)
        .map(|request| request.host.as_str())
        .collect();
    hosts.dedup();
    assert_eq!(hosts, ["www.zohoapis.eu"]);
    assert_eq!(api_calls(world), before + 1, "no refused path was sent");
}
on_both_backends!(host_changing_paths_are_refused_and_never_sent);

/// The simulator's echo of one call.
async fn echo(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn header<'v>(echo: &'v Value, name: &str) -> Vec<&'v str> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0] == name)
        .map(|pair| pair[1].as_str().unwrap())
        .collect()
}

async fn headers_are_filtered_and_the_body_goes_up(world: &World) {
    let serve = connected(world, "filter", &[]).await;
    let echoed = echo(
        serve
            .proxy(
                Method::POST,
                "zoho-crm/filter/crm/v8/_simulate/echo?a=1&b=x%20y",
            )
            .header("Cookie", "platform-session=1")
            .header("Proxy-Authorization", "Basic cGxhdGZvcm06cHc=")
            .header("Connection", "x-private")
            .header("X-Private", "hop")
            .header("X-Request-Id", "req-1")
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .header("Provider-Forge-Environment", "production")
            .body(r#"{"data":[{"Last_Name":"Ng"}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/crm/v8/_simulate/echo");
    assert_eq!(
        echoed["query"],
        serde_json::json!([["a", "1"], ["b", "x y"]])
    );
    assert_eq!(echoed["body"], r#"{"data":[{"Last_Name":"Ng"}]}"#);
    // The credential, as the definition places it (the simulator accepted it), and only it.
    assert_eq!(header(&echoed, "authorization"), ["[credential]"]);
    assert_eq!(header(&echoed, "x-request-id"), ["req-1"]);
    assert_eq!(header(&echoed, "accept"), ["application/json"]);
    assert_eq!(header(&echoed, "content-type"), ["application/json"]);
    for dropped in [
        "cookie",
        "proxy-authorization",
        "x-private",
        "provider-forge-environment",
    ] {
        assert!(header(&echoed, dropped).is_empty(), "{dropped}: {echoed}");
    }
    assert!(
        !echoed.to_string().contains(API_KEY),
        "the service's key never goes up"
    );
}
on_both_backends!(headers_are_filtered_and_the_body_goes_up);

/// A request body fed chunk by chunk from the test, its length not declared.
struct Fed(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for Fed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(hyper::body::Frame::data(bytes))))
    }
}

const MIB: usize = 1024 * 1024;

async fn a_large_body_streams_both_ways(world: &World) {
    let serve = connected(world, "large", &[]).await;
    let total = 64 * MIB;
    let peak_before = serve.peak_memory_kib();

    // Up: the provider has the first mebibyte while the platform still holds the rest.
    let (feed, fed) = tokio::sync::mpsc::channel(1);
    let upload = tokio::spawn(
        serve
            .proxy(Method::PUT, "zoho-crm/large/crm/v8/_simulate/upload")
            .body(reqwest::Body::wrap(Fed(fed)))
            .send(),
    );
    let chunk = Bytes::from(vec![7u8; 256 * 1024]);
    for _ in 0..4 {
        feed.send(chunk.clone()).await.unwrap();
    }
    until(
        "the provider receiving the first MiB before the rest is sent",
        || world.sim.uploaded_bytes() >= MIB as u64,
    )
    .await;
    for _ in 4..total / chunk.len() {
        feed.send(chunk.clone()).await.unwrap();
    }
    drop(feed);
    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["bytes"], total as u64);

    // Down: the platform has the first mebibyte while the provider still holds the rest.
    let mut response = serve
        .proxy(
            Method::GET,
            &format!("zoho-crm/large/crm/v8/_simulate/download?bytes={total}&hold={MIB}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(total as u64));
    let mut received = 0usize;
    let mut released = false;
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), response.chunk())
        .await
        .expect("the first MiB arrives while the provider holds the rest")
        .unwrap()
    {
        for (offset, byte) in chunk.iter().enumerate() {
            assert_eq!(
                *byte as usize,
                (received + offset) % 251,
                "byte {}",
                received + offset
            );
        }
        received += chunk.len();
        if !released && received >= MIB {
            released = true;
            world.sim.release();
        }
    }
    assert!(released);
    assert_eq!(received, total);
    // Neither body was ever held: the service's peak memory grew by far less than one of them.
    let growth = serve.peak_memory_kib().saturating_sub(peak_before);
    assert!(
        growth < 16 * 1024,
        "the peak grew by {growth} KiB moving 64 MiB each way"
    );
}
on_both_backends!(a_large_body_streams_both_ways);

async fn a_body_past_the_limit_is_refused(world: &World) {
    let serve = connected(world, "limit", &["--proxy-max-body", "1"]).await;
    let before = api_calls(world);
    // Refused on its declared length alone, before a byte of it is read.
    let (status, answer) = raw(
        &serve,
        "PUT",
        "/proxy/zoho-crm/limit/crm/v8/_simulate/upload",
        &format!("Content-Length: {}\r\n", 2 * MIB),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
    assert_eq!(
        api_calls(world),
        before,
        "a declared length past the limit is never sent"
    );

    // Undeclared, it is cut off where it passes the limit.
    let (feed, fed) = tokio::sync::mpsc::channel(8);
    let upload = tokio::spawn(
        serve
            .proxy(Method::PUT, "zoho-crm/limit/crm/v8/_simulate/upload")
            .body(reqwest::Body::wrap(Fed(fed)))
            .send(),
    );
    for _ in 0..5 {
        feed.send(Bytes::from(vec![0u8; 256 * 1024])).await.unwrap();
    }
    // The platform holds the rest back: the answer comes while it still could send.
    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "body_too_large");
    assert!(world.sim.uploaded_bytes() <= MIB as u64);
    drop(feed);
}
on_both_backends!(a_body_past_the_limit_is_refused);

async fn a_refused_token_is_renewed_once_and_the_call_made_again(world: &World) {
    let serve = connected(world, "renew", &[]).await;
    assert_eq!(serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await.0, 200);
    let before = api_calls(world);
    world.sim.inject(Fault::Api401Once);
    let (status, body) = serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(world.sim.count(Endpoint::Refresh), 1);
    assert_eq!(api_calls(world), before + 2);
    // The renewed token is kept: the next call needs no refresh.
    assert_eq!(serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await.0, 200);
    assert_eq!(world.sim.count(Endpoint::Refresh), 1);

    // Refused again after the renewal: the provider's second 401 is passed back.
    world.sim.inject(Fault::Api401Once);
    world.sim.inject(Fault::Api401Once);
    let (status, body) = serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["fault"], "api-401-once", "the provider's own answer");
    assert_eq!(world.sim.count(Endpoint::Refresh), 2);

    // A refused refresh marks the connection: nothing more is sent for it.
    revoke_everything_at_the_provider(world).await;
    world.sim.inject(Fault::Api401Once);
    let (status, body) = serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "reauthorization_required");
    let (_, connection) = serve.get("/connections/zoho-crm/renew").await;
    assert_eq!(connection["status"], "reauthorization_required");
    let calls = api_calls(world);
    let (status, _) = serve.proxy_get("zoho-crm/renew/crm/v8/Leads").await;
    assert_eq!(status, 409);
    assert_eq!(api_calls(world), calls);
}
on_both_backends!(a_refused_token_is_renewed_once_and_the_call_made_again);

async fn rate_limits_are_waited_out_within_bounds(world: &World) {
    let serve = connected(world, "limited", &[]).await;
    for fault in [Fault::Api429Once, Fault::Api503Once, Fault::Api429DateOnce] {
        let before = api_calls(world);
        world.sim.inject(fault);
        let (status, body) = serve.proxy_get("zoho-crm/limited/crm/v8/Leads").await;
        assert_eq!(status, 200, "{fault}: {body}");
        assert_eq!(api_calls(world), before + 2, "{fault}");
    }

    // A POST gets the answer at once, unless the caller opts in.
    let before = api_calls(world);
    world.sim.inject(Fault::Api429Once);
    let response = serve
        .proxy(Method::POST, "zoho-crm/limited/crm/v8/Leads")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(api_calls(world), before + 1);
    world.sim.inject(Fault::Api503Once);
    let response = serve
        .proxy(Method::POST, "zoho-crm/limited/crm/v8/Leads")
        .header("Provider-Forge-Retry", "true")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api_calls(world), before + 3);

    // A network error: an idempotent call is made again, a POST is not.
    world.sim.inject(Fault::ApiResetOnce);
    assert_eq!(
        serve.proxy_get("zoho-crm/limited/crm/v8/Leads").await.0,
        200
    );
    assert_eq!(api_calls(world), before + 5);
    world.sim.inject(Fault::ApiResetOnce);
    let response = serve
        .proxy(Method::POST, "zoho-crm/limited/crm/v8/Leads")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "upstream_unreachable");
    assert_eq!(api_calls(world), before + 6);
    drop(serve);

    // At most --proxy-retries times, and no wait past --proxy-retry-seconds.
    let few = world.instance(&["--proxy-retries", "1"]);
    let before = api_calls(world);
    world.sim.inject(Fault::Api503Once);
    world.sim.inject(Fault::Api503Once);
    let (status, _) = few.proxy_get("zoho-crm/limited/crm/v8/Leads").await;
    assert_eq!(status, 503, "passed back after one retry");
    assert_eq!(api_calls(world), before + 2);
    drop(few);
    let hurried = world.instance(&["--proxy-retry-seconds", "0"]);
    let before = api_calls(world);
    world.sim.inject(Fault::Api429Once);
    let (status, _) = hurried.proxy_get("zoho-crm/limited/crm/v8/Leads").await;
    assert_eq!(status, 429, "Retry-After: 1 is past the budget");
    assert_eq!(api_calls(world), before + 1);
}
on_both_backends!(rate_limits_are_waited_out_within_bounds);

async fn a_hanging_provider_times_out(world: &World) {
    let serve = connected(world, "hung", &["--proxy-timeout", "1"]).await;
    world.sim.inject(Fault::ApiHangOnce);
    let (status, body) = serve.proxy_get("zoho-crm/hung/crm/v8/Leads").await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"], "upstream_timeout");
    world.sim.release();
    assert_eq!(serve.proxy_get("zoho-crm/hung/crm/v8/Leads").await.0, 200);
}
on_both_backends!(a_hanging_provider_times_out);

async fn a_connection_deleted_while_a_call_is_in_flight(world: &World) {
    let serve = connected(world, "doomed", &[]).await;
    assert_eq!(serve.proxy_get("zoho-crm/doomed/crm/v8/Leads").await.0, 200);
    let before = api_calls(world);
    // The call reaches the provider, which holds it; then answers 401.
    world.sim.inject(Fault::ApiHangOnce);
    world.sim.inject(Fault::Api401Once);
    let call = tokio::spawn(
        serve
            .proxy(Method::GET, "zoho-crm/doomed/crm/v8/Leads")
            .send(),
    );
    until("the call reaching the provider", || {
        api_calls(world) > before
    })
    .await;
    assert_eq!(serve.delete("/connections/zoho-crm/doomed").await.0, 200);
    world.sim.release();
    let response = call.await.unwrap().unwrap();
    assert_eq!(response.status(), 404, "the renewal finds no connection");
    assert_eq!(world.sim.count(Endpoint::Refresh), 0, "nothing renewed");
    assert_eq!(
        world
            .backend
            .query_count("SELECT count(*) FROM connections WHERE connection_id = 'doomed'")
            .await,
        0,
        "nothing written back"
    );
    let (status, _) = serve.proxy_get("zoho-crm/doomed/crm/v8/Leads").await;
    assert_eq!(status, 404, "the hot connection went with the row");
    assert_eq!(api_calls(world), before + 1);
}
on_both_backends!(a_connection_deleted_while_a_call_is_in_flight);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_mid_call_is_a_clean_503() {
    let Some(backend) = Backend::postgres("the_database_going_away_mid_call_is_a_clean_503").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let serve = connected(&world, "db", &[]).await;
    assert_eq!(serve.proxy_get("zoho-crm/db/crm/v8/Leads").await.0, 200);
    let before = api_calls(&world);
    world.sim.inject(Fault::ApiHangOnce);
    world.sim.inject(Fault::Api401Once);
    let call = tokio::spawn(serve.proxy(Method::GET, "zoho-crm/db/crm/v8/Leads").send());
    until("the call reaching the provider", || {
        api_calls(&world) > before
    })
    .await;
    world.backend.drop_database().await;
    world.sim.release();
    let response = call.await.unwrap().unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "database_unavailable");
    assert_eq!(
        world.sim.count(Endpoint::Refresh),
        0,
        "no token was asked for that could not be stored"
    );
    // With the database gone, no call goes out on what was kept in memory.
    let (status, _) = serve.proxy_get("zoho-crm/db/crm/v8/Leads").await;
    assert_eq!(status, 503);
    assert_eq!(api_calls(&world), before + 1);
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_refresh_once_for_refused_tokens() {
    let Some(backend) = Backend::postgres("two_instances_refresh_once_for_refused_tokens").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let first = connected(&world, "shared", &[]).await;
    let second = world.instance(&[]);
    for instance in [&first, &second] {
        assert_eq!(
            instance.proxy_get("zoho-crm/shared/crm/v8/Leads").await.0,
            200
        );
    }

    // A refresh through the token route races a call the provider refuses on the other
    // instance: the refused token is already replaced, so nothing more is refreshed.
    let before = api_calls(&world);
    world.sim.inject(Fault::ApiHangOnce);
    world.sim.inject(Fault::Api401Once);
    let call = tokio::spawn(
        second
            .proxy(Method::GET, "zoho-crm/shared/crm/v8/Leads")
            .send(),
    );
    until("the call reaching the provider", || {
        api_calls(&world) > before
    })
    .await;
    let (status, _) = first
        .get("/connections/zoho-crm/shared/token?force_refresh=true")
        .await;
    assert_eq!(status, 200);
    assert_eq!(world.sim.count(Endpoint::Refresh), 1);
    world.sim.release();
    assert_eq!(call.await.unwrap().unwrap().status(), 200);
    assert_eq!(
        world.sim.count(Endpoint::Refresh),
        1,
        "one refresh in total"
    );

    // Both instances see their token refused at once: one refresh between them.
    let before = api_calls(&world);
    for fault in [
        Fault::ApiHangOnce,
        Fault::ApiHangOnce,
        Fault::Api401Once,
        Fault::Api401Once,
    ] {
        world.sim.inject(fault);
    }
    let calls = [&first, &second].map(|instance| {
        tokio::spawn(
            instance
                .proxy(Method::GET, "zoho-crm/shared/crm/v8/Leads")
                .send(),
        )
    });
    until("both calls reaching the provider", || {
        api_calls(&world) == before + 2
    })
    .await;
    world.sim.release();
    world.sim.release();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(
        world.sim.count(Endpoint::Refresh),
        2,
        "one more refresh, not two"
    );
    assert_eq!(api_calls(&world), before + 4);
    drop((first, second));
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_on_one_instance_cools_the_connection_on_the_other() {
    let Some(backend) =
        Backend::postgres("a_delete_on_one_instance_cools_the_connection_on_the_other").await
    else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let first = connected(&world, "cooled", &[]).await;
    let second = world.instance(&[]);
    assert_eq!(
        second.proxy_get("zoho-crm/cooled/crm/v8/Leads").await.0,
        200
    );
    assert_eq!(first.delete("/connections/zoho-crm/cooled").await.0, 200);
    // The other instance hears of it through the database, a notification away.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = second.proxy_get("zoho-crm/cooled/crm/v8/Leads").await;
        if status == 404 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            std::time::Instant::now() < deadline,
            "the deleted connection kept working on the other instance"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((first, second));
    world.finish().await;
}

/// Every mode's credentials go where its definition puts them, and a refused call is renewed
/// only where there is a token to renew.
async fn every_mode_through_the_proxy(world: &World) {
    use crate::service_connections::{APP_KEY, PASSWORD, SUBDOMAIN, USERNAME, create};
    let serve = world.instance(&[]);
    for body in [
        serde_json::json!({"provider": "keyed-api", "connection_id": "k1",
            "credentials": {"apiKey": crate::service_connections::API_KEY}}),
        serde_json::json!({"provider": "query-key", "connection_id": "q1",
            "credentials": {"apiKey": crate::service_connections::API_KEY}}),
        serde_json::json!({"provider": "basic-desk", "connection_id": "d1",
            "credentials": {"username": USERNAME, "password": PASSWORD},
            "params": {"subdomain": SUBDOMAIN}}),
        serde_json::json!({"provider": "machine-api", "connection_id": "m1", "credentials": {}}),
        serde_json::json!({"provider": "two-step", "connection_id": "t1",
            "credentials": {"username": USERNAME, "password": PASSWORD, "appKey": APP_KEY}}),
    ] {
        let (status, created) = create(&serve, body).await;
        assert_eq!(status, 201, "{created}");
    }
    for (path, host) in [
        ("keyed-api/k1/v1/models", "api.keyed.test"),
        // The caller's own `key` is replaced by the connection's: the provider accepts it.
        (
            "query-key/q1/v1/ping?key=not-mine&page=2",
            "maps.query-key.test",
        ),
        ("basic-desk/d1/agents/me", "acme.desk.test"),
        ("machine-api/m1/v2/clients", "api.machine.test"),
        ("two-step/t1/v1/me", "api.two-step.test"),
    ] {
        let (status, body) = serve.proxy_get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let call = world.sim.requests().pop().unwrap();
        assert_eq!(call.endpoint, Endpoint::Api);
        assert_eq!(call.host, host, "{path}");
    }
    let call = world.sim.requests().pop().unwrap();
    assert!(call.path.ends_with("/v1/me"), "{call:?}");
    let ping = world
        .sim
        .requests()
        .into_iter()
        .rfind(|call| call.path.ends_with("/v1/ping"))
        .unwrap();
    let names: Vec<&str> = ping.query.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["page", "key"], "one key, the connection's");

    // An API key is sent to the sandbox when asked.
    let response = serve
        .proxy(Method::GET, "keyed-api/k1/v1/models")
        .header("Provider-Forge-Environment", "sandbox")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        world.sim.requests().pop().unwrap().host,
        "sandbox.keyed.test"
    );

    // Refused: a key or a pair is passed back as it is; a token is renewed once.
    let renewals = || world.sim.count(Endpoint::Token) + world.sim.count(Endpoint::Refresh);
    for path in ["keyed-api/k1/v1/models", "basic-desk/d1/agents/me"] {
        let before = renewals();
        world.sim.inject(Fault::Api401Once);
        assert_eq!(serve.proxy_get(path).await.0, 401, "{path}");
        assert_eq!(renewals(), before, "{path}");
    }
    for path in ["machine-api/m1/v2/clients", "two-step/t1/v1/me"] {
        let before = renewals();
        world.sim.inject(Fault::Api401Once);
        let (status, body) = serve.proxy_get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(renewals(), before + 1, "{path}");
    }
    crate::support::assert_no_secret(
        "the service log",
        &serve.log_text(),
        &crate::service_connections::mode_secrets(world),
    );
}
on_both_backends!(every_mode_through_the_proxy, modes_world);

use crate::service_connections::modes_world;
