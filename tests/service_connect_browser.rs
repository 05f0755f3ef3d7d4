//! The connect page in a real browser: headless Chromium, driven over WebDriver, against a
//! `serve` instance on `http://forge.test` and the simulator playing the providers over TLS,
//! every host name mapped to loopback. Labels, password inputs, a value the browser and then
//! the server refuse by its pattern, an API-key connection verified at the provider, and an
//! OAuth connection in a chosen cloud and environment that ends on the platform's page.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::browser::{Browser, platform_page};
use crate::support::service::{
    ANTHROPIC_KEY, Instance, PLATFORM_ORIGIN, TENANT, World, connect_world,
};

/// Longest a navigation through the provider and back may take.
const NAVIGATION: Duration = Duration::from_secs(30);

/// A connect world, its `serve` instance, and a browser that reaches both (plus the
/// platform's page at `app.test`); `None` when the browser is missing outside CI.
async fn bench(test: &str) -> Option<(World, Instance, Browser)> {
    let world = connect_world(None).await;
    let serve = world.connect_instance();
    let platform = platform_page().await;
    let mut hosts = vec![
        ("forge.test".to_owned(), serve.socket()),
        ("app.test".to_owned(), platform),
    ];
    for host in world.sim.hosts() {
        hosts.push((host.clone(), world.sim.addr()));
    }
    let browser = Browser::start(test, &hosts).await?;
    Some((world, serve, browser))
}

/// Starts a session and returns its connect URL.
async fn connect_url(serve: &Instance, body: Value) -> String {
    let (status, session) = serve.start_session(body).await;
    assert_eq!(status, 201, "{session}");
    session["connect_url"].as_str().unwrap().to_owned()
}

