//! The service's HTTP API end to end: `provider-forge serve` processes against the project's
//! HTTPS simulator, each case on SQLite and on a real PostgreSQL.

use serde_json::Value;

use crate::support;
use crate::support::service::{Backend, Instance, World, expire, on_both_backends, zoho_world};
use crate::support::{Consent, Endpoint, Fault, REDIRECT_URI, browse_to_callback, with_param};

async fn full_flow(world: &World) {
    let serve = world.instance(&[]);
    let (status, session) = serve
        .start_session(serde_json::json!({
            "provider": "zoho-crm",
            "connection_id": "acme-1",
        }))
        .await;
    assert_eq!(status, 201, "{session}");
    assert!(session["expires_at"].as_u64().unwrap() > 0);
    let callback = browse_to_callback(
        &world.browser,
        session["authorization_url"].as_str().unwrap(),
        REDIRECT_URI,
    )
    .await;
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Connected"));

    // Metadata, never a token.
    let (status, list) = serve.get("/connections?provider=zoho-crm").await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["next_cursor"], Value::Null);
    let connection = &list["items"][0];
    assert_eq!(connection["connection_id"], "acme-1");
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["data_center"], "eu");
    assert_eq!(connection["api_base_url"], "https://www.zohoapis.eu");
    assert_eq!(
        connection["metadata"]["api_domain"],
        "https://www.zohoapis.eu"
    );
    assert!(
        connection["params"]
            .as_object()
            .is_none_or(|p| p.is_empty()),
        "{connection}"
    );
    let text = list.to_string();
    support::assert_no_secret("the connection list", &text, &world.secrets());
    let (status, one) = serve.get("/connections/zoho-crm/acme-1").await;
    assert_eq!(status, 200);
    assert_eq!(&one, connection);
    assert_eq!(
        serve.get("/connections?provider=gitlab").await.1,
        serde_json::json!({"items": [], "next_cursor": null})
    );

    // The token the provider issued, reused while valid.
    let (status, token) = serve.get("/connections/zoho-crm/acme-1/token").await;
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().unwrap().to_owned();
    assert!(world.sim.issued_secrets().contains(&access));
    assert_eq!(token["api_base_url"], "https://www.zohoapis.eu");
    assert_eq!(token["metadata"]["api_domain"], "https://www.zohoapis.eu");
    let (_, again) = serve.get("/connections/zoho-crm/acme-1/token").await;
    assert_eq!(again["access_token"], access.as_str());
    assert_eq!(world.sim.count(Endpoint::Token), 1);
    assert_eq!(world.sim.count(Endpoint::Refresh), 0);

    // Forced refresh, then unknown connections.
    let (status, forced) = serve
        .get("/connections/zoho-crm/acme-1/token?force_refresh=true")
        .await;
    assert_eq!(status, 200);
    assert_ne!(forced["access_token"], access.as_str());
    assert_eq!(world.sim.count(Endpoint::Refresh), 1);
    assert_eq!(serve.get("/connections/zoho-crm/nope/token").await.0, 404);
    assert_eq!(serve.get("/connections/zoho-crm/nope").await.0, 404);
    assert_eq!(serve.get("/connections/unknown/x/token").await.0, 404);

    // Bad session requests say what is wrong.
    let (status, body) = serve
        .start_session(serde_json::json!({"provider": "zoho-crm", "connection_id": "x", "scopes": ["Nope.READ"]}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown scope `Nope.READ`")
    );
    let (status, body) = serve
        .start_session(
            serde_json::json!({"provider": "zoho-crm", "connection_id": "x", "dc": "mars"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown data center `mars`")
    );
    let (status, _) = serve
        .start_session(serde_json::json!({"provider": "zoho-books", "connection_id": "x"}))
        .await;
    assert_eq!(status, 404, "a provider without a configured client");
    let (status, body) = serve
        .start_session(serde_json::json!({"provider": "zoho-crm", "connection_id": "x", "params": {"org": "acme"}}))
        .await;
    assert_eq!(status, 400, "a value the provider does not declare: {body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("has no connection value `org`; it needs no connection values"),
        "{body}"
    );

    support::assert_no_secret("the service log", &serve.log_text(), &world.secrets());
}
on_both_backends!(full_flow);

/// The one Salesforce org the simulator plays: its My Domain login host, and the API host its
/// token endpoint hands out as `instance_url`.
const MY_DOMAIN: &str = "acme.my.salesforce.com";
const INSTANCE_URL: &str = "https://acme-api.my.salesforce.com";

async fn salesforce_world(backend: Option<Backend>) -> World {
    World::start_with(backend, &["salesforce"], |setup| {
        setup
            .connection_values
            .insert("hostname".into(), MY_DOMAIN.into());
        setup
            .connection_values
            .insert("instance_url".into(), INSTANCE_URL.into());
    })
    .await
}

/// A provider with per-connection values: the session's `params` are checked before any URL
/// is built, the authorization, token, refresh and revoke requests all go to the org's own
/// host, and the API base URL is the `instance_url` the token response carried.
async fn connection_values(world: &World) {
    let serve = world.instance(&[]);
    let session = |params: Value| {
        serve.start_session(serde_json::json!({
            "provider": "salesforce",
            "connection_id": "org-1",
            "params": params,
        }))
    };

    // Refused before any URL exists: a host outside the pattern, an undeclared name.
    let (status, body) = session(serde_json::json!({"hostname": "evil.example.com"})).await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("connection value `hostname` is refused"),
        "{message}"
    );
    assert!(
        message.contains("my\\.salesforce\\.com"),
        "the pattern is named: {message}"
    );
    let (status, body) = session(serde_json::json!({"subdomain": "acme"})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("has no connection value `subdomain`; it declares: hostname, instance_url"),
        "{body}"
    );
    assert_eq!(
        world.sim.requests().len(),
        0,
        "nothing reached the provider"
    );

    // The optional parameter left out takes its default host.
    let (status, body) = session(serde_json::json!({})).await;
    assert_eq!(status, 201, "{body}");
    let url = body["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://login.salesforce.com/services/oauth2/authorize?"),
        "{url}"
    );

    // The org's own host, through the whole flow.
    let (status, body) = session(serde_json::json!({"hostname": MY_DOMAIN})).await;
    assert_eq!(status, 201, "{body}");
    let url = body["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("https://{MY_DOMAIN}/services/oauth2/authorize?")),
        "{url}"
    );
    let callback = browse_to_callback(&world.browser, url, REDIRECT_URI).await;
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(world.sim.count_at(MY_DOMAIN, Endpoint::Token), 1);

    let (status, connection) = serve.get("/connections/salesforce/org-1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["params"]["hostname"], MY_DOMAIN);
    assert_eq!(connection["api_base_url"], INSTANCE_URL);

    let (status, token) = serve
        .get("/connections/salesforce/org-1/token?force_refresh=true")
        .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["api_base_url"], INSTANCE_URL);
    assert_eq!(world.sim.count_at(MY_DOMAIN, Endpoint::Refresh), 1);

    let (status, body) = serve.delete("/connections/salesforce/org-1").await;
    assert!(status == 200 || status == 204, "{status} {body}");
    assert_eq!(world.sim.count_at(MY_DOMAIN, Endpoint::Revoke), 1);
    assert_eq!(
        world.sim.requests().len(),
        world
            .sim
            .requests()
            .iter()
            .filter(|r| r.host == MY_DOMAIN)
            .count(),
        "every request went to the org's host"
    );
    support::assert_no_secret("the service log", &serve.log_text(), &world.secrets());
}
on_both_backends!(connection_values, salesforce_world);

