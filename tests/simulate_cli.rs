//! `provider-forge simulate` as a maintainer uses it: for every bundled provider in providers/,
//! a `simulate` process, then `connect` (loopback redirect; the authorization URL opened by an
//! HTTP client that follows the simulator's redirects), `refresh` and `revoke` through the real
//! binary, checked against the request log. Also faults, consent and the user's DC from the
//! command line, usage errors, `--help`, and a clean stop on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use provider_forge::resolve::ResolvedProvider;
use serde_json::Value;

use crate::support::cli::*;
use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The secret both sides read from the environment, shared or per DC.
fn with_secrets(command: &mut Command, provider: &ResolvedProvider) {
    command
        .env_remove("PROVIDER_FORGE_CLIENT_SECRET")
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    for dc in &provider.data_centers {
        let name = provider_forge::env_var::env_var_name(&dc.code);
        command.env(
            format!("PROVIDER_FORGE_CLIENT_SECRET_{name}"),
            per_dc_secret(&dc.code),
        );
    }
}

/// A temporary directory with the CA file, log file and token file of one session.
struct Session {
    dir: tempfile::TempDir,
    redirect_uri: String,
}

impl Session {
    fn new() -> Session {
        Session {
            dir: tempfile::tempdir().unwrap(),
            redirect_uri: format!("http://127.0.0.1:{}/callback", free_port()),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn simulate(&self, providers: &[&Path], extra: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("simulate")
            .args(providers)
            .arg("--ca-out")
            .arg(self.path("ca.pem"))
            .arg("--log")
            .arg(self.path("requests.jsonl"))
            .args(["--client-id", CLIENT_ID])
            .args(["--redirect-uri", &self.redirect_uri])
            .args(extra);
        command
    }

    /// `subcommand` for `provider`, pointed at `sim`.
    fn client(&self, subcommand: &str, provider: &Path, sim: &SimulateProcess) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(subcommand)
            .arg(provider)
            .arg("--ca-cert")
            .arg(self.path("ca.pem"));
        for entry in &sim.resolve {
            command.arg("--resolve").arg(entry);
        }
        command
    }

    fn connect(&self, provider: &Path, sim: &SimulateProcess) -> Command {
        let mut command = self.client("connect", provider, sim);
        command
            .args(["--client-id", CLIENT_ID, "--no-browser", "--timeout", "30"])
            .args(["--redirect-uri", &self.redirect_uri])
            .arg("--out")
            .arg(self.path("tokens.json"));
        command
    }

    fn with_tokens(&self, subcommand: &str, provider: &Path, sim: &SimulateProcess) -> Command {
        let mut command = self.client(subcommand, provider, sim);
        command.arg("--tokens").arg(self.path("tokens.json"));
        command
    }

    /// The request log: (host, endpoint, outcome) per line.
    fn log(&self) -> (String, Vec<(String, String, String)>) {
        let text = std::fs::read_to_string(self.path("requests.jsonl")).unwrap_or_default();
        let lines = text
            .lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line).unwrap();
                let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
                (field("host"), field("endpoint"), field("outcome"))
            })
            .collect();
        (text, lines)
    }

    /// Opens the authorization URL `connect` printed, follows the simulator's redirects to the
    /// loopback callback and opens that: returns the page `connect` answered with.
    async fn browse(&self, sim: &SimulateProcess, url: &str) -> String {
        let ca = std::fs::read(self.path("ca.pem")).unwrap();
        let browser = provider_forge::oauth::http_client(&sim.http_options(&ca, TIMEOUT)).unwrap();
        let callback = browse_to_callback(&browser, url, &self.redirect_uri).await;
        reqwest::get(&callback).await.unwrap().text().await.unwrap()
    }
}

/// The bundled providers the authorization-code flow serves.
fn bundled_providers() -> Vec<PathBuf> {
    oauth2_code_providers()
}

fn host_of(url: &str) -> String {
    url::Url::parse(url).unwrap().host_str().unwrap().to_owned()
}

