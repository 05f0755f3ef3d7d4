//! Connections of every auth mode in the service, and what the token route hands out: the
//! ready headers and query parameters that carry a connection's credentials, the API base URL
//! of its data center in its environment. `provider-forge serve` processes against the
//! project's simulator, each case on SQLite and on PostgreSQL.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::support;
use crate::support::service::{Backend, Instance, World, expire, on_both_backends, zoho_world};
use crate::support::{CLIENT_ID, Endpoint, Fault, SHARED_SECRET};

/// Calls the simulated API at `base_url` + `path` with exactly the headers and query
/// parameters the token route handed out; returns the status.
async fn call_api(world: &World, token: &Value, path: &str) -> u16 {
    let base = token["api_base_url"].as_str().unwrap();
    let mut url = url::Url::parse(&format!("{}/{path}", base.trim_end_matches('/'))).unwrap();
    for (name, value) in token["query"].as_object().unwrap() {
        url.query_pairs_mut()
            .append_pair(name, value.as_str().unwrap());
    }
    let mut request = world.browser.get(url);
    for (name, value) in token["headers"].as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    request.send().await.unwrap().status().as_u16()
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

/// Zoho's token route hands out `Authorization: Zoho-oauthtoken <token>` and the API base URL
/// of the user's data center (Europe) in the environment asked for; the simulated API accepts
/// exactly that.
async fn zoho_token_route_hands_out_ready_headers(world: &World) {
    let serve: Instance = world.instance(&[]);
    serve.connect(world, "zoho-crm", "eu-user").await;

    let (status, token) = serve.get("/connections/zoho-crm/eu-user/token").await;
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().unwrap();
    assert!(world.sim.issued_secrets().iter().any(|s| s == access));
    assert_eq!(
        token["headers"]["Authorization"],
        format!("Zoho-oauthtoken {access}").as_str(),
        "{token}"
    );
    assert_eq!(token["auth_mode"], "oauth2_code");
    assert_eq!(token["environment"], "production");
    // Zoho's EU API domain (the facts sheet), not the US one.
    assert_eq!(token["api_base_url"], "https://www.zohoapis.eu");
    assert_eq!(call_api(world, &token, "crm/v8/Leads").await, 200);

    let (status, sandbox) = serve
        .get("/connections/zoho-crm/eu-user/token?environment=sandbox")
        .await;
    assert_eq!(status, 200, "{sandbox}");
    assert_eq!(sandbox["environment"], "sandbox");
    assert_eq!(sandbox["api_base_url"], "https://sandbox.zohoapis.eu");
    assert_eq!(sandbox["access_token"], access, "the same token, reused");
    assert_eq!(call_api(world, &sandbox, "crm/v8/Leads").await, 200);

    let (status, refused) = serve
        .get("/connections/zoho-crm/eu-user/token?environment=staging")
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"], "unknown_environment");
    assert_eq!(refused["field"], "environment");
    assert!(
        message(&refused).contains("it defines: production, sandbox, developer"),
        "{refused}"
    );
}
on_both_backends!(zoho_token_route_hands_out_ready_headers, zoho_world);

/// The credentials the simulated providers accept.
pub(crate) const API_KEY: &str = "sk-test-simulated-key-7b1e";
pub(crate) const USERNAME: &str = "sim-user";
pub(crate) const PASSWORD: &str = "sim-password-c3d9";
pub(crate) const APP_KEY: &str = "app-simkey42";
/// The one helpdesk (`<subdomain>.desk.test`) the simulator plays.
pub(crate) const SUBDOMAIN: &str = "acme";

/// The definitions of tests/fixtures/auth, one per mode, with the API-key provider given a
/// sandbox beside production.
fn mode_definitions() -> Vec<(PathBuf, String)> {
    [
        "api-key",
        "query-key",
        "basic",
        "client-credentials",
        "token-request",
    ]
    .into_iter()
    .map(|name| {
        let path = support::repo_path(format!("tests/fixtures/auth/{name}.yaml"));
        let mut text = std::fs::read_to_string(&path).unwrap();
        if name == "api-key" {
            let production = "    production: https://api.keyed.test\n";
            assert!(text.contains(production));
            text = text.replace(
                production,
                &format!("{production}    sandbox: https://sandbox.keyed.test\n"),
            );
        }
        (path, text)
    })
    .collect()
}

/// The five modes' providers, the simulator accepting the credentials above; only the
/// client-credentials provider has a client in the clients file (the platform's).
pub(crate) async fn modes_world(backend: Option<Backend>) -> World {
    World::start_definitions(backend, &mode_definitions(), &["machine-api"], |setup| {
        setup.credential_values = [
            ("apiKey", API_KEY),
            ("username", USERNAME),
            ("password", PASSWORD),
            ("appKey", APP_KEY),
        ]
        .into_iter()
        .collect();
        setup
            .connection_values
            .insert("subdomain".into(), SUBDOMAIN.into());
    })
    .await
}

/// Everything secret the modes' connections hold.
pub(crate) fn mode_secrets(world: &World) -> Vec<String> {
    let mut secrets = world.secrets();
    secrets.extend([API_KEY, USERNAME, PASSWORD, APP_KEY].map(str::to_owned));
    secrets
}

/// POST /connections with `body`; returns status and JSON body.
pub(crate) async fn create(serve: &Instance, body: Value) -> (u16, Value) {
    let response = serve
        .api
        .post(serve.url("/connections"))
        .bearer_auth(support::service::API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every mode connects from its credentials, is verified at the provider first, and its token
/// route hands out what a call needs: the simulated API accepts exactly those headers and
/// query parameters.
async fn every_mode_connects_and_hands_out_ready_credentials(world: &World) {
    let serve = world.instance(&[]);

    // api_key: the key in `x-api-key`, verified with one API call before anything is stored.
    let (status, keyed) = create(
        &serve,
        json!({"provider": "keyed-api", "connection_id": "k1", "credentials": {"apiKey": API_KEY}}),
    )
    .await;
    assert_eq!(status, 201, "{keyed}");
    assert_eq!(world.sim.count(Endpoint::Api), 1, "verified once");
    assert_eq!(keyed["auth_mode"], "api_key");
    assert_eq!(keyed["environment"], "production");
    assert_eq!(keyed["api_base_url"], "https://api.keyed.test");
    assert_eq!(keyed["status"], "active");
    let (status, token) = serve.get("/connections/keyed-api/k1/token").await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["auth_mode"], "api_key");
    assert_eq!(token["access_token"], Value::Null);
    assert_eq!(token["headers"]["x-api-key"], API_KEY);
    assert_eq!(token["headers"]["keyed-version"], "2023-06-01");
    assert_eq!(call_api(world, &token, "v1/models").await, 200);

    // api_key in the query.
    let (status, body) = create(
        &serve,
        json!({"provider": "query-key", "connection_id": "q1", "credentials": {"apiKey": API_KEY}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, token) = serve.get("/connections/query-key/q1/token").await;
    assert_eq!(token["query"]["key"], API_KEY, "{token}");
    assert_eq!(token["headers"], json!({}));
    assert_eq!(call_api(world, &token, "v1/ping").await, 200);

    // basic, at the connection's own host.
    let (status, desk) = create(
        &serve,
        json!({
            "provider": "basic-desk", "connection_id": "d1",
            "credentials": {"username": USERNAME, "password": PASSWORD},
            "params": {"subdomain": SUBDOMAIN},
        }),
    )
    .await;
    assert_eq!(status, 201, "{desk}");
    assert_eq!(desk["api_base_url"], "https://acme.desk.test/api/v2");
    assert_eq!(desk["params"]["subdomain"], SUBDOMAIN);
    let (_, token) = serve.get("/connections/basic-desk/d1/token").await;
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{PASSWORD}"));
    assert_eq!(token["headers"]["Authorization"], format!("Basic {pair}"));
    assert_eq!(call_api(world, &token, "agents/me").await, 200);

    // client_credentials with the platform's client: a token at creation, then verified.
    let tokens_before = world.sim.count(Endpoint::Token);
    let (status, machine) = create(
        &serve,
        json!({"provider": "machine-api", "connection_id": "m1", "credentials": {}}),
    )
    .await;
    assert_eq!(status, 201, "{machine}");
    assert_eq!(world.sim.count(Endpoint::Token), tokens_before + 1);
    assert_eq!(machine["auth_mode"], "client_credentials");
    assert_eq!(machine["issuer"], "https://auth.machine.test");
    let (_, token) = serve.get("/connections/machine-api/m1/token").await;
    let access = token["access_token"].as_str().unwrap();
    assert!(world.sim.issued_secrets().iter().any(|s| s == access));
    assert_eq!(
        token["headers"]["Authorization"],
        format!("Bearer {access}")
    );
    assert_eq!(call_api(world, &token, "v2/clients").await, 200);
    // ... and with the connection's own client: the simulator knows one client, so a wrong
    // secret proves the connection's own is the one sent.
    let (status, own) = create(
        &serve,
        json!({"provider": "machine-api", "connection_id": "m2",
               "credentials": {"client_id": CLIENT_ID, "client_secret": SHARED_SECRET}}),
    )
    .await;
    assert_eq!(status, 201, "{own}");
    let (status, refused) = create(
        &serve,
        json!({"provider": "machine-api", "connection_id": "m3",
               "credentials": {"client_id": CLIENT_ID, "client_secret": "not-the-secret"}}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "verification_failed");
    assert_eq!(refused["provider_status"], 401);
    assert_eq!(serve.get("/connections/machine-api/m3").await.0, 404);

    // token_request: the credentials traded for a token, the app key on every call too.
    let (status, two) = create(
        &serve,
        json!({"provider": "two-step", "connection_id": "t1",
               "credentials": {"username": USERNAME, "password": PASSWORD, "appKey": APP_KEY}}),
    )
    .await;
    assert_eq!(status, 201, "{two}");
    let (_, token) = serve.get("/connections/two-step/t1/token").await;
    let access = token["access_token"].as_str().unwrap();
    assert_eq!(
        token["headers"]["Authorization"],
        format!("Bearer {access}")
    );
    assert_eq!(token["headers"]["x-app-key"], APP_KEY);
    assert_eq!(call_api(world, &token, "v1/me").await, 200);

    // Listed like any connection, with no secret in sight; sealed at rest.
    let (_, list) = serve.get("/connections").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 6, "{list}");
    let secrets = mode_secrets(world);
    support::assert_no_secret("the connection list", &list.to_string(), &secrets);
    world.backend.assert_no_secret_at_rest(&secrets).await;
    support::assert_no_secret("the service log", &serve.log_text(), &secrets);

    // Deleted like any connection (these definitions revoke nothing).
    for path in ["keyed-api/k1", "machine-api/m2"] {
        let (status, deleted) = serve.delete(&format!("/connections/{path}")).await;
        assert_eq!(status, 200, "{deleted}");
        assert_eq!(deleted["revoked"], Value::Null);
        assert_eq!(serve.get(&format!("/connections/{path}")).await.0, 404);
    }
}
on_both_backends!(
    every_mode_connects_and_hands_out_ready_credentials,
    modes_world
);

/// Credentials are checked against their declaration before anything is sent (400 naming the
/// field), and a provider that refuses them (422 with its status) leaves nothing stored.
async fn refused_credentials_store_nothing(world: &World) {
    let serve = world.instance(&[]);
    let keyed = |credentials: Value| {
        create(
            &serve,
            json!({"provider": "keyed-api", "connection_id": "k", "credentials": credentials}),
        )
    };
    let (status, body) = keyed(json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "missing_credential");
    assert_eq!(body["field"], "credentials.apiKey");
    let (status, body) = keyed(json!({"apiKey": API_KEY, "api_key": "x"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unknown_credential");
    assert_eq!(body["field"], "credentials.api_key");
    let (status, body) = keyed(json!({"apiKey": "pk-live-wrong-shape"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_credential");
    assert!(
        message(&body).contains("^sk-test-"),
        "the pattern is named: {body}"
    );
    assert!(!body.to_string().contains("pk-live-wrong-shape"), "{body}");
    let (status, body) = create(
        &serve,
        json!({"provider": "basic-desk", "connection_id": "d", "credentials": {"username": USERNAME}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "missing_param");
    assert_eq!(body["field"], "params.subdomain");
    let (status, body) = create(
        &serve,
        json!({"provider": "basic-desk", "connection_id": "d", "credentials": {"username": USERNAME},
               "params": {"subdomain": "evil.example.com#"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "params.subdomain", "{body}");
    let (status, body) = create(
        &serve,
        json!({"provider": "machine-api", "connection_id": "m",
               "credentials": {"client_secret": SHARED_SECRET}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "credentials.client_id");
    let (status, body) = create(
        &serve,
        json!({"provider": "machine-api", "connection_id": "m", "credentials": {"apiKey": API_KEY}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unknown_credential");
    // No user takes part in client credentials: no session. A credential mode's session is
    // its connect page only, where the user types the credentials: nothing to authorize.
    let (status, body) = serve
        .start_session(json!({"provider": "machine-api", "connection_id": "m"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(message(&body).contains("POST /connections"), "{body}");
    let (status, body) = serve
        .start_session(json!({"provider": "keyed-api", "connection_id": "k"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["connect_url"].is_string(), "{body}");
    assert!(body.get("authorization_url").is_none(), "{body}");
    assert_eq!(serve.get("/connections/basic-desk/d").await.0, 404);
    assert_eq!(
        world.sim.requests().len(),
        0,
        "nothing reached the provider"
    );

    // The provider refuses: a well-formed key it does not know, a wrong password.
    let (status, body) = keyed(json!({"apiKey": "sk-test-unknown"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "verification_failed");
    assert_eq!(body["provider_status"], 401);
    assert!(!body.to_string().contains("sk-test-unknown"), "{body}");
    let (status, body) = create(
        &serve,
        json!({"provider": "two-step", "connection_id": "t",
               "credentials": {"username": USERNAME, "password": "wrong-password", "appKey": APP_KEY}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["provider_status"], 401);
    assert_eq!(world.sim.count(Endpoint::Api), 1, "one verification tried");
    assert_eq!(
        serve.get("/connections").await.1,
        json!({"items": [], "next_cursor": null})
    );
    assert_eq!(
        world
            .backend
            .query_count("SELECT count(*) FROM connections")
            .await,
        0
    );
}
on_both_backends!(refused_credentials_store_nothing, modes_world);

/// The environment is part of the connection: the definition's first by default, the one
/// asked for otherwise (verified there, its base URL handed out), an unknown one refused with
/// the known ones listed; the token route may ask for another for one answer.
async fn the_environment_is_stored_with_the_connection(world: &World) {
    // Webhooks to a receiver that is not there: the events stay in the outbox to be read.
    let serve = world.instance(&["--webhook-url", "http://127.0.0.1:9/hooks"]);
    let (status, body) = create(
        &serve,
        json!({"provider": "keyed-api", "connection_id": "sb", "environment": "sandbox",
               "credentials": {"apiKey": API_KEY}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["environment"], "sandbox");
    assert_eq!(body["api_base_url"], "https://sandbox.keyed.test");
    assert_eq!(
        world.sim.count_at("sandbox.keyed.test", Endpoint::Api),
        1,
        "verified in the sandbox"
    );
    let (_, token) = serve.get("/connections/keyed-api/sb/token").await;
    assert_eq!(token["environment"], "sandbox");
    assert_eq!(token["api_base_url"], "https://sandbox.keyed.test");
    let (_, production) = serve
        .get("/connections/keyed-api/sb/token?environment=production")
        .await;
    assert_eq!(production["api_base_url"], "https://api.keyed.test");
    let (_, again) = serve.get("/connections/keyed-api/sb").await;
    assert_eq!(again["environment"], "sandbox", "one answer only");
    assert_eq!(
        created_events(world, "sb", "sandbox").await,
        1,
        "connection.created names the environment"
    );

    let (status, body) = create(
        &serve,
        json!({"provider": "keyed-api", "connection_id": "st", "environment": "staging",
               "credentials": {"apiKey": API_KEY}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unknown_environment");
    assert_eq!(body["field"], "environment");
    assert!(
        message(&body).ends_with("it defines: production, sandbox"),
        "{body}"
    );
}
on_both_backends!(the_environment_is_stored_with_the_connection, modes_world);

/// A session's environment: stored with the connection its callback makes, shown with the
/// accounts server the user was sent to, and in the `connection.created` event.
async fn a_session_keeps_its_environment(world: &World) {
    let serve = world.instance(&["--webhook-url", "http://127.0.0.1:9/hooks"]);
    let (status, body) = serve
        .start_session(
            json!({"provider": "zoho-crm", "connection_id": "x", "environment": "staging"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unknown_environment");
    assert!(
        message(&body).ends_with("it defines: production, sandbox, developer"),
        "{body}"
    );

    let (status, session) = serve
        .start_session(
            json!({"provider": "zoho-crm", "connection_id": "sandboxed", "environment": "sandbox"}),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let callback = support::browse_to_callback(
        &world.browser,
        session["authorization_url"].as_str().unwrap(),
        support::REDIRECT_URI,
    )
    .await;
    assert_eq!(serve.deliver_callback(&callback).await.0, 200);
    let (_, connection) = serve.get("/connections/zoho-crm/sandboxed").await;
    assert_eq!(connection["environment"], "sandbox");
    assert_eq!(connection["api_base_url"], "https://sandbox.zohoapis.eu");
    assert_eq!(
        connection["issuer"], "https://accounts.zoho.eu",
        "{connection}"
    );
    assert_eq!(connection["auth_mode"], "oauth2_code");
    let (_, token) = serve.get("/connections/zoho-crm/sandboxed/token").await;
    assert_eq!(token["api_base_url"], "https://sandbox.zohoapis.eu");
    assert_eq!(call_api(world, &token, "crm/v8/Leads").await, 200);

    serve.connect(world, "zoho-crm", "default-env").await;
    let (_, connection) = serve.get("/connections/zoho-crm/default-env").await;
    assert_eq!(connection["environment"], "production");
    assert_eq!(connection["api_base_url"], "https://www.zohoapis.eu");

    for (id, environment) in [("sandboxed", "sandbox"), ("default-env", "production")] {
        assert_eq!(created_events(world, id, environment).await, 1, "{id}");
    }
}

/// How many `connection.created` events of connection `id` in `environment` wait in the
/// outbox.
async fn created_events(world: &World, id: &str, environment: &str) -> i64 {
    world
        .backend
        .query_count(&format!(
            "SELECT count(*) FROM webhook_outbox WHERE body LIKE '%\"type\":\"connection.created\"%' \
             AND body LIKE '%\"connection_id\":\"{id}\"%' AND body LIKE '%\"environment\":\"{environment}\"%'"
        ))
        .await
}
on_both_backends!(a_session_keeps_its_environment, zoho_world);

/// The tokens of `client_credentials` and `token_request` connections are renewed when they
/// expire, like OAuth refreshes: a new client-credentials token, the token request's refresh.
async fn expired_tokens_of_every_token_mode_are_renewed(world: &World) {
    let serve = world.instance(&[]);
    for (provider, credentials) in [
        ("machine-api", json!({})),
        (
            "two-step",
            json!({"username": USERNAME, "password": PASSWORD, "appKey": APP_KEY}),
        ),
    ] {
        let (status, body) = create(
            &serve,
            json!({"provider": provider, "connection_id": "r", "credentials": credentials}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, before) = serve.get("/connections/machine-api/r/token").await;
    let tokens = world.sim.count(Endpoint::Token);
    expire(world, "machine-api", "r").await;
    let (status, renewed) = serve.get("/connections/machine-api/r/token").await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], before["access_token"]);
    assert_eq!(world.sim.count(Endpoint::Token), tokens + 1);
    assert_eq!(call_api(world, &renewed, "v2/clients").await, 200);

    let (_, before) = serve.get("/connections/two-step/r/token").await;
    expire(world, "two-step", "r").await;
    let (status, renewed) = serve.get("/connections/two-step/r/token").await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], before["access_token"]);
    assert_eq!(world.sim.count(Endpoint::Refresh), 1, "its refresh request");
    assert_eq!(call_api(world, &renewed, "v1/me").await, 200);
    let (_, connection) = serve.get("/connections/two-step/r").await;
    assert_eq!(connection["status"], "active");
}
on_both_backends!(expired_tokens_of_every_token_mode_are_renewed, modes_world);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_renew_a_client_credentials_token_exactly_once() {
    let Some(backend) =
        Backend::postgres("two_instances_renew_a_client_credentials_token_exactly_once").await
    else {
        return;
    };
    let world = modes_world(Some(backend)).await;
    let first = world.instance(&[]);
    let second = world.instance(&[]);
    let (status, body) = create(
        &first,
        json!({"provider": "machine-api", "connection_id": "busy", "credentials": {}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    expire(&world, "machine-api", "busy").await;
    let issued = world.sim.count(Endpoint::Token);
    // A slow token endpoint keeps the renewal in flight while every request arrives.
    world.sim.inject(Fault::Slow(Duration::from_millis(500)));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..100 {
        let url = [&first, &second][i % 2].url("/connections/machine-api/busy/token");
        let client = client.clone();
        requests.spawn(async move {
            let response = client
                .get(url)
                .bearer_auth(support::service::API_KEY)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let mut tokens = BTreeSet::new();
    while let Some(result) = requests.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!(status, 200, "{body}");
        tokens.insert(body["access_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(world.sim.count(Endpoint::Token), issued + 1, "one renewal");
    assert_eq!(tokens.len(), 1, "everyone got the same token: {tokens:?}");
    drop((first, second));
    world.finish().await;
}