async fn user_denies(world: &World) {
    let serve = world.instance(&[]);
    world.sim.set_consent(Consent::Deny);
    let callback = serve.authorize(world, "zoho-crm", "denied").await;
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("Access denied"), "{page}");
    assert_eq!(
        serve.get("/connections").await.1,
        serde_json::json!({"items": [], "next_cursor": null})
    );
    assert_eq!(world.sim.count(Endpoint::Token), 0);
}
on_both_backends!(user_denies);

/// Every key of a listing, following `next_cursor` from `path` (which has a query string);
/// asserts each page holds at most `limit` connections and only the last has no cursor.
async fn walk(serve: &Instance, path: &str, limit: usize) -> (Vec<(String, String)>, usize) {
    let (mut keys, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}&limit={limit}&cursor={cursor}"),
            None => format!("{path}&limit={limit}"),
        };
        let (status, page) = serve.get(&url).await;
        assert_eq!(status, 200, "{url}: {page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page}");
        keys.extend(items.iter().map(|c| {
            let text = |field: &str| c[field].as_str().unwrap().to_owned();
            (text("provider"), text("connection_id"))
        }));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "only the last page is short: {page}");
                cursor = Some(next.to_owned());
            }
            None => return (keys, pages),
        }
    }
}

fn key_list(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

async fn pages_of_connections(world: &World) {
    let serve = world.instance(&[]);
    for id in ["a3", "a0", "a4", "a1", "a2"] {
        serve.connect(world, "zoho-crm", id).await;
    }
    for id in ["g1", "g0"] {
        serve.connect(world, "gitlab", id).await;
    }
    // One connection the provider no longer honours.
    revoke_everything_at_the_provider(world).await;
    expire(world, "zoho-crm", "a2").await;
    assert_eq!(serve.get("/connections/zoho-crm/a2/token").await.0, 409);

    let everything = key_list(&[
        ("gitlab", "g0"),
        ("gitlab", "g1"),
        ("zoho-crm", "a0"),
        ("zoho-crm", "a1"),
        ("zoho-crm", "a2"),
        ("zoho-crm", "a3"),
        ("zoho-crm", "a4"),
    ]);
    // By provider then id, whatever the page size; the default page holds them all.
    assert_eq!(
        walk(&serve, "/connections?", 2).await,
        (everything.clone(), 4)
    );
    assert_eq!(
        walk(&serve, "/connections?", 7).await,
        (everything.clone(), 1)
    );
    let (status, all) = serve.get("/connections").await;
    assert_eq!(status, 200);
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(all["items"][4]["status"], "reauthorization_required");
    support::assert_no_secret("a page of connections", &all.to_string(), &world.secrets());

    // Filters, alone and together, paged.
    assert_eq!(
        walk(&serve, "/connections?provider=zoho-crm", 3).await,
        (everything[2..].to_vec(), 2)
    );
    assert_eq!(
        walk(&serve, "/connections?status=reauthorization_required", 1)
            .await
            .0,
        key_list(&[("zoho-crm", "a2")])
    );
    assert_eq!(
        walk(&serve, "/connections?provider=zoho-crm&status=active", 2)
            .await
            .0,
        key_list(&[
            ("zoho-crm", "a0"),
            ("zoho-crm", "a1"),
            ("zoho-crm", "a3"),
            ("zoho-crm", "a4")
        ])
    );
    assert_eq!(walk(&serve, "/connections?provider=nobody", 5).await.0, []);

    // A connection deleted between two pages moves nothing: the next page starts after the
    // last key handed out, and another instance reads the cursor.
    let (_, first) = serve.get("/connections?limit=3").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(first["items"][2]["connection_id"], "a0");
    assert_eq!(serve.delete("/connections/zoho-crm/a0").await.0, 200);
    let other = world.instance(&[]);
    let (status, second) = other
        .get(&format!("/connections?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(status, 200, "{second}");
    let ids: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["connection_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a1", "a2", "a3"]);

    // Bad requests are JSON errors that say what is wrong.
    for query in [
        "limit=0",
        "limit=1001",
        "limit=-1",
        "limit=ten",
        "status=paused",
        "providr=zoho-crm",
    ] {
        let (status, body) = serve.get(&format!("/connections?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"], "bad_request", "{query}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = serve.get("/connections?limit=1001").await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("1 to 1000"),
        "{body}"
    );
    assert_eq!(serve.get("/connections?limit=1000").await.0, 200);
    // A cursor altered, or sent with other filters than its own, is refused.
    let mut altered = cursor.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for query in [
        format!("cursor={altered}"),
        format!("cursor={cursor}&provider=zoho-crm"),
        format!("cursor={cursor}&status=active"),
        "cursor=not-a-cursor".to_owned(),
        "cursor=".to_owned(),
    ] {
        let (status, body) = serve.get(&format!("/connections?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"], "invalid_cursor", "{query}: {body}");
    }
}
on_both_backends!(pages_of_connections);

async fn replayed_expired_and_forged_callbacks(world: &World) {
    let serve = world.instance(&[]);
    // Replayed: the second delivery of the same callback stores nothing and exchanges nothing.
    let callback = serve.authorize(world, "zoho-crm", "c1").await;
    assert_eq!(serve.deliver_callback(&callback).await.0, 200);
    let (_, before) = serve.get("/connections/zoho-crm/c1").await;
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown or was already used"), "{page}");
    assert_eq!(serve.get("/connections/zoho-crm/c1").await.1, before);
    assert_eq!(world.sim.count(Endpoint::Token), 1);

    // Expired: a session older than ten minutes (aged in the database, as time would).
    let callback = serve.authorize(world, "zoho-crm", "c2").await;
    world
        .backend
        .execute("UPDATE pending_authorizations SET expires_at = 0")
        .await;
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("expired"), "{page}");

    // Forged: a state no session has.
    let callback = serve.authorize(world, "zoho-crm", "c3").await;
    let forged = with_param(&callback, "state", "forged-state");
    let (status, page) = serve.deliver_callback(&forged).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown or was already used"), "{page}");

    // Forged issuer on a real state: refused before any exchange (mix-up defence).
    let forged = with_param(
        &callback,
        "accounts-server",
        "https://accounts.evil.example",
    );
    let (status, page) = serve.deliver_callback(&forged).await;
    assert_eq!(status, 400);
    assert!(page.contains("refusing the callback"), "{page}");

    let (_, list) = serve.get("/connections").await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["connection_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c1"]);
    assert_eq!(world.sim.count(Endpoint::Token), 1);
}
on_both_backends!(replayed_expired_and_forged_callbacks);

async fn refresh_token_rotation(world: &World) {
    let serve = world.instance(&[]);
    serve.connect(world, "zoho-crm", "rot").await;
    world.sim.inject(Fault::RotateRefreshToken);
    let mut seen = Vec::new();
    for round in 1..=3 {
        expire(world, "zoho-crm", "rot").await;
        let (status, token) = serve.get("/connections/zoho-crm/rot/token").await;
        // Each refresh presents the refresh token the previous one rotated in; the simulator
        // refuses a rotated-out one, so success proves the new one was stored.
        assert_eq!(status, 200, "round {round}: {token}");
        seen.push(token["access_token"].as_str().unwrap().to_owned());
        assert_eq!(world.sim.count(Endpoint::Refresh), round);
    }
    seen.dedup();
    assert_eq!(seen.len(), 3);
    let presented: Vec<String> = world
        .sim
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Refresh)
        .map(|r| r.param("refresh_token").unwrap().to_owned())
        .collect();
    assert_eq!(presented.len(), 3);
    assert!(presented[0] != presented[1] && presented[1] != presented[2]);
    assert!(world.sim.is_revoked(&presented[0]));
}
on_both_backends!(refresh_token_rotation);