/// `--param NAME=VALUE` for each connection parameter of `provider`, with the example its
/// definition gives (read from the resolved table, so a new provider needs nothing here).
fn example_params(provider: &ResolvedProvider) -> Vec<String> {
    provider
        .connection
        .params
        .iter()
        .flat_map(|(name, input)| {
            [
                "--param".to_owned(),
                format!("{name}={}", input.declared.example),
            ]
        })
        .collect()
}

/// connect → refresh → revoke → refresh (refused) for one provider, through the binaries, with
/// its connection parameters' examples as the connection's values.
async fn try_provider(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let unfilled = load_provider(&format!("providers/{name}"));
    let params = example_params(&unfilled);
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let values = unfilled
        .connection
        .params
        .iter()
        .map(|(name, input)| (name.clone(), input.declared.example.clone()))
        .collect();
    // The table a connection with these values uses: where connect must be sent, and by whom
    // its tokens must say they were issued.
    let provider = provider_forge::resolve::fill(&unfilled, &values).unwrap();
    let default_dc = provider.data_center(&provider.default_data_center).unwrap();
    let session = Session::new();
    let mut simulate = session.simulate(&[path], &params);
    with_secrets(&mut simulate, &provider);
    let sim = SimulateProcess::start(simulate).await;
    assert!(
        sim.resolve.iter().any(|r| r.starts_with(&format!(
            "{}:443:127.0.0.1:",
            host_of(&default_dc.token.as_ref().unwrap().token_url)
        ))),
        "{name}: {:?}",
        sim.resolve
    );

    let mut connect = session.connect(path, &sim);
    connect.args(&params);
    with_secrets(&mut connect, &provider);
    let (url, running) = Running::spawn(&mut connect).first_line().await;
    let page = session.browse(&sim, &url).await;
    assert!(page.contains("Connected to"), "{name}: {page}");
    let (connected, stderr, status) = running.finish(None).await;
    assert!(status.success(), "{name}: {stderr}");
    let stored = read_json(&session.path("tokens.json"));
    assert_eq!(stored["data_center"], default_dc.code.as_str(), "{name}");
    assert_eq!(
        stored["issuer"],
        default_dc.authorization.as_ref().unwrap().issuer.as_str(),
        "{name}"
    );
    if provider
        .token
        .as_ref()
        .unwrap()
        .token_response_metadata
        .iter()
        .any(|m| m == "api_domain")
    {
        assert_eq!(
            stored["api_domain"], default_dc.api_base_urls["production"],
            "{name}"
        );
    }
    // Values learnt from the token answer are kept with the connection (and must pass their
    // declaration again when refresh fills them in).
    for (runtime, input) in &provider.connection.runtime {
        if input.declared.from == provider_forge::definition::RuntimeSource::TokenResponse {
            assert!(stored[runtime].is_string(), "{name}: {runtime} in {stored}");
        }
    }
    let first_access = stored["access_token"].as_str().unwrap().to_owned();

    let mut refresh = session.with_tokens("refresh", path, &sim);
    refresh.args(&params);
    with_secrets(&mut refresh, &provider);
    let refreshed = run(refresh, None).await;
    assert!(
        refreshed.status.success(),
        "{name}: {}",
        text(&refreshed.stderr)
    );
    let stored = read_json(&session.path("tokens.json"));
    assert_ne!(stored["access_token"].as_str().unwrap(), first_access);

    // `revoke` deletes the token file; a copy shows that the revoked token is dead at the server.
    let kept = session.path("tokens.kept.json");
    std::fs::copy(session.path("tokens.json"), &kept).unwrap();
    let mut revoke = session.with_tokens("revoke", path, &sim);
    revoke.args(&params);
    with_secrets(&mut revoke, &provider);
    let revoked = run(revoke, None).await;
    if provider.token.as_ref().unwrap().revoke.is_some() && revoked.status.success() {
        assert!(
            !session.path("tokens.json").exists(),
            "{name}: revoke deletes the token file"
        );
        std::fs::copy(&kept, session.path("tokens.json")).unwrap();
    }
    let mut refresh = session.with_tokens("refresh", path, &sim);
    refresh.args(&params);
    with_secrets(&mut refresh, &provider);
    let after = run(refresh, None).await;
    let mut outputs = vec![
        connected,
        stderr,
        text(&refreshed.stdout),
        text(&refreshed.stderr),
        text(&revoked.stdout),
        text(&revoked.stderr),
    ];
    match &provider.token.as_ref().unwrap().revoke {
        Some(_) => {
            assert!(
                revoked.status.success(),
                "{name}: {}",
                text(&revoked.stderr)
            );
            // The revoked refresh token no longer refreshes.
            assert_eq!(after.status.code(), Some(1), "{name}");
            assert!(
                text(&after.stderr).contains("`invalid_grant`"),
                "{name}: {}",
                text(&after.stderr)
            );
        }
        None => {
            assert_eq!(revoked.status.code(), Some(1), "{name}");
            assert!(text(&revoked.stderr).contains("does not support token revocation"));
        }
    }
    outputs.push(text(&after.stderr));

    // The log: the user's browser at the authorization endpoint, then exactly one code
    // exchange, at the default DC's token host.
    let (log, lines) = session.log();
    let endpoints: Vec<&str> = lines
        .iter()
        .map(|(_, endpoint, _)| endpoint.as_str())
        .filter(|e| *e != "authorize")
        .collect();
    let expected: &[&str] = match provider.token.as_ref().unwrap().revoke {
        Some(_) => &["token", "refresh", "revoke", "refresh"],
        None => &["token", "refresh", "refresh"],
    };
    assert_eq!(endpoints, expected, "{name}: {log}");
    let exchange = lines.iter().find(|(_, e, _)| e == "token").unwrap();
    assert_eq!(
        exchange.0,
        host_of(&default_dc.token.as_ref().unwrap().token_url),
        "{name}"
    );
    assert!(exchange.2.starts_with("tokens issued"), "{name}: {log}");

    let mut secrets = vec![SHARED_SECRET.to_owned(), first_access];
    for field in ["access_token", "refresh_token"] {
        if let Some(token) = stored[field].as_str() {
            secrets.push(token.to_owned());
        }
    }
    assert_no_secret(&format!("{name} request log"), &log, &secrets);
    for output in outputs {
        assert_no_secret(&format!("{name} output"), &output, &secrets);
    }
    let (status, _) = sim.terminate();
    assert!(
        status.success(),
        "{name}: simulate stops cleanly on SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundled_provider_connects_refreshes_and_revokes_against_simulate() {
    let providers = bundled_providers();
    let names: Vec<String> = providers
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // The ones with values per connection are among them, not skipped.
    for needed in [
        "gitlab.yaml",
        "zoho-crm.yaml",
        "salesforce.yaml",
        "microsoft.yaml",
        "shopify.yaml",
    ] {
        assert!(
            names.iter().any(|name| name == needed),
            "{needed}: {names:?}"
        );
    }
    for path in &providers {
        try_provider(path).await;
    }
}

const ZOHO_CRM: &str = "providers/zoho-crm.yaml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_consent_and_the_users_dc_come_from_the_command_line() {
    let provider = load_provider(ZOHO_CRM);
    let path = repo_path(ZOHO_CRM);
    let session = Session::new();
    let mut simulate = session.simulate(
        &[&path],
        &[
            "--user-dc",
            "eu",
            "--fault",
            "error-with-200",
            "--fault",
            "rate-limit-after:1",
        ],
    );
    with_secrets(&mut simulate, &provider);
    let sim = SimulateProcess::start(simulate).await;
    // Every Zoho accounts server, each once, and the API hosts of the three environments
    // (www, sandbox, developer) of each of the nine data centers.
    let accounts = sim
        .resolve
        .iter()
        .filter(|entry| entry.starts_with("accounts."))
        .count();
    assert_eq!(accounts, 9, "{:?}", sim.resolve);
    assert_eq!(sim.resolve.len(), 9 + 3 * 9, "{:?}", sim.resolve);
    assert!(
        sim.resolve
            .iter()
            .any(|e| e.starts_with("sandbox.zohoapis.eu:443:"))
    );

    let mut connect = session.connect(&path, &sim);
    with_secrets(&mut connect, &provider);
    let (url, running) = Running::spawn(&mut connect).first_line().await;
    assert!(url.starts_with("https://accounts.zoho.com/"), "{url}");
    session.browse(&sim, &url).await;
    let (rest, stderr, status) = running.finish(None).await;
    assert!(status.success(), "{stderr}");
    assert!(rest.contains("data center eu (Europe)"), "{rest}");

    let refresh = || {
        let mut command = session.with_tokens("refresh", &path, &sim);
        with_secrets(&mut command, &provider);
        run_command(command)
    };
    assert!(refresh().await.status.success());
    let throttled = refresh().await;
    assert_eq!(throttled.status.code(), Some(1));
    assert!(
        text(&throttled.stderr).contains("the refresh endpoint is rate limiting this client"),
        "{}",
        text(&throttled.stderr)
    );
    let (_, lines) = session.log();
    assert_eq!(
        lines.last().unwrap(),
        &(
            "accounts.zoho.eu".to_owned(),
            "refresh".to_owned(),
            "fault: rate-limit-after:1".to_owned()
        )
    );
}

