//! What goes wrong in a Zoho flow, and that each failure is typed, clear, and (for forged
//! callbacks) stopped before any request reaches a token endpoint.

use std::time::Duration;

use provider_forge::oauth::OAuthError;

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_user_who_denies_consent_gets_a_typed_error_and_no_token_request() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    bench.sim.set_consent(Consent::Deny);
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert!(matches!(error, OAuthError::UserDenied { .. }), "{error:?}");
    assert_eq!(error.to_string(), "the user denied access");
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_state_mismatch_is_refused_before_any_request() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    let forged = with_param(&callback, "state", "attacker-state");
    let error = bench.complete(&pending, &forged).await.unwrap_err();
    assert_eq!(error, OAuthError::StateMismatch);
    // A callback with no state at all is refused the same way.
    let stripped = callback.replace(&format!("state={}", pending.state), "");
    let error = bench.complete(&pending, &stripped).await.unwrap_err();
    assert_eq!(error, OAuthError::StateMismatch);
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_spoofed_accounts_server_of_another_dc_is_refused_with_zero_token_requests() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    let spoofed = with_param(&callback, "accounts-server", "https://accounts.zoho.com");
    let error = bench.complete(&pending, &spoofed).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::IssuerMismatch {
            param: "accounts-server".into(),
            received: "https://accounts.zoho.com".into(),
            data_center: "eu".into(),
            expected: "https://accounts.zoho.eu".into(),
        }
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_foreign_accounts_server_is_refused_with_zero_token_requests() {
    let bench = Bench::zoho("ca", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    for foreign in [
        "https://accounts.evil.example",
        // Close to Canada's real host, but not it.
        "https://accounts.zoho.ca",
        // The right host with a trailing slash or another scheme is not the same origin.
        "https://accounts.zohocloud.ca/",
        "http://accounts.zohocloud.ca",
    ] {
        let spoofed = with_param(&callback, "accounts-server", foreign);
        let error = bench.complete(&pending, &spoofed).await.unwrap_err();
        assert!(
            matches!(error, OAuthError::IssuerMismatch { ref received, .. } if received == foreign),
            "{foreign}: {error:?}"
        );
        assert!(error.to_string().contains("no request was made"));
    }
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
    // The genuine callback still works afterwards.
    bench.complete(&pending, &callback).await.unwrap();
    assert_eq!(
        bench.sim.count_at("accounts.zohocloud.ca", Endpoint::Token),
        1
    );
}

#[tokio::test]
async fn an_unknown_location_names_the_enabled_data_centers() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    let odd = with_param(&callback, "location", "ae");
    let error = bench.complete(&pending, &odd).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the callback names location `ae`, which is not an enabled data center; enabled: \
         us (us), eu (eu), in (in), au (au), cn (cn), jp (jp), ca (ca), sa (sa), uk (uk)"
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_replayed_code_is_rejected_even_though_zoho_answers_200() {
    let bench = Bench::zoho("in", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    bench.complete(&pending, &callback).await.unwrap();
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(error, rejected("token", 200, "invalid_code"));
}

#[tokio::test]
async fn an_expired_code_is_rejected() {
    let bench = Bench::zoho("jp", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    bench
        .sim
        .advance_clock(Duration::from_secs(CODE_LIFETIME_SECS + 1));
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert!(
        matches!(error, OAuthError::Rejected { status: 200, ref error, .. } if error == "invalid_code"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_fails_on_the_200_error_body() {
    let mut bench = Bench::zoho("au", TIMEOUT).await;
    bench.credentials = provider_forge::oauth::Credentials::shared(
        CLIENT_ID,
        provider_forge::oauth::ClientSecret::new("not-the-secret"),
    );
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the token endpoint rejected the request: `invalid_client_secret`"
    );
}

#[tokio::test]
async fn a_server_error_is_typed_and_the_code_exchange_is_not_retried() {
    let bench = Bench::zoho("uk", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    bench.sim.inject(Fault::ServerErrorOnce);
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::ServerError {
            endpoint: "token",
            status: 500
        }
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn a_hung_token_endpoint_ends_in_a_timeout_error() {
    // A short client timeout, not a sleep: the simulator answers only after a minute.
    let bench = Bench::zoho("sa", Duration::from_millis(300)).await;
    let (pending, callback) = bench.authorize().await;
    bench.sim.inject(Fault::Slow(Duration::from_secs(60)));
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::Timeout {
            endpoint: "token",
            host: "accounts.zoho.sa".into()
        }
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 1);
}

#[tokio::test]
async fn a_malformed_body_is_its_own_error() {
    let bench = Bench::zoho("us", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    bench.sim.inject(Fault::MalformedJson);
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert!(
        matches!(
            error,
            OAuthError::MalformedResponse {
                endpoint: "token",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_callback_can_be_pasted_as_a_bare_query() {
    let bench = Bench::zoho("eu", TIMEOUT).await;
    let (pending, callback) = bench.authorize().await;
    let query = format!(
        "  ?{}\n",
        url::Url::parse(&callback).unwrap().query().unwrap()
    );
    let tokens = bench.complete(&pending, &query).await.unwrap();
    assert_eq!(tokens.data_center, "eu");
}

#[tokio::test]
async fn a_disabled_data_center_is_refused_like_an_unknown_one() {
    let mut bench = Bench::zoho("in", TIMEOUT).await;
    let text = std::fs::read_to_string(repo_path("providers/zoho-crm.yaml")).unwrap();
    // Zoho CRM inherits every DC of the shared set; narrow it to three.
    let all = "multi_dc:\n  enabled: true\n";
    assert!(text.contains(all));
    let narrowed = text.replace(
        all,
        "multi_dc:\n  enabled: true\n  data_centers: [us, eu, cn]\n",
    );
    bench.provider = load_provider_text(&repo_path("providers/zoho-crm.yaml"), &narrowed);
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error,
        OAuthError::UnknownLocation {
            location: "in".into(),
            enabled: "us (us), eu (eu), cn (cn)".into(),
        }
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}

#[tokio::test]
async fn a_missing_per_dc_secret_stops_the_flow_before_any_request() {
    let mut bench = Bench::zoho("eu", TIMEOUT).await;
    bench.provider = load_provider_text(&repo_path("providers/zoho-crm.yaml"), &zoho_per_dc_text());
    // Secrets for every DC except the user's.
    bench.credentials = provider_forge::oauth::Credentials::per_data_center(
        CLIENT_ID,
        ZOHO_DCS.iter().filter(|dc| dc.location != "eu").map(|dc| {
            (
                dc.location.to_owned(),
                provider_forge::oauth::ClientSecret::new(per_dc_secret(dc.location)),
            )
        }),
    );
    let (pending, callback) = bench.authorize().await;
    let error = bench.complete(&pending, &callback).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no client secret for `eu` (data center `eu`); supply the secret for this data center"
    );
    assert_eq!(bench.sim.count(Endpoint::Token), 0);
}
