//! The connect page in a real browser: headless Chromium, driven over WebDriver, against a
//! `serve` instance on `http://forge.test` and the simulator playing the providers over TLS,
//! every host name mapped to loopback. Labels, password inputs, a value the browser and then
//! the server refuse by its pattern, an API-key connection verified at the provider, an OAuth
//! connection in a chosen cloud and environment that ends on the platform's page, the page on
//! a phone, and a connection made with the keyboard alone.

use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::support::browser::{Browser, PHONE, Screen, platform_page};
use crate::support::connect_page::return_to;
use crate::support::repo_path;
use crate::support::service::{
    ANTHROPIC_KEY, Instance, PLATFORM_ORIGIN, TENANT, World, connect_world,
};

/// A connect world, its `serve` instance, and a browser that reaches both (plus the
/// platform's page at `app.test`); `None` when the browser is missing outside CI.
async fn bench(test: &str, screen: Screen) -> Option<(World, Instance, Browser)> {
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
    let browser = Browser::start(test, &hosts, screen).await?;
    Some((world, serve, browser))
}

/// Waits until the browser lands on `landing` (the platform's page), where it goes once the
/// connection `provider/connection_id` is made; returns that connection as the API shows it.
async fn landed(browser: &Browser, serve: &Instance, landing: &str, connection: &str) -> Value {
    browser.land_on(landing, serve).await;
    let (status, connection) = serve.get(&format!("/connections/{connection}")).await;
    assert_eq!(status, 200, "{connection}");
    connection
}

/// Every visible input and select of the page: its id, type, how many labels name it, and
/// the text of the first.
const FIELDS: &str = "return [...document.querySelectorAll('input:not([type=hidden]), select')]\
    .map(e => [e.id, e.type, e.labels.length, e.labels.length ? e.labels[0].textContent.trim() : ''])";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_has_a_label_and_secrets_are_password_inputs() {
    let Some((world, serve, browser)) = bench("connect page labels", Screen::Desktop).await else {
        return;
    };
    browser
        .open(
            &serve,
            json!({"provider": "microsoft", "connection_id": "u1"}),
        )
        .await;
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

    browser
        .open(
            &serve,
            json!({"provider": "anthropic", "connection_id": "k1"}),
        )
        .await;
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

    browser
        .open(
            &serve,
            json!({"provider": "freshdesk", "connection_id": "d1"}),
        )
        .await;
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
    let Some((world, serve, browser)) = bench("connect page pattern", Screen::Desktop).await else {
        return;
    };
    let url = browser
        .open(
            &serve,
            json!({"provider": "microsoft", "connection_id": "u1"}),
        )
        .await;
    let tenant = browser.find("#param-tenant").await;
    let mismatch = "return document.getElementById('param-tenant').validity.patternMismatch";

    // The browser reads the pattern attribute: a good tenant passes, a bad one does not, and
    // the form is not sent.
    tenant.send_keys(TENANT).await.unwrap();
    assert_eq!(browser.run(mismatch).await, json!(false));
    tenant.clear().await.unwrap();
    tenant.send_keys("bad tenant!").await.unwrap();
    assert_eq!(browser.run(mismatch).await, json!(true));
    browser.submit().await;
    assert_eq!(
        browser.url().await.as_str(),
        url,
        "the browser kept the form"
    );
    assert!(browser.find_all("#param-tenant-error").await.is_empty());

    // With the browser's checks off, the server refuses it too and says so next to the field.
    browser.skip_form_checks().await;
    browser.submit().await;
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
    browser
        .open(
            &serve,
            json!({"provider": "anthropic", "connection_id": "k1"}),
        )
        .await;
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
    let Some((world, serve, browser)) = bench("connect page OAuth", Screen::Desktop).await else {
        return;
    };
    browser
        .open(
            &serve,
            json!({
                "provider": "microsoft",
                "connection_id": "u1",
                "return_to": return_to(),
            }),
        )
        .await;
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
    browser.type_into("#param-tenant", TENANT).await;
    browser.submit().await;

    let connection = landed(
        &browser,
        &serve,
        &format!("{PLATFORM_ORIGIN}/connected?user=42&connection_id=u1&provider=microsoft&status=connected"),
        "microsoft/u1",
    )
    .await;
    assert_eq!(
        browser.find("h1").await.text().await.unwrap(),
        "Back on the platform"
    );
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
    let Some((world, serve, browser)) = bench("connect page API key", Screen::Desktop).await else {
        return;
    };
    browser
        .open(
            &serve,
            json!({
                "provider": "anthropic",
                "connection_id": "k1",
                "return_to": format!("{PLATFORM_ORIGIN}/connected"),
            }),
        )
        .await;

    // A key the provider does not know: the page again, the key not in it, nothing stored.
    browser
        .type_into("#credential-apiKey", "sk-ant-api03-revoked-0000")
        .await;
    browser.submit().await;
    let refused = browser.find("#form-error").await.text().await.unwrap();
    assert!(
        refused.contains("did not accept these credentials"),
        "{refused}"
    );
    assert!(!browser.source().await.contains("sk-ant-api03-revoked-0000"));
    assert_eq!(serve.get("/connections/anthropic/k1").await.0, 404);

    browser.type_into("#credential-apiKey", ANTHROPIC_KEY).await;
    browser.submit().await;
    let connection = landed(
        &browser,
        &serve,
        &format!(
            "{PLATFORM_ORIGIN}/connected?connection_id=k1&provider=anthropic&status=connected"
        ),
        "anthropic/k1",
    )
    .await;
    assert_eq!(connection["auth_mode"], "api_key");
    browser.close().await;
    world.finish().await;
}

