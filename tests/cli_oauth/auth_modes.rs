//! `connect`, `refresh` and `request` for every auth mode through the real binary, against the
//! simulator over TLS with the definitions' host names resolved to it: API keys (in a header,
//! in the query), Basic, client credentials and token requests connect, verify and call the
//! API; wrong credentials end with exit 1 and no file; an expired token is renewed before the
//! call; the API's faults; and the authorization-code flow's `request` against Zoho CRM in
//! Europe's sandbox.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use provider_forge::resolve::CredentialValues;
use serde_json::Value;

use crate::support::cli::*;
use crate::support::*;

const API_KEY: &str = "sk-test-simulated-key-7b1e";
const DESK_KEY: &str = "desk-key-5f0a";
const USERNAME: &str = "sim-user";
const PASSWORD: &str = "sim-password-c3d9";
const APP_KEY: &str = "app-simkey42";

fn fixture(name: &str) -> PathBuf {
    repo_path("tests/fixtures/auth").join(name)
}

/// A simulator of `providers` accepting the test credentials, and a directory for files.
struct Bed {
    sim: Simulator,
    dir: tempfile::TempDir,
    ca: PathBuf,
}

impl Bed {
    async fn start(fixtures: &[&str], values: &[(&str, &str)]) -> Bed {
        let providers = fixtures
            .iter()
            .map(|name| load_provider(&format!("tests/fixtures/auth/{name}")))
            .collect();
        let credentials: CredentialValues = [
            ("apiKey", API_KEY),
            ("username", USERNAME),
            ("password", PASSWORD),
            ("appKey", APP_KEY),
        ]
        .into_iter()
        .collect();
        Bed::serve(Setup {
            credential_values: credentials,
            connection_values: values
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            ..setup(providers)
        })
        .await
    }

    async fn serve(setup: Setup) -> Bed {
        let sim = start(setup).await;
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        Bed { sim, dir, ca }
    }

    /// `provider-forge SUBCOMMAND PROVIDER` with --ca-cert, --resolve and no inherited
    /// provider-forge variables.
    fn command(&self, subcommand: &str, provider: &Path) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(subcommand)
            .arg(provider)
            .arg("--ca-cert")
            .arg(&self.ca);
        for (name, _) in std::env::vars() {
            if name.starts_with("PROVIDER_FORGE_") && !name.starts_with("PROVIDER_FORGE_NANGO") {
                command.env_remove(name);
            }
        }
        for entry in self.sim.resolve_args() {
            command.arg("--resolve").arg(entry);
        }
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn count(&self, endpoint: Endpoint) -> usize {
        self.sim.count(endpoint)
    }

    /// `request` of `provider` with the token file, then METHOD PATH.
    async fn request(&self, provider: &Path, tokens: &Path, extra: &[&str]) -> Output {
        let mut request = self.command("request", provider);
        request.arg("--tokens").arg(tokens).args(extra);
        run(request, None).await
    }
}

fn ok_body(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the API's JSON body on stdout")
}

