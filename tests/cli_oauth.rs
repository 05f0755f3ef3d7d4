//! `connect`, `refresh` and `revoke` through the real binary, against the simulator: the
//! loopback listener (driven by a scripted browser), the paste path on stdin, per-DC secrets
//! from the environment, the token file (0600, standard field names), and no secret on
//! stdout or stderr.

mod auth_modes;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::cli::*;
use crate::support::*;

struct Cli {
    sim: Simulator,
    dir: tempfile::TempDir,
    ca: PathBuf,
}

impl Cli {
    async fn start(setup: Setup) -> Cli {
        let sim = start(setup).await;
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, sim.ca_pem()).unwrap();
        Cli { sim, dir, ca }
    }

    /// Zoho CRM's server with the shared-secret client.
    async fn zoho(user_location: &str) -> Cli {
        Cli::start(Setup {
            user_data_center: Some(user_location.to_owned()),
            ..setup(vec![load_provider("providers/zoho-crm.yaml")])
        })
        .await
    }

    /// The command with the simulator's --resolve and --ca-cert options and a clean env.
    fn command(&self, subcommand: &str, provider: &Path) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg(subcommand)
            .arg(provider)
            .arg("--ca-cert")
            .arg(&self.ca)
            .env_remove("PROVIDER_FORGE_CLIENT_SECRET");
        for entry in self.sim.resolve_args() {
            command.arg("--resolve").arg(entry);
        }
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn secrets_of(sim: &Simulator, extra: &[String]) -> Vec<String> {
    let mut secrets = sim.issued_secrets();
    secrets.extend_from_slice(extra);
    secrets
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refresh_revoke_through_the_loopback_listener() {
    let port = free_port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let cli = Cli::start(Setup {
        redirect_uris: vec![redirect_uri.clone()],
        user_data_center: Some("eu".into()),
        ..setup(vec![load_provider("providers/zoho-crm.yaml")])
    })
    .await;
    let provider = repo_path("providers/zoho-crm.yaml");
    let tokens_file = cli.path("zoho.tokens.json");

    let mut connect = cli.command("connect", &provider);
    connect
        .args(["--client-id", CLIENT_ID, "--no-browser", "--timeout", "60"])
        .args(["--redirect-uri", &redirect_uri])
        .args([
            "--scope",
            "ZohoCRM.modules.leads.ALL",
            "--scope",
            "ZohoCRM.users.READ",
        ])
        .arg("--out")
        .arg(&tokens_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let (first_line, running) = Running::spawn(&mut connect).first_line().await;
    // --no-browser: the URL alone on the first line.
    let url = first_line.as_str();
    assert!(
        url.starts_with("https://accounts.zoho.com/oauth/v2/auth?"),
        "{url}"
    );

    // The scripted browser: through the simulator to the loopback callback, then opens it.
    let browser =
        provider_forge::oauth::http_client(&cli.sim.http_options(Duration::from_secs(10))).unwrap();
    let callback = browse_to_callback(&browser, url, &redirect_uri).await;
    let page = reqwest::get(&callback).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Connected to Zoho CRM.")
    );

    let (rest, stderr, status) = running.finish(None).await;
    assert!(status.success(), "{stderr}");
    assert!(rest.contains("data center eu (Europe)"), "{rest}");
    assert!(
        rest.contains("api_domain: https://www.zohoapis.eu"),
        "{rest}"
    );
    assert_eq!(cli.sim.count_at("accounts.zoho.eu", Endpoint::Token), 1);

    assert_eq!(mode(&tokens_file), 0o600);
    let stored = read_json(&tokens_file);
    let first_refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    let first_access = stored["access_token"].as_str().unwrap().to_owned();
    assert_eq!(stored["token_type"], "Bearer");
    assert_eq!(stored["data_center"], "eu");
    assert_eq!(stored["issuer"], "https://accounts.zoho.eu");
    assert_eq!(stored["api_domain"], "https://www.zohoapis.eu");
    assert_eq!(
        stored["scope"],
        "ZohoCRM.modules.leads.ALL,ZohoCRM.users.READ"
    );
    assert!(stored["expires_at"].as_u64().is_some());
    assert!(cli.sim.issued_secrets().contains(&first_access));

    // refresh: new access token, same refresh token, file still 0600.
    let mut refresh = cli.command("refresh", &provider);
    refresh
        .arg("--tokens")
        .arg(&tokens_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let refreshed = run(refresh, None).await;
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    let stored = read_json(&tokens_file);
    assert_ne!(stored["access_token"].as_str().unwrap(), first_access);
    assert_eq!(stored["refresh_token"].as_str().unwrap(), first_refresh);
    assert_eq!(mode(&tokens_file), 0o600);
    assert_eq!(cli.sim.count_at("accounts.zoho.eu", Endpoint::Refresh), 1);

    // revoke: Zoho needs no secret, and none is in the environment.
    let revoke = cli.command("revoke", &provider);
    let mut revoke = revoke;
    revoke.arg("--tokens").arg(&tokens_file);
    let revoked = run(revoke, None).await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(cli.sim.is_revoked(&first_refresh));

    let secrets = secrets_of(&cli.sim, &[SHARED_SECRET.to_owned()]);
    for (what, output) in [
        ("connect stdout", first_line + &rest),
        ("connect stderr", stderr),
        ("refresh stdout", text(&refreshed.stdout)),
        ("refresh stderr", text(&refreshed.stderr)),
        ("revoke stdout", text(&revoked.stdout)),
        ("revoke stderr", text(&revoked.stderr)),
    ] {
        assert_no_secret(what, &output, &secrets);
    }
}

/// Zoho CRM with per-DC secrets, written to a temporary provider file.
fn per_dc_provider(dir: &Path) -> PathBuf {
    let path = dir.join("zoho-crm.yaml");
    std::fs::write(&path, zoho_per_dc_text()).unwrap();
    // The provider uses the shared Zoho data-center set, found beside it.
    let sets = dir.join("data-centers");
    std::fs::create_dir_all(&sets).unwrap();
    std::fs::copy(
        repo_path("providers/data-centers/zoho.yaml"),
        sets.join("zoho.yaml"),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_takes_a_pasted_callback_and_per_dc_secrets_from_the_environment() {
    let cli = Cli::start(Setup {
        credentials: per_dc_credentials(),
        user_data_center: Some("ca".into()),
        ..setup(vec![zoho_per_dc()])
    })
    .await;
    let provider = per_dc_provider(cli.dir.path());
    let tokens_file = cli.path("out.json");
    // The flow has to start before the callback exists: ask for the URL first, then
    // paste what the browser landed on. Here, a first run prints the URL ...
    let pending_url = {
        let mut connect = cli.command("connect", &provider);
        connect
            .args(["--client-id", CLIENT_ID, "--no-browser", "--timeout", "60"])
            .arg("--out")
            .arg(&tokens_file);
        for dc in ZOHO_DCS {
            let name = format!(
                "PROVIDER_FORGE_CLIENT_SECRET_{}",
                dc.location.to_uppercase()
            );
            connect.env(name, per_dc_secret(dc.location));
        }
        Running::spawn(&mut connect).first_line().await
    };
    let (url, running) = pending_url;
    let browser =
        provider_forge::oauth::http_client(&cli.sim.http_options(Duration::from_secs(10))).unwrap();
    // ... the user consents, lands on the (non-loopback) redirect URI, and pastes it.
    let callback = browse_to_callback(&browser, &url, REDIRECT_URI).await;
    let (rest, stderr, status) = running.finish(Some(callback)).await;
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("paste the URL"), "{stderr}");
    assert!(rest.contains("data center ca (Canada), issuer https://accounts.zohocloud.ca"));
    // Canada's own secret went to Canada's accounts server.
    let exchange = cli
        .sim
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::Token)
        .unwrap();
    assert_eq!(exchange.host, "accounts.zohocloud.ca");
    assert_eq!(
        exchange.param("client_secret"),
        Some(per_dc_secret("ca").as_str())
    );
    let stored = read_json(&tokens_file);
    assert_eq!(stored["api_domain"], "https://www.zohoapis.ca");
    let mut secrets: Vec<String> = ZOHO_DCS.iter().map(|d| per_dc_secret(d.location)).collect();
    secrets.extend(cli.sim.issued_secrets());
    assert_no_secret("stdout", &rest, &secrets);
    assert_no_secret("stderr", &stderr, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_pasted_callback_fails_with_exit_1_and_no_token_request() {
    let cli = Cli::zoho("eu").await;
    let provider = repo_path("providers/zoho-crm.yaml");
    let tokens_file = cli.path("never.json");
    let mut connect = cli.command("connect", &provider);
    connect
        .args(["--client-id", CLIENT_ID, "--no-browser"])
        .arg("--out")
        .arg(&tokens_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let (line, running) = Running::spawn(&mut connect).first_line().await;
    let browser =
        provider_forge::oauth::http_client(&cli.sim.http_options(Duration::from_secs(10))).unwrap();
    let callback = browse_to_callback(&browser, &line, REDIRECT_URI).await;
    let spoofed = with_param(
        &callback,
        "accounts-server",
        "https://accounts.evil.example",
    );
    let (_, stderr, status) = running.finish(Some(spoofed)).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refusing the callback"), "{stderr}");
    assert_eq!(cli.sim.count(Endpoint::Token), 0);
    assert!(!tokens_file.exists());
    assert_no_secret(
        "stderr",
        &stderr,
        &secrets_of(&cli.sim, &[SHARED_SECRET.into()]),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_without_a_secret_is_a_usage_error() {
    let cli = Cli::zoho("us").await;
    let mut connect = cli.command("connect", &repo_path("providers/zoho-crm.yaml"));
    connect.args(["--client-id", CLIENT_ID, "--no-browser"]);
    let output = run(connect, None).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no client secret: set PROVIDER_FORGE_CLIENT_SECRET"),
        "{}",
        text(&output.stderr)
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_gives_up_after_its_timeout() {
    let cli = Cli::zoho("us").await;
    let port = free_port();
    let mut connect = cli.command("connect", &repo_path("providers/zoho-crm.yaml"));
    connect
        .args(["--client-id", CLIENT_ID, "--no-browser", "--timeout", "1"])
        .args(["--redirect-uri", &format!("http://127.0.0.1:{port}/cb")])
        .arg("--out")
        .arg(cli.path("t.json"))
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let output = run(connect, None).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("no callback within 1 s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refuses_an_output_file_in_a_missing_directory_before_the_flow() {
    let cli = Cli::zoho("us").await;
    let mut connect = cli.command("connect", &repo_path("providers/zoho-crm.yaml"));
    connect
        .args(["--client-id", CLIENT_ID, "--no-browser"])
        .arg("--out")
        .arg(cli.path("missing/tokens.json"))
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let output = run(connect, None).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("does not exist"));
    assert!(output.stdout.is_empty(), "no URL before the check");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_refuses_tokens_of_another_provider_or_issuer() {
    let cli = Cli::start(setup(vec![
        load_provider("providers/zoho-crm.yaml"),
        load_provider(FIXTURE_GENERIC),
    ]))
    .await;
    let tokens_file = cli.path("tokens.json");
    let file = |provider: &str, issuer: &str| {
        serde_json::json!({
            "provider": provider, "client_id": CLIENT_ID, "access_token": "file-at",
            "refresh_token": "file-rt", "data_center": "eu", "issuer": issuer,
        })
        .to_string()
    };
    std::fs::write(&tokens_file, file("zoho-crm", "https://accounts.zoho.eu")).unwrap();
    // Token files must be private (refused otherwise); the rewrite below keeps this mode.
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
    std::fs::set_permissions(&tokens_file, private).unwrap();
    let mut refresh = cli.command("refresh", &repo_path(FIXTURE_GENERIC));
    refresh
        .arg("--tokens")
        .arg(&tokens_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let output = run(refresh, None).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("holds tokens of provider `zoho-crm`, not `generic-idp`")
    );

    // A file claiming an issuer the table does not have for its DC: nothing is sent.
    std::fs::write(
        &tokens_file,
        file("zoho-crm", "https://accounts.evil.example"),
    )
    .unwrap();
    let mut refresh = cli.command("refresh", &repo_path("providers/zoho-crm.yaml"));
    refresh
        .arg("--tokens")
        .arg(&tokens_file)
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let output = run(refresh, None).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("connect again"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(cli.sim.count(Endpoint::Refresh), 0);
    assert_no_secret(
        "stderr",
        &text(&output.stderr),
        &["file-rt".into(), "file-at".into()],
    );
}

const FIXTURE_GENERIC: &str = GENERIC_FIXTURE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_error_description_reaches_the_terminal_escaped() {
    let cli = Cli::zoho("eu").await;
    let provider = repo_path("providers/zoho-crm.yaml");
    let mut connect = cli.command("connect", &provider);
    connect
        .args(["--client-id", CLIENT_ID, "--no-browser"])
        .arg("--out")
        .arg(cli.path("never.json"))
        .env("PROVIDER_FORGE_CLIENT_SECRET", SHARED_SECRET);
    let (line, running) = Running::spawn(&mut connect).first_line().await;
    let browser =
        provider_forge::oauth::http_client(&cli.sim.http_options(Duration::from_secs(10))).unwrap();
    let callback = browse_to_callback(&browser, &line, REDIRECT_URI).await;
    let denied = with_param(
        &with_param(&callback, "error", "access_denied"),
        "error_description",
        "no\u{1b}[2J\u{1b}]0;owned\u{7}\nprovider-forge: error: forged\u{202e}",
    );
    let (_, stderr, status) = running.finish(Some(denied)).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("denied access"), "{stderr}");
    assert!(
        stderr.contains("no\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\nprovider-forge: error: forged"),
        "{stderr:?}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    assert!(
        !stderr
            .lines()
            .any(|line| line.starts_with("provider-forge: error: forged")),
        "a description cannot forge an error line: {stderr}"
    );
}
