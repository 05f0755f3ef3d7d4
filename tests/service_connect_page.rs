//! The connect page over HTTP, as a browser without JavaScript uses it: `serve` processes with
//! `--public-url` and `--return-origin` against the simulator, each case on SQLite and on
//! PostgreSQL. What the page asks (from the definitions), its headers, its form checked on
//! the server, the way on to the chosen cloud, single use, expiry, and where the browser lands.

use reqwest::header::LOCATION;
use serde_json::json;

use crate::support::connect_page::{
    Answer, Visitor, connected, landing, page_url, pairs, return_to, session,
};
use crate::support::service::{
    ANTHROPIC_KEY, Instance, PLATFORM_ORIGIN, PUBLIC_URL, TENANT, World, connect_world,
    on_both_backends_with,
};
use crate::support::{Consent, assert_no_secret};

/// `return_to` must be on an allowed origin, compared as a parsed origin; a session answers
/// its connect URL on the public URL, beside the authorization URL of an OAuth provider.
async fn return_to_is_held_to_the_allowed_origins(world: &World) {
    let serve = world.connect_instance();
    let ok = session(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1", "return_to": return_to()}),
    )
    .await;
    let connect_url = ok["connect_url"].as_str().unwrap();
    assert!(
        connect_url.starts_with(&format!("{PUBLIC_URL}/connect/")),
        "{connect_url}"
    );
    assert!(
        ok["authorization_url"]
            .as_str()
            .unwrap()
            .starts_with("https://login.microsoftonline.com/common/"),
        "{ok}"
    );
    for refused in [
        "http://evil.test/connected",
        "https://app.test/connected",
        "http://app.test:8080/connected",
        "http://app.test.evil.test/connected",
        "http://app.test@evil.test/connected",
        "//app.test/connected",
        "javascript:alert(1)",
    ] {
        let (status, body) = serve
            .start_session(
                json!({"provider": "microsoft", "connection_id": "u1", "return_to": refused}),
            )
            .await;
        assert_eq!(status, 400, "{refused}: {body}");
        assert_eq!(body["error"], "bad_request", "{refused}");
    }
    let (_, body) = serve
        .start_session(json!({"provider": "microsoft", "connection_id": "u1", "return_to": "http://evil.test/"}))
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("--return-origin"),
        "{body}"
    );

    // An API-key provider has nothing to authorize: only the page.
    let key = session(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1"}),
    )
    .await;
    assert!(key["connect_url"].is_string(), "{key}");
    assert!(key.get("authorization_url").is_none(), "{key}");
}
on_both_backends_with!(return_to_is_held_to_the_allowed_origins, connect_world);