/// The page as laid out: the window's width and the document's, the smallest height and font
/// size of its controls, and the smallest font size of its text.
const LAYOUT: &str = "const controls = [...document.querySelectorAll('input:not([type=hidden]), select, button, a.button')];\
    const texts = [...document.querySelectorAll('h1, h2, p, li, label, code, a')];\
    const least = (list, f) => Math.min(...list.map(f));\
    return {\
      window: window.innerWidth,\
      document: document.documentElement.scrollWidth,\
      control_height: least(controls, e => e.getBoundingClientRect().height),\
      control_font: least(controls, e => parseFloat(getComputedStyle(e).fontSize)),\
      text_font: least(texts, e => parseFloat(getComputedStyle(e).fontSize)),\
    }";

/// Asserts the page fits a phone: laid out at the phone's width (the page's viewport meta
/// read), no horizontal scroll, controls at least 44px tall (touch targets) with 16px text
/// (no zoom on focus), and no text under 14px.
async fn assert_fits_a_phone(browser: &Browser, what: &str) {
    let layout = browser.run(LAYOUT).await;
    assert_eq!(layout["window"], PHONE.0, "{what}: {layout}");
    assert!(
        layout["document"].as_f64().unwrap() <= layout["window"].as_f64().unwrap(),
        "{what}: scrolls sideways: {layout}"
    );
    assert!(
        layout["control_height"].as_f64().unwrap() >= 44.0,
        "{what}: {layout}"
    );
    assert!(
        layout["control_font"].as_f64().unwrap() >= 16.0,
        "{what}: {layout}"
    );
    assert!(
        layout["text_font"].as_f64().unwrap() >= 14.0,
        "{what}: {layout}"
    );
}