/// Every visible input and select of the page: its id, type, how many labels name it, and
/// the text of the first.
const FIELDS: &str = "return [...document.querySelectorAll('input:not([type=hidden]), select')]\
    .map(e => [e.id, e.type, e.labels.length, e.labels.length ? e.labels[0].textContent.trim() : ''])";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_has_a_label_and_secrets_are_password_inputs() {
    let Some((world, serve, browser)) = bench("connect page labels").await else {
        return;
    };
    let url = connect_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1"}),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    assert_eq!(
        browser.run(FIELDS).await,
        json!([
            [
                "data-center",
                "select-one",
                1,
                "Where is your Microsoft account?"
            ],
            ["environment", "select-one", 1, "Environment"],
            ["param-tenant", "text", 1, "Tenant (optional)"],
        ])
    );
    // The help text describes its field.
    let described = browser
        .run("return document.getElementById(document.getElementById('param-tenant').getAttribute('aria-describedby')).textContent")
        .await;
    assert!(
        described.as_str().unwrap().contains("verified domain"),
        "{described}"
    );

    let url = connect_url(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1"}),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    assert_eq!(
        browser.run(FIELDS).await,
        json!([["credential-apiKey", "password", 1, "API Key"]])
    );
    let key = browser.find("#credential-apiKey").await;
    assert_eq!(
        key.attr("placeholder").await.unwrap().as_deref(),
        Some("sk-ant-api03-...")
    );
    assert_eq!(key.prop("required").await.unwrap().as_deref(), Some("true"));

    let url = connect_url(
        &serve,
        json!({"provider": "freshdesk", "connection_id": "d1"}),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    assert_eq!(
        browser.run(FIELDS).await,
        json!([
            ["param-subdomain", "text", 1, "Subdomain"],
            ["credential-username", "password", 1, "Freshdesk API Key"],
        ]),
        "the hidden password with its default is not shown"
    );
    browser.close().await;
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_outside_its_pattern_is_refused_by_the_browser_and_by_the_server() {
    let Some((world, serve, browser)) = bench("connect page pattern").await else {
        return;
    };
    let url = connect_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1"}),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    let tenant = browser.find("#param-tenant").await;
    let mismatch = "return document.getElementById('param-tenant').validity.patternMismatch";

    // The browser reads the pattern attribute: a good tenant passes, a bad one does not, and
    // the form is not sent.
    tenant.send_keys(TENANT).await.unwrap();
    assert_eq!(browser.run(mismatch).await, json!(false));
    tenant.clear().await.unwrap();
    tenant.send_keys("bad tenant!").await.unwrap();
    assert_eq!(browser.run(mismatch).await, json!(true));
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        browser.url().await.as_str(),
        url,
        "the browser kept the form"
    );
    assert!(browser.find_all("#param-tenant-error").await.is_empty());

    // With the browser's checks off, the server refuses it too and says so next to the field.
    browser
        .run("document.querySelector('form').noValidate = true; return null")
        .await;
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let error = browser
        .find("#param-tenant-error")
        .await
        .text()
        .await
        .unwrap();
    assert!(error.contains("does not match the pattern"), "{error}");
    assert_eq!(
        browser
            .find("#param-tenant")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("bad tenant!"),
        "what was typed is kept"
    );
    assert!(
        world.sim.requests().is_empty(),
        "nothing reached the provider"
    );
    assert_eq!(serve.get("/connections/microsoft/u1").await.0, 404);

    // The API key's pattern works in the browser as well.
    let url = connect_url(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1"}),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    let key = browser.find("#credential-apiKey").await;
    let key_mismatch =
        "return document.getElementById('credential-apiKey').validity.patternMismatch";
    key.send_keys("sk-live-nope").await.unwrap();
    assert_eq!(browser.run(key_mismatch).await, json!(true));
    key.clear().await.unwrap();
    key.send_keys(ANTHROPIC_KEY).await.unwrap();
    assert_eq!(browser.run(key_mismatch).await, json!(false));
    browser.close().await;
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oauth_connection_in_a_chosen_cloud_and_environment_lands_on_return_to() {
    let Some((world, serve, browser)) = bench("connect page OAuth").await else {
        return;
    };
    let url = connect_url(
        &serve,
        json!({
            "provider": "microsoft",
            "connection_id": "u1",
            "return_to": format!("{PLATFORM_ORIGIN}/connected?user=42"),
        }),
    )
    .await;
    browser.client.goto(&url).await.unwrap();
    browser
        .find("#data-center")
        .await
        .select_by_value("usgov")
        .await
        .unwrap();
    browser
        .find("#environment")
        .await
        .select_by_value("beta")
        .await
        .unwrap();
    browser
        .find("#param-tenant")
        .await
        .send_keys(TENANT)
        .await
        .unwrap();
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();

    let landed = url::Url::parse(&format!(
        "{PLATFORM_ORIGIN}/connected?user=42&connection_id=u1&provider=microsoft&status=connected"
    ))
    .unwrap();
    browser
        .client
        .wait()
        .at_most(NAVIGATION)
        .for_url(&landed)
        .await
        .unwrap_or_else(|e| panic!("did not land on return_to: {e}\n{}", serve.log_text()));
    assert_eq!(
        browser.find("h1").await.text().await.unwrap(),
        "Back on the platform"
    );
    let (status, connection) = serve.get("/connections/microsoft/u1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["data_center"], "usgov");
    assert_eq!(connection["environment"], "beta");
    assert_eq!(connection["params"]["tenant"], TENANT);
    assert_eq!(
        world
            .sim
            .count_at("login.microsoftonline.us", crate::support::Endpoint::Token),
        1,
        "the code was exchanged in the chosen cloud"
    );
    browser.close().await;
    world.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_connection_is_verified_stored_and_lands_on_return_to() {
    let Some((world, serve, browser)) = bench("connect page API key").await else {
        return;
    };
    let url = connect_url(
        &serve,
        json!({
            "provider": "anthropic",
            "connection_id": "k1",
            "return_to": format!("{PLATFORM_ORIGIN}/connected"),
        }),
    )
    .await;
    browser.client.goto(&url).await.unwrap();

    // A key the provider does not know: the page again, the key not in it, nothing stored.
    browser
        .find("#credential-apiKey")
        .await
        .send_keys("sk-ant-api03-revoked-0000")
        .await
        .unwrap();
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let refused = browser.find("#form-error").await.text().await.unwrap();
    assert!(
        refused.contains("did not accept these credentials"),
        "{refused}"
    );
    assert!(!browser.source().await.contains("sk-ant-api03-revoked-0000"));
    assert_eq!(serve.get("/connections/anthropic/k1").await.0, 404);

    browser
        .find("#credential-apiKey")
        .await
        .send_keys(ANTHROPIC_KEY)
        .await
        .unwrap();
    browser
        .find("button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let landed = url::Url::parse(&format!(
        "{PLATFORM_ORIGIN}/connected?connection_id=k1&provider=anthropic&status=connected"
    ))
    .unwrap();
    browser
        .client
        .wait()
        .at_most(NAVIGATION)
        .for_url(&landed)
        .await
        .unwrap_or_else(|e| panic!("did not land on return_to: {e}\n{}", serve.log_text()));
    let (status, connection) = serve.get("/connections/anthropic/k1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["auth_mode"], "api_key");
    browser.close().await;
    world.finish().await;
}