async fn invalid_grant_requires_reauthorization(world: &World) {
    let serve = world.instance(&[]);
    serve.connect(world, "zoho-crm", "dead").await;
    // The user revokes the app at the provider: every refresh token it issued dies.
    revoke_everything_at_the_provider(world).await;
    expire(world, "zoho-crm", "dead").await;
    let (status, body) = serve.get("/connections/zoho-crm/dead/token").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "reauthorization_required");
    assert_eq!(body["status"], "reauthorization_required");
    let (_, connection) = serve.get("/connections/zoho-crm/dead").await;
    assert_eq!(connection["status"], "reauthorization_required");
    // Kept, and not refreshed again.
    assert_eq!(serve.get("/connections/zoho-crm/dead/token").await.0, 409);
    assert_eq!(world.sim.count(Endpoint::Refresh), 1);
    // Connecting again makes it usable.
    serve.connect(world, "zoho-crm", "dead").await;
    assert_eq!(serve.get("/connections/zoho-crm/dead/token").await.0, 200);
}
on_both_backends!(invalid_grant_requires_reauthorization);

/// Revokes every refresh token the simulator issued, through the engine's public revoke.
pub(crate) async fn revoke_everything_at_the_provider(world: &World) {
    let provider = support::load_provider("providers/zoho-crm.yaml");
    for secret in world.sim.issued_secrets() {
        let tokens = provider_forge::oauth::TokenSet {
            access_token: provider_forge::oauth::AccessToken::new("unused"),
            refresh_token: Some(provider_forge::oauth::RefreshToken::new(secret)),
            token_type: None,
            scope: None,
            expires_at: None,
            data_center: "eu".into(),
            issuer: "https://accounts.zoho.eu".into(),
            metadata: Default::default(),
        };
        provider_forge::oauth::revoke(
            &world.browser,
            &provider,
            &support::shared_credentials(),
            &tokens,
        )
        .await
        .unwrap();
    }
}