fn assert_quiet(what: &str, output: &Output, secrets: &[String]) {
    assert_no_secret(&format!("{what} stdout"), &text(&output.stdout), secrets);
    assert_no_secret(&format!("{what} stderr"), &text(&output.stderr), secrets);
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// Makes the token file's access token look expired.
fn expire(path: &Path) {
    let mut stored = read_json(path);
    stored["expires_at"] = Value::from(1u64);
    write_private(path, &serde_json::to_string_pretty(&stored).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_connects_after_verification_and_request_sends_it_in_its_header() {
    let bed = Bed::start(&["api-key.yaml"], &[]).await;
    let provider = fixture("api-key.yaml");
    let out = bed.path("keyed.json");
    let mut connect = bed.command("connect", &provider);
    connect
        .arg("--out")
        .arg(&out)
        .env("PROVIDER_FORGE_CREDENTIAL_APIKEY", API_KEY);
    let connected = run(connect, None).await;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    assert!(text(&connected.stdout).contains("verified at https://api.keyed.test/v1/models"));
    assert_eq!(mode(&out), 0o600);
    let stored = read_json(&out);
    assert_eq!(stored["auth_mode"], "api_key");
    assert_eq!(stored["credentials"]["apiKey"], API_KEY);
    // The verification reached the API and passed.
    assert_eq!(bed.count(Endpoint::Api), 1);

    let answer = bed
        .request(&provider, &out, &["GET", "v1/messages?limit=1"])
        .await;
    let body = ok_body(&answer);
    assert_eq!(body["provider"], "keyed-api");
    assert_eq!(body["path"], "/v1/messages");
    let call = bed.sim.requests().pop().unwrap();
    assert_eq!(
        (call.host.as_str(), call.endpoint),
        ("api.keyed.test", Endpoint::Api)
    );
    assert_eq!(param(&call.query, "limit"), Some("1"));
    assert_quiet("connect", &connected, &[API_KEY.to_owned()]);
    assert_quiet("request", &answer, &[API_KEY.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_api_key_exits_1_with_the_providers_words_and_writes_nothing() {
    let bed = Bed::start(&["api-key.yaml"], &[]).await;
    let provider = fixture("api-key.yaml");
    let out = bed.path("never.json");
    let wrong = "sk-test-wrong-key-0000";
    let mut connect = bed.command("connect", &provider);
    connect
        .arg("--out")
        .arg(&out)
        .env("PROVIDER_FORGE_CREDENTIAL_APIKEY", wrong);
    let refused = run(connect, None).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(stderr.contains("x-api-key"), "{stderr}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(bed.dir.path()).unwrap().count(),
        1,
        "only ca.pem"
    );
    assert_quiet("connect", &refused, &[wrong.to_owned(), API_KEY.to_owned()]);

    // A key its declaration refuses never leaves: usage error, no request.
    let mut connect = bed.command("connect", &provider);
    connect
        .arg("--out")
        .arg(&out)
        .env("PROVIDER_FORGE_CREDENTIAL_APIKEY", "pk-live-123");
    let bad = run(connect, None).await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("does not match the pattern"));
    assert!(!text(&bad.stderr).contains("pk-live-123"));
    assert_eq!(
        bed.count(Endpoint::Api),
        1,
        "only the wrong key's verification"
    );

    // No credential at all: a usage error naming the variable's credential.
    let missing = run(
        {
            let mut connect = bed.command("connect", &provider);
            connect.arg("--out").arg(&out);
            connect
        },
        None,
    )
    .await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("apiKey"),
        "{}",
        text(&missing.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_the_query_comes_from_a_credentials_file() {
    let bed = Bed::start(&["query-key.yaml"], &[]).await;
    let provider = fixture("query-key.yaml");
    let creds = bed.path("creds");
    write_private(&creds, &format!("# the key\napiKey={API_KEY}\n"));
    let out = bed.path("q.json");
    let mut connect = bed.command("connect", &provider);
    connect
        .arg("--credentials-file")
        .arg(&creds)
        .arg("--out")
        .arg(&out);
    let connected = run(connect, None).await;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    let body = ok_body(&bed.request(&provider, &out, &["GET", "v1/places"]).await);
    assert_eq!(body["path"], "/api/v1/places");
    let call = bed.sim.requests().pop().unwrap();
    assert_eq!(param(&call.query, "key"), Some(API_KEY));

    // A file naming a credential the definition does not declare is refused.
    write_private(&creds, "api_key=x\n");
    let mut connect = bed.command("connect", &provider);
    connect
        .arg("--credentials-file")
        .arg(&creds)
        .arg("--out")
        .arg(bed.path("x.json"));
    let refused = run(connect, None).await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("unknown credential `api_key`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_sends_the_key_as_username_with_the_hidden_password_at_the_connections_host() {
    let bed = Bed::serve(Setup {
        credential_values: [("username", DESK_KEY)].into_iter().collect(),
        connection_values: [("subdomain".to_owned(), "acme".to_owned())]
            .into_iter()
            .collect(),
        ..setup(vec![load_provider("tests/fixtures/auth/basic.yaml")])
    })
    .await;
    let provider = fixture("basic.yaml");
    let out = bed.path("desk.json");
    let connect = |key: &str, out: &Path| {
        let mut connect = bed.command("connect", &provider);
        connect
            .args(["--param", "subdomain=acme", "--out"])
            .arg(out)
            .env("PROVIDER_FORGE_CREDENTIAL_USERNAME", key);
        connect
    };
    let refused = run(connect("someone-else", &bed.path("no.json")), None).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("authorization"));
    assert!(!bed.path("no.json").exists());

    let connected = run(connect(DESK_KEY, &out), None).await;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    let answer = bed
        .request(
            &provider,
            &out,
            &["--param", "subdomain=acme", "GET", "tickets"],
        )
        .await;
    let body = ok_body(&answer);
    assert_eq!(body["path"], "/api/v2/tickets");
    assert_eq!(bed.sim.requests().pop().unwrap().host, "acme.desk.test");
    // The Basic pair is the key and the hidden default password.
    let recorded = bed.sim.requests().pop().unwrap();
    assert_eq!(
        recorded.basic_auth,
        Some((DESK_KEY.to_owned(), "X".to_owned()))
    );
    assert_quiet("request", &answer, &[DESK_KEY.to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_connect_refresh_and_renew_an_expired_token_before_the_call() {
    let bed = Bed::start(&["client-credentials.yaml"], &[]).await;
    let provider = fixture("client-credentials.yaml");
    let out = bed.path("m2m.json");
    let connect = |secret: &str, out: &Path| {
        let mut connect = bed.command("connect", &provider);
        connect
            .args(["--client-id", CLIENT_ID, "--out"])
            .arg(out)
            .env("PROVIDER_FORGE_CLIENT_SECRET", secret);
        connect
    };
    let refused = run(connect("wrong-secret", &bed.path("no.json")), None).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("invalid_client"));
    assert!(!bed.path("no.json").exists());

    let connected = run(connect(SHARED_SECRET, &out), None).await;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    let token = bed
        .sim
        .requests()
        .into_iter()
        .find(|r| {
            r.endpoint == Endpoint::Token
                && r.outcome.as_deref().is_some_and(|o| o.contains("issued"))
        })
        .unwrap();
    // Basic client authentication, JSON body with the audience.
    assert_eq!(token.host, "auth.machine.test");
    assert_eq!(
        token.basic_auth,
        Some((CLIENT_ID.to_owned(), SHARED_SECRET.to_owned()))
    );
    assert_eq!(
        token.body,
        Some(provider_forge::definition::TokenBody::Json)
    );
    assert_eq!(token.param("audience"), Some("https://api.machine.test/"));
    let stored = read_json(&out);
    let first = stored["access_token"].as_str().unwrap().to_owned();
    assert_eq!(stored["issuer"], "https://auth.machine.test");
    assert_eq!(mode(&out), 0o600);

    let body = ok_body(&bed.request(&provider, &out, &["GET", "v2/clients"]).await);
    assert_eq!(body["provider"], "machine-api");

    // `refresh` obtains a new token.
    let mut refresh = bed.command("refresh", &provider);
    refresh
        .arg("--tokens")
        .arg(&out)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let refreshed = run(refresh, None).await;
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    let second = read_json(&out)["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);

    // Expired: renewed before the call (one token request, one API call, no 401).
    expire(&out);
    let (tokens_before, api_before) = (bed.count(Endpoint::Token), bed.count(Endpoint::Api));
    let mut request = bed.command("request", &provider);
    request
        .arg("--tokens")
        .arg(&out)
        .args(["GET", "v2/clients"])
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let answer = run(request, None).await;
    ok_body(&answer);
    assert!(text(&answer.stderr).contains("renewed the access token (it expired)"));
    assert_eq!(bed.count(Endpoint::Token), tokens_before + 1);
    assert_eq!(bed.count(Endpoint::Api), api_before + 1);
    let third = read_json(&out)["access_token"].as_str().unwrap().to_owned();
    assert_ne!(third, second);
    assert_eq!(mode(&out), 0o600);
    let mut secrets = bed.sim.issued_secrets();
    secrets.push(SHARED_SECRET.to_owned());
    assert_quiet("connect", &connected, &secrets);
    assert_quiet("request", &answer, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_trades_credentials_for_a_token_and_refreshes_it_with_its_refresh_token() {
    let bed = Bed::start(&["token-request.yaml"], &[]).await;
    let provider = fixture("token-request.yaml");
    let creds = bed.path("creds");
    let out = bed.path("two.json");
    let connect = |password: &str, out: &Path| {
        write_private(
            &creds,
            &format!("username={USERNAME}\npassword={password}\nappKey={APP_KEY}\n"),
        );
        let mut connect = bed.command("connect", &provider);
        connect
            .arg("--credentials-file")
            .arg(&creds)
            .arg("--out")
            .arg(out);
        connect
    };
    let refused = run(connect("wrong-password", &bed.path("no.json")), None).await;
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("token request answered HTTP 401"),
        "{stderr}"
    );
    assert!(stderr.contains("authorization"), "{stderr}");
    assert!(!bed.path("no.json").exists());

    let connected = run(connect(PASSWORD, &out), None).await;
    assert!(connected.status.success(), "{}", text(&connected.stderr));
    let stored = read_json(&out);
    assert_eq!(stored["credentials"]["password"], PASSWORD);
    assert!(stored["refresh_token"].as_str().is_some());
    let expires_at = stored["expires_at"].as_u64().unwrap();
    let now = provider_forge::oauth::unix_now();
    assert!(
        (now + 3500..now + 3700).contains(&expires_at),
        "{expires_at}"
    );
    let login = bed
        .sim
        .requests()
        .into_iter()
        .rfind(|r| r.endpoint == Endpoint::Token)
        .unwrap();
    assert_eq!(login.param("app"), Some(APP_KEY));
    assert_eq!(
        login.body,
        Some(provider_forge::definition::TokenBody::Json)
    );

    let body = ok_body(&bed.request(&provider, &out, &["GET", "v1/me"]).await);
    assert_eq!(body["provider"], "two-step");

    expire(&out);
    let refreshes = bed.count(Endpoint::Refresh);
    let answer = bed.request(&provider, &out, &["GET", "v1/me"]).await;
    ok_body(&answer);
    assert_eq!(bed.count(Endpoint::Refresh), refreshes + 1);
    let refresh = bed
        .sim
        .requests()
        .into_iter()
        .rfind(|r| r.endpoint == Endpoint::Refresh)
        .unwrap();
    assert_eq!(refresh.path, "/v1/refresh");
    assert_eq!(
        refresh.param("refresh_token"),
        stored["refresh_token"].as_str()
    );
    let mut secrets = bed.sim.issued_secrets();
    secrets.extend([PASSWORD.to_owned(), APP_KEY.to_owned()]);
    assert_quiet("connect", &connected, &secrets);
    assert_quiet("request", &answer, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_faults_are_reported_and_a_refused_token_is_renewed_once() {
    let bed = Bed::start(&["api-key.yaml", "client-credentials.yaml"], &[]).await;
    let keyed = fixture("api-key.yaml");
    let keyed_file = bed.path("k.json");
    let mut connect = bed.command("connect", &keyed);
    connect
        .arg("--out")
        .arg(&keyed_file)
        .env("PROVIDER_FORGE_CREDENTIAL_APIKEY", API_KEY);
    assert!(run(connect, None).await.status.success());

    bed.sim.inject(Fault::Api429Once);
    let limited = bed
        .request(&keyed, &keyed_file, &["GET", "v1/models"])
        .await;
    assert_eq!(limited.status.code(), Some(1));
    let stderr = text(&limited.stderr);
    assert!(
        stderr.contains("HTTP 429") && stderr.contains("Retry-After: 1"),
        "{stderr}"
    );
    assert!(
        text(&limited.stdout).contains("api-429-once"),
        "the body is printed"
    );
    ok_body(
        &bed.request(&keyed, &keyed_file, &["GET", "v1/models"])
            .await,
    );

    bed.sim.inject(Fault::Api500Once);
    let failed = bed
        .request(&keyed, &keyed_file, &["GET", "v1/models"])
        .await;
    assert_eq!(failed.status.code(), Some(1));
    assert!(text(&failed.stderr).contains("HTTP 500"));

    // A key refused once: nothing to renew, exit 1.
    bed.sim.inject(Fault::Api401Once);
    let refused = bed
        .request(&keyed, &keyed_file, &["GET", "v1/models"])
        .await;
    assert_eq!(refused.status.code(), Some(1));

    // A token refused once: renewed, and the call made again.
    let machine = fixture("client-credentials.yaml");
    let machine_file = bed.path("m.json");
    let mut connect = bed.command("connect", &machine);
    connect
        .args(["--client-id", CLIENT_ID, "--out"])
        .arg(&machine_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    assert!(run(connect, None).await.status.success());
    bed.sim.inject(Fault::Api401Once);
    let tokens = bed.count(Endpoint::Token);
    let mut request = bed.command("request", &machine);
    request
        .arg("--tokens")
        .arg(&machine_file)
        .args(["GET", "v2/clients"])
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let renewed = run(request, None).await;
    ok_body(&renewed);
    assert!(text(&renewed.stderr).contains("the API refused it"));
    assert_eq!(bed.count(Endpoint::Token), tokens + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoho_crm_request_goes_to_the_users_data_center_in_the_environment_asked_for() {
    let bed = Bed::serve(Setup {
        user_data_center: Some("eu".into()),
        ..setup(vec![load_provider("providers/zoho-crm.yaml")])
    })
    .await;
    let provider_path = repo_path("providers/zoho-crm.yaml");
    // The code flow in-process: the scripted browser, then the exchange.
    let provider = load_provider("providers/zoho-crm.yaml");
    let http = provider_forge::oauth::http_client(
        &bed.sim.http_options(std::time::Duration::from_secs(10)),
    )
    .unwrap();
    let pending =
        provider_forge::oauth::authorization_request(&provider, CLIENT_ID, &Default::default())
            .unwrap();
    let callback = browse_to_callback(&http, pending.url.as_str(), REDIRECT_URI).await;
    let tokens = provider_forge::oauth::complete_authorization(
        &http,
        &provider,
        &shared_credentials(),
        &pending,
        &callback,
    )
    .await
    .unwrap();
    assert_eq!(tokens.data_center, "eu");
    let out = bed.path("zoho.json");
    provider_forge::token_file::StoredConnection {
        provider: "zoho-crm".into(),
        client_id: CLIENT_ID.into(),
        tokens,
        credentials: Default::default(),
    }
    .write(&out)
    .unwrap();

    let answer = bed
        .request(
            &provider_path,
            &out,
            &["--env", "sandbox", "GET", "crm/v8/Leads"],
        )
        .await;
    let body = ok_body(&answer);
    assert_eq!(body["data_center"], "eu");
    assert_eq!(body["environment"], "sandbox");
    let call = bed.sim.requests().pop().unwrap();
    assert_eq!(call.host, "sandbox.zohoapis.eu");
    // Production by default: the api_domain of the token answer.
    ok_body(
        &bed.request(&provider_path, &out, &["GET", "crm/v8/org"])
            .await,
    );
    assert_eq!(
        format!("https://{}", bed.sim.requests().pop().unwrap().host),
        ZOHO_DCS
            .iter()
            .find(|dc| dc.location == "eu")
            .unwrap()
            .api_domain
    );

    // Expired: refreshed at Europe's accounts server with the client secret first.
    expire(&out);
    let mut request = bed.command("request", &provider_path);
    request
        .arg("--tokens")
        .arg(&out)
        .args(["--env", "sandbox", "GET", "crm/v8/Leads"])
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    ok_body(&run(request, None).await);
    assert_eq!(bed.sim.count_at("accounts.zoho.eu", Endpoint::Refresh), 1);

    // Another data center than the tokens' is refused before anything is sent.
    let api_calls = bed.count(Endpoint::Api);
    let wrong = bed
        .request(&provider_path, &out, &["--dc", "us", "GET", "crm/v8/Leads"])
        .await;
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(bed.count(Endpoint::Api), api_calls);
}