async fn run_command(command: Command) -> std::process::Output {
    run(command, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_denies_consent_fails_connect_with_exit_1() {
    let path = repo_path("providers/gitlab.yaml");
    let provider = load_provider("providers/gitlab.yaml");
    let session = Session::new();
    let mut simulate = session.simulate(&[&path], &["--consent", "deny"]);
    with_secrets(&mut simulate, &provider);
    let sim = SimulateProcess::start(simulate).await;
    let mut connect = session.connect(&path, &sim);
    with_secrets(&mut connect, &provider);
    let (url, running) = Running::spawn(&mut connect).first_line().await;
    let page = session.browse(&sim, &url).await;
    assert!(page.contains("the user denied access"), "{page}");
    let (_, stderr, status) = running.finish(None).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the user denied access"), "{stderr}");
    assert!(!session.path("tokens.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_invalid_definitions_exit_1() {
    let session = Session::new();
    let gitlab = repo_path("providers/gitlab.yaml");
    let cases: [(Vec<String>, bool, i32, &str); 4] = [
        (
            vec!["--fault".into(), "explode".into()],
            true,
            2,
            "unknown fault `explode`",
        ),
        (
            vec!["--user-dc".into(), "mars".into()],
            true,
            2,
            "data center `mars` is not enabled",
        ),
        (
            vec![],
            false,
            2,
            "no client secret: set PROVIDER_FORGE_CLIENT_SECRET",
        ),
        (
            vec![
                repo_path("tests/corpus/invalid/unknown-token-auth-method.yaml")
                    .display()
                    .to_string(),
            ],
            true,
            1,
            "unknown-token-auth-method.yaml:",
        ),
    ];
    for (extra, secret, code, message) in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let mut command = session.simulate(&[&gitlab], &extra);
        command.env_remove("PROVIDER_FORGE_CLIENT_SECRET");
        if secret {
            command.env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
        }
        let output = run_command(command).await;
        assert_eq!(output.status.code(), Some(code), "{extra:?}");
        assert!(
            text(&output.stderr).contains(message),
            "{extra:?}: {}",
            text(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "no `ready` after an error");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn param_values_pick_the_hosts_served_and_a_missing_one_exits_2() {
    let path = repo_path("providers/shopify.yaml");
    let provider = load_provider("providers/shopify.yaml");
    let session = Session::new();
    let mut simulate = session.simulate(&[&path], &["--param", "subdomain=acme"]);
    with_secrets(&mut simulate, &provider);
    let sim = SimulateProcess::start(simulate).await;
    assert_eq!(sim.resolve.len(), 1, "{:?}", sim.resolve);
    assert!(
        sim.resolve[0].starts_with("acme.myshopify.com:443:127.0.0.1:"),
        "{:?}",
        sim.resolve
    );
    let (status, _) = sim.terminate();
    assert!(status.success());

    for (extra, message) in [
        (
            &[][..],
            "needs connection parameter `subdomain`, a value matching `^[a-z0-9][a-z0-9-]{0,62}$`",
        ),
        (
            &["--param", "subdomain=evil.com/x"][..],
            "connection value `subdomain` is refused",
        ),
        (
            &["--param", "subdomain=a", "--param", "subdomain=b"][..],
            "--param subdomain is given twice",
        ),
        (
            &["--param", "subdomain=acme", "--param", "tenant=x"][..],
            "no simulated provider declares connection value `tenant`",
        ),
    ] {
        let mut command = session.simulate(&[&path], extra);
        with_secrets(&mut command, &provider);
        let output = run_command(command).await;
        assert_eq!(output.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&output.stderr).contains(message),
            "{extra:?}: {}",
            text(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "no `ready` after an error");
    }
}

#[test]
fn help_explains_the_command_its_faults_environment_and_exit_codes() {
    let output = Command::new(BIN)
        .args(["simulate", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = text(&output.stdout);
    for needle in [
        "--ca-out <FILE>",
        "--user-dc <CODE>",
        "--consent <CHOICE>",
        "--fault <NAME[:ARG]>",
        "--log <FILE>",
        "--param <NAME=VALUE>",
        "rate-limit-after:N",
        "PROVIDER_FORGE_CLIENT_SECRET_<CODE>",
        "--resolve HOST:443:ADDR",
        "Exit codes: 0 stopped by a signal, 1 invalid definition, 2 usage or I/O error.",
    ] {
        assert!(help.contains(needle), "missing {needle}:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_accepts_the_credentials_it_is_given_and_plays_the_api_with_its_faults() {
    const KEY: &str = "sk-test-simulate-cli-91c2";
    let path = repo_path("tests/fixtures/auth/api-key.yaml");
    let session = Session::new();
    let mut simulate = session.simulate(&[&path], &["--fault", "api-429-once"]);
    simulate.env("PROVIDER_FORGE_CREDENTIAL_APIKEY", KEY);
    let sim = SimulateProcess::start(simulate).await;
    assert!(
        sim.resolve
            .iter()
            .any(|r| r.starts_with("api.keyed.test:443:127.0.0.1:")),
        "{:?}",
        sim.resolve
    );
    let out = session.path("tokens.json");
    let connect = |key: &str| {
        let creds = session.path("creds");
        std::fs::write(&creds, format!("apiKey={key}\n")).unwrap();
        let mut command = session.client("connect", &path, &sim);
        command
            .env_remove("PROVIDER_FORGE_CREDENTIAL_APIKEY")
            .arg("--credentials-file")
            .arg(&creds)
            .arg("--out")
            .arg(&out);
        command
    };
    // The fault is for API calls: the verification of the wrong key meets it first.
    let limited = run_command(connect("sk-test-another-key")).await;
    assert_eq!(limited.status.code(), Some(1));
    assert!(
        text(&limited.stderr).contains("HTTP 429"),
        "{}",
        text(&limited.stderr)
    );
    let wrong = run_command(connect("sk-test-another-key")).await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stderr).contains("HTTP 401"),
        "{}",
        text(&wrong.stderr)
    );
    assert!(!out.exists());
    let right = run_command(connect(KEY)).await;
    assert!(right.status.success(), "{}", text(&right.stderr));

    let mut request = session.with_tokens("request", &path, &sim);
    request.args(["GET", "v1/models"]);
    let answer = run_command(request).await;
    assert!(answer.status.success(), "{}", text(&answer.stderr));
    let body: Value = serde_json::from_slice(&answer.stdout).unwrap();
    assert_eq!(body["path"], "/v1/models");
    let (log, lines) = session.log();
    let outcomes: Vec<&str> = lines
        .iter()
        .filter(|(_, endpoint, _)| endpoint == "api")
        .map(|(_, _, outcome)| outcome.as_str())
        .collect();
    assert_eq!(outcomes.len(), 4, "{log}");
    assert_eq!(outcomes[0], "fault: api-429-once");
    assert!(outcomes[1].starts_with("api 401"), "{log}");
    assert!(!log.contains(KEY), "the log never holds a credential");
    let (status, _) = sim.terminate();
    assert!(status.success());
}