async fn delete_revokes(world: &World) {
    let serve = world.instance(&[]);
    serve.connect(world, "zoho-crm", "gone").await;
    let (status, body) = serve.delete("/connections/zoho-crm/gone").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], "refresh_token");
    assert_eq!(world.sim.count(Endpoint::Revoke), 1);
    let revoked = world
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Revoke)
        .unwrap();
    assert!(world.sim.is_revoked(revoked.param("token").unwrap()));
    assert_eq!(serve.get("/connections/zoho-crm/gone").await.0, 404);
    assert_eq!(serve.delete("/connections/zoho-crm/gone").await.0, 404);
}
on_both_backends!(delete_revokes);

async fn the_key_is_required(world: &World) {
    let serve = world.instance(&[]);
    let client = reqwest::Client::new();
    for (method, path) in [
        ("POST", "/connect/sessions"),
        ("GET", "/connections"),
        ("POST", "/connections"),
        ("GET", "/connections/zoho-crm/x"),
        ("GET", "/connections/zoho-crm/x/token"),
        ("DELETE", "/connections/zoho-crm/x"),
        ("GET", "/proxy/zoho-crm/x/crm/v8/Leads"),
        ("POST", "/proxy/zoho-crm/x/crm/v8/Leads"),
        ("GET", "/openapi.json"),
        ("GET", "/metrics"),
    ] {
        let method: reqwest::Method = method.parse().unwrap();
        for key in [None, Some("wrong-key-wrong-key-wrong"), Some("")] {
            let mut request = client.request(method.clone(), serve.url(path));
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {key:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized");
        }
    }
    // The callback and the health checks are open.
    let health = client.get(serve.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(serve.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let callback = client
        .get(serve.url("/oauth/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 400);
    // The OpenAPI description names every route.
    let (status, openapi) = serve.get("/openapi.json").await;
    assert_eq!(status, 200);
    let mut paths: Vec<&String> = openapi["paths"].as_object().unwrap().keys().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/connect/page.css",
            "/connect/sessions",
            "/connect/{token}",
            "/connections",
            "/connections/{provider}/{connection_id}",
            "/connections/{provider}/{connection_id}/token",
            "/healthz",
            "/metrics",
            "/oauth/callback",
            "/openapi.json",
            "/proxy/{provider}/{connection_id}/{path}",
            "/readyz"
        ]
    );
    assert!(
        openapi["paths"]["/connections"]["post"]["responses"]["422"].is_object(),
        "POST /connections and its verification failure are described"
    );
    let token_route = &openapi["paths"]["/connections/{provider}/{connection_id}/token"]["get"];
    assert!(token_route["responses"]["409"].is_object(), "{token_route}");
    assert_eq!(
        openapi["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
on_both_backends!(the_key_is_required);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_bytes_in_the_sqlite_file() {
    let world = World::start(None).await;
    let serve = world.instance(&[]);
    serve.connect(&world, "zoho-crm", "scan").await;
    serve.connect(&world, "gitlab", "scan").await;
    world.sim.inject(Fault::RotateRefreshToken);
    expire(&world, "zoho-crm", "scan").await;
    assert_eq!(serve.get("/connections/zoho-crm/scan/token").await.0, 200);
    // A session in flight holds a PKCE verifier: sealed too.
    let _pending = serve.authorize(&world, "gitlab", "pending").await;
    let secrets = world.secrets();
    assert!(secrets.len() >= 6, "{secrets:?}");
    world.backend.assert_no_secret_at_rest(&secrets).await;
    support::assert_no_secret("the service log", &serve.log_text(), &secrets);
    drop(serve);
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_database_is_a_clear_503() {
    let Some(backend) = Backend::postgres("a_dead_database_is_a_clear_503").await else {
        return;
    };
    let world = World::start(Some(backend)).await;
    let serve = world.instance(&[]);
    assert_eq!(serve.get("/healthz").await.0, 200);
    world.backend.drop_database().await;
    let (status, body) = serve.get("/connections").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "database_unavailable");
    let (status, body) = serve.get("/healthz").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "database_unavailable");
    drop(serve);
    world.finish().await;
}

/// Waits until the simulator has received `n` requests at `endpoint` (they are recorded on
/// receipt, before a slow answer).
async fn until_received(world: &World, endpoint: Endpoint, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while world.sim.count(endpoint) < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{endpoint:?} never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A caller that hangs up while the provider holds a rotating refresh's answer: the refresh
/// still completes and is stored, so the next caller gets its token without a second refresh,
/// and the rotated refresh token works afterwards.
async fn a_caller_hanging_up_mid_refresh_loses_nothing(world: &World) {
    let serve = world.instance(&[]);
    serve.connect(world, "zoho-crm", "hangup").await;
    expire(world, "zoho-crm", "hangup").await;
    world.sim.inject(Fault::RotateRefreshToken);
    world
        .sim
        .inject(Fault::Slow(std::time::Duration::from_millis(1500)));
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let hung_up = impatient
        .get(serve.url("/connections/zoho-crm/hangup/token"))
        .bearer_auth(support::service::API_KEY)
        .send()
        .await;
    assert!(hung_up.is_err(), "the caller gave up before the answer");
    let (status, token) = serve.get("/connections/zoho-crm/hangup/token").await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(world.sim.count(Endpoint::Refresh), 1, "one refresh");
    world.sim.clear_faults();
    world.sim.inject(Fault::RotateRefreshToken);
    expire(world, "zoho-crm", "hangup").await;
    let (status, again) = serve.get("/connections/zoho-crm/hangup/token").await;
    assert_eq!(status, 200, "the rotated refresh token was stored: {again}");
    assert_eq!(world.sim.count(Endpoint::Refresh), 2);
}
on_both_backends!(a_caller_hanging_up_mid_refresh_loses_nothing);

/// DELETE racing a reconnect: the revocation of the old tokens is held at the provider while
/// the user connects again; the newer connection survives with its tokens, and the DELETE
/// says nothing was deleted.
async fn delete_racing_a_reconnect_keeps_the_newer_connection(world: &World) {
    let serve = world.instance(&[]);
    serve.connect(world, "zoho-crm", "race").await;
    let callback = serve.authorize(world, "zoho-crm", "race").await;
    world
        .sim
        .inject(Fault::Slow(std::time::Duration::from_millis(1500)));
    let delete = {
        let client = serve.api.clone();
        let url = serve.url("/connections/zoho-crm/race");
        tokio::spawn(async move {
            let response = client
                .delete(url)
                .bearer_auth(support::service::API_KEY)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        })
    };
    until_received(world, Endpoint::Revoke, 1).await;
    world.sim.clear_faults();
    world.sim.inject(Fault::ErrorWith200);
    let (status, page) = serve.deliver_callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    let (status, body) = delete.await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "connection_changed");
    let (status, connection) = serve.get("/connections/zoho-crm/race").await;
    assert_eq!(status, 200, "the newer connection survives: {connection}");
    let (status, token) = serve
        .get("/connections/zoho-crm/race/token?force_refresh=true")
        .await;
    assert_eq!(status, 200, "and its refresh token is live: {token}");
}
on_both_backends!(delete_racing_a_reconnect_keeps_the_newer_connection);

/// `/healthz` runs a real query (a database that lost its table is not healthy, although it
/// still answers `SELECT 1`), and `/readyz` also requires every migration to be applied.
async fn health_checks_tell_the_truth(world: &World) {
    let serve = world.instance(&[]);
    assert_eq!(serve.get("/healthz").await.0, 200);
    assert_eq!(serve.get("/readyz").await.0, 200);
    world
        .backend
        .execute("DELETE FROM _sqlx_migrations WHERE version = 2")
        .await;
    let (status, body) = serve.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "migrations_missing");
    assert!(
        body["message"].as_str().unwrap().contains("refresh lease"),
        "{body}"
    );
    assert_eq!(serve.get("/healthz").await.0, 200, "still serving");
    world.backend.execute("DROP TABLE connections").await;
    let (status, body) = serve.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "database_unavailable");
    assert_eq!(serve.get("/readyz").await.0, 503);
}
on_both_backends!(health_checks_tell_the_truth);

/// Microsoft's clouds are separate app registrations: `clients.yaml` gives a client id and a
/// secret per data center, and each cloud's flow presents its own pair to the simulator,
/// which accepts nothing else.
async fn microsoft_world(backend: Option<Backend>) -> World {
    use provider_forge::oauth::{ClientSecret, Credentials};
    let world = World::start_with(backend, &["microsoft"], |setup| {
        setup.credentials = Credentials::per_data_center(
            "no-shared-id",
            [
                ("global".to_owned(), ClientSecret::new("ms-global-secret")),
                ("usgov".to_owned(), ClientSecret::new("ms-usgov-secret")),
                ("china".to_owned(), ClientSecret::new("ms-china-secret")),
            ],
        )
        .with_client_id_for("global", "ms-global-id")
        .with_client_id_for("usgov", "ms-usgov-id")
        .with_client_id_for("china", "ms-china-id");
    })
    .await;
    for (code, secret) in [("global", "ms-global-secret"), ("usgov", "ms-usgov-secret")] {
        std::fs::write(world.dir.path().join(code), secret).unwrap();
    }
    let dir = world.dir.path().display();
    std::fs::write(
        &world.clients_file,
        format!(
            "microsoft:\n  redirect_uri: {REDIRECT_URI}\n  data_center_client_ids:\n    global: ms-global-id\n    usgov: ms-usgov-id\n  data_center_secrets:\n    global: {{ client_secret_file: {dir}/global }}\n    usgov: {{ client_secret_file: {dir}/usgov }}\n"
        ),
    )
    .unwrap();
    world
}

async fn per_data_center_client_ids(world: &World) {
    let serve = world.instance(&[]);
    for (dc, id) in [(None, "ms-global-id"), (Some("usgov"), "ms-usgov-id")] {
        let connection_id = format!("ms-{}", dc.unwrap_or("global"));
        let mut request = serde_json::json!({
            "provider": "microsoft",
            "connection_id": connection_id,
        });
        if let Some(dc) = dc {
            request["dc"] = dc.into();
        }
        let (status, session) = serve.start_session(request).await;
        assert_eq!(status, 201, "{session}");
        let url = session["authorization_url"].as_str().unwrap();
        assert!(url.contains(&format!("client_id={id}")), "{url}");
        let callback = browse_to_callback(&world.browser, url, REDIRECT_URI).await;
        let (status, page) = serve.deliver_callback(&callback).await;
        assert_eq!(status, 200, "{page}");
        let (status, token) = serve
            .get(&format!(
                "/connections/microsoft/{connection_id}/token?force_refresh=true"
            ))
            .await;
        assert_eq!(status, 200, "{token}");
    }
    assert_eq!(world.sim.count(Endpoint::Token), 2);
    assert_eq!(world.sim.count(Endpoint::Refresh), 2);
}
on_both_backends!(per_data_center_client_ids, microsoft_world);

/// A callback's `error_description` (anyone with a valid state writes it) that echoes the
/// code and the client secret and carries a forged log line and terminal escapes: the page
/// and the log hold neither secret, the log line stays one line, and the log, written to a
/// file, has no escape sequence at all (no colours either).
async fn callback_text_is_scrubbed_and_escaped(world: &World) {
    let serve = world.instance(&[]);
    let callback = serve.authorize(world, "zoho-crm", "hostile").await;
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .unwrap()
        .1
        .into_owned();
    let description = format!(
        "echo code={code} client_secret={}\n2026-01-01T00:00:00Z  INFO forged: connection stored\u{1b}]0;owned\u{7}\u{1b}[2J",
        support::SHARED_SECRET
    );
    let hostile = with_param(
        &with_param(&callback, "error", "access_denied"),
        "error_description",
        &description,
    );
    let (status, page) = serve.deliver_callback(&hostile).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Access denied"), "{page}");
    let log = serve.log_text();
    for (what, text) in [("the page", &page), ("the log", &log)] {
        assert!(!text.contains(&code), "{what} holds the code: {text}");
        assert!(
            !text.contains(support::SHARED_SECRET),
            "{what} holds the client secret: {text}"
        );
    }
    assert!(
        !log.contains('\u{1b}'),
        "no escape sequence in the log: {log:?}"
    );
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("forged")).collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert!(refused[0].contains("callback refused"), "{log}");
}
on_both_backends!(callback_text_is_scrubbed_and_escaped);

/// A provider that issued no refresh token: a forced refresh sends nothing and hands out the
/// still-valid access token; once it expired the caller is told to connect again, and the
/// connection is never marked `reauthorization_required` (nothing was refused).
async fn no_refresh_token_keeps_the_valid_access_token(world: &World) {
    let serve = world.instance(&[]);
    world.sim.inject(Fault::NoRefreshToken);
    serve.connect(world, "zoho-crm", "once").await;
    let (status, first) = serve.get("/connections/zoho-crm/once/token").await;
    assert_eq!(status, 200, "{first}");
    let (status, forced) = serve
        .get("/connections/zoho-crm/once/token?force_refresh=true")
        .await;
    assert_eq!(status, 200, "{forced}");
    assert_eq!(forced["access_token"], first["access_token"]);
    assert_eq!(world.sim.count(Endpoint::Refresh), 0, "nothing was sent");
    expire(world, "zoho-crm", "once").await;
    let (status, body) = serve.get("/connections/zoho-crm/once/token").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "token_expired");
    let (_, connection) = serve.get("/connections/zoho-crm/once").await;
    assert_eq!(connection["status"], "active");
    assert_eq!(world.sim.count(Endpoint::Refresh), 0);
}
on_both_backends!(no_refresh_token_keeps_the_valid_access_token);
