//! What the engine sends to token and refresh endpoints for the declarative features of issue 8
//! item 4: extra token and refresh parameters (with connection values filled in, never
//! replacing the engine's own), a JSON body, a refresh URL of its own, and a client id per data
//! center. A loopback server records each request (http is allowed for loopback hosts).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use provider_forge::catalog;
use provider_forge::oauth::{
    self, AuthorizationOptions, ClientSecret, Credentials, RetryPolicy, authorization_request,
};
use provider_forge::resolve::ResolvedProvider;
use provider_forge::resolve::{ConnectionValues, fill};
use serde_json::Value;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    path: String,
    content_type: String,
    body: String,
}

struct Recorder {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// A server answering every request with a token set, recording what it received.
    async fn start() -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let shared = shared.clone();
                        async move {
                            let path = request.uri().path().to_owned();
                            let content_type = request
                                .headers()
                                .get(hyper::header::CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let body = request.into_body().collect().await?.to_bytes();
                            shared.lock().unwrap().push(Recorded {
                                path,
                                content_type,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            });
                            let answer = r#"{"access_token":"at-1","refresh_token":"rt-1","token_type":"Bearer","expires_in":3600}"#;
                            Ok::<_, hyper::Error>(
                                Response::builder()
                                    .header(hyper::header::CONTENT_TYPE, "application/json")
                                    .body(Full::new(Bytes::from_static(answer.as_bytes())))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Recorder { addr, requests }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn provider(text: &str) -> ResolvedProvider {
    match catalog::load_one(Path::new("loopback-idp.yaml"), text).expect("readable") {
        catalog::Verdict::Valid(provider) => provider.resolved,
        catalog::Verdict::Invalid(diagnostics) => panic!("invalid provider: {diagnostics:?}"),
    }
}

fn definition(addr: SocketAddr, body: &str) -> String {
    format!(
        r#"
id: loopback-idp
display_name: Loopback IdP
connection:
  params:
    tenant: {{ description: The tenant., example: acme, pattern: '^[a-z]+$' }}
issuer: http://{addr}
authorization: {{ url: "http://{addr}/<tenant>/authorize" }}
token:
  url: http://{addr}/<tenant>/token
  refresh_url: http://{addr}/<tenant>/refresh
  body: {body}
  params: {{ audience: "api://<tenant>", grant_type: client_credentials }}
  refresh_params: {{ resource: "https://<tenant>.example.com" }}
callback: {{ redirect_uri: "http://127.0.0.1:9/callback" }}
scopes: {{ default: [read], catalog: [{{ name: read, description: Read. }}] }}
"#
    )
}

async fn exchange_and_refresh(provider: &ResolvedProvider, credentials: &Credentials) {
    let http = oauth::http_client(&oauth::HttpOptions::default()).unwrap();
    let pending =
        authorization_request(provider, "client-a", &AuthorizationOptions::default()).unwrap();
    let callback = format!("?code=code-1&state={}", pending.state);
    let tokens = oauth::complete_authorization(&http, provider, credentials, &pending, &callback)
        .await
        .unwrap();
    oauth::refresh_tokens(
        &http,
        provider,
        credentials,
        &tokens,
        &RetryPolicy::default(),
    )
    .await
    .unwrap();
}

fn filled(text: &str) -> ResolvedProvider {
    let values: ConnectionValues = [("tenant".to_owned(), "acme".to_owned())].into();
    fill(&provider(text), &values).unwrap()
}

#[tokio::test]
async fn a_json_body_carries_the_extra_params_with_connection_values_filled() {
    let server = Recorder::start().await;
    let provider = filled(&definition(server.addr, "json"));
    let credentials = Credentials::shared("client-a", ClientSecret::new("secret-a"));
    exchange_and_refresh(&provider, &credentials).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let (token, refresh) = (&requests[0], &requests[1]);
    assert_eq!(token.path, "/acme/token");
    assert_eq!(token.content_type, "application/json");
    let body: Value = serde_json::from_str(&token.body).unwrap();
    assert_eq!(body["grant_type"], "authorization_code", "never replaced");
    assert_eq!(body["code"], "code-1");
    assert_eq!(body["client_id"], "client-a");
    assert_eq!(body["audience"], "api://acme");
    assert_eq!(refresh.path, "/acme/refresh", "the refresh URL of its own");
    let body: Value = serde_json::from_str(&refresh.body).unwrap();
    assert_eq!(body["grant_type"], "refresh_token");
    assert_eq!(body["refresh_token"], "rt-1");
    assert_eq!(body["resource"], "https://acme.example.com");
    assert!(
        body.get("audience").is_none(),
        "token params stay on the token request"
    );
}

#[tokio::test]
async fn a_form_body_carries_the_same_params_form_encoded() {
    let server = Recorder::start().await;
    let provider = filled(&definition(server.addr, "form"));
    let credentials = Credentials::shared("client-a", ClientSecret::new("secret-a"));
    exchange_and_refresh(&provider, &credentials).await;

    let token = &server.requests()[0];
    assert_eq!(token.content_type, "application/x-www-form-urlencoded");
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(token.body.as_bytes())
        .into_owned()
        .collect();
    assert!(fields.contains(&("audience".into(), "api://acme".into())));
    assert!(fields.contains(&("grant_type".into(), "authorization_code".into())));
    assert!(!fields.contains(&("grant_type".into(), "client_credentials".into())));
}

#[tokio::test]
async fn each_data_center_presents_its_own_client_id() {
    let server = Recorder::start().await;
    let addr = server.addr;
    let text = format!(
        r#"
id: two-clouds
display_name: Two Clouds
data_centers:
  list:
    - {{ code: one, name: Cloud One, values: {{ cloud: one }} }}
    - {{ code: two, name: Cloud Two, values: {{ cloud: two }} }}
multi_dc: {{ enabled: false, default: one, client_id: per_data_center }}
issuer: http://{addr}
authorization: {{ url: "http://{addr}/<cloud>/authorize" }}
token: {{ url: "http://{addr}/<cloud>/token" }}
callback: {{ redirect_uri: "http://127.0.0.1:9/callback" }}
scopes: {{ default: [], catalog: [{{ name: read, description: Read. }}] }}
"#
    );
    let provider = provider(&text);
    let credentials = Credentials::shared("unused-shared-id", ClientSecret::new("s"))
        .with_client_id_for("one", "client-one")
        .with_client_id_for("two", "client-two");
    let http = oauth::http_client(&oauth::HttpOptions::default()).unwrap();
    let options = AuthorizationOptions {
        data_center: Some("two".into()),
        ..Default::default()
    };
    let pending = authorization_request(&provider, "client-two", &options).unwrap();
    let callback = format!("?code=c&state={}", pending.state);
    oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback)
        .await
        .unwrap();
    let token = &server.requests()[0];
    assert_eq!(token.path, "/two/token");
    assert!(
        token.body.contains("client_id=client-two"),
        "{}",
        token.body
    );

    let without = Credentials::shared("unused-shared-id", ClientSecret::new("s"));
    let error = oauth::complete_authorization(&http, &provider, &without, &pending, &callback)
        .await
        .unwrap_err();
    assert!(
        matches!(error, oauth::OAuthError::MissingClientId { ref data_center, .. } if data_center == "two")
    );
}

#[tokio::test]
async fn a_callback_value_reaches_the_token_request_only_after_its_checks() {
    let server = Recorder::start().await;
    let addr = server.addr;
    let text = format!(
        r#"
id: callback-region
display_name: Callback Region
connection:
  runtime:
    region: {{ from: callback, description: The user's region., pattern: '^[a-z]{{2}}$' }}
issuer: http://{addr}
authorization: {{ url: "http://{addr}/authorize" }}
token: {{ url: "http://{addr}/<region>/token", params: {{ region: "<region>" }} }}
callback: {{ redirect_uri: "http://127.0.0.1:9/callback" }}
scopes: {{ default: [], catalog: [{{ name: read, description: Read. }}] }}
"#
    );
    let provider = provider(&text);
    let credentials = Credentials::shared("client-a", ClientSecret::new("s"));
    let http = oauth::http_client(&oauth::HttpOptions::default()).unwrap();
    let pending =
        authorization_request(&provider, "client-a", &AuthorizationOptions::default()).unwrap();

    for bad in ["", "&region=eu%2F..%2Fx", "&region=e%40x"] {
        let callback = format!("?code=c&state={}{bad}", pending.state);
        let error =
            oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback)
                .await
                .unwrap_err();
        assert!(
            matches!(error, oauth::OAuthError::InvalidCallback(ref m) if m.contains("region")),
            "{bad}: {error}"
        );
    }
    assert!(
        server.requests().is_empty(),
        "nothing is sent with a refused value"
    );

    let callback = format!("?code=c&state={}&region=eu", pending.state);
    let tokens = oauth::complete_authorization(&http, &provider, &credentials, &pending, &callback)
        .await
        .unwrap();
    let token = &server.requests()[0];
    assert_eq!(token.path, "/eu/token");
    assert!(token.body.contains("region=eu"), "{}", token.body);
    assert_eq!(tokens.metadata["region"], "eu", "kept for later requests");
}