/// The PNG file signature.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// On a phone the page fits the screen: no sideways scroll, touch-sized controls, readable
/// text, also with errors shown and with Zoho's long region names; its stylesheet comes from
/// the service as CSS under a policy without inline styles. The README's screenshot of the
/// Microsoft page is taken here (written to docs/ only with PROVIDER_FORGE_WRITE_SCREENSHOT=1,
/// so test runs leave the tree as it is).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_page_fits_and_its_controls_are_large_enough() {
    let Some((world, serve, browser)) = bench("connect page on a phone", Screen::Phone).await
    else {
        return;
    };
    let url = browser
        .open(
            &serve,
            json!({"provider": "microsoft", "connection_id": "u1"}),
        )
        .await;
    assert_fits_a_phone(&browser, "Microsoft").await;
    let png = browser.screenshot().await;
    assert!(png.starts_with(PNG), "a PNG");
    assert!(
        png.len() > 10_000,
        "a page, not a blank: {} bytes",
        png.len()
    );
    if std::env::var("PROVIDER_FORGE_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        std::fs::write(repo_path("docs/connect-page.png"), &png).unwrap();
    }
    let stylesheets = browser
        .run(
            "return performance.getEntriesByType('resource')\
            .filter(e => e.initiatorType === 'link')\
            .map(e => [new URL(e.name).pathname, e.responseStatus, e.contentType])",
        )
        .await;
    assert_eq!(stylesheets, json!([["/connect/page.css", 200, "text/css"]]));
    let page = reqwest::get(serve.local(&url)).await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    // With the messages of a refused tenant beside it and above the form.
    browser.skip_form_checks().await;
    browser
        .type_into("#param-tenant", "not a tenant, and a long one at that!")
        .await;
    browser.submit().await;
    browser.find("#param-tenant-error").await;
    assert_fits_a_phone(&browser, "Microsoft, refused").await;

    // Zoho CRM: a long list of scopes, and a region named by every data center it serves.
    browser
        .open(
            &serve,
            json!({"provider": "zoho-crm", "connection_id": "user-42", "environment": "sandbox", "return_to": return_to()}),
        )
        .await;
    assert_fits_a_phone(&browser, "Zoho CRM").await;
    browser.close().await;
    world.finish().await;
}

/// The element that has the focus, and whether its focus ring shows: its id (or tag) and its
/// computed outline.
const FOCUSED: &str = "const e = document.activeElement, style = getComputedStyle(e);\
    return [e.id || e.tagName.toLowerCase(), style.outlineStyle, style.outlineWidth]";

/// A user with a keyboard alone connects: Tab reaches each field in page order and then the
/// button, each with its focus ring showing, and Enter submits (on the button, or in a field);
/// the browser lands on return_to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_alone_completes_a_connection() {
    let Some((world, serve, browser)) = bench("connect page keyboard", Screen::Desktop).await
    else {
        return;
    };
    let tab = char::from(Key::Tab).to_string();
    let enter = char::from(Key::Enter).to_string();
    browser
        .open(
            &serve,
            json!({"provider": "anthropic", "connection_id": "k1", "return_to": return_to()}),
        )
        .await;
    browser.press(&tab).await;
    assert_eq!(
        browser.run(FOCUSED).await,
        json!(["credential-apiKey", "solid", "3px"])
    );
    browser.press(ANTHROPIC_KEY).await;
    browser.press(&tab).await;
    assert_eq!(
        browser.run(FOCUSED).await,
        json!(["button", "solid", "3px"])
    );
    browser.press(&enter).await;
    landed(
        &browser,
        &serve,
        &format!("{PLATFORM_ORIGIN}/connected?user=42&connection_id=k1&provider=anthropic&status=connected"),
        "anthropic/k1",
    )
    .await;

    // Two fields: the subdomain first, then the key; Enter in the last one sends the form.
    browser
        .open(
            &serve,
            json!({"provider": "freshdesk", "connection_id": "d1", "return_to": return_to()}),
        )
        .await;
    browser.press(&format!("{tab}acme")).await;
    assert_eq!(
        browser.run(FOCUSED).await,
        json!(["param-subdomain", "solid", "3px"])
    );
    browser.press(&format!("{tab}desk-key-5f0a")).await;
    assert_eq!(
        browser.run(FOCUSED).await,
        json!(["credential-username", "solid", "3px"])
    );
    browser.press(&enter).await;
    let connection = landed(
        &browser,
        &serve,
        &format!("{PLATFORM_ORIGIN}/connected?user=42&connection_id=d1&provider=freshdesk&status=connected"),
        "freshdesk/d1",
    )
    .await;
    assert_eq!(connection["params"]["subdomain"], "acme");
    browser.close().await;
    world.finish().await;
}
