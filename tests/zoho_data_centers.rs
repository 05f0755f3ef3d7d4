//! Every Zoho CRM data center's endpoints, as `render` prints them, against the facts sheet
//! (shared/zoho-facts.md, from Zoho's multi-DC pages and SDKs). The expected values are written
//! out literally here, independent of the definition file and of the snapshots: a wrong host
//! fails only for the users who live in that data center, so each one is spelled out.

use std::process::Command;

use serde_json::Value;

use crate::support::cli::BIN;

/// (code, accounts server, production API, sandbox API, developer API)
const FACTS: [(&str, &str, &str, &str, &str); 9] = [
    (
        "us",
        "https://accounts.zoho.com",
        "https://www.zohoapis.com",
        "https://sandbox.zohoapis.com",
        "https://developer.zohoapis.com",
    ),
    (
        "eu",
        "https://accounts.zoho.eu",
        "https://www.zohoapis.eu",
        "https://sandbox.zohoapis.eu",
        "https://developer.zohoapis.eu",
    ),
    (
        "in",
        "https://accounts.zoho.in",
        "https://www.zohoapis.in",
        "https://sandbox.zohoapis.in",
        "https://developer.zohoapis.in",
    ),
    (
        "au",
        "https://accounts.zoho.com.au",
        "https://www.zohoapis.com.au",
        "https://sandbox.zohoapis.com.au",
        "https://developer.zohoapis.com.au",
    ),
    (
        "cn",
        "https://accounts.zoho.com.cn",
        "https://www.zohoapis.com.cn",
        "https://sandbox.zohoapis.com.cn",
        "https://developer.zohoapis.com.cn",
    ),
    (
        "jp",
        "https://accounts.zoho.jp",
        "https://www.zohoapis.jp",
        "https://sandbox.zohoapis.jp",
        "https://developer.zohoapis.jp",
    ),
    (
        "ca",
        "https://accounts.zohocloud.ca",
        "https://www.zohoapis.ca",
        "https://sandbox.zohoapis.ca",
        "https://developer.zohoapis.ca",
    ),
    (
        "sa",
        "https://accounts.zoho.sa",
        "https://www.zohoapis.sa",
        "https://sandbox.zohoapis.sa",
        "https://developer.zohoapis.sa",
    ),
    (
        "uk",
        "https://accounts.zoho.uk",
        "https://www.zohoapis.uk",
        "https://sandbox.zohoapis.uk",
        "https://developer.zohoapis.uk",
    ),
];

fn rendered_zoho_crm() -> Value {
    let output = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["render", "providers/zoho-crm.yaml", "--format", "json"])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let providers: Value = serde_json::from_slice(&output.stdout).expect("render prints JSON");
    assert_eq!(providers.as_array().map(Vec::len), Some(1));
    providers[0].clone()
}

#[test]
fn every_data_center_matches_the_facts_sheet() {
    let provider = rendered_zoho_crm();
    let dcs = provider["data_centers"].as_array().expect("data_centers");
    let codes: Vec<&str> = dcs.iter().map(|dc| dc["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk"],
        "all nine data centers, in the facts sheet's order"
    );
    for (code, accounts, production, sandbox, developer) in FACTS {
        let dc = dcs
            .iter()
            .find(|dc| dc["code"] == code)
            .unwrap_or_else(|| panic!("data center {code} is rendered"));
        let field = |name: &str| dc[name].as_str().unwrap_or_default().to_owned();
        assert_eq!(field("location"), code, "{code}: location");
        assert_eq!(field("issuer"), accounts, "{code}: accounts server");
        assert_eq!(
            field("authorization_url"),
            format!("{accounts}/oauth/v2/auth"),
            "{code}: authorization URL"
        );
        assert_eq!(
            field("token_url"),
            format!("{accounts}/oauth/v2/token"),
            "{code}: token URL"
        );
        assert_eq!(
            field("refresh_url"),
            format!("{accounts}/oauth/v2/token"),
            "{code}: refresh URL"
        );
        assert_eq!(
            field("revoke_url"),
            format!("{accounts}/oauth/v2/token/revoke"),
            "{code}: revoke URL"
        );
        let api = &dc["api_base_urls"];
        assert_eq!(api["production"], production, "{code}: production API");
        assert_eq!(api["sandbox"], sandbox, "{code}: sandbox API");
        assert_eq!(api["developer"], developer, "{code}: developer API");
        assert_eq!(
            api.as_object().map(|o| o.len()),
            Some(3),
            "{code}: exactly three environments"
        );
    }
}

#[test]
fn canada_authenticates_on_zohocloud_but_calls_the_api_on_zohoapis() {
    let provider = rendered_zoho_crm();
    let ca = provider["data_centers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|dc| dc["code"] == "ca")
        .expect("Canada is rendered")
        .clone();
    assert_eq!(
        ca["token_url"],
        "https://accounts.zohocloud.ca/oauth/v2/token"
    );
    assert_eq!(ca["api_base_urls"]["production"], "https://www.zohoapis.ca");
    let text = serde_json::to_string(&provider).unwrap();
    assert!(
        !text.contains("accounts.zoho.ca"),
        "accounts.zoho.ca does not exist and must never be rendered"
    );
}

#[test]
fn authorization_starts_at_the_global_server_except_in_china() {
    let provider = rendered_zoho_crm();
    for dc in provider["data_centers"].as_array().unwrap() {
        let code = dc["code"].as_str().unwrap();
        let expected = if code == "cn" {
            "https://accounts.zoho.com.cn/oauth/v2/auth"
        } else {
            "https://accounts.zoho.com/oauth/v2/auth"
        };
        assert_eq!(dc["entry_authorization_url"], expected, "{code}: entry URL");
    }
}
