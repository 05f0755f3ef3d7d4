//! Glue for the service tests: a database per test (SQLite file or a fresh PostgreSQL
//! database, dropped afterwards), `provider-forge serve` processes pointed at the project's
//! simulator, and a platform-side HTTP client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::Connection;

use super::cli::BIN;
use super::{
    CLIENT_ID, Consent, Fault, REDIRECT_URI, SHARED_SECRET, Setup, Simulator, browse_to_callback,
    load_provider_text, repo_path,
};

/// The API key every instance is started with.
pub const API_KEY: &str = "test-api-key-0123456789abcdef";
/// The scrape-only key of `/metrics` every instance is started with.
pub const METRICS_KEY: &str = "test-metrics-key-0123456789abcdef";
/// The webhook signing secret every instance is started with (used with `--webhook-url`).
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789";
/// Environment variable the clients file names for the client secret.
const SECRET_VAR: &str = "PF_SERVICE_TEST_CLIENT_SECRET";
const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a test runs on.
pub enum Backend {
    Sqlite { url: String, file: PathBuf },
    Postgres { url: String, name: String },
}

impl Backend {
    pub fn sqlite(dir: &Path) -> Backend {
        let file = dir.join("forge.db");
        Backend::Sqlite {
            url: format!("sqlite://{}", file.display()),
            file,
        }
    }

