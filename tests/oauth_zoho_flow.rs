//! The whole authorization-code flow against the simulated Zoho accounts servers, for every
//! one of the nine data centers, through the library, with shared and per-DC secrets.

use std::time::Duration;

use provider_forge::oauth::{self, AuthorizationOptions, authorization_request};
use serde_json::json;

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the facts sheet says a multi-DC flow starts: the global accounts server, except
/// China, which starts at its own.
fn expected_entry_host(location: &str) -> &'static str {
    if location == "cn" {
        "accounts.zoho.com.cn"
    } else {
        "accounts.zoho.com"
    }
}

async fn run_flow_for_every_dc(per_dc: bool) {
    let provider = if per_dc {
        zoho_per_dc()
    } else {
        load_provider("providers/zoho-crm.yaml")
    };
    for dc in ZOHO_DCS {
        let credentials = if per_dc {
            per_dc_credentials()
        } else {
            shared_credentials()
        };
        let sim = start(Setup {
            user_data_center: Some(dc.location.to_owned()),
            credentials: credentials.clone(),
            ..setup(vec![provider.clone()])
        })
        .await;
        let http = oauth::http_client(&sim.http_options(TIMEOUT)).unwrap();
        // China's users are known to start in China; everyone else starts with no hint.
        let options = AuthorizationOptions {
            data_center: (dc.location == "cn").then(|| "cn".to_owned()),
            ..Default::default()
        };
        let pending = authorization_request(&provider, CLIENT_ID, &options).unwrap();
        assert_eq!(
            pending.url.host_str(),
            Some(expected_entry_host(dc.location)),
            "{}",
            dc.location
        );

        let callback = browse_to_callback(&http, pending.url.as_str(), REDIRECT_URI).await;
        let tokens =
            oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", dc.location));

        assert_eq!(tokens.data_center, dc.location);
        assert_eq!(tokens.issuer, format!("https://{}", dc.accounts_host));
        assert_eq!(
            tokens.metadata.get("api_domain"),
            Some(&json!(dc.api_domain))
        );
        assert!(tokens.refresh_token.is_some());
        assert_eq!(tokens.token_type.as_deref(), Some("Bearer"));
        assert!(tokens.expires_at.is_some());
        // The code went to the user's DC and nowhere else.
        assert_eq!(sim.count_at(dc.accounts_host, Endpoint::Token), 1);
        assert_eq!(sim.count(Endpoint::Token), 1);
        // The user saw the entry server, then (if elsewhere) their own DC.
        let entry = expected_entry_host(dc.location);
        assert_eq!(sim.count_at(entry, Endpoint::Authorize), 1);
        let expected_authorize = if entry == dc.accounts_host { 1 } else { 2 };
        assert_eq!(sim.count(Endpoint::Authorize), expected_authorize);
    }
}

#[tokio::test]
async fn every_dc_completes_the_flow_with_a_shared_secret() {
    run_flow_for_every_dc(false).await;
}

#[tokio::test]
async fn every_dc_completes_the_flow_with_per_dc_secrets() {
    run_flow_for_every_dc(true).await;
}

#[tokio::test]
async fn the_authorization_request_carries_what_zoho_needs() {
    let provider = load_provider("providers/zoho-crm.yaml");
    let options = AuthorizationOptions {
        scopes: vec![
            "ZohoCRM.modules.leads.ALL".into(),
            "ZohoCRM.users.READ".into(),
        ],
        ..Default::default()
    };
    let pending = authorization_request(&provider, CLIENT_ID, &options).unwrap();
    let params: Vec<(String, String)> = pending
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| param(&params, name).map(str::to_owned);
    assert_eq!(pending.url.path(), "/oauth/v2/auth");
    assert_eq!(get("response_type").as_deref(), Some("code"));
    assert_eq!(get("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(get("redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        get("scope").as_deref(),
        Some("ZohoCRM.modules.leads.ALL,ZohoCRM.users.READ")
    );
    assert_eq!(get("access_type").as_deref(), Some("offline"));
    assert_eq!(get("prompt").as_deref(), Some("consent"));
    assert_eq!(get("code_challenge"), None, "Zoho's definition has no PKCE");
    // At least 128 bits: 22 base64url characters carry 132.
    assert!(get("state").unwrap().len() >= 22);
    let again = authorization_request(&provider, CLIENT_ID, &options).unwrap();
    assert_ne!(again.state, pending.state);
}

#[tokio::test]
async fn unknown_scopes_and_data_centers_are_refused_with_the_known_ones() {
    let provider = load_provider("providers/zoho-crm.yaml");
    let options = AuthorizationOptions {
        scopes: vec!["ZohoCRM.modules.leeds.ALL".into()],
        ..Default::default()
    };
    let error = authorization_request(&provider, CLIENT_ID, &options)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown scope `ZohoCRM.modules.leeds.ALL`"),
        "{error}"
    );
    assert!(error.contains("ZohoCRM.modules.leads.ALL"), "{error}");

    let options = AuthorizationOptions {
        data_center: Some("ae".into()),
        ..Default::default()
    };
    let error = authorization_request(&provider, CLIENT_ID, &options)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "unknown data center `ae`; enabled data centers: us, eu, in, au, cn, jp, ca, sa, uk"
    );
}
