//! Connections of every auth mode in the service, and what the token route hands out: the
//! ready headers and query parameters that carry a connection's credentials, the API base URL
//! of its data center in its environment. `provider-forge serve` processes against the
//! project's simulator, each case on SQLite and on PostgreSQL.

use serde_json::Value;

use crate::support::service::{Backend, Instance, World};

/// Runs a case on SQLite and on PostgreSQL (skipped loudly when no server is reachable outside
/// CI).
macro_rules! on_both_backends {
    ($case:ident, $world:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = super::$world(None).await;
                super::$case(&world).await;
                world.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) = super::Backend::postgres(stringify!($case)).await else {
                    return;
                };
                let world = super::$world(Some(backend)).await;
                super::$case(&world).await;
                world.finish().await;
            }
        }
    };
}

async fn zoho_world(backend: Option<Backend>) -> World {
    World::start(backend).await
}

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