    /// A fresh database on the project's PostgreSQL; `None` after a loud SKIPPED line when no
    /// server answers outside CI. Under CI=true a missing server fails the test.
    pub async fn postgres(test: &str) -> Option<Backend> {
        let mut admin = match sqlx::PgConnection::connect(POSTGRES_ADMIN).await {
            Ok(admin) => admin,
            Err(error) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{test}: PostgreSQL at 127.0.0.1:5432 is required under CI: {error}");
                }
                eprintln!(
                    "\n*** SKIPPED: {test} on PostgreSQL: no server at 127.0.0.1:5432 ({error}) ***\n"
                );
                return None;
            }
        };
        let name = format!("pf_service_{}", rand::random::<u64>());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        Some(Backend::Postgres {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            Backend::Sqlite { url, .. } | Backend::Postgres { url, .. } => url,
        }
    }

    /// Runs one statement directly on the database (to age a row, as time would).
    pub async fn execute(&self, statement: &str) {
        match self {
            Backend::Sqlite { url, .. } => {
                let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query(statement).execute(&mut db).await.unwrap();
            }
            Backend::Postgres { url, .. } => {
                let mut db = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(statement).execute(&mut db).await.unwrap();
            }
        }
    }

    /// The first column of the first row of a query, as an integer (`SELECT count(*) ...`).
    pub async fn query_count(&self, statement: &str) -> i64 {
        match self {
            Backend::Sqlite { url, .. } => {
                let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query_scalar(statement)
                    .fetch_one(&mut db)
                    .await
                    .unwrap()
            }
            Backend::Postgres { url, .. } => {
                let mut db = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(statement)
                    .fetch_one(&mut db)
                    .await
                    .unwrap()
            }
        }
    }

    /// Asserts that no `secret` is stored in clear: on SQLite, in no byte of the database
    /// file, its WAL or its shared memory; on PostgreSQL, in no column of any row of the
    /// service's tables (text as written, sealed bytes as stored).
    pub async fn assert_no_secret_at_rest(&self, secrets: &[String]) {
        assert!(!secrets.is_empty(), "nothing to look for");
        match self {
            Backend::Sqlite { file, .. } => {
                let mut scanned = 0;
                for entry in std::fs::read_dir(file.parent().unwrap()).unwrap() {
                    let path = entry.unwrap().path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    // The database, its WAL and shared-memory files.
                    if name.starts_with("forge.db") {
                        let bytes = std::fs::read(&path).unwrap();
                        for secret in secrets {
                            assert!(
                                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                                "{name} holds a secret in clear"
                            );
                        }
                        scanned += 1;
                    }
                }
                assert!(scanned >= 2, "the database and its WAL");
            }
            Backend::Postgres { .. } => {
                for secret in secrets {
                    assert!(!secret.contains('\''), "a test secret is written into SQL");
                    for (table, sealed) in [
                        ("connections", true),
                        ("pending_authorizations", true),
                        ("webhook_outbox", false),
                    ] {
                        let bytes = if sealed {
                            format!(" OR position(convert_to('{secret}', 'UTF8') in t.sealed) > 0")
                        } else {
                            String::new()
                        };
                        let rows = self
                            .query_count(&format!(
                                "SELECT count(*) FROM {table} t WHERE strpos(t::text, '{secret}') > 0{bytes}"
                            ))
                            .await;
                        assert_eq!(rows, 0, "{table} holds a secret in clear");
                    }
                }
            }
        }
    }

    /// Drops the PostgreSQL database (forcing its sessions closed).
    pub async fn drop_database(&self) {
        if let Backend::Postgres { name, .. } = self {
            let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

/// A simulator for Zoho CRM (Zoho's dialect, the user in the EU) and GitLab, plus the files
/// `serve` needs to reach it.
pub struct World {
    pub sim: Simulator,
    /// The engine's client, trusting the simulator (plays the user's browser).
    pub browser: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    ca_file: PathBuf,
    pub clients_file: PathBuf,
    /// The directory of definitions `serve` loads.
    pub providers: PathBuf,
}

impl World {
    /// `backend` is built from the world's directory for SQLite.
    pub async fn start(backend: Option<Backend>) -> World {
        World::start_with(backend, &["zoho-crm", "gitlab"], |setup| {
            setup.user_data_center = Some("eu".into());
            setup.faults = vec![Fault::ErrorWith200];
        })
        .await
    }

    /// A world serving the bundled providers `ids` (each with a client in the clients file),
    /// the simulator's setup adjusted by `adjust` (user's data center, faults, the one
    /// connection's values).
    pub async fn start_with(
        backend: Option<Backend>,
        ids: &[&str],
        adjust: impl FnOnce(&mut Setup),
    ) -> World {
        let definitions = ids
            .iter()
            .map(|id| {
                let path = repo_path(format!("providers/{id}.yaml"));
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect::<Vec<_>>();
        let mut world = World::start_definitions(backend, &definitions, ids, adjust).await;
        world.providers = repo_path("providers");
        world
    }

    /// A world serving the definitions given as (file name, text), written to a directory of
    /// their own that `serve` loads; the providers `clients` have a client in the clients
    /// file (a `client_credentials` provider left out connects only with its own client).
    pub async fn start_definitions(
        backend: Option<Backend>,
        definitions: &[(PathBuf, String)],
        clients: &[&str],
        adjust: impl FnOnce(&mut Setup),
    ) -> World {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend.unwrap_or_else(|| Backend::sqlite(dir.path()));
        let providers_dir = dir.path().join("definitions");
        std::fs::create_dir(&providers_dir).unwrap();
        let providers = definitions
            .iter()
            .map(|(path, text)| {
                std::fs::write(providers_dir.join(path.file_name().unwrap()), text).unwrap();
                load_provider_text(path, text)
            })
            .collect();
        let mut setup = Setup {
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            consent: Consent::Allow,
            ..Setup::new(providers, super::shared_credentials())
        };
        adjust(&mut setup);
        let sim = Simulator::start(setup).await.expect("simulator starts");
        let browser =
            provider_forge::oauth::http_client(&sim.http_options(Duration::from_secs(10))).unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, sim.ca_pem()).unwrap();
        let clients_file = dir.path().join("clients.yaml");
        let clients: String = clients
            .iter()
            .map(|id| {
                format!(
                    "{id}:\n  client_id: {CLIENT_ID}\n  client_secret_env: {SECRET_VAR}\n  redirect_uri: {REDIRECT_URI}\n"
                )
            })
            .collect();
        std::fs::write(&clients_file, clients).unwrap();
        World {
            sim,
            browser,
            dir,
            backend,
            ca_file,
            clients_file,
            providers: providers_dir,
        }
    }

    /// The `serve` command line for this world (without starting it).
    pub fn serve_command(&self, extra: &[&str]) -> Command {
        self.serve_command_from(&self.providers, &self.clients_file, extra)
    }

    /// The `serve` command line with other providers and clients files.
    pub fn serve_command_from(&self, providers: &Path, clients: &Path, extra: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--providers")
            .arg(providers)
            .arg("--clients")
            .arg(clients)
            .args(["--listen", "127.0.0.1:0", "--database", self.backend.url()])
            .arg("--ca-cert")
            .arg(&self.ca_file)
            .args(extra)
            .env(SECRET_VAR, SHARED_SECRET)
            .env("PROVIDER_FORGE_SECRET_KEY", API_KEY)
            .env("PROVIDER_FORGE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("PROVIDER_FORGE_METRICS_KEY", METRICS_KEY)
            .env(
                "PROVIDER_FORGE_ENCRYPTION_KEY",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            )
            .env("RUST_LOG", "info");
        for entry in self.sim.resolve_args() {
            command.arg("--resolve").arg(entry);
        }
        command
    }

    /// Starts a `serve` instance on this world's database; its log goes to `log-N.txt`.
    pub fn instance(&self, extra: &[&str]) -> Instance {
        let log = self
            .dir
            .path()
            .join(format!("log-{}.txt", rand::random::<u32>()));
        let mut child = self
            .serve_command(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("provider-forge serve: listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "serve did not start: {line:?}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_owned();
        Instance {
            child,
            base,
            log,
            api: reqwest::Client::new(),
        }
    }

    /// Every secret the provider issued (codes, tokens) and the client secret.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = self.sim.issued_secrets();
        secrets.push(SHARED_SECRET.to_owned());
        secrets
    }

    pub async fn finish(self) {
        self.backend.drop_database().await;
    }
}

/// A running `serve` process.
pub struct Instance {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    pub api: reqwest::Client,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status once the process ended, or `None` if it still runs after
    /// `within`.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address the instance listens on (`127.0.0.1:PORT`).
    pub fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with the API key; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .api
            .get(self.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let response = self
            .api
            .delete(self.url(path))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// POST /connect/sessions; returns status and JSON body.
    pub async fn start_session(&self, body: Value) -> (u16, Value) {
        let response = self
            .api
            .post(self.url("/connect/sessions"))
            .bearer_auth(API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Hands a callback URL (as the provider redirected to it) to the service, as a reverse
    /// proxy at the registered redirect URI would; returns status and the HTML page.
    pub async fn deliver_callback(&self, callback: &str) -> (u16, String) {
        let query = url::Url::parse(callback)
            .unwrap()
            .query()
            .unwrap_or_default()
            .to_owned();
        let response = self
            .api
            .get(self.url(&format!("/oauth/callback?{query}")))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Starts a session and plays the user's browser up to the callback URL.
    pub async fn authorize(&self, world: &World, provider: &str, connection_id: &str) -> String {
        let (status, session) = self
            .start_session(serde_json::json!({
                "provider": provider,
                "connection_id": connection_id,
            }))
            .await;
        assert_eq!(status, 201, "{session}");
        let url = session["authorization_url"].as_str().unwrap();
        browse_to_callback(&world.browser, url, REDIRECT_URI).await
    }

    /// The whole flow: session, consent, callback; asserts the connection was stored.
    pub async fn connect(&self, world: &World, provider: &str, connection_id: &str) {
        let callback = self.authorize(world, provider, connection_id).await;
        let (status, page) = self.deliver_callback(&callback).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Connected"), "{page}");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The most memory the process has held so far (VmHWM), KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// A call through the proxy to `path` (what follows `/proxy/`), with the API key.
    pub fn proxy(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.api
            .request(method, self.url(&format!("/proxy/{path}")))
            .bearer_auth(API_KEY)
    }

    /// A proxied GET; returns status and JSON body (null when not JSON).
    pub async fn proxy_get(&self, path: &str) -> (u16, Value) {
        let response = self.proxy(reqwest::Method::GET, path).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Waits until `condition` holds, failing the test naming `what` after 30 s.
pub async fn until(what: &str, condition: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Marks a connection's access token as expired, as time would.
pub async fn expire(world: &World, provider: &str, connection_id: &str) {
    world
        .backend
        .execute(&format!(
            "UPDATE connections SET expires_at = 0 WHERE provider = '{provider}' AND connection_id = '{connection_id}'"
        ))
        .await;
}

/// The public URL connect-page tests start `serve` with: a name, not a port, so it can be the
/// registered redirect URI before the instance has a port (a browser maps it to the port).
pub const PUBLIC_URL: &str = "http://forge.test";
/// The platform's origin, allowed as `--return-origin`.
pub const PLATFORM_ORIGIN: &str = "http://app.test";
/// The Microsoft tenant the simulated directory is.
pub const TENANT: &str = "contoso.onmicrosoft.com";
/// The API key the simulated Anthropic accepts.
pub const ANTHROPIC_KEY: &str = "sk-ant-api03-simulated-key-4c2d";

/// A world for the connect page. Microsoft: clouds as data centers, each a separate app
/// registration (the clients file registers the global and US Government clouds, not China),
/// a `tenant` parameter with a pattern, two API environments. Zoho CRM: one registration for
/// every data center, the user's learnt from the callback (China's apart), three API
/// environments. Shopify: the authorization host
/// is the shop (`subdomain`). Anthropic: an API key with a pattern and a verification call.
/// Freshdesk: Basic with a hidden password and a subdomain. The redirect URI is the service's
/// own callback on [`PUBLIC_URL`].
pub async fn connect_world(backend: Option<Backend>) -> World {
    use provider_forge::oauth::{ClientSecret, Credentials};
    let providers = ["microsoft", "zoho-crm", "shopify", "anthropic", "freshdesk"];
    let world = World::start_with(backend, &providers, |setup| {
        setup.redirect_uris = vec![format!("{PUBLIC_URL}/oauth/callback")];
        setup.credentials = Credentials::per_data_center(
            "no-shared-id",
            [
                ("global".to_owned(), ClientSecret::new("ms-global-secret")),
                ("usgov".to_owned(), ClientSecret::new("ms-usgov-secret")),
                ("china".to_owned(), ClientSecret::new("ms-china-secret")),
                ("shared".to_owned(), ClientSecret::new(SHARED_SECRET)),
            ],
        )
        .with_client_id_for("global", "ms-global-id")
        .with_client_id_for("usgov", "ms-usgov-id")
        .with_client_id_for("china", "ms-china-id");
        setup.connection_values = [("tenant", TENANT), ("subdomain", "acme")]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        setup.credential_values = [("apiKey", ANTHROPIC_KEY), ("username", "desk-key-5f0a")]
            .into_iter()
            .collect();
    })
    .await;
    for (code, secret) in [("global", "ms-global-secret"), ("usgov", "ms-usgov-secret")] {
        std::fs::write(world.dir.path().join(code), secret).unwrap();
    }
    let dir = world.dir.path().display();
    std::fs::write(
        &world.clients_file,
        format!(
            "microsoft:\n  data_center_client_ids:\n    global: ms-global-id\n    usgov: ms-usgov-id\n  data_center_secrets:\n    global: {{ client_secret_file: {dir}/global }}\n    usgov: {{ client_secret_file: {dir}/usgov }}\nshopify:\n  client_id: no-shared-id\n  client_secret_env: {SECRET_VAR}\nzoho-crm:\n  client_id: no-shared-id\n  client_secret_env: {SECRET_VAR}\n"
        ),
    )
    .unwrap();
    world
}

impl World {
    /// A `serve` instance with connect pages on [`PUBLIC_URL`] returning to [`PLATFORM_ORIGIN`].
    pub fn connect_instance(&self) -> Instance {
        self.instance(&[
            "--public-url",
            PUBLIC_URL,
            "--return-origin",
            PLATFORM_ORIGIN,
        ])
    }
}

impl Instance {
    /// A URL on [`PUBLIC_URL`] (a connect URL) as this instance serves it.
    pub fn local(&self, public: &str) -> String {
        let path = public
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{public} is not on {PUBLIC_URL}"));
        self.url(path)
    }

    /// The socket address the instance listens on.
    pub fn socket(&self) -> std::net::SocketAddr {
        self.address().parse().unwrap()
    }
}

/// Zoho CRM (its dialect, the user in the EU) and GitLab: the world most service tests run in.
pub async fn zoho_world(backend: Option<Backend>) -> World {
    World::start(backend).await
}

/// Runs `case(&World)` on SQLite and on PostgreSQL (skipped loudly when no server answers
/// outside CI), each in a world made by `world(Option<Backend>)`, a function in scope where
/// the macro is used: [`zoho_world`] (imported there) unless another is named.
macro_rules! on_both_backends {
    ($case:ident) => {
        $crate::support::service::on_both_backends!($case, zoho_world);
    };
    ($case:ident, $world:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = super::$world(None).await;
                super::$case(&world).await;
                world.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(backend) =
                    $crate::support::service::Backend::postgres(stringify!($case)).await
                else {
                    return;
                };
                let world = super::$world(Some(backend)).await;
                super::$case(&world).await;
                world.finish().await;
            }
        }
    };
}
pub(crate) use on_both_backends;
pub(crate) use on_both_backends as on_both_backends_with;