/// The page asks what the definition and the platform's client leave open, with labels,
/// help, patterns and password inputs, and is sent with headers that allow no script, no
/// framing and no caching.
async fn the_page_is_built_from_the_definition(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let ms = page_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1", "return_to": return_to()}),
    )
    .await;
    let page = visitor.get(&ms).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    assert!(html.contains("<h1>Connect Microsoft</h1>"), "{html}");
    // The default scopes with their descriptions, named as the default cloud sends them.
    assert!(html.contains("Get a refresh token, to keep access while the user is offline."));
    assert!(
        html.contains("https://graph.microsoft.com/User.Read"),
        "{html}"
    );
    // The clouds the platform registered, not China.
    assert!(html.contains("<label for=\"data-center\">"), "{html}");
    assert!(
        html.contains("<option value=\"global\" selected>Global</option>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"usgov\">US Government</option>"),
        "{html}"
    );
    assert!(!html.contains("value=\"china\""), "{html}");
    assert!(
        html.contains("<option value=\"beta\">Beta</option>"),
        "{html}"
    );
    // The tenant: label, optional, its example, description and a pattern the browser reads.
    assert!(
        html.contains(
            "<label for=\"param-tenant\">Tenant <span class=\"optional\">(optional)</span></label>"
        ),
        "{html}"
    );
    assert!(
        html.contains("placeholder=\"contoso.onmicrosoft.com\""),
        "{html}"
    );
    assert!(html.contains("Leave it empty for common."), "{html}");
    assert!(
        html.contains("pattern=\"^[0-9A-Za-z](?:[\\u{2D}-\\u{2E}0-9A-Za-z]){0,253}$\""),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert_no_secret(
        "the page",
        html,
        &["ms-global-secret".to_owned(), "ms-usgov-secret".to_owned()],
    );

    let csp = page.header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self';"),
        "{csp}"
    );
    assert!(!csp.contains("script"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains(&format!(
            "form-action 'self' https://login.microsoftonline.com https://login.microsoftonline.us {PUBLIC_URL} {PLATFORM_ORIGIN};"
        )),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    let cookie = page.header("set-cookie");
    assert!(
        cookie.starts_with("pf_connect=")
            && cookie.ends_with("; Path=/connect; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    let css = visitor.get(&serve.url("/connect/page.css")).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));

    // An API key: a password input with its title, example, description and pattern.
    let key = page_url(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1"}),
    )
    .await;
    let page = visitor.get(&key).await;
    let html = &page.html;
    assert!(
        html.contains("<label for=\"credential-apiKey\">API Key</label>"),
        "{html}"
    );
    assert!(
        html.contains("<input id=\"credential-apiKey\" name=\"credential.apiKey\" type=\"password\" value=\"\" required pattern=\"^sk\\u{2D}ant\\u{2D}(?:[\\u{2D}0-9A-Z\\u{5F}a-z])+$\" placeholder=\"sk-ant-api03-...\""),
        "{html}"
    );
    assert!(
        !html.contains("Continue to"),
        "a credential page connects: {html}"
    );
    assert!(
        !html.contains("class=\"scopes\""),
        "no scopes for an API key: {html}"
    );

    // Basic: the key as the username, hidden; the hidden password with its default is not asked.
    let desk = page_url(
        &serve,
        json!({"provider": "freshdesk", "connection_id": "d1"}),
    )
    .await;
    let html = visitor.get(&desk).await.html;
    assert!(
        html.contains("<label for=\"credential-username\">Freshdesk API Key</label>"),
        "{html}"
    );
    assert!(
        html.contains("name=\"credential.username\" type=\"password\""),
        "{html}"
    );
    assert!(!html.contains("credential.password"), "{html}");
    assert!(
        html.contains("<label for=\"param-subdomain\">Subdomain</label>"),
        "{html}"
    );

    // What the platform fixed is not asked again.
    let fixed = page_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u2", "dc": "usgov", "params": {"tenant": TENANT}}),
    )
    .await;
    let html = visitor.get(&fixed).await.html;
    assert!(!html.contains("name=\"data_center\""), "{html}");
    assert!(!html.contains("name=\"param.tenant\""), "{html}");
    assert!(
        html.contains("https://graph.microsoft.us/User.Read"),
        "{html}"
    );
}
on_both_backends_with!(the_page_is_built_from_the_definition, connect_world);

/// Every value is checked again on the server: a refused one shows the page again with the
/// message next to its field, keeps what was typed (never a secret), and stores and sends
/// nothing; a form without its CSRF cookie is refused the same way.
async fn refused_values_store_nothing(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let url = page_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1", "return_to": return_to()}),
    )
    .await;
    let shown = visitor.get(&url).await;

    let refused = visitor
        .submit(
            &url,
            &shown,
            &[
                ("data_center", "china"),
                ("environment", "staging"),
                ("param.tenant", "bad tenant!"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    let tenant = refused.text_of("param-tenant-error");
    assert!(
        tenant.contains("does not match the pattern"),
        "{}",
        refused.html
    );
    assert!(
        tenant.contains("for example `contoso.onmicrosoft.com`"),
        "{tenant}"
    );
    assert!(
        refused.html.contains("value=\"bad tenant!\""),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("aria-invalid=\"true\""));
    assert_eq!(
        refused.text_of("data-center-error"),
        "Choose one of the listed regions."
    );
    assert_eq!(
        refused.text_of("environment-error"),
        "Choose one of the listed environments."
    );
    assert!(
        world.sim.requests().is_empty(),
        "nothing reached the provider"
    );
    assert_eq!(serve.get("/connections/microsoft/u1").await.0, 404);

    // Without the cookie the page was shown with, the form is refused.
    let mut stranger = Visitor::new();
    let forged = stranger
        .submit(
            &url,
            &shown,
            &[("data_center", "usgov"), ("environment", "beta")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert!(
        forged
            .text_of("form-error")
            .contains("could not be checked"),
        "{}",
        forged.html
    );

    // A refused API key is not shown again.
    let key_url = page_url(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1"}),
    )
    .await;
    let refused = visitor
        .fill(
            &key_url,
            &[("credential.apiKey", "not-an-anthropic-key-9f3e")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    assert!(
        refused
            .text_of("credential-apiKey-error")
            .contains("does not match the pattern `^sk-ant-[A-Za-z0-9_-]+$`"),
        "{}",
        refused.html
    );
    assert!(
        !refused.html.contains("not-an-anthropic-key-9f3e"),
        "{}",
        refused.html
    );
    assert!(
        world.sim.requests().is_empty(),
        "nothing reached the provider"
    );

    // A key of the right form that the provider refuses: said above the form, nothing stored.
    let refused = visitor
        .submit(
            &key_url,
            &refused,
            &[("credential.apiKey", "sk-ant-api03-revoked-0000")],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    assert!(
        refused
            .text_of("form-error")
            .contains("Anthropic did not accept these credentials (it answered HTTP 401)"),
        "{}",
        refused.html
    );
    assert!(!refused.html.contains("sk-ant-api03-revoked-0000"));
    assert_eq!(serve.get("/connections/anthropic/k1").await.0, 404);

    // Nothing was used up: the pages still open.
    assert_eq!(visitor.get(&url).await.status, 200);
    assert_eq!(visitor.get(&key_url).await.status, 200);
}
on_both_backends_with!(refused_values_store_nothing, connect_world);

/// The page sends the user to the chosen cloud with that cloud's client id and the tenant
/// typed; the callback stores the connection and lands on `return_to`. The page and the
/// session's own authorization URL are then both used up.
async fn the_page_leads_to_the_chosen_cloud_and_back(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let ms = session(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1", "return_to": return_to()}),
    )
    .await;
    let url = serve.local(ms["connect_url"].as_str().unwrap());
    let sent = visitor
        .fill(
            &url,
            &[
                ("data_center", "usgov"),
                ("environment", "beta"),
                ("param.tenant", TENANT),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    assert_eq!(sent.header("referrer-policy"), "no-referrer");
    let authorize = sent.header("location").to_owned();
    assert!(
        authorize.starts_with(&format!(
            "https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/authorize?"
        )),
        "{authorize}"
    );
    assert!(authorize.contains("client_id=ms-usgov-id"), "{authorize}");
    assert!(authorize.contains("graph.microsoft.us"), "{authorize}");

    let landed = visitor.come_back(world, &serve, &authorize).await;
    assert_eq!(
        landing(landed.header("location")),
        connected("microsoft", "u1")
    );
    let (status, connection) = serve.get("/connections/microsoft/u1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["data_center"], "usgov");
    assert_eq!(connection["environment"], "beta");
    assert_eq!(
        connection["api_base_url"],
        "https://graph.microsoft.us/beta"
    );
    assert_eq!(connection["params"]["tenant"], TENANT);

    // Single use: the page is gone, and so is the session's own authorization request: a
    // callback with its state finds no session (and so sends nobody to return_to).
    let again = visitor.get(&url).await;
    assert_eq!(again.status, 404, "{}", again.html);
    let original = url::Url::parse(ms["authorization_url"].as_str().unwrap()).unwrap();
    let state = original
        .query_pairs()
        .find(|(name, _)| name == "state")
        .unwrap()
        .1
        .into_owned();
    let replay = visitor
        .get(&serve.url(&format!("/oauth/callback?code=sim-code-x&state={state}")))
        .await;
    assert_eq!(replay.status, 400, "{}", replay.html);
    assert!(
        replay.html.contains("unknown or was already used"),
        "{}",
        replay.html
    );
    assert!(replay.headers.get(LOCATION).is_none());

    assert!(
        !serve.log_text().contains(
            ms["connect_url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        ),
        "the log holds no page token"
    );
}
on_both_backends_with!(the_page_leads_to_the_chosen_cloud_and_back, connect_world);

/// A user who refuses lands on `return_to` with the error; an expired page is refused.
async fn refusals_land_on_return_to_and_pages_expire(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    world.sim.set_consent(Consent::Deny);
    let ms = session(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u1", "params": {"tenant": TENANT}, "return_to": return_to()}),
    )
    .await;
    let landed = visitor
        .come_back(world, &serve, ms["authorization_url"].as_str().unwrap())
        .await;
    assert_eq!(
        landing(landed.header("location")),
        pairs(&[
            ("user", "42"),
            ("connection_id", "u1"),
            ("provider", "microsoft"),
            ("status", "error"),
            ("error", "access_denied"),
        ])
    );
    assert_eq!(serve.get("/connections/microsoft/u1").await.0, 404);

    let later = page_url(
        &serve,
        json!({"provider": "microsoft", "connection_id": "u2"}),
    )
    .await;
    world
        .backend
        .execute("UPDATE connect_pages SET expires_at = 1")
        .await;
    let expired = visitor.get(&later).await;
    assert_eq!(expired.status, 410, "{}", expired.html);
    assert!(expired.html.contains("expired"), "{}", expired.html);
}
on_both_backends_with!(refusals_land_on_return_to_and_pages_expire, connect_world);

/// A Freshdesk form the simulated Freshdesk accepts.
const FRESHDESK: [(&str, &str); 2] = [
    ("param.subdomain", "acme"),
    ("credential.username", "desk-key-5f0a"),
];

/// An API key typed on the page is verified at the provider and stored; the browser lands on
/// `return_to`, and the page is used up. Without `return_to` (Basic, with a subdomain) the
/// page says the window can be closed.
async fn credential_connections_are_stored_from_the_page(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let url = page_url(
        &serve,
        json!({"provider": "anthropic", "connection_id": "k1", "return_to": return_to()}),
    )
    .await;
    let stored = visitor
        .fill(&url, &[("credential.apiKey", ANTHROPIC_KEY)])
        .await;
    assert_eq!(stored.status, 303, "{}", stored.html);
    assert_eq!(
        landing(stored.header("location")),
        connected("anthropic", "k1")
    );
    let (status, connection) = serve.get("/connections/anthropic/k1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["auth_mode"], "api_key", "{connection}");
    assert_eq!(visitor.get(&url).await.status, 404, "single use");
    assert_no_secret(
        "the service log",
        &serve.log_text(),
        &[ANTHROPIC_KEY.to_owned()],
    );

    let url = page_url(
        &serve,
        json!({"provider": "freshdesk", "connection_id": "d1"}),
    )
    .await;
    let done = visitor.fill(&url, &FRESHDESK).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(
        done.html.contains("You can close this window."),
        "{}",
        done.html
    );
    let (status, connection) = serve.get("/connections/freshdesk/d1").await;
    assert_eq!(status, 200, "{connection}");
    assert_eq!(connection["params"]["subdomain"], "acme");
}
on_both_backends_with!(
    credential_connections_are_stored_from_the_page,
    connect_world
);

/// A provider whose authorization host is the shop the user types (Shopify): the page's
/// policy cannot name that host in advance (a browser checks a form's redirects against it),
/// so the page offers a link on to it; the flow then completes as any other.
async fn a_typed_host_is_reached_through_a_link(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let shop = session(
        &serve,
        json!({"provider": "shopify", "connection_id": "s1", "return_to": return_to()}),
    )
    .await;
    assert!(
        shop.get("authorization_url").is_none(),
        "the shop is not known yet: {shop}"
    );
    let url = serve.local(shop["connect_url"].as_str().unwrap());
    let page = visitor.get(&url).await;
    assert!(
        !page.header("content-security-policy").contains("myshopify"),
        "{}",
        page.header("content-security-policy")
    );
    let next = visitor
        .submit(&url, &page, &[("param.subdomain", "acme")])
        .await;
    assert_eq!(next.status, 200, "{}", next.html);
    let link = next.link();
    assert!(
        link.starts_with("https://acme.myshopify.com/admin/oauth/authorize?"),
        "{link}"
    );
    let landed = visitor.come_back(world, &serve, &link).await;
    assert_eq!(
        landing(landed.header("location")),
        connected("shopify", "s1")
    );
    let (_, connection) = serve.get("/connections/shopify/s1").await;
    assert_eq!(connection["params"]["subdomain"], "acme", "{connection}");
}
on_both_backends_with!(a_typed_host_is_reached_through_a_link, connect_world);

/// A Zoho CRM session's page, submitted with `region` and the sandbox: the page as shown, and
/// where the submission sent the browser.
async fn zoho_page_sent(
    serve: &Instance,
    visitor: &mut Visitor,
    connection_id: &str,
    region: &str,
) -> (Answer, String) {
    let url = page_url(
        serve,
        json!({"provider": "zoho-crm", "connection_id": connection_id, "return_to": return_to()}),
    )
    .await;
    let page = visitor.get(&url).await;
    let sent = visitor
        .submit(
            &url,
            &page,
            &[("data_center", region), ("environment", "sandbox")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.html);
    (page, sent.header("location").to_owned())
}

/// Zoho learns the user's data center from the callback, except China's accounts, which
/// start at China's own accounts server: the page asks only that, and the environment. A
/// user in China reaches China's server and the sandbox; a user in Europe starts at the
/// global server, which sends them on, and the connection is Europe's.
async fn zoho_asks_china_or_elsewhere_and_the_environment(world: &World) {
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    world.sim.set_user_data_center("cn");
    let (page, authorize) = zoho_page_sent(&serve, &mut visitor, "cn-1", "cn").await;
    let html = &page.html;
    assert!(
        html.contains("<option value=\"us\" selected>United States, Europe, India, Australia, Japan, Canada, Saudi Arabia, United Kingdom</option>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"cn\">China</option>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"sandbox\">Sandbox</option>"),
        "{html}"
    );
    assert!(
        authorize.starts_with("https://accounts.zoho.com.cn/oauth/v2/auth?"),
        "{authorize}"
    );
    visitor.come_back(world, &serve, &authorize).await;
    let (_, connection) = serve.get("/connections/zoho-crm/cn-1").await;
    assert_eq!(connection["data_center"], "cn", "{connection}");
    assert_eq!(connection["environment"], "sandbox", "{connection}");

    world.sim.set_user_data_center("eu");
    let (_, authorize) = zoho_page_sent(&serve, &mut visitor, "eu-1", "us").await;
    assert!(
        authorize.starts_with("https://accounts.zoho.com/oauth/v2/auth?"),
        "{authorize}"
    );
    visitor.come_back(world, &serve, &authorize).await;
    let (_, connection) = serve.get("/connections/zoho-crm/eu-1").await;
    assert_eq!(connection["data_center"], "eu", "{connection}");
    assert_eq!(connection["environment"], "sandbox", "{connection}");
}
on_both_backends_with!(
    zoho_asks_china_or_elsewhere_and_the_environment,
    connect_world
);

/// Every refused field of one submission is answered at once, each message beside its field
/// (described by it, marked invalid) and listed above the form with a link to the field: a
/// parameter outside its pattern and a credential with a line break, not one per submission.
/// The secret typed is not sent back, and nothing reaches the provider or the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_field_is_answered_at_once_beside_it() {
    let world = connect_world(None).await;
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let url = page_url(
        &serve,
        json!({"provider": "freshdesk", "connection_id": "d1"}),
    )
    .await;
    let refused = visitor
        .fill(
            &url,
            &[
                ("param.subdomain", "Acme Corp!"),
                ("credential.username", "desk-key-5f0a\nX"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    let html = &refused.html;
    assert_eq!(
        refused.text_of("param-subdomain-error"),
        "`Acme Corp!` does not match the pattern `^[a-z0-9][a-z0-9_-]{0,62}$` of `subdomain`; for example `acme`."
    );
    assert_eq!(
        refused.text_of("credential-username-error"),
        "It holds a line break or another control character."
    );
    for id in ["param-subdomain", "credential-username"] {
        assert!(
            html.contains(&format!(
                "aria-describedby=\"{id}-help {id}-error\" aria-invalid=\"true\""
            )),
            "{id}: {html}"
        );
    }
    assert!(
        html.contains("<title>Error: Connect Freshdesk</title>"),
        "{html}"
    );
    assert_eq!(refused.text_of("error-summary"), "Check these 2 fields:");
    assert!(
        html.contains(
            "<li><a href=\"#param-subdomain\">Subdomain</a>: `Acme Corp!` does not match"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "<li><a href=\"#credential-username\">Freshdesk API Key</a>: It holds a line break"
        ),
        "{html}"
    );
    assert!(
        !html.contains("desk-key-5f0a"),
        "the secret is not sent back"
    );
    assert!(
        world.sim.requests().is_empty(),
        "nothing reached the provider"
    );
    assert_eq!(serve.get("/connections/freshdesk/d1").await.0, 404);

    // Corrected, the same page connects.
    let done = visitor.submit(&url, &refused, &FRESHDESK).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert_eq!(serve.get("/connections/freshdesk/d1").await.0, 200);
    world.finish().await;
}

/// Pages link to their one stylesheet on the service under a version taken from its content,
/// and it is served as CSS to be kept for a year; the pages carry no inline style, and their
/// policy allows styles from the service only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stylesheet_is_served_cacheable_under_its_version() {
    use sha2::Digest;
    let world = connect_world(None).await;
    let serve = world.connect_instance();
    let mut visitor = Visitor::new();
    let page = visitor
        .get(
            &page_url(
                &serve,
                json!({"provider": "anthropic", "connection_id": "k1"}),
            )
            .await,
        )
        .await;
    let href = page.stylesheet();
    let version = href
        .strip_prefix("/connect/page.css?v=")
        .unwrap_or_else(|| panic!("{href}"));
    // The page shown for an unknown link uses the same stylesheet.
    let unknown = visitor.get(&serve.url("/connect/no-such-page")).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.stylesheet(), href);
    for shown in [&page, &unknown] {
        assert!(!shown.html.contains("style="), "{}", shown.html);
        assert!(!shown.html.contains("<style"), "{}", shown.html);
        let csp = shown.header("content-security-policy");
        assert!(csp.contains("style-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }

    let css = visitor.get(&serve.url(&href)).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert_eq!(
        css.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(css.header("x-content-type-options"), "nosniff");
    assert!(css.html.contains("min-height: 2.75rem"), "{}", css.html);
    let digest: String = sha2::Sha256::digest(css.html.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(version, &digest[..16], "the version is the content's");
    world.finish().await;
}
